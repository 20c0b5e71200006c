//! String commands: GET, SET, MGET, MSET, INCR/DECR(BY), APPEND, STRLEN, GETDEL.

// Strings are the only value type until streams land; the WRONGTYPE arms then become live.
#![allow(irrefutable_let_patterns)]

use bytes::{Bytes, BytesMut};

use super::args;
use super::Ctx;
use crate::config::notify;
use crate::error::{CommandError, CommandResult};
use crate::keyspace::{Entry, Value};
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
    /// # Format: APPEND key value
    Append { key: Bytes, value: Bytes },
    /// # Format: STRLEN key
    StrLen(Bytes),
    /// # Format: GETDEL key
    GetDel(Bytes),
}

#[derive(Debug)]
pub struct Set {
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
enum Expiry {
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
            "mset" => {
                if a.len() % 2 != 1 {
                    return Err(CommandError::WrongArity("mset".into()));
                }
                StringCommand::MSet(
                    a[1..]
                        .chunks(2)
                        .map(|p| (p[0].clone(), p[1].clone()))
                        .collect(),
                )
            }
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
            "append" => StringCommand::Append {
                key: a[1].clone(),
                value: a[2].clone(),
            },
            "strlen" => StringCommand::StrLen(a[1].clone()),
            "getdel" => StringCommand::GetDel(a[1].clone()),
            _ => unreachable!("string command {name} has no parser"),
        })
    }

    pub fn execute(self, ctx: &mut Ctx, out: &mut Reply) -> CommandResult {
        if let StringCommand::MSet(pairs) = self {
            return mset(ctx, out, pairs);
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
                        entry.value = Value::String(Bytes::from(next.to_string()));
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
            StringCommand::Append { key, value } => {
                let max = ctx
                    .state
                    .settings
                    .proto_max_bulk_len
                    .load(std::sync::atomic::Ordering::Relaxed) as usize;
                let len = match db.get_mut(&key, now) {
                    Some(mut entry) => {
                        let Value::String(current) = &entry.value else {
                            return Err(CommandError::WrongType);
                        };
                        if current.len() + value.len() > max {
                            return Err(CommandError::err(
                                "string exceeds maximum allowed size (proto-max-bulk-len)",
                            ));
                        }
                        let mut joined = BytesMut::with_capacity(current.len() + value.len());
                        joined.extend_from_slice(current);
                        joined.extend_from_slice(&value);
                        let len = joined.len();
                        entry.value = Value::String(joined.freeze());
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
            StringCommand::MSet(_) => unreachable!("handled above"),
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

fn parse_set(a: &[Bytes]) -> CommandResult<Set> {
    let mut set = Set {
        key: a[1].clone(),
        value: a[2].clone(),
        nx: false,
        xx: false,
        get: false,
        keep_ttl: false,
        expire: None,
    };
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

fn deadline(expiry: Expiry, now: u64) -> CommandResult<u64> {
    let invalid = || CommandError::InvalidExpire("set".into());
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

fn set(ctx: &mut Ctx, out: &mut Reply, set: Set) -> CommandResult {
    let (db, now) = (ctx.db(), ctx.now);
    let deadline = set.expire.map(|e| deadline(e, now)).transpose()?;
    let old = if set.get {
        Some(read_string(ctx, &set.key)?)
    } else {
        None
    };
    let mut entry = db.get_mut(&set.key, now);
    let found = entry.is_some();
    if (set.nx && found) || (set.xx && !found) {
        drop(entry);
        match old {
            Some(Some(v)) => out.bulk(&v),
            _ => out.null(),
        }
        return Ok(());
    }
    let value = set.value.clone();
    // Redis announces `expire` for a deadline the SET gave, not for one KEEPTTL kept.
    let expiry_given = deadline.is_some();
    let deadline = match entry.as_deref_mut() {
        Some(existing) => {
            existing.value = Value::String(set.value);
            let keep = if set.keep_ttl {
                existing.expire_at
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
                Entry {
                    value: Value::String(set.value),
                    expire_at: deadline,
                },
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
    match old {
        Some(Some(v)) => out.bulk(&v),
        Some(None) => out.null(),
        None => out.ok(),
    }
    Ok(())
}

fn mset(ctx: &mut Ctx, out: &mut Reply, pairs: Vec<(Bytes, Bytes)>) -> CommandResult {
    let _exclusive = ctx.gate_exclusive();
    let (db, now) = (ctx.db(), ctx.now);
    let mut effect: Vec<&[u8]> = Vec::with_capacity(1 + 2 * pairs.len());
    effect.push(b"MSET");
    for (key, value) in &pairs {
        db.insert(key.clone(), Entry::new(Value::String(value.clone())), now);
        ctx.modified(notify::STRING, "set", key);
        effect.extend([&key[..], &value[..]]);
    }
    ctx.propagate(&effect);
    out.ok();
    Ok(())
}
