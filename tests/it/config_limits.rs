//! The size and time limits of `Config`, each hit through the wire.

use std::time::{Duration, Instant};

use uhttp::Config;

use crate::util::serve;

fn echo_len(req: uhttp::Request) {
    req.respond(200, req.data().len().to_string()).unwrap();
}

fn head_of_len(len: usize) -> String {
    let start = "GET / HTTP/1.1\r\nHost: t\r\nX-Pad: ";
    let end = "\r\n\r\n";
    format!("{start}{}{end}", "a".repeat(len - start.len() - end.len()))
}

#[test]
fn accepts_a_head_of_exactly_max_headers_length_and_refuses_one_more_with_431() {
    let mut config = Config::default();
    config.max_headers_length = 512;
    let server = serve(config, echo_len);
    let mut client = server.connect();
    assert_eq!(client.send(head_of_len(512)).read_response().status, 200);
    let resp = client.send(head_of_len(513)).read_response();
    assert_eq!(resp.status, 431);
    assert!(resp.closes());
    client.expect_closed();
}

#[test]
fn refuses_an_endless_head_with_431_without_waiting_for_its_end() {
    let mut config = Config::default();
    config.max_headers_length = 1024;
    let server = serve(config, echo_len);
    let mut client = server.connect();
    client.send("GET / HTTP/1.1\r\nHost: t\r\nX-Pad: ");
    client.send("b".repeat(4096));
    let resp = client.read_response();
    assert_eq!(resp.status, 431);
    client.read_to_end();
}

#[test]
fn accepts_a_body_of_exactly_max_content_length() {
    let mut config = Config::default();
    config.max_content_length = 1000;
    let server = serve(config, echo_len);
    let mut client = server.connect();
    client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n");
    client.send("x".repeat(1000));
    assert_eq!(client.read_response().text(), "1000");
}

#[test]
fn refuses_a_body_over_max_content_length_with_413_on_the_headers() {
    let mut config = Config::default();
    config.max_content_length = 1000;
    let server = serve(config, echo_len);
    let mut client = server.connect();
    // The body is never sent: the answer must come from the head alone.
    client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n");
    let resp = client.read_response();
    assert_eq!(resp.status, 413);
    assert!(resp.closes());
    client.expect_closed();
}

#[test]
fn refuses_an_oversized_expect_100_continue_body_without_sending_100() {
    let mut config = Config::default();
    config.max_content_length = 1000;
    let server = serve(config, echo_len);
    let mut client = server.connect();
    client.send(
        "PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 50000000\r\n\
         Expect: 100-continue\r\n\r\n",
    );
    // read_response asserts the status line; a 100 would fail this.
    let resp = client.read_response();
    assert_eq!(resp.status, 413);
    client.expect_closed();
}

#[test]
fn refuses_a_chunked_body_growing_over_max_content_length_with_413() {
    let mut config = Config::default();
    config.max_content_length = 1000;
    let server = serve(config, echo_len);
    let mut client = server.connect();
    client.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    client.send(format!("3e8\r\n{}\r\n", "y".repeat(1000)));
    client.send("1\r\nz\r\n0\r\n\r\n");
    let resp = client.read_response();
    assert_eq!(resp.status, 413);
    client.read_to_end();
}

#[test]
fn answers_a_slowloris_head_with_408_and_closes() {
    let mut config = Config::default();
    config.request_timeout = Duration::from_millis(300);
    let server = serve(config, echo_len);
    let mut client = server.connect();
    let start = Instant::now();
    client.send("GET / HTTP/1.1\r\nHost: t\r\n");
    client.send("X-Slow: 1\r\n");
    let resp = client.read_response();
    assert_eq!(resp.status, 408);
    assert!(resp.closes());
    client.expect_closed();
    assert!(start.elapsed() >= Duration::from_millis(250));
    // Others are still served.
    assert_eq!(server.connect().get("/").status, 200);
}

#[test]
fn closes_a_connection_that_never_sends_a_byte_after_request_timeout() {
    let mut config = Config::default();
    config.request_timeout = Duration::from_millis(200);
    let server = serve(config, echo_len);
    let mut client = server.connect();
    // Nothing was requested, so nothing is answered: just a close.
    client.expect_closed();
}

/// Regression for issue 9: a timeout too long to add to the clock means
/// no limit, instead of a panic on every accept.
#[test]
fn the_largest_timeouts_and_sizes_mean_no_limit_not_a_panic() {
    let mut config = Config::default();
    config.keep_alive_timeout = Duration::MAX;
    config.request_timeout = Duration::MAX;
    config.send_timeout = Duration::MAX;
    config.max_headers_length = usize::MAX;
    config.max_content_length = u64::MAX;
    config.max_send_buffer = usize::MAX;
    let server = serve(config, echo_len);
    let mut client = server.connect();
    for _ in 0..2 {
        client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
        assert_eq!(client.read_response().text(), "3");
    }
    // Half a head, then silence: no deadline fires, and nothing breaks.
    client.send("GET / HTTP/1.1\r\n");
    assert!(client.is_silent_for(Duration::from_millis(200)));
    client.send("Host: t\r\n\r\n");
    assert_eq!(client.read_response().status, 200);
}
