//! The `herald` binary as a user starts it: options with redis-server's names, a redis.conf-style
//! file overridden by the command line, refusal of bad options, the start-up line, and clean
//! exits on SIGTERM and SHUTDOWN. Each test stops only the child it started, by its PID.

mod common;

use common::{free_port, BIN};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A started server; killed by PID if a test fails before it exits.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str]) -> (Running, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn herald");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("start-up line");
    (Running(child), line)
}

fn command(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "herald did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn version_and_help_print_and_exit_zero() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("redis_version 7.4.0"));
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--port",
        "--bind",
        "--requirepass",
        "--maxclients",
        "--timeout",
        "--loglevel",
        "--logfile",
        "--databases",
    ] {
        assert!(help.contains(option), "--help lacks {option}");
    }
}

#[test]
fn bad_options_are_refused_with_status_one() {
    for args in [
        &["--port", "abc"][..],
        &["--nosuch"],
        &["--loglevel", "loud"],
        &["/nonexistent/redis.conf"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?} gave no message");
    }
}

#[test]
fn config_file_is_read_and_the_command_line_overrides_it() {
    let dir = std::env::temp_dir().join(format!("herald-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file_port = free_port();
    let cli_port = free_port();
    let conf = dir.join("redis.conf");
    std::fs::write(
        &conf,
        format!(
            "# a comment\nport {file_port}\nbind 127.0.0.1\nrequirepass \"sec ret\"\ndatabases 4\n"
        ),
    )
    .unwrap();
    let (mut server, line) = start(&[conf.to_str().unwrap(), "--port", &cli_port.to_string()]);
    assert!(line.contains("7.4.0"), "{line}");
    assert!(line.contains(&format!("127.0.0.1:{cli_port}")), "{line}");
    assert!(line.contains(&format!("pid {}", server.0.id())), "{line}");
    assert!(TcpStream::connect(("127.0.0.1", file_port)).is_err());
    assert_eq!(
        command(cli_port, b"PING\r\n"),
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(
        command(cli_port, b"AUTH \"sec ret\"\r\nSELECT 4\r\n"),
        "+OK\r\n-ERR DB index is out of range\r\n"
    );
    // SIGTERM: a clean exit.
    let status = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(wait_exit(&mut server.0).success());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn shutdown_command_stops_the_server() {
    let port = free_port();
    let (mut server, _) = start(&["--port", &port.to_string()]);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(b"SHUTDOWN\r\n").unwrap();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    assert!(wait_exit(&mut server.0).success());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// `CONFIG GET save` from `program` started with `args` (and a port of its own).
fn save_setting(program: &str, args: &[&str], dir: &std::path::Path) -> String {
    let port = free_port();
    let port_arg = port.to_string();
    let mut command_line = vec!["--port", port_arg.as_str(), "--bind", "127.0.0.1"];
    if program == "redis-server" {
        command_line.extend(["--daemonize", "no", "--appendonly", "no", "--dir"]);
        command_line.push(dir.to_str().unwrap());
    }
    // A config file must come first, as both servers read it.
    let (file, rest) = match args.first() {
        Some(a) if a.ends_with(".conf") => (vec![*a], &args[1..]),
        _ => (vec![], args),
    };
    let child = Command::new(program)
        .args(file)
        .args(&command_line)
        .args(rest)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e} (apt-get install redis-server)"));
    let _running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{program} {args:?} did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    command(port, b"CONFIG GET save\r\n")
}

/// `save` directives (RDB snapshot points, without effect in Herald) are read as redis-server
/// reads them: each adds its pairs, the first in a file replaces no default (Herald has none
/// to replace, and Redis's is replaced by the file's), `save ""` drops all before it.
#[test]
fn save_directives_fold_as_redis_server_folds_them() {
    let dir = std::env::temp_dir().join(format!("herald-cli-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("save.conf");
    std::fs::write(&conf, "save 86400 1\nsave 90000 100\n").unwrap();
    let conf = conf.to_str().unwrap();
    for args in [
        &[conf][..],
        &[conf, "--save", ""],
        &[conf, "--save", "86400", "0"],
        &["--save", "86400", "1", "--save", "+90000", "4294967297"],
        &["--save", "86400", "1", "--save", "", "--save", "90000", "2"],
        &["--save", ""],
    ] {
        let herald = save_setting(BIN, args, &dir);
        assert!(
            herald.starts_with("*2\r\n$4\r\nsave\r\n"),
            "{args:?}: {herald}"
        );
        assert_eq!(herald, save_setting("redis-server", args, &dir), "{args:?}");
    }
    for bad in [
        &["--save", "60"][..],
        &["--save", "0", "1"],
        &["--save", "60", "x"],
    ] {
        let out = Command::new(BIN).args(bad).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(
            message.contains("Invalid save parameters"),
            "{bad:?}: {message}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
