//! The frames PUBLISH delivers, encoded once per protocol version and shared by every receiver.
//!
//! One value can carry the frames of several messages to the same receivers back to back (a run
//! of pipelined PUBLISHes to one channel, see [`super::PublishRun`]): each receiver then gets one
//! shared buffer for the whole run instead of one per message.

use bytes::{Bytes, BytesMut};

use crate::protocol::{Protocol, Reply};

/// Lazily encoded frames of a channel's messages, in order: RESP2 arrays or RESP3 pushes. Most
/// messages reach subscribers of only one protocol, so each form is built the first time a
/// receiver needs it.
pub struct MessageFrames<'a, M> {
    kind: &'static [u8],
    pattern: Option<&'a [u8]>,
    channel: &'a [u8],
    messages: &'a [M],
    resp2: Option<Bytes>,
    resp3: Option<Bytes>,
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
        }
    }

    /// The frame for a receiver speaking `resp3` or not; a cheap clone after the first call.
    pub fn get(&mut self, resp3: bool) -> Bytes {
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
        let frame = buf.freeze();
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
            &frames.get(false)[..],
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
        assert_eq!(
            &frames.get(true)[..],
            b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
    }

    #[test]
    fn pattern_messages_carry_the_pattern_first() {
        let mut frames = MessageFrames::new(b"pmessage", Some(b"c*"), b"ch", &[b""]);
        assert_eq!(
            &frames.get(false)[..],
            b"*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$0\r\n\r\n"
        );
    }

    #[test]
    fn second_receiver_shares_the_first_encoding() {
        let mut frames = MessageFrames::new(b"message", None, b"ch", &[b"payload"]);
        let a = frames.get(false);
        let b = frames.get(false);
        assert_eq!(a.as_ptr(), b.as_ptr());
    }

    #[test]
    fn several_messages_are_one_buffer_of_frames_in_order() {
        let messages = [&b"a"[..], b"bc"];
        let mut frames = MessageFrames::new(b"smessage", None, b"ch", &messages);
        assert_eq!(
            &frames.get(true)[..],
            &b">3\r\n$8\r\nsmessage\r\n$2\r\nch\r\n$1\r\na\r\n>3\r\n$8\r\nsmessage\r\n$2\r\nch\r\n$2\r\nbc\r\n"[..]
        );
    }
}
