//! A client that goes away mid-stream: `Closed` for the right request,
//! sends refused with `Closed`, and no busy loop meanwhile.

use std::sync::mpsc;
use std::time::Duration;

use uhttp::{Config, Error, Event, Response, ResponseStream};

use crate::util::{IO_TIMEOUT, TestServer, serve_events};

/// Clock ticks (normally 10 ms each) the loop thread may use while idle
/// for `IDLE`: a spinning loop would use all of them.
const IDLE: Duration = Duration::from_millis(500);
const MAX_IDLE_TICKS: u64 = 10;

fn assert_loop_idles(server: &TestServer, what: &str) {
    let before = server.loop_cpu_ticks();
    std::thread::sleep(IDLE);
    let used = server.loop_cpu_ticks() - before;
    assert!(
        used <= MAX_IDLE_TICKS,
        "{what}: the loop used {used} ticks in {IDLE:?}"
    );
}

struct Started {
    server: TestServer,
    streams: mpsc::Receiver<ResponseStream>,
    closed: mpsc::Receiver<u64>,
    writable: mpsc::Receiver<()>,
}

fn stream_server(config: Config) -> Started {
    let (stream_tx, streams) = mpsc::channel();
    let (closed_tx, closed) = mpsc::channel();
    let (writable_tx, writable) = mpsc::channel();
    let server = serve_events(config, move |event| match event {
        Event::Request(req) => stream_tx
            .send(req.response_stream(Response::new(200)).unwrap())
            .unwrap(),
        Event::Closed(req) => closed_tx.send(req.id()).unwrap(),
        Event::Writable(_) => writable_tx.send(()).unwrap(),
        _ => {}
    });
    Started {
        server,
        streams,
        closed,
        writable,
    }
}

#[test]
fn reports_closed_for_the_request_refuses_later_sends_and_does_not_spin() {
    let Started {
        server,
        streams,
        closed,
        ..
    } = stream_server(Config::default());
    let mut client = server.connect();
    client.request("GET", "/", "HTTP/1.1");
    let stream = streams.recv_timeout(IO_TIMEOUT).unwrap();
    client.head();
    stream.send_chunk(b"hello").unwrap();
    assert_eq!(client.chunk().unwrap(), b"hello");
    assert_loop_idles(&server, "an open, quiet stream");

    drop(client);
    let id = closed.recv_timeout(IO_TIMEOUT).expect("Closed event");
    assert_eq!(id, stream.request().id());
    assert!(stream.is_closed());
    assert!(stream.request().is_closed());
    assert!(matches!(stream.send_chunk(b"more"), Err(Error::Closed)));
    assert!(matches!(stream.end(), Err(Error::Closed)));
    assert_loop_idles(&server, "after the client left");
    assert!(matches!(stream.send_chunk(b"more"), Err(Error::Closed)));
    // Exactly one Closed.
    assert!(closed.try_recv().is_err());
}

/// The client stops reading, the buffers fill, then it leaves: the loop
/// notices (reset or EOF) although it has unsent bytes.
#[test]
fn reports_closed_when_a_stalled_client_leaves() {
    let mut config = Config::default();
    config.max_send_buffer = 16 * 1024;
    let Started {
        server,
        streams,
        closed,
        writable,
    } = stream_server(config);
    let mut client = server.connect();
    client.request("GET", "/", "HTTP/1.1");
    let stream = streams.recv_timeout(IO_TIMEOUT).unwrap();
    client.head();
    let piece = vec![b'x'; 8 * 1024];
    // Fill until refused with no `Writable` following for a moment.
    loop {
        while stream.send_chunk(&piece).is_ok() {}
        if writable.recv_timeout(Duration::from_millis(300)).is_err() {
            break;
        }
    }
    drop(client);
    let id = closed.recv_timeout(IO_TIMEOUT).expect("Closed event");
    assert_eq!(id, stream.request().id());
    assert!(matches!(stream.send_chunk(b"more"), Err(Error::Closed)));
    assert_loop_idles(&server, "after a stalled client left");
}

#[test]
fn a_stream_on_a_second_connection_is_unaffected() {
    let Started {
        server,
        streams,
        closed,
        ..
    } = stream_server(Config::default());
    let mut first = server.connect();
    first.request("GET", "/", "HTTP/1.1");
    let first_stream = streams.recv_timeout(IO_TIMEOUT).unwrap();
    let mut second = server.connect();
    second.request("GET", "/", "HTTP/1.1");
    let second_stream = streams.recv_timeout(IO_TIMEOUT).unwrap();
    first.head();
    second.head();
    drop(first);
    assert_eq!(
        closed.recv_timeout(IO_TIMEOUT).unwrap(),
        first_stream.request().id()
    );
    assert_ne!(first_stream.request().id(), second_stream.request().id());
    second_stream.send_chunk(b"still here").unwrap();
    assert_eq!(second.chunk().unwrap(), b"still here");
    second_stream.end().unwrap();
    assert_eq!(second.chunk(), None);
}
