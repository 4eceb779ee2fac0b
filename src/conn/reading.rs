//! The request side of the driver: what [`Machine::advance`] finds in the
//! received bytes turned into requests dispatched, bodies fed to the sink
//! the application chose, and refusals.
//!
//! [`Machine::advance`]: crate::h1::conn::Machine::advance

use std::fs::File;
use std::io::{self, Write};
use std::sync::Arc;

use super::{Connection, Ctx, Held, RequestLine, Sink, sink_is_full};
use crate::error::RequestError;
use crate::event::Event;
use crate::h1::conn::{BodyStart, CONTINUE, Step};
use crate::request::{Origin, Request};
use crate::responder::SinkChoice;
use crate::response::Response;

/// Streamed body bytes held for `read_buffer()` before reading pauses.
const STREAM_PENDING_CAP: usize = 256 * 1024;

impl Connection {
    /// Moves the exchange forward on the bytes in `rx`. Returns whether
    /// anything happened.
    pub(super) fn advance(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let mut progress = false;
        loop {
            let held = &self.held;
            let sink_full = || sink_is_full(held);
            match self
                .machine
                .advance(ctx.limits, self.rx.bytes(), ctx.now, sink_full)
            {
                Step::Wait => return progress,
                Step::Began => self
                    .serving(ctx.pool, ctx.now)
                    .exchange
                    .request_began(ctx.now),
                Step::Request {
                    head,
                    consumed,
                    body,
                } => {
                    self.rx.consume(consumed);
                    self.serving(ctx.pool, ctx.now).line = Some(RequestLine::of(&head));
                    let req = self.new_request(ctx, head);
                    if let Some(req) = self.over_rate(ctx, req) {
                        self.start_body(ctx, req, body);
                    }
                }
                Step::Data { data, consumed } => {
                    let fed = match &mut self.held {
                        Held::Request {
                            req,
                            sink: Some(sink),
                        } => feed(ctx, req, sink, data),
                        // The machine reads a body only into a sink.
                        _ => Fed::Taken,
                    };
                    self.rx.consume(consumed);
                    match fed {
                        Fed::Taken => {}
                        Fed::Full => self.machine.pause(),
                        Fed::Failed(e) => self.sink_failed(ctx, e),
                    }
                }
                Step::Complete {
                    consumed,
                    announced,
                } => {
                    self.rx.consume(consumed);
                    self.complete_body(ctx, announced);
                }
                #[cfg(feature = "websocket")]
                Step::Frames => return self.read_frames(ctx) || progress,
                // Frames follow only an upgrade, which needs the feature.
                #[cfg(not(feature = "websocket"))]
                Step::Frames => return progress,
                Step::Discard => {
                    self.rx.clear();
                    return progress;
                }
                Step::Refuse(e) => self.refuse(ctx, e, None),
                Step::Close(reason) => {
                    let why = match self.held {
                        Held::Request { sink: Some(_), .. } => "client disconnected mid-body",
                        _ => "client disconnected",
                    };
                    self.close(ctx, reason, why);
                    return true;
                }
            }
            progress = true;
        }
    }

    fn new_request(&self, ctx: &Ctx<'_>, head: crate::h1::head::Head) -> Request {
        let config = ctx.config;
        let origin = Origin {
            conn: self.conn,
            shared: Arc::clone(ctx.shared),
            server: ctx.server,
            local_addr: self.local,
            peer_addr: self.peer,
            is_secure: self.transport.is_tls(),
            #[cfg(feature = "websocket")]
            websocket_deflate: config.websocket_deflate,
            max_send_buffer: config.max_send_buffer,
            id: self.conn.serial << 32 | self.machine.requests() as u64,
        };
        Request::new(head, origin, &config.trusted_proxies)
    }

    /// A head was parsed: its request dispatched, refused, or its body
    /// read as the machine says.
    fn start_body(&mut self, ctx: &mut Ctx<'_>, req: Request, body: BodyStart) {
        match body {
            BodyStart::None => {
                // Nothing to wait for: the (empty) body is loaded.
                req.set_body(Vec::new());
                self.dispatch(ctx, Event::Request(req));
            }
            BodyStart::TooLarge => self.refuse(ctx, RequestError::PayloadTooLarge, Some(req)),
            BodyStart::Buffer {
                capacity,
                send_continue,
            } => {
                if send_continue {
                    self.out.buf.extend_from_slice(CONTINUE);
                }
                let sink = Some(Sink::Buffer(Vec::with_capacity(capacity)));
                self.held = Held::Request { req, sink };
            }
            BodyStart::Announce => {
                ctx.events.push_back(Event::Headers(req.clone()));
                self.held = Held::Request { req, sink: None };
            }
        }
    }

    /// Hands a request to the application; the connection waits for the
    /// answer.
    fn dispatch(&mut self, ctx: &mut Ctx<'_>, event: Event) {
        let req = event.request().clone();
        ctx.events.push_back(event);
        self.held = Held::Request { req, sink: None };
        // The application may take its time: hold no buffer meanwhile
        // (a thousand requests dispatched in one poll must not hold a
        // thousand buffers).
        self.rx.release(ctx.pool);
    }

    fn complete_body(&mut self, ctx: &mut Ctx<'_>, announced: bool) {
        let Held::Request { req, sink } = std::mem::replace(&mut self.held, Held::None) else {
            return;
        };
        let event = match sink {
            Some(Sink::Buffer(buf)) => {
                req.set_body(buf);
                if announced {
                    Event::Complete(req)
                } else {
                    Event::Request(req)
                }
            }
            // Written, not synced: an fsync would stall the loop for
            // milliseconds (see `Request::accept_body_to_file`).
            Some(Sink::Stream | Sink::File { .. }) | None => Event::Complete(req),
        };
        self.dispatch(ctx, event);
    }

    /// Writing the body into its file failed (e.g. the disk is full): the
    /// application hears of it and answers; the rest of the body is never
    /// read, so the connection closes after the answer.
    fn sink_failed(&mut self, ctx: &mut Ctx<'_>, e: io::Error) {
        let Held::Request { req, sink } = std::mem::replace(&mut self.held, Held::None) else {
            return;
        };
        if let Some(Sink::File { file, path }) = sink {
            drop(file);
            let _ = std::fs::remove_file(&path);
            req.set_error(format!("cannot write {}: {e}", path.display()));
        }
        self.machine.sink_failed();
        self.dispatch(ctx, Event::Error(req));
    }

    /// Answers a refused request with its status (the machine then closes
    /// the connection). `request`: a request parsed but not yet held, kept
    /// for the access log.
    pub(super) fn refuse(
        &mut self,
        ctx: &mut Ctx<'_>,
        error: RequestError,
        request: Option<Request>,
    ) {
        log::debug!("{}: refused: {error}", self.peer);
        let mut request = request;
        if let Held::Request { req, sink } = std::mem::replace(&mut self.held, Held::None) {
            if sink.is_some() && ctx.config.event_mode {
                if let Some(Sink::File { file, path }) = sink {
                    drop(file);
                    let _ = std::fs::remove_file(path);
                }
                req.set_error(error.to_string());
                ctx.events.push_back(Event::Error(req.clone()));
            }
            req.mark_closed();
            request = Some(req);
        }
        let status = error.status();
        let text = format!("{status} {}\n", crate::h1::encode::reason(status));
        self.start_response(ctx, Response::new(status).body(text), request, Some(error));
    }

    /// The application chose how to receive the body (event mode).
    pub fn accept_body(&mut self, ctx: &mut Ctx<'_>, choice: SinkChoice) {
        let Held::Request { req, sink: None } = &self.held else {
            return;
        };
        let Some(send_continue) = self.machine.accept_body(ctx.limits, ctx.now) else {
            return;
        };
        let chosen = match choice {
            SinkChoice::Buffer => Sink::Buffer(Vec::new()),
            SinkChoice::Stream => Sink::Stream,
            SinkChoice::File(path) => match File::create(&path) {
                Ok(file) => Sink::File { file, path },
                Err(e) => {
                    let req = req.clone();
                    req.set_error(format!("cannot create {}: {e}", path.display()));
                    self.machine.sink_failed();
                    self.dispatch(ctx, Event::Error(req));
                    return;
                }
            },
        };
        if let Held::Request { sink, .. } = &mut self.held {
            *sink = Some(chosen);
        }
        if send_continue {
            self.out.buf.extend_from_slice(CONTINUE);
        }
    }

    /// The application drained a full stream buffer: the client's time
    /// runs again (unless reading has paused again since).
    pub fn resume(&mut self, ctx: &mut Ctx<'_>) {
        if let Held::Request {
            req,
            sink: Some(Sink::Stream),
        } = &self.held
            && !req.is_paused()
        {
            self.machine.resume(ctx.limits, ctx.now);
        }
    }
}

/// What a sink did with body bytes.
enum Fed {
    Taken,
    /// A stream's buffer is full: reading pauses.
    Full,
    /// The file could not be written.
    Failed(io::Error),
}

fn feed(ctx: &mut Ctx<'_>, req: &Request, sink: &mut Sink, data: &[u8]) -> Fed {
    if data.is_empty() {
        return Fed::Taken;
    }
    match sink {
        Sink::Buffer(buf) => buf.extend_from_slice(data),
        Sink::Stream => {
            let (emit, pending) = req.push_data(data);
            if emit {
                ctx.events.push_back(Event::Data(req.clone()));
            }
            if pending >= STREAM_PENDING_CAP && req.pause(STREAM_PENDING_CAP) {
                return Fed::Full;
            }
        }
        Sink::File { file, .. } => {
            req.add_received(data.len() as u64);
            if let Err(e) = file.write_all(data) {
                return Fed::Failed(e);
            }
        }
    }
    Fed::Taken
}
