//! The access log tells the truth (issue 9, items 5 and 6): a line when
//! the response ends, with the body bytes really sent, refusals included;
//! a paused download is not cut off, a stopped one is, and says so.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use crate::common::client::{read_up_to, small_buffer_tcp};
use crate::util::{PATIENCE, Server, write_file};

/// The figures after the request part of an access line: status, bytes,
/// and the cut-short mark if any.
fn figures(line: &str) -> (u16, u64, Option<String>) {
    let rest = &line[line.rfind('"').expect("a quoted request") + 1..];
    let mut words = rest.split_whitespace();
    let status = words.next().unwrap().parse().unwrap();
    let bytes = words.next().unwrap().parse().unwrap();
    let duration = words.next().unwrap();
    assert!(duration.ends_with("ms"), "{line}");
    let mark = rest
        .split_once(" cut-short: ")
        .map(|(_, outcome)| outcome.trim_end().to_owned());
    (status, bytes, mark)
}

/// The access line for `request` (the quoted part), waiting for it.
fn line_for(server: &Server, request: &str) -> String {
    let quoted = format!("\"{request}\"");
    server
        .stderr
        .wait_for(&format!("for {request}"), |l| l.contains(&quoted))
}

/// A client with a small receive buffer, so what it does not read stays
/// on the server's side.
fn small_buffer_client(server: &Server) -> TcpStream {
    small_buffer_tcp(server.addr(), PATIENCE)
}

#[test]
fn logs_a_response_and_a_refusal_with_their_true_figures() {
    let server = Server::builder().start();
    write_file(server.root(), "hello.txt", b"hello");
    assert_eq!(server.raw_get("/hello.txt").status, 200);
    let line = line_for(&server, "GET /hello.txt HTTP/1.1");
    assert!(line.contains("127.0.0.1 "), "{line}");
    assert_eq!(figures(&line), (200, 5, None), "{line}");

    // Refused by the library: no Host (400), an unknown version (505).
    let refused = server.raw(b"GET /nohost HTTP/1.1\r\n\r\n");
    assert_eq!(refused.status, 400);
    let line = line_for(&server, "GET /nohost HTTP/1.1");
    assert_eq!(
        figures(&line),
        (400, refused.body.len() as u64, None),
        "{line}"
    );
    let refused = server.raw(b"GET /\xc3\xa9 HTTP/2.0\r\nHost: t\r\n\r\n");
    assert_eq!(refused.status, 505);
    let line = line_for(&server, r"GET /\xc3\xa9 HTTP/2.0");
    assert_eq!(
        figures(&line),
        (505, refused.body.len() as u64, None),
        "{line}"
    );
}

#[test]
fn a_download_cut_short_by_the_client_is_logged_with_the_bytes_sent() {
    const LEN: usize = 5 << 20;
    let server = Server::builder().start();
    write_file(server.root(), "five.bin", &vec![b'f'; LEN]);
    let mut stream = small_buffer_client(&server);
    stream
        .write_all(b"GET /five.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    assert_eq!(read_up_to(&mut stream, 100 * 1024), 100 * 1024);
    // Closing with unread bytes resets the connection.
    drop(stream);
    let line = line_for(&server, "GET /five.bin HTTP/1.1");
    let (status, bytes, mark) = figures(&line);
    assert_eq!(status, 200, "{line}");
    assert_eq!(mark.as_deref(), Some("client gone"), "{line}");
    assert!(bytes < LEN as u64 && bytes >= 90 * 1024, "{line}");
}

#[test]
fn a_paused_download_completes_and_a_stopped_one_is_cut_off() {
    const LEN: usize = 32 << 20;
    let server = Server::builder()
        .args(["--request-timeout", "1", "--send-timeout", "3"])
        .start();
    write_file(server.root(), "big.bin", &vec![b'b'; LEN]);

    // Paused for longer than --request-timeout: all of it arrives.
    let mut stream = small_buffer_client(&server);
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_eq!(read_up_to(&mut stream, 1 << 20), 1 << 20);
    // The pause is the behaviour under test, not synchronisation.
    std::thread::sleep(Duration::from_millis(2000));
    let total = (1 << 20) + read_up_to(&mut stream, usize::MAX);
    assert!(total > LEN && total < LEN + 1024, "got {total} of {LEN}");
    let line = line_for(&server, "GET /big.bin HTTP/1.1");
    assert_eq!(figures(&line), (200, LEN as u64, None), "{line}");

    // Stopped for longer than --send-timeout: cut off, and logged so.
    let mut stream = small_buffer_client(&server);
    stream
        .write_all(b"GET /big.bin?stop HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    assert_eq!(read_up_to(&mut stream, 100 * 1024), 100 * 1024);
    let line = line_for(&server, "GET /big.bin?stop HTTP/1.1");
    let (status, bytes, mark) = figures(&line);
    assert_eq!(status, 200, "{line}");
    assert_eq!(mark.as_deref(), Some("send timeout"), "{line}");
    assert!(bytes < LEN as u64, "{line}");
    assert!(100 * 1024 + read_up_to(&mut stream, usize::MAX) < LEN);
}
