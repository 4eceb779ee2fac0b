//! A raw HTTP/1.1 client over a blocking byte stream (a `TcpStream`, or
//! TLS over one), for exact bytes on the wire, and the response it parses.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::{IO_TIMEOUT, find};

/// A `TcpStream` connected to `addr` with read and write timeouts.
pub fn tcp(addr: impl ToSocketAddrs, timeout: Duration) -> TcpStream {
    let addr = addr.to_socket_addrs().unwrap().next().expect("an address");
    let stream = TcpStream::connect_timeout(&addr, timeout).expect("connect");
    stream.set_read_timeout(Some(timeout)).unwrap();
    stream.set_write_timeout(Some(timeout)).unwrap();
    stream
}

/// A `TcpStream` to `addr` whose kernel receive buffer is small, so what
/// it leaves unread stays on the server's side.
pub fn small_buffer_tcp(addr: SocketAddr, timeout: Duration) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    socket.connect_timeout(&addr.into(), timeout).unwrap();
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(timeout)).unwrap();
    stream.set_write_timeout(Some(timeout)).unwrap();
    stream
}

/// A `TcpStream` to `addr` from the loopback address `source` (such as
/// `127.0.0.2`: another client than `127.0.0.1` on the same host).
pub fn tcp_from(source: std::net::IpAddr, addr: SocketAddr, timeout: Duration) -> TcpStream {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )
    .unwrap();
    socket.bind(&SocketAddr::new(source, 0).into()).unwrap();
    socket.connect_timeout(&addr.into(), timeout).unwrap();
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(timeout)).unwrap();
    stream.set_write_timeout(Some(timeout)).unwrap();
    stream
}

/// Reads `n` bytes (or to the end, or a reset) from `stream`; returns how
/// many came.
pub fn read_up_to(stream: &mut impl Read, n: usize) -> usize {
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < n {
        let want = buf.len().min(n - got);
        match stream.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("read: {e} after {got} bytes"),
        }
    }
    got
}

/// A parsed response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// Names as sent, values trimmed, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Every byte read for it, head included.
    pub raw: Vec<u8>,
}

impl Response {
    /// Parses a response head from `raw`; whatever follows the head is the
    /// body, as is.
    pub fn parse(raw: Vec<u8>) -> Response {
        let end = find(&raw, b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(&raw)));
        let mut response = parse_head(&raw[..end + 4]);
        response.body = raw[end + 4..].to_vec();
        response.raw = raw;
        response
    }

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

    /// Whether it says `Connection: close`.
    pub fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }

    pub fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    }
}

/// Parses a response head (status line, headers, the blank line).
fn parse_head(head: &[u8]) -> Response {
    let text =
        std::str::from_utf8(head).unwrap_or_else(|_| panic!("a response head not ASCII: {head:?}"));
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap().to_owned();
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l
                .split_once(':')
                .unwrap_or_else(|| panic!("bad header line {l:?}"));
            (n.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    Response {
        status,
        version,
        headers,
        body: Vec::new(),
        raw: head.to_vec(),
    }
}

/// Reads until the peer closes (or, after its answer, resets the
/// connection or ends a TLS stream without `close_notify`), and parses
/// what came as one response whose body is the rest.
pub fn read_to_close(stream: &mut impl Read) -> Response {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if is_cut(&e) && !raw.is_empty() => break,
            Err(e) => panic!(
                "reading the response: {e}; got so far {:?}",
                String::from_utf8_lossy(&raw)
            ),
        }
    }
    Response::parse(raw)
}

/// Reads just a response head, a byte at a time so that nothing after the
/// blank line is taken from `stream`.
pub fn read_head(stream: &mut impl Read) -> Response {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while find(&raw, b"\r\n\r\n").is_none() {
        match stream.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => raw.push(byte[0]),
            Err(e) => panic!(
                "reading a response head: {e}; got {:?}",
                String::from_utf8_lossy(&raw)
            ),
        }
    }
    Response::parse(raw)
}

/// A raw HTTP client over `S` that buffers what it reads, so responses
/// can be taken one at a time off a keep-alive connection.
pub struct Client<S = TcpStream> {
    pub stream: S,
    /// Bytes read but not yet consumed.
    buf: Vec<u8>,
}

impl Client<TcpStream> {
    /// Connects with [`IO_TIMEOUT`] on reads and writes.
    pub fn connect(addr: impl ToSocketAddrs) -> Client {
        Client::new(tcp(addr, IO_TIMEOUT))
    }

    /// Whether nothing arrives for `wait` (the connection stays open and
    /// silent). Used only to check that something does *not* happen.
    pub fn is_silent_for(&mut self, wait: Duration) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        let before = self.stream.read_timeout().unwrap();
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let result = self.fill();
        self.stream.set_read_timeout(before).unwrap();
        matches!(result, Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().unwrap()
    }
}

impl<S: Read + Write> Client<S> {
    pub fn new(stream: S) -> Client<S> {
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    /// Writes `bytes` as they are.
    pub fn send(&mut self, bytes: impl AsRef<[u8]>) -> &mut Self {
        self.stream.write_all(bytes.as_ref()).expect("send");
        self.stream.flush().expect("flush");
        self
    }

    /// Sends `METHOD PATH VERSION` with a Host header.
    pub fn request(&mut self, method: &str, path: &str, version: &str) -> &mut Self {
        self.send(format!(
            "{method} {path} {version}\r\nHost: localhost\r\n\r\n"
        ))
    }

    /// Sends a keep-alive `GET` and reads the answer.
    pub fn get(&mut self, path: &str) -> Response {
        self.request("GET", path, "HTTP/1.1");
        self.read_response()
    }

    /// Reads more bytes into the buffer; `Ok(0)` at EOF.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Fills the buffer to at least `n` bytes; `what` names them if the
    /// stream ends first.
    fn fill_to(&mut self, n: usize, what: &str) {
        while self.buf.len() < n {
            let read = self
                .fill()
                .unwrap_or_else(|e| panic!("reading {what}: {e}"));
            assert!(
                read > 0,
                "EOF before {what}; got {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        }
    }

    /// Takes `n` buffered bytes, reading more first if needed.
    pub fn exact(&mut self, n: usize) -> Vec<u8> {
        self.fill_to(n, "the expected bytes");
        self.buf.drain(..n).collect()
    }

    /// Reads exactly the bytes of `expected` (e.g. an interim response)
    /// and checks them.
    pub fn expect_bytes(&mut self, expected: &[u8]) {
        let got = self.exact(expected.len());
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected)
        );
    }

    /// Reads what is buffered, or else one read of the stream; 0 at EOF.
    pub fn read_some(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.buf.is_empty() {
            return self.stream.read(out);
        }
        let n = self.buf.len().min(out.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf.drain(..n);
        Ok(n)
    }

    /// One CRLF-terminated line, without its CRLF.
    pub fn line(&mut self) -> String {
        let end = loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                break i;
            }
            let n = self.fill().expect("read a line");
            assert!(
                n > 0,
                "EOF inside a line: {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        };
        let line: Vec<u8> = self.buf.drain(..end + 2).take(end).collect();
        String::from_utf8(line).expect("a UTF-8 line")
    }

    /// Reads a response head only, whatever follows it left unread.
    pub fn head(&mut self) -> Response {
        let end = loop {
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
        let head: Vec<u8> = self.buf.drain(..end).collect();
        parse_head(&head)
    }

    /// Reads one response (status line, headers, `Content-Length` body;
    /// without a length, the body runs to EOF).
    pub fn read_response(&mut self) -> Response {
        self.read_response_inner(false)
    }

    /// Reads the head of a response that has no body (an answer to HEAD).
    pub fn read_head_response(&mut self) -> Response {
        self.read_response_inner(true)
    }

    fn read_response_inner(&mut self, head_only: bool) -> Response {
        let mut response = self.head();
        assert!(
            response.version == "HTTP/1.1",
            "status line of {:?}",
            String::from_utf8_lossy(&response.raw)
        );
        let status = response.status;
        let length = response
            .header("content-length")
            .map(|v| v.parse::<usize>().expect("Content-Length"));
        response.body = match length {
            _ if head_only || (100..200).contains(&status) || status == 204 || status == 304 => {
                Vec::new()
            }
            Some(len) => {
                self.fill_to(len, "the end of a response body");
                self.buf.drain(..len).collect()
            }
            None => {
                while self.fill().expect("read to EOF") > 0 {}
                std::mem::take(&mut self.buf)
            }
        };
        response.raw.extend_from_slice(&response.body);
        response
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
        let data = self.exact(size);
        assert_eq!(self.exact(2), b"\r\n", "chunk end");
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

    /// Everything until the server closes with an EOF (a reset fails).
    pub fn read_to_close(&mut self) -> Vec<u8> {
        while self.fill().expect("read to EOF") > 0 {}
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

    /// Whether the server ended the connection (EOF, a reset, or a TLS
    /// stream cut without `close_notify`) with nothing more sent.
    pub fn is_closed_by_server(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        let mut byte = [0; 1];
        match self.stream.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) if is_cut(&e) => true,
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Whether `e` is the peer ending the connection abruptly.
fn is_cut(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof
    )
}
