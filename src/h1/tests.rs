//! Tables for the sans-IO parsers: every refusal and its status, every
//! limit exactly at and one over, and every input split at every byte
//! boundary giving the same result as the whole input.

use super::body::BodyDecoder;
use super::head::{BodyKind, MAX_HEADER_LINES, Parsed, Version, parse_head};
use crate::error::RequestError;

const MAX: usize = 8 * 1024;

/// Inputs up to this long are split at every byte; longer ones (the
/// limit tests, kilobytes long) at every byte near both ends and the
/// limits, and at a stride in between, to keep the suite fast.
const SHORT: usize = 600;

fn split_points(len: usize) -> impl Iterator<Item = usize> {
    (0..len).filter(move |&i| len <= SHORT || i < 300 || len - i < 300 || i % 61 == 0)
}

/// What a head parse came to, comparable across splits.
#[derive(Debug, PartialEq)]
enum HeadOutcome {
    Partial,
    Complete { len: usize, summary: String },
    Refused(u16),
}

fn outcome(buf: &[u8], max: usize) -> HeadOutcome {
    match parse_head(buf, max) {
        Ok(Parsed::Partial) => HeadOutcome::Partial,
        Ok(Parsed::Complete(head, len)) => HeadOutcome::Complete {
            len,
            summary: format!("{head:?}"),
        },
        Err(e) => HeadOutcome::Refused(e.status()),
    }
}

/// Parses `input` the way the connection does — again over every longer
/// prefix as bytes arrive — and checks that no prefix contradicts the
/// whole: a prefix is either still `Partial`, or already the final answer.
fn parse_every_split(input: &[u8], max: usize) -> HeadOutcome {
    let whole = outcome(input, max);
    let mut settled = false;
    for end in split_points(input.len()) {
        let prefix = outcome(&input[..end], max);
        if prefix == HeadOutcome::Partial {
            assert!(
                !settled,
                "prefix {end} of {:?} went back to Partial",
                String::from_utf8_lossy(input)
            );
            continue;
        }
        settled = true;
        assert_eq!(
            prefix,
            whole,
            "prefix of {end} bytes of {:?} decided differently",
            String::from_utf8_lossy(input)
        );
    }
    whole
}

fn refused(input: &str) -> u16 {
    match parse_every_split(input.as_bytes(), MAX) {
        HeadOutcome::Refused(status) => status,
        other => panic!("{input:?} was not refused: {other:?}"),
    }
}

fn parsed(input: &str) -> super::head::Head {
    match parse_every_split(input.as_bytes(), MAX) {
        HeadOutcome::Complete { len, .. } => {
            assert_eq!(len, input.find("\r\n\r\n").unwrap() + 4);
            match parse_head(input.as_bytes(), MAX).unwrap() {
                Parsed::Complete(head, _) => head,
                Parsed::Partial => unreachable!(),
            }
        }
        other => panic!("{input:?} did not parse: {other:?}"),
    }
}

#[test]
fn refuses_each_bad_head_with_its_status_however_it_is_split() {
    let cases: &[(&str, u16)] = &[
        // Malformed request line.
        ("GET\r\n\r\n", 400),
        ("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("GET / HTTP/1.1 x\r\nHost: h\r\n\r\n", 400),
        ("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("\x01 / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        // Request target.
        ("GET foo HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("GET http:// HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("GET http://a b/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        // Malformed header lines.
        ("GET / HTTP/1.1\r\nHost: h\r\nNo colon\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nBad Name: v\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400),
        // Host.
        ("GET / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", 400),
        // Framing.
        (
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
        ),
        (
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            400,
        ),
        (
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 2\r\n\r\n",
            400,
        ),
        (
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n",
            400,
        ),
        (
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1,\r\n\r\n",
            400,
        ),
        (
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
            400,
        ),
        (
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n",
            400,
        ),
        (
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1e3\r\n\r\n",
            400,
        ),
        (
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n",
            400,
        ),
        (
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
            400,
        ),
        (
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            400,
        ),
        (
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,\r\n\r\n",
            400,
        ),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        // Not implemented.
        ("BREW / HTTP/1.1\r\nHost: h\r\n\r\n", 501),
        ("get / HTTP/1.1\r\nHost: h\r\n\r\n", 501),
        (
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            501,
        ),
        // Versions.
        ("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        ("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505),
        ("GET / HTTP/10.0\r\nHost: h\r\n\r\n", 505),
        // A version that is not `HTTP/d.d` makes a malformed line.
        ("GET / HTTP/x.y\r\nHost: h\r\n\r\n", 400),
        ("GET / FOO/1.1\r\nHost: h\r\n\r\n", 400),
        ("GET / http/1.1\r\nHost: h\r\n\r\n", 400),
        ("GET / HTTP/1.\u{e9}\r\nHost: h\r\n\r\n", 400),
        ("GET / HTTP/2\r\nHost: h\r\n\r\n", 400),
        ("GET / HTTP/.1\r\nHost: h\r\n\r\n", 400),
    ];
    for (input, status) in cases {
        assert_eq!(refused(input), *status, "{input:?}");
    }
}

#[test]
fn parses_good_heads_however_they_are_split() {
    let head = parsed("GET /a%20b?x=1&x=2 HTTP/1.1\r\nHost: example.com:8080\r\nX-A: 1\r\n\r\n");
    assert_eq!(head.method, "GET");
    assert_eq!(head.target(), "/a%20b?x=1&x=2");
    assert_eq!(head.version, Version::Http11);
    assert_eq!(head.host(), Some("example.com:8080"));
    assert_eq!(head.body, BodyKind::None);
    assert!(head.keep_alive);
    assert!(!head.expect_continue);

    let head =
        parsed("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\nExpect: 100-Continue\r\n\r\n");
    assert_eq!(head.body, BodyKind::Length(10));
    assert!(head.expect_continue);

    let head = parsed("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(head.body, BodyKind::None);

    let head =
        parsed("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\nContent-Length: 7, 7\r\n\r\n");
    assert_eq!(head.body, BodyKind::Length(7));

    let head = parsed("PUT /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n");
    assert_eq!(head.body, BodyKind::Chunked);

    let head = parsed("GET / HTTP/1.0\r\n\r\n");
    assert_eq!(head.version, Version::Http10);
    assert_eq!(head.host(), None);
    assert!(!head.keep_alive);

    let head = parsed("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    assert!(head.keep_alive);

    let head = parsed("GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");
    assert!(!head.expect_continue, "HTTP/1.0 has no 100-continue");

    let head = parsed("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n");
    assert!(!head.keep_alive);

    let head = parsed("GET http://Abs.example:81/p?q HTTP/1.1\r\nHost: other\r\n\r\n");
    assert_eq!(head.host(), Some("Abs.example:81"));
    assert_eq!(head.target(), "/p?q");

    let head = parsed("GET https://h.example?q=1 HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(head.target(), "/?q=1");

    let head = parsed("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(head.target(), "*");

    // RFC 9112 §3.2 allows an empty Host (no authority).
    let head = parsed("GET / HTTP/1.1\r\nHost:\r\n\r\n");
    assert_eq!(head.host(), Some(""));

    let head = parsed("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
    assert_eq!(head.host(), Some("[::1]:8080"));

    for method in [
        "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE",
    ] {
        let head = parsed(&format!("{method} / HTTP/1.1\r\nHost: h\r\n\r\n"));
        assert_eq!(head.method, method);
    }
}

#[test]
fn keeps_utf8_header_values_and_replaces_bytes_that_are_not() {
    let input = b"GET / HTTP/1.1\r\nHost: h\r\nX-A: caf\xc3\xa9\r\nX-B: caf\xe9!\r\n\r\n";
    let head = match parse_head(input, MAX).unwrap() {
        Parsed::Complete(head, _) => head,
        Parsed::Partial => panic!("partial"),
    };
    assert_eq!(head.headers().get("x-a"), Some("caf\u{e9}"));
    assert_eq!(head.headers().get("x-b"), Some("caf\u{fffd}!"));
    assert_eq!(head.host(), Some("h"));
    assert_eq!(head.target(), "/");
}

#[test]
fn leaves_a_pipelined_body_and_next_request_unconsumed() {
    let input = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n";
    match parse_head(input, MAX).unwrap() {
        Parsed::Complete(_, len) => assert_eq!(&input[len..], b"abcGET / HTTP/1.1\r\n"),
        Parsed::Partial => panic!("partial"),
    }
}

/// A head of exactly `len` bytes.
fn head_of_len(len: usize) -> String {
    let start = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
    let end = "\r\n\r\n";
    format!("{start}{}{end}", "a".repeat(len - start.len() - end.len()))
}

#[test]
fn accepts_a_head_of_exactly_max_headers_length_and_refuses_one_more() {
    for max in [64, 100, 1024, MAX] {
        let at = head_of_len(max);
        assert!(matches!(
            parse_every_split(at.as_bytes(), max),
            HeadOutcome::Complete { len, .. } if len == max
        ));
        let over = head_of_len(max + 1);
        assert_eq!(
            parse_every_split(over.as_bytes(), max),
            HeadOutcome::Refused(431),
            "max {max}"
        );
    }
}

#[test]
fn waits_for_a_partial_head_up_to_the_limit_and_refuses_past_it() {
    let partial = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let len = partial.len();
    assert_eq!(outcome(partial.as_bytes(), len), HeadOutcome::Partial);
    assert_eq!(
        outcome(partial.as_bytes(), len - 1),
        HeadOutcome::Refused(431)
    );
}

#[test]
fn refuses_an_error_past_the_limit_as_too_large_however_it_arrives() {
    // The bad header comes after max bytes: seen whole or a byte at a
    // time, the answer is 431, not 400.
    let max = 64;
    let input = format!("{}Bad Name: x\r\n\r\n", &head_of_len(100)[..98]);
    assert_eq!(
        parse_every_split(input.as_bytes(), max),
        HeadOutcome::Refused(431)
    );
}

#[test]
fn accepts_max_header_lines_and_refuses_one_more() {
    let head = |lines: usize| {
        let mut s = String::from("GET / HTTP/1.1\r\n");
        s.push_str("Host: h\r\n");
        for i in 1..lines {
            s.push_str(&format!("X-{i}: v\r\n"));
        }
        s.push_str("\r\n");
        s
    };
    assert!(matches!(
        parse_every_split(head(MAX_HEADER_LINES).as_bytes(), MAX),
        HeadOutcome::Complete { .. }
    ));
    assert_eq!(
        parse_every_split(head(MAX_HEADER_LINES + 1).as_bytes(), MAX),
        HeadOutcome::Refused(431)
    );
}

// ----- bodies -----

/// What decoding a whole body came to: the data, whether it ended, and
/// the bytes left after it (the next pipelined request) — or a refusal.
type BodyOutcome = Result<(Vec<u8>, bool, Vec<u8>), u16>;

/// Feeds `pieces` to `decoder` as the connection does: unconsumed bytes
/// stay buffered and are offered again with the next piece.
fn decode_pieces(mut decoder: BodyDecoder, pieces: &[&[u8]]) -> BodyOutcome {
    let mut buf: Vec<u8> = Vec::new();
    let mut data = Vec::new();
    let mut done = false;
    for piece in pieces {
        buf.extend_from_slice(piece);
        if done {
            continue;
        }
        let mut pos = 0;
        while pos < buf.len() {
            let step = decoder
                .decode(&buf[pos..])
                .map_err(|e: RequestError| e.status())?;
            pos += step.consumed;
            data.extend_from_slice(step.data);
            if step.done {
                done = true;
                break;
            }
            if step.consumed == 0 {
                break;
            }
        }
        buf.drain(..pos);
    }
    assert_eq!(done, decoder.is_done());
    Ok((data, done, buf))
}

/// Decodes `input` whole, in two pieces split at every boundary, and a
/// byte at a time; all must agree.
fn decode_every_split(decoder: &BodyDecoder, input: &[u8]) -> BodyOutcome {
    let whole = decode_pieces(decoder.clone(), &[input]);
    for at in split_points(input.len() + 1) {
        let (a, b) = input.split_at(at);
        assert_eq!(
            decode_pieces(decoder.clone(), &[a, b]),
            whole,
            "split at {at} of {:?}",
            String::from_utf8_lossy(input)
        );
    }
    let bytes: Vec<&[u8]> = input
        .chunks(if input.len() > SHORT { 7 } else { 1 })
        .collect();
    assert_eq!(decode_pieces(decoder.clone(), &bytes), whole);
    whole
}

fn chunked(input: &str) -> BodyOutcome {
    decode_every_split(&BodyDecoder::chunked(), input.as_bytes())
}

fn complete(data: &str, rest: &str) -> BodyOutcome {
    Ok((data.as_bytes().to_vec(), true, rest.as_bytes().to_vec()))
}

#[test]
fn decodes_content_length_bodies_and_stops_at_their_end() {
    let decoder = BodyDecoder::length(5);
    assert_eq!(
        decode_every_split(&decoder, b"helloGET"),
        complete("hello", "GET")
    );
    assert_eq!(
        decode_every_split(&decoder, b"hel"),
        Ok((b"hel".to_vec(), false, Vec::new()))
    );
    assert!(BodyDecoder::length(0).is_done());
}

#[test]
fn decodes_chunked_bodies_however_they_are_split() {
    assert_eq!(chunked("5\r\nhello\r\n0\r\n\r\n"), complete("hello", ""));
    assert_eq!(
        chunked("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nGET / HTTP/1.1"),
        complete("abcde", "GET / HTTP/1.1")
    );
    assert_eq!(chunked("0\r\n\r\n"), complete("", ""));
    assert_eq!(
        chunked("A\r\n0123456789\r\n0\r\n\r\n"),
        complete("0123456789", "")
    );
    assert_eq!(
        chunked("a\r\n0123456789\r\n0\r\n\r\n"),
        complete("0123456789", "")
    );
    assert_eq!(chunked("003\r\nabc\r\n0000\r\n\r\n"), complete("abc", ""));
    // Extensions, with and without values, quoted, after whitespace.
    assert_eq!(
        chunked("3;a=b\r\nabc\r\n2;x\r\nde\r\n1 ;q=\"s;t\"\r\nf\r\n0;end\r\n\r\n"),
        complete("abcdef", "")
    );
    // Trailers.
    assert_eq!(
        chunked("3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-Other: two\r\n\r\nnext"),
        complete("abc", "next")
    );
    // Not finished yet.
    assert_eq!(
        chunked("5\r\nhel"),
        Ok((b"hel".to_vec(), false, Vec::new()))
    );
    assert_eq!(
        chunked("5\r\nhello\r\n0\r\n"),
        Ok((b"hello".to_vec(), false, Vec::new()))
    );
}

#[test]
fn refuses_bad_chunked_framing_with_400_however_it_is_split() {
    let cases = [
        "zz\r\nabc\r\n0\r\n\r\n",
        "\r\n",
        ";ext\r\n",
        "-1\r\n",
        "+1\r\n",
        "0x5\r\nhello\r\n0\r\n\r\n",
        "5\nhello\r\n0\r\n\r\n",
        "5;ext\nhello\r\n",
        "5\r\x00",
        "3\r\nabcX\r\n0\r\n\r\n",
        "3\r\nabc\rX0\r\n\r\n",
        "3\r\nabc\n0\r\n\r\n",
        "0\r\nX: y\rZ",
        "0\r\n\rX",
        "3x\r\nabc\r\n",
    ];
    for input in cases {
        assert_eq!(chunked(input), Err(400), "{input:?}");
    }
}

#[test]
fn accepts_sixteen_hex_digits_of_chunk_size_and_refuses_seventeen() {
    // Sixteen digits fit a u64; the data is not sent, so it stays open.
    assert_eq!(
        chunked("000000000000000a\r\n"),
        Ok((Vec::new(), false, Vec::new()))
    );
    assert_eq!(
        chunked("ffffffffffffffff\r\nab"),
        Ok((b"ab".to_vec(), false, Vec::new()))
    );
    assert_eq!(chunked("0000000000000000a\r\n"), Err(400));
    assert_eq!(chunked("10000000000000000\r\n"), Err(400));
}

#[test]
fn accepts_a_chunk_size_line_at_its_limit_and_refuses_one_byte_more() {
    const LIMIT: usize = 4096;
    // The line, without its CRLF: "5;" and the extension.
    let line = |len: usize| format!("5;{}", "e".repeat(len - 2));
    assert_eq!(
        chunked(&format!("{}\r\nhello\r\n0\r\n\r\n", line(LIMIT))),
        complete("hello", "")
    );
    assert_eq!(
        chunked(&format!("{}\r\nhello\r\n0\r\n\r\n", line(LIMIT + 1))),
        Err(400)
    );
}

#[test]
fn accepts_trailers_at_their_limit_and_refuses_one_byte_more() {
    const LIMIT: usize = 16 * 1024;
    // Counted: every trailer byte except the LFs, and the final CR.
    let body = |counted: usize| {
        // One line "X: aaa…" + CR, then the final CR.
        let value_len = counted - "X: ".len() - 2;
        format!("0\r\nX: {}\r\n\r\n", "a".repeat(value_len))
    };
    assert_eq!(chunked(&body(LIMIT)), complete("", ""));
    assert_eq!(chunked(&body(LIMIT + 1)), Err(400));
}
