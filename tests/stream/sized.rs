//! Sized streams (`Request::response_stream_sized`): `Content-Length`
//! instead of chunks, keep-alive after the whole body, and a body cut
//! short (ended early, or `abort`) closing the connection.

use std::sync::mpsc;

use uhttp::{Config, Error, Event, Response, ResponseStream};

use crate::util::{IO_TIMEOUT, serve_events};

/// A server that starts a sized stream of `len` bytes for `/stream` and
/// answers anything else with `after`.
fn sized_server(len: u64) -> (crate::util::TestServer, mpsc::Receiver<ResponseStream>) {
    let (tx, rx) = mpsc::channel();
    let server = serve_events(Config::default(), move |event| {
        if let Event::Request(req) = event {
            if req.path() == "/stream" {
                let stream = req.response_stream_sized(Response::new(200), len).unwrap();
                tx.send(stream).unwrap();
            } else {
                req.respond(200, "after").unwrap();
            }
        }
    });
    (server, rx)
}

#[test]
fn sends_a_content_length_body_then_serves_the_next_request() {
    let (server, streams) = sized_server(9);
    let mut client = server.connect();
    client.request("GET", "/stream", "HTTP/1.1");
    let stream = streams.recv_timeout(IO_TIMEOUT).unwrap();
    let head = client.head();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("9"));
    assert!(!head.is_chunked(), "{head:?}");
    stream.send_chunk(b"abcd").unwrap();
    assert_eq!(client.exact(4), b"abcd");
    // More than announced is refused, and nothing of it is sent.
    assert!(matches!(
        stream.send_chunk(b"123456"),
        Err(Error::InvalidState(_))
    ));
    stream.send_chunk(b"efghi").unwrap();
    stream.end().unwrap();
    assert_eq!(client.exact(5), b"efghi");

    client.request("GET", "/next", "HTTP/1.1");
    let head = client.head();
    assert_eq!(head.status, 200);
    assert_eq!(client.exact(5), b"after");
}

#[test]
fn a_body_ended_short_or_aborted_closes_the_connection() {
    for abort in [false, true] {
        let (server, streams) = sized_server(100);
        let mut client = server.connect();
        client.request("GET", "/stream", "HTTP/1.1");
        let stream = streams.recv_timeout(IO_TIMEOUT).unwrap();
        let head = client.head();
        assert_eq!(head.header("content-length"), Some("100"));
        stream.send_chunk(b"part").unwrap();
        if abort {
            stream.abort();
            assert!(stream.send_chunk(b"more").is_err());
        } else {
            stream.end().unwrap();
        }
        // What was queued arrives, then the close: never a next response.
        assert_eq!(client.read_to_close(), b"part", "abort: {abort}");
    }
}

#[test]
fn head_gets_the_length_and_no_body() {
    let (server, streams) = sized_server(42);
    let mut client = server.connect();
    client.request("HEAD", "/stream", "HTTP/1.1");
    let stream = streams.recv_timeout(IO_TIMEOUT).unwrap();
    let head = client.head();
    assert_eq!(head.header("content-length"), Some("42"));
    assert!(matches!(stream.send_chunk(b"x"), Err(Error::Closed)));
    client.request("GET", "/next", "HTTP/1.1");
    assert_eq!(client.head().status, 200);
    assert_eq!(client.exact(5), b"after");
}
