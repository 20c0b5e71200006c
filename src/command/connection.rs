//! Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET and CLIENT.

use bytes::Bytes;

use super::args::{self, is, Options};
use super::Ctx;
use crate::client::ClientHandle;
use crate::error::{CommandError, CommandResult};
use crate::protocol::{Protocol, Reply};

/// Redis's version, reported in HELLO and INFO: the release whose semantics Herald follows.
pub const REDIS_VERSION: &str = "7.4.0";

#[derive(Debug)]
pub enum ConnectionCommand {
    /// # Format: PING [message]
    Ping(Option<Bytes>),
    /// # Format: ECHO message
    Echo(Bytes),
    /// # Format: HELLO [protover [AUTH username password] [SETNAME clientname]]
    Hello {
        protocol: Option<Protocol>,
        auth: Option<(Bytes, Bytes)>,
        name: Option<Bytes>,
    },
    /// # Format: AUTH [username] password
    Auth {
        user: Option<Bytes>,
        password: Bytes,
    },
    /// # Format: SELECT index
    Select(i64),
    /// # Format: QUIT
    Quit,
    /// # Format: RESET
    Reset,
    Client(ClientCommand),
}

#[derive(Debug)]
pub enum ClientCommand {
    /// # Format: CLIENT ID
    Id,
    /// # Format: CLIENT SETNAME name
    SetName(Bytes),
    /// # Format: CLIENT GETNAME
    GetName,
    /// # Format: CLIENT SETINFO LIB-NAME|LIB-VER value
    SetInfo {
        lib_name: bool,
        value: Bytes,
    },
    /// # Format: CLIENT INFO
    Info,
    /// # Format: CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id [id ...]]
    List(ClientFilter),
    /// # Format: CLIENT KILL addr:port | CLIENT KILL [ID id] [ADDR a] [LADDR a] [TYPE t] [SKIPME yes|no] [MAXAGE s]
    Kill {
        filter: ClientFilter,
        old_style: bool,
    },
    /// # Format: CLIENT REPLY ON|OFF|SKIP
    Reply(ReplyMode),
    /// # Format: CLIENT NO-EVICT ON|OFF
    NoEvict(bool),
    /// # Format: CLIENT NO-TOUCH ON|OFF
    NoTouch(bool),
    /// # Format: CLIENT UNBLOCK client-id [TIMEOUT|ERROR]
    Unblock {
        id: i64,
        how: crate::client::Unblock,
    },
    Help,
}

#[derive(Debug, Clone, Copy)]
pub enum ReplyMode {
    On,
    Off,
    Skip,
}

/// Which clients CLIENT LIST or CLIENT KILL select.
#[derive(Debug, Default)]
pub struct ClientFilter {
    pub ids: Option<Vec<u64>>,
    pub addr: Option<Bytes>,
    pub laddr: Option<Bytes>,
    pub kind: Option<String>,
    pub skip_me: bool,
    pub max_age: Option<u64>,
}

impl ConnectionCommand {
    pub fn parse(name: &str, a: &[Bytes]) -> CommandResult<Self> {
        Ok(match name {
            "ping" => match a.len() {
                1 => ConnectionCommand::Ping(None),
                2 => ConnectionCommand::Ping(Some(a[1].clone())),
                _ => return Err(CommandError::WrongArity("ping".into())),
            },
            "echo" => ConnectionCommand::Echo(a[1].clone()),
            "hello" => parse_hello(a)?,
            "auth" => match a.len() {
                2 => ConnectionCommand::Auth {
                    user: None,
                    password: a[1].clone(),
                },
                3 => ConnectionCommand::Auth {
                    user: Some(a[1].clone()),
                    password: a[2].clone(),
                },
                _ => return Err(CommandError::Syntax),
            },
            "select" => ConnectionCommand::Select(args::int(&a[1])?),
            "quit" => ConnectionCommand::Quit,
            "reset" => ConnectionCommand::Reset,
            "client" => ConnectionCommand::Client(parse_client(a)?),
            _ => unreachable!("connection command {name} has no parser"),
        })
    }

    pub fn execute(self, ctx: &mut Ctx, out: &mut Reply) -> CommandResult {
        match self {
            ConnectionCommand::Ping(message) => {
                if ctx.session.in_resp2_subscribed_mode() {
                    out.array(2);
                    out.bulk(b"pong");
                    out.bulk(message.as_deref().unwrap_or(b""));
                } else {
                    match message {
                        Some(m) => out.bulk(&m),
                        None => out.simple("PONG"),
                    }
                }
            }
            ConnectionCommand::Echo(message) => out.bulk(&message),
            ConnectionCommand::Hello {
                protocol,
                auth,
                name,
            } => hello(ctx, out, protocol, auth, name)?,
            ConnectionCommand::Auth { user, password } => {
                authenticate(ctx, user.as_deref(), &password)?;
                out.ok();
            }
            ConnectionCommand::Select(index) => {
                if index < 0 || index as usize >= ctx.state.keyspace.databases() {
                    return Err(CommandError::DbIndexOutOfRange);
                }
                ctx.session.db = index as usize;
                ctx.session.handle.update(|m| m.db = index as usize);
                out.ok();
            }
            ConnectionCommand::Quit => {
                ctx.session.close_after_reply = true;
                out.ok();
            }
            ConnectionCommand::Reset => {
                reset(ctx);
                out.simple("RESET");
            }
            ConnectionCommand::Client(c) => client(ctx, out, c)?,
        }
        Ok(())
    }
}

fn parse_hello(a: &[Bytes]) -> CommandResult<ConnectionCommand> {
    let mut protocol = None;
    if a.len() >= 2 {
        let version = args::int(&a[1])
            .map_err(|_| CommandError::err("Protocol version is not an integer or out of range"))?;
        protocol = Some(match version {
            2 => Protocol::Resp2,
            3 => Protocol::Resp3,
            _ => return Err(CommandError::NoProto),
        });
    }
    let (mut auth, mut name) = (None, None);
    let mut j = 2;
    while j < a.len() {
        let more = a.len() - 1 - j;
        if is(&a[j], "auth") && more >= 2 {
            auth = Some((a[j + 1].clone(), a[j + 2].clone()));
            j += 2;
        } else if is(&a[j], "setname") && more >= 1 {
            name = Some(a[j + 1].clone());
            j += 1;
        } else {
            return Err(CommandError::quoting(&[
                b"ERR Syntax error in HELLO option '",
                &a[j],
                b"'",
            ]));
        }
        j += 1;
    }
    Ok(ConnectionCommand::Hello {
        protocol,
        auth,
        name,
    })
}

fn hello(
    ctx: &mut Ctx,
    out: &mut Reply,
    protocol: Option<Protocol>,
    auth: Option<(Bytes, Bytes)>,
    name: Option<Bytes>,
) -> CommandResult {
    if let Some((user, password)) = &auth {
        authenticate(ctx, Some(user), password)?;
    }
    if !ctx.session.authenticated && ctx.state.settings.requirepass().is_some() {
        return Err(CommandError::Prefixed(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into(),
        ));
    }
    if let Some(name) = &name {
        validate_name(name, "Client names")?;
        ctx.session.handle.update(|m| m.name = name.clone());
    }
    if let Some(protocol) = protocol {
        ctx.session.protocol = protocol;
        ctx.session.handle.set_protocol(protocol);
    }
    out.set_protocol(ctx.session.protocol);
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(ctx.session.protocol.version());
    out.bulk(b"id");
    out.int(ctx.session.handle.id.0 as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

/// Checks a password against `requirepass` as Redis's default user does.
fn authenticate(ctx: &mut Ctx, user: Option<&[u8]>, password: &[u8]) -> CommandResult {
    let required = ctx.state.settings.requirepass();
    if user.is_none() && required.is_none() {
        return Err(CommandError::err(
            "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        ));
    }
    let user_ok = user.is_none_or(|u| u == b"default");
    let password_ok = required.as_deref().is_none_or(|p| p == password);
    if user_ok && password_ok {
        ctx.session.authenticated = true;
        Ok(())
    } else {
        Err(CommandError::WrongPass)
    }
}

/// Client names and library names: printable ASCII without spaces, as Redis requires.
fn validate_name(name: &[u8], what: &str) -> CommandResult {
    if name.iter().all(|&c| (b'!'..=b'~').contains(&c)) {
        Ok(())
    } else {
        Err(CommandError::err(format!(
            "{what} cannot contain spaces, newlines or special characters."
        )))
    }
}

/// RESET: everything a fresh connection would have, but its id and address.
fn reset(ctx: &mut Ctx) {
    let state = ctx.state;
    let session = &mut *ctx.session;
    session.multi = None;
    session.unwatch_all(&state.keyspace);
    session.db = 0;
    session.protocol = Protocol::Resp2;
    session.reply_off = false;
    session.reply_skip = false;
    session.reply_skip_next = false;
    session.no_touch = false;
    session.authenticated = state.settings.requirepass().is_none();
    if session.monitor {
        session.monitor = false;
        state.monitors.remove(&session.handle);
    }
    super::pubsub::unsubscribe_everything(state, session);
    session.handle.set_protocol(Protocol::Resp2);
    session.handle.update(|m| {
        m.db = 0;
        m.protocol = Protocol::Resp2;
        m.name = Bytes::new();
        m.multi = -1;
        m.monitor = false;
        m.no_evict = false;
        m.no_touch = false;
    });
}

fn parse_client(a: &[Bytes]) -> CommandResult<ClientCommand> {
    let sub = args::lower(&a[1]);
    Ok(match sub.as_str() {
        "id" => ClientCommand::Id,
        "setname" => ClientCommand::SetName(a[2].clone()),
        "getname" => ClientCommand::GetName,
        "setinfo" => {
            let lib_name = if is(&a[2], "lib-name") {
                true
            } else if is(&a[2], "lib-ver") {
                false
            } else {
                return Err(CommandError::quoting(&[
                    b"ERR Unrecognized option '",
                    &a[2],
                    b"'",
                ]));
            };
            ClientCommand::SetInfo {
                lib_name,
                value: a[3].clone(),
            }
        }
        "info" => ClientCommand::Info,
        "list" => ClientCommand::List(parse_list_filter(a)?),
        "kill" => {
            if a.len() == 3 {
                ClientCommand::Kill {
                    filter: ClientFilter {
                        addr: Some(a[2].clone()),
                        ..Default::default()
                    },
                    old_style: true,
                }
            } else {
                ClientCommand::Kill {
                    filter: parse_kill_filter(a)?,
                    old_style: false,
                }
            }
        }
        "reply" => ClientCommand::Reply(if is(&a[2], "on") {
            ReplyMode::On
        } else if is(&a[2], "off") {
            ReplyMode::Off
        } else if is(&a[2], "skip") {
            ReplyMode::Skip
        } else {
            return Err(CommandError::Syntax);
        }),
        "no-evict" | "no-touch" => {
            let on = if is(&a[2], "on") {
                true
            } else if is(&a[2], "off") {
                false
            } else {
                return Err(CommandError::Syntax);
            };
            if sub == "no-evict" {
                ClientCommand::NoEvict(on)
            } else {
                ClientCommand::NoTouch(on)
            }
        }
        "unblock" => {
            if a.len() > 4 {
                return Err(CommandError::unknown_subcommand_or_arity("CLIENT", &a[1]));
            }
            // The reason is read before the id, as Redis reads them.
            let how = match a.get(3) {
                None => crate::client::Unblock::Timeout,
                Some(r) if is(r, "timeout") => crate::client::Unblock::Timeout,
                Some(r) if is(r, "error") => crate::client::Unblock::Error,
                Some(_) => {
                    return Err(CommandError::err(
                        "CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
                    ))
                }
            };
            ClientCommand::Unblock {
                id: args::int(&a[2])?,
                how,
            }
        }
        "help" => ClientCommand::Help,
        _ => unreachable!("client subcommand {sub} has no parser"),
    })
}

fn parse_type(t: &[u8]) -> CommandResult<String> {
    let t = args::lower(t);
    match t.as_str() {
        "normal" | "master" | "replica" | "slave" | "pubsub" => {
            Ok(if t == "slave" { "replica".into() } else { t })
        }
        _ => Err(CommandError::err(format!("Unknown client type '{t}'"))),
    }
}

fn parse_list_filter(a: &[Bytes]) -> CommandResult<ClientFilter> {
    let mut filter = ClientFilter::default();
    let mut opts = Options::new(a, 2);
    while let Some(word) = opts.next_word() {
        match word.as_str() {
            "type" => filter.kind = Some(parse_type(opts.value()?)?),
            "id" => {
                let mut ids = Vec::new();
                while opts.remaining() > 0 {
                    let id = args::int(opts.value()?)
                        .ok()
                        .filter(|id| *id > 0)
                        .ok_or_else(|| CommandError::err("Invalid client ID"))?;
                    ids.push(id as u64);
                }
                if ids.is_empty() {
                    return Err(CommandError::Syntax);
                }
                filter.ids = Some(ids);
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok(filter)
}

fn parse_kill_filter(a: &[Bytes]) -> CommandResult<ClientFilter> {
    let mut filter = ClientFilter {
        skip_me: true,
        ..Default::default()
    };
    if (a.len() - 2) % 2 != 0 {
        return Err(CommandError::Syntax);
    }
    let mut opts = Options::new(a, 2);
    while let Some(word) = opts.next_word() {
        let value = opts.value()?;
        match word.as_str() {
            "id" => {
                let id = args::int(value)
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or_else(|| CommandError::err("client-id should be greater than 0"))?;
                filter.ids = Some(vec![id as u64]);
            }
            "type" => filter.kind = Some(parse_type(value)?),
            "addr" => filter.addr = Some(value.clone()),
            "laddr" => filter.laddr = Some(value.clone()),
            "user" => {
                if !is(value, "default") {
                    return Err(CommandError::quoting(&[b"ERR No such user '", value, b"'"]));
                }
            }
            "skipme" => {
                filter.skip_me = if is(value, "yes") {
                    true
                } else if is(value, "no") {
                    false
                } else {
                    return Err(CommandError::Syntax);
                }
            }
            "maxage" => {
                filter.max_age = Some(args::non_negative(
                    value,
                    "value is not an integer or out of range",
                )?)
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok(filter)
}

impl ClientFilter {
    fn selects(&self, client: &ClientHandle, me: &ClientHandle, now: u64) -> bool {
        let meta = client.meta();
        if let Some(ids) = &self.ids {
            if !ids.contains(&client.id.0) {
                return false;
            }
        }
        if self
            .addr
            .as_ref()
            .is_some_and(|a| a[..] != *client.addr.as_bytes())
        {
            return false;
        }
        if self
            .laddr
            .as_ref()
            .is_some_and(|a| a[..] != *client.laddr.as_bytes())
        {
            return false;
        }
        if let Some(kind) = &self.kind {
            let subscribed = meta.channels + meta.patterns + meta.shard_channels > 0;
            let is_kind = match kind.as_str() {
                "pubsub" => subscribed,
                "normal" => !subscribed,
                _ => false,
            };
            if !is_kind {
                return false;
            }
        }
        if self.skip_me && client.id == me.id {
            return false;
        }
        if let Some(max_age) = self.max_age {
            if (now.saturating_sub(client.created_ms)) / 1000 < max_age {
                return false;
            }
        }
        true
    }
}

fn client(ctx: &mut Ctx, out: &mut Reply, command: ClientCommand) -> CommandResult {
    let me = ctx.session.handle.clone();
    match command {
        ClientCommand::Id => out.int(me.id.0 as i64),
        ClientCommand::SetName(name) => {
            validate_name(&name, "Client names")?;
            me.update(|m| m.name = name);
            out.ok();
        }
        ClientCommand::GetName => {
            let name = me.meta().name;
            if name.is_empty() {
                out.null();
            } else {
                out.bulk(&name);
            }
        }
        ClientCommand::SetInfo { lib_name, value } => {
            validate_name(&value, if lib_name { "lib-name" } else { "lib-ver" })?;
            me.update(|m| {
                if lib_name {
                    m.lib_name = value
                } else {
                    m.lib_ver = value
                }
            });
            out.ok();
        }
        ClientCommand::Info => {
            let mut line = client_line(&me, ctx.now);
            line.push('\n');
            out.verbatim(line.as_bytes());
        }
        ClientCommand::List(filter) => {
            let filter = ClientFilter {
                skip_me: false,
                ..filter
            };
            let mut text = String::new();
            for client in ctx.state.clients.all() {
                if filter.selects(&client, &me, ctx.now) {
                    text.push_str(&client_line(&client, ctx.now));
                    text.push('\n');
                }
            }
            out.verbatim(text.as_bytes());
        }
        ClientCommand::Kill { filter, old_style } => {
            let mut killed = 0;
            for client in ctx.state.clients.all() {
                if filter.selects(&client, &me, ctx.now)
                    || (old_style
                        && client.id == me.id
                        && filter.selects(&client, &client, ctx.now))
                {
                    if client.id == me.id {
                        ctx.session.close_after_reply = true;
                    } else {
                        client.kill();
                    }
                    killed += 1;
                }
            }
            if old_style {
                if killed == 0 {
                    return Err(CommandError::err("No such client"));
                }
                out.ok();
            } else {
                out.int(killed);
            }
        }
        ClientCommand::Reply(mode) => match mode {
            ReplyMode::On => {
                ctx.session.reply_off = false;
                ctx.session.reply_skip_next = false;
                out.ok();
            }
            ReplyMode::Off => ctx.session.reply_off = true,
            ReplyMode::Skip => {
                if !ctx.session.reply_off {
                    ctx.session.reply_skip_next = true;
                }
            }
        },
        ClientCommand::NoEvict(on) => {
            me.update(|m| m.no_evict = on);
            out.ok();
        }
        ClientCommand::NoTouch(on) => {
            me.update(|m| m.no_touch = on);
            ctx.session.no_touch = on;
            out.ok();
        }
        ClientCommand::Unblock { id, how } => {
            // Only a client waiting in a blocking command (XREAD, XREADGROUP, WAIT, WAITAOF).
            let target = u64::try_from(id)
                .ok()
                .and_then(|id| ctx.state.clients.get(crate::client::ClientId(id)))
                .filter(|client| client.meta().blocked);
            match target {
                Some(client) => {
                    client.unblock(how);
                    out.int(1);
                }
                None => out.int(0),
            }
        }
        ClientCommand::Help => help(
            out,
            "CLIENT",
            &[
                "ID",
                "    Return the ID of the current connection.",
                "GETNAME",
                "    Return the name of the current connection.",
                "KILL <ip:port>",
                "    Kill connection made from <ip:port>.",
                "KILL <option> <value> [<option> <value> [...]]",
                "    Kill connections. Options are: ID, ADDR, LADDR, TYPE, USER, SKIPME, MAXAGE.",
                "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [<id> ...]]",
                "    Return information about client connections.",
                "INFO",
                "    Return information about the current client connection.",
                "REPLY (ON|OFF|SKIP)",
                "    Control the replies sent to the current connection.",
                "SETNAME <name>",
                "    Assign the name <name> to the current connection.",
                "SETINFO <option> <value>",
                "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
                "NO-EVICT (ON|OFF)",
                "    Protect current client connection from eviction.",
                "UNBLOCK <clientid> [TIMEOUT|ERROR]",
                "    Unblock the specified blocked client.",
                "NO-TOUCH (ON|OFF)",
                "    Will not touch LRU/LFU stats when this mode is on.",
            ],
        ),
    }
    Ok(())
}

/// Writes a HELP reply: the header line, the given lines, and Redis's closing HELP line
/// (Redis 7.2 reworded it from 7.0's "Prints this help.").
pub fn help(out: &mut Reply, command: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(&format!(
        "{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for line in lines {
        out.simple(line);
    }
    out.simple("HELP");
    out.simple("    Print this help.");
}

/// One CLIENT LIST line, in Redis 7.4's field order.
pub fn client_line(client: &ClientHandle, now: u64) -> String {
    let m = client.meta();
    let mut flags = String::new();
    if m.channels + m.patterns + m.shard_channels > 0 {
        flags.push('P');
    }
    if m.multi >= 0 {
        flags.push('x');
    }
    if m.monitor {
        flags.push('O');
    }
    if m.blocked {
        flags.push('b');
    }
    if client.unix_socket {
        flags.push('U');
    }
    if m.no_evict {
        flags.push('e');
    }
    if m.no_touch {
        flags.push('T');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let omem = client.outbox.pending();
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} watch={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll={} omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
        client.id.0,
        client.addr,
        client.laddr,
        client.fd,
        String::from_utf8_lossy(&m.name),
        now.saturating_sub(client.created_ms) / 1000,
        now.saturating_sub(m.last_interaction_ms) / 1000,
        flags,
        m.db,
        m.channels,
        m.patterns,
        m.shard_channels,
        m.multi,
        m.watched_keys,
        client.outbox.len(),
        omem,
        omem + 16384,
        if m.last_command.is_empty() { "NULL" } else { m.last_command },
        m.protocol.version(),
        String::from_utf8_lossy(&m.lib_name),
        String::from_utf8_lossy(&m.lib_ver),
    )
}
