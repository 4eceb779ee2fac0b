//! uhttpd: serve a directory over HTTP(S), echo requests at /rpc, receive
//! uploads. `main` parses, resolves, runs; a start-up failure is one line
//! on stderr and a non-zero exit.

mod access_log;
mod acme;
mod app;
mod archive;
mod auth;
mod cli;
mod config;
mod cors;
mod delete;
mod errors;
mod fd_limit;
mod generate;
mod headers;
mod health;
mod lifecycle;
mod metrics;
mod multipart;
mod origin;
mod percent;
mod permissions;
mod pool;
mod rate;
mod redirect;
mod resumable;
mod rpc;
mod served_cert;
mod signals;
mod size;
mod static_files;
mod summary;
mod systemd;
#[cfg(test)]
mod test_support;
mod tls_reload;
mod unix_socket;
mod upload;
mod utc;
mod x509;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use uhttp::EventLoop;

use crate::app::App;
use crate::config::{Startup, WorkerSockets};
use crate::lifecycle::Lifecycle;
use crate::tls_reload::CertWatcher;

/// How long in-flight responses get to finish after SIGTERM/SIGINT.
const GRACE: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    // Hidden, for packagers: `uhttpd --generate-files DIR` writes the man
    // page and shell completions under DIR, then exits.
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|arg| arg == "--generate-files") {
        let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
        return match generate::write_all(&dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => fail(format!(
                "cannot write generated files under {}: {err}",
                dir.display()
            )),
        };
    }

    let settings = match cli::resolve() {
        Ok(settings) => settings,
        Err(msg) => return fail(msg),
    };
    init_logging(settings.log_level(), settings.log_format.is_bare());
    let activated = match systemd::activated_listeners() {
        Ok(activated) => activated,
        Err(msg) => return fail(msg),
    };
    let startup = match Startup::new(&settings, activated) {
        Ok(startup) => startup,
        Err(e) => return fail(e.to_string()),
    };
    match run(startup, &settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => fail(msg),
    }
}

fn fail(msg: String) -> ExitCode {
    eprintln!("uhttpd: {msg}");
    ExitCode::FAILURE
}

/// `RUST_LOG` when set, else the level from `-q`/`-v`. With `bare_access`
/// (`--log-format common|combined|json`), access-log records are written
/// as their message alone, for programs to read.
fn init_logging(level: log::LevelFilter, bare_access: bool) {
    let mut builder = env_logger::Builder::new();
    builder.filter_level(level);
    let mut format = env_logger::fmt::ConfigurableFormat::default();
    format.target(false);
    builder.format(move |buf, record| {
        if bare_access && record.target() == "access" {
            use std::io::Write;
            writeln!(buf, "{}", record.args())
        } else {
            format.format(buf, record)
        }
    });
    // rustls warns about what peers send, e.g. an IP address as SNI (wrk
    // and older clients do that on every connection): the peer's business,
    // shown from debug level on.
    if level < log::LevelFilter::Debug {
        builder.filter_module("rustls", level.min(log::LevelFilter::Error));
    }
    if let Ok(spec) = std::env::var("RUST_LOG") {
        builder.parse_filters(&spec);
    }
    builder.init();
}

fn run(startup: Startup, settings: &cli::Settings) -> Result<(), String> {
    let Startup {
        app,
        config,
        redirect_config,
        workers,
        tls,
        banner,
        summary,
        lifecycle,
        served_cert,
        health,
        unix,
        acme,
    } = startup;

    let mut loops = Vec::with_capacity(workers.len());
    for sockets in workers {
        loops.push(make_loop(sockets, &config, &redirect_config).map_err(|e| e.to_string())?);
    }
    let watcher = match (&tls, settings.tls(), served_cert.clone()) {
        (Some(tls), Some(files), Some(served)) => Some(Arc::new(
            CertWatcher::spawn(files.cert, files.key, tls.clone(), served)
                .map_err(|e| format!("cannot watch the certificate files: {e}"))?,
        )),
        _ => None,
    };
    if let (Some((acme, kind)), Some(served)) = (acme, served_cert.clone()) {
        acme.spawn(kind, served)
            .map_err(|e| format!("cannot start the ACME thread: {e}"))?;
    }
    let handles: Vec<_> = loops.iter().map(EventLoop::handle).collect();
    if let Some(health) = &health {
        health.set_loops(handles.clone());
    }
    if let Some(addr) = settings.metrics {
        let listener = metrics::Listener::bind(addr)
            .map_err(|e| format!("cannot listen for --metrics on {addr}: {e}"))?;
        log::info!("metrics on http://{}/metrics", listener.local_addr());
        let sources = metrics::Sources {
            loops: handles.clone(),
            cert: served_cert.clone(),
            resumable: app.resumable.clone(),
        };
        listener
            .spawn(sources)
            .map_err(|e| format!("cannot start the metrics thread: {e}"))?;
    }
    signals::spawn(
        Arc::clone(&lifecycle),
        settings.drain,
        handles,
        watcher.clone(),
    )
    .map_err(|e| format!("cannot install signal handlers: {e}"))?;

    for line in &banner {
        println!("{line}");
    }
    for line in &summary {
        log::info!("{line}");
    }
    log::info!("uhttpd {} started", env!("CARGO_PKG_VERSION"));
    systemd::ready(banner.first().map_or("serving", String::as_str));

    let app = Arc::new(app);
    let mut threads = Vec::new();
    let mut loops = loops.into_iter();
    // unwrap: there is always at least one worker.
    let first = loops.next().unwrap();
    for (n, event_loop) in loops.enumerate() {
        let (app, lifecycle) = (Arc::clone(&app), Arc::clone(&lifecycle));
        let thread = std::thread::Builder::new()
            // The first worker is this thread: thread `worker-N` serves
            // the loop the metrics label `worker="N"`.
            .name(format!("worker-{}", n + 2))
            .spawn(move || serve(event_loop, &app, &lifecycle))
            .map_err(|e| format!("cannot start a worker thread: {e}"))?;
        threads.push(thread);
    }
    let mut result = serve(first, &app, &lifecycle);
    for thread in threads {
        match thread.join() {
            Ok(r) => result = result.and(r),
            Err(_) => result = Err("a worker thread panicked".into()),
        }
    }
    drop(watcher);
    drop(unix);
    log::info!("stopped");
    result
}

fn make_loop(
    sockets: WorkerSockets,
    config: &uhttp::Config,
    redirect_config: &uhttp::Config,
) -> Result<EventLoop, uhttp::Error> {
    let mut event_loop = EventLoop::new()?;
    let main = event_loop.add_listeners(sockets.main, config.clone())?;
    if let Some(unix) = sockets.unix {
        event_loop.add_unix_listener(main, unix)?;
    }
    if !sockets.redirect.is_empty() {
        event_loop.add_listeners(sockets.redirect, redirect_config.clone())?;
    }
    Ok(event_loop)
}

/// One worker's loop: serve until stopped (through a drain, if one was
/// asked for: the loop wakes when it ends), then let responses in flight
/// finish for up to `GRACE`.
fn serve(mut event_loop: EventLoop, app: &Arc<App>, lifecycle: &Lifecycle) -> Result<(), String> {
    const TICK: Duration = Duration::from_secs(1);
    let mut stopping_since: Option<Instant> = None;
    loop {
        if stopping_since.is_none() && lifecycle.should_stop() {
            event_loop.shutdown();
            stopping_since = Some(Instant::now());
        }
        let timeout = match (stopping_since, lifecycle.drain_ends()) {
            (None, Some(until)) => until.saturating_duration_since(Instant::now()).min(TICK),
            _ => TICK,
        };
        if let Some(since) = stopping_since {
            if event_loop.connections() == 0 {
                return Ok(());
            }
            if since.elapsed() >= GRACE {
                log::warn!(
                    "grace period over: closing {} connections",
                    event_loop.connections()
                );
                return Ok(());
            }
        }
        match event_loop.wait(Some(timeout)) {
            Ok(Some(event)) => app.handle(event),
            Ok(None) => {}
            Err(e) => return Err(format!("poll loop failed: {e}")),
        }
    }
}
