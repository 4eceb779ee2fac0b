//! The harness: a server on a background thread whose handler sees every
//! event, and raw-socket helpers for reading streamed responses.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use uhttp::{Config, Event, EventLoop, LoopHandle, Request};

/// Safety net for every blocking read or write of a test client.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A server on its own thread; stopped (handler panics re-raised) on drop.
pub struct TestServer {
    addr: SocketAddr,
    handle: LoopHandle,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    tid: Arc<Mutex<Option<String>>>,
}

impl TestServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr())
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr())
    }

    /// A raw client with read and write timeouts.
    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    /// CPU time (user + system, in clock ticks) the loop thread has used.
    pub fn loop_cpu_ticks(&self) -> u64 {
        let tid = self.tid.lock().unwrap().clone().expect("loop thread id");
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat"))
            .expect("read the loop thread's stat");
        // Fields after the command name, which is in parentheses.
        let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        // utime and stime are fields 14 and 15 of the whole line.
        let utime: u64 = fields[11].parse().unwrap();
        let stime: u64 = fields[12].parse().unwrap();
        utime + stime
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

/// Serves `config` on 127.0.0.1:0; `handler` gets every event on the
/// loop's thread.
pub fn serve<F>(config: Config, mut handler: F) -> TestServer
where
    F: FnMut(Event) + Send + 'static,
{
    let mut event_loop = EventLoop::new().expect("poll");
    let id = event_loop
        .add_server(&["127.0.0.1:0".parse().unwrap()], config)
        .expect("bind");
    let addr = event_loop.local_addrs(id)[0];
    let handle = event_loop.handle();
    let stop = Arc::new(AtomicBool::new(false));
    let tid = Arc::new(Mutex::new(None));
    let (thread_stop, thread_tid) = (Arc::clone(&stop), Arc::clone(&tid));
    let thread = std::thread::spawn(move || {
        // "/proc/thread-self" links to "PID/task/TID".
        let link = std::fs::read_link("/proc/thread-self").expect("thread-self");
        let own = link.file_name().unwrap().to_string_lossy().into_owned();
        *thread_tid.lock().unwrap() = Some(own);
        while !thread_stop.load(Ordering::SeqCst) {
            if let Some(event) = event_loop.wait(None).expect("wait") {
                handler(event);
            }
        }
    });
    TestServer {
        addr,
        handle,
        stop,
        thread: Some(thread),
        tid,
    }
}

/// A raw HTTP client over a buffered socket.
pub struct Client {
    pub reader: BufReader<TcpStream>,
}

/// A response head.
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    pub version: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    }
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let socket = TcpStream::connect(addr).expect("connect");
        socket.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        socket.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        Client {
            reader: BufReader::new(socket),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("send");
    }

    /// Sends `GET path HTTP/1.1` (or another method / version).
    pub fn request(&mut self, method: &str, path: &str, version: &str) {
        let text = format!("{method} {path} {version}\r\nHost: test\r\n\r\n");
        self.send(text.as_bytes());
    }

    pub fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read a line");
        assert!(line.ends_with("\r\n"), "line without CRLF: {line:?}");
        line.truncate(line.len() - 2);
        line
    }

    pub fn head(&mut self) -> Head {
        let status_line = self.line();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap().to_owned();
        let status = parts.next().expect("status").parse().expect("status code");
        let mut headers = Vec::new();
        loop {
            let line = self.line();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("header line");
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        Head {
            status,
            version,
            headers,
        }
    }

    /// Reads one chunk of a chunked body; `None` for the last chunk (its
    /// empty trailer section read too).
    pub fn chunk(&mut self) -> Option<Vec<u8>> {
        let size_line = self.line();
        let size = usize::from_str_radix(&size_line, 16).expect("chunk size");
        if size == 0 {
            assert_eq!(self.line(), "", "trailers after the last chunk");
            return None;
        }
        let mut data = vec![0; size];
        self.reader.read_exact(&mut data).expect("chunk data");
        let mut crlf = [0; 2];
        self.reader.read_exact(&mut crlf).expect("chunk end");
        assert_eq!(&crlf, b"\r\n");
        Some(data)
    }

    /// The rest of a chunked body.
    pub fn chunked_body(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        while let Some(chunk) = self.chunk() {
            body.extend_from_slice(&chunk);
        }
        body
    }

    pub fn exact(&mut self, n: usize) -> Vec<u8> {
        let mut data = vec![0; n];
        self.reader.read_exact(&mut data).expect("read");
        data
    }

    /// Everything until the server closes.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let mut data = Vec::new();
        self.reader.read_to_end(&mut data).expect("read to end");
        data
    }

    /// Whether the server closed the connection (EOF or reset) with
    /// nothing more sent.
    pub fn is_closed_by_server(&mut self) -> bool {
        let mut byte = [0; 1];
        match self.reader.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => true,
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Whether `name` can be run (tests that need it are skipped otherwise).
pub fn have_program(name: &str) -> bool {
    std::process::Command::new(name)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

/// A server whose handler starts a stream (or anything) for every request
/// with `start` and hands it to the test.
pub fn serve_streams<T, F>(config: Config, start: F) -> (TestServer, mpsc::Receiver<T>)
where
    T: Send + 'static,
    F: Fn(Request) -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let server = serve(config, move |event| {
        if let Event::Request(req) = event {
            let _ = tx.send(start(req));
        }
    });
    (server, rx)
}
