//! Commands: looked up in one table, checked (arity, authentication, subscribed mode,
//! transactions), parsed once into a typed command, then applied.
//!
//! Each family module holds the typed commands of one Redis command group, their `# Format`
//! lines and their handlers; handlers are thin and call one keyspace or server method.

pub mod args;
pub mod connection;
pub mod keys;
pub mod latency;
pub mod memory;
pub mod pubsub;
pub mod server;
pub mod stream;
pub mod strings;
pub mod table;
pub mod timing;
pub mod transaction;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use crate::error::{unknown_command, CommandError, CommandResult};
use crate::persistence::keylock::KeyGuard;
use crate::protocol::Reply;
use crate::session::Session;
use crate::slowlog;
use crate::state::{monitor_line, ServerState};
use table::{flags, CommandSpec, Entry, Family, Lookup};

/// What a handler works with.
pub struct Ctx<'a> {
    pub state: &'a Arc<ServerState>,
    pub session: &'a mut Session,
    /// Unix milliseconds at the start of the command, as Redis caches `mstime()` so that a
    /// command sees one consistent "now". A run of fast commands shares one (see [`timing`]).
    pub now: u64,
    /// When the command, or the run of fast commands it belongs to, started, for INFO
    /// commandstats. In a pipelined batch it is when the previous command was charged
    /// ([`execute`] moves it on), so one clock reading serves both.
    pub started: Instant,
    /// The batch's wall clock, from which `now` follows `started`.
    pub clock: timing::Clock,
    /// EXEC already holds the keyspace gate exclusively for the commands it runs.
    pub in_exec: bool,
}

impl<'a> Ctx<'a> {
    /// A context for one command outside a batch, reading the clock.
    pub fn new(state: &'a Arc<ServerState>, session: &'a mut Session) -> Ctx<'a> {
        let clock = timing::Clock::now();
        Ctx::at(state, session, clock, clock.instant())
    }

    /// A context for a command of a batch read at `clock`, starting at `started` (a reading
    /// taken since).
    pub fn at(
        state: &'a Arc<ServerState>,
        session: &'a mut Session,
        clock: timing::Clock,
        started: Instant,
    ) -> Ctx<'a> {
        Ctx {
            state,
            session,
            now: clock.unix_ms(started),
            started,
            clock,
            in_exec: false,
        }
    }

    /// Charges the pending run of fast commands, if any, with the time since it started, and
    /// starts the next command at a fresh clock reading. The connection calls it at the end of
    /// a batch; [`execute`] before any command that does not join the run.
    pub fn settle(&mut self) {
        let Some((index, calls)) = self.session.tally.take() else {
            return;
        };
        let ended = Instant::now();
        let entry = &self.state.commands.entries()[index];
        let took = ended.duration_since(self.started);
        charge(self.state, entry, u64::from(calls), took);
        // A run this slow means one of its calls was (see `latency::times_each_command`).
        self.state.latency.observe("fast-command", took);
        self.restart(ended);
    }

    fn restart(&mut self, at: Instant) {
        self.started = at;
        self.now = self.clock.unix_ms(at);
    }

    pub fn db(&self) -> &'a crate::keyspace::Db {
        self.state.keyspace.db(self.session.db)
    }

    /// Shared access to the keyspace for the length of a command (see `keyspace` on locking).
    pub fn gate_shared(&self) -> Option<std::sync::RwLockReadGuard<'a, ()>> {
        let state: &'a ServerState = self.state;
        (!self.in_exec).then(|| state.keyspace.shared())
    }

    /// Exclusive access, for commands that change several keys at one instant.
    pub fn gate_exclusive(&self) -> Option<std::sync::RwLockWriteGuard<'a, ()>> {
        let state: &'a ServerState = self.state;
        (!self.in_exec).then(|| state.keyspace.exclusive())
    }

    /// Records a resolved effect of the running command for the AOF: one command, run in the
    /// session's database. Call it after the change, while still holding the keyspace gate;
    /// see [`crate::persistence`] for what an effect must say. Free when the AOF is off.
    pub fn propagate(&mut self, args: &[&[u8]]) {
        let persistence = &self.state.persistence;
        if !persistence.is_active() {
            return;
        }
        let db = self.session.db;
        if self.in_exec {
            // EXEC appends the transaction's effects as one unit when it ends.
            let args = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
            self.session.exec_effects.push((db, args));
        } else {
            self.session.last_write = persistence.log.append(db, args);
        }
    }

    /// [`Ctx::propagate`] for an effect built as owned arguments.
    pub fn propagate_owned(&mut self, args: &[Bytes]) {
        if self.state.persistence.is_active() {
            let args: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
            self.propagate(&args);
        }
    }

    /// Records a change to `key`: flags watchers and publishes the keyspace event.
    pub fn modified(&self, class: u32, event: &str, key: &[u8]) {
        self.modified_in(self.session.db, class, event, key);
    }

    /// Publishes the keyspace event of a change Redis does not count as a modification of the
    /// key: consumer-group bookkeeping (XGROUP SETID, CREATECONSUMER, DELCONSUMER, CREATE on an
    /// existing stream, a consumer made by a read or a claim) and XSETID. WATCH is not
    /// broken and blocked readers are not woken, as in Redis, whose commands for these call
    /// `notifyKeyspaceEvent` without `signalModifiedKey`.
    pub fn notified(&self, class: u32, event: &str, key: &[u8]) {
        self.state.announce_reaped();
        self.state
            .notify_keyspace_event(class, event, self.session.db, key);
    }

    /// Wakes the clients blocked on `key` in `db`, and has this client's replies wait until
    /// they have looked (Redis serves them before it answers the command that woke them).
    pub fn wake_readers(&self, db: usize, key: &[u8]) {
        if self.state.blocking.signal(db, key) {
            self.woke_readers();
        }
    }

    /// Has this client's replies wait until the blocked readers it woke have looked.
    pub fn woke_readers(&self) {
        self.session
            .woke_readers
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// [`Ctx::modified`] for a key of another database (COPY ... DB).
    pub fn modified_in(&self, db: usize, class: u32, event: &str, key: &[u8]) {
        self.state.announce_reaped();
        self.state.keyspace.touch(db, key);
        self.wake_readers(db, key);
        self.state.notify_keyspace_event(class, event, db, key);
    }
}

/// A parsed command, by family.
#[derive(Debug)]
pub enum Command {
    Connection(connection::ConnectionCommand),
    Server(server::ServerCommand),
    Keys(keys::KeysCommand),
    Strings(strings::StringCommand),
    Transaction(transaction::TransactionCommand),
    PubSub(pubsub::PubSubCommand),
    Stream(stream::StreamCommand),
}

impl Command {
    /// Parses arguments already checked against `entry`'s arity.
    pub fn parse(entry: &Entry, owned: Vec<Bytes>) -> CommandResult<Command> {
        let name = entry.command_name;
        let args = &owned[..];
        Ok(match entry.family {
            Family::Connection => {
                Command::Connection(connection::ConnectionCommand::parse(name, args)?)
            }
            Family::Server => Command::Server(server::ServerCommand::parse(name, args)?),
            Family::Keys => Command::Keys(keys::KeysCommand::parse(name, args)?),
            Family::Strings => Command::Strings(strings::StringCommand::parse(name, args)?),
            Family::Transaction => {
                Command::Transaction(transaction::TransactionCommand::parse(name, args)?)
            }
            Family::PubSub => Command::PubSub(pubsub::PubSubCommand::parse(name, owned)?),
            Family::Stream => Command::Stream(stream::StreamCommand::parse(name, owned)?),
        })
    }

    pub fn execute(self, ctx: &mut Ctx, out: &mut Reply) -> CommandResult {
        match self {
            Command::Connection(c) => c.execute(ctx, out),
            Command::Server(c) => c.execute(ctx, out),
            Command::Keys(c) => c.execute(ctx, out),
            Command::Strings(c) => c.execute(ctx, out),
            Command::Transaction(c) => c.execute(ctx, out),
            Command::PubSub(c) => c.execute(ctx, out),
            Command::Stream(c) => c.execute(ctx, out),
        }
    }
}

/// Runs one request from a client, writing its reply (or nothing, under CLIENT REPLY OFF).
pub fn dispatch(args: Vec<Bytes>, ctx: &mut Ctx, out: &mut Reply) {
    if ctx.session.publish_run.is_some() && !pubsub::continues_run(&args, ctx.session) {
        pubsub::deliver_run(ctx.state, ctx.session, out);
    }
    if ctx.session.pubsub.total() > 0 {
        pubsub::write_queued_pushes(ctx.session, out);
    }
    let mark = out.len();
    process(args, ctx, out);
    let session = &mut *ctx.session;
    if session.reply_off || session.reply_skip {
        out.truncate(mark);
    }
    session.reply_skip = false;
    if session.reply_skip_next {
        session.reply_skip = true;
        session.reply_skip_next = false;
    }
}

fn process(args: Vec<Bytes>, ctx: &mut Ctx, out: &mut Reply) {
    let state = ctx.state;
    let session = &mut *ctx.session;
    let found = state
        .commands
        .lookup_after(&args, &mut session.last_lookup, session.replaying);
    let entry = match found {
        Lookup::Found(entry) => entry,
        Lookup::Unknown => return reject(ctx, out, None, unknown_command(&args)),
        Lookup::UnknownSubcommand(spec) => {
            let error = CommandError::unknown_subcommand(&spec.name.to_ascii_uppercase(), &args[1]);
            return reject(ctx, out, None, error);
        }
    };
    let spec = entry.spec;
    let now = ctx.now;
    let (reported_name, reported_ms) = ctx.session.reported;
    if !(std::ptr::eq(reported_name, spec.name) && reported_ms == now) {
        ctx.session.reported = (spec.name, now);
        ctx.session.handle.update(|m| {
            m.last_command = spec.name;
            m.last_interaction_ms = now;
        });
    }
    if !spec.arity_ok(args.len()) {
        return reject(
            ctx,
            out,
            Some(entry),
            CommandError::WrongArity(spec.name.to_owned()),
        );
    }
    if !ctx.session.authenticated
        && !spec.has(flags::NO_AUTH)
        && state.settings.requirepass().is_some()
    {
        return reject(ctx, out, Some(entry), CommandError::NoAuth);
    }
    if ctx.session.multi.is_some() && spec.has(flags::NO_MULTI) {
        return reject(ctx, out, Some(entry), CommandError::NotAllowedInMulti);
    }
    // One load while no `maxmemory` is set; the memory is read only for what it could refuse.
    if state.settings.maxmemory.load(Relaxed) != 0
        && !ctx.session.replaying
        && refused_when_out_of_memory(spec, ctx)
        && state.over_maxmemory(ctx.now)
    {
        return reject(ctx, out, Some(entry), CommandError::OutOfMemory);
    }
    if ctx.session.in_resp2_subscribed_mode() && !spec.has(flags::SUBSCRIBED_OK) {
        return reject(
            ctx,
            out,
            Some(entry),
            CommandError::SubscribedContext(spec.name.to_owned()),
        );
    }
    // A MONITOR connection is a replica to Redis (CLIENT_SLAVE): it may not read or write
    // keys, nor run commands that replicate (PUBLISH, SPUBLISH).
    if ctx.session.monitor
        && (spec.has(flags::WRITE | flags::READONLY) || matches!(spec.name, "publish" | "spublish"))
    {
        return reject(
            ctx,
            out,
            Some(entry),
            CommandError::err("Replica can't interact with the keyspace"),
        );
    }
    // Redis's `CMD_LOADING`: while the AOF is replayed only the commands that touch no keys
    // run (INFO, CLIENT, CONFIG, SUBSCRIBE, ...); the loader's own session is the replay.
    if !spec.has(flags::LOADING) && state.persistence.is_loading() && !ctx.session.replaying {
        return reject(ctx, out, Some(entry), CommandError::Loading);
    }
    if let Some(multi) = &mut ctx.session.multi {
        if !matches!(
            spec.name,
            "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
        ) {
            multi.queued.push(args);
            out.simple("QUEUED");
            return;
        }
    }
    execute(entry, args, ctx, out);
}

/// What Redis refuses while used memory is above `maxmemory` (`processCommand`): a command
/// that may grow memory (`denyoom`), an EXEC whose transaction holds one, and, inside MULTI,
/// anything but EXEC, DISCARD, QUIT and RESET, since queueing itself takes memory.
fn refused_when_out_of_memory(spec: &CommandSpec, ctx: &Ctx) -> bool {
    if spec.has(flags::DENYOOM) {
        return true;
    }
    let Some(multi) = &ctx.session.multi else {
        return false;
    };
    match spec.name {
        "exec" => multi.queued.iter().any(|args| {
            matches!(ctx.state.commands.lookup_client(args),
                Lookup::Found(entry) if entry.spec.has(flags::DENYOOM))
        }),
        "discard" | "quit" | "reset" => false,
        _ => true,
    }
}

/// Parses and applies a command that passed every check; also used by EXEC for queued commands.
pub fn execute(entry: &Entry, args: Vec<Bytes>, ctx: &mut Ctx, out: &mut Reply) {
    // The AOF's replay is not traffic: Redis's loader bypasses `call()` and its stats.
    let counted = !ctx.session.replaying;
    let state = ctx.state;
    let slower_than = state.settings.slowlog_log_slower_than.load(Relaxed);
    // EXEC charges its commands one by one, as before: EXEC itself is not fast.
    let tallied = counted
        && !ctx.in_exec
        && entry.spec.has(flags::FAST)
        && !slowlog::times_each_command(slower_than)
        && !crate::latency::times_each_command(
            state.settings.latency_monitor_threshold.load(Relaxed),
        );
    if counted && !(tallied && ctx.session.tally.continues(entry.index)) {
        ctx.settle();
    }
    // A blocked command run again after a wake-up: monitors saw it, and the slow log keeps
    // its arguments, from its first run.
    let resumed = ctx.session.pending_call.is_some();
    let ordered = log_order(entry.spec, &args, ctx);
    let monitored = !state.monitors.is_empty()
        && !entry.spec.has(flags::SKIP_MONITOR | flags::ADMIN)
        && !ctx.session.replaying
        && !resumed;
    // A command timed on its own may go in the slow log, with its arguments as sent.
    let may_log = counted && !tallied && slower_than >= 0 && !entry.spec.has(flags::SKIP_SLOWLOG);
    // A command that may block keeps them whatever the threshold: it is logged when answered,
    // by the threshold then.
    let capture = !resumed
        && (may_log
            || (counted
                && !entry.spec.has(flags::SKIP_SLOWLOG)
                && entry.spec.has(flags::BLOCKING)));
    if capture {
        ctx.session.sent.capture(&args);
    }
    let for_monitors = monitored.then(|| args.clone());
    let run = |ctx: &mut Ctx, out: &mut Reply| {
        Command::parse(entry, args).and_then(|command| command.execute(ctx, out))
    };
    // TOUCH still touches under CLIENT NO-TOUCH: that is what it is for.
    let result = if ctx.session.no_touch && entry.spec.name != "touch" {
        crate::keyspace::without_touching(|| run(ctx, out))
    } else {
        run(ctx, out)
    };
    drop(ordered);
    state.announce_reaped();
    if tallied {
        ctx.session.tally.add(entry.index);
    } else if counted {
        let ended = Instant::now();
        let took = ended.duration_since(ctx.started);
        let event = if entry.spec.has(flags::FAST) {
            "fast-command"
        } else {
            "command"
        };
        state.latency.observe(event, took);
        let before = ctx.session.pending_call.take();
        let took = took + before.map(|p| p.took).unwrap_or_default();
        // The arguments the slow log would show were taken at the first run, if at all.
        let captured = before.map_or(capture, |p| p.captured);
        if ctx.session.is_blocked() {
            // Charged when answered (see `timing::PendingCall`).
            ctx.session.pending_call = Some(timing::PendingCall {
                index: entry.index,
                took,
                captured,
            });
        } else {
            charge(state, entry, 1, took);
            if slower_than_now(state) && captured {
                log_if_slow(state, ctx.session, entry.spec.name, whole_micros(took));
            }
        }
        ctx.restart(ended);
    }
    if let Err(error) = result {
        if counted {
            entry.stats.failed_calls.fetch_add(1, Relaxed);
        }
        error_reply(ctx, out, &error);
    }
    if let Some(args) = for_monitors {
        feed_monitors(entry.spec, &args, ctx);
    }
}

/// Charges a blocked command answered without running again (a timeout, CLIENT UNBLOCK, a
/// WAIT's acknowledgement) with the time its runs took; `failed` when answered with an error.
/// It goes in the slow log if `logged`: a read, as Redis 7.4 logs it at its timeout, not a
/// WAIT or WAITAOF, which Redis never logs once they waited.
pub fn charge_unblocked(state: &ServerState, session: &mut Session, failed: bool, logged: bool) {
    let Some(pending) = session.pending_call.take() else {
        return;
    };
    let entry = &state.commands.entries()[pending.index];
    charge(state, entry, 1, pending.took);
    if failed {
        entry.stats.failed_calls.fetch_add(1, Relaxed);
    }
    if logged && pending.captured && slower_than_now(state) {
        log_if_slow(state, session, entry.spec.name, whole_micros(pending.took));
    }
}

/// Whether the slow log is on now (a blocked command is logged by the threshold when answered).
fn slower_than_now(state: &ServerState) -> bool {
    state.settings.slowlog_log_slower_than.load(Relaxed) >= 0
}

/// Adds a command that took `micros` to the slow log if it was slow enough, its passwords
/// redacted.
fn log_if_slow(state: &ServerState, session: &Session, name: &str, micros: u64) {
    let settings = &state.settings;
    let max_len = settings.slowlog_max_len.load(Relaxed);
    if !slowlog::wants(
        settings.slowlog_log_slower_than.load(Relaxed),
        max_len,
        micros,
    ) {
        return;
    }
    let handle = &session.handle;
    let mut args = session.sent.args();
    slowlog::redact(name, &mut args);
    let entry = slowlog::NewEntry {
        args,
        micros,
        now_ms: crate::keyspace::now_ms(),
        client_addr: &handle.addr,
        client_name: handle.meta().name,
    };
    state.slowlog.push(entry, max_len);
}

/// Adds `calls` of `entry` that took `took` to INFO commandstats, its latency histogram and
/// stats.
fn charge(state: &ServerState, entry: &Entry, calls: u64, took: std::time::Duration) {
    entry.stats.calls.fetch_add(calls, Relaxed);
    entry.stats.usec.fetch_add(whole_micros(took), Relaxed);
    if state.settings.latency_tracking.load(Relaxed) {
        // A run's calls each at the run's mean (see `latency`).
        let each = took.as_nanos() as u64 / calls.max(1);
        entry.stats.latency.record(each, calls);
    }
    state
        .stats
        .total_commands_processed
        .fetch_add(calls, Relaxed);
}

/// `Duration::as_micros` without its 128-bit division, once per command.
fn whole_micros(d: std::time::Duration) -> u64 {
    d.as_secs()
        .saturating_mul(1_000_000)
        .saturating_add(u64::from(d.subsec_micros()))
}

/// While the AOF is on, locks the keys a write command names, so that its change and the
/// append of its effect are not interleaved with another client's on the same key (see
/// [`crate::persistence::keylock`]). EXEC's commands need none: EXEC holds the gate exclusively.
fn log_order<'a>(spec: &CommandSpec, args: &[Bytes], ctx: &Ctx<'a>) -> KeyGuard<'a> {
    let state: &'a ServerState = ctx.state;
    if ctx.in_exec || !spec.has(flags::WRITE) || !state.persistence.is_active() {
        return KeyGuard::None;
    }
    state
        .persistence
        .keys
        .lock(ctx.session.db, write_keys(spec, args))
}

/// The keys a write command names: from the table's key positions, or, for the commands whose
/// keys are not at fixed positions, from their syntax.
pub fn write_keys<'b>(spec: &CommandSpec, args: &'b [Bytes]) -> Vec<&'b [u8]> {
    keys_of(spec, args).unwrap_or_default()
}

/// The keys a command names (COMMAND GETKEYS, and [`write_keys`]); `None` when a command
/// whose keys follow a keyword (XREAD, XREADGROUP: `STREAMS k1 k2 ... id1 id2 ...`) lacks it.
pub fn keys_of<'b>(spec: &CommandSpec, args: &'b [Bytes]) -> Option<Vec<&'b [u8]>> {
    if matches!(spec.name, "xread" | "xreadgroup") {
        let at = args.iter().position(|a| args::is(a, "streams"))?;
        let rest = &args[at + 1..];
        return Some(rest[..rest.len() / 2].iter().map(|k| &k[..]).collect());
    }
    if spec.first_key <= 0 {
        return Some(Vec::new());
    }
    let first = spec.first_key as usize;
    let last = if spec.last_key < 0 {
        args.len() as i64 + spec.last_key as i64
    } else {
        spec.last_key as i64
    };
    let step = spec.step.max(1) as usize;
    Some(
        (first..=last.max(0) as usize)
            .step_by(step)
            .filter_map(|i| args.get(i).map(|k| &k[..]))
            .collect(),
    )
}

/// Refuses a request before it runs; inside MULTI this also dooms the transaction.
fn reject(ctx: &mut Ctx, out: &mut Reply, entry: Option<&Entry>, error: CommandError) {
    // The AOF's replay is not traffic (see `execute`).
    let counted = !ctx.session.replaying;
    if let (Some(entry), true) = (entry, counted) {
        entry.stats.rejected_calls.fetch_add(1, Relaxed);
    }
    if let Some(multi) = &mut ctx.session.multi {
        multi.aborted = true;
    }
    // A refused EXEC discards the transaction and says why (Redis's `execCommandAbort`).
    let error = match entry {
        Some(entry) if entry.spec.name == "exec" => {
            transaction::discard(ctx);
            CommandError::exec_refused(&error)
        }
        _ => error,
    };
    error_reply(ctx, out, &error);
}

/// Answers with `error`, counted in INFO errorstats unless the AOF's replay ran the command.
fn error_reply(ctx: &Ctx, out: &mut Reply, error: &CommandError) {
    if ctx.session.replaying {
        out.error(&error.text());
    } else {
        write_error(ctx.state, out, error);
    }
}

pub fn write_error(state: &ServerState, out: &mut Reply, error: &CommandError) {
    state.stats.count_error(&error.prefix());
    out.error(&error.text());
}

fn feed_monitors(spec: &CommandSpec, args: &[Bytes], ctx: &Ctx) {
    let redacted = Bytes::from_static(b"(redacted)");
    let shown: Vec<Bytes> = match spec.name {
        "auth" => std::iter::once(args[0].clone())
            .chain(args[1..].iter().map(|_| redacted.clone()))
            .collect(),
        "hello" => {
            let mut shown = args.to_vec();
            if let Some(at) = shown.iter().position(|a| args::is(a, "auth")) {
                for arg in shown.iter_mut().skip(at + 1).take(2) {
                    *arg = redacted.clone();
                }
            }
            shown
        }
        _ => args.to_vec(),
    };
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    let line = monitor_line(now_us, ctx.session.db, &ctx.session.handle.addr, &shown);
    ctx.state
        .monitors
        .feed(line, &ctx.state.settings.output_limits().pubsub);
}
