//! `--redirect-http`: every request on the plain port goes to HTTPS.

use uhttp::{Request, Response};

/// 301 (GET, HEAD) or 308 (other methods, which must be repeated as they
/// were) to `https://HOST[:PORT]/path?query`; the port is left out when it
/// is 443. HOST is the request's host without its port; an IPv6 literal
/// keeps its brackets. Without a usable host, 400.
pub fn to_https(req: &Request, https_port: u16) -> Response {
    let Some(host) = req.host().map(strip_port).filter(|h| !h.is_empty()) else {
        return crate::errors::error_response(400);
    };
    let status = match req.method() {
        "GET" | "HEAD" => 301,
        _ => 308,
    };
    let target = if req.url().starts_with('/') {
        req.url()
    } else {
        "/"
    };
    let location = if https_port == 443 {
        format!("https://{host}{target}")
    } else {
        format!("https://{host}:{https_port}{target}")
    };
    Response::redirect(&location, status)
}

/// `example.org:80` → `example.org`; `[::1]:80` → `[::1]`.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::strip_port;

    #[test]
    fn strips_ports_but_keeps_ipv6_brackets() {
        for (input, want) in [
            ("example.org", "example.org"),
            ("example.org:8080", "example.org"),
            ("[::1]", "[::1]"),
            ("[::1]:8080", "[::1]"),
            ("127.0.0.1:80", "127.0.0.1"),
        ] {
            assert_eq!(strip_port(input), want);
        }
    }
}
