//! `--proxy-protocol` in front of TLS: the PROXY header comes before the
//! ClientHello (in the same write, or alone), the handshake and the
//! requests then go on as usual, and `/rpc` shows the header's client;
//! the `--redirect-http` listener reads the header too.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use rustls::ClientConnection;
use rustls::pki_types::ServerName;

use crate::certs::Pair;
use crate::client::{BOTH, Client, Trust, config};
use crate::common::proxy_header::{v1, v2};
use crate::harness::{Server, site};
use crate::tls_certs::KeyKind;

const TIMEOUT: Duration = Duration::from_secs(10);

fn start() -> (Server, Pair, tempfile::TempDir) {
    let pair = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let root = site();
    let mut args = pair.args();
    args.extend(
        [
            "--redirect-http",
            "0",
            "--proxy-protocol",
            "--trusted-proxy",
            "127.0.0.1",
        ]
        .map(String::from),
    );
    (Server::serving(root.path(), &args), pair, root)
}

fn sock(addr: SocketAddr) -> TcpStream {
    let sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(TIMEOUT)).unwrap();
    sock.set_write_timeout(Some(TIMEOUT)).unwrap();
    sock.set_nodelay(true).unwrap();
    sock
}

/// A TLS client that sends `header` first: with the ClientHello in one
/// write (`together`), or on its own before it.
fn connect_behind(
    addr: SocketAddr,
    pair: &Pair,
    header: &[u8],
    together: bool,
) -> std::io::Result<Client> {
    let mut sock = sock(addr);
    let trust = Trust::Root(pair.material.leaf().clone());
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = ClientConnection::new(config(&trust, BOTH), name).unwrap();
    let mut first = header.to_vec();
    if together {
        conn.write_tls(&mut first).unwrap();
    }
    sock.write_all(&first)?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(Client::new(tls))
}

fn remote_addr(client: &mut Client) -> String {
    client.send("GET /rpc HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client.read_response().json()["remote_addr"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_rustls_client_behind_a_v2_header_is_served_as_the_headers_client() {
    let (server, pair, _root) = start();
    let ours = server.addr();
    for together in [true, false] {
        let header = v2("203.0.113.7:51000".parse().unwrap(), ours, &[]);
        let mut client = connect_behind(ours, &pair, &header, together).unwrap();
        assert_eq!(
            remote_addr(&mut client),
            "203.0.113.7",
            "together: {together}"
        );
        // Keep-alive: the next request on the connection too.
        assert_eq!(remote_addr(&mut client), "203.0.113.7");
    }
    let header = v1(
        "[2001:db8::7]:4000".parse().unwrap(),
        "[2001:db8::1]:443".parse().unwrap(),
    );
    let mut client = connect_behind(ours, &pair, &header, true).unwrap();
    assert_eq!(remote_addr(&mut client), "2001:db8::7");
}

#[test]
fn a_client_hello_without_a_header_is_refused_unanswered() {
    let (server, pair, _root) = start();
    let ours = server.addr();
    let mut sock = sock(ours);
    let peer = sock.local_addr().unwrap();
    let trust = Trust::Root(pair.material.leaf().clone());
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = ClientConnection::new(config(&trust, BOTH), name).unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    let _ = sock.write_all(&hello);
    let mut buf = [0u8; 64];
    match sock.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("answered: {other:?}"),
    }
    let line = server
        .stderr
        .wait_for("the warning", |l| l.contains(&peer.to_string()));
    assert!(line.contains("no PROXY protocol header"), "{line}");
}

#[test]
fn the_redirect_listener_reads_the_header_too() {
    let (server, _pair, _root) = start();
    let plain = server.redirect.expect("a redirect listener");
    let request = "GET /x HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n";
    let mut with = sock(plain);
    let mut bytes = v1("203.0.113.7:51000".parse().unwrap(), plain);
    bytes.extend(request.as_bytes());
    with.write_all(&bytes).unwrap();
    let mut text = String::new();
    with.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 301 "), "{text}");
    let line = server
        .stderr
        .wait_for("the access line", |l| l.contains("GET /x "));
    assert!(line.contains("203.0.113.7"), "{line}");

    let mut without = sock(plain);
    let _ = without.write_all(request.as_bytes());
    let mut buf = [0u8; 64];
    match without.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("answered: {other:?}"),
    }
}

#[test]
fn over_its_connection_limit_a_tls_client_reads_429_and_a_failed_handshake_frees_its_slot() {
    let pair = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let root = site();
    let mut args = pair.args();
    args.extend(
        [
            "--proxy-protocol",
            "--trusted-proxy",
            "127.0.0.1",
            "--max-connections-per-ip",
            "1",
        ]
        .map(String::from),
    );
    let server = Server::serving(root.path(), &args);
    let ours = server.addr();
    let header = |client: &str| v2(client.parse().unwrap(), ours, &[]);

    let mut held = connect_behind(ours, &pair, &header("203.0.113.7:1"), true).unwrap();
    assert_eq!(remote_addr(&mut held), "203.0.113.7");
    // The handshake completes, then the refusal is the only answer.
    let mut over = connect_behind(ours, &pair, &header("203.0.113.7:2"), true).unwrap();
    let response = over.read_response();
    assert_eq!(response.status, 429, "{}", response.text());
    assert!(response.closes());
    assert!(over.is_closed_cleanly());
    // Another client behind the same proxy is served.
    let mut other = connect_behind(ours, &pair, &header("203.0.113.8:1"), true).unwrap();
    assert_eq!(remote_addr(&mut other), "203.0.113.8");

    // A client whose handshake fails after its header: its slot is free
    // again once the connection is gone.
    let mut broken = sock(ours);
    let mut bytes = header("203.0.113.9:1");
    bytes.extend(b"GET / HTTP/1.1\r\n\r\n");
    broken.write_all(&bytes).unwrap();
    let mut rest = Vec::new();
    let _ = broken.read_to_end(&mut rest);
    let mut after = connect_behind(ours, &pair, &header("203.0.113.9:2"), true).unwrap();
    assert_eq!(remote_addr(&mut after), "203.0.113.9");
    drop(held);
}
