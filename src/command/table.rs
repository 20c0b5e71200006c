//! The command table: each command's name, arity, flags and key positions, in one place, so that
//! lookups, the arity error, COMMAND's replies and INFO commandstats all agree.
//!
//! Arity follows Redis: a positive number is the exact argument count (name included), a
//! negative one the minimum.

use std::collections::HashMap;

use crate::stats::CommandStats;

/// Flags, named as Redis names them in COMMAND INFO.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const ADMIN: u32 = 1 << 2;
    pub const PUBSUB: u32 = 1 << 3;
    pub const NOSCRIPT: u32 = 1 << 4;
    pub const BLOCKING: u32 = 1 << 5;
    pub const LOADING: u32 = 1 << 6;
    pub const STALE: u32 = 1 << 7;
    pub const SKIP_MONITOR: u32 = 1 << 8;
    pub const FAST: u32 = 1 << 9;
    pub const NO_AUTH: u32 = 1 << 10;
    pub const NO_MULTI: u32 = 1 << 11;
    pub const DENYOOM: u32 = 1 << 12;
    pub const ALLOW_BUSY: u32 = 1 << 13;
    pub const SKIP_SLOWLOG: u32 = 1 << 14;
    /// Not a Redis flag name: allowed to a RESP2 client in subscribed mode.
    pub const SUBSCRIBED_OK: u32 = 1 << 30;

    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// One command or subcommand.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lower-case name; subcommands carry `container|sub`.
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i32;
        (self.arity >= 0 && argc == self.arity) || (self.arity < 0 && argc >= -self.arity)
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// The subcommand's own name (`get` for `config|get`).
    pub fn short_name(&self) -> &'static str {
        self.name.rsplit('|').next().unwrap_or(self.name)
    }
}

/// Builds a [`CommandSpec`]; family modules use it for their own tables.
macro_rules! spec {
    ($name:literal, $arity:expr, $flags:expr, $keys:expr, $group:literal, $since:literal, $summary:literal) => {
        spec!($name, $arity, $flags, $keys, $group, $since, $summary, &[])
    };
    ($name:literal, $arity:expr, $flags:expr, $keys:expr, $group:literal, $since:literal, $summary:literal, $subs:expr) => {
        CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            first_key: $keys.0,
            last_key: $keys.1,
            step: $keys.2,
            group: $group,
            since: $since,
            summary: $summary,
            subcommands: $subs,
        }
    };
}

#[allow(unused_imports)] // used by the family modules as their tables fill
pub(crate) use spec;

use flags::*;

const NONE: (i32, i32, i32) = (0, 0, 0);
const KEY1: (i32, i32, i32) = (1, 1, 1);

static CLIENT_SUBS: &[CommandSpec] = &[
    spec!(
        "client|id",
        2,
        NOSCRIPT | LOADING | STALE,
        NONE,
        "connection",
        "5.0.0",
        "Returns the unique client ID of the connection."
    ),
    spec!(
        "client|setname",
        3,
        NOSCRIPT | LOADING | STALE,
        NONE,
        "connection",
        "2.6.9",
        "Sets the connection name."
    ),
    spec!(
        "client|getname",
        2,
        NOSCRIPT | LOADING | STALE,
        NONE,
        "connection",
        "2.6.9",
        "Returns the name of the connection."
    ),
    spec!(
        "client|setinfo",
        4,
        NOSCRIPT | LOADING | STALE,
        NONE,
        "connection",
        "7.2.0",
        "Sets information specific to the client or connection."
    ),
    spec!(
        "client|info",
        2,
        NOSCRIPT | LOADING | STALE,
        NONE,
        "connection",
        "6.2.0",
        "Returns information about the connection."
    ),
    spec!(
        "client|list",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "connection",
        "2.4.0",
        "Lists open connections."
    ),
    spec!(
        "client|kill",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "connection",
        "2.4.0",
        "Terminates open connections."
    ),
    spec!(
        "client|reply",
        3,
        NOSCRIPT | LOADING | STALE,
        NONE,
        "connection",
        "3.2.0",
        "Instructs the server whether to reply to commands."
    ),
    spec!(
        "client|no-evict",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "connection",
        "7.0.0",
        "Sets the client eviction mode of the connection."
    ),
    spec!(
        "client|no-touch",
        3,
        NOSCRIPT | LOADING | STALE,
        NONE,
        "connection",
        "7.2.0",
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys."
    ),
    spec!(
        "client|unblock",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "connection",
        "5.0.0",
        "Unblocks a client blocked by a blocking command from a different connection."
    ),
    spec!(
        "client|help",
        2,
        LOADING | STALE,
        NONE,
        "connection",
        "5.0.0",
        "Returns helpful text about the different subcommands."
    ),
];

static COMMAND_SUBS: &[CommandSpec] = &[
    spec!(
        "command|count",
        2,
        LOADING | STALE,
        NONE,
        "server",
        "2.8.13",
        "Returns a count of commands."
    ),
    spec!(
        "command|info",
        -2,
        LOADING | STALE,
        NONE,
        "server",
        "2.8.13",
        "Returns information about one, multiple or all commands."
    ),
    spec!(
        "command|docs",
        -2,
        LOADING | STALE,
        NONE,
        "server",
        "7.0.0",
        "Returns documentary information about one, multiple or all commands."
    ),
    spec!(
        "command|list",
        -2,
        LOADING | STALE,
        NONE,
        "server",
        "7.0.0",
        "Returns a list of command names."
    ),
    spec!(
        "command|getkeys",
        -4,
        LOADING | STALE,
        NONE,
        "server",
        "2.8.13",
        "Extracts the key names from an arbitrary command."
    ),
    spec!(
        "command|help",
        2,
        LOADING | STALE,
        NONE,
        "server",
        "5.0.0",
        "Returns helpful text about the different subcommands."
    ),
];

static CONFIG_SUBS: &[CommandSpec] = &[
    spec!(
        "config|get",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "server",
        "2.0.0",
        "Returns the effective values of configuration parameters."
    ),
    spec!(
        "config|set",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "server",
        "2.0.0",
        "Sets configuration parameters in-flight."
    ),
    spec!(
        "config|resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "server",
        "2.0.0",
        "Resets the server's statistics."
    ),
    spec!(
        "config|rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "server",
        "2.8.0",
        "Persists the effective configuration to file."
    ),
    spec!(
        "config|help",
        2,
        LOADING | STALE,
        NONE,
        "server",
        "5.0.0",
        "Returns helpful text about the different subcommands."
    ),
];

static SLOWLOG_SUBS: &[CommandSpec] = &[
    spec!(
        "slowlog|get",
        -2,
        ADMIN | LOADING | STALE,
        NONE,
        "server",
        "2.2.12",
        "Returns the slow log's entries."
    ),
    spec!(
        "slowlog|len",
        2,
        ADMIN | LOADING | STALE,
        NONE,
        "server",
        "2.2.12",
        "Returns the number of entries in the slow log."
    ),
    spec!(
        "slowlog|reset",
        2,
        ADMIN | LOADING | STALE,
        NONE,
        "server",
        "2.2.12",
        "Clears all entries from the slow log."
    ),
    spec!(
        "slowlog|help",
        2,
        LOADING | STALE,
        NONE,
        "server",
        "6.2.0",
        "Returns helpful text about the different subcommands."
    ),
];

static LATENCY_SUBS: &[CommandSpec] = &[
    spec!(
        "latency|doctor",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "server",
        "2.8.13",
        "Returns a human-readable latency analysis report."
    ),
    spec!(
        "latency|graph",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "server",
        "2.8.13",
        "Returns a latency graph for an event."
    ),
    spec!(
        "latency|histogram",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "server",
        "7.0.0",
        "Returns the cumulative distribution of latencies of a subset or all commands."
    ),
    spec!(
        "latency|history",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "server",
        "2.8.13",
        "Returns timestamp-latency samples for an event."
    ),
    spec!(
        "latency|latest",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "server",
        "2.8.13",
        "Returns the latest latency samples for all events."
    ),
    spec!(
        "latency|reset",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "server",
        "2.8.13",
        "Resets the latency data for one or more events."
    ),
    spec!(
        "latency|help",
        2,
        LOADING | STALE,
        NONE,
        "server",
        "2.8.13",
        "Returns helpful text about the different subcommands."
    ),
];

static MEMORY_SUBS: &[CommandSpec] = &[
    spec!(
        "memory|malloc-stats",
        2,
        NONE_FLAGS,
        NONE,
        "server",
        "4.0.0",
        "Returns the allocator statistics."
    ),
    spec!(
        "memory|purge",
        2,
        NONE_FLAGS,
        NONE,
        "server",
        "4.0.0",
        "Asks the allocator to release memory."
    ),
    spec!(
        "memory|usage",
        -3,
        READONLY,
        (2, 2, 1),
        "server",
        "4.0.0",
        "Estimates the memory usage of a key."
    ),
    spec!(
        "memory|help",
        2,
        LOADING | STALE,
        NONE,
        "server",
        "4.0.0",
        "Returns helpful text about the different subcommands."
    ),
];

static OBJECT_SUBS: &[CommandSpec] = &[
    spec!(
        "object|encoding",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "2.2.3",
        "Returns the internal encoding of a Redis object."
    ),
    spec!(
        "object|freq",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "4.0.0",
        "Returns the logarithmic access frequency counter of a Redis object."
    ),
    spec!(
        "object|idletime",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "2.2.3",
        "Returns the time since the last access to a Redis object."
    ),
    spec!(
        "object|refcount",
        3,
        READONLY,
        (2, 2, 1),
        "generic",
        "2.2.3",
        "Returns the reference count of a value of a key."
    ),
    spec!(
        "object|help",
        2,
        LOADING | STALE,
        NONE,
        "generic",
        "6.2.0",
        "Returns helpful text about the different subcommands."
    ),
];

/// The core's commands: connection, server, generic keys, strings, transactions.
pub static COMMANDS: &[CommandSpec] = &[
    // connection
    spec!("ping", -1, FAST | SUBSCRIBED_OK, NONE, "connection", "1.0.0", "Returns the server's liveliness response."),
    spec!("echo", 2, LOADING | STALE | FAST, NONE, "connection", "1.0.0", "Returns the given string."),
    spec!("hello", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, NONE, "connection", "6.0.0", "Handshakes with the Redis server."),
    spec!("auth", -2, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, NONE, "connection", "1.0.0", "Authenticates the connection."),
    spec!("select", 2, LOADING | STALE | FAST, NONE, "connection", "1.0.0", "Changes the selected database."),
    spec!("quit", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY | SUBSCRIBED_OK, NONE, "connection", "1.0.0", "Closes the connection."),
    spec!("reset", 1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY | SUBSCRIBED_OK, NONE, "connection", "6.2.0", "Resets the connection."),
    spec!("client", -2, NONE_FLAGS, NONE, "connection", "2.4.0", "A container for client connection commands.", CLIENT_SUBS),
    // server
    spec!("command", -1, LOADING | STALE, NONE, "server", "2.8.13", "Returns detailed information about all commands.", COMMAND_SUBS),
    spec!("info", -1, LOADING | STALE, NONE, "server", "1.0.0", "Returns information and statistics about the server."),
    spec!("config", -2, NONE_FLAGS, NONE, "server", "2.0.0", "A container for server configuration commands.", CONFIG_SUBS),
    spec!("slowlog", -2, NONE_FLAGS, NONE, "server", "2.2.12", "A container for slow log commands.", SLOWLOG_SUBS),
    spec!("latency", -2, NONE_FLAGS, NONE, "server", "2.8.13", "A container for latency diagnostics commands.", LATENCY_SUBS),
    spec!("memory", -2, NONE_FLAGS, NONE, "server", "4.0.0", "A container for memory diagnostics commands.", MEMORY_SUBS),
    spec!("dbsize", 1, READONLY | FAST, NONE, "server", "1.0.0", "Returns the number of keys in the database."),
    spec!("flushdb", -1, WRITE, NONE, "server", "1.0.0", "Removes all keys from the current database."),
    spec!("flushall", -1, WRITE, NONE, "server", "1.0.0", "Removes all keys from all databases."),
    spec!("lastsave", 1, LOADING | STALE | FAST, NONE, "server", "1.0.0", "Returns the Unix timestamp of the last successful save to disk."),
    spec!("role", 1, NOSCRIPT | LOADING | STALE | FAST, NONE, "server", "2.8.12", "Returns the replication role."),
    spec!("time", 1, LOADING | STALE | FAST, NONE, "server", "2.6.0", "Returns the server time."),
    spec!("shutdown", -1, ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY, NONE, "server", "1.0.0", "Synchronously saves the database(s) to disk and shuts down the Redis server."),
    spec!("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE, NONE, "server", "1.0.0", "A container for debugging commands."),
    spec!("bgrewriteaof", 1, ADMIN | NOSCRIPT, NONE, "server", "1.0.0", "Asynchronously rewrites the append-only file to disk."),
    spec!("wait", 3, BLOCKING, NONE, "generic", "3.0.0", "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed."),
    spec!("waitaof", 4, BLOCKING, NONE, "generic", "7.2.0", "Blocks until all of the preceding write commands sent by the connection are written to the append-only file of the master and/or replicas."),
    spec!("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE, NONE, "server", "1.0.0", "Listens for all requests received by the server in real-time."),
    // generic
    spec!("del", -2, WRITE, (1, -1, 1), "generic", "1.0.0", "Deletes one or more keys."),
    spec!("unlink", -2, WRITE | FAST, (1, -1, 1), "generic", "4.0.0", "Asynchronously deletes one or more keys."),
    spec!("exists", -2, READONLY | FAST, (1, -1, 1), "generic", "1.0.0", "Determines whether one or more keys exist."),
    spec!("touch", -2, READONLY | FAST, (1, -1, 1), "generic", "3.2.1", "Returns the number of existing keys out of those specified after updating the time they were last accessed."),
    spec!("type", 2, READONLY | FAST, KEY1, "generic", "1.0.0", "Determines the type of value stored at a key."),
    spec!("keys", 2, READONLY, NONE, "generic", "1.0.0", "Returns all key names that match a pattern."),
    spec!("randomkey", 1, READONLY, NONE, "generic", "1.0.0", "Returns a random key name from the database."),
    spec!("object", -2, NONE_FLAGS, NONE, "generic", "2.2.3", "A container for object introspection commands.", OBJECT_SUBS),
    spec!("scan", -2, READONLY, NONE, "generic", "2.8.0", "Iterates over the key names in the database."),
    spec!("rename", 3, WRITE, (1, 2, 1), "generic", "1.0.0", "Renames a key and overwrites the destination."),
    spec!("move", 3, WRITE | FAST, KEY1, "generic", "1.0.0", "Moves a key to another database."),
    spec!("copy", -3, WRITE | DENYOOM, (1, 2, 1), "generic", "6.2.0", "Copies the value of a key to a new key."),
    spec!("renamenx", 3, WRITE | FAST, (1, 2, 1), "generic", "1.0.0", "Renames a key only when the target key name doesn't exist."),
    spec!("expire", -3, WRITE | FAST, KEY1, "generic", "1.0.0", "Sets the expiration time of a key in seconds."),
    spec!("pexpire", -3, WRITE | FAST, KEY1, "generic", "2.6.0", "Sets the expiration time of a key in milliseconds."),
    spec!("expireat", -3, WRITE | FAST, KEY1, "generic", "1.2.0", "Sets the expiration time of a key to a Unix timestamp."),
    spec!("pexpireat", -3, WRITE | FAST, KEY1, "generic", "2.6.0", "Sets the expiration time of a key to a Unix milliseconds timestamp."),
    spec!("expiretime", 2, READONLY | FAST, KEY1, "generic", "7.0.0", "Returns the expiration time of a key as a Unix timestamp."),
    spec!("pexpiretime", 2, READONLY | FAST, KEY1, "generic", "7.0.0", "Returns the expiration time of a key as a Unix milliseconds timestamp."),
    spec!("ttl", 2, READONLY | FAST, KEY1, "generic", "1.0.0", "Returns the expiration time in seconds of a key."),
    spec!("pttl", 2, READONLY | FAST, KEY1, "generic", "2.6.0", "Returns the expiration time in milliseconds of a key."),
    spec!("persist", 2, WRITE | FAST, KEY1, "generic", "2.2.0", "Removes the expiration time of a key."),
    // string
    spec!("get", 2, READONLY | FAST, KEY1, "string", "1.0.0", "Returns the string value of a key."),
    spec!("set", -3, WRITE | DENYOOM, KEY1, "string", "1.0.0", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."),
    spec!("mget", -2, READONLY | FAST, (1, -1, 1), "string", "1.0.0", "Atomically returns the string values of one or more keys."),
    spec!("mset", -3, WRITE | DENYOOM, (1, -1, 2), "string", "1.0.1", "Atomically creates or modifies the string values of one or more keys."),
    spec!("incr", 2, WRITE | DENYOOM | FAST, KEY1, "string", "1.0.0", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    spec!("incrbyfloat", 3, WRITE | DENYOOM | FAST, KEY1, "string", "2.6.0", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    spec!("incrby", 3, WRITE | DENYOOM | FAST, KEY1, "string", "1.0.0", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    spec!("decr", 2, WRITE | DENYOOM | FAST, KEY1, "string", "1.0.0", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    spec!("decrby", 3, WRITE | DENYOOM | FAST, KEY1, "string", "1.0.0", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist."),
    spec!("append", 3, WRITE | DENYOOM | FAST, KEY1, "string", "2.0.0", "Appends a string to the value of a key. Creates the key if it doesn't exist."),
    spec!("strlen", 2, READONLY | FAST, KEY1, "string", "2.2.0", "Returns the length of a string value."),
    spec!("getdel", 2, WRITE | FAST, KEY1, "string", "6.2.0", "Returns the string value of a key after deleting the key."),
    spec!("setnx", 3, WRITE | DENYOOM | FAST, KEY1, "string", "1.0.0", "Set the string value of a key only when the key doesn't exist."),
    spec!("setex", 4, WRITE | DENYOOM, KEY1, "string", "2.0.0", "Sets the string value and expiration time of a key. Creates the key if it doesn't exist."),
    spec!("psetex", 4, WRITE | DENYOOM, KEY1, "string", "2.6.0", "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist."),
    spec!("getset", 3, WRITE | DENYOOM | FAST, KEY1, "string", "1.0.0", "Returns the previous string value of a key after setting it to a new value."),
    spec!("msetnx", -3, WRITE | DENYOOM, (1, -1, 2), "string", "1.0.1", "Atomically modifies the string values of one or more keys only when all keys don't exist."),
    spec!("getex", -2, WRITE | FAST, KEY1, "string", "6.2.0", "Returns the string value of a key after setting its expiration time."),
    spec!("getrange", 4, READONLY, KEY1, "string", "2.4.0", "Returns a substring of the string stored at a key."),
    spec!("substr", 4, READONLY, KEY1, "string", "1.0.0", "Returns a substring from a string value."),
    spec!("setrange", 4, WRITE | DENYOOM, KEY1, "string", "2.2.0", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist."),
    // transactions
    spec!("multi", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, NONE, "transactions", "1.2.0", "Starts a transaction."),
    spec!("exec", 1, NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG, NONE, "transactions", "1.2.0", "Executes all commands in a transaction."),
    spec!("discard", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, NONE, "transactions", "2.0.0", "Discards a transaction."),
    spec!("watch", -2, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, (1, -1, 1), "transactions", "2.2.0", "Monitors changes to keys to determine the execution of a transaction."),
    spec!("unwatch", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, NONE, "transactions", "2.2.0", "Forgets about watched keys of a transaction."),
];

const NONE_FLAGS: u32 = 0;

/// Every family's table: the core's above, then those the pub/sub and stream modules keep beside
/// their handlers.
pub static FAMILIES: &[&[CommandSpec]] =
    &[COMMANDS, super::pubsub::COMMANDS, super::stream::COMMANDS];

/// Every top-level command, in table order.
pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    FAMILIES.iter().flat_map(|family| family.iter())
}

/// The module that parses and runs a command, from its COMMAND DOCS group. Resolved once when
/// the table is built, so that dispatch does not compare group names per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Connection,
    Server,
    Keys,
    Strings,
    Transaction,
    PubSub,
    Stream,
}

impl Family {
    fn of(group: &str) -> Family {
        match group {
            "connection" => Family::Connection,
            "server" => Family::Server,
            "generic" => Family::Keys,
            "string" => Family::Strings,
            "transactions" => Family::Transaction,
            "pubsub" => Family::PubSub,
            "stream" => Family::Stream,
            other => unreachable!("command group {other} has no family module"),
        }
    }
}

/// A command's place in the table and its counters.
#[derive(Debug)]
pub struct Entry {
    pub spec: &'static CommandSpec,
    pub family: Family,
    /// The top-level command's name (`config` for `config|get`), which the family parses.
    pub command_name: &'static str,
    /// Where the entry is in the table (see [`CommandTable::entries`]).
    pub index: usize,
    pub stats: CommandStats,
    subcommands: NameMap,
}

impl Entry {
    fn new(spec: &'static CommandSpec, index: usize) -> Entry {
        Entry {
            spec,
            index,
            // WAIT and WAITAOF are `generic` in Redis's groups but wait on the server's AOF.
            family: match spec.name {
                "wait" | "waitaof" => Family::Server,
                _ => Family::of(spec.group),
            },
            command_name: spec.name.split('|').next().unwrap_or(spec.name),
            stats: CommandStats::default(),
            subcommands: NameMap::default(),
        }
    }
}

/// Name lookup over [`FAMILIES`], built once at start.
#[derive(Debug)]
pub struct CommandTable {
    entries: Vec<Entry>,
    by_name: NameMap,
    /// The names clients call top-level commands by when `rename-command` changed them (and
    /// COMMAND INFO, DOCS and GETKEYS look up, as in Redis); the append-only file's loader
    /// keeps the original names, as Redis's `lookupCommandOrOriginal` does, so a file
    /// written before a rename still loads.
    client_names: Option<NameMap>,
}

/// Command names to table indexes. Looked up once per request, so hashed with FNV-1a rather
/// than SipHash: the names are ours (or the configuration's), not an attacker's keys. Keyed by
/// bytes, as requests name them, so that a lookup needs no UTF-8 check.
type NameMap = HashMap<Box<[u8]>, usize, std::hash::BuildHasherDefault<Fnv1a>>;

#[derive(Default)]
struct Fnv1a(u64);

impl std::hash::Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The last command name a connection looked up, as the client spelled it, and where it
/// led. Only commands without subcommands are kept: their name alone decides the entry.
#[derive(Debug, Default)]
pub struct LastLookup {
    name: [u8; 16],
    len: usize,
    index: usize,
}

/// What looking a request up found.
pub enum Lookup<'t> {
    Found(&'t Entry),
    /// The command name is unknown.
    Unknown,
    /// The container is known but not its subcommand.
    UnknownSubcommand(&'static CommandSpec),
}

impl Default for CommandTable {
    fn default() -> Self {
        let mut entries = Vec::new();
        let mut by_name = NameMap::default();
        for spec in all() {
            let index = entries.len();
            entries.push(Entry::new(spec, index));
            by_name.insert(spec.name.as_bytes().into(), index);
            for sub in spec.subcommands {
                let sub_index = entries.len();
                entries.push(Entry::new(sub, sub_index));
                entries[index]
                    .subcommands
                    .insert(sub.short_name().as_bytes().into(), sub_index);
            }
        }
        CommandTable {
            entries,
            by_name,
            client_names: None,
        }
    }
}

impl CommandTable {
    /// The table with `rename-command` directives applied, in order, to the names clients
    /// use. They were checked while the configuration was read ([`check_renames`]).
    pub fn with_renames(renames: &[(String, String)]) -> CommandTable {
        let mut table = CommandTable::default();
        if !renames.is_empty() {
            table.client_names = renamed(&table.by_name, renames).ok();
        }
        table
    }

    /// Finds the command (or subcommand) named by its original name, ignoring case: the
    /// append-only file's commands.
    pub fn lookup(&self, args: &[bytes::Bytes]) -> Lookup<'_> {
        self.lookup_in(&self.by_name, args, &mut LastLookup::default())
    }

    /// Finds the command a client's request names, by the name clients call it.
    pub fn lookup_client(&self, args: &[bytes::Bytes]) -> Lookup<'_> {
        self.lookup_after(args, &mut LastLookup::default(), false)
    }

    /// Finds the command a session's next request names: by its original name while the
    /// session replays the append-only file, else by the name clients call it. A name spelled
    /// exactly as the last one found (a pipeline of one command) takes one comparison instead
    /// of a hash lookup.
    pub fn lookup_after(
        &self,
        args: &[bytes::Bytes],
        last: &mut LastLookup,
        replaying: bool,
    ) -> Lookup<'_> {
        let names = match &self.client_names {
            Some(renamed) if !replaying => renamed,
            _ => &self.by_name,
        };
        self.lookup_in(names, args, last)
    }

    fn lookup_in(
        &self,
        names: &NameMap,
        args: &[bytes::Bytes],
        last: &mut LastLookup,
    ) -> Lookup<'_> {
        let name = &args[0][..];
        if let Some(entry) = self.last_found(name, last) {
            return Lookup::Found(entry);
        }
        let Some(index) = name_index(names, name) else {
            return Lookup::Unknown;
        };
        let entry = &self.entries[index];
        if entry.spec.subcommands.is_empty() {
            if name.len() <= last.name.len() {
                last.name[..name.len()].copy_from_slice(name);
                last.len = name.len();
                last.index = index;
            }
            return Lookup::Found(entry);
        }
        if args.len() < 2 {
            return Lookup::Found(entry);
        }
        match name_index(&entry.subcommands, &args[1]) {
            Some(sub) => Lookup::Found(&self.entries[sub]),
            None => Lookup::UnknownSubcommand(entry.spec),
        }
    }

    /// The command [`Self::lookup_after`] found last, when `name` is spelled exactly as it was.
    pub fn last_found(&self, name: &[u8], last: &LastLookup) -> Option<&Entry> {
        (last.len > 0 && name == &last.name[..last.len]).then(|| &self.entries[last.index])
    }

    /// Whether clients can still call the top-level command `name` by some name: not when
    /// `rename-command` removed it (an empty new name).
    pub fn is_callable(&self, name: &str) -> bool {
        match &self.client_names {
            None => true,
            Some(names) => name_index(&self.by_name, name.as_bytes())
                .is_some_and(|index| names.values().any(|&i| i == index)),
        }
    }

    /// The top-level command called `name`.
    pub fn command(&self, name: &[u8]) -> Option<&Entry> {
        name_index(&self.by_name, name).map(|i| &self.entries[i])
    }

    /// A command followed by its subcommands (the table keeps them together).
    pub fn with_subcommands(&self, entry: &Entry) -> &[Entry] {
        &self.entries[entry.index..=entry.index + entry.spec.subcommands.len()]
    }

    /// Every command and subcommand, with its counters.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn reset_stats(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        for e in &self.entries {
            e.stats.calls.store(0, Relaxed);
            e.stats.usec.store(0, Relaxed);
            e.stats.rejected_calls.store(0, Relaxed);
            e.stats.failed_calls.store(0, Relaxed);
            e.stats.latency.reset();
        }
    }
}

/// Applies `rename-command` directives to the top-level names, as Redis's loader does: the
/// old name must be a command's current name, and an empty new name removes the command.
fn renamed(names: &NameMap, renames: &[(String, String)]) -> Result<NameMap, &'static str> {
    let mut names = names.clone();
    for (old, new) in renames {
        let index = names
            .remove(old.to_ascii_lowercase().as_bytes())
            .ok_or("No such command in rename-command")?;
        if !new.is_empty() {
            let key: Box<[u8]> = new.to_ascii_lowercase().into_bytes().into();
            if names.insert(key, index).is_some() {
                return Err("Target command name already exists");
            }
        }
    }
    Ok(names)
}

/// Whether `renames` apply, in order, to Herald's commands; Redis's reason if not.
pub fn check_renames(renames: &[(String, String)]) -> Result<(), &'static str> {
    renamed(&CommandTable::default().by_name, renames).map(|_| ())
}

fn name_index(map: &NameMap, name: &[u8]) -> Option<usize> {
    let mut lower = [0u8; 32];
    if name.len() > lower.len() {
        // Only a renamed command has a name this long (`rename-command CONFIG <sha1>`).
        return map.get(&name.to_ascii_lowercase()[..]).copied();
    }
    for (d, s) in lower.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    map.get(&lower[..name.len()]).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn args(words: &[&str]) -> Vec<Bytes> {
        words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    #[test]
    fn lookup_ignores_case_and_finds_subcommands() {
        let table = CommandTable::default();
        assert!(
            matches!(table.lookup(&args(&["GeT", "k"])), Lookup::Found(e) if e.spec.name == "get")
        );
        assert!(
            matches!(table.lookup(&args(&["config", "GET", "x"])), Lookup::Found(e) if e.spec.name == "config|get")
        );
        assert!(
            matches!(table.lookup(&args(&["config", "nope"])), Lookup::UnknownSubcommand(s) if s.name == "config")
        );
        assert!(matches!(table.lookup(&args(&["nope"])), Lookup::Unknown));
    }

    #[test]
    fn a_connection_finds_its_last_command_again_and_nothing_else() {
        let table = CommandTable::default();
        let mut last = LastLookup::default();
        let name = |l: Lookup| match l {
            Lookup::Found(e) => e.spec.name,
            Lookup::Unknown => "?",
            Lookup::UnknownSubcommand(_) => "?sub",
        };
        for _ in 0..2 {
            assert_eq!(
                name(table.lookup_after(&args(&["PUBLISH", "c", "m"]), &mut last, false)),
                "publish"
            );
        }
        assert_eq!(
            name(table.lookup_after(&args(&["publish", "c", "m"]), &mut last, false)),
            "publish"
        );
        assert_eq!(
            name(table.lookup_after(&args(&["PUBLIS", "c", "m"]), &mut last, false)),
            "?"
        );
        assert_eq!(
            name(table.lookup_after(&args(&["PUBLISHX", "c"]), &mut last, false)),
            "?"
        );
        assert_eq!(
            name(table.lookup_after(&args(&["ping"]), &mut last, false)),
            "ping"
        );
        // A container's name alone does not decide the entry, so it is not kept.
        for sub in ["get", "set", "get", "nope"] {
            let found = name(table.lookup_after(&args(&["config", sub, "x"]), &mut last, false));
            let want = match sub {
                "nope" => "?sub",
                "get" => "config|get",
                _ => "config|set",
            };
            assert_eq!(found, want);
        }
        assert_eq!(
            name(table.lookup_after(&args(&["ping"]), &mut last, false)),
            "ping"
        );
        // After a plain command, a container's subcommand is still told apart.
        assert_eq!(
            name(table.lookup_after(&args(&["client", "list"]), &mut last, false)),
            "client|list"
        );
    }

    #[test]
    fn arity_follows_redis_convention() {
        let table = CommandTable::default();
        let get = table.command(b"get").unwrap().spec;
        assert!(get.arity_ok(2) && !get.arity_ok(3));
        let del = table.command(b"del").unwrap().spec;
        assert!(!del.arity_ok(1) && del.arity_ok(5));
    }
}
