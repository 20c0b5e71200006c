//! Listening sockets opened as Redis opens them, and the TCP options of accepted clients.
//!
//! `bind` takes Redis's spellings: `*` for every IPv4 address, `::*` for every IPv6 one, and a
//! leading `-` for an address that may be missing on this host (Debian's redis.conf binds
//! `127.0.0.1 -::1`, so a host without IPv6 still starts). IPv6 sockets are IPv6-only, as
//! Redis makes them, so `bind * -::*` can open both. `tcp-backlog` sizes the queue of
//! connections not yet accepted, and `tcp-keepalive` makes the kernel probe idle clients so
//! that dead peers (a laptop closed mid-subscription) are noticed and their state freed.
//! `unixsocket` opens a Unix socket beside (or, with `port 0`, instead of) TCP.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// One `bind` address as Redis reads it.
#[derive(Debug, PartialEq, Eq)]
pub struct BindAddress<'a> {
    /// The host to bind, `*` and `::*` already read as the wildcard addresses.
    pub host: &'a str,
    /// A `-` prefix: a missing address is skipped instead of stopping the start-up.
    pub optional: bool,
}

pub fn parse_bind(address: &str) -> BindAddress<'_> {
    let (optional, host) = match address.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, address),
    };
    let host = match host {
        "*" => "0.0.0.0",
        "::*" => "::",
        other => other,
    };
    BindAddress { host, optional }
}

/// Listens on every `bind` address at `port`; port 0 picks a free port, then shared by the
/// other addresses. An optional address missing on this host is skipped with a warning, as
/// Redis skips it; every other failure is returned.
pub async fn listen(bind: &[String], port: u16, backlog: u32) -> io::Result<Vec<TcpListener>> {
    let mut listeners = Vec::new();
    let mut port = port;
    for address in bind {
        let BindAddress { host, optional } = parse_bind(address);
        match listen_one(host, port, backlog).await {
            Ok(listener) => {
                port = listener.local_addr()?.port();
                listeners.push(listener);
            }
            Err(e) => {
                let shown = address.trim_start_matches('-');
                tracing::warn!(
                    "Warning: Could not create server TCP listening socket {shown}:{port}: {e}"
                );
                if !(optional && missing(&e)) {
                    return Err(aborting(e.kind(), port));
                }
            }
        }
    }
    if listeners.is_empty() {
        return Err(aborting(io::ErrorKind::AddrNotAvailable, port));
    }
    Ok(listeners)
}

/// Redis's last words when it cannot listen on TCP.
fn aborting(kind: io::ErrorKind, port: u16) -> io::Error {
    io::Error::new(
        kind,
        format!("Failed listening on port {port} (TCP), aborting."),
    )
}

/// An error of one step of opening a socket as Redis's `anet` words it: `bind: Address
/// already in use`. The kind is kept (a missing optional address is told by it).
fn failed<E: Into<io::Error>>(step: &'static str) -> impl Fn(E) -> io::Error {
    move |e| {
        let e = e.into();
        let reason = crate::config::os_reason(&e);
        io::Error::new(e.kind(), format!("{step}: {reason}"))
    }
}

/// Whether a bind failed because the address does not exist here (no such interface, or no
/// IPv6 at all).
fn missing(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::AddrNotAvailable
        || e.raw_os_error() == Some(rustix::io::Errno::AFNOSUPPORT.raw_os_error())
}

async fn listen_one(host: &str, port: u16, backlog: u32) -> io::Result<TcpListener> {
    let addr = match host.parse::<IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, port),
        // A host name, as Redis's `getaddrinfo` takes one: its first address.
        Err(_) => tokio::net::lookup_host((host, port))
            .await?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::AddrNotAvailable, "no address"))?,
    };
    let socket = match addr.ip() {
        IpAddr::V4(_) => TcpSocket::new_v4().map_err(failed("socket"))?,
        IpAddr::V6(_) => {
            let socket = TcpSocket::new_v6().map_err(failed("socket"))?;
            rustix::net::sockopt::set_ipv6_v6only(&socket, true)
                .map_err(failed("setsockopt IPV6_V6ONLY"))?;
            socket
        }
    };
    socket
        .set_reuseaddr(true)
        .map_err(failed("setsockopt SO_REUSEADDR"))?;
    socket.bind(addr).map_err(failed("bind"))?;
    socket.listen(backlog).map_err(failed("listen"))
}

/// The longest Unix socket path: `sun_path` holds 108 bytes with its terminating zero.
const SUN_PATH_LEN: usize = 108;

/// Listens on the Unix socket at `path` as Redis's `anetUnixServer` does: a file left there
/// (by a server that did not exit cleanly) is removed first, and the socket gets `perm` (when
/// not 0) before it listens, so no client connects in between with the umask's wider mode
/// (Redis 7.0.14's fix, CVE-2023-45145). Errors read as Redis's `Failed opening Unix socket`
/// report continues.
pub fn listen_unix(
    path: &std::path::Path,
    perm: u32,
    backlog: u32,
) -> io::Result<tokio::net::UnixListener> {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    use std::os::unix::ffi::OsStrExt;
    let len = path.as_os_str().as_bytes().len();
    if len > SUN_PATH_LEN - 1 {
        return Err(io::Error::other(format!(
            "unix socket path too long ({len}), must be under {SUN_PATH_LEN}"
        )));
    }
    let _ = std::fs::remove_file(path);
    let socket = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )
    .map_err(failed("socket"))?;
    let addr = SocketAddrUnix::new(path).map_err(failed("bind"))?;
    rustix::net::bind(&socket, &addr).map_err(failed("bind"))?;
    if perm != 0 {
        rustix::fs::chmod(path, rustix::fs::Mode::from_raw_mode(perm)).map_err(failed("chmod"))?;
    }
    rustix::net::listen(&socket, backlog.min(i32::MAX as u32) as i32).map_err(failed("listen"))?;
    tokio::net::UnixListener::from_std(std::os::unix::net::UnixListener::from(socket))
}

/// Turns on TCP keepalive for a client as Redis's `anetKeepAlive` does: the first probe after
/// `seconds` idle, then every third of that, and the peer dropped after three unanswered.
pub fn keepalive(stream: &TcpStream, seconds: u64) -> io::Result<()> {
    use rustix::net::sockopt;
    if seconds == 0 {
        return Ok(());
    }
    let idle = Duration::from_secs(seconds);
    let interval = Duration::from_secs((seconds / 3).max(1));
    sockopt::set_socket_keepalive(stream, true)?;
    sockopt::set_tcp_keepidle(stream, idle)?;
    sockopt::set_tcp_keepintvl(stream, interval)?;
    sockopt::set_tcp_keepcnt(stream, 3)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_addresses_are_read_with_redis_spellings() {
        assert_eq!(
            parse_bind("-::1"),
            BindAddress {
                host: "::1",
                optional: true
            }
        );
        assert_eq!(parse_bind("*").host, "0.0.0.0");
        assert_eq!(parse_bind("-::*").host, "::");
        assert!(!parse_bind("127.0.0.1").optional);
    }

    #[tokio::test]
    async fn an_optional_missing_address_is_skipped_and_a_required_one_is_not() {
        // 192.0.2.1 (TEST-NET-1) is on no interface here.
        let bind = vec!["127.0.0.1".to_string(), "-192.0.2.1".to_string()];
        let listeners = listen(&bind, 0, 16).await.unwrap();
        assert_eq!(listeners.len(), 1);
        let bind = vec!["127.0.0.1".to_string(), "192.0.2.1".to_string()];
        assert!(listen(&bind, 0, 16).await.is_err());
        let bind = vec!["-192.0.2.1".to_string()];
        assert!(listen(&bind, 0, 16).await.is_err());
    }

    #[tokio::test]
    async fn keepalive_probes_as_redis_sets_them() {
        use rustix::net::sockopt;
        let listeners = listen(&["127.0.0.1".to_string()], 0, 16).await.unwrap();
        let addr = listeners[0].local_addr().unwrap();
        let _client = TcpStream::connect(addr).await.unwrap();
        let (accepted, _) = listeners[0].accept().await.unwrap();
        keepalive(&accepted, 0).unwrap();
        assert!(!sockopt::socket_keepalive(&accepted).unwrap());
        keepalive(&accepted, 300).unwrap();
        assert!(sockopt::socket_keepalive(&accepted).unwrap());
        assert_eq!(
            sockopt::tcp_keepidle(&accepted).unwrap(),
            Duration::from_secs(300)
        );
        assert_eq!(
            sockopt::tcp_keepintvl(&accepted).unwrap(),
            Duration::from_secs(100)
        );
        assert_eq!(sockopt::tcp_keepcnt(&accepted).unwrap(), 3);
        keepalive(&accepted, 2).unwrap();
        assert_eq!(
            sockopt::tcp_keepintvl(&accepted).unwrap(),
            Duration::from_secs(1)
        );
    }
}
