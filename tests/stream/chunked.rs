//! Chunked streams: incremental delivery, keep-alive after the end,
//! HTTP/1.0 close-delimited bodies, HEAD, cookies and headers, curl.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use uhttp::{
    Config, Cookie, Error, Event, NdjsonStream, Response, ResponseStream, SameSite, SseStream,
};

use crate::util::{IO_TIMEOUT, require, serve_events};

/// A server that hands every `/stream` request's stream to the test and
/// answers anything else with `after`.
fn stream_server(
    make: impl Fn() -> Response + Send + 'static,
) -> (crate::util::TestServer, mpsc::Receiver<ResponseStream>) {
    let (tx, rx) = mpsc::channel();
    let server = serve_events(Config::default(), move |event| {
        if let Event::Request(req) = event {
            if req.path() == "/stream" {
                tx.send(req.response_stream(make()).unwrap()).unwrap();
            } else {
                req.respond(200, "after").unwrap();
            }
        }
    });
    (server, rx)
}

#[test]
fn delivers_each_chunk_as_sent_then_serves_the_next_request_on_the_connection() {
    let (server, streams) = stream_server(|| Response::new(200));
    let mut client = server.connect();
    client.request("GET", "/stream", "HTTP/1.1");
    let stream = streams.recv_timeout(IO_TIMEOUT).unwrap();
    let head = client.head();
    assert_eq!((head.version.as_str(), head.status), ("HTTP/1.1", 200));
    assert!(head.is_chunked(), "{head:?}");
    assert_eq!(head.header("content-length"), None);
    assert_eq!(head.header("connection"), None, "HTTP/1.1 keeps alive");
    // Each chunk is read before the next is sent: nothing waits for more.
    for piece in ["one", "two", "three"] {
        stream.send_chunk(piece.as_bytes()).unwrap();
        assert_eq!(client.chunk().as_deref(), Some(piece.as_bytes()));
    }
    stream.send_chunk(b"").unwrap(); // sends nothing, does not end
    stream.end().unwrap();
    assert_eq!(client.chunk(), None);
    assert!(matches!(
        stream.send_chunk(b"late"),
        Err(Error::InvalidState(_))
    ));

    client.request("GET", "/next", "HTTP/1.1");
    let head = client.head();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("5"));
    assert_eq!(client.exact(5), b"after");
}

#[test]
fn sends_a_close_delimited_body_to_an_http_1_0_client() {
    let (server, streams) = stream_server(|| Response::new(200));
    let mut client = server.connect();
    client.request("GET", "/stream", "HTTP/1.0");
    let stream = streams.recv_timeout(IO_TIMEOUT).unwrap();
    let head = client.head();
    assert_eq!(head.status, 200);
    assert!(!head.is_chunked(), "{head:?}");
    assert_eq!(head.header("transfer-encoding"), None);
    assert_eq!(head.header("content-length"), None);
    assert_eq!(head.header("connection"), Some("close"));
    stream.send_chunk(b"first").unwrap();
    assert_eq!(client.exact(5), b"first");
    stream.send_chunk(b"second").unwrap();
    stream.end().unwrap();
    assert_eq!(client.read_to_close(), b"second");
}

#[test]
fn answers_head_with_the_head_only_and_keeps_the_connection() {
    let server = serve_events(Config::default(), move |event| {
        if let Event::Request(req) = event {
            if req.method() == "HEAD" {
                let stream = req
                    .response_stream(Response::new(200).header("X-Stream", "yes"))
                    .unwrap();
                // Whether these are queued or refused, none may reach the wire.
                let _ = stream.send_chunk(b"never on the wire");
                let _ = stream.end();
            } else {
                req.respond(200, "after").unwrap();
            }
        }
    });
    let mut client = server.connect();
    client.request("HEAD", "/stream", "HTTP/1.1");
    let head = client.head();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("x-stream"), Some("yes"));
    client.request("GET", "/next", "HTTP/1.1");
    // Had any body bytes followed the HEAD answer, this would not parse.
    let head = client.head();
    assert_eq!(head.status, 200);
    assert_eq!(client.exact(5), b"after");
}

fn with_cookie(response: Response) -> Response {
    response.header("X-Custom", "custom value").cookie(
        Cookie::new("session", "42")
            .path("/")
            .max_age(60)
            .http_only(true)
            .same_site(SameSite::Lax),
    )
}

#[test]
fn carries_cookies_and_custom_headers_on_every_kind_of_stream() {
    let server = serve_events(Config::default(), move |event| {
        if let Event::Request(req) = event {
            let response = with_cookie(Response::new(200));
            match req.path() {
                "/chunked" => req.response_stream(response).unwrap().end().unwrap(),
                "/sse" => req.response_sse(response).unwrap().end().unwrap(),
                "/ndjson" => req.response_ndjson(response).unwrap().end().unwrap(),
                "/multipart" => req.response_multipart(response).unwrap().end().unwrap(),
                _ => req.respond(404, "").unwrap(),
            }
        }
    });
    let mut client = server.connect();
    for (path, content_type) in [
        ("/chunked", None),
        ("/sse", Some("text/event-stream")),
        ("/ndjson", Some("application/x-ndjson")),
        ("/multipart", Some("multipart/x-mixed-replace; boundary=")),
    ] {
        client.request("GET", path, "HTTP/1.1");
        let head = client.head();
        assert_eq!(head.status, 200, "{path}");
        assert_eq!(head.header("x-custom"), Some("custom value"), "{path}");
        let cookie = head.headers_named("set-cookie");
        assert_eq!(cookie.len(), 1, "{path}: {head:?}");
        for part in [
            "session=42",
            "Path=/",
            "Max-Age=60",
            "HttpOnly",
            "SameSite=Lax",
        ] {
            assert!(
                cookie[0].contains(part),
                "{path}: {} lacks {part}",
                cookie[0]
            );
        }
        if let Some(expected) = content_type {
            let got = head.header("content-type").unwrap_or_default();
            assert!(got.starts_with(expected), "{path}: {got}");
        }
        client.chunked_body();
    }
}

#[test]
fn refuses_a_stream_header_with_a_line_break() {
    let (tx, rx) = mpsc::channel();
    let server = serve_events(Config::default(), move |event| {
        if let Event::Request(req) = event {
            let bad = Response::new(200).header("X-Bad", "a\r\nInjected: yes");
            let refused = req.response_stream(bad).map(|_| ());
            tx.send(matches!(refused, Err(Error::InvalidHeader(_))))
                .unwrap();
            req.respond(200, "ok").unwrap();
        }
    });
    let mut client = server.connect();
    client.request("GET", "/", "HTTP/1.1");
    assert!(rx.recv_timeout(IO_TIMEOUT).unwrap());
    let head = client.head();
    assert_eq!(head.header("injected"), None);
    assert_eq!(client.exact(2), b"ok");
}

/// A stream of each framing, as the handler started it.
enum Started {
    Chunked(ResponseStream),
    Sse(SseStream),
    Ndjson(NdjsonStream),
}

impl Started {
    /// Sends piece `i`; returns the lines curl prints for it.
    fn send(&self, i: u32) -> Vec<String> {
        match self {
            Started::Chunked(s) => {
                s.send_chunk(format!("piece {i}\n").as_bytes()).unwrap();
                vec![format!("piece {i}")]
            }
            Started::Sse(s) => {
                s.send_event(&format!("tick {i}"), Some("tick"), None, None)
                    .unwrap();
                vec![
                    "event: tick".into(),
                    format!("data: tick {i}"),
                    String::new(),
                ]
            }
            Started::Ndjson(s) => {
                s.send(&serde_json::json!({ "i": i })).unwrap();
                vec![format!("{{\"i\":{i}}}")]
            }
        }
    }

    fn end(&self) {
        match self {
            Started::Chunked(s) => s.end(),
            Started::Sse(s) => s.end(),
            Started::Ndjson(s) => s.end(),
        }
        .unwrap()
    }
}

/// curl -N prints each piece as it arrives: each is read before the next
/// is sent.
#[test]
fn curl_reads_chunked_sse_and_ndjson_streams_incrementally() {
    require("curl");
    let (tx, rx) = mpsc::channel();
    let server = serve_events(Config::default(), move |event| {
        if let Event::Request(req) = event {
            let started = match req.path() {
                "/sse" => Started::Sse(req.response_sse(Response::new(200)).unwrap()),
                "/ndjson" => Started::Ndjson(req.response_ndjson(Response::new(200)).unwrap()),
                _ => Started::Chunked(req.response_stream(Response::new(200)).unwrap()),
            };
            tx.send(started).unwrap();
        }
    });
    for path in ["/chunked", "/sse", "/ndjson"] {
        let mut curl = Command::new("curl")
            .args(["-sS", "-N", "--max-time", "10", &server.url(path)])
            .stdout(Stdio::piped())
            .spawn()
            .expect("run curl");
        let mut lines = BufReader::new(curl.stdout.take().unwrap()).lines();
        let stream = rx.recv_timeout(IO_TIMEOUT).unwrap();
        for i in 0..3 {
            for want in stream.send(i) {
                assert_eq!(lines.next().unwrap().unwrap(), want, "{path}");
            }
        }
        stream.end();
        assert!(lines.next().is_none(), "{path}: more after the end");
        assert!(curl.wait().unwrap().success(), "{path}: curl failed");
    }
}
