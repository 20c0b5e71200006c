//! A redis.conf and a command line written for redis-server, read by Herald. Both servers are
//! started the same way and must show the same settings (`CONFIG GET *`), answer the same
//! CONFIG SETs and report the same bad lines. Then what Herald honours itself: `daemonize`,
//! `pidfile` and `supervised systemd`. Each test stops only the processes it started.

mod aof_support;
mod common;

use std::collections::BTreeMap;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aof_support::Scratch;
use common::{free_port, running, spawn_binary, start_redis_server, wait_until, BIN};

fn connect(port: u16) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap()
}

/// `CONFIG GET *` without the settings that must differ between two servers here.
fn settings(con: &mut redis::Connection) -> BTreeMap<String, String> {
    let mut all: BTreeMap<String, String> =
        redis::cmd("CONFIG").arg("GET").arg("*").query(con).unwrap();
    all.remove("port");
    all.remove("dir");
    all
}

/// A reply, errors included, as text.
fn answer(con: &mut redis::Connection, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<redis::Value>(con) {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("error: {e}"),
    }
}

/// Debian's redis.conf, made to run in the foreground of a test: no pid file, log file or
/// directory of its own (each server is given a directory; the port comes from the starters).
fn stock_conf(dir: &Scratch) -> PathBuf {
    let stock = std::fs::read_to_string("/etc/redis/redis.conf")
        .expect("/etc/redis/redis.conf (apt-get install redis-server; .ci/run does)");
    let kept: Vec<&str> = stock
        .lines()
        .filter(|l| {
            let name = l.split_whitespace().next().unwrap_or_default();
            !matches!(name, "daemonize" | "pidfile" | "logfile" | "dir")
        })
        .collect();
    let path = dir.0.join("redis.conf");
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    path
}

/// Directives on the command line after the file, in redis-server's shapes: several words,
/// an old name, a name in capitals, a value starting with `-`.
const COMMAND_LINE: &[&str] = &[
    "--save",
    "",
    // No password, as an empty one means in Redis.
    "--requirepass",
    "",
    "--tcp-keepalive",
    "60",
    "--SLAVE-read-only",
    "no",
    "--hash-max-ziplist-entries",
    "7",
    "--client-output-buffer-limit",
    "pubsub",
    "1mb",
    "0",
    "0",
    "--oom-score-adj-values",
    "0",
    "100",
    "900",
    "--latency-tracking-info-percentiles",
    "50",
    "99.99",
    "--list-max-listpack-size",
    "-1",
    "--unixsocketperm",
    "700",
    "--bind",
    "127.0.0.1",
    // Redis brings hz into 1..=500.
    "--hz",
    "1000",
    "--loglevel",
    "NOTICE",
];

#[test]
fn a_stock_redis_conf_reads_as_redis_server_reads_it() {
    let dir = Scratch::new("conf");
    let conf = stock_conf(&dir);
    let conf = conf.to_str().unwrap();
    let args: Vec<&str> = std::iter::once(conf)
        .chain(COMMAND_LINE.iter().copied())
        .collect();
    let herald = running(spawn_binary(&args));
    let port = free_port();
    let _redis = start_redis_server(&args, port, &dir.0);
    let mut h = connect(herald.port);
    let mut r = connect(port);
    let shown = settings(&mut h);
    assert_eq!(shown, settings(&mut r));
    // What the file and the command line set, not defaults that happen to agree.
    assert_eq!(shown["tcp-keepalive"], "60");
    assert_eq!(shown["replica-read-only"], "no");
    assert_eq!(shown["hash-max-listpack-entries"], "7");
    assert_eq!(shown["unixsocketperm"], "700");
    assert_eq!(
        (shown["hz"].as_str(), shown["loglevel"].as_str()),
        ("500", "notice")
    );
    assert!(shown.len() > 180, "{} settings", shown.len());

    for args in [
        &["CONFIG", "SET", "tcp-keepalive", "-1"][..],
        &["CONFIG", "SET", "tcp-keepalive", "x"],
        &["CONFIG", "SET", "daemonize", "yes"],
        &["CONFIG", "SET", "dbfilename", "x.rdb"],
        &["CONFIG", "SET", "dir", "/tmp"],
        &["CONFIG", "SET", "slave-read-only", "maybe"],
        &["CONFIG", "SET", "oom-score-adj", "RELATIVE"],
        &["CONFIG", "GET", "oom-score-adj"],
        &["CONFIG", "SET", "shutdown-on-sigterm", "now NOSAVE"],
        &["CONFIG", "GET", "shutdown-on-sigterm"],
        &["CONFIG", "SET", "shutdown-on-sigterm", "save nosave"],
        &["CONFIG", "SET", "shutdown-on-sigint", "default force"],
        &["CONFIG", "GET", "shutdown-on-sigint"],
        &["CONFIG", "SET", "hash-max-ziplist-value", "1kb"],
        &[
            "CONFIG",
            "SET",
            "slave-lazy-flush",
            "yes",
            "replica-lazy-flush",
            "no",
        ],
        &[
            "CONFIG",
            "SET",
            "lazyfree-lazy-expire",
            "yes",
            "lazyfree-lazy-expire",
            "no",
        ],
        &["CONFIG", "SET", "activerehashing", "no", "hz", "x"],
        &["CONFIG", "SET", "latency-tracking-info-percentiles", "101"],
        &["CONFIG", "SET", "oom-score-adj-values", "0 100"],
        &["CONFIG", "SET", "oom-score-adj-values", "0 100 200"],
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
        &["CONFIG", "SET", "tls-port", "0"],
        &["CONFIG", "SET", "nosuch", "1"],
        &["CONFIG", "GET", "hash-max-listpack-value"],
        &["CONFIG", "GET", "SLAVE-LAZY-FLUSH"],
    ] {
        assert_eq!(answer(&mut h, args), answer(&mut r, args), "{args:?}");
    }
    // A pattern's matches come in Redis's hash-table order: compared as maps.
    let lazy = |con: &mut redis::Connection| -> BTreeMap<String, String> {
        redis::cmd("CONFIG")
            .arg("GET")
            .arg("*lazy*")
            .query(con)
            .unwrap()
    };
    assert_eq!(lazy(&mut h), lazy(&mut r));
    assert_eq!(lazy(&mut h).len(), 7);
    assert_eq!(settings(&mut h), settings(&mut r));
}

/// What Herald cannot do is refused, with the reason, where Redis would do it.
#[test]
fn what_herald_cannot_honour_is_refused_with_the_reason() {
    let herald = running(spawn_binary(&[]));
    let mut h = connect(herald.port);
    for (name, value, why) in [
        ("maxmemory-clients", "1gb", "does not evict clients"),
        ("tls-port", "6380", "does not serve TLS"),
        ("min-replicas-to-write", "1", "no replicas"),
    ] {
        let reply = answer(&mut h, &["CONFIG", "SET", name, value]);
        assert!(reply.contains(why), "{name}: {reply}");
        let shown: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg(name)
            .query(&mut h)
            .unwrap();
        assert_eq!(shown, [name, "0"]);
    }
    for args in [
        &["--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru"][..],
        &["--cluster-enabled", "yes"],
        &["--replicaof", "10.0.0.1", "6379"],
        &["--loadmodule", "/nonexistent/module.so"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(
            message.contains("FATAL CONFIG FILE ERROR") && message.contains("Herald"),
            "{args:?}: {message}"
        );
    }
}

/// `rename-command`: the old name is gone, the new one (any case, any length) works, an empty
/// one removes the command, and MULTI queues by the new names.
#[test]
fn renamed_commands_answer_as_in_redis() {
    let dir = Scratch::new("rename");
    let conf = dir.0.join("rename.conf");
    std::fs::write(
        &conf,
        "rename-command FLUSHALL \"\"\n\
         rename-command CONFIG b840fc02d524045429941cc15f59e41cb7be6c52\n\
         rename-command set SETX\n",
    )
    .unwrap();
    let conf = conf.to_str().unwrap();
    let herald = running(spawn_binary(&[conf]));
    let port = free_port();
    let _redis = start_redis_server(&[conf], port, &dir.0);
    let mut h = connect(herald.port);
    let mut r = connect(port);
    for args in [
        &["FLUSHALL"][..],
        &["flushall", "ASYNC"],
        &["CONFIG", "GET", "maxclients"],
        &[
            "b840fc02d524045429941cc15f59e41cb7be6c52",
            "GET",
            "maxclients",
        ],
        &[
            "B840FC02D524045429941CC15F59E41CB7BE6C52",
            "get",
            "maxclients",
        ],
        &["SET", "k", "v"],
        &["SETX", "k", "v"],
        &["setx", "k2", "v2", "EX", "100"],
        &["GET", "k"],
        &["MULTI"],
        &["SETX", "k", "w"],
        &["SET", "k", "x"],
        &["EXEC"],
        &["MULTI"],
        &["SETX", "k", "w"],
        &["EXEC"],
        &["GET", "k"],
        &["COMMAND", "INFO", "set"],
        &["COMMAND", "GETKEYS", "SET", "a", "b"],
        &["COMMAND", "GETKEYS", "SETX", "a", "b"],
    ] {
        assert_eq!(answer(&mut h, args), answer(&mut r, args), "{args:?}");
    }
    // COMMAND INFO by the new name describes the command under its own name.
    let info = answer(&mut h, &["COMMAND", "INFO", "setx"]);
    assert!(info.contains("\"set\"") && info.contains("write"), "{info}");
    // COMMAND COUNT and LIST drop the removed command and keep the renamed ones under their
    // own names. (Redis has more commands than Herald: compared with Herald unrenamed.)
    let plain = running(spawn_binary(&[]));
    let mut p = connect(plain.port);
    let count = |con: &mut redis::Connection| -> i64 {
        redis::cmd("COMMAND").arg("COUNT").query(con).unwrap()
    };
    assert_eq!(count(&mut h), count(&mut p) - 1);
    let list: Vec<String> = redis::cmd("COMMAND").arg("LIST").query(&mut h).unwrap();
    assert!(!list.iter().any(|n| n == "flushall"));
    assert!(list.iter().any(|n| n == "set") && list.iter().any(|n| n == "config"));
    for (conf_text, why) in [
        (
            "rename-command nosuch x\n",
            "No such command in rename-command",
        ),
        (
            "rename-command get set\n",
            "Target command name already exists",
        ),
        (
            "rename-command set x\nrename-command set y\n",
            "No such command in rename-command",
        ),
    ] {
        std::fs::write(dir.0.join("bad.conf"), conf_text).unwrap();
        let bad = dir.0.join("bad.conf");
        let bad = [bad.to_str().unwrap()];
        let herald = fatal_report(BIN, &bad);
        assert!(herald.1.contains(why), "{conf_text}: {}", herald.1);
        assert_eq!(herald, fatal_report("redis-server", &bad), "{conf_text}");
    }
}

/// The append-only file keeps a renamed command's original name, so it loads with or without
/// the rename (Redis's loader looks names up in the original table too).
#[test]
fn a_renamed_command_is_logged_and_replayed_under_its_own_name() {
    let dir = Scratch::new("rename-aof");
    let d = dir.path();
    let renamed = [
        "--appendonly",
        "yes",
        "--dir",
        d,
        "--rename-command",
        "XADD",
        "ADDX",
    ];
    let mut herald = running(spawn_binary(&renamed));
    let mut h = connect(herald.port);
    assert!(answer(&mut h, &["XADD", "s", "*", "f", "v"]).contains("unknown command"));
    let id: String = redis::cmd("ADDX")
        .arg("s")
        .arg("*")
        .arg("f")
        .arg("v")
        .query(&mut h)
        .unwrap();
    let _ = redis::cmd("SHUTDOWN").query::<()>(&mut h);
    assert!(herald.child.wait().unwrap().success());
    for args in [&renamed[..], &["--appendonly", "yes", "--dir", d]] {
        let herald = running(spawn_binary(args));
        let mut h = connect(herald.port);
        let entries: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
            .arg("s")
            .arg("-")
            .arg("+")
            .query(&mut h)
            .unwrap();
        assert_eq!(
            entries,
            [(id.clone(), vec!["f".to_string(), "v".to_string()])]
        );
    }
}

/// redis-server's report of a bad line, with its version taken out.
fn fatal_report(program: &str, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(program)
        .args(args)
        .args(["--port", "0"])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let text = text.replace("Redis 7.0.15", "Redis VERSION");
    (
        out.status.code(),
        text.replace("Redis 7.4.0", "Redis VERSION"),
    )
}

#[test]
fn bad_lines_are_reported_as_redis_server_reports_them() {
    let dir = Scratch::new("badconf");
    let conf = dir.0.join("bad.conf");
    std::fs::write(&conf, "port 7000\n\n# a comment\nrdbchecksum maybe\n").unwrap();
    let sentinel = dir.0.join("sentinel.conf");
    std::fs::write(&sentinel, "sentinel monitor m 127.0.0.1 6379 2\n").unwrap();
    let sentinel = sentinel.to_str().unwrap();
    let good = dir.0.join("good.conf");
    std::fs::write(&good, "port 7000\n").unwrap();
    let conf = conf.to_str().unwrap();
    let good = good.to_str().unwrap();
    for args in [
        &["--tcp-backlog", "x"][..],
        &["--nosuch", "1"],
        &["--rdbcompression", "maybe"],
        &["--hash-max-ziplist-entries", "-1"],
        &["--oom-score-adj-values", "1", "2"],
        &["--syslog-facility", "local9"],
        &["--port", "1", "2"],
        &["--latency-tracking-info-percentiles", "50", "101"],
        &["--save", "60"],
        &["--notify-keyspace-events", "Q"],
        &["--logfile", "/nonexistent/herald/x.log"],
        &["--port", "x"],
        &["--port", "70000"],
        &["--hz", "-1"],
        &["--maxclients", "0"],
        &["--timeout", "1.5"],
        &["--databases", "0"],
        &["--appendonly", "maybe"],
        &["--appendfsync", "sometimes"],
        &["--proto-max-bulk-len", "1kb"],
        &["--stream-node-max-bytes", "many"],
        &[conf],
        &[sentinel],
        &[good, "--activerehashing", "often"],
    ] {
        let herald = fatal_report(BIN, args);
        assert_eq!(herald.0, Some(1), "{args:?}: {}", herald.1);
        assert!(herald.1.contains("FATAL CONFIG FILE ERROR"), "{args:?}");
        assert_eq!(herald, fatal_report("redis-server", args), "{args:?}");
    }
}

/// Stops a daemonized Herald by the pid its pid file names, if a test ends before it has.
struct Daemon(Option<u32>);

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

#[test]
fn daemonize_goes_to_the_background_and_keeps_a_pid_file() {
    let dir = Scratch::new("daemon");
    let pidfile = dir.0.join("herald.pid");
    let logfile = dir.0.join("herald.log");
    let port = free_port();
    let mut launcher = Command::new(BIN)
        .args([
            "--port",
            &port.to_string(),
            "--daemonize",
            "yes",
            "--pidfile",
        ])
        .arg(&pidfile)
        .arg("--logfile")
        .arg(&logfile)
        .spawn()
        .unwrap();
    // The command returns while the server it started keeps running.
    let mut status = None;
    wait_until("the launcher to exit", || {
        status = launcher.try_wait().unwrap();
        status.is_some()
    });
    assert!(status.unwrap().success());
    let mut daemon = Daemon(None);
    wait_until("the pid file", || {
        daemon.0 = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|t| t.trim().parse().ok());
        daemon.0.is_some()
    });
    let pid = daemon.0.unwrap();
    wait_until("the daemon to listen", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let mut con = connect(port);
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
    let shown: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("daemonize")
        .query(&mut con)
        .unwrap();
    assert_eq!(shown, ["daemonize", "yes"]);
    // In a session of its own, as a forked daemon's setsid leaves it.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(fields[3], pid.to_string(), "session id: {stat}");
    let _ = redis::cmd("SHUTDOWN").query::<()>(&mut con);
    wait_until("the pid file to go", || !pidfile.exists());
    wait_until("the daemon to exit", || {
        !Path::new(&format!("/proc/{pid}")).exists()
    });
    daemon.0 = None;
    let log = std::fs::read_to_string(&logfile).unwrap();
    assert!(log.contains("ready to accept connections"), "{log}");
}

/// A Herald started in the foreground, killed by its PID if the test ends first.
struct Foreground(std::process::Child);

impl Foreground {
    /// SIGTERM, and its exit status once it has exited.
    fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let mut status = None;
        wait_until("herald to exit on SIGTERM", || {
            status = self.0.try_wait().unwrap();
            status.is_some()
        });
        status.unwrap()
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_systemd_supervisor_is_told_ready_and_stopping() {
    let dir = Scratch::new("notify");
    let socket_path = dir.0.join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let pidfile = dir.0.join("herald.pid");
    for mode in ["systemd", "auto"] {
        let herald = Foreground(
            Command::new(BIN)
                .env("NOTIFY_SOCKET", &socket_path)
                // Ignored under a supervisor, as Redis ignores it: Herald stays in the foreground.
                .args([
                    "--port",
                    "0",
                    "--daemonize",
                    "yes",
                    "--supervised",
                    mode,
                    "--pidfile",
                ])
                .arg(&pidfile)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        let mut buf = [0u8; 256];
        let n = socket.recv(&mut buf).expect("READY from herald");
        let ready = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(ready.contains("READY=1"), "{mode}: {ready}");
        let pid: u32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(pid, herald.0.id(), "{mode}");
        assert!(herald.terminate().success(), "{mode}: a clean exit");
        let n = socket.recv(&mut buf).expect("STOPPING from herald");
        assert!(
            String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1"),
            "{mode}"
        );
        assert!(!pidfile.exists(), "{mode}: the pid file is removed");
    }
}

/// A config file for the CONFIG REWRITE comparison: comments, an include, a rename, an alias,
/// duplicated and untidy lines, an unknown one (added once the server runs).
fn rewrite_conf(dir: &Scratch) -> PathBuf {
    let conf_dir = dir.0.join("conf");
    std::fs::create_dir_all(&conf_dir).unwrap();
    let include = conf_dir.join("extra.conf");
    std::fs::write(&include, "hz 20\n").unwrap();
    let conf = conf_dir.join("server.conf");
    std::fs::write(
        &conf,
        format!(
            "# The file a user keeps.\n\ninclude {}\nrename-command FLUSHALL \"\"\n\
             slave-read-only no\nhash-max-ziplist-entries 64\nmaxmemory 1gb\n\
             save 900 1\nsave 300 10\n\n\ntimeout 0\n   tcp-keepalive   60\nlogfile \"\"\n",
            include.display()
        ),
    )
    .unwrap();
    conf
}

/// A rewritten file, comparable between servers: its own directory written `<dir>`, the port
/// line (each server has its own) and Redis's ACL `user` line (Herald has no ACL) left out;
/// the lines before the signature in order, those after it (Redis adds them in its hash
/// table's order) sorted.
fn comparable(conf: &Path, dir: &Path) -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(conf).unwrap();
    let dir = std::fs::canonicalize(dir).unwrap();
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("port ") && !l.starts_with("user "))
        .map(|l| l.replace(&dir.display().to_string(), "<dir>"))
        .collect();
    let at = lines
        .iter()
        .position(|l| l == "# Generated by CONFIG REWRITE")
        .unwrap_or(lines.len());
    let mut added = lines[at..].to_vec();
    added.retain(|l| !l.is_empty());
    added.sort();
    (lines[..at].to_vec(), added)
}

/// CONFIG REWRITE keeps the user's file and writes what CONFIG SET changed, as Redis does; the
/// rewritten file starts Herald with the same settings.
#[test]
fn config_rewrite_writes_the_file_as_redis_does() {
    let changes: &[&[&str]] = &[
        &[
            "CONFIG",
            "SET",
            "timeout",
            "300",
            "hz",
            "15",
            "maxmemory",
            "2gb",
        ],
        &["CONFIG", "SET", "notify-keyspace-events", "KEA"],
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 64mb 16mb 30",
        ],
        &["CONFIG", "SET", "save", "60 5"],
        &[
            "CONFIG",
            "SET",
            "stream-node-max-entries",
            "50",
            "slowlog-max-len",
            "64",
        ],
        &[
            "CONFIG",
            "SET",
            "replica-read-only",
            "yes",
            "maxclients",
            "500",
        ],
        &["CONFIG", "SET", "requirepass", "pw"],
    ];
    let rewrite = |con: &mut redis::Connection| {
        for change in changes {
            assert_eq!(answer(con, change), "ok", "{change:?}");
        }
        redis::cmd("AUTH").arg("pw").query::<()>(con).unwrap();
        answer(con, &["CONFIG", "REWRITE"])
    };
    let redis_dir = Scratch::new("rewrite-redis");
    let redis_conf = rewrite_conf(&redis_dir);
    let redis_port = free_port();
    let _redis = start_redis_server(&[redis_conf.to_str().unwrap()], redis_port, &redis_dir.0);
    let mut r = connect(redis_port);
    assert_eq!(rewrite(&mut r), "ok");

    let herald_dir = Scratch::new("rewrite-herald");
    let herald_conf = rewrite_conf(&herald_dir);
    let herald = running(spawn_binary(&[
        herald_conf.to_str().unwrap(),
        "--dir",
        herald_dir.path(),
    ]));
    let mut h = connect(herald.port);
    assert_eq!(rewrite(&mut h), "ok");

    assert_eq!(
        comparable(&herald_conf, &herald_dir.0),
        comparable(&redis_conf, &redis_dir.0)
    );
    // The rewritten file starts Herald with the settings it was written from.
    let again = running(spawn_binary(&[herald_conf.to_str().unwrap()]));
    let mut h2 = connect(again.port);
    redis::cmd("AUTH").arg("pw").query::<()>(&mut h2).unwrap();
    assert_eq!(settings(&mut h2), settings(&mut h));
    // Where the file cannot be written, the same error.
    std::fs::remove_dir_all(herald_conf.parent().unwrap()).unwrap();
    std::fs::remove_dir_all(redis_conf.parent().unwrap()).unwrap();
    let failed = answer(&mut h, &["CONFIG", "REWRITE"]);
    assert_eq!(failed, answer(&mut r, &["CONFIG", "REWRITE"]));
    assert!(
        failed.contains("Rewriting config file: No such file or directory"),
        "{failed}"
    );
}
