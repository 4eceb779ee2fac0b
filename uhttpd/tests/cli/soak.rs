//! Soak: one release `uhttpd` (and the library's `ws_echo` example) under
//! a long run of ordinary and broken traffic, in four phases: keep-alive
//! requests, new connections, uploads (every tenth cut off mid-body) and
//! WebSocket sessions. Each phase runs in ten slices; after each slice the
//! server's open file descriptors, resident memory and CPU time per unit
//! of work are sampled from `/proc`, and they must stay flat from the
//! first tenth to the last.
//!
//! The full run is on demand (a few minutes on two cores):
//! `scripts/soak.sh`, which builds the release binaries and runs
//! `cargo test --release --test cli -- --ignored soak --nocapture`.
//! `soak_smoke` runs the same phases at a hundredth of the size in every
//! test run and checks what each one must leave behind, not flatness
//! (too short to measure).

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

use crate::common::client::Client;
use crate::common::examples::Example;
use crate::common::procfs;
use crate::util::{PATIENCE, Server, wait_until};

/// How much of each kind of work one run does.
struct Scale {
    keep_alive_requests: u64,
    connections: u64,
    uploads: u64,
    websocket_sessions: u64,
}

const FULL: Scale = Scale {
    keep_alive_requests: 1_000_000,
    connections: 100_000,
    uploads: 10_000,
    websocket_sessions: 10_000,
};

const SMOKE: Scale = Scale {
    keep_alive_requests: 10_000,
    connections: 1_000,
    uploads: 100,
    websocket_sessions: 100,
};

/// Client threads per phase.
const CLIENTS: u64 = 4;
/// Bytes of each upload; every tenth is cut off halfway.
const UPLOAD_SIZE: usize = 16 * 1024;
/// `/proc/PID/stat` counts CPU time in USER_HZ ticks, 100 a second on Linux.
const TICK: Duration = Duration::from_millis(10);

#[test]
#[ignore = "long (minutes): scripts/soak.sh"]
fn soak() {
    run(&FULL, true);
}

#[test]
fn soak_smoke() {
    run(&SMOKE, false);
}

fn run(scale: &Scale, check_flat: bool) {
    let builder = Server::builder().uploads().args(["-q"]);
    std::fs::write(builder.root().join("small.txt"), [b'x'; 1024]).unwrap();
    let server = builder.start();
    let uhttpd = Sampled::new(server.pid());
    let addr = server.addr();

    let mut report = Vec::new();
    report.push(
        uhttpd.phase("keep-alive requests", scale.keep_alive_requests, |n| {
            keep_alive_requests(addr, n)
        }),
    );
    report.push(uhttpd.phase("new connections", scale.connections, |n| {
        new_connections(addr, n)
    }));
    let uploaded = AtomicU64::new(0);
    report.push(
        uhttpd.phase("uploads (1 in 10 cut off)", scale.uploads, |n| {
            let first = uploaded.fetch_add(n, Ordering::Relaxed);
            uploads(addr, first, n)
        }),
    );
    let completed: Vec<String> = (0..scale.uploads)
        .filter(|i| !is_cut_off(*i))
        .map(upload_name)
        .collect();
    // Cut-off uploads leave nothing: only the complete ones, under their
    // final names, once the server has seen every client go.
    let mut expected = completed.clone();
    expected.sort();
    wait_until("cut-off uploads removed", || server.uploaded() == expected);

    let echo = Example::start("ws_echo", &[], 1);
    let ws = Sampled::new(echo.pid());
    report.push(ws.phase(
        "WebSocket sessions (ws_echo)",
        scale.websocket_sessions,
        |n| websocket_sessions(echo.addr().port(), n),
    ));

    for phase in &report {
        phase.print();
    }
    for phase in &report {
        phase.assert_no_fd_kept();
        if check_flat {
            phase.assert_flat();
        }
    }
}

/// A process whose resources are sampled.
struct Sampled {
    pid: u32,
}

/// One sample, taken after a slice of work.
#[derive(Clone, Copy, Debug)]
struct Sample {
    units: u64,
    fds: usize,
    rss_kib: u64,
    cpu: Duration,
    wall: Duration,
}

struct PhaseReport {
    name: &'static str,
    baseline_fds: usize,
    tenths: Vec<Sample>,
}

impl Sampled {
    fn new(pid: u32) -> Sampled {
        Sampled { pid }
    }

    fn fds(&self) -> usize {
        procfs::open_fds(self.pid)
    }

    fn rss_kib(&self) -> u64 {
        procfs::status_kib(self.pid, "VmRSS")
    }

    /// User plus system time so far.
    fn cpu(&self) -> Duration {
        let ticks = procfs::cpu_ticks(&format!("/proc/{}/stat", self.pid));
        TICK * u32::try_from(ticks).unwrap()
    }

    /// Waits (bounded) until the process is back to `fds` descriptors:
    /// clients have gone, and the server has seen them go.
    fn settle(&self, fds: usize) -> usize {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let now = self.fds();
            if now <= fds || Instant::now() >= deadline {
                return now;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Runs `total` units of work in ten slices, sampling after each.
    fn phase(&self, name: &'static str, total: u64, work: impl Fn(u64) -> u64) -> PhaseReport {
        let baseline_fds = self.fds();
        let mut tenths = Vec::with_capacity(10);
        for tenth in 0..10 {
            let units = total * (tenth + 1) / 10 - total * tenth / 10;
            let cpu = self.cpu();
            let started = Instant::now();
            let done = work(units);
            assert_eq!(done, units, "{name}: slice {tenth} did {done} of {units}");
            let wall = started.elapsed();
            let fds = self.settle(baseline_fds);
            tenths.push(Sample {
                units,
                fds,
                rss_kib: self.rss_kib(),
                cpu: self.cpu() - cpu,
                wall,
            });
        }
        PhaseReport {
            name,
            baseline_fds,
            tenths,
        }
    }
}

impl PhaseReport {
    fn print(&self) {
        let units: u64 = self.tenths.iter().map(|s| s.units).sum();
        eprintln!(
            "\n{}: {units} in all, {} fds before",
            self.name, self.baseline_fds
        );
        eprintln!("tenth  units/s   fds  RSS KiB  CPU µs/unit");
        for (i, s) in self.tenths.iter().enumerate() {
            eprintln!(
                "{:>5} {:>8.0} {:>5} {:>8} {:>12.2}",
                i + 1,
                s.units as f64 / s.wall.as_secs_f64(),
                s.fds,
                s.rss_kib,
                per_unit_us(s)
            );
        }
    }

    /// Every slice gives back the descriptors it used.
    fn assert_no_fd_kept(&self) {
        for (i, s) in self.tenths.iter().enumerate() {
            assert!(
                s.fds <= self.baseline_fds,
                "{}: {} fds after tenth {} (baseline {})",
                self.name,
                s.fds,
                i + 1,
                self.baseline_fds
            );
        }
    }

    /// Flat: memory within a little of the first tenth's, CPU per unit
    /// not drifting up (generous: the machine is shared, and CPU time
    /// comes in 10 ms ticks).
    fn assert_flat(&self) {
        let first = self.tenths[0];
        let last = self.tenths[9];
        assert!(
            last.rss_kib <= first.rss_kib + first.rss_kib / 4 + 1024,
            "{}: RSS grew from {} KiB to {} KiB",
            self.name,
            first.rss_kib,
            last.rss_kib
        );
        assert!(
            per_unit_us(&last) <= per_unit_us(&first) * 1.5 + 5.0,
            "{}: CPU per unit rose from {:.2} µs to {:.2} µs",
            self.name,
            per_unit_us(&first),
            per_unit_us(&last)
        );
    }
}

fn per_unit_us(s: &Sample) -> f64 {
    s.cpu.as_secs_f64() * 1e6 / s.units as f64
}

/// Runs `f(share)` on [`CLIENTS`] threads, `total` split between them;
/// returns the units they report done.
fn in_parallel(total: u64, f: impl Fn(u64, u64) -> u64 + Sync) -> u64 {
    std::thread::scope(|scope| {
        let f = &f;
        let threads: Vec<_> = (0..CLIENTS)
            .map(|t| {
                let share = total * (t + 1) / CLIENTS - total * t / CLIENTS;
                scope.spawn(move || f(t, share))
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).sum()
    })
}

/// A connection from a loopback source address of its own, so that a run
/// of 100,000 connections does not run out of ephemeral ports while the
/// old ones sit in TIME_WAIT.
fn connect_from(source: u8, addr: SocketAddr) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let local = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, source)), 0);
    socket.bind(&local.into()).unwrap();
    socket.connect_timeout(&addr.into(), PATIENCE).unwrap();
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    stream
}

fn keep_alive_requests(addr: SocketAddr, total: u64) -> u64 {
    in_parallel(total, |t, share| {
        let request = b"GET /small.txt HTTP/1.1\r\nHost: soak\r\n\r\n";
        let mut client = Client::new(connect_from(2 + t as u8, addr));
        for _ in 0..share {
            let response = client.send(request).read_response();
            assert_eq!(response.status, 200);
            if response.closes() {
                // --keep-alive-max-requests reached: a new connection.
                client = Client::new(connect_from(2 + t as u8, addr));
            }
        }
        share
    })
}

fn new_connections(addr: SocketAddr, total: u64) -> u64 {
    in_parallel(total, |t, share| {
        let request = b"GET /small.txt HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n";
        for i in 0..share {
            // Eight source addresses per thread.
            let source = 10 + (t * 8 + i % 8) as u8;
            let mut client = Client::new(connect_from(source, addr));
            let response = client.send(request).read_response();
            assert_eq!((response.status, response.closes()), (200, true));
            assert!(
                client.read_to_close().is_empty(),
                "bytes after the response"
            );
        }
        share
    })
}

fn upload_name(i: u64) -> String {
    format!("u{i:05}.bin")
}

fn is_cut_off(i: u64) -> bool {
    i % 10 == 9
}

/// Uploads numbers `first..first + total`; every tenth sends half its body
/// and hangs up.
fn uploads(addr: SocketAddr, first: u64, total: u64) -> u64 {
    let body = vec![b'u'; UPLOAD_SIZE];
    in_parallel(total, |t, share| {
        let start = first + total * t / CLIENTS;
        for i in start..start + share {
            let mut stream = connect_from(50 + t as u8, addr);
            let head = format!(
                "PUT /upload/{} HTTP/1.1\r\nHost: soak\r\nContent-Length: {UPLOAD_SIZE}\r\n\r\n",
                upload_name(i)
            );
            stream.write_all(head.as_bytes()).unwrap();
            if is_cut_off(i) {
                stream.write_all(&body[..UPLOAD_SIZE / 2]).unwrap();
                continue;
            }
            stream.write_all(&body).unwrap();
            let status = Client::new(stream).read_response().status;
            assert_eq!(status, 201, "upload {i}");
        }
        share
    })
}

fn websocket_sessions(port: u16, total: u64) -> u64 {
    use tungstenite::Message;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    in_parallel(total, |t, share| {
        for i in 0..share {
            let stream = connect_from(60 + t as u8, addr);
            let url = format!("ws://127.0.0.1:{port}/ws");
            let (mut socket, _) = tungstenite::client(url, stream).expect("WebSocket handshake");
            let text = format!("soak {t} {i} é€😀");
            socket.send(Message::text(text.clone())).unwrap();
            match socket.read().unwrap() {
                Message::Text(echo) => assert_eq!(echo.as_str(), text),
                other => panic!("expected the echo, got {other:?}"),
            }
            socket.close(None).unwrap();
            // Until the server's Close answer ends the session.
            loop {
                match socket.read() {
                    Ok(_) => {}
                    Err(tungstenite::Error::ConnectionClosed) => break,
                    Err(e) => panic!("closing the session: {e}"),
                }
            }
        }
        share
    })
}
