//! The frames PUBLISH delivers, encoded once per protocol version and shared by every receiver.
//!
//! One value can carry the frames of several messages to the same receivers back to back (a run
//! of pipelined PUBLISHes to one channel, see [`super::PublishRun`]): each receiver then gets one
//! shared buffer for the whole run instead of one per message.

use bytes::BytesMut;

use crate::outbox::Frame;
use crate::protocol::{Protocol, Reply};
use crate::spool::{self, Spool};

/// Lazily encoded frames of a channel's messages, in order: RESP2 arrays or RESP3 pushes. Most
/// messages reach subscribers of only one protocol, so each form is built the first time a
/// receiver needs it.
pub struct MessageFrames<'a, M> {
    kind: &'static [u8],
    pattern: Option<&'a [u8]>,
    channel: &'a [u8],
    messages: &'a [M],
    resp2: Option<Frame>,
    resp3: Option<Frame>,
    /// Where large frames are also copied, for receivers' sockets to be fed from without a copy.
    spool: Option<&'a Spool>,
}

impl<'a, M: AsRef<[u8]>> MessageFrames<'a, M> {
    /// `kind` is `message`, `pmessage` (with `pattern`) or `smessage`.
    pub fn new(
        kind: &'static [u8],
        pattern: Option<&'a [u8]>,
        channel: &'a [u8],
        messages: &'a [M],
    ) -> Self {
        MessageFrames {
            kind,
            pattern,
            channel,
            messages,
            resp2: None,
            resp3: None,
            spool: None,
        }
    }

    /// Copies frames of [`spool::MIN_FRAME`] bytes or more into `spool` when there are
    /// [`spool::MIN_RECEIVERS`] `receivers` or more (see [`crate::spool`]).
    pub fn spooled(mut self, spool: &'a Spool, receivers: usize) -> Self {
        self.spool = (receivers >= spool::MIN_RECEIVERS).then_some(spool);
        self
    }

    /// The frame for a receiver speaking `resp3` or not; a cheap clone after the first call.
    pub fn get(&mut self, resp3: bool) -> Frame {
        let (slot, protocol) = if resp3 {
            (&mut self.resp3, Protocol::Resp3)
        } else {
            (&mut self.resp2, Protocol::Resp2)
        };
        if let Some(frame) = slot {
            return frame.clone();
        }
        // Every frame starts with the same header, kind, pattern and channel: encoded once.
        let mut prefix =
            BytesMut::with_capacity(32 + self.channel.len() + self.pattern.map_or(0, <[u8]>::len));
        let mut head = Reply::new(&mut prefix, protocol);
        head.push(if self.pattern.is_some() { 4 } else { 3 });
        head.bulk(self.kind);
        if let Some(pattern) = self.pattern {
            head.bulk(pattern);
        }
        head.bulk(self.channel);
        let payload: usize = self.messages.iter().map(|m| m.as_ref().len()).sum();
        let mut buf = BytesMut::with_capacity((prefix.len() + 16) * self.messages.len() + payload);
        for message in self.messages {
            buf.extend_from_slice(&prefix);
            Reply::new(&mut buf, protocol).bulk(message.as_ref());
        }
        let bytes = buf.freeze();
        let spooled = match self.spool {
            Some(spool) if bytes.len() >= spool::MIN_FRAME => spool.put(&bytes),
            _ => None,
        };
        let frame = Frame { bytes, spooled };
        *slot = Some(frame.clone());
        frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_message_as_array_in_resp2_and_push_in_resp3() {
        let mut frames = MessageFrames::new(b"message", None, b"ch", &[b"hi"]);
        assert_eq!(
            &frames.get(false).bytes[..],
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
        assert_eq!(
            &frames.get(true).bytes[..],
            b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
    }

    #[test]
    fn pattern_messages_carry_the_pattern_first() {
        let mut frames = MessageFrames::new(b"pmessage", Some(b"c*"), b"ch", &[b""]);
        assert_eq!(
            &frames.get(false).bytes[..],
            b"*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$0\r\n\r\n"
        );
    }

    #[test]
    fn second_receiver_shares_the_first_encoding() {
        let mut frames = MessageFrames::new(b"message", None, b"ch", &[b"payload"]);
        let a = frames.get(false);
        let b = frames.get(false);
        assert_eq!(a.bytes.as_ptr(), b.bytes.as_ptr());
    }

    #[test]
    fn large_frames_for_many_receivers_are_spooled_once_per_protocol() {
        use std::os::unix::fs::FileExt;
        let spool = Spool::default();
        let message = vec![b'x'; spool::MIN_FRAME];
        let messages = [&message[..]];
        let mut frames = MessageFrames::new(b"message", None, b"ch", &messages)
            .spooled(&spool, spool::MIN_RECEIVERS);
        let a = frames.get(false);
        let b = frames.get(false);
        let (sa, sb) = (a.spooled.unwrap(), b.spooled.unwrap());
        assert_eq!((sa.offset, sa.len), (sb.offset, sb.len));
        let mut copy = vec![0; sa.len];
        sa.file.file.read_exact_at(&mut copy, sa.offset).unwrap();
        assert_eq!(copy, &a.bytes[..]);
        let resp3 = frames.get(true).spooled.unwrap();
        assert!(sa.continued_by(&resp3));
    }

    #[test]
    fn small_frames_and_few_receivers_are_not_spooled() {
        let spool = Spool::default();
        let large = vec![b'x'; spool::MIN_FRAME];
        let few = [&large[..]];
        let mut frames = MessageFrames::new(b"message", None, b"ch", &few)
            .spooled(&spool, spool::MIN_RECEIVERS - 1);
        assert!(frames.get(false).spooled.is_none());
        let small = [&b"hi"[..]];
        let mut frames = MessageFrames::new(b"message", None, b"ch", &small).spooled(&spool, 1000);
        assert!(frames.get(false).spooled.is_none());
    }

    #[test]
    fn several_messages_are_one_buffer_of_frames_in_order() {
        let messages = [&b"a"[..], b"bc"];
        let mut frames = MessageFrames::new(b"smessage", None, b"ch", &messages);
        assert_eq!(
            &frames.get(true).bytes[..],
            &b">3\r\n$8\r\nsmessage\r\n$2\r\nch\r\n$1\r\na\r\n>3\r\n$8\r\nsmessage\r\n$2\r\nch\r\n$2\r\nbc\r\n"[..]
        );
    }
}
