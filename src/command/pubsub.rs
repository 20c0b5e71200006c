//! Pub/sub commands: SUBSCRIBE and its kin, PUBLISH, PUBSUB introspection.
//!
//! Confirmations are pushes: `>` frames in RESP3, arrays in RESP2, one per channel, each
//! carrying the client's running subscription count (channels and patterns together, shard
//! channels on their own, as Redis counts them).

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;

use super::args;
use super::table::{flags::*, spec, CommandSpec};
use super::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::protocol::{Reply, SmallRequest};
use crate::pubsub::{Kind, PublishRun};
use crate::session::Session;
use crate::state::ServerState;

const NONE: (i32, i32, i32) = (0, 0, 0);

static PUBSUB_SUBS: &[CommandSpec] = &[
    spec!(
        "pubsub|channels",
        -2,
        PUBSUB | LOADING | STALE,
        NONE,
        "pubsub",
        "2.8.0",
        "Returns the active channels."
    ),
    spec!(
        "pubsub|numpat",
        2,
        PUBSUB | LOADING | STALE,
        NONE,
        "pubsub",
        "2.8.0",
        "Returns a count of unique pattern subscriptions."
    ),
    spec!(
        "pubsub|numsub",
        -2,
        PUBSUB | LOADING | STALE,
        NONE,
        "pubsub",
        "2.8.0",
        "Returns a count of subscribers to channels."
    ),
    spec!(
        "pubsub|shardchannels",
        -2,
        PUBSUB | LOADING | STALE,
        NONE,
        "pubsub",
        "7.0.0",
        "Returns the active shard channels."
    ),
    spec!(
        "pubsub|shardnumsub",
        -2,
        PUBSUB | LOADING | STALE,
        NONE,
        "pubsub",
        "7.0.0",
        "Returns the count of subscribers of shard channels."
    ),
    spec!(
        "pubsub|help",
        2,
        LOADING | STALE,
        NONE,
        "pubsub",
        "6.2.0",
        "Returns helpful text about the different subcommands."
    ),
];

/// This family's rows of the command table (group `pubsub`).
pub static COMMANDS: &[CommandSpec] = &[
    spec!(
        "subscribe",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED_OK,
        NONE,
        "pubsub",
        "2.0.0",
        "Listens for messages published to channels."
    ),
    spec!(
        "unsubscribe",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED_OK,
        NONE,
        "pubsub",
        "2.0.0",
        "Stops listening to messages posted to channels."
    ),
    spec!(
        "psubscribe",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED_OK,
        NONE,
        "pubsub",
        "2.0.0",
        "Listens for messages published to channels that match one or more patterns."
    ),
    spec!(
        "punsubscribe",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED_OK,
        NONE,
        "pubsub",
        "2.0.0",
        "Stops listening to messages published to channels that match one or more patterns."
    ),
    spec!(
        "ssubscribe",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED_OK,
        (1, -1, 1),
        "pubsub",
        "7.0.0",
        "Listens for messages published to shard channels."
    ),
    spec!(
        "sunsubscribe",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED_OK,
        (1, -1, 1),
        "pubsub",
        "7.0.0",
        "Stops listening to messages posted to shard channels."
    ),
    spec!(
        "publish",
        3,
        PUBSUB | LOADING | STALE | FAST,
        NONE,
        "pubsub",
        "2.0.0",
        "Posts a message to a channel."
    ),
    spec!(
        "spublish",
        3,
        PUBSUB | LOADING | STALE | FAST,
        (1, 1, 1),
        "pubsub",
        "7.0.0",
        "Post a message to a shard channel"
    ),
    spec!(
        "pubsub",
        -2,
        NONE_FLAGS,
        NONE,
        "pubsub",
        "2.8.0",
        "A container for Pub/Sub commands.",
        PUBSUB_SUBS
    ),
];

const NONE_FLAGS: u32 = 0;

#[derive(Debug)]
pub enum PubSubCommand {
    /// # Format: SUBSCRIBE channel [channel ...] (also PSUBSCRIBE pattern ..., SSUBSCRIBE shardchannel ...)
    Subscribe(Kind, Vec<Bytes>),
    /// # Format: UNSUBSCRIBE [channel [channel ...]] (also PUNSUBSCRIBE, SUNSUBSCRIBE)
    Unsubscribe(Kind, Vec<Bytes>),
    /// # Format: PUBLISH channel message (also SPUBLISH shardchannel message)
    Publish {
        kind: Kind,
        channel: Bytes,
        message: Bytes,
    },
    /// # Format: PUBSUB CHANNELS [pattern] (also SHARDCHANNELS)
    Channels(Kind, Option<Bytes>),
    /// # Format: PUBSUB NUMSUB [channel [channel ...]] (also SHARDNUMSUB)
    NumSub(Kind, Vec<Bytes>),
    /// # Format: PUBSUB NUMPAT
    NumPat,
    /// # Format: PUBSUB HELP
    Help,
}

impl PubSubCommand {
    /// Takes the arguments by value: channels and messages move into the command. (A clone of
    /// an argument allocates a shared count and changes it atomically, see `protocol::request`.)
    pub fn parse(name: &str, mut a: Vec<Bytes>) -> CommandResult<Self> {
        let kind = match name {
            "subscribe" | "unsubscribe" | "publish" => Kind::Channel,
            "psubscribe" | "punsubscribe" => Kind::Pattern,
            "ssubscribe" | "sunsubscribe" | "spublish" => Kind::ShardChannel,
            _ => return parse_pubsub(&a),
        };
        Ok(match name {
            // The table checked the arity: exactly a channel and a message.
            "publish" | "spublish" => {
                let message = a.pop().unwrap_or_default();
                let channel = a.pop().unwrap_or_default();
                PubSubCommand::Publish {
                    kind,
                    channel,
                    message,
                }
            }
            "subscribe" | "psubscribe" | "ssubscribe" => {
                PubSubCommand::Subscribe(kind, a.split_off(1))
            }
            _ => PubSubCommand::Unsubscribe(kind, a.split_off(1)),
        })
    }

    pub fn execute(self, ctx: &mut Ctx, out: &mut Reply) -> CommandResult {
        let hub = &ctx.state.hub;
        match self {
            PubSubCommand::Subscribe(kind, names) => {
                let before = ctx.session.pubsub.total();
                for name in names {
                    if ctx.session.pubsub.set(kind).insert(name.clone()) {
                        hub.subscribe(kind, name.clone(), &ctx.session.handle);
                    }
                    confirm(out, kind.subscribe_reply(), Some(&name), ctx.session, kind);
                }
                subscriptions_changed(ctx.state, ctx.session, before);
            }
            PubSubCommand::Unsubscribe(kind, names) => {
                let before = ctx.session.pubsub.total();
                let names = if names.is_empty() {
                    ctx.session.pubsub.set(kind).iter().cloned().collect()
                } else {
                    names
                };
                if names.is_empty() {
                    confirm(out, kind.unsubscribe_reply(), None, ctx.session, kind);
                }
                for name in names {
                    if ctx.session.pubsub.set(kind).remove(&name) {
                        hub.unsubscribe(kind, &name, ctx.session.handle.id);
                        // A message a publisher was delivering meanwhile precedes the
                        // confirmation: nothing of `name` may follow it.
                        write_queued_pushes(ctx.session, out);
                    }
                    confirm(
                        out,
                        kind.unsubscribe_reply(),
                        Some(&name),
                        ctx.session,
                        kind,
                    );
                }
                subscriptions_changed(ctx.state, ctx.session, before);
            }
            PubSubCommand::Publish {
                kind,
                channel,
                message,
            } => {
                if !ctx.in_exec && may_join_run(ctx.session) {
                    // The reply is written when the run is delivered.
                    return join_run(ctx, out, kind, channel, message);
                }
                let limit = ctx.state.settings.output_limits().pubsub;
                hub.publishers.published(ctx.session.handle.id, || ctx.now);
                let messages = [message];
                let receivers = match kind {
                    Kind::ShardChannel => hub.spublish(&channel, &messages, &limit),
                    _ => hub.publish(&channel, &messages, &limit),
                };
                // A subscriber publishing to its own channel reads the message first.
                if ctx.session.pubsub.total() > 0 {
                    write_queued_pushes(ctx.session, out);
                }
                out.int(receivers as i64);
            }
            PubSubCommand::Channels(kind, pattern) => {
                let channels = hub.active(kind, pattern.as_deref());
                out.array(channels.len());
                channels.iter().for_each(|c| out.bulk(c));
            }
            PubSubCommand::NumSub(kind, channels) => {
                // An array of pairs in both protocols, as Redis replies.
                out.array(channels.len() * 2);
                for channel in channels {
                    out.bulk(&channel);
                    out.int(hub.numsub(kind, &channel) as i64);
                }
            }
            PubSubCommand::NumPat => out.int(hub.count(Kind::Pattern) as i64),
            PubSubCommand::Help => {
                super::connection::help(out, "PUBSUB", HELP);
            }
        }
        Ok(())
    }
}

const HELP: &[&str] = &[
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
];

fn parse_pubsub(a: &[Bytes]) -> CommandResult<PubSubCommand> {
    let sub = args::lower(&a[1]);
    let wrong = || CommandError::unknown_subcommand_or_arity("PUBSUB", &a[1]);
    Ok(match sub.as_str() {
        "channels" | "shardchannels" if a.len() <= 3 => {
            let kind = if sub == "channels" {
                Kind::Channel
            } else {
                Kind::ShardChannel
            };
            PubSubCommand::Channels(kind, a.get(2).cloned())
        }
        "numsub" => PubSubCommand::NumSub(Kind::Channel, a[2..].to_vec()),
        "shardnumsub" => PubSubCommand::NumSub(Kind::ShardChannel, a[2..].to_vec()),
        "numpat" => PubSubCommand::NumPat,
        "help" => PubSubCommand::Help,
        _ => return Err(wrong()),
    })
}

/// Whether this client's PUBLISHes may wait in a [`PublishRun`] until the pipeline moves on to
/// another command. Not when the client could observe the wait: a subscriber may receive its
/// own message, which Redis sends before the PUBLISH reply; queued in MULTI, a PUBLISH replies
/// QUEUED; a MONITOR client is refused; a switched-off reply is cut by the dispatcher.
pub fn may_join_run(session: &Session) -> bool {
    session.pubsub.total() == 0
        && session.multi.is_none()
        && !session.monitor
        && !session.reply_off
        && !session.reply_skip
}

/// Whether the request `args` would continue the client's run rather than end it: a PUBLISH or
/// SPUBLISH of the right arity, from a client that may run them. The channel is checked when
/// the command runs (another channel starts another run).
pub fn continues_run(args: &[Bytes], session: &Session) -> bool {
    args.len() == 3
        && (args::is(&args[0], "publish") || args::is(&args[0], "spublish"))
        && may_join_run(session)
}

/// Runs a PUBLISH or SPUBLISH that continues the client's run straight from the read buffer
/// (`request`, found in `buf`): only the message is copied, into the run's buffer, where the
/// general path copies every argument out into a vector of its own, then looks the name up,
/// checks, parses and dispatches. With it, a pipelined PUBLISH to one subscriber takes 1,100
/// instructions instead of 2,600 (callgrind, frames and replies encoded once per run too).
/// Returns false, having done nothing, for anything the general path must decide.
///
/// What it skips of [`super::dispatch`] is what the run's first PUBLISH passed in this same
/// batch, under a session that only commands change and no other command has run since (any
/// other ends the run): the same command spelled the same way (the lookup), its arity, MULTI,
/// subscribed mode, MONITOR and CLIENT REPLY. What another client can change meanwhile is
/// checked again: a MONITOR started, a password set. Its call is counted in the pending run of
/// fast commands as the general path counts it, and when that run is full the general path
/// takes over to charge it.
pub fn continue_run(
    state: &ServerState,
    session: &mut Session,
    request: &SmallRequest,
    buf: &[u8],
    out: &mut Reply,
) -> bool {
    let Some(run) = session.publish_run.as_mut() else {
        return false;
    };
    if request.count() != 3 || !state.monitors.is_empty() {
        return false;
    }
    let Some(entry) = state
        .commands
        .last_found(request.arg(buf, 0), &session.last_lookup)
    else {
        return false;
    };
    let kind = match entry.spec.name {
        "publish" => Kind::Channel,
        "spublish" => Kind::ShardChannel,
        _ => return false,
    };
    if !run.continues(kind, request.arg(buf, 1))
        || !session.tally.continues(entry.index)
        || !(session.authenticated || state.settings.requirepass().is_none())
    {
        return false;
    }
    let full = run.add(request.arg(buf, 2));
    session.tally.add(entry.index);
    state.announce_reaped();
    if full {
        deliver_run(state, session, out);
    }
    true
}

fn join_run(
    ctx: &mut Ctx,
    out: &mut Reply,
    kind: Kind,
    channel: Bytes,
    message: Bytes,
) -> CommandResult {
    if ctx
        .session
        .publish_run
        .as_ref()
        .is_some_and(|run| !run.continues(kind, &channel))
    {
        deliver_run(ctx.state, ctx.session, out);
    }
    let run = ctx
        .session
        .publish_run
        .get_or_insert_with(|| PublishRun::new(kind, channel));
    if run.add(&message) {
        deliver_run(ctx.state, ctx.session, out);
    }
    Ok(())
}

/// Delivers the client's pending PUBLISHes and writes their replies. The connection calls it
/// before anything else reaches the client's reply stream: another command, a protocol error,
/// the end of the batch.
pub fn deliver_run(state: &ServerState, session: &mut Session, out: &mut Reply) {
    let Some(run) = session.publish_run.take() else {
        return;
    };
    let limit = state.settings.output_limits().pubsub;
    state
        .hub
        .publishers
        .published(session.handle.id, crate::keyspace::now_ms);
    let (published, receivers) = run.deliver(&state.hub, &limit);
    out.ints(receivers as i64, published);
}

/// One (un)subscribe confirmation; a missing name (nothing to unsubscribe from) is a null.
fn confirm(out: &mut Reply, what: &[u8], name: Option<&[u8]>, session: &Session, kind: Kind) {
    out.push(3);
    out.bulk(what);
    match name {
        Some(name) => out.bulk(name),
        None => out.null(),
    }
    out.int(session.pubsub.count_for(kind) as i64);
}

/// Moves the frames already pushed to this client into its reply stream, at the current
/// position. Redis has one output buffer per client, so a message published before a command
/// runs is read before that command's reply; Herald's pushes wait in the outbox, and this puts
/// them back in that order. The dispatcher calls it before each command of a subscribed client,
/// and UNSUBSCRIBE and PUBLISH after changing the hub.
///
/// The bytes stop counting against the output limit here: the connection writes this batch's
/// replies before it reads another request, so at most one outbox's worth sits uncounted.
pub fn write_queued_pushes(session: &Session, out: &mut Reply) {
    let outbox = &session.handle.outbox;
    let mut frames = Vec::new();
    outbox.take(&mut frames);
    if frames.is_empty() {
        return;
    }
    let mut bytes = 0;
    for frame in &frames {
        out.raw(&frame.bytes);
        bytes += frame.len();
    }
    outbox.written(bytes);
}

/// Keeps the counters others read in step with the session: CLIENT LIST's sub/psub/ssub and
/// INFO's `pubsub_clients`.
fn subscriptions_changed(state: &ServerState, session: &Session, before: usize) {
    let subs = &session.pubsub;
    let after = subs.total();
    session.handle.update(|m| {
        m.channels = subs.channels.len();
        m.patterns = subs.patterns.len();
        m.shard_channels = subs.shard_channels.len();
    });
    if before == 0 && after > 0 {
        state.pubsub_clients.fetch_add(1, Relaxed);
    } else if before > 0 && after == 0 {
        state.pubsub_clients.fetch_sub(1, Relaxed);
    }
}

/// Leaves every channel, pattern and shard channel without replying (RESET, disconnect).
pub fn unsubscribe_everything(state: &ServerState, session: &mut Session) {
    let before = session.pubsub.total();
    if before == 0 {
        return;
    }
    let id = session.handle.id;
    for kind in [Kind::Channel, Kind::Pattern, Kind::ShardChannel] {
        for name in std::mem::take(session.pubsub.set(kind)) {
            state.hub.unsubscribe(kind, &name, id);
        }
    }
    subscriptions_changed(state, session, before);
}
