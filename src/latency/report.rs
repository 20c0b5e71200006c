//! LATENCY DOCTOR's report and LATENCY GRAPH's page, in Redis's words (`createLatencyReport`,
//! `latencyCommandGenSparkeline`): tools and people paste them into bug reports, and the
//! advice names Redis's own settings, which Herald reads the same way.

use std::fmt::Write as _;

use super::monitor::TimeSeries;
use super::sparkline;

/// What the advice depends on besides the samples.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    pub threshold_ms: u64,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    pub hz: u64,
    pub appendfsync_always: bool,
    /// The process has transparent huge pages (`AnonHugePages` in its smaps).
    pub huge_pages: bool,
}

/// The pieces of advice, in the order the report gives them.
#[derive(Debug, Default)]
struct Advice {
    slowlog_enabled: bool,
    slowlog_tuning: bool,
    slowlog_inspect: bool,
    scheduler: bool,
    local_disk: bool,
    ssd: bool,
    data_writeback: bool,
    disk_contention: bool,
    no_appendfsync: bool,
    relax_fsync_policy: bool,
    write_load_info: bool,
    hz: bool,
    large_objects: bool,
    disable_thp: bool,
    /// How many were given, counted as Redis counts them (some twice).
    count: u32,
}

pub fn doctor(events: &[(String, TimeSeries)], setup: Setup, now_s: u64) -> String {
    if events.is_empty() && setup.threshold_ms == 0 {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".to_owned();
    }
    let mut report = String::new();
    let mut advice = Advice::default();
    for (n, (event, series)) in events.iter().enumerate() {
        if n == 0 {
            report.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        }
        let a = series.analysis(now_s);
        let _ = write!(
            report,
            "{}. {event}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
            n + 1,
            a.samples,
            a.avg,
            a.mad,
            a.period as f64 / a.samples.max(1) as f64,
            series.max
        );
        advise_for(&event.to_ascii_lowercase(), setup, &mut advice);
        report.push('\n');
    }
    if setup.huge_pages {
        advice.disable_thp = true;
        advice.count += 1;
    }
    if events.is_empty() && advice.count == 0 {
        report.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
    } else if !events.is_empty() && advice.count == 0 {
        report.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
    } else {
        report.push_str("\nI have a few advices for you:\n\n");
        write_advice(&mut report, &advice, setup);
    }
    report
}

fn advise_for(event: &str, setup: Setup, a: &mut Advice) {
    match event {
        "command" => {
            if setup.slowlog_log_slower_than < 0 || setup.slowlog_max_len == 0 {
                a.slowlog_enabled = true;
                a.count += 1;
            } else if setup.slowlog_log_slower_than / 1000 > setup.threshold_ms as i64 {
                a.slowlog_tuning = true;
                a.count += 1;
            }
            a.slowlog_inspect = true;
            a.large_objects = true;
            a.count += 2;
        }
        "fast-command" => {
            a.scheduler = true;
            a.count += 1;
        }
        "aof-write-pending-fsync" => {
            (a.local_disk, a.disk_contention, a.ssd, a.data_writeback) = (true, true, true, true);
            a.count += 4;
        }
        "aof-write-active-child" => {
            (a.no_appendfsync, a.data_writeback, a.ssd) = (true, true, true);
            a.count += 3;
        }
        "aof-write-alone" => {
            (a.local_disk, a.data_writeback, a.ssd) = (true, true, true);
            a.count += 3;
        }
        "aof-fsync-always" => {
            a.relax_fsync_policy = true;
            a.count += 1;
        }
        "aof-fstat" | "rdb-unlink-temp-file" => {
            (a.disk_contention, a.local_disk) = (true, true);
            a.count += 2;
        }
        "aof-rewrite-diff-write" | "aof-rename" => {
            (a.write_load_info, a.data_writeback, a.ssd, a.local_disk) = (true, true, true, true);
            a.count += 4;
        }
        "expire-cycle" => {
            (a.hz, a.large_objects) = (true, true);
            a.count += 2;
        }
        _ => {}
    }
}

fn write_advice(report: &mut String, a: &Advice, setup: Setup) {
    let threshold_us = setup.threshold_ms.saturating_mul(1000);
    if a.slowlog_enabled {
        let _ = writeln!(report, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {threshold_us}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.");
    }
    if a.slowlog_tuning {
        let _ = writeln!(report, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {threshold_us}'.");
    }
    // The rest are fixed texts, each given when its condition holds, in this order.
    let fixed: [(bool, &str); 12] = [
        (
            a.slowlog_inspect,
            "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.",
        ),
        (
            a.scheduler,
            "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.",
        ),
        (
            a.local_disk,
            "- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.",
        ),
        (
            a.ssd,
            "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.",
        ),
        (
            a.data_writeback,
            "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.",
        ),
        (
            a.disk_contention,
            "- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).",
        ),
        (
            a.no_appendfsync,
            "- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).",
        ),
        (
            a.relax_fsync_policy && setup.appendfsync_always,
            "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.",
        ),
        (
            a.write_load_info,
            "- Latency during the AOF atomic rename operation or when the final difference is flushed to the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF buffer to get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to group multiple operations into a single EVALSHA call.",
        ),
        (
            a.hz && setup.hz < 100,
            "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.",
        ),
        (
            a.large_objects,
            "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.",
        ),
        (
            a.disable_thp,
            "- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.",
        ),
    ];
    for (given, text) in fixed {
        if given {
            report.push_str(text);
            report.push('\n');
        }
    }
}

/// LATENCY GRAPH's page: a title line, a rule, and the sparkline of the samples, each
/// labelled with its age (`12s`, `3m`, `2h`, `1d`).
pub fn graph(event: &str, series: &TimeSeries, now_s: u64) -> String {
    let samples: Vec<(f64, String)> = series
        .samples()
        .map(|s| (s.ms as f64, age(now_s.saturating_sub(s.time))))
        .collect();
    let high = series.samples().map(|s| s.ms).max().unwrap_or(0);
    let low = series.samples().map(|s| s.ms).min().unwrap_or(0);
    let mut page = format!(
        "{event} - high {high} ms, low {low} ms (all time high {} ms)\n{}\n",
        series.max,
        "-".repeat(GRAPH_COLUMNS)
    );
    page.push_str(&sparkline::render(&samples, GRAPH_COLUMNS, 4));
    page
}

const GRAPH_COLUMNS: usize = 80;

fn age(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// Whether this process has transparent huge pages, as Redis checks before advising to turn
/// them off.
pub fn has_huge_pages() -> bool {
    std::fs::read_to_string("/proc/self/smaps_rollup")
        .map(|smaps| {
            smaps.lines().any(|line| {
                line.strip_prefix("AnonHugePages:")
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|kb| kb.parse::<u64>().ok())
                    .is_some_and(|kb| kb > 0)
            })
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::monitor::Monitor;

    fn setup() -> Setup {
        Setup {
            threshold_ms: 100,
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            hz: 10,
            appendfsync_always: false,
            huge_pages: false,
        }
    }

    #[test]
    fn a_disabled_monitor_says_so() {
        let off = Setup {
            threshold_ms: 0,
            ..setup()
        };
        assert!(doctor(&[], off, 0).starts_with("I'm sorry, Dave, I can't do that."));
        assert!(doctor(&[], setup(), 0).starts_with("Dave, no latency spike was observed"));
    }

    #[test]
    fn events_are_numbered_and_advised_on() {
        let m = Monitor::default();
        m.set_threshold(1);
        m.observe("command", std::time::Duration::from_millis(250));
        m.observe("expire-cycle", std::time::Duration::from_millis(3));
        let now = crate::keyspace::now_ms() / 1000;
        let report = doctor(&m.events(), setup(), now + 9);
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines[0], "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?");
        assert!(
            lines[2].starts_with(
                "1. command: 1 latency spikes (average 250ms, mean deviation 0ms, period 9."
            ) && lines[2].ends_with(" sec). Worst all time event 250ms."),
            "{}",
            lines[2]
        );
        assert!(lines[3].starts_with("2. expire-cycle: 1 latency spikes (average 3ms"));
        assert_eq!(lines[5], "I have a few advices for you:");
        assert!(lines[7].starts_with("- Check your Slow Log"));
        assert!(lines[8].starts_with("- In order to make the Redis keys expiring process"));
        assert!(lines[9].starts_with("- Deleting, expiring or evicting"));
        assert_eq!(lines.len(), 10);
    }

    #[test]
    fn the_graph_has_a_title_a_rule_and_ages() {
        let m = Monitor::default();
        m.set_threshold(1);
        m.observe("command", std::time::Duration::from_millis(12));
        let now = crate::keyspace::now_ms() / 1000;
        let series = m.event(b"command").unwrap();
        let page = graph("command", &series, now + 75);
        let lines: Vec<&str> = page.lines().collect();
        assert_eq!(
            lines[0],
            "command - high 12 ms, low 12 ms (all time high 12 ms)"
        );
        assert_eq!(lines[1], "-".repeat(80));
        assert_eq!(&lines[2..], [" ", " ", " ", "_", " ", "1", "m"]);
        assert_eq!(
            (age(59), age(3599), age(7200), age(200_000)),
            ("59s".into(), "59m".into(), "2h".into(), "2d".into())
        );
    }
}
