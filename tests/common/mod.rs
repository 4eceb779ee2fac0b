//! The harness shared by the four integration-test binaries (`it`,
//! `stream`, `cli`, `tls`), each of which includes it with
//! `#[path = "../common/mod.rs"] mod common;`:
//!
//! - [`chromium`]: headless Chromium over the DevTools protocol;
//! - [`client`]: a raw HTTP/1.1 client over any byte stream (plain TCP or
//!   TLS) and the response it parses;
//! - [`library`]: the library's event loop serving on a background thread;
//! - [`uhttpd`]: the real `uhttpd` binary as a child process, its stderr
//!   collected;
//! - [`examples`]: the example programs as child processes;
//! - [`haproxy`]: a real HAProxy in front, with a generated config;
//! - [`pebble`]: a real ACME CA (Pebble) and its DNS server;
//! - [`proxy_header`]: PROXY protocol headers built byte by byte;
//! - [`ws`]: masked client WebSocket frames;
//! - [`tls_certs`]: certificates made at test time;
//! - [`procfs`]: what `/proc` says about a process.
//!
//! Waits are bounded: sockets have read and write timeouts, and conditions
//! only visible from outside (a file appearing, a process exiting) are
//! polled for at most a limit.

pub mod chromium;
pub mod client;
pub mod examples;
pub mod haproxy;
pub mod library;
pub mod pebble;
pub mod procfs;
pub mod proxy_header;
pub mod tls_certs;
pub mod uhttpd;
pub mod ws;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Safety net for every blocking read or write of a client of the
/// in-process server.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a wait on a child process (its banner, its stderr, its exit)
/// may take before it counts as a failure; also the socket timeouts of its
/// clients (a separate process on a busy machine is slower).
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The first position of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether `program --version` runs and succeeds.
pub fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Fails the test unless `program` can be run: a test never passes
/// silently because its tool is missing.
pub fn require(program: &str) {
    assert!(
        have(program),
        "{program} is not installed: scripts/install-test-deps.sh installs what the tests need"
    );
}

/// A `ureq` agent that reports every status instead of failing, follows
/// no redirect and ignores proxy settings.
pub fn agent() -> ureq::Agent {
    agent_following(0)
}

/// [`agent`], following up to `redirects` redirects.
pub fn agent_following(redirects: u32) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(redirects)
        .proxy(None)
        .timeout_global(Some(PATIENCE))
        .build()
        .into()
}

/// Polls `f` until it gives `Some`, for at most `within`: for effects
/// outside any output a test could wait on (files appearing or
/// disappearing, a process exiting).
pub fn poll<T>(what: &str, within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(value) = f() {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Polls `cond` until it holds, for at most [`PATIENCE`].
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    poll(what, PATIENCE, || cond().then_some(()));
}

/// Writes `content` to `dir/name`, returning the path.
pub fn write_file(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// The names in `dir`, sorted.
pub fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}
