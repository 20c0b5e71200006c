//! Decoding of client requests, without I/O: the connection feeds bytes in and takes
//! complete commands out.
//!
//! The parser keeps its place between reads (like Redis's `multibulklen`/`bulklen`), so a large
//! argument arriving in many reads is scanned once and split off the read buffer as a shared
//! `Bytes` without copying; small arguments are copied out (see `RequestParser::next`).

use bytes::{Buf, Bytes, BytesMut};

use super::split::split_args;
use crate::number::parse_i64;

/// Longest inline request, or count line, Redis accepts before it gives up (`PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX_SIZE: usize = 64 * 1024;

/// Limits that bound what a client can make the server allocate.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `proto-max-bulk-len`: the longest bulk string accepted.
    pub max_bulk_len: i64,
    /// Whether the client still has to authenticate, which shrinks the accepted sizes as in Redis.
    pub unauthenticated: bool,
}

/// A protocol violation. The connection answers `-ERR Protocol error: <text>` and closes.
/// Held as bytes because Redis echoes the offending byte raw (`expected '$', got '\xff'`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Protocol error: {}", String::from_utf8_lossy(.0))]
pub struct ParseError(pub Vec<u8>);

impl ParseError {
    fn new(text: &str) -> Self {
        ParseError(text.as_bytes().to_vec())
    }

    /// The error line as sent: `ERR Protocol error: ...`.
    pub fn reply_text(&self) -> Vec<u8> {
        let mut line = b"ERR Protocol error: ".to_vec();
        line.extend_from_slice(&self.0);
        line
    }
}

/// Where the parser is within a multibulk request.
#[derive(Debug, Default)]
pub struct RequestParser {
    /// Arguments still expected in the current multibulk request (0: between requests).
    remaining: usize,
    /// Length of the bulk string whose header has been read, if any.
    bulk_len: Option<usize>,
    args: Vec<Bytes>,
    /// Bytes held in `args`, counted against the query buffer limit.
    args_bytes: usize,
}

impl RequestParser {
    /// Bytes of a partly read request held outside the read buffer.
    pub fn pending_bytes(&self) -> usize {
        self.args_bytes
    }

    /// How many more bytes the current bulk string needs, so the reader can reserve them at once.
    pub fn bytes_wanted(&self, buffered: usize) -> usize {
        match self.bulk_len {
            Some(len) => (len + 2).saturating_sub(buffered),
            None => 0,
        }
    }

    /// Takes the next complete command out of `buf`. `Ok(None)` means more bytes are needed.
    /// Empty requests (`*0`, `*-1`, a blank inline line) are skipped, as Redis skips them.
    pub fn next(
        &mut self,
        buf: &mut BytesMut,
        limits: Limits,
    ) -> Result<Option<Vec<Bytes>>, ParseError> {
        if self.remaining == 0 {
            if let Some(args) = Self::whole_request(buf, limits) {
                return Ok(Some(args));
            }
        }
        loop {
            if self.remaining == 0 {
                let Some(&first) = buf.first() else {
                    return Ok(None);
                };
                let started = if first == b'*' {
                    self.start_multibulk(buf, limits)?
                } else {
                    match Self::inline(buf)? {
                        Some(args) if args.is_empty() => continue,
                        Some(args) => return Ok(Some(args)),
                        None => return Ok(None),
                    }
                };
                match started {
                    None => return Ok(None),
                    Some(0) => continue,
                    Some(count) => {
                        self.remaining = count;
                        self.args = Vec::with_capacity(count.min(1024));
                    }
                }
            }
            while self.remaining > 0 {
                let len = match self.bulk_len {
                    Some(len) => len,
                    None => match self.bulk_header(buf, limits)? {
                        Some(len) => {
                            self.bulk_len = Some(len);
                            len
                        }
                        None => return Ok(None),
                    },
                };
                if buf.len() < len + 2 {
                    return Ok(None);
                }
                // Small arguments are copied out: a slice of the read buffer would keep the
                // whole buffer alive for as long as a stored key, value or stream field lives.
                // Large ones are split off without a copy; their buffer is mostly themselves.
                // The command name is never stored, so it stays a slice.
                let arg = if len <= 4096 && !self.args.is_empty() {
                    let arg = Bytes::copy_from_slice(&buf[..len]);
                    buf.advance(len);
                    arg
                } else {
                    buf.split_to(len).freeze()
                };
                // Redis skips the two bytes after a bulk string without checking them.
                buf.advance(2);
                self.args_bytes += arg.len();
                self.args.push(arg);
                self.bulk_len = None;
                self.remaining -= 1;
            }
            self.args_bytes = 0;
            return Ok(Some(std::mem::take(&mut self.args)));
        }
    }

    /// The common case in one pass: a whole multibulk request of a few small arguments, already
    /// in the buffer ([`SmallRequest`]), copied out. Anything else (incomplete, large, or
    /// malformed) is left untouched for the general path, which keeps its errors and its place
    /// between reads.
    fn whole_request(buf: &mut BytesMut, limits: Limits) -> Option<Vec<Bytes>> {
        let request = SmallRequest::scan(buf, limits)?;
        // Arguments are copied out: a slice of the read buffer would keep the whole buffer
        // alive for as long as a stored key, value or stream field lives. Each gets a copy of
        // its own, which nothing shares until a command clones it: one copy shared by all the
        // arguments (`Bytes::from_owner`) cost an atomic count change per argument handed out
        // and per argument dropped, 12 % of a pipelined PUBLISH (perf), more than the
        // allocations it saved.
        let args = (0..request.count)
            .map(|i| Bytes::copy_from_slice(request.arg(buf, i)))
            .collect();
        buf.advance(request.len);
        Some(args)
    }

    /// The next request when it is a [`SmallRequest`] already whole in `buf`, left in place:
    /// for a caller that can run it from the buffer without its arguments being copied out
    /// (then [`RequestParser::skip`]), or hands it back to [`RequestParser::next`].
    pub fn peek_small(&self, buf: &[u8], limits: Limits) -> Option<SmallRequest> {
        if self.remaining != 0 {
            return None;
        }
        SmallRequest::scan(buf, limits)
    }

    /// Drops a request [`RequestParser::peek_small`] found, once it has run.
    pub fn skip(buf: &mut BytesMut, request: &SmallRequest) {
        buf.advance(request.len);
    }

    /// Reads `*<count>\r\n`. `Ok(None)`: incomplete.
    fn start_multibulk(
        &mut self,
        buf: &mut BytesMut,
        limits: Limits,
    ) -> Result<Option<usize>, ParseError> {
        let Some(cr) = find_line_end(buf, b'\r') else {
            if buf.len() > INLINE_MAX_SIZE {
                return Err(ParseError::new("too big mbulk count string"));
            }
            return Ok(None);
        };
        if cr + 2 > buf.len() {
            return Ok(None);
        }
        let count = parse_i64(&buf[1..cr]);
        let count = match count {
            Some(n) if n <= i64::from(i32::MAX) => n,
            _ => return Err(ParseError::new("invalid multibulk length")),
        };
        if count > 10 && limits.unauthenticated {
            return Err(ParseError::new("unauthenticated multibulk length"));
        }
        buf.advance(cr + 2);
        Ok(Some(count.max(0) as usize))
    }

    /// Reads `$<len>\r\n`. `Ok(None)`: incomplete.
    fn bulk_header(
        &mut self,
        buf: &mut BytesMut,
        limits: Limits,
    ) -> Result<Option<usize>, ParseError> {
        let Some(cr) = find_line_end(buf, b'\r') else {
            if buf.len() > INLINE_MAX_SIZE {
                return Err(ParseError::new("too big bulk count string"));
            }
            return Ok(None);
        };
        if cr + 2 > buf.len() {
            return Ok(None);
        }
        if buf[0] != b'$' {
            // Redis replaces a newline in an error with a space so the reply stays one line.
            let got = if buf[0] == b'\n' { b' ' } else { buf[0] };
            let mut text = b"expected '$', got '".to_vec();
            text.extend_from_slice(&[got, b'\'']);
            return Err(ParseError(text));
        }
        let len = match parse_i64(&buf[1..cr]) {
            Some(n) if n >= 0 && n <= limits.max_bulk_len => n,
            _ => return Err(ParseError::new("invalid bulk length")),
        };
        if len > 16384 && limits.unauthenticated {
            return Err(ParseError::new("unauthenticated bulk length"));
        }
        buf.advance(cr + 2);
        Ok(Some(len as usize))
    }

    /// Reads one inline command line. `Ok(Some(vec![]))` is a blank line.
    fn inline(buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ParseError> {
        let Some(nl) = find_line_end(buf, b'\n') else {
            if buf.len() > INLINE_MAX_SIZE {
                return Err(ParseError::new("too big inline request"));
            }
            return Ok(None);
        };
        let end = if nl > 0 && buf[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        let args =
            split_args(&buf[..end]).map_err(|_| ParseError::new("unbalanced quotes in request"))?;
        buf.advance(nl + 1);
        Ok(Some(args.into_iter().map(Bytes::from).collect()))
    }
}

/// A whole multibulk request of a few small arguments at the start of a read buffer, found in
/// one pass: scanned with a cursor, where the general path advances the buffer after every
/// header and argument and finds each line end with `memchr`. Holds where each argument is,
/// not the arguments.
#[derive(Debug, Clone, Copy)]
pub struct SmallRequest {
    count: usize,
    /// Start and length of each argument: 32 bits are plenty for arguments of at most
    /// [`FAST_MAX_ARG_LEN`], and halve what a peek returns by value.
    spans: [(u32, u32); FAST_MAX_ARGS],
    /// Bytes the whole request takes.
    len: usize,
}

impl SmallRequest {
    fn scan(bytes: &[u8], limits: Limits) -> Option<SmallRequest> {
        if bytes.first() != Some(&b'*') {
            return None;
        }
        let (count, mut at) = small_number(bytes, 1)?;
        if count == 0 || count > FAST_MAX_ARGS || (count > 10 && limits.unauthenticated) {
            return None;
        }
        let mut spans = [(0u32, 0u32); FAST_MAX_ARGS];
        for span in spans.iter_mut().take(count) {
            if *bytes.get(at)? != b'$' {
                return None;
            }
            let (len, start) = small_number(bytes, at + 1)?;
            if len > FAST_MAX_ARG_LEN || len as i64 > limits.max_bulk_len {
                return None;
            }
            // Redis skips the two bytes after a bulk string without checking them.
            at = start + len + 2;
            if at > bytes.len() {
                return None;
            }
            *span = (start as u32, len as u32);
        }
        Some(SmallRequest {
            count,
            spans,
            len: at,
        })
    }

    /// How many arguments, the command name included.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Argument `i` (0 is the command name), read from the buffer the request was found in.
    pub fn arg<'b>(&self, buf: &'b [u8], i: usize) -> &'b [u8] {
        let (start, len) = self.spans[i];
        &buf[start as usize..(start + len) as usize]
    }
}

/// Most arguments [`RequestParser::whole_request`] takes; longer requests take the general path.
const FAST_MAX_ARGS: usize = 16;
/// Longest argument [`RequestParser::whole_request`] copies; longer ones take the general path,
/// which splits them off the read buffer without a copy.
const FAST_MAX_ARG_LEN: usize = 4096;

/// A header number as the fast path accepts it: plain digits without a leading zero (or a lone
/// `0`), at most six of them, then `\r` and one more byte. Returns the number and where the
/// line after it starts. Anything else, or a line not yet complete, is `None`, and the general
/// path decides.
fn small_number(bytes: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut value = 0usize;
    let mut at = from;
    loop {
        let c = *bytes.get(at)?;
        match c {
            b'0'..=b'9' if at - from < 6 && !(at > from && value == 0) => {
                value = value * 10 + usize::from(c - b'0');
            }
            b'\r' if at > from => break,
            _ => return None,
        }
        at += 1;
    }
    // The byte after `\r` must be there; like Redis, its value is not checked.
    (at + 1 < bytes.len()).then_some((value, at + 2))
}

/// Finds `byte` as Redis's `strchr` would: a NUL byte ends the search unsuccessfully.
fn find_line_end(buf: &[u8], byte: u8) -> Option<usize> {
    let at = memchr::memchr2(byte, 0, buf)?;
    (buf[at] == byte).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::persistence::resp::encode_into;

    const OPEN: Limits = Limits {
        max_bulk_len: 512 * 1024 * 1024,
        unauthenticated: false,
    };

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<String>>, ParseError> {
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(args) = parser.next(&mut buf, OPEN)? {
            out.push(
                args.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
            );
        }
        Ok(out)
    }

    #[test]
    fn decodes_pipelined_multibulk_and_inline_commands() {
        let got = parse_all(b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\nset a \"b c\"\r\n").unwrap();
        assert_eq!(
            got,
            vec![vec!["ECHO", "hi"], vec!["PING"], vec!["set", "a", "b c"]]
        );
    }

    proptest::proptest! {
        /// Whatever way a pipeline is cut into reads, every request comes out whole: short
        /// ones through the one-pass path, long, large or cut ones through the general one.
        #[test]
        fn requests_come_out_whole_however_the_reads_fall(
            requests in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::prop_oneof![
                        proptest::collection::vec(proptest::prelude::any::<u8>(), 0..12),
                        proptest::collection::vec(proptest::prelude::any::<u8>(), 100..600),
                        proptest::collection::vec(proptest::prelude::any::<u8>(), 4090..4100),
                    ],
                    1..20,
                ),
                1..8,
            ),
            cuts in proptest::collection::vec(1usize..3000, 0..6),
        ) {
            let mut wire = Vec::new();
            for args in &requests {
                let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                encode_into(&mut wire, &args);
            }
            let mut parser = RequestParser::default();
            let mut buf = BytesMut::new();
            let mut got: Vec<Vec<Vec<u8>>> = Vec::new();
            let mut fed = 0;
            for end in cuts.iter().scan(0, |at, step| { *at += step; Some(*at) }).chain([wire.len()]) {
                let end = end.min(wire.len());
                if end > fed {
                    buf.extend_from_slice(&wire[fed..end]);
                    fed = end;
                }
                while let Some(args) = parser.next(&mut buf, OPEN).unwrap() {
                    got.push(args.iter().map(|a| a.to_vec()).collect());
                }
            }
            proptest::prop_assert_eq!(got, requests);
            proptest::prop_assert!(buf.is_empty());
        }
    }

    #[test]
    fn short_requests_share_one_copy_of_every_size() {
        // Totals at each edge of the packed copy's sizes, split over one and three arguments.
        for total in [
            0, 1, 16, 17, 32, 33, 64, 65, 128, 129, 256, 257, 511, 512, 513,
        ] {
            let bytes: Vec<u8> = (0..total).map(|i| b'a' + (i % 26) as u8).collect();
            let third = total / 3;
            for args in [
                vec![&bytes[..]],
                vec![
                    &bytes[..third],
                    &bytes[third..2 * third],
                    &bytes[2 * third..],
                ],
            ] {
                let mut wire = Vec::new();
                encode_into(&mut wire, &args);
                let mut buf = BytesMut::from(&wire[..]);
                let got = RequestParser::default()
                    .next(&mut buf, OPEN)
                    .unwrap()
                    .unwrap();
                assert_eq!(got, args, "total {total}");
                assert!(buf.is_empty());
            }
        }
    }

    #[test]
    fn skips_empty_requests() {
        assert_eq!(
            parse_all(b"*0\r\n*-1\r\n\r\n\n*1\r\n$4\r\nPING\r\n").unwrap(),
            vec![vec!["PING"]]
        );
    }

    #[test]
    fn resumes_a_request_split_across_reads() {
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::new();
        let whole = b"*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n";
        for (i, byte) in whole.iter().enumerate() {
            buf.extend_from_slice(&[*byte]);
            let got = parser.next(&mut buf, OPEN).unwrap();
            assert_eq!(got.is_some(), i == whole.len() - 1);
        }
    }

    #[test]
    fn a_peeked_request_stays_in_the_buffer_until_skipped() {
        let mut parser = RequestParser::default();
        let mut buf =
            BytesMut::from(&b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$2\r\nhi\r\n*1\r\n$4\r\nPI"[..]);
        let request = parser.peek_small(&buf, OPEN).unwrap();
        assert_eq!(request.count(), 3);
        let args: Vec<&[u8]> = (0..3).map(|i| request.arg(&buf, i)).collect();
        assert_eq!(args, [&b"PUBLISH"[..], b"ch", b"hi"]);
        RequestParser::skip(&mut buf, &request);
        assert_eq!(&buf[..], b"*1\r\n$4\r\nPI");
        // Incomplete: nothing found, nothing taken.
        assert!(parser.peek_small(&buf, OPEN).is_none());
        // Past the fast path's bounds, or inline: left to `next`.
        let big = format!("*2\r\n$4\r\nECHO\r\n${}\r\n{}\r\n", 5000, "x".repeat(5000));
        assert!(parser.peek_small(big.as_bytes(), OPEN).is_none());
        assert!(parser.peek_small(b"PING\r\n", OPEN).is_none());
        // In the middle of a request the general path holds its place: no peeking.
        assert_eq!(parser.next(&mut buf, OPEN).unwrap(), None);
        buf.extend_from_slice(b"NG\r\n*1\r\n$4\r\nPING\r\n");
        assert!(parser.peek_small(&buf, OPEN).is_none());
        assert_eq!(parser.next(&mut buf, OPEN).unwrap().unwrap(), ["PING"]);
        assert!(parser.peek_small(&buf, OPEN).is_some());
    }

    #[test]
    fn reports_redis_protocol_errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"*abc\r\n", "invalid multibulk length"),
            (b"*3000000000\r\n", "invalid multibulk length"),
            (b"*1\r\nfoo\r\n", "expected '$', got 'f'"),
            (b"*1\r\n$-1\r\n", "invalid bulk length"),
            (b"*1\r\n$abc\r\n", "invalid bulk length"),
            (b"*1\r\n$600000000\r\n", "invalid bulk length"),
            (b"set \"a\r\n", "unbalanced quotes in request"),
        ];
        for (input, text) in cases {
            assert_eq!(
                parse_all(input),
                Err(ParseError::new(text)),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn bounds_lines_without_terminator() {
        let long = vec![b'a'; INLINE_MAX_SIZE + 1];
        assert_eq!(
            parse_all(&long),
            Err(ParseError::new("too big inline request"))
        );
        let mut count = b"*".to_vec();
        count.extend(std::iter::repeat_n(b'1', INLINE_MAX_SIZE + 1));
        assert_eq!(
            parse_all(&count),
            Err(ParseError::new("too big mbulk count string"))
        );
    }

    #[test]
    fn unauthenticated_clients_get_small_limits() {
        let limits = Limits {
            unauthenticated: true,
            ..OPEN
        };
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::from(&b"*11\r\n"[..]);
        assert_eq!(
            parser.next(&mut buf, limits),
            Err(ParseError::new("unauthenticated multibulk length"))
        );
    }
}
