//! Framing for streamed response bodies, appended to a `Vec<u8>`: chunked
//! transfer coding (RFC 9112 §7.1), Server-Sent Events (WHATWG HTML
//! §9.2.6 "Interpreting an event stream"), NDJSON, and `multipart/x-mixed-replace`
//! parts.
//!
//! Each function writes one complete unit or, when it refuses its input,
//! nothing at all. Headers for these bodies (`Transfer-Encoding`,
//! `Content-Type`) are the response encoder's business.

use crate::Error;

/// Appends `data` as one chunk: size in hex, CRLF, data, CRLF. Empty `data`
/// writes nothing, since a zero-size chunk would end the body; end it with
/// [`encode_last_chunk`].
pub fn encode_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    push_hex(out, data.len());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends the last chunk, with no trailers: `0\r\n\r\n`.
pub fn encode_last_chunk(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n\r\n");
}

/// Appends `n` in lower-case hex, without leading zeros.
fn push_hex(out: &mut Vec<u8>, n: usize) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 2 * std::mem::size_of::<usize>()];
    let mut at = buf.len();
    let mut n = n;
    loop {
        at -= 1;
        buf[at] = DIGITS[n & 0xF];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[at..]);
}

/// Appends one Server-Sent Event: `event:`, `id:` and `retry:` fields when
/// given, one `data:` line per line of `data` (split at CRLF, CR or LF, so a
/// client rebuilds `data` with LF line ends), then the blank line that
/// dispatches it.
///
/// Refuses, writing nothing, an `event` or `id` holding CR or LF (they would
/// end the field early and inject others) and an `id` holding NUL (clients
/// ignore such an id): [`Error::InvalidHeader`] names the field.
pub fn encode_event(
    out: &mut Vec<u8>,
    data: &str,
    event: Option<&str>,
    id: Option<&str>,
    retry: Option<u64>,
) -> Result<(), Error> {
    if event.is_some_and(|e| e.contains(['\r', '\n'])) {
        return Err(Error::InvalidHeader("SSE event".into()));
    }
    if id.is_some_and(|i| i.contains(['\r', '\n', '\0'])) {
        return Err(Error::InvalidHeader("SSE id".into()));
    }
    if let Some(event) = event {
        push_field(out, "event", event);
    }
    if let Some(id) = id {
        push_field(out, "id", id);
    }
    if let Some(retry) = retry {
        push_field(out, "retry", itoa::Buffer::new().format(retry));
    }
    for line in lines(data) {
        push_field(out, "data", line);
    }
    out.push(b'\n');
    Ok(())
}

/// Appends an SSE comment, which clients ignore (handy as a keep-alive):
/// `: text`, one comment line per line of `text`, then a blank line.
pub fn encode_comment(out: &mut Vec<u8>, text: &str) {
    for line in lines(text) {
        push_field(out, "", line);
    }
    out.push(b'\n');
}

/// Appends `name: value\n`.
fn push_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
}

/// The lines of `text` split at CRLF, CR or LF. A trailing line end yields a
/// final empty line, and `""` is one empty line, so nothing is lost.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\r', '\n']) {
            None => {
                rest = None;
                Some(text)
            }
            Some(at) => {
                let skip = if text[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&text[at + skip..]);
                Some(&text[..at])
            }
        }
    })
}

/// Appends `value` as one NDJSON line: compact JSON, then `\n`. JSON
/// escapes line breaks inside strings, so the value stays on one line.
pub fn encode_ndjson(out: &mut Vec<u8>, value: &serde_json::Value) -> Result<(), Error> {
    let start = out.len();
    if let Err(e) = serde_json::to_writer(&mut *out, value) {
        out.truncate(start);
        return Err(e.into());
    }
    out.push(b'\n');
    Ok(())
}

/// Appends one part of a `multipart/x-mixed-replace` stream (e.g. an MJPEG
/// frame): `--boundary`, `Content-Type` and `Content-Length` headers, a
/// blank line, `data`, CRLF.
///
/// Refuses, writing nothing, a `boundary` that RFC 2046 §5.1.1 does not
/// allow and a `content_type` holding CR, LF or NUL.
pub fn encode_multipart_frame(
    out: &mut Vec<u8>,
    boundary: &str,
    content_type: &str,
    data: &[u8],
) -> Result<(), Error> {
    check_boundary(boundary)?;
    if content_type.contains(['\r', '\n', '\0']) {
        return Err(Error::InvalidHeader("Content-Type".into()));
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"\r\nContent-Type: ");
    out.extend_from_slice(content_type.as_bytes());
    out.extend_from_slice(b"\r\nContent-Length: ");
    out.extend_from_slice(itoa::Buffer::new().format(data.len()).as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Appends the closing delimiter of a multipart stream: `--boundary--\r\n`.
/// Refuses a `boundary` as [`encode_multipart_frame`] does.
pub fn encode_multipart_end(out: &mut Vec<u8>, boundary: &str) -> Result<(), Error> {
    check_boundary(boundary)?;
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
    Ok(())
}

/// RFC 2046 §5.1.1: 1 to 70 of `bchars`, not ending in a space.
fn check_boundary(boundary: &str) -> Result<(), Error> {
    let is_bchar = |b: u8| b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b);
    let ok = (1..=70).contains(&boundary.len())
        && boundary.bytes().all(is_bchar)
        && !boundary.ends_with(' ');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidHeader("multipart boundary".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_chunk(&mut out, data);
        out
    }

    #[test]
    fn chunk_sizes_are_hex() {
        let cases: [(usize, &[u8]); 5] = [
            (1, b"1\r\n"),
            (15, b"f\r\n"),
            (255, b"ff\r\n"),
            (4096, b"1000\r\n"),
            (65537, b"10001\r\n"),
        ];
        for (len, head) in cases {
            let data = vec![b'x'; len];
            let out = chunk(&data);
            assert_eq!(&out[..head.len()], head, "{len}");
            assert_eq!(&out[head.len()..head.len() + len], &data[..], "{len}");
            assert_eq!(&out[head.len() + len..], b"\r\n", "{len}");
        }
    }

    #[test]
    fn empty_chunk_writes_nothing_and_last_chunk_ends_the_body() {
        assert_eq!(chunk(b""), b"");
        let mut out = chunk(b"hello");
        encode_last_chunk(&mut out);
        assert_eq!(out, b"5\r\nhello\r\n0\r\n\r\n");
    }

    #[test]
    fn hex_of_extremes() {
        let all_f = "f".repeat(2 * size_of::<usize>());
        for (n, want) in [(0, "0"), (10, "a"), (0x10, "10"), (usize::MAX, &all_f)] {
            let mut out = Vec::new();
            push_hex(&mut out, n);
            assert_eq!(out, want.as_bytes());
        }
    }

    fn event(
        data: &str,
        event: Option<&str>,
        id: Option<&str>,
        retry: Option<u64>,
    ) -> Result<String, Error> {
        let mut out = Vec::new();
        encode_event(&mut out, data, event, id, retry)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn sse_events() {
        // (data, event, id, retry, expected stream)
        type Case = (
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            Option<u64>,
            &'static str,
        );
        let cases: [Case; 8] = [
            ("hello", None, None, None, "data: hello\n\n"),
            ("", None, None, None, "data: \n\n"),
            ("a\nb", None, None, None, "data: a\ndata: b\n\n"),
            (
                "a\r\nb\rc\n\nd",
                None,
                None,
                None,
                "data: a\ndata: b\ndata: c\ndata: \ndata: d\n\n",
            ),
            ("end\n", None, None, None, "data: end\ndata: \n\n"),
            ("\r\n", None, None, None, "data: \ndata: \n\n"),
            (
                "x",
                Some("update"),
                Some("42"),
                Some(3000),
                "event: update\nid: 42\nretry: 3000\ndata: x\n\n",
            ),
            (
                "x",
                Some(""),
                Some(""),
                Some(0),
                "event: \nid: \nretry: 0\ndata: x\n\n",
            ),
        ];
        for (data, ev, id, retry, want) in cases {
            assert_eq!(event(data, ev, id, retry).unwrap(), want, "{data:?}");
        }
    }

    #[test]
    fn sse_refuses_line_breaks_in_event_and_id_and_writes_nothing() {
        let cases: [(Option<&str>, Option<&str>, &str); 6] = [
            (Some("a\nb"), None, "SSE event"),
            (Some("a\rb"), None, "SSE event"),
            (None, Some("1\r\n"), "SSE id"),
            (None, Some("\n"), "SSE id"),
            (None, Some("1\u{0}2"), "SSE id"),
            (Some("ok"), Some("bad\n"), "SSE id"),
        ];
        for (ev, id, field) in cases {
            let mut out = b"kept".to_vec();
            match encode_event(&mut out, "data", ev, id, None) {
                Err(Error::InvalidHeader(name)) => assert_eq!(name, field),
                other => panic!("{ev:?} {id:?}: {other:?}"),
            }
            assert_eq!(out, b"kept");
        }
        // NUL is fine in an event name and in data.
        assert_eq!(
            event("a\0b", Some("e\0"), None, None).unwrap(),
            "event: e\0\ndata: a\0b\n\n"
        );
    }

    #[test]
    fn sse_comments() {
        let cases = [
            ("", ": \n\n"),
            ("keep-alive", ": keep-alive\n\n"),
            ("one\ntwo\r\nthree", ": one\n: two\n: three\n\n"),
        ];
        for (text, want) in cases {
            let mut out = Vec::new();
            encode_comment(&mut out, text);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{text:?}");
        }
    }

    #[test]
    fn ndjson_is_one_compact_line_per_value() {
        let mut out = Vec::new();
        encode_ndjson(
            &mut out,
            &serde_json::json!({"a": [1, 2], "s": "line\nbreak"}),
        )
        .unwrap();
        encode_ndjson(&mut out, &serde_json::json!(null)).unwrap();
        assert_eq!(out, b"{\"a\":[1,2],\"s\":\"line\\nbreak\"}\nnull\n");
    }

    #[test]
    fn multipart_frames() {
        let mut out = Vec::new();
        encode_multipart_frame(&mut out, "frame", "image/jpeg", b"\xFF\xD8jpeg").unwrap();
        encode_multipart_frame(&mut out, "frame", "text/plain", b"").unwrap();
        encode_multipart_end(&mut out, "frame").unwrap();
        assert_eq!(
            out,
            b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 6\r\n\r\n\xFF\xD8jpeg\r\n\
              --frame\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n\r\n\
              --frame--\r\n"
        );
    }

    #[test]
    fn multipart_refuses_bad_boundary_or_content_type() {
        let long = "b".repeat(71);
        let cases: [(&str, &str, &str); 6] = [
            ("", "text/plain", "multipart boundary"),
            (&long, "text/plain", "multipart boundary"),
            ("a\r\nX-Injected: 1", "text/plain", "multipart boundary"),
            ("ends in space ", "text/plain", "multipart boundary"),
            ("ok", "text/plain\r\nX-Injected: 1", "Content-Type"),
            ("ok", "text/plain\0", "Content-Type"),
        ];
        for (boundary, content_type, field) in cases {
            let mut out = Vec::new();
            match encode_multipart_frame(&mut out, boundary, content_type, b"x") {
                Err(Error::InvalidHeader(name)) => assert_eq!(name, field),
                other => panic!("{boundary:?} {content_type:?}: {other:?}"),
            }
            assert!(out.is_empty());
        }
        assert!(encode_multipart_end(&mut Vec::new(), "a b").is_ok());
        assert!(encode_multipart_end(&mut Vec::new(), "a\nb").is_err());
        let every_bchar = "'()+_,-./:=? 09AZaz";
        assert!(encode_multipart_end(&mut Vec::new(), every_bchar).is_ok());
        assert!(encode_multipart_end(&mut Vec::new(), &"b".repeat(70)).is_ok());
    }
}
