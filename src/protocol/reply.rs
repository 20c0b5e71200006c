//! Reply encoding into the connection's output buffer, in the protocol the client chose.
//!
//! Handlers describe a reply by its RESP3 shape (map, set, null, push); in RESP2 each shape takes
//! the form Redis gives it (a map becomes a flat array, null becomes `$-1` or `*-1`). Writing straight
//! into the buffer, rather than building a reply tree, keeps pipelined replies allocation-free.

use bytes::{BufMut, BytesMut};

/// The protocol version a connection speaks, chosen with `HELLO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

impl Protocol {
    pub fn version(self) -> i64 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}

/// An encoder over an output buffer.
pub struct Reply<'a> {
    buf: &'a mut BytesMut,
    proto: Protocol,
}

impl<'a> Reply<'a> {
    pub fn new(buf: &'a mut BytesMut, proto: Protocol) -> Self {
        Reply { buf, proto }
    }

    pub fn protocol(&self) -> Protocol {
        self.proto
    }

    /// Switches protocol mid-batch: HELLO answers in the protocol it selects.
    pub fn set_protocol(&mut self, proto: Protocol) {
        self.proto = proto;
    }

    pub fn resp3(&self) -> bool {
        self.proto == Protocol::Resp3
    }

    /// Bytes written so far, to roll a reply back (`CLIENT REPLY OFF|SKIP`).
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    /// Appends bytes that are already encoded (a pre-encoded push frame).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    pub fn simple(&mut self, text: &str) {
        self.line(b'+', text.as_bytes());
    }

    /// An error line; `text` carries its own prefix (`ERR ...`, `WRONGTYPE ...`).
    pub fn error(&mut self, text: &[u8]) {
        self.buf.put_u8(b'-');
        // A newline inside an error would break the protocol; Redis turns it into a space.
        for &b in text {
            self.buf
                .put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    /// The integer `n`, `times` times over (the replies of a run of PUBLISHes), encoded once.
    pub fn ints(&mut self, n: i64, times: usize) {
        if times == 0 {
            return;
        }
        let start = self.buf.len();
        self.int(n);
        let mut line = [0u8; 24];
        let len = self.buf.len() - start;
        line[..len].copy_from_slice(&self.buf[start..]);
        self.buf.reserve(len * (times - 1));
        for _ in 1..times {
            self.buf.extend_from_slice(&line[..len]);
        }
    }

    pub fn bulk(&mut self, data: &[u8]) {
        self.buf.reserve(data.len() + 25);
        self.header(b'$', data.len() as i64);
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A bulk string holding a decimal integer, as Redis replies to `CONFIG GET maxclients`.
    pub fn bulk_int(&mut self, n: i64) {
        self.bulk(itoa_buf(n).as_bytes());
    }

    /// The null bulk string: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        match self.proto {
            Protocol::Resp2 => self.buf.extend_from_slice(b"$-1\r\n"),
            Protocol::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3 (an EXEC aborted by WATCH, a timed-out read).
    pub fn null_array(&mut self) {
        match self.proto {
            Protocol::Resp2 => self.buf.extend_from_slice(b"*-1\r\n"),
            Protocol::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    pub fn array(&mut self, len: usize) {
        self.header(b'*', len as i64);
    }

    /// A map of `len` pairs: `%` in RESP3, a flat array of `2 * len` in RESP2.
    pub fn map(&mut self, len: usize) {
        match self.proto {
            Protocol::Resp2 => self.header(b'*', 2 * len as i64),
            Protocol::Resp3 => self.header(b'%', len as i64),
        }
    }

    /// A set: `~` in RESP3, an array in RESP2.
    pub fn set(&mut self, len: usize) {
        match self.proto {
            Protocol::Resp2 => self.header(b'*', len as i64),
            Protocol::Resp3 => self.header(b'~', len as i64),
        }
    }

    /// An out-of-band push (pub/sub message, invalidation): `>` in RESP3, an array in RESP2.
    pub fn push(&mut self, len: usize) {
        match self.proto {
            Protocol::Resp2 => self.header(b'*', len as i64),
            Protocol::Resp3 => self.header(b'>', len as i64),
        }
    }

    /// A double: `,` in RESP3, a bulk string in RESP2, formatted as Redis's `%.17g`.
    pub fn double(&mut self, value: f64) {
        let text = format_double(value);
        match self.proto {
            Protocol::Resp2 => self.bulk(text.as_bytes()),
            Protocol::Resp3 => self.line(b',', text.as_bytes()),
        }
    }

    /// Text Redis sends as a verbatim string in RESP3 (`INFO`, `CLIENT LIST`) and a bulk in RESP2.
    pub fn verbatim(&mut self, text: &[u8]) {
        match self.proto {
            Protocol::Resp2 => self.bulk(text),
            Protocol::Resp3 => {
                self.header(b'=', text.len() as i64 + 4);
                self.buf.extend_from_slice(b"txt:");
                self.buf.extend_from_slice(text);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    fn line(&mut self, kind: u8, text: &[u8]) {
        self.buf.put_u8(kind);
        self.buf.extend_from_slice(text);
        self.buf.extend_from_slice(b"\r\n");
    }

    fn header(&mut self, kind: u8, n: i64) {
        put_header(&mut self.buf, kind, n);
    }
}

/// Text built backwards on the stack, for numbers written on hot paths without allocating:
/// integers ([`itoa_buf`]) and stream ids (`StreamId::text`).
pub struct StackText<const N: usize> {
    bytes: [u8; N],
    start: usize,
}

impl<const N: usize> StackText<N> {
    pub fn new() -> Self {
        StackText {
            bytes: [0; N],
            start: N,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[self.start..]
    }

    /// Puts `v`'s decimal digits in front of what is there, two at a time: a stream id's
    /// 13-digit milliseconds take 7 divisions rather than 13.
    pub fn prepend_digits(&mut self, mut v: u64) {
        while v >= 100 {
            self.prepend_pair(v % 100);
            v /= 100;
        }
        if v >= 10 {
            self.prepend_pair(v);
        } else {
            self.prepend_byte(b'0' + v as u8);
        }
    }

    /// Puts the two digits of `v` (below 100) in front.
    fn prepend_pair(&mut self, v: u64) {
        let at = v as usize * 2;
        self.start -= 2;
        self.bytes[self.start..self.start + 2].copy_from_slice(&DIGIT_PAIRS[at..at + 2]);
    }

    pub fn prepend_byte(&mut self, byte: u8) {
        self.start -= 1;
        self.bytes[self.start] = byte;
    }
}

impl<const N: usize> Default for StackText<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// "00" to "99", each number's two digits.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// An integer's text: at most 20 bytes (`i64::MIN`).
pub type IntText = StackText<20>;

/// Writes the RESP header line `<kind><n>\r\n`, assembled on the stack and copied once:
/// headers are most of what a reply of many small values (stream entries) writes, and of what
/// the AOF records for each command.
pub fn put_header<B: BufMut>(buf: &mut B, kind: u8, n: i64) {
    if (0..10).contains(&n) {
        buf.put_slice(&[kind, b'0' + n as u8, b'\r', b'\n']);
        return;
    }
    if (10..100).contains(&n) {
        let (tens, ones) = (n as u8 / 10, n as u8 % 10);
        buf.put_slice(&[kind, b'0' + tens, b'0' + ones, b'\r', b'\n']);
        return;
    }
    let mut line = [0u8; 23];
    line[21..].copy_from_slice(b"\r\n");
    let digits = itoa_buf(n);
    let text = digits.as_bytes();
    let start = 21 - text.len() - 1;
    line[start] = kind;
    line[start + 1..21].copy_from_slice(text);
    buf.put_slice(&line[start..]);
}

/// Formats `n` in decimal on the stack.
pub fn itoa_buf(n: i64) -> IntText {
    let mut text = IntText::new();
    text.prepend_digits(n.unsigned_abs());
    if n < 0 {
        text.prepend_byte(b'-');
    }
    text
}

/// Formats a double as Redis does for replies (`%.17g`, with `inf`/`-inf`/`nan`).
pub fn format_double(value: f64) -> String {
    if value.is_nan() {
        return "nan".into();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if value == value.trunc() && value.abs() < 1e17 {
        return format!("{}", value as i64);
    }
    // Shortest text that reads back to the same double, which is what %.17g round-trips to.
    format!("{value}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(proto: Protocol, f: impl FnOnce(&mut Reply)) -> String {
        let mut buf = BytesMut::new();
        f(&mut Reply::new(&mut buf, proto));
        String::from_utf8(buf.to_vec()).unwrap()
    }

    #[test]
    fn maps_flatten_in_resp2() {
        let write = |r: &mut Reply| {
            r.map(1);
            r.bulk(b"a");
            r.int(-1);
        };
        assert_eq!(encode(Protocol::Resp2, write), "*2\r\n$1\r\na\r\n:-1\r\n");
        assert_eq!(encode(Protocol::Resp3, write), "%1\r\n$1\r\na\r\n:-1\r\n");
    }

    #[test]
    fn an_integer_repeated_is_that_many_replies() {
        assert_eq!(
            encode(Protocol::Resp2, |r| r.ints(7, 3)),
            ":7\r\n:7\r\n:7\r\n"
        );
        assert_eq!(
            encode(Protocol::Resp3, |r| r.ints(-1234567, 2)),
            ":-1234567\r\n:-1234567\r\n"
        );
        assert_eq!(
            encode(Protocol::Resp2, |r| r.ints(i64::MIN, 1)),
            format!(":{}\r\n", i64::MIN)
        );
        assert_eq!(encode(Protocol::Resp2, |r| r.ints(5, 0)), "");
    }

    #[test]
    fn nulls_follow_the_protocol() {
        assert_eq!(encode(Protocol::Resp2, |r| r.null()), "$-1\r\n");
        assert_eq!(encode(Protocol::Resp2, |r| r.null_array()), "*-1\r\n");
        assert_eq!(encode(Protocol::Resp3, |r| r.null_array()), "_\r\n");
    }

    #[test]
    fn errors_never_carry_newlines() {
        assert_eq!(
            encode(Protocol::Resp2, |r| r.error(b"ERR a\r\nb")),
            "-ERR a  b\r\n"
        );
    }

    #[test]
    fn verbatim_strings_carry_their_format() {
        assert_eq!(
            encode(Protocol::Resp3, |r| r.verbatim(b"hi")),
            "=6\r\ntxt:hi\r\n"
        );
        assert_eq!(
            encode(Protocol::Resp2, |r| r.verbatim(b"hi")),
            "$2\r\nhi\r\n"
        );
    }

    #[test]
    fn integers_format_at_the_extremes() {
        assert_eq!(itoa_buf(i64::MIN).as_bytes(), b"-9223372036854775808");
        assert_eq!(itoa_buf(0).as_bytes(), b"0");
        assert_eq!(itoa_buf(i64::MAX).as_bytes(), b"9223372036854775807");
    }

    #[test]
    fn integers_format_as_std_does() {
        // Every digit count, odd and even, and each pair boundary.
        for n in (0..19).map(|k| 10i64.pow(k)) {
            for v in [n - 1, n, n + 1, n * 5 + 3, -n, -(n * 7) - 1] {
                assert_eq!(itoa_buf(v).as_bytes(), v.to_string().as_bytes(), "{v}");
            }
        }
        for v in 0..1000 {
            assert_eq!(itoa_buf(v).as_bytes(), v.to_string().as_bytes());
        }
    }
}
