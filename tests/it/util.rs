//! Shared helpers: a server on a background thread, raw socket clients, and
//! a parsed response.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use uhttp::{Config, Event, EventLoop, LoopHandle, Request, ServerId};

/// Safety net for every blocking read or write of a test client.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A server running on its own thread; stops (and re-raises a handler
/// panic) when dropped.
pub struct TestServer {
    addrs: Vec<Vec<SocketAddr>>,
    handle: LoopHandle,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// The first address of the first server.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0][0]
    }

    /// Every address of server `index` (in the order given to
    /// `serve_loop`).
    pub fn addrs_of(&self, index: usize) -> &[SocketAddr] {
        &self.addrs[index]
    }

    /// `http://ADDR` for the first server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr())
    }

    /// A raw client connected to the first server.
    pub fn connect(&self) -> Client {
        Client::connect(self.addr())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.interrupt();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() && !std::thread::panicking() {
                panic!("the server thread panicked");
            }
        }
    }
}

/// Serves one server on `127.0.0.1:0` with `config`; `handler` gets every
/// event (`Request` only, outside event mode).
pub fn serve_events<F>(config: Config, handler: F) -> TestServer
where
    F: FnMut(Event) + Send + 'static,
{
    serve_on(&["127.0.0.1:0".parse().unwrap()], config, handler)
}

/// Serves one server on `addrs` with `config`.
pub fn serve_on<F>(addrs: &[SocketAddr], config: Config, handler: F) -> TestServer
where
    F: FnMut(Event) + Send + 'static,
{
    let mut handler = handler;
    let mut event_loop = EventLoop::new().expect("poll");
    let id = event_loop.add_server(addrs, config).expect("bind");
    serve_loop(event_loop, &[id], move |_, event| handler(event))
}

/// Serves a request handler (normal mode) on `127.0.0.1:0`.
pub fn serve<F>(config: Config, mut handler: F) -> TestServer
where
    F: FnMut(Request) + Send + 'static,
{
    serve_events(config, move |event| match event {
        Event::Request(req) => handler(req),
        other => panic!("unexpected event outside event mode: {other:?}"),
    })
}

/// Runs an already built loop (any number of servers) on a thread; the
/// handler learns which server an event came from.
pub fn serve_loop<F>(mut event_loop: EventLoop, servers: &[ServerId], mut handler: F) -> TestServer
where
    F: FnMut(ServerId, Event) + Send + 'static,
{
    let addrs = servers
        .iter()
        .map(|&id| event_loop.local_addrs(id).to_vec())
        .collect();
    let handle = event_loop.handle();
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        while !thread_stop.load(Ordering::SeqCst) {
            match event_loop.wait(None).expect("wait") {
                Some(event) => {
                    let server = event.request().server();
                    handler(server, event)
                }
                None => continue,
            }
        }
    });
    TestServer {
        addrs,
        handle,
        stop,
        thread: Some(thread),
    }
}

/// A raw HTTP client over a blocking `TcpStream` with timeouts.
pub struct Client {
    pub stream: TcpStream,
    /// Bytes read but not yet consumed by `read_response`.
    buf: Vec<u8>,
}

/// A parsed response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (any case).
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

impl Client {
    pub fn connect(addr: impl ToSocketAddrs) -> Client {
        let addr = addr.to_socket_addrs().unwrap().next().unwrap();
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: impl AsRef<[u8]>) -> &mut Self {
        self.stream.write_all(bytes.as_ref()).expect("send");
        self
    }

    /// Sends a `GET` with a Host header and reads the answer.
    pub fn get(&mut self, path: &str) -> Resp {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n"));
        self.read_response()
    }

    /// Reads more bytes into the buffer; `Ok(0)` at EOF.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Reads exactly the bytes of `expected` (e.g. an interim response)
    /// and checks them.
    pub fn expect_bytes(&mut self, expected: &[u8]) {
        while self.buf.len() < expected.len() {
            assert!(
                self.fill().expect("read") > 0,
                "EOF before {:?}",
                String::from_utf8_lossy(expected)
            );
        }
        assert_eq!(
            String::from_utf8_lossy(&self.buf[..expected.len()]),
            String::from_utf8_lossy(expected)
        );
        self.buf.drain(..expected.len());
    }

    /// Reads one response (status line, headers, `Content-Length` body;
    /// without a length, the body runs to EOF).
    pub fn read_response(&mut self) -> Resp {
        self.read_response_inner(false)
    }

    /// Reads the head of a response that has no body (an answer to HEAD).
    pub fn read_head_response(&mut self) -> Resp {
        self.read_response_inner(true)
    }

    fn read_response_inner(&mut self, head_only: bool) -> Resp {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            let n = self.fill().expect("read a response head");
            assert!(
                n > 0,
                "EOF before a complete response head; got {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        };
        let head = String::from_utf8(self.buf[..head_end].to_vec()).expect("ASCII head");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let mut parts = status_line.splitn(3, ' ');
        assert_eq!(
            parts.next(),
            Some("HTTP/1.1"),
            "status line {status_line:?}"
        );
        let status: u16 = parts.next().unwrap().parse().expect("status code");
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(':').expect("header line");
                (n.to_owned(), v.trim().to_owned())
            })
            .collect();
        self.buf.drain(..head_end);
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse::<usize>().expect("Content-Length"));
        let body = match length {
            _ if head_only || (100..200).contains(&status) || status == 204 || status == 304 => {
                Vec::new()
            }
            Some(len) => {
                while self.buf.len() < len {
                    let n = self.fill().expect("read a response body");
                    assert!(n > 0, "EOF inside a response body");
                }
                self.buf.drain(..len).collect()
            }
            None => {
                while self.fill().expect("read to EOF") > 0 {}
                std::mem::take(&mut self.buf)
            }
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    /// Reads until the server closes; returns everything not yet consumed.
    /// A reset counts as a close.
    pub fn read_to_end(&mut self) -> Vec<u8> {
        loop {
            match self.fill() {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break,
                Err(e) => panic!("expected the server to close, got {e}"),
            }
        }
        std::mem::take(&mut self.buf)
    }

    /// Asserts the server closes the connection with nothing more sent.
    pub fn expect_closed(&mut self) {
        let rest = self.read_to_end();
        assert!(
            rest.is_empty(),
            "expected a close, got {:?}",
            String::from_utf8_lossy(&rest)
        );
    }

    /// Whether nothing arrives for `wait` (the connection stays open and
    /// silent). Used only to check that something does *not* happen.
    pub fn is_silent_for(&mut self, wait: Duration) -> bool {
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let result = self.fill();
        self.stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        matches!(result, Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A plain `ureq` agent: no proxy, errors for 4xx/5xx turned off.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(IO_TIMEOUT))
        .build()
        .into()
}

/// Whether the host can listen on and connect to `::1`.
pub fn has_ipv6() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

/// Whether `curl` can be run.
pub fn has_curl() -> bool {
    std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Writes `len` bytes of a deterministic pattern to `path`, in pieces.
pub fn write_pattern_file(path: &Path, len: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut state: u32 = 0x1234_5678;
    let mut block = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        for b in block.iter_mut() {
            // xorshift: cheap bytes that are not all alike.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            *b = state as u8;
        }
        let n = left.min(block.len());
        file.write_all(&block[..n]).unwrap();
        left -= n;
    }
    file.flush().unwrap();
}

/// Polls `check` until it holds or `limit` passes (a safety net for
/// conditions only visible from outside, such as a file disappearing).
pub fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if check() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
