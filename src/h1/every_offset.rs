//! Request heads with multi-byte UTF-8 and bytes that are not UTF-8 at
//! every offset of the request line and of each header line (issue 9:
//! `GET abcdef\xc3\xa9x` panicked in `split_target`). Each head parses or
//! is refused with a 4xx, however it is split, and whatever parses is
//! usable: the target, the host, every value through the `util` helpers
//! and the WebSocket handshake check.

use super::head::{Head, Parsed, parse_head};
use crate::util::every_offset::{shows_as, variants};
use crate::util::{parse_cookies, parse_header_parameters, parse_url};

const MAX: usize = 8 * 1024;

/// What one mutated head came to.
enum Outcome {
    Parsed(Head),
    Refused(u16),
}

/// Parses `input`, checks that every prefix is `Partial` or the same
/// answer, that a refusal is a 4xx, and uses everything that parsed.
fn check(input: &[u8]) -> Outcome {
    let show = || String::from_utf8_lossy(input).into_owned();
    let whole = match parse_head(input, MAX) {
        Ok(Parsed::Complete(head, len)) => {
            assert_eq!(len, input.len(), "{:?}", show());
            use_everything(&head);
            Outcome::Parsed(head)
        }
        Ok(Parsed::Partial) => panic!("a whole head is partial: {:?}", show()),
        Err(e) => {
            assert!(
                (400..500).contains(&e.status()),
                "{:?} refused with {}",
                show(),
                e.status()
            );
            Outcome::Refused(e.status())
        }
    };
    for end in 0..input.len() {
        match (parse_head(&input[..end], MAX), &whole) {
            (Ok(Parsed::Partial), _) => {}
            (Err(e), Outcome::Refused(status)) if e.status() == *status => {}
            (other, _) => panic!("prefix {end} of {:?} gave {other:?}", show()),
        }
    }
    whole
}

/// What an application might do with a head; none of it may panic.
fn use_everything(head: &Head) {
    let _ = format!("{head:?}");
    let (path, query) = parse_url(head.target());
    assert!(!path.is_empty() || head.target().starts_with('?'));
    let _ = query.to_json();
    let _ = head.host().map(str::len);
    for (name, value) in head.headers().iter() {
        let _ = parse_header_parameters(value);
        if name == "cookie" {
            let _ = parse_cookies(value).to_json();
        }
    }
    let _ = head.headers().to_json();
    #[cfg(feature = "websocket")]
    let _ = crate::ws::validate(head.method, true, |name| head.headers().get(name));
}

/// Each request line, mutated at every offset (method, target and version
/// included), under a Host header.
#[test]
fn request_lines_with_multibyte_and_invalid_bytes_parse_or_get_a_4xx() {
    let lines = [
        "GET /p/a%C3%A9?q=1&r=%20#f HTTP/1.1",
        "GET http://h.example:8080/p?q=1 HTTP/1.1",
        "GET https://h.example/p?q HTTP/1.1",
        "GET http://h HTTP/1.1",
        "OPTIONS * HTTP/1.1",
        "POST /upload HTTP/1.0",
    ];
    let mut parsed = 0;
    for line in lines {
        for (insert, mutated) in variants(line.as_bytes()) {
            let mut input = mutated;
            input.extend_from_slice(b"\r\nHost: h\r\n\r\n");
            if let Outcome::Parsed(head) = check(&input) {
                parsed += 1;
                // Only a target takes the bytes; they are kept as sent.
                let c = shows_as(insert);
                assert!(
                    head.target().contains(&c) || head.host().is_some_and(|h| h.contains(&c)),
                    "{:?} lost {c:?}",
                    String::from_utf8_lossy(&input)
                );
            }
        }
    }
    assert!(parsed > 0, "no mutated request line was accepted");
}

/// The issue's own request, and the same cut inside both scheme prefixes.
#[test]
fn a_multibyte_character_across_the_scheme_prefix_is_400() {
    for target in [
        "abcdef\u{e9}x",
        "http:/\u{e9}/h/",
        "https:/\u{e9}/h/",
        "https:/\u{20ac}",
        "http\u{1f600}://h/",
    ] {
        let input = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(
            matches!(check(input.as_bytes()), Outcome::Refused(400)),
            "{input:?}"
        );
    }
}

/// Each header line mutated at every offset, among others that are valid;
/// a value keeps a valid character and shows an invalid byte as U+FFFD.
#[test]
fn header_lines_with_multibyte_and_invalid_bytes_parse_or_get_a_4xx() {
    let lines = [
        "Host: h.example:8080",
        "Cookie: a=1; b=\"x y\"; c=%C3%A9",
        "Content-Type: multipart/form-data; boundary=\"a b\"; charset=utf-8",
        "X-Name: v\u{e9}lue",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ];
    for (index, line) in lines.iter().enumerate() {
        let colon = line.find(':').unwrap_or_default();
        let name = &line[..colon];
        for (at, (insert, mutated)) in variants(line.as_bytes()).enumerate() {
            let at = at % (line.len() + 1);
            let mut input = b"GET /ws HTTP/1.1\r\n".to_vec();
            for (other, text) in lines.iter().enumerate() {
                if other == index {
                    input.extend_from_slice(&mutated);
                } else {
                    input.extend_from_slice(text.as_bytes());
                }
                input.extend_from_slice(b"\r\n");
            }
            input.extend_from_slice(b"\r\n");
            let show = String::from_utf8_lossy(&input).into_owned();
            match check(&input) {
                Outcome::Refused(status) => {
                    // Refused for the name, or for a Host that is not one.
                    assert_eq!(status, 400, "{show:?}");
                    assert!(at <= colon || name == "Host", "{show:?} refused");
                }
                Outcome::Parsed(head) => {
                    assert!(at > colon && name != "Host", "{show:?} parsed");
                    let value = head.headers().get(name).unwrap_or_default();
                    assert!(value.contains(&shows_as(insert)), "{show:?}: {value:?}");
                    // Every WebSocket header is needed as sent.
                    #[cfg(feature = "websocket")]
                    {
                        let ws = crate::ws::validate("GET", true, |n| head.headers().get(n));
                        assert_eq!(ws.is_err(), index >= 4, "{show:?}");
                    }
                }
            }
        }
    }
}
