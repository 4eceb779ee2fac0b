//! Response splitting is refused before anything is sent, and a request
//! is answered at most once.

use std::sync::mpsc;

use uhttp::{Config, Cookie, Error, Response};

use crate::util::{IO_TIMEOUT, serve};

/// Tries `bad` first (reporting the error), then answers 200 "clean".
fn try_then_answer(
    bad: fn() -> Response,
) -> (crate::util::TestServer, mpsc::Receiver<Result<(), Error>>) {
    let (tx, rx) = mpsc::channel();
    let server = serve(Config::default(), move |req| {
        let result = req.send(bad());
        let again = req.respond(200, "clean");
        tx.send(result.and(again)).unwrap();
    });
    (server, rx)
}

fn check_refused(bad: fn() -> Response, expected: fn(&Error) -> bool) {
    let (server, rx) = try_then_answer(bad);
    let mut client = server.connect();
    client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let resp = client.read_response();
    let err = rx.recv_timeout(IO_TIMEOUT).unwrap().unwrap_err();
    assert!(expected(&err), "unexpected error {err:?}");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.text(), "clean");
    assert!(resp.header("injected").is_none());
    assert!(resp.header("set-cookie").is_none());
    // Nothing else was written.
    client.expect_closed();
}

#[test]
fn refuses_crlf_in_a_header_value() {
    check_refused(
        || Response::new(200).header("X-A", "a\r\nInjected: 1"),
        |e| matches!(e, Error::InvalidHeader(n) if n == "X-A"),
    );
}

#[test]
fn refuses_a_bare_lf_in_a_header_value() {
    check_refused(
        || Response::new(200).header("X-A", "a\nInjected: 1"),
        |e| matches!(e, Error::InvalidHeader(_)),
    );
}

#[test]
fn refuses_crlf_in_a_header_name() {
    check_refused(
        || Response::new(200).header("X-A\r\nInjected", "1"),
        |e| matches!(e, Error::InvalidHeader(_)),
    );
}

#[test]
fn refuses_crlf_in_a_redirect_location() {
    check_refused(
        || Response::redirect("/x\r\nInjected: 1", 302),
        |e| matches!(e, Error::InvalidHeader(n) if n == "Location"),
    );
}

#[test]
fn refuses_crlf_in_a_cookie_value() {
    check_refused(
        || Response::new(200).cookie(Cookie::new("sid", "a\r\nInjected: 1")),
        |e| matches!(e, Error::InvalidCookie(n) if n == "sid"),
    );
}

#[test]
fn refuses_crlf_in_a_cookie_path() {
    check_refused(
        || Response::new(200).cookie(Cookie::new("sid", "1").path("/\r\nInjected: 1")),
        |e| matches!(e, Error::InvalidCookie(_)),
    );
}

#[test]
fn answering_twice_is_an_error_and_one_response_goes_out() {
    let (tx, rx) = mpsc::channel();
    let server = serve(Config::default(), move |req| {
        req.respond(200, "first").unwrap();
        let second = req.respond(500, "second");
        let third = req.respond_json(200, &serde_json::json!({}));
        tx.send((second, third)).unwrap();
    });
    let mut client = server.connect();
    client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let resp = client.read_response();
    assert_eq!(resp.text(), "first");
    client.expect_closed();
    let (second, third) = rx.recv_timeout(IO_TIMEOUT).unwrap();
    assert!(matches!(second, Err(Error::AlreadyResponded)));
    assert!(matches!(third, Err(Error::AlreadyResponded)));
}

#[test]
fn answering_twice_from_two_threads_sends_one_response() {
    let (tx, rx) = mpsc::channel();
    let server = serve(Config::default(), move |req| {
        let other = req.clone();
        let worker = std::thread::spawn(move || other.respond(200, "worker"));
        let here = req.respond(200, "loop");
        let there = worker.join().unwrap();
        tx.send(here.is_ok() as u8 + there.is_ok() as u8).unwrap();
    });
    let mut client = server.connect();
    client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let resp = client.read_response();
    assert!(resp.text() == "loop" || resp.text() == "worker");
    client.expect_closed();
    assert_eq!(rx.recv_timeout(IO_TIMEOUT).unwrap(), 1);
}
