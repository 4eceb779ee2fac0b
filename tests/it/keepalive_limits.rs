//! Keep-alive: defaults per HTTP version, the idle timeout, the request
//! limit per connection, and the connection limit.

use std::time::{Duration, Instant};

use uhttp::Config;

use crate::util::{Client, serve};

fn ok(req: uhttp::Request) {
    req.respond(200, "ok").unwrap();
}

#[test]
fn keeps_http_11_connections_open_by_default() {
    let server = serve(Config::default(), ok);
    let mut client = server.connect();
    for _ in 0..5 {
        let resp = client.get("/");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("connection"), None);
    }
}

#[test]
fn closes_http_11_when_the_client_asks() {
    let server = serve(Config::default(), ok);
    let mut client = server.connect();
    client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let resp = client.read_response();
    assert!(resp.closes());
    client.expect_closed();
}

#[test]
fn closes_http_10_connections_by_default() {
    let server = serve(Config::default(), ok);
    let mut client = server.connect();
    client.send("GET / HTTP/1.0\r\n\r\n");
    let resp = client.read_response();
    assert_eq!(resp.text(), "ok");
    assert!(resp.closes());
    client.expect_closed();
}

#[test]
fn keeps_http_10_open_when_asked_with_keep_alive() {
    let server = serve(Config::default(), ok);
    let mut client = server.connect();
    for _ in 0..2 {
        client.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let resp = client.read_response();
        assert_eq!(resp.header("connection"), Some("keep-alive"));
    }
    client.send("GET / HTTP/1.0\r\n\r\n");
    assert!(client.read_response().closes());
    client.expect_closed();
}

#[test]
fn closes_idle_connections_after_keep_alive_timeout() {
    let config = Config {
        keep_alive_timeout: Duration::from_millis(200),
        ..Config::default()
    };
    let server = serve(config, ok);
    let mut client = server.connect();
    assert_eq!(client.get("/").status, 200);
    let idle_from = Instant::now();
    client.expect_closed();
    let idle = idle_from.elapsed();
    assert!(idle >= Duration::from_millis(150), "closed after {idle:?}");
}

#[test]
fn adds_connection_close_on_the_last_of_keep_alive_max_requests() {
    let config = Config {
        keep_alive_max_requests: 3,
        ..Config::default()
    };
    let server = serve(config, ok);
    let mut client = server.connect();
    assert!(!client.get("/1").closes());
    assert!(!client.get("/2").closes());
    let last = client.get("/3");
    assert_eq!(last.status, 200);
    assert!(last.closes());
    client.expect_closed();
}

#[test]
fn serves_a_connection_beyond_max_waiting_clients_only_after_one_closes() {
    let config = Config {
        max_waiting_clients: 1,
        ..Config::default()
    };
    let server = serve(config, ok);
    let mut first = server.connect();
    assert_eq!(first.get("/").status, 200);

    // The second connection completes in the listen backlog but is not
    // accepted while the first one is open.
    let mut second = Client::connect(server.addr());
    second.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(second.is_silent_for(Duration::from_millis(300)));
    // The first stays served meanwhile.
    assert_eq!(first.get("/").status, 200);

    drop(first);
    assert_eq!(second.read_response().status, 200);
}
