//! The state every connection shares: settings, keyspace, clients, the command table, counters,
//! MONITOR listeners, persistence, and the shutdown signal.

use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::Notify;

use crate::client::{ClientHandle, Clients};
use crate::command::table::CommandTable;
use crate::config::{Options, Settings};
use crate::keyspace::{now_ms, Keyspace};
use crate::persistence::Persistence;
use crate::pubsub::{Hub, Kind};
use crate::stats::Stats;
use crate::stream::blocking::Blocking;

/// See the module documentation.
#[derive(Debug)]
pub struct ServerState {
    pub settings: Settings,
    pub keyspace: Keyspace,
    pub clients: Clients,
    pub commands: CommandTable,
    pub stats: Stats,
    pub monitors: Monitors,
    pub hub: Hub,
    pub blocking: Blocking,
    pub persistence: Persistence,
    pub started: Instant,
    pub started_ms: u64,
    pub run_id: String,
    /// The port actually bound (differs from the option when it was 0).
    pub port: AtomicU16,
    pub blocked_clients: AtomicUsize,
    pub pubsub_clients: AtomicUsize,
    pub memory: crate::memory::MemoryGauge,
    pub slowlog: crate::slowlog::SlowLog,
    /// The latency monitor's events (LATENCY); the AOF log shares it.
    pub latency: Arc<crate::latency::Monitor>,
    shutdown: Notify,
    shutting_down: AtomicBool,
}

impl ServerState {
    pub fn new(options: Options) -> Arc<ServerState> {
        let databases = options.databases as usize;
        let port = options.port;
        let appendonly = options.appendonly;
        let commands = CommandTable::with_renames(&options.renamed_commands);
        let settings = Settings::new(options);
        let latency = Arc::new(crate::latency::Monitor::new(
            settings.latency_monitor_threshold.clone(),
        ));
        Arc::new(ServerState {
            settings,
            keyspace: Keyspace::new(databases),
            clients: Clients::default(),
            commands,
            stats: Stats::default(),
            monitors: Monitors::default(),
            hub: Hub::default(),
            blocking: Blocking::default(),
            persistence: Persistence::new(appendonly, latency.clone()),
            latency,
            started: Instant::now(),
            started_ms: now_ms(),
            run_id: run_id(),
            port: AtomicU16::new(port),
            blocked_clients: AtomicUsize::new(0),
            pubsub_clients: AtomicUsize::new(0),
            memory: crate::memory::MemoryGauge::default(),
            slowlog: crate::slowlog::SlowLog::default(),
            shutdown: Notify::new(),
            shutting_down: AtomicBool::new(false),
        })
    }

    /// Asks the server to stop (SHUTDOWN); the accept loop and every connection see it.
    pub fn request_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
        self.shutdown.notify_waiters();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    /// What follows a key's removal on expiry, however it was noticed: Redis's
    /// `deleteExpiredKeyAndPropagate` (count it, flag its watchers, wake the group readers
    /// blocked on it, publish `expired`).
    pub fn key_expired(&self, db: usize, key: &[u8]) {
        use std::sync::atomic::Ordering::Relaxed;
        self.stats.expired_keys.fetch_add(1, Relaxed);
        self.keyspace.touch(db, key);
        self.blocking.signal(db, key);
        self.notify_keyspace_event(crate::config::notify::EXPIRED, "expired", db, key);
    }

    /// Announces the keys commands found expired since the last call. Runs before a command's
    /// own keyspace events and after every command, so `expired` comes first, as in Redis.
    pub fn announce_reaped(&self) {
        if !self.keyspace.has_reaped() {
            return;
        }
        for (db, key) in self.keyspace.take_reaped() {
            self.key_expired(db, &key);
        }
    }

    /// Publishes a keyspace notification if its class is enabled (`notify-keyspace-events`).
    pub fn notify_keyspace_event(&self, class: u32, event: &str, db: usize, key: &[u8]) {
        use crate::config::notify::{KEYEVENT, KEYSPACE};
        let flags = self.settings.keyspace_events();
        if flags & class == 0 || flags & (KEYSPACE | KEYEVENT) == 0 {
            return;
        }
        let limit = self.settings.output_limits().pubsub;
        if flags & KEYSPACE != 0 {
            let mut channel = format!("__keyspace@{db}__:").into_bytes();
            channel.extend_from_slice(key);
            self.hub.publish(&channel, &[event.as_bytes()], &limit);
        }
        if flags & KEYEVENT != 0 {
            let channel = format!("__keyevent@{db}__:{event}");
            self.hub.publish(channel.as_bytes(), &[key], &limit);
        }
    }

    /// INFO `used_memory`: the resident set (a reading at most a millisecond old) and the
    /// pub/sub spool's memory files, which are outside it (see [`crate::memory`]).
    pub fn used_memory(&self, now_ms: u64) -> u64 {
        self.memory.rss_at(now_ms) + self.hub.spool.bytes()
    }

    /// Whether used memory is above a `maxmemory` that is set.
    pub fn over_maxmemory(&self, now_ms: u64) -> bool {
        let limit = self.settings.maxmemory.load(Ordering::Relaxed);
        limit != 0 && self.used_memory(now_ms) > limit
    }

    pub fn pubsub_channel_count(&self) -> usize {
        self.hub.count(Kind::Channel)
    }

    pub fn pubsub_pattern_count(&self) -> usize {
        self.hub.count(Kind::Pattern)
    }

    pub fn pubsub_shard_channel_count(&self) -> usize {
        self.hub.count(Kind::ShardChannel)
    }

    /// Resolves once a shutdown has been requested.
    pub async fn shutdown_requested(&self) {
        let notified = self.shutdown.notified();
        if self.is_shutting_down() {
            return;
        }
        notified.await;
    }
}

/// A 40-character hex id for this run, as Redis's `run_id`.
fn run_id() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::with_capacity(40);
    while out.len() < 40 {
        let mut h = RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(40);
    out
}

/// Clients in MONITOR mode.
#[derive(Debug, Default)]
pub struct Monitors {
    count: AtomicUsize,
    clients: RwLock<Vec<Arc<ClientHandle>>>,
}

impl Monitors {
    pub fn is_empty(&self) -> bool {
        self.count.load(Ordering::Relaxed) == 0
    }

    pub fn add(&self, client: Arc<ClientHandle>) {
        if let Ok(mut c) = self.clients.write() {
            c.push(client);
            self.count.store(c.len(), Ordering::Relaxed);
        }
    }

    pub fn remove(&self, client: &ClientHandle) {
        if let Ok(mut c) = self.clients.write() {
            c.retain(|m| m.id != client.id);
            self.count.store(c.len(), Ordering::Relaxed);
        }
    }

    /// Sends one line to every monitor; one over its output limit is disconnected.
    pub fn feed(&self, line: Bytes, limit: &crate::config::OutputLimit) {
        if let Ok(c) = self.clients.read() {
            for monitor in c.iter() {
                monitor.deliver(line.clone().into(), limit);
            }
        }
    }
}

/// Formats a MONITOR line as Redis does: `+<secs>.<micros> [<db> <addr>] "arg" ...`.
pub fn monitor_line(now_us: u128, db: usize, addr: &str, args: &[Bytes]) -> Bytes {
    let mut line = format!(
        "+{}.{:06} [{} {}]",
        now_us / 1_000_000,
        now_us % 1_000_000,
        db,
        addr
    )
    .into_bytes();
    for arg in args {
        line.push(b' ');
        repr_into(&mut line, arg);
    }
    line.extend_from_slice(b"\r\n");
    Bytes::from(line)
}

/// Quotes bytes as Redis's `sdscatrepr`.
pub fn repr_into(out: &mut Vec<u8>, arg: &[u8]) {
    out.push(b'"');
    for &c in arg {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            c if (0x20..0x7f).contains(&c) => out.push(c),
            c => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_lines_quote_like_redis() {
        let args = [Bytes::from_static(b"set"), Bytes::from_static(b"k\n\"\x01")];
        let line = monitor_line(1_700_000_000_000_042, 0, "127.0.0.1:5000", &args);
        assert_eq!(
            &line[..],
            &b"+1700000000.000042 [0 127.0.0.1:5000] \"set\" \"k\\n\\\"\\x01\"\r\n"[..]
        );
    }
}
