//! A server accepting on a Unix stream socket (behind a reverse proxy on
//! the same host), alone or next to its TCP listeners: the peer has no IP
//! and shows as `UNIX_SOCKET_ADDR`, whose IP in `trusted_proxies` makes
//! `X-Forwarded-For` believed from Unix peers only.

use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use uhttp::{AccessLog, Config, EventLoop, UNIX_SOCKET_ADDR};

use crate::util::{Client, IO_TIMEOUT, TestServer, serve_loop, write_pattern_file};

/// A client of the Unix socket at `path`, with read and write timeouts.
fn unix_client(path: &Path) -> Client<UnixStream> {
    let stream = UnixStream::connect(path).expect("connect to the Unix socket");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    Client::new(stream)
}

/// Serves `config` on 127.0.0.1:0 (unless `tcp` is false) and on a Unix
/// socket at `path`; `/who` answers with what the request says of its
/// peer, `/file` with `file`.
fn serve_unix(config: Config, path: &Path, tcp: bool, file: &Path) -> TestServer {
    let mut event_loop = EventLoop::new().unwrap();
    let addrs = if tcp {
        vec!["127.0.0.1:0".parse().unwrap()]
    } else {
        Vec::new()
    };
    let id = event_loop.add_server(&addrs, config).unwrap();
    let socket = UnixListener::bind(path).unwrap();
    event_loop.add_unix_listener(id, socket).unwrap();
    let file = file.to_owned();
    serve_loop(event_loop, &[id], move |_, event| {
        let req = event.into_request();
        if req.path() == "/file" {
            req.respond_file(&file).unwrap();
            return;
        }
        let who = format!(
            "addr={} remote={} local={} secure={}",
            req.addr(),
            req.remote_address(),
            req.socket_address(),
            req.is_secure()
        );
        req.respond(200, who).unwrap();
    })
}

#[test]
fn serves_a_unix_socket_next_to_tcp_with_keep_alive_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    let file = dir.path().join("big.bin");
    write_pattern_file(&file, 3 << 20);
    let server = serve_unix(Config::default(), &path, true, &file);

    let mut client = unix_client(&path);
    for _ in 0..3 {
        let response = client.get("/who");
        assert_eq!(response.status, 200);
        assert_eq!(
            response.text(),
            "addr=0.0.0.0:0 remote=0.0.0.0 local=0.0.0.0:0 secure=false"
        );
    }
    // A file large enough for several sendfile calls, on the same
    // connection.
    let response = client.get("/file");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, std::fs::read(&file).unwrap());

    // The TCP listener of the same server is unaffected.
    let mut tcp = server.connect();
    assert!(tcp.get("/who").text().starts_with("addr=127.0.0.1:"));
    assert_eq!(UNIX_SOCKET_ADDR, "0.0.0.0:0".parse().unwrap());
}

#[test]
fn a_server_may_listen_on_a_unix_socket_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("only.sock");
    let server = serve_unix(Config::default(), &path, false, &path);
    assert!(server.addrs_of(0).is_empty());
    let mut client = unix_client(&path);
    let response = client.send("GET /who HTTP/1.0\r\n\r\n").read_response();
    assert_eq!(response.status, 200);
    assert!(response.text().starts_with("addr=0.0.0.0:0 "));
}

#[test]
fn x_forwarded_for_is_believed_from_unix_peers_when_their_stand_in_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("proxy.sock");
    let mut config = Config::default();
    config.trusted_proxies = vec![UNIX_SOCKET_ADDR.ip()];
    let server = serve_unix(config, &path, true, &path);
    let forwarded = "GET /who HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n";

    let response = unix_client(&path).send(forwarded).read_response();
    assert_eq!(
        response.text(),
        "addr=0.0.0.0:0 remote=203.0.113.7 local=0.0.0.0:0 secure=false"
    );
    // From TCP (127.0.0.1, not trusted) the header is ignored.
    let response = server.connect().send(forwarded).read_response();
    assert!(
        response.text().contains(" remote=127.0.0.1 "),
        "{}",
        response.text()
    );
}

#[test]
fn the_access_log_records_a_unix_peer_and_refusals_on_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sock");
    let records = Arc::new(Mutex::new(Vec::new()));
    let mut config = Config::default();
    let sink = Arc::clone(&records);
    config.access_log = Some(AccessLog::new(move |done| {
        sink.lock()
            .unwrap()
            .push((done.peer_addr(), done.remote_addr(), done.status()));
    }));
    let _server = serve_unix(config, &path, false, &path);

    assert_eq!(unix_client(&path).get("/who").status, 200);
    // A head that never parses: refused on the Unix socket too.
    let refused = unix_client(&path)
        .send(b"GET /\xff HTTP/1.1\r\nHost: t\r\n\r\n")
        .read_response();
    assert_eq!(refused.status, 400);
    crate::util::wait_until("two access-log records", || {
        records.lock().unwrap().len() == 2
    });
    let records = records.lock().unwrap();
    for &(peer, remote, _) in records.iter() {
        assert_eq!(peer, UNIX_SOCKET_ADDR);
        assert_eq!(remote, UNIX_SOCKET_ADDR.ip());
    }
    assert_eq!(records[0].2, 200);
    assert_eq!(records[1].2, 400);
}

#[test]
fn a_proxy_header_on_the_unix_socket_is_read_when_its_peer_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, "f").unwrap();
    let header = crate::common::proxy_header::v1(
        "203.0.113.7:51000".parse().unwrap(),
        "192.0.2.1:80".parse().unwrap(),
    );
    let request = b"GET /who HTTP/1.1\r\nHost: t\r\n\r\n";
    for (listed, answered) in [(true, true), (false, false)] {
        let mut config = Config::default();
        let mut from = vec!["127.0.0.1".parse().unwrap()];
        if listed {
            from.push(UNIX_SOCKET_ADDR.ip());
        }
        config.proxy_protocol = uhttp::ProxyProtocol::Required { from };
        let path = dir.path().join(format!("proxied-{listed}.sock"));
        let _server = serve_unix(config, &path, false, &file);
        let mut client = unix_client(&path);
        let mut bytes = header.clone();
        bytes.extend(request);
        if answered {
            client.send(bytes);
            let text = client.read_response().text();
            assert!(
                text.starts_with("addr=203.0.113.7:51000 remote=203.0.113.7 "),
                "{text}"
            );
        } else {
            // The server may close before the bytes are all written (the
            // peer is refused on accept): a broken pipe is that same refusal.
            let _ = std::io::Write::write_all(&mut client.stream, &bytes);
            // Closed unanswered (a reset: the request was left unread).
            let mut buf = [0u8; 64];
            let read = std::io::Read::read(&mut client.stream, &mut buf);
            assert!(
                matches!(&read, Ok(0))
                    || read
                        .as_ref()
                        .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
                "an unlisted Unix peer is refused: {read:?}"
            );
        }
    }
}
