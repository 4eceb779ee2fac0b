//! One access-log line per response, close to the Common Log Format:
//! `ADDR "METHOD URL PROTOCOL" STATUS BYTES DURATION`.

use std::time::Duration;

use uhttp::Request;

/// Logs a response at `info`, under the `access` target (so
/// `RUST_LOG=access=off` silences just these lines).
pub fn log(req: &Request, status: u16, bytes: u64, took: Duration) {
    log::info!(
        target: "access",
        "{} \"{} {} {}\" {} {} {:.1}ms",
        req.remote_address(),
        req.method(),
        escape(req.url()),
        req.protocol(),
        status,
        bytes,
        took.as_secs_f64() * 1000.0
    );
}

/// Keeps a log line one line: quotes and control characters escaped.
fn escape(s: &str) -> String {
    s.escape_debug().to_string()
}
