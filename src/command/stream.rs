//! Stream and consumer-group commands: the X* family.
//!
//! Handlers hold the stream's map entry (a shard lock, never across an await) for the length of
//! the command; the keyspace gate is shared, so commands on different streams run in parallel.
//! A read that finds nothing and was asked to BLOCK sets `session.blocked` and replies nothing;
//! the connection then waits for the key to change and runs the command again
//! (see `stream::blocking`).
//!
//! Every change is recorded for the AOF as its resolved effect (see `persistence`): XADD with
//! the id it got and a trim as the exact length it left, group reads and claims as the pending
//! entries and group position they produced (`persistence::streams`).

use std::time::Duration;

use bytes::{Bytes, BytesMut};

use super::args::{self, Options};
use super::table::{flags::*, spec, CommandSpec};
use super::Ctx;
use crate::config::notify;
use crate::error::{CommandError, CommandResult};
use crate::keyspace::Value;
use crate::persistence::streams::{
    ack_effect, consumer_effect, group_position_effect, pending_effect, Effects,
};
use crate::protocol::{Protocol, Reply};
use crate::session::BlockedRead;
use crate::stream::group::DeliveryCount;
use crate::stream::id::invalid_id;
use crate::stream::{
    EntryRef, Group, NewId, NodeLimits, PendingEntry, Stored, Stream, StreamId, Trim, TrimStrategy,
};

const NONE: (i32, i32, i32) = (0, 0, 0);
const KEY1: (i32, i32, i32) = (1, 1, 1);
const KEY2: (i32, i32, i32) = (2, 2, 1);

static XGROUP_SUBS: &[CommandSpec] = &[
    spec!(
        "xgroup|create",
        -5,
        WRITE | DENYOOM,
        KEY2,
        "stream",
        "5.0.0",
        "Creates a consumer group."
    ),
    spec!(
        "xgroup|setid",
        -5,
        WRITE,
        KEY2,
        "stream",
        "5.0.0",
        "Sets the last-delivered ID of a consumer group."
    ),
    spec!(
        "xgroup|destroy",
        4,
        WRITE,
        KEY2,
        "stream",
        "5.0.0",
        "Destroys a consumer group."
    ),
    spec!(
        "xgroup|createconsumer",
        5,
        WRITE | DENYOOM,
        KEY2,
        "stream",
        "6.2.0",
        "Creates a consumer in a consumer group."
    ),
    spec!(
        "xgroup|delconsumer",
        5,
        WRITE,
        KEY2,
        "stream",
        "5.0.0",
        "Deletes a consumer from a consumer group."
    ),
    spec!(
        "xgroup|help",
        2,
        LOADING | STALE,
        NONE,
        "stream",
        "5.0.0",
        "Returns helpful text about the different subcommands."
    ),
];

static XINFO_SUBS: &[CommandSpec] = &[
    spec!(
        "xinfo|stream",
        -3,
        READONLY,
        KEY2,
        "stream",
        "5.0.0",
        "Returns information about a stream."
    ),
    spec!(
        "xinfo|groups",
        3,
        READONLY,
        KEY2,
        "stream",
        "5.0.0",
        "Returns a list of the consumer groups of a stream."
    ),
    spec!(
        "xinfo|consumers",
        4,
        READONLY,
        KEY2,
        "stream",
        "5.0.0",
        "Returns a list of the consumers in a consumer group."
    ),
    spec!(
        "xinfo|help",
        2,
        LOADING | STALE,
        NONE,
        "stream",
        "5.0.0",
        "Returns helpful text about the different subcommands."
    ),
];

/// This family's rows of the command table (group `stream`).
pub static COMMANDS: &[CommandSpec] = &[
    spec!("xadd", -5, WRITE | DENYOOM | FAST, KEY1, "stream", "5.0.0", "Appends a new message to a stream. Creates the key if it doesn't exist."),
    spec!("xlen", 2, READONLY | FAST, KEY1, "stream", "5.0.0", "Return the number of messages in a stream."),
    spec!("xrange", -4, READONLY, KEY1, "stream", "5.0.0", "Returns the messages from a stream within a range of IDs."),
    spec!("xrevrange", -4, READONLY, KEY1, "stream", "5.0.0", "Returns the messages from a stream within a range of IDs in reverse order."),
    spec!("xdel", -3, WRITE | FAST, KEY1, "stream", "5.0.0", "Returns the number of messages after removing them from a stream."),
    spec!("xtrim", -4, WRITE, KEY1, "stream", "5.0.0", "Deletes messages from the beginning of a stream."),
    spec!("xsetid", -3, WRITE | DENYOOM | FAST, KEY1, "stream", "5.0.0", "An internal command for replicating stream values."),
    spec!("xread", -4, READONLY | BLOCKING, NONE, "stream", "5.0.0", "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise."),
    spec!("xreadgroup", -7, WRITE | BLOCKING, NONE, "stream", "5.0.0", "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise."),
    spec!("xack", -4, WRITE | FAST, KEY1, "stream", "5.0.0", "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream."),
    spec!("xpending", -3, READONLY, KEY1, "stream", "5.0.0", "Returns the information and entries from a stream consumer group's pending entries list."),
    spec!("xclaim", -6, WRITE | FAST, KEY1, "stream", "5.0.0", "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member."),
    spec!("xautoclaim", -6, WRITE | FAST, KEY1, "stream", "6.2.0", "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member."),
    spec!("xgroup", -2, NONE_FLAGS, NONE, "stream", "5.0.0", "A container for consumer groups commands.", XGROUP_SUBS),
    spec!("xinfo", -2, NONE_FLAGS, NONE, "stream", "5.0.0", "A container for stream introspection commands.", XINFO_SUBS),
];

const NONE_FLAGS: u32 = 0;

/// XADD's and XTRIM's trimming options.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrimArgs {
    strategy: Option<TrimStrategy>,
    approx: bool,
    limit: Option<u64>,
}

/// Where an XREAD / XREADGROUP starts in each stream.
#[derive(Debug, Clone)]
enum ReadFrom {
    /// An id: entries after it (XREAD), or the consumer's pending history after it.
    After(StreamId),
    /// `$`: only entries added from now on.
    Last,
    /// `+` (Redis 7.4): the last entry.
    LastEntry,
    /// `>`: entries never delivered to the group.
    New,
    /// An id Redis refuses, but only once the stream's type (and group) checked out, as it
    /// checks each stream in turn.
    Invalid(CommandError),
}

#[derive(Debug)]
pub struct ReadArgs {
    group: Option<(Bytes, Bytes)>,
    count: Option<usize>,
    block: Option<u64>,
    noack: bool,
    streams: Vec<(Bytes, ReadFrom)>,
}

#[derive(Debug)]
pub enum StreamCommand {
    /// # Format: XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
    Add {
        key: Bytes,
        no_mkstream: bool,
        trim: TrimArgs,
        id: NewId,
        fields: Vec<Bytes>,
    },
    /// # Format: XLEN key
    Len(Bytes),
    /// # Format: XRANGE key start end [COUNT count] (XREVRANGE key end start [COUNT count])
    Range {
        key: Bytes,
        start: StreamId,
        end: StreamId,
        /// `Some(0)`: a COUNT of zero or less, which Redis answers with a null.
        count: Option<usize>,
        rev: bool,
    },
    /// # Format: XDEL key id [id ...]
    /// (An invalid id is reported only if the key holds a stream, as Redis checks.)
    Del(Bytes, CommandResult<Vec<StreamId>>),
    /// # Format: XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
    TrimCmd(Bytes, TrimArgs),
    /// # Format: XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
    SetId {
        key: Bytes,
        last: StreamId,
        entries_added: Option<u64>,
        max_deleted: Option<StreamId>,
    },
    /// # Format: XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]
    /// (XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key [key ...] id [id ...])
    Read(ReadArgs, Vec<Bytes>),
    /// # Format: XACK key group id [id ...]
    /// (An invalid id is reported only if the group exists.)
    Ack(Bytes, Bytes, CommandResult<Vec<StreamId>>),
    /// # Format: XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
    Pending {
        key: Bytes,
        group: Bytes,
        range: Option<(u64, StreamId, StreamId, usize, Option<Bytes>)>,
    },
    /// # Format: XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-ms] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
    Claim {
        key: Bytes,
        group: Bytes,
        consumer: Bytes,
        min_idle: u64,
        ids: Vec<StreamId>,
        /// As IDLE or TIME gave it; outside `0..=now` it becomes now, as in Redis.
        delivery_time: Option<i64>,
        retry_count: Option<u64>,
        force: bool,
        just_id: bool,
        last_id: Option<StreamId>,
    },
    /// XCLAIM whose arguments Redis refuses, but only once the key and group checked out.
    ClaimRefused {
        key: Bytes,
        group: Bytes,
        error: CommandError,
    },
    /// # Format: XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
    AutoClaim {
        key: Bytes,
        group: Bytes,
        consumer: Bytes,
        min_idle: u64,
        start: StreamId,
        count: usize,
        just_id: bool,
    },
    /// # Format: XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]
    /// (An invalid id is reported after the key's checks.)
    GroupCreate {
        key: Bytes,
        group: Bytes,
        id: CommandResult<Option<StreamId>>,
        mkstream: bool,
        entries_read: Option<u64>,
    },
    /// # Format: XGROUP SETID key group id|$ [ENTRIESREAD entries-read]
    /// (An invalid id is reported after the key and group checked out.)
    GroupSetId {
        key: Bytes,
        group: Bytes,
        id: CommandResult<Option<StreamId>>,
        entries_read: Option<u64>,
    },
    /// # Format: XGROUP DESTROY key group
    GroupDestroy(Bytes, Bytes),
    /// # Format: XGROUP CREATECONSUMER key group consumer
    GroupCreateConsumer(Bytes, Bytes, Bytes),
    /// # Format: XGROUP DELCONSUMER key group consumer
    GroupDelConsumer(Bytes, Bytes, Bytes),
    /// # Format: XINFO STREAM key [FULL [COUNT count]]
    /// (Its options are read after the key checked out.)
    InfoStream {
        key: Bytes,
        full: CommandResult<Option<usize>>,
    },
    /// # Format: XINFO GROUPS key
    InfoGroups(Bytes),
    /// # Format: XINFO CONSUMERS key group
    InfoConsumers(Bytes, Bytes),
    /// # Format: XGROUP HELP, XINFO HELP
    Help(&'static str),
}

fn parse_id(arg: &[u8]) -> CommandResult<StreamId> {
    StreamId::parse_strict(arg, 0).ok_or_else(invalid_id)
}

/// COUNT as XRANGE and XREAD take it: negatives and zero mean "no limit" for XREAD and
/// "nothing" for XRANGE, as Redis treats them.
fn parse_count(arg: &[u8]) -> CommandResult<i64> {
    args::int(arg)
}

fn parse_trim(a: &[Bytes], start: usize, xadd: bool) -> CommandResult<(TrimArgs, bool, usize)> {
    let mut trim = TrimArgs::default();
    let mut no_mkstream = false;
    let mut i = start;
    let mut maxlen = None;
    let mut minid = None;
    while i < a.len() {
        let more = a.len() - 1 - i;
        let opt = &a[i];
        if xadd && opt.as_ref() == b"*" {
            break;
        }
        if more >= 1 && args::is(opt, "maxlen") {
            trim.approx = false;
            let mut next = &a[i + 1];
            if more >= 2 && (next.as_ref() == b"~" || next.as_ref() == b"=") {
                trim.approx = next.as_ref() == b"~";
                i += 1;
                next = &a[i + 1];
            }
            let n = args::int(next)?;
            if n < 0 {
                return Err(CommandError::err("The MAXLEN argument must be >= 0."));
            }
            maxlen = Some(n as u64);
            i += 2;
        } else if more >= 1 && args::is(opt, "minid") {
            trim.approx = false;
            let mut next = &a[i + 1];
            if more >= 2 && (next.as_ref() == b"~" || next.as_ref() == b"=") {
                trim.approx = next.as_ref() == b"~";
                i += 1;
                next = &a[i + 1];
            }
            minid = Some(parse_id(next)?);
            i += 2;
        } else if more >= 1 && args::is(opt, "limit") {
            let n = args::int(&a[i + 1])?;
            if n < 0 {
                return Err(CommandError::err("The LIMIT argument must be >= 0."));
            }
            trim.limit = Some(n as u64);
            i += 2;
        } else if xadd && args::is(opt, "nomkstream") {
            no_mkstream = true;
            i += 1;
        } else if xadd {
            break;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    trim.strategy = match (maxlen, minid) {
        (Some(_), Some(_)) => {
            return Err(CommandError::err(
                "syntax error, MAXLEN and MINID options at the same time are not compatible",
            ))
        }
        (Some(n), None) => Some(TrimStrategy::MaxLen(n)),
        (None, Some(id)) => Some(TrimStrategy::MinId(id)),
        (None, None) => None,
    };
    if trim.limit.is_some() && trim.strategy.is_none() {
        return Err(CommandError::err(
            "syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && trim.strategy.is_none() {
        return Err(CommandError::err(
            "syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if trim.limit.is_some() && !trim.approx {
        return Err(CommandError::err(
            "syntax error, LIMIT cannot be used without the special ~ option",
        ));
    }
    Ok((trim, no_mkstream, i))
}

fn parse_read(a: &[Bytes], group_form: bool) -> CommandResult<ReadArgs> {
    let mut read = ReadArgs {
        group: None,
        count: None,
        block: None,
        noack: false,
        streams: Vec::new(),
    };
    let mut i = 1;
    let mut streams_at = None;
    while i < a.len() {
        let more = a.len() - 1 - i;
        let opt = &a[i];
        if args::is(opt, "block") && more >= 1 {
            let ms = args::int(&a[i + 1])
                .map_err(|_| CommandError::err("timeout is not an integer or out of range"))?;
            if ms < 0 {
                return Err(CommandError::err("timeout is negative"));
            }
            read.block = Some(ms as u64);
            i += 2;
        } else if args::is(opt, "count") && more >= 1 {
            let n = args::int(&a[i + 1])?;
            read.count = (n > 0).then_some(n as usize);
            i += 2;
        } else if args::is(opt, "streams") && more >= 1 {
            streams_at = Some(i + 1);
            break;
        } else if args::is(opt, "group") && more >= 2 {
            if !group_form {
                return Err(CommandError::err(
                    "The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            read.group = Some((a[i + 1].clone(), a[i + 2].clone()));
            i += 3;
        } else if args::is(opt, "noack") {
            if !group_form {
                return Err(CommandError::err(
                    "The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            read.noack = true;
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let Some(at) = streams_at else {
        return Err(CommandError::Syntax);
    };
    let rest = &a[at..];
    if rest.len() % 2 != 0 {
        return Err(CommandError::err(format!(
            "Unbalanced {} list of streams: for each stream key an ID or '$' must be specified.",
            "XREAD"
        )));
    }
    if group_form && read.group.is_none() {
        return Err(CommandError::err("Missing GROUP option for XREADGROUP"));
    }
    let n = rest.len() / 2;
    for (key, id) in rest[..n].iter().zip(&rest[n..]) {
        let from = match id.as_ref() {
            b"$" if !group_form => ReadFrom::Last,
            b"+" if !group_form => ReadFrom::LastEntry,
            b">" if group_form => ReadFrom::New,
            b"$" | b">" | b"+" => ReadFrom::Invalid(CommandError::err(
                match (group_form, id.as_ref()) {
                    (true, b"+") => "The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set.",
                    (true, _) => "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                    (false, _) => "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                },
            )),
            other => match StreamId::parse(other, 0) {
                Ok(id) => ReadFrom::After(id),
                Err(e) => ReadFrom::Invalid(e),
            },
        };
        read.streams.push((key.clone(), from));
    }
    Ok(read)
}

fn parse_xadd(mut args: Vec<Bytes>) -> CommandResult<StreamCommand> {
    let (trim, no_mkstream, at) = parse_trim(&args, 2, true)?;
    let fields = args.len().saturating_sub(at + 1);
    if fields < 2 || fields % 2 == 1 {
        return Err(CommandError::WrongArity("xadd".into()));
    }
    let id = NewId::parse(&args[at])?;
    if id == NewId::Exact(StreamId::MIN) {
        return Err(CommandError::err(
            "The ID specified in XADD must be greater than 0-0",
        ));
    }
    let key = std::mem::take(&mut args[1]);
    args.drain(..at + 1);
    Ok(StreamCommand::Add {
        key,
        no_mkstream,
        trim,
        id,
        fields: args,
    })
}

impl StreamCommand {
    /// Takes the arguments by value: XADD moves its key and fields out rather than cloning
    /// them (a clone of a freshly read argument allocates its shared count).
    pub fn parse(name: &str, args: Vec<Bytes>) -> CommandResult<Self> {
        if name == "xadd" {
            return parse_xadd(args);
        }
        let a = &args[..];
        Ok(match name {
            "xlen" => StreamCommand::Len(a[1].clone()),
            "xrange" | "xrevrange" => {
                let rev = name == "xrevrange";
                let (lo, hi) = if rev { (&a[3], &a[2]) } else { (&a[2], &a[3]) };
                let start = StreamId::parse_bound(lo, true)?;
                let end = StreamId::parse_bound(hi, false)?;
                let count = match a.len() {
                    4 => None,
                    6 if args::is(&a[4], "count") => {
                        let n = parse_count(&a[5])?;
                        Some(n.max(0) as usize)
                    }
                    5 => return Err(CommandError::Syntax),
                    _ => return Err(CommandError::Syntax),
                };
                StreamCommand::Range {
                    key: a[1].clone(),
                    start,
                    end,
                    count,
                    rev,
                }
            }
            "xdel" => {
                let ids = a[2..].iter().map(|i| parse_id(i)).collect();
                StreamCommand::Del(a[1].clone(), ids)
            }
            "xtrim" => {
                let (trim, _, _) = parse_trim(a, 2, false)?;
                StreamCommand::TrimCmd(a[1].clone(), trim)
            }
            "xsetid" => {
                let last = parse_id(&a[2])?;
                let mut entries_added = None;
                let mut max_deleted = None;
                let mut opts = Options::new(a, 3);
                while let Some(word) = opts.next_word() {
                    match word.as_str() {
                        "entriesadded" => {
                            let n = args::int(opts.value()?)?;
                            if n < 0 {
                                return Err(CommandError::err("entries_added must be positive"));
                            }
                            entries_added = Some(n as u64);
                        }
                        "maxdeletedid" => {
                            let id = parse_id(opts.value()?)?;
                            if last < id {
                                return Err(CommandError::err("The ID specified in XSETID is smaller than the provided max_deleted_entry_id"));
                            }
                            max_deleted = Some(id);
                        }
                        _ => return Err(CommandError::Syntax),
                    }
                }
                StreamCommand::SetId {
                    key: a[1].clone(),
                    last,
                    entries_added,
                    max_deleted,
                }
            }
            "xread" => StreamCommand::Read(parse_read(a, false)?, a.to_vec()),
            "xreadgroup" => StreamCommand::Read(parse_read(a, true)?, a.to_vec()),
            "xack" => {
                let ids = a[3..].iter().map(|i| parse_id(i)).collect();
                StreamCommand::Ack(a[1].clone(), a[2].clone(), ids)
            }
            "xpending" => parse_pending(a)?,
            "xclaim" => parse_claim(a).unwrap_or_else(|error| StreamCommand::ClaimRefused {
                key: a[1].clone(),
                group: a[2].clone(),
                error,
            }),
            "xautoclaim" => parse_autoclaim(a)?,
            "xgroup" => parse_xgroup(a)?,
            "xinfo" => parse_xinfo(a)?,
            _ => return Err(crate::error::unknown_command(a)),
        })
    }

    pub fn execute(self, ctx: &mut Ctx, out: &mut Reply) -> CommandResult {
        let _gate = ctx.gate_shared();
        match self {
            StreamCommand::Add {
                key,
                no_mkstream,
                trim,
                id,
                fields,
            } => xadd(ctx, out, key, no_mkstream, trim, id, fields),
            StreamCommand::Len(key) => {
                let len = read_stream(ctx, &key, |s| s.len())?.unwrap_or(0);
                out.int(len as i64);
                Ok(())
            }
            StreamCommand::Range {
                key,
                start,
                end,
                count,
                rev,
            } => {
                let db = ctx.db();
                let entry = db.get(&key, ctx.now);
                let stream = match entry.as_deref().map(|e| &e.value) {
                    None => {
                        out.array(0);
                        return Ok(());
                    }
                    Some(Value::Stream(s)) => s,
                    Some(_) => return Err(CommandError::WrongType),
                };
                let limit = count.unwrap_or(usize::MAX);
                if limit == 0 {
                    out.null_array();
                    return Ok(());
                }
                let entries: Vec<_> = if start > end {
                    Vec::new()
                } else if rev {
                    stream.refs_rev(start, end).take(limit).collect()
                } else {
                    stream.refs(start, end).take(limit).collect()
                };
                out.array(entries.len());
                for e in &entries {
                    write_entry_ref(out, e);
                }
                Ok(())
            }
            StreamCommand::Del(key, ids) => {
                let deleted: Vec<StreamId> = write_stream(ctx, &key, |s, _| {
                    Ok(ids?.iter().copied().filter(|id| s.delete(*id)).collect())
                })?
                .unwrap_or_default();
                if !deleted.is_empty() {
                    ctx.modified(notify::STREAM, "xdel", &key);
                }
                if !deleted.is_empty() && ctx.state.persistence.is_active() {
                    let mut effect = vec![Bytes::from_static(b"XDEL"), key.clone()];
                    effect.extend(deleted.iter().map(|id| Bytes::from(id.to_string())));
                    ctx.propagate_owned(&effect);
                }
                out.int(deleted.len() as i64);
                Ok(())
            }
            StreamCommand::TrimCmd(key, trim) => {
                let limits = node_limits(ctx);
                let (removed, left) = write_stream(ctx, &key, |s, _| {
                    Ok((s.trim(resolve_trim(trim, limits)), s.len()))
                })?
                .unwrap_or((0, 0));
                if removed > 0 {
                    ctx.modified(notify::STREAM, "xtrim", &key);
                    // Exactly what is left, whatever `~` and LIMIT made of the request.
                    let left = left.to_string();
                    ctx.propagate(&[b"XTRIM", &key, b"MAXLEN", b"=", left.as_bytes()]);
                }
                out.int(removed as i64);
                Ok(())
            }
            StreamCommand::SetId {
                key,
                last,
                entries_added,
                max_deleted,
            } => {
                let done = write_stream(ctx, &key, |s, _| {
                    // Redis's order of checks, so that the first problem found is the one named.
                    if last < s.max_deleted_id {
                        return Err(CommandError::err(
                            "The ID specified in XSETID is smaller than current max_deleted_entry_id",
                        ));
                    }
                    if !s.is_empty() && last < s.last().map_or(StreamId::MIN, |e| e.id) {
                        return Err(CommandError::err(
                            "The ID specified in XSETID is smaller than the target stream top item",
                        ));
                    }
                    if let Some(n) = entries_added {
                        if n < s.len() {
                            return Err(CommandError::err("The entries_added specified in XSETID is smaller than the target stream length"));
                        }
                    }
                    s.last_id = last;
                    if let Some(n) = entries_added {
                        s.entries_added = n;
                    }
                    // MAXDELETEDID 0-0 leaves it as it is, as in Redis.
                    if let Some(id) = max_deleted.filter(|&id| id != StreamId::MIN) {
                        s.max_deleted_id = id;
                    }
                    Ok((s.last_id, s.entries_added, s.max_deleted_id))
                })?;
                let Some((last, added, max_deleted)) = done else {
                    return Err(CommandError::NoSuchKey);
                };
                ctx.notified(notify::STREAM, "xsetid", &key);
                ctx.propagate(&[
                    b"XSETID",
                    &key,
                    last.to_string().as_bytes(),
                    b"ENTRIESADDED",
                    added.to_string().as_bytes(),
                    b"MAXDELETEDID",
                    max_deleted.to_string().as_bytes(),
                ]);
                out.ok();
                Ok(())
            }
            StreamCommand::Read(read, original) => xread(ctx, out, read, original),
            StreamCommand::Ack(key, group, ids) => {
                let acked: Vec<StreamId> = write_stream(ctx, &key, |s, _| {
                    Ok(match s.groups.get_mut(&group) {
                        Some(g) => g.ack_all(&ids?),
                        None => Vec::new(),
                    })
                })?
                .unwrap_or_default();
                if !acked.is_empty() && ctx.state.persistence.is_active() {
                    ctx.propagate_owned(&ack_effect(&key, &group, &acked));
                }
                out.int(acked.len() as i64);
                Ok(())
            }
            StreamCommand::Pending { key, group, range } => xpending(ctx, out, key, group, range),
            StreamCommand::ClaimRefused { key, group, error } => {
                match ctx.db().get(&key, ctx.now).as_deref().map(|e| &e.value) {
                    Some(Value::Stream(s)) if s.groups.contains_key(&group) => Err(error),
                    Some(Value::Stream(_)) | None => Err(no_key_or_group(&key, &group)),
                    Some(_) => Err(CommandError::WrongType),
                }
            }
            StreamCommand::Claim {
                key,
                group,
                consumer,
                min_idle,
                ids,
                delivery_time,
                retry_count,
                force,
                just_id,
                last_id,
            } => {
                let now = ctx.now;
                let recording = ctx.state.persistence.is_active();
                let result = write_stream(ctx, &key, |s, _| {
                    let Some(g) = s.groups.get_mut(&group) else {
                        return Err(no_key_or_group(&key, &group));
                    };
                    let mut effects = Effects::new(recording);
                    if let Some(last) = last_id {
                        if last > g.last_id {
                            g.last_id = last;
                            effects.push(|| group_position_effect(&key, &group, g));
                        }
                    }
                    let delivery = delivery_time
                        .and_then(|t| u64::try_from(t).ok())
                        .filter(|&t| t <= now)
                        .unwrap_or(now);
                    let (c, created) = g.consumer(&consumer, now);
                    c.seen_time = now;
                    if created {
                        effects.push(|| consumer_effect(&key, &group, &consumer));
                    }
                    let mut claimed = Vec::new();
                    let mut gone = Vec::new();
                    for id in ids {
                        let exists = s.get(id).map(|e| e.fields);
                        let g = s.groups.get_mut(&group).expect("group checked above");
                        let Some(fields) = exists else {
                            // Deleted entries leave the PEL, however idle, as in Redis 7.
                            if g.ack(id) {
                                gone.push(id);
                            }
                            continue;
                        };
                        let forced = !g.pel.contains(id);
                        if forced {
                            if !force {
                                continue;
                            }
                            // One delivery already, as Redis's new NACK has; the claim below
                            // counts another unless JUSTID or RETRYCOUNT says not.
                            g.add_pending(id, &consumer, delivery);
                        }
                        let pending = g.pel.get(id).expect("pending, or just made so");
                        // An entry FORCE just made pending had no owner to be idle from: the
                        // minimum idle time does not apply to it, as in Redis.
                        if !forced
                            && min_idle > 0
                            && now.saturating_sub(pending.delivery_time) < min_idle
                        {
                            continue;
                        }
                        let count = match retry_count {
                            Some(n) => DeliveryCount::Set(n),
                            None if just_id => DeliveryCount::Keep,
                            None => DeliveryCount::Bump,
                        };
                        if let Some(p) = g.claim(id, &consumer, delivery, count) {
                            effects.push(|| pending_effect(&key, &group, id, p));
                        }
                        claimed.push((id, fields));
                    }
                    if !gone.is_empty() {
                        effects.push(|| ack_effect(&key, &group, &gone));
                    }
                    if !claimed.is_empty() {
                        if let Some(c) = s
                            .groups
                            .get_mut(&group)
                            .and_then(|g| g.consumers.get_mut(&consumer))
                        {
                            c.active_time = Some(now);
                        }
                    }
                    Ok((claimed, effects, created))
                })?;
                let Some((claimed, effects, created)) = result else {
                    return Err(no_key_or_group(&key, &group));
                };
                if created {
                    consumer_created(ctx, &key);
                }
                effects.iter().for_each(|e| ctx.propagate_owned(e));
                out.array(claimed.len());
                for (id, fields) in &claimed {
                    if just_id {
                        out.bulk(id.to_string().as_bytes());
                    } else {
                        write_entry(out, *id, fields);
                    }
                }
                Ok(())
            }
            StreamCommand::AutoClaim {
                key,
                group,
                consumer,
                min_idle,
                start,
                count,
                just_id,
            } => {
                let now = ctx.now;
                let recording = ctx.state.persistence.is_active();
                let result = write_stream(ctx, &key, |s, _| {
                    if !s.groups.contains_key(&group) {
                        return Err(no_key_or_group(&key, &group));
                    }
                    let mut attempts = count.saturating_mul(10);
                    // The scan stops after `attempts` ids; one more is the cursor it returns.
                    let candidates: Vec<StreamId> = s.groups[&group]
                        .pel
                        .range_from(start)
                        .map(|(id, _)| id)
                        .take(attempts.saturating_add(1))
                        .collect();
                    let mut effects = Effects::new(recording);
                    let created = !s.groups[&group].consumers.contains_key(&consumer);
                    if created {
                        effects.push(|| consumer_effect(&key, &group, &consumer));
                    }
                    let mut claimed = Vec::new();
                    let mut deleted = Vec::new();
                    let mut next = StreamId::MIN;
                    // Claimed and deleted entries both count towards COUNT, as in Redis.
                    let mut room = count;
                    let mut iter = candidates.into_iter();
                    for id in iter.by_ref() {
                        if attempts == 0 || room == 0 {
                            next = id;
                            break;
                        }
                        attempts -= 1;
                        let fields = s.get(id).map(|e| e.fields);
                        let g = s.groups.get_mut(&group).expect("group checked above");
                        let Some(p) = g.pel.get(id) else { continue };
                        let Some(fields) = fields else {
                            // Deleted entries leave the PEL, however idle.
                            g.ack(id);
                            deleted.push(id);
                            room -= 1;
                            continue;
                        };
                        if min_idle > 0 && now.saturating_sub(p.delivery_time) < min_idle {
                            continue;
                        }
                        room -= 1;
                        g.consumer(&consumer, now);
                        let count = if just_id {
                            DeliveryCount::Keep
                        } else {
                            DeliveryCount::Bump
                        };
                        if let Some(p) = g.claim(id, &consumer, now, count) {
                            effects.push(|| pending_effect(&key, &group, id, p));
                        }
                        claimed.push((id, fields));
                    }
                    let g = s.groups.get_mut(&group).expect("group checked above");
                    let (c, _) = g.consumer(&consumer, now);
                    c.seen_time = now;
                    if !claimed.is_empty() {
                        c.active_time = Some(now);
                    }
                    if !deleted.is_empty() {
                        effects.push(|| ack_effect(&key, &group, &deleted));
                    }
                    Ok((next, claimed, deleted, effects, created))
                })?;
                let Some((next, claimed, deleted, effects, created)) = result else {
                    return Err(no_key_or_group(&key, &group));
                };
                if created {
                    consumer_created(ctx, &key);
                }
                effects.iter().for_each(|e| ctx.propagate_owned(e));
                out.array(3);
                out.bulk(next.to_string().as_bytes());
                out.array(claimed.len());
                for (id, fields) in &claimed {
                    if just_id {
                        out.bulk(id.to_string().as_bytes());
                    } else {
                        write_entry(out, *id, fields);
                    }
                }
                out.array(deleted.len());
                deleted
                    .iter()
                    .for_each(|id| out.bulk(id.to_string().as_bytes()));
                Ok(())
            }
            StreamCommand::GroupCreate {
                key,
                group,
                id,
                mkstream,
                entries_read,
            } => {
                let db = ctx.db();
                let made_stream = match db.get(&key, ctx.now).as_deref().map(|e| &e.value) {
                    Some(Value::Stream(_)) => false,
                    Some(_) => return Err(CommandError::WrongType),
                    None if !mkstream => return Err(xgroup_key_missing()),
                    None => true,
                };
                let id = id?;
                let mut entry =
                    db.get_or_insert_with(&key, ctx.now, || Value::Stream(Box::default()));
                let Value::Stream(s) = &mut entry.value else {
                    return Err(CommandError::WrongType);
                };
                if s.groups.contains_key(&group) {
                    return Err(CommandError::Prefixed(
                        "BUSYGROUP Consumer Group name already exists".into(),
                    ));
                }
                let last = id.unwrap_or(s.last_id);
                let created = Group::new(last, entries_read);
                let mut effect = group_position_effect(&key, &group, &created);
                s.groups.insert(group, created);
                drop(entry);
                // Only MKSTREAM making the key counts as a change of it (WATCH), as in Redis.
                if made_stream {
                    ctx.modified(notify::STREAM, "xgroup-create", &key);
                } else {
                    ctx.notified(notify::STREAM, "xgroup-create", &key);
                }
                // XGROUP CREATE key group <id> ENTRIESREAD <n> MKSTREAM: `$` resolved, and
                // MKSTREAM always (harmless when the stream exists).
                effect[1] = Bytes::from_static(b"CREATE");
                effect.push(Bytes::from_static(b"MKSTREAM"));
                ctx.propagate_owned(&effect);
                out.ok();
                Ok(())
            }
            StreamCommand::GroupSetId {
                key,
                group,
                id,
                entries_read,
            } => {
                let effect = write_group(ctx, &key, &group, |g, last_id| {
                    let id = id?;
                    g.last_id = id.unwrap_or(last_id);
                    g.entries_read = entries_read;
                    Ok(group_position_effect(&key, &group, g))
                })??;
                ctx.notified(notify::STREAM, "xgroup-setid", &key);
                ctx.propagate_owned(&effect);
                out.ok();
                Ok(())
            }
            StreamCommand::GroupDestroy(key, group) => {
                let r = write_stream(ctx, &key, |s, _| Ok(s.groups.remove(&group).is_some()))?;
                let Some(destroyed) = r else {
                    return Err(xgroup_key_missing());
                };
                if destroyed {
                    // Readers blocked on the group are woken to answer NOGROUP (Redis's
                    // signalKeyAsReady); WATCH is not broken.
                    ctx.notified(notify::STREAM, "xgroup-destroy", &key);
                    ctx.wake_readers(ctx.session.db, &key);
                    ctx.propagate(&[b"XGROUP", b"DESTROY", &key, &group]);
                }
                out.int(destroyed as i64);
                Ok(())
            }
            StreamCommand::GroupCreateConsumer(key, group, consumer) => {
                let now = ctx.now;
                let created = write_group(ctx, &key, &group, |g, _| g.consumer(&consumer, now).1)?;
                if created {
                    consumer_created(ctx, &key);
                    ctx.propagate_owned(&consumer_effect(&key, &group, &consumer));
                }
                out.int(created as i64);
                Ok(())
            }
            StreamCommand::GroupDelConsumer(key, group, consumer) => {
                let deleted = write_group(ctx, &key, &group, |g, _| g.delete_consumer(&consumer))?;
                if deleted.is_some() {
                    ctx.notified(notify::STREAM, "xgroup-delconsumer", &key);
                    ctx.propagate(&[b"XGROUP", b"DELCONSUMER", &key, &group, &consumer]);
                }
                out.int(deleted.unwrap_or(0) as i64);
                Ok(())
            }
            StreamCommand::InfoStream { key, full } => xinfo_stream(ctx, out, &key, full),
            StreamCommand::InfoGroups(key) => {
                let db = ctx.db();
                let entry = db.get(&key, ctx.now).ok_or(CommandError::NoSuchKey)?;
                let Value::Stream(s) = &entry.value else {
                    return Err(CommandError::WrongType);
                };
                out.array(s.groups.len());
                for (name, g) in &s.groups {
                    out.map(6);
                    out.bulk(b"name");
                    out.bulk(name);
                    out.bulk(b"consumers");
                    out.int(g.consumers.len() as i64);
                    out.bulk(b"pending");
                    out.int(g.pel.len() as i64);
                    out.bulk(b"last-delivered-id");
                    out.bulk(g.last_id.to_string().as_bytes());
                    out.bulk(b"entries-read");
                    opt_int(out, g.entries_read);
                    out.bulk(b"lag");
                    opt_int(out, s.lag(g));
                }
                Ok(())
            }
            StreamCommand::InfoConsumers(key, group) => {
                let db = ctx.db();
                let entry = db.get(&key, ctx.now).ok_or(CommandError::NoSuchKey)?;
                let Value::Stream(s) = &entry.value else {
                    return Err(CommandError::WrongType);
                };
                let g = s.groups.get(&group).ok_or_else(|| no_group(&key, &group))?;
                out.array(g.consumers.len());
                for (name, c) in &g.consumers {
                    out.map(4);
                    out.bulk(b"name");
                    out.bulk(name);
                    out.bulk(b"pending");
                    out.int(c.pending.len() as i64);
                    out.bulk(b"idle");
                    out.int(ctx.now.saturating_sub(c.seen_time) as i64);
                    out.bulk(b"inactive");
                    out.int(
                        c.active_time
                            .map_or(-1, |t| ctx.now.saturating_sub(t) as i64),
                    );
                }
                Ok(())
            }
            StreamCommand::Help(which) => {
                let lines: &[&str] = if which == "XGROUP" {
                    XGROUP_HELP
                } else {
                    XINFO_HELP
                };
                super::connection::help(out, which, lines);
                Ok(())
            }
        }
    }
}

const XGROUP_HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

const XINFO_HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

fn opt_int(out: &mut Reply, n: Option<u64>) {
    match n {
        Some(n) => out.int(n as i64),
        None => out.null(),
    }
}

fn no_group(key: &[u8], group: &[u8]) -> CommandError {
    CommandError::quoting(&[
        b"NOGROUP No such consumer group '",
        group,
        b"' for key name '",
        key,
        b"'",
    ])
}

fn no_key_or_group(key: &[u8], group: &[u8]) -> CommandError {
    CommandError::quoting(&[
        b"NOGROUP No such key '",
        key,
        b"' or consumer group '",
        group,
        b"'",
    ])
}

fn xgroup_key_missing() -> CommandError {
    CommandError::err("The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
}

fn node_limits(ctx: &Ctx) -> NodeLimits {
    use std::sync::atomic::Ordering::Relaxed;
    let settings = &ctx.state.settings;
    NodeLimits {
        max_bytes: settings.stream_node_max_bytes.load(Relaxed) as usize,
        max_entries: settings.stream_node_max_entries.load(Relaxed) as usize,
    }
}

/// Redis's default LIMIT for `~` trimming: a hundred nodes' worth.
fn resolve_trim(args: TrimArgs, limits: NodeLimits) -> Trim {
    let default_limit = if limits.max_entries > 0 {
        100 * limits.max_entries as u64
    } else {
        10_000
    };
    Trim {
        strategy: args.strategy.unwrap_or(TrimStrategy::MaxLen(u64::MAX)),
        approx: args.approx,
        limit: if args.approx {
            args.limit.unwrap_or(default_limit)
        } else {
            0
        },
    }
}

/// Runs `f` on the stream at `key`; `Ok(None)` when there is no such key.
fn read_stream<T>(ctx: &Ctx, key: &[u8], f: impl FnOnce(&Stream) -> T) -> CommandResult<Option<T>> {
    let db = ctx.db();
    let Some(entry) = db.get(key, ctx.now) else {
        return Ok(None);
    };
    match &entry.value {
        Value::Stream(s) => Ok(Some(f(s))),
        _ => Err(CommandError::WrongType),
    }
}

/// Runs `f` on a consumer group (and its stream's last id) for the XGROUP subcommands, with
/// their errors for a missing key or group.
fn write_group<T>(
    ctx: &Ctx,
    key: &[u8],
    group: &[u8],
    f: impl FnOnce(&mut Group, StreamId) -> T,
) -> CommandResult<T> {
    write_stream(ctx, key, |s, _| {
        let last_id = s.last_id;
        let g = s
            .groups
            .get_mut(group)
            .ok_or_else(|| no_group(key, group))?;
        Ok(f(g, last_id))
    })?
    .ok_or_else(xgroup_key_missing)
}

/// Runs `f` on the stream at `key` for change; `Ok(None)` when there is no such key.
fn write_stream<T>(
    ctx: &Ctx,
    key: &[u8],
    f: impl FnOnce(&mut Stream, u64) -> CommandResult<T>,
) -> CommandResult<Option<T>> {
    let db = ctx.db();
    let Some(mut entry) = db.get_mut(key, ctx.now) else {
        return Ok(None);
    };
    match &mut entry.value {
        Value::Stream(s) => f(s, ctx.now).map(Some),
        _ => Err(CommandError::WrongType),
    }
}

fn write_entry(out: &mut Reply, id: StreamId, fields: &[Bytes]) {
    out.array(2);
    out.bulk(id.text().as_bytes());
    out.array(fields.len());
    fields.iter().for_each(|f| out.bulk(f));
}

/// [`write_entry`] for an entry still in its node: the reply is written from the node's bytes.
fn write_entry_ref(out: &mut Reply, e: &EntryRef) {
    out.array(2);
    out.bulk(e.id.text().as_bytes());
    out.array(e.field_count());
    e.for_each_field(|field| match field {
        Stored::Bytes(b) => out.bulk(b),
        Stored::Int(n) => out.bulk_int(n),
    });
}

fn xadd(
    ctx: &mut Ctx,
    out: &mut Reply,
    key: Bytes,
    no_mkstream: bool,
    trim: TrimArgs,
    id: NewId,
    fields: Vec<Bytes>,
) -> CommandResult {
    let limits = node_limits(ctx);
    let db = ctx.db();
    let now = ctx.now;
    let mut entry = match db.get_mut(&key, now) {
        Some(e) => e,
        None if no_mkstream => {
            out.null();
            return Ok(());
        }
        None => db.get_or_insert_with(&key, now, || Value::Stream(Box::default())),
    };
    let Value::Stream(s) = &mut entry.value else {
        return Err(CommandError::WrongType);
    };
    if s.last_id == StreamId::MAX {
        return Err(CommandError::err(
            "The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let last = s.last_id;
    let new_id = match id {
        NewId::Auto => {
            if now > last.ms {
                StreamId::new(now, 0)
            } else {
                last.next().expect("last id is not the maximum")
            }
        }
        NewId::AutoSeq(ms) => {
            if ms > last.ms {
                StreamId::new(ms, 0)
            } else if ms == last.ms
                && last.seq < u64::MAX
                && (last.seq > 0 || s.entries_added > 0 || !last.is_zero())
            {
                StreamId::new(ms, last.seq + 1)
            } else if ms == 0 && last.is_zero() {
                StreamId::new(0, 1)
            } else {
                return Err(too_small());
            }
        }
        NewId::Exact(id) => {
            if id <= last {
                return Err(too_small());
            }
            id
        }
    };
    s.append(new_id, &fields, limits);
    let trimmed = match trim.strategy {
        Some(_) => s.trim(resolve_trim(trim, limits)),
        None => 0,
    };
    let left = s.len();
    drop(entry);
    let id_text = new_id.text();
    out.bulk(id_text.as_bytes());
    ctx.modified(notify::STREAM, "xadd", &key);
    if trimmed > 0 {
        ctx.modified(notify::STREAM, "xtrim", &key);
    }
    if ctx.state.persistence.is_active() {
        // XADD key [MAXLEN = <left>] <id> field value ...: the id it got, the exact trim.
        let left = left.to_string();
        let mut effect: Vec<&[u8]> = Vec::with_capacity(6 + fields.len());
        effect.extend([&b"XADD"[..], &key]);
        if trimmed > 0 {
            effect.extend([&b"MAXLEN"[..], b"=", left.as_bytes()]);
        }
        effect.push(id_text.as_bytes());
        effect.extend(fields.iter().map(|f| &f[..]));
        ctx.propagate(&effect);
    }
    Ok(())
}

fn too_small() -> CommandError {
    CommandError::err(
        "The ID specified in XADD is equal or smaller than the target stream top item",
    )
}

/// One stream's part of an XREAD / XREADGROUP reply.
/// One stream's part of an XREAD / XREADGROUP reply, its entries encoded (in the client's
/// protocol) while the stream was at hand, straight from its nodes.
struct StreamReply {
    key: Bytes,
    protocol: Protocol,
    count: usize,
    body: BytesMut,
}

impl StreamReply {
    fn new(key: &Bytes, protocol: Protocol) -> StreamReply {
        StreamReply {
            key: key.clone(),
            protocol,
            count: 0,
            body: BytesMut::new(),
        }
    }

    fn entry(&mut self, e: &EntryRef) {
        write_entry_ref(&mut Reply::new(&mut self.body, self.protocol), e);
        self.count += 1;
    }

    /// A pending entry deleted since its delivery: its id and a null, as Redis shows it.
    fn deleted(&mut self, id: StreamId) {
        let mut out = Reply::new(&mut self.body, self.protocol);
        out.array(2);
        out.bulk(id.text().as_bytes());
        out.null_array();
        self.count += 1;
    }
}

fn xread(
    ctx: &mut Ctx,
    out: &mut Reply,
    mut read: ReadArgs,
    mut original: Vec<Bytes>,
) -> CommandResult {
    let now = ctx.now;
    let count = read.count.unwrap_or(usize::MAX);
    let mut replies = Vec::new();
    let protocol = out.protocol();
    let db = ctx.db();
    // Validate every key first: a wrong type or a missing group fails the whole command, and
    // so does an invalid id, once the streams before it and its own stream checked out.
    for (key, from) in &read.streams {
        match db.get(key, now).as_deref().map(|e| &e.value) {
            Some(Value::Stream(s)) => {
                if let Some((group, _)) = &read.group {
                    if !s.groups.contains_key(group) {
                        return Err(no_key_or_group_read(key, group));
                    }
                }
            }
            Some(_) => return Err(CommandError::WrongType),
            None => {
                if let Some((group, _)) = &read.group {
                    return Err(no_key_or_group_read(key, group));
                }
            }
        }
        if let ReadFrom::Invalid(error) = from {
            return Err(error.clone());
        }
    }
    let mut resolved_any = false;
    let mut effects = Effects::new(ctx.state.persistence.is_active());
    // Streams whose group got its consumer from this read.
    let mut created_in: Vec<Bytes> = Vec::new();
    for (key, from) in read.streams.iter_mut() {
        let mut entry = match db.get_mut(key, now) {
            Some(e) => e,
            None => {
                if matches!(from, ReadFrom::Last) {
                    *from = ReadFrom::After(StreamId::MIN);
                    resolved_any = true;
                }
                continue;
            }
        };
        let Value::Stream(s) = &mut entry.value else {
            return Err(CommandError::WrongType);
        };
        match (&read.group, from.clone()) {
            (None, ReadFrom::Last) => {
                *from = ReadFrom::After(s.last_id);
                resolved_any = true;
            }
            (None, ReadFrom::LastEntry) => {
                if let Some(last) = s.last() {
                    let mut reply = StreamReply::new(key, protocol);
                    reply.entry(&last);
                    replies.push(reply);
                }
            }
            (None, ReadFrom::After(id)) => {
                let mut reply = StreamReply::new(key, protocol);
                if let Some(start) = id.next() {
                    s.refs(start, StreamId::MAX)
                        .take(count)
                        .for_each(|e| reply.entry(&e));
                }
                if reply.count > 0 {
                    replies.push(reply);
                }
            }
            (Some((group, consumer)), ReadFrom::New) => {
                let start = s.groups[group].last_id.next();
                let mut reply = StreamReply::new(key, protocol);
                let new: Vec<StreamId> = match start {
                    Some(start) => s
                        .refs(start, StreamId::MAX)
                        .take(count)
                        .map(|e| {
                            reply.entry(&e);
                            e.id
                        })
                        .collect(),
                    None => Vec::new(),
                };
                // Redis counts a read entry past `entries_read`, but estimates the counter
                // for an entry at or before a deletion, or while the counter is unknown.
                // `new` rises, so the entries at or before a deletion are a prefix of it.
                let before_deletion = new
                    .iter()
                    .take_while(|id| s.has_tombstones_from(**id))
                    .count();
                let estimates: Vec<Option<u64>> =
                    if before_deletion > 0 || s.groups[group].entries_read.is_none() {
                        new.iter().map(|id| s.estimate_entries_read(*id)).collect()
                    } else {
                        Vec::new()
                    };
                let entries_added = s.entries_added;
                let g = s.groups.get_mut(group).expect("group checked above");
                // As in Redis, a `>` read with nothing to serve does not create its consumer.
                if !new.is_empty() || g.consumers.contains_key(consumer) {
                    let (c, created) = g.consumer(consumer, now);
                    c.seen_time = now;
                    if !new.is_empty() {
                        c.active_time = Some(now);
                    }
                    if created {
                        effects.push(|| consumer_effect(key, group, consumer));
                        created_in.push(key.clone());
                    }
                }
                for (i, id) in new.iter().enumerate() {
                    if *id > g.last_id {
                        match g.entries_read {
                            Some(n) if i >= before_deletion => g.entries_read = Some(n + 1),
                            _ if entries_added > 0 => {
                                g.entries_read = estimates.get(i).copied().flatten()
                            }
                            _ => {}
                        }
                        g.last_id = *id;
                    }
                }
                if !read.noack {
                    g.deliver(&new, consumer, now);
                    if effects.recording() {
                        for id in &new {
                            if let Some(p) = g.pel.get(*id) {
                                effects.push(|| pending_effect(key, group, *id, p));
                            }
                        }
                    }
                }
                if !new.is_empty() {
                    effects.push(|| group_position_effect(key, group, g));
                    replies.push(reply);
                }
            }
            (Some((group, consumer)), ReadFrom::After(after)) => {
                let ids: Vec<StreamId> = {
                    let g = s.groups.get_mut(group).expect("group checked above");
                    let (c, created) = g.consumer(consumer, now);
                    c.seen_time = now;
                    if created {
                        effects.push(|| consumer_effect(key, group, consumer));
                        created_in.push(key.clone());
                    }
                    match after.next() {
                        Some(start) => c
                            .pending
                            .range_from(start)
                            .take(count)
                            .map(|(id, _)| id)
                            .collect(),
                        None => Vec::new(),
                    }
                };
                let mut reply = StreamReply::new(key, protocol);
                for id in ids {
                    let exists = match s.refs(id, id).next() {
                        Some(e) => {
                            reply.entry(&e);
                            true
                        }
                        None => {
                            reply.deleted(id);
                            false
                        }
                    };
                    if exists {
                        let g = s.groups.get_mut(group).expect("group checked above");
                        if let Some(p) = g.pel.get_mut(id) {
                            p.delivery_time = now;
                            p.delivery_count += 1;
                            effects.push(|| pending_effect(key, group, id, p));
                        }
                    }
                }
                replies.push(reply);
            }
            _ => {}
        }
    }
    for key in &created_in {
        consumer_created(ctx, key);
    }
    effects.iter().for_each(|e| ctx.propagate_owned(e));
    if !replies.is_empty() {
        write_read_reply(out, &replies);
        return Ok(());
    }
    match read.block {
        Some(ms) if !ctx.in_exec => {
            // Wait with `$` resolved, so entries added meanwhile are not skipped.
            if resolved_any {
                rewrite_ids(&mut original, &read);
            }
            ctx.session.blocked = Some(BlockedRead {
                db: ctx.session.db,
                keys: read.streams.iter().map(|(k, _)| k.clone()).collect(),
                timeout: (ms > 0).then(|| Duration::from_millis(ms)),
                args: original,
            });
        }
        _ => out.null_array(),
    }
    Ok(())
}

/// The keyspace event of a consumer made by XGROUP CREATECONSUMER, XREADGROUP, XCLAIM or
/// XAUTOCLAIM, as Redis's `streamCreateConsumer` publishes it (no change of the key: WATCH holds).
fn consumer_created(ctx: &Ctx, key: &[u8]) {
    ctx.notified(notify::STREAM, "xgroup-createconsumer", key);
}

fn no_key_or_group_read(key: &[u8], group: &[u8]) -> CommandError {
    CommandError::quoting(&[
        b"NOGROUP No such key '",
        key,
        b"' or consumer group '",
        group,
        b"' in XREADGROUP with GROUP option",
    ])
}

/// Replaces `$` in the stored request with the ids it stood for.
fn rewrite_ids(original: &mut [Bytes], read: &ReadArgs) {
    let n = read.streams.len();
    let first_id = original.len() - n;
    for (i, (_, from)) in read.streams.iter().enumerate() {
        if let ReadFrom::After(id) = from {
            if original[first_id + i].as_ref() == b"$" {
                original[first_id + i] = Bytes::from(id.to_string());
            }
        }
    }
}

fn write_read_reply(out: &mut Reply, replies: &[StreamReply]) {
    if out.resp3() {
        out.map(replies.len());
    } else {
        out.array(replies.len());
    }
    for r in replies {
        if !out.resp3() {
            out.array(2);
        }
        out.bulk(&r.key);
        out.array(r.count);
        out.raw(&r.body);
    }
}

fn xpending(
    ctx: &mut Ctx,
    out: &mut Reply,
    key: Bytes,
    group: Bytes,
    range: Option<(u64, StreamId, StreamId, usize, Option<Bytes>)>,
) -> CommandResult {
    let db = ctx.db();
    let entry = db
        .get(&key, ctx.now)
        .ok_or_else(|| no_key_or_group(&key, &group))?;
    let Value::Stream(s) = &entry.value else {
        return Err(CommandError::WrongType);
    };
    let g = s
        .groups
        .get(&group)
        .ok_or_else(|| no_key_or_group(&key, &group))?;
    let now = ctx.now;
    match range {
        None => {
            out.array(4);
            out.int(g.pel.len() as i64);
            if g.pel.is_empty() {
                out.null();
                out.null();
                out.null_array();
                return Ok(());
            }
            let first = g.pel.first_id().unwrap_or_default();
            let last = g.pel.last_id().unwrap_or_default();
            out.bulk(first.to_string().as_bytes());
            out.bulk(last.to_string().as_bytes());
            let owners: Vec<(&Bytes, usize)> = g
                .consumers
                .iter()
                .filter(|(_, c)| !c.pending.is_empty())
                .map(|(n, c)| (n, c.pending.len()))
                .collect();
            out.array(owners.len());
            for (name, n) in owners {
                out.array(2);
                out.bulk(name);
                out.bulk(n.to_string().as_bytes());
            }
        }
        Some((min_idle, start, end, count, consumer)) => {
            let idle_enough = |(_, p): &(StreamId, &PendingEntry)| {
                now.saturating_sub(p.delivery_time) >= min_idle
            };
            let rows: Vec<_> = match consumer {
                _ if start > end => Vec::new(),
                None => g
                    .pel
                    .range(start, end)
                    .filter(idle_enough)
                    .take(count)
                    .collect(),
                // The consumer's own index, as Redis walks the consumer's PEL: filtering the
                // group's took a pass over every pending entry of every other consumer.
                Some(name) => match g.consumers.get(&name) {
                    None => Vec::new(),
                    Some(c) => c
                        .pending
                        .range(start, end)
                        .filter_map(|(id, ())| Some((id, g.pel.get(id)?)))
                        .filter(idle_enough)
                        .take(count)
                        .collect(),
                },
            };
            out.array(rows.len());
            for (id, p) in rows {
                out.array(4);
                out.bulk(id.to_string().as_bytes());
                out.bulk(&p.consumer);
                out.int(now.saturating_sub(p.delivery_time) as i64);
                out.int(p.delivery_count as i64);
            }
        }
    }
    Ok(())
}

fn xinfo_stream(
    ctx: &mut Ctx,
    out: &mut Reply,
    key: &[u8],
    full: CommandResult<Option<usize>>,
) -> CommandResult {
    let db = ctx.db();
    let entry = db.get(key, ctx.now).ok_or(CommandError::NoSuchKey)?;
    let Value::Stream(s) = &entry.value else {
        return Err(CommandError::WrongType);
    };
    let full = full?;
    let first = s.first();
    let recorded_first = first.map_or(StreamId::MIN, |e| e.id);
    let header = |out: &mut Reply| {
        out.bulk(b"length");
        out.int(s.len() as i64);
        out.bulk(b"radix-tree-keys");
        out.int(s.node_count() as i64);
        out.bulk(b"radix-tree-nodes");
        out.int((s.node_count() + 1) as i64);
        out.bulk(b"last-generated-id");
        out.bulk(s.last_id.to_string().as_bytes());
        out.bulk(b"max-deleted-entry-id");
        out.bulk(s.max_deleted_id.to_string().as_bytes());
        out.bulk(b"entries-added");
        out.int(s.entries_added as i64);
        out.bulk(b"recorded-first-entry-id");
        out.bulk(recorded_first.to_string().as_bytes());
    };
    let Some(count) = full else {
        out.map(10);
        header(out);
        out.bulk(b"groups");
        out.int(s.groups.len() as i64);
        out.bulk(b"first-entry");
        match first {
            Some(e) => write_entry_ref(out, &e),
            None => out.null(),
        }
        out.bulk(b"last-entry");
        match s.last() {
            Some(e) => write_entry_ref(out, &e),
            None => out.null(),
        }
        return Ok(());
    };
    let now = ctx.now;
    let limit = if count == 0 { usize::MAX } else { count };
    out.map(9);
    header(out);
    out.bulk(b"entries");
    let entries: Vec<_> = s.refs(StreamId::MIN, StreamId::MAX).take(limit).collect();
    out.array(entries.len());
    entries.iter().for_each(|e| write_entry_ref(out, e));
    out.bulk(b"groups");
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        out.bulk(g.last_id.to_string().as_bytes());
        out.bulk(b"entries-read");
        opt_int(out, g.entries_read);
        out.bulk(b"lag");
        opt_int(out, s.lag(g));
        out.bulk(b"pel-count");
        out.int(g.pel.len() as i64);
        out.bulk(b"pending");
        let pending: Vec<_> = g.pel.iter().take(limit).collect();
        out.array(pending.len());
        for (id, p) in pending {
            out.array(4);
            out.bulk(id.to_string().as_bytes());
            out.bulk(&p.consumer);
            out.int(p.delivery_time as i64);
            out.int(p.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            out.map(5);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(c.seen_time as i64);
            out.bulk(b"active-time");
            out.int(c.active_time.map_or(-1, |t| t as i64));
            out.bulk(b"pel-count");
            out.int(c.pending.len() as i64);
            out.bulk(b"pending");
            let own: Vec<_> = c.pending.iter().take(limit).collect();
            out.array(own.len());
            for (id, _) in own {
                let p = g
                    .pel
                    .get(id)
                    .expect("a consumer's pending ids are in the PEL");
                out.array(3);
                out.bulk(id.to_string().as_bytes());
                out.int(p.delivery_time as i64);
                out.int(p.delivery_count as i64);
            }
        }
    }
    let _ = now;
    Ok(())
}

fn parse_pending(a: &[Bytes]) -> CommandResult<StreamCommand> {
    let key = a[1].clone();
    let group = a[2].clone();
    if a.len() == 3 {
        return Ok(StreamCommand::Pending {
            key,
            group,
            range: None,
        });
    }
    // Redis's checks, in its order: 6 to 9 arguments, IDLE's value and then at least 8, the
    // count, the start, the end; arguments after the consumer are ignored.
    if !(6..=9).contains(&a.len()) {
        return Err(CommandError::Syntax);
    }
    let mut i = 3;
    let mut min_idle = 0;
    if args::is(&a[3], "idle") {
        let n = args::int(&a[4])?;
        if a.len() < 8 {
            return Err(CommandError::Syntax);
        }
        min_idle = n.max(0) as u64;
        i = 5;
    }
    let rest = &a[i..];
    let count = args::int(&rest[2])?;
    let start = StreamId::parse_bound(&rest[0], true)?;
    let end = StreamId::parse_bound(&rest[1], false)?;
    let consumer = rest.get(3).cloned();
    Ok(StreamCommand::Pending {
        key,
        group,
        range: Some((min_idle, start, end, count.max(0) as usize, consumer)),
    })
}

fn parse_claim(a: &[Bytes]) -> CommandResult<StreamCommand> {
    let min_idle = args::int(&a[4])
        .map_err(|_| CommandError::err("Invalid min-idle-time argument for XCLAIM"))?
        .max(0) as u64;
    let mut ids = Vec::new();
    let mut i = 5;
    while i < a.len() {
        match StreamId::parse_strict(&a[i], 0) {
            Some(id) => ids.push(id),
            None => break,
        }
        i += 1;
    }
    let mut claim = StreamCommand::Claim {
        key: a[1].clone(),
        group: a[2].clone(),
        consumer: a[3].clone(),
        min_idle,
        ids,
        delivery_time: None,
        retry_count: None,
        force: false,
        just_id: false,
        last_id: None,
    };
    if let StreamCommand::Claim {
        delivery_time,
        retry_count,
        force,
        just_id,
        last_id,
        ..
    } = &mut claim
    {
        let now = crate::keyspace::now_ms();
        let mut opts = Options::new(a, i);
        while let Some(word) = opts.next_word() {
            match word.as_str() {
                "force" => *force = true,
                "justid" => *just_id = true,
                "idle" => {
                    let n = args::int(opts.value()?).map_err(|_| {
                        CommandError::err("Invalid IDLE option argument for XCLAIM")
                    })?;
                    *delivery_time = Some((now as i64).saturating_sub(n));
                }
                "time" => {
                    let n = args::int(opts.value()?).map_err(|_| {
                        CommandError::err("Invalid TIME option argument for XCLAIM")
                    })?;
                    *delivery_time = Some(n);
                }
                "retrycount" => {
                    let n = args::int(opts.value()?).map_err(|_| {
                        CommandError::err("Invalid RETRYCOUNT option argument for XCLAIM")
                    })?;
                    // A negative count is taken as none given, as Redis takes it.
                    *retry_count = u64::try_from(n).ok();
                }
                "lastid" => *last_id = Some(parse_id(opts.value()?)?),
                _ => {
                    return Err(CommandError::quoting(&[
                        b"ERR Unrecognized XCLAIM option '",
                        &a[a.len() - opts.remaining() - 1],
                        b"'",
                    ]))
                }
            }
        }
    }
    Ok(claim)
}

fn parse_autoclaim(a: &[Bytes]) -> CommandResult<StreamCommand> {
    let min_idle = args::int(&a[4])
        .map_err(|_| CommandError::err("Invalid min-idle-time argument for XAUTOCLAIM"))?
        .max(0) as u64;
    let start = StreamId::parse_bound(&a[5], true)?;
    let mut count = 100usize;
    let mut just_id = false;
    let mut opts = Options::new(a, 6);
    while let Some(word) = opts.next_word() {
        match word.as_str() {
            "count" => {
                let n = args::int(opts.value()?)?;
                if !(1..=i64::MAX / 10).contains(&n) {
                    return Err(CommandError::err("COUNT must be > 0"));
                }
                count = n as usize;
            }
            "justid" => just_id = true,
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok(StreamCommand::AutoClaim {
        key: a[1].clone(),
        group: a[2].clone(),
        consumer: a[3].clone(),
        min_idle,
        start,
        count,
        just_id,
    })
}

fn parse_group_id(arg: &[u8]) -> CommandResult<Option<StreamId>> {
    if arg == b"$" {
        return Ok(None);
    }
    StreamId::parse(arg, 0).map(Some)
}

fn parse_entries_read(opts: &mut Options) -> CommandResult<Option<u64>> {
    let n = args::int(opts.value()?)?;
    if n < 0 && n != -1 {
        return Err(CommandError::err(
            "value for ENTRIESREAD must be positive or -1",
        ));
    }
    Ok((n >= 0).then_some(n as u64))
}

fn parse_xgroup(a: &[Bytes]) -> CommandResult<StreamCommand> {
    let sub = args::lower(&a[1]);
    let bad_option = || CommandError::unknown_subcommand_or_arity("XGROUP", &a[1]);
    let (key, group) = (
        a.get(2).cloned().unwrap_or_default(),
        a.get(3).cloned().unwrap_or_default(),
    );
    Ok(match sub.as_str() {
        "create" => {
            let id = parse_group_id(&a[4]);
            let mut mkstream = false;
            let mut entries_read = None;
            let mut opts = Options::new(a, 5);
            while let Some(word) = opts.next_word() {
                match word.as_str() {
                    "mkstream" => mkstream = true,
                    "entriesread" => entries_read = parse_entries_read(&mut opts)?,
                    _ => return Err(bad_option()),
                }
            }
            StreamCommand::GroupCreate {
                key,
                group,
                id,
                mkstream,
                entries_read,
            }
        }
        "setid" => {
            let mut entries_read = None;
            let mut opts = Options::new(a, 5);
            while let Some(word) = opts.next_word() {
                match word.as_str() {
                    "entriesread" => entries_read = parse_entries_read(&mut opts)?,
                    _ => return Err(bad_option()),
                }
            }
            StreamCommand::GroupSetId {
                key,
                group,
                id: parse_group_id(&a[4]),
                entries_read,
            }
        }
        "destroy" => StreamCommand::GroupDestroy(key, group),
        "createconsumer" => StreamCommand::GroupCreateConsumer(key, group, a[4].clone()),
        "delconsumer" => StreamCommand::GroupDelConsumer(key, group, a[4].clone()),
        _ => StreamCommand::Help("XGROUP"),
    })
}

fn parse_xinfo(a: &[Bytes]) -> CommandResult<StreamCommand> {
    let sub = args::lower(&a[1]);
    Ok(match sub.as_str() {
        "stream" => {
            let full = match a.len() {
                3 => Ok(None),
                4 if args::is(&a[3], "full") => Ok(Some(10)),
                // 0 is every entry; a negative count is the default, as in Redis.
                6 if args::is(&a[3], "full") && args::is(&a[4], "count") => {
                    args::int(&a[5]).map(|n| Some(usize::try_from(n).unwrap_or(10)))
                }
                _ => Err(CommandError::unknown_subcommand_or_arity("XINFO", &a[1])),
            };
            StreamCommand::InfoStream {
                key: a[2].clone(),
                full,
            }
        }
        "groups" => StreamCommand::InfoGroups(a[2].clone()),
        "consumers" => StreamCommand::InfoConsumers(a[2].clone(), a[3].clone()),
        _ => StreamCommand::Help("XINFO"),
    })
}
