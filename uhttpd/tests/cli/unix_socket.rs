//! `--unix PATH` and `--unix-mode`: uhttpd behind a reverse proxy on the
//! same host, reached with `curl --unix-socket` and a raw `UnixStream`;
//! the socket's mode, a stale socket replaced (never another file), the
//! file removed at exit, the peer logged as `unix:`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::uhttpd::bin;
use crate::util::{PATIENCE, Server, curl, path_str, read_to_close, run, write_file};

fn raw_unix(path: &Path, request: &[u8]) -> crate::util::Response {
    let mut stream = UnixStream::connect(path).expect("connect to the socket");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    stream.write_all(request).unwrap();
    read_to_close(&mut stream)
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// uhttpd on 127.0.0.1 and on the socket at `sock`, with `args`.
fn start(sock: &Path, args: &[&str]) -> Server {
    let mut all = vec!["--unix", path_str(sock)];
    all.extend_from_slice(args);
    // Two banner lines: TCP, then the socket.
    Server::builder().args(all).banner_lines(2).start()
}

#[test]
fn serves_curl_and_raw_clients_on_the_socket_with_its_mode_and_logs_unix() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("u.sock");
    let mut server = start(&sock, &["--log-format", "combined"]);
    write_file(server.root(), "hello.txt", b"hello");
    assert!(
        server
            .banner
            .contains(&format!("on unix:{}\n", path_str(&sock))),
        "{}",
        server.banner
    );
    assert_eq!(mode_of(&sock), 0o660);

    let out = curl()
        .args([
            "--unix-socket",
            path_str(&sock),
            "http://localhost/hello.txt",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"hello");

    let response = raw_unix(&sock, b"GET /hello.txt HTTP/1.0\r\n\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"hello");
    // A head refused on the socket is answered there too.
    assert_eq!(
        raw_unix(&sock, b"GET /\xff HTTP/1.1\r\nHost: t\r\n\r\n").status,
        400
    );
    // /rpc says `unix:` for the peer.
    let rpc = raw_unix(&sock, b"GET /rpc HTTP/1.0\r\n\r\n");
    assert_eq!(rpc.json()["remote_addr"], "unix:");
    // And TCP still serves.
    assert_eq!(server.raw_get("/hello.txt").status, 200);
    assert_eq!(tcp_listeners_of(server.pid()), 1);

    let line = server
        .stderr
        .wait_for("an access line from the socket", |l| {
            l.starts_with("unix: - - [") && l.contains("\"GET /hello.txt HTTP/1.0\" 200 5 ")
        });
    assert!(line.ends_with("\"-\" \"-\""), "{line}");
    server.stderr.wait_for("the curl line", |l| {
        l.starts_with("unix: - - [") && l.contains("\"curl/")
    });

    // Removed at exit.
    server.signal("TERM");
    assert!(server.wait_exit(PATIENCE).success());
    assert!(!sock.exists());
}

#[test]
fn the_mode_is_settable_and_a_stale_socket_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("stale.sock");
    // Left by a run that was killed: a socket nobody listens on.
    drop(UnixListener::bind(&sock).unwrap());
    assert!(
        std::fs::symlink_metadata(&sock)
            .unwrap()
            .file_type()
            .is_socket()
    );
    let server = start(&sock, &["--unix-mode", "0600"]);
    write_file(server.root(), "a.txt", b"a");
    assert_eq!(mode_of(&sock), 0o600);
    assert_eq!(raw_unix(&sock, b"GET /a.txt HTTP/1.0\r\n\r\n").body, b"a");

    // A second uhttpd on the same path refuses: the socket is live.
    let out = run(&[
        "--unix",
        path_str(&sock),
        "--port",
        "0",
        "--bind",
        "127.0.0.1",
        ".",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another server is listening on it"), "{err}");
    // ... and the first one still serves.
    assert_eq!(raw_unix(&sock, b"GET /a.txt HTTP/1.0\r\n\r\n").status, 200);
}

#[test]
fn a_file_that_is_not_a_socket_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("important");
    std::fs::write(&file, b"keep me").unwrap();
    let out = run(&[
        "--unix",
        path_str(&file),
        "--port",
        "0",
        "--bind",
        "127.0.0.1",
        ".",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a file that is not a socket is there (not replaced)"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
}

/// Without --bind, --unix is the only listener: nothing on TCP.
#[test]
fn with_unix_alone_there_is_no_tcp_listener() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    write_file(&root, "x.txt", b"x");
    let sock = dir.path().join("only.sock");
    let mut child = Command::new(bin())
        .args(["--unix", path_str(&sock), "--workers", "2", path_str(&root)])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let result = std::panic::catch_unwind(|| {
        assert_eq!(
            banner,
            format!(
                "serving {} on unix:{}\n",
                path_str(&root.canonicalize().unwrap()),
                path_str(&sock)
            )
        );
        // Both workers accept on the one socket.
        for _ in 0..4 {
            assert_eq!(raw_unix(&sock, b"GET /x.txt HTTP/1.0\r\n\r\n").body, b"x");
        }
        assert_eq!(tcp_listeners_of(child.id()), 0);
    });
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    result.unwrap();
    assert!(status.success(), "{status:?}");
    assert!(!sock.exists());
}

/// How many listening TCP sockets process `pid` holds (its socket
/// descriptors found in /proc/net/tcp and tcp6 in state LISTEN).
fn tcp_listeners_of(pid: u32) -> usize {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|link| {
            let link = link.to_str()?.to_owned();
            Some(link.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
        })
        .collect();
    let mut count = 0;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(3) == Some(&"0A")
                && fields.get(9).is_some_and(|i| inodes.iter().any(|x| x == i))
            {
                count += 1;
            }
        }
    }
    count
}
