//! Pub/sub: the hub that maps channels, patterns and shard channels to their subscribers, the
//! per-client record of what it subscribed to, and the message frames PUBLISH fans out.
//!
//! A message travels once through encoding: PUBLISH builds the `message` (or `pmessage`,
//! `smessage`) frame at most once per protocol version, as a shared `Bytes`, and hands a
//! reference-counted clone to each subscriber's outbox. Subscribers' connection tasks write it;
//! the publisher never touches a subscriber's socket and never waits for one. A run of pipelined
//! PUBLISHes to one channel travels as one buffer of frames ([`PublishRun`]). A large frame for
//! many subscribers is also copied once into the spool, and their sockets are fed from its
//! pages rather than each from a copy of its own ([`crate::spool`]).

mod frame;
mod hub;
mod publishers;
mod run;
mod subscriptions;

pub use frame::MessageFrames;
pub use hub::{Hub, Kind};
pub use publishers::Publishers;
pub use run::PublishRun;
pub use subscriptions::Subscriptions;
