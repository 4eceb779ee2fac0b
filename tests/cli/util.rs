//! The harness: a real `uhttpd` on a loopback port with a temporary ROOT,
//! and the clients the tests talk to it with.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long any wait in these tests may take before it counts as a failure.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_uhttpd")
}

/// Runs `uhttpd ARGS` to completion, for start-up failures and `--help`.
pub fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run uhttpd")
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

    /// A copy of every line so far.
    pub fn all(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits (bounded) until a line satisfies `pred`, and returns it.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        let mut lines = self.lines.lock().unwrap();
        loop {
            if let Some(line) = lines.iter().find(|l| pred(l)) {
                return line.clone();
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

/// How to start a server.
pub struct Builder {
    args: Vec<String>,
    root: TempDir,
    uploads: Option<TempDir>,
    env: Vec<(String, String)>,
    wrapper: Option<String>,
    bind: bool,
    serve: Option<PathBuf>,
    banner_lines: usize,
}

impl Builder {
    /// Adds command-line arguments.
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, args: I) -> Self {
        self.args
            .extend(args.into_iter().map(|s| s.as_ref().to_owned()));
        self
    }

    /// Turns uploads on into a fresh temporary directory.
    pub fn uploads(mut self) -> Self {
        self.uploads = Some(TempDir::new().unwrap());
        self
    }

    /// Sets an environment variable for the server.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Leaves `--bind` out (listen on all interfaces).
    pub fn no_bind(mut self) -> Self {
        self.bind = false;
        self
    }

    /// Runs the server under `bash -c "SETUP; exec uhttpd ..."`, for
    /// resource limits set with `ulimit`.
    pub fn under_shell(mut self, setup: &str) -> Self {
        self.wrapper = Some(setup.to_owned());
        self
    }

    /// Waits for `n` banner lines on stdout instead of one.
    pub fn banner_lines(mut self, n: usize) -> Self {
        self.banner_lines = n;
        self
    }

    /// Serves `dir` instead of the temporary ROOT.
    pub fn serve(mut self, dir: &Path) -> Self {
        self.serve = Some(dir.to_owned());
        self
    }

    /// The ROOT that will be served, to fill before `start`.
    pub fn root(&self) -> &Path {
        self.serve.as_deref().unwrap_or(self.root.path())
    }

    /// Starts the server and waits for its first stdout line.
    pub fn start(self) -> Server {
        let mut args: Vec<String> = vec!["--port".into(), "0".into()];
        if self.bind {
            args.extend(["--bind".into(), "127.0.0.1".into()]);
        }
        if let Some(dir) = &self.uploads {
            args.extend(["--upload-dir".into(), path_str(dir.path()).into()]);
        }
        args.extend(self.args.iter().cloned());
        args.push(path_str(self.root()).into());

        let mut command = match &self.wrapper {
            Some(setup) => {
                let mut c = Command::new("bash");
                c.arg("-c")
                    .arg(format!("{setup}; exec \"$0\" \"$@\""))
                    .arg(bin());
                c
            }
            None => Command::new(bin()),
        };
        command
            .args(&args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start uhttpd");

        let stderr = Arc::new(Lines::default());
        let err = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                match line {
                    Ok(line) => sink.push(line),
                    Err(_) => break,
                }
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = String::new();
        for _ in 0..self.banner_lines {
            stdout.read_line(&mut banner).unwrap();
        }
        let port = match port_of(&banner) {
            Some(port) => port,
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "uhttpd printed {banner:?}, stderr:\n{}",
                    stderr.all().join("\n")
                );
            }
        };
        Server {
            child,
            reader: Some(reader),
            _stdout: stdout,
            banner,
            port,
            stderr,
            root: self.root,
            serve: self.serve,
            uploads: self.uploads,
        }
    }
}

/// The port in a banner line such as
/// `serving /tmp/x on http://127.0.0.1:40000/`.
pub fn port_of(banner: &str) -> Option<u16> {
    let after = banner.split("://").nth(1)?;
    let host_port = after.split('/').next()?;
    host_port.rsplit(':').next()?.parse().ok()
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// A running `uhttpd`, killed on drop.
pub struct Server {
    child: Child,
    reader: Option<std::thread::JoinHandle<()>>,
    _stdout: BufReader<ChildStdout>,
    pub banner: String,
    pub port: u16,
    pub stderr: Arc<Lines>,
    root: TempDir,
    serve: Option<PathBuf>,
    uploads: Option<TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn builder() -> Builder {
        Builder {
            args: Vec::new(),
            root: TempDir::new().unwrap(),
            uploads: None,
            env: Vec::new(),
            wrapper: None,
            bind: true,
            serve: None,
            banner_lines: 1,
        }
    }

    /// A default server over an empty ROOT.
    pub fn start() -> Server {
        Server::builder().start()
    }

    /// Kills the server and returns every line it wrote on stderr.
    pub fn finish(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.stderr.all()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn root(&self) -> &Path {
        self.serve.as_deref().unwrap_or(self.root.path())
    }

    pub fn upload_dir(&self) -> &Path {
        self.uploads.as_ref().expect("uploads on").path()
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A connection with read and write timeouts.
    pub fn connect(&self) -> TcpStream {
        connect(self.addr())
    }

    /// Sends `request` as is and reads the answer until the server closes.
    pub fn raw(&self, request: &[u8]) -> RawResponse {
        let mut stream = self.connect();
        stream.write_all(request).unwrap();
        read_to_close(&mut stream)
    }

    /// `GET PATH` over a raw socket, the path sent byte for byte.
    pub fn raw_get(&self, path: &str) -> RawResponse {
        self.raw(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
    }

    /// Files in the upload directory, temporary ones included, sorted.
    pub fn uploaded(&self) -> Vec<String> {
        list_dir(self.upload_dir())
    }

    /// Peak resident set size, from `VmHWM` in `/proc/PID/status`, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status")
    }
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, PATIENCE).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    stream
}

pub fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// Polls `cond` until it holds, for at most [`PATIENCE`]: for effects
/// outside the server's output (files appearing or disappearing).
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An HTTP response read off a raw socket.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// Names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Everything read, head included.
    pub raw: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Parses one response head (and whatever followed it) from `raw`.
    pub fn parse(raw: Vec<u8>) -> RawResponse {
        let end = find(&raw, b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(&raw)));
        let head = String::from_utf8_lossy(&raw[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let body = raw[end + 4..].to_vec();
        RawResponse {
            status,
            headers,
            body,
            raw,
        }
    }
}

/// Reads until the peer closes (or a reset after its answer).
pub fn read_to_close(stream: &mut TcpStream) -> RawResponse {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !raw.is_empty() => break,
            Err(e) => panic!(
                "reading the response: {e}; got so far {:?}",
                String::from_utf8_lossy(&raw)
            ),
        }
    }
    RawResponse::parse(raw)
}

/// Reads just a response head: up to and including the blank line.
pub fn read_head(stream: &mut TcpStream) -> RawResponse {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while find(&raw, b"\r\n\r\n").is_none() {
        match stream.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => raw.push(byte[0]),
            Err(e) => panic!(
                "reading a response head: {e}; got {:?}",
                String::from_utf8_lossy(&raw)
            ),
        }
    }
    RawResponse::parse(raw)
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A `ureq` agent that reports every status instead of failing, follows
/// no redirect and ignores proxy settings.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(PATIENCE))
        .build()
        .into()
}

/// Whether `program` can be run.
pub fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `curl` with proxies and config files ignored; `None` (and a note)
/// when curl is missing.
pub fn curl() -> Option<Command> {
    if !have("curl") {
        eprintln!(
            "note: curl is not installed; skipping (scripts/install-test-deps.sh installs it)"
        );
        return None;
    }
    let mut c = Command::new("curl");
    c.args(["-q", "--silent", "--show-error", "--noproxy", "*"]);
    Some(c)
}

/// Writes `content` to `dir/name`, returning the path.
pub fn write_file(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}
