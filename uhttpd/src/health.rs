//! `--health PATH`: a small JSON answer for load balancers and people
//! checking, on every listener (HTTPS, the plain-HTTP redirect port, the
//! Unix socket), before any other route and without a login.
//!
//! ```json
//! {"status": "ok", "version": "0.1.0", "uptime_seconds": 42,
//!  "connections": 3, "workers": 2, "draining": false, "tls": true,
//!  "certificate": {"subject": "example.org", "not_after": "2027-03-01T12:00:00Z",
//!                  "days_left": 88, "expired": false}}
//! ```
//!
//! `200` while serving; `503` while draining or stopping (`lifecycle.rs`),
//! or when the served certificate has expired: a load balancer then takes
//! the instance out. `status` says which: `ok`, `draining`,
//! `certificate_expired`. `certificate` is `null` without TLS (or when the
//! served certificate could not be read). Always `Cache-Control:
//! no-store`; `HEAD` gets the same head without the body; other methods
//! `405`.
//!
//! No login is asked for, even with `--auth-file`: a load balancer's
//! check carries none, and the answer tells no more than the server's
//! version and how busy it is (no path, no user, no address).

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime};

use serde::Deserialize;
use serde_json::{Value, json};
use uhttp::{LoopHandle, Request, Response};

use crate::errors::error_response;
use crate::lifecycle::Lifecycle;
use crate::served_cert::ServedCert;
use crate::utc;

/// The path the health check answers on: `/` and then URL-safe ASCII
/// only, so that it is matched byte for byte against the request's path
/// (before any query), with no encoding to argue about.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct HealthPath(String);

/// Why a `--health` path was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidHealthPath(String);

impl fmt::Display for InvalidHealthPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid path {:?}: it must start with / and hold only letters, digits and -._~/",
            self.0
        )
    }
}

impl std::error::Error for InvalidHealthPath {}

impl FromStr for HealthPath {
    type Err = InvalidHealthPath;

    fn from_str(s: &str) -> Result<HealthPath, InvalidHealthPath> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~/".contains(&b);
        if s.len() < 2 || !s.starts_with('/') || !s.bytes().all(allowed) {
            return Err(InvalidHealthPath(s.to_owned()));
        }
        Ok(HealthPath(s.to_owned()))
    }
}

impl TryFrom<String> for HealthPath {
    type Error = InvalidHealthPath;

    fn try_from(s: String) -> Result<HealthPath, InvalidHealthPath> {
        s.parse()
    }
}

impl fmt::Display for HealthPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the health check reports, shared by every worker.
#[derive(Debug)]
pub struct Health {
    path: HealthPath,
    started: Instant,
    workers: usize,
    /// Every worker's loop, to sum their connections; set once they exist.
    loops: OnceLock<Vec<LoopHandle>>,
    lifecycle: Arc<Lifecycle>,
    /// `None`: no TLS.
    cert: Option<Arc<ServedCert>>,
}

impl Health {
    pub fn new(
        path: HealthPath,
        workers: usize,
        lifecycle: Arc<Lifecycle>,
        cert: Option<Arc<ServedCert>>,
    ) -> Health {
        Health {
            path,
            started: Instant::now(),
            workers,
            loops: OnceLock::new(),
            lifecycle,
            cert,
        }
    }

    /// Gives the workers' loops, whose connections are reported.
    pub fn set_loops(&self, loops: Vec<LoopHandle>) {
        // Called once, from `main`; a second call changes nothing.
        let _ = self.loops.set(loops);
    }

    /// Whether `req` is a health check: its path (before any query) is
    /// the health path.
    pub fn is_check(&self, req: &Request) -> bool {
        uhttp::util::split_url(req.url()).0 == self.path.0
    }

    /// The answer to a health check.
    pub fn answer(&self, req: &Request) -> Response {
        if !matches!(req.method(), "GET" | "HEAD") {
            return error_response(405)
                .header("Allow", "GET, HEAD")
                .header("Cache-Control", "no-store");
        }
        let (status, body) = self.report(SystemTime::now());
        Response::new(status)
            .header("Cache-Control", "no-store")
            .body(body)
    }

    /// The status code and the JSON body at `now`.
    fn report(&self, now: SystemTime) -> (u16, Value) {
        let draining = self.lifecycle.is_draining();
        let served = self.cert.as_ref().and_then(|c| c.get());
        let expired = served.as_ref().is_some_and(|s| s.not_after <= now);
        let certificate = served.map(|s| {
            json!({
                "subject": s.subject,
                "not_after": utc::to_rfc3339(s.not_after),
                "days_left": days_left(s.not_after, now),
                "expired": s.not_after <= now,
            })
        });
        let connections: usize = self
            .loops
            .get()
            .map_or(0, |loops| loops.iter().map(LoopHandle::connections).sum());
        let (code, status) = match (draining, expired) {
            (true, _) => (503, "draining"),
            (false, true) => (503, "certificate_expired"),
            (false, false) => (200, "ok"),
        };
        let body = json!({
            "status": status,
            "version": env!("CARGO_PKG_VERSION"),
            "uptime_seconds": self.started.elapsed().as_secs(),
            "connections": connections,
            "workers": self.workers,
            "draining": draining,
            "tls": self.cert.is_some(),
            "certificate": certificate,
        });
        (code, body)
    }
}

/// Whole days from `now` to `not_after`, rounded down; negative once it
/// has passed (-1 on the first day after).
pub fn days_left(not_after: SystemTime, now: SystemTime) -> i64 {
    const DAY: i64 = 86_400;
    let secs = match not_after.duration_since(now) {
        Ok(left) => i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
        Err(past) => i64::try_from(past.duration().as_secs()).map_or(i64::MIN, |s| -s),
    };
    secs.div_euclid(DAY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn health_paths_are_slash_then_url_safe_ascii() {
        for good in ["/healthz", "/-/health", "/a/b.c~d_e"] {
            assert_eq!(good.parse::<HealthPath>().unwrap().to_string(), good);
        }
        for bad in [
            "", "/", "healthz", "/a b", "/a?b", "/a#b", "/a%20b", "/é", "/\u{7f}", "/a\\b",
        ] {
            assert!(bad.parse::<HealthPath>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn days_left_rounds_down_and_goes_negative_after_expiry() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let day = Duration::from_secs(86_400);
        assert_eq!(days_left(now + day * 3, now), 3);
        assert_eq!(days_left(now + day * 3 - Duration::from_secs(1), now), 2);
        assert_eq!(days_left(now, now), 0);
        assert_eq!(days_left(now - Duration::from_secs(1), now), -1);
        assert_eq!(days_left(now - day * 2, now), -2);
    }

    fn health(cert: Option<Arc<ServedCert>>) -> (Health, Arc<Lifecycle>) {
        let lifecycle = Arc::new(Lifecycle::default());
        let path = "/healthz".parse().unwrap();
        (
            Health::new(path, 2, Arc::clone(&lifecycle), cert),
            lifecycle,
        )
    }

    #[test]
    fn reports_ok_then_draining_with_503() {
        let (health, lifecycle) = health(None);
        let (code, body) = health.report(SystemTime::now());
        assert_eq!(code, 200);
        assert_eq!(body["status"], "ok");
        assert_eq!(body["workers"], 2);
        assert_eq!(body["tls"], false);
        assert!(body["certificate"].is_null());
        lifecycle.signal(Some(Duration::from_secs(60)));
        let (code, body) = health.report(SystemTime::now());
        assert_eq!((code, &body["status"]), (503, &json!("draining")));
        assert_eq!(body["draining"], true);
    }

    #[test]
    fn an_expired_certificate_is_503() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        let cert = Arc::new(ServedCert::default());
        cert.set(Some(crate::x509::Summary {
            subject: "example.test".into(),
            not_after: now,
        }));
        let (health, _) = health(Some(cert));
        let (code, body) = health.report(now - Duration::from_secs(1));
        assert_eq!(code, 200);
        assert_eq!(body["certificate"]["days_left"], 0);
        assert_eq!(body["certificate"]["expired"], false);
        assert_eq!(body["certificate"]["not_after"], "2033-05-18T03:33:20Z");
        let (code, body) = health.report(now);
        assert_eq!(
            (code, &body["status"]),
            (503, &json!("certificate_expired"))
        );
        assert_eq!(body["certificate"]["expired"], true);
    }
}
