//! One client connection: reads requests, runs them, writes replies and pushed frames.
//!
//! Pipelining: every complete request in the read buffer is run before anything is written, and
//! the replies of the batch leave in one vectored write together with any pushed frames (pub/sub
//! messages, MONITOR lines) queued for this client meanwhile. Pushed frames are shared `Bytes`
//! written as they are, never copied per subscriber.
//!
//! With the AOF on, a batch's replies leave only once every effect appended so far is released:
//! fsynced under `appendfsync always`, written otherwise ([`Connection::await_aof`]).
//!
//! The task also watches for being killed (CLIENT KILL, output limit), for server shutdown and
//! for the idle timeout, including while a write is stalled on a client that stopped reading.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::os::fd::AsFd;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::Interest;
use tokio::time::Instant;

use crate::client::{ClientHandle, Unblock};
use crate::command::timing::Clock;
use crate::command::{dispatch, Ctx};
use crate::keyspace::now_ms;
use crate::outbox::Frame;
use crate::protocol::{Limits, Reply, RequestParser};
use crate::session::Session;
use crate::socket::ClientSocket;
use crate::state::ServerState;

/// How many buffers one vectored write takes at most.
const MAX_IOV: usize = 64;

/// Why a connection ended.
#[derive(Debug)]
enum Close {
    Normal,
    Io(io::Error),
}

pub struct Connection {
    state: Arc<ServerState>,
    stream: ClientSocket,
    session: Session,
    parser: RequestParser,
    input: BytesMut,
    replies: BytesMut,
    /// Frames waiting to be written, in order.
    output: VecDeque<Frame>,
    /// Bytes taken from the outbox that are still in `output`.
    outbox_bytes_in_output: usize,
    taken: Vec<Frame>,
    /// Where small pushed frames are gathered before writing.
    pushed: BytesMut,
    /// When input last arrived (the idle `timeout` counts from here).
    last_input: Instant,
}

impl Connection {
    pub fn new(
        state: Arc<ServerState>,
        stream: ClientSocket,
        handle: Arc<ClientHandle>,
    ) -> Connection {
        let authenticated = state.settings.requirepass().is_none();
        Connection {
            session: Session::new(handle, authenticated),
            state,
            stream,
            parser: RequestParser::default(),
            input: BytesMut::with_capacity(16 * 1024),
            replies: BytesMut::with_capacity(16 * 1024),
            output: VecDeque::new(),
            outbox_bytes_in_output: 0,
            taken: Vec::new(),
            pushed: BytesMut::new(),
            last_input: Instant::now(),
        }
    }

    /// Serves the client until it leaves, is killed, or the server shuts down.
    pub async fn run(mut self) {
        let result = self.serve().await;
        // Counted here, once, whichever await noticed the kill (a stalled write, usually).
        if self.session.handle.over_output_limit() {
            self.state
                .stats
                .client_output_limit_disconnections
                .fetch_add(1, Relaxed);
        }
        if let Err(Close::Io(e)) = &result {
            tracing::debug!("client {} closed: {e}", self.session.handle.addr);
        }
        self.cleanup();
    }

    async fn serve(&mut self) -> Result<(), Close> {
        let handle = self.session.handle.clone();
        // One wait for the shutdown for the whole connection (also while replies wait for the
        // AOF): made anew at every turn, it joined and left the waiters of a Notify all
        // connections share (a lock each time): 1.5 % of a one-request XADD's instructions
        // under `everysec`, and 1.5 % more under `always` (callgrind).
        let state = self.state.clone();
        let shutdown = state.shutdown_requested();
        tokio::pin!(shutdown);
        loop {
            if handle.is_killed() {
                return Ok(());
            }
            if !self.input.is_empty() {
                self.run_batch()?;
            }
            self.collect_pushed();
            let woke_readers = self.session.woke_readers.swap(false, Relaxed);
            if woke_readers {
                wait_served(&state).await;
            }
            if !self.output.is_empty() {
                self.await_aof(shutdown.as_mut()).await?;
                // A command may only run after the replies before it are written when it
                // would otherwise run past one that blocks or ends the connection.
                let read_meanwhile = !self.session.is_blocked() && !self.session.close_after_reply;
                self.flush(read_meanwhile).await?;
                if !self.output.is_empty() {
                    // Input arrived while the socket was full: run it, then write on.
                    continue;
                }
            }
            if woke_readers && !self.input.is_empty() {
                // The batch stopped after the command that woke them: run the rest.
                continue;
            }
            if self.session.blocked.is_some() {
                self.wait_blocked().await?;
                continue;
            }
            if self.session.waiting.is_some() {
                self.wait_for().await?;
                continue;
            }
            if self.session.close_after_reply || self.state.is_shutting_down() {
                return Ok(());
            }
            // Frames pushed while `flush` was writing spent their wake-up there: collect them
            // now rather than sleep on a wake-up that already came — after taking what input
            // has arrived, so that a subscriber whose channel never goes quiet still has its
            // commands (UNSUBSCRIBE) read, as Redis reads input whatever the output.
            if !handle.outbox.is_empty() {
                self.read_arrived()?;
                continue;
            }
            let timeout = self.state.settings.timeout.load(Relaxed);
            let idle_deadline = (timeout > 0 && self.session.pubsub.total() == 0)
                .then(|| self.last_input + Duration::from_secs(timeout));
            self.reserve_input();
            tokio::select! {
                read = self.stream.read_buf(&mut self.input) => {
                    let n = read.map_err(Close::Io)?;
                    if n == 0 {
                        return Ok(());
                    }
                    self.took_input(n);
                }
                _ = handle.wake.notified() => {
                    // Frames were pushed. While several connections publish, the others ready
                    // in this turn of the event loop publish first, and one write carries all
                    // their messages (see `pubsub::Publishers`): turns are waited out while
                    // they bring more, a few at most.
                    if self.state.hub.publishers.several(now_ms()) {
                        for _ in 0..4 {
                            let before = handle.outbox.len();
                            tokio::task::yield_now().await;
                            if handle.outbox.len() == before {
                                break;
                            }
                        }
                    }
                }
                _ = &mut shutdown => return Ok(()),
                _ = sleep_until_opt(idle_deadline) => return Ok(()),
            }
        }
    }

    /// Room for the next read: what the request being parsed still needs, or a few KB.
    fn reserve_input(&mut self) {
        let wanted = self.parser.bytes_wanted(self.input.len());
        if wanted > 0 {
            self.input.reserve(wanted.min(64 * 1024 * 1024));
        } else if self.input.capacity() - self.input.len() < 4096 {
            self.input.reserve(16 * 1024);
        }
    }

    /// Reads what input has arrived, without waiting (no system call unless the socket was
    /// reported readable); returns how many bytes, and closes once the client has.
    fn read_arrived(&mut self) -> Result<usize, Close> {
        self.reserve_input();
        match self.stream.try_read_buf(&mut self.input) {
            Ok(0) => Err(Close::Normal),
            Ok(n) => {
                self.took_input(n);
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(Close::Io(e)),
        }
    }

    /// Accounts for `n` bytes read (INFO `total_net_input_bytes`). The idle timeout counts
    /// from the batch that input starts (`run_batch` reads the clock anyway).
    fn took_input(&mut self, n: usize) {
        self.state
            .stats
            .total_net_input_bytes
            .fetch_add(n as u64, Relaxed);
    }

    /// Runs every complete request in the input buffer, writing replies into `replies`.
    fn run_batch(&mut self) -> Result<(), Close> {
        let limit = self.state.settings.client_query_buffer_limit.load(Relaxed) as usize;
        if self.input.len() + self.parser.pending_bytes() > limit {
            tracing::warn!(
                "Closing client that reached max query buffer length (id={})",
                self.session.handle.id.0
            );
            self.state
                .stats
                .client_query_buffer_limit_disconnections
                .fetch_add(1, Relaxed);
            return Err(Close::Normal);
        }
        // One clock reading when the batch starts, and one per command that is not fast or per
        // run of fast commands when it is charged (see `command::timing`).
        let clock = Clock::now();
        let mut started = clock.instant();
        self.last_input = started.into();
        while !self.session.close_after_reply {
            let limits = Limits {
                max_bulk_len: self.state.settings.proto_max_bulk_len.load(Relaxed),
                unauthenticated: !self.session.authenticated
                    && self.state.settings.requirepass().is_some(),
            };
            // A PUBLISH that continues the client's run runs from the read buffer, its
            // arguments never copied out (see `pubsub::continue_run`).
            if self.session.publish_run.is_some() {
                if let Some(request) = self.parser.peek_small(&self.input, limits) {
                    let mut out = Reply::new(&mut self.replies, self.session.protocol);
                    let ran = crate::command::pubsub::continue_run(
                        &self.state,
                        &mut self.session,
                        &request,
                        &self.input,
                        &mut out,
                    );
                    if ran {
                        RequestParser::skip(&mut self.input, &request);
                        continue;
                    }
                }
            }
            let args = match self.parser.next(&mut self.input, limits) {
                Ok(Some(args)) => args,
                Ok(None) => break,
                Err(error) => {
                    let mut out = Reply::new(&mut self.replies, self.session.protocol);
                    crate::command::pubsub::deliver_run(&self.state, &mut self.session, &mut out);
                    tracing::debug!(
                        "Protocol error ({error}) from client {}",
                        self.session.handle.addr
                    );
                    let mut out = Reply::new(&mut self.replies, self.session.protocol);
                    self.state.stats.count_error("ERR");
                    out.error(&error.reply_text());
                    self.session.close_after_reply = true;
                    break;
                }
            };
            let mut out = Reply::new(&mut self.replies, self.session.protocol);
            let mut ctx = Ctx::at(&self.state, &mut self.session, clock, started);
            dispatch(args, &mut ctx, &mut out);
            started = ctx.started;
            if self.session.is_blocked() {
                // The rest of the input waits until the blocked command is answered.
                break;
            }
            if self.session.woke_readers.load(Relaxed) {
                // And until the readers this command woke have run their reads: Redis serves
                // them before it runs the next command (see `wait_served`).
                break;
            }
        }
        Ctx::at(&self.state, &mut self.session, clock, started).settle();
        let mut out = Reply::new(&mut self.replies, self.session.protocol);
        crate::command::pubsub::deliver_run(&self.state, &mut self.session, &mut out);
        if !self.replies.is_empty() {
            self.output.push_back(self.replies.split().freeze().into());
        }
        Ok(())
    }

    /// Serves a blocked XREAD / XREADGROUP: registers on its keys, runs it again whenever one
    /// of them changes, and answers it when it finds entries, fails, or times out. Meanwhile
    /// the client's further input is buffered, not run, and its disconnection is noticed.
    async fn wait_blocked(&mut self) -> Result<(), Close> {
        let Some(blocked) = self.session.blocked.take() else {
            return Ok(());
        };
        let state = self.state.clone();
        let handle = self.session.handle.clone();
        let deadline = blocked.timeout.map(|t| Instant::now() + t);
        // XREADGROUP GROUP <group> <consumer> ...: the parser checked the shape.
        let group = blocked
            .args
            .first()
            .filter(|name| name.eq_ignore_ascii_case(b"xreadgroup"))
            .and_then(|_| blocked.args.get(2).cloned());
        let wake = Arc::new(crate::stream::blocking::Wake::new(group.clone()));
        for key in &blocked.keys {
            state
                .blocking
                .register(blocked.db, key.clone(), handle.id, wake.clone());
        }
        state.blocked_clients.fetch_add(1, Relaxed);
        handle.forget_unblock();
        handle.update(|m| m.blocked = true);
        // Runs the read, then again each time one of its keys changes as Redis 7.4 would
        // re-run it: a group reader for any change (a deleted or retyped key included, which
        // then answers XREADGROUP's own NOGROUP or WRONGTYPE), a plain XREAD only for a key
        // that is a stream (its key deleted or overwritten, it keeps waiting).
        let mut signals = 0;
        let mut failed = false;
        let result = loop {
            let mut out = Reply::new(&mut self.replies, self.session.protocol);
            let mut ctx = Ctx::new(&self.state, &mut self.session);
            dispatch(blocked.args.clone(), &mut ctx, &mut out);
            ctx.settle();
            if self.session.blocked.take().is_none() {
                break Ok(());
            }
            // Waiting again: the wake-ups so far are acted on.
            state.blocking.cover(&wake, signals);
            let waited = loop {
                let waited = self.wait_while_blocked(wake.notified(), deadline).await;
                if !matches!(waited, Ok(Waited::Event)) {
                    break waited;
                }
                signals = wake.signals();
                let changed = wake.take_changed();
                if group.is_some() {
                    wait_turn(&state, blocked.db, &changed, handle.id).await;
                    break waited;
                }
                if any_stream(&state, blocked.db, changed) {
                    break waited;
                }
                // Nothing a plain XREAD would run again for.
                state.blocking.cover(&wake, signals);
            };
            match waited {
                Ok(Waited::Event) => {}
                Ok(Waited::Timeout | Waited::Unblocked(Unblock::Timeout)) => {
                    Reply::new(&mut self.replies, self.session.protocol).null_array();
                    break Ok(());
                }
                Ok(Waited::Unblocked(Unblock::Error)) => {
                    self.unblocked_with_error();
                    failed = true;
                    break Ok(());
                }
                Err(close) => break Err(close),
            }
        };
        self.charge_unblocked(&result, failed, true);
        for key in &blocked.keys {
            state.blocking.deregister(blocked.db, key, handle.id);
        }
        // The next reader of the group takes its turn before this one's wake-ups are counted
        // as served, so a writer waiting for its readers waits for that one too.
        if let Some(group) = &group {
            for key in &blocked.keys {
                state.blocking.pass_turn(blocked.db, key, group);
            }
        }
        state.blocked_clients.fetch_sub(1, Relaxed);
        handle.update(|m| m.blocked = false);
        // Only now, no longer blocked (CLIENT UNBLOCK answers 0), does a writer waiting for
        // this reader go on.
        state.blocking.cover(&wake, wake.signals());
        if !self.replies.is_empty() {
            self.output.push_back(self.replies.split().freeze().into());
        }
        result
    }

    /// Serves a WAIT / WAITAOF that could not be answered at once: answers it when this
    /// client's writes are fsynced (WAITAOF 1), or at its timeout with what was reached; with
    /// an error if the AOF is turned off meanwhile, as Redis does. Meanwhile the client's
    /// further input is buffered, not run, as for a blocked read.
    async fn wait_for(&mut self) -> Result<(), Close> {
        let Some(wait) = self.session.waiting.take() else {
            return Ok(());
        };
        let state = self.state.clone();
        let handle = self.session.handle.clone();
        // A timeout past what the clock can hold is no timeout.
        let deadline = wait.timeout.and_then(|t| Instant::now().checked_add(t));
        let mut fsynced = state.persistence.log.watch_fsynced();
        state.blocked_clients.fetch_add(1, Relaxed);
        handle.forget_unblock();
        handle.update(|m| m.blocked = true);
        let mut failed = false;
        let result = loop {
            let persistence = &state.persistence;
            if wait.local && !persistence.is_enabled() {
                let mut out = Reply::new(&mut self.replies, self.session.protocol);
                let error = crate::command::server::waitaof_needs_aof();
                crate::command::write_error(&state, &mut out, &error);
                failed = true;
                break Ok(());
            }
            let reached = persistence.fsynced_through(wait.seq);
            if (reached || !wait.local) && wait.replicas <= 0 {
                let mut out = Reply::new(&mut self.replies, self.session.protocol);
                crate::command::server::answer_wait(&mut out, wait.aof, reached);
                break Ok(());
            }
            let changed = async {
                let _ = fsynced.changed().await;
            };
            match self.wait_while_blocked(changed, deadline).await {
                Ok(Waited::Event) => {}
                Ok(Waited::Timeout | Waited::Unblocked(Unblock::Timeout)) => {
                    let mut out = Reply::new(&mut self.replies, self.session.protocol);
                    crate::command::server::answer_wait(&mut out, wait.aof, reached);
                    break Ok(());
                }
                Ok(Waited::Unblocked(Unblock::Error)) => {
                    self.unblocked_with_error();
                    failed = true;
                    break Ok(());
                }
                Err(close) => break Err(close),
            }
        };
        self.charge_unblocked(&result, failed, false);
        state.blocked_clients.fetch_sub(1, Relaxed);
        handle.update(|m| m.blocked = false);
        if !self.replies.is_empty() {
            self.output.push_back(self.replies.split().freeze().into());
        }
        result
    }

    /// The wait of a blocked command (XREAD BLOCK, WAIT, WAITAOF): until `event` happens or
    /// `deadline` passes. Meanwhile the client's further input is buffered, not run, pushes
    /// to it are still written, and a kill, a disconnection or a shutdown ends the wait.
    async fn wait_while_blocked(
        &mut self,
        event: impl std::future::Future<Output = ()>,
        deadline: Option<Instant>,
    ) -> Result<Waited, Close> {
        let state = self.state.clone();
        let handle = self.session.handle.clone();
        tokio::pin!(event);
        loop {
            tokio::select! {
                _ = &mut event => return Ok(Waited::Event),
                _ = sleep_until_opt(deadline) => return Ok(Waited::Timeout),
                read = self.stream.read_buf(&mut self.input) => match read {
                    Ok(0) => return Err(Close::Normal),
                    Ok(n) => self.took_input(n),
                    Err(e) => return Err(Close::Io(e)),
                },
                _ = handle.wake.notified() => {
                    if handle.is_killed() {
                        return Err(Close::Normal);
                    }
                    self.collect_pushed();
                    self.flush(false).await?;
                    if let Some(how) = handle.take_unblock() {
                        return Ok(Waited::Unblocked(how));
                    }
                }
                _ = state.shutdown_requested() => return Err(Close::Normal),
            }
        }
    }

    /// Charges the blocked command just answered, if no run of it was (a disconnected client's
    /// is not, as in Redis); a read goes in the slow log, a WAIT or WAITAOF does not.
    fn charge_unblocked(&mut self, result: &Result<(), Close>, failed: bool, read: bool) {
        if result.is_ok() {
            crate::command::charge_unblocked(&self.state, &mut self.session, failed, read);
        }
        self.session.pending_call = None;
    }

    /// CLIENT UNBLOCK ... ERROR's reply to the blocked command.
    fn unblocked_with_error(&mut self) {
        self.state.stats.count_error("UNBLOCKED");
        Reply::new(&mut self.replies, self.session.protocol)
            .error(b"UNBLOCKED client unblocked via CLIENT UNBLOCK");
    }

    /// Moves frames pushed to this client into the output queue.
    ///
    /// Small frames are copied into one buffer: for a subscriber of many short messages a
    /// single contiguous write is cheaper than dozens of iovecs, and a copy of 64 bytes costs
    /// less than the slice bookkeeping. Large frames are queued as the shared `Bytes` (or spool
    /// range) they are.
    fn collect_pushed(&mut self) {
        const SMALL: usize = 1024;
        let outbox = &self.session.handle.outbox;
        self.taken.clear();
        outbox.take(&mut self.taken);
        for frame in self.taken.drain(..) {
            self.outbox_bytes_in_output += frame.len();
            if frame.len() <= SMALL && frame.spooled.is_none() {
                self.pushed.extend_from_slice(&frame.bytes);
                continue;
            }
            if !self.pushed.is_empty() {
                self.output.push_back(self.pushed.split().freeze().into());
            }
            self.output.push_back(frame);
        }
        if !self.pushed.is_empty() {
            self.output.push_back(self.pushed.split().freeze().into());
        }
    }

    /// Holds the batch's replies back until every effect appended so far is released: fsynced
    /// by the writer thread under `always` (one fsync releases every waiting connection: group
    /// commit), written by this connection under `everysec` and `no`. See `persistence::aof`.
    /// Free with the AOF off.
    async fn await_aof(
        &self,
        mut shutdown: std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
    ) -> Result<(), Close> {
        let persistence = &self.state.persistence;
        let Some(mut target) = persistence.release_target() else {
            return Ok(());
        };
        let log = &persistence.log;
        let policy = self.state.settings.appendfsync();
        if policy == crate::config::FsyncPolicy::Always {
            // The writer is woken when this turn of the event loop ends (`aof::before_park`),
            // so that one fsync covers every client served in it; a turn kept busy longer than
            // a millisecond wakes it from here.
            log.kick();
            tokio::select! {
                _ = log.wait_released(target) => return Ok(()),
                _ = tokio::time::sleep(Duration::from_millis(1)) => log.kick_now(),
                _ = shutdown.as_mut() => return Err(Close::Normal),
            }
        } else {
            // Let the other connections ready in this turn of the event loop append too, so
            // that one write covers them all.
            tokio::task::yield_now().await;
            let Some(now_appended) = persistence.release_target() else {
                return Ok(());
            };
            target = now_appended;
            if log.write_through(policy) >= target {
                return Ok(());
            }
        }
        tokio::select! {
            _ = log.wait_released(target) => Ok(()),
            _ = shutdown.as_mut() => Err(Close::Normal),
        }
    }

    /// Writes the output queue, watching for a kill while the socket is full. With
    /// `read_meanwhile`, input arriving while the socket is full ends the flush early (with
    /// output left), so that the caller runs it: a client is served whatever its output.
    async fn flush(&mut self, read_meanwhile: bool) -> Result<(), Close> {
        let handle = self.session.handle.clone();
        while !self.output.is_empty() {
            let attempt = match self.output.front().and_then(|f| f.spooled.as_ref()) {
                Some(first) => {
                    // Spooled frames go out from the spool's pages: adjacent ones (a channel's
                    // consecutive messages) with one `sendfile`.
                    let mut len = first.len;
                    let mut last = first;
                    for next in self.output.iter().skip(1) {
                        match &next.spooled {
                            Some(next) if last.continued_by(next) => {
                                len += next.len;
                                last = next;
                            }
                            _ => break,
                        }
                    }
                    let stream = &self.stream;
                    stream.try_io(Interest::WRITABLE, || first.send(stream.as_fd(), len))
                }
                None => {
                    let mut slices = [IoSlice::new(&[]); MAX_IOV];
                    let n = self
                        .output
                        .iter()
                        .take_while(|f| f.spooled.is_none())
                        .zip(slices.iter_mut())
                        .map(|(f, slice)| *slice = IoSlice::new(&f.bytes))
                        .count();
                    // One buffer (a subscriber's message, most replies) goes out with `write`.
                    match &slices[..n] {
                        [one] => self.stream.try_write(one),
                        many => self.stream.try_write_vectored(many),
                    }
                }
            };
            let written = match attempt {
                Ok(written) => written,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    tokio::select! {
                        r = self.stream.writable() => r.map_err(Close::Io)?,
                        r = self.stream.readable(), if read_meanwhile => {
                            r.map_err(Close::Io)?;
                            if self.read_arrived()? > 0 {
                                return Ok(());
                            }
                        }
                        _ = handle.wake.notified() => {
                            if handle.is_killed() {
                                return Err(Close::Normal);
                            }
                            // More frames were pushed; they are picked up after this write.
                        }
                        _ = self.state.shutdown_requested() => return Err(Close::Normal),
                    }
                    continue;
                }
                Err(e) => return Err(Close::Io(e)),
            };
            if written == 0 {
                return Err(Close::Io(io::ErrorKind::WriteZero.into()));
            }
            self.state
                .stats
                .total_net_output_bytes
                .fetch_add(written as u64, Relaxed);
            self.advance(written);
        }
        if self.outbox_bytes_in_output > 0 {
            handle.outbox.written(self.outbox_bytes_in_output);
            self.outbox_bytes_in_output = 0;
        }
        Ok(())
    }

    fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.output.front_mut() else {
                return;
            };
            if front.len() <= n {
                n -= front.len();
                self.output.pop_front();
            } else {
                front.advance(n);
                n = 0;
            }
        }
    }

    fn cleanup(&mut self) {
        let state = &self.state;
        self.session.unwatch_all(&state.keyspace);
        crate::command::pubsub::unsubscribe_everything(state, &mut self.session);
        if self.session.monitor {
            state.monitors.remove(&self.session.handle);
        }
        state.clients.unregister(self.session.handle.id);
    }
}

/// How long a writer waits for the readers it woke, or a reader for the older readers of its
/// key, at most. They normally take microseconds (compat `test_blocking_fuzz.py`: 300,000
/// steps with a millisecond's bound, none reached it); the bound only keeps a reader whose
/// task is slow to be scheduled, on a loaded host, from holding others back for long.
const WAIT_FOR_READERS: Duration = Duration::from_millis(10);

/// Lets the group readers of `keys` that blocked before `me` and were woken too re-run their
/// reads first (see [`crate::stream::blocking::Blocking::older_pending`]). Bounded: a reader
/// whose task is slow to run holds the others back for [`WAIT_FOR_READERS`] at most.
async fn wait_turn(
    state: &ServerState,
    db: usize,
    keys: &[bytes::Bytes],
    me: crate::client::ClientId,
) {
    let blocking = &state.blocking;
    blocking
        .wait_until(WAIT_FOR_READERS, || {
            !keys.iter().any(|key| blocking.older_pending(db, key, me))
        })
        .await;
}

/// Before a writer's replies go out, lets the blocked readers its commands woke re-run their
/// reads, as Redis serves the clients a command readied before it answers that command: a
/// client that adds an entry and then asks XPENDING (or CLIENT UNBLOCK) finds the waiting
/// consumer served. Bounded by [`WAIT_FOR_READERS`].
async fn wait_served(state: &ServerState) {
    let blocking = &state.blocking;
    blocking
        .wait_until(WAIT_FOR_READERS, || blocking.unserved() == 0)
        .await;
}

/// Whether any of `keys` (in database `db`) holds a stream.
fn any_stream(state: &ServerState, db: usize, keys: Vec<bytes::Bytes>) -> bool {
    let db = state.keyspace.db(db);
    let now = now_ms();
    keys.iter().any(|key| {
        db.get(key, now)
            .is_some_and(|e| matches!(e.value, crate::keyspace::Value::Stream(_)))
    })
}

/// How the wait of a blocked command ended.
enum Waited {
    /// What it waited for happened (a key changed, more was fsynced): look again.
    Event,
    Timeout,
    /// CLIENT UNBLOCK ended it.
    Unblocked(Unblock),
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
