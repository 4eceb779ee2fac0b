//! `Expect: 100-continue`: the interim response only when the body will
//! be read.

use std::sync::mpsc;

use uhttp::{Config, Event};

use crate::util::{IO_TIMEOUT, serve, serve_events};

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

#[test]
fn sends_100_continue_before_reading_an_accepted_body() {
    let server = serve(Config::default(), |req| {
        req.respond(200, req.data().to_vec()).unwrap()
    });
    let mut client = server.connect();
    client.send("PUT /f HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    // The body is sent only after the 100.
    client.expect_bytes(CONTINUE);
    client.send("hello");
    assert_eq!(client.read_response().body, b"hello");
}

#[test]
fn ignores_expect_continue_on_http_10() {
    let server = serve(Config::default(), |req| {
        req.respond(200, req.data().to_vec()).unwrap()
    });
    let mut client = server.connect();
    client.send("PUT /f HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello");
    let resp = client.read_response();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"hello");
}

#[test]
fn event_mode_sends_100_only_once_the_body_is_accepted() {
    let (tx, rx) = mpsc::channel();
    let mut config = Config::default();
    config.event_mode = true;
    let server = serve_events(config, move |event| match event {
        Event::Headers(req) => tx.send(req).unwrap(),
        Event::Complete(req) => req.respond(200, req.data().to_vec()).unwrap(),
        other => panic!("unexpected {other:?}"),
    });
    let mut client = server.connect();
    client.send("PUT /f HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    let req = rx.recv_timeout(IO_TIMEOUT).unwrap();
    // Not accepted yet: nothing was sent.
    assert!(client.is_silent_for(std::time::Duration::from_millis(100)));
    req.accept_body().unwrap();
    client.expect_bytes(CONTINUE);
    client.send("abc");
    assert_eq!(client.read_response().body, b"abc");
}

#[test]
fn event_mode_refusal_on_the_headers_sends_no_100_and_reads_no_body() {
    let mut config = Config::default();
    config.event_mode = true;
    let server = serve_events(config, move |event| match event {
        Event::Headers(req) => req.respond(403, "no uploads").unwrap(),
        other => panic!("unexpected {other:?}"),
    });
    let mut client = server.connect();
    client.send(
        "PUT /f HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n",
    );
    let resp = client.read_response();
    assert_eq!(resp.status, 403);
    assert!(resp.closes());
    client.expect_closed();
}
