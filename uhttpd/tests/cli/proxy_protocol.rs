//! `--proxy-protocol` through the real `uhttpd`: the client a PROXY
//! header names is what `/rpc` and the access log show; connections from
//! other addresses, or without a header, are closed unanswered with one
//! warning each; and a real HAProxy (`send-proxy`, `send-proxy-v2`) in
//! front, the client's own address in uhttpd's log.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};

use crate::common::client::{read_to_close, tcp_from};
use crate::common::haproxy::{Config, Haproxy, SendProxy};
use crate::common::proxy_header::{tlv, v1, v2, v2_local};
use crate::util::{PATIENCE, Server, connect};

fn proxied() -> Server {
    Server::builder()
        .args(["--proxy-protocol", "--trusted-proxy", "127.0.0.1"])
        .start()
}

fn rpc_request(tag: &str) -> String {
    format!("GET /rpc?tag={tag} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
}

/// `bytes` on `stream`, then the `/rpc` answer's `remote_addr`.
fn remote_addr(mut stream: TcpStream, bytes: &[u8]) -> String {
    stream.write_all(bytes).unwrap();
    let response = read_to_close(&mut stream);
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()["remote_addr"].as_str().unwrap().to_owned()
}

/// Whether the server closed `stream` without a byte of answer.
fn closed_unanswered(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(n) => panic!("answered: {:?}", String::from_utf8_lossy(&buf[..n])),
    }
}

#[test]
fn rpc_and_the_access_log_show_the_client_the_header_names() {
    let server = proxied();
    let ours = server.addr();
    let client: SocketAddr = "203.0.113.7:51000".parse().unwrap();
    let mut bytes = v2(client, ours, &tlv(0x02, b"example.com"));
    bytes.extend(rpc_request("v2").as_bytes());
    assert_eq!(remote_addr(connect(ours), &bytes), "203.0.113.7");
    let line = server
        .stderr
        .wait_for("the v2 access line", |l| l.contains("tag=v2"));
    assert!(line.contains("203.0.113.7"), "{line}");

    let client: SocketAddr = "[2001:db8::7]:4000".parse().unwrap();
    let mut bytes = v1(client, "[2001:db8::1]:80".parse().unwrap());
    bytes.extend(rpc_request("v1").as_bytes());
    assert_eq!(remote_addr(connect(ours), &bytes), "2001:db8::7");
    let line = server
        .stderr
        .wait_for("the v1 access line", |l| l.contains("tag=v1"));
    assert!(line.contains("2001:db8::7"), "{line}");

    // LOCAL (a health check of the proxy's own): the proxy's address.
    let mut bytes = v2_local();
    bytes.extend(rpc_request("local").as_bytes());
    assert_eq!(remote_addr(connect(ours), &bytes), "127.0.0.1");
}

#[test]
fn refuses_an_untrusted_peer_and_a_missing_header_with_one_warning_each() {
    let server = proxied();
    let ours = server.addr();
    let header = v1("203.0.113.7:51000".parse().unwrap(), ours);

    let untrusted: IpAddr = "127.0.0.2".parse().unwrap();
    let mut stream = tcp_from(untrusted, ours, PATIENCE);
    let peer = stream.local_addr().unwrap();
    let mut bytes = header.clone();
    bytes.extend(rpc_request("untrusted").as_bytes());
    let _ = stream.write_all(&bytes);
    assert!(closed_unanswered(&mut stream));
    let line = server
        .stderr
        .wait_for("the untrusted warning", |l| l.contains(&peer.to_string()));
    assert!(
        line.contains("WARN") && line.contains("not a trusted proxy"),
        "{line}"
    );

    let mut stream = connect(ours);
    let peer = stream.local_addr().unwrap();
    let _ = stream.write_all(rpc_request("missing").as_bytes());
    assert!(closed_unanswered(&mut stream));
    let line = server.stderr.wait_for("the missing-header warning", |l| {
        l.contains(&peer.to_string())
    });
    assert!(
        line.contains("WARN") && line.contains("no PROXY protocol header"),
        "{line}"
    );

    let mut stream = connect(ours);
    let peer = stream.local_addr().unwrap();
    let _ = stream.write_all(b"PROXY TCP4 203.0.113.\xc3\xa9 192.0.2.1 1 2\r\n");
    assert!(closed_unanswered(&mut stream));
    let line = server.stderr.wait_for("the malformed-header warning", |l| {
        l.contains(&peer.to_string())
    });
    assert!(line.contains("malformed PROXY protocol header"), "{line}");

    // None of them reached HTTP: no access line; others are served.
    let mut bytes = header;
    bytes.extend(rpc_request("after").as_bytes());
    assert_eq!(remote_addr(connect(ours), &bytes), "203.0.113.7");
    let lines = server.finish();
    let access: Vec<&String> = lines.iter().filter(|l| l.contains("GET /rpc")).collect();
    assert_eq!(access.len(), 1, "{lines:#?}");
    assert!(access[0].contains("tag=after"), "{lines:#?}");
}

#[test]
fn refuses_to_start_without_a_trusted_proxy() {
    let out = crate::util::run(&["--proxy-protocol", "--port", "0", "."]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--proxy-protocol needs --trusted-proxy"),
        "{stderr}"
    );
}

/// A client at `127.0.0.3` asks `/rpc` through HAProxy, which sends
/// uhttpd the PROXY header `send` (HAProxy's own connection comes from
/// 127.0.0.1, the trusted proxy).
fn through_haproxy(send: SendProxy) {
    // -v: the header's debug line names the proxy and the client.
    let server = Server::builder()
        .args(["--proxy-protocol", "--trusted-proxy", "127.0.0.1", "-v"])
        .start();
    let haproxy = Haproxy::start(&Config::tcp(&[(server.addr(), send)]));
    let client: IpAddr = "127.0.0.3".parse().unwrap();
    let stream = tcp_from(client, haproxy.addr(), PATIENCE);
    let port = stream.local_addr().unwrap().port();
    let tag = format!("{send:?}");
    assert_eq!(
        remote_addr(stream, rpc_request(&tag).as_bytes()),
        "127.0.0.3"
    );
    let line = server
        .stderr
        .wait_for("the access line", |l| l.contains(&format!("tag={tag}")));
    assert!(line.contains("127.0.0.3"), "{line}");
    let version = if send == SendProxy::V1 { "v1" } else { "v2" };
    let header = format!("PROXY protocol {version} header: client 127.0.0.3:{port}");
    let line = server
        .stderr
        .wait_for("the header's debug line", |l| l.contains(&header));
    assert!(line.contains(" 127.0.0.1:"), "{line}");
}

#[test]
fn haproxy_send_proxy_v2_in_front() {
    through_haproxy(SendProxy::V2);
}

#[test]
fn haproxy_send_proxy_v1_in_front() {
    through_haproxy(SendProxy::V1);
}
