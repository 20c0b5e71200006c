//! Errors a command can answer with, each mapped once to the exact text Redis sends.
//!
//! Client libraries and frameworks compare these strings byte for byte (`BUSYGROUP`, `NOGROUP`,
//! `WRONGTYPE`...), so every text lives here and nowhere else. Each `Display` is the whole error
//! line without the leading `-`; its first word is the prefix INFO's errorstats counts by.

/// What a command failed with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// An error line that quotes the client's bytes, sent as they are (see
    /// [`CommandError::text`]); built with [`CommandError::quoting`].
    #[error("{}", lossy(.0))]
    Quoting(Vec<u8>),
    #[error("ERR wrong number of arguments for '{0}' command")]
    WrongArity(String),
    #[error("ERR syntax error")]
    Syntax,
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    #[error("ERR increment or decrement would overflow")]
    Overflow,
    #[error("ERR invalid expire time in '{0}' command")]
    InvalidExpire(String),
    #[error("NOAUTH Authentication required.")]
    NoAuth,
    #[error("WRONGPASS invalid username-password pair or user is disabled.")]
    WrongPass,
    #[error("ERR DB index is out of range")]
    DbIndexOutOfRange,
    /// COPY or MOVE onto the very key they read (Redis's `shared.sameobjecterr`).
    #[error("ERR source and destination objects are the same")]
    SameObject,
    #[error("ERR no such key")]
    NoSuchKey,
    #[error("ERR MULTI calls can not be nested")]
    NestedMulti,
    #[error("ERR EXEC without MULTI")]
    ExecWithoutMulti,
    #[error("ERR DISCARD without MULTI")]
    DiscardWithoutMulti,
    #[error("ERR WATCH inside MULTI is not allowed")]
    WatchInsideMulti,
    #[error("EXECABORT Transaction discarded because of previous errors.")]
    ExecAbort,
    /// EXEC refused before it ran (arity, NOAUTH, subscribed mode): the reason follows, without
    /// its `ERR` prefix when it has one, as Redis words it.
    #[error("EXECABORT Transaction discarded because of: {0}")]
    ExecRefused(String),
    #[error("ERR Command not allowed inside a transaction")]
    NotAllowedInMulti,
    #[error(
        "ERR Can't execute '{0}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    )]
    SubscribedContext(String),
    #[error("NOPROTO unsupported protocol version")]
    NoProto,
    /// A command without Redis's `loading` flag while the AOF is replayed. Redis's text, word
    /// for word: client libraries match it (redis-py's `BusyLoadingError`).
    #[error("LOADING Redis is loading the dataset in memory")]
    Loading,
    /// A command that may grow memory while used memory is above `maxmemory`.
    #[error("OOM command not allowed when used memory > 'maxmemory'.")]
    OutOfMemory,
    /// Any other `ERR <text>` reply.
    #[error("ERR {0}")]
    Err(String),
    /// A reply with its own prefix, for the rare errors that are not `ERR`.
    #[error("{0}")]
    Prefixed(String),
}

impl CommandError {
    /// The error's prefix, as INFO errorstats names it (`ERR`, `WRONGTYPE`, ...).
    pub fn prefix(&self) -> String {
        let text = self.to_string();
        text.split(' ').next().unwrap_or("ERR").to_owned()
    }

    /// The EXECABORT error for an EXEC refused with `reason`.
    pub fn exec_refused(reason: &CommandError) -> Self {
        let text = reason.to_string();
        let text = text.strip_prefix("ERR ").map(str::to_owned).unwrap_or(text);
        CommandError::ExecRefused(text)
    }

    /// `ERR <text>` from any message.
    pub fn err(text: impl Into<String>) -> Self {
        CommandError::Err(text.into())
    }

    /// An error line of text and the client's own bytes, each of those cut at a NUL as Redis's
    /// `%s` cuts it: `quoting(&[b"NOGROUP No such key '", key, b"'"])` (the odd parts are text).
    pub fn quoting(parts: &[&[u8]]) -> Self {
        let text = parts
            .iter()
            .enumerate()
            .flat_map(|(i, part)| {
                if i % 2 == 1 {
                    c_str(part, usize::MAX)
                } else {
                    part
                }
            })
            .copied()
            .collect();
        CommandError::Quoting(text)
    }

    /// The error line as sent (without the leading `-`): a [`CommandError::Quoting`] keeps
    /// the client's bytes, where `Display` must make text of them.
    pub fn text(&self) -> Vec<u8> {
        match self {
            CommandError::Quoting(text) => text.clone(),
            _ => self.to_string().into_bytes(),
        }
    }

    /// `unknown subcommand 'sub'. Try COMMAND HELP.`, the subcommand cut as Redis's `%.128s`.
    pub fn unknown_subcommand(command: &str, sub: &[u8]) -> Self {
        CommandError::quoting(&[
            b"ERR unknown subcommand '",
            c_str(sub, 128),
            format!("'. Try {command} HELP.").as_bytes(),
        ])
    }

    /// XGROUP, XINFO and PUBSUB's own wording for a subcommand they do not know.
    pub fn unknown_subcommand_or_arity(command: &str, sub: &[u8]) -> Self {
        CommandError::quoting(&[
            b"ERR unknown subcommand or wrong number of arguments for '",
            c_str(sub, 128),
            format!("'. Try {command} HELP.").as_bytes(),
        ])
    }
}

fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// What C's `%.<max>s` prints of `bytes`: up to the first NUL, at most `max` bytes.
pub fn c_str(bytes: &[u8], max: usize) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end.min(max)]
}

/// Builds the argument list of an unknown-command error as Redis does: each argument quoted,
/// stopping once 128 bytes of it have been written.
pub fn unknown_command(args: &[bytes::Bytes]) -> CommandError {
    let mut listed = Vec::new();
    for arg in &args[1..] {
        if listed.len() >= 128 {
            break;
        }
        let room = 128 - listed.len();
        listed.push(b'\'');
        listed.extend_from_slice(c_str(arg, room));
        listed.extend_from_slice(b"' ");
    }
    CommandError::quoting(&[
        b"ERR unknown command '",
        c_str(&args[0], 128),
        b"', with args beginning with: ",
        &listed,
    ])
}

pub type CommandResult<T = ()> = Result<T, CommandError>;
