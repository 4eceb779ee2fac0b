//! A panic while the loop drives one connection costs that connection,
//! not the server (issue 9). The panic here is the application's own code
//! run inside the loop: the `Drop` of a value it stored as a request's
//! context, dropped by the loop with the last handle on the request.

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, Once};

use uhttp::{Body, Config, Event, HttpServer, Part, Response};

use crate::util::{Client, TestServer, run_loop};

/// Errors logged by the library while this test binary runs.
static ERRORS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Error
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) && record.target().starts_with("uhttp") {
            let line = record.args().to_string();
            ERRORS.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    }

    fn flush(&self) {}
}

fn capture_errors() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        log::set_logger(&Capture).expect("no other logger in this test binary");
        log::set_max_level(log::LevelFilter::Error);
    });
}

/// The application's value whose `Drop` panics.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("the application's context panicked on drop");
    }
}

/// More than the socket buffers between server and client hold.
const BIG: usize = 16 * 1024 * 1024;

fn big_body() -> Arc<[u8]> {
    (0..BIG).map(|i| (i % 251) as u8).collect()
}

/// `/big`: a large shared body; `/small`; `/panic`: answered, with a
/// context that panics when the loop drops it; `/handler-panic`: the
/// handler panics, and catches it as the crate docs advise; `/count`: the
/// server's open connections.
fn serve(big: Arc<[u8]>) -> TestServer {
    let mut server = HttpServer::with_config("127.0.0.1:0", Config::default()).expect("bind");
    let addrs = vec![vec![server.local_addr()]];
    let handle = server.handle();
    run_loop(addrs, handle, move || {
        let Some(Event::Request(req)) = server.wait(None).expect("wait") else {
            return;
        };
        let path = req.path().to_owned();
        if path == "/handler-panic" {
            let caught = catch_unwind(AssertUnwindSafe(move || {
                let _unanswered = req;
                panic!("a bug in the handler");
            }));
            assert!(caught.is_err());
            return;
        }
        match path.as_str() {
            "/big" => req.send(Response::new(200).body(Body::Parts(vec![Part::Shared {
                data: Arc::clone(&big),
                offset: 0,
                len: big.len(),
            }]))),
            "/panic" => {
                req.set_context(PanicsOnDrop);
                req.respond(200, "doomed")
            }
            "/count" => req.respond(200, server.connections().to_string()),
            _ => req.respond(200, "small"),
        }
        .expect("respond");
    })
}

#[test]
fn a_panic_in_the_loop_closes_one_connection_and_the_rest_are_served() {
    capture_errors();
    let big = big_body();
    let server = serve(Arc::clone(&big));

    // A download in progress: the head and a little of the body read,
    // most of it still with the server (more than the socket buffers hold).
    let mut download = Client::connect(server.addr());
    download.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        download
            .stream
            .read_exact(&mut byte)
            .expect("read the head");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains(&format!("Content-Length: {BIG}")), "{head}");
    let mut received = vec![0u8; 64 * 1024];
    download
        .stream
        .read_exact(&mut received)
        .expect("read some body");

    // A keep-alive client, one request answered.
    let mut keep_alive = Client::connect(server.addr());
    assert_eq!(keep_alive.get("/small").text(), "small");

    // The panic: this connection is closed, with nothing sent.
    let mut doomed = Client::connect(server.addr());
    let doomed_addr = doomed.stream.local_addr().unwrap();
    doomed.send("GET /panic HTTP/1.1\r\nHost: t\r\n\r\n");
    doomed.expect_closed();

    // The keep-alive connection goes on.
    let again = keep_alive.get("/small");
    assert_eq!((again.status, again.text().as_str()), (200, "small"));
    assert!(!again.closes());

    // The download finishes, every byte as sent.
    let mut rest = Vec::with_capacity(BIG);
    while received.len() + rest.len() < BIG {
        let mut chunk = vec![0u8; 256 * 1024];
        let n = download.stream.read(&mut chunk).expect("read the body");
        assert!(n > 0, "EOF after {} bytes", received.len() + rest.len());
        rest.extend_from_slice(&chunk[..n]);
    }
    received.extend_from_slice(&rest);
    assert!(received == big[..], "the download was corrupted");

    // New connections are served, and the count no longer holds the
    // panicked one: the download, the keep-alive client and this one.
    let mut fresh = Client::connect(server.addr());
    let count = fresh.get("/count");
    assert_eq!(count.text(), "3");

    // The error names the client and the request.
    let errors = ERRORS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let logged = errors.iter().find(|l| l.contains(&doomed_addr.to_string()));
    let logged = logged.unwrap_or_else(|| panic!("no error for {doomed_addr}: {errors:?}"));
    assert!(logged.contains("\"GET /panic HTTP/1.1\""), "{logged}");
    assert!(
        logged.contains("the application's context panicked on drop"),
        "{logged}"
    );
}

#[test]
fn a_handler_panic_caught_by_the_application_answers_500_and_serving_goes_on() {
    let server = serve(Arc::from(&b"big"[..]));
    let mut client = Client::connect(server.addr());
    let resp = client.get("/handler-panic");
    assert_eq!(resp.status, 500);
    let mut fresh = Client::connect(server.addr());
    assert_eq!(fresh.get("/small").text(), "small");
}
