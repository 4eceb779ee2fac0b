//! uhttpd's answers read by a strict HTTP/1.1 client: `strict_client.py`
//! parses every response with the `h11` Python library's client state
//! machine (keep-alive, HEAD, 304, ranges, `/rpc` bodies, uploads,
//! pipelining, `100-continue` accepted and refused, malformed requests,
//! HTTP/1.0, the keep-alive limit, 431 and 408). Any `h11.RemoteProtocolError` is a
//! framing bug; every answer's status, body length and keep-alive verdict
//! are checked against what the server's headers said.
//!
//! The interpreter is `target/py-venv`'s, with the pinned `h11` that
//! `scripts/install-test-deps.sh` installs there.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::util::{Server, write_file};

/// The script, next to this file.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli/strict_client.py");

/// What `install-test-deps.sh` installs: `h11==VERSION`.
const REQUIREMENTS: &str = include_str!("strict_client.requirements.txt");

/// The venv's interpreter, checked to import `h11`: the test fails (never
/// skips) when it is missing.
fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/py-venv/bin/python");
    let imports = Command::new(&python)
        .args(["-c", "import h11"])
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        imports,
        "{} cannot import h11: scripts/install-test-deps.sh installs what the tests need",
        python.display()
    );
    python
}

#[test]
fn h11_reads_every_answer_without_a_protocol_error() {
    let python = python();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let builder = Server::builder().uploads().args([
        "--max-upload-size",
        "1K",
        "--max-content-length",
        "64K",
        "--max-headers-length",
        "8K",
        "--keep-alive-max-requests",
        "50",
        // The 408 step waits this long; every request is written whole.
        "--request-timeout",
        "2",
    ]);
    write_file(builder.root(), "a.txt", b"hello world, this is a.txt\n");
    write_file(builder.root(), "big.bin", &big);
    std::fs::create_dir(builder.root().join("dir")).unwrap();
    write_file(&builder.root().join("dir"), "x.txt", b"x");
    let server = builder.start();

    let setup = json!({
        "port": server.port,
        "files": {"/a.txt": 27, "/big.bin": big.len()},
        "max_upload_size": 1024,
        "max_content_length": 64 * 1024,
        "max_headers_length": 8 * 1024,
        "keep_alive_max_requests": 50,
    });
    let out = Command::new(&python)
        .arg(SCRIPT)
        .arg(setup.to_string())
        .output()
        .expect("run strict_client.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "strict_client.py failed ({}):\n{stdout}\n{stderr}\nuhttpd:\n{}",
        out.status,
        server.finish().join("\n")
    );
    // The pinned h11, not whatever the venv had.
    let pinned = REQUIREMENTS.trim().strip_prefix("h11==").unwrap();
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.ends_with(&format!("steps passed (h11 {pinned})")),
        "{stdout}"
    );
    println!("{summary}");

    // What was uploaded landed whole; nothing refused did.
    let uploaded = server.uploaded();
    let want = [
        ("behind.bin", 200),
        ("chunked.bin", 700),
        ("continued-chunked.bin", 900),
        ("continued.bin", 300),
        ("pipelined.bin", 100),
        ("put.bin", 500),
    ];
    assert_eq!(uploaded, want.map(|(name, _)| name));
    for (name, len) in want {
        let saved = std::fs::read(server.upload_dir().join(name)).unwrap();
        assert_eq!(saved.len(), len, "{name}");
    }
}
