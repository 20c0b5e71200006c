//! LATENCY: the latency monitor's events (LATEST, HISTORY, RESET, DOCTOR, GRAPH) and the
//! per-command histograms (HISTOGRAM), replied as Redis's `latencyCommand` replies them.

use bytes::Bytes;

use super::connection::help;
use super::table::{Entry, Lookup};
use crate::error::{CommandError, CommandResult};
use crate::latency::{histogram::Snapshot, report};
use crate::protocol::Reply;
use crate::state::ServerState;
use std::sync::atomic::Ordering::Relaxed;

/// # Format: LATENCY LATEST | HISTORY event | RESET [event ...] | DOCTOR | GRAPH event |
/// HISTOGRAM [command ...] | HELP
#[derive(Debug)]
pub enum LatencyCommand {
    Latest,
    History(Bytes),
    Reset(Vec<Bytes>),
    Doctor,
    Graph(Bytes),
    /// The commands named (`None`: every command called so far).
    Histogram(Option<Vec<Bytes>>),
    Help,
}

impl LatencyCommand {
    /// Parses `LATENCY <sub> ...`; the table checked the subcommand and its arity.
    pub fn parse(sub: &str, a: &[Bytes]) -> LatencyCommand {
        match sub {
            "latest" => LatencyCommand::Latest,
            "history" => LatencyCommand::History(a[2].clone()),
            "reset" => LatencyCommand::Reset(a[2..].to_vec()),
            "doctor" => LatencyCommand::Doctor,
            "graph" => LatencyCommand::Graph(a[2].clone()),
            "histogram" => LatencyCommand::Histogram((a.len() > 2).then(|| a[2..].to_vec())),
            "help" => LatencyCommand::Help,
            _ => unreachable!("latency subcommand {sub} has no parser"),
        }
    }

    pub fn execute(self, state: &ServerState, out: &mut Reply) -> CommandResult {
        let monitor = &state.latency;
        let now_s = crate::keyspace::now_ms() / 1000;
        match self {
            LatencyCommand::Latest => {
                let events = monitor.events();
                out.array(events.len());
                for (event, series) in events {
                    let latest = series.latest();
                    out.array(4);
                    out.bulk(event.as_bytes());
                    out.int(latest.time as i64);
                    out.int(latest.ms as i64);
                    out.int(series.max as i64);
                }
            }
            LatencyCommand::History(event) => {
                let samples: Vec<_> = monitor
                    .event(&event)
                    .map(|series| series.samples().collect())
                    .unwrap_or_default();
                out.array(samples.len());
                for sample in samples {
                    out.array(2);
                    out.int(sample.time as i64);
                    out.int(sample.ms as i64);
                }
            }
            LatencyCommand::Reset(events) => {
                let names: Vec<&[u8]> = events.iter().map(|e| &e[..]).collect();
                out.int(monitor.reset(&names) as i64);
            }
            LatencyCommand::Doctor => {
                let settings = &state.settings;
                let setup = report::Setup {
                    threshold_ms: monitor.threshold(),
                    slowlog_log_slower_than: settings.slowlog_log_slower_than.load(Relaxed),
                    slowlog_max_len: settings.slowlog_max_len.load(Relaxed),
                    hz: settings.hz.load(Relaxed),
                    appendfsync_always: settings.appendfsync()
                        == crate::config::FsyncPolicy::Always,
                    huge_pages: report::has_huge_pages(),
                };
                out.verbatim(report::doctor(&monitor.events(), setup, now_s).as_bytes());
            }
            LatencyCommand::Graph(event) => {
                let Some(series) = monitor.event(&event) else {
                    return Err(CommandError::err(format!(
                        "No samples available for event '{}'",
                        String::from_utf8_lossy(&event)
                    )));
                };
                let name = String::from_utf8_lossy(&event);
                out.verbatim(report::graph(&name, &series, now_s).as_bytes());
            }
            LatencyCommand::Histogram(names) => {
                let histograms = match names {
                    None => with_histograms(state.commands.entries()),
                    Some(names) => names
                        .iter()
                        .flat_map(|name| with_histograms(named(state, name)))
                        .collect(),
                };
                out.map(histograms.len());
                for (entry, histogram) in histograms {
                    out.bulk(entry.spec.name.as_bytes());
                    distribution(out, &histogram);
                }
            }
            LatencyCommand::Help => help(
                out,
                "LATENCY",
                &[
                    "DOCTOR",
                    "    Return a human readable latency analysis report.",
                    "GRAPH <event>",
                    "    Return an ASCII latency graph for the <event> class.",
                    "HISTORY <event>",
                    "    Return time-latency samples for the <event> class.",
                    "LATEST",
                    "    Return the latest latency samples for all events.",
                    "RESET [<event> ...]",
                    "    Reset latency data of one or more <event> classes.",
                    "    (default: reset all data for all event classes)",
                    "HISTOGRAM [COMMAND ...]",
                    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
                    "    If no commands are specified then all histograms are replied.",
                ],
            ),
        }
        Ok(())
    }
}

/// The entries among `entries` that were called, with their histograms.
fn with_histograms(entries: &[Entry]) -> Vec<(&Entry, Snapshot)> {
    entries
        .iter()
        .filter_map(|e| e.stats.latency.snapshot().map(|h| (e, h)))
        .collect()
}

/// What a name given to LATENCY HISTOGRAM covers, as Redis's `lookupCommandBySds` finds it:
/// a command and its subcommands, or one subcommand named `container|sub`; nothing for a
/// name that is neither.
fn named<'a>(state: &'a ServerState, name: &[u8]) -> &'a [Entry] {
    let parts = super::server::name_args(name);
    if parts.len() > 2 {
        return &[];
    }
    match state.commands.lookup_client(&parts) {
        Lookup::Found(entry) if parts.len() == 2 && !entry.spec.name.contains('|') => &[],
        Lookup::Found(entry) if parts.len() == 2 => std::slice::from_ref(entry),
        Lookup::Found(entry) => state.commands.with_subcommands(entry),
        _ => &[],
    }
}

/// One command's `calls` and `histogram_usec` map.
fn distribution(out: &mut Reply, histogram: &Snapshot) {
    out.map(2);
    out.bulk(b"calls");
    out.int(histogram.total() as i64);
    out.bulk(b"histogram_usec");
    let levels = histogram.cumulative_micros();
    out.map(levels.len());
    for (micros, calls) in levels {
        out.int(micros as i64);
        out.int(calls as i64);
    }
}
