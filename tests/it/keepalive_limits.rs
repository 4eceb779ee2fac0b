//! Keep-alive: defaults per HTTP version, the request limit per
//! connection, and the connection limit. (The idle timeout, at both of its
//! bounds, is a scenario test of the connection machine:
//! `h1::conn::tests::keep_alive_timeout_closes_at_exactly_its_moment_not_before`.)

use std::io::Read;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use uhttp::Config;

use crate::util::{Client, IO_TIMEOUT, TestServer, serve};

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
    // Whether the answer says `Connection: close` depends on whether the FIN
    // was read with the request (see the pipelining test that holds the
    // loop to make sure of it); either way it is answered, then closed.
    assert_eq!(client.read_response().text(), "ok");
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
fn adds_connection_close_on_the_last_of_keep_alive_max_requests() {
    let mut config = Config::default();
    config.keep_alive_max_requests = 3;
    let server = serve(config, ok);
    let mut client = server.connect();
    assert!(!client.get("/1").closes());
    assert!(!client.get("/2").closes());
    let last = client.get("/3");
    assert_eq!(last.status, 200);
    assert!(last.closes());
    client.expect_closed();
}

/// Connections of a server at its limit of `max_waiting_clients`, each
/// having had one answer and now waiting idle between requests.
fn fill_with_idle(server: &TestServer, count: usize) -> Vec<Client> {
    (0..count)
        .map(|_| {
            let mut client = server.connect();
            assert_eq!(client.get("/").status, 200);
            client
        })
        .collect()
}

// Issue 9, item 8: idle keep-alive connections never lock out a new client.
#[test]
fn closes_the_longest_idle_connection_to_admit_a_client_at_the_limit() {
    let mut config = Config::default();
    config.max_waiting_clients = 20;
    config.keep_alive_timeout = Duration::from_secs(30);
    let server = serve(config, ok);
    let mut idle = fill_with_idle(&server, 20);

    let started = Instant::now();
    let mut newcomer = server.connect();
    assert_eq!(newcomer.get("/").status, 200);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(1), "answered after {waited:?}");

    // The connection idle the longest was closed cleanly (EOF, no reset)
    // and nothing was sent on it.
    let mut buf = [0u8; 1];
    assert_eq!(idle[0].stream.read(&mut buf).expect("EOF, not a reset"), 0);
    // The others are still served, and so is the newcomer: each request
    // makes that connection the most recently idle, so the next
    // newcomer takes the next-oldest one's place.
    for client in &mut idle[1..] {
        assert_eq!(client.get("/again").status, 200);
    }
    assert_eq!(newcomer.get("/again").status, 200);
    assert_eq!(server.connect().get("/").status, 200);
    idle[1].expect_closed();
    for client in &mut idle[2..] {
        assert_eq!(client.get("/").status, 200);
    }
}

#[test]
fn a_full_house_of_busy_connections_makes_a_new_client_wait_until_one_finishes() {
    let mut config = Config::default();
    config.max_waiting_clients = 20;
    config.keep_alive_timeout = Duration::from_secs(30);
    // Requests are held by the test, unanswered, until it lets them go.
    let (held, requests) = mpsc::channel::<uhttp::Request>();
    let server = serve(config, move |req| {
        let _ = held.send(req);
    });
    // Ten connections whose bodies are still arriving...
    let mut uploading: Vec<Client> = (0..10)
        .map(|_| {
            let mut client = server.connect();
            client.send("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
            client
        })
        .collect();
    // ... and ten waiting for their answers.
    let mut waiting: Vec<Client> = (0..10)
        .map(|_| {
            let mut client = server.connect();
            client.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
            client
        })
        .collect();
    let mut dispatched: Vec<uhttp::Request> = (0..10)
        .map(|_| requests.recv_timeout(IO_TIMEOUT).expect("a request"))
        .collect();

    // The new connection completes in the listen backlog, but no
    // connection can make room for it.
    let mut newcomer = server.connect();
    newcomer.send("GET /new HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(newcomer.is_silent_for(Duration::from_millis(300)));

    // One upload completes: its answer goes out, the connection goes idle
    // and gives its place to the newcomer.
    uploading[0].send("defghij");
    let upload = requests.recv_timeout(IO_TIMEOUT).expect("the upload");
    assert_eq!(upload.data(), b"abcdefghij");
    upload.respond(200, "stored").unwrap();
    assert_eq!(uploading[0].read_response().text(), "stored");
    let new = requests
        .recv_timeout(IO_TIMEOUT)
        .expect("the newcomer's request");
    assert_eq!(new.path(), "/new");
    new.respond(200, "welcome").unwrap();
    assert_eq!(newcomer.read_response().text(), "welcome");
    uploading[0].expect_closed();

    // The busy ones were left alone: each is still served.
    for (client, req) in waiting.iter_mut().zip(dispatched.drain(..)) {
        req.respond(200, "late").unwrap();
        assert_eq!(client.read_response().text(), "late");
    }
    for client in &mut uploading[1..] {
        client.send("defghij");
        let req = requests.recv_timeout(IO_TIMEOUT).expect("an upload");
        req.respond(200, "stored").unwrap();
        assert_eq!(client.read_response().text(), "stored");
    }
}

#[test]
fn answers_a_client_that_half_closes_after_its_request() {
    let server = serve(Config::default(), ok);
    let mut client = server.connect();
    client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    client.stream.shutdown(std::net::Shutdown::Write).unwrap();
    // Whether the answer says `Connection: close` depends on whether the FIN
    // was read with the request (see the pipelining test that holds the
    // loop to make sure of it); either way it is answered, then closed.
    assert_eq!(client.read_response().text(), "ok");
    client.expect_closed();
}

#[test]
fn drops_a_client_that_vanishes_mid_body_at_once() {
    // request_timeout is long: the close must come from the EOF, not a
    // 408 (which would also be past the client's read timeout).
    let mut config = Config::default();
    config.request_timeout = Duration::from_secs(30);
    let server = serve(config, |req| {
        panic!("a partial body was dispatched: {req:?}")
    });
    let mut client = server.connect();
    client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\npartial");
    client.stream.shutdown(std::net::Shutdown::Write).unwrap();
    client.expect_closed();
}

#[test]
fn loop_handle_counts_open_connections_from_another_thread() {
    let server = serve(Config::default(), ok);
    let handle = server.handle().clone();
    assert_eq!(handle.connections(), 0);
    let mut clients: Vec<Client> = (0..3).map(|_| server.connect()).collect();
    for client in &mut clients {
        // Answered: the loop has accepted (and counted) it.
        assert_eq!(client.get("/").status, 200);
    }
    assert_eq!(handle.connections(), 3);
    clients.truncate(1);
    crate::util::wait_until("two closes counted", || handle.connections() == 1);
    drop(clients);
    crate::util::wait_until("the last close counted", || handle.connections() == 0);
}
