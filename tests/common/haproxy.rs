//! A real HAProxy in front of servers under test: a config generated for
//! loopback, the frontend's listening socket bound here on port 0 and
//! handed to HAProxy (`bind fd@0`), so the address is known before
//! HAProxy starts and connections wait in its backlog until it accepts
//! them (nothing to poll for). Killed when dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tempfile::TempDir;

/// The command that installs HAProxy, for the failure message.
const INSTALL: &str =
    "scripts/install-test-deps.sh (Debian package haproxy: apt-get install haproxy)";

/// Fails the test unless `haproxy` can be run (it has `-v`, not
/// `--version`, so [`super::require`] cannot ask it).
pub fn require() {
    let runs = Command::new("haproxy")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(runs, "haproxy is not installed: {INSTALL}");
}

/// How HAProxy tells a server who the client is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendProxy {
    /// `send-proxy`: the text header (version 1).
    V1,
    /// `send-proxy-v2`: the binary header (version 2).
    V2,
}

impl SendProxy {
    fn keyword(self) -> &'static str {
        match self {
            SendProxy::V1 => "send-proxy",
            SendProxy::V2 => "send-proxy-v2",
        }
    }
}

/// What HAProxy is started with: a TCP (layer 4) frontend balancing
/// round robin over `servers`; more directives go in `backend_lines`
/// (e.g. `option httpchk GET /healthz` with `mode http`).
pub struct Config {
    /// `tcp` or `http`.
    pub mode: &'static str,
    /// Each backend server and how it is sent the PROXY header.
    pub servers: Vec<(SocketAddr, SendProxy)>,
    /// Added to the `defaults` section as they are (e.g. `retries 3`).
    pub defaults_lines: Vec<String>,
    /// Added to the backend section as they are.
    pub backend_lines: Vec<String>,
    /// Added to each `server` line as they are (e.g. `check inter 200ms`).
    pub server_options: String,
}

impl Config {
    /// Layer 4 in front of `servers`.
    pub fn tcp(servers: &[(SocketAddr, SendProxy)]) -> Config {
        Config {
            mode: "tcp",
            servers: servers.to_vec(),
            defaults_lines: Vec::new(),
            backend_lines: Vec::new(),
            server_options: String::new(),
        }
    }

    /// The configuration file's text, with the admin socket at `stats`.
    pub fn render(&self, stats: &Path) -> String {
        let mut text = format!(
            "global\n    maxconn 256\n    stats socket {} level admin\n\
             defaults\n    mode {}\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n",
            stats.display(),
            self.mode
        );
        for line in &self.defaults_lines {
            text.push_str(&format!("    {line}\n"));
        }
        text.push_str(
            "frontend front\n    bind fd@0\n    default_backend back\n\
             backend back\n    balance roundrobin\n",
        );
        for line in &self.backend_lines {
            text.push_str(&format!("    {line}\n"));
        }
        for (i, (addr, send)) in self.servers.iter().enumerate() {
            text.push_str(&format!(
                "    server s{i} {addr} {} {}\n",
                send.keyword(),
                self.server_options
            ));
        }
        text
    }
}

/// A running HAProxy.
pub struct Haproxy {
    child: Child,
    addr: SocketAddr,
    stats: PathBuf,
    _dir: TempDir,
}

impl Haproxy {
    /// Checks `config` (`haproxy -c`) and starts HAProxy in the
    /// foreground with it.
    pub fn start(config: &Config) -> Haproxy {
        require();
        let dir = TempDir::new().unwrap();
        let file = dir.path().join("haproxy.cfg");
        let stats = dir.path().join("stats.sock");
        let text = config.render(&stats);
        std::fs::write(&file, &text).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // The check opens `fd@0` too: it is given the socket as well.
        let check = Command::new("haproxy")
            .args(["-c", "-q", "-f"])
            .arg(&file)
            .stdin(Stdio::from(OwnedFd::from(listener.try_clone().unwrap())))
            .output()
            .expect("run haproxy -c");
        assert!(
            check.status.success(),
            "haproxy refuses the config:\n{}\n{}",
            text,
            String::from_utf8_lossy(&check.stderr)
        );
        let child = Command::new("haproxy")
            .args(["-db", "-f"])
            .arg(&file)
            .stdin(Stdio::from(OwnedFd::from(listener)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start haproxy");
        Haproxy {
            child,
            addr,
            stats,
            _dir: dir,
        }
    }

    /// The answer to `command` on the admin socket (`show stat`, ...);
    /// waits (bounded) for the socket to appear after the start.
    pub fn command(&self, command: &str) -> String {
        let mut stream = super::poll("the HAProxy admin socket", super::PATIENCE, || {
            UnixStream::connect(&self.stats).ok()
        });
        stream.set_read_timeout(Some(super::PATIENCE)).unwrap();
        stream.write_all(format!("{command}\n").as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    /// The status HAProxy gives server `s{index}` of the backend (`UP`,
    /// `DOWN`, `UP 1/2` while rising, `DOWN 1/2` while falling...), from
    /// `show stat`.
    pub fn server_status(&self, index: usize) -> String {
        let stat = self.command("show stat");
        let mut lines = stat.lines();
        let header = lines.next().unwrap_or_default();
        let column = header
            .trim_start_matches("# ")
            .split(',')
            .position(|c| c == "status")
            .unwrap_or_else(|| panic!("no status column in {header:?}"));
        let name = format!("s{index}");
        lines
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|f| f.first() == Some(&"back") && f.get(1) == Some(&name.as_str()))
            .and_then(|f| f.get(column).map(|s| s.to_string()))
            .unwrap_or_else(|| panic!("no server {name} in {stat}"))
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The HAProxy process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
