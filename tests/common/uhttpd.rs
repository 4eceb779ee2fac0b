//! The real `uhttpd` on a loopback port: started with `--port 0` over a
//! ROOT (a fresh temporary directory unless told otherwise), its address
//! read from the banner on stdout, its stderr collected for tests to wait
//! on; killed when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::client::{self, Response};
use super::{PATIENCE, list_dir, poll};

/// The binary under test. (Looked up when a test runs, not when it is
/// compiled: the library's test binaries include this harness too, and
/// cargo names the binary only to the tests of the package `uhttpd`.)
pub fn bin() -> &'static str {
    match option_env!("CARGO_BIN_EXE_uhttpd") {
        Some(path) => path,
        None => panic!("only the tests of the package uhttpd (uhttpd/tests/) can run uhttpd"),
    }
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
    /// Collects the lines of `source` on a thread of their own.
    fn collect(source: impl Read + Send + 'static) -> (Arc<Lines>, std::thread::JoinHandle<()>) {
        let lines = Arc::new(Lines::default());
        let sink = Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(source).lines() {
                let Ok(line) = line else { break };
                sink.lines.lock().unwrap().push(line);
                sink.more.notify_all();
            }
        });
        (lines, reader)
    }

    /// A copy of every line so far.
    pub fn all(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits (bounded) until a line satisfies `pred`, and returns it.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.wait_for_from(0, what, pred).1
    }

    /// Waits (bounded) until a line after the first `skip` satisfies
    /// `pred`; returns its index and text.
    pub fn wait_for_from(
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

/// How to start a server.
pub struct Builder {
    args: Vec<String>,
    root: TempDir,
    uploads: Option<TempDir>,
    env: Vec<(String, String)>,
    wrapper: Option<String>,
    bind: bool,
    serve: Option<PathBuf>,
    banner_lines: Option<usize>,
    program: Option<PathBuf>,
    user: Option<u32>,
    port: u16,
}

impl Builder {
    /// Listens on `port` instead of 0 (a restart where a balancer expects
    /// the instance).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

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

    /// Waits for `n` banner lines on stdout (by default one, two with
    /// `--redirect-http`).
    pub fn banner_lines(mut self, n: usize) -> Self {
        self.banner_lines = Some(n);
        self
    }

    /// Runs the `uhttpd` at `path` (an installed one) instead of the
    /// binary under test.
    pub fn program(mut self, path: &Path) -> Self {
        self.program = Some(path.to_owned());
        self
    }

    /// Runs the server as user and group `id` with no supplementary
    /// group (the test must run as root), as systemd runs a service with
    /// `DynamicUser=`. Not with [`Builder::under_shell`].
    pub fn user(mut self, id: u32) -> Self {
        self.user = Some(id);
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

    /// Starts the server and waits (bounded) for its banner.
    pub fn start(self) -> Server {
        let mut args: Vec<String> = vec!["--port".into(), self.port.to_string()];
        if self.bind {
            args.extend(["--bind".into(), "127.0.0.1".into()]);
        }
        if let Some(dir) = &self.uploads {
            args.extend(["--upload-dir".into(), path_str(dir.path()).into()]);
        }
        args.extend(self.args.iter().cloned());
        args.push(path_str(self.root()).into());
        let redirecting = self.args.iter().any(|a| a == "--redirect-http");
        let banner_lines = self.banner_lines.unwrap_or(if redirecting { 2 } else { 1 });

        assert!(
            self.wrapper.is_none() || self.user.is_none(),
            "user() and under_shell() do not combine"
        );
        let program = self.program.as_deref().unwrap_or(Path::new(bin()));
        let mut command = match (&self.wrapper, self.user) {
            (Some(setup), _) => {
                let mut c = Command::new("bash");
                c.arg("-c")
                    .arg(format!("{setup}; exec \"$0\" \"$@\""))
                    .arg(program);
                c
            }
            // setpriv (util-linux) also drops root's supplementary groups.
            (None, Some(id)) => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={id}"))
                    .arg(format!("--regid={id}"))
                    .arg("--clear-groups")
                    .arg(program);
                c
            }
            (None, None) => Command::new(program),
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
        let (stderr, reader) = Lines::collect(child.stderr.take().unwrap());

        // Stdout is read on a thread (drained to the end, so the server
        // never blocks on it), the banner lines passed back with a limit.
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut banner = String::new();
        let mut redirect = None;
        for _ in 0..banner_lines {
            let line = match rx.recv_timeout(PATIENCE) {
                Ok(line) => line,
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "uhttpd printed {banner:?} and then no line ({e}); stderr:\n{}",
                        stderr.all().join("\n")
                    );
                }
            };
            if line.starts_with("redirecting http://") {
                redirect = Some(url_addr(&line));
            }
            banner.push_str(&line);
            banner.push('\n');
        }
        assert!(banner.starts_with("serving "), "{banner:?}");
        let port = port_of(&banner).unwrap_or_else(|| panic!("no port in {banner:?}"));
        Server {
            child,
            reader: Some(reader),
            banner,
            port,
            redirect,
            stderr,
            root: self.root,
            serve: self.serve,
            uploads: self.uploads,
            exited: None,
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

/// The address in the first `scheme://HOST:PORT/` of a banner line.
fn url_addr(line: &str) -> SocketAddr {
    let rest = &line[line.find("://").expect("a URL in the banner") + 3..];
    let authority = &rest[..rest.find('/').unwrap()];
    authority
        .parse()
        .unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// A running `uhttpd`, killed on drop.
pub struct Server {
    child: Child,
    reader: Option<std::thread::JoinHandle<()>>,
    /// The banner lines, each ending in a newline.
    pub banner: String,
    /// The port of the first listener (HTTPS with TLS on).
    pub port: u16,
    /// The `--redirect-http` listener, if any.
    pub redirect: Option<SocketAddr>,
    /// Everything written to stderr.
    pub stderr: Arc<Lines>,
    root: TempDir,
    serve: Option<PathBuf>,
    uploads: Option<TempDir>,
    exited: Option<ExitStatus>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
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
            banner_lines: None,
            program: None,
            user: None,
            port: 0,
        }
    }

    /// A default server over an empty ROOT.
    pub fn start() -> Server {
        Server::builder().start()
    }

    /// `uhttpd --bind 127.0.0.1 --port 0 ARGS ROOT`.
    pub fn serving<S: AsRef<str>>(root: &Path, args: &[S]) -> Server {
        Server::builder().serve(root).args(args).start()
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

    /// Sends a signal (`HUP`, `TERM`, `INT`) with `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
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

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn root(&self) -> &Path {
        self.serve.as_deref().unwrap_or(self.root.path())
    }

    pub fn upload_dir(&self) -> &Path {
        self.uploads.as_ref().expect("uploads on").path()
    }

    /// The first listener.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A connection with read and write timeouts.
    pub fn connect(&self) -> TcpStream {
        client::tcp(self.addr(), PATIENCE)
    }

    /// Sends `request` as is and reads the answer until the server closes.
    pub fn raw(&self, request: &[u8]) -> Response {
        let mut stream = self.connect();
        stream.write_all(request).unwrap();
        client::read_to_close(&mut stream)
    }

    /// `GET PATH` over a raw socket, the path sent byte for byte.
    pub fn raw_get(&self, path: &str) -> Response {
        self.raw(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
    }

    /// Files in the upload directory, temporary ones included, sorted.
    pub fn uploaded(&self) -> Vec<String> {
        list_dir(self.upload_dir())
    }

    /// Peak resident set size (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        super::procfs::status_kib(self.pid(), "VmHWM")
    }
}
