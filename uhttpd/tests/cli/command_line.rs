//! Options, start-up failures, banner, binding and logging.

use std::net::{Ipv6Addr, SocketAddr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use tempfile::TempDir;

use crate::util::{Server, agent, connect, path_str, port_of, run, write_file};

#[test]
fn help_mentions_every_option() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for option in [
        "--bind",
        "--port",
        "--cert",
        "--key",
        "--redirect-http",
        "--upload-dir",
        "--overwrite",
        "--max-connections",
        "--workers",
        "--keep-alive-timeout",
        "--keep-alive-max-requests",
        "--request-timeout",
        "--send-timeout",
        "--max-headers-length",
        "--max-content-length",
        "--max-upload-size",
        "--no-listing",
        "--no-rpc",
        "--trusted-proxy",
        "--auth-file",
        "--auth-uploads-only",
        "--config",
        "--quiet",
        "--verbose",
        "--help",
        "--version",
        "RUST_LOG",
    ] {
        assert!(help.contains(option), "--help does not mention {option}");
    }
}

#[test]
fn version_prints_the_package_version() {
    let out = run(&["--version"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");
}

/// The start-up failure contract: non-zero exit, nothing on stdout (no
/// banner: nothing was served), and one line on stderr carrying the cause.
/// Returns that line.
fn fails_with_one_line(out: &Output, cause: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "exited 0; stderr: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "printed a banner: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line on stderr, got:\n{stderr}"
    );
    let line = lines[0].to_owned();
    for word in cause {
        assert!(line.contains(word), "{line:?} does not name {word:?}");
    }
    line
}

/// Command-line parse errors come from clap; uhttpd folds its message
/// into the one line every start-up error gets.
fn usage_error_names(out: &Output, cause: &[&str]) {
    fails_with_one_line(out, cause);
}

#[test]
fn refuses_a_port_in_use_with_one_line() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let root = TempDir::new().unwrap();
    let out = run(&["-b", "127.0.0.1", "-p", &port, path_str(root.path())]);
    fails_with_one_line(&out, &["in use", &port]);
}

#[test]
fn refuses_a_missing_root_with_one_line() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("nope");
    let out = run(&["-b", "127.0.0.1", "-p", "0", path_str(&missing)]);
    fails_with_one_line(&out, &[path_str(&missing), "No such file"]);
}

#[test]
fn refuses_a_root_that_is_a_file_with_one_line() {
    let dir = TempDir::new().unwrap();
    let file = write_file(dir.path(), "f.txt", b"x");
    let out = run(&["-b", "127.0.0.1", "-p", "0", path_str(&file)]);
    fails_with_one_line(&out, &[path_str(&file), "not a directory"]);
}

#[test]
fn refuses_cert_without_key() {
    let dir = TempDir::new().unwrap();
    let cert = write_file(dir.path(), "cert.pem", b"");
    let out = run(&["-p", "0", "--cert", path_str(&cert), path_str(dir.path())]);
    usage_error_names(&out, &["--key"]);
}

#[test]
fn refuses_an_unreadable_certificate_with_one_line() {
    let dir = TempDir::new().unwrap();
    let cert = dir.path().join("missing-cert.pem");
    let key = write_file(dir.path(), "key.pem", b"not a key");
    let out = run(&[
        "-b",
        "127.0.0.1",
        "-p",
        "0",
        "--cert",
        path_str(&cert),
        "--key",
        path_str(&key),
        path_str(dir.path()),
    ]);
    fails_with_one_line(&out, &["missing-cert.pem"]);
}

#[test]
fn refuses_a_certificate_file_without_a_certificate_with_one_line() {
    let dir = TempDir::new().unwrap();
    let cert = write_file(dir.path(), "cert.pem", b"hello\n");
    let key = write_file(dir.path(), "key.pem", b"hello\n");
    let out = run(&[
        "-b",
        "127.0.0.1",
        "-p",
        "0",
        "--cert",
        path_str(&cert),
        "--key",
        path_str(&key),
        path_str(dir.path()),
    ]);
    fails_with_one_line(&out, &["cert.pem"]);
}

#[test]
fn refuses_a_missing_upload_dir_with_one_line() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("incoming");
    let out = run(&[
        "-b",
        "127.0.0.1",
        "-p",
        "0",
        "--upload-dir",
        path_str(&missing),
        path_str(dir.path()),
    ]);
    fails_with_one_line(&out, &["upload", path_str(&missing)]);
}

#[test]
fn refuses_an_upload_dir_that_is_not_writable_with_one_line() {
    let dir = TempDir::new().unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root writes through 0555: there is nothing to refuse then.
    if std::fs::write(locked.join("probe"), b"").is_ok() {
        eprintln!("note: running as root, chmod 0555 does not stop writes; skipping");
        return;
    }
    let out = run(&[
        "-b",
        "127.0.0.1",
        "-p",
        "0",
        "--upload-dir",
        path_str(&locked),
        path_str(dir.path()),
    ]);
    fails_with_one_line(&out, &["not writable", path_str(&locked)]);
}

#[test]
fn refuses_an_upload_dir_that_is_a_file_with_one_line() {
    let dir = TempDir::new().unwrap();
    let file = write_file(dir.path(), "incoming", b"");
    let out = run(&[
        "-b",
        "127.0.0.1",
        "-p",
        "0",
        "--upload-dir",
        path_str(&file),
        path_str(dir.path()),
    ]);
    fails_with_one_line(&out, &["not a directory", path_str(&file)]);
}

#[test]
fn usage_errors_are_one_line() {
    let dir = TempDir::new().unwrap();
    let cert = write_file(dir.path(), "cert.pem", b"");
    let root = path_str(dir.path());
    let out = run(&["-p", "0", "--cert", path_str(&cert), root]);
    fails_with_one_line(&out, &["--key"]);
    let out = run(&["-p", "0", "--max-upload-size", "10X", root]);
    fails_with_one_line(&out, &["10X", "--max-upload-size"]);
}

#[test]
fn refuses_a_bad_size() {
    let dir = TempDir::new().unwrap();
    let out = run(&["-p", "0", "--max-upload-size", "10X", path_str(dir.path())]);
    usage_error_names(&out, &["10X", "--max-upload-size"]);
}

#[test]
fn port_zero_prints_the_chosen_port() {
    let server = Server::start();
    assert!(server.port != 0);
    assert_eq!(
        server.banner.trim(),
        format!(
            "serving {} on http://127.0.0.1:{}/",
            server.root().canonicalize().unwrap().display(),
            server.port
        )
    );
    let resp = agent().get(server.url("/")).call().unwrap();
    assert_eq!(resp.status(), 200);
}

fn has_ipv6() -> bool {
    TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
}

#[test]
fn default_bind_listens_on_all_interfaces_dual_stack() {
    let server = Server::builder().no_bind().start();
    assert!(
        server.banner.contains("(all interfaces)"),
        "{}",
        server.banner
    );
    assert_eq!(port_of(&server.banner), Some(server.port));
    let v4 = SocketAddr::from(([127, 0, 0, 1], server.port));
    let get = |addr: SocketAddr| {
        let mut stream = connect(addr);
        std::io::Write::write_all(
            &mut stream,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        crate::util::read_to_close(&mut stream).status
    };
    assert_eq!(get(v4), 200);
    if has_ipv6() {
        assert_eq!(
            get(SocketAddr::from((Ipv6Addr::LOCALHOST, server.port))),
            200
        );
    } else {
        eprintln!("note: no IPv6 on this host; checked IPv4 only");
    }
}

#[test]
fn logs_one_access_line_per_response() {
    let server = Server::builder().start();
    write_file(server.root(), "hello.txt", b"hello");
    let resp = agent().get(server.url("/hello.txt?x=1")).call().unwrap();
    assert_eq!(resp.status(), 200);
    let resp = agent().get(server.url("/missing")).call().unwrap();
    assert_eq!(resp.status(), 404);

    let line = server
        .stderr
        .wait_for("for GET /hello.txt", |l| l.contains("/hello.txt?x=1"));
    // remote address, request line, status, bytes, duration
    assert!(line.contains("127.0.0.1"), "{line}");
    assert!(line.contains("\"GET /hello.txt?x=1 HTTP/1.1\""), "{line}");
    assert!(line.contains(" 200 5 "), "{line}");
    assert!(line.trim_end().ends_with("ms"), "{line}");
    let line = server
        .stderr
        .wait_for("for GET /missing", |l| l.contains("/missing"));
    assert!(line.contains(" 404 "), "{line}");
    let lines = server.stderr.all();
    assert_eq!(
        lines.iter().filter(|l| l.contains("/hello.txt")).count(),
        1,
        "{lines:?}"
    );
}

#[test]
fn quiet_silences_the_access_log() {
    let server = Server::builder().args(["-q"]).start();
    let agent = agent();
    let resp = agent.get(server.url("/first")).call().unwrap();
    assert_eq!(resp.status(), 404);
    // The access line is written as the answer's last byte leaves, so
    // once a second answer on the same connection is back, the first
    // line would be out; stop the server and collect everything it wrote.
    let resp = agent.get(server.url("/second")).call().unwrap();
    assert_eq!(resp.status(), 404);
    let lines = server.finish();
    assert!(
        !lines.iter().any(|l| l.contains("/first")),
        "access log not silenced: {lines:?}"
    );
}

#[test]
fn rust_log_overrides_the_level() {
    // RUST_LOG=access=off hides the access log but keeps the rest.
    let server = Server::builder().env("RUST_LOG", "info,access=off").start();
    agent().get(server.url("/nothing")).call().unwrap();
    server
        .stderr
        .wait_for("start-up message", |l| l.contains("started"));
    assert!(!server.stderr.all().iter().any(|l| l.contains("/nothing")));

    // RUST_LOG=debug beats -q.
    let server = Server::builder()
        .args(["-q"])
        .env("RUST_LOG", "debug")
        .start();
    agent().get(server.url("/loud")).call().unwrap();
    server
        .stderr
        .wait_for("access line despite -q", |l| l.contains("/loud"));
}

#[test]
fn config_file_settings_apply_and_flags_override_them() {
    let dir = TempDir::new().unwrap();
    // port 1 in the file: the harness's --port 0 must win.
    let config = write_file(
        dir.path(),
        "uhttpd.toml",
        b"port = 1\nno_rpc = true\nno_listing = true\nmax_content_length = \"1K\"\n",
    );
    let server = Server::builder()
        .args(["--config", path_str(&config)])
        .start();
    assert_ne!(server.port, 1);
    assert_eq!(
        agent().get(server.url("/rpc")).call().unwrap().status(),
        404
    );
    assert_eq!(agent().get(server.url("/")).call().unwrap().status(), 404);

    let bad = write_file(dir.path(), "bad.toml", b"no_such_key = 1\n");
    let out = run(&["--config", path_str(&bad), path_str(dir.path())]);
    fails_with_one_line(&out, &["bad.toml"]);
}
