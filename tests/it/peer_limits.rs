//! `Config::peer_limits` and `Config::limit_rate` over loopback: the
//! connection over an address's limit answered 429 and closed, its slot
//! reusable once one closes, other addresses (127.0.0.2, or clients a
//! PROXY header names, IPv6 by /64) unaffected; requests over the rate
//! answered 429 with `Retry-After` on a connection that stays open; and
//! responses paced to the byte rate, each connection on its own.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::num::{NonZeroU32, NonZeroU64};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use uhttp::{AccessLog, Config, PeerLimits, ProxyProtocol, Rate, RequestError};

use crate::common::client::tcp_from;
use crate::common::proxy_header::v2;
use crate::util::{Client, IO_TIMEOUT, TestServer, serve, wait_until, write_pattern_file};

fn n(v: u32) -> NonZeroU32 {
    NonZeroU32::new(v).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn client_from(source: &str, server: &TestServer) -> Client {
    Client::new(tcp_from(ip(source), server.addr(), IO_TIMEOUT))
}

/// Serves `GET /who` with the client's address; records the status and
/// refusal of every access-log record.
fn start(mut config: Config) -> (TestServer, Receiver<(u16, Option<RequestError>)>) {
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    config.access_log = Some(AccessLog::new(move |done| {
        let _ = tx.lock().unwrap().send((done.status(), done.refused()));
    }));
    let server = serve(config, |req| {
        let text = req.remote_address().to_string();
        req.respond(200, text).unwrap();
    });
    (server, rx)
}

fn max_connections(max: u32) -> Config {
    let mut config = Config::default();
    config.peer_limits = Some(PeerLimits::new().max_connections(n(max)));
    config
}

/// The answer to a connection over its limit, read without sending a
/// request: 429, `Connection: close`, then the end of the stream.
fn assert_refused(client: &mut Client) {
    let response = client.read_response();
    assert_eq!(response.status, 429, "{}", response.text());
    assert!(response.closes(), "Connection: close");
    client.expect_closed();
}

#[test]
fn the_connection_over_an_address_limit_gets_429_and_others_are_served() {
    let (server, records) = start(max_connections(2));
    let mut first = client_from("127.0.0.1", &server);
    let mut second = client_from("127.0.0.1", &server);
    assert_eq!(first.get("/who").status, 200);
    assert_eq!(second.get("/who").status, 200);
    for _ in 0..2 {
        let _ = records.recv_timeout(IO_TIMEOUT).unwrap();
    }

    let mut third = client_from("127.0.0.1", &server);
    assert_refused(&mut third);
    assert_eq!(
        records.recv_timeout(IO_TIMEOUT).unwrap(),
        (429, Some(RequestError::TooManyConnections))
    );

    // Another address, and the two connections already open, are served.
    let mut other = client_from("127.0.0.2", &server);
    assert_eq!(other.get("/who").text(), "127.0.0.2");
    assert_eq!(first.get("/who").status, 200);
    assert_eq!(second.get("/who").status, 200);

    // A slot freed by a close is taken by the next connection.
    drop(first);
    wait_until("the closed connection to be gone", || {
        server.handle().connections() == 2
    });
    let mut again = client_from("127.0.0.1", &server);
    assert_eq!(again.get("/who").status, 200);
    let mut over = client_from("127.0.0.1", &server);
    assert_refused(&mut over);
}

#[test]
fn a_refused_client_that_sends_its_request_reads_the_429() {
    let (server, _records) = start(max_connections(1));
    let mut held = client_from("127.0.0.1", &server);
    assert_eq!(held.get("/who").status, 200);
    let mut refused = client_from("127.0.0.1", &server);
    refused.request("GET", "/who", "HTTP/1.1");
    refused.send(b"POST /who HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    assert_refused(&mut refused);
    assert_eq!(held.get("/who").status, 200);
}

/// PROXY v2 headers from 127.0.0.1, one connection per client address.
fn behind_a_proxy() -> Config {
    let mut config = max_connections(1);
    config.proxy_protocol = ProxyProtocol::Required {
        from: vec![ip("127.0.0.1")],
    };
    config
}

/// A connection from the proxy on behalf of `client`.
fn proxied(server: &TestServer, client: &str) -> Client {
    let mut conn = server.connect();
    let source = SocketAddr::new(ip(client), 40000);
    let destination = match source {
        SocketAddr::V4(_) => server.addr(),
        SocketAddr::V6(_) => "[2001:db8::80]:80".parse().unwrap(),
    };
    conn.send(v2(source, destination, &[]));
    conn
}

#[test]
fn clients_named_by_one_trusted_proxy_are_counted_apart_and_ipv6_by_64() {
    let (server, _records) = start(behind_a_proxy());
    let mut a = proxied(&server, "203.0.113.7");
    let mut b = proxied(&server, "203.0.113.8");
    assert_eq!(a.get("/who").text(), "203.0.113.7");
    assert_eq!(b.get("/who").text(), "203.0.113.8");
    assert_refused(&mut proxied(&server, "203.0.113.7"));

    let mut v6 = proxied(&server, "2001:db8:0:1::1");
    assert_eq!(v6.get("/who").text(), "2001:db8:0:1::1");
    // Another address of the same /64 is the same client...
    assert_refused(&mut proxied(&server, "2001:db8:0:1:ffff::2"));
    // ...the next /64 another one.
    let mut next = proxied(&server, "2001:db8:0:2::1");
    assert_eq!(next.get("/who").text(), "2001:db8:0:2::1");
    // The held connections are still served.
    assert_eq!(a.get("/who").status, 200);
    assert_eq!(v6.get("/who").status, 200);
}

#[test]
fn a_connection_refused_for_its_proxy_header_frees_no_slot_it_never_took() {
    let (server, _records) = start(behind_a_proxy());
    // From 127.0.0.2, not the trusted proxy: closed unanswered.
    let mut stranger = client_from("127.0.0.2", &server);
    stranger.request("GET", "/who", "HTTP/1.1");
    stranger.expect_closed();
    // A header cut short by the proxy's close.
    let mut cut = server.connect();
    cut.send(&v2(SocketAddr::new(ip("203.0.113.9"), 1), server.addr(), &[])[..10]);
    drop(cut);
    let mut a = proxied(&server, "203.0.113.9");
    assert_eq!(a.get("/who").status, 200);
    assert_refused(&mut proxied(&server, "203.0.113.9"));
}

fn rate(per_second: u32) -> Config {
    let mut config = Config::default();
    config.peer_limits = Some(PeerLimits::new().rate(Rate::per_second(n(per_second))));
    config.trusted_proxies = vec![ip("127.0.0.1")];
    config
}

fn get_as(client: &mut Client, forwarded_for: &str) -> crate::common::client::Response {
    client.send(format!(
        "GET /who HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: {forwarded_for}\r\n\r\n"
    ));
    client.read_response()
}

#[test]
fn requests_over_the_rate_get_429_with_retry_after_on_a_kept_connection() {
    let (server, records) = start(rate(2));
    let mut client = client_from("127.0.0.2", &server);
    // The burst: two requests at once.
    assert_eq!(client.get("/who").status, 200);
    assert_eq!(client.get("/who").status, 200);
    let limited = client.get("/who");
    assert_eq!(limited.status, 429);
    assert!(!limited.closes(), "the connection stays open");
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(retry_after, 1, "a token every half second, rounded up");
    let statuses: Vec<_> = (0..3)
        .map(|_| records.recv_timeout(IO_TIMEOUT).unwrap())
        .collect();
    assert_eq!(
        statuses[2],
        (429, Some(RequestError::RateLimited { retry_after: 1 }))
    );

    // Another address has its own bucket.
    let mut other = client_from("127.0.0.3", &server);
    assert_eq!(other.get("/who").status, 200);

    // The advertised wait is the thing under test: after it, a token is
    // back, on the same connection.
    std::thread::sleep(Duration::from_secs(retry_after));
    assert_eq!(client.get("/who").status, 200);
}

#[test]
fn the_rate_counts_the_client_a_trusted_proxy_forwards_for() {
    let (server, _records) = start(rate(1));
    let mut proxy = client_from("127.0.0.1", &server);
    assert_eq!(get_as(&mut proxy, "198.51.100.1").text(), "198.51.100.1");
    assert_eq!(get_as(&mut proxy, "198.51.100.1").status, 429);
    assert_eq!(get_as(&mut proxy, "198.51.100.2").text(), "198.51.100.2");
    // The same /64 shares a bucket.
    assert_eq!(get_as(&mut proxy, "2001:db8::1").status, 200);
    assert_eq!(get_as(&mut proxy, "2001:db8::2").status, 429);
}

#[test]
fn a_rate_limited_request_with_a_body_is_answered_and_the_connection_closed() {
    let (server, _records) = start(rate(1));
    let mut client = client_from("127.0.0.2", &server);
    assert_eq!(client.get("/who").status, 200);
    client.send(b"POST /who HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\nabc");
    let response = client.read_response();
    assert_eq!(response.status, 429);
    assert!(response.closes());
    client.expect_closed();
}

const MIB: usize = 1 << 20;

/// Reads one response of `len` body bytes off `stream`; the time it took
/// from the request.
fn timed_download(addr: SocketAddr, path: &str, len: usize) -> Duration {
    let started = Instant::now();
    let mut client = Client::new(crate::common::client::tcp(addr, Duration::from_secs(20)));
    let response = client.get(path);
    assert_eq!(response.status, 200);
    assert_eq!(response.body.len(), len);
    started.elapsed()
}

#[test]
fn downloads_are_paced_to_limit_rate_each_connection_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big");
    write_pattern_file(&file, MIB);
    let mut config = Config::default();
    config.limit_rate = NonZeroU64::new(256 * 1024);
    let server = serve(config, move |req| match req.path() {
        "/file" => req.respond_file(&file).unwrap(),
        "/bytes" => req.respond(200, vec![7u8; MIB]).unwrap(),
        _ => req.respond(200, "small").unwrap(),
    });
    let addr = server.addr();
    let started = Instant::now();
    // From a file (sendfile) and from memory, at once.
    let from_file = std::thread::spawn(move || timed_download(addr, "/file", MIB));
    let from_memory = std::thread::spawn(move || timed_download(addr, "/bytes", MIB));
    // Meanwhile another connection is answered at once.
    let mut other = Client::<TcpStream>::connect(addr);
    let asked = Instant::now();
    assert_eq!(other.get("/small").text(), "small");
    assert!(asked.elapsed() < Duration::from_secs(1));

    for took in [from_file.join().unwrap(), from_memory.join().unwrap()] {
        // 1 MiB at 256 KiB/s: 4 s, less the first burst (1/20 s).
        assert!(took >= Duration::from_millis(3900), "too fast: {took:?}");
        assert!(took < Duration::from_secs(7), "too slow: {took:?}");
    }
    // Side by side, not one after the other.
    assert!(started.elapsed() < Duration::from_secs(7));
}
