//! The examples, run as programs for a request or two each (built first
//! with `cargo build --examples`; if that is impossible and no binary is
//! there, the tests say so and pass).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use serde_json::json;

use crate::util::{Client, write_pattern_file};

/// A running example; killed when dropped.
struct Example {
    child: Child,
    addrs: Vec<SocketAddr>,
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds the examples once per test run through a nested cargo, so the
/// binaries are there and current even under `cargo test --all-targets`
/// (which builds examples only as test harnesses). The variables cargo set
/// for this test process are removed first: inherited, they make the
/// nested build see a changed environment and rebuild dependencies.
fn build_examples() -> bool {
    static BUILT: OnceLock<bool> = OnceLock::new();
    *BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .args(["build", "--quiet", "--examples"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("CARGO_") && key != "CARGO_HOME" && key != "CARGO_TARGET_DIR" {
                command.env_remove(&key);
            }
        }
        command.status().is_ok_and(|s| s.success())
    })
}

fn example_path(name: &str) -> Option<PathBuf> {
    if !build_examples() {
        eprintln!("note: cargo build --examples failed; using the binaries there are");
    }
    // target/debug/deps/it-HASH → target/debug/examples/NAME
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.parent()?.join("examples").join(name);
    path.exists().then_some(path)
}

/// Starts example `name` with port 0 and `args`, and reads the URLs it
/// prints (`expect` of them).
fn start(name: &str, args: &[&str], expect: usize) -> Option<Example> {
    let Some(path) = example_path(name) else {
        eprintln!("skipped: example {name} is not built (run cargo build --examples)");
        return None;
    };
    let mut child = Command::new(path)
        .arg("0")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the example");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut addrs = Vec::new();
    while addrs.len() < expect {
        let line = lines.next().expect("the example printed its URL").unwrap();
        let at = line.find("http://").expect("a URL") + "http://".len();
        addrs.push(line[at..].trim().parse().unwrap());
    }
    std::thread::spawn(move || for _ in lines {});
    Some(Example { child, addrs })
}

#[test]
fn hello_serves_html_json_and_404() {
    let Some(example) = start("hello", &[], 1) else {
        return;
    };
    let mut client = Client::connect(example.addrs[0]);
    let page = client.get("/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Hello"));
    client.send(
        "POST /rpc?x=1 HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Content-Length: 8\r\n\r\n{\"a\": 1}",
    );
    let rpc = client.read_response().json();
    assert_eq!(rpc["data"], json!({"a": 1}));
    assert_eq!(rpc["query"], json!({"x": "1"}));
    assert_eq!(client.get("/nope").status, 404);
}

#[test]
fn event_upload_streams_a_body_to_a_file_and_answers_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let Some(example) = start("event_upload", &[dir.path().to_str().unwrap()], 1) else {
        return;
    };
    let source = dir.path().join("source.bin");
    write_pattern_file(&source, 1024 * 1024 + 5);
    let body = std::fs::read(&source).unwrap();
    let mut client = Client::connect(example.addrs[0]);
    client.send(format!(
        "PUT /saved.bin HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    ));
    client.expect_bytes(b"HTTP/1.1 100 Continue\r\n\r\n");
    client.send(&body);
    let resp = client.read_response();
    assert_eq!(resp.status, 201);
    assert_eq!(resp.json(), json!({"bytes": body.len()}));
    assert!(std::fs::read(dir.path().join("saved.bin")).unwrap() == body);

    // Counted as it streams by, not saved.
    client.send(
        "POST /x?count HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
         5\r\nhello\r\n0\r\n\r\n",
    );
    assert_eq!(client.read_response().json(), json!({"bytes": 5}));
    assert!(!dir.path().join("x").exists());
}

#[test]
fn delayed_answers_a_fast_request_while_a_slow_one_waits() {
    let Some(example) = start("delayed", &[], 1) else {
        return;
    };
    let mut slow = Client::connect(example.addrs[0]);
    slow.send("GET /slow?ms=700 HTTP/1.1\r\nHost: t\r\n\r\n");
    let start = Instant::now();
    let fast = Client::connect(example.addrs[0]).get("/fast?ms=0").json();
    assert_eq!(fast["path"], "/fast");
    let slow = slow.read_response().json();
    assert_eq!(slow["path"], "/slow");
    assert!(start.elapsed().as_millis() >= 600);
    assert!(slow["waited_ms"].as_u64().unwrap() >= 600);
}

#[test]
fn two_servers_answers_each_listener_with_its_name() {
    let Some(example) = start("two_servers", &[], 2) else {
        return;
    };
    assert_eq!(Client::connect(example.addrs[0]).get("/").text(), "site\n");
    assert_eq!(Client::connect(example.addrs[1]).get("/").text(), "admin\n");
}
