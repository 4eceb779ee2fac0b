//! Wire fixes of issue 9, item 7, through the real server: malformed
//! percent escapes, `If-Match` / `If-Unmodified-Since`, the
//! `multipart/byteranges` boundary, backslashes in multipart filenames,
//! and `/rpc` caching.

use crate::util::{Response, Server, agent, find, write_file};

#[test]
fn malformed_percent_escapes_in_the_path_answer_400() {
    let builder = Server::builder().uploads();
    // Files named like the requests: a lenient decoder would serve them.
    for name in ["a%ZZ.txt", "a%2G", "a%", "a%2"] {
        write_file(builder.root(), name, b"literal");
    }
    let server = builder.start();
    for path in ["/a%ZZ.txt", "/a%2G", "/a%", "/a%2", "/%", "/a%%41"] {
        let resp = server.raw_get(path);
        assert_eq!(resp.status, 400, "GET {path}: {}", resp.text());
    }
    // The same names, properly encoded.
    let resp = server.raw_get("/a%25ZZ.txt");
    assert_eq!((resp.status, resp.text().as_str()), (200, "literal"));
    // An upload name is a path too.
    for name in ["a%ZZ.txt", "a%2", "a%"] {
        let request = format!(
            "PUT /upload/{name} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx"
        );
        let resp = server.raw(request.as_bytes());
        assert_eq!(resp.status, 400, "PUT /upload/{name}: {}", resp.text());
    }
    assert!(server.uploaded().is_empty(), "{:?}", server.uploaded());
}

#[test]
fn if_match_and_if_unmodified_since_give_412() {
    let builder = Server::builder();
    write_file(builder.root(), "a.txt", b"hello world");
    let server = builder.start();
    let resp = agent().get(server.url("/a.txt")).call().unwrap();
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let modified = resp.headers()["last-modified"].to_str().unwrap().to_owned();
    let epoch = "Thu, 01 Jan 1970 00:00:00 GMT";
    let weak = format!("W/{etag}");
    let list = format!("\"other\", {etag}");

    let status = |method: &str, headers: &[(&str, &str)]| {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(server.url("/a.txt"));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        agent()
            .run(req.body(()).unwrap())
            .unwrap()
            .status()
            .as_u16()
    };
    let cases: [(&[(&str, &str)], u16); 13] = [
        (&[("If-Match", &etag)], 200),
        (&[("If-Match", "*")], 200),
        (&[("If-Match", &list)], 200),
        (&[("If-Match", "\"other\"")], 412),
        // Strong comparison: a weak tag never matches.
        (&[("If-Match", &weak)], 412),
        (&[("If-Unmodified-Since", &modified)], 200),
        (&[("If-Unmodified-Since", epoch)], 412),
        (&[("If-Unmodified-Since", "not a date")], 200),
        // If-Match present: If-Unmodified-Since is not looked at.
        (&[("If-Match", &etag), ("If-Unmodified-Since", epoch)], 200),
        // 412 comes before 304 (RFC 9110 §13.2.2).
        (&[("If-Match", "\"other\""), ("If-None-Match", &etag)], 412),
        (
            &[
                ("If-Unmodified-Since", epoch),
                ("If-Modified-Since", &modified),
            ],
            412,
        ),
        // Range requests too.
        (&[("If-Match", "\"other\""), ("Range", "bytes=0-1")], 412),
        (&[("If-Match", &etag), ("Range", "bytes=0-1")], 206),
    ];
    for (headers, want) in cases {
        assert_eq!(status("GET", headers), want, "GET {headers:?}");
        assert_eq!(status("HEAD", headers), want, "HEAD {headers:?}");
    }
}

/// The boundary of a `multipart/byteranges` answer.
fn boundary_of(resp: &Response) -> String {
    let content_type = resp.header("content-type").unwrap();
    content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"))
        .to_owned()
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

#[test]
fn byteranges_boundary_is_fresh_and_absent_from_the_file() {
    let builder = Server::builder();
    // Big enough to be served from disk, and holding a would-be boundary.
    let mut content = vec![b'.'; 100_000];
    let fake = b"\r\n--uhttpd-forged\r\nContent-Range: bytes 0-0/1\r\n\r\n";
    content[10..10 + fake.len()].copy_from_slice(fake);
    write_file(builder.root(), "big.bin", &content);
    write_file(builder.root(), "small.txt", &content[..1000]);
    let server = builder.start();
    for path in ["/big.bin", "/small.txt"] {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99,500-599\r\nConnection: close\r\n\r\n"
        );
        let first = server.raw(request.as_bytes());
        let second = server.raw(request.as_bytes());
        assert_eq!((first.status, second.status), (206, 206));
        let (a, b) = (boundary_of(&first), boundary_of(&second));
        assert_ne!(a, b, "{path}: the same boundary twice");
        for (resp, boundary) in [(&first, &a), (&second, &b)] {
            assert!(boundary.len() >= 32 && boundary.len() <= 70, "{boundary}");
            // Two part delimiters and the close delimiter, nothing more.
            assert_eq!(count(&resp.body, boundary.as_bytes()), 3, "{path}");
            let close = format!("\r\n--{boundary}--\r\n");
            assert!(resp.body.ends_with(close.as_bytes()), "{path}");
            // The file's own fake delimiter is there, as content.
            assert!(find(&resp.body, fake).is_some(), "{path}");
        }
    }
}

#[test]
fn multipart_filename_with_a_backslash_answers_400() {
    let server = Server::builder().uploads().start();
    for filename in ["C:\\Windows\\pwn", "a\\b", "a\\\"b", "\\\\server\\share"] {
        let body = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             \r\ndata\r\n--XyZ--\r\n"
        );
        let request = format!(
            "POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
             Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let resp = server.raw(request.as_bytes());
        assert_eq!(resp.status, 400, "filename {filename}: {}", resp.text());
        assert!(resp.text().contains("path separator"), "{}", resp.text());
    }
    assert!(server.uploaded().is_empty(), "{:?}", server.uploaded());
}

#[test]
fn rpc_answers_with_cache_control_no_store() {
    let server = Server::start();
    let resp = agent()
        .get(server.url("/rpc"))
        .header("Cookie", "session=secret")
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
}
