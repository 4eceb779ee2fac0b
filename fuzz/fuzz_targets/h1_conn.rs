//! The connection machine (`h1::conn::Machine`) driven as `conn/` drives
//! it, with everything a connection meets chosen by the input: the bytes
//! and how they are split, time steps (deadlines reached or not), the
//! application's answers (status, body, close, stream, WebSocket upgrade,
//! event-mode sinks, pauses), short writes, the client's EOF and a server
//! stop.
//!
//! Invariants: no panic; never more responses than requests begun; one
//! answer at a time, so responses go out in request order (the statuses
//! on the wire are the ones answered, in order); every refusal (a
//! framing error, a limit, a timeout) says `Connection: close`, is the
//! last response and ends the connection; the machine never waits
//! forever without a deadline unless the application holds the request;
//! the bytes written parse as HTTP/1.1 responses (`httparse`), each with
//! the body its framing says.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use uhttp::Config;
use uhttp::h1::body::BodyDecoder;
use uhttp::h1::conn::{
    After, BodyStart, CONTINUE, Expired, Finished, Limits, Machine, ResponseHead, Step,
};
use uhttp::h1::encode::{Framing, status_has_no_body};
use uhttp::h1::stream::{encode_chunk, encode_last_chunk};
use uhttp_fuzz::{Rng, is_refusal_status, pieces, split_seed};

const DATE: &[u8] = b"Thu, 01 Jan 1970 00:00:00 GMT";
const STATUSES: [u16; 8] = [200, 201, 204, 304, 404, 500, 206, 400];

fuzz_target!(|data: &[u8]| {
    let (seed, input) = split_seed(data);
    let mut rng = Rng(u32::from(seed) | 0x2_0000);
    let mut config = Config::default();
    config.event_mode = seed & 0x100 != 0;
    config.max_headers_length = if seed & 0x200 != 0 { 256 } else { 8 * 1024 };
    config.max_content_length = 4096;
    config.keep_alive_max_requests = 1 + (seed >> 12) as usize;
    config.request_timeout = Duration::from_secs(10);
    config.keep_alive_timeout = Duration::from_secs(30);
    config.send_timeout = Duration::from_secs(60);
    let mut conn = Conn::new(config);
    for piece in pieces(input, seed) {
        if conn.machine.closed().is_some() {
            break;
        }
        conn.recv(piece);
        conn.events(&mut rng);
    }
    // The client is done: answer what is pending, then let time pass.
    for _ in 0..64 {
        if conn.machine.closed().is_some() {
            break;
        }
        match rng.draw() % 4 {
            0 => conn.eof(),
            _ => conn.events(&mut rng),
        }
        conn.tick(Duration::from_secs(u64::from(rng.draw() % 90)));
    }
    conn.flush();
    conn.check_wire();
});

/// A response the script answered with, as it must appear on the wire.
struct Expected {
    status: u16,
    body: Vec<u8>,
    /// Whether body bytes follow the head.
    with_body: bool,
    /// A refusal: it must say `Connection: close`.
    refusal: bool,
    /// A stream delimited by the end of the connection.
    close_delimited: bool,
    chunked: bool,
}

struct Conn {
    machine: Machine,
    limits: Limits,
    now: Instant,
    /// Bytes the client sent that were not read yet.
    inbox: Vec<u8>,
    rx: Vec<u8>,
    out: Vec<u8>,
    wire: Vec<u8>,
    /// Requests begun (first byte of a head seen).
    begun: usize,
    /// Heads parsed and handed over.
    parsed: usize,
    expected: Vec<Expected>,
    /// A request is dispatched and unanswered.
    pending: bool,
    /// A streamed response is under way (chunked or not).
    streaming: Option<bool>,
    refused: bool,
    /// The body's sink is full (the request handle's to say).
    full: bool,
    /// A WebSocket session started (and whether it is still on).
    upgraded: Option<bool>,
}

impl Conn {
    fn new(config: Config) -> Self {
        let now = Instant::now();
        let limits = Limits::from(&config);
        Conn {
            machine: Machine::new(&limits, now),
            limits,
            now,
            inbox: Vec::new(),
            rx: Vec::new(),
            out: Vec::new(),
            wire: Vec::new(),
            begun: 0,
            parsed: 0,
            expected: Vec::new(),
            pending: false,
            streaming: None,
            refused: false,
            full: false,
            upgraded: None,
        }
    }

    fn recv(&mut self, bytes: &[u8]) {
        self.inbox.extend_from_slice(bytes);
        self.read();
    }

    /// Reads what the client sent, as far as the machine wants to.
    fn read(&mut self) {
        const CHUNK: usize = 512;
        let unsent = self.out.len();
        if self.inbox.is_empty()
            || self.machine.closed().is_some()
            || !self
                .machine
                .wants_read(&self.limits, self.rx.len(), unsent, CHUNK, || self.full)
        {
            return;
        }
        let n = self.inbox.len().min(CHUNK);
        self.rx.extend(self.inbox.drain(..n));
        self.machine.received(&self.limits, self.now);
        self.run();
    }

    fn eof(&mut self) {
        self.read();
        if self.inbox.is_empty() && self.machine.closed().is_none() {
            self.machine.peer_closed(self.rx.is_empty());
            self.run();
        }
    }

    fn tick(&mut self, step: Duration) {
        self.now += step;
        let due = self.machine.deadline().is_some_and(|d| d.at <= self.now);
        if !due {
            return;
        }
        match self.machine.timeout() {
            Expired::Refuse => self.refuse(408),
            Expired::Close => assert!(self.machine.closed().is_some()),
            Expired::Nothing => assert!(self.machine.awaits_answer()),
        }
        self.run();
    }

    /// What the application and the socket do next, chosen by `rng`.
    fn events(&mut self, rng: &mut Rng) {
        for _ in 0..4 {
            self.read();
            match rng.draw() % 8 {
                0 | 1 => self.answer(rng),
                2 => self.write(rng.draw() as usize % 200),
                3 => {
                    if let Some(send_continue) = self.machine.accept_body(&self.limits, self.now) {
                        if send_continue {
                            self.out.extend_from_slice(CONTINUE);
                        }
                    }
                    self.run();
                }
                4 => {
                    self.full = false;
                    self.machine.resume(&self.limits, self.now);
                    self.run();
                }
                5 => self.tick(Duration::from_millis(u64::from(rng.draw() % 20_000))),
                6 => self.stream_step(rng),
                _ => {
                    if rng.draw() % 16 == 0 && self.machine.stop() {
                        assert!(self.machine.closed().is_some());
                    }
                    self.flush();
                }
            }
        }
    }

    fn run(&mut self) {
        for _ in 0..10_000 {
            if self.machine.closed().is_some() {
                return;
            }
            let full = self.full;
            match self
                .machine
                .advance(&self.limits, &self.rx, self.now, || full)
            {
                Step::Wait => {
                    self.check_deadline();
                    return;
                }
                Step::Began => self.begun += 1,
                Step::Request {
                    head,
                    consumed,
                    body,
                } => {
                    assert!(!self.refused, "a request parsed after a refusal");
                    assert!(self.upgraded.is_none(), "a request parsed after an upgrade");
                    assert!(consumed > 0 && consumed <= self.rx.len());
                    assert!(!self.pending, "two requests with the application");
                    self.rx.drain(..consumed);
                    self.parsed += 1;
                    assert!(self.parsed <= self.begun);
                    let _ = head.target();
                    match body {
                        BodyStart::TooLarge => self.refuse(413),
                        BodyStart::Buffer { send_continue, .. } => {
                            if send_continue {
                                self.out.extend_from_slice(CONTINUE);
                            }
                        }
                        BodyStart::None | BodyStart::Announce => self.pending = true,
                    }
                }
                Step::Data { data, consumed } => {
                    assert!(data.len() <= consumed && consumed <= self.rx.len());
                    self.rx.drain(..consumed);
                    // A sink fills now and then.
                    if consumed % 7 == 3 {
                        self.full = true;
                        self.machine.pause();
                    }
                }
                Step::Complete { consumed, .. } => {
                    self.rx.drain(..consumed);
                    self.pending = true;
                }
                Step::Frames => {
                    assert_eq!(self.upgraded, Some(true), "frames outside a session");
                    // A Close frame from the client ends the session: once
                    // the application has taken the messages before it, our
                    // Close is queued behind its answers and taken.
                    let close = self.rx.first().is_some_and(|b| b & 0x0f == 0x8);
                    self.rx.clear();
                    if close {
                        self.upgraded = Some(false);
                        self.machine.session_ending();
                        self.out.extend_from_slice(b"\x88\x00");
                        self.machine.pulled(&self.limits, self.now, true, true);
                    }
                }
                Step::Discard => self.rx.clear(),
                Step::Refuse(e) => {
                    let status = e.status();
                    assert!(is_refusal_status(status), "{status}");
                    self.refuse(status);
                }
                Step::Close(_) => assert!(self.machine.closed().is_some()),
            }
        }
        panic!("the machine never waits");
    }

    /// Waiting with no deadline is only right while the application (or
    /// a full sink, or a stream with nothing to send) holds the exchange.
    fn check_deadline(&self) {
        if self.machine.deadline().is_none() && self.machine.closed().is_none() {
            assert!(
                self.pending
                    || self.machine.awaits_answer()
                    || self.machine.is_answerable()
                    || self.streaming.is_some()
                    || self.upgraded == Some(true),
                "waiting forever with nothing held"
            );
        }
    }

    fn refuse(&mut self, status: u16) {
        assert!(!self.refused, "refused twice");
        self.refused = true;
        self.pending = false;
        let body = format!("{status} refused\n").into_bytes();
        let head = Self::head(status, false, Framing::Length(body.len() as u64));
        let answered = self
            .machine
            .respond(
                &self.limits,
                &mut self.out,
                &head,
                self.rx.is_empty(),
                self.now,
            )
            .expect("a refusal is always answered");
        assert_eq!(answered.after, After::Close);
        self.queue(status, body, answered.with_body, true);
    }

    fn head(status: u16, close: bool, framing: Framing) -> ResponseHead<'static> {
        ResponseHead {
            status,
            headers: b"X-Test: 1\r\n",
            has_content_type: false,
            wants_close: close,
            default_type: Some("text/plain; charset=utf-8"),
            framing,
            date: DATE,
        }
    }

    fn queue(&mut self, status: u16, body: Vec<u8>, with_body: bool, refusal: bool) {
        assert!(
            self.expected.len() < self.begun,
            "more responses than requests"
        );
        if with_body {
            self.out.extend_from_slice(&body);
        }
        self.expected.push(Expected {
            status,
            body,
            with_body,
            refusal,
            close_delimited: false,
            chunked: false,
        });
    }

    fn answer(&mut self, rng: &mut Rng) {
        let status = STATUSES[rng.draw() as usize % STATUSES.len()];
        let answerable = self.machine.is_answerable();
        if rng.draw() % 4 == 0 {
            return self.start_stream(rng, status);
        }
        if rng.draw() % 8 == 0 {
            return self.upgrade();
        }
        let body = vec![b'b'; rng.draw() as usize % 40];
        let framing = if status_has_no_body(status) {
            Framing::None
        } else {
            Framing::Length(body.len() as u64)
        };
        let close = rng.draw() % 8 == 0;
        let head = Self::head(status, close, framing);
        let answered = self.machine.respond(
            &self.limits,
            &mut self.out,
            &head,
            self.rx.is_empty(),
            self.now,
        );
        match answered {
            Some(answered) => {
                assert!(answerable);
                assert!(self.pending || self.parsed > self.expected.len());
                self.pending = false;
                self.queue(status, body, answered.with_body, false);
                if rng.draw() % 2 == 0 {
                    self.queued();
                }
            }
            None => assert!(!answerable),
        }
        self.run();
    }

    /// The driver found the answer queued in full, none of it written:
    /// the next buffered request may begin ahead of the write.
    fn queued(&mut self) {
        let finished = self.machine.response_queued(
            &self.limits,
            self.rx.is_empty(),
            self.out.len(),
            self.now,
        );
        if let Some(finished) = finished {
            assert_eq!(finished, Finished::Pipelined);
            self.begun += 1;
        }
    }

    fn start_stream(&mut self, rng: &mut Rng, status: u16) {
        let chunked = rng.draw() % 2 == 0;
        let framing = if status_has_no_body(status) {
            Framing::None
        } else if chunked {
            Framing::Chunked
        } else {
            Framing::Close
        };
        let head = Self::head(status, false, framing);
        let answerable = self.machine.is_answerable();
        let started = self.machine.stream(
            &self.limits,
            &mut self.out,
            &head,
            self.rx.is_empty(),
            self.now,
        );
        let Some(with_body) = started else {
            assert!(!answerable);
            return;
        };
        self.pending = false;
        self.queue(status, Vec::new(), with_body, false);
        let last = self.expected.last_mut().expect("just pushed");
        last.chunked = with_body && chunked;
        last.close_delimited = with_body && !chunked;
        if with_body {
            self.streaming = Some(chunked);
        }
        self.run();
    }

    /// The application accepts a WebSocket upgrade of the request it
    /// holds.
    fn upgrade(&mut self) {
        if !self.machine.upgrade(&self.limits, self.now) {
            return;
        }
        assert!(self.pending, "upgraded with no request dispatched");
        self.pending = false;
        self.queue(101, Vec::new(), false, false);
        uhttp::ws::handshake::encode_switching_protocols_with(&mut self.out, "a=", b"");
        self.upgraded = Some(true);
        self.run();
    }

    /// The application adds to its stream, or ends it.
    fn stream_step(&mut self, rng: &mut Rng) {
        if self.upgraded == Some(true) {
            // The application sends a message, or its Close frame.
            let ended = rng.draw() % 4 == 0;
            let frame: &[u8] = if ended { b"\x88\x00" } else { b"\x81\x01m" };
            self.out.extend_from_slice(frame);
            self.machine.pulled(&self.limits, self.now, true, ended);
            self.run();
            return;
        }
        let Some(chunked) = self.streaming else {
            return;
        };
        let ended = rng.draw() % 3 == 0;
        let data = vec![b's'; 1 + rng.draw() as usize % 30];
        let before = self.out.len();
        if chunked {
            encode_chunk(&mut self.out, &data);
            if ended {
                encode_last_chunk(&mut self.out);
            }
        } else {
            self.out.extend_from_slice(&data);
        }
        if let Some(last) = self.expected.last_mut() {
            last.body.extend_from_slice(&data);
        }
        let got = self.out.len() > before;
        self.machine.pulled(&self.limits, self.now, got, ended);
        if ended {
            self.streaming = None;
        }
        self.run();
    }

    /// The socket takes up to `n` bytes.
    fn write(&mut self, n: usize) {
        if self.machine.closed().is_some() {
            return;
        }
        let n = n.min(self.out.len());
        if n > 0 {
            self.wire.extend(self.out.drain(..n));
            self.machine.written(&self.limits, self.now);
        }
        if self.out.is_empty() {
            self.machine.all_written();
        }
        if self.out.is_empty() && self.streaming.is_none() {
            let was_refused = self.refused;
            if let Some(finished) =
                self.machine
                    .response_sent(&self.limits, self.rx.is_empty(), self.now)
            {
                if was_refused {
                    assert!(
                        matches!(
                            finished,
                            Finished::Close | Finished::CloseNotify | Finished::Linger
                        ),
                        "kept alive after a refusal: {finished:?}"
                    );
                }
                if finished == Finished::Linger {
                    self.rx.clear();
                }
                if finished == Finished::Pipelined {
                    self.begun += 1;
                }
            }
        }
        self.run();
    }

    fn flush(&mut self) {
        self.write(usize::MAX);
    }

    /// The bytes written are the responses answered, in order, each a
    /// valid HTTP/1.1 response with the body its framing says.
    fn check_wire(&self) {
        let mut rest = &self.wire[..];
        let mut seen = 0;
        while !rest.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut resp = httparse::Response::new(&mut headers);
            let len = match resp.parse(rest) {
                Ok(httparse::Status::Complete(len)) => len,
                // Cut short by the end of the run (or of the connection).
                Ok(httparse::Status::Partial) => return,
                Err(e) => panic!("invalid response bytes ({e}): {:?}", rest),
            };
            let status = resp.code.expect("complete");
            assert_eq!(resp.version, Some(1));
            let header = |name: &str| {
                resp.headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .map(|h| h.value)
            };
            let close = header("connection") == Some(b"close");
            let length = header("content-length")
                .map(|v| std::str::from_utf8(v).unwrap().parse::<usize>().unwrap());
            let chunked = header("transfer-encoding") == Some(b"chunked");
            rest = &rest[len..];
            if status == 100 {
                continue;
            }
            if status == 101 {
                // WebSocket frames follow, not HTTP.
                assert_eq!(self.expected.get(seen).map(|e| e.status), Some(101));
                assert_eq!(seen + 1, self.expected.len(), "a response after an upgrade");
                return;
            }
            let expected = self
                .expected
                .get(seen)
                .unwrap_or_else(|| panic!("response {seen} was never answered"));
            seen += 1;
            assert_eq!(status, expected.status, "responses out of order");
            if expected.refusal {
                assert!(close, "a refusal without Connection: close");
                assert_eq!(seen, self.expected.len(), "a response after a refusal");
            }
            if !expected.with_body {
                continue;
            }
            if chunked {
                assert!(expected.chunked);
                let mut decoder = BodyDecoder::chunked();
                let mut body = Vec::new();
                loop {
                    let step = decoder.decode(rest).expect("valid chunked framing");
                    body.extend_from_slice(step.data);
                    rest = &rest[step.consumed..];
                    if step.done || step.consumed == 0 {
                        break;
                    }
                }
                if !decoder.is_done() {
                    return;
                }
                assert_eq!(body, expected.body);
            } else if let Some(n) = length {
                assert_eq!(n, expected.body.len());
                if rest.len() < n {
                    return;
                }
                assert_eq!(&rest[..n], &expected.body[..]);
                rest = &rest[n..];
            } else {
                // Delimited by the end of the connection: the last one.
                assert!(expected.close_delimited, "a body with no framing");
                assert!(close, "a close-delimited body without Connection: close");
                assert_eq!(seen, self.expected.len());
                return;
            }
        }
    }
}
