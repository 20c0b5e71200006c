//! Server commands: COMMAND, INFO, CONFIG, SLOWLOG, LATENCY and MEMORY (in modules of their
//! own), DBSIZE, FLUSHDB,
//! FLUSHALL, TIME, SHUTDOWN, DEBUG, MONITOR, BGREWRITEAOF.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;

use super::args::{self, is};
use super::connection::{help, REDIS_VERSION};
use super::table::{flags, CommandSpec};
use super::Ctx;
use crate::config::directives::Mutability;
use crate::config::Config;
use crate::error::{CommandError, CommandResult};
use crate::glob;
use crate::persistence::LoadingProgress;
use crate::protocol::Reply;
use crate::state::ServerState;

#[derive(Debug)]
pub enum ServerCommand {
    /// # Format: COMMAND | COMMAND COUNT | COMMAND INFO [name ...] | COMMAND DOCS [name ...] | COMMAND LIST [FILTERBY ...] | COMMAND HELP
    Command(CommandQuery),
    /// # Format: INFO [section [section ...]]
    Info(Vec<String>),
    /// # Format: CONFIG GET parameter [parameter ...]
    ConfigGet(Vec<Bytes>),
    /// # Format: SLOWLOG GET [count] | SLOWLOG LEN | SLOWLOG RESET | SLOWLOG HELP
    Slowlog(SlowlogQuery),
    /// See [`super::latency::LatencyCommand`].
    Latency(super::latency::LatencyCommand),
    /// See [`super::memory::MemoryCommand`].
    Memory(super::memory::MemoryCommand),
    /// # Format: CONFIG SET parameter value [parameter value ...]
    ConfigSet(Vec<(String, String)>),
    /// # Format: CONFIG RESETSTAT
    ConfigResetStat,
    /// # Format: CONFIG REWRITE
    ConfigRewrite,
    ConfigHelp,
    /// # Format: DBSIZE
    DbSize,
    /// # Format: FLUSHDB [ASYNC|SYNC] / FLUSHALL [ASYNC|SYNC]
    Flush {
        all: bool,
    },
    /// # Format: TIME
    Time,
    /// # Format: LASTSAVE (Herald never saves an RDB: the start-up time, as Redis reports it
    /// before its first save)
    LastSave,
    /// # Format: ROLE (always a master without replicas)
    Role,
    /// # Format: SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
    Shutdown {
        abort: bool,
    },
    /// # Format: DEBUG subcommand [argument ...]
    Debug(String),
    /// # Format: MONITOR
    Monitor,
    /// # Format: BGREWRITEAOF
    BgRewriteAof,
    /// # Format: WAIT numreplicas timeout
    Wait {
        replicas: i64,
        timeout: u64,
    },
    /// # Format: WAITAOF numlocal numreplicas timeout
    WaitAof {
        local: bool,
        replicas: i64,
        timeout: u64,
    },
}

/// `COMMAND LIST FILTERBY <MODULE name | ACLCAT category | PATTERN pattern>`.
#[derive(Debug)]
pub enum ListFilter {
    Pattern(Bytes),
    /// A category name without its `@`, any case (`stream`, `Read`).
    AclCat(String),
    /// Herald loads no modules, so a module filter matches nothing.
    Module,
}

#[derive(Debug)]
pub enum SlowlogQuery {
    /// The newest entries: how many (`None`: all, `-1`).
    Get(Option<usize>),
    Len,
    Reset,
    Help,
}

#[derive(Debug)]
pub enum CommandQuery {
    All,
    Count,
    Info(Option<Vec<Bytes>>),
    Docs(Option<Vec<Bytes>>),
    List(Option<ListFilter>),
    /// COMMAND GETKEYS: the full command whose keys are asked for.
    GetKeys(Vec<Bytes>),
    Help,
}

impl ServerCommand {
    pub fn parse(name: &str, a: &[Bytes]) -> CommandResult<Self> {
        let sub = a.get(1).map(|s| args::lower(s)).unwrap_or_default();
        let rest = || (a.len() > 2).then(|| a[2..].to_vec());
        Ok(match name {
            "command" => ServerCommand::Command(match (a.len(), sub.as_str()) {
                (1, _) => CommandQuery::All,
                (_, "count") => CommandQuery::Count,
                (_, "info") => CommandQuery::Info(rest()),
                (_, "docs") => CommandQuery::Docs(rest()),
                (_, "help") => CommandQuery::Help,
                (_, "getkeys") => CommandQuery::GetKeys(a[2..].to_vec()),
                (_, "list") => CommandQuery::List(match a.len() {
                    2 => None,
                    5 if is(&a[2], "filterby") => Some(match args::lower(&a[3]).as_str() {
                        "pattern" => ListFilter::Pattern(a[4].clone()),
                        "aclcat" => ListFilter::AclCat(args::lower(&a[4])),
                        "module" => ListFilter::Module,
                        _ => return Err(CommandError::Syntax),
                    }),
                    _ => return Err(CommandError::Syntax),
                }),
                _ => unreachable!("command subcommand {sub} has no parser"),
            }),
            "info" => ServerCommand::Info(a[1..].iter().map(|s| args::lower(s)).collect()),
            "config" => match sub.as_str() {
                "get" => ServerCommand::ConfigGet(a[2..].to_vec()),
                "set" => {
                    // Fewer than one pair is an arity error (the table's); a dangling name is
                    // Redis's `syntax error`.
                    if a.len() % 2 != 0 {
                        return Err(CommandError::Syntax);
                    }
                    let pairs = a[2..]
                        .chunks(2)
                        .map(|p| {
                            (
                                String::from_utf8_lossy(&p[0]).into_owned(),
                                String::from_utf8_lossy(&p[1]).into_owned(),
                            )
                        })
                        .collect();
                    ServerCommand::ConfigSet(pairs)
                }
                "resetstat" => ServerCommand::ConfigResetStat,
                "rewrite" => ServerCommand::ConfigRewrite,
                "help" => ServerCommand::ConfigHelp,
                _ => unreachable!("config subcommand {sub} has no parser"),
            },
            "slowlog" => ServerCommand::Slowlog(match sub.as_str() {
                "get" => SlowlogQuery::Get(match a.get(2) {
                    None => Some(10),
                    Some(count) => match crate::number::parse_i64(count) {
                        Some(-1) => None,
                        Some(n) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
                        _ => {
                            return Err(CommandError::err(
                                "count should be greater than or equal to -1",
                            ))
                        }
                    },
                }),
                "len" => SlowlogQuery::Len,
                "reset" => SlowlogQuery::Reset,
                "help" => SlowlogQuery::Help,
                _ => unreachable!("slowlog subcommand {sub} has no parser"),
            }),
            "latency" => ServerCommand::Latency(super::latency::LatencyCommand::parse(&sub, a)),
            "memory" => ServerCommand::Memory(super::memory::MemoryCommand::parse(&sub, a)?),
            "dbsize" => ServerCommand::DbSize,
            "flushdb" | "flushall" => {
                if a.len() > 2 || (a.len() == 2 && !is(&a[1], "async") && !is(&a[1], "sync")) {
                    return Err(CommandError::Syntax);
                }
                ServerCommand::Flush {
                    all: name == "flushall",
                }
            }
            "time" => ServerCommand::Time,
            "lastsave" => ServerCommand::LastSave,
            "role" => ServerCommand::Role,
            "shutdown" => {
                let mut abort = false;
                let (mut others, mut nosave, mut save) = (0, false, false);
                for arg in &a[1..] {
                    match args::lower(arg).as_str() {
                        "nosave" => nosave = true,
                        "save" => save = true,
                        "now" | "force" => {}
                        "abort" => {
                            abort = true;
                            continue;
                        }
                        _ => return Err(CommandError::Syntax),
                    }
                    others += 1;
                }
                // Redis's illegal combinations: ABORT with anything, SAVE with NOSAVE.
                if (abort && others > 0) || (save && nosave) {
                    return Err(CommandError::Syntax);
                }
                ServerCommand::Shutdown { abort }
            }
            "debug" => ServerCommand::Debug(sub),
            "monitor" => ServerCommand::Monitor,
            "bgrewriteaof" => ServerCommand::BgRewriteAof,
            "wait" => ServerCommand::Wait {
                replicas: args::int(&a[1])?,
                timeout: wait_timeout(&a[2])?,
            },
            // Redis's checks, in its order, with its texts.
            "waitaof" => ServerCommand::WaitAof {
                local: match args::int(&a[1])? {
                    0 => false,
                    1 => true,
                    _ => {
                        return Err(CommandError::err(
                            "value is out of range, value must between 0 and 1",
                        ))
                    }
                },
                replicas: args::int(&a[2])
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| CommandError::err("value is out of range, must be positive"))?,
                timeout: wait_timeout(&a[3])?,
            },
            _ => unreachable!("server command {name} has no parser"),
        })
    }

    pub fn execute(self, ctx: &mut Ctx, out: &mut Reply) -> CommandResult {
        let state = ctx.state;
        match self {
            ServerCommand::Command(query) => command(state, out, query)?,
            ServerCommand::Info(sections) => {
                let text = info(ctx, &sections);
                out.verbatim(text.as_bytes());
            }
            ServerCommand::ConfigGet(patterns) => {
                // Each parameter once, under the name it was asked by: Redis answers a plain
                // name (no `[*?`) in the caller's spelling, a pattern's matches in its own.
                let mut found: Vec<(&[u8], Config)> = Vec::new();
                for pattern in &patterns {
                    let plain = !pattern.iter().any(|c| b"[*?".contains(c));
                    for c in Config::all() {
                        let hit = if plain {
                            pattern.eq_ignore_ascii_case(c.name().as_bytes())
                        } else {
                            glob::matches_nocase(pattern, c.name().as_bytes())
                        };
                        if hit && !found.iter().any(|(_, f)| f.name() == c.name()) {
                            let shown = if plain {
                                &pattern[..]
                            } else {
                                c.name().as_bytes()
                            };
                            found.push((shown, c));
                        }
                    }
                }
                out.map(found.len());
                for (shown, c) in found {
                    out.bulk(shown);
                    out.bulk(c.get(&state.settings).as_bytes());
                }
            }
            ServerCommand::ConfigSet(pairs) => {
                config_set(state, &pairs, ctx.in_exec)?;
                out.ok()
            }
            ServerCommand::Slowlog(query) => slowlog(state, query, out),
            ServerCommand::Latency(command) => command.execute(state, out)?,
            ServerCommand::Memory(command) => command.execute(ctx, out)?,
            ServerCommand::ConfigResetStat => {
                state.stats.reset();
                state.commands.reset_stats();
                out.ok();
            }
            ServerCommand::ConfigRewrite => {
                let Some(path) = &state.settings.options.config_file else {
                    return Err(CommandError::err(
                        "The server is running without a config file",
                    ));
                };
                if let Err(e) = crate::config::rewrite::rewrite(&state.settings, path) {
                    let reason = crate::config::os_reason(&e);
                    tracing::warn!("CONFIG REWRITE failed: {reason}");
                    return Err(CommandError::err(format!(
                        "Rewriting config file: {reason}"
                    )));
                }
                tracing::info!("CONFIG REWRITE executed with success.");
                out.ok();
            }
            ServerCommand::ConfigHelp => help(
                out,
                "CONFIG",
                &[
                    "GET <pattern>",
                    "    Return parameters matching the glob-like <pattern> and their values.",
                    "SET <directive> <value>",
                    "    Set the configuration <directive> to <value>.",
                    "RESETSTAT",
                    "    Reset statistics reported by the INFO command.",
                    "REWRITE",
                    "    Rewrite the configuration file.",
                ],
            ),
            ServerCommand::DbSize => out.int(ctx.db().len() as i64),
            ServerCommand::Flush { all } => {
                let _exclusive = ctx.gate_exclusive();
                let which = if all { None } else { Some(ctx.session.db) };
                state.keyspace.touch_all_existing(which, ctx.now);
                if state.blocking.signal_all() {
                    ctx.woke_readers();
                }
                match which {
                    Some(db) => {
                        state.keyspace.db(db).clear();
                    }
                    None => (0..state.keyspace.databases()).for_each(|db| {
                        state.keyspace.db(db).clear();
                    }),
                }
                // Logged even when there was nothing to remove, as Redis does.
                ctx.propagate(&[if all { b"FLUSHALL" } else { b"FLUSHDB" }]);
                drop(_exclusive);
                out.ok();
            }
            ServerCommand::LastSave => out.int((ctx.state.started_ms / 1000) as i64),
            ServerCommand::Role => {
                // INFO replication's role and master_repl_offset, and no replicas.
                out.array(3);
                out.bulk(b"master");
                out.int(0);
                out.array(0);
            }
            ServerCommand::Time => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                out.array(2);
                out.bulk(now.as_secs().to_string().as_bytes());
                out.bulk(now.subsec_micros().to_string().as_bytes());
            }
            ServerCommand::Shutdown { abort } => {
                if abort {
                    return Err(CommandError::err("No shutdown in progress."));
                }
                tracing::warn!("User requested shutdown...");
                state.request_shutdown();
                ctx.session.close_after_reply = true;
            }
            ServerCommand::Debug(sub) => {
                if sub == "help" {
                    help(
                        out,
                        "DEBUG",
                        &["(Herald implements no DEBUG subcommands; each answers with an error.)"],
                    );
                } else {
                    return Err(CommandError::err(format!(
                        "DEBUG {} is not supported by Herald",
                        sub.to_ascii_uppercase()
                    )));
                }
            }
            ServerCommand::Wait { replicas, timeout } => {
                wait_for(ctx, out, false, false, replicas, timeout)
            }
            ServerCommand::WaitAof {
                local,
                replicas,
                timeout,
            } => {
                if local && !state.persistence.is_enabled() {
                    return Err(waitaof_needs_aof());
                }
                wait_for(ctx, out, true, local, replicas, timeout)
            }
            ServerCommand::BgRewriteAof => {
                let rewrite = &state.persistence.rewrite;
                if rewrite.in_progress() {
                    return Err(CommandError::err(
                        "Background append only file rewriting already in progress",
                    ));
                }
                if ctx.in_exec {
                    // EXEC holds the gate, and its effects reach the log only when it ends.
                    rewrite.schedule();
                    out.simple("Background append only file rewriting scheduled");
                } else {
                    crate::persistence::rewrite::start(state)
                        .map_err(|e| CommandError::err(e.to_string()))?;
                    out.simple("Background append only file rewriting started");
                }
            }
            ServerCommand::Monitor => {
                if !ctx.session.monitor {
                    ctx.session.monitor = true;
                    ctx.session.handle.update(|m| m.monitor = true);
                    state.monitors.add(ctx.session.handle.clone());
                }
                out.ok();
            }
        }
        Ok(())
    }
}

/// Applies CONFIG SET pairs all or nothing, as Redis 7 does.
/// WAIT's and WAITAOF's timeout in milliseconds (0: for ever).
fn wait_timeout(arg: &[u8]) -> CommandResult<u64> {
    let ms = args::int(arg)
        .map_err(|_| CommandError::err("timeout is not an integer or out of range"))?;
    u64::try_from(ms).map_err(|_| CommandError::err("timeout is negative"))
}

/// WAIT / WAITAOF: answered now when this client's writes are already where they were asked to
/// be (or inside a transaction, which may not block), otherwise left to the connection to wait
/// for (see `Connection::wait_for`). Herald has no replicas: none ever acknowledges, so a
/// request for any waits out its timeout.
fn wait_for(ctx: &mut Ctx, out: &mut Reply, aof: bool, local: bool, replicas: i64, timeout: u64) {
    let seq = ctx.session.last_write;
    let fsynced = ctx.state.persistence.fsynced_through(seq);
    if (fsynced || !local) && replicas <= 0 || ctx.in_exec {
        answer_wait(out, aof, fsynced);
        return;
    }
    ctx.session.waiting = Some(crate::session::WaitFor {
        aof,
        local,
        replicas,
        seq,
        timeout: (timeout > 0).then(|| std::time::Duration::from_millis(timeout)),
    });
}

/// WAITAOF 1 with the AOF off, or turned off while it waits.
pub fn waitaof_needs_aof() -> CommandError {
    CommandError::err("WAITAOF cannot be used when numlocal is set but appendonly is disabled.")
}

/// WAITAOF's `[local, replicas]`, WAIT's replica count: no replica ever counts.
pub fn answer_wait(out: &mut Reply, aof: bool, fsynced: bool) {
    if aof {
        out.array(2);
        out.int(fsynced as i64);
        out.int(0);
    } else {
        out.int(0);
    }
}

fn config_set(
    state: &std::sync::Arc<ServerState>,
    pairs: &[(String, String)],
    in_exec: bool,
) -> CommandResult {
    let failed = |name: &str, why: &str| {
        CommandError::err(format!(
            "CONFIG SET failed (possibly related to argument '{name}') - {why}"
        ))
    };
    // Each setting named, with its value before, to restore if one of them is refused.
    let mut before: Vec<(Config, String)> = Vec::new();
    for (name, _) in pairs {
        let Some(c) = Config::lookup(name) else {
            return Err(CommandError::err(format!(
                "Unknown option or number of arguments for CONFIG SET - '{name}'"
            )));
        };
        match c.mutability() {
            Mutability::Immutable => return Err(failed(name, "can't set immutable config")),
            Mutability::Protected => return Err(failed(name, "can't set protected config")),
            Mutability::Mutable => {}
        }
        // Redis tells duplicates by the name given: an alias and its primary may both appear.
        if before.iter().any(|(seen, _)| seen.name() == c.name()) {
            return Err(failed(name, "duplicate parameter"));
        }
        before.push((c, c.get(&state.settings)));
    }
    let restore = |before: &[(Config, String)]| {
        for (c, old) in before {
            let _ = c.set(&state.settings, old);
        }
    };
    for ((name, value), (c, _)) in pairs.iter().zip(&before) {
        if let Err(why) = c.set(&state.settings, value) {
            restore(&before);
            return Err(failed(name, &why));
        }
    }
    let limits_memory = |c: &Config| matches!(c.primary(), "maxmemory" | "maxmemory-policy");
    if let Some(((name, _), _)) = pairs
        .iter()
        .zip(&before)
        .find(|(_, (c, _))| limits_memory(c))
    {
        let settings = &state.settings;
        let refusal = crate::config::eviction_refusal(
            &settings.directive("maxmemory"),
            &settings.directive("maxmemory-policy"),
        );
        if let Some(why) = refusal {
            restore(&before);
            return Err(failed(name, why));
        }
        let limit = settings.maxmemory.load(Relaxed);
        let used = state.used_memory(crate::keyspace::now_ms());
        if limit != 0 && limit < used {
            tracing::warn!("WARNING: the new maxmemory value set via CONFIG SET ({limit}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.");
        }
    }
    // Redis applies `appendonly` once every value is in (`updateAppendonly`).
    if before.iter().any(|(c, _)| c.name() == "appendonly") {
        let persistence = &state.persistence;
        let wanted = state.settings.appendonly.load(Relaxed);
        if wanted && !persistence.is_enabled() {
            if let Err(e) = crate::persistence::Persistence::enable(state, in_exec) {
                tracing::warn!("Could not turn the append only file on: {e}");
                restore(&before);
                return Err(failed(
                    "appendonly",
                    "Unable to turn on AOF. Check server logs.",
                ));
            }
        } else if !wanted && persistence.is_enabled() {
            persistence.disable(state, in_exec);
        }
    }
    Ok(())
}

/// SLOWLOG: each entry as Redis shows it, `[id, time, micros, [args], addr, name]`.
fn slowlog(state: &ServerState, query: SlowlogQuery, out: &mut Reply) {
    match query {
        SlowlogQuery::Get(count) => {
            let entries = state.slowlog.newest(count);
            out.array(entries.len());
            for e in entries {
                out.array(6);
                out.int(e.id as i64);
                out.int(e.time as i64);
                out.int(e.micros as i64);
                out.array(e.args.len());
                for arg in &e.args {
                    out.bulk(arg);
                }
                out.bulk(e.client_addr.as_bytes());
                out.bulk(&e.client_name);
            }
        }
        SlowlogQuery::Len => out.int(state.slowlog.len() as i64),
        SlowlogQuery::Reset => {
            state.slowlog.reset();
            out.ok();
        }
        SlowlogQuery::Help => help(
            out,
            "SLOWLOG",
            &[
                "GET [<count>]",
                "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                "    Entries are made of:",
                "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                "    client name",
                "LEN",
                "    Return the length of the slowlog.",
                "RESET",
                "    Reset the slowlog.",
            ],
        ),
    }
}

/// Redis's ACL categories in the order Redis lists them (its category table's order).
const ACL_ORDER: &[&str] = &[
    "@keyspace",
    "@read",
    "@write",
    "@set",
    "@sortedset",
    "@list",
    "@hash",
    "@string",
    "@bitmap",
    "@hyperloglog",
    "@geo",
    "@stream",
    "@pubsub",
    "@admin",
    "@fast",
    "@slow",
    "@blocking",
    "@dangerous",
    "@connection",
    "@transaction",
    "@scripting",
];

fn acl_categories(spec: &CommandSpec) -> Vec<&'static str> {
    // COMMAND and all its subcommands are `@connection` in Redis, the container included.
    if spec.name == "command" || spec.name.starts_with("command|") {
        return vec!["@slow", "@connection"];
    }
    // Other containers carry no category of their own in Redis, only `@slow`; so does
    // PUBSUB HELP, the one PUBSUB subcommand without `@pubsub`.
    if !spec.subcommands.is_empty() || spec.name == "pubsub|help" {
        return vec!["@slow"];
    }
    let mut cats = Vec::new();
    // Categories Redis assigns one by one rather than by group.
    cats.extend_from_slice(match spec.name {
        "dbsize" => &["@keyspace"][..],
        "flushall" | "flushdb" => &["@keyspace", "@dangerous"],
        "keys" | "info" => &["@dangerous"],
        "lastsave" | "role" => &["@admin", "@dangerous"],
        _ => &[],
    });
    if spec.has(flags::WRITE) {
        cats.push("@write");
    }
    if spec.has(flags::READONLY) {
        cats.push("@read");
    }
    match spec.group {
        "string" => cats.push("@string"),
        "generic" => cats.push("@keyspace"),
        "transactions" => cats.push("@transaction"),
        "connection" => cats.push("@connection"),
        "pubsub" => cats.push("@pubsub"),
        "stream" => cats.push("@stream"),
        _ => {}
    }
    if spec.has(flags::ADMIN) {
        cats.extend(["@admin", "@dangerous"]);
    }
    if spec.has(flags::BLOCKING) {
        cats.push("@blocking");
    }
    cats.push(if spec.has(flags::FAST) {
        "@fast"
    } else {
        "@slow"
    });
    cats.sort_by_key(|c| ACL_ORDER.iter().position(|o| o == c));
    cats.dedup();
    cats
}

fn command_info(out: &mut Reply, spec: &CommandSpec) {
    out.array(10);
    out.bulk(spec.name.as_bytes());
    out.int(spec.arity as i64);
    let names: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(f, _)| spec.has(*f))
        .map(|(_, n)| *n)
        .collect();
    out.set(names.len());
    names.iter().for_each(|n| out.simple(n));
    out.int(spec.first_key as i64);
    out.int(spec.last_key as i64);
    out.int(spec.step as i64);
    let cats = acl_categories(spec);
    out.set(cats.len());
    cats.iter().for_each(|c| out.simple(c));
    out.set(0);
    out.set(0);
    out.set(spec.subcommands.len());
    spec.subcommands.iter().for_each(|s| command_info(out, s));
}

/// One command's entry in COMMAND DOCS, under its full name (`client|kill` for a subcommand,
/// as Redis's `fullname`).
fn command_docs(out: &mut Reply, spec: &CommandSpec) {
    out.bulk(spec.name.as_bytes());
    let has_subs = !spec.subcommands.is_empty();
    out.map(3 + has_subs as usize);
    out.bulk(b"summary");
    out.bulk(spec.summary.as_bytes());
    out.bulk(b"since");
    out.bulk(spec.since.as_bytes());
    out.bulk(b"group");
    out.bulk(spec.group.as_bytes());
    if has_subs {
        out.bulk(b"subcommands");
        out.map(spec.subcommands.len());
        spec.subcommands.iter().for_each(|s| {
            out.bulk(s.name.as_bytes());
            let mut inner = s.subcommands.len();
            inner += 3;
            out.map(inner);
            out.bulk(b"summary");
            out.bulk(s.summary.as_bytes());
            out.bulk(b"since");
            out.bulk(s.since.as_bytes());
            out.bulk(b"group");
            out.bulk(s.group.as_bytes());
        });
    }
}

/// COMMAND GETKEYS: the keys `full` would touch, by the command table, with Redis's errors.
fn get_keys(state: &ServerState, out: &mut Reply, full: &[Bytes]) -> CommandResult {
    let crate::command::table::Lookup::Found(entry) = state.commands.lookup_client(full) else {
        return Err(CommandError::err("Invalid command specified"));
    };
    let spec = entry.spec;
    if !spec.arity_ok(full.len()) {
        return Err(CommandError::err(
            "Invalid number of arguments specified for command",
        ));
    }
    // Shard channels are in Redis's key specs, flagged as not keys.
    if spec.has(crate::command::table::flags::PUBSUB) {
        return Err(CommandError::err("The command has no key arguments"));
    }
    let Some(keys) = crate::command::keys_of(spec, full) else {
        return Err(CommandError::err("Invalid arguments specified for command"));
    };
    if keys.is_empty() {
        return Err(CommandError::err("The command has no key arguments"));
    }
    out.array(keys.len());
    keys.iter().for_each(|k| out.bulk(k));
    Ok(())
}

fn command(state: &ServerState, out: &mut Reply, query: CommandQuery) -> CommandResult {
    // As Redis lists its command table: a command `rename-command` removed is gone.
    let top: Vec<&'static CommandSpec> = crate::command::table::all()
        .filter(|spec| state.commands.is_callable(spec.name))
        .collect();
    match query {
        CommandQuery::GetKeys(full) => return get_keys(state, out, &full),
        CommandQuery::All | CommandQuery::Info(None) => {
            out.array(top.len());
            top.iter().for_each(|s| command_info(out, s));
        }
        CommandQuery::Count => out.int(top.len() as i64),
        CommandQuery::Info(Some(names)) => {
            out.array(names.len());
            for name in names {
                match state.commands.lookup_client(&name_args(&name)) {
                    crate::command::table::Lookup::Found(e) => command_info(out, e.spec),
                    _ => out.null(),
                }
            }
        }
        CommandQuery::Docs(names) => {
            let specs: Vec<&'static CommandSpec> = match names {
                None => top,
                Some(names) => names
                    .iter()
                    .filter_map(|n| match state.commands.lookup_client(&name_args(n)) {
                        crate::command::table::Lookup::Found(e) => Some(e.spec),
                        _ => None,
                    })
                    .collect(),
            };
            out.map(specs.len());
            specs.iter().for_each(|s| command_docs(out, s));
        }
        CommandQuery::List(filter) => {
            let mut specs: Vec<&CommandSpec> = Vec::new();
            for spec in &top {
                specs.push(spec);
                specs.extend(spec.subcommands.iter());
            }
            specs.retain(|spec| match &filter {
                None => true,
                Some(ListFilter::Pattern(p)) => glob::matches(p, spec.name.as_bytes()),
                Some(ListFilter::AclCat(cat)) => acl_categories(spec)
                    .iter()
                    .any(|c| c.strip_prefix('@') == Some(cat.as_str())),
                Some(ListFilter::Module) => false,
            });
            let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
            out.array(names.len());
            names.iter().for_each(|n| out.bulk(n.as_bytes()));
        }
        CommandQuery::Help => help(
            out,
            "COMMAND",
            &[
                "(no subcommand)",
                "    Return details about all Redis commands.",
                "COUNT",
                "    Return the total number of commands in this Redis server.",
                "LIST",
                "    Return a list of all commands in this Redis server.",
                "INFO [<command-name> ...]",
                "    Return details about multiple Redis commands.",
                "    If no command names are given, documentation details for all",
                "    commands are returned.",
                "DOCS [<command-name> ...]",
                "    Return documentation details about multiple Redis commands.",
                "    If no command names are given, documentation details for all",
                "    commands are returned.",
                "GETKEYS <full-command>",
                "    Return the keys from a full Redis command.",
            ],
        ),
    }
    Ok(())
}

/// `config|get` names a subcommand; turn it into the arguments a lookup expects.
pub(super) fn name_args(name: &[u8]) -> Vec<Bytes> {
    name.split(|&b| b == b'|')
        .map(Bytes::copy_from_slice)
        .collect()
}

/// CPU seconds (user, system) used by this process.
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 100.0
    };
    (ticks(11), ticks(12))
}

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes}B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", b / 1024.0 / 1024.0)
    } else {
        format!("{:.2}G", b / 1024.0 / 1024.0 / 1024.0)
    }
}

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

/// The INFO text for the requested sections, with Redis's `\r\n` lines.
pub fn info(ctx: &Ctx, requested: &[String]) -> String {
    let state = ctx.state;
    let wanted: Vec<&str> = if requested.is_empty() || requested.iter().any(|s| s == "default") {
        let mut w = DEFAULT_SECTIONS.to_vec();
        w.extend(
            requested
                .iter()
                .map(|s| s.as_str())
                .filter(|s| ALL_SECTIONS.contains(s)),
        );
        w
    } else if requested.iter().any(|s| s == "all" || s == "everything") {
        ALL_SECTIONS.to_vec()
    } else {
        requested.iter().map(|s| s.as_str()).collect()
    };
    let mut text = String::new();
    let mut sections = 0;
    for section in ALL_SECTIONS {
        if !wanted.contains(section) {
            continue;
        }
        if sections > 0 {
            text.push_str("\r\n");
        }
        sections += 1;
        info_section(ctx, state, section, &mut text);
    }
    text
}

/// INFO latencystats: each called command's `latency-tracking-info-percentiles`, in
/// microseconds to the nanosecond, as Redis prints them (`p99.9=12.031`).
fn latency_percentiles(state: &ServerState, t: &mut String) {
    let percentiles: Vec<f64> = state
        .settings
        .directive("latency-tracking-info-percentiles")
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    for e in state.commands.entries() {
        let Some(histogram) = e.stats.latency.snapshot() else {
            continue;
        };
        let _ = write!(t, "latency_percentiles_usec_{}:", e.spec.name);
        for (i, &p) in percentiles.iter().enumerate() {
            if i > 0 {
                t.push(',');
            }
            let value = histogram.value_at_percentile(p) as f64 / 1000.0;
            let _ = write!(t, "p{}={value:.3}", percentile_name(p));
        }
        t.push_str("\r\n");
    }
}

/// A percentile as Redis names it: `%f`, its trailing zeros (and point) removed.
fn percentile_name(p: f64) -> String {
    let text = format!("{p:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// INFO's `loading_*` lines while the AOF is replayed, computed as Redis computes them: the
/// share of the file's bytes replayed, and the time left at the pace so far (1 s in the first
/// second, when there is no pace yet).
fn loading_progress(progress: &LoadingProgress, now_s: u64, t: &mut String) {
    let started = progress.started_s.load(Relaxed);
    let total = progress.total_bytes.load(Relaxed);
    let loaded = progress.loaded_bytes.load(Relaxed).min(total);
    let (perc, remaining) = if total > 0 {
        (loaded as f64 / total as f64 * 100.0, total - loaded)
    } else {
        (0.0, 1)
    };
    let elapsed = now_s.saturating_sub(started);
    let eta = if elapsed == 0 {
        1
    } else {
        elapsed * remaining / (loaded + 1)
    };
    let _ = write!(
        t,
        "loading_start_time:{started}\r\nloading_total_bytes:{total}\r\nloading_rdb_used_mem:0\r\nloading_loaded_bytes:{loaded}\r\nloading_loaded_perc:{perc:.2}\r\nloading_eta_seconds:{eta}\r\n"
    );
}

fn info_section(ctx: &Ctx, state: &ServerState, section: &str, t: &mut String) {
    let s = &state.stats;
    let uptime = state.started.elapsed().as_secs();
    macro_rules! line {
        ($($arg:tt)*) => {{ let _ = write!(t, $($arg)*); t.push_str("\r\n"); }};
    }
    match section {
        "server" => {
            line!("# Server");
            line!("redis_version:{REDIS_VERSION}");
            line!("redis_git_sha1:00000000");
            line!("redis_git_dirty:0");
            line!("redis_build_id:0");
            line!("redis_mode:standalone");
            line!("os:{} {}", std::env::consts::OS, std::env::consts::ARCH);
            line!("arch_bits:64");
            line!("multiplexing_api:epoll");
            line!("process_id:{}", std::process::id());
            line!("run_id:{}", state.run_id);
            line!("tcp_port:{}", state.port.load(Relaxed));
            line!(
                "server_time_usec:{}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_micros())
                    .unwrap_or(0)
            );
            line!("uptime_in_seconds:{uptime}");
            line!("uptime_in_days:{}", uptime / 86400);
            line!("hz:{}", state.settings.hz.load(Relaxed));
            line!("configured_hz:{}", state.settings.hz.load(Relaxed));
            line!(
                "executable:{}",
                std::env::current_exe()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
            line!(
                "config_file:{}",
                state
                    .settings
                    .options
                    .config_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
            line!("herald_version:{}", env!("CARGO_PKG_VERSION"));
        }
        "clients" => {
            line!("# Clients");
            line!("connected_clients:{}", state.clients.len());
            line!("maxclients:{}", state.settings.maxclients.load(Relaxed));
            line!("blocked_clients:{}", state.blocked_clients.load(Relaxed));
            line!("pubsub_clients:{}", state.pubsub_clients.load(Relaxed));
            line!("watching_clients:0");
        }
        "memory" => {
            let rss = crate::memory::rss_bytes();
            let used = state.used_memory(crate::keyspace::now_ms());
            let maxmemory = state.settings.maxmemory.load(Relaxed);
            line!("# Memory");
            line!("used_memory:{used}");
            line!("used_memory_human:{}", human(used));
            line!("used_memory_rss:{rss}");
            line!("used_memory_rss_human:{}", human(rss));
            line!("maxmemory:{maxmemory}");
            line!("maxmemory_human:{}", human(maxmemory));
            line!(
                "maxmemory_policy:{}",
                state.settings.directive("maxmemory-policy")
            );
        }
        "persistence" => {
            let p = &state.persistence;
            let log = &p.log.stats;
            let ok = |b: bool| if b { "ok" } else { "err" };
            let loading = p.is_loading();
            line!("# Persistence");
            line!("loading:{}", loading as u8);
            line!("async_loading:0");
            // Herald never forks and never writes an RDB: these read as they do in a Redis
            // started with `save ""` that never saved.
            for no_fork in [
                "current_cow_peak:0",
                "current_cow_size:0",
                "current_cow_size_age:0",
                "current_fork_perc:0.00",
                "current_save_keys_processed:0",
                "current_save_keys_total:0",
                "rdb_changes_since_last_save:0",
                "rdb_bgsave_in_progress:0",
            ] {
                line!("{no_fork}");
            }
            line!("rdb_last_save_time:{}", state.started_ms / 1000);
            for no_rdb in [
                "rdb_last_bgsave_status:ok",
                "rdb_last_bgsave_time_sec:-1",
                "rdb_current_bgsave_time_sec:-1",
                "rdb_saves:0",
                "rdb_last_cow_size:0",
                "rdb_last_load_keys_expired:0",
                "rdb_last_load_keys_loaded:0",
            ] {
                line!("{no_rdb}");
            }
            // Redis turns the AOF off while it replays the file (so that the replay is not
            // appended to it again) and reports it so.
            line!("aof_enabled:{}", (p.is_enabled() && !loading) as u8);
            line!("aof_rewrite_in_progress:{}", p.rewrite.in_progress() as u8);
            line!("aof_rewrite_scheduled:{}", p.rewrite.is_scheduled() as u8);
            line!("aof_last_rewrite_time_sec:{}", p.rewrite.last_secs());
            line!("aof_current_rewrite_time_sec:{}", p.rewrite.current_secs());
            line!("aof_last_bgrewrite_status:{}", ok(p.rewrite.last_ok()));
            line!("aof_rewrites:{}", p.rewrite.rewrites.load(Relaxed));
            line!(
                "aof_rewrites_consecutive_failures:{}",
                p.rewrite.consecutive_failures.load(Relaxed)
            );
            line!(
                "aof_last_write_status:{}",
                ok(!log.write_failed.load(Relaxed))
            );
            line!("aof_last_cow_size:0");
            line!("module_fork_in_progress:0");
            line!("module_fork_last_cow_size:0");
            if p.is_enabled() {
                line!("aof_current_size:{}", log.current_size.load(Relaxed));
                line!("aof_base_size:{}", log.base_size.load(Relaxed));
                line!("aof_pending_rewrite:0");
                line!("aof_buffer_length:{}", p.log.buffered());
                line!("aof_pending_bio_fsync:0");
                line!("aof_delayed_fsync:0");
                // Herald's own: how group commit is doing.
                line!("aof_appends:{}", log.appends.load(Relaxed));
                line!("aof_writes:{}", log.writes.load(Relaxed));
                line!("aof_fsyncs:{}", log.fsyncs.load(Relaxed));
            }
            if loading {
                loading_progress(&p.progress, ctx.now / 1000, t);
            }
        }
        "stats" => {
            line!("# Stats");
            line!(
                "total_connections_received:{}",
                s.total_connections_received.load(Relaxed)
            );
            line!(
                "total_commands_processed:{}",
                s.total_commands_processed.load(Relaxed)
            );
            line!(
                "instantaneous_ops_per_sec:{}",
                s.instantaneous_ops_per_sec()
            );
            line!(
                "total_net_input_bytes:{}",
                s.total_net_input_bytes.load(Relaxed)
            );
            line!(
                "total_net_output_bytes:{}",
                s.total_net_output_bytes.load(Relaxed)
            );
            line!(
                "rejected_connections:{}",
                s.rejected_connections.load(Relaxed)
            );
            line!("expired_keys:{}", s.expired_keys.load(Relaxed));
            line!("evicted_keys:0");
            line!("keyspace_hits:{}", s.keyspace_hits.load(Relaxed));
            line!("keyspace_misses:{}", s.keyspace_misses.load(Relaxed));
            line!("pubsub_channels:{}", state.pubsub_channel_count());
            line!("pubsub_patterns:{}", state.pubsub_pattern_count());
            line!(
                "pubsubshard_channels:{}",
                state.pubsub_shard_channel_count()
            );
            line!(
                "total_error_replies:{}",
                s.total_error_replies.load(Relaxed)
            );
            line!(
                "client_query_buffer_limit_disconnections:{}",
                s.client_query_buffer_limit_disconnections.load(Relaxed)
            );
            line!(
                "client_output_buffer_limit_disconnections:{}",
                s.client_output_limit_disconnections.load(Relaxed)
            );
        }
        "replication" => {
            line!("# Replication");
            line!("role:master");
            line!("connected_slaves:0");
            line!("master_failover_state:no-failover");
            line!("master_replid:{}", state.run_id);
            line!("master_replid2:0000000000000000000000000000000000000000");
            line!("master_repl_offset:0");
            line!("second_repl_offset:-1");
            line!("repl_backlog_active:0");
        }
        "cpu" => {
            let (user, sys) = cpu_seconds();
            line!("# CPU");
            line!("used_cpu_sys:{sys:.6}");
            line!("used_cpu_user:{user:.6}");
        }
        "modules" => line!("# Modules"),
        "commandstats" => {
            line!("# Commandstats");
            for e in state.commands.entries() {
                let calls = e.stats.calls.load(Relaxed);
                let (rejected, failed) = (
                    e.stats.rejected_calls.load(Relaxed),
                    e.stats.failed_calls.load(Relaxed),
                );
                if calls + rejected + failed == 0 {
                    continue;
                }
                let usec = e.stats.usec.load(Relaxed);
                let per = if calls > 0 {
                    usec as f64 / calls as f64
                } else {
                    0.0
                };
                line!(
                    "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per:.2},rejected_calls={rejected},failed_calls={failed}",
                    e.spec.name
                );
            }
        }
        "latencystats" => {
            line!("# Latencystats");
            if state.settings.latency_tracking.load(Relaxed) {
                latency_percentiles(state, t);
            }
        }
        "errorstats" => {
            line!("# Errorstats");
            for (prefix, count) in s.errors() {
                line!("errorstat_{prefix}:count={count}");
            }
        }
        "cluster" => {
            line!("# Cluster");
            line!("cluster_enabled:0");
        }
        "keyspace" => {
            line!("# Keyspace");
            for i in 0..state.keyspace.databases() {
                let db = state.keyspace.db(i);
                if !db.is_empty() {
                    line!(
                        "db{i}:keys={},expires={},avg_ttl={}",
                        db.len(),
                        db.expiring(),
                        db.average_ttl(crate::keyspace::now_ms())
                    );
                }
            }
            let _ = ctx;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering::Relaxed;

    fn progress(started: u64, total: u64, loaded: u64, now: u64) -> String {
        let p = LoadingProgress::default();
        p.started_s.store(started, Relaxed);
        p.total_bytes.store(total, Relaxed);
        p.loaded_bytes.store(loaded, Relaxed);
        let mut t = String::new();
        loading_progress(&p, now, &mut t);
        t
    }

    /// Figures read from redis-server 7.0.15's INFO while it loaded a 202888896-byte AOF, one
    /// and two seconds in.
    #[test]
    fn loading_progress_is_computed_as_redis_computes_it() {
        assert_eq!(
            progress(1000, 202888896, 14982655, 1001),
            "loading_start_time:1000\r\nloading_total_bytes:202888896\r\nloading_rdb_used_mem:0\r\nloading_loaded_bytes:14982655\r\nloading_loaded_perc:7.38\r\nloading_eta_seconds:12\r\n"
        );
        assert!(progress(1000, 202888896, 65615359, 1002)
            .contains("loading_loaded_perc:32.34\r\nloading_eta_seconds:4\r\n"));
        // No pace yet in the first second, and an empty file.
        assert!(progress(1000, 100, 0, 1000)
            .ends_with("loading_loaded_perc:0.00\r\nloading_eta_seconds:1\r\n"));
        assert!(progress(1000, 0, 0, 1005)
            .ends_with("loading_loaded_perc:0.00\r\nloading_eta_seconds:5\r\n"));
    }
}
