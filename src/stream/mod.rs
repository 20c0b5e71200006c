//! Streams: ids, the entry storage, consumer groups, and blocked readers.

pub mod blocking;
pub mod entries;
pub mod group;
pub mod id;
pub mod id_map;
pub mod node;

pub use entries::{EntryRef, NodeLimits, Stored, Stream, Trim, TrimStrategy};
pub use group::{Consumer, Group, PendingEntry};
pub use id::{NewId, StreamId};
pub use id_map::IdMap;
