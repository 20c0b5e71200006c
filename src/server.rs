//! The accept loop: admits clients up to `maxclients`, serves each on its own task, runs the
//! periodic background work (active expiry, stats sampling), and stops on a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, UnixListener};

use crate::client::Peer;
use crate::config::Options;
use crate::connection::Connection;
use crate::keyspace::now_ms;
use crate::persistence::{Persistence, PersistenceError};
use crate::socket::ClientSocket;
use crate::state::ServerState;
use crate::supervision::Supervisor;

/// A bound server, ready to run.
pub struct Server {
    state: Arc<ServerState>,
    listeners: Vec<TcpListener>,
    unix: Option<UnixSocket>,
}

/// The listening Unix socket of `unixsocket`, and its path as configured (which CLIENT LIST
/// shows as each of its clients' address).
struct UnixSocket {
    listener: UnixListener,
    configured: String,
    /// Where the file is (`dir` applies to a relative path): removed at shutdown.
    path: PathBuf,
}

impl UnixSocket {
    /// The socket of `unixsocket`, if one is configured (see [`crate::listen::listen_unix`]).
    fn open(options: &Options, backlog: u32) -> std::io::Result<Option<UnixSocket>> {
        let configured = options.directive("unixsocket");
        if configured.is_empty() {
            return Ok(None);
        }
        let perm = u32::from_str_radix(options.directive("unixsocketperm"), 8).unwrap_or(0);
        let path = options.dir.join(configured);
        let listener = crate::listen::listen_unix(&path, perm, backlog).map_err(|e| {
            std::io::Error::new(e.kind(), format!("Failed opening Unix socket: {e}"))
        })?;
        Ok(Some(UnixSocket {
            listener,
            configured: configured.to_owned(),
            path,
        }))
    }
}

impl Server {
    /// Listens on every `bind` address at `port` (see [`crate::listen`]; port 0 picks a free
    /// port, shared by all addresses). Clients are accepted once `run` starts, which loads the
    /// append-only file if `appendonly` is on; the server counts as loading from here.
    ///
    /// With `unixsocket` set, its socket is opened too, and `port 0` means no TCP at all, as in
    /// Redis (without a Unix socket Redis would refuse to start, and Herald picks a port).
    pub async fn bind(options: Options) -> std::io::Result<Server> {
        let backlog = options.directive("tcp-backlog").parse().unwrap_or(511);
        // TCP first, as Redis opens them: a port in use stops the start before the socket
        // file is touched.
        let listeners = if options.port == 0 && !options.directive("unixsocket").is_empty() {
            Vec::new()
        } else {
            crate::listen::listen(&options.bind, options.port, backlog).await?
        };
        let unix = UnixSocket::open(&options, backlog)?;
        let port = match listeners.first() {
            Some(listener) => listener.local_addr()?.port(),
            None => 0,
        };
        let state = ServerState::new(options);
        state.port.store(port, Relaxed);
        let maxmemory = state.settings.maxmemory.load(Relaxed);
        if maxmemory != 0 && maxmemory < 1024 * 1024 {
            tracing::warn!("WARNING: You specified a maxmemory value that is less than 1MB (current value is {maxmemory} bytes). Are you sure this is what you really want?");
        }
        state.persistence.begin_loading(&state.settings.aof_path());
        Ok(Server {
            state,
            listeners,
            unix,
        })
    }

    /// The first TCP address served; none when only the Unix socket is.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listeners.first().and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> Arc<ServerState> {
        self.state.clone()
    }

    /// Serves until `shutdown` resolves or a client runs SHUTDOWN, then closes every connection.
    ///
    /// With the AOF on, clients are accepted while the file is replayed, as Redis accepts them
    /// during loading: INFO, CLIENT, CONFIG, SUBSCRIBE and the other commands Redis flags
    /// `loading` answer, the rest `-LOADING` (see `command::process`). A file that cannot be
    /// loaded ends the server with the error, the file untouched.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), PersistenceError> {
        let state = self.state;
        let supervisor = Supervisor::of(&state.settings.options);
        let addr = self.listeners.first().and_then(|l| l.local_addr().ok());
        let mut accepts = Vec::new();
        for listener in self.listeners {
            accepts.push(tokio::spawn(accept_loop(
                state.clone(),
                Listener::Tcp(listener),
            )));
        }
        let unix_path = self.unix.as_ref().map(|u| u.path.clone());
        if let Some(unix) = self.unix {
            let listener = Listener::Unix(unix.listener, Arc::from(unix.configured));
            accepts.push(tokio::spawn(accept_loop(state.clone(), listener)));
        }
        tokio::pin!(shutdown);
        let loaded = if state.persistence.is_enabled() {
            load(&state, shutdown.as_mut()).await
        } else {
            Ok(())
        };
        let mut background = None;
        // A shutdown asked for while the file loaded ends the run even when the load got to
        // its end meanwhile: `shutdown` has resolved then and must not be polled again.
        if loaded.is_ok() && !state.is_shutting_down() {
            if let Some(addr) = addr {
                tracing::info!(
                    "Herald {} (Redis {} compatible) ready to accept connections on {addr} (pid {})",
                    env!("CARGO_PKG_VERSION"),
                    crate::command::connection::REDIS_VERSION,
                    std::process::id()
                );
            }
            if let Some(path) = &unix_path {
                tracing::info!(
                    "The server is now ready to accept connections at {}",
                    path.display()
                );
            }
            crate::supervision::ready(supervisor);
            background = Some(tokio::spawn(background_work(state.clone())));
            tokio::select! {
                _ = &mut shutdown => {}
                _ = state.shutdown_requested() => {}
            }
        }
        state.request_shutdown();
        crate::supervision::stopping(supervisor);
        for task in accepts {
            task.abort();
        }
        if let Some(background) = background {
            background.abort();
        }
        // Give connections a moment to see the signal and close their sockets.
        for _ in 0..100 {
            if state.clients.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(path) = unix_path {
            tracing::info!("Removing the unix socket file.");
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!(
                    "Error removing the unix socket file: {}",
                    crate::config::os_reason(&e)
                );
            }
        }
        // Whatever was appended reaches the disk before we say goodbye.
        let flushing = state.clone();
        let _ = tokio::task::spawn_blocking(move || flushing.persistence.shutdown()).await;
        tracing::info!("Herald is now ready to exit, bye bye...");
        match loaded {
            // Asked to stop before the file was loaded: a shutdown like any other.
            Err(PersistenceError::Interrupted { .. }) => Ok(()),
            other => other,
        }
    }
}

/// Replays the AOF while clients are served, on a thread of its own, not the runtime's: the
/// replay is long CPU work, and it stops by itself (every `loader::PROGRESS_EVERY` commands)
/// once a shutdown is asked for, which `shutdown` resolving does.
async fn load(
    state: &Arc<ServerState>,
    shutdown: std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Result<(), PersistenceError> {
    let loader = state.clone();
    let mut loading = tokio::task::spawn_blocking(move || Persistence::start(&loader));
    let loaded = tokio::select! {
        loaded = &mut loading => Some(loaded),
        _ = shutdown => None,
        _ = state.shutdown_requested() => None,
    };
    let loaded = match loaded {
        Some(loaded) => loaded,
        None => {
            state.request_shutdown();
            loading.await
        }
    };
    loaded.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// A listening socket: TCP, or the Unix socket with its path as configured.
enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, Arc<str>),
}

/// An accepted client, before it is admitted.
struct Accepted {
    socket: ClientSocket,
    peer: Peer,
    /// Served in protected mode: a loopback address or the Unix socket.
    local: bool,
}

impl Listener {
    async fn accept(&self) -> std::io::Result<Accepted> {
        use std::os::fd::AsRawFd;
        match self {
            Listener::Tcp(listener) => {
                let (stream, from) = listener.accept().await?;
                let peer = Peer {
                    addr: from.to_string(),
                    laddr: stream
                        .local_addr()
                        .map(|a| a.to_string())
                        .unwrap_or_default(),
                    fd: stream.as_raw_fd(),
                    unix_socket: false,
                };
                Ok(Accepted {
                    socket: ClientSocket::Tcp(stream),
                    peer,
                    local: is_loopback_client(from.ip()),
                })
            }
            Listener::Unix(listener, path) => {
                let (stream, _) = listener.accept().await?;
                // Redis shows the socket's path for both ends (`genClientAddrString`).
                let addr = format!("{path}:0");
                let peer = Peer {
                    laddr: addr.clone(),
                    addr,
                    fd: stream.as_raw_fd(),
                    unix_socket: true,
                };
                // Local, as in Redis (`connIsLocal`).
                Ok(Accepted {
                    socket: ClientSocket::Unix(stream),
                    peer,
                    local: true,
                })
            }
        }
    }
}

async fn accept_loop(state: Arc<ServerState>, listener: Listener) {
    let mut backoff = Duration::from_millis(1);
    loop {
        match listener.accept().await {
            Ok(accepted) => {
                backoff = Duration::from_millis(1);
                admit(&state, accepted).await;
            }
            Err(e) => {
                // Out of file descriptors and the like: wait and retry rather than spin.
                tracing::warn!("Accepting client connection: {e}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

async fn admit(state: &Arc<ServerState>, accepted: Accepted) {
    let Accepted {
        mut socket,
        peer,
        local,
    } = accepted;
    if let Some(error) = refused(state, local) {
        // As Redis: counted as rejected, not as received, and closed after the error.
        state.stats.rejected_connections.fetch_add(1, Relaxed);
        let _ = socket.write_all(error).await;
        return;
    }
    state.stats.total_connections_received.fetch_add(1, Relaxed);
    if let ClientSocket::Tcp(stream) = &socket {
        let _ = stream.set_nodelay(true);
        let keepalive = state
            .settings
            .directive("tcp-keepalive")
            .parse()
            .unwrap_or(0);
        let _ = crate::listen::keepalive(stream, keepalive);
    }
    let handle = state.clients.register(peer, now_ms());
    let connection = Connection::new(state.clone(), socket, handle);
    tokio::spawn(connection.run());
}

/// Redis's text for a client refused by protected mode.
const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// The error a new connection gets instead of being served, in Redis's order: `maxclients`
/// first, then protected mode (`clientAcceptHandler`).
fn refused(state: &ServerState, local: bool) -> Option<&'static [u8]> {
    let settings = &state.settings;
    if state.clients.len() as u64 >= settings.maxclients.load(Relaxed) {
        return Some(b"-ERR max number of clients reached\r\n");
    }
    let protected = settings.protected_mode.load(Relaxed) && settings.requirepass().is_none();
    (protected && !local).then_some(PROTECTED_MODE_DENIED)
}

/// Whether protected mode serves a client from `peer`: Redis 7.2+ compares the address as text
/// with `127.` and `::1` (7.0 took `127.0.0.1` only), so an IPv4 address mapped into IPv6 is
/// not local.
fn is_loopback_client(peer: std::net::IpAddr) -> bool {
    match peer {
        std::net::IpAddr::V4(v4) => v4.octets()[0] == 127,
        std::net::IpAddr::V6(v6) => v6 == std::net::Ipv6Addr::LOCALHOST,
    }
}

/// Keys the expiry cycle removes from a database between two looks at the clock.
const EXPIRE_BATCH: usize = 1000;
/// The share of each cron period the expiry cycle may take while keys keep falling due, in
/// percent: Redis's `ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC`.
const EXPIRE_CYCLE_PERCENT: u32 = 25;

/// Removes up to [`EXPIRE_BATCH`] keys of `db` whose time has come; returns them.
///
/// With the AOF on, each removal is logged as `DEL` (as Redis propagates expiries), under the
/// key's log-order lock and the shared gate like any write: locked in that order, the order
/// every command uses (see `persistence::keylock`).
fn expire_db(state: &ServerState, db: usize, now: u64) -> Vec<bytes::Bytes> {
    let keyspace = &state.keyspace;
    let persistence = &state.persistence;
    if !persistence.is_active() {
        let _shared = keyspace.shared();
        return keyspace.db(db).expire_due(now, EXPIRE_BATCH);
    }
    let due = keyspace.db(db).take_due(now, EXPIRE_BATCH);
    due.into_iter()
        .filter(|key| {
            let _ordered = persistence.keys.lock(db, [&key[..]]);
            let _shared = keyspace.shared();
            // The keyspace logs the DEL itself (see `Keyspace::log_expiries_to`).
            keyspace.db(db).expire_if_due(key, now)
        })
        .collect()
}

/// Redis's `serverCron`, reduced to what Herald needs: active expiry, ops/sec sampling, the
/// automatic AOF rewrite, and letting go of a pub/sub spool file nothing refers to.
async fn background_work(state: Arc<ServerState>) {
    loop {
        let hz = state.settings.hz.load(Relaxed).clamp(1, 500);
        tokio::time::sleep(Duration::from_millis(1000 / hz)).await;
        let now = now_ms();
        state.stats.sample(now);
        // Keys found expired outside a command (a blocked reader's check) are announced here.
        state.announce_reaped();
        let started = std::time::Instant::now();
        let budget = Duration::from_millis(1000 / hz) * EXPIRE_CYCLE_PERCENT / 100;
        // Batch after batch while keys keep falling due, for a quarter of the period at most,
        // as Redis's cycle runs on while it finds expired keys: a fixed 1000 keys a cycle
        // expired 10,000 keys a second, so keys set with a TTL faster than that piled up.
        loop {
            let mut more = false;
            for db in 0..state.keyspace.databases() {
                let expired = expire_db(&state, db, now);
                more |= expired.len() == EXPIRE_BATCH;
                for key in expired {
                    state.key_expired(db, &key);
                }
            }
            if !more || started.elapsed() >= budget {
                break;
            }
            // Other connections on this worker thread run between batches.
            tokio::task::yield_now().await;
        }
        state.latency.observe("expire-cycle", started.elapsed());
        crate::persistence::rewrite::maybe_start_automatic(&state);
        state.hub.spool.release_idle();
        crate::memory::let_allocator_purge();
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback_client;

    #[test]
    fn protected_mode_serves_what_redis_7_4_takes_for_loopback() {
        for local in ["127.0.0.1", "127.0.0.2", "127.255.255.254", "::1"] {
            assert!(is_loopback_client(local.parse().unwrap()), "{local}");
        }
        for remote in [
            "10.0.0.1",
            "192.168.1.2",
            "0.0.0.0",
            "::ffff:127.0.0.1",
            "fe80::1",
            "::",
        ] {
            assert!(!is_loopback_client(remote.parse().unwrap()), "{remote}");
        }
    }
}
