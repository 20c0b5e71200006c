//! Connected clients as the rest of the server sees them: identity, the facts CLIENT LIST and
//! INFO report, and the means to push frames to a client or kill it.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use dashmap::DashMap;
use tokio::sync::Notify;

use crate::config::OutputLimit;
use crate::outbox::{Frame, Outbox, Pushed};
use crate::protocol::Protocol;

/// A client's id, unique for the life of the server (CLIENT ID), starting at 1 as in Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub u64);

/// What CLIENT LIST and INFO show about a client, updated by its connection.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub name: Bytes,
    pub lib_name: Bytes,
    pub lib_ver: Bytes,
    pub db: usize,
    pub protocol: Protocol,
    pub last_command: &'static str,
    pub last_interaction_ms: u64,
    pub channels: usize,
    pub patterns: usize,
    pub shard_channels: usize,
    /// Commands queued in MULTI, or -1 outside a transaction.
    pub multi: i64,
    pub watched_keys: usize,
    pub monitor: bool,
    pub blocked: bool,
    pub no_evict: bool,
    pub no_touch: bool,
}

/// How CLIENT UNBLOCK ends a blocked command: as if it timed out, or with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unblock {
    Timeout = 1,
    Error = 2,
}

const NO_UNBLOCK: u8 = 0;

/// Where a client connected from, as CLIENT LIST shows it.
#[derive(Debug, Clone, Default)]
pub struct Peer {
    /// `ip:port`, or for a Unix socket client `<unixsocket>:0` (Redis's spelling).
    pub addr: String,
    pub laddr: String,
    /// The socket's file descriptor.
    pub fd: i32,
    /// Connected through `unixsocket` (the `U` flag).
    pub unix_socket: bool,
}

/// The shared half of a client; its connection task owns the socket and the rest.
#[derive(Debug)]
pub struct ClientHandle {
    pub id: ClientId,
    pub addr: String,
    pub laddr: String,
    /// The socket's file descriptor, as CLIENT LIST shows it.
    pub fd: i32,
    pub unix_socket: bool,
    pub created_ms: u64,
    pub meta: Mutex<ClientMeta>,
    pub outbox: Outbox,
    /// Wakes the connection task: a frame was pushed, or the client was killed.
    pub wake: Notify,
    killed: AtomicBool,
    /// A CLIENT UNBLOCK waiting to be seen by the blocked command ([`Unblock`] as a number).
    unblock: AtomicU8,
    /// The connection's protocol, readable without the meta lock: PUBLISH checks it for every
    /// receiver to pick the frame encoding.
    resp3: AtomicBool,
}

impl ClientHandle {
    /// Pushes a frame; a client over its output limit is killed instead. Returns whether queued.
    pub fn deliver(&self, frame: Frame, limit: &OutputLimit) -> bool {
        match self.outbox.push(frame, limit) {
            Pushed::Queued { was_empty } => {
                if was_empty {
                    self.wake.notify_one();
                }
                true
            }
            Pushed::OverLimit => {
                if !self.killed.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        "Client id={} addr={} closed for overcoming of output buffer limits.",
                        self.id.0,
                        self.addr
                    );
                }
                self.wake.notify_one();
                false
            }
        }
    }

    pub fn is_resp3(&self) -> bool {
        self.resp3.load(Ordering::Relaxed)
    }

    /// Records the protocol the connection now speaks (HELLO, RESET).
    pub fn set_protocol(&self, protocol: crate::protocol::Protocol) {
        self.resp3.store(
            protocol == crate::protocol::Protocol::Resp3,
            Ordering::Relaxed,
        );
        self.update(|m| m.protocol = protocol);
    }

    /// Asks the connection to close (CLIENT KILL, SHUTDOWN).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// Asks the client's blocked command to end now (CLIENT UNBLOCK).
    pub fn unblock(&self, how: Unblock) {
        self.unblock.store(how as u8, Ordering::Release);
        self.wake.notify_one();
    }

    /// The CLIENT UNBLOCK asked for, if any, consuming it.
    pub fn take_unblock(&self) -> Option<Unblock> {
        match self.unblock.swap(NO_UNBLOCK, Ordering::AcqRel) {
            x if x == Unblock::Timeout as u8 => Some(Unblock::Timeout),
            x if x == Unblock::Error as u8 => Some(Unblock::Error),
            _ => None,
        }
    }

    /// Forgets a CLIENT UNBLOCK that arrived as the previous blocked command was answered
    /// anyway: it must not end the next one. Called before the client is shown as blocked.
    pub fn forget_unblock(&self) {
        self.unblock.store(NO_UNBLOCK, Ordering::Release);
    }

    /// Whether the kill came from the output limit rather than a command.
    pub fn over_output_limit(&self) -> bool {
        self.outbox.is_closed()
    }

    pub fn meta(&self) -> ClientMeta {
        self.meta.lock().map(|m| m.clone()).unwrap_or_default()
    }

    pub fn update(&self, f: impl FnOnce(&mut ClientMeta)) {
        if let Ok(mut m) = self.meta.lock() {
            f(&mut m);
        }
    }
}

/// Every connected client, by id.
#[derive(Debug, Default)]
pub struct Clients {
    next_id: AtomicU64,
    by_id: DashMap<ClientId, Arc<ClientHandle>>,
}

impl Clients {
    pub fn register(&self, peer: Peer, now_ms: u64) -> Arc<ClientHandle> {
        let handle = self.unlisted(peer, now_ms);
        self.by_id.insert(handle.id, handle.clone());
        handle
    }

    /// A client with the next id that CLIENT LIST, INFO and CLIENT KILL never see: the AOF
    /// loader's, as Redis's fake AOF client takes an id but no place in the client list.
    pub fn unlisted(&self, peer: Peer, now_ms: u64) -> Arc<ClientHandle> {
        let id = ClientId(self.next_id.fetch_add(1, Ordering::Relaxed) + 1);
        let Peer {
            addr,
            laddr,
            fd,
            unix_socket,
        } = peer;
        Arc::new(ClientHandle {
            id,
            addr,
            laddr,
            fd,
            unix_socket,
            created_ms: now_ms,
            meta: Mutex::new(ClientMeta {
                multi: -1,
                last_interaction_ms: now_ms,
                ..ClientMeta::default()
            }),
            outbox: Outbox::default(),
            wake: Notify::new(),
            killed: AtomicBool::new(false),
            unblock: AtomicU8::new(NO_UNBLOCK),
            resp3: AtomicBool::new(false),
        })
    }

    pub fn unregister(&self, id: ClientId) {
        self.by_id.remove(&id);
    }

    pub fn get(&self, id: ClientId) -> Option<Arc<ClientHandle>> {
        self.by_id.get(&id).map(|c| c.clone())
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Every client, ordered by id as CLIENT LIST orders them.
    pub fn all(&self) -> Vec<Arc<ClientHandle>> {
        let mut all: Vec<_> = self.by_id.iter().map(|c| c.value().clone()).collect();
        all.sort_by_key(|c| c.id);
        all
    }
}
