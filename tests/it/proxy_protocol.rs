//! `Config::proxy_protocol`: a PROXY protocol header (v1 or v2) read
//! before HTTP, only from a trusted proxy; its source is the client's
//! address from then on. Headers built byte by byte
//! (`tests/common/proxy_header.rs`), sent whole, split, or with the
//! request in the same write; refusals close the connection unanswered.

use std::io::Read;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use uhttp::{AccessLog, Config, ProxyProtocol};

use crate::common::client::{tcp, tcp_from};
use crate::common::proxy_header::{tlv, v1, v1_unknown, v2, v2_local, v2_raw};
use crate::util::{Client, IO_TIMEOUT, TestServer, serve};

const REQUEST: &[u8] = b"GET /who HTTP/1.1\r\nHost: t\r\n\r\n";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// PROXY headers required from `127.0.0.1`; `X-Forwarded-For` believed
/// from `trusted`.
fn config(trusted: &[&str]) -> Config {
    let mut config = Config::default();
    config.proxy_protocol = ProxyProtocol::Required {
        from: vec!["127.0.0.1".parse().unwrap()],
    };
    config.trusted_proxies = trusted.iter().map(|a| a.parse().unwrap()).collect();
    config
}

/// Answers with `addr remote_address chain` and records the access log's
/// peer of each response.
fn start(config: Config) -> (TestServer, Receiver<SocketAddr>) {
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    let mut config = config;
    config.access_log = Some(AccessLog::new(move |done| {
        let _ = tx.lock().unwrap().send(done.peer_addr());
    }));
    let server = serve(config, |req| {
        let chain: Vec<String> = req
            .remote_addresses()
            .iter()
            .map(IpAddr::to_string)
            .collect();
        let text = format!(
            "{} {} {}",
            req.addr(),
            req.remote_address(),
            chain.join(",")
        );
        req.respond(200, text).unwrap();
    });
    (server, rx)
}

fn logged(records: &Receiver<SocketAddr>) -> SocketAddr {
    records
        .recv_timeout(IO_TIMEOUT)
        .expect("an access-log record")
}

/// `header` then a request, in one write; the answer's text.
fn ask(server: &TestServer, header: &[u8]) -> String {
    let mut client = server.connect();
    let mut bytes = header.to_vec();
    bytes.extend(REQUEST);
    client.send(bytes);
    client.read_response().text()
}

/// Whether the server closed the connection without sending a byte.
fn closed_unanswered(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(0) => true,
        // Unread bytes were discarded: the close is a reset.
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(n) => panic!("answered: {:?}", String::from_utf8_lossy(&buf[..n])),
    }
}

#[test]
fn version_1_names_the_client_of_ipv4_and_ipv6() {
    let (server, records) = start(config(&[]));
    let ours = server.addr();
    let header = v1(addr("203.0.113.7:51000"), ours);
    assert_eq!(
        ask(&server, &header),
        "203.0.113.7:51000 203.0.113.7 203.0.113.7"
    );
    assert_eq!(logged(&records), addr("203.0.113.7:51000"));
    let header = v1(addr("[2001:db8::7]:443"), addr("[2001:db8::1]:80"));
    assert_eq!(
        ask(&server, &header),
        "[2001:db8::7]:443 2001:db8::7 2001:db8::7"
    );
    assert_eq!(logged(&records), addr("[2001:db8::7]:443"));
}

#[test]
fn version_2_names_the_client_and_skips_its_tlvs() {
    let (server, records) = start(config(&[]));
    let ours = server.addr();
    let header = v2(addr("198.51.100.9:40000"), ours, &[]);
    assert_eq!(
        ask(&server, &header),
        "198.51.100.9:40000 198.51.100.9 198.51.100.9"
    );
    assert_eq!(logged(&records), addr("198.51.100.9:40000"));
    let mut tlvs = tlv(0x02, b"example.com");
    tlvs.extend(tlv(0x05, &[0xff, 0xc3, 0x00, 0x80]));
    tlvs.extend(tlv(0x04, &[0; 300]));
    let header = v2(
        addr("[2001:db8::9]:40000"),
        addr("[2001:db8::1]:443"),
        &tlvs,
    );
    assert_eq!(
        ask(&server, &header),
        "[2001:db8::9]:40000 2001:db8::9 2001:db8::9"
    );
}

#[test]
fn local_and_unknown_keep_the_proxys_address() {
    let (server, records) = start(config(&[]));
    for header in [v2_local(), v1_unknown()] {
        let mut client = server.connect();
        let local = client.local_addr();
        let mut bytes = header.clone();
        bytes.extend(REQUEST);
        client.send(bytes);
        assert_eq!(
            client.read_response().text(),
            format!("{local} 127.0.0.1 127.0.0.1")
        );
        assert_eq!(logged(&records), local);
    }
    // A header naming a Unix socket: no IP address to take.
    let mut client = server.connect();
    let local = client.local_addr();
    let mut bytes = v2_raw(0x21, 0x31, &[0; 216], &[]);
    bytes.extend(REQUEST);
    client.send(bytes);
    assert_eq!(
        client.read_response().text(),
        format!("{local} 127.0.0.1 127.0.0.1")
    );
}

#[test]
fn a_header_split_at_every_byte_is_read_whole() {
    let (server, _records) = start(config(&[]));
    let ours = server.addr();
    for header in [
        v1(addr("203.0.113.7:51000"), ours),
        v2(addr("203.0.113.8:51000"), ours, &tlv(0x04, b"xx")),
    ] {
        for cut in 1..header.len() {
            let mut client = server.connect();
            client.send(&header[..cut]);
            // The server has seen the first piece alone (or not yet):
            // either way the answer must not depend on it.
            let mut rest = header[cut..].to_vec();
            rest.extend(REQUEST);
            client.send(rest);
            let text = client.read_response().text();
            assert!(text.starts_with("203.0.113."), "cut at {cut}: {text}");
        }
        // One byte per write, with the request after it.
        let mut client = server.connect();
        client.stream.set_nodelay(true).unwrap();
        for byte in &header {
            client.send([*byte]);
        }
        client.send(REQUEST);
        assert!(client.read_response().text().starts_with("203.0.113."));
    }
}

#[test]
fn pipelined_requests_after_the_header_are_all_answered() {
    let (server, _records) = start(config(&[]));
    let mut client = server.connect();
    let mut bytes = v2(addr("203.0.113.7:1"), server.addr(), &[]);
    bytes.extend(REQUEST);
    bytes.extend(REQUEST);
    client.send(bytes);
    assert!(client.read_response().text().starts_with("203.0.113.7:1 "));
    assert!(client.read_response().text().starts_with("203.0.113.7:1 "));
}

#[test]
fn x_forwarded_for_is_believed_only_if_the_headers_client_is_trusted() {
    // The header's source replaces the socket's peer: an untrusted client
    // cannot forge X-Forwarded-For through the proxy.
    let (server, _records) = start(config(&["127.0.0.1"]));
    let request = b"GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n";
    let mut client = server.connect();
    let mut bytes = v1(addr("203.0.113.7:51000"), server.addr());
    bytes.extend(request);
    client.send(bytes);
    assert_eq!(
        client.read_response().text(),
        "203.0.113.7:51000 203.0.113.7 203.0.113.7"
    );
    // A chain of proxies: the header names a trusted one, whose
    // X-Forwarded-For is believed.
    let (server, _records) = start(config(&["127.0.0.1", "10.0.0.5"]));
    let mut client = server.connect();
    let mut bytes = v1(addr("10.0.0.5:3000"), server.addr());
    bytes.extend(request);
    client.send(bytes);
    assert_eq!(
        client.read_response().text(),
        "10.0.0.5:3000 6.6.6.6 6.6.6.6,10.0.0.5"
    );
}

#[test]
fn closes_a_connection_from_an_untrusted_address_unread() {
    let (server, records) = start(config(&[]));
    let ours = server.addr();
    let mut stream = tcp_from("127.0.0.2".parse().unwrap(), ours, IO_TIMEOUT);
    let mut client_bytes = v1(addr("203.0.113.7:51000"), ours);
    client_bytes.extend(REQUEST);
    // The write may already meet the close.
    let _ = std::io::Write::write_all(&mut stream, &client_bytes);
    assert!(closed_unanswered(&mut stream));
    // Others are still served; the refused one left no record.
    assert!(ask(&server, &v2_local()).starts_with("127.0.0.1:"));
    assert!(logged(&records).ip().is_loopback());
    assert!(records.try_recv().is_err());
}

#[test]
fn closes_without_answering_when_the_header_is_missing_or_broken() {
    let (server, records) = start(config(&[]));
    let ours = server.addr();
    let mut too_long_v1 = b"PROXY TCP4 203.0.113.7 192.0.2.1 51000 ".to_vec();
    too_long_v1.resize(120, b'1');
    let mut oversized_v2 = v2(addr("203.0.113.7:1"), ours, &[]);
    oversized_v2[14..16].copy_from_slice(&u16::MAX.to_be_bytes());
    let mut bad_port = v1(addr("203.0.113.7:1"), ours);
    bad_port.splice(bad_port.len() - 3..bad_port.len() - 2, *b"x");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("missing: plain HTTP", REQUEST.to_vec()),
        (
            "missing: a TLS ClientHello",
            b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03".to_vec(),
        ),
        ("garbage", b"\xff\xfe\x00garbage\r\n\r\n".to_vec()),
        (
            "v1 with a 2-byte character",
            "PROXY TCP4 203.0.113.\u{e9} 192.0.2.1 1 2\r\n".into(),
        ),
        (
            "v1 with a 4-byte character",
            "PROXY \u{1f600} 1 2\r\n".into(),
        ),
        (
            "v1 with a lone \\xc3",
            b"PROXY TCP4 \xc3 192.0.2.1 1 2\r\n".to_vec(),
        ),
        ("v1 with a bad port", bad_port),
        ("v1 too long", too_long_v1),
        ("v1 fields missing", b"PROXY TCP4 203.0.113.7\r\n".to_vec()),
        ("v2 too long", oversized_v2[..16].to_vec()),
        ("v2 of version 3", v2_raw(0x31, 0x11, &[0; 12], &[])),
        ("v2 addresses cut short", v2_raw(0x21, 0x11, &[0; 4], &[])),
    ];
    for (what, bytes) in cases {
        let mut stream = tcp(ours, IO_TIMEOUT);
        let mut bytes = bytes;
        bytes.extend(REQUEST);
        let _ = std::io::Write::write_all(&mut stream, &bytes);
        assert!(closed_unanswered(&mut stream), "{what}");
    }
    assert!(records.try_recv().is_err(), "no request was served");
    assert!(ask(&server, &v2_local()).starts_with("127.0.0.1:"));
}

#[test]
fn a_truncated_header_then_a_close_is_not_served() {
    let (server, records) = start(config(&[]));
    let header = v2(addr("203.0.113.7:1"), server.addr(), &[]);
    let mut stream = tcp(server.addr(), IO_TIMEOUT);
    std::io::Write::write_all(&mut stream, &header[..20]).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(closed_unanswered(&mut stream));
    assert!(records.try_recv().is_err());
}

#[test]
fn a_slow_proxy_is_cut_off_after_the_request_timeout() {
    let mut config = config(&[]);
    config.request_timeout = Duration::from_millis(300);
    let (server, _records) = start(config);
    let header = v1(addr("203.0.113.7:51000"), server.addr());
    let mut client = Client::connect(server.addr());
    client.send(&header[..10]);
    let started = std::time::Instant::now();
    assert!(closed_unanswered(&mut client.stream));
    assert!(started.elapsed() < IO_TIMEOUT);
    // Within the timeout, a header in pieces is fine.
    let mut client = server.connect();
    client.send(&header[..10]);
    client.send(&header[10..]);
    client.send(REQUEST);
    assert!(
        client
            .read_response()
            .text()
            .starts_with("203.0.113.7:51000 ")
    );
}

#[test]
fn without_the_option_a_header_is_just_bad_http() {
    let (server, _records) = start(Config::default());
    let mut client = server.connect();
    let mut bytes = v1(addr("203.0.113.7:51000"), server.addr());
    bytes.extend(REQUEST);
    client.send(bytes);
    assert_eq!(client.read_response().status, 400);
}

#[test]
fn an_ipv4_proxy_on_a_dual_stack_socket_is_trusted_by_its_ipv4_address() {
    if !crate::util::has_ipv6() {
        eprintln!("skipped: no IPv6 on this host");
        return;
    }
    // `[::]` takes IPv4 connections as ::ffff:127.0.0.1.
    let server = crate::util::serve_on(&[addr("[::]:0")], config(&[]), |event| {
        let req = event.into_request();
        req.respond(200, req.addr().to_string()).unwrap();
    });
    let port = server.addr().port();
    let mut client = Client::connect(("127.0.0.1", port));
    let mut bytes = v2(addr("203.0.113.7:51000"), addr("192.0.2.1:80"), &[]);
    bytes.extend(REQUEST);
    client.send(bytes);
    assert_eq!(client.read_response().text(), "203.0.113.7:51000");
}
