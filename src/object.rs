//! What OBJECT and MEMORY USAGE say of a key's value, in Redis's terms: the encoding Redis
//! would have chosen for it, whether Redis would share it, and the bytes Redis's allocator
//! would hand out for it, so that tools reading them (redis-cli --memkeys, GUIs' key sizes)
//! see the numbers Redis shows for the same data.

use crate::keyspace::{Entry, StringEncoding, Value};

/// Strings up to this long are stored with their object header (`OBJ_ENCODING_EMBSTR_SIZE_LIMIT`).
const EMBSTR_MAX: usize = 44;
/// Integers below this are shared objects (`OBJ_SHARED_INTEGERS`).
const SHARED_INTEGERS: i64 = 10_000;
/// Sizes Redis reports: `sizeof(robj)` and `sizeof(dictEntry)`.
const OBJECT_HEADER: usize = 16;
const DICT_ENTRY: usize = 24;
/// A shared object's reference count as OBJECT REFCOUNT shows it (`OBJ_SHARED_REFCOUNT`).
pub const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// How Redis holds a value (OBJECT ENCODING's answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Int,
    Embstr,
    Raw,
    Stream,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Int => "int",
            Encoding::Embstr => "embstr",
            Encoding::Raw => "raw",
            Encoding::Stream => "stream",
        }
    }
}

/// OBJECT ENCODING. A string stored whole is what Redis's `tryObjectEncoding` makes of it:
/// `int` for a canonical 64-bit integer, `embstr` up to 44 bytes, `raw` beyond; one edited in
/// place is `raw`, and a number printed as text is never `int`.
pub fn encoding(entry: &Entry) -> Encoding {
    let Value::String(s) = &entry.value else {
        return Encoding::Stream;
    };
    match entry.string_encoding {
        StringEncoding::Raw => Encoding::Raw,
        StringEncoding::Stored if integer(s).is_some() => Encoding::Int,
        _ if s.len() <= EMBSTR_MAX => Encoding::Embstr,
        _ => Encoding::Raw,
    }
}

/// OBJECT REFCOUNT: Redis shares the integers 0 to 9999 among all keys.
pub fn refcount(entry: &Entry) -> i64 {
    match &entry.value {
        Value::String(s)
            if encoding(entry) == Encoding::Int
                && integer(s).is_some_and(|n| (0..SHARED_INTEGERS).contains(&n)) =>
        {
            SHARED_REFCOUNT
        }
        _ => 1,
    }
}

/// MEMORY USAGE: the key's dictionary entry, its name and its value, each as the allocator
/// rounds it (Redis's `objectComputeSize` with jemalloc's size classes). Strings stored whole
/// come out as Redis's exactly (one grown by APPEND or SETRANGE is counted at its length, where
/// Redis counts the room its sds grew ahead); a stream is Herald's own estimate of its nodes and
/// groups.
pub fn usage(key: &[u8], entry: &Entry) -> usize {
    let value = match &entry.value {
        Value::String(s) => match encoding(entry) {
            Encoding::Int => OBJECT_HEADER,
            Encoding::Embstr => allocation(OBJECT_HEADER + sds(s.len())),
            _ => OBJECT_HEADER + allocation(sds(s.len())),
        },
        Value::Stream(stream) => OBJECT_HEADER + stream.memory_usage(),
    };
    DICT_ENTRY + allocation(key_sds(key.len())) + value
}

/// A key name's sds: as [`sds`], but names under 32 bytes get the one-byte header
/// (`SDS_TYPE_5`, which Redis uses for a new string that short and not empty).
fn key_sds(len: usize) -> usize {
    match len {
        1..=31 => 1 + len + 1,
        _ => sds(len),
    }
}

/// An sds string's bytes: the smallest header that holds its length, the bytes, a NUL.
fn sds(len: usize) -> usize {
    let header = match len {
        0..=0xff => 3,
        0x100..=0xffff => 5,
        0x1_0000..=0xffff_ffff => 9,
        _ => 17,
    };
    header + len + 1
}

/// The size class jemalloc serves `n` bytes from: 8, then multiples of 16 to 128, then four
/// classes per doubling.
fn allocation(n: usize) -> usize {
    match n {
        0..=8 => 8,
        9..=128 => n.div_ceil(16) * 16,
        _ => {
            let group = (n - 1).ilog2(); // n is in (2^group, 2^(group+1)]
            let step = 1usize << (group - 2);
            n.div_ceil(step) * step
        }
    }
}

/// The value as Redis's `string2l` reads it: a canonical decimal 64-bit integer (no sign but
/// `-`, no leading zero, at most 20 bytes).
fn integer(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    let canonical = match digits {
        [b'0'] => digits.len() == s.len(),
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !canonical {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn string(s: &str) -> Entry {
        Entry::new(Value::String(Bytes::copy_from_slice(s.as_bytes())))
    }

    #[test]
    fn encodings_follow_try_object_encoding() {
        let enc = |s: &str| encoding(&string(s)).name();
        assert_eq!(enc("123"), "int");
        assert_eq!(enc("-9223372036854775808"), "int");
        assert_eq!(enc("9223372036854775808"), "embstr");
        assert_eq!(enc("12345678901234567890"), "embstr");
        for not_canonical in ["007", "-0", "+1", " 1", "1 ", "-", ""] {
            assert_ne!(enc(not_canonical), "int", "{not_canonical:?}");
        }
        assert_eq!(enc(&"a".repeat(44)), "embstr");
        assert_eq!(enc(&"a".repeat(45)), "raw");
    }

    #[test]
    fn strings_edited_in_place_or_printed_as_numbers_keep_their_encoding() {
        let held = |s: &str, how| Entry::string(Bytes::copy_from_slice(s.as_bytes()), how);
        assert_eq!(encoding(&held("123", StringEncoding::Raw)), Encoding::Raw);
        assert_eq!(encoding(&held("hi", StringEncoding::Raw)), Encoding::Raw);
        assert_eq!(encoding(&held("5", StringEncoding::Text)), Encoding::Embstr);
        assert_eq!(
            encoding(&held(&"1".repeat(45), StringEncoding::Text)),
            Encoding::Raw
        );
        assert_eq!(refcount(&held("5", StringEncoding::Raw)), 1);
        assert_eq!(refcount(&held("5", StringEncoding::Text)), 1);
        assert_eq!(
            refcount(&held("5", StringEncoding::Stored)),
            SHARED_REFCOUNT
        );
    }

    #[test]
    fn small_integers_are_shared() {
        assert_eq!(refcount(&string("0")), SHARED_REFCOUNT);
        assert_eq!(refcount(&string("9999")), SHARED_REFCOUNT);
        assert_eq!(refcount(&string("10000")), 1);
        assert_eq!(refcount(&string("-1")), 1);
        assert_eq!(refcount(&string("x")), 1);
    }

    #[test]
    fn string_sizes_are_what_redis_reports() {
        // Redis 7.0 (jemalloc) answered these for the same keys and values.
        assert_eq!(usage(b"s", &string("hello")), 64);
        assert_eq!(usage(b"n", &string("123")), 48);
        assert_eq!(usage(b"big", &string("12345678901234567890")), 80);
        assert_eq!(usage(b"long", &string(&"a".repeat(50))), 112);
        assert_eq!(usage(b"empty", &string("")), 64);
    }

    #[test]
    fn size_classes_are_jemallocs() {
        let classes: Vec<usize> = [
            1, 8, 9, 17, 25, 40, 128, 129, 160, 161, 200, 257, 1000, 4097,
        ]
        .iter()
        .map(|&n| allocation(n))
        .collect();
        assert_eq!(
            classes,
            [8, 8, 16, 32, 32, 48, 128, 160, 160, 192, 224, 320, 1024, 5120]
        );
    }
}
