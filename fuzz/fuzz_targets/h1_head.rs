//! `uhttp::h1::head::parse_head` on arbitrary bytes.
//!
//! Invariants: no panic; a refusal is a 4xx (or 501 / 505); a complete
//! head agrees with `httparse` run directly on the same bytes (method,
//! target, version, header lines); the answer does not depend on how many
//! bytes have arrived (a prefix is `Partial` or the same answer) nor on
//! the limit beyond what the limit cuts off.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uhttp::RequestError;
use uhttp::h1::head::{BodyKind, Parsed, Version, parse_head};
use uhttp_fuzz::{is_refusal_status, split_seed};

/// `Config::default().max_headers_length`.
const LIMIT: usize = 8 * 1024;

fuzz_target!(|data: &[u8]| {
    let (seed, buf) = split_seed(data);
    let full = parse_head(buf, LIMIT);
    let summary = summarize(&full);
    match &full {
        Err(e) => assert!(is_refusal_status(e.status()), "{e:?}"),
        Ok(Parsed::Complete(head, len)) => check_complete(buf, head, *len),
        Ok(Parsed::Partial) => assert!(buf.len() <= LIMIT),
    }

    // Fewer bytes: still waiting, or already the same answer.
    let cut = usize::from(seed) % (buf.len() + 1);
    let prefix = summarize(&parse_head(&buf[..cut], LIMIT));
    assert!(
        prefix == Summary::Partial || prefix == summary,
        "prefix of {cut} bytes: {prefix:?}, all: {summary:?}"
    );

    // A smaller limit: the same answer when everything fits, else 431 or
    // an error found inside the limit.
    let limit = usize::from(seed >> 4) % (buf.len() + 2);
    let limited = summarize(&parse_head(buf, limit));
    let fits = match &full {
        Ok(Parsed::Complete(_, len)) => *len <= limit,
        _ => buf.len() <= limit,
    };
    if fits {
        assert_eq!(limited, summary, "limit {limit}");
    } else {
        assert!(
            limited == Summary::Refused(431) || limited == summary,
            "limit {limit}: {limited:?}, unlimited: {summary:?}"
        );
    }
});

/// What a parse answered, comparable across calls.
#[derive(Debug, PartialEq, Eq)]
enum Summary {
    Partial,
    Refused(u16),
    Complete {
        len: usize,
        method: &'static str,
        target: String,
        host: Option<String>,
        body: BodyKind,
        lines: usize,
    },
}

fn summarize(result: &Result<Parsed, RequestError>) -> Summary {
    match result {
        Ok(Parsed::Partial) => Summary::Partial,
        Err(e) => Summary::Refused(e.status()),
        Ok(Parsed::Complete(head, len)) => Summary::Complete {
            len: *len,
            method: head.method,
            target: head.target().to_owned(),
            host: head.host().map(str::to_owned),
            body: head.body,
            lines: head.headers().len(),
        },
    }
}

/// A complete head against httparse's view of the same bytes.
fn check_complete(buf: &[u8], head: &uhttp::h1::head::Head, len: usize) {
    assert!(len <= buf.len() && len <= LIMIT);
    let mut lines = [httparse::EMPTY_HEADER; 100];
    let mut req = httparse::Request::new(&mut lines);
    let status = req.parse(&buf[..len]).expect("httparse accepts the head");
    assert_eq!(status, httparse::Status::Complete(len));
    assert_eq!(req.method, Some(head.method));
    let version = match head.version {
        Version::Http10 => 0,
        Version::Http11 => 1,
    };
    assert_eq!(req.version, Some(version));

    // The target as sent, or the path of an absolute-form one.
    let raw = req.path.expect("a complete head has a target");
    let target = head.target();
    if raw.starts_with('/') || raw == "*" {
        assert_eq!(target, raw);
        assert_eq!(head.host(), head.headers().get("host"));
    } else {
        let authority_and_path = raw.split_once("://").expect("absolute-form").1;
        let host = head.host().expect("absolute-form has a host");
        let path = authority_and_path
            .strip_prefix(host)
            .expect("host comes first");
        assert!(target == path || (target == format!("/{path}") && !path.starts_with('/')));
    }
    assert!(target.len() <= raw.len() + 1);

    // Every line, in order, names lower-cased; values lose nothing but
    // invalid UTF-8 (each bad sequence becomes one U+FFFD).
    assert_eq!(head.headers().len(), req.headers.len());
    for ((name, value), line) in head.headers().iter().zip(req.headers.iter()) {
        assert_eq!(name, line.name.to_ascii_lowercase());
        assert_eq!(value, String::from_utf8_lossy(line.value));
    }

    // The body framing follows the headers.
    match head.body {
        BodyKind::Chunked => assert!(head.headers().contains("transfer-encoding")),
        BodyKind::Length(n) => {
            assert!(n > 0);
            let value = head.headers().get("content-length").expect("a length");
            assert_eq!(
                value.split(',').next().unwrap().trim().parse::<u64>(),
                Ok(n)
            );
        }
        BodyKind::None => assert!(!head.headers().contains("transfer-encoding")),
    }
    if head.version == Version::Http11 {
        assert!(head.host().is_some());
    }
}
