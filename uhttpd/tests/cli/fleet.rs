//! Several `uhttpd` behind a real HAProxy, sharing one ROOT and one upload
//! directory (issue 14): a `--drain` restart of one instance under `wrk`
//! load loses no request, HAProxy takes the instance out and back in, and
//! both logs show the client the PROXY header named; uploads of one name
//! to two instances at once store one of them whole; a resumable upload
//! begun on one instance is resumed on the other, one writer at a time.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

use crate::common::client::{Client, tcp_from};
use crate::common::haproxy::{Config, Haproxy, SendProxy};
use crate::common::{PATIENCE, list_dir, poll};
use crate::util::{Server, path_str, read_to_close, write_file};

/// The `wrk` script printing one line of figures.
const LUA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli/fleet.lua");

/// Fails the test unless `wrk` can be run (`-v` prints its version but
/// exits 1, so [`crate::common::require`] cannot ask it).
fn require_wrk() {
    let out = Command::new("wrk").arg("-v").output();
    let runs = out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).starts_with("wrk "));
    assert!(
        runs,
        "wrk is not installed: scripts/install-test-deps.sh (Debian package wrk)"
    );
}

/// One ROOT and one upload directory for every instance.
struct Shared {
    root: TempDir,
    uploads: TempDir,
    /// The `uhttpd` to run (the figures run's release build), if not the
    /// binary under test.
    program: Option<PathBuf>,
}

impl Shared {
    fn new() -> Shared {
        let shared = Shared {
            root: TempDir::new().unwrap(),
            uploads: TempDir::new().unwrap(),
            program: None,
        };
        write_file(shared.root.path(), "index.txt", &[b'x'; 512]);
        shared
    }

    /// An instance as it runs behind HAProxy, on `port` (0: any).
    fn instance(&self, port: u16) -> Server {
        let builder = Server::builder();
        let builder = match &self.program {
            Some(program) => builder.program(program),
            None => builder,
        };
        builder
            .serve(self.root.path())
            .port(port)
            .args(["--upload-dir", path_str(self.uploads.path())])
            .args(["--proxy-protocol", "--trusted-proxy", "127.0.0.1"])
            .args(["--health", "/healthz", "--drain", "2"])
            .start()
    }

    /// An instance clients reach directly.
    fn direct(&self) -> Server {
        Server::builder()
            .serve(self.root.path())
            .args(["--upload-dir", path_str(self.uploads.path())])
            .start()
    }

    fn upload_dir(&self) -> &Path {
        self.uploads.path()
    }
}

/// The HAProxy setup the README documents: layer 7 (so a request that
/// finds a closed connection is retried), the health check on `/healthz`
/// every 200 ms, out after 2 failures, in after 2 successes; a request is
/// retried (on another server: `redispatch`) when the connection fails or,
/// for a `GET` or `HEAD`, is closed before an answer.
fn haproxy(servers: &[&Server]) -> Haproxy {
    let servers: Vec<_> = servers.iter().map(|s| (s.addr(), SendProxy::V2)).collect();
    let mut config = Config::tcp(&servers);
    config.mode = "http";
    config.defaults_lines = vec![
        "option http-keep-alive".into(),
        "retries 3".into(),
        "option redispatch 1".into(),
        "retry-on conn-failure empty-response response-timeout".into(),
        "timeout http-keep-alive 10s".into(),
    ];
    config.backend_lines = vec![
        "option httpchk GET /healthz".into(),
        "http-check expect status 200".into(),
        // A request that may change something is sent again only when
        // it never reached a server.
        "http-request disable-l7-retry if !METH_GET".into(),
    ];
    config.server_options = "check inter 200ms fall 2 rise 2".into();
    Haproxy::start(&config)
}

/// Waits (bounded) until HAProxy gives server `index` the status `want`.
fn wait_status(haproxy: &Haproxy, index: usize, want: &str) {
    poll(&format!("s{index} {want}"), PATIENCE, || {
        (haproxy.server_status(index) == want).then_some(())
    });
}

/// What `wrk` reported.
#[derive(Debug)]
struct Figures {
    requests: u64,
    /// connect, read, write, status (>= 400), timeout.
    errors: [u64; 5],
    p99_us: u64,
}

impl Figures {
    fn parse(out: &Output) -> Figures {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "wrk failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout
            .lines()
            .find(|l| l.starts_with("fleet: "))
            .unwrap_or_else(|| panic!("no figures from wrk: {stdout}"));
        let field = |name: &str| -> u64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in {line}"))
        };
        Figures {
            requests: field("requests"),
            errors: ["connect", "read", "write", "status", "timeout"].map(field),
            p99_us: field("p99_us"),
        }
    }
}

/// `wrk` against `url` for `seconds` with `connections`, on a thread.
fn wrk(url: String, seconds: u32, connections: u32) -> std::thread::JoinHandle<Output> {
    require_wrk();
    std::thread::spawn(move || {
        Command::new("wrk")
            .args(["-t2", &format!("-c{connections}"), &format!("-d{seconds}s")])
            .args(["--timeout", "5s", "-s", LUA, &url])
            .stdin(Stdio::null())
            .output()
            .expect("run wrk")
    })
}

/// How many access lines of `server` are for `path` from `client`.
fn served(server: &Server, client: &str, path: &str) -> usize {
    server
        .stderr
        .all()
        .iter()
        .filter(|l| l.contains(&format!("{client} \"GET {path} ")))
        .count()
}

/// Two instances behind HAProxy under `wrk` load for `seconds` with
/// `connections`; A drained (SIGTERM), seen DOWN, restarted on its port,
/// seen UP again, all during the load. Every check but the figures'.
fn drained_restart_under_load(shared: &Shared, seconds: u32, connections: u32) -> Figures {
    let a = shared.instance(0);
    let b = shared.instance(0);
    let haproxy = haproxy(&[&a, &b]);
    wait_status(&haproxy, 0, "UP");
    wait_status(&haproxy, 1, "UP");

    let load = wrk(
        format!("http://{}/index.txt", haproxy.addr()),
        seconds,
        connections,
    );
    // Both serve the load before A is stopped.
    a.stderr
        .wait_for("load on A", |l| l.contains("\"GET /index.txt "));
    b.stderr
        .wait_for("load on B", |l| l.contains("\"GET /index.txt "));
    let port = a.port;
    a.signal("TERM");
    a.stderr.wait_for("the drain", |l| l.contains("draining"));
    wait_status(&haproxy, 0, "DOWN");
    let mut a = a;
    assert!(a.wait_exit(PATIENCE).success());
    let served_by_a = served(&a, "127.0.0.1", "/index.txt");
    let a = shared.instance(port);
    wait_status(&haproxy, 0, "UP");
    let figures = Figures::parse(&load.join().unwrap());
    eprintln!("{figures:?}");
    assert!(served_by_a > 0 && served(&b, "127.0.0.1", "/index.txt") > 0);

    // A client of its own address (127.0.0.3): both instances, the
    // restarted one too, log it as the PROXY header says.
    let client: IpAddr = "127.0.0.3".parse().unwrap();
    for n in 0..4 {
        let mut stream = tcp_from(client, haproxy.addr(), PATIENCE);
        let request =
            format!("GET /index.txt?n={n} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
        assert_eq!(read_to_close(&mut stream).status, 200);
    }
    for server in [&a, &b] {
        server.stderr.wait_for("the client's own address", |l| {
            l.contains("127.0.0.3 \"GET /index.txt?n=")
        });
    }
    figures
}

#[test]
fn a_drained_restart_under_load_loses_no_request_and_haproxy_takes_it_out_and_back() {
    let figures = drained_restart_under_load(&Shared::new(), 8, 16);
    assert_eq!(figures.errors, [0; 5], "{figures:?}");
    assert!(figures.requests > 100, "{figures:?}");
}

/// The figures run (`scripts/fleet.sh`): the same scenario for longer,
/// with the `uhttpd` at `FLEET_UHTTPD` (a release build), `FLEET_SECONDS`
/// and `FLEET_CONNECTIONS`; prints `fleet: requests=... p99_us=...`.
#[test]
#[ignore = "30 s of load by default: run by scripts/fleet.sh"]
fn figures_of_a_drained_restart_under_load() {
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let mut shared = Shared::new();
    shared.program = std::env::var_os("FLEET_UHTTPD").map(PathBuf::from);
    let seconds = env("FLEET_SECONDS", "30").parse().unwrap();
    let connections = env("FLEET_CONNECTIONS", "64").parse().unwrap();
    let figures = drained_restart_under_load(&shared, seconds, connections);
    let failures: u64 = figures.errors.iter().sum();
    println!(
        "fleet: {seconds} s, {connections} connections, uhttpd {}: requests={} failures={failures} (connect, read, write, status, timeout: {:?}) p99={:.2} ms",
        shared
            .program
            .as_deref()
            .map_or("(debug, under test)".into(), |p| p.display().to_string()),
        figures.requests,
        figures.errors,
        figures.p99_us as f64 / 1000.0
    );
    assert_eq!(failures, 0, "{figures:?}");
}

/// `PUT /upload/NAME` with `body`, headers and all but its last byte sent.
fn put_all_but_last(server: &Server, name: &str, body: &[u8]) -> Client {
    let mut client = Client::connect(server.addr());
    client
        .send(format!(
            "PUT /upload/{name} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
            body.len()
        ))
        .send(&body[..body.len() - 1]);
    client
}

/// Files left in the upload directory, the resumable store's aside.
fn uploaded(dir: &Path) -> Vec<String> {
    list_dir(dir)
        .into_iter()
        .filter(|n| n != ".uhttpd-resumable")
        .collect()
}

const IETF: &str = "Upload-Draft-Interop-Version: 8";

#[test]
fn one_name_uploaded_to_two_instances_at_once_plain_or_resumable_is_stored_once_whole_the_other_gets_409()
 {
    let shared = Shared::new();
    let (a, b) = (shared.direct(), shared.direct());
    let bodies = [vec![b'a'; 300_000], vec![b'b'; 300_000]];
    for round in 0..3 {
        let name = format!("same-{round}.bin");
        // Both have passed the name check and are receiving when the
        // last bytes of both go.
        let mut clients = [
            put_all_but_last(&a, &name, &bodies[0]),
            put_all_but_last(&b, &name, &bodies[1]),
        ];
        for (client, body) in clients.iter_mut().zip(&bodies) {
            client.send(&body[body.len() - 1..]);
        }
        let mut statuses: Vec<u16> = clients
            .iter_mut()
            .map(|c| c.read_response().status)
            .collect();
        statuses.sort();
        assert_eq!(statuses, [201, 409], "{name}");
        let stored = std::fs::read(shared.upload_dir().join(&name)).unwrap();
        assert!(bodies.contains(&stored), "{name}: a mixed or partial file");
    }

    // The same for two resumable uploads completed at once.
    let len = bodies[0].len();
    let locations: Vec<String> = [&a, &b]
        .iter()
        .map(|server| {
            let create = format!("POST /upload/resumed.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{IETF}\r\nUpload-Complete: ?0\r\nUpload-Length: {len}\r\nContent-Length: 0\r\n\r\n");
            let created = ask(server, &create, b"");
            assert_eq!(created.status, 201, "{}", created.text());
            created.header("location").unwrap().to_owned()
        })
        .collect();
    let mut clients: Vec<Client> = [&a, &b]
        .iter()
        .zip(&locations)
        .zip(&bodies)
        .map(|((server, location), body)| {
            let mut client = Client::connect(server.addr());
            client
                .send(patch_head(location, 0, len, true))
                .send(&body[..len - 1]);
            client
        })
        .collect();
    for (client, body) in clients.iter_mut().zip(&bodies) {
        client.send(&body[len - 1..]);
    }
    let mut statuses: Vec<u16> = clients
        .iter_mut()
        .map(|c| c.read_response().status)
        .collect();
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
    let stored = std::fs::read(shared.upload_dir().join("resumed.bin")).unwrap();
    assert!(bodies.contains(&stored), "a mixed or partial file");
    assert_eq!(
        uploaded(shared.upload_dir()),
        ["resumed.bin", "same-0.bin", "same-1.bin", "same-2.bin"],
        "no temporary file left"
    );
}

/// The final answer to `request` (interim ones skipped) on a fresh
/// connection to `server`.
fn ask(server: &Server, request: &str, body: &[u8]) -> crate::util::Response {
    let mut client = Client::connect(server.addr());
    client.send(request).send(body);
    loop {
        let response = if request.starts_with("HEAD") {
            client.read_head_response()
        } else {
            client.read_response()
        };
        if response.status >= 200 {
            return response;
        }
    }
}

fn patch_head(location: &str, offset: usize, len: usize, complete: bool) -> String {
    let complete = if complete { "?1" } else { "?0" };
    format!(
        "PATCH {location} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{IETF}\r\nContent-Type: application/partial-upload\r\nUpload-Offset: {offset}\r\nUpload-Complete: {complete}\r\nContent-Length: {len}\r\n\r\n"
    )
}

#[test]
fn a_resumable_upload_begun_on_one_instance_is_resumed_on_the_other_one_writer_at_a_time() {
    let shared = Shared::new();
    let (a, b) = (shared.direct(), shared.direct());
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();

    let created = ask(
        &a,
        &format!(
            "POST /upload/moved.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{IETF}\r\nUpload-Complete: ?0\r\nUpload-Length: 200000\r\nContent-Length: 1000\r\n\r\n"
        ),
        &data[..1000],
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let location = created.header("location").unwrap().to_owned();

    // B knows where it stands.
    let head =
        format!("HEAD {location} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{IETF}\r\n\r\n");
    let offset = ask(&b, &head, b"");
    assert_eq!(offset.status, 204);
    assert_eq!(offset.header("upload-offset"), Some("1000"));

    // A writes; B is refused meanwhile, as a second writer on A would be.
    let mut writer = Client::connect(a.addr());
    writer.send(
        patch_head(&location, 1000, 99_000, false)
            .replace("\r\n\r\n", "\r\nExpect: 100-continue\r\n\r\n"),
    );
    writer.expect_bytes(b"HTTP/1.1 100 Continue\r\n\r\n");
    writer.send(&data[1000..50_000]);
    let busy = ask(
        &b,
        &patch_head(&location, 1000, 10, false),
        &data[1000..1010],
    );
    assert_eq!(busy.status, 423, "{}", busy.text());
    writer.send(&data[50_000..100_000]);
    let appended = writer.read_response();
    assert_eq!(appended.status, 204, "{}", appended.text());
    assert_eq!(appended.header("upload-offset"), Some("100000"));

    // B finishes it: the file is whole, stored once.
    assert_eq!(ask(&b, &head, b"").header("upload-offset"), Some("100000"));
    let done = ask(
        &b,
        &patch_head(&location, 100_000, 100_000, true),
        &data[100_000..],
    );
    assert_eq!(done.status, 201, "{}", done.text());
    assert_eq!(
        std::fs::read(shared.upload_dir().join("moved.bin")).unwrap(),
        data
    );
    // A sees it complete.
    let late = ask(&a, &patch_head(&location, 200_000, 0, true), b"");
    assert_eq!(late.status, 400, "{}", late.text());
    assert!(late.text().contains("completed-upload"), "{}", late.text());
    assert_eq!(uploaded(shared.upload_dir()), ["moved.bin"]);
}
