//! Bad input on the TLS port costs only its own connection: each case is
//! followed by a normal HTTPS request that is served.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConnection;
use rustls::pki_types::ServerName;

use crate::certs::Pair;
use crate::client::{self, Client, Trust};
use crate::harness::{Server, site};
use crate::startup::random_bytes;
use crate::tls_certs::KeyKind;

fn start(extra: &[&str]) -> (Server, Pair, tempfile::TempDir) {
    let pair = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let root = site();
    let mut args = pair.args();
    args.extend(extra.iter().map(|s| s.to_string()));
    let server = Server::serving(root.path(), &args);
    (server, pair, root)
}

fn served_after(server: &Server, pair: &Pair) {
    let mut client = Client::connect(server.addr(), &Trust::Root(pair.material.leaf().clone()));
    let response = client.get("/hello.txt");
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "hello over TLS\n");
}

/// Reads until the server ends the connection; returns what it sent and
/// how long that took. A read timeout fails the test.
fn read_until_closed(sock: &mut TcpStream) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match sock.read(&mut buf) {
            Ok(0) => return (got, started.elapsed()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                return (got, started.elapsed());
            }
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
}

#[test]
fn plain_http_on_the_tls_port_is_closed_with_an_alert() {
    let (server, pair, _root) = start(&[]);
    let mut sock = TcpStream::connect(server.addr()).unwrap();
    sock.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let (got, _) = read_until_closed(&mut sock);
    // Nothing in clear text; at most a TLS alert record (content type 21).
    assert!(!got.windows(4).any(|w| w == b"HTTP"), "{got:?}");
    if !got.is_empty() {
        assert_eq!(got[0], 21, "not an alert: {got:?}");
    }
    served_after(&server, &pair);
}

#[test]
fn random_bytes_on_the_tls_port_are_closed() {
    let (server, pair, _root) = start(&[]);
    for _ in 0..3 {
        let mut sock = TcpStream::connect(server.addr()).unwrap();
        // The server may close before it has read everything: a write
        // error is fine, hanging is not.
        let _ = sock.write_all(&random_bytes(1024));
        read_until_closed(&mut sock);
    }
    // Random bytes after a valid record header.
    let mut sock = TcpStream::connect(server.addr()).unwrap();
    let mut bytes = vec![0x16, 0x03, 0x01, 0x04, 0x00];
    bytes.extend(random_bytes(1024));
    let _ = sock.write_all(&bytes);
    read_until_closed(&mut sock);
    served_after(&server, &pair);
}

/// A ClientHello that never completes is closed by the request timeout
/// (`--request-timeout 1`), and does not hold up anyone else meanwhile.
#[test]
fn unfinished_client_hello_is_closed_by_the_request_timeout() {
    let (server, pair, _root) = start(&["--request-timeout", "1"]);
    let hello = client_hello();
    let mut stalled = Vec::new();
    for cut in [1, 5, hello.len() / 2, hello.len() - 1] {
        let mut sock = TcpStream::connect(server.addr()).unwrap();
        sock.write_all(&hello[..cut]).unwrap();
        stalled.push(sock);
    }
    // A connection that sends nothing at all is bound the same way.
    stalled.push(TcpStream::connect(server.addr()).unwrap());
    // While they stall, others are served.
    served_after(&server, &pair);
    let started = Instant::now();
    for mut sock in stalled {
        read_until_closed(&mut sock);
    }
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(5), "closed after {waited:?}");
    served_after(&server, &pair);
}

/// A handshake finished, then nothing: closed by the request timeout too.
#[test]
fn idle_connection_after_the_handshake_is_closed_by_the_request_timeout() {
    let (server, pair, _root) = start(&["--request-timeout", "1"]);
    let trust = Trust::Root(pair.material.leaf().clone());
    let mut client =
        Client::connect_with(server.addr(), client::config(&trust, client::BOTH)).unwrap();
    let started = Instant::now();
    assert!(client.is_closed_by_server());
    assert!(started.elapsed() < Duration::from_secs(5));
    served_after(&server, &pair);
}

/// Clients that vanish mid-handshake (after the ClientHello, with a FIN
/// or a reset) cost only their own connections.
#[test]
fn client_vanishing_mid_handshake_costs_only_its_connection() {
    let (server, pair, _root) = start(&[]);
    for reset in [false, true] {
        for _ in 0..20 {
            let sock = TcpStream::connect(server.addr()).unwrap();
            let mut sock = socket2::Socket::from(sock);
            sock.write_all(&client_hello()).unwrap();
            // Wait for the server's first flight, so the server is
            // mid-handshake when the client goes.
            let mut first = [0u8; 1];
            sock.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            assert_eq!(sock.read(&mut first).unwrap(), 1);
            assert_eq!(first[0], 22, "not a handshake record");
            if reset {
                sock.set_linger(Some(Duration::ZERO)).unwrap();
            }
            drop(sock);
        }
        served_after(&server, &pair);
    }
}

/// The first flight of a real rustls client (TLS 1.3 and 1.2 offered).
fn client_hello() -> Vec<u8> {
    let config = client::config(&Trust::Any, client::BOTH);
    let mut conn = ClientConnection::new(
        Arc::clone(&config),
        ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    assert!(out.len() > 10);
    out
}
