//! One access-log line per response, written when the response ends (the
//! library's [`uhttp::AccessLog`] hook), close to the Common Log Format:
//!
//! ```text
//! ADDR "METHOD URL PROTOCOL" STATUS BYTES DURATION[ cut-short: OUTCOME]
//! ```
//!
//! BYTES are the body bytes really written (not the head), DURATION runs
//! from the request's first byte to its last byte sent. A response that
//! did not go out whole ends with `cut-short: client gone`, `send
//! timeout`, `shutdown` or `error`. A request the library refused before
//! its head parsed shows its first line as received, bytes outside
//! printable ASCII escaped.

use uhttp::{AccessLog, Completed};

/// The hook that logs each response at `info`, under the `access` target
/// (so `RUST_LOG=access=off` silences just these lines).
pub fn hook() -> AccessLog {
    AccessLog::new(log)
}

fn log(done: &Completed<'_>) {
    if !log::log_enabled!(target: "access", log::Level::Info) {
        return;
    }
    let millis = done.duration().as_secs_f64() * 1000.0;
    let cut_short = if done.outcome().is_cut_short() {
        " cut-short: "
    } else {
        ""
    };
    let outcome = if done.outcome().is_cut_short() {
        done.outcome().as_str()
    } else {
        ""
    };
    // Escaped as they are written: no allocation per line.
    match (done.method(), done.target(), done.protocol()) {
        (Some(method), Some(target), Some(protocol)) => log::info!(
            target: "access",
            "{} \"{method} {} {protocol}\" {} {} {millis:.1}ms{cut_short}{outcome}",
            done.remote_addr(),
            target.escape_debug(),
            done.status(),
            done.body_bytes(),
        ),
        _ => log::info!(
            target: "access",
            "{} \"{}\" {} {} {millis:.1}ms{cut_short}{outcome}",
            done.remote_addr(),
            done.request_line().unwrap_or_default().escape_ascii(),
            done.status(),
            done.body_bytes(),
        ),
    }
}
