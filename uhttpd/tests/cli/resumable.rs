//! Resumable uploads (`uhttpd/src/resumable/`): the IETF draft and
//! tus 1.0.0 under `/upload/`, with real clients — `tuspy` (Python, from
//! `target/py-venv`) and `tus-js-client` under Node (from
//! `target/tus-js`), both pinned in `tests/cli/resumable/` and installed
//! by `scripts/install-test-deps.sh` — and raw sockets for every bad
//! input. A test fails (never skips) when its client is missing.
//! tus-js-client in Chromium is tested in `browser.rs`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::bad_bytes::INSERTS;
use crate::common::client::Client;
use crate::common::{IO_TIMEOUT, poll};
use crate::util::{Response, Server, curl, path_str, wait_until, write_file};

const HERE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli/resumable");

/// Content that is not all one byte, so misplaced chunks show.
fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3] ^ seed)
        .collect()
}

fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// A server with uploads into `dir` (kept across restarts).
fn server_in(dir: &Path, extra: &[&str]) -> Server {
    Server::builder()
        .args(["--upload-dir", path_str(dir)])
        .args(extra)
        .start()
}

/// One request on a fresh connection; the interim responses before the
/// final one, and the final one.
fn exchange(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (Vec<Response>, Response) {
    let headers: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
    exchange_bytes(server, method, path, &headers, body)
}

/// [`exchange`] with header values sent byte for byte.
fn exchange_bytes(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &[u8])],
    body: &[u8],
) -> (Vec<Response>, Response) {
    let mut client = Client::connect(server.addr());
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n").into_bytes();
    for (name, value) in headers {
        head.extend_from_slice(format!("{name}: ").as_bytes());
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        head.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    client.send(head).send(body);
    let mut interim = Vec::new();
    loop {
        let response = if method == "HEAD" {
            client.read_head_response()
        } else {
            client.read_response()
        };
        if (100..200).contains(&response.status) {
            interim.push(response);
        } else {
            return (interim, response);
        }
    }
}

fn send(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    exchange(server, method, path, headers, body).1
}

const IETF: (&str, &str) = ("Upload-Draft-Interop-Version", "8");
const PARTIAL: (&str, &str) = ("Content-Type", "application/partial-upload");
const TUS: (&str, &str) = ("Tus-Resumable", "1.0.0");
const OCTETS: (&str, &str) = ("Content-Type", "application/offset+octet-stream");

/// IETF creation of `name` with `Upload-Complete: ?0` and `first` as its
/// first bytes: the resource path.
fn ietf_create(server: &Server, name: &str, length: Option<u64>, first: &[u8]) -> String {
    let length = length.map(|n| n.to_string());
    let mut headers = vec![IETF, ("Upload-Complete", "?0")];
    if let Some(length) = &length {
        headers.push(("Upload-Length", length));
    }
    let (interim, created) = exchange(server, "POST", &format!("/upload/{name}"), &headers, first);
    assert_eq!(created.status, 201, "{}", created.text());
    let location = created.header("location").unwrap().to_owned();
    assert_eq!(interim.len(), 1, "one 104");
    assert_eq!(interim[0].status, 104);
    assert_eq!(interim[0].header("location"), Some(location.as_str()));
    assert_eq!(interim[0].header("upload-draft-interop-version"), Some("8"));
    assert_eq!(
        created.header("upload-offset"),
        Some(first.len().to_string().as_str())
    );
    assert!(location.starts_with("/upload/.resumable/"), "{location}");
    location
}

fn ietf_offset(server: &Server, location: &str) -> Response {
    let head = send(server, "HEAD", location, &[IETF], b"");
    if head.status == 204 {
        assert_eq!(head.header("cache-control"), Some("no-store"));
    }
    head
}

fn ietf_append(
    server: &Server,
    location: &str,
    offset: u64,
    complete: bool,
    body: &[u8],
) -> Response {
    let offset = offset.to_string();
    let complete = if complete { "?1" } else { "?0" };
    send(
        server,
        "PATCH",
        location,
        &[
            IETF,
            PARTIAL,
            ("Upload-Offset", &offset),
            ("Upload-Complete", complete),
        ],
        body,
    )
}

// ----- the real clients -----

/// `target/py-venv`'s Python, checked to import tuspy.
fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/py-venv/bin/python");
    let imports = Command::new(&python)
        .args(["-c", "import tusclient"])
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        imports,
        "{} cannot import tusclient (tuspy): scripts/install-test-deps.sh installs what the tests need",
        python.display()
    );
    python
}

/// `node` with tus-js-client from `target/tus-js`.
fn node() -> Command {
    crate::common::require("node");
    let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tus-js/node_modules");
    assert!(
        modules.join("tus-js-client/package.json").is_file(),
        "{} has no tus-js-client: scripts/install-test-deps.sh installs what the tests need",
        modules.display()
    );
    let mut node = Command::new("node");
    node.env("NODE_PATH", modules);
    node
}

enum Tool {
    Tuspy,
    TusJs(&'static str),
}

/// Starts a client uploading `file` as `name` (resuming `resume`).
fn start_client(
    tool: &Tool,
    server: &Server,
    file: &Path,
    chunk: usize,
    name: &str,
    resume: Option<&str>,
) -> Child {
    let endpoint = server.url("/upload/");
    let chunk = chunk.to_string();
    let mut command = match tool {
        Tool::Tuspy => {
            let mut c = Command::new(python());
            c.arg(format!("{HERE}/tuspy_client.py")).args([
                endpoint.as_str(),
                path_str(file),
                &chunk,
                name,
            ]);
            if let Some(url) = resume {
                c.args(["--resume", url]);
            }
            // Checksums on every PATCH, verified by the server.
            c.arg("--checksum");
            c
        }
        Tool::TusJs(protocol) => {
            let mut c = node();
            c.arg(format!("{HERE}/tus_js_client.js")).args([
                endpoint.as_str(),
                path_str(file),
                protocol,
                &chunk,
                name,
            ]);
            if let Some(url) = resume {
                c.arg(url);
            }
            c
        }
    };
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the client")
}

/// Runs a client to the end: its output lines, after checking it
/// succeeded.
fn run_client(
    tool: &Tool,
    server: &Server,
    file: &Path,
    chunk: usize,
    name: &str,
    resume: Option<&str>,
) -> Vec<String> {
    let child = start_client(tool, server, file, chunk, name, resume);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.lines().last() == Some("done"),
        "client failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().map(str::to_owned).collect()
}

/// The upload URL a client printed.
fn url_of(lines: &[String]) -> String {
    lines
        .iter()
        .find_map(|l| l.strip_prefix("url "))
        .expect("a url line")
        .to_owned()
}

fn check_stored(server: &Server, name: &str, data: &[u8]) {
    check_stored_in(server.upload_dir(), name, data);
}

fn check_stored_in(dir: &Path, name: &str, data: &[u8]) {
    let stored = std::fs::read(dir.join(name)).unwrap();
    assert_eq!(stored.len(), data.len(), "{name}");
    assert!(stored == data, "{name}: content differs");
}

fn uploads_of_sizes(tool: Tool, label: &str) {
    let server = Server::builder().uploads().start();
    let source = TempDir::new().unwrap();
    for (i, size) in [0usize, 1, 10 << 20].into_iter().enumerate() {
        let data = content(size, i as u8);
        let name = format!("{label}-{size}.bin");
        let file = write_file(source.path(), &name, &data);
        let lines = run_client(&tool, &server, &file, 1 << 20, &name, None);
        assert!(url_of(&lines).contains("/upload/.resumable/"), "{lines:?}");
        check_stored(&server, &name, &data);
    }
    // Nothing partial is left behind.
    let left: Vec<_> = std::fs::read_dir(server.upload_dir().join(".uhttpd-resumable"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn tuspy_uploads_files_of_0_1_and_10_mib() {
    uploads_of_sizes(Tool::Tuspy, "tuspy");
}

#[test]
fn tus_js_client_uploads_files_of_0_1_and_10_mib_over_tus() {
    uploads_of_sizes(Tool::TusJs("tus-v1"), "js-tus");
}

#[test]
fn tus_js_client_uploads_files_of_0_1_and_10_mib_over_the_ietf_draft() {
    uploads_of_sizes(Tool::TusJs("ietf-draft-05"), "js-ietf");
}

/// tus-js-client's older IETF option: interop version 5, appends untyped.
#[test]
fn tus_js_client_uploads_files_of_0_1_and_10_mib_over_ietf_draft_03() {
    uploads_of_sizes(Tool::TusJs("ietf-draft-03"), "js-ietf-03");
}

/// The 200 MiB case of the issue; long: `cargo test --test cli -- --ignored resumable`.
#[test]
#[ignore]
fn tuspy_and_tus_js_client_upload_200_mib() {
    let server = Server::builder().uploads().start();
    let source = TempDir::new().unwrap();
    let data = content(200 << 20, 9);
    let file = write_file(source.path(), "big.bin", &data);
    for (tool, name) in [
        (Tool::Tuspy, "py.bin"),
        (Tool::TusJs("tus-v1"), "js.bin"),
        (Tool::TusJs("ietf-draft-05"), "ietf.bin"),
    ] {
        run_client(&tool, &server, &file, 8 << 20, name, None);
        check_stored(&server, name, &data);
    }
}

/// Kills the client after it saw the server acknowledge `at` bytes (the
/// next chunk is then on its way), several times, then lets a new client
/// process resume the same upload to the end.
fn killed_and_resumed(tool: Tool, name: &str) {
    let server = Server::builder().uploads().start();
    let source = TempDir::new().unwrap();
    let chunk = 256 << 10;
    let data = content(10 << 20, 3);
    let file = write_file(source.path(), name, &data);
    let mut url: Option<String> = None;
    // Points spread over the file (a fixed "random" sequence: the test is
    // repeatable), each past the last.
    for at in [700_000u64, 3_100_000, 5_600_000, 8_900_000] {
        let mut child = start_client(&tool, &server, &file, chunk, name, url.as_deref());
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(u) = line.strip_prefix("url ") {
                url.get_or_insert_with(|| u.to_owned());
            }
            let offset = line
                .strip_prefix("offset ")
                .and_then(|n| n.parse::<u64>().ok());
            if offset.is_some_and(|n| n >= at) {
                break;
            }
            assert_ne!(line, "done", "finished before being killed at {at}");
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            !server.upload_dir().join(name).exists(),
            "complete too early"
        );
    }
    let url = url.expect("the client printed its upload URL");
    let lines = run_client(&tool, &server, &file, chunk, name, Some(&url));
    assert_eq!(url_of(&lines), url, "the same upload was resumed");
    check_stored(&server, name, &data);
}

#[test]
fn tuspy_killed_four_times_resumes_the_same_upload_to_the_right_file() {
    killed_and_resumed(Tool::Tuspy, "tuspy-killed.bin");
}

#[test]
fn tus_js_client_killed_four_times_resumes_over_the_ietf_draft() {
    killed_and_resumed(Tool::TusJs("ietf-draft-05"), "js-killed.bin");
}

/// tus `creation-defer-length`: the length is given by a later `PATCH`,
/// once, and the upload completes when its offset reaches it.
#[test]
fn tus_deferred_length_is_given_by_a_later_patch() {
    let server = Server::builder()
        .uploads()
        .args(["--max-upload-size", "1M"])
        .start();
    let options = send(&server, "OPTIONS", "/upload/", &[TUS], b"");
    let extensions = options.header("tus-extension").unwrap_or_default();
    assert!(
        extensions.split(',').any(|e| e == "creation-defer-length"),
        "{extensions}"
    );
    let create = |name: &str, first: &[u8]| {
        let metadata = format!("filename {}", STANDARD.encode(name));
        let mut headers = vec![TUS, ("Upload-Defer-Length", "1")];
        headers.push(("Upload-Metadata", &metadata));
        if !first.is_empty() {
            headers.push(OCTETS);
        }
        let created = send(&server, "POST", "/upload/", &headers, first);
        assert_eq!(created.status, 201, "{}", created.text());
        assert_eq!(
            created.header("upload-offset"),
            Some(first.len().to_string().as_str())
        );
        created.header("location").unwrap().to_owned()
    };
    let head = |location: &str| send(&server, "HEAD", location, &[TUS], b"");
    let patch = |location: &str, offset: &str, length: Option<&str>, body: &[u8]| {
        let mut headers = vec![TUS, OCTETS, ("Upload-Offset", offset)];
        headers.extend(length.map(|n| ("Upload-Length", n)));
        send(&server, "PATCH", location, &headers, body)
    };
    let data = content(300_000, 8);
    let location = create("deferred.bin", &data[..1000]);
    let state = head(&location);
    assert_eq!(state.header("upload-defer-length"), Some("1"));
    assert_eq!(state.header("upload-length"), None);
    // Appends without a length never complete it.
    assert_eq!(
        patch(&location, "1000", None, &data[1000..100_000]).status,
        204
    );
    assert!(!server.upload_dir().join("deferred.bin").exists());
    // A length below what is there, or one the body goes past: 400.
    assert_eq!(patch(&location, "100000", Some("99999"), b"").status, 400);
    assert_eq!(
        patch(&location, "100000", Some("100010"), &[b'x'; 11]).status,
        400
    );
    assert_eq!(head(&location).header("upload-offset"), Some("100000"));
    // Declared on an append that does not end it: kept, and then fixed.
    let declared = patch(&location, "100000", Some("300000"), &data[100_000..200_000]);
    assert_eq!(declared.status, 204, "{}", declared.text());
    let state = head(&location);
    assert_eq!(state.header("upload-length"), Some("300000"));
    assert_eq!(state.header("upload-defer-length"), None);
    assert_eq!(patch(&location, "200000", Some("300001"), b"").status, 400);
    assert_eq!(
        patch(&location, "200000", None, &data[200_000..]).status,
        204
    );
    check_stored(&server, "deferred.bin", &data);
    // Given with the last bytes, as tus-js-client does; and an empty one.
    let location = create("last.bin", b"");
    assert_eq!(patch(&location, "0", Some("3"), b"abc").status, 204);
    check_stored(&server, "last.bin", b"abc");
    let location = create("empty.bin", b"");
    assert_eq!(patch(&location, "0", Some("0"), b"").status, 204);
    check_stored(&server, "empty.bin", b"");
    // --max-upload-size still holds while the bytes arrive.
    let location = create("big.bin", b"");
    let big = vec![b'b'; (1 << 20) + 1];
    assert_eq!(patch(&location, "0", None, &big).status, 413);
    // Only `1` means deferred.
    let (_, refused) = exchange(
        &server,
        "POST",
        "/upload/",
        &[
            TUS,
            ("Upload-Defer-Length", "0"),
            ("Upload-Metadata", "filename YQ=="),
        ],
        b"",
    );
    assert_eq!(refused.status, 400);
}

/// tus-js-client's `uploadLengthDeferred`: a creation with
/// `Upload-Defer-Length: 1` and no `Upload-Length` (which the server
/// refuses otherwise), the length sent with the last chunk.
#[test]
fn tus_js_client_uploads_with_a_deferred_length() {
    let server = Server::builder().uploads().start();
    let source = TempDir::new().unwrap();
    for (i, size) in [0usize, 1, 3_000_000].into_iter().enumerate() {
        let data = content(size, 30 + i as u8);
        let name = format!("deferred-{size}.bin");
        let file = write_file(source.path(), &name, &data);
        let endpoint = server.url("/upload/");
        let out = node()
            .env("UPLOAD_LENGTH_DEFERRED", "1")
            .arg(format!("{HERE}/tus_js_client.js"))
            .args([
                endpoint.as_str(),
                path_str(&file),
                "tus-v1",
                "1048576",
                &name,
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.lines().last() == Some("done"),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        check_stored(&server, &name, &data);
    }
}

// ----- the IETF flow over sockets and curl -----

#[test]
fn ietf_creation_append_and_offsets_store_the_file_and_refuse_more() {
    let server = Server::builder().uploads().start();
    let data = content(300_000, 5);
    let location = ietf_create(&server, "report.pdf", Some(300_000), &data[..100_000]);
    let head = ietf_offset(&server, &location);
    assert_eq!(head.status, 204);
    assert_eq!(head.header("upload-offset"), Some("100000"));
    assert_eq!(head.header("upload-complete"), Some("?0"));
    assert_eq!(head.header("upload-length"), Some("300000"));
    let appended = ietf_append(&server, &location, 100_000, false, &data[100_000..200_000]);
    assert_eq!(appended.status, 204, "{}", appended.text());
    assert_eq!(appended.header("upload-offset"), Some("200000"));
    // A stale offset: 409 with the right one.
    let stale = ietf_append(&server, &location, 100_000, true, &data[100_000..]);
    assert_eq!(stale.status, 409);
    assert_eq!(
        stale.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(stale.json()["expected-offset"], 200_000);
    assert_eq!(stale.json()["provided-offset"], 100_000);
    assert!(!server.upload_dir().join("report.pdf").exists());
    let done = ietf_append(&server, &location, 200_000, true, &data[200_000..]);
    assert_eq!(done.status, 201, "{}", done.text());
    assert_eq!(done.header("upload-complete"), Some("?1"));
    assert_eq!(
        done.json(),
        serde_json::json!({"name": "report.pdf", "size": 300_000})
    );
    check_stored(&server, "report.pdf", &data);
    // Complete: the offset says so, and nothing more may be appended.
    let head = ietf_offset(&server, &location);
    assert_eq!(head.header("upload-complete"), Some("?1"));
    let more = ietf_append(&server, &location, 300_000, true, b"x");
    assert_eq!(more.status, 400);
    assert!(
        more.json()["type"]
            .as_str()
            .unwrap()
            .ends_with("#completed-upload")
    );
    // A length first given on an append that does not complete is kept.
    let other = ietf_create(&server, "other.bin", None, b"abc");
    let declared = send(
        &server,
        "PATCH",
        &other,
        &[
            IETF,
            PARTIAL,
            ("Upload-Offset", "3"),
            ("Upload-Complete", "?0"),
            ("Upload-Length", "10"),
        ],
        b"def",
    );
    assert_eq!(declared.status, 204, "{}", declared.text());
    assert_eq!(
        ietf_offset(&server, &other).header("upload-length"),
        Some("10")
    );
    // Cancel it.
    assert_eq!(send(&server, "DELETE", &other, &[IETF], b"").status, 204);
    assert_eq!(ietf_offset(&server, &other).status, 404);
    // OPTIONS advertises the limits of both protocols.
    let options = send(&server, "OPTIONS", "/upload/", &[], b"");
    assert_eq!(
        options.header("upload-limit"),
        Some("max-size=1073741824, max-age=86400")
    );
    assert_eq!(options.header("tus-version"), Some("1.0.0"));
}

/// A creation whose body is cut off keeps what arrived: the client learns
/// the resource from the 104, asks the offset and appends the rest.
#[test]
fn a_cut_off_creation_resumes_from_the_104_location() {
    let server = Server::builder().uploads().start();
    let data = content(200_000, 7);
    let mut client = Client::connect(server.addr());
    client.send(format!(
        "PUT /upload/cut.bin HTTP/1.1\r\nHost: t\r\nUpload-Draft-Interop-Version: 8\r\nUpload-Complete: ?1\r\nContent-Length: {}\r\n\r\n",
        data.len()
    ));
    let interim = client.read_response();
    assert_eq!(interim.status, 104);
    let location = interim.header("location").unwrap().to_owned();
    client.send(&data[..80_000]);
    drop(client);
    // What arrived is flushed and acknowledged off the loop, soon.
    let offset = poll("the offset after the cut", IO_TIMEOUT, || {
        let head = ietf_offset(&server, &location);
        let offset = head.header("upload-offset")?.parse::<u64>().ok()?;
        (offset == 80_000).then_some(offset)
    });
    assert_eq!(
        ietf_offset(&server, &location).header("upload-length"),
        Some("200000")
    );
    let done = ietf_append(&server, &location, offset, true, &data[80_000..]);
    assert_eq!(done.status, 201, "{}", done.text());
    check_stored(&server, "cut.bin", &data);
}

/// Appends cut off at seeded pseudo-random byte offsets (not chunk
/// boundaries: anywhere in a body), several times over, in both
/// protocols: each keeps exactly what arrived, and the next goes on from
/// there to the right file.
#[test]
fn appends_cut_at_seeded_random_points_keep_what_arrived_and_resume() {
    let server = Server::builder().uploads().start();
    let len = 3_000_000u64;
    let data = content(len as usize, 21);
    let ietf = ietf_create(&server, "cuts-ietf.bin", Some(len), b"");
    let tus = {
        let created = send(
            &server,
            "POST",
            "/upload/",
            &[
                TUS,
                ("Upload-Length", "3000000"),
                ("Upload-Metadata", "filename Y3V0cy10dXMuYmlu"),
            ],
            b"",
        );
        assert_eq!(created.status, 201, "{}", created.text());
        created.header("location").unwrap().to_owned()
    };
    // xorshift64 with a fixed seed: the same cut points on every run.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for (location, protocol) in [(&ietf, "ietf"), (&tus, "tus")] {
        let mut offset = 0u64;
        for cut in 0..6 {
            // Somewhere in the first half of what is left.
            let at = offset + 1 + next() % ((len - offset) / 2);
            let protocol_headers = if protocol == "ietf" {
                "Upload-Draft-Interop-Version: 8\r\nContent-Type: application/partial-upload\r\nUpload-Complete: ?1\r\n"
            } else {
                "Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n"
            };
            // `100 Continue` once the append holds the upload (the one cut
            // before may hold it a moment after its offset shows: 423).
            let mut client = poll("the upload free", IO_TIMEOUT, || {
                let mut client = Client::connect(server.addr());
                client.send(format!(
                    "PATCH {location} HTTP/1.1\r\nHost: t\r\n{protocol_headers}Upload-Offset: {offset}\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
                    len - offset
                ));
                let answer = client.read_response();
                assert!(matches!(answer.status, 100 | 423), "{}", answer.text());
                (answer.status == 100).then_some(client)
            });
            client.send(&data[offset as usize..at as usize]);
            drop(client);
            // What arrived is flushed and acknowledged off the loop.
            let tus_headers = [TUS];
            let headers: &[(&str, &str)] = if protocol == "ietf" {
                &[IETF]
            } else {
                &tus_headers
            };
            poll(&format!("{protocol} cut {cut} at {at}"), IO_TIMEOUT, || {
                let head = send(&server, "HEAD", location, headers, b"");
                let now = head.header("upload-offset")?.parse::<u64>().ok()?;
                assert!(now <= at, "{protocol}: offset {now} past the cut at {at}");
                (now == at).then_some(())
            });
            offset = at;
        }
        let rest = &data[offset as usize..];
        let offset = offset.to_string();
        let done = poll("the upload free", IO_TIMEOUT, || {
            let done = if protocol == "ietf" {
                let headers = [
                    IETF,
                    PARTIAL,
                    ("Upload-Offset", &offset),
                    ("Upload-Complete", "?1"),
                ];
                send(&server, "PATCH", location, &headers, rest)
            } else {
                let headers = [TUS, OCTETS, ("Upload-Offset", &offset)];
                send(&server, "PATCH", location, &headers, rest)
            };
            (done.status != 423).then_some(done)
        });
        assert!(
            matches!(done.status, 201 | 204),
            "{protocol}: {}",
            done.text()
        );
    }
    check_stored(&server, "cuts-ietf.bin", &data);
    check_stored(&server, "cuts-tus.bin", &data);
}

#[test]
fn an_upload_begun_before_a_restart_resumes_after_it() {
    let dir = TempDir::new().unwrap();
    let data = content(500_000, 11);
    let server = server_in(dir.path(), &[]);
    let location = ietf_create(&server, "restart.bin", Some(500_000), &data[..123_456]);
    server.finish();
    let server = server_in(dir.path(), &[]);
    let head = ietf_offset(&server, &location);
    assert_eq!(head.status, 204);
    assert_eq!(head.header("upload-offset"), Some("123456"));
    let done = ietf_append(&server, &location, 123_456, true, &data[123_456..]);
    assert_eq!(done.status, 201, "{}", done.text());
    check_stored_in(dir.path(), "restart.bin", &data);
    // And a tus client picks up a tus upload across a restart too.
    let source = TempDir::new().unwrap();
    let file = write_file(source.path(), "t.bin", &data);
    let first = {
        let created = send(
            &server,
            "POST",
            "/upload/",
            &[
                TUS,
                OCTETS,
                ("Upload-Length", "500000"),
                ("Upload-Metadata", "filename dC5iaW4="),
            ],
            &data[..1000],
        );
        assert_eq!(created.status, 201, "{}", created.text());
        assert_eq!(created.header("upload-offset"), Some("1000"));
        created.header("location").unwrap().to_owned()
    };
    server.finish();
    // The new process listens on another port; the path stays.
    let server = server_in(dir.path(), &[]);
    let first = server.url(&first);
    run_client(&Tool::Tuspy, &server, &file, 100_000, "t.bin", Some(&first));
    check_stored_in(dir.path(), "t.bin", &data);
}

/// The server killed (SIGKILL) while an append's body arrives: after the
/// restart the offset is the last acknowledged one, the bytes past it are
/// gone from the data file, and the upload completes from there.
#[test]
fn a_server_killed_mid_append_resumes_from_the_acknowledged_offset() {
    let dir = TempDir::new().unwrap();
    let data = content(1_000_000, 13);
    let server = server_in(dir.path(), &[]);
    let location = ietf_create(&server, "killed.bin", Some(1_000_000), &data[..123_456]);
    let id = location.trim_start_matches("/upload/.resumable/");
    let part = dir.path().join(format!(".uhttpd-resumable/{id}.part"));
    let mut writer = Client::connect(server.addr());
    writer.send(format!(
        "PATCH {location} HTTP/1.1\r\nHost: t\r\nUpload-Draft-Interop-Version: 8\r\nContent-Type: application/partial-upload\r\nUpload-Offset: 123456\r\nUpload-Complete: ?1\r\nContent-Length: {}\r\n\r\n",
        data.len() - 123_456
    ));
    writer.send(&data[123_456..600_000]);
    // Killed once some of the append is in the data file, unacknowledged.
    poll("the append's bytes on disk", IO_TIMEOUT, || {
        let len = std::fs::metadata(&part).ok()?.len();
        (len > 200_000).then_some(())
    });
    server.finish();
    drop(writer);
    let server = server_in(dir.path(), &[]);
    let head = ietf_offset(&server, &location);
    assert_eq!(head.status, 204);
    assert_eq!(head.header("upload-offset"), Some("123456"));
    assert_eq!(std::fs::metadata(&part).unwrap().len(), 123_456);
    assert!(!dir.path().join("killed.bin").exists());
    let done = ietf_append(&server, &location, 123_456, true, &data[123_456..]);
    assert_eq!(done.status, 201, "{}", done.text());
    check_stored_in(dir.path(), "killed.bin", &data);
}

#[test]
fn concurrent_uploads_of_one_name_store_the_first_to_finish_and_409_the_other() {
    let server = Server::builder().uploads().start();
    let (a, b) = (content(50_000, 1), content(50_000, 2));
    let first = ietf_create(&server, "same.bin", Some(50_000), &a[..10]);
    let second = ietf_create(&server, "same.bin", Some(50_000), &b[..10]);
    let done = ietf_append(&server, &second, 10, true, &b[10..]);
    assert_eq!(done.status, 201, "{}", done.text());
    let late = ietf_append(&server, &first, 10, true, &a[10..]);
    assert_eq!(late.status, 409, "{}", late.text());
    check_stored(&server, "same.bin", &b);
    // Once the name is taken, a new upload of it is refused at once.
    let (_, refused) = exchange(
        &server,
        "POST",
        "/upload/same.bin",
        &[IETF, ("Upload-Complete", "?1")],
        b"x",
    );
    assert_eq!(refused.status, 409);
}

#[test]
fn one_writer_at_a_time_a_second_append_meanwhile_gets_423() {
    let server = Server::builder().uploads().start();
    let location = ietf_create(&server, "busy.bin", Some(100), b"");
    let mut writer = Client::connect(server.addr());
    writer.send(format!(
        "PATCH {location} HTTP/1.1\r\nHost: t\r\nUpload-Draft-Interop-Version: 8\r\nContent-Type: application/partial-upload\r\nUpload-Offset: 0\r\nUpload-Complete: ?1\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"
    ));
    // `100 Continue` comes once the append holds the upload; it holds it
    // until its body ends.
    writer.expect_bytes(b"HTTP/1.1 100 Continue\r\n\r\n");
    writer.send([b'y'; 10]);
    let other = ietf_append(&server, &location, 0, true, &[b'x'; 100]);
    assert_eq!(other.status, 423, "{}", other.text());
    writer.send([b'y'; 90]);
    assert_eq!(writer.read_response().status, 201);
}

#[test]
fn curl_runs_the_readme_ietf_flow() {
    let server = Server::builder().uploads().start();
    let source = TempDir::new().unwrap();
    let data = content(100_000, 4);
    let first = write_file(source.path(), "first", &data[..60_000]);
    let rest = write_file(source.path(), "rest", &data[60_000..]);
    let run = |args: &[&str]| -> String {
        let mut c = curl();
        c.args(["--include"]).args(args);
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).replace('\r', "")
    };
    // As in the README: create with the first part, ask, append the rest.
    let created = run(&[
        "-X",
        "POST",
        "-H",
        "Upload-Draft-Interop-Version: 8",
        "-H",
        "Upload-Complete: ?0",
        "-H",
        "Upload-Length: 100000",
        "--data-binary",
        &format!("@{}", path_str(&first)),
        &server.url("/upload/notes.bin"),
    ]);
    assert!(
        created.contains("HTTP/1.1 104 Upload Resumption Supported\n"),
        "{created}"
    );
    let location = created
        .lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .unwrap()
        .to_owned();
    let head = run(&[
        "--head",
        "-H",
        "Upload-Draft-Interop-Version: 8",
        &server.url(&location),
    ]);
    assert!(head.contains("Upload-Offset: 60000\n"), "{head}");
    let done = run(&[
        "-X",
        "PATCH",
        "-H",
        "Upload-Draft-Interop-Version: 8",
        "-H",
        "Content-Type: application/partial-upload",
        "-H",
        "Upload-Offset: 60000",
        "-H",
        "Upload-Complete: ?1",
        "--data-binary",
        &format!("@{}", path_str(&rest)),
        &server.url(&location),
    ]);
    assert!(done.contains("HTTP/1.1 201 Created\n"), "{done}");
    check_stored(&server, "notes.bin", &data);
    // Cancel one, and ask the limits.
    let other = ietf_create(&server, "other.bin", None, b"abc");
    let cancelled = run(&[
        "-X",
        "DELETE",
        "-H",
        "Upload-Draft-Interop-Version: 8",
        &server.url(&other),
    ]);
    assert!(
        cancelled.starts_with("HTTP/1.1 204 No Content\n"),
        "{cancelled}"
    );
    assert_eq!(ietf_offset(&server, &other).status, 404);
    let options = run(&["-X", "OPTIONS", &server.url("/upload/")]);
    assert!(
        options.contains("\nUpload-Limit: max-size=1073741824, max-age=86400\n"),
        "{options}"
    );
}

// ----- digests, expiry, limits -----

#[test]
fn a_wrong_digest_commits_nothing() {
    let server = Server::builder().uploads().start();
    let data = content(20_000, 6);
    // tus: a wrong Upload-Checksum is 460 and the offset stays.
    let created = send(
        &server,
        "POST",
        "/upload/",
        &[
            TUS,
            ("Upload-Length", "20000"),
            ("Upload-Metadata", "filename ZC5iaW4="),
        ],
        b"",
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let location = created.header("location").unwrap().to_owned();
    let wrong = format!("sha1 {}", STANDARD.encode([0u8; 20]));
    let patch = |checksum: &str, body: &[u8]| {
        send(
            &server,
            "PATCH",
            &location,
            &[
                TUS,
                OCTETS,
                ("Upload-Offset", "0"),
                ("Upload-Checksum", checksum),
            ],
            body,
        )
    };
    assert_eq!(patch(&wrong, &data).status, 460);
    let head = send(&server, "HEAD", &location, &[TUS], b"");
    assert_eq!(
        (head.status, head.header("upload-offset")),
        (200, Some("0"))
    );
    assert_eq!(patch("md5 AAAA", &data).status, 400);
    let right = format!("sha256 {}", STANDARD.encode(sha256(&data)));
    assert_eq!(patch(&right, &data).status, 204);
    check_stored(&server, "d.bin", &data);

    // IETF: a wrong Content-Digest is 400, nothing appended.
    let location = ietf_create(&server, "e.bin", Some(20_000), b"");
    let wrong = format!("sha-256=:{}:", STANDARD.encode([0u8; 32]));
    let r = send(
        &server,
        "PATCH",
        &location,
        &[
            IETF,
            PARTIAL,
            ("Upload-Offset", "0"),
            ("Upload-Complete", "?1"),
            ("Content-Digest", &wrong),
        ],
        &data,
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        ietf_offset(&server, &location).header("upload-offset"),
        Some("0")
    );
    // A wrong Repr-Digest (of the whole file) is found on completion: no
    // file is stored.
    let r = send(
        &server,
        "PATCH",
        &location,
        &[
            IETF,
            PARTIAL,
            ("Upload-Offset", "0"),
            ("Upload-Complete", "?1"),
            ("Repr-Digest", &wrong),
        ],
        &data,
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(!server.upload_dir().join("e.bin").exists());
    let location = ietf_create(&server, "f.bin", Some(20_000), b"");
    let right = format!("sha-512=:{}:", STANDARD.encode(sha2::Sha512::digest(&data)));
    let r = send(
        &server,
        "PATCH",
        &location,
        &[
            IETF,
            PARTIAL,
            ("Upload-Offset", "0"),
            ("Upload-Complete", "?1"),
            ("Repr-Digest", &right),
        ],
        &data,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    check_stored(&server, "f.bin", &data);
}

#[test]
fn an_expired_upload_is_removed_with_its_files() {
    let server = Server::builder()
        .uploads()
        .args(["--upload-expiry", "1"])
        .start();
    let location = ietf_create(&server, "old.bin", Some(10), b"abc");
    let store = server.upload_dir().join(".uhttpd-resumable");
    assert_eq!(std::fs::read_dir(&store).unwrap().count(), 2);
    // Expiry is in whole seconds of the wall clock: within a few.
    poll("the upload to expire", Duration::from_secs(5), || {
        (ietf_offset(&server, &location).status == 404).then_some(())
    });
    assert_eq!(std::fs::read_dir(&store).unwrap().count(), 0);
    assert_eq!(
        ietf_append(&server, &location, 3, true, b"defghij").status,
        404
    );
}

#[test]
fn open_uploads_are_limited_per_client_and_in_total() {
    let server = Server::builder()
        .uploads()
        .args(["--max-open-uploads-per-client", "2"])
        .start();
    ietf_create(&server, "a", None, b"");
    ietf_create(&server, "b", None, b"");
    let (_, refused) = exchange(
        &server,
        "POST",
        "/upload/c",
        &[IETF, ("Upload-Complete", "?0")],
        b"",
    );
    assert_eq!(refused.status, 429);
    let server = Server::builder()
        .uploads()
        .args(["--max-open-uploads", "1"])
        .start();
    ietf_create(&server, "a", None, b"");
    let (_, refused) = exchange(
        &server,
        "POST",
        "/upload/c",
        &[IETF, ("Upload-Complete", "?0")],
        b"",
    );
    assert_eq!(refused.status, 503);
}

// ----- bad input over raw sockets -----

/// Every malformed or out-of-range request gets its status, nothing is
/// appended, and the server goes on serving.
#[test]
fn bad_input_gets_a_clear_status_and_changes_nothing() {
    let server = Server::builder()
        .uploads()
        .args(["--max-upload-size", "1M"])
        .start();
    let location = ietf_create(&server, "bad.bin", Some(1000), b"0123456789");
    let tus = {
        let r = send(
            &server,
            "POST",
            "/upload/",
            &[
                TUS,
                ("Upload-Length", "1000"),
                ("Upload-Metadata", "filename dHVzLmJpbg=="),
            ],
            b"",
        );
        assert_eq!(r.status, 201, "{}", r.text());
        r.header("location").unwrap().to_owned()
    };
    let bogus = "/upload/.resumable/0123456789abcdef0123456789abcdef";
    fn ietf_patch<'a>(
        offset: Option<&'a str>,
        complete: Option<&'a str>,
        content_type: Option<&'a str>,
    ) -> Vec<(&'a str, &'a str)> {
        let mut headers = vec![IETF];
        headers.extend(offset.map(|v| ("Upload-Offset", v)));
        headers.extend(complete.map(|v| ("Upload-Complete", v)));
        headers.extend(content_type.map(|v| ("Content-Type", v)));
        headers
    }
    let partial = Some("application/partial-upload");
    /// Method, path, headers, body, the status wanted.
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, &'a [u8], u16);
    let cases: Vec<Case> = vec![
        (
            "PATCH",
            &location,
            ietf_patch(Some("-1"), Some("?0"), partial),
            b"x",
            400,
        ),
        (
            "PATCH",
            &location,
            ietf_patch(Some("99999999999999999999"), Some("?0"), partial),
            b"x",
            400,
        ),
        (
            "PATCH",
            &location,
            ietf_patch(Some("1e3"), Some("?0"), partial),
            b"x",
            400,
        ),
        (
            "PATCH",
            &location,
            ietf_patch(Some("1é"), Some("?0"), partial),
            b"x",
            400,
        ),
        (
            "PATCH",
            &location,
            ietf_patch(None, Some("?0"), partial),
            b"x",
            400,
        ),
        (
            "PATCH",
            &location,
            ietf_patch(Some("10"), None, partial),
            b"x",
            400,
        ),
        (
            "PATCH",
            &location,
            ietf_patch(Some("10"), Some("yes"), partial),
            b"x",
            400,
        ),
        (
            "PATCH",
            &location,
            ietf_patch(Some("10"), Some("?0"), None),
            b"x",
            415,
        ),
        (
            "PATCH",
            &location,
            ietf_patch(Some("10"), Some("?0"), Some("application/octet-stream")),
            b"x",
            415,
        ),
        // An offset beyond the length (and beyond what is there): 409.
        (
            "PATCH",
            &location,
            ietf_patch(Some("5000"), Some("?0"), partial),
            b"x",
            409,
        ),
        (
            "PATCH",
            &location,
            ietf_patch(Some("9"), Some("?0"), partial),
            b"x",
            409,
        ),
        // A body past the declared length.
        (
            "PATCH",
            &location,
            ietf_patch(Some("10"), Some("?0"), partial),
            &[b'z'; 1200],
            400,
        ),
        // Upload-Complete with a length that disagrees.
        (
            "PATCH",
            &location,
            ietf_patch(Some("10"), Some("?1"), partial),
            b"short",
            400,
        ),
        (
            "PATCH",
            bogus,
            ietf_patch(Some("0"), Some("?0"), partial),
            b"x",
            404,
        ),
        (
            "PATCH",
            "/upload/.resumable/../../etc/passwd",
            ietf_patch(Some("0"), Some("?0"), partial),
            b"x",
            404,
        ),
        ("HEAD", "/upload/.resumable/XYZ", vec![IETF], b"", 404),
        (
            "HEAD",
            &location,
            vec![("Upload-Draft-Interop-Version", "4")],
            b"",
            400,
        ),
        ("HEAD", &location, vec![], b"", 400),
        ("GET", &location, vec![IETF], b"", 405),
        ("POST", "/upload/x.bin", vec![IETF], b"x", 400),
        (
            "POST",
            "/upload/x.bin",
            vec![IETF, ("Upload-Complete", "?1"), ("Upload-Length", "5")],
            b"x",
            400,
        ),
        (
            "POST",
            "/upload/x.bin",
            vec![
                IETF,
                ("Upload-Complete", "?0"),
                ("Upload-Length", "2000000"),
            ],
            b"",
            413,
        ),
        (
            "POST",
            "/upload/.x.bin",
            vec![IETF, ("Upload-Complete", "?0")],
            b"",
            400,
        ),
        (
            "POST",
            "/upload/",
            vec![IETF, ("Upload-Complete", "?0")],
            b"",
            400,
        ),
        (
            "POST",
            "/upload/",
            vec![
                IETF,
                ("Upload-Complete", "?0"),
                ("Upload-Metadata", "filename Li4vZXRj"),
            ],
            b"",
            400,
        ),
        // Refused after the upload was made (and its 104 sent): it goes.
        (
            "POST",
            "/upload/y.bin",
            vec![IETF, ("Upload-Complete", "?0"), ("Upload-Length", "5")],
            b"0123456789",
            400,
        ),
        // tus
        ("PATCH", &tus, vec![TUS, ("Upload-Offset", "0")], b"x", 415),
        ("PATCH", &tus, vec![TUS, OCTETS], b"x", 400),
        (
            "PATCH",
            &tus,
            vec![TUS, OCTETS, ("Upload-Offset", "-5")],
            b"x",
            400,
        ),
        (
            "PATCH",
            &tus,
            vec![TUS, OCTETS, ("Upload-Offset", "7")],
            b"x",
            409,
        ),
        (
            "PATCH",
            &tus,
            vec![TUS, OCTETS, ("Upload-Offset", "5000")],
            b"x",
            409,
        ),
        (
            "PATCH",
            &tus,
            vec![TUS, OCTETS, ("Upload-Offset", "99999999999999999999")],
            b"x",
            400,
        ),
        (
            "POST",
            "/upload/",
            vec![
                TUS,
                ("Upload-Length", "-1"),
                ("Upload-Metadata", "filename YQ=="),
            ],
            b"",
            400,
        ),
        (
            "POST",
            "/upload/x.bin",
            vec![IETF, ("Upload-Complete", "?0"), ("Upload-Length", "-5")],
            b"",
            400,
        ),
        (
            "POST",
            "/upload/x.bin",
            vec![
                IETF,
                ("Upload-Complete", "?0"),
                ("Upload-Length", "99999999999999999999"),
            ],
            b"",
            400,
        ),
        (
            "PATCH",
            &tus,
            vec![("Tus-Resumable", "0.2.2"), OCTETS, ("Upload-Offset", "0")],
            b"x",
            412,
        ),
        (
            "PATCH",
            &tus,
            vec![TUS, OCTETS, ("Upload-Offset", "0")],
            &[b'z'; 1001],
            400,
        ),
        (
            "POST",
            "/upload/",
            vec![TUS, ("Upload-Metadata", "filename YQ==")],
            b"",
            400,
        ),
        (
            "POST",
            "/upload/",
            vec![TUS, ("Upload-Length", "10")],
            b"",
            400,
        ),
        (
            "POST",
            "/upload/",
            vec![
                TUS,
                ("Upload-Length", "10"),
                ("Upload-Metadata", "filename !!"),
            ],
            b"",
            400,
        ),
        (
            "POST",
            "/upload/",
            vec![
                TUS,
                ("Upload-Length", "10"),
                ("Upload-Defer-Length", "1"),
                ("Upload-Metadata", "filename YQ=="),
            ],
            b"",
            400,
        ),
        (
            "POST",
            "/upload/",
            vec![
                TUS,
                ("Upload-Length", "2000000"),
                ("Upload-Metadata", "filename YQ=="),
            ],
            b"",
            413,
        ),
        (
            "POST",
            "/upload/",
            vec![
                TUS,
                ("Upload-Length", "10"),
                ("Upload-Metadata", "filename YQ=="),
            ],
            b"abc",
            415,
        ),
    ];
    for (method, path, headers, body, want) in &cases {
        let response = send(&server, method, path, headers, body);
        assert_eq!(
            response.status,
            *want,
            "{method} {path} {headers:?}: {}",
            response.text()
        );
        // Each refusal speaks the request's protocol.
        if headers.contains(&TUS) {
            assert_eq!(
                response.header("tus-resumable"),
                Some("1.0.0"),
                "{path} {headers:?}"
            );
        }
        if headers.contains(&IETF) {
            let version = response.header("upload-draft-interop-version");
            assert_eq!(version, Some("8"), "{path} {headers:?}");
        }
    }
    // No refused creation left an upload behind: the two of this test.
    let store = server.upload_dir().join(".uhttpd-resumable");
    assert_eq!(std::fs::read_dir(&store).unwrap().count(), 4);
    // A chunked body (no length up front) going past the length: 400 once
    // it does, and nothing of it is kept.
    let mut client = Client::connect(server.addr());
    client.send(format!(
        "PATCH {location} HTTP/1.1\r\nHost: t\r\nUpload-Draft-Interop-Version: 8\r\nContent-Type: application/partial-upload\r\nUpload-Offset: 10\r\nUpload-Complete: ?0\r\nTransfer-Encoding: chunked\r\n\r\n"
    ));
    client.send(format!("1f4\r\n{}\r\n", "a".repeat(500)));
    client.send(format!("2bc\r\n{}\r\n0\r\n\r\n", "b".repeat(700)));
    assert_eq!(client.read_response().status, 400);
    // Nothing was appended, nothing stored, and the server still serves.
    assert_eq!(
        ietf_offset(&server, &location).header("upload-offset"),
        Some("10")
    );
    let appended = poll("the upload free again", IO_TIMEOUT, || {
        let r = ietf_append(&server, &location, 10, false, b"0123456789");
        (r.status != 423).then_some(r)
    });
    assert_eq!(appended.status, 204, "{}", appended.text());
    let id = location.trim_start_matches("/upload/.resumable/");
    let part = server
        .upload_dir()
        .join(format!(".uhttpd-resumable/{id}.part"));
    assert_eq!(std::fs::read(part).unwrap(), b"01234567890123456789");
    let head = send(&server, "HEAD", &tus, &[TUS], b"");
    assert_eq!(head.header("upload-offset"), Some("0"));
    let files: Vec<_> = server
        .uploaded()
        .into_iter()
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert!(files.is_empty(), "{files:?}");
    wait_until("the server still answers", || {
        server.raw_get("/").status == 200
    });
}

/// `value` with each of [`INSERTS`] (multi-byte UTF-8, invalid bytes) at
/// every offset.
fn foreign_at_every_offset(value: &str) -> Vec<Vec<u8>> {
    let value = value.as_bytes();
    let mut out = Vec::new();
    for insert in INSERTS {
        for at in 0..=value.len() {
            let mut altered = value[..at].to_vec();
            altered.extend_from_slice(insert);
            altered.extend_from_slice(&value[at..]);
            out.push(altered);
        }
    }
    out
}

/// Each header of both protocols, sent raw with a multi-byte character
/// or an invalid byte at every offset of a valid value: refused with the
/// status a malformed value gets, nothing appended or created, and the
/// server goes on serving.
#[test]
fn foreign_bytes_at_every_offset_of_every_header_are_refused_and_change_nothing() {
    let server = Server::builder().uploads().start();
    let location = ietf_create(&server, "odd.bin", Some(1000), b"0123456789");
    let created = send(
        &server,
        "POST",
        "/upload/",
        &[
            TUS,
            ("Upload-Length", "1000"),
            ("Upload-Metadata", "filename b2RkLnR1cw=="),
        ],
        b"",
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let tus = created.header("location").unwrap().to_owned();
    const BODY: &[u8] = b"x";
    let checksum = format!("sha1 {}", STANDARD.encode(sha1::Sha1::digest(BODY)));
    /// Method, path, the request's headers, which one is altered, its
    /// body, the status wanted.
    type Case<'a> = (
        &'a str,
        &'a str,
        Vec<(&'a str, &'a str)>,
        usize,
        &'a [u8],
        u16,
    );
    let ietf_patch = vec![
        IETF,
        PARTIAL,
        ("Upload-Offset", "10"),
        ("Upload-Complete", "?0"),
    ];
    let tus_patch = vec![
        TUS,
        OCTETS,
        ("Upload-Offset", "0"),
        ("Upload-Checksum", &checksum),
    ];
    let tus_post = vec![
        TUS,
        ("Upload-Length", "1000"),
        ("Upload-Metadata", "filename YS5iaW4="),
    ];
    let ietf_post = vec![IETF, ("Upload-Complete", "?0"), ("Upload-Length", "1000")];
    let cases: Vec<Case> = vec![
        ("PATCH", &location, ietf_patch.clone(), 0, BODY, 400),
        ("PATCH", &location, ietf_patch.clone(), 1, BODY, 415),
        ("PATCH", &location, ietf_patch.clone(), 2, BODY, 400),
        ("PATCH", &location, ietf_patch.clone(), 3, BODY, 400),
        ("HEAD", &location, vec![IETF], 0, b"", 400),
        ("POST", "/upload/a.bin", ietf_post.clone(), 1, BODY, 400),
        ("POST", "/upload/a.bin", ietf_post.clone(), 2, BODY, 400),
        ("PATCH", &tus, tus_patch.clone(), 0, BODY, 412),
        ("PATCH", &tus, tus_patch.clone(), 1, BODY, 415),
        ("PATCH", &tus, tus_patch.clone(), 2, BODY, 400),
        ("PATCH", &tus, tus_patch.clone(), 3, BODY, 400),
        ("POST", "/upload/", tus_post.clone(), 0, b"", 412),
        ("POST", "/upload/", tus_post.clone(), 1, b"", 400),
        ("POST", "/upload/", tus_post.clone(), 2, b"", 400),
    ];
    for (method, path, headers, altered, body, want) in &cases {
        let (name, value) = headers[*altered];
        for odd in foreign_at_every_offset(value) {
            let mut sent: Vec<(&str, &[u8])> =
                headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
            sent[*altered] = (name, &odd);
            let (_, response) = exchange_bytes(&server, method, path, &sent, body);
            assert_eq!(
                response.status,
                *want,
                "{method} {path} {name}: {}: {}",
                String::from_utf8_lossy(&odd),
                response.text()
            );
        }
    }
    // The two uploads are as they were, and no other was made.
    assert_eq!(
        ietf_offset(&server, &location).header("upload-offset"),
        Some("10")
    );
    let head = send(&server, "HEAD", &tus, &[TUS], b"");
    assert_eq!(head.header("upload-offset"), Some("0"));
    let store = server.upload_dir().join(".uhttpd-resumable");
    assert_eq!(std::fs::read_dir(&store).unwrap().count(), 4);

    // A digest altered anywhere is refused (400) or, when the alteration
    // makes its key another algorithm's, ignored (RFC 9530 §3): then the
    // upload is stored, whole and right. Never anything else.
    let digest = format!("sha-256=:{}:", STANDARD.encode(sha256(BODY)));
    let mut stored = 0;
    for header in ["Content-Digest", "Repr-Digest"] {
        for (i, odd) in foreign_at_every_offset(&digest).into_iter().enumerate() {
            let name = format!("{header}-{i}.bin");
            let headers: [(&str, &[u8]); 3] = [
                (IETF.0, IETF.1.as_bytes()),
                ("Upload-Complete", b"?1"),
                (header, &odd),
            ];
            let path = format!("/upload/{name}");
            let (_, response) = exchange_bytes(&server, "POST", &path, &headers, BODY);
            let file = server.upload_dir().join(&name);
            match response.status {
                400 => assert!(!file.exists(), "{name}"),
                201 => {
                    check_stored(&server, &name, BODY);
                    stored += 1;
                }
                other => panic!("{header}: {}: {other}", String::from_utf8_lossy(&odd)),
            }
        }
    }
    // Exactly those inside or around the key `sha-256` (8 offsets; an
    // invalid byte reads as U+FFFD there), in both headers.
    assert_eq!(stored, 2 * 8 * INSERTS.len());
    wait_until("the server still answers", || {
        server.raw_get("/").status == 200
    });
}

/// With `--auth-file` (even `--auth-uploads-only`), every request of a
/// resumable upload needs the login: creation, offset, append, cancel.
#[test]
fn every_request_of_an_upload_needs_the_login() {
    let mut users = tempfile::NamedTempFile::new().unwrap();
    // A low cost: this test is about where the check applies, not its cost.
    let hash = bcrypt::hash("secret", 4).unwrap();
    std::io::Write::write_all(&mut users, format!("alice:{hash}\n").as_bytes()).unwrap();
    let server = Server::builder()
        .uploads()
        .args(["--auth-file", path_str(users.path()), "--auth-uploads-only"])
        .start();
    let login = format!("Basic {}", STANDARD.encode("alice:secret"));
    let wrong = format!("Basic {}", STANDARD.encode("alice:guess"));
    let create = |auth: &str| {
        exchange(
            &server,
            "POST",
            "/upload/a.bin",
            &[IETF, ("Upload-Complete", "?0"), ("Authorization", auth)],
            b"abc",
        )
    };
    let (interim, refused) = create(&wrong);
    assert_eq!(refused.status, 401);
    assert!(interim.is_empty(), "no 104 before the login");
    let (_, created) = create(&login);
    assert_eq!(created.status, 201);
    let location = created.header("location").unwrap().to_owned();
    for auth in [None, Some(wrong.as_str())] {
        let mut headers = vec![IETF];
        headers.extend(auth.map(|a| ("Authorization", a)));
        assert_eq!(send(&server, "HEAD", &location, &headers, b"").status, 401);
        let mut patch = headers.clone();
        patch.extend([PARTIAL, ("Upload-Offset", "3"), ("Upload-Complete", "?1")]);
        assert_eq!(
            send(&server, "PATCH", &location, &patch, b"def").status,
            401
        );
        assert_eq!(
            send(&server, "DELETE", &location, &headers, b"").status,
            401
        );
        let tus = [
            TUS,
            ("Upload-Length", "1"),
            ("Upload-Metadata", "filename Yg=="),
        ];
        let mut tus = tus.to_vec();
        tus.extend(auth.map(|a| ("Authorization", a)));
        assert_eq!(send(&server, "POST", "/upload/", &tus, b"").status, 401);
    }
    let head = send(
        &server,
        "HEAD",
        &location,
        &[IETF, ("Authorization", &login)],
        b"",
    );
    assert_eq!(head.header("upload-offset"), Some("3"));
}
