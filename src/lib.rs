//! Herald: a Redis-protocol-compatible message server.
