//! A packed node: consecutive stream entries encoded into one byte buffer.
//!
//! Layout of each entry, one after the other:
//! - a flags byte: `DELETED`, `SAME_FIELDS` (the entry has the node's master field names);
//! - the id as two varints: milliseconds after the node's first id, and the sequence number;
//! - with `SAME_FIELDS`, one encoded value per master field; otherwise a varint field count,
//!   then each field name (varint length + bytes) followed by its value.
//!
//! A value is a varint tag: `(zigzag(n) << 1) | 1` for a value that is a canonical integer
//! (the same test Redis applies, so it reads back byte for byte), or `len << 1` followed by the
//! bytes. An entry of two small fields thus takes about ten bytes, the idea behind Redis's
//! listpacks with their master entry.

use bytes::Bytes;

use super::id::StreamId;

const DELETED: u8 = 1;
const SAME_FIELDS: u8 = 2;

/// One decoded entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: StreamId,
    pub fields: Vec<Bytes>,
}

#[derive(Debug, Clone)]
pub struct Node {
    first_id: StreamId,
    /// Field names of the node's first entry; later entries with the same names store values only.
    master: Vec<Bytes>,
    data: Vec<u8>,
    /// Entries, deleted ones included (they still take room, as in Redis).
    pub count: usize,
    pub live: usize,
    pub last_id: StreamId,
}

impl Node {
    /// A node holding the entry `id` with `fields` (names and values alternating), whose
    /// field names become the node's master fields.
    pub fn new(id: StreamId, fields: &[Bytes]) -> Node {
        let mut node = Node {
            first_id: id,
            master: fields.iter().step_by(2).cloned().collect(),
            data: Vec::new(),
            count: 0,
            live: 0,
            last_id: id,
        };
        node.push(id, fields);
        node
    }

    /// Releases spare capacity once the node is full: a sealed node never grows again.
    pub fn seal(&mut self) {
        self.data.shrink_to_fit();
    }

    /// What the node holds on the heap: its buffer as allocated and its field names.
    pub fn heap_bytes(&self) -> usize {
        self.data.capacity()
            + self
                .master
                .iter()
                .map(|m| m.len() + std::mem::size_of::<Bytes>())
                .sum::<usize>()
    }

    /// Encoded size: what `stream-node-max-bytes` is compared with.
    pub fn bytes(&self) -> usize {
        self.data.len() + self.master.iter().map(|m| m.len() + 1).sum::<usize>()
    }

    /// Appends the entry `id`, greater than every id in the node, with `fields` (names and
    /// values alternating). The fields are encoded into the node: the caller keeps them.
    pub fn push(&mut self, id: StreamId, fields: &[Bytes]) {
        let same = fields.len() == self.master.len() * 2
            && fields
                .iter()
                .step_by(2)
                .zip(&self.master)
                .all(|(a, b)| a == b);
        self.data.push(if same { SAME_FIELDS } else { 0 });
        put_varint(&mut self.data, id.ms - self.first_id.ms);
        put_varint(&mut self.data, id.seq);
        if same {
            for value in fields.iter().skip(1).step_by(2) {
                put_value(&mut self.data, value);
            }
        } else {
            put_varint(&mut self.data, (fields.len() / 2) as u64);
            for pair in fields.chunks(2) {
                put_varint(&mut self.data, pair[0].len() as u64);
                self.data.extend_from_slice(&pair[0]);
                put_value(&mut self.data, pair.get(1).map_or(&[][..], |v| &v[..]));
            }
        }
        self.count += 1;
        self.live += 1;
        self.last_id = id;
    }

    /// Every live entry, in order.
    pub fn entries(&self) -> impl Iterator<Item = EntryRef<'_>> + '_ {
        self.cursor()
            .filter(|(_, deleted, _)| !deleted)
            .map(|(_, _, e)| e)
    }

    /// Marks the entry with `id` deleted; true if it was live.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let found = self
            .cursor()
            .find(|(_, deleted, e)| !deleted && e.id == id)
            .map(|(at, _, _)| at);
        match found {
            Some(at) => {
                self.data[at] |= DELETED;
                self.live -= 1;
                true
            }
            None => false,
        }
    }

    /// Deletes live entries from the front while `remove(id, live_left_in_stream)` says so;
    /// returns how many went. Used by exact trimming within one node.
    pub fn delete_front_while(&mut self, mut remove: impl FnMut(StreamId) -> bool) -> usize {
        let victims: Vec<(usize, StreamId)> = self
            .cursor()
            .filter(|(_, deleted, _)| !deleted)
            .map(|(at, _, e)| (at, e.id))
            .take_while(|(_, id)| remove(*id))
            .collect();
        for (at, _) in &victims {
            self.data[*at] |= DELETED;
        }
        self.live -= victims.len();
        victims.len()
    }

    /// Walks the buffer: (offset of the flags byte, deleted, entry).
    fn cursor(&self) -> impl Iterator<Item = (usize, bool, EntryRef<'_>)> + '_ {
        let mut pos = 0;
        std::iter::from_fn(move || {
            if pos >= self.data.len() {
                return None;
            }
            let at = pos;
            let flags = self.data[pos];
            pos += 1;
            let ms = self.first_id.ms + get_varint(&self.data, &mut pos);
            let seq = get_varint(&self.data, &mut pos);
            let entry = EntryRef {
                id: StreamId::new(ms, seq),
                node: self,
                same_fields: flags & SAME_FIELDS != 0,
                pos,
            };
            pos = entry.for_each_field(|_| {});
            Some((at, flags & DELETED != 0, entry))
        })
    }
}

/// A field name or value as a node holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored<'a> {
    Bytes(&'a [u8]),
    /// A value that was a canonical integer: its text is the number's.
    Int(i64),
}

/// An entry read in place: replies are written from the node's bytes, with no copy of the
/// fields (what [`EntryRef::to_entry`] makes, for the few callers that keep an entry).
#[derive(Debug, Clone, Copy)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    node: &'a Node,
    same_fields: bool,
    /// Where the entry's fields start in the node's data.
    pos: usize,
}

impl<'a> EntryRef<'a> {
    /// Field names and values together, as the reply's array counts them.
    pub fn field_count(&self) -> usize {
        if self.same_fields {
            return self.node.master.len() * 2;
        }
        let mut pos = self.pos;
        get_varint(&self.node.data, &mut pos) as usize * 2
    }

    /// Calls `f` with each field name and value in order; returns where the entry ends.
    pub fn for_each_field(&self, mut f: impl FnMut(Stored<'a>)) -> usize {
        let node: &'a Node = self.node;
        let data = &node.data[..];
        let mut pos = self.pos;
        if self.same_fields {
            for name in &node.master {
                f(Stored::Bytes(name));
                f(get_value(data, &mut pos));
            }
        } else {
            let n = get_varint(data, &mut pos);
            for _ in 0..n {
                let len = get_varint(data, &mut pos) as usize;
                let end = (pos + len).min(data.len());
                f(Stored::Bytes(&data[pos..end]));
                pos = end;
                f(get_value(data, &mut pos));
            }
        }
        pos
    }

    /// The entry with its fields copied out.
    pub fn to_entry(&self) -> Entry {
        let mut fields = Vec::with_capacity(self.field_count());
        self.for_each_field(|field| {
            fields.push(match field {
                Stored::Bytes(b) => Bytes::copy_from_slice(b),
                Stored::Int(n) => Bytes::from(n.to_string()),
            })
        });
        Entry {
            id: self.id,
            fields,
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn get_varint(data: &[u8], pos: &mut usize) -> u64 {
    let mut n = 0u64;
    let mut shift = 0;
    while let Some(&b) = data.get(*pos) {
        *pos += 1;
        if shift < 64 {
            n |= u64::from(b & 0x7f) << shift;
        }
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    n
}

fn put_value(out: &mut Vec<u8>, value: &[u8]) {
    match crate::number::parse_i64(value) {
        Some(n) if value.len() <= 20 => {
            let zigzag = ((n << 1) ^ (n >> 63)) as u64;
            if zigzag < (1 << 62) {
                put_varint(out, (zigzag << 1) | 1);
                return;
            }
            put_varint(out, (value.len() as u64) << 1);
            out.extend_from_slice(value);
        }
        _ => {
            put_varint(out, (value.len() as u64) << 1);
            out.extend_from_slice(value);
        }
    }
}

fn get_value<'a>(data: &'a [u8], pos: &mut usize) -> Stored<'a> {
    let tag = get_varint(data, pos);
    if tag & 1 == 1 {
        let zigzag = tag >> 1;
        return Stored::Int(((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64));
    }
    let len = (tag >> 1) as usize;
    let end = (*pos + len).min(data.len());
    let value = &data[*pos..end];
    *pos = end;
    Stored::Bytes(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ms: u64, fields: &[&str]) -> Entry {
        Entry {
            id: StreamId::new(ms, 0),
            fields: fields.iter().map(|f| Bytes::from(f.to_string())).collect(),
        }
    }

    #[test]
    fn entries_read_back_exactly_including_integers_and_odd_values() {
        let first = entry(100, &["f1", "v1", "f2", "42"]);
        let mut node = Node::new(first.id, &first.fields);
        let others = [
            entry(101, &["f1", "-7", "f2", "007"]),
            entry(105, &["other", "", "x", "9223372036854775807"]),
            entry(105_000, &["f1", "-0", "f2", "+1"]),
            entry(106_000, &["f1", "-9223372036854775808", "f2", " 1"]),
        ];
        for e in &others {
            node.push(e.id, &e.fields);
        }
        let back: Vec<Entry> = node.entries().map(|e| e.to_entry()).collect();
        let mut want = vec![first];
        want.extend(others);
        assert_eq!(back, want);
    }

    #[test]
    fn entries_with_the_master_fields_take_about_ten_bytes() {
        let first = entry(1, &["f1", "v1", "f2", "v2"]);
        let mut node = Node::new(first.id, &first.fields);
        let before = node.bytes();
        for i in 2..102 {
            let e = entry(i, &["f1", "v1", "f2", "v2"]);
            node.push(e.id, &e.fields);
        }
        assert!((node.bytes() - before) / 100 <= 10, "{}", node.bytes());
    }

    #[test]
    fn deletes_mark_in_place() {
        let (a, b) = (entry(1, &["a", "1"]), entry(2, &["a", "2"]));
        let mut node = Node::new(a.id, &a.fields);
        node.push(b.id, &b.fields);
        assert!(node.delete(StreamId::new(1, 0)));
        assert!(!node.delete(StreamId::new(1, 0)));
        assert_eq!(node.entries().map(|e| e.id.ms).collect::<Vec<_>>(), vec![2]);
        assert_eq!((node.count, node.live), (2, 1));
    }
}
