//! LATENCY and INFO latencystats side by side with redis-server, on the same commands. What a
//! command's duration decides (which histogram level, the milliseconds of a spike) differs
//! between the servers; what the duration cannot change must not: which commands have a
//! histogram and with how many calls, the levels' keys being Redis's, cumulative counts ending
//! at the calls, percentiles in order and named as configured, and a slow command becoming a
//! `command` spike that LATEST, HISTORY, DOCTOR, GRAPH and RESET report alike.
mod common;

use common::{free_port, start_redis_server, RedisServer, TestServer};
use redis::Value;

struct Pair {
    _herald: TestServer,
    _redis: RedisServer,
    /// Herald's connection, then Redis's.
    conns: [redis::Connection; 2],
    /// Where to open more: Herald's, then Redis's.
    urls: [String; 2],
}

fn pair() -> Pair {
    let herald = TestServer::start(&[]);
    let port = free_port();
    let redis = start_redis_server(&["--save", ""], port, &std::env::temp_dir());
    let h = herald.client();
    let urls = [herald.url(), format!("redis://127.0.0.1:{port}/")];
    let r = redis::Client::open(urls[1].as_str())
        .and_then(|c| c.get_connection())
        .expect("connect to redis-server");
    Pair {
        _herald: herald,
        _redis: redis,
        conns: [h, r],
        urls,
    }
}

fn run(c: &mut redis::Connection, args: &[&str]) -> Value {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::VerbatimString { text, .. } => text.clone(),
        other => panic!("not text: {other:?}"),
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(n) => *n,
        other => panic!("not an integer: {other:?}"),
    }
}

fn items(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        Value::Map(pairs) => pairs
            .iter()
            .flat_map(|(k, v)| [k.clone(), v.clone()])
            .collect(),
        other => panic!("not an aggregate: {other:?}"),
    }
}

/// One command's histogram: (command, calls, [(µs, cumulative calls)]).
type Histogram = (String, i64, Vec<(i64, i64)>);

/// LATENCY HISTOGRAM's reply.
fn histograms(v: &Value) -> Vec<Histogram> {
    items(v)
        .chunks(2)
        .map(|pair| {
            let fields = items(&pair[1]);
            assert_eq!(text(&fields[0]), "calls");
            assert_eq!(text(&fields[2]), "histogram_usec");
            let levels = items(&fields[3])
                .chunks(2)
                .map(|l| (int(&l[0]), int(&l[1])))
                .collect();
            (text(&pair[0]), int(&fields[1]), levels)
        })
        .collect()
}

/// The keys Redis's histogram levels can have: the highest value of the first bucket at or
/// past each power of two from 1024 ns, in microseconds.
fn is_redis_level(micros: i64) -> bool {
    (10..30).any(|power: u32| {
        let level = 1i64 << power;
        let width = 1i64 << (power - 7);
        (level + width - 1) / 1000 == micros
    })
}

#[test]
fn histograms_count_every_call_at_redis_levels() {
    let mut p = pair();
    for c in p.conns.iter_mut() {
        run(c, &["CONFIG", "RESETSTAT"]);
        let mut pipe = redis::pipe();
        for i in 0..500 {
            pipe.cmd("SET").arg(format!("k{}", i % 7)).arg(i).ignore();
            pipe.cmd("GET").arg("k1").ignore();
        }
        pipe.cmd("CLIENT").arg("GETNAME").ignore();
        pipe.query::<()>(c).expect("pipeline");
    }
    let [h, r] = p
        .conns
        .each_mut()
        .map(|c| histograms(&run(c, &["LATENCY", "HISTOGRAM", "set", "get", "client"])));
    let summary = |hs: &[Histogram]| {
        hs.iter()
            .map(|(name, calls, _)| (name.clone(), *calls))
            .collect::<Vec<_>>()
    };
    assert_eq!(summary(&h), summary(&r));
    assert_eq!(
        summary(&h),
        [
            ("set".to_owned(), 500),
            ("get".to_owned(), 500),
            ("client|getname".to_owned(), 1)
        ]
    );
    for (name, calls, levels) in h.iter().chain(&r) {
        assert!(!levels.is_empty(), "{name}");
        assert!(levels
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1));
        assert_eq!(levels.last().map(|l| l.1), Some(*calls), "{name}");
        assert!(
            levels.iter().all(|&(us, _)| is_redis_level(us)),
            "{levels:?}"
        );
    }
    // Every command called so far has a histogram: the same set on both.
    let [mut all_h, mut all_r] = p.conns.each_mut().map(|c| {
        let names: Vec<String> = histograms(&run(c, &["LATENCY", "HISTOGRAM"]))
            .into_iter()
            .map(|h| h.0)
            .collect();
        names
    });
    all_h.sort();
    all_r.sort();
    assert_eq!(all_h, all_r);
    assert!(all_h.contains(&"latency|histogram".to_owned()));
    // CONFIG RESETSTAT forgets them.
    for c in p.conns.iter_mut() {
        run(c, &["CONFIG", "RESETSTAT"]);
        assert!(histograms(&run(c, &["LATENCY", "HISTOGRAM", "set"])).is_empty());
    }
}

/// INFO latencystats as (command, [(percentile name, µs)]).
fn latencystats(c: &mut redis::Connection) -> Vec<(String, Vec<(String, f64)>)> {
    let info = text(&run(c, &["INFO", "latencystats"]));
    let mut lines = info.lines();
    assert_eq!(lines.next(), Some("# Latencystats"));
    lines
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (name, values) = line
                .strip_prefix("latency_percentiles_usec_")
                .and_then(|rest| rest.split_once(':'))
                .unwrap_or_else(|| panic!("{line}"));
            let values = values
                .split(',')
                .map(|v| {
                    let (p, us) = v.split_once('=').expect("p=value");
                    let (whole, fraction) = us.split_once('.').expect("three decimals");
                    assert_eq!(fraction.len(), 3, "{v}");
                    assert!(whole.bytes().all(|b| b.is_ascii_digit()), "{v}");
                    (p.to_owned(), us.parse().expect("a number"))
                })
                .collect();
            (name.to_owned(), values)
        })
        .collect()
}

#[test]
fn info_latencystats_names_the_configured_percentiles() {
    let mut p = pair();
    let [h, r] = p.conns.each_mut().map(|c| {
        run(
            c,
            &[
                "CONFIG",
                "SET",
                "latency-tracking-info-percentiles",
                "0 50 99.99 100",
            ],
        );
        run(c, &["CONFIG", "RESETSTAT"]);
        for i in 0..200 {
            run(c, &["SET", "k", &i.to_string()]);
        }
        let mut stats = latencystats(c);
        stats.sort_by(|a, b| a.0.cmp(&b.0));
        stats
    });
    let names = |s: &[(String, Vec<(String, f64)>)]| -> Vec<(String, Vec<String>)> {
        s.iter()
            .map(|(n, v)| (n.clone(), v.iter().map(|(p, _)| p.clone()).collect()))
            .collect()
    };
    assert_eq!(names(&h), names(&r));
    for (name, values) in h.iter().chain(&r) {
        let percentiles: Vec<&str> = values.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(percentiles, ["p0", "p50", "p99.99", "p100"], "{name}");
        assert!(
            values.windows(2).all(|w| w[0].1 <= w[1].1),
            "{name}: {values:?}"
        );
    }
    assert!(h.iter().any(|(name, _)| name == "set"));
    // Tracking off: the section is its title alone on both.
    for c in p.conns.iter_mut() {
        run(c, &["CONFIG", "SET", "latency-tracking", "no"]);
        assert!(latencystats(c).is_empty());
    }
}

#[test]
fn a_slow_command_is_a_spike_both_servers_report_alike() {
    let mut p = pair();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    for c in p.conns.iter_mut() {
        let mut pipe = redis::pipe();
        for i in 0..100_000 {
            pipe.cmd("SET").arg(format!("key:{i}")).arg("v").ignore();
        }
        pipe.query::<()>(c).expect("fill");
        run(c, &["CONFIG", "SET", "latency-monitor-threshold", "1"]);
        // Matching 100,000 keys against a pattern takes milliseconds on either server.
        let matched = run(c, &["KEYS", "*[xyz]*[xyz]*"]);
        assert!(items(&matched).is_empty());
        // No later command may add a sample: on a loaded machine a LATENCY or CONFIG
        // command took a millisecond too (a second column in the graph of one CI run).
        run(c, &["CONFIG", "SET", "latency-monitor-threshold", "60000"]);
    }
    let start = now();
    let latest = p
        .conns
        .each_mut()
        .map(|c| items(&run(c, &["LATENCY", "LATEST"])));
    for events in &latest {
        assert_eq!(events.len(), 1, "{events:?}");
        let event = items(&events[0]);
        assert_eq!(text(&event[0]), "command");
        assert!((start - 5..=start).contains(&int(&event[1])), "{event:?}");
        assert!(
            int(&event[2]) >= 1 && int(&event[3]) >= int(&event[2]),
            "{event:?}"
        );
    }
    for c in p.conns.iter_mut() {
        let history = items(&run(c, &["LATENCY", "HISTORY", "command"]));
        assert_eq!(history.len(), 1);
        assert!(items(&run(c, &["LATENCY", "HISTORY", "COMMAND"])).is_empty());
    }
    // DOCTOR: the same report once the numbers are set aside.
    let [h, r] = p.conns.each_mut().map(|c| {
        let report = text(&run(c, &["LATENCY", "DOCTOR"]));
        report
            .chars()
            .map(|ch| if ch.is_ascii_digit() { '#' } else { ch })
            .collect::<String>()
    });
    let squeeze = |s: &str| {
        let mut out = s.to_owned();
        while out.contains("##") {
            out = out.replace("##", "#");
        }
        out
    };
    assert_eq!(squeeze(&h), squeeze(&r));
    assert!(h.contains("#. command: # latency spikes (average #"), "{h}");
    // GRAPH: a title, a rule, four rows and the age written downwards.
    for c in p.conns.iter_mut() {
        let graph = text(&run(c, &["LATENCY", "GRAPH", "command"]));
        let lines: Vec<&str> = graph.lines().collect();
        assert!(lines[0].starts_with("command - high "), "{graph}");
        assert_eq!(lines[1], "-".repeat(80));
        // One sample: the lowest step of the bottom row.
        assert_eq!(&lines[2..6], [" ", " ", " ", "_"], "{graph}");
        assert!(lines[7].bytes().all(|b| b.is_ascii_digit()) && lines[8] == "s");
        let err = redis::cmd("LATENCY")
            .arg("GRAPH")
            .arg("nothing")
            .query::<Value>(c)
            .unwrap_err();
        assert!(err
            .to_string()
            .contains("No samples available for event 'nothing'"));
        assert_eq!(int(&run(c, &["LATENCY", "RESET", "COMMAND", "command"])), 1);
        assert!(items(&run(c, &["LATENCY", "LATEST"])).is_empty());
    }
}

/// INFO commandstats' `calls` of `command`, 0 when it has no line.
fn calls(c: &mut redis::Connection, command: &str) -> u64 {
    let info = text(&run(c, &["INFO", "commandstats"]));
    common::cmdstat(&info, command, "calls")
}

/// The slow log's entries, newest first, as their arguments.
fn slow_commands(c: &mut redis::Connection) -> Vec<Vec<String>> {
    items(&run(c, &["SLOWLOG", "GET", "-1"]))
        .iter()
        .map(|entry| items(&items(entry)[3]).iter().map(text).collect())
        .collect()
}

fn blocked_clients(c: &mut redis::Connection) -> bool {
    text(&run(c, &["INFO", "clients"])).contains("blocked_clients:1")
}

/// The XREADs in the slow log, newest first, as their arguments.
fn logged_reads(c: &mut redis::Connection) -> Vec<Vec<String>> {
    slow_commands(c)
        .into_iter()
        .filter(|args| args[0].eq_ignore_ascii_case("xread"))
        .collect()
}

/// A client of `url` waiting in `XREAD BLOCK 5000 STREAMS <stream> $`, once `c` sees it
/// blocked; joining it gives its reply.
fn blocked_reader(
    url: &str,
    c: &mut redis::Connection,
    stream: &str,
) -> std::thread::JoinHandle<Value> {
    let (url, stream) = (url.to_owned(), stream.to_owned());
    let reader = std::thread::spawn(move || {
        let mut r = redis::Client::open(url)
            .and_then(|c| c.get_connection())
            .expect("reader");
        run(&mut r, &["XREAD", "BLOCK", "5000", "STREAMS", &stream, "$"])
    });
    common::wait_until("the reader blocked", || blocked_clients(c));
    reader
}

#[test]
fn a_blocked_read_is_counted_and_logged_once_when_answered() {
    let mut p = pair();
    for (side, url) in p.urls.clone().iter().enumerate() {
        let c = &mut p.conns[side];
        run(c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        run(c, &["CONFIG", "RESETSTAT"]);
        run(c, &["SLOWLOG", "RESET"]);
        let reader = blocked_reader(url, c, "s");
        if side == 0 {
            // An entry trimmed away by the XADD that made it wakes the reader for nothing: it
            // runs again and keeps waiting, still one call (Redis 7.0 answers this wake-up
            // instead: `blocked-ran-dry` in KNOWN_DIFFERENCES.md).
            run(c, &["XADD", "s", "MAXLEN", "0", "*", "f", "v"]);
            std::thread::sleep(std::time::Duration::from_millis(100));
            assert!(blocked_clients(c));
        }
        run(c, &["XADD", "s", "*", "f", "v"]);
        let answer = reader.join().expect("reader thread");
        assert_eq!(items(&answer).len(), 1);
        assert_eq!(calls(c, "xread"), 1, "side {side}");
        let logged = logged_reads(c);
        // Logged once, as sent ("$", not the id it waited after).
        assert_eq!(
            logged,
            [["XREAD", "BLOCK", "5000", "STREAMS", "s", "$"]],
            "side {side}"
        );
        // A timed-out read is counted once too (Redis 7.4 also logs it; 7.0 does not).
        run(c, &["XREAD", "BLOCK", "50", "STREAMS", "s", "$"]);
        assert_eq!(calls(c, "xread"), 2, "side {side}");
    }
    let herald = &mut p.conns[0];
    assert_eq!(logged_reads(herald).len(), 2);
    // The slow log turned on while a read waits: the read is logged when answered, by the
    // threshold then, with its arguments.
    for (side, url) in p.urls.clone().iter().enumerate() {
        let c = &mut p.conns[side];
        run(c, &["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
        let reader = blocked_reader(url, c, "late");
        run(c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        run(c, &["SLOWLOG", "RESET"]);
        run(c, &["XADD", "late", "*", "f", "v"]);
        reader.join().expect("reader thread");
        let logged = logged_reads(c);
        assert_eq!(
            logged,
            [["XREAD", "BLOCK", "5000", "STREAMS", "late", "$"]],
            "side {side}"
        );
        run(c, &["SLOWLOG", "RESET"]);
    }
}
