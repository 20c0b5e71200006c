//! The accept loop: admits clients up to `maxclients`, serves each on its own task, runs the
//! periodic background work (active expiry, stats sampling), and stops on a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::config::Options;
use crate::connection::Connection;
use crate::keyspace::now_ms;
use crate::persistence::{Persistence, PersistenceError};
use crate::state::ServerState;

/// A bound server, ready to run.
pub struct Server {
    state: Arc<ServerState>,
    listeners: Vec<TcpListener>,
}

impl Server {
    /// Binds every `--bind` address on `--port` (port 0 picks a free port, shared by all
    /// addresses). Clients are accepted once `run` starts, which loads the append-only file
    /// if `appendonly` is on; the server counts as loading from here.
    pub async fn bind(options: Options) -> std::io::Result<Server> {
        let mut listeners = Vec::new();
        let mut port = options.port;
        for address in &options.bind {
            let address = address.trim_start_matches('-');
            let listener = TcpListener::bind((address, port)).await?;
            port = listener.local_addr()?.port();
            listeners.push(listener);
        }
        let state = ServerState::new(options);
        state.port.store(port, Relaxed);
        state.persistence.begin_loading(&state.settings.aof_path());
        Ok(Server { state, listeners })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listeners[0]
            .local_addr()
            .expect("a bound listener has an address")
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
        let addr = self.listeners[0].local_addr().ok();
        let mut accepts = Vec::new();
        for listener in self.listeners {
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
            tracing::info!(
                "Herald {} (Redis {} compatible) ready to accept connections on {} (pid {})",
                env!("CARGO_PKG_VERSION"),
                crate::command::connection::REDIS_VERSION,
                addr.map_or_else(String::new, |a| a.to_string()),
                std::process::id()
            );
            background = Some(tokio::spawn(background_work(state.clone())));
            tokio::select! {
                _ = &mut shutdown => {}
                _ = state.shutdown_requested() => {}
            }
        }
        state.request_shutdown();
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

async fn accept_loop(state: Arc<ServerState>, listener: TcpListener) {
    let mut backoff = Duration::from_millis(1);
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                backoff = Duration::from_millis(1);
                admit(&state, stream, peer).await;
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

async fn admit(state: &Arc<ServerState>, mut stream: TcpStream, peer: SocketAddr) {
    state.stats.total_connections_received.fetch_add(1, Relaxed);
    if state.clients.len() as u64 >= state.settings.maxclients.load(Relaxed) {
        state.stats.rejected_connections.fetch_add(1, Relaxed);
        let _ = stream
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        return;
    }
    let _ = stream.set_nodelay(true);
    let local = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let fd = {
        use std::os::fd::AsRawFd;
        stream.as_raw_fd()
    };
    let handle = state
        .clients
        .register(peer.to_string(), local, fd, now_ms());
    let connection = Connection::new(state.clone(), stream, handle);
    tokio::spawn(connection.run());
}

/// Removes the keys of `db` whose time has come (at most 1000 per cycle); returns them.
///
/// With the AOF on, each removal is logged as `DEL` (as Redis propagates expiries), under the
/// key's log-order lock and the shared gate like any write: locked in that order, the order
/// every command uses (see `persistence::keylock`).
fn expire_db(state: &ServerState, db: usize, now: u64) -> Vec<bytes::Bytes> {
    let keyspace = &state.keyspace;
    let persistence = &state.persistence;
    if !persistence.is_active() {
        let _shared = keyspace.shared();
        return keyspace.db(db).expire_due(now, 1000);
    }
    let due = keyspace.db(db).take_due(now, 1000);
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
        for db in 0..state.keyspace.databases() {
            let expired = expire_db(&state, db, now);
            for key in expired {
                state.key_expired(db, &key);
            }
        }
        crate::persistence::rewrite::maybe_start_automatic(&state);
        state.hub.spool.release_idle();
    }
}
