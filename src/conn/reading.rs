//! The request side of a connection: the head parsed, the request
//! dispatched, its body fed to the sink the application chose.

use super::*;

impl Connection {
    pub(super) fn parse_head(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let (head, len) = match parse_head(self.rx.bytes(), ctx.config.max_headers_length) {
            Ok(Parsed::Partial) => {
                if self.peer_eof {
                    self.close(ctx, CloseReason::PeerClosed, "client disconnected");
                    return true;
                }
                return false;
            }
            Ok(Parsed::Complete(head, len)) => (head, len),
            Err(e) => {
                self.refuse(ctx, e);
                return true;
            }
        };
        self.rx.consume(len);
        self.line = Some(RequestLine::of(&head));
        self.requests += 1;
        let config = ctx.config;
        self.keep_alive =
            head.keep_alive && !ctx.stopping && self.requests < config.keep_alive_max_requests;
        let body = head.body;
        let expect_continue = head.expect_continue;
        let origin = Origin {
            conn: self.conn,
            shared: Arc::clone(ctx.shared),
            server: ctx.server,
            local_addr: self.local,
            peer_addr: self.peer,
            is_secure: self.transport.is_tls(),
            max_send_buffer: config.max_send_buffer,
            max_message_size: usize::try_from(config.max_content_length).unwrap_or(usize::MAX),
            id: self.conn.serial << 32 | self.requests as u64,
        };
        let req = Request::new(head, origin, &config.trusted_proxies);

        let (decoder, len_hint) = match body {
            BodyKind::None => {
                // Nothing to wait for: the (empty) body is loaded.
                req.set_body(Vec::new());
                self.dispatch(ctx, Event::Request(req));
                return true;
            }
            BodyKind::Length(n) if n > config.max_content_length => {
                self.refuse_request(ctx, RequestError::PayloadTooLarge, Some(req));
                return true;
            }
            BodyKind::Length(n) => (BodyDecoder::length(n), n),
            BodyKind::Chunked => (BodyDecoder::chunked(), 0),
        };
        let whole_body_here = matches!(body, BodyKind::Length(n) if n <= self.rx.len() as u64);
        let sink = if !config.event_mode {
            if expect_continue {
                self.send_continue();
            }
            Sink::Buffer(Vec::with_capacity(len_hint.min(IO_CHUNK as u64) as usize))
        } else if whole_body_here {
            // Head and body arrived together: one `Request` event.
            Sink::Buffer(Vec::with_capacity(len_hint as usize))
        } else {
            ctx.events.push_back(Event::Headers(req.clone()));
            self.deadline = None;
            Sink::Pending
        };
        if !matches!(sink, Sink::Pending) {
            self.deadline = ctx.now.checked_add(config.request_timeout);
        }
        let announced = matches!(sink, Sink::Pending);
        self.phase = Phase::Body {
            req,
            decoder,
            sink,
            received: 0,
            announced,
        };
        true
    }

    pub(super) fn send_continue(&mut self) {
        self.out
            .buf
            .extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
    }

    /// Hands a request to the application; the connection waits for the
    /// answer.
    pub(super) fn dispatch(&mut self, ctx: &mut Ctx<'_>, event: Event) {
        let req = event.request().clone();
        ctx.events.push_back(event);
        self.deadline = None;
        self.phase = Phase::Dispatched { req };
        // The application may take its time: hold no buffer meanwhile
        // (a thousand requests dispatched in one poll must not hold a
        // thousand buffers).
        self.rx.release(ctx.pool);
    }

    /// Feeds `rx` to the body decoder and the sink.
    pub(super) fn read_body(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let Phase::Body {
            req,
            decoder,
            sink,
            received,
            ..
        } = &mut self.phase
        else {
            return false;
        };
        let waiting = match sink {
            Sink::Pending => true,
            Sink::Stream => req.is_paused(),
            _ => false,
        };
        if waiting || self.rx.is_empty() {
            return false;
        }
        let mut paused = false;
        let max = ctx.config.max_content_length;
        let mut pos = 0;
        let mut failure: Option<Failure> = None;
        let mut done = false;
        while pos < self.rx.len() {
            let step = match decoder.decode(&self.rx.bytes()[pos..]) {
                Ok(step) => step,
                Err(e) => {
                    failure = Some(Failure::Refuse(e));
                    break;
                }
            };
            pos += step.consumed;
            if !step.data.is_empty() {
                *received += step.data.len() as u64;
                if *received > max {
                    failure = Some(Failure::Refuse(RequestError::PayloadTooLarge));
                    break;
                }
                match sink {
                    Sink::Buffer(buf) => buf.extend_from_slice(step.data),
                    Sink::Stream => {
                        let (emit, pending) = req.push_data(step.data);
                        if emit {
                            ctx.events.push_back(Event::Data(req.clone()));
                        }
                        paused = pending >= STREAM_PENDING_CAP && req.pause(STREAM_PENDING_CAP);
                    }
                    Sink::File { file, .. } => {
                        req.add_received(step.data.len() as u64);
                        if let Err(e) = file.write_all(step.data) {
                            failure = Some(Failure::Sink(e));
                            break;
                        }
                    }
                    Sink::Pending => unreachable!("checked above"),
                }
            }
            if step.done {
                done = true;
                break;
            }
            if step.consumed == 0 || paused {
                break;
            }
        }
        self.rx.consume(pos);
        if paused {
            // Waiting on the application, not the client: no deadline
            // until `read_buffer()` makes room again.
            self.deadline = None;
        }
        if let Some(failure) = failure {
            match failure {
                Failure::Refuse(e) => self.refuse(ctx, e),
                Failure::Sink(e) => self.sink_failed(ctx, e),
            }
            return true;
        }
        if done {
            self.complete_body(ctx);
        } else if self.peer_eof && self.rx.is_empty() {
            // Every byte the client will ever send is in, and the body is
            // not complete.
            self.close(ctx, CloseReason::PeerClosed, "client disconnected mid-body");
            return true;
        }
        pos > 0
    }

    pub(super) fn complete_body(&mut self, ctx: &mut Ctx<'_>) {
        let Phase::Body {
            req,
            sink,
            announced,
            ..
        } = std::mem::replace(&mut self.phase, Phase::Idle)
        else {
            unreachable!("only called in Body");
        };
        let event = match sink {
            Sink::Buffer(buf) => {
                req.set_body(buf);
                if announced {
                    Event::Complete(req)
                } else {
                    Event::Request(req)
                }
            }
            Sink::Stream => Event::Complete(req),
            // Written, not synced: an fsync would stall the loop for
            // milliseconds (see `Request::accept_body_to_file`).
            Sink::File { .. } => Event::Complete(req),
            Sink::Pending => unreachable!("a pending body is never complete"),
        };
        self.dispatch(ctx, event);
    }

    /// Writing the body into its file failed (e.g. the disk is full): the
    /// application hears of it and answers; the rest of the body is never
    /// read, so the connection closes after the answer.
    pub(super) fn sink_failed(&mut self, ctx: &mut Ctx<'_>, e: io::Error) {
        let Phase::Body { req, sink, .. } = std::mem::replace(&mut self.phase, Phase::Idle) else {
            unreachable!("only called in Body");
        };
        if let Sink::File { file, path } = sink {
            drop(file);
            let _ = std::fs::remove_file(&path);
            req.set_error(format!("cannot write {}: {e}", path.display()));
        }
        self.keep_alive = false;
        self.dispatch(ctx, Event::Error(req));
    }

    /// The application chose how to receive the body (event mode).
    pub fn accept_body(&mut self, ctx: &mut Ctx<'_>, choice: SinkChoice) {
        let Phase::Body { req, sink, .. } = &mut self.phase else {
            return;
        };
        if !matches!(sink, Sink::Pending) {
            return;
        }
        let expect_continue = req.head().expect_continue;
        *sink = match choice {
            SinkChoice::Buffer => Sink::Buffer(Vec::new()),
            SinkChoice::Stream => Sink::Stream,
            SinkChoice::File(path) => match File::create(&path) {
                Ok(file) => Sink::File { file, path },
                Err(e) => {
                    req.set_error(format!("cannot create {}: {e}", path.display()));
                    let req = req.clone();
                    self.keep_alive = false;
                    self.dispatch(ctx, Event::Error(req));
                    return;
                }
            },
        };
        if expect_continue {
            self.send_continue();
        }
        self.deadline = ctx.now.checked_add(ctx.config.request_timeout);
    }

    /// The application drained a full stream buffer: the client's time
    /// runs again (unless reading has paused again since).
    pub fn resume(&mut self, ctx: &mut Ctx<'_>) {
        if let Phase::Body {
            req,
            sink: Sink::Stream,
            ..
        } = &self.phase
        {
            if !req.is_paused() {
                self.deadline = ctx.now.checked_add(ctx.config.request_timeout);
            }
        }
    }
}

/// How reading a body failed.
enum Failure {
    /// The request is refused with a status.
    Refuse(RequestError),
    /// The sink (file) failed.
    Sink(io::Error),
}
