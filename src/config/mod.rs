//! Start-up options and the settings that can change at run time.
//!
//! Options keep redis-server's names so that a command line or a redis.conf written for Redis
//! works here: `herald [redis.conf] [--port 7000] ...`. The file is read first and the command
//! line overrides it, as with `redis-server`. Everything is validated once, before binding.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use clap::{CommandFactory, Parser};

pub mod directives;
pub mod loader;
pub mod rewrite;

use directives::{Directive, Mutability};

/// Command-line options, named as redis-server names them.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "herald",
    version = concat!(env!("CARGO_PKG_VERSION"), " (redis_version ", "7.4.0", ")"),
    about = "A Redis-protocol message server: pub/sub and streams with consumer groups",
    args_override_self = true
)]
pub struct Options {
    /// A config file in redis.conf syntax; options given on the command line override it.
    pub config_file: Option<PathBuf>,
    /// TCP port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 6379)]
    pub port: u16,
    /// Addresses to listen on. Loopback by default: a development server should not be reachable
    /// from the network unless asked.
    #[arg(long, num_args = 1.., default_value = "127.0.0.1")]
    pub bind: Vec<String>,
    /// Password clients must give with AUTH or HELLO before running commands.
    #[arg(long)]
    pub requirepass: Option<String>,
    /// Most connections served at once; the next one gets an error and is closed.
    #[arg(long, default_value_t = 10000)]
    pub maxclients: u64,
    /// Close a client idle for this many seconds (0: never). Subscribers are exempt, as in Redis.
    #[arg(long, default_value_t = 0)]
    pub timeout: u64,
    /// debug, verbose, notice, warning or nothing.
    #[arg(long, default_value = "notice", value_parser = parse_loglevel)]
    pub loglevel: String,
    /// Log to this file; empty logs to standard output.
    #[arg(long, default_value = "")]
    pub logfile: String,
    /// Number of databases (SELECT 0 .. n-1), each its own keyspace.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub databases: u64,
    /// Longest bulk string a client may send, in bytes or with a unit (512mb).
    #[arg(long, default_value = "512mb", value_parser = parse_memory)]
    pub proto_max_bulk_len: u64,
    /// Most bytes a client's unprocessed input may hold before it is disconnected.
    #[arg(long, default_value = "1gb", value_parser = parse_memory)]
    pub client_query_buffer_limit: u64,
    /// Output limits per client class: `<class> <hard> <soft> <soft-seconds>` ...
    #[arg(long, num_args = 4.., default_value = "pubsub 32mb 8mb 60", allow_hyphen_values = true)]
    pub client_output_buffer_limit: Vec<String>,
    /// Keyspace notification classes, in Redis's letters (e.g. `KEA`).
    #[arg(long, default_value = "")]
    pub notify_keyspace_events: String,
    /// Background task frequency (active expiry, stats sampling), as Redis's `hz`.
    /// Values outside 1..=500 are brought into it, as Redis brings them.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=i32::MAX as u64))]
    pub hz: u64,
    /// Largest packed stream node, in bytes (0: no limit).
    #[arg(long, default_value = "4096", value_parser = parse_memory)]
    pub stream_node_max_bytes: u64,
    /// Most entries in a packed stream node (0: no limit).
    #[arg(long, default_value_t = 100)]
    pub stream_node_max_entries: u64,
    /// Keep an append-only file of every change. Off by default, as in Redis: a development
    /// server should not write to disk unless asked.
    #[arg(long, default_value = "no", value_parser = parse_yes_no, action = clap::ArgAction::Set)]
    pub appendonly: bool,
    /// The directory the append-only file lives in. Herald does not `chdir` into it.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// The append-only file's name inside `dir`. Herald keeps one file, not Redis 7's manifest
    /// directory, so the file can be fed to `redis-cli --pipe` as it is.
    #[arg(long, default_value = "appendonly.aof")]
    pub appendfilename: String,
    /// When the file is fsynced: `always` (before replying; concurrent writers share one fsync),
    /// `everysec` (lose at most about a second), `no` (the OS decides).
    #[arg(long, default_value = "everysec", value_parser = parse_fsync)]
    pub appendfsync: FsyncPolicy,
    /// Rewrite the file when it has grown by this percentage since the last rewrite (0: never).
    #[arg(long, default_value_t = 100)]
    pub auto_aof_rewrite_percentage: u64,
    /// ... but not before it is at least this large.
    #[arg(long, default_value = "64mb", value_parser = parse_memory)]
    pub auto_aof_rewrite_min_size: u64,
    /// A file cut off mid-command (a crash during a write) is truncated to its last whole
    /// command and loaded (`yes`), or refused (`no`).
    #[arg(long, default_value = "yes", value_parser = parse_yes_no, action = clap::ArgAction::Set)]
    pub aof_load_truncated: bool,
    /// With no password set, serve only clients on the loopback interface (Redis's protected
    /// mode): `--bind 0.0.0.0` alone does not open the server to the network.
    #[arg(long, default_value = "yes", value_parser = parse_yes_no, action = clap::ArgAction::Set)]
    pub protected_mode: bool,
    /// Each `save` directive given, its words apart: `save ""` drops the pairs before it.
    #[arg(skip)]
    pub save: Vec<Vec<String>>,
    /// The [`directives`] given, by primary name, each as `CONFIG GET` shows it.
    #[arg(skip)]
    pub directives: Vec<(&'static str, String)>,
    /// `rename-command <command> <new-name>` directives, in order (an empty name removes it).
    #[arg(skip)]
    pub renamed_commands: Vec<(String, String)>,
}

/// `appendfsync`: when the append-only file reaches the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    Always,
    EverySec,
    No,
}

impl FsyncPolicy {
    pub fn name(self) -> &'static str {
        match self {
            FsyncPolicy::Always => "always",
            FsyncPolicy::EverySec => "everysec",
            FsyncPolicy::No => "no",
        }
    }

    fn code(self) -> u32 {
        self as u32
    }

    fn from_code(code: u32) -> FsyncPolicy {
        match code {
            0 => FsyncPolicy::Always,
            1 => FsyncPolicy::EverySec,
            _ => FsyncPolicy::No,
        }
    }
}

fn parse_fsync(s: &str) -> Result<FsyncPolicy, String> {
    match s.to_ascii_lowercase().as_str() {
        "always" => Ok(FsyncPolicy::Always),
        "everysec" => Ok(FsyncPolicy::EverySec),
        "no" => Ok(FsyncPolicy::No),
        _ => Err("argument(s) must be one of the following: everysec, always, no".into()),
    }
}

pub(crate) fn parse_yes_no(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

impl Options {
    /// Reads `herald [config-file] [--directive value ...]` as redis-server reads its command
    /// line (see [`loader`]): the file's directives, then the command line's, each applied in
    /// turn, so a later one overrides an earlier one. `--help` and `--version` come back as
    /// an `Err` holding the text to print (see `main`).
    pub fn from_args<I, T>(args: I) -> Result<Options, String>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let args: Vec<String> = args
            .into_iter()
            .map(|a| a.into().to_string_lossy().into_owned())
            .collect();
        if let Some(first) = args.get(1) {
            if matches!(first.as_str(), "-h" | "--help" | "-v" | "--version") {
                let help = Options::command().arg(save_arg()).after_help(
                    "Any other redis.conf directive is read as redis-server reads it; \
                     compat/KNOWN_DIFFERENCES.md lists those without effect in Herald.",
                );
                // redis-server's short forms, `-v` included (clap's is `-V`).
                let long = if first.contains('h') {
                    "--help"
                } else {
                    "--version"
                };
                return Err(match help.try_get_matches_from([args[0].as_str(), long]) {
                    Err(e) => e.to_string(),
                    Ok(_) => String::new(),
                });
            }
        }
        let mut options = Options::try_parse_from(["herald"]).map_err(|e| e.to_string())?;
        let (file, rest) = match args.get(1) {
            Some(path) if !path.starts_with('-') => (Some(path), args.get(2..).unwrap_or(&[])),
            _ => (None, args.get(1..).unwrap_or(&[])),
        };
        let mut lines = Vec::new();
        let mut file_newlines = 0;
        if let Some(path) = file {
            let text = loader::read_config_file(path)?;
            file_newlines = text.matches('\n').count();
            lines = loader::file_lines(&text, 0)?;
            options.config_file = Some(PathBuf::from(path));
        }
        lines.extend(loader::command_line_lines(rest, file_newlines)?);
        // Options clap reads are gathered and parsed at once (a later one overriding an
        // earlier one); the loader keeps the rest itself.
        let mut option_args = vec!["herald".to_string()];
        for line in &lines {
            options
                .apply(&line.words, &mut option_args)
                .map_err(|why| line.fatal(&why))?;
        }
        let mut parsed = Options::try_parse_from(&option_args).map_err(|e| clap_reason(&e))?;
        parsed.config_file = options.config_file;
        parsed.bind = options.bind;
        parsed.save = options.save;
        parsed.client_output_buffer_limit = options.client_output_buffer_limit;
        parsed.directives = options.directives;
        parsed.renamed_commands = options.renamed_commands;
        parsed.validated().map_err(|why| {
            format!(
                "\n*** FATAL CONFIG FILE ERROR (Redis {}) ***\n{why}",
                crate::command::connection::REDIS_VERSION
            )
        })
    }

    /// Applies one directive (`words[0]` its name) as Redis's config loader does, or says
    /// why it is refused in Redis's words. A derived option is checked on its own and added
    /// to `option_args`, for clap to read with the others.
    fn apply(&mut self, words: &[String], option_args: &mut Vec<String>) -> Result<(), String> {
        let Some((name, values)) = words.split_first() else {
            return Ok(());
        };
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            // Directives Redis accepts and ignores since 7.0.
            "list-max-ziplist-entries" | "list-max-ziplist-value" | "lua-replicate-commands"
                if values.len() == 1 =>
            {
                Ok(())
            }
            "rename-command" if values.len() == 2 => {
                self.renamed_commands
                    .push((values[0].clone(), values[1].clone()));
                crate::command::table::check_renames(&self.renamed_commands)?;
                Ok(())
            }
            "user" | "loadmodule" => Err(format!("'{name}' is not supported by Herald")),
            "sentinel" => Err("sentinel directive while not in sentinel mode".into()),
            "bind" => {
                if values.len() > 16 {
                    return Err("Too many bind addresses specified.".into());
                }
                if values.is_empty() {
                    return Err("wrong number of arguments".into());
                }
                self.bind = values.to_vec();
                Ok(())
            }
            "save" => {
                let words: Vec<&str> = values.iter().map(String::as_str).collect();
                parse_save(&words)?;
                self.save.push(values.to_vec());
                Ok(())
            }
            "notify-keyspace-events" if values.len() == 1 => {
                parse_keyspace_events(&values[0])
                    .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
                option_args.push(format!("--{name}={}", values[0]));
                Ok(())
            }
            "client-output-buffer-limit" => {
                OutputLimits::default().apply(values)?;
                self.client_output_buffer_limit.extend_from_slice(values);
                Ok(())
            }
            _ if is_option(&name) => {
                let [value] = values else {
                    return Err("wrong number of arguments".into());
                };
                // Read first as Redis reads it, for Redis's words on a bad value; clap then
                // gets the value as Redis would show it (`NOTICE` as `notice`, `1mb` in bytes).
                let value = match option_kind(&name) {
                    Some(kind) => directives::read(kind, &[value])?,
                    None => value.clone(),
                };
                // The `=` form takes the value as it is, even one starting with `-`.
                let arg = format!("--{name}={value}");
                Options::try_parse_from(["herald", arg.as_str()]).map_err(|e| clap_reason(&e))?;
                option_args.push(arg);
                Ok(())
            }
            _ => {
                let directive = directives::directive(&name)
                    .ok_or("Bad directive or wrong number of arguments")?;
                let words: Vec<&str> = values.iter().map(String::as_str).collect();
                let value = directive.parse(&words)?;
                self.directives.retain(|(n, _)| *n != directive.primary());
                self.directives.push((directive.primary(), value));
                Ok(())
            }
        }
    }

    /// A [`directives`] entry's value: the last one given, or its default.
    pub fn directive(&self, name: &str) -> &str {
        let primary = directives::primary_of(name);
        self.directives
            .iter()
            .rev()
            .find(|(n, _)| *n == primary)
            .map_or_else(|| directives::default_of(primary), |(_, v)| v.as_str())
    }

    fn validated(self) -> Result<Options, String> {
        parse_output_limits(&self.client_output_buffer_limit)?;
        parse_keyspace_events(&self.notify_keyspace_events).ok_or_else(|| {
            format!(
                "invalid notify-keyspace-events '{}'",
                self.notify_keyspace_events
            )
        })?;
        self.save_points()?;
        if let Some(why) = eviction_refusal(
            self.directive("maxmemory"),
            self.directive("maxmemory-policy"),
        ) {
            return Err(format!(
                "maxmemory-policy {}: {why}",
                self.directive("maxmemory-policy")
            ));
        }
        // As Redis, before going to the background: a daemon that cannot log would vanish
        // without a word.
        if !self.logfile.is_empty() {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.logfile)
                .map_err(|e| format!("Can't open the log file: {}", os_reason(&e)))?;
        }
        Ok(self)
    }

    /// The `save` directives folded as Redis folds them while reading its configuration: each
    /// adds its pairs, and `save ""` drops every pair before it.
    fn save_points(&self) -> Result<Vec<SavePoint>, String> {
        let mut points = Vec::new();
        for words in &self.save {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            let parsed =
                parse_save(&words).map_err(|why| format!("save '{}': {why}", words.join(" ")))?;
            if parsed.is_empty() {
                points.clear();
            }
            points.extend(parsed);
        }
        Ok(points)
    }
}

/// `--save`, kept out of the derive: its occurrences must stay apart (`save ""` drops the
/// pairs given before it), which the derive cannot express. Only `--help` shows it; the
/// loader reads it (see [`Options::apply`]).
fn save_arg() -> clap::Arg {
    clap::Arg::new("save")
        .long("save")
        .num_args(1..)
        .value_name("SECONDS CHANGES")
        .help(
            "RDB snapshot points, `<seconds> <changes>` pairs, or \"\" for none (the default). \
             Herald writes no RDB file: accepted and shown by CONFIG GET, as `--save \"\"` on \
             a Redis command line and tools reading `CONFIG GET save` (redis-benchmark) \
             expect, without effect.",
        )
}

/// How Redis reads each of Herald's own single-valued options (its `standardConfig` types
/// and bounds); `None` for text.
fn option_kind(name: &str) -> Option<directives::Kind> {
    use directives::Kind::{Bool, Enum, Int, Memory};
    const MIB: i64 = 1024 * 1024;
    Some(match name {
        "port" => Int(0, 65535),
        "maxclients" => Int(1, u32::MAX as i64),
        "timeout" | "hz" | "auto-aof-rewrite-percentage" => Int(0, i32::MAX as i64),
        "databases" => Int(1, i32::MAX as i64),
        "stream-node-max-entries" => Int(0, i64::MAX),
        "proto-max-bulk-len" | "client-query-buffer-limit" => Memory(MIB),
        "stream-node-max-bytes" | "auto-aof-rewrite-min-size" => Memory(0),
        "appendonly" | "aof-load-truncated" | "protected-mode" => Bool,
        "appendfsync" => Enum(&["everysec", "always", "no"]),
        "loglevel" => Enum(&["debug", "verbose", "notice", "warning", "nothing"]),
        _ => return None,
    })
}

/// Whether `name` is one of the derived options read by clap's value parsers.
fn is_option(name: &str) -> bool {
    !matches!(name, "help" | "version")
        && Options::command()
            .get_arguments()
            .any(|a| a.get_long() == Some(name))
}

/// `maxmemory` as its directive shows it (bytes, already checked).
fn maxmemory_of(shown: &str) -> u64 {
    shown.parse().unwrap_or(0)
}

/// Why `maxmemory` and `maxmemory-policy` cannot be honoured together, if they cannot: Herald
/// refuses writes past the limit (`noeviction`) and evicts no keys, and a cache configured to
/// evict would otherwise get errors it never expected.
pub fn eviction_refusal(maxmemory: &str, policy: &str) -> Option<&'static str> {
    (maxmemory_of(maxmemory) != 0 && !policy.eq_ignore_ascii_case("noeviction")).then_some(
        "Herald does not evict keys: with maxmemory set, only maxmemory-policy noeviction",
    )
}

/// An I/O error as C's `strerror` words it, without Rust's ` (os error N)`.
pub(crate) fn os_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// The reason in a clap error, without its `error:` prefix and usage lines.
fn clap_reason(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_owned()
}

/// One `save` pair: snapshot after `seconds` if at least `changes` writes happened.
pub type SavePoint = (i64, i32);

/// Parses `save`'s words as Redis's `setConfigSaveOption`: a lone empty word means none, an odd
/// count or a number that is not one (seconds below 1, changes below 0) is refused.
pub fn parse_save(words: &[&str]) -> Result<Vec<SavePoint>, String> {
    const INVALID: &str = "Invalid save parameters";
    if words == [""] {
        return Ok(Vec::new());
    }
    if words.len() % 2 == 1 {
        return Err(INVALID.into());
    }
    let mut points = Vec::new();
    for pair in words.chunks(2) {
        let seconds = strtoll(pair[0]).filter(|&n| n >= 1).ok_or(INVALID)?;
        let changes = strtoll(pair[1]).filter(|&n| n >= 0).ok_or(INVALID)?;
        // Redis keeps the count in an `int`: the low 32 bits of what it read.
        points.push((seconds, changes as i32));
    }
    Ok(points)
}

/// Renders save points as `CONFIG GET save` shows them.
pub fn render_save(points: &[SavePoint]) -> String {
    let words: Vec<String> = points.iter().map(|(s, c)| format!("{s} {c}")).collect();
    words.join(" ")
}

/// C's `strtoll(word, &end, 10)` with Redis's check that `end` is the word's end: leading
/// white space and a sign are allowed, out-of-range values saturate, and the empty word reads
/// as 0 (no digits leaves `end` at the start, which is its end).
fn strtoll(word: &str) -> Option<i64> {
    if word.is_empty() {
        return Some(0);
    }
    let rest = word.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, digits) = match rest.as_bytes().first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.bytes().fold(0i128, |n, d| {
        (n * 10 + i128::from(d - b'0')).min(i128::from(i64::MAX) + 1)
    });
    let value = if negative { -magnitude } else { magnitude };
    Some(value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

fn parse_loglevel(s: &str) -> Result<String, String> {
    match s {
        "debug" | "verbose" | "notice" | "warning" | "nothing" => Ok(s.to_owned()),
        _ => Err("must be one of debug, verbose, notice, warning, nothing".into()),
    }
}

/// Parses a memory amount as Redis's `memtoll`: `1k` is 1000 bytes, `1kb` is 1024.
pub fn parse_memory(s: &str) -> Result<u64, String> {
    let lower = s.to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(digits_end);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("'{s}' is not a memory amount"))?;
    let multiplier: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return Err(format!("'{s}' is not a memory amount")),
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("'{s}' is too large"))
}

/// Redis's output-buffer limit for one class of clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputLimit {
    /// Disconnect as soon as pending output exceeds this (0: no limit).
    pub hard_bytes: u64,
    /// Disconnect when pending output stays above this for `soft_seconds` (0: no limit).
    pub soft_bytes: u64,
    pub soft_seconds: u64,
}

/// Output limits for the classes Redis names; Herald has no replicas, but keeps the `slave`
/// class so that CONFIG GET shows and accepts what Redis does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputLimits {
    pub normal: OutputLimit,
    pub replica: OutputLimit,
    pub pubsub: OutputLimit,
}

impl Default for OutputLimits {
    fn default() -> Self {
        OutputLimits {
            normal: OutputLimit {
                hard_bytes: 0,
                soft_bytes: 0,
                soft_seconds: 0,
            },
            replica: OutputLimit {
                hard_bytes: 256 << 20,
                soft_bytes: 64 << 20,
                soft_seconds: 60,
            },
            pubsub: OutputLimit {
                hard_bytes: 32 << 20,
                soft_bytes: 8 << 20,
                soft_seconds: 60,
            },
        }
    }
}

impl OutputLimits {
    /// Applies `<class> <hard> <soft> <seconds>` groups on top of these limits.
    pub fn apply(&self, words: &[String]) -> Result<OutputLimits, String> {
        let words: Vec<String> = words
            .iter()
            .flat_map(|w| w.split_whitespace())
            .map(str::to_owned)
            .collect();
        if words.is_empty() || words.len() % 4 != 0 {
            return Err("Wrong number of arguments in buffer limit configuration.".into());
        }
        let mut next = *self;
        for group in words.chunks(4) {
            let limit = OutputLimit {
                hard_bytes: parse_memory(&group[1]).map_err(|_| {
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .to_string()
                })?,
                soft_bytes: parse_memory(&group[2]).map_err(|_| {
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .to_string()
                })?,
                soft_seconds: group[3].parse().map_err(|_| {
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .to_string()
                })?,
            };
            match group[0].to_ascii_lowercase().as_str() {
                "normal" => next.normal = limit,
                "slave" | "replica" => next.replica = limit,
                "pubsub" => next.pubsub = limit,
                _ => {
                    return Err(
                        "Invalid client class specified in buffer limit configuration.".into(),
                    )
                }
            }
        }
        Ok(next)
    }

    /// The text CONFIG GET shows.
    pub fn render(&self) -> String {
        let one = |name: &str, l: &OutputLimit| {
            format!(
                "{name} {} {} {}",
                l.hard_bytes, l.soft_bytes, l.soft_seconds
            )
        };
        format!(
            "{} {} {}",
            one("normal", &self.normal),
            one("slave", &self.replica),
            one("pubsub", &self.pubsub)
        )
    }
}

fn parse_output_limits(words: &[String]) -> Result<OutputLimits, String> {
    OutputLimits::default().apply(words)
}

/// Keyspace notification classes as bit flags, with Redis's letters.
pub mod notify {
    pub const KEYSPACE: u32 = 1 << 0; // K
    pub const KEYEVENT: u32 = 1 << 1; // E
    pub const GENERIC: u32 = 1 << 2; // g
    pub const STRING: u32 = 1 << 3; // $
    pub const LIST: u32 = 1 << 4; // l
    pub const SET: u32 = 1 << 5; // s
    pub const HASH: u32 = 1 << 6; // h
    pub const ZSET: u32 = 1 << 7; // z
    pub const EXPIRED: u32 = 1 << 8; // x
    pub const EVICTED: u32 = 1 << 9; // e
    pub const STREAM: u32 = 1 << 10; // t
    pub const KEY_MISS: u32 = 1 << 11; // m
    pub const MODULE: u32 = 1 << 12; // d
    pub const NEW: u32 = 1 << 13; // n
    /// `A`: every class but `m` and `n`.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// Parses Redis's notification letters; `None` for an unknown letter.
pub fn parse_keyspace_events(s: &str) -> Option<u32> {
    use notify::*;
    let mut flags = 0;
    for c in s.chars() {
        flags |= match c {
            'A' => ALL,
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            _ => return None,
        };
    }
    Some(flags)
}

/// Renders flags in Redis's canonical order (`keyspaceEventsFlagsToString`).
pub fn render_keyspace_events(flags: u32) -> String {
    use notify::*;
    let mut out = String::new();
    if flags & ALL == ALL {
        out.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
        ] {
            if flags & bit != 0 {
                out.push(c);
            }
        }
    }
    for (bit, c) in [
        (KEYSPACE, 'K'),
        (KEYEVENT, 'E'),
        (KEY_MISS, 'm'),
        (NEW, 'n'),
    ] {
        if flags & bit != 0 {
            out.push(c);
        }
    }
    out
}

/// Settings read on every command and changeable with CONFIG SET. Plain numbers are atomics so
/// the hot path reads them without a lock; the rest sit behind a `RwLock` read far more than written.
#[derive(Debug)]
pub struct Settings {
    pub options: Options,
    pub requirepass: RwLock<Option<Bytes>>,
    pub maxclients: AtomicU64,
    pub timeout: AtomicU64,
    pub proto_max_bulk_len: AtomicI64,
    pub client_query_buffer_limit: AtomicU64,
    pub output_limits: RwLock<OutputLimits>,
    pub notify_keyspace_events: AtomicU32,
    pub hz: AtomicU64,
    pub stream_node_max_bytes: AtomicU64,
    pub stream_node_max_entries: AtomicU64,
    pub loglevel: RwLock<String>,
    /// An [`FsyncPolicy`] code; read by the AOF writer on every batch.
    appendfsync: AtomicU32,
    pub auto_aof_rewrite_percentage: AtomicU64,
    pub auto_aof_rewrite_min_size: AtomicU64,
    pub aof_load_truncated: AtomicBool,
    /// `appendonly`: CONFIG SET turns the AOF on or off (see `Persistence::enable`).
    pub appendonly: AtomicBool,
    /// `protected-mode`: read at each accepted connection (see `server::refused`).
    pub protected_mode: AtomicBool,
    /// `maxmemory` in bytes (0: no limit), read by every command that may grow memory. This
    /// and the two `slowlog-*` settings, read by every command, are kept here as well as with
    /// the other directives so that reading them takes no lock (see [`Settings::honour`]).
    pub maxmemory: AtomicU64,
    pub slowlog_log_slower_than: AtomicI64,
    pub slowlog_max_len: AtomicU64,
    /// Shared with the latency monitor, which reads it on every sample.
    pub latency_monitor_threshold: Arc<AtomicU64>,
    pub latency_tracking: AtomicBool,
    /// `save`, as CONFIG GET shows it (see [`Options::apply`]).
    pub save: RwLock<String>,
    /// The [`directives`] given a value other than their default, by primary name.
    directives: RwLock<std::collections::HashMap<&'static str, String>>,
}

impl Settings {
    pub fn new(options: Options) -> Settings {
        let limits = parse_output_limits(&options.client_output_buffer_limit).unwrap_or_default();
        let settings = Settings {
            // `requirepass ""` (Debian's commented example, or a generated file) means none.
            requirepass: RwLock::new(
                options
                    .requirepass
                    .clone()
                    .filter(|p| !p.is_empty())
                    .map(Bytes::from),
            ),
            maxclients: AtomicU64::new(options.maxclients),
            timeout: AtomicU64::new(options.timeout),
            proto_max_bulk_len: AtomicI64::new(options.proto_max_bulk_len as i64),
            client_query_buffer_limit: AtomicU64::new(options.client_query_buffer_limit),
            output_limits: RwLock::new(limits),
            notify_keyspace_events: AtomicU32::new(
                parse_keyspace_events(&options.notify_keyspace_events).unwrap_or(0),
            ),
            hz: AtomicU64::new(options.hz.clamp(1, 500)),
            stream_node_max_bytes: AtomicU64::new(options.stream_node_max_bytes),
            stream_node_max_entries: AtomicU64::new(options.stream_node_max_entries),
            loglevel: RwLock::new(options.loglevel.clone()),
            appendfsync: AtomicU32::new(options.appendfsync.code()),
            auto_aof_rewrite_percentage: AtomicU64::new(options.auto_aof_rewrite_percentage),
            auto_aof_rewrite_min_size: AtomicU64::new(options.auto_aof_rewrite_min_size),
            aof_load_truncated: AtomicBool::new(options.aof_load_truncated),
            appendonly: AtomicBool::new(options.appendonly),
            protected_mode: AtomicBool::new(options.protected_mode),
            maxmemory: AtomicU64::new(0),
            slowlog_log_slower_than: AtomicI64::new(0),
            slowlog_max_len: AtomicU64::new(0),
            latency_monitor_threshold: Arc::default(),
            latency_tracking: AtomicBool::new(true),
            save: RwLock::new(render_save(&options.save_points().unwrap_or_default())),
            directives: RwLock::new(options.directives.iter().cloned().collect()),
            options,
        };
        for name in [
            "maxmemory",
            "slowlog-log-slower-than",
            "slowlog-max-len",
            "latency-monitor-threshold",
            "latency-tracking",
        ] {
            settings.honour(name, settings.options.directive(name));
        }
        settings
    }

    /// Mirrors a directive that is read on every command into its field.
    fn honour(&self, primary: &str, value: &str) {
        match primary {
            "maxmemory" => self.maxmemory.store(maxmemory_of(value), Ordering::Relaxed),
            "slowlog-log-slower-than" => self
                .slowlog_log_slower_than
                .store(value.parse().unwrap_or(10_000), Ordering::Relaxed),
            "slowlog-max-len" => self
                .slowlog_max_len
                .store(value.parse().unwrap_or(128), Ordering::Relaxed),
            "latency-monitor-threshold" => self
                .latency_monitor_threshold
                .store(value.parse().unwrap_or(0), Ordering::Relaxed),
            "latency-tracking" => self
                .latency_tracking
                .store(value.eq_ignore_ascii_case("yes"), Ordering::Relaxed),
            _ => {}
        }
    }

    pub fn requirepass(&self) -> Option<Bytes> {
        self.requirepass.read().map(|p| p.clone()).unwrap_or(None)
    }

    pub fn output_limits(&self) -> OutputLimits {
        self.output_limits.read().map(|l| *l).unwrap_or_default()
    }

    pub fn keyspace_events(&self) -> u32 {
        self.notify_keyspace_events.load(Ordering::Relaxed)
    }

    pub fn appendfsync(&self) -> FsyncPolicy {
        FsyncPolicy::from_code(self.appendfsync.load(Ordering::Relaxed))
    }

    /// A [`directives`] entry's current value (CONFIG SET may have changed it).
    pub fn directive(&self, name: &str) -> String {
        let primary = directives::primary_of(name);
        self.directives
            .read()
            .ok()
            .and_then(|d| d.get(primary).cloned())
            .unwrap_or_else(|| directives::default_of(primary).to_owned())
    }

    /// Where the append-only file lives: `dir/appendfilename`.
    pub fn aof_path(&self) -> PathBuf {
        self.options.dir.join(&self.options.appendfilename)
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

/// Applies a CONFIG SET value, or says why it is refused.
pub type Setter = fn(&Settings, &str) -> Result<(), String>;

/// A parameter CONFIG GET shows and CONFIG SET may change.
pub struct Param {
    pub name: &'static str,
    pub get: fn(&Settings) -> String,
    /// `None`: immutable once the server runs.
    pub set: Option<Setter>,
}

pub(crate) fn int_in(value: &str, min: i64, max: i64) -> Result<i64, String> {
    let n: i64 = crate::number::parse_i64(value.as_bytes())
        .ok_or("argument couldn't be parsed into an integer")?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

pub(crate) fn memory_in(value: &str, min: u64, max: u64) -> Result<u64, String> {
    let n = parse_memory(value).map_err(|_| "argument must be a memory value".to_string())?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

/// Every parameter, in the order CONFIG GET * lists them.
pub static PARAMS: &[Param] = &[
    Param {
        name: "bind",
        get: |s| s.options.bind.join(" "),
        set: None,
    },
    Param {
        name: "port",
        get: |s| s.options.port.to_string(),
        set: None,
    },
    Param {
        name: "requirepass",
        get: |s| {
            s.requirepass()
                .map(|p| String::from_utf8_lossy(&p).into_owned())
                .unwrap_or_default()
        },
        set: Some(|s, v| {
            if let Ok(mut p) = s.requirepass.write() {
                *p = (!v.is_empty()).then(|| Bytes::copy_from_slice(v.as_bytes()));
            }
            Ok(())
        }),
    },
    Param {
        name: "protected-mode",
        get: |s| yes_no(s.protected_mode.load(Ordering::Relaxed)),
        set: Some(|s, v| {
            s.protected_mode.store(parse_yes_no(v)?, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "maxclients",
        get: |s| s.maxclients.load(Ordering::Relaxed).to_string(),
        set: Some(|s, v| {
            let _: () = s
                .maxclients
                .store(int_in(v, 1, u32::MAX as i64)? as u64, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "timeout",
        get: |s| s.timeout.load(Ordering::Relaxed).to_string(),
        set: Some(|s, v| {
            let _: () = s
                .timeout
                .store(int_in(v, 0, i32::MAX as i64)? as u64, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "loglevel",
        get: |s| s.loglevel.read().map(|l| l.clone()).unwrap_or_default(),
        set: Some(|s, v| {
            let level = parse_loglevel(&v.to_ascii_lowercase())
                .map_err(|_| "argument(s) must be one of the following: debug, verbose, notice, warning, nothing".to_string())?;
            if let Ok(mut l) = s.loglevel.write() {
                *l = level;
            }
            Ok(())
        }),
    },
    Param {
        name: "logfile",
        get: |s| s.options.logfile.clone(),
        set: None,
    },
    Param {
        name: "databases",
        get: |s| s.options.databases.to_string(),
        set: None,
    },
    Param {
        name: "proto-max-bulk-len",
        get: |s| s.proto_max_bulk_len.load(Ordering::Relaxed).to_string(),
        set: Some(|s, v| {
            let _: () = s.proto_max_bulk_len.store(
                memory_in(v, 1024 * 1024, i64::MAX as u64)? as i64,
                Ordering::Relaxed,
            );
            Ok(())
        }),
    },
    Param {
        name: "client-query-buffer-limit",
        get: |s| {
            s.client_query_buffer_limit
                .load(Ordering::Relaxed)
                .to_string()
        },
        set: Some(|s, v| {
            let _: () = s.client_query_buffer_limit.store(
                memory_in(v, 1024 * 1024, i64::MAX as u64)?,
                Ordering::Relaxed,
            );
            Ok(())
        }),
    },
    Param {
        name: "client-output-buffer-limit",
        get: |s| s.output_limits().render(),
        set: Some(|s, v| {
            let words: Vec<String> = v.split_whitespace().map(str::to_owned).collect();
            let next = s.output_limits().apply(&words)?;
            if let Ok(mut l) = s.output_limits.write() {
                *l = next;
            }
            Ok(())
        }),
    },
    Param {
        name: "notify-keyspace-events",
        get: |s| render_keyspace_events(s.keyspace_events()),
        set: Some(|s, v| {
            let flags = parse_keyspace_events(v)
                .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
            s.notify_keyspace_events.store(flags, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "hz",
        get: |s| s.hz.load(Ordering::Relaxed).to_string(),
        set: Some(|s, v| {
            let _: () = s.hz.store(
                int_in(v, 0, i32::MAX as i64)?.clamp(1, 500) as u64,
                Ordering::Relaxed,
            );
            Ok(())
        }),
    },
    Param {
        name: "stream-node-max-bytes",
        get: |s| s.stream_node_max_bytes.load(Ordering::Relaxed).to_string(),
        set: Some(|s, v| {
            let _: () = s
                .stream_node_max_bytes
                .store(memory_in(v, 0, i64::MAX as u64)?, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "stream-node-max-entries",
        get: |s| {
            s.stream_node_max_entries
                .load(Ordering::Relaxed)
                .to_string()
        },
        set: Some(|s, v| {
            let _: () = s
                .stream_node_max_entries
                .store(int_in(v, 0, i64::MAX)? as u64, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "save",
        get: |s| s.save.read().map(|v| v.clone()).unwrap_or_default(),
        set: Some(|s, v| {
            // Redis splits a multi-word value on single spaces (`sdssplitlen`).
            let words: Vec<&str> = if v.is_empty() {
                Vec::new()
            } else {
                v.split(' ').collect()
            };
            let points = parse_save(&words)?;
            if let Ok(mut save) = s.save.write() {
                *save = render_save(&points);
            }
            Ok(())
        }),
    },
    Param {
        name: "appendonly",
        get: |s| yes_no(s.appendonly.load(Ordering::Relaxed)),
        // Only the wanted state: CONFIG SET then turns the file on or off.
        set: Some(|s, v| {
            s.appendonly.store(parse_yes_no(v)?, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "dir",
        get: |s| {
            std::path::absolute(&s.options.dir)
                .unwrap_or_else(|_| s.options.dir.clone())
                .display()
                .to_string()
        },
        set: None,
    },
    Param {
        name: "appendfilename",
        get: |s| s.options.appendfilename.clone(),
        set: None,
    },
    Param {
        name: "appendfsync",
        get: |s| s.appendfsync().name().to_owned(),
        set: Some(|s, v| {
            s.appendfsync
                .store(parse_fsync(v)?.code(), Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "auto-aof-rewrite-percentage",
        get: |s| {
            s.auto_aof_rewrite_percentage
                .load(Ordering::Relaxed)
                .to_string()
        },
        set: Some(|s, v| {
            let _: () = s
                .auto_aof_rewrite_percentage
                .store(int_in(v, 0, i32::MAX as i64)? as u64, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "auto-aof-rewrite-min-size",
        get: |s| {
            s.auto_aof_rewrite_min_size
                .load(Ordering::Relaxed)
                .to_string()
        },
        set: Some(|s, v| {
            let _: () = s
                .auto_aof_rewrite_min_size
                .store(memory_in(v, 0, i64::MAX as u64)?, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "aof-load-truncated",
        get: |s| yes_no(s.aof_load_truncated.load(Ordering::Relaxed)),
        set: Some(|s, v| {
            s.aof_load_truncated
                .store(parse_yes_no(v)?, Ordering::Relaxed);
            Ok(())
        }),
    },
];

/// Looks a parameter up by name, ignoring case.
pub fn param(name: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// Herald's parameters CONFIG SET refuses as Redis refuses its protected configs.
const PROTECTED_PARAMS: &[&str] = &["dir"];

/// A setting CONFIG GET shows and CONFIG SET may change: one Herald uses, or a directive
/// of Redis's it only reads and shows.
#[derive(Clone, Copy)]
pub enum Config {
    Param(&'static Param),
    Directive(&'static Directive),
}

impl Config {
    /// Looks a setting up by name, ignoring case.
    pub fn lookup(name: &str) -> Option<Config> {
        param(name)
            .map(Config::Param)
            .or_else(|| directives::directive(name).map(Config::Directive))
    }

    /// Every setting, in the order CONFIG GET * lists them.
    pub fn all() -> impl Iterator<Item = Config> {
        PARAMS
            .iter()
            .map(Config::Param)
            .chain(directives::DIRECTIVES.iter().map(Config::Directive))
    }

    pub fn name(self) -> &'static str {
        match self {
            Config::Param(p) => p.name,
            Config::Directive(d) => d.name,
        }
    }

    /// The name its value is kept under: an alias and its primary are one setting.
    pub fn primary(self) -> &'static str {
        match self {
            Config::Param(p) => p.name,
            Config::Directive(d) => d.primary(),
        }
    }

    pub fn mutability(self) -> Mutability {
        match self {
            Config::Param(p) if PROTECTED_PARAMS.contains(&p.name) => Mutability::Protected,
            Config::Param(p) if p.set.is_none() => Mutability::Immutable,
            Config::Param(_) => Mutability::Mutable,
            Config::Directive(d) => d.mutability,
        }
    }

    /// The value as CONFIG GET shows it.
    pub fn get(self, settings: &Settings) -> String {
        match self {
            Config::Param(p) => (p.get)(settings),
            Config::Directive(d) => settings.directive(d.primary()),
        }
    }

    /// Applies a CONFIG SET value, or says why it is refused. A multi-word directive's value
    /// is split on single spaces, as Redis splits it.
    pub fn set(self, settings: &Settings, value: &str) -> Result<(), String> {
        match self {
            Config::Param(p) => match p.set {
                Some(set) => set(settings, value),
                None => Err("can't set immutable config".into()),
            },
            Config::Directive(d) => {
                let words: Vec<&str> = if d.multi_word() {
                    value.split(' ').collect()
                } else {
                    vec![value]
                };
                let value = d.parse(&words)?;
                settings.honour(d.primary(), &value);
                if let Ok(mut map) = settings.directives.write() {
                    map.insert(d.primary(), value);
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_points_are_read_as_strtoll_reads_them() {
        assert_eq!(parse_save(&[""]), Ok(vec![]));
        assert_eq!(parse_save(&[]), Ok(vec![]));
        assert_eq!(
            parse_save(&["60", "1", "300", "10"]),
            Ok(vec![(60, 1), (300, 10)])
        );
        // The empty word reads as 0 (a trailing space in CONFIG SET's value): fine for changes.
        assert_eq!(parse_save(&["60", ""]), Ok(vec![(60, 0)]));
        assert_eq!(parse_save(&["+60", " 7"]), Ok(vec![(60, 7)]));
        assert_eq!(parse_save(&["60", "4294967297"]), Ok(vec![(60, 1)]));
        assert_eq!(
            parse_save(&["99999999999999999999", "1"]),
            Ok(vec![(i64::MAX, 1)])
        );
        for bad in [
            &["60"][..],
            &["0", "1"],
            &["", "1"],
            &["60", "-1"],
            &["60", "x"],
            &["6 0", "1"],
            &["60", "+"],
            &["0x10", "1"],
        ] {
            assert!(parse_save(bad).is_err(), "{bad:?}");
        }
        assert_eq!(render_save(&[(60, 1), (300, 0)]), "60 1 300 0");
    }

    #[test]
    fn memory_units_follow_memtoll() {
        assert_eq!(parse_memory("1k"), Ok(1000));
        assert_eq!(parse_memory("1KB"), Ok(1024));
        assert_eq!(parse_memory("32mb"), Ok(32 << 20));
        assert!(parse_memory("1x").is_err());
        assert!(parse_memory("-1").is_err());
    }

    #[test]
    fn directives_apply_in_order_with_redis_names() {
        let opts = Options::from_args([
            "herald",
            "--BIND",
            "127.0.0.1",
            "-::1",
            "--appendonly",
            "yes",
            "--tcp-keepalive",
            "60",
            "--slave-read-only",
            "no",
            "--client-output-buffer-limit",
            "pubsub",
            "1mb",
            "0",
            "0",
            "--hz",
            "5",
        ])
        .unwrap();
        assert_eq!(opts.bind, vec!["127.0.0.1", "-::1"]);
        assert!(opts.appendonly);
        assert_eq!(opts.hz, 5);
        assert_eq!(opts.directive("tcp-keepalive"), "60");
        assert_eq!(opts.directive("replica-read-only"), "no");
        assert_eq!(opts.directive("rdbcompression"), "yes");
        let limits = parse_output_limits(&opts.client_output_buffer_limit).unwrap();
        assert_eq!(limits.pubsub.hard_bytes, 1 << 20);
        for (args, why) in [
            (
                &["--nosuch", "1"][..],
                "Bad directive or wrong number of arguments",
            ),
            (
                &["--tcp-backlog", "x"],
                "argument couldn't be parsed into an integer",
            ),
            (
                &["--maxmemory", "1gb", "--maxmemory-policy", "volatile-ttl"],
                "does not evict keys",
            ),
            (&["--port", "1", "2"], "wrong number of arguments"),
            (
                &["--rename-command", "NOSUCH", ""],
                "No such command in rename-command",
            ),
            (&["--loadmodule", "/x.so"], "not supported by Herald"),
        ] {
            let all: Vec<&str> = std::iter::once("herald")
                .chain(args.iter().copied())
                .collect();
            let err = Options::from_args(all).unwrap_err();
            assert!(
                err.contains("FATAL CONFIG FILE ERROR") && err.contains(why),
                "{args:?}: {err}"
            );
        }
    }

    #[test]
    fn keyspace_event_flags_render_in_canonical_order() {
        assert_eq!(
            render_keyspace_events(parse_keyspace_events("Ex$g").unwrap()),
            "g$xE"
        );
        assert_eq!(
            render_keyspace_events(parse_keyspace_events("KA").unwrap()),
            "AK"
        );
        assert_eq!(parse_keyspace_events("Q"), None);
    }

    #[test]
    fn output_limits_parse_by_class() {
        let limits = OutputLimits::default()
            .apply(&["pubsub".into(), "1mb".into(), "0".into(), "0".into()])
            .unwrap();
        assert_eq!(limits.pubsub.hard_bytes, 1 << 20);
        assert!(OutputLimits::default()
            .apply(&["bogus".into(), "1".into(), "1".into(), "1".into()])
            .is_err());
    }

    #[test]
    fn command_line_overrides_the_config_file() {
        let dir = std::env::temp_dir().join(format!("herald-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("redis.conf");
        std::fs::write(&file, "port 7000\ntimeout 5\n").unwrap();
        let opts =
            Options::from_args(["herald", file.to_str().unwrap(), "--port", "7001"]).unwrap();
        assert_eq!((opts.port, opts.timeout), (7001, 5));
        assert!(Options::from_args(["herald", "--port", "notanumber"]).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
