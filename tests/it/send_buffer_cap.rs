//! Clients that stop reading: the server's memory stays bounded, the
//! stalled connection is closed after the timeout, and others are served.

use std::io::Read;
use std::time::{Duration, Instant};

use uhttp::Config;

use crate::child::ChildServer;
use crate::util::{Client, serve, write_pattern_file};

const FILE_LEN: usize = 64 * 1024 * 1024;

#[test]
fn stalled_downloads_do_not_grow_server_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    write_pattern_file(&path, FILE_LEN);
    let server = ChildServer::start(&path, None);
    let mut probe = Client::connect(server.addr);
    assert_eq!(probe.get("/").status, 200);
    let idle_kib = server.rss_kib();

    // Four clients ask for 64 MiB each and never read a byte.
    let mut stalled: Vec<Client> = (0..4)
        .map(|_| {
            let mut c = Client::connect(server.addr);
            c.send("GET /file HTTP/1.1\r\nHost: t\r\n\r\n");
            c
        })
        .collect();
    // Others are served meanwhile (and this lets the loop get to the four
    // downloads: they are accepted and started before the probe's next
    // answer comes back on a busy loop, or at worst right after).
    for _ in 0..20 {
        assert_eq!(probe.get("/").status, 200);
    }
    let busy_kib = server.rss_kib();
    // Had the files been read whole, this would be 256 MiB more.
    let grown = busy_kib.saturating_sub(idle_kib);
    assert!(
        grown < 16 * 1024,
        "RSS grew by {grown} KiB with four stalled 64 MiB downloads"
    );

    // The stalled clients did get the start of their file.
    let mut head = [0u8; 12];
    stalled[0].stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    stalled.clear();
    assert_eq!(probe.get("/").status, 200);
}

#[test]
fn closes_a_download_that_stalls_past_send_timeout_while_serving_others() {
    const LEN: usize = 32 * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    write_pattern_file(&path, LEN);
    let mut config = Config::default();
    config.send_timeout = Duration::from_millis(300);
    let served = path.clone();
    let server = serve(config, move |req| {
        if req.path() == "/big" {
            req.respond_file(&served).unwrap();
        } else {
            req.respond(200, "ok").unwrap();
        }
    });
    let mut stalled = server.connect();
    stalled.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
    let start = Instant::now();
    // While the download is stuck, another client is served.
    let mut other = server.connect();
    assert_eq!(other.get("/").status, 200);
    // Stay away long enough for the stall to be noticed: this waiting is
    // the thing under test, not synchronisation.
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(other.get("/").status, 200);

    // Reading now yields what was queued in the sockets, then the end: a
    // truncated body, because the server gave up on the connection.
    let mut got = 0usize;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match stalled.stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("read: {e} after {got} bytes"),
        }
    }
    assert!(got > 0, "the download started");
    assert!(
        got < LEN,
        "the whole {LEN} bytes arrived: the stalled connection was not closed"
    );
    assert!(start.elapsed() >= Duration::from_millis(300));
}
