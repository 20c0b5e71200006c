//! Crash safety under `appendfsync always`, with the real binary: producers, a consumer and
//! counters run against Herald, the server is killed with SIGKILL at a random moment, restarted
//! on the same directory, and every write a client had been acknowledged must be there: every
//! INCR at least its acknowledged value, every SET, every XADD id, every XACK still acked.
//! Repeated 20 times; each round is bounded (a fraction of a second of load). The same holds
//! under `everysec` for a crash of the process alone (the file is written before replies; only
//! the machine going down can take the last second), checked in 10 more rounds.

mod aof_support;
mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aof_support::Scratch;
use common::{running, spawn_binary, Binary};
use redis::{Connection, Value};

const WRITERS: usize = 3;

/// What clients were told succeeded.
#[derive(Default)]
struct Acked {
    counters: [i64; WRITERS],
    sets: Vec<(String, String)>,
    xadds: Vec<(String, String)>,
    xacks: Vec<String>,
}

fn connect(port: u16) -> redis::RedisResult<Connection> {
    let con = redis::Client::open(format!("redis://127.0.0.1:{port}/"))?.get_connection()?;
    con.set_read_timeout(Some(Duration::from_secs(5)))?;
    con.set_write_timeout(Some(Duration::from_secs(5)))?;
    Ok(con)
}

/// One writer: INCR, SET and XADD in turn until the server dies (or the round's bound).
fn writer(port: u16, round: usize, t: usize, acked: Arc<Mutex<Acked>>, stop: Arc<AtomicBool>) {
    let Ok(mut con) = connect(port) else { return };
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        n += 1;
        let Ok(v) = redis::cmd("INCR")
            .arg(format!("c:{t}"))
            .query::<i64>(&mut con)
        else {
            return;
        };
        acked.lock().unwrap().counters[t] = v;
        let (key, value) = (format!("k:{round}:{t}:{n}"), n.to_string());
        if redis::cmd("SET")
            .arg(&key)
            .arg(&value)
            .query::<()>(&mut con)
            .is_err()
        {
            return;
        }
        acked.lock().unwrap().sets.push((key, value));
        let stream = format!("s:{t}");
        let Ok(id) = redis::cmd("XADD")
            .arg(&stream)
            .arg("*")
            .arg("n")
            .arg(n)
            .query::<String>(&mut con)
        else {
            return;
        };
        acked.lock().unwrap().xadds.push((stream, id));
    }
}

/// A consumer of `s:0`: reads new entries in its group and acknowledges them one by one.
fn consumer(port: u16, acked: Arc<Mutex<Acked>>, stop: Arc<AtomicBool>) {
    let Ok(mut con) = connect(port) else { return };
    let deadline = Instant::now() + Duration::from_secs(3);
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        let Ok(reply) = redis::cmd("XREADGROUP")
            .arg(&["GROUP", "g", "worker", "COUNT", "10", "STREAMS", "s:0", ">"][..])
            .query::<Value>(&mut con)
        else {
            return;
        };
        let ids = entry_ids(&reply);
        if ids.is_empty() {
            std::thread::sleep(Duration::from_millis(2));
        }
        for id in ids {
            match redis::cmd("XACK")
                .arg(&["s:0", "g", &id][..])
                .query::<i64>(&mut con)
            {
                Ok(1) => acked.lock().unwrap().xacks.push(id),
                Ok(_) => {}
                Err(_) => return,
            }
        }
    }
}

/// The entry ids in an XREADGROUP reply.
fn entry_ids(reply: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    if let Value::Array(streams) = reply {
        for stream in streams {
            if let Value::Array(parts) = stream {
                if let Some(Value::Array(entries)) = parts.get(1) {
                    for entry in entries {
                        if let Value::Array(e) = entry {
                            if let Some(Value::BulkString(id)) = e.first() {
                                ids.push(String::from_utf8_lossy(id).into_owned());
                            }
                        }
                    }
                }
            }
        }
    }
    ids
}

/// Checks that everything acknowledged so far is in the restarted server.
fn verify(server: &Binary, acked: &Acked) {
    let mut con = connect(server.port).expect("connect after restart");
    for (t, want) in acked.counters.iter().enumerate() {
        let have: Option<i64> = redis::cmd("GET")
            .arg(format!("c:{t}"))
            .query(&mut con)
            .unwrap();
        assert!(
            have.unwrap_or(0) >= *want,
            "counter c:{t}: acknowledged {want}, found {have:?}"
        );
    }
    for chunk in acked.sets.chunks(500) {
        let keys: Vec<&str> = chunk.iter().map(|(k, _)| k.as_str()).collect();
        let values: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query(&mut con).unwrap();
        for ((key, want), have) in chunk.iter().zip(values) {
            assert_eq!(
                have.as_deref(),
                Some(want.as_str()),
                "acknowledged SET {key}"
            );
        }
    }
    for t in 0..WRITERS {
        let stream = format!("s:{t}");
        let reply: Value = redis::cmd("XRANGE")
            .arg(&[&stream, "-", "+"][..])
            .query(&mut con)
            .unwrap();
        let present: HashSet<String> =
            entry_ids(&Value::Array(vec![Value::Array(vec![Value::Nil, reply])]))
                .into_iter()
                .collect();
        for (s, id) in acked.xadds.iter().filter(|(s, _)| *s == stream) {
            assert!(
                present.contains(id),
                "acknowledged XADD {s} {id} is missing"
            );
        }
    }
    let pending: Value = redis::cmd("XPENDING")
        .arg(&["s:0", "g", "-", "+", "1000000"][..])
        .query(&mut con)
        .unwrap();
    let pending: HashSet<String> = match pending {
        Value::Array(entries) => entries
            .iter()
            .filter_map(|e| match e {
                Value::Array(f) => match f.first() {
                    Some(Value::BulkString(id)) => Some(String::from_utf8_lossy(id).into_owned()),
                    _ => None,
                },
                _ => None,
            })
            .collect(),
        _ => HashSet::new(),
    };
    for id in &acked.xacks {
        assert!(!pending.contains(id), "acknowledged XACK of {id} was lost");
    }
}

/// A small xorshift, seeded from the clock and printed, so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn every_acknowledged_write_survives_sigkill_at_a_random_moment() {
    crash_rounds("always", 20);
}

#[test]
fn under_everysec_a_process_crash_loses_nothing_acknowledged_either() {
    crash_rounds("everysec", 10);
}

fn crash_rounds(policy: &str, rounds: usize) {
    let dir = Scratch::new(&format!("crash-{policy}"));
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    let mut rng = Rng(seed);
    let args = [
        "--appendonly",
        "yes",
        "--appendfsync",
        policy,
        "--dir",
        dir.path(),
    ];
    let acked = Arc::new(Mutex::new(Acked::default()));
    let started = Instant::now();
    let mut total_acked = 0;
    for round in 0..rounds {
        let mut server = running(spawn_binary(&args));
        if round == 0 {
            let mut con = connect(server.port).unwrap();
            let _: () = redis::cmd("XGROUP")
                .arg(&["CREATE", "s:0", "g", "0", "MKSTREAM"][..])
                .query(&mut con)
                .unwrap();
        }
        verify(&server, &acked.lock().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let mut clients = Vec::new();
        for t in 0..WRITERS {
            let (acked, stop) = (acked.clone(), stop.clone());
            let port = server.port;
            clients.push(std::thread::spawn(move || {
                writer(port, round, t, acked, stop)
            }));
        }
        let (a, s, port) = (acked.clone(), stop.clone(), server.port);
        clients.push(std::thread::spawn(move || consumer(port, a, s)));
        std::thread::sleep(Duration::from_millis(30 + rng.next() % 220));
        // SIGKILL, to the child this test started, by its PID.
        server.child.kill().expect("kill the server");
        server.child.wait().expect("reap the server");
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            c.join().expect("client thread");
        }
        let a = acked.lock().unwrap();
        total_acked = a.sets.len() + a.xadds.len() + a.xacks.len();
    }
    let server = running(spawn_binary(&args));
    let acked = acked.lock().unwrap();
    verify(&server, &acked);
    eprintln!(
        "{policy}: {rounds} SIGKILL rounds in {:?}: {} SETs, {} XADDs, {} XACKs acknowledged and found; counters {:?}",
        started.elapsed(),
        acked.sets.len(),
        acked.xadds.len(),
        acked.xacks.len(),
        acked.counters
    );
    assert!(total_acked > rounds, "the load did run");
    assert!(!acked.xacks.is_empty(), "the consumer did acknowledge");
}
