//! The `uhttpd` multipart parser (`uhttpd/src/multipart.rs`).
//!
//! Two modes, chosen by the seed:
//! - raw: the input's first line is the boundary, the rest the body, fed
//!   whole and in pieces: the same parts, the same data and the same
//!   error either way; events in order (Start, Data..., End); never more
//!   part data than body bytes; a failed parser stays failed;
//! - round trip: parts built from the payload (names and file names with
//!   multi-byte UTF-8, quotes and `filename*`), encoded as a browser would,
//!   must come out exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uhttp_fuzz::multipart::{FeedError, MultipartError, MultipartParser, PartEvent};
use uhttp_fuzz::{Rng, pieces, split_seed};

fuzz_target!(|data: &[u8]| {
    let (seed, payload) = split_seed(data);
    if seed & 0x8000 == 0 {
        raw(seed, payload);
    } else {
        round_trip(seed, payload);
    }
});

/// An owned event, consecutive data merged.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Start(String, Option<String>, Option<String>),
    Data(Vec<u8>),
    End,
}

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    events: Vec<Ev>,
    result: Result<(), MultipartError>,
}

/// Feeds `reads`, then finishes. The handler fails on event number
/// `fail_at`, if given.
fn parse(boundary: &str, reads: &[&[u8]], fail_at: Option<usize>) -> Outcome {
    let mut parser = match MultipartParser::new(boundary) {
        Ok(parser) => parser,
        Err(e) => {
            assert_eq!(e, MultipartError::InvalidBoundary);
            return Outcome {
                events: Vec::new(),
                result: Err(e),
            };
        }
    };
    let mut events: Vec<Ev> = Vec::new();
    let mut seen = 0;
    let mut open = false;
    for read in reads {
        let fed = parser.feed(read, |event| {
            seen += 1;
            if Some(seen) == fail_at {
                return Err("handler failed");
            }
            match event {
                PartEvent::Start {
                    name,
                    filename,
                    content_type,
                } => {
                    assert!(!open, "Start inside a part");
                    open = true;
                    events.push(Ev::Start(name, filename, content_type));
                }
                PartEvent::Data(bytes) => {
                    assert!(open, "Data outside a part");
                    assert!(!bytes.is_empty(), "empty Data");
                    match events.last_mut() {
                        Some(Ev::Data(prev)) => prev.extend_from_slice(bytes),
                        _ => events.push(Ev::Data(bytes.to_vec())),
                    }
                }
                PartEvent::End => {
                    assert!(open, "End outside a part");
                    open = false;
                    events.push(Ev::End);
                }
            }
            Ok(())
        });
        if let Err(e) = fed {
            let e = match e {
                FeedError::Multipart(e) => e,
                FeedError::Handler(_) => MultipartError::Aborted,
            };
            // Failed for good.
            let again = parser.feed(b"\r\n--", |_| Ok::<(), ()>(()));
            assert_eq!(again, Err(FeedError::Multipart(e)));
            assert_eq!(parser.finish(), Err(e));
            return Outcome {
                events,
                result: Err(e),
            };
        }
    }
    let result = parser.finish();
    assert!(result.is_err() || !open, "finished inside a part");
    Outcome { events, result }
}

fn raw(seed: u16, payload: &[u8]) {
    let end = payload
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(payload.len());
    let boundary = String::from_utf8_lossy(&payload[..end]);
    let body = payload.get(end + 1..).unwrap_or_default();
    let fail_at = (seed & 0x4000 != 0).then_some(usize::from(seed >> 8 & 0x3F));

    let whole = parse(&boundary, &[body], fail_at);
    let split = parse(&boundary, &pieces(body, seed), fail_at);
    if fail_at.is_none() {
        assert_eq!(whole, split);
    }
    let data: usize = whole
        .events
        .iter()
        .map(|e| match e {
            Ev::Data(d) => d.len(),
            _ => 0,
        })
        .sum();
    assert!(data <= body.len());
}

/// A quoted-string as browsers and curl write one (`\` escapes).
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn round_trip(seed: u16, payload: &[u8]) {
    let mut rng = Rng(u32::from(seed) | 0x8_0000);
    let boundary = format!("----uhttpFuzz{:08x}", rng.draw());
    let delimiter = format!("\r\n--{boundary}");
    let mut body = b"preamble \xc3\xa9\r\n".to_vec();
    let mut want = Vec::new();
    let mut rest = payload;
    let mut i = 0;
    while !rest.is_empty() {
        let n = (rng.draw() as usize % 300).min(rest.len());
        let (content, tail) = rest.split_at(n);
        rest = tail;
        if content
            .windows(delimiter.len())
            .any(|w| w == delimiter.as_bytes())
        {
            continue;
        }
        // A file name from the content's text, without line breaks.
        let text: String = String::from_utf8_lossy(&content[..content.len().min(24)])
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        let name = format!("f{i}é");
        i += 1;
        body.extend_from_slice(if i == 1 { b"--" } else { b"\r\n--" });
        body.extend_from_slice(boundary.as_bytes());
        body.extend_from_slice(b"\r\nContent-Disposition: form-data; name=");
        body.extend_from_slice(quoted(&name).as_bytes());
        let filename = match rng.draw() % 3 {
            0 => None,
            1 => {
                let quoted = quoted(&text);
                body.extend_from_slice(b"; filename=");
                body.extend_from_slice(quoted.as_bytes());
                // A quoted filename holding a backslash comes back as
                // sent, escapes kept, so that uhttpd refuses it (issue 9).
                let raw = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"'));
                match raw {
                    Some(raw) if raw.contains('\\') => Some(raw.to_owned()),
                    _ => Some(text),
                }
            }
            _ => {
                let encoded: String = text.bytes().map(|b| format!("%{b:02X}")).collect();
                body.extend_from_slice(b"; filename=\"fallback\"; filename*=UTF-8''");
                body.extend_from_slice(encoded.as_bytes());
                Some(text)
            }
        };
        body.extend_from_slice(b"\r\n");
        let content_type = (rng.one_in(2)).then(|| "application/octet-stream".to_owned());
        if let Some(ct) = &content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(content);
        want.push(Ev::Start(name, filename, content_type));
        if !content.is_empty() {
            want.push(Ev::Data(content.to_vec()));
        }
        want.push(Ev::End);
    }
    if i == 0 {
        return;
    }
    body.extend_from_slice(b"\r\n--");
    body.extend_from_slice(boundary.as_bytes());
    body.extend_from_slice(b"--\r\nepilogue");

    let want = Outcome {
        events: want,
        result: Ok(()),
    };
    assert_eq!(parse(&boundary, &[&body], None), want);
    assert_eq!(parse(&boundary, &pieces(&body, seed), None), want);
}
