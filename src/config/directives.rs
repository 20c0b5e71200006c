//! Redis's configuration directives that Herald has no field of its own for.
//!
//! A redis.conf written for Redis (Debian's has 70 directives) or a command line such as
//! `--daemonize no --tcp-keepalive 300` must start Herald, and tools read settings with
//! `CONFIG GET` and change them with `CONFIG SET`. Most of these directives tune parts Herald
//! does not have: RDB snapshots, replication, cluster, TLS, the encodings of hashes and
//! sets, jemalloc, lazy freeing. Each is read as Redis reads it (the same types, ranges,
//! error texts, immutability), shown by CONFIG GET, and has no effect; those whose effect a
//! user would rely on and Herald cannot give (`maxmemory`, `cluster-enabled yes`, a TLS port,
//! replication) accept only their default and refuse anything else with the reason, rather
//! than pretend. Ten are Herald's own to honour, read by name where they apply:
//! `daemonize`, `pidfile` and `supervised` (`crate::supervision`), `tcp-backlog`,
//! `tcp-keepalive`, `unixsocket` and `unixsocketperm` (`crate::listen`, `crate::server`);
//! `maxmemory`, `slowlog-log-slower-than` and `slowlog-max-len`, read by every command, are
//! mirrored into fields of their own (`Settings::honour`).
//!
//! The table follows `CONFIG GET *` of Redis 7.0.15 (the reference run here), each row checked
//! against it with `CONFIG SET` of an out-of-range and an unparsable value.

use super::{int_in, memory_in, parse_yes_no};

/// How a directive's value is read and shown, after Redis's config types.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// `yes` or `no`, any case.
    Bool,
    /// One of the names, any case; shown as listed, except a synonym written `name=shown`,
    /// which Redis shows by the first name of its value (`oom-score-adj relative` is `yes`).
    Enum(&'static [&'static str]),
    /// A decimal integer within the bounds (Redis's `string2ll`).
    Int(i64, i64),
    /// A memory amount (`64mb`) of at least the bound, shown in bytes.
    Memory(i64),
    /// A memory amount or a percentage (`maxmemory-clients`).
    MemoryOrPercent,
    /// An octal number (`unixsocketperm`).
    Octal,
    /// Any text.
    Text,
    /// Any of `save nosave now force` together, or `default` (`shutdown-on-sigterm`).
    ShutdownFlags,
    /// Three integers in -2000..=2000 (`oom-score-adj-values`).
    OomScores,
    /// Percentiles in 0..=100 (`latency-tracking-info-percentiles`).
    Percentiles,
    /// `<host> <port>`, or `no one` (`replicaof`).
    Primary,
}

/// Whether CONFIG SET may change a directive once the server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    Mutable,
    Immutable,
    /// Refused by CONFIG SET unless `enable-protected-configs` (itself only `no` here).
    Protected,
}

/// What a directive does in Herald.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Read and shown. Without effect, it tunes a part Herald does not have, except the five
    /// Herald honours (see the module's documentation).
    None,
    /// Only the default is accepted; anything else is refused with this reason.
    OnlyDefault(&'static str),
}

/// One directive of Redis's configuration.
#[derive(Debug)]
pub struct Directive {
    pub name: &'static str,
    pub kind: Kind,
    /// As `CONFIG GET` shows it on a fresh Redis.
    pub default: &'static str,
    pub mutability: Mutability,
    pub effect: Effect,
    /// For Redis's old names (`slave-read-only`): the directive whose value this one shares.
    pub alias_of: Option<&'static str>,
}

const fn d(name: &'static str, kind: Kind, default: &'static str) -> Directive {
    Directive {
        name,
        kind,
        default,
        mutability: Mutability::Mutable,
        effect: Effect::None,
        alias_of: None,
    }
}

impl Directive {
    const fn immutable(mut self) -> Directive {
        self.mutability = Mutability::Immutable;
        self
    }

    const fn protected(mut self) -> Directive {
        self.mutability = Mutability::Protected;
        self
    }

    const fn only_default(mut self, why: &'static str) -> Directive {
        self.effect = Effect::OnlyDefault(why);
        self
    }

    const fn alias_of(mut self, primary: &'static str) -> Directive {
        self.alias_of = Some(primary);
        self
    }

    /// The name the value is stored under: the primary's, for an alias.
    pub fn primary(&self) -> &'static str {
        self.alias_of.unwrap_or(self.name)
    }

    /// Whether the directive takes several words (`oom-score-adj-values 0 200 800`) rather
    /// than exactly one, as Redis's `MULTI_ARG_CONFIG`.
    pub fn multi_word(&self) -> bool {
        matches!(
            self.kind,
            Kind::OomScores | Kind::Percentiles | Kind::Primary | Kind::ShutdownFlags
        )
    }

    /// Reads `words` (one word, or several for a multi-word directive) as Redis does and
    /// returns the value as `CONFIG GET` shows it, or Redis's reason for refusing it.
    pub fn parse(&self, words: &[&str]) -> Result<String, String> {
        let value = match (self.multi_word(), words) {
            (false, [one]) => read(self.kind, &[one])?,
            (false, _) => return Err("wrong number of arguments".into()),
            (true, _) => read(self.kind, words)?,
        };
        if let Effect::OnlyDefault(why) = self.effect {
            if value != self.default {
                return Err(format!(
                    "Herald accepts only '{}' here: {why}",
                    self.default
                ));
            }
        }
        Ok(value)
    }
}

/// Reads a value of `kind` as Redis does; the value as CONFIG GET shows it.
pub(super) fn read(kind: Kind, words: &[&str]) -> Result<String, String> {
    let word = words.first().copied().unwrap_or("");
    match kind {
        Kind::Bool => parse_yes_no(word).map(|yes| if yes { "yes" } else { "no" }.to_string()),
        Kind::Enum(names) => {
            let (accepted, shown): (Vec<&str>, Vec<&str>) = names
                .iter()
                .map(|n| n.split_once('=').unwrap_or((n, n)))
                .unzip();
            accepted
                .iter()
                .position(|n| n.eq_ignore_ascii_case(word))
                .map(|i| shown[i].to_string())
                .ok_or_else(|| {
                    format!(
                        "argument(s) must be one of the following: {}",
                        accepted.join(", ")
                    )
                })
        }
        Kind::Int(min, max) => int_in(word, min, max).map(|n| n.to_string()),
        Kind::Memory(min) => memory_in(word, min as u64, i64::MAX as u64).map(|n| n.to_string()),
        Kind::MemoryOrPercent => match word.strip_suffix('%') {
            Some(percent) => {
                let n = crate::number::parse_i64(percent.as_bytes())
                    .filter(|n| *n >= 0)
                    .ok_or("argument must be a memory or percent value")?;
                if n > 100 {
                    return Err("percentage argument must be less or equal to 100".into());
                }
                Ok(format!("{n}%"))
            }
            None => memory_in(word, 0, i64::MAX as u64)
                .map_err(|_| "argument must be a memory or percent value".to_string())
                .map(|n| n.to_string()),
        },
        Kind::Octal => i64::from_str_radix(word, 8)
            .ok()
            .filter(|n| (0..=i64::from(i32::MAX)).contains(n) && !word.starts_with(['+', '-']))
            .map(|n| format!("{n:o}"))
            .ok_or_else(|| "argument couldn't be parsed as an octal number".into()),
        Kind::ShutdownFlags => {
            let mut chosen = Vec::new();
            for w in words.iter().filter(|w| !w.is_empty()) {
                let name = SHUTDOWN_FLAGS
                    .iter()
                    .find(|n| n.eq_ignore_ascii_case(w))
                    .ok_or_else(|| {
                        format!(
                            "argument(s) must be one of the following: {}",
                            SHUTDOWN_FLAGS.join(", ")
                        )
                    })?;
                chosen.push(*name);
            }
            chosen.retain(|n| *n != "default");
            if chosen.contains(&"save") && chosen.contains(&"nosave") {
                return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
            }
            let shown: Vec<&str> = SHUTDOWN_FLAGS
                .iter()
                .copied()
                .filter(|n| *n != "default" && chosen.contains(n))
                .collect();
            Ok(if shown.is_empty() {
                "default".into()
            } else {
                shown.join(" ")
            })
        }
        Kind::Text => Ok(word.to_owned()),
        Kind::OomScores => {
            if words.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let mut values = Vec::new();
            for w in words {
                match crate::number::parse_i64(w.as_bytes()) {
                    Some(n) if (-2000..=2000).contains(&n) => values.push(n.to_string()),
                    _ => return Err(
                        "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
                            .into(),
                    ),
                }
            }
            Ok(values.join(" "))
        }
        Kind::Percentiles => {
            let mut values = Vec::new();
            for w in words.iter().filter(|w| !w.is_empty()) {
                let p: f64 = w
                    .parse()
                    .map_err(|_| "Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(
                        "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                            .into(),
                    );
                }
                values.push(p.to_string());
            }
            Ok(values.join(" "))
        }
        Kind::Primary => match words {
            [no, one] if no.eq_ignore_ascii_case("no") && one.eq_ignore_ascii_case("one") => {
                Ok(String::new())
            }
            [host, port] => {
                let port = crate::number::parse_i64(port.as_bytes())
                    .filter(|p| (0..=65535).contains(p))
                    .ok_or("Invalid master port")?;
                Ok(format!("{host} {port}"))
            }
            _ => Err("wrong number of arguments".into()),
        },
    }
}

/// `shutdown-on-sigint` and `shutdown-on-sigterm`'s flags, in the order Redis shows them.
const SHUTDOWN_FLAGS: &[&str] = &["default", "save", "nosave", "now", "force"];

const NO_REPLICAS: &str = "Herald has no replicas: a write would wait for replicas that never come";

use Kind::{Bool, Enum, Int, Memory, Text};

/// Every directive, in the order `CONFIG GET *` lists them (after Herald's own parameters).
pub static DIRECTIVES: &[Directive] = &[
    d(
        "acl-pubsub-default",
        Enum(&["allchannels", "resetchannels"]),
        "resetchannels",
    ),
    d("aclfile", Text, "")
        .immutable()
        .only_default("Herald has no ACL users; requirepass sets the one password"),
    d("acllog-max-len", Int(0, i64::MAX), "128"),
    d("active-defrag-cycle-max", Int(1, 99), "25"),
    d("active-defrag-cycle-min", Int(1, 99), "1"),
    d("active-defrag-ignore-bytes", Memory(1), "104857600"),
    d("active-defrag-max-scan-fields", Int(1, i64::MAX), "1000"),
    d("active-defrag-threshold-lower", Int(0, 1000), "10"),
    d("active-defrag-threshold-upper", Int(0, 1000), "100"),
    d("active-expire-effort", Int(1, 10), "1"),
    d("activedefrag", Bool, "no"),
    d("activerehashing", Bool, "yes"),
    d("always-show-logo", Bool, "no").immutable(),
    d("aof-disable-auto-gc", Bool, "no"),
    d("aof-rewrite-incremental-fsync", Bool, "yes"),
    d("aof-timestamp-enabled", Bool, "no")
        .only_default("Herald's append-only file has no timestamp annotations"),
    d("aof-use-rdb-preamble", Bool, "yes"),
    d("aof_rewrite_cpulist", Text, "").immutable(),
    d("appenddirname", Text, "appendonlydir").immutable(),
    d("bgsave_cpulist", Text, "").immutable(),
    d("bind-source-addr", Text, ""),
    d("bio_cpulist", Text, "").immutable(),
    d("busy-reply-threshold", Int(0, i64::MAX), "5000"),
    d("cluster-allow-pubsubshard-when-down", Bool, "yes"),
    d("cluster-allow-reads-when-down", Bool, "no"),
    d("cluster-allow-replica-migration", Bool, "yes"),
    d("cluster-announce-bus-port", Int(0, 65535), "0"),
    d("cluster-announce-hostname", Text, ""),
    d("cluster-announce-ip", Text, ""),
    d("cluster-announce-port", Int(0, 65535), "0"),
    d("cluster-announce-tls-port", Int(0, 65535), "0"),
    d("cluster-config-file", Text, "nodes.conf").immutable(),
    d("cluster-enabled", Bool, "no")
        .immutable()
        .only_default("Herald does not run in cluster mode"),
    d("cluster-link-sendbuf-limit", Memory(0), "0"),
    d("cluster-migration-barrier", Int(0, 2147483647), "1"),
    d("cluster-node-timeout", Int(0, i64::MAX), "15000"),
    d("cluster-port", Int(0, 65535), "0").immutable(),
    d(
        "cluster-preferred-endpoint-type",
        Enum(&["ip", "hostname", "unknown-endpoint"]),
        "ip",
    ),
    d("cluster-replica-no-failover", Bool, "no"),
    d("cluster-replica-validity-factor", Int(0, 2147483647), "10"),
    d("cluster-require-full-coverage", Bool, "yes"),
    d("cluster-slave-no-failover", Bool, "no").alias_of("cluster-replica-no-failover"),
    d("cluster-slave-validity-factor", Int(0, 2147483647), "10")
        .alias_of("cluster-replica-validity-factor"),
    d("crash-log-enabled", Bool, "yes"),
    d("crash-memcheck-enabled", Bool, "yes"),
    d("daemonize", Bool, "no").immutable(),
    d("dbfilename", Text, "dump.rdb").protected(),
    d("disable-thp", Bool, "yes").immutable(),
    d("dynamic-hz", Bool, "yes"),
    d("enable-debug-command", Enum(&["no", "yes", "local"]), "no").immutable(),
    d("enable-module-command", Enum(&["no", "yes", "local"]), "no").immutable(),
    d(
        "enable-protected-configs",
        Enum(&["no", "yes", "local"]),
        "no",
    )
    .immutable()
    .only_default("dir and dbfilename stay fixed while Herald runs"),
    d("hash-max-listpack-entries", Int(0, i64::MAX), "512"),
    d("hash-max-listpack-value", Memory(0), "64"),
    d("hash-max-ziplist-entries", Int(0, i64::MAX), "512").alias_of("hash-max-listpack-entries"),
    d("hash-max-ziplist-value", Memory(0), "64").alias_of("hash-max-listpack-value"),
    d("hll-sparse-max-bytes", Memory(0), "3000"),
    d("ignore-warnings", Text, ""),
    d("io-threads", Int(1, 128), "1").immutable(),
    d("io-threads-do-reads", Bool, "no").immutable(),
    d("jemalloc-bg-thread", Bool, "yes"),
    d("latency-monitor-threshold", Int(0, i64::MAX), "0"),
    d("latency-tracking", Bool, "yes"),
    d(
        "latency-tracking-info-percentiles",
        Kind::Percentiles,
        "50 99 99.9",
    ),
    d("lazyfree-lazy-eviction", Bool, "no"),
    d("lazyfree-lazy-expire", Bool, "no"),
    d("lazyfree-lazy-server-del", Bool, "no"),
    d("lazyfree-lazy-user-del", Bool, "no"),
    d("lazyfree-lazy-user-flush", Bool, "no"),
    d("lfu-decay-time", Int(0, 2147483647), "1"),
    d("lfu-log-factor", Int(0, 2147483647), "10"),
    d("list-compress-depth", Int(0, 2147483647), "0"),
    d("list-max-listpack-size", Int(-2147483648, 2147483647), "-2"),
    d("list-max-ziplist-size", Int(-2147483648, 2147483647), "-2")
        .alias_of("list-max-listpack-size"),
    d("lua-time-limit", Int(0, i64::MAX), "5000").alias_of("busy-reply-threshold"),
    d("masterauth", Text, ""),
    d("masteruser", Text, ""),
    d("maxmemory", Memory(0), "0"),
    d("maxmemory-clients", Kind::MemoryOrPercent, "0")
        .only_default("Herald does not evict clients by memory; output limits apply per client"),
    d("maxmemory-eviction-tenacity", Int(0, 100), "10"),
    d(
        "maxmemory-policy",
        Enum(&[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ]),
        "noeviction",
    ),
    d("maxmemory-samples", Int(1, 2147483647), "5"),
    d("min-replicas-max-lag", Int(0, 2147483647), "10"),
    d("min-replicas-to-write", Int(0, 2147483647), "0").only_default(NO_REPLICAS),
    d("min-slaves-max-lag", Int(0, 2147483647), "10").alias_of("min-replicas-max-lag"),
    d("min-slaves-to-write", Int(0, 2147483647), "0")
        .only_default(NO_REPLICAS)
        .alias_of("min-replicas-to-write"),
    d("no-appendfsync-on-rewrite", Bool, "no"),
    d(
        "oom-score-adj",
        Enum(&["no", "yes", "relative=yes", "absolute"]),
        "no",
    ),
    d("oom-score-adj-values", Kind::OomScores, "0 200 800"),
    d("pidfile", Text, "").immutable(),
    d(
        "proc-title-template",
        Text,
        "{title} {listen-addr} {server-mode}",
    ),
    d(
        "propagation-error-behavior",
        Enum(&["ignore", "panic", "panic-on-replicas"]),
        "ignore",
    ),
    d("rdb-del-sync-files", Bool, "no"),
    d("rdb-save-incremental-fsync", Bool, "yes"),
    d("rdbchecksum", Bool, "yes").immutable(),
    d("rdbcompression", Bool, "yes"),
    d("repl-backlog-size", Memory(1), "1048576"),
    d("repl-backlog-ttl", Int(0, i64::MAX), "3600"),
    d("repl-disable-tcp-nodelay", Bool, "no"),
    d(
        "repl-diskless-load",
        Enum(&["disabled", "on-empty-db", "swapdb"]),
        "disabled",
    ),
    d("repl-diskless-sync", Bool, "yes"),
    d("repl-diskless-sync-delay", Int(0, 2147483647), "5"),
    d("repl-diskless-sync-max-replicas", Int(0, 2147483647), "0"),
    d("repl-ping-replica-period", Int(1, 2147483647), "10"),
    d("repl-ping-slave-period", Int(1, 2147483647), "10").alias_of("repl-ping-replica-period"),
    d("repl-timeout", Int(1, 2147483647), "60"),
    d("replica-announce-ip", Text, ""),
    d("replica-announce-port", Int(0, 65535), "0"),
    d("replica-announced", Bool, "yes"),
    d("replica-ignore-disk-write-errors", Bool, "no"),
    d("replica-ignore-maxmemory", Bool, "yes"),
    d("replica-lazy-flush", Bool, "no"),
    d("replica-priority", Int(0, 2147483647), "100"),
    d("replica-read-only", Bool, "yes"),
    d("replica-serve-stale-data", Bool, "yes"),
    d("replicaof", Kind::Primary, "")
        .immutable()
        .only_default("Herald does not replicate"),
    d(
        "sanitize-dump-payload",
        Enum(&["no", "yes", "clients"]),
        "no",
    ),
    d("server_cpulist", Text, "").immutable(),
    d("set-max-intset-entries", Int(0, i64::MAX), "512"),
    d("set-proc-title", Bool, "yes").immutable(),
    d("shutdown-on-sigint", Kind::ShutdownFlags, "default"),
    d("shutdown-on-sigterm", Kind::ShutdownFlags, "default"),
    d("shutdown-timeout", Int(0, 2147483647), "10"),
    d("slave-announce-ip", Text, "").alias_of("replica-announce-ip"),
    d("slave-announce-port", Int(0, 65535), "0").alias_of("replica-announce-port"),
    d("slave-ignore-maxmemory", Bool, "yes").alias_of("replica-ignore-maxmemory"),
    d("slave-lazy-flush", Bool, "no").alias_of("replica-lazy-flush"),
    d("slave-priority", Int(0, 2147483647), "100").alias_of("replica-priority"),
    d("slave-read-only", Bool, "yes").alias_of("replica-read-only"),
    d("slave-serve-stale-data", Bool, "yes").alias_of("replica-serve-stale-data"),
    d("slaveof", Kind::Primary, "")
        .immutable()
        .only_default("Herald does not replicate")
        .alias_of("replicaof"),
    d("slowlog-log-slower-than", Int(-1, i64::MAX), "10000"),
    d("slowlog-max-len", Int(0, i64::MAX), "128"),
    d("socket-mark-id", Int(0, 4294967295), "0")
        .immutable()
        .only_default("Herald does not mark its sockets"),
    d("stop-writes-on-bgsave-error", Bool, "yes"),
    d(
        "supervised",
        Enum(&["upstart", "systemd", "auto", "no"]),
        "no",
    )
    .immutable(),
    d("syslog-enabled", Bool, "no")
        .immutable()
        .only_default("Herald logs to logfile or standard output, not syslog"),
    d(
        "syslog-facility",
        Enum(&[
            "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
        ]),
        "local0",
    )
    .immutable(),
    d("syslog-ident", Text, "redis").immutable(),
    d("tcp-backlog", Int(0, 2147483647), "511").immutable(),
    d("tcp-keepalive", Int(0, 2147483647), "300"),
    d("tls-auth-clients", Enum(&["no", "yes", "optional"]), "yes"),
    d("tls-ca-cert-dir", Text, ""),
    d("tls-ca-cert-file", Text, ""),
    d("tls-cert-file", Text, ""),
    d("tls-ciphers", Text, ""),
    d("tls-ciphersuites", Text, ""),
    d("tls-client-cert-file", Text, ""),
    d("tls-client-key-file", Text, ""),
    d("tls-client-key-file-pass", Text, ""),
    d("tls-cluster", Bool, "no"),
    d("tls-dh-params-file", Text, ""),
    d("tls-key-file", Text, ""),
    d("tls-key-file-pass", Text, ""),
    d("tls-port", Int(0, 65535), "0").only_default("Herald does not serve TLS"),
    d("tls-prefer-server-ciphers", Bool, "no"),
    d("tls-protocols", Text, ""),
    d("tls-replication", Bool, "no"),
    d("tls-session-cache-size", Int(0, 2147483647), "20480"),
    d("tls-session-cache-timeout", Int(0, 2147483647), "300"),
    d("tls-session-caching", Bool, "yes"),
    d("tracking-table-max-keys", Int(0, i64::MAX), "1000000"),
    d("unixsocket", Text, "").immutable(),
    d("unixsocketperm", Kind::Octal, "0").immutable(),
    d("zset-max-listpack-entries", Int(0, i64::MAX), "128"),
    d("zset-max-listpack-value", Memory(0), "64"),
    d("zset-max-ziplist-entries", Int(0, i64::MAX), "128").alias_of("zset-max-listpack-entries"),
    d("zset-max-ziplist-value", Memory(0), "64").alias_of("zset-max-listpack-value"),
];

/// Looks a directive up by name, ignoring case.
pub fn directive(name: &str) -> Option<&'static Directive> {
    DIRECTIVES
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
}

/// The name `name`'s value is stored under: its primary's, for an alias.
pub fn primary_of(name: &str) -> &str {
    directive(name).map_or(name, |d| d.primary())
}

/// The default of the directive stored under `primary`.
pub fn default_of(primary: &str) -> &'static str {
    directive(primary).map_or("", |d| d.default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_as_redis_reads_them() {
        let get = |name: &str, words: &[&str]| directive(name).unwrap().parse(words);
        assert_eq!(get("tcp-backlog", &["511"]), Ok("511".into()));
        assert_eq!(
            get("tcp-backlog", &["-1"]),
            Err("argument must be between 0 and 2147483647 inclusive".into())
        );
        assert_eq!(
            get("tcp-backlog", &["1x"]),
            Err("argument couldn't be parsed into an integer".into())
        );
        assert_eq!(get("rdbcompression", &["YES"]), Ok("yes".into()));
        assert_eq!(get("hash-max-listpack-value", &["1kb"]), Ok("1024".into()));
        assert_eq!(get("oom-score-adj", &["Relative"]), Ok("yes".into()));
        assert!(get("oom-score-adj", &["maybe"])
            .unwrap_err()
            .starts_with("argument(s) must be one of the following: no, yes"));
        assert_eq!(get("unixsocketperm", &["700"]), Ok("700".into()));
        assert_eq!(
            get("oom-score-adj-values", &["0", "200", "800"]),
            Ok("0 200 800".into())
        );
        assert_eq!(
            get("oom-score-adj-values", &["0", "200"]),
            Err("wrong number of arguments".into())
        );
        assert_eq!(
            get("latency-tracking-info-percentiles", &["50", "99.9"]),
            Ok("50 99.9".into())
        );
        assert_eq!(get("replicaof", &["no", "one"]), Ok("".into()));
        assert!(get("replicaof", &["10.0.0.1", "6379"])
            .unwrap_err()
            .contains("does not replicate"));
        assert_eq!(get("maxmemory", &["0"]), Ok("0".into()));
        assert_eq!(get("maxmemory", &["1gb"]), Ok("1073741824".into()));
        assert!(get("maxmemory-clients", &["1gb"])
            .unwrap_err()
            .contains("does not evict clients"));
        assert_eq!(
            get("tcp-backlog", &["1", "2"]),
            Err("wrong number of arguments".into())
        );
    }

    #[test]
    fn aliases_share_their_primary_and_its_shape() {
        for d in DIRECTIVES {
            if let Some(primary) = d.alias_of {
                let p = directive(primary).expect("alias of a known directive");
                assert_eq!(
                    (p.default, p.mutability),
                    (d.default, d.mutability),
                    "{}",
                    d.name
                );
                assert!(p.alias_of.is_none(), "{}", d.name);
            }
            // Every default reads back as itself, so CONFIG SET of what CONFIG GET showed works.
            let words: Vec<&str> = if d.multi_word() {
                d.default.split(' ').filter(|w| !w.is_empty()).collect()
            } else {
                vec![d.default]
            };
            let words = if words.is_empty() && matches!(d.kind, Kind::Primary) {
                vec!["no", "one"]
            } else {
                words
            };
            assert_eq!(d.parse(&words).as_deref(), Ok(d.default), "{}", d.name);
        }
    }
}
