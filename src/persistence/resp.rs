//! The AOF's wire format: commands as RESP arrays of bulk strings, exactly as a client sends
//! them, so that `redis-cli --pipe` and Redis's own loader read the file as it is.
//!
//! Decoding is pure (no I/O) and distinguishes a command cut off by the end of the data
//! (*incomplete*: a crash during a write) from bytes that can never form a command (*corrupt*),
//! because start-up treats the two differently.

use bytes::Bytes;

use crate::protocol::reply::put_header;

/// Appends `args` as one RESP command (`*<n>\r\n$<len>\r\n<arg>\r\n...`), growing `out`
/// once for the whole command.
pub fn encode_into(out: &mut Vec<u8>, args: &[&[u8]]) {
    // A header line is at most 23 bytes: its kind, 20 digits and CRLF.
    const HEADER_MAX: usize = 23;
    let bulks: usize = args.iter().map(|arg| HEADER_MAX + arg.len() + 2).sum();
    out.reserve(HEADER_MAX + bulks);
    // An argument count or length never nears i64::MAX.
    put_header(out, b'*', args.len() as i64);
    for arg in args {
        put_header(out, b'$', arg.len() as i64);
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// What decoding one command at an offset found.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A whole command, and the offset just past it.
    Command(Vec<Bytes>, usize),
    /// The data ends inside a command: everything from the offset on is a cut-off write.
    Incomplete,
    /// The bytes at `offset` can never be part of a command.
    Corrupt { offset: usize, reason: String },
}

/// Most arguments one command may have; a larger count is taken for corruption.
const MAX_ARGS: usize = 1 << 20;

/// Decodes the command starting at `at`. `max_bulk` bounds a bulk length: a larger one is
/// corruption even at the end of the file, so that one damaged length byte cannot make start-up
/// cut away the rest of the file as a "truncated tail".
pub fn decode(data: &Bytes, at: usize, max_bulk: usize) -> Decoded {
    let mut pos = at;
    let count = match header(data, pos, b'*', MAX_ARGS) {
        Header::Value(n, next) => {
            pos = next;
            n
        }
        Header::Incomplete => return Decoded::Incomplete,
        Header::Corrupt(offset, reason) => return Decoded::Corrupt { offset, reason },
    };
    if count == 0 {
        return Decoded::Corrupt {
            offset: at,
            reason: "empty command".into(),
        };
    }
    let mut args = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let len = match header(data, pos, b'$', max_bulk) {
            Header::Value(n, next) => {
                pos = next;
                n
            }
            Header::Incomplete => return Decoded::Incomplete,
            Header::Corrupt(offset, reason) => return Decoded::Corrupt { offset, reason },
        };
        let end = pos + len;
        if data.len() < end + 2 {
            // The bulk's bytes or its CRLF are missing; any bytes present must still be CRLF.
            let present = &data[end.min(data.len())..];
            if !b"\r\n".starts_with(present) {
                return Decoded::Corrupt {
                    offset: end,
                    reason: "bulk string not terminated by CRLF".into(),
                };
            }
            return Decoded::Incomplete;
        }
        if &data[end..end + 2] != b"\r\n" {
            return Decoded::Corrupt {
                offset: end,
                reason: "bulk string not terminated by CRLF".into(),
            };
        }
        args.push(data.slice(pos..end));
        pos = end + 2;
    }
    Decoded::Command(args, pos)
}

enum Header {
    Value(usize, usize),
    Incomplete,
    Corrupt(usize, String),
}

/// Reads `<kind><digits>\r\n` at `at`.
fn header(data: &[u8], at: usize, kind: u8, max: usize) -> Header {
    let Some(&first) = data.get(at) else {
        return Header::Incomplete;
    };
    if first != kind {
        return Header::Corrupt(
            at,
            format!("expected '{}', found byte 0x{first:02x}", char::from(kind)),
        );
    }
    let mut n: usize = 0;
    let mut pos = at + 1;
    loop {
        let Some(&b) = data.get(pos) else {
            return Header::Incomplete;
        };
        match b {
            b'0'..=b'9' if pos - at <= 20 => {
                n = match n
                    .checked_mul(10)
                    .and_then(|n| n.checked_add((b - b'0') as usize))
                {
                    Some(n) if n <= max => n,
                    _ => return Header::Corrupt(at, "length out of range".into()),
                };
            }
            b'\r' if pos > at + 1 => {
                return match data.get(pos + 1) {
                    None => Header::Incomplete,
                    Some(b'\n') => Header::Value(n, pos + 2),
                    Some(_) => Header::Corrupt(pos, "length not terminated by CRLF".into()),
                };
            }
            _ => return Header::Corrupt(pos, "invalid length".into()),
        }
        pos += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(args: &[&[u8]]) -> Bytes {
        let mut out = Vec::new();
        encode_into(&mut out, args);
        Bytes::from(out)
    }

    #[test]
    fn encoding_round_trips() {
        let data = encoded(&[b"SET", b"k", b"a\r\nb"]);
        assert_eq!(&data[..], b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n");
        match decode(&data, 0, 1 << 20) {
            Decoded::Command(args, end) => {
                assert_eq!(args, vec!["SET", "k", "a\r\nb"]);
                assert_eq!(end, data.len());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_cut_of_a_command_is_incomplete() {
        let data = encoded(&[b"SET", b"key", b"value"]);
        for cut in 0..data.len() {
            assert_eq!(
                decode(&data.slice(..cut), 0, 1 << 20),
                Decoded::Incomplete,
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn garbage_is_corrupt_with_its_offset() {
        let mut data = encoded(&[b"SET", b"k", b"v"]).to_vec();
        data[13] = b'x'; // the '$' of the key's header
        match decode(&Bytes::from(data), 0, 1 << 20) {
            Decoded::Corrupt { offset, .. } => assert_eq!(offset, 13),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decode(&Bytes::from_static(b"+OK\r\n"), 0, 10),
            Decoded::Corrupt { offset: 0, .. }
        ));
        assert!(matches!(
            decode(&Bytes::from_static(b"*1\r\n$3\r\nSETxx"), 0, 10),
            Decoded::Corrupt { offset: 11, .. }
        ));
    }

    #[test]
    fn an_absurd_length_is_corrupt_not_truncated() {
        let data = Bytes::from_static(b"*1\r\n$99999999999\r\nabc");
        assert!(matches!(decode(&data, 0, 1 << 20), Decoded::Corrupt { .. }));
    }
}
