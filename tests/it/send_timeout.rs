//! `Config::send_timeout`: a client that pauses reading a download longer
//! than `request_timeout` still gets all of it; one that stops for longer
//! than `send_timeout` is cut off (issue 9, item 5).

use std::io::Write;
use std::time::Duration;

use uhttp::{Config, Outcome};

use crate::access_log::{next, read_up_to, recording, small_buffer_client};
use crate::util::{serve, write_pattern_file};

const LEN: usize = 32 << 20;

/// Serves a 32 MiB file at every path; `config` gets an access log.
fn download_server(
    config: Config,
) -> (
    crate::util::TestServer,
    std::sync::mpsc::Receiver<crate::access_log::Record>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    write_pattern_file(&path, LEN);
    let (config, records) = recording(config);
    let server = serve(config, move |req| req.respond_file(&path).unwrap());
    (server, records, dir)
}

#[test]
fn a_download_paused_longer_than_request_timeout_completes() {
    let mut config = Config::default();
    config.request_timeout = Duration::from_secs(1);
    let (server, records, _dir) = download_server(config);
    let mut stream = small_buffer_client(&server);
    stream
        .write_all(b"GET /big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_eq!(read_up_to(&mut stream, 1 << 20), 1 << 20);
    // The reader pauses (a browser's paused download): this wait is the
    // behaviour under test, not synchronisation.
    std::thread::sleep(Duration::from_millis(2500));
    let total = (1 << 20) + read_up_to(&mut stream, usize::MAX);
    // The whole body, behind a head of a few hundred bytes.
    assert!(
        total > LEN && total < LEN + 1024,
        "got {total} of {LEN} bytes"
    );
    let record = next(&records);
    assert_eq!(record.outcome, Outcome::Complete);
    assert_eq!(record.body_bytes, LEN as u64);
    assert!(record.duration >= Duration::from_millis(2500));
}

#[test]
fn a_reader_that_stops_longer_than_send_timeout_is_cut_off() {
    let mut config = Config::default();
    config.send_timeout = Duration::from_secs(1);
    let (server, records, _dir) = download_server(config);
    let mut stream = small_buffer_client(&server);
    stream
        .write_all(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    assert_eq!(read_up_to(&mut stream, 100 * 1024), 100 * 1024);
    // The record comes when the server gives up, a send_timeout after
    // its last progress at the earliest.
    let record = next(&records);
    assert!(record.duration >= Duration::from_secs(1), "{record:?}");
    assert_eq!(record.outcome, Outcome::SendTimeout);
    assert!(record.body_bytes < LEN as u64, "{record:?}");
    // What was in flight arrives, then the end: the body is truncated.
    let rest = read_up_to(&mut stream, usize::MAX);
    assert!(100 * 1024 + rest < LEN, "the whole body arrived");
}
