//! A real `uhttpd` on a loopback port: started with `--port 0`, its
//! address read from stdout, its stderr collected for the tests to wait on.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long any wait may take before it counts as a failure.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_uhttpd")
}

/// Polls `f` until it gives `Some`, for at most `within`.
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

/// Lines written to stderr so far, and a way to wait for more.
#[derive(Default)]
pub struct Lines {
    lines: Mutex<Vec<String>>,
    more: Condvar,
}

impl Lines {
    fn push(&self, line: String) {
        self.lines.lock().unwrap().push(line);
        self.more.notify_all();
    }

    /// Every line so far.
    pub fn all(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits (bounded) until a line after the first `skip` satisfies
    /// `pred`; returns its index and text.
    pub fn wait_for(
        &self,
        skip: usize,
        what: &str,
        pred: impl Fn(&str) -> bool,
    ) -> (usize, String) {
        let deadline = Instant::now() + PATIENCE;
        let mut lines = self.lines.lock().unwrap();
        loop {
            if let Some((i, line)) = lines.iter().enumerate().skip(skip).find(|(_, l)| pred(l)) {
                return (i, line.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no stderr line {what} within {PATIENCE:?}; got:\n{}",
                lines.join("\n")
            );
            lines = self.more.wait_timeout(lines, left).unwrap().0;
        }
    }
}

/// A ROOT with a few files in it.
pub fn site() -> TempDir {
    let root = TempDir::new().unwrap();
    std::fs::write(root.path().join("hello.txt"), "hello over TLS\n").unwrap();
    std::fs::write(root.path().join("1k.bin"), one_kib()).unwrap();
    root
}

/// The contents of `1k.bin`.
pub fn one_kib() -> Vec<u8> {
    (0..1024u32).map(|i| (i % 251) as u8).collect()
}

/// A running `uhttpd`; killed when dropped.
pub struct Server {
    child: Child,
    /// The HTTPS (or HTTP) listener.
    pub addr: SocketAddr,
    /// The `--redirect-http` listener, if any.
    pub redirect: Option<SocketAddr>,
    /// Everything written to stderr.
    pub stderr: Arc<Lines>,
    exited: Option<ExitStatus>,
}

impl Server {
    /// Starts `uhttpd --bind 127.0.0.1 --port 0 ARGS ROOT` and waits for
    /// its banner.
    pub fn start<S: AsRef<str>>(root: &Path, args: &[S]) -> Server {
        let mut child = Command::new(bin())
            .args(["--bind", "127.0.0.1", "--port", "0"])
            .args(args.iter().map(AsRef::as_ref))
            .arg(root)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start uhttpd");
        let stderr = Arc::new(Lines::default());
        let err = child.stderr.take().unwrap();
        let lines = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                lines.push(line);
            }
        });
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let banner = |what: &str| match rx.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(e) => panic!(
                "no {what} line on stdout ({e}); stderr:\n{}",
                stderr.all().join("\n")
            ),
        };
        let first = banner("serving");
        assert!(first.starts_with("serving "), "{first:?}");
        let addr = url_addr(&first);
        let redirect = args
            .iter()
            .any(|a| a.as_ref() == "--redirect-http")
            .then(|| {
                let line = banner("redirecting");
                assert!(line.starts_with("redirecting http://"), "{line:?}");
                url_addr(&line)
            });
        Server {
            child,
            addr,
            redirect,
            stderr,
            exited: None,
        }
    }

    /// Sends a signal (`HUP`, `TERM`, `INT`) with `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits (bounded) for the process to exit.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let child = &mut self.child;
        let status = poll("uhttpd to exit", within, || child.try_wait().unwrap());
        self.exited = Some(status);
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The address in the first `scheme://HOST:PORT/` of a banner line.
fn url_addr(line: &str) -> SocketAddr {
    let rest = &line[line.find("://").expect("a URL in the banner") + 3..];
    let authority = &rest[..rest.find('/').unwrap()];
    authority
        .parse()
        .unwrap_or_else(|e| panic!("{line:?}: {e}"))
}
