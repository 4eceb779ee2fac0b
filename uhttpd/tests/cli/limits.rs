//! `--max-connections-per-ip`, `--rate-limit` and `--limit-rate` through
//! the real `uhttpd` (issue 14, item 4): listed in the start-up summary,
//! one count per client across workers, refusals logged and counted in
//! `--metrics`, downloads paced.

use std::io::Write;
use std::net::{IpAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::common::client::{Client, tcp_from};
use crate::util::{PATIENCE, Server, agent, write_file};

fn from(source: &str, server: &Server) -> Client {
    let source: IpAddr = source.parse().unwrap();
    Client::new(tcp_from(source, server.addr(), PATIENCE))
}

/// The metrics address in the server's log.
fn metrics_addr(server: &Server) -> String {
    let line = server
        .stderr
        .wait_for("the metrics address", |l| l.contains("metrics on http://"));
    let rest = line.split("http://").nth(1).unwrap();
    rest.strip_suffix("/metrics").unwrap().to_owned()
}

fn scrape(addr: &str, series: &str) -> f64 {
    let text = agent()
        .get(format!("http://{addr}/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn connections_per_client_are_counted_across_workers_and_refusals_logged() {
    let builder = Server::builder().args(["--workers", "2", "--max-connections-per-ip", "2"]);
    write_file(builder.root(), "a.txt", b"a\n");
    let server = builder.start();
    server.stderr.wait_for("the summary", |l| {
        l.contains("client limits: 2 connections per client")
    });
    let mut held = [from("127.0.0.1", &server), from("127.0.0.1", &server)];
    for client in &mut held {
        assert_eq!(client.get("/a.txt").status, 200);
    }
    // Whichever worker accepts them (the kernel spreads connections),
    // more from the same client are refused.
    for _ in 0..6 {
        let mut over = from("127.0.0.1", &server);
        let response = over.read_response();
        assert_eq!(response.status, 429, "{}", response.text());
        assert!(response.closes());
        over.expect_closed();
    }
    server.stderr.wait_for("a refusal in the access log", |l| {
        l.contains("127.0.0.1") && l.contains(" 429 ")
    });
    let mut other = from("127.0.0.2", &server);
    assert_eq!(other.get("/a.txt").status, 200);
    for client in &mut held {
        assert_eq!(client.get("/a.txt").status, 200);
    }
}

#[test]
fn requests_over_the_rate_get_429_retry_after_and_are_counted() {
    let builder = Server::builder().args([
        "--rate-limit",
        "1/m",
        "--rate-burst",
        "2",
        "--metrics",
        "127.0.0.1:0",
    ]);
    write_file(builder.root(), "a.txt", b"a\n");
    let server = builder.start();
    server.stderr.wait_for("the summary", |l| {
        l.contains("client limits: 1/m requests per client (bursts of 2)")
    });
    let metrics = metrics_addr(&server);
    let mut client = from("127.0.0.1", &server);
    assert_eq!(client.get("/a.txt").status, 200);
    assert_eq!(client.get("/rpc").status, 200);
    let limited = client.get("/a.txt");
    assert_eq!(limited.status, 429);
    // One token a minute, the last taken just now.
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (59..=60).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    assert!(!limited.closes());
    assert_eq!(client.get("/a.txt").status, 429, "the same connection");
    let mut other = from("127.0.0.2", &server);
    assert_eq!(other.get("/a.txt").status, 200);
    let counted = r#"uhttpd_rate_limited_total"#;
    crate::common::poll("the counter", PATIENCE, || {
        (scrape(&metrics, counted) == 2.0).then_some(())
    });
}

#[test]
fn downloads_are_paced_per_connection() {
    let builder = Server::builder().args(["--limit-rate", "256K"]);
    write_file(builder.root(), "big.bin", &vec![b'x'; 512 * 1024]);
    write_file(builder.root(), "small.txt", b"small\n");
    let server = builder.start();
    server.stderr.wait_for("the summary", |l| {
        l.contains("client limits: downloads at 256K/s per connection")
    });
    let url = server.url("/big.bin");
    let started = Instant::now();
    let download = std::thread::spawn(move || {
        let body = agent()
            .get(&url)
            .call()
            .unwrap()
            .body_mut()
            .read_to_vec()
            .unwrap();
        (body.len(), started.elapsed())
    });
    // Another connection meanwhile is not held back by it.
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let asked = Instant::now();
    stream
        .write_all(b"GET /small.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let small = crate::common::client::read_to_close(&mut stream);
    assert_eq!(small.text(), "small\n");
    assert!(asked.elapsed() < Duration::from_secs(1));
    let (len, took) = download.join().unwrap();
    assert_eq!(len, 512 * 1024);
    // 512 KiB at 256 KiB/s: 2 s, less the first burst (1/20 s).
    assert!(took >= Duration::from_millis(1900), "too fast: {took:?}");
    assert!(took < Duration::from_secs(5), "too slow: {took:?}");
}
