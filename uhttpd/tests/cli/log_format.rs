//! `--log-format common|combined|json` through the real server, with
//! hostile bytes in the path, the referer and the user agent: the common
//! and combined lines as nginx writes them, every JSON line valid JSON
//! that says what was sent.

use std::io::Write;
use std::net::Shutdown;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::{Server, connect, path_str, read_to_close, write_file};

/// A 404 whose path holds 2-, 3- and 4-byte characters raw, a referer
/// with `"` and `\`, and a user agent with those, multi-byte characters
/// and an invalid byte (which reaches the log as U+FFFD).
const HOSTILE: &[u8] = b"GET /caf\xc3\xa9/\xe2\x82\xac?q=\xf0\x9f\x98\x80 HTTP/1.1\r\nHost: t\r\n\
Referer: http://x/\"q\"\\back\r\n\
User-Agent: UA \"quoted\" \\ \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xff end\r\n\
Connection: close\r\n\r\n";
/// Refused before its head parsed: an invalid byte, a control byte, `"`
/// and `\` in the path.
const REFUSED: &[u8] = b"GET /\xff\x01\"\\ HTTP/1.1\r\nHost: t\r\n\r\n";
/// `ann:pw` as Basic credentials (no --auth-file: served, user logged).
const WITH_USER: &[u8] =
    b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nAuthorization: Basic YW5uOnB3\r\nConnection: close\r\n\r\n";

/// Sends the three requests; returns the body lengths of their answers.
fn send_all(server: &Server) -> [usize; 3] {
    let mut lens = [0; 3];
    for (i, request) in [HOSTILE, REFUSED, WITH_USER].into_iter().enumerate() {
        let response = server.raw(request);
        let want = [404, 400, 200][i];
        assert_eq!(response.status, want, "request {i}");
        lens[i] = response.body.len();
    }
    lens
}

fn start(format: &str) -> Server {
    let server = Server::builder().args(["--log-format", format]).start();
    write_file(server.root(), "hello.txt", b"hello");
    server
}

/// The first `n` stderr lines that start with `prefix`, waiting for them.
fn lines(server: &Server, prefix: &str, n: usize) -> Vec<String> {
    let mut from = 0;
    let mut found = Vec::new();
    for k in 0..n {
        let what = format!("access line {k} starting {prefix:?}");
        let (i, line) = server
            .stderr
            .wait_for_from(from, &what, |l| l.starts_with(prefix));
        found.push(line);
        from = i + 1;
    }
    found
}

/// `line` with its `[$time_local]` replaced by `[T]`, after checking that
/// the time has nginx's form, `02/Dec/2026:01:11:06 +0000`.
fn without_time(line: &str) -> String {
    let start = line.find(" [").expect("a time") + 2;
    let end = start + line[start..].find("] ").expect("a time's end");
    let time = &line[start..end];
    let b = time.as_bytes();
    assert_eq!(b.len(), 26, "{time}");
    let digits = [0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19];
    assert!(digits.iter().all(|&i| b[i].is_ascii_digit()), "{time}");
    assert_eq!(
        (b[2], b[6], b[11], b[14], b[17]),
        (b'/', b'/', b':', b':', b':'),
        "{time}"
    );
    assert!(time.ends_with(" +0000"), "{time}");
    let months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    assert!(months.contains(&time[3..6]), "{time}");
    format!("{}[T]{}", &line[..start - 1], &line[end + 1..])
}

#[test]
fn combined_lines_are_written_as_nginx_writes_them() {
    let server = start("combined");
    let [hostile, refused, with_user] = send_all(&server);
    let got: Vec<String> = lines(&server, "127.0.0.1 - ", 3)
        .iter()
        .map(|l| without_time(l))
        .collect();
    assert_eq!(
        got,
        [
            format!(
                r#"127.0.0.1 - - [T] "GET /caf\xC3\xA9/\xE2\x82\xAC?q=\xF0\x9F\x98\x80 HTTP/1.1" 404 {hostile} "http://x/\x22q\x22\x5Cback" "UA \x22quoted\x22 \x5C \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 \xEF\xBF\xBD end""#
            ),
            format!(r#"127.0.0.1 - - [T] "GET /\xFF\x01\x22\x5C HTTP/1.1" 400 {refused} "-" "-""#),
            format!(r#"127.0.0.1 - ann [T] "GET /hello.txt HTTP/1.1" 200 {with_user} "-" "-""#),
        ]
    );
    // Nothing but the access lines is bare: the banner's log records keep
    // their time and level.
    assert!(
        server
            .stderr
            .all()
            .iter()
            .any(|l| l.starts_with('[') && l.contains("INFO"))
    );
}

#[test]
fn common_lines_stop_after_the_bytes() {
    let server = start("common");
    let [hostile, refused, with_user] = send_all(&server);
    let got: Vec<String> = lines(&server, "127.0.0.1 - ", 3)
        .iter()
        .map(|l| without_time(l))
        .collect();
    assert_eq!(
        got,
        [
            format!(
                r#"127.0.0.1 - - [T] "GET /caf\xC3\xA9/\xE2\x82\xAC?q=\xF0\x9F\x98\x80 HTTP/1.1" 404 {hostile}"#
            ),
            format!(r#"127.0.0.1 - - [T] "GET /\xFF\x01\x22\x5C HTTP/1.1" 400 {refused}"#),
            format!(r#"127.0.0.1 - ann [T] "GET /hello.txt HTTP/1.1" 200 {with_user}"#),
        ]
    );
}

#[test]
fn json_lines_parse_back_whatever_the_client_sent() {
    let server = start("json");
    let [hostile, refused, with_user] = send_all(&server);
    // A body received counts in request_bytes.
    let mut stream = connect(server.addr());
    stream
        .write_all(b"POST /rpc HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 7\r\nConnection: close\r\n\r\nhi \xc3\xa9\xff!")
        .unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_close(&mut stream).status, 200);

    let records: Vec<Value> = lines(&server, "{", 4)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let first = &records[0];
    assert_eq!(first["remote_addr"], "127.0.0.1");
    assert_eq!(first["method"], "GET");
    assert_eq!(first["path"], "/café/€");
    assert_eq!(first["query"], "q=😀");
    assert_eq!(first["protocol"], "HTTP/1.1");
    assert_eq!(first["request"], "GET /café/€?q=😀 HTTP/1.1");
    assert_eq!(first["status"], 404);
    assert_eq!(first["bytes_sent"], hostile);
    assert_eq!(first["referer"], "http://x/\"q\"\\back");
    assert_eq!(first["user_agent"], "UA \"quoted\" \\ é€😀 \u{fffd} end");
    assert_eq!(first["user"], Value::Null);
    assert_eq!(first["outcome"], "complete");
    assert_eq!(first["refused"], Value::Null);
    let time = first["time"].as_str().unwrap();
    assert!(
        time.len() == 24 && time.ends_with('Z') && &time[10..11] == "T",
        "{time}"
    );
    assert!(first["duration_ms"].as_f64().unwrap() >= 0.0);

    let second = &records[1];
    assert_eq!(second["status"], 400);
    assert_eq!(second["bytes_sent"], refused);
    assert_eq!(second["method"], Value::Null);
    assert_eq!(second["request"], "GET /\u{fffd}\u{1}\"\\ HTTP/1.1");
    assert!(second["refused"].is_string(), "{second}");

    let third = &records[2];
    assert_eq!(third["user"], "ann");
    assert_eq!(third["bytes_sent"], with_user);
    assert_eq!(third["path"], "/hello.txt");
    assert_eq!(third["query"], Value::Null);

    let fourth = &records[3];
    assert_eq!(fourth["method"], "POST");
    assert_eq!(fourth["request_bytes"], 7);
}

#[test]
fn the_default_short_line_is_unchanged() {
    let server = Server::builder().start();
    write_file(server.root(), "hello.txt", b"hello");
    assert_eq!(server.raw(WITH_USER).status, 200);
    let line = server.stderr.wait_for("the access line", |l| {
        l.contains("\"GET /hello.txt HTTP/1.1\"")
    });
    assert!(line.starts_with('[') && line.contains("INFO"), "{line}");
    assert!(
        line.contains("] 127.0.0.1 \"GET /hello.txt HTTP/1.1\" 200 5 "),
        "{line}"
    );
}

/// The same request to nginx and to uhttpd, both on a Unix socket (no
/// port to pick), both serving one file: the combined lines are the same
/// but for the time. Ignored by default: it needs nginx (run with
/// `cargo test --test cli nginx -- --ignored`).
#[test]
#[ignore = "needs nginx"]
fn combined_line_matches_a_real_nginx_line() {
    // nginx has no --version (which `require` runs): -v.
    let have_nginx = Command::new("nginx")
        .arg("-v")
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        have_nginx,
        "nginx is not installed (bench/run.sh installs nginx-light)"
    );
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    write_file(&root, "hello.txt", b"hello");
    let nginx_sock = dir.path().join("nginx.sock");
    let access = dir.path().join("access.log");
    let conf = dir.path().join("nginx.conf");
    let d = path_str(dir.path());
    std::fs::write(
        &conf,
        format!(
            "daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/error.log;\n\
             events {{}}\n\
             http {{ client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};\n\
             uwsgi_temp_path {d}; scgi_temp_path {d};\n\
             access_log {} combined;\n\
             server {{ listen unix:{}; root {}; }} }}\n",
            path_str(&access),
            path_str(&nginx_sock),
            path_str(&root)
        ),
    )
    .unwrap();
    let mut nginx = Command::new("nginx")
        .args(["-e", &format!("{d}/error.log"), "-c", path_str(&conf)])
        .stdin(Stdio::null())
        .spawn()
        .expect("start nginx");
    crate::util::wait_until("nginx's socket", || nginx_sock.exists());

    let uhttpd_sock = dir.path().join("uhttpd.sock");
    let server = Server::builder()
        .serve(&root)
        .args(["--log-format", "combined", "--unix", path_str(&uhttpd_sock)])
        .banner_lines(2)
        .start();
    let request: &[u8] = b"GET /hello.txt?a=%22b\xc3\xa9 HTTP/1.1\r\nHost: t\r\nReferer: caf\xc3\xa9\r\nUser-Agent: x \\ \"y\"\r\nConnection: close\r\n\r\n";
    // (Not in it: `"` in the target and DEL in a header, which got a 400
    // here: one of the two refuses them.)
    for sock in [&nginx_sock, &uhttpd_sock] {
        let mut stream = std::os::unix::net::UnixStream::connect(sock).unwrap();
        stream
            .set_read_timeout(Some(crate::util::PATIENCE))
            .unwrap();
        stream.write_all(request).unwrap();
        assert_eq!(read_to_close(&mut stream).status, 200, "{sock:?}");
    }
    crate::util::wait_until("nginx's access line", || {
        std::fs::read_to_string(&access).is_ok_and(|t| t.ends_with('\n'))
    });
    let _ = nginx.kill();
    let _ = nginx.wait();
    let theirs = std::fs::read_to_string(&access).unwrap();
    let ours = lines(&server, "unix: ", 1);
    assert_eq!(without_time(&ours[0]), without_time(theirs.trim_end()));
}
