//! Regression for issue 9: multi-byte UTF-8 and invalid bytes, sent raw
//! at a few offsets of each header and name uhttpd parses, get a 2xx or
//! 4xx answer, and the server goes on serving. (The pure parsers are
//! tested at every offset in their unit tests.)

use std::io::Write;

use crate::util::{Response, Server, read_to_close, write_file};

/// Valid UTF-8 of 2, 3 and 4 bytes, a byte that is never UTF-8, a lone
/// lead byte.
pub(crate) const INSERTS: [&[u8]; 5] = [
    "é".as_bytes(),
    "€".as_bytes(),
    "😀".as_bytes(),
    b"\xff",
    b"\xc3",
];

/// `base` with each insert at the start, after the first byte, in the
/// middle, before the last byte and at the end.
fn altered(base: &[u8]) -> Vec<Vec<u8>> {
    let mut offsets = vec![
        0,
        1,
        base.len() / 2,
        base.len().saturating_sub(1),
        base.len(),
    ];
    offsets.dedup();
    let mut out = Vec::new();
    for insert in INSERTS {
        for &at in &offsets {
            let mut v = base[..at].to_vec();
            v.extend_from_slice(insert);
            v.extend_from_slice(&base[at..]);
            out.push(v);
        }
    }
    out
}

/// Sends `request` on a connection of its own and reads the answer.
fn send(server: &Server, request: &[u8]) -> Response {
    let mut stream = server.connect();
    stream.write_all(request).unwrap();
    read_to_close(&mut stream)
}

/// A GET of `path` with `headers` (each a whole line, CRLF included).
fn get(path: &[u8], headers: &[u8]) -> Vec<u8> {
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(path);
    request.extend_from_slice(b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    request.extend_from_slice(headers);
    request.extend_from_slice(b"\r\n");
    request
}

fn assert_2xx_or_4xx(resp: &Response, what: &[u8]) {
    assert!(
        (200..300).contains(&resp.status) || (400..500).contains(&resp.status),
        "{:?} answered {}",
        String::from_utf8_lossy(what),
        resp.status
    );
}

/// The server still answers a plain request.
fn assert_still_serving(server: &Server) {
    let resp = send(server, &get(b"/a.txt", b""));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"hello");
}

#[test]
fn conditional_and_range_headers_with_odd_bytes_get_an_answer() {
    let builder = Server::builder();
    write_file(builder.root(), "a.txt", b"hello");
    let server = builder.start();
    let date = b"Sun, 06 Nov 1994 08:49:37 GMT".as_slice();
    let headers: [(&str, &[u8]); 7] = [
        ("Range", b"bytes=0-1,3-4"),
        ("If-Range", b"\"5-0\""),
        ("If-None-Match", b"\"5-0\", W/\"x\""),
        ("If-Match", b"\"5-0\""),
        ("If-Modified-Since", date),
        ("If-Unmodified-Since", date),
        ("Host", b"localhost:80"),
    ];
    for (name, base) in headers {
        for value in altered(base) {
            let mut line = format!("{name}: ").into_bytes();
            line.extend_from_slice(&value);
            line.extend_from_slice(b"\r\n");
            let request = if name == "Host" {
                // In place of the usual Host line.
                let mut r = b"GET /a.txt HTTP/1.1\r\nConnection: close\r\n".to_vec();
                r.extend_from_slice(&line);
                r.extend_from_slice(b"\r\n");
                r
            } else {
                get(b"/a.txt", &line)
            };
            let resp = send(&server, &request);
            assert_2xx_or_4xx(&resp, &line);
            if name == "Host" {
                assert_eq!(resp.status, 400, "{:?}", String::from_utf8_lossy(&line));
            }
        }
        assert_still_serving(&server);
    }
}

#[test]
fn paths_with_odd_bytes_get_an_answer() {
    let builder = Server::builder();
    write_file(builder.root(), "a.txt", b"hello");
    std::fs::create_dir(builder.root().join("sub")).unwrap();
    let server = builder.start();
    for base in [b"/a.txt".as_slice(), b"/sub/a.txt", b"/a%20b.txt"] {
        for path in altered(base) {
            let resp = send(&server, &get(&path, b""));
            assert_2xx_or_4xx(&resp, &path);
            // Nothing is called that: 400 or 404.
            assert!(
                matches!(resp.status, 400 | 404),
                "{path:?}: {}",
                resp.status
            );
        }
    }
    assert_still_serving(&server);
}

#[test]
fn upload_names_and_part_headers_with_odd_bytes_get_an_answer() {
    let builder = Server::builder().uploads();
    write_file(builder.root(), "a.txt", b"hello");
    let server = builder.start();
    for name in altered(b"up.txt") {
        let mut request = b"PUT /upload/".to_vec();
        request.extend_from_slice(&name);
        request.extend_from_slice(
            b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
        );
        let resp = send(&server, &request);
        assert_2xx_or_4xx(&resp, &name);
    }
    assert_still_serving(&server);

    // A name accepted twice answers 409: a 4xx too.
    let disposition = b"form-data; name=\"file\"; filename=\"part.txt\"".as_slice();
    let content_type = b"multipart/form-data; boundary=XyZ".as_slice();
    let cases = altered(disposition)
        .into_iter()
        .map(|d| (d, content_type.to_vec()))
        .chain(
            altered(content_type)
                .into_iter()
                .map(|t| (disposition.to_vec(), t)),
        );
    for (disposition, content_type) in cases {
        let mut body = b"--XyZ\r\nContent-Disposition: ".to_vec();
        body.extend_from_slice(&disposition);
        body.extend_from_slice(b"\r\n\r\ndata\r\n--XyZ--\r\n");
        let mut request = b"POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".to_vec();
        request.extend_from_slice(b"Content-Type: ");
        request.extend_from_slice(&content_type);
        request.extend_from_slice(format!("\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
        request.extend_from_slice(&body);
        let resp = send(&server, &request);
        assert_2xx_or_4xx(&resp, &body);
    }
    assert_still_serving(&server);
    // Nothing partial is left behind.
    for name in server.uploaded() {
        assert!(!name.starts_with('.'), "temporary file left: {name}");
    }
}

#[test]
fn authorization_with_odd_bytes_gets_401() {
    let builder = Server::builder();
    write_file(builder.root(), "a.txt", b"hello");
    // htpasswd -B style entry; no request here gets as far as bcrypt.
    let auth = write_file(
        builder.root(),
        ".htpasswd",
        b"alice:$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\n",
    );
    let server = builder
        .args(["--auth-file", crate::util::path_str(&auth)])
        .start();
    for value in altered(b"Basic YWxpY2U6czNjcmV0") {
        let mut line = b"Authorization: ".to_vec();
        line.extend_from_slice(&value);
        line.extend_from_slice(b"\r\n");
        let resp = send(&server, &get(b"/a.txt", &line));
        assert_eq!(resp.status, 401, "{:?}", String::from_utf8_lossy(&line));
    }
    let resp = send(&server, &get(b"/a.txt", b""));
    assert_eq!(resp.status, 401);
}
