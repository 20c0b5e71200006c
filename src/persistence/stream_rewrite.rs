//! A stream as the commands that rebuild it, for a rewrite (Redis's `rewriteStreamObject`):
//! its entries as XADD with their ids, its counters with XSETID, each group with XGROUP CREATE
//! at its last-delivered id and entries-read, each consumer with XGROUP CREATECONSUMER, and each
//! pending entry with an XCLAIM that recreates it as it was (owner, delivery time and count).

use super::aof::Tail;
use crate::stream::id::StreamId;
use crate::stream::Stream;

pub fn rewrite_stream(tail: &mut Tail, db: usize, key: &[u8], stream: &Stream) {
    let last_id = stream.last_id.to_string();
    if stream.is_empty() {
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
        for entry in stream.range(StreamId::MIN, StreamId::MAX) {
            let id = entry.id.to_string();
            let mut args: Vec<&[u8]> = Vec::with_capacity(3 + entry.fields.len());
            args.extend([&b"XADD"[..], key, id.as_bytes()]);
            args.extend(entry.fields.iter().map(|f| &f[..]));
            tail.push(db, &args);
        }
    }
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
    for (name, group) in &stream.groups {
        let entries_read = group
            .entries_read
            .map_or_else(|| "-1".to_owned(), |n| n.to_string());
        tail.push(
            db,
            &[
                b"XGROUP",
                b"CREATE",
                key,
                name,
                group.last_id.to_string().as_bytes(),
                b"ENTRIESREAD",
                entries_read.as_bytes(),
            ],
        );
        for consumer in group.consumers.keys() {
            tail.push(db, &[b"XGROUP", b"CREATECONSUMER", key, name, consumer]);
        }
        for (id, pending) in &group.pel {
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
}
