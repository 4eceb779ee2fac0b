//! Scenario tests of the connection machine: scripted bytes, times and
//! answers in, steps and bytes out. No socket, no sleep: time is a
//! clock the script moves, so every timeout is checked at both bounds
//! (not a nanosecond early, and at exactly its moment).

use std::time::{Duration, Instant};

use super::*;
use crate::config::Config;
use crate::h1::encode::reason;

const DATE: &[u8] = b"Thu, 01 Jan 1970 00:00:00 GMT";
const NS: Duration = Duration::from_nanos(1);

/// What the driver was told to do, in order.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Began,
    /// A head: its target and how its body comes.
    Request(String, BodyStart),
    Data(Vec<u8>),
    Complete {
        announced: bool,
    },
    Frames,
    Refused(u16),
    Closed(CloseReason),
    Finished(Finished),
}

/// A minimal driver around the machine: a receive buffer, a send buffer
/// and a wire of what was written.
struct Scenario {
    machine: Machine,
    limits: Limits,
    start: Instant,
    now: Instant,
    rx: Vec<u8>,
    out: Vec<u8>,
    wire: Vec<u8>,
    seen: Vec<Seen>,
    /// The body's sink takes no more (the request handle's to say).
    full: bool,
}

fn config() -> Config {
    Config {
        request_timeout: Duration::from_secs(10),
        keep_alive_timeout: Duration::from_secs(30),
        send_timeout: Duration::from_secs(60),
        ..Config::default()
    }
}

fn event_mode() -> Config {
    let mut config = config();
    config.event_mode = true;
    config
}

impl Scenario {
    fn new(config: Config) -> Self {
        let start = Instant::now();
        let limits = Limits::from(&config);
        Scenario {
            machine: Machine::new(&limits, start),
            limits,
            start,
            now: start,
            rx: Vec::new(),
            out: Vec::new(),
            wire: Vec::new(),
            seen: Vec::new(),
            full: false,
        }
    }

    /// The moment `d` after the start.
    fn t(&self, d: Duration) -> Instant {
        self.start + d
    }

    /// Moves the clock to `d` after the start; an expired deadline is
    /// handled as the loop does.
    fn at(&mut self, d: Duration) -> &mut Self {
        self.now = self.t(d);
        if self
            .machine
            .deadline()
            .is_some_and(|deadline| deadline.at <= self.now)
        {
            match self.machine.timeout() {
                Expired::Refuse => self.refuse(RequestError::Timeout),
                Expired::Close => self.seen.push(Seen::Closed(self.machine.closed().unwrap())),
                Expired::Nothing => {}
            }
            self.run();
        }
        self
    }

    fn recv(&mut self, bytes: &[u8]) -> &mut Self {
        assert!(self.machine.closed().is_none(), "bytes after close");
        self.rx.extend_from_slice(bytes);
        self.machine.received(&self.limits, self.now);
        self.run()
    }

    fn eof(&mut self) -> &mut Self {
        if let Some(reason) = self.machine.peer_closed(self.rx.is_empty()) {
            self.seen.push(Seen::Closed(reason));
        }
        self.run()
    }

    /// Advances until the machine waits.
    fn run(&mut self) -> &mut Self {
        for _ in 0..1000 {
            if self.machine.closed().is_some() {
                return self;
            }
            let full = self.full;
            let step = self
                .machine
                .advance(&self.limits, &self.rx, self.now, || full);
            match step {
                Step::Wait => return self,
                Step::Began => self.seen.push(Seen::Began),
                Step::Request {
                    head,
                    consumed,
                    body,
                } => {
                    self.seen
                        .push(Seen::Request(head.target().to_owned(), body));
                    self.rx.drain(..consumed);
                    match body {
                        BodyStart::TooLarge => self.refuse(RequestError::PayloadTooLarge),
                        BodyStart::Buffer {
                            send_continue: true,
                            ..
                        } => self.out.extend_from_slice(CONTINUE),
                        _ => {}
                    }
                }
                Step::Data { data, consumed } => {
                    let data = data.to_vec();
                    self.rx.drain(..consumed);
                    if !data.is_empty() {
                        self.seen.push(Seen::Data(data));
                    }
                }
                Step::Complete {
                    consumed,
                    announced,
                } => {
                    self.rx.drain(..consumed);
                    self.seen.push(Seen::Complete { announced });
                }
                Step::Frames => {
                    self.rx.clear();
                    self.seen.push(Seen::Frames);
                }
                Step::Discard => self.rx.clear(),
                Step::Refuse(e) => self.refuse(e),
                Step::Close(reason) => self.seen.push(Seen::Closed(reason)),
            }
        }
        panic!("the machine never waits");
    }

    fn refuse(&mut self, error: RequestError) {
        let status = error.status();
        self.seen.push(Seen::Refused(status));
        let body = format!("{status} {}\n", reason(status));
        let answered = self.respond_with(status, body.as_bytes(), false);
        assert_eq!(answered.map(|a| a.after), Some(After::Close));
    }

    fn respond_with(&mut self, status: u16, body: &[u8], wants_close: bool) -> Option<Answered> {
        let framing = if crate::h1::encode::status_has_no_body(status) {
            Framing::None
        } else {
            Framing::Length(body.len() as u64)
        };
        let head = ResponseHead {
            status,
            headers: b"",
            has_content_type: false,
            wants_close,
            default_type: Some("text/plain; charset=utf-8"),
            framing,
            date: DATE,
        };
        let answered = self.machine.respond(
            &self.limits,
            &mut self.out,
            &head,
            self.rx.is_empty(),
            self.now,
        )?;
        if answered.with_body {
            self.out.extend_from_slice(body);
        }
        Some(answered)
    }

    /// The application answers `status` with `body`.
    fn answer(&mut self, status: u16, body: &str) -> &mut Self {
        self.respond_with(status, body.as_bytes(), false)
            .expect("a request waits for an answer");
        self
    }

    /// The socket takes up to `n` bytes of what is queued.
    fn write(&mut self, n: usize) -> &mut Self {
        let n = n.min(self.out.len());
        if n > 0 {
            self.wire.extend(self.out.drain(..n));
            self.machine.written(&self.limits, self.now);
        }
        if self.out.is_empty() {
            self.machine.all_written();
            if let Some(finished) =
                self.machine
                    .response_sent(&self.limits, self.rx.is_empty(), self.now)
            {
                self.seen.push(Seen::Finished(finished));
                if finished == Finished::Linger {
                    self.rx.clear();
                }
            }
        }
        self.run()
    }

    /// The answer is queued in full, nothing written yet: the driver asks
    /// whether the next request may begin.
    fn queued(&mut self) -> &mut Self {
        let finished = self.machine.response_queued(
            &self.limits,
            self.rx.is_empty(),
            self.out.len(),
            self.now,
        );
        if let Some(finished) = finished {
            self.seen.push(Seen::Finished(finished));
        }
        self.run()
    }

    /// The socket takes everything queued.
    fn flush(&mut self) -> &mut Self {
        self.write(usize::MAX)
    }

    fn seen(&mut self) -> Vec<Seen> {
        std::mem::take(&mut self.seen)
    }

    /// What was written since the last look, as text.
    fn wire(&mut self) -> String {
        String::from_utf8(std::mem::take(&mut self.wire)).unwrap()
    }

    fn deadline(&self) -> Option<(Duration, Timer)> {
        self.machine
            .deadline()
            .map(|d| (d.at - self.start, d.timer))
    }
}

fn get(target: &str) -> Seen {
    Seen::Request(target.to_owned(), BodyStart::None)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

const GET: &[u8] = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n";

fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn ok_close(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The refusal the machine's driver sends for `status`.
fn refusal(status: u16) -> String {
    let body = format!("{status} {}\n", reason(status));
    format!(
        "HTTP/1.1 {status} {}\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        reason(status),
        body.len()
    )
}

// ---- timeouts, each at both bounds ----

#[test]
fn keep_alive_timeout_closes_at_exactly_its_moment_not_before() {
    let mut s = Scenario::new(config());
    s.at(secs(1)).recv(GET).answer(200, "a").at(secs(2)).flush();
    assert_eq!(
        s.seen(),
        [Seen::Began, get("/a"), Seen::Finished(Finished::Idle)]
    );
    assert_eq!(s.wire(), ok("a"));
    // Armed from the moment the response was sent.
    assert_eq!(s.deadline(), Some((secs(32), Timer::Idle)));
    s.at(secs(32) - NS);
    assert!(s.seen().is_empty());
    assert!(s.machine.closed().is_none());
    assert_eq!(s.machine.idle_keep_alive(), Some(1));
    s.at(secs(32));
    assert_eq!(s.seen(), [Seen::Closed(CloseReason::Timeout)]);
    assert!(s.wire().is_empty(), "an idle connection closes quietly");
}

#[test]
fn a_new_connection_waits_request_timeout_for_its_first_byte_then_closes_quietly() {
    let mut s = Scenario::new(config());
    assert_eq!(s.deadline(), Some((secs(10), Timer::Idle)));
    s.at(secs(10) - NS);
    assert!(s.machine.closed().is_none());
    s.at(secs(10));
    assert_eq!(s.seen(), [Seen::Closed(CloseReason::Timeout)]);
    assert!(s.wire().is_empty());
}

#[test]
fn header_timeout_runs_from_the_first_byte_and_answers_408() {
    let mut s = Scenario::new(config());
    s.at(secs(3)).recv(b"GET / HT");
    assert_eq!(s.deadline(), Some((secs(13), Timer::Head)));
    // More bytes of the head do not extend it.
    s.at(secs(8)).recv(b"TP/1.1\r\n");
    assert_eq!(s.deadline(), Some((secs(13), Timer::Head)));
    s.at(secs(13) - NS);
    assert_eq!(s.seen(), [Seen::Began]);
    s.at(secs(13));
    assert_eq!(s.seen(), [Seen::Refused(408)]);
    s.flush();
    assert_eq!(s.wire(), refusal(408));
    // Our side shut, the client's bytes drained a moment.
    assert_eq!(s.seen(), [Seen::Finished(Finished::Linger)]);
    assert_eq!(s.deadline(), Some((secs(13) + LINGER, Timer::Linger)));
}

#[test]
fn body_stall_timeout_runs_from_the_last_byte_and_answers_408() {
    let mut s = Scenario::new(config());
    s.at(secs(1))
        .recv(b"POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12");
    assert_eq!(s.deadline(), Some((secs(11), Timer::Body)));
    s.at(secs(7)).recv(b"345");
    assert_eq!(s.deadline(), Some((secs(17), Timer::Body)));
    s.at(secs(17) - NS);
    assert!(!s.seen().contains(&Seen::Refused(408)));
    s.at(secs(17));
    assert_eq!(s.seen(), [Seen::Refused(408)]);
    s.flush();
    assert_eq!(s.wire(), refusal(408));
}

#[test]
fn send_stall_timeout_runs_from_the_last_write_and_closes() {
    let mut s = Scenario::new(config());
    s.recv(GET).at(secs(2)).answer(200, "0123456789");
    assert_eq!(s.deadline(), Some((secs(62), Timer::Send)));
    s.at(secs(40)).write(5);
    assert_eq!(s.deadline(), Some((secs(100), Timer::Send)));
    s.at(secs(100) - NS);
    assert!(s.machine.closed().is_none());
    s.at(secs(100));
    assert_eq!(s.machine.closed(), Some(CloseReason::Timeout));
    assert_eq!(
        s.seen(),
        [Seen::Began, get("/a"), Seen::Closed(CloseReason::Timeout)]
    );
}

#[test]
fn linger_ends_at_exactly_linger_or_at_the_clients_eof() {
    let mut s = Scenario::new(config());
    s.at(secs(1))
        .recv(b"BREW / HTTP/1.1\r\nHost: h\r\n\r\n")
        .flush();
    assert_eq!(
        s.seen(),
        [
            Seen::Began,
            Seen::Refused(501),
            Seen::Finished(Finished::Linger)
        ]
    );
    assert_eq!(s.deadline(), Some((secs(1) + LINGER, Timer::Linger)));
    // What the client still sends is drained unread.
    s.recv(b"more bytes");
    assert!(s.rx.is_empty());
    s.at(secs(1) + LINGER - NS);
    assert!(s.machine.closed().is_none());
    s.at(secs(1) + LINGER);
    assert_eq!(s.seen(), [Seen::Closed(CloseReason::Timeout)]);

    let mut s = Scenario::new(config());
    s.recv(b"BREW / HTTP/1.1\r\nHost: h\r\n\r\n").flush().eof();
    assert_eq!(
        s.seen().last(),
        Some(&Seen::Closed(CloseReason::PeerClosed))
    );
}

#[test]
fn no_deadline_runs_while_the_application_holds_the_request() {
    let mut s = Scenario::new(config());
    s.recv(GET);
    assert_eq!(s.deadline(), None);
    assert_eq!(s.machine.timeout(), Expired::Nothing);
    assert!(s.machine.awaits_answer());
}

// ---- keep-alive and pipelining ----

#[test]
fn pipelined_requests_are_answered_one_at_a_time_in_order() {
    let mut s = Scenario::new(config());
    s.recv(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HT");
    // Only the first is dispatched; the others wait in rx.
    assert_eq!(s.seen(), [Seen::Began, get("/1")]);
    s.at(secs(1)).answer(200, "1").flush();
    assert_eq!(
        s.seen(),
        [Seen::Finished(Finished::Pipelined), get("/2")],
        "the next request's time starts when it becomes current"
    );
    s.answer(200, "2").at(secs(2)).flush();
    assert_eq!(s.seen(), [Seen::Finished(Finished::Pipelined)]);
    assert_eq!(s.deadline(), Some((secs(12), Timer::Head)));
    s.recv(b"TP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(s.seen(), [get("/3")]);
    s.answer(200, "3").flush();
    assert_eq!(s.wire(), ok("1") + &ok("2") + &ok("3"));
    assert_eq!(s.seen(), [Seen::Finished(Finished::Idle)]);
}

#[test]
fn pipelined_requests_begin_before_earlier_answers_are_written_and_go_out_together() {
    let mut s = Scenario::new(config());
    s.recv(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(s.seen(), [Seen::Began, get("/1")]);
    // No read and no write in between: each buffered request is handed
    // out as soon as the answer before it is queued.
    s.answer(200, "1").queued();
    assert_eq!(s.seen(), [Seen::Finished(Finished::Pipelined), get("/2")]);
    assert_eq!(s.deadline(), None, "the application holds /2");
    s.answer(200, "2").queued();
    assert_eq!(s.seen(), [Seen::Finished(Finished::Pipelined), get("/3")]);
    // The last one has nothing behind it: it waits to be written.
    s.answer(200, "3").queued();
    assert_eq!(s.seen(), []);
    assert!(s.wire().is_empty());
    s.flush();
    assert_eq!(
        s.wire(),
        ok("1") + &ok("2") + &ok("3"),
        "one write, in order"
    );
    assert_eq!(s.seen(), [Seen::Finished(Finished::Idle)]);
}

#[test]
fn an_answer_that_closes_or_a_full_send_buffer_waits_to_be_written() {
    let mut two = config();
    two.keep_alive_max_requests = 2;
    let mut s = Scenario::new(two);
    s.recv(&[GET, GET, GET].concat());
    s.answer(200, "1").queued();
    assert_eq!(
        s.seen(),
        [
            Seen::Began,
            get("/a"),
            Seen::Finished(Finished::Pipelined),
            get("/a")
        ]
    );
    // The second is the last one kept alive: nothing is read past it.
    s.answer(200, "2").queued();
    assert_eq!(s.seen(), []);
    s.flush();
    assert_eq!(s.wire(), ok("1") + &ok_close("2"));
    assert_eq!(s.seen(), [Seen::Finished(Finished::Linger)]);

    // Back-pressure: beyond `max_send_buffer` unsent, no reading ahead.
    let mut s = Scenario::new(config());
    s.recv(&[GET, GET].concat());
    let big = "x".repeat(s.limits.max_send_buffer);
    s.answer(200, &big).queued();
    assert_eq!(s.seen(), [Seen::Began, get("/a")]);
    s.write(1000);
    assert_eq!(s.seen(), [], "still over the bound, and not all written");
    s.flush();
    assert_eq!(s.seen(), [Seen::Finished(Finished::Pipelined), get("/a")]);
}

#[test]
fn the_clients_eof_does_not_cut_off_answers_queued_ahead() {
    let mut s = Scenario::new(config());
    s.recv(&[GET, b"GET /b HT".as_slice()].concat());
    s.answer(200, "1").queued();
    assert_eq!(
        s.seen(),
        [Seen::Began, get("/a"), Seen::Finished(Finished::Pipelined)]
    );
    // The unfinished request is dropped, the answer before it still goes
    // out, then the connection closes.
    s.eof();
    assert_eq!(s.seen(), []);
    assert!(s.machine.closed().is_none());
    s.flush();
    assert_eq!(s.wire(), ok("1"));
    assert_eq!(s.seen(), [Seen::Finished(Finished::Close)]);
    assert_eq!(s.machine.closed(), Some(CloseReason::Done));

    // After the EOF nothing is begun ahead of the write.
    let mut s = Scenario::new(config());
    s.recv(&[GET, GET].concat()).eof();
    s.answer(200, "1").queued();
    assert_eq!(s.seen(), [Seen::Began, get("/a")]);
    s.flush();
    assert_eq!(s.seen(), [Seen::Finished(Finished::Pipelined), get("/a")]);
}

#[test]
fn reading_ahead_of_pipelined_requests_is_bounded() {
    let config = config();
    let cap = config.max_headers_length + 100;
    let mut s = Scenario::new(config);
    s.recv(GET);
    let m = &s.machine;
    assert!(m.wants_read(&s.limits, cap - 1, 0, 100, || s.full));
    assert!(!m.wants_read(&s.limits, cap, 0, 100, || s.full));
}

#[test]
fn keep_alive_max_requests_closes_after_the_last_one() {
    let mut config = config();
    config.keep_alive_max_requests = 2;
    let mut s = Scenario::new(config);
    s.recv(GET).answer(200, "1").flush();
    s.recv(GET).answer(200, "2").flush();
    assert_eq!(s.wire(), ok("1") + &ok_close("2"));
    assert_eq!(
        s.seen().last(),
        Some(&Seen::Finished(Finished::CloseNotify))
    );
}

#[test]
fn an_answer_asking_for_close_closes_and_connection_close_from_the_client_too() {
    let mut s = Scenario::new(config());
    s.recv(GET);
    s.respond_with(200, b"x", true);
    s.flush();
    assert_eq!(
        s.seen().last(),
        Some(&Seen::Finished(Finished::CloseNotify))
    );

    let mut s = Scenario::new(config());
    s.recv(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        .answer(200, "x")
        .flush();
    assert_eq!(s.wire(), ok_close("x"));
}

#[test]
fn http_1_0_keeps_alive_only_when_asked_and_says_so() {
    let mut s = Scenario::new(config());
    s.recv(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .answer(204, "")
        .flush();
    assert_eq!(
        s.wire(),
        "HTTP/1.1 204 No Content\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\
         Connection: keep-alive\r\n\r\n"
    );
    assert_eq!(s.seen().last(), Some(&Seen::Finished(Finished::Idle)));

    let mut s = Scenario::new(config());
    s.recv(b"GET / HTTP/1.0\r\n\r\n").answer(200, "x").flush();
    assert_eq!(s.wire(), ok_close("x"));
}

#[test]
fn a_head_request_gets_no_body() {
    let mut s = Scenario::new(config());
    s.recv(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n")
        .answer(200, "hello")
        .flush();
    let wire = s.wire();
    assert!(wire.ends_with("Content-Length: 5\r\n\r\n"), "{wire}");
}

#[test]
fn stopping_closes_an_idle_connection_and_ends_keep_alive_after_the_current_one() {
    let mut s = Scenario::new(config());
    s.recv(GET).answer(200, "1").flush();
    assert!(s.machine.stop());
    assert_eq!(s.machine.closed(), Some(CloseReason::Done));

    let mut s = Scenario::new(config());
    s.recv(GET).answer(200, "1");
    assert!(!s.machine.stop());
    s.flush();
    assert_eq!(
        s.seen().last(),
        Some(&Seen::Finished(Finished::CloseNotify))
    );

    // Stopped while the request is with the application.
    let mut s = Scenario::new(config());
    s.recv(GET);
    assert!(!s.machine.stop());
    s.answer(200, "1").flush();
    assert_eq!(s.wire(), ok_close("1"));
}

// ---- 100-continue ----

#[test]
fn expect_continue_is_answered_before_the_body_is_read() {
    let mut s = Scenario::new(config());
    s.recv(b"PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    assert_eq!(
        s.seen(),
        [
            Seen::Began,
            Seen::Request(
                "/u".into(),
                BodyStart::Buffer {
                    capacity: 3,
                    send_continue: true
                }
            )
        ]
    );
    s.flush();
    assert_eq!(s.wire(), "HTTP/1.1 100 Continue\r\n\r\n");
    s.recv(b"abc");
    assert_eq!(
        s.seen(),
        [
            Seen::Data(b"abc".to_vec()),
            Seen::Complete { announced: false }
        ]
    );
    s.answer(201, "").flush();
    assert_eq!(s.seen(), [Seen::Finished(Finished::Idle)]);
}

#[test]
fn event_mode_sends_continue_only_when_the_body_is_accepted() {
    let mut s = Scenario::new(event_mode());
    s.recv(b"PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    assert_eq!(
        s.seen(),
        [Seen::Began, Seen::Request("/u".into(), BodyStart::Announce)]
    );
    assert_eq!(s.deadline(), None, "the application takes its time");
    assert!(s.machine.awaits_answer());
    s.at(secs(5));
    assert_eq!(s.machine.accept_body(&s.limits, s.now), Some(true));
    assert_eq!(s.machine.accept_body(&s.limits, s.now), None, "once");
    assert_eq!(s.deadline(), Some((secs(15), Timer::Body)));
    s.recv(b"abc");
    assert_eq!(
        s.seen(),
        [
            Seen::Data(b"abc".to_vec()),
            Seen::Complete { announced: true }
        ]
    );
}

/// The interim response the driver queues for
/// `Request::send_informational`.
fn interim(s: &mut Scenario, status: u16, headers: &[u8]) -> bool {
    s.machine.interim(&mut s.out, status, headers)
}

#[test]
fn interim_responses_go_out_before_continue_and_the_final_answer() {
    let mut s = Scenario::new(event_mode());
    s.recv(b"POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    s.seen();
    assert!(interim(&mut s, 104, b"Location: /u/1\r\n"));
    assert_eq!(s.machine.accept_body(&s.limits, s.now), Some(true));
    s.out.extend_from_slice(CONTINUE);
    s.flush();
    assert_eq!(
        s.wire(),
        "HTTP/1.1 104 Upload Resumption Supported\r\nLocation: /u/1\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
    );
    s.recv(b"a");
    assert!(interim(&mut s, 104, b""), "while the body is read");
    s.recv(b"bc");
    assert!(
        interim(&mut s, 103, b"Link: </a.css>\r\n"),
        "while dispatched"
    );
    s.answer(201, "").flush();
    let wire = s.wire();
    assert!(
        wire.starts_with(concat!(
            "HTTP/1.1 104 Upload Resumption Supported\r\n\r\n",
            "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n",
            "HTTP/1.1 201 Created\r\n"
        )),
        "{wire}"
    );
    assert!(!interim(&mut s, 104, b""), "after the final answer");
    assert!(s.out.is_empty());
}

#[test]
fn no_interim_response_to_http10_nor_out_of_range_nor_between_requests() {
    let mut s = Scenario::new(event_mode());
    assert!(!interim(&mut s, 104, b""), "no request yet");
    s.recv(b"POST /u HTTP/1.0\r\nContent-Length: 3\r\n\r\n");
    s.seen();
    assert!(!interim(&mut s, 104, b""), "HTTP/1.0");
    let mut s = Scenario::new(event_mode());
    s.recv(b"POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n");
    for status in [99, 100, 101, 200, 404] {
        assert!(!interim(&mut s, status, b""), "{status}");
    }
    assert!(s.out.is_empty());
}

#[test]
fn answered_without_reading_the_body_closes_after_draining_it() {
    let mut s = Scenario::new(event_mode());
    s.recv(b"PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    s.seen();
    s.answer(403, "no").flush();
    let wire = s.wire();
    assert!(!wire.contains("100 Continue"), "{wire}");
    assert!(wire.contains("Connection: close\r\n"), "{wire}");
    assert_eq!(s.seen(), [Seen::Finished(Finished::Linger)]);
}

#[test]
fn a_body_over_the_limit_is_refused_with_413_before_continue() {
    let mut config = config();
    config.max_content_length = 10;
    let mut s = Scenario::new(config);
    s.recv(b"PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n")
        .flush();
    assert_eq!(
        s.seen(),
        [
            Seen::Began,
            Seen::Request("/u".into(), BodyStart::TooLarge),
            Seen::Refused(413),
            Seen::Finished(Finished::Linger)
        ]
    );
    assert_eq!(s.wire(), refusal(413));
}

#[test]
fn a_chunked_body_growing_over_the_limit_is_refused_with_413() {
    let mut config = config();
    config.max_content_length = 4;
    let mut s = Scenario::new(config);
    s.recv(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
    s.recv(b"2\r\nde\r\n0\r\n\r\n").flush();
    let seen = s.seen();
    assert!(seen.contains(&Seen::Refused(413)), "{seen:?}");
    assert!(!seen.contains(&Seen::Data(b"de".to_vec())), "{seen:?}");
    assert_eq!(s.wire(), refusal(413));
}

#[test]
fn a_head_request_refused_after_its_head_gets_no_body() {
    let mut config = config();
    config.max_content_length = 4;
    let head_of = |status: u16| {
        let wire = refusal(status);
        let end = wire.find("\r\n\r\n").unwrap() + 4;
        wire[..end].to_owned()
    };
    // Over the limit by its Content-Length, and by a growing chunked body.
    let mut s = Scenario::new(config.clone());
    s.recv(b"HEAD / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n")
        .flush();
    assert_eq!(s.wire(), head_of(413));
    let mut s = Scenario::new(config.clone());
    s.recv(b"HEAD / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n")
        .flush();
    assert_eq!(s.wire(), head_of(413));
    // A broken chunk.
    let mut s = Scenario::new(config.clone());
    s.recv(b"HEAD / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        .flush();
    assert_eq!(s.wire(), head_of(400));
    // A malformed request after a HEAD is not a HEAD: its 400 has a body.
    let mut s = Scenario::new(config);
    s.recv(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nBad\r\n\r\n")
        .answer(200, "hello")
        .flush()
        .flush();
    let wire = s.wire();
    assert!(wire.ends_with(&refusal(400)), "{wire}");
}

#[test]
fn event_mode_takes_a_body_that_came_with_its_head_in_one_event() {
    let mut s = Scenario::new(event_mode());
    s.recv(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi");
    assert_eq!(
        s.seen(),
        [
            Seen::Began,
            Seen::Request(
                "/".into(),
                BodyStart::Buffer {
                    capacity: 2,
                    send_continue: false
                }
            ),
            Seen::Data(b"hi".to_vec()),
            Seen::Complete { announced: false }
        ]
    );
}

#[test]
fn a_paused_sink_stops_reading_and_the_clock_until_resumed() {
    let mut s = Scenario::new(config());
    s.recv(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab");
    s.full = true;
    s.machine.pause();
    assert_eq!(s.deadline(), None);
    assert!(!s.machine.wants_read(&s.limits, 0, 0, 100, || s.full));
    // Bytes already here wait too.
    s.recv(b"c");
    assert_eq!(s.rx, b"c");
    s.at(secs(3));
    s.full = false;
    s.machine.resume(&s.limits, s.now);
    assert_eq!(s.deadline(), Some((secs(13), Timer::Body)));
    s.recv(b"d");
    assert_eq!(s.seen().last(), Some(&Seen::Complete { announced: false }));
}

#[test]
fn a_failed_sink_ends_keep_alive() {
    let mut s = Scenario::new(event_mode());
    s.recv(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab");
    s.machine.accept_body(&s.limits, s.now);
    s.run();
    s.machine.sink_failed();
    assert_eq!(s.deadline(), None);
    s.answer(500, "x").flush();
    assert!(s.wire().contains("Connection: close\r\n"));
}

// ---- half-close ----

#[test]
fn a_half_closed_client_gets_its_answer_with_connection_close() {
    let mut s = Scenario::new(config());
    s.recv(GET).eof();
    assert_eq!(s.seen(), [Seen::Began, get("/a")]);
    s.answer(200, "a").flush();
    assert_eq!(s.wire(), ok_close("a"));
    assert_eq!(s.seen(), [Seen::Finished(Finished::Close)]);
}

#[test]
fn a_half_closed_client_gets_every_pipelined_answer() {
    let mut s = Scenario::new(config());
    s.recv(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
        .eof();
    assert!(!s.machine.wants_read(&s.limits, 0, 0, 100, || s.full));
    s.answer(200, "1").flush().answer(200, "2").flush();
    assert_eq!(s.wire(), ok("1") + &ok_close("2"));
    assert_eq!(
        s.seen(),
        [
            Seen::Began,
            get("/1"),
            Seen::Finished(Finished::Pipelined),
            get("/2"),
            Seen::Finished(Finished::Close)
        ]
    );
}

#[test]
fn eof_mid_head_or_mid_body_closes_without_an_answer() {
    for input in [
        &b"GET / HTTP/1.1\r\nHo"[..],
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    ] {
        let mut s = Scenario::new(config());
        s.recv(input).eof();
        assert_eq!(
            s.seen().last(),
            Some(&Seen::Closed(CloseReason::PeerClosed)),
            "{input:?}"
        );
        assert!(s.wire().is_empty());
    }
    let mut s = Scenario::new(config());
    s.eof();
    assert_eq!(s.seen(), [Seen::Closed(CloseReason::PeerClosed)]);
}

#[test]
fn eof_while_streaming_closes() {
    let mut s = Scenario::new(config());
    s.recv(GET);
    let head = ResponseHead {
        status: 200,
        headers: b"",
        has_content_type: true,
        wants_close: false,
        default_type: None,
        framing: Framing::Chunked,
        date: DATE,
    };
    let out = &mut s.out;
    assert_eq!(
        s.machine.stream(&s.limits, out, &head, true, s.now),
        Some(true)
    );
    assert_eq!(s.machine.peer_closed(true), Some(CloseReason::PeerClosed));
}

// ---- refusals: status, Connection: close, then close ----

#[test]
fn every_refusal_has_its_status_and_closes() {
    let big = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nX: {}\r\n\r\n",
        "a".repeat(9000)
    );
    let cases: [(&[u8], u16); 8] = [
        (b"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"\xff\xc3 / HTTP/1.1\r\n\r\n", 400),
        (big.as_bytes(), 431),
        (b"BREW / HTTP/1.1\r\nHost: h\r\n\r\n", 501),
        (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            501,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            400,
        ),
    ];
    for (input, status) in cases {
        let mut s = Scenario::new(config());
        s.recv(input).flush();
        let seen = s.seen();
        assert!(seen.contains(&Seen::Refused(status)), "{seen:?}");
        assert_eq!(s.wire(), refusal(status));
        assert_eq!(
            seen.last(),
            Some(&Seen::Finished(Finished::Linger)),
            "{seen:?}"
        );
    }
}

#[test]
fn a_framing_error_in_a_chunked_body_refuses_and_closes() {
    let mut s = Scenario::new(config());
    s.recv(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        .flush();
    let seen = s.seen();
    assert!(seen.contains(&Seen::Refused(400)), "{seen:?}");
    assert_eq!(seen.last(), Some(&Seen::Finished(Finished::Linger)));
    // Nothing after a refusal is parsed as a request.
    s.recv(GET);
    assert!(s.seen().is_empty());
}

#[test]
fn a_refusal_is_the_same_however_the_bytes_arrive() {
    let input = b"GET / HTTP/2.0\r\nHost: h\r\n\r\n";
    for split in 1..input.len() {
        let mut s = Scenario::new(config());
        s.recv(&input[..split]).recv(&input[split..]).flush();
        assert_eq!(s.wire(), refusal(505), "split at {split}");
    }
}

// ---- streams and WebSocket ----

#[test]
fn a_stream_has_no_send_deadline_while_it_has_nothing_to_send() {
    let mut s = Scenario::new(config());
    s.recv(GET);
    let head = ResponseHead {
        status: 200,
        headers: b"",
        has_content_type: true,
        wants_close: false,
        default_type: None,
        framing: Framing::Chunked,
        date: DATE,
    };
    let out = &mut s.out;
    s.machine.stream(&s.limits, out, &head, true, s.now);
    s.flush();
    s.at(secs(5));
    s.machine.pulled(&s.limits, s.now, false, false);
    assert_eq!(s.deadline(), None);
    s.at(secs(6));
    s.machine.pulled(&s.limits, s.now, true, false);
    assert_eq!(s.deadline(), Some((secs(66), Timer::Send)));
    s.at(secs(7));
    s.machine.pulled(&s.limits, s.now, true, true);
    assert_eq!(s.deadline(), Some((secs(67), Timer::Send)));
    s.flush();
    assert_eq!(s.seen().last(), Some(&Seen::Finished(Finished::Idle)));
}

#[test]
fn a_close_delimited_stream_closes_the_connection() {
    let mut s = Scenario::new(config());
    s.recv(GET);
    let head = ResponseHead {
        status: 200,
        headers: b"",
        has_content_type: true,
        wants_close: false,
        default_type: None,
        framing: Framing::Close,
        date: DATE,
    };
    let out = &mut s.out;
    s.machine.stream(&s.limits, out, &head, true, s.now);
    assert!(s.out.ends_with(b"Connection: close\r\n\r\n"));
}

#[test]
fn a_websocket_close_waits_linger_for_the_client_and_writes_do_not_extend_it() {
    let mut s = Scenario::new(config());
    s.recv(b"GET /ws HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(s.machine.upgrade(&s.limits, s.now));
    assert!(!s.machine.upgrade(&s.limits, s.now), "once");
    assert_eq!(s.deadline(), Some((secs(60), Timer::Send)));
    s.recv(b"\x81\x80....");
    assert_eq!(s.seen().last(), Some(&Seen::Frames));
    s.at(secs(1));
    s.machine.pulled(&s.limits, s.now, true, true);
    assert_eq!(s.deadline(), Some((secs(1) + LINGER, Timer::Linger)));
    s.at(secs(2));
    s.machine.written(&s.limits, s.now);
    assert_eq!(s.deadline(), Some((secs(1) + LINGER, Timer::Linger)));
    s.at(secs(1) + LINGER);
    assert_eq!(s.machine.closed(), Some(CloseReason::Timeout));
}

#[test]
fn a_websocket_session_ended_by_the_client_waits_for_the_answers_then_closes() {
    let mut s = Scenario::new(config());
    s.recv(b"GET /ws HTTP/1.1\r\nHost: h\r\n\r\n").seen();
    s.machine.upgrade(&s.limits, s.now);
    s.at(secs(3));
    // A quiet session: nothing to send, no deadline.
    s.machine.pulled(&s.limits, s.now, false, false);
    assert_eq!(s.deadline(), None);
    // The client's Close is read: nothing more is read, nor looked at,
    // and its EOF does not cut the answers short.
    s.machine.session_ending();
    assert!(!s.machine.wants_read(&s.limits, 0, 0, 1024, || false));
    s.recv(b"\x89\x80....").eof();
    assert_eq!(s.seen(), []);
    assert_eq!(s.machine.closed(), None);
    assert_eq!(s.deadline(), None);
    // The application answers: the send timeout guards it, and sending it
    // all does not end the session.
    s.at(secs(4));
    s.machine.pulled(&s.limits, s.now, true, false);
    assert_eq!(s.deadline(), Some((secs(64), Timer::Send)));
    s.out.extend_from_slice(b"\x81\x02hi");
    s.flush();
    assert_eq!(s.seen(), []);
    assert_eq!(s.machine.closed(), None);
    // Our Close, behind the answers, is taken: it is sent as any response,
    // then the connection closes.
    s.at(secs(5));
    s.machine.pulled(&s.limits, s.now, true, true);
    assert_eq!(s.deadline(), Some((secs(65), Timer::Send)));
    s.out.extend_from_slice(b"\x88\x02\x03\xe8");
    s.flush();
    assert_eq!(s.seen(), [Seen::Finished(Finished::Close)]);
}

#[test]
fn a_websocket_close_answered_by_the_client_closes_once_nothing_is_left() {
    let mut s = Scenario::new(config());
    s.recv(b"GET /ws HTTP/1.1\r\nHost: h\r\n\r\n").seen();
    s.machine.upgrade(&s.limits, s.now);
    // Our Close went out first; the client answers within the short wait.
    s.at(secs(1));
    s.machine.pulled(&s.limits, s.now, true, true);
    s.out.extend_from_slice(b"\x88\x00");
    s.flush();
    s.at(secs(2));
    s.machine.session_ending();
    assert_eq!(s.deadline(), Some((secs(1) + LINGER, Timer::Linger)));
    s.machine.pulled(&s.limits, s.now, false, true);
    s.flush();
    assert_eq!(s.seen(), [Seen::Finished(Finished::CloseNotify)]);
}

#[test]
fn an_answer_with_no_request_waiting_is_dropped() {
    let mut s = Scenario::new(config());
    assert!(s.respond_with(200, b"x", false).is_none());
    s.recv(GET).answer(200, "x");
    assert!(s.respond_with(200, b"y", false).is_none());
    assert!(!s.machine.upgrade(&s.limits, s.now));
}

#[test]
fn a_connection_refused_before_its_request_answers_429_and_drains_what_follows() {
    let mut s = Scenario::new(config());
    assert!(s.machine.refuse_connection());
    assert!(s.machine.deadline().is_none(), "the answer is due now");
    s.refuse(RequestError::TooManyConnections);
    s.flush();
    assert_eq!(s.wire(), refusal(429));
    assert_eq!(
        s.seen(),
        [Seen::Refused(429), Seen::Finished(Finished::Linger)]
    );
    // The request the client sent meanwhile is drained, not parsed.
    s.recv(GET);
    assert!(s.seen().is_empty());
    assert!(s.rx.is_empty());
    s.at(LINGER);
    assert_eq!(s.seen(), [Seen::Closed(CloseReason::Timeout)]);
}

#[test]
fn a_connection_is_refused_only_before_its_first_request() {
    let mut s = Scenario::new(config());
    s.recv(GET);
    assert!(!s.machine.refuse_connection(), "a request under way");
    s.answer(200, "a").flush();
    assert!(!s.machine.refuse_connection(), "served once already");
}

#[test]
fn an_answer_on_the_head_keeps_alive_without_a_body_and_closes_with_one() {
    // How a rate-limited request is answered: on its head alone.
    let mut s = Scenario::new(config());
    s.recv(GET).answer(429, "slow down").flush();
    assert_eq!(s.seen()[..2], [Seen::Began, get("/a")]);
    s.recv(b"POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n12");
    let answered = s.respond_with(429, b"slow down", false).unwrap();
    assert_eq!(answered.after, After::Close, "the body is never read");
}
