//! Peak memory (`VmHWM`) while 1 GiB goes through the server each way.
//!
//! Heavy, so not in the normal run: 10 to 20 s each in a debug build on
//! two cores, and the upload needs 1 GiB free in the temporary directory.
//! Run them, with the figures printed, with
//! `cargo test --release --test cli -- --ignored memory --nocapture`.

use std::io::{Read, Write};
use std::time::Instant;

use crate::util::{Server, read_head, read_to_close};

const GIB: u64 = 1 << 30;
/// The bound on peak RSS, in KiB.
const LIMIT_KIB: u64 = 20 * 1024;

#[test]
#[ignore = "heavy (1 GiB through the server): cargo test --release --test cli -- --ignored memory"]
fn memory_stays_small_downloading_1_gib() {
    let builder = Server::builder();
    let file = std::fs::File::create(builder.root().join("big.bin")).unwrap();
    // Sparse: no disk space, and reads cost no disk I/O.
    file.set_len(GIB).unwrap();
    drop(file);
    let server = builder.start();
    let before = server.peak_rss_kib();

    let started = Instant::now();
    let mut stream = server.connect();
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let head = read_head(&mut stream);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("1073741824"));
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = stream.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    assert_eq!(
        total,
        GIB,
        "short download; server log:\n{}",
        server.stderr.all().join("\n")
    );
    let peak = server.peak_rss_kib();
    eprintln!(
        "download: 1 GiB in {:.1?}; VmHWM {before} KiB at start, {peak} KiB after",
        started.elapsed()
    );
    assert!(peak < LIMIT_KIB, "VmHWM {peak} KiB while downloading 1 GiB");
}

#[test]
#[ignore = "heavy (1 GiB through the server): cargo test --release --test cli -- --ignored memory"]
fn memory_stays_small_uploading_1_gib() {
    let server = Server::builder()
        .uploads()
        .args(["--max-upload-size", "2G"])
        .start();
    let before = server.peak_rss_kib();

    let started = Instant::now();
    let mut stream = server.connect();
    write!(
        stream,
        "PUT /upload/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {GIB}\r\n\r\n"
    )
    .unwrap();
    let mut chunk = vec![0u8; 64 * 1024];
    for (i, b) in chunk.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    for _ in 0..(GIB / chunk.len() as u64) {
        stream.write_all(&chunk).unwrap();
    }
    let resp = read_to_close(&mut stream);
    assert_eq!(resp.status, 201, "{}", resp.text());
    let peak = server.peak_rss_kib();
    eprintln!(
        "upload: 1 GiB in {:.1?}; VmHWM {before} KiB at start, {peak} KiB after",
        started.elapsed()
    );
    let saved = std::fs::metadata(server.upload_dir().join("big.bin")).unwrap();
    assert_eq!(saved.len(), GIB);
    assert!(peak < LIMIT_KIB, "VmHWM {peak} KiB while uploading 1 GiB");
}
