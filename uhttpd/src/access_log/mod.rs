//! One access-log line per response, written when the response ends (the
//! library's [`uhttp::AccessLog`] hook), in the `--log-format` chosen:
//!
//! | format | line |
//! | --- | --- |
//! | `short` (default) | `ADDR "METHOD URL PROTOCOL" STATUS BYTES DURATION[ cut-short: OUTCOME]`, a log record like the others (time and level before it) |
//! | `common` | nginx's and Apache's Common Log Format, bare ([`nginx`]) |
//! | `combined` | `common` plus `"$http_referer" "$http_user_agent"`, bare |
//! | `json` | one JSON object per line, bare ([`json`]) |
//!
//! `short` is `common` without the two `-` and the time (the log record
//! carries it), with the duration and how a cut-short response ended
//! added. In every format BYTES are the body bytes really written (not
//! the head), the time is that of the response's end, and a request the
//! library refused before its head parsed shows its first line as
//! received. Every line goes to stderr at `info` under the `access`
//! target: `-q` or `RUST_LOG=access=off` silences them. A client over the
//! Unix socket (`--unix`) is `unix:`, as nginx writes it.

mod json;
mod nginx;

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use clap::ValueEnum;
use serde::Deserialize;
use uhttp::{AccessLog, Completed, Outcome, UNIX_SOCKET_ADDR};

/// How access-log lines are written (`--log-format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// uhttpd's own line, with the duration, as a log record
    #[default]
    Short,
    /// Common Log Format, as nginx and Apache write it
    Common,
    /// Combined Log Format (common, then referer and user agent)
    Combined,
    /// One JSON object per line
    Json,
}

impl LogFormat {
    /// Whether its lines are written bare, without the log record's time
    /// and level in front (a program reads them).
    pub fn is_bare(self) -> bool {
        self != LogFormat::Short
    }
}

/// The hook that logs each response in `format` at `info`, under the
/// `access` target (so `RUST_LOG=access=off` silences just these lines),
/// and, with `metrics`, counts it ([`crate::metrics`]).
pub fn hook(format: LogFormat, metrics: bool) -> AccessLog {
    AccessLog::new(move |done| {
        if metrics {
            crate::metrics::METRICS.record(done);
        }
        if log::log_enabled!(target: "access", log::Level::Info) {
            log(format, done)
        }
    })
}

fn log(format: LogFormat, done: &Completed<'_>) {
    let entry = || Entry::of(done, SystemTime::now());
    match format {
        LogFormat::Short => short(done),
        LogFormat::Common => log::info!(target: "access", "{}", nginx::Common(&entry())),
        LogFormat::Combined => log::info!(target: "access", "{}", nginx::Combined(&entry())),
        LogFormat::Json => log::info!(target: "access", "{}", json::line(&entry())),
    }
}

/// The client as logged: an IP address, or a peer of the Unix socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Ip(IpAddr),
    Unix,
}

impl Client {
    fn of(addr: IpAddr) -> Client {
        if addr == UNIX_SOCKET_ADDR.ip() {
            Client::Unix
        } else {
            Client::Ip(addr)
        }
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Client::Ip(ip) => ip.fmt(f),
            Client::Unix => f.write_str("unix:"),
        }
    }
}

/// The request part of a line.
#[derive(Debug, Clone, Copy)]
pub enum Line<'a> {
    /// The head parsed.
    Parsed {
        method: &'a str,
        target: &'a str,
        protocol: &'a str,
    },
    /// The head was refused: its first line as received (any bytes).
    Raw(&'a [u8]),
}

/// What a line says of one response, whatever the format.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// When the response ended.
    pub time: SystemTime,
    pub client: Client,
    /// The user name of `Basic` credentials (`$remote_user`).
    pub user: Option<Cow<'a, str>>,
    pub line: Line<'a>,
    pub status: u16,
    pub body_bytes: u64,
    pub request_body_bytes: u64,
    pub duration: Duration,
    pub referer: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub outcome: Outcome,
    /// Why the library refused the request, if it did.
    pub refused: Option<String>,
}

impl<'a> Entry<'a> {
    fn of(done: &'a Completed<'_>, time: SystemTime) -> Entry<'a> {
        let request = done.request();
        let line = match request {
            Some(req) => Line::Parsed {
                method: req.method(),
                target: req.url(),
                protocol: req.protocol(),
            },
            None => Line::Raw(done.request_line().unwrap_or_default()),
        };
        Entry {
            time,
            client: Client::of(done.remote_addr()),
            user: request
                .and_then(|req| req.header("authorization"))
                .and_then(crate::auth::basic_user)
                .map(Cow::Owned),
            line,
            status: done.status(),
            body_bytes: done.body_bytes(),
            request_body_bytes: request.map_or(0, |req| req.bytes_received()),
            duration: done.duration(),
            referer: request.and_then(|req| req.header("referer")),
            user_agent: request.and_then(|req| req.header("user-agent")),
            outcome: done.outcome(),
            refused: done.refused().map(|e| e.to_string()),
        }
    }
}

/// The `short` line, escaped as it is written: no allocation per line.
fn short(done: &Completed<'_>) {
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
    let client = Client::of(done.remote_addr());
    match (done.method(), done.target(), done.protocol()) {
        (Some(method), Some(target), Some(protocol)) => log::info!(
            target: "access",
            "{client} \"{method} {} {protocol}\" {} {} {millis:.1}ms{cut_short}{outcome}",
            target.escape_debug(),
            done.status(),
            done.body_bytes(),
        ),
        _ => log::info!(
            target: "access",
            "{client} \"{}\" {} {} {millis:.1}ms{cut_short}{outcome}",
            done.request_line().unwrap_or_default().escape_ascii(),
            done.status(),
            done.body_bytes(),
        ),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    /// An entry of every field, at 2026-12-02 01:11:06.250 UTC.
    pub fn entry(line: Line<'static>) -> Entry<'static> {
        Entry {
            time: UNIX_EPOCH + Duration::from_millis(1_796_173_866_250),
            client: Client::Ip("192.0.2.1".parse().unwrap()),
            user: None,
            line,
            status: 200,
            body_bytes: 5,
            request_body_bytes: 0,
            duration: Duration::from_micros(1500),
            referer: None,
            user_agent: None,
            outcome: Outcome::Complete,
            refused: None,
        }
    }

    #[test]
    fn a_unix_peer_is_unix_colon_and_an_ip_is_itself() {
        assert_eq!(Client::of(UNIX_SOCKET_ADDR.ip()).to_string(), "unix:");
        assert_eq!(
            Client::of("::1".parse().unwrap()).to_string(),
            "::1".to_owned()
        );
    }
}
