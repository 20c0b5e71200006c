//! Herald: a Redis-protocol-compatible message server (pub/sub and streams with consumer groups).
//!
//! # Layout
//! - [`server`]: accept loop, background cycle, shutdown.
//! - [`connection`]: one client's read → run → write loop, pipelining and pushed frames.
//! - [`protocol`]: request decoding (RESP multibulk and inline) and reply encoding (RESP2/RESP3).
//! - [`command`]: the command table and one module per command family.
//! - [`session`]: per-connection state; [`client`]: the shared view of a client;
//!   [`socket`]: its TCP or Unix socket.
//! - [`keyspace`]: databases, values, expiry, WATCH bookkeeping.
//! - [`outbox`]: bounded queue of frames pushed to a client; [`spool`]: large frames kept in
//!   memory files that sockets are fed from without a copy.
//! - [`persistence`]: the append-only file: resolved effects, the writer (fsync policies,
//!   group commit), replay at start, rewrite.
//! - [`stream`]: stream ids, entry storage in nodes, consumer groups, blocked readers.
//! - [`pubsub`]: the hub of channels, patterns and shard channels; message frames.
//! - [`memory`]: used memory as INFO reports it and `maxmemory` limits it; [`slowlog`]: SLOWLOG.
//! - [`config`], [`state`], [`stats`], [`error`], [`glob`], [`number`].

pub mod client;
pub mod command;
pub mod config;
pub mod connection;
pub mod error;
pub mod glob;
pub mod keyspace;
pub mod latency;
pub mod listen;
pub mod long_double;
pub mod memory;
pub mod number;
pub mod object;
pub mod outbox;
pub mod persistence;
pub mod protocol;
pub mod pubsub;
pub mod scan;
pub mod server;
pub mod session;
pub mod slowlog;
pub mod socket;
pub mod spool;
pub mod state;
pub mod stats;
pub mod stream;
pub mod supervision;
