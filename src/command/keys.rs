//! Generic key commands: DEL, UNLINK, EXISTS, TOUCH, TYPE, KEYS, SCAN, RANDOMKEY, OBJECT,
//! RENAME(NX), COPY, MOVE, the EXPIRE family, TTL/PTTL, EXPIRETIME/PEXPIRETIME and PERSIST.

use bytes::{Bytes, BytesMut};

use super::args::{self, Options};
use super::Ctx;
use crate::config::notify;
use crate::error::{CommandError, CommandResult};
use crate::glob;
use crate::protocol::Reply;

#[derive(Debug)]
pub enum KeysCommand {
    /// # Format: DEL key [key ...]   (also UNLINK)
    Del(Vec<Bytes>),
    /// # Format: EXISTS key [key ...]
    Exists(Vec<Bytes>),
    /// # Format: TOUCH key [key ...] (EXISTS that counts as a use of each key)
    Touch(Vec<Bytes>),
    /// # Format: RANDOMKEY
    RandomKey,
    /// # Format: OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key
    Object(ObjectQuery, Bytes),
    /// # Format: OBJECT HELP
    ObjectHelp,
    /// # Format: TYPE key
    Type(Bytes),
    /// # Format: KEYS pattern
    Keys(Bytes),
    /// # Format: SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
    Scan(Scan),
    /// # Format: RENAME key newkey   /   RENAMENX key newkey
    Rename { from: Bytes, to: Bytes, nx: bool },
    /// # Format: MOVE key db
    Move { key: Bytes, db: i64 },
    /// # Format: COPY source destination [DB destination-db] [REPLACE]
    Copy {
        from: Bytes,
        to: Bytes,
        options: Vec<CopyOption>,
    },
    /// # Format: EXPIRE key seconds [NX|XX|GT|LT]  (and PEXPIRE, EXPIREAT, PEXPIREAT)
    Expire {
        key: Bytes,
        when: i64,
        unit_ms: bool,
        absolute: bool,
        condition: Condition,
        name: &'static str,
    },
    /// # Format: TTL key / PTTL key / EXPIRETIME key / PEXPIRETIME key
    Ttl {
        key: Bytes,
        unit_ms: bool,
        absolute: bool,
    },
    /// # Format: PERSIST key
    Persist(Bytes),
}

#[derive(Debug)]
pub struct Scan {
    pub cursor: u64,
    pub pattern: Option<Bytes>,
    pub count: usize,
    pub kind: Option<Bytes>,
}

/// What OBJECT asks of a key.
#[derive(Debug, Clone, Copy)]
pub enum ObjectQuery {
    Encoding,
    RefCount,
    IdleTime,
    Freq,
}

/// One of COPY's options as given. The database's range is checked when the command runs,
/// where the number of databases is known, yet in argument order: Redis reports whichever
/// fault comes first, so a bad option after an out-of-range DB is not the error given.
#[derive(Debug)]
pub enum CopyOption {
    Replace,
    Db(i64),
    /// The first argument Redis refuses; nothing after it is read.
    Invalid(CommandError),
}

/// EXPIRE's NX/XX/GT/LT.
#[derive(Debug, Default, Clone, Copy)]
pub struct Condition {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl KeysCommand {
    pub fn parse(name: &str, a: &[Bytes]) -> CommandResult<Self> {
        Ok(match name {
            "del" | "unlink" => KeysCommand::Del(a[1..].to_vec()),
            "exists" => KeysCommand::Exists(a[1..].to_vec()),
            "touch" => KeysCommand::Touch(a[1..].to_vec()),
            "type" => KeysCommand::Type(a[1].clone()),
            "randomkey" => KeysCommand::RandomKey,
            "object" => {
                let query = match args::lower(&a[1]).as_str() {
                    "encoding" => ObjectQuery::Encoding,
                    "refcount" => ObjectQuery::RefCount,
                    "idletime" => ObjectQuery::IdleTime,
                    "freq" => ObjectQuery::Freq,
                    "help" => return Ok(KeysCommand::ObjectHelp),
                    sub => unreachable!("object subcommand {sub} has no parser"),
                };
                KeysCommand::Object(query, a[2].clone())
            }
            "keys" => KeysCommand::Keys(a[1].clone()),
            "scan" => KeysCommand::Scan(parse_scan(a)?),
            "rename" | "renamenx" => KeysCommand::Rename {
                from: a[1].clone(),
                to: a[2].clone(),
                nx: name == "renamenx",
            },
            "move" => KeysCommand::Move {
                key: a[1].clone(),
                db: db_index_arg(&a[2])?,
            },
            "copy" => KeysCommand::Copy {
                from: a[1].clone(),
                to: a[2].clone(),
                options: parse_copy_options(&a[3..]),
            },
            "expire" | "pexpire" | "expireat" | "pexpireat" => {
                let condition = parse_condition(&a[3..])?;
                let names: [&'static str; 4] = ["expire", "pexpire", "expireat", "pexpireat"];
                KeysCommand::Expire {
                    key: a[1].clone(),
                    when: args::int(&a[2])?,
                    unit_ms: name.starts_with('p'),
                    absolute: name.ends_with("at"),
                    condition,
                    name: names.into_iter().find(|n| *n == name).unwrap_or("expire"),
                }
            }
            "ttl" | "pttl" | "expiretime" | "pexpiretime" => KeysCommand::Ttl {
                key: a[1].clone(),
                unit_ms: name.starts_with('p'),
                absolute: name.ends_with("time"),
            },
            "persist" => KeysCommand::Persist(a[1].clone()),
            _ => unreachable!("generic command {name} has no parser"),
        })
    }

    pub fn execute(self, ctx: &mut Ctx, out: &mut Reply) -> CommandResult {
        let _shared = ctx.gate_shared();
        let (db, now) = (ctx.db(), ctx.now);
        match self {
            KeysCommand::Del(keys) => {
                let mut removed: Vec<&[u8]> = vec![b"DEL"];
                for key in &keys {
                    if db.remove(key, now).is_some() {
                        removed.push(key);
                        ctx.modified(notify::GENERIC, "del", key);
                    }
                }
                if removed.len() > 1 {
                    ctx.propagate(&removed);
                }
                out.int(removed.len() as i64 - 1);
            }
            KeysCommand::Exists(keys) => {
                out.int(keys.iter().filter(|k| db.contains(k, now)).count() as i64)
            }
            KeysCommand::Touch(keys) => {
                out.int(keys.iter().filter(|k| db.get(k, now).is_some()).count() as i64)
            }
            KeysCommand::RandomKey => match db.random_key(now) {
                Some(key) => out.bulk(&key),
                None => out.null(),
            },
            KeysCommand::Object(query, key) => {
                // OBJECT looks without counting as a use (Redis's LOOKUP_NOTOUCH).
                let Some(entry) = db.peek(&key, now) else {
                    out.null();
                    return Ok(());
                };
                match query {
                    ObjectQuery::Encoding => out.bulk(crate::object::encoding(&entry).name().as_bytes()),
                    ObjectQuery::RefCount => out.int(crate::object::refcount(&entry)),
                    ObjectQuery::IdleTime => out.int(entry.accessed.idle_seconds(now) as i64),
                    // Herald evicts nothing, so it counts no accesses (Redis's LFU policies).
                    ObjectQuery::Freq => return Err(CommandError::err(
                        "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
                    )),
                }
            }
            KeysCommand::ObjectHelp => super::connection::help(
                out,
                "OBJECT",
                &[
                    "ENCODING <key>",
                    "    Return the kind of internal representation used in order to store the value",
                    "    associated with a <key>.",
                    "FREQ <key>",
                    "    Return the access frequency index of the <key>. The returned integer is",
                    "    proportional to the logarithm of the recent access frequency of the key.",
                    "IDLETIME <key>",
                    "    Return the idle time of the <key>, that is the approximated number of",
                    "    seconds elapsed since the last access to the key.",
                    "REFCOUNT <key>",
                    "    Return the number of references of the value associated with the specified",
                    "    <key>.",
                ],
            ),
            KeysCommand::Type(key) => match db.peek(&key, now) {
                Some(entry) => out.simple(entry.value.type_name()),
                None => out.simple("none"),
            },
            KeysCommand::Keys(pattern) => {
                let mut matched = BytesMut::new();
                let mut count = 0;
                let mut encoder = Reply::new(&mut matched, out.protocol());
                db.for_each_key(now, |key| {
                    if matches_all(&pattern) || glob::matches(&pattern, key) {
                        encoder.bulk(key);
                        count += 1;
                    }
                });
                out.array(count);
                out.raw(&matched);
            }
            KeysCommand::Scan(scan) => {
                let (next, keys) = scan_page(db, &scan, now);
                out.array(2);
                out.bulk(next.to_string().as_bytes());
                out.array(keys.len());
                keys.iter().for_each(|k| out.bulk(k));
            }
            KeysCommand::Rename { from, to, nx } => {
                drop(_shared);
                return rename(ctx, out, from, to, nx);
            }
            KeysCommand::Move { key, db } => {
                drop(_shared);
                return move_key(ctx, out, key, db);
            }
            KeysCommand::Copy { from, to, options } => {
                drop(_shared);
                return copy(ctx, out, from, to, options);
            }
            KeysCommand::Expire {
                key,
                when,
                unit_ms,
                absolute,
                condition,
                name,
            } => {
                let Some(deadline) = deadline(when, unit_ms, absolute, now) else {
                    return Err(CommandError::InvalidExpire(name.to_owned()));
                };
                let Some(mut entry) = db.get_mut(&key, now) else {
                    out.int(0);
                    return Ok(());
                };
                let current = entry.expire_at().map(|t| t as i64);
                let refused = (condition.nx && current.is_some())
                    || (condition.xx && current.is_none())
                    || (condition.gt && current.is_none_or(|c| deadline <= c))
                    || (condition.lt && current.is_some_and(|c| deadline >= c));
                if refused {
                    out.int(0);
                    return Ok(());
                }
                // While the AOF is replayed a deadline in the past is kept, not applied: the
                // log's later commands ran while the key lived (Redis's checkAlreadyExpired).
                if deadline <= now as i64 && !ctx.state.persistence.is_loading() {
                    drop(entry);
                    db.remove(&key, now);
                    ctx.modified(notify::GENERIC, "del", &key);
                    ctx.propagate(&[b"DEL", &key]);
                } else {
                    db.set_deadline(&key, &mut entry, Some(deadline.max(0) as u64));
                    drop(entry);
                    ctx.modified(notify::GENERIC, "expire", &key);
                    ctx.propagate(&[b"PEXPIREAT", &key, deadline.to_string().as_bytes()]);
                }
                out.int(1);
            }
            KeysCommand::Ttl {
                key,
                unit_ms,
                absolute,
            } => {
                let reply = match db.peek(&key, now) {
                    None => -2,
                    Some(entry) => match entry.expire_at() {
                        None => -1,
                        Some(at) => {
                            let ms = if absolute {
                                at as i64
                            } else {
                                (at as i64 - now as i64).max(0)
                            };
                            if unit_ms {
                                ms
                            } else {
                                (ms + 500) / 1000
                            }
                        }
                    },
                };
                out.int(reply);
            }
            KeysCommand::Persist(key) => {
                let removed = match db.get_mut(&key, now) {
                    Some(mut entry) if entry.expire_at().is_some() => {
                        db.set_deadline(&key, &mut entry, None);
                        true
                    }
                    _ => false,
                };
                if removed {
                    ctx.modified(notify::GENERIC, "persist", &key);
                    ctx.propagate(&[b"PERSIST", &key]);
                }
                out.int(removed as i64);
            }
        }
        Ok(())
    }
}

fn parse_condition(options: &[Bytes]) -> CommandResult<Condition> {
    let mut c = Condition::default();
    for option in options {
        match args::lower(option).as_str() {
            "nx" => c.nx = true,
            "xx" => c.xx = true,
            "gt" => c.gt = true,
            "lt" => c.lt = true,
            _ => {
                return Err(CommandError::quoting(&[b"ERR Unsupported option ", option]));
            }
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err(CommandError::err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if c.gt && c.lt {
        return Err(CommandError::err(
            "GT and LT options at the same time are not compatible",
        ));
    }
    Ok(c)
}

/// The absolute deadline in ms, or `None` when it overflows (Redis: "invalid expire time").
fn deadline(when: i64, unit_ms: bool, absolute: bool, now: u64) -> Option<i64> {
    let ms = if unit_ms {
        when
    } else {
        when.checked_mul(1000)?
    };
    if absolute {
        Some(ms)
    } else {
        ms.checked_add(now as i64)
    }
}

fn parse_scan(a: &[Bytes]) -> CommandResult<Scan> {
    let cursor =
        crate::number::parse_u64(&a[1]).ok_or_else(|| CommandError::err("invalid cursor"))?;
    let mut scan = Scan {
        cursor,
        pattern: None,
        count: 10,
        kind: None,
    };
    let mut opts = Options::new(a, 2);
    while let Some(word) = opts.next_word() {
        match word.as_str() {
            "match" => scan.pattern = Some(opts.value()?.clone()),
            "count" => {
                let count = args::int(opts.value()?)?;
                if count < 1 {
                    return Err(CommandError::Syntax);
                }
                scan.count = count as usize;
            }
            "type" => scan.kind = Some(opts.value()?.clone()),
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok(scan)
}

/// A SCAN page: the keys of the page still alive that match the pattern and type (Redis too
/// counts COUNT in keys looked at, not keys returned).
fn scan_page(db: &crate::keyspace::Db, scan: &Scan, now: u64) -> (u64, Vec<Bytes>) {
    let page = db.scan(scan.cursor, scan.count, now);
    let keys = page
        .keys
        .into_iter()
        .filter(|k| {
            scan.pattern
                .as_ref()
                .is_none_or(|p| matches_all(p) || glob::matches(p, k))
        })
        .filter(|k| {
            db.peek(k, now).is_some_and(|entry| {
                scan.kind.as_ref().is_none_or(|want| {
                    want.eq_ignore_ascii_case(entry.value.type_name().as_bytes())
                })
            })
        })
        .collect();
    (page.cursor, keys)
}

fn rename(ctx: &mut Ctx, out: &mut Reply, from: Bytes, to: Bytes, nx: bool) -> CommandResult {
    let _exclusive = ctx.gate_exclusive();
    let (db, now) = (ctx.db(), ctx.now);
    if !db.contains(&from, now) {
        return Err(CommandError::NoSuchKey);
    }
    if from == to {
        if nx {
            out.int(0);
        } else {
            out.ok();
        }
        return Ok(());
    }
    if nx && db.contains(&to, now) {
        out.int(0);
        return Ok(());
    }
    let Some(entry) = db.remove(&from, now) else {
        return Err(CommandError::NoSuchKey);
    };
    db.insert(to.clone(), entry, now);
    ctx.modified(notify::GENERIC, "rename_from", &from);
    ctx.modified(notify::GENERIC, "rename_to", &to);
    // RENAMENX that renamed is a RENAME: the condition is resolved.
    ctx.propagate(&[b"RENAME", &from, &to]);
    if nx {
        out.int(1);
    } else {
        out.ok();
    }
    Ok(())
}

/// A database number as COPY and MOVE read it (Redis's `getIntFromObjectOrReply`): an integer,
/// then its 32-bit range; whether such a database exists is checked when the command runs.
fn db_index_arg(arg: &[u8]) -> CommandResult<i64> {
    let n = args::int(arg)?;
    if i32::try_from(n).is_err() {
        return Err(CommandError::err(
            "value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    Ok(n)
}

/// The database a COPY or MOVE names, if it exists.
fn target_db(ctx: &Ctx, n: i64) -> CommandResult<usize> {
    usize::try_from(n)
        .ok()
        .filter(|&n| n < ctx.state.keyspace.databases())
        .ok_or(CommandError::DbIndexOutOfRange)
}

/// COPY's options, read as Redis's `copyCommand` reads them: REPLACE, or DB with a value that
/// must be a 32-bit integer; anything else is a syntax error.
fn parse_copy_options(a: &[Bytes]) -> Vec<CopyOption> {
    let mut options = Vec::new();
    let mut i = 0;
    while i < a.len() {
        let option = if args::is(&a[i], "replace") {
            CopyOption::Replace
        } else if args::is(&a[i], "db") && i + 1 < a.len() {
            i += 1;
            match db_index_arg(&a[i]) {
                Ok(n) => CopyOption::Db(n),
                Err(e) => CopyOption::Invalid(e),
            }
        } else {
            CopyOption::Invalid(CommandError::Syntax)
        };
        let invalid = matches!(option, CopyOption::Invalid(_));
        options.push(option);
        if invalid {
            break;
        }
        i += 1;
    }
    options
}

/// COPY: the value and its deadline under a second name, in this database or another. A stream
/// is copied whole, its consumer groups and pending entries included, as Redis's `streamDup`.
fn copy(
    ctx: &mut Ctx,
    out: &mut Reply,
    from: Bytes,
    to: Bytes,
    options: Vec<CopyOption>,
) -> CommandResult {
    let (mut target, mut replace) = (ctx.session.db, false);
    for option in options {
        match option {
            CopyOption::Replace => replace = true,
            CopyOption::Db(n) => target = target_db(ctx, n)?,
            CopyOption::Invalid(error) => return Err(error),
        }
    }
    if target == ctx.session.db && from == to {
        return Err(CommandError::SameObject);
    }
    // Two databases may be involved: no other command runs meanwhile.
    let _exclusive = ctx.gate_exclusive();
    let now = ctx.now;
    let Some(entry) = ctx.db().get(&from, now).map(|e| e.clone()) else {
        out.int(0);
        return Ok(());
    };
    let destination = ctx.state.keyspace.db(target);
    if !replace && destination.contains(&to, now) {
        out.int(0);
        return Ok(());
    }
    destination.insert(to.clone(), entry, now);
    ctx.modified_in(target, notify::GENERIC, "copy_to", &to);
    // Whether the destination existed is part of the state a replay has too; REPLACE makes
    // the effect the same either way.
    let target_text = target.to_string();
    ctx.propagate(&[
        b"COPY",
        &from,
        &to,
        b"DB",
        target_text.as_bytes(),
        b"REPLACE",
    ]);
    out.int(1);
    Ok(())
}

/// MOVE: the key, its value and deadline, to another database, unless it exists there.
fn move_key(ctx: &mut Ctx, out: &mut Reply, key: Bytes, db: i64) -> CommandResult {
    let target = target_db(ctx, db)?;
    let source = ctx.session.db;
    if target == source {
        return Err(CommandError::SameObject);
    }
    let _exclusive = ctx.gate_exclusive();
    let now = ctx.now;
    let destination = ctx.state.keyspace.db(target);
    if !ctx.db().contains(&key, now) || destination.contains(&key, now) {
        out.int(0);
        return Ok(());
    }
    let Some(entry) = ctx.db().remove(&key, now) else {
        out.int(0);
        return Ok(());
    };
    destination.insert(key.clone(), entry, now);
    ctx.modified_in(source, notify::GENERIC, "move_from", &key);
    ctx.modified_in(target, notify::GENERIC, "move_to", &key);
    ctx.propagate(&[b"MOVE", &key, target.to_string().as_bytes()]);
    out.int(1);
    Ok(())
}

/// KEYS and SCAN treat a lone `*` as "every key", so the empty key is listed too, although the
/// glob `*` itself does not match an empty string (Redis's `allkeys` / `use_pattern` shortcut).
fn matches_all(pattern: &[u8]) -> bool {
    pattern == b"*"
}
