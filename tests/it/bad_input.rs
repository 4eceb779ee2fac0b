//! Malformed and refused requests, sent as raw bytes. Each is answered
//! with its status (and, where framing can't be trusted, a close), and a
//! fresh connection is served normally afterwards.

use std::time::Duration;

use uhttp::Config;

use crate::util::{TestServer, serve};

fn server() -> TestServer {
    let mut config = Config::default();
    config.max_headers_length = 1024;
    config.max_content_length = 1000;
    config.request_timeout = Duration::from_millis(300);
    serve(config, |req| req.respond(200, "fine").unwrap())
}

/// Sends `raw`, expects `status` and a close, then checks a new
/// connection is served.
fn refused(raw: &[u8], status: u16) {
    let server = server();
    let mut client = server.connect();
    client.send(raw);
    let resp = client.read_response();
    assert_eq!(
        resp.status,
        status,
        "for {:?}: {}",
        String::from_utf8_lossy(raw),
        resp.text()
    );
    assert!(
        resp.closes(),
        "no Connection: close for {:?}",
        String::from_utf8_lossy(raw)
    );
    client.read_to_end();
    let mut fresh = server.connect();
    let ok = fresh.get("/");
    assert_eq!(ok.status, 200);
    assert_eq!(ok.text(), "fine");
}

#[test]
fn malformed_request_line_is_400() {
    refused(b"GET\r\n\r\n", 400);
    refused(b"GET  / HTTP/1.1\r\nHost: t\r\n\r\n", 400);
    refused(b"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n", 400);
    refused(b"\x00\x01\x02 / HTTP/1.1\r\n\r\n", 400);
}

#[test]
fn request_target_that_is_not_a_path_is_400() {
    refused(b"GET foo HTTP/1.1\r\nHost: t\r\n\r\n", 400);
}

#[test]
fn malformed_header_is_400() {
    refused(b"GET / HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n", 400);
    refused(b"GET / HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n", 400);
    refused(b"GET / HTTP/1.1\r\nHost: t\r\n: empty\r\n\r\n", 400);
    refused(b"GET / HTTP/1.1\r\nHost: t\r\nX: a\x00b\r\n\r\n", 400);
}

#[test]
fn invalid_host_is_400() {
    refused(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
    refused(b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
}

#[test]
fn unknown_method_is_501() {
    refused(b"BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n", 501);
}

#[test]
fn http_2_version_is_505() {
    refused(b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505);
}

#[test]
fn garbage_version_is_400() {
    refused(b"GET / HTTP/x.y\r\nHost: t\r\n\r\n", 400);
    refused(b"GET / FOO/1.1\r\nHost: t\r\n\r\n", 400);
    refused(b"GET / HTTP/1.\xc3\xa9\r\nHost: t\r\n\r\n", 400);
}

#[test]
fn headers_over_the_limit_are_431() {
    let raw = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "b".repeat(2000)
    );
    refused(raw.as_bytes(), 431);
}

#[test]
fn too_many_header_lines_are_431() {
    let mut raw = String::from("GET / HTTP/1.1\r\nHost: t\r\n");
    for i in 0..101 {
        raw.push_str(&format!("X{i}:\r\n"));
    }
    raw.push_str("\r\n");
    let server = serve(Config::default(), |req| req.respond(200, "fine").unwrap());
    let mut client = server.connect();
    client.send(raw);
    assert_eq!(client.read_response().status, 431);
    client.read_to_end();
    assert_eq!(server.connect().get("/").status, 200);
}

#[test]
fn body_over_the_limit_is_413() {
    refused(
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n",
        413,
    );
}

#[test]
fn slow_body_is_408() {
    refused(
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc",
        408,
    );
}

#[test]
fn content_length_with_transfer_encoding_is_400() {
    refused(
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\
          Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    );
}

#[test]
fn differing_duplicate_content_length_is_400() {
    refused(
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        400,
    );
    refused(
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 4\r\n\r\nabcd",
        400,
    );
}

#[test]
fn identical_duplicate_content_length_is_accepted() {
    let server = server();
    let mut client = server.connect();
    client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(client.read_response().status, 200);
}

#[test]
fn invalid_content_length_is_400() {
    refused(
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
        400,
    );
    refused(
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\n",
        400,
    );
    refused(
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0x10\r\n\r\n",
        400,
    );
    refused(
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        400,
    );
}

#[test]
fn duplicate_host_is_400() {
    refused(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    refused(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
}

#[test]
fn missing_host_on_http_11_is_400() {
    refused(b"GET / HTTP/1.1\r\n\r\n", 400);
}

#[test]
fn invalid_chunk_size_is_400() {
    refused(
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        400,
    );
    refused(
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
        400,
    );
    refused(
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
          11111111111111111\r\n",
        400,
    );
}

#[test]
fn missing_crlf_after_chunk_data_is_400() {
    refused(
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
        400,
    );
}

#[test]
fn unsupported_transfer_coding_is_refused() {
    refused(
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        501,
    );
    refused(
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
        400,
    );
}

#[test]
fn transfer_encoding_on_http_10_is_400() {
    refused(
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    );
}

#[test]
fn a_closed_half_request_is_dropped_quietly() {
    let server = server();
    let mut client = server.connect();
    client.send("GET / HTTP/1.1\r\nHo");
    client.stream.shutdown(std::net::Shutdown::Write).unwrap();
    client.expect_closed();
    assert_eq!(server.connect().get("/").status, 200);
}

#[test]
fn a_bad_request_after_a_good_one_on_the_same_connection() {
    let server = server();
    let mut client = server.connect();
    assert_eq!(client.get("/").status, 200);
    client.send("GET / HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n");
    assert_eq!(client.read_response().status, 400);
    client.read_to_end();
}

#[test]
fn a_refused_head_request_gets_no_body() {
    // Found by the strict client (uhttpd/tests/cli/strict_client.py): h11 read
    // the refusal's body as bytes after the end of the answer.
    let requests: [(&[u8], u16); 3] = [
        (
            b"HEAD / HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n",
            413,
        ),
        (
            b"HEAD / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n",
            413,
        ),
        (
            b"HEAD / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            400,
        ),
    ];
    let server = server();
    for (raw, status) in requests {
        let mut client = server.connect();
        client.send(raw);
        if raw.ends_with(b"3e9\r\n") {
            client.send(vec![b'x'; 1001]);
        }
        let resp = client.read_head_response();
        let what = String::from_utf8_lossy(raw);
        assert_eq!(resp.status, status, "{what}");
        assert!(resp.closes(), "{what}");
        assert!(resp.header("content-length").is_some(), "{what}");
        client.expect_closed();
    }
    // A malformed request after a HEAD is answered with a body.
    let mut client = server.connect();
    client.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nBad\r\n\r\n");
    assert_eq!(client.read_head_response().status, 200);
    let resp = client.read_response();
    assert_eq!(
        (resp.status, resp.text().as_str()),
        (400, "400 Bad Request\n")
    );
    client.expect_closed();
}
