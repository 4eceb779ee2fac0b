//! `--redirect-http`: every request on the plain port goes to HTTPS.

use uhttp::{Request, Response};

/// 301 (GET, HEAD) or 308 (other methods, which must be repeated as they
/// were) to `https://HOST[:PORT]/path?query`; the port is left out when it
/// is 443. HOST is the request's host without its port; an IPv6 literal
/// keeps its brackets. Without a usable host, 400.
pub fn to_https(req: &Request, https_port: u16) -> Response {
    let Some(location) = req
        .host()
        .and_then(|host| location(host, req.url(), https_port))
    else {
        return crate::errors::error_response(400);
    };
    let status = match req.method() {
        "GET" | "HEAD" => 301,
        _ => 308,
    };
    Response::redirect(&location, status)
}

/// The HTTPS URL for `host` (a Host header value) and `target` (the
/// origin-form request target); `None` when the host is unusable.
fn location(host: &str, target: &str, https_port: u16) -> Option<String> {
    let host = strip_port(host)?;
    // `OPTIONS *` (the only target not starting with '/') has no path.
    let target = if target.starts_with('/') { target } else { "/" };
    Some(if https_port == 443 {
        format!("https://{host}{target}")
    } else {
        format!("https://{host}:{https_port}{target}")
    })
}

/// `example.org:80` → `example.org`; `[::1]:80` → `[::1]`. `None` for an
/// empty host, an unclosed `[`, or anything but a port after `]`.
fn strip_port(host: &str) -> Option<&str> {
    let (name, port) = if host.starts_with('[') {
        let end = host.find(']')?;
        // `]` is one byte: the split is at a character boundary.
        let (name, rest) = (host.get(..end + 1)?, host.get(end + 1..)?);
        match rest {
            "" => (name, ""),
            _ => (name, rest.strip_prefix(':')?),
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name, port),
            None => (host, ""),
        }
    };
    let valid = !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    valid.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::{location, strip_port};

    #[test]
    fn strips_ports_but_keeps_ipv6_brackets() {
        for (input, want) in [
            ("example.org", Some("example.org")),
            ("example.org:8080", Some("example.org")),
            ("example.org:", Some("example.org")),
            ("[::1]", Some("[::1]")),
            ("[::1]:8080", Some("[::1]")),
            ("127.0.0.1:80", Some("127.0.0.1")),
            ("", None),
            (":80", None),
            ("[::1", None),
            ("[::1]x", None),
            ("[::1]:8x", None),
            ("example.org:http", None),
        ] {
            assert_eq!(strip_port(input), want, "{input:?}");
        }
    }

    #[test]
    fn leaves_the_port_out_only_for_443() {
        for (host, target, port, want) in [
            ("example.org", "/a?b=c", 443, "https://example.org/a?b=c"),
            ("example.org:80", "/", 443, "https://example.org/"),
            ("example.org:80", "/x", 8443, "https://example.org:8443/x"),
            ("[::1]:8080", "/p?q", 443, "https://[::1]/p?q"),
            ("[::1]:8080", "/p?q", 4443, "https://[::1]:4443/p?q"),
            ("example.org", "*", 443, "https://example.org/"),
        ] {
            assert_eq!(location(host, target, port).as_deref(), Some(want));
        }
        assert_eq!(location("[::1", "/", 443), None);
    }

    /// Regression for issue 9: multi-byte characters and U+FFFD at every
    /// offset of a Host value (the library refuses such a Host before it
    /// gets here; the functions must not panic on it either).
    #[test]
    fn hosts_with_any_character_at_any_offset_do_not_panic() {
        use crate::test_support::str_at_every_offset;
        for base in ["example.org:8080", "[::1]:8080", "[::1]"] {
            for (_, host) in str_at_every_offset(base) {
                if let Some(name) = strip_port(&host) {
                    assert!(host.starts_with(name), "{host} -> {name}");
                }
                let _ = location(&host, "/p?q", 8443);
            }
        }
    }
}
