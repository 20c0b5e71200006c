//! The `herald` binary: parse options as redis-server does, bind, serve until SIGINT/SIGTERM.

use anyhow::Context;
use herald::config::Options;
use herald::server::Server;
use herald::supervision;

/// Requests allocate many small, short-lived buffers; glibc's malloc spent a fifth of a
/// pipelined XADD consolidating them (perf). Redis ships with jemalloc for the same reason.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long mimalloc keeps freed memory before giving it back to the system, in milliseconds.
/// mimalloc 3 waits a second (its `purge_delay`), and it gives memory back only from inside
/// its own calls: a server that goes quiet after a flood (a slow subscriber dropped at its
/// output limit) kept its peak RSS for good — the slow-subscriber test found it at the peak
/// five seconds later, 5 MB → 46-58 MB. At 100 ms it returns to 11-18 MB. 10 ms (mimalloc
/// 2.s default) returned a little more (7-15 MB) but cost 3 % of XADD under `appendfsync
/// always` (benchmark A/B, two runs); at 100 ms that and the fan-out, slow-subscriber, memory
/// and XADD benchmarks are unchanged within noise.
const PURGE_DELAY_MS: &str = "100";

/// mimalloc reads its options from the environment when it starts, before `main`; without
/// unsafe code (`mi_option_set`) the way to set one is to start again with it set. `exec`
/// keeps the process id, arguments and descriptors. A delay the user set is kept; if the
/// binary cannot be started again, Herald runs with the default.
fn with_allocator_options() {
    use std::os::unix::process::CommandExt;
    const VAR: &str = "MIMALLOC_PURGE_DELAY";
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    let error = command.args(args).env(VAR, PURGE_DELAY_MS).exec();
    eprintln!("Could not restart with {VAR}={PURGE_DELAY_MS} ({error}); using the default");
}

fn main() -> anyhow::Result<()> {
    with_allocator_options();
    let options = match Options::from_args(std::env::args_os()) {
        Ok(options) => options,
        Err(message) => {
            // clap prints --help and --version through the same path; they are not errors.
            let is_info = message.starts_with("A Redis-protocol") || message.starts_with("herald ");
            if is_info {
                print!("{message}");
                std::process::exit(0);
            }
            eprintln!("{message}");
            std::process::exit(1);
        }
    };
    if supervision::should_daemonize(&options) {
        supervision::start_in_background().context("daemonizing")?;
        return Ok(());
    }
    supervision::detach_if_daemonized();
    let mut options = options;
    init_logging(&options)?;
    let pidfile = supervision::pidfile(&options);
    if let Some(path) = &pidfile {
        if let Err(e) = supervision::write_pidfile(std::path::Path::new(path)) {
            tracing::warn!("Failed to write PID file {path}: {e}");
        }
        // CONFIG GET pidfile shows the file written, Redis's default included.
        options.directives.push(("pidfile", path.clone()));
    }
    // A work-stealing runtime even on one core: measured against a current-thread runtime
    // pinned to one core, it delivered 7x more fan-out to 1000 subscribers and no less
    // elsewhere (benches/, 2026-11-23).
    herald::persistence::aof::install_idle_hook();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(herald::persistence::aof::before_park)
        .build()
        .context("starting the runtime")?;
    let served = runtime.block_on(async move {
        let shutdown = shutdown_signal();
        let server = match Server::bind(options).await {
            Ok(server) => server,
            Err(e) => {
                // Redis's last words when it cannot listen, logged, then exit status 1.
                tracing::warn!("{e}");
                return Ok(false);
            }
        };
        // Logs "ready to accept connections" once the append only file is loaded.
        if let Err(e) = server.run(shutdown).await {
            tracing::error!("{e}");
            return Err(e).context("loading the append only file");
        }
        anyhow::Ok(true)
    });
    if let Some(path) = pidfile {
        let _ = std::fs::remove_file(path);
    }
    if !served? {
        std::process::exit(1);
    }
    Ok(())
}

fn init_logging(options: &Options) -> anyhow::Result<()> {
    let level = match options.loglevel.as_str() {
        "debug" => tracing::Level::DEBUG,
        "verbose" => tracing::Level::INFO,
        "notice" => tracing::Level::INFO,
        "warning" => tracing::Level::WARN,
        _ => tracing::Level::ERROR,
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false);
    if options.logfile.is_empty() {
        builder.init();
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&options.logfile)
            .with_context(|| format!("opening logfile {}", options.logfile))?;
        builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .init();
    }
    Ok(())
}

/// Resolves on the first SIGINT or SIGTERM. The handlers are installed here, when called
/// (before the server binds), not when the future is first polled: whatever saw the server
/// ready (its log line, a supervisor) may stop it at once, and a SIGTERM arriving before the
/// handlers would kill the process without a clean shutdown.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        let (Ok(mut interrupt), Ok(mut terminate)) = (interrupt, terminate) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = interrupt.recv() => tracing::warn!("Received SIGINT scheduling shutdown..."),
            _ = terminate.recv() => tracing::warn!("Received SIGTERM scheduling shutdown..."),
        }
    }
}
