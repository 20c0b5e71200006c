//! The wire: requests in (RESP multibulk or inline), replies out (RESP2 or RESP3).
//!
//! Requests are decoded by our own parser rather than a general RESP decoder because Redis's
//! request parser accepts only a subset of RESP (arrays of bulk strings, or an inline line) and
//! answers each violation with its own `Protocol error: ...` text, which clients and the compat
//! suite compare byte for byte.

pub mod reply;
pub mod request;
pub mod split;

pub use reply::{Protocol, Reply};
pub use request::{Limits, ParseError, RequestParser, SmallRequest};
