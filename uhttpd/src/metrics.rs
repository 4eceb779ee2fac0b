//! `--metrics ADDR`: Prometheus metrics on a listener of their own.
//!
//! `GET /metrics` answers the text exposition format 0.0.4. The format is
//! a few lines per series, so it is written here rather than through a
//! crate: `prometheus-client` would bring its registry and encoder for
//! what is a dozen atomics and one `write!` each.
//!
//! Counts are process-wide atomics ([`METRICS`]), bumped without a lock:
//! requests, statuses, bytes and durations from the access-log hook (one
//! [`uhttp::Completed`] per exchange), certificate reloads from the reload
//! thread. Open and accepted connections and TLS handshakes are read
//! from the workers' loops, per worker (label `worker`, from `"1"`), and
//! the certificate's expiry from [`ServedCert`], when scraped. Requests
//! and bytes stay process-wide: the access-log hook that feeds them is
//! shared by the workers and does not say which one served.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use uhttp::{Completed, Event, HttpServer, LoopHandle, RequestError, Response};

use crate::resumable::Resumable;
use crate::served_cert::ServedCert;

/// The methods counted by name; any other is `OTHER`.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "OTHER",
];

/// Status classes `1xx` to `5xx`; anything else (a refused request with
/// no status) is not counted by class.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Upper bounds of the duration histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Every count, as atomics: written from every worker, read when scraped.
#[derive(Debug)]
pub struct Metrics {
    requests: [[AtomicU64; CLASSES.len()]; METHODS.len()],
    request_bytes: AtomicU64,
    response_bytes: AtomicU64,
    /// Per bucket (not cumulative: summed when written), then `+Inf`.
    duration_buckets: [AtomicU64; BUCKETS.len() + 1],
    /// Sum of durations in microseconds.
    duration_micros: AtomicU64,
    cert_reloads: AtomicU64,
    cert_reload_failures: AtomicU64,
    uploads_started: AtomicU64,
    uploads_completed: AtomicU64,
    uploads_failed: AtomicU64,
    uploads_in_progress: AtomicU64,
    /// Requests refused by `--rate-limit`.
    rate_limited: AtomicU64,
}

/// The one set of counts of the process.
pub static METRICS: Metrics = Metrics::new();

impl Metrics {
    const fn new() -> Metrics {
        #[allow(clippy::declare_interior_mutable_const)]
        const ZERO: AtomicU64 = AtomicU64::new(0);
        #[allow(clippy::declare_interior_mutable_const)]
        const ROW: [AtomicU64; CLASSES.len()] = [ZERO; CLASSES.len()];
        Metrics {
            requests: [ROW; METHODS.len()],
            request_bytes: ZERO,
            response_bytes: ZERO,
            duration_buckets: [ZERO; BUCKETS.len() + 1],
            duration_micros: ZERO,
            cert_reloads: ZERO,
            cert_reload_failures: ZERO,
            uploads_started: ZERO,
            uploads_completed: ZERO,
            uploads_failed: ZERO,
            uploads_in_progress: ZERO,
            rate_limited: ZERO,
        }
    }

    /// Counts one finished exchange (from the access-log hook).
    pub fn record(&self, done: &Completed<'_>) {
        let method = done.method().unwrap_or("OTHER");
        let m = METHODS
            .iter()
            .position(|&known| known == method)
            .unwrap_or(METHODS.len() - 1);
        let class = usize::from(done.status() / 100);
        if let Some(row) = class.checked_sub(1).and_then(|c| self.requests[m].get(c)) {
            row.fetch_add(1, Ordering::Relaxed);
        }
        let received = done.request().map_or(0, |req| req.bytes_received());
        self.request_bytes.fetch_add(received, Ordering::Relaxed);
        self.response_bytes
            .fetch_add(done.body_bytes(), Ordering::Relaxed);
        self.observe(done.duration());
        if let Some(RequestError::RateLimited { .. }) = done.refused() {
            self.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn observe(&self, duration: Duration) {
        let secs = duration.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|&le| secs <= le)
            .unwrap_or(BUCKETS.len());
        self.duration_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        self.duration_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Counts one successful certificate reload.
    pub fn cert_reloaded(&self) {
        self.cert_reloads.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one failed certificate reload (the previous one still served).
    pub fn cert_reload_failed(&self) {
        self.cert_reload_failures.fetch_add(1, Ordering::Relaxed);
    }
}

/// One file being uploaded (`PUT`, or one file of a form), as the
/// metrics count it: started when made, in progress until dropped, failed
/// when dropped before [`UploadTally::completed`] (refused, cut short,
/// not stored).
#[derive(Debug)]
pub struct UploadTally {
    completed: bool,
}

impl UploadTally {
    pub fn start() -> UploadTally {
        METRICS.uploads_started.fetch_add(1, Ordering::Relaxed);
        METRICS.uploads_in_progress.fetch_add(1, Ordering::Relaxed);
        UploadTally { completed: false }
    }

    /// The file is stored under its name.
    pub fn completed(mut self) {
        self.completed = true;
        METRICS.uploads_completed.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for UploadTally {
    fn drop(&mut self) {
        METRICS.uploads_in_progress.fetch_sub(1, Ordering::Relaxed);
        if !self.completed {
            METRICS.uploads_failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// What a scrape reads besides [`METRICS`].
#[derive(Debug, Default)]
pub struct Sources {
    /// Every worker's loop, in worker order: connections and TLS handshakes.
    pub loops: Vec<LoopHandle>,
    /// The served certificate; `None` without TLS.
    pub cert: Option<Arc<ServedCert>>,
    /// Resumable uploads; `None` without `--upload-dir`.
    pub resumable: Option<Resumable>,
}

/// The text exposition (format 0.0.4) of `metrics` and `sources`.
pub fn render(metrics: &Metrics, sources: &Sources) -> String {
    let mut out = String::with_capacity(4096);
    // Writing to a String cannot fail: the results are ignored.
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);

    header(&mut out, "uhttpd_build_info", "gauge", "Build of uhttpd");
    let _ = writeln!(
        out,
        "uhttpd_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );

    header(
        &mut out,
        "uhttpd_requests_total",
        "counter",
        "Responses finished, by request method and status class",
    );
    for (m, method) in METHODS.iter().enumerate() {
        for (c, class) in CLASSES.iter().enumerate() {
            let n = get(&metrics.requests[m][c]);
            let _ = writeln!(
                out,
                "uhttpd_requests_total{{method=\"{method}\",status=\"{class}\"}} {n}"
            );
        }
    }

    header(
        &mut out,
        "uhttpd_request_body_bytes_total",
        "counter",
        "Request body bytes received",
    );
    let _ = writeln!(
        out,
        "uhttpd_request_body_bytes_total {}",
        get(&metrics.request_bytes)
    );
    header(
        &mut out,
        "uhttpd_response_body_bytes_total",
        "counter",
        "Response body bytes written",
    );
    let _ = writeln!(
        out,
        "uhttpd_response_body_bytes_total {}",
        get(&metrics.response_bytes)
    );

    let name = "uhttpd_request_duration_seconds";
    header(
        &mut out,
        name,
        "histogram",
        "Time from the request's first byte to the response's end",
    );
    let mut cumulative = 0;
    for (bucket, le) in metrics.duration_buckets.iter().zip(BUCKETS) {
        cumulative += get(bucket);
        let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
    }
    cumulative += get(&metrics.duration_buckets[BUCKETS.len()]);
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
    let sum = get(&metrics.duration_micros) as f64 / 1e6;
    let _ = writeln!(out, "{name}_sum {sum}");
    let _ = writeln!(out, "{name}_count {cumulative}");

    for (name, help, value) in [
        (
            "uhttpd_uploads_started_total",
            "Uploaded files begun (PUT, or each file of a form)",
            &metrics.uploads_started,
        ),
        (
            "uhttpd_uploads_completed_total",
            "Uploaded files stored under their name",
            &metrics.uploads_completed,
        ),
        (
            "uhttpd_uploads_failed_total",
            "Uploaded files refused, cut short or not stored",
            &metrics.uploads_failed,
        ),
        (
            "uhttpd_rate_limited_total",
            "Requests answered 429 by --rate-limit",
            &metrics.rate_limited,
        ),
    ] {
        header(&mut out, name, "counter", help);
        let _ = writeln!(out, "{name} {}", get(value));
    }
    header(
        &mut out,
        "uhttpd_uploads_in_progress",
        "gauge",
        "Uploaded files being received now",
    );
    let _ = writeln!(
        out,
        "uhttpd_uploads_in_progress {}",
        get(&metrics.uploads_in_progress)
    );

    if let Some(resumable) = &sources.resumable {
        header(
            &mut out,
            "uhttpd_resumable_uploads_open",
            "gauge",
            "Resumable uploads begun and not complete",
        );
        let _ = writeln!(
            out,
            "uhttpd_resumable_uploads_open {}",
            resumable.open_count()
        );
    }

    // Per worker (each loop counts its own): `sum()` gives the totals.
    per_worker(
        &mut out,
        "uhttpd_open_connections",
        "gauge",
        "Connections open now",
        &sources.loops,
        |l| l.connections() as u64,
    );
    per_worker(
        &mut out,
        "uhttpd_connections_total",
        "counter",
        "Connections accepted",
        &sources.loops,
        LoopHandle::accepted,
    );
    if sources.cert.is_some() {
        per_worker(
            &mut out,
            "uhttpd_tls_handshakes_total",
            "counter",
            "TLS handshakes completed",
            &sources.loops,
            LoopHandle::tls_handshakes,
        );
        per_worker(
            &mut out,
            "uhttpd_tls_handshake_failures_total",
            "counter",
            "TLS handshakes failed: a TLS error or alert, or the connection \
             closed after the client's first byte and before completion",
            &sources.loops,
            LoopHandle::tls_handshake_failures,
        );
    }

    header(
        &mut out,
        "uhttpd_certificate_reloads_total",
        "counter",
        "Successful reloads of the certificate",
    );
    let _ = writeln!(
        out,
        "uhttpd_certificate_reloads_total {}",
        get(&metrics.cert_reloads)
    );

    header(
        &mut out,
        "uhttpd_certificate_reload_failures_total",
        "counter",
        "Failed reloads of the certificate (the previous one is still served)",
    );
    let _ = writeln!(
        out,
        "uhttpd_certificate_reload_failures_total {}",
        get(&metrics.cert_reload_failures)
    );

    let not_after = sources.cert.as_ref().and_then(|c| c.get()).and_then(|s| {
        s.not_after
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs())
    });
    if let Some(secs) = not_after {
        header(
            &mut out,
            "uhttpd_certificate_not_after_timestamp_seconds",
            "gauge",
            "When the served certificate expires, as a Unix time",
        );
        let _ = writeln!(out, "uhttpd_certificate_not_after_timestamp_seconds {secs}");
    }
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// One series per worker, `worker="1"` for the first loop.
fn per_worker(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    loops: &[LoopHandle],
    value: impl Fn(&LoopHandle) -> u64,
) {
    header(out, name, kind, help);
    for (n, handle) in loops.iter().enumerate() {
        let _ = writeln!(out, "{name}{{worker=\"{}\"}} {}", n + 1, value(handle));
    }
}

/// The metrics listener, bound: [`Listener::spawn`] serves it on a
/// thread of its own (a scrape never waits on the workers).
pub struct Listener {
    server: HttpServer,
}

impl Listener {
    pub fn bind(addr: SocketAddr) -> Result<Listener, uhttp::Error> {
        Ok(Listener {
            server: HttpServer::bind(addr)?,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Serves `GET /metrics` until the process ends.
    pub fn spawn(mut self, sources: Sources) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || {
                loop {
                    match self.server.wait(None) {
                        Ok(Some(Event::Request(req))) => {
                            let _ = req.send(answer(req.method(), req.url(), &sources));
                        }
                        Ok(_) => {}
                        Err(e) => {
                            log::error!("metrics listener failed: {e}");
                            return;
                        }
                    }
                }
            })
            .map(drop)
    }
}

fn answer(method: &str, url: &str, sources: &Sources) -> Response {
    if uhttp::util::split_url(url).0 != "/metrics" {
        return Response::new(404).body("not found; metrics are at /metrics\n");
    }
    if !matches!(method, "GET" | "HEAD") {
        return Response::new(405).header("Allow", "GET, HEAD");
    }
    Response::new(200)
        .header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        .header("Cache-Control", "no-store")
        .body(render(&METRICS, sources))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_fall_in_cumulative_buckets() {
        let metrics = Metrics::new();
        metrics.observe(Duration::from_micros(300));
        metrics.observe(Duration::from_millis(20));
        metrics.observe(Duration::from_secs(9));
        let text = render(&metrics, &Sources::default());
        let line = |prefix: &str| {
            text.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("{prefix} in\n{text}"))
                .to_owned()
        };
        assert_eq!(
            line("uhttpd_request_duration_seconds_bucket{le=\"0.0005\"}"),
            "uhttpd_request_duration_seconds_bucket{le=\"0.0005\"} 1"
        );
        assert!(line("uhttpd_request_duration_seconds_bucket{le=\"0.025\"}").ends_with(" 2"));
        assert!(line("uhttpd_request_duration_seconds_bucket{le=\"5\"}").ends_with(" 2"));
        assert!(line("uhttpd_request_duration_seconds_bucket{le=\"+Inf\"}").ends_with(" 3"));
        assert!(line("uhttpd_request_duration_seconds_count").ends_with(" 3"));
        assert_eq!(
            line("uhttpd_request_duration_seconds_sum"),
            "uhttpd_request_duration_seconds_sum 9.0203"
        );
    }
}
