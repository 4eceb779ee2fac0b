//! SIGTERM / SIGINT: stop accepting, let the response in flight finish,
//! exit 0.

use std::fs::File;
use std::io::ErrorKind;
use std::net::TcpStream;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use crate::certs::Pair;
use crate::client::{Client, Trust};
use crate::harness::{PATIENCE, Server, poll, site};
use crate::tls_certs::KeyKind;

/// The size of the download interrupted by the signal: far more than the
/// socket buffers hold, yet sent well within uhttpd's 10 s grace period by
/// an unoptimized test build with other tests running.
const BIG: u64 = 64 << 20;
/// Where the sparse file holds non-zero marks (each 8 bytes: its offset).
const MARKS: [u64; 4] = [0, 1 << 20, BIG / 2 + 12_345, BIG - 8];

fn big_file(dir: &std::path::Path) {
    let file = File::create(dir.join("big.bin")).unwrap();
    file.set_len(BIG).unwrap();
    for at in MARKS {
        file.write_all_at(&at.to_be_bytes(), at).unwrap();
    }
}

/// Checks a chunk (at most 64 KiB) of the big file received at `offset`:
/// the marks where they belong, zeros elsewhere (compared as slices, which
/// is fast even unoptimized).
fn check_chunk(offset: u64, chunk: &[u8]) {
    static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
    let end = offset + chunk.len() as u64;
    let mut copy = chunk.to_vec();
    for mark in MARKS {
        let bytes = mark.to_be_bytes();
        for at in mark.max(offset)..(mark + 8).min(end) {
            let i = (at - offset) as usize;
            assert_eq!(copy[i], bytes[(at - mark) as usize], "byte {at}");
            copy[i] = 0;
        }
    }
    assert!(
        copy == ZEROS[..copy.len()],
        "unexpected bytes in {offset}..{end}"
    );
}

fn refused(server: &Server) -> bool {
    match TcpStream::connect(server.addr()) {
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
            true
        }
        Ok(_) => false,
    }
}

fn download_survives(signal: &str) {
    let pair = Pair::localhost(KeyKind::EcdsaP256Pkcs8);
    let root = site();
    big_file(root.path());
    let mut server = Server::serving(root.path(), &pair.args());
    let mut client = Client::connect(server.addr(), &Trust::Root(pair.material.leaf().clone()));
    client.send("GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let head = client.head();
    let (status, headers) = (head.status, head.headers);
    assert_eq!(status, 200);
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse::<u64>().unwrap());
    assert_eq!(length, Some(BIG));

    // Some of the body, then the signal.
    let mut buf = vec![0u8; 64 * 1024];
    let mut received = 0u64;
    while received < 4 << 20 {
        let n = client.read_some(&mut buf).expect("read");
        assert!(n > 0);
        check_chunk(received, &buf[..n]);
        received += n as u64;
    }
    server.signal(signal);
    server
        .stderr
        .wait_for_from(0, "about stopping", |l| l.contains("stopping"));
    // The listener is closed while the download goes on.
    poll("new connections to be refused", PATIENCE, || {
        refused(&server).then_some(())
    });
    assert!(
        server
            .stderr
            .all()
            .iter()
            .all(|l| !l.contains("grace period over"))
    );

    let started = Instant::now();
    while received < BIG {
        let n = client.read_some(&mut buf).expect("read");
        assert!(n > 0, "download cut at {received} bytes");
        check_chunk(received, &buf[..n]);
        received += n as u64;
    }
    assert_eq!(received, BIG);
    // The connection then ends (no more keep-alive), and so does uhttpd.
    assert!(client.is_closed_by_server());
    let status = server.wait_exit(PATIENCE);
    assert_eq!(status.code(), Some(0), "{:?}", server.stderr.all());
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn sigterm_lets_a_large_download_finish_then_exits_0() {
    download_survives("TERM");
}

#[test]
fn sigint_lets_a_large_download_finish_then_exits_0() {
    download_survives("INT");
}

#[test]
fn sigterm_with_no_connections_exits_0_promptly() {
    let pair = Pair::localhost(KeyKind::Ed25519);
    let root = site();
    let mut server = Server::serving(root.path(), &pair.args());
    // Served once, and idle keep-alive connections do not delay the stop.
    let mut idle = Client::connect(server.addr(), &Trust::Root(pair.material.leaf().clone()));
    assert_eq!(idle.get("/hello.txt").status, 200);
    let started = Instant::now();
    server.signal("TERM");
    let status = server.wait_exit(PATIENCE);
    let took = started.elapsed();
    assert_eq!(status.code(), Some(0), "{:?}", server.stderr.all());
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(idle.is_closed_by_server());
}
