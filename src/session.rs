//! What one connection remembers between its commands: database, protocol, authentication,
//! transaction, watched keys and reply mode. Owned by the connection task; nothing else touches it.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use crate::client::ClientHandle;
use crate::keyspace::{DirtyFlag, Keyspace};
use crate::protocol::Protocol;
use crate::pubsub::{PublishRun, Subscriptions};

/// A stream read waiting for data (XREAD / XREADGROUP with BLOCK): the keys it waits on and
/// the request to run again when one of them changes, with `$` already resolved.
#[derive(Debug, Clone)]
pub struct BlockedRead {
    pub db: usize,
    pub keys: Vec<Bytes>,
    /// `None`: BLOCK 0, wait for ever.
    pub timeout: Option<std::time::Duration>,
    pub args: Vec<Bytes>,
}

/// A WAIT or WAITAOF that waits: for this client's writes to be fsynced (`local`), for
/// acknowledgements from replicas Herald never has (`replicas` > 0: until the timeout).
#[derive(Debug)]
pub struct WaitFor {
    /// WAITAOF (answers `[local, replicas]`) rather than WAIT (answers the replica count).
    pub aof: bool,
    pub local: bool,
    pub replicas: i64,
    /// The AOF sequence number that must be fsynced.
    pub seq: u64,
    /// `None`: timeout 0, wait for ever.
    pub timeout: Option<std::time::Duration>,
}

/// A transaction being queued between MULTI and EXEC.
#[derive(Debug, Default)]
pub struct Multi {
    pub queued: Vec<Vec<Bytes>>,
    /// A queued command was refused; EXEC will answer EXECABORT.
    pub aborted: bool,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Session {
    pub handle: Arc<ClientHandle>,
    pub db: usize,
    pub protocol: Protocol,
    pub authenticated: bool,
    pub multi: Option<Multi>,
    /// Watched keys by database; a set, so that WATCH of many keys does not check each against
    /// all the others (a WATCH of 50k keys took 1.5 s as a list).
    pub watched: HashSet<(usize, Bytes)>,
    pub dirty: DirtyFlag,
    /// CLIENT REPLY OFF.
    pub reply_off: bool,
    /// Suppress the reply of the command being run (CLIENT REPLY SKIP took effect).
    pub reply_skip: bool,
    /// CLIENT REPLY SKIP was just run: skip the next command's reply.
    pub reply_skip_next: bool,
    /// Close once the pending replies are written (QUIT, protocol errors).
    pub close_after_reply: bool,
    pub monitor: bool,
    /// Channels, patterns and shard channels this client subscribes to.
    pub pubsub: Subscriptions,
    /// PUBLISHes of this batch not yet delivered (see `pubsub::PublishRun`).
    pub publish_run: Option<PublishRun>,
    /// The arguments of the command running, as the slow log would keep them.
    pub sent: crate::slowlog::Captured,
    /// Set by a stream read that must wait; the connection takes it after the command.
    pub blocked: Option<BlockedRead>,
    /// A command of this batch woke blocked readers: its replies wait until they have run
    /// their reads again (see `connection::wait_served`). Atomic because commands set it
    /// through a shared `Ctx`.
    pub woke_readers: std::sync::atomic::AtomicBool,
    /// Set by a WAIT or WAITAOF that must wait; the connection takes it after the command.
    pub waiting: Option<WaitFor>,
    /// The AOF sequence number of this client's last write (Redis's `woff`), for WAITAOF.
    pub last_write: u64,
    /// Effects of the commands EXEC is running, appended to the AOF as one unit when it ends:
    /// (database, command).
    pub exec_effects: Vec<(usize, Vec<Bytes>)>,
    /// The command and time last written to the handle's `cmd=` and `idle=`, so that a
    /// pipeline of one command takes the handle's lock once per millisecond, not per request.
    pub reported: (&'static str, u64),
    /// This connection's last command lookup (see `CommandTable::lookup_after`).
    pub last_lookup: crate::command::table::LastLookup,
    /// The AOF loader's session: runs while the server is loading, and its commands are
    /// replay, not traffic (no INFO stats, no MONITOR lines).
    pub replaying: bool,
    /// Calls of a fast command not yet charged to INFO commandstats (see `command::timing`).
    pub tally: crate::command::timing::Tally,
    /// The blocked command not yet charged, with the time its runs took so far (see
    /// `command::timing::PendingCall`).
    pub pending_call: Option<crate::command::timing::PendingCall>,
    /// CLIENT NO-TOUCH ON: this client's commands, TOUCH aside, leave keys' access times.
    pub no_touch: bool,
}

impl Session {
    /// A blocked read or a WAIT/WAITAOF holds this client's further input.
    pub fn is_blocked(&self) -> bool {
        self.blocked.is_some() || self.waiting.is_some()
    }

    pub fn new(handle: Arc<ClientHandle>, authenticated: bool) -> Session {
        Session {
            handle,
            db: 0,
            protocol: Protocol::Resp2,
            authenticated,
            multi: None,
            watched: HashSet::new(),
            dirty: DirtyFlag::default(),
            reply_off: false,
            reply_skip: false,
            reply_skip_next: false,
            close_after_reply: false,
            monitor: false,
            pubsub: Subscriptions::default(),
            publish_run: None,
            sent: Default::default(),
            blocked: None,
            woke_readers: Default::default(),
            waiting: None,
            last_write: 0,
            exec_effects: Vec::new(),
            reported: ("", 0),
            last_lookup: Default::default(),
            replaying: false,
            tally: Default::default(),
            pending_call: None,
            no_touch: false,
        }
    }

    /// Whether RESP2's subscribed-mode restrictions apply.
    pub fn in_resp2_subscribed_mode(&self) -> bool {
        self.pubsub.total() > 0 && self.protocol == Protocol::Resp2
    }

    /// Drops every watched key (UNWATCH, EXEC, DISCARD, RESET, disconnect).
    pub fn unwatch_all(&mut self, keyspace: &Keyspace) {
        for (db, key) in self.watched.drain() {
            keyspace.unwatch(db, &key, &self.dirty);
        }
        self.dirty.store(false, Ordering::Relaxed);
    }

    /// Whether a watched key changed since WATCH.
    pub fn watch_broken(&self) -> bool {
        self.dirty.load(Ordering::Relaxed)
    }
}
