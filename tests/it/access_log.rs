//! `Config::access_log`: one record per response, made when it ends, with
//! the body bytes really sent and how it ended — refusals by the library
//! included.

use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use uhttp::{AccessLog, Config, Outcome, Response};

pub use crate::common::client::read_up_to;
use crate::common::client::small_buffer_tcp;
use crate::util::{Client, IO_TIMEOUT, TestServer, serve};

/// What a test keeps of a record (the record borrows from the loop).
#[derive(Debug, Clone)]
pub struct Record {
    pub method: Option<String>,
    pub target: Option<String>,
    pub protocol: Option<&'static str>,
    pub request_line: Option<Vec<u8>>,
    pub status: u16,
    pub body_bytes: u64,
    pub duration: Duration,
    pub outcome: Outcome,
    pub refused: bool,
}

/// `config` with an access log that sends each record to the receiver.
pub fn recording(mut config: Config) -> (Config, Receiver<Record>) {
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    let hook = AccessLog::new(move |done| {
        let record = Record {
            method: done.method().map(str::to_owned),
            target: done.target().map(str::to_owned),
            protocol: done.protocol(),
            request_line: done.request_line().map(<[u8]>::to_vec),
            status: done.status(),
            body_bytes: done.body_bytes(),
            duration: done.duration(),
            outcome: done.outcome(),
            refused: done.refused().is_some(),
        };
        let _ = tx.lock().unwrap().send(record);
    });
    config.access_log = Some(hook);
    (config, rx)
}

/// The next record, waiting for it (it is made on the loop's thread, just
/// after the last byte went out).
pub fn next(records: &Receiver<Record>) -> Record {
    records
        .recv_timeout(IO_TIMEOUT)
        .expect("no access-log record within the timeout")
}

fn hello_server(config: Config) -> (TestServer, Receiver<Record>) {
    let (config, records) = recording(config);
    let big = vec![b'x'; 1 << 20];
    let server = serve(config, move |req| match req.path() {
        "/big" => req.respond(200, big.clone()).unwrap(),
        "/stream" => {
            let stream = req.response_stream(Response::new(200)).unwrap();
            stream.send_chunk(b"hello").unwrap();
            stream.send_chunk(b" world").unwrap();
            stream.end().unwrap();
        }
        _ => req.respond(200, "hello world").unwrap(),
    });
    (server, records)
}

#[test]
fn records_a_full_response_with_its_body_bytes() {
    let (server, records) = hello_server(Config::default());
    let mut client = server.connect();
    assert_eq!(client.get("/hello?x=1").body, b"hello world");
    let record = next(&records);
    assert_eq!(record.method.as_deref(), Some("GET"));
    assert_eq!(record.target.as_deref(), Some("/hello?x=1"));
    assert_eq!(record.protocol, Some("HTTP/1.1"));
    assert_eq!(record.request_line, None);
    assert_eq!((record.status, record.body_bytes), (200, 11));
    assert_eq!(record.outcome, Outcome::Complete);
    assert!(!record.refused);
    assert!(record.duration < IO_TIMEOUT);

    // A body sent in many writes is counted whole; a HEAD sends none.
    assert_eq!(client.get("/big").body.len(), 1 << 20);
    let record = next(&records);
    assert_eq!((record.status, record.body_bytes), (200, 1 << 20));
    client.send("HEAD /big HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(client.read_head_response().status, 200);
    let record = next(&records);
    assert_eq!(
        (record.method.as_deref(), record.body_bytes),
        (Some("HEAD"), 0)
    );
}

#[test]
fn records_pipelined_answers_written_together_each_with_its_own_bytes() {
    let (config, records) = recording(Config::default());
    let server = serve(config, |req| {
        let len: usize = req.path()[1..].parse().unwrap();
        req.respond(200, vec![b'x'; len]).unwrap()
    });
    let mut client = server.connect();
    client.send(
        "GET /1 HTTP/1.1\r\nHost: t\r\n\r\n\
         GET /10 HTTP/1.1\r\nHost: t\r\n\r\n\
         GET /100 HTTP/1.1\r\nHost: t\r\n\r\n\
         GET /1000 HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    for len in [1, 10, 100, 1000] {
        assert_eq!(client.read_response().body.len(), len);
    }
    for len in [1, 10, 100, 1000] {
        let record = next(&records);
        assert_eq!(record.target.as_deref(), Some(format!("/{len}").as_str()));
        assert_eq!(
            (record.body_bytes, record.outcome),
            (len as u64, Outcome::Complete)
        );
    }
}

#[test]
fn records_a_stream_when_it_ends_with_its_wire_bytes() {
    let (server, records) = hello_server(Config::default());
    let mut client = server.connect();
    client.send("GET /stream HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let all = client.read_to_end();
    let at = crate::util::find(&all, b"\r\n\r\n").unwrap() + 4;
    assert_eq!(&all[at..], b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    let record = next(&records);
    assert_eq!(record.status, 200);
    // "5\r\nhello\r\n" + "6\r\n world\r\n" + "0\r\n\r\n"
    assert_eq!(record.body_bytes, 10 + 11 + 5);
    assert_eq!(record.outcome, Outcome::Complete);
}

/// A client whose kernel buffers are small, so what it leaves unread
/// stays on the server's side.
pub fn small_buffer_client(server: &TestServer) -> TcpStream {
    small_buffer_tcp(server.addr(), IO_TIMEOUT)
}

#[test]
fn records_a_download_cut_short_by_the_client_with_the_bytes_sent() {
    const LEN: usize = 5 << 20;
    let (config, records) = recording(Config::default());
    let body = vec![b'y'; LEN];
    let server = serve(config, move |req| req.respond(200, body.clone()).unwrap());
    let mut stream = small_buffer_client(&server);
    std::io::Write::write_all(&mut stream, b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let got = read_up_to(&mut stream, 100 * 1024);
    assert_eq!(got, 100 * 1024);
    // Closing with unread bytes resets the connection.
    drop(stream);
    let record = next(&records);
    assert_eq!(record.status, 200);
    assert_eq!(record.outcome, Outcome::ClientGone);
    assert!(
        record.body_bytes < LEN as u64,
        "{} of {LEN} bytes counted as sent to a client that read 100 KiB",
        record.body_bytes
    );
    // What the client read, less the head, was sent at least.
    assert!(record.body_bytes >= 90 * 1024, "{record:?}");
}

#[test]
fn records_refusals_by_the_library() {
    let mut config = Config::default();
    config.max_headers_length = 1024;
    config.max_content_length = 100;
    config.request_timeout = Duration::from_millis(300);
    let (config, records) = recording(config);
    let server = serve(config, |req| req.respond(200, "ok").unwrap());
    let long_header = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX: {}\r\n\r\n",
        "a".repeat(2000)
    );
    // Request, status, and the first line the record shows.
    let cases: [(&[u8], u16, &[u8]); 7] = [
        (
            b"GET / HTTP/1.1\r\n\r\n",
            400,
            b"GET / HTTP/1.1",
        ),
        (
            b"GET /\xc3\xa9\xff x HTTP/1.1\r\nHost: t\r\n\r\n",
            400,
            b"GET /\xc3\xa9\xff x HTTP/1.1",
        ),
        (long_header.as_bytes(), 431, b"GET / HTTP/1.1"),
        (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505, b"GET / HTTP/2.0"),
        (b"BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n", 501, b"BREW /pot HTTP/1.1"),
        (
            b"POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
            b"POST /a HTTP/1.1",
        ),
        // An unfinished head, given up after request_timeout.
        (b"GET /slow HTTP/1.1\r\nHost:", 408, b"GET /slow HTTP/1.1"),
    ];
    for (request, status, line) in cases {
        let mut client = server.connect();
        client.send(request);
        let body = client.read_to_end();
        let record = next(&records);
        let shown = String::from_utf8_lossy(request);
        assert_eq!(record.status, status, "{shown}");
        assert_eq!(record.request_line.as_deref(), Some(line), "{shown}");
        assert_eq!(record.method, None, "{shown}");
        assert!(record.refused, "{shown}");
        assert_eq!(record.outcome, Outcome::Complete, "{shown}");
        // The client got the whole answer, and the record counts its body.
        let text = format!("{status} ");
        let at = crate::util::find(&body, b"\r\n\r\n").expect("a head") + 4;
        assert!(body[at..].starts_with(text.as_bytes()), "{shown}");
        assert_eq!(record.body_bytes, (body.len() - at) as u64, "{shown}");
    }

    // A parsed request refused on its length keeps its method and target.
    let mut client = server.connect();
    client.send("PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n");
    assert_eq!(client.read_response().status, 413);
    let record = next(&records);
    assert_eq!(record.status, 413);
    assert_eq!(record.method.as_deref(), Some("PUT"));
    assert_eq!(record.target.as_deref(), Some("/up"));
    assert_eq!(record.request_line, None);
    assert!(record.refused);

    // Everyone else is still served, and logged.
    let mut client: Client = server.connect();
    assert_eq!(client.get("/").status, 200);
    assert_eq!(next(&records).status, 200);
}

#[test]
fn a_connection_that_sends_no_request_makes_no_record() {
    let mut config = Config::default();
    config.request_timeout = Duration::from_millis(200);
    let (config, records) = recording(config);
    let server = serve(config, |req| req.respond(200, "ok").unwrap());
    let mut silent = server.connect();
    silent.expect_closed();
    let mut client = server.connect();
    assert_eq!(client.get("/only").status, 200);
    let record = next(&records);
    assert_eq!(record.target.as_deref(), Some("/only"));
    assert!(
        records.try_recv().is_err(),
        "a record for the silent connection"
    );
}

#[test]
fn records_a_websocket_session_when_it_ends() {
    let (config, records) = recording(Config::default());
    let server = crate::util::serve_events(config, |event| {
        if let uhttp::Event::Request(req) = event {
            let socket = req.accept_websocket().unwrap();
            socket.send_text("hello").unwrap();
        }
    });
    let url = format!("ws://{}/ws", server.addr());
    let (mut client, _) = tungstenite::connect(url).expect("connect");
    assert_eq!(client.read().unwrap(), tungstenite::Message::text("hello"));
    client.close(None).unwrap();
    // Read the server's Close, then the end.
    while client.read().is_ok() {}
    let record = next(&records);
    assert_eq!(record.status, 101);
    assert_eq!(record.target.as_deref(), Some("/ws"));
    // A text frame (2 + 5 bytes), then the empty Close answer (2).
    assert_eq!(record.body_bytes, 9);
    assert_eq!(record.outcome, Outcome::Complete);
}

#[test]
fn records_a_response_cut_short_by_the_loop_going_away() {
    let (config, records) = recording(Config::default());
    let body = vec![b's'; 32 << 20];
    let server = serve(config, move |req| req.respond(200, body.clone()).unwrap());
    let mut stream = small_buffer_client(&server);
    std::io::Write::write_all(&mut stream, b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    assert_eq!(read_up_to(&mut stream, 1024), 1024);
    // The loop is dropped with the download under way.
    drop(server);
    let record = next(&records);
    assert_eq!(record.status, 200);
    assert_eq!(record.outcome, Outcome::Shutdown);
    assert!(record.body_bytes < 32 << 20, "{record:?}");
}
