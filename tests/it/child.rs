//! A server in a child process (this test binary run again), for checks
//! that need a process of their own: its memory, its CPU time, its file
//! descriptor limit.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use uhttp::{Config, Event, HttpServer};

const MODE_VAR: &str = "UHTTP_IT_CHILD_FILE";

/// Not a test of its own: the body of the child process. Serves
/// `/file` from the file named in `UHTTP_IT_CHILD_FILE` and answers
/// anything else with "ok".
#[test]
#[ignore = "run by other tests in a child process"]
fn child_server() {
    let Ok(file) = std::env::var(MODE_VAR) else {
        return;
    };
    let mut config = Config::default();
    config.request_timeout = Duration::from_secs(30);
    let mut server = HttpServer::with_config("127.0.0.1:0", config).unwrap();
    println!("listening {}", server.local_addr());
    loop {
        if let Some(Event::Request(req)) = server.wait(None).unwrap() {
            let _ = if req.path() == "/file" {
                req.respond_file(&file)
            } else {
                req.respond(200, "ok")
            };
        }
    }
}

/// The child process; killed when dropped.
pub struct ChildServer {
    child: Child,
    pub addr: SocketAddr,
}

impl ChildServer {
    /// Starts the child serving `file`; with `max_fds`, under that
    /// `RLIMIT_NOFILE` (set with `prlimit` after start-up fds are open is
    /// racy, so through the shell's `ulimit` before exec).
    pub fn start(file: &std::path::Path, max_fds: Option<u32>) -> ChildServer {
        let exe = std::env::current_exe().unwrap();
        let args = [
            "child::child_server",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ];
        let mut command = match max_fds {
            None => {
                let mut c = Command::new(&exe);
                c.args(args);
                c
            }
            Some(n) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(&exe)
                    .args(args);
                c
            }
        };
        let mut child = command
            .env(MODE_VAR, file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the child server");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the child printed its address")
                .unwrap();
            // libtest may print the test's name on the same line.
            if let Some(at) = line.find("listening ") {
                break line[at + 10..].trim().parse().unwrap();
            }
        };
        // Keep draining stdout so the child never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        ChildServer { child, addr }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory in KiB (`VmRSS` of `/proc/PID/status`).
    pub fn rss_kib(&self) -> u64 {
        crate::common::procfs::status_kib(self.pid(), "VmRSS")
    }

    /// User plus system CPU time in clock ticks (`/proc/PID/stat`).
    pub fn cpu_ticks(&self) -> u64 {
        crate::common::procfs::cpu_ticks(&format!("/proc/{}/stat", self.pid()))
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
