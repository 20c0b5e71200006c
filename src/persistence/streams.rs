//! Streams as commands: the resolved effects stream commands record, and a whole stream as
//! the commands that rebuild it, for a rewrite (Redis's `rewriteStreamObject`).
//!
//! Consumer-group state is recorded as the state it reached, in the forms Redis itself
//! propagates: a pending entry as `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE
//! JUSTID` (owner, delivery time and count exactly as they are), a group's position as
//! `XGROUP SETID key group last-id ENTRIESREAD n`, a consumer as `XGROUP CREATECONSUMER`.
//! A consumer's seen and active times are not recorded (nor are they by Redis).

use bytes::Bytes;

use super::aof::Tail;
use crate::stream::group::{Group, PendingEntry};
use crate::stream::id::StreamId;
use crate::stream::Stream;

fn text(s: impl ToString) -> Bytes {
    Bytes::from(s.to_string())
}

/// The effects one stream command records, built only while the AOF is on: a group read of
/// 100 entries would otherwise format 100 XCLAIMs for nobody.
#[derive(Debug, Default)]
pub struct Effects {
    recording: bool,
    list: Vec<Vec<Bytes>>,
}

impl Effects {
    pub fn new(recording: bool) -> Effects {
        Effects {
            recording,
            list: Vec::new(),
        }
    }

    pub fn push(&mut self, make: impl FnOnce() -> Vec<Bytes>) {
        if self.recording {
            self.list.push(make());
        }
    }

    /// Whether effects are being built, for callers that would otherwise look up what to
    /// record only to have `push` drop it.
    pub fn recording(&self) -> bool {
        self.recording
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Vec<Bytes>> {
        self.list.iter()
    }
}

/// A pending entry exactly as it is: created if missing, owner, delivery time and count set.
pub fn pending_effect(key: &Bytes, group: &Bytes, id: StreamId, p: &PendingEntry) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XCLAIM"),
        key.clone(),
        group.clone(),
        p.consumer.clone(),
        Bytes::from_static(b"0"),
        text(id),
        Bytes::from_static(b"TIME"),
        text(p.delivery_time),
        Bytes::from_static(b"RETRYCOUNT"),
        text(p.delivery_count),
        Bytes::from_static(b"JUSTID"),
        Bytes::from_static(b"FORCE"),
    ]
}

/// A group's last-delivered id and entries-read counter as they are.
pub fn group_position_effect(key: &Bytes, name: &Bytes, group: &Group) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"SETID"),
        key.clone(),
        name.clone(),
        text(group.last_id),
        Bytes::from_static(b"ENTRIESREAD"),
        entries_read(group),
    ]
}

/// A consumer that now exists.
pub fn consumer_effect(key: &Bytes, group: &Bytes, consumer: &Bytes) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"CREATECONSUMER"),
        key.clone(),
        group.clone(),
        consumer.clone(),
    ]
}

/// Pending entries that are no longer pending.
pub fn ack_effect(key: &Bytes, group: &Bytes, ids: &[StreamId]) -> Vec<Bytes> {
    let mut effect = vec![Bytes::from_static(b"XACK"), key.clone(), group.clone()];
    effect.extend(ids.iter().map(text));
    effect
}

fn entries_read(group: &Group) -> Bytes {
    group
        .entries_read
        .map_or_else(|| Bytes::from_static(b"-1"), text)
}

/// A whole stream as the commands that rebuild it, as Redis's `rewriteStreamObject` writes it,
/// with one addition: a pending entry whose stream entry was deleted or trimmed (Redis keeps it
/// pending, XPENDING shows it) cannot be recreated by `XCLAIM ... FORCE`, which skips ids not
/// in the stream. Redis's own rewrite loses such entries unless its RDB preamble carries them;
/// here their ids are added with a placeholder among the stream's entries, claimed, then
/// removed again: those before the first entry left by `XTRIM MINID`, which leaves the max
/// deleted id alone (they may have been trimmed, and XSETID cannot lower that id back to
/// 0-0), those between entries by XDEL (they were deleted, so the stream's max deleted id is at
/// least theirs). XSETID then comes last, when the stream's length is final.
pub fn rewrite_stream(tail: &mut Tail, db: usize, key: &[u8], stream: &Stream) {
    let last_id = stream.last_id.to_string();
    let orphans: std::collections::BTreeSet<StreamId> = stream
        .groups
        .values()
        .flat_map(|group| group.pel.iter().map(|(id, _)| id))
        .filter(|&id| stream.refs(id, id).next().is_none())
        .collect();
    if stream.is_empty() && orphans.is_empty() {
        // An empty stream still exists (and keeps its last id): create it with one entry and
        // trim it away, as Redis writes it.
        tail.push(
            db,
            &[
                b"XADD",
                key,
                b"MAXLEN",
                b"0",
                last_id.as_bytes(),
                b"x",
                b"y",
            ],
        );
    } else {
        let mut orphan_ids = orphans.iter().copied().peekable();
        let placeholder = |tail: &mut Tail, id: StreamId| {
            tail.push(db, &[b"XADD", key, id.to_string().as_bytes(), b"x", b"y"]);
        };
        for entry in stream.range(StreamId::MIN, StreamId::MAX) {
            while let Some(orphan) = orphan_ids.next_if(|&o| o < entry.id) {
                placeholder(tail, orphan);
            }
            let id = entry.id.to_string();
            let mut args: Vec<&[u8]> = Vec::with_capacity(3 + entry.fields.len());
            args.extend([&b"XADD"[..], key, id.as_bytes()]);
            args.extend(entry.fields.iter().map(|f| &f[..]));
            tail.push(db, &args);
        }
        for orphan in orphan_ids {
            placeholder(tail, orphan);
        }
    }
    let set_id = |tail: &mut Tail| {
        tail.push(
            db,
            &[
                b"XSETID",
                key,
                last_id.as_bytes(),
                b"ENTRIESADDED",
                stream.entries_added.to_string().as_bytes(),
                b"MAXDELETEDID",
                stream.max_deleted_id.to_string().as_bytes(),
            ],
        );
    };
    if orphans.is_empty() {
        set_id(tail);
    }
    for (name, group) in &stream.groups {
        let entries_read = entries_read(group);
        tail.push(
            db,
            &[
                b"XGROUP",
                b"CREATE",
                key,
                name,
                group.last_id.to_string().as_bytes(),
                b"ENTRIESREAD",
                &entries_read,
            ],
        );
        for consumer in group.consumers.keys() {
            tail.push(db, &[b"XGROUP", b"CREATECONSUMER", key, name, consumer]);
        }
        for (id, pending) in group.pel.iter() {
            tail.push(
                db,
                &[
                    b"XCLAIM",
                    key,
                    name,
                    &pending.consumer,
                    b"0",
                    id.to_string().as_bytes(),
                    b"TIME",
                    pending.delivery_time.to_string().as_bytes(),
                    b"RETRYCOUNT",
                    pending.delivery_count.to_string().as_bytes(),
                    b"JUSTID",
                    b"FORCE",
                ],
            );
        }
    }
    if orphans.is_empty() {
        return;
    }
    let first = stream
        .refs(StreamId::MIN, StreamId::MAX)
        .next()
        .map(|e| e.id);
    match first {
        Some(first) => {
            if orphans.first().is_some_and(|&o| o < first) {
                let first = first.to_string();
                tail.push(db, &[b"XTRIM", key, b"MINID", b"=", first.as_bytes()]);
            }
            let between: Vec<String> = orphans.range(first..).map(StreamId::to_string).collect();
            if !between.is_empty() {
                let mut args: Vec<&[u8]> = vec![b"XDEL", key];
                args.extend(between.iter().map(String::as_bytes));
                tail.push(db, &args);
            }
        }
        None => tail.push(db, &[b"XTRIM", key, b"MAXLEN", b"=", b"0"]),
    }
    set_id(tail);
}
