//! The opening handshake, server side (RFC 6455 §4.2): check the client's
//! upgrade request and compute `Sec-WebSocket-Accept`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest, Sha1};

/// The GUID appended to the client's key before hashing (RFC 6455 §1.3).
const ACCEPT_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only protocol version this server speaks (RFC 6455 §4.2.1 item 6).
pub const VERSION: &str = "13";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`:
/// base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2 item 5.4).
pub fn accept_key(sec_websocket_key: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(sec_websocket_key.as_bytes());
    hasher.update(ACCEPT_GUID.as_bytes());
    BASE64.encode(hasher.finalize())
}

/// Why an upgrade request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The method is not `GET`.
    NotGet,
    /// Not HTTP/1.1, or `Upgrade: websocket` / `Connection: upgrade` missing.
    NotUpgrade,
    /// `Sec-WebSocket-Key` missing, or not base64 of 16 bytes.
    BadKey,
    /// `Sec-WebSocket-Version` missing or not 13.
    BadVersion,
}

impl HandshakeError {
    /// The response status: 426 for [`BadVersion`](Self::BadVersion),
    /// otherwise 400.
    pub fn status(&self) -> u16 {
        match self {
            HandshakeError::BadVersion => 426,
            HandshakeError::NotGet | HandshakeError::NotUpgrade | HandshakeError::BadKey => 400,
        }
    }

    /// Headers the refusal must carry: `Sec-WebSocket-Version: 13` with a 426
    /// (RFC 6455 §4.2.2 item 4), none otherwise.
    pub fn headers(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            HandshakeError::BadVersion => &[("Sec-WebSocket-Version", VERSION)],
            _ => &[],
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HandshakeError::NotGet => "WebSocket upgrade needs GET",
            HandshakeError::NotUpgrade => "not a WebSocket upgrade request",
            HandshakeError::BadKey => "missing or invalid Sec-WebSocket-Key",
            HandshakeError::BadVersion => "unsupported Sec-WebSocket-Version",
        })
    }
}

impl std::error::Error for HandshakeError {}

/// Checks an upgrade request (RFC 6455 §4.2.1) and returns the
/// `Sec-WebSocket-Accept` value to answer with.
///
/// `header` looks a header up by name, case-insensitively. Checks, in RFC
/// order: `GET`; HTTP/1.1; `Upgrade` lists `websocket` and `Connection` lists
/// `upgrade` (tokens, case-insensitive); `Sec-WebSocket-Key` is base64 of 16
/// bytes; `Sec-WebSocket-Version` is 13.
pub fn validate<'h>(
    method: &str,
    version_is_http11: bool,
    header: impl Fn(&str) -> Option<&'h str>,
) -> Result<String, HandshakeError> {
    if method != "GET" {
        return Err(HandshakeError::NotGet);
    }
    let upgrade = header("Upgrade").is_some_and(|v| has_token(v, "websocket"));
    let connection = header("Connection").is_some_and(|v| has_token(v, "upgrade"));
    if !version_is_http11 || !upgrade || !connection {
        return Err(HandshakeError::NotUpgrade);
    }
    let key = header("Sec-WebSocket-Key")
        .map(str::trim)
        .ok_or(HandshakeError::BadKey)?;
    match BASE64.decode(key) {
        Ok(nonce) if nonce.len() == 16 => {}
        _ => return Err(HandshakeError::BadKey),
    }
    if header("Sec-WebSocket-Version").map(str::trim) != Some(VERSION) {
        return Err(HandshakeError::BadVersion);
    }
    Ok(accept_key(key))
}

/// Appends the `101 Switching Protocols` response head that completes the
/// handshake (RFC 6455 §4.2.2 item 5).
pub fn encode_switching_protocols(out: &mut Vec<u8>, accept: &str) {
    encode_switching_protocols_with(out, accept, b"");
}

/// [`encode_switching_protocols`] with more header lines (`Name: value`
/// and CRLF each, already validated, e.g. `Set-Cookie`) before the end
/// of the head.
pub fn encode_switching_protocols_with(out: &mut Vec<u8>, accept: &str, lines: &[u8]) {
    out.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\n\
          Upgrade: websocket\r\n\
          Connection: Upgrade\r\n\
          Sec-WebSocket-Accept: ",
    );
    out.extend_from_slice(accept.as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(lines);
    out.extend_from_slice(b"\r\n");
}

/// Whether a comma-separated header value lists `token` (ASCII
/// case-insensitive, whitespace around items ignored).
fn has_token(value: &str, token: &str) -> bool {
    value
        .split(',')
        .any(|item| item.trim().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    fn lookup<'a>(headers: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |name| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        }
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("Host", "server.example.com"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", KEY),
            ("Sec-WebSocket-Version", "13"),
        ]
    }

    fn with(name: &str, value: Option<&'static str>) -> Vec<(&'static str, &'static str)> {
        let mut headers: Vec<_> = good()
            .into_iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
            .collect();
        if let Some(value) = value {
            let name = good().into_iter().find(|(n, _)| *n == name).unwrap().0;
            headers.push((name, value));
        }
        headers
    }

    #[test]
    fn accept_key_matches_rfc_6455_section_1_3() {
        assert_eq!(accept_key(KEY), ACCEPT);
    }

    #[test]
    fn accepts_a_valid_upgrade() {
        assert_eq!(validate("GET", true, lookup(&good())), Ok(ACCEPT.into()));
    }

    #[test]
    fn accepts_token_lists_in_any_case() {
        let cases = [
            ("Upgrade", "WebSocket"),
            ("Upgrade", "h2c, websocket"),
            ("Connection", "keep-alive, Upgrade"),
            ("Connection", "UPGRADE"),
            ("Sec-WebSocket-Key", " dGhlIHNhbXBsZSBub25jZQ== "),
            ("Sec-WebSocket-Version", " 13"),
        ];
        for (name, value) in cases {
            let headers = with(name, Some(value));
            assert_eq!(
                validate("GET", true, lookup(&headers)),
                Ok(ACCEPT.into()),
                "{name}: {value}"
            );
        }
    }

    #[test]
    fn refuses_bad_requests_with_their_error() {
        use HandshakeError::*;
        // (method, is HTTP/1.1, headers, expected error)
        type Case = (
            &'static str,
            bool,
            Vec<(&'static str, &'static str)>,
            HandshakeError,
        );
        let cases: [Case; 13] = [
            ("POST", true, good(), NotGet),
            ("get", true, good(), NotGet),
            ("GET", false, good(), NotUpgrade),
            ("GET", true, with("Upgrade", None), NotUpgrade),
            ("GET", true, with("Upgrade", Some("websockets")), NotUpgrade),
            ("GET", true, with("Connection", None), NotUpgrade),
            (
                "GET",
                true,
                with("Connection", Some("keep-alive")),
                NotUpgrade,
            ),
            ("GET", true, with("Sec-WebSocket-Key", None), BadKey),
            (
                "GET",
                true,
                with("Sec-WebSocket-Key", Some("not base64!")),
                BadKey,
            ),
            // base64 of 15 bytes
            (
                "GET",
                true,
                with("Sec-WebSocket-Key", Some("AAAAAAAAAAAAAAAAAAAA")),
                BadKey,
            ),
            ("GET", true, with("Sec-WebSocket-Version", None), BadVersion),
            (
                "GET",
                true,
                with("Sec-WebSocket-Version", Some("8")),
                BadVersion,
            ),
            (
                "GET",
                true,
                with("Sec-WebSocket-Version", Some("13, 8")),
                BadVersion,
            ),
        ];
        for (method, http11, headers, want) in cases {
            assert_eq!(
                validate(method, http11, lookup(&headers)),
                Err(want),
                "{method} {http11} {headers:?}"
            );
        }
    }

    #[test]
    fn bad_version_is_426_with_supported_version_header() {
        assert_eq!(HandshakeError::BadVersion.status(), 426);
        assert_eq!(
            HandshakeError::BadVersion.headers(),
            &[("Sec-WebSocket-Version", "13")]
        );
        for e in [
            HandshakeError::NotGet,
            HandshakeError::NotUpgrade,
            HandshakeError::BadKey,
        ] {
            assert_eq!(e.status(), 400);
            assert!(e.headers().is_empty());
        }
    }

    #[test]
    fn switching_protocols_head() {
        let mut out = Vec::new();
        encode_switching_protocols(&mut out, ACCEPT);
        assert_eq!(
            out,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        );
    }
}
