//! The example programs, run as child processes on port 0: each prints a
//! `... listening on http://ADDR` line for every listener once bound.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;

/// A running example; killed when dropped.
pub struct Example {
    child: Child,
    /// One address per listener, in the order printed.
    pub addrs: Vec<SocketAddr>,
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Example {
    /// Starts example `name` with port 0 and `args`, and reads the
    /// addresses of its `listeners`. Fails when the example is not built.
    pub fn start(name: &str, args: &[&str], listeners: usize) -> Example {
        let path = example_path(name);
        let mut child = Command::new(&path)
            .arg("0")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("run {}: {e}", path.display()));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut addrs = Vec::new();
        while addrs.len() < listeners {
            let line = match lines.next() {
                Some(Ok(line)) => line,
                _ => panic!("example {name} ended before printing its address"),
            };
            let at = line
                .find("http://")
                .unwrap_or_else(|| panic!("no URL in {line:?}"))
                + "http://".len();
            addrs.push(line[at..].trim().parse().unwrap());
        }
        // Keep draining stdout so the example never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        Example { child, addrs }
    }

    /// The first listener.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How the example ended, or `None` while it runs.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("wait for the example")
    }
}

/// `target/<profile>/examples/NAME`, built first (see [`build_examples`]);
/// a clear failure when it is not there.
fn example_path(name: &str) -> PathBuf {
    // The test binary is target/<profile>/deps/BINARY-HASH.
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let built = build_examples(profile_dir.file_name().is_some_and(|p| p == "release"));
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.is_file(),
        "example {name} is not built ({} missing{}): build the examples with \
         `cargo build --examples` (plain `cargo test` builds them too)",
        path.display(),
        if built {
            ""
        } else {
            ", and `cargo build --examples` failed"
        },
    );
    path
}

/// Builds the examples once per test run through a nested cargo, so the
/// binaries are there and current even under `cargo test --all-targets`
/// (which builds examples only as test harnesses). The variables cargo set
/// for this test process are removed first: inherited, they make the
/// nested build see a changed environment and rebuild dependencies.
fn build_examples(release: bool) -> bool {
    static BUILT: OnceLock<bool> = OnceLock::new();
    *BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .args([
                "build",
                "--quiet",
                "--examples",
                "--package",
                "uhttp-server",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if release {
            command.arg("--release");
        }
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("CARGO_") && key != "CARGO_HOME" && key != "CARGO_TARGET_DIR" {
                command.env_remove(&key);
            }
        }
        command.status().is_ok_and(|s| s.success())
    })
}
