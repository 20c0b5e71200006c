//! String commands: GET, SET (and its older forms SETNX, SETEX, PSETEX, GETSET), MGET, MSET,
//! MSETNX, INCR/DECR(BY), INCRBYFLOAT, APPEND, STRLEN, GETDEL, GETEX, GETRANGE (SUBSTR), SETRANGE.

// Strings are the only value type until streams land; the WRONGTYPE arms then become live.
#![allow(irrefutable_let_patterns)]

use bytes::{Bytes, BytesMut};

use super::args;
use super::Ctx;
use crate::config::notify;
use crate::error::{CommandError, CommandResult};
use crate::keyspace::{Entry, StringEncoding, Value};
use crate::long_double::LongDouble;
use crate::protocol::Reply;

#[derive(Debug)]
pub enum StringCommand {
    /// # Format: GET key
    Get(Bytes),
    /// # Format: SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ts-ms|KEEPTTL]
    Set(Set),
    /// # Format: MGET key [key ...]
    MGet(Vec<Bytes>),
    /// # Format: MSET key value [key value ...]
    MSet(Vec<(Bytes, Bytes)>),
    /// # Format: INCR key / DECR key / INCRBY key n / DECRBY key n
    IncrBy { key: Bytes, by: i64 },
    /// # Format: INCRBYFLOAT key increment
    /// The increment is read after the key's type is checked, as Redis reads it.
    IncrByFloat { key: Bytes, by: Bytes },
    /// # Format: APPEND key value
    Append { key: Bytes, value: Bytes },
    /// # Format: STRLEN key
    StrLen(Bytes),
    /// # Format: GETDEL key
    GetDel(Bytes),
    /// # Format: SETNX key value (SET key value NX, answering 1 or 0)
    SetNx(Set),
    /// # Format: MSETNX key value [key value ...]
    MSetNx(Vec<(Bytes, Bytes)>),
    /// # Format: GETEX key [EX s|PX ms|EXAT ts|PXAT ts-ms|PERSIST]
    GetEx {
        key: Bytes,
        expire: Option<Expiry>,
        persist: bool,
    },
    /// # Format: GETRANGE key start end (SUBSTR key start end)
    GetRange { key: Bytes, start: i64, end: i64 },
    /// # Format: SETRANGE key offset value
    SetRange {
        key: Bytes,
        offset: i64,
        value: Bytes,
    },
}

#[derive(Debug)]
pub struct Set {
    /// The command's name for its expire-time error (`set`, `setex`, `psetex`).
    command: &'static str,
    key: Bytes,
    value: Bytes,
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    expire: Option<Expiry>,
}

/// SET's expiry option as given.
#[derive(Debug, Clone, Copy)]
pub enum Expiry {
    Ex(i64),
    Px(i64),
    ExAt(i64),
    PxAt(i64),
}

impl StringCommand {
    pub fn parse(name: &str, a: &[Bytes]) -> CommandResult<Self> {
        Ok(match name {
            "get" => StringCommand::Get(a[1].clone()),
            "set" => StringCommand::Set(parse_set(a)?),
            "mget" => StringCommand::MGet(a[1..].to_vec()),
            "mset" => StringCommand::MSet(key_value_pairs(name, a)?),
            "incr" => StringCommand::IncrBy {
                key: a[1].clone(),
                by: 1,
            },
            "decr" => StringCommand::IncrBy {
                key: a[1].clone(),
                by: -1,
            },
            "incrby" => StringCommand::IncrBy {
                key: a[1].clone(),
                by: args::int(&a[2])?,
            },
            "decrby" => {
                let by = args::int(&a[2])?;
                if by == i64::MIN {
                    return Err(CommandError::err("decrement would overflow"));
                }
                StringCommand::IncrBy {
                    key: a[1].clone(),
                    by: -by,
                }
            }
            "incrbyfloat" => StringCommand::IncrByFloat {
                key: a[1].clone(),
                by: a[2].clone(),
            },
            "append" => StringCommand::Append {
                key: a[1].clone(),
                value: a[2].clone(),
            },
            "strlen" => StringCommand::StrLen(a[1].clone()),
            "getdel" => StringCommand::GetDel(a[1].clone()),
            "setnx" => StringCommand::SetNx(Set {
                nx: true,
                ..Set::plain(a, 2)
            }),
            "setex" | "psetex" => {
                // The time is read, and refused, as SET reads its EX/PX.
                let n = args::int(&a[2]).unwrap_or(i64::MIN);
                StringCommand::Set(Set {
                    command: if name == "setex" { "setex" } else { "psetex" },
                    expire: Some(if name == "setex" {
                        Expiry::Ex(n)
                    } else {
                        Expiry::Px(n)
                    }),
                    ..Set::plain(a, 3)
                })
            }
            "getset" => StringCommand::Set(Set {
                get: true,
                ..Set::plain(a, 2)
            }),
            "msetnx" => StringCommand::MSetNx(key_value_pairs(name, a)?),
            "getex" => parse_getex(a)?,
            "getrange" | "substr" => StringCommand::GetRange {
                key: a[1].clone(),
                start: args::int(&a[2])?,
                end: args::int(&a[3])?,
            },
            "setrange" => StringCommand::SetRange {
                key: a[1].clone(),
                offset: args::int(&a[2])?,
                value: a[3].clone(),
            },
            _ => unreachable!("string command {name} has no parser"),
        })
    }

    pub fn execute(self, ctx: &mut Ctx, out: &mut Reply) -> CommandResult {
        match self {
            StringCommand::MSet(pairs) => return mset(ctx, out, pairs, false),
            StringCommand::MSetNx(pairs) => return mset(ctx, out, pairs, true),
            _ => {}
        }
        let _shared = ctx.gate_shared();
        let (db, now) = (ctx.db(), ctx.now);
        match self {
            StringCommand::Get(key) => match read_string(ctx, &key)? {
                Some(value) => out.bulk(&value),
                None => out.null(),
            },
            StringCommand::Set(set) => return self::set(ctx, out, set),
            StringCommand::MGet(keys) => {
                out.array(keys.len());
                for key in keys {
                    match db.get(&key, now).as_deref() {
                        Some(Entry {
                            value: Value::String(v),
                            ..
                        }) => out.bulk(v),
                        _ => out.null(),
                    }
                }
            }
            StringCommand::IncrBy { key, by } => {
                let next = match db.get_mut(&key, now) {
                    Some(mut entry) => {
                        let Value::String(current) = &entry.value else {
                            return Err(CommandError::WrongType);
                        };
                        let current =
                            crate::number::parse_i64(current).ok_or(CommandError::NotInteger)?;
                        let next = current.checked_add(by).ok_or(CommandError::Overflow)?;
                        entry.set_string(Bytes::from(next.to_string()), StringEncoding::Stored);
                        next
                    }
                    None => {
                        db.insert(
                            key.clone(),
                            Entry::new(Value::String(Bytes::from(by.to_string()))),
                            now,
                        );
                        by
                    }
                };
                // Redis names every INCR/DECR family event `incrby`.
                ctx.modified(notify::STRING, "incrby", &key);
                // The result, not the increment: replaying it twice cannot count twice.
                ctx.propagate(&[b"SET", &key, next.to_string().as_bytes(), b"KEEPTTL"]);
                out.int(next);
            }
            StringCommand::IncrByFloat { key, by } => {
                let next = match db.get_mut(&key, now) {
                    Some(mut entry) => {
                        let Value::String(current) = &entry.value else {
                            return Err(CommandError::WrongType);
                        };
                        let next = float_sum(current, &by)?;
                        entry.set_string(next.clone(), StringEncoding::Text);
                        next
                    }
                    None => {
                        let next = float_sum(b"0", &by)?;
                        let entry = Entry::string(next.clone(), StringEncoding::Text);
                        db.insert(key.clone(), entry, now);
                        next
                    }
                };
                ctx.modified(notify::STRING, "incrbyfloat", &key);
                // Redis propagates the result too, so that a replay cannot print it differently.
                ctx.propagate(&[b"SET", &key, &next, b"KEEPTTL"]);
                out.bulk(&next);
            }
            StringCommand::Append { key, value } => {
                let max = ctx
                    .state
                    .settings
                    .proto_max_bulk_len
                    .load(std::sync::atomic::Ordering::Relaxed) as usize;
                let len = match db.get_mut(&key, now) {
                    Some(mut entry) => {
                        let Value::String(current) = &mut entry.value else {
                            return Err(CommandError::WrongType);
                        };
                        if current.len() + value.len() > max {
                            return Err(CommandError::err(
                                "string exceeds maximum allowed size (proto-max-bulk-len)",
                            ));
                        }
                        let mut joined = editable(std::mem::take(current));
                        joined.extend_from_slice(&value);
                        let len = joined.len();
                        entry.set_string(joined.freeze(), StringEncoding::Raw);
                        len
                    }
                    None => {
                        let len = value.len();
                        db.insert(key.clone(), Entry::new(Value::String(value.clone())), now);
                        len
                    }
                };
                ctx.modified(notify::STRING, "append", &key);
                ctx.propagate(&[b"APPEND", &key, &value]);
                out.int(len as i64);
            }
            StringCommand::StrLen(key) => {
                out.int(read_string(ctx, &key)?.map_or(0, |v| v.len() as i64))
            }
            StringCommand::GetDel(key) => match read_string(ctx, &key)? {
                Some(value) => {
                    db.remove(&key, now);
                    ctx.modified(notify::GENERIC, "del", &key);
                    ctx.propagate(&[b"DEL", &key]);
                    out.bulk(&value);
                }
                None => out.null(),
            },
            StringCommand::SetNx(set) => {
                let outcome = store(ctx, set)?;
                out.int(outcome.written as i64);
            }
            StringCommand::GetEx {
                key,
                expire,
                persist,
            } => return getex(ctx, out, key, expire, persist),
            StringCommand::GetRange { key, start, end } => {
                let value = read_string(ctx, &key)?.unwrap_or_default();
                out.bulk(range_of(&value, start, end));
            }
            StringCommand::SetRange { key, offset, value } => {
                return setrange(ctx, out, key, offset, value)
            }
            StringCommand::MSet(_) | StringCommand::MSetNx(_) => unreachable!("handled above"),
        }
        Ok(())
    }
}

/// A key's string value; WRONGTYPE if it holds something else.
fn read_string(ctx: &Ctx, key: &[u8]) -> CommandResult<Option<Bytes>> {
    let Some(entry) = ctx.db().get(key, ctx.now) else {
        return Ok(None);
    };
    match &entry.value {
        Value::String(v) => Ok(Some(v.clone())),
        #[allow(unreachable_patterns)]
        _ => Err(CommandError::WrongType),
    }
}

/// MSET's and MSETNX's `key value` pairs; an odd count is a wrong number of arguments.
fn key_value_pairs(name: &str, a: &[Bytes]) -> CommandResult<Vec<(Bytes, Bytes)>> {
    if a.len() % 2 != 1 {
        return Err(CommandError::WrongArity(name.into()));
    }
    Ok(a[1..]
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect())
}

impl Set {
    /// `SET key value` with no option, the value at `value_at`.
    fn plain(a: &[Bytes], value_at: usize) -> Set {
        Set {
            command: "set",
            key: a[1].clone(),
            value: a[value_at].clone(),
            nx: false,
            xx: false,
            get: false,
            keep_ttl: false,
            expire: None,
        }
    }
}

fn parse_set(a: &[Bytes]) -> CommandResult<Set> {
    let mut set = Set::plain(a, 2);
    let mut j = 3;
    while j < a.len() {
        let opt = args::lower(&a[j]);
        let next = a.get(j + 1);
        let no_expiry_yet = |s: &Set| !s.keep_ttl && s.expire.is_none();
        let same_kind = |s: &Set, kind: fn(&Expiry) -> bool| s.expire.as_ref().is_some_and(kind);
        match opt.as_str() {
            "nx" if !set.xx => set.nx = true,
            "xx" if !set.nx => set.xx = true,
            "get" => set.get = true,
            "keepttl" if set.expire.is_none() => set.keep_ttl = true,
            "ex" | "px" | "exat" | "pxat" if next.is_some() => {
                let kind: fn(&Expiry) -> bool = match opt.as_str() {
                    "ex" => |e| matches!(e, Expiry::Ex(_)),
                    "px" => |e| matches!(e, Expiry::Px(_)),
                    "exat" => |e| matches!(e, Expiry::ExAt(_)),
                    _ => |e| matches!(e, Expiry::PxAt(_)),
                };
                if !(no_expiry_yet(&set) || same_kind(&set, kind)) {
                    return Err(CommandError::Syntax);
                }
                let n = args::int(next.map(|b| &b[..]).unwrap_or_default());
                // The number is checked after all options are read; keep what was given.
                let n = n.unwrap_or(i64::MIN);
                set.expire = Some(match opt.as_str() {
                    "ex" => Expiry::Ex(n),
                    "px" => Expiry::Px(n),
                    "exat" => Expiry::ExAt(n),
                    _ => Expiry::PxAt(n),
                });
                j += 1;
            }
            _ => return Err(CommandError::Syntax),
        }
        j += 1;
    }
    Ok(set)
}

fn deadline(expiry: Expiry, now: u64, command: &str) -> CommandResult<u64> {
    let invalid = || CommandError::InvalidExpire(command.into());
    let (n, seconds, relative) = match expiry {
        Expiry::Ex(n) => (n, true, true),
        Expiry::Px(n) => (n, false, true),
        Expiry::ExAt(n) => (n, true, false),
        Expiry::PxAt(n) => (n, false, false),
    };
    if n == i64::MIN {
        return Err(CommandError::NotInteger);
    }
    if n <= 0 || (seconds && n > i64::MAX / 1000) {
        return Err(invalid());
    }
    let ms = if seconds { n * 1000 } else { n };
    let at = if relative {
        ms.checked_add(now as i64).ok_or_else(invalid)?
    } else {
        ms
    };
    Ok(at as u64)
}

/// What a SET did: whether it wrote, and (with GET) the value it replaced.
struct Stored {
    written: bool,
    old: Option<Option<Bytes>>,
}

fn set(ctx: &mut Ctx, out: &mut Reply, set: Set) -> CommandResult {
    let outcome = store(ctx, set)?;
    // With GET, the value replaced (`old` is then always given); without, OK or nothing.
    match outcome.old {
        Some(Some(v)) => out.bulk(&v),
        Some(None) => out.null(),
        None if outcome.written => out.ok(),
        None => out.null(),
    }
    Ok(())
}

/// SET's change and its effects, for SET and its older forms.
fn store(ctx: &mut Ctx, set: Set) -> CommandResult<Stored> {
    let (db, now) = (ctx.db(), ctx.now);
    let deadline = set
        .expire
        .map(|e| deadline(e, now, set.command))
        .transpose()?;
    let old = if set.get {
        Some(read_string(ctx, &set.key)?)
    } else {
        None
    };
    let mut entry = db.get_mut(&set.key, now);
    let found = entry.is_some();
    if (set.nx && found) || (set.xx && !found) {
        drop(entry);
        return Ok(Stored {
            written: false,
            old,
        });
    }
    let value = set.value.clone();
    // Redis announces `expire` for a deadline the SET gave, not for one KEEPTTL kept.
    let expiry_given = deadline.is_some();
    let deadline = match entry.as_deref_mut() {
        Some(existing) => {
            existing.set_string(set.value, StringEncoding::Stored);
            let keep = if set.keep_ttl {
                existing.expire_at()
            } else {
                None
            };
            let deadline = deadline.or(keep);
            db.set_deadline(&set.key, existing, deadline);
            deadline
        }
        None => {
            drop(entry.take());
            db.insert(
                set.key.clone(),
                Entry::expiring(Value::String(set.value), deadline),
                now,
            );
            deadline
        }
    };
    drop(entry);
    ctx.modified(notify::STRING, "set", &set.key);
    // Resolved: no NX/XX/GET (it happened), an absolute deadline (KEEPTTL included).
    match deadline {
        Some(at) => ctx.propagate(&[b"SET", &set.key, &value, b"PXAT", at.to_string().as_bytes()]),
        None => ctx.propagate(&[b"SET", &set.key, &value]),
    }
    if expiry_given {
        ctx.state
            .notify_keyspace_event(notify::GENERIC, "expire", ctx.session.db, &set.key);
    }
    Ok(Stored { written: true, old })
}

/// MSET, and MSETNX (`nx`: nothing is set, and 0 answered, if any of the keys exists).
fn mset(ctx: &mut Ctx, out: &mut Reply, pairs: Vec<(Bytes, Bytes)>, nx: bool) -> CommandResult {
    let _exclusive = ctx.gate_exclusive();
    let (db, now) = (ctx.db(), ctx.now);
    if nx && pairs.iter().any(|(key, _)| db.contains(key, now)) {
        out.int(0);
        return Ok(());
    }
    let mut effect: Vec<&[u8]> = Vec::with_capacity(1 + 2 * pairs.len());
    effect.push(b"MSET");
    for (key, value) in &pairs {
        db.insert(key.clone(), Entry::new(Value::String(value.clone())), now);
        ctx.modified(notify::STRING, "set", key);
        effect.extend([&key[..], &value[..]]);
    }
    ctx.propagate(&effect);
    if nx {
        out.int(1);
    } else {
        out.ok();
    }
    Ok(())
}

fn parse_getex(a: &[Bytes]) -> CommandResult<StringCommand> {
    let mut expire = None;
    let mut persist = false;
    let mut j = 2;
    // Redis's rules: one kind of expiry (repeated, the last one counts) or PERSIST.
    while j < a.len() {
        let opt = args::lower(&a[j]);
        let next = a.get(j + 1);
        let same_kind = |e: &Option<Expiry>, kind: fn(&Expiry) -> bool| e.as_ref().is_none_or(kind);
        let kind: Option<fn(&Expiry) -> bool> = match opt.as_str() {
            "ex" => Some(|e| matches!(e, Expiry::Ex(_))),
            "px" => Some(|e| matches!(e, Expiry::Px(_))),
            "exat" => Some(|e| matches!(e, Expiry::ExAt(_))),
            "pxat" => Some(|e| matches!(e, Expiry::PxAt(_))),
            _ => None,
        };
        match kind {
            Some(kind) if next.is_some() && !persist && same_kind(&expire, kind) => {
                // The number is read once the key is found, as Redis reads it.
                let n = args::int(next.map(|b| &b[..]).unwrap_or_default()).unwrap_or(i64::MIN);
                expire = Some(match opt.as_str() {
                    "ex" => Expiry::Ex(n),
                    "px" => Expiry::Px(n),
                    "exat" => Expiry::ExAt(n),
                    _ => Expiry::PxAt(n),
                });
                j += 2;
            }
            None if opt == "persist" && expire.is_none() => {
                persist = true;
                j += 1;
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok(StringCommand::GetEx {
        key: a[1].clone(),
        expire,
        persist,
    })
}

/// GETEX: the value, then its deadline changed. A deadline already past (EXAT, PXAT) deletes
/// the key, as Redis does.
fn getex(
    ctx: &mut Ctx,
    out: &mut Reply,
    key: Bytes,
    expire: Option<Expiry>,
    persist: bool,
) -> CommandResult {
    let (db, now) = (ctx.db(), ctx.now);
    let Some(mut entry) = db.get_mut(&key, now) else {
        out.null();
        return Ok(());
    };
    let Value::String(value) = &entry.value else {
        return Err(CommandError::WrongType);
    };
    let value = value.clone();
    let at = expire.map(|e| deadline(e, now, "getex")).transpose()?;
    out.bulk(&value);
    match at {
        Some(at) if at <= now => {
            drop(entry);
            db.remove(&key, now);
            ctx.modified(notify::GENERIC, "del", &key);
            ctx.propagate(&[b"DEL", &key]);
        }
        Some(at) => {
            db.set_deadline(&key, &mut entry, Some(at));
            drop(entry);
            ctx.modified(notify::GENERIC, "expire", &key);
            ctx.propagate(&[b"PEXPIREAT", &key, at.to_string().as_bytes()]);
        }
        None if persist && entry.expire_at().is_some() => {
            db.set_deadline(&key, &mut entry, None);
            drop(entry);
            ctx.modified(notify::GENERIC, "persist", &key);
            ctx.propagate(&[b"PERSIST", &key]);
        }
        None => {}
    }
    Ok(())
}

/// INCRBYFLOAT's new value: both numbers read and summed as Redis's `long double`s, the sum
/// written as Redis writes it (see [`crate::long_double`]).
fn float_sum(current: &[u8], by: &[u8]) -> CommandResult<Bytes> {
    let not_float = || CommandError::err("value is not a valid float");
    let current = LongDouble::parse(current).ok_or_else(not_float)?;
    let by = LongDouble::parse(by).ok_or_else(not_float)?;
    let sum = current
        .checked_add(by)
        .ok_or_else(|| CommandError::err("increment would produce NaN or Infinity"))?;
    Ok(Bytes::from(sum.to_human()))
}

/// GETRANGE's slice, with Redis's index rules (negative from the end, clamped).
fn range_of(value: &[u8], start: i64, end: i64) -> &[u8] {
    let len = value.len() as i64;
    if start < 0 && end < 0 && start > end {
        return &[];
    }
    let start = if start < 0 {
        len.saturating_add(start)
    } else {
        start
    }
    .max(0);
    let end = if end < 0 {
        len.saturating_add(end)
    } else {
        end
    }
    .max(0)
    .min(len - 1);
    if len == 0 || start > end {
        return &[];
    }
    &value[start as usize..=end as usize]
}

fn setrange(
    ctx: &mut Ctx,
    out: &mut Reply,
    key: Bytes,
    offset: i64,
    value: Bytes,
) -> CommandResult {
    if offset < 0 {
        return Err(CommandError::err("offset is out of range"));
    }
    let offset = offset as u64;
    let max = ctx
        .state
        .settings
        .proto_max_bulk_len
        .load(std::sync::atomic::Ordering::Relaxed) as u64;
    let too_long = || CommandError::err("string exceeds maximum allowed size (proto-max-bulk-len)");
    let (db, now) = (ctx.db(), ctx.now);
    let len = match db.get_mut(&key, now) {
        None => {
            if value.is_empty() {
                out.int(0);
                return Ok(());
            }
            if offset + value.len() as u64 > max {
                return Err(too_long());
            }
            let mut joined = BytesMut::zeroed(offset as usize + value.len());
            joined[offset as usize..].copy_from_slice(&value);
            let len = joined.len();
            let entry = Entry::string(joined.freeze(), StringEncoding::Raw);
            db.insert(key.clone(), entry, now);
            len
        }
        Some(mut entry) => {
            let Value::String(current) = &mut entry.value else {
                return Err(CommandError::WrongType);
            };
            if value.is_empty() {
                out.int(current.len() as i64);
                return Ok(());
            }
            if offset + value.len() as u64 > max {
                return Err(too_long());
            }
            let offset = offset as usize;
            let mut joined = editable(std::mem::take(current));
            if joined.len() < offset + value.len() {
                joined.resize(offset + value.len(), 0);
            }
            joined[offset..offset + value.len()].copy_from_slice(&value);
            let len = joined.len();
            entry.set_string(joined.freeze(), StringEncoding::Raw);
            len
        }
    };
    ctx.modified(notify::STRING, "setrange", &key);
    ctx.propagate(&[b"SETRANGE", &key, offset.to_string().as_bytes(), &value]);
    out.int(len as i64);
    Ok(())
}

/// A string's bytes to edit in place: its own buffer when nothing else holds it, so that
/// repeated APPENDs grow it amortised, as Redis's sds grows (copying it whole each time made a
/// run of APPENDs quadratic); a copy when a reply or the AOF still holds it.
fn editable(value: Bytes) -> BytesMut {
    value
        .try_into_mut()
        .unwrap_or_else(|shared| BytesMut::from(&shared[..]))
}
