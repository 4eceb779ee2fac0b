//! The start-up summary: the first log lines say what is served where and
//! how, so that a log read later (or `journalctl -u uhttpd`) answers
//! "what was this instance running with?" without the command line.
//!
//! ```text
//! listening: https://127.0.0.1:8443/, http://127.0.0.1:8080/ (redirects to https), unix:/run/u.sock
//! tls: certificate example.org from /etc/.../fullchain.pem, expires 2027-03-01 12:00:00 UTC (in 88 days)
//! uploads: into /srv/uploads, up to 1G each, existing files kept (409)
//! auth: 2 users from /etc/uhttpd/users, for every request
//! limits: 2 workers x 1000 connections, headers 8K, bodies 512K, keep-alive 15s x 100 requests, request 5s, send 60s
//! client limits: 8 connections per client, 10/s requests per client (bursts of 10), downloads at 1M/s per connection
//! health: /healthz; drain: 30s on SIGTERM
//! ```

use std::num::{NonZeroU32, NonZeroU64};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::health::{HealthPath, days_left};
use crate::size::format_size;
use crate::upload::Uploads;
use crate::utc;
use crate::x509;

/// The certificate as loaded at start-up.
pub struct CertFacts<'a> {
    pub path: &'a Path,
    /// The leaf's subject and expiry, or why they are unknown.
    pub leaf: Result<x509::Summary, String>,
}

/// The limits in force.
pub struct Limits {
    pub workers: usize,
    pub max_connections: usize,
    pub max_headers_length: usize,
    pub max_content_length: u64,
    pub keep_alive_timeout: Duration,
    pub keep_alive_max_requests: usize,
    pub request_timeout: Duration,
    pub send_timeout: Duration,
    pub max_connections_per_ip: Option<NonZeroU32>,
    pub rate_limit: Option<uhttp::Rate>,
    pub limit_rate: Option<NonZeroU64>,
}

/// The users of `--auth-file`.
pub struct AuthFacts<'a> {
    pub file: &'a Path,
    pub users: usize,
    pub uploads_only: bool,
}

/// Everything the summary reports, resolved.
pub struct Facts<'a> {
    /// Every listener's URL, as the banner shows it.
    pub listeners: Vec<String>,
    pub cert: Option<CertFacts<'a>>,
    pub uploads: Option<&'a Uploads>,
    pub auth: Option<AuthFacts<'a>>,
    pub limits: Limits,
    pub health: Option<&'a HealthPath>,
    pub drain: Option<Duration>,
}

impl Facts<'_> {
    /// The summary's lines, at `now`.
    pub fn lines(&self, now: SystemTime) -> Vec<String> {
        let mut lines = vec![format!("listening: {}", self.listeners.join(", "))];
        lines.push(match &self.cert {
            None => "tls: off".to_owned(),
            Some(cert) => cert_line(cert, now),
        });
        lines.push(match self.uploads {
            None => "uploads: off".to_owned(),
            Some(u) => format!(
                "uploads: into {}, up to {} each, {}",
                u.dir.display(),
                format_size(u.max_size),
                match u.overwrite {
                    true => "existing files replaced",
                    false => "existing files kept (409)",
                }
            ),
        });
        lines.push(match &self.auth {
            None => "auth: off".to_owned(),
            Some(a) => format!(
                "auth: {} user{} from {}, for {}",
                a.users,
                if a.users == 1 { "" } else { "s" },
                a.file.display(),
                match a.uploads_only {
                    true => "uploads only",
                    false => "every request",
                }
            ),
        });
        let l = &self.limits;
        lines.push(format!(
            "limits: {} worker{} x {} connections, headers {}, bodies {}, keep-alive {}s x {} requests, request {}s, send {}s",
            l.workers,
            if l.workers == 1 { "" } else { "s" },
            l.max_connections,
            format_size(u64::try_from(l.max_headers_length).unwrap_or(u64::MAX)),
            format_size(l.max_content_length),
            l.keep_alive_timeout.as_secs(),
            l.keep_alive_max_requests,
            l.request_timeout.as_secs(),
            l.send_timeout.as_secs(),
        ));
        lines.push(client_limits_line(l));
        let health = self
            .health
            .map_or("off".to_owned(), |path| path.to_string());
        let drain = self
            .drain
            .map_or("off".to_owned(), |d| format!("{}s on SIGTERM", d.as_secs()));
        lines.push(format!("health: {health}; drain: {drain}"));
        lines
    }
}

/// The limits per client and per connection that are on.
fn client_limits_line(l: &Limits) -> String {
    let mut on = Vec::new();
    if let Some(n) = l.max_connections_per_ip {
        let s = if n.get() == 1 { "" } else { "s" };
        on.push(format!("{n} connection{s} per client"));
    }
    if let Some(rate) = l.rate_limit {
        let unit = match rate.per().as_secs() {
            60 => "m",
            _ => "s",
        };
        on.push(format!(
            "{}/{unit} requests per client (bursts of {})",
            rate.requests(),
            rate.burst()
        ));
    }
    if let Some(bytes) = l.limit_rate {
        on.push(format!(
            "downloads at {}/s per connection",
            format_size(bytes.get())
        ));
    }
    match on.is_empty() {
        true => "client limits: off".to_owned(),
        // IPv6 clients count by /64 (uhttp::peer_limits).
        false => format!("client limits: {}", on.join(", ")),
    }
}

fn cert_line(cert: &CertFacts<'_>, now: SystemTime) -> String {
    let path = cert.path.display();
    match &cert.leaf {
        Ok(leaf) => {
            let expires =
                utc::to_the_second(leaf.not_after).unwrap_or_else(|| "unknown".to_owned());
            let days = days_left(leaf.not_after, now);
            let when = if leaf.not_after <= now {
                "EXPIRED".to_owned()
            } else {
                format!("in {days} day{}", if days == 1 { "" } else { "s" })
            };
            format!(
                "tls: certificate {} from {path}, expires {expires} ({when})",
                leaf.subject
            )
        }
        Err(why) => format!("tls: certificate from {path}, subject and expiry unknown ({why})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            workers: 2,
            max_connections: 1000,
            max_headers_length: 8192,
            max_content_length: 512 * 1024,
            keep_alive_timeout: Duration::from_secs(15),
            keep_alive_max_requests: 100,
            request_timeout: Duration::from_secs(5),
            send_timeout: Duration::from_secs(60),
            max_connections_per_ip: None,
            rate_limit: None,
            limit_rate: None,
        }
    }

    #[test]
    fn a_plain_server_says_what_is_off() {
        let facts = Facts {
            listeners: vec!["http://127.0.0.1:8080/".into()],
            cert: None,
            uploads: None,
            auth: None,
            limits: limits(),
            health: None,
            drain: None,
        };
        assert_eq!(
            facts.lines(SystemTime::now()),
            [
                "listening: http://127.0.0.1:8080/",
                "tls: off",
                "uploads: off",
                "auth: off",
                "limits: 2 workers x 1000 connections, headers 8K, bodies 512K, keep-alive 15s x 100 requests, request 5s, send 60s",
                "client limits: off",
                "health: off; drain: off",
            ]
        );
    }

    #[test]
    fn tls_uploads_auth_health_and_drain_are_described() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        let uploads = Uploads {
            dir: "/srv/in".into(),
            url: None,
            overwrite: false,
            max_size: 1 << 30,
        };
        let health = "/healthz".parse().unwrap();
        let facts = Facts {
            listeners: vec!["https://[::1]:8443/".into()],
            cert: Some(CertFacts {
                path: Path::new("/etc/tls/fullchain.pem"),
                leaf: Ok(x509::Summary {
                    subject: "example.test".into(),
                    not_after: now + Duration::from_secs(86_400 * 30 + 5),
                }),
            }),
            uploads: Some(&uploads),
            auth: Some(AuthFacts {
                file: Path::new("/etc/users"),
                users: 1,
                uploads_only: true,
            }),
            limits: limits(),
            health: Some(&health),
            drain: Some(Duration::from_secs(30)),
        };
        let lines = facts.lines(now);
        assert_eq!(
            lines[1],
            "tls: certificate example.test from /etc/tls/fullchain.pem, expires 2033-06-17 03:33:25 UTC (in 30 days)"
        );
        assert_eq!(
            lines[2],
            "uploads: into /srv/in, up to 1G each, existing files kept (409)"
        );
        assert_eq!(lines[3], "auth: 1 user from /etc/users, for uploads only");
        assert_eq!(lines[6], "health: /healthz; drain: 30s on SIGTERM");
        let expired = facts.lines(now + Duration::from_secs(86_400 * 31));
        assert!(expired[1].ends_with("(EXPIRED)"), "{}", expired[1]);
    }

    #[test]
    fn the_client_limits_that_are_on_are_listed() {
        let n = |v| std::num::NonZeroU32::new(v).unwrap();
        let mut l = limits();
        l.max_connections_per_ip = Some(n(8));
        assert_eq!(
            client_limits_line(&l),
            "client limits: 8 connections per client"
        );
        l.rate_limit = Some(uhttp::Rate::new(n(600), Duration::from_secs(60)).with_burst(n(20)));
        l.limit_rate = NonZeroU64::new(512 * 1024);
        assert_eq!(
            client_limits_line(&l),
            "client limits: 8 connections per client, 600/m requests per client (bursts of 20), downloads at 512K/s per connection"
        );
        l.max_connections_per_ip = None;
        l.limit_rate = None;
        l.rate_limit = Some(uhttp::Rate::per_second(n(10)));
        assert_eq!(
            client_limits_line(&l),
            "client limits: 10/s requests per client (bursts of 10)"
        );
    }
}
