//! The frames PUBLISH delivers, encoded once per protocol version and shared by every receiver.

use bytes::{Bytes, BytesMut};

use crate::protocol::{Protocol, Reply};

/// Lazily encoded frames of one message: a RESP2 array and a RESP3 push. Most messages reach
/// subscribers of only one protocol, so each form is built the first time a receiver needs it.
pub struct MessageFrames<'a> {
    kind: &'static [u8],
    pattern: Option<&'a [u8]>,
    channel: &'a [u8],
    message: &'a [u8],
    resp2: Option<Bytes>,
    resp3: Option<Bytes>,
}

impl<'a> MessageFrames<'a> {
    /// `kind` is `message`, `pmessage` (with `pattern`) or `smessage`.
    pub fn new(
        kind: &'static [u8],
        pattern: Option<&'a [u8]>,
        channel: &'a [u8],
        message: &'a [u8],
    ) -> Self {
        MessageFrames {
            kind,
            pattern,
            channel,
            message,
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
        let size =
            48 + self.channel.len() + self.message.len() + self.pattern.map_or(0, <[u8]>::len);
        let mut buf = BytesMut::with_capacity(size);
        let mut out = Reply::new(&mut buf, protocol);
        out.push(if self.pattern.is_some() { 4 } else { 3 });
        out.bulk(self.kind);
        if let Some(pattern) = self.pattern {
            out.bulk(pattern);
        }
        out.bulk(self.channel);
        out.bulk(self.message);
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
        let mut frames = MessageFrames::new(b"message", None, b"ch", b"hi");
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
        let mut frames = MessageFrames::new(b"pmessage", Some(b"c*"), b"ch", b"");
        assert_eq!(
            &frames.get(false)[..],
            b"*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$0\r\n\r\n"
        );
    }

    #[test]
    fn second_receiver_shares_the_first_encoding() {
        let mut frames = MessageFrames::new(b"message", None, b"ch", b"payload");
        let a = frames.get(false);
        let b = frames.get(false);
        assert_eq!(a.as_ptr(), b.as_ptr());
    }
}
