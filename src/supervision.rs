//! Running under a service manager as redis-server does: `daemonize yes`, `pidfile`, and
//! `supervised systemd|upstart|auto`, so that Debian's redis.conf (daemonize, a pid file) and
//! its systemd unit (`--supervised systemd`, `Type=notify`) work with Herald in Redis's place.

use std::io;
use std::path::Path;

use crate::config::Options;

/// Set in the environment of the background copy `daemonize yes` starts, so it does not
/// start yet another.
const DAEMON_CHILD: &str = "HERALD_DAEMONIZED";

/// The pid file a daemonized server writes when none is named, as Redis's.
pub const DEFAULT_PIDFILE: &str = "/var/run/redis.pid";

/// How the server tells its supervisor it is ready, from `supervised` as Redis resolves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Supervisor {
    None,
    /// `READY=1` and `STOPPING=1` datagrams to `$NOTIFY_SOCKET`.
    Systemd,
    /// Stops itself with SIGSTOP once ready; upstart resumes it.
    Upstart,
}

impl Supervisor {
    /// `supervised`: `auto` picks upstart when `UPSTART_JOB` is set, systemd when
    /// `NOTIFY_SOCKET` is, as Redis's `redisIsSupervised` does.
    pub fn of(options: &Options) -> Supervisor {
        let env = |name| std::env::var_os(name).is_some();
        match options.directive("supervised") {
            "systemd" => Supervisor::Systemd,
            "upstart" => Supervisor::Upstart,
            "auto" if env("UPSTART_JOB") => Supervisor::Upstart,
            "auto" if env("NOTIFY_SOCKET") => Supervisor::Systemd,
            _ => Supervisor::None,
        }
    }
}

/// Whether this process should go to the background: `daemonize yes`, unless a supervisor
/// manages it (Redis ignores `daemonize` then), and not already the background copy.
pub fn should_daemonize(options: &Options) -> bool {
    options.directive("daemonize") == "yes"
        && Supervisor::of(options) == Supervisor::None
        && std::env::var_os(DAEMON_CHILD).is_none()
}

/// Starts this program again, detached, with the same arguments and its standard streams on
/// `/dev/null` (Redis forks; forking a Rust program needs unsafe code, starting it again does
/// not). The caller exits with success, as Redis's parent does, before the copy has bound.
pub fn start_in_background() -> io::Result<()> {
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe()?;
    Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(DAEMON_CHILD, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    Ok(())
}

/// In the background copy: leaves the starting terminal's session, as a forked daemon's
/// `setsid` does, so the terminal closing does not hang it up.
pub fn detach_if_daemonized() {
    if std::env::var_os(DAEMON_CHILD).is_some() {
        let _ = rustix::process::setsid();
    }
}

/// The pid file to write, if any: `pidfile`, or Redis's default when daemonized.
pub fn pidfile(options: &Options) -> Option<String> {
    let named = options.directive("pidfile");
    if !named.is_empty() {
        return Some(named.to_owned());
    }
    (std::env::var_os(DAEMON_CHILD).is_some()).then(|| DEFAULT_PIDFILE.to_owned())
}

/// Writes this process's id to `path`, as `createPidFile` does (a failure is only logged there).
pub fn write_pidfile(path: &Path) -> io::Result<()> {
    std::fs::write(path, format!("{}\n", std::process::id()))
}

/// Tells the supervisor the server accepts connections.
pub fn ready(supervisor: Supervisor) {
    match supervisor {
        Supervisor::Systemd => {
            notify_systemd("STATUS=Ready to accept connections\nREADY=1\n");
        }
        Supervisor::Upstart => {
            let _ = rustix::process::kill_process(
                rustix::process::getpid(),
                rustix::process::Signal::STOP,
            );
        }
        Supervisor::None => {}
    }
}

/// Tells the supervisor the server is shutting down.
pub fn stopping(supervisor: Supervisor) {
    if supervisor == Supervisor::Systemd {
        notify_systemd("STOPPING=1\n");
    }
}

/// Sends `state` to `$NOTIFY_SOCKET` (a path, or `@name` for an abstract socket), as
/// `sd_notify` does; without the variable there is no one to tell, and Redis only warns.
fn notify_systemd(state: &str) {
    use std::os::unix::net::UnixDatagram;
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else {
        tracing::warn!("systemd supervision requested or auto-detected, but no socket found");
        return;
    };
    let sent = UnixDatagram::unbound().and_then(|socket| {
        let bytes = target.as_encoded_bytes();
        match bytes.strip_prefix(b"@") {
            Some(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                socket.send_to_addr(state.as_bytes(), &addr)
            }
            None => socket.send_to(state.as_bytes(), &target),
        }
    });
    if let Err(e) = sent {
        tracing::warn!(
            "Could not notify systemd ({}): {e}",
            target.to_string_lossy()
        );
    }
}
