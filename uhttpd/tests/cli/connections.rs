//! The connection limit: derived from the open-file limit uhttpd raises at
//! start-up, and never held against a new client by idle keep-alive
//! connections (issue 9, item 8).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::util::{Server, connect, read_head, write_file};

const BODY: &[u8] = b"hello, idle world\n";

/// Sends `GET /hello.txt` on a kept-alive connection and reads the answer.
fn get(stream: &mut TcpStream) {
    stream
        .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let head = read_head(stream);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("connection"), None, "kept alive");
    let mut body = vec![0u8; BODY.len()];
    stream.read_exact(&mut body).unwrap();
    assert_eq!(body, BODY);
}

/// A GET answered well within the keep-alive timeout (15 s): no wait in
/// the listen backlog.
fn get_at_once(stream: &mut TcpStream) {
    let started = Instant::now();
    get(stream);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "answered after {took:?}");
}

/// Whether the server closed `stream` cleanly (EOF, not a reset).
fn is_closed(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(stream.read(&mut byte), Ok(0))
}

fn start(args: &[&str], shell: &str) -> Server {
    let builder = Server::builder().args(args).under_shell(shell);
    write_file(builder.root(), "hello.txt", BODY);
    builder.start()
}

#[test]
fn derives_max_connections_from_the_raised_open_file_limit() {
    // Soft limit 100, hard 600: raised to 600, (600 - 64) / 2 = 268.
    let server = start(&[], "ulimit -n 600 && ulimit -Sn 100");
    server.stderr.wait_for("the connection limit", |l| {
        l.contains("open-file limit 600: up to 268 connections per worker")
    });
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.pid())).unwrap();
    let open_files = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files in /proc/PID/limits");
    assert_eq!(
        open_files.split_whitespace().collect::<Vec<_>>()[3..5],
        ["600", "600"],
        "{open_files}"
    );

    // 300 connections, each answered and left idle: past the 268th, each
    // newcomer takes the place of the one idle the longest.
    let mut idle: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut stream = connect(server.addr());
            get_at_once(&mut stream);
            stream
        })
        .collect();
    let mut newcomer = connect(server.addr());
    get_at_once(&mut newcomer);

    let evicted = 300 + 1 - 268;
    for stream in &mut idle[..evicted] {
        assert!(is_closed(stream));
    }
    for stream in &mut idle[evicted..] {
        get_at_once(stream);
    }
    get_at_once(&mut newcomer);
}

#[test]
fn an_explicit_max_connections_wins_over_the_derived_one() {
    let server = start(&["--max-connections", "20"], "ulimit -n 600");
    let mut idle: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut stream = connect(server.addr());
            get(&mut stream);
            stream
        })
        .collect();
    let mut newcomer = connect(server.addr());
    get_at_once(&mut newcomer);
    assert!(is_closed(&mut idle[0]));
    for stream in &mut idle[1..] {
        get_at_once(stream);
    }
}
