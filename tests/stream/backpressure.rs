//! Backpressure: a client that does not read makes sends fail with
//! `WouldBlock` at `max_send_buffer`; `Writable` says when to go on; the
//! bytes arrive whole and in order. Producers on the loop's thread and on
//! another thread; streams and WebSockets.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use uhttp::{Config, Error, Event, Response, ResponseStream, WebSocket};

use crate::util::{IO_TIMEOUT, serve_events};

const CAP: usize = 64 * 1024;
const PIECE: usize = 16 * 1024;
/// How long "no `Writable` yet" must last before the client is taken to
/// be stuck. Only a shortcut: a wrong guess still passes, just after
/// sending less while the client does not read.
const QUIET: Duration = Duration::from_millis(300);

fn config() -> Config {
    let mut config = Config::default();
    config.max_send_buffer = CAP;
    config
}

/// Piece `k` of the test stream: bytes that differ between pieces and
/// positions, so loss, duplication and reordering all show.
fn piece(k: usize) -> Vec<u8> {
    (0..PIECE)
        .map(|j| ((k * 31 + j * 7 + j / 251) % 256) as u8)
        .collect()
}

/// The producer side of a test: `send(k)` sends piece `k`; what it sent
/// and what it saw.
struct Producer<S, B> {
    send: S,
    buffered: B,
    writable: mpsc::Receiver<()>,
    sent: usize,
    would_block: usize,
    writables: usize,
}

impl<S, B> Producer<S, B>
where
    S: FnMut(usize) -> Result<(), Error>,
    B: Fn() -> usize,
{
    fn try_send(&mut self) -> bool {
        match (self.send)(self.sent) {
            Ok(()) => {
                self.sent += 1;
                let buffered = (self.buffered)();
                assert!(buffered <= CAP + PIECE + 64, "{buffered} bytes buffered");
                true
            }
            Err(Error::WouldBlock) => {
                self.would_block += 1;
                false
            }
            Err(e) => panic!("send failed: {e}"),
        }
    }

    /// Sends while the client does not read, until sends are refused and
    /// no `Writable` follows.
    fn fill_until_stuck(&mut self) {
        loop {
            while self.try_send() {
                assert!(
                    self.sent < 4096,
                    "64 MiB queued for a client that does not read"
                );
            }
            match self.writable.recv_timeout(QUIET) {
                Ok(()) => self.writables += 1,
                Err(RecvTimeoutError::Timeout) => return,
                Err(e) => panic!("{e}"),
            }
        }
    }

    /// Sends `more` pieces, waiting for `Writable` whenever refused (the
    /// client reads now, so it must come).
    fn send_more(&mut self, more: usize) {
        let target = self.sent + more;
        while self.sent < target {
            if !self.try_send() {
                self.writable.recv_timeout(IO_TIMEOUT).expect("Writable");
                self.writables += 1;
            }
        }
    }
}

fn expected(pieces: usize) -> Vec<u8> {
    (0..pieces).flat_map(piece).collect()
}

#[test]
fn refuses_sends_at_the_cap_until_the_client_reads_then_resumes_with_every_byte_in_order() {
    let (stream_tx, streams) = mpsc::channel();
    let (writable_tx, writable) = mpsc::channel();
    let server = serve_events(config(), move |event| match event {
        Event::Request(req) => stream_tx
            .send(req.response_stream(Response::new(200)).unwrap())
            .unwrap(),
        Event::Writable(_) => writable_tx.send(()).unwrap(),
        _ => {}
    });
    let mut client = server.connect();
    client.request("GET", "/", "HTTP/1.1");
    let stream: ResponseStream = streams.recv_timeout(IO_TIMEOUT).unwrap();
    let mut producer = Producer {
        send: |k: usize| stream.send_chunk(&piece(k)),
        buffered: || stream.buffered(),
        writable,
        sent: 0,
        would_block: 0,
        writables: 0,
    };
    // This thread is not the loop's: every send must wake it.
    producer.fill_until_stuck();
    assert!(producer.would_block > 0);
    let stuck_at = producer.sent;

    let reader = std::thread::spawn(move || {
        let head = client.head();
        assert!(head.is_chunked());
        client.chunked_body()
    });
    let writables_before = producer.writables;
    producer.send_more(64);
    assert!(
        producer.writables > writables_before,
        "no Writable after the client read"
    );
    stream.end().unwrap();
    let body = reader.join().unwrap();
    assert_eq!(body.len(), producer.sent * PIECE);
    assert!(body == expected(producer.sent), "bytes lost or reordered");
    eprintln!(
        "stream backpressure: stuck after {stuck_at} pieces of {PIECE} bytes, {} refusals",
        producer.would_block
    );
}

/// The producer runs in the handler, on the loop's thread: it sends until
/// refused, and again on every `Writable`.
#[test]
fn a_producer_on_the_loop_thread_resumes_on_writable_until_done() {
    const TOTAL: usize = 512; // 8 MiB
    let (report_tx, report) = mpsc::channel();
    let mut state: Option<(ResponseStream, usize, usize, usize)> = None;
    let server = serve_events(config(), move |event| {
        match event {
            Event::Request(req) => {
                state = Some((req.response_stream(Response::new(200)).unwrap(), 0, 0, 0));
            }
            Event::Writable(_) => {
                if let Some(s) = &mut state {
                    s.3 += 1;
                }
            }
            _ => return,
        }
        let Some((stream, sent, refusals, writables)) = &mut state else {
            return;
        };
        while *sent < TOTAL {
            match stream.send_chunk(&piece(*sent)) {
                Ok(()) => {
                    *sent += 1;
                    assert!(stream.buffered() <= CAP + PIECE + 64);
                }
                Err(Error::WouldBlock) => {
                    *refusals += 1;
                    return;
                }
                Err(e) => panic!("{e}"),
            }
        }
        stream.end().unwrap();
        report_tx.send((*refusals, *writables)).unwrap();
        state = None;
    });
    let mut client = server.connect();
    client.request("GET", "/", "HTTP/1.1");
    let head = client.head();
    assert!(head.is_chunked());
    let body = client.chunked_body();
    let (refusals, writables) = report.recv_timeout(IO_TIMEOUT).unwrap();
    assert!(
        refusals > 0 && writables > 0,
        "{refusals} refusals, {writables} Writable"
    );
    assert_eq!(body.len(), TOTAL * PIECE);
    assert!(body == expected(TOTAL), "bytes lost or reordered");
}

#[test]
fn websocket_send_text_is_refused_at_the_cap_and_resumes_on_writable() {
    let (ws_tx, sockets) = mpsc::channel();
    let (writable_tx, writable) = mpsc::channel();
    let server = serve_events(config(), move |event| match event {
        Event::Request(req) => ws_tx.send(req.accept_websocket().unwrap()).unwrap(),
        Event::Writable(_) => writable_tx.send(()).unwrap(),
        _ => {}
    });
    let (mut client, _) = tungstenite::connect(server.ws_url("/ws")).expect("connect");
    let ws: WebSocket = sockets.recv_timeout(IO_TIMEOUT).unwrap();
    let mut producer = Producer {
        send: |k: usize| ws.send_text(&text(k)),
        buffered: || ws.buffered(),
        writable,
        sent: 0,
        would_block: 0,
        writables: 0,
    };
    producer.fill_until_stuck();
    assert!(producer.would_block > 0);
    let reader = std::thread::spawn(move || {
        let mut k = 0;
        loop {
            match client.read().expect("read a message") {
                tungstenite::Message::Text(t) if t.as_str() == "end" => return k,
                tungstenite::Message::Text(t) => {
                    assert!(t.as_str() == text(k), "message {k} differs");
                    k += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    });
    let writables_before = producer.writables;
    producer.send_more(64);
    assert!(
        producer.writables > writables_before,
        "no Writable after the client read"
    );
    // "end" may itself be refused once more.
    while let Err(Error::WouldBlock) = ws.send_text("end") {
        producer
            .writable
            .recv_timeout(IO_TIMEOUT)
            .expect("Writable");
    }
    assert_eq!(reader.join().unwrap(), producer.sent);
}

/// Message `k` of the WebSocket test: `PIECE` bytes naming `k`.
fn text(k: usize) -> String {
    format!("{k:08}").repeat(PIECE / 8)
}
