//! Streaming responses: a response started now and fed over time, from
//! the loop's thread or any other, with backpressure.
//!
//! [`ResponseStream`] sends raw body chunks (`Transfer-Encoding: chunked`
//! for HTTP/1.1 clients; for HTTP/1.0 the body is delimited by closing the
//! connection). [`SseStream`], [`NdjsonStream`] and [`MultipartStream`]
//! frame Server-Sent Events, NDJSON records and `multipart/x-mixed-replace`
//! frames (MJPEG) on top of it.
//!
//! Every send either queues the bytes or fails at once:
//! [`Error::WouldBlock`] when `max_send_buffer` bytes are already waiting
//! (the client is not reading; try again after [`crate::Event::Writable`]),
//! [`Error::Closed`] when the client is gone (the loop also reports
//! [`crate::Event::Closed`]).

use std::sync::Arc;

use crate::error::Error;
use crate::h1::encode::Framing;
use crate::h1::head::Version;
use crate::h1::stream::{
    encode_chunk, encode_comment, encode_event, encode_last_chunk, encode_multipart_end,
    encode_multipart_frame, encode_ndjson,
};
use crate::outbox::Outbox;
use crate::request::Request;
use crate::responder::Command;
use crate::response::{Body, Response};

/// Starting a streamed answer (here, next to the stream types, so that
/// `request` does not depend on the handles built on top of it).
impl Request {
    /// Starts a streamed response with `response`'s status, headers and
    /// cookies (its body is ignored): chunked for HTTP/1.1 clients,
    /// delimited by closing the connection for HTTP/1.0 ones.
    /// A `HEAD` request gets the head alone; sends then fail with
    /// [`Error::Closed`].
    pub fn response_stream(&self, mut response: Response) -> Result<ResponseStream, Error> {
        response.body = Body::Empty;
        response.validate()?;
        self.claim()?;
        let chunked = self.version() == Version::Http11;
        let outbox = Outbox::new(self.max_send_buffer());
        let framing = if chunked {
            Framing::Chunked
        } else {
            Framing::Close
        };
        self.start_stream(response, outbox, framing)
    }

    /// Starts a streamed response whose body is exactly `len` bytes, sent
    /// with `Content-Length: len` (so a client can show progress, and a
    /// `206` can be streamed too). Sends past `len` bytes fail with
    /// [`Error::InvalidState`]; ending the stream before `len` bytes, or
    /// [`ResponseStream::abort`], sends what is queued and closes the
    /// connection, so the client sees the body cut short. A `HEAD`
    /// request gets the head alone, `Content-Length` included.
    pub fn response_stream_sized(
        &self,
        mut response: Response,
        len: u64,
    ) -> Result<ResponseStream, Error> {
        response.body = Body::Empty;
        response.validate()?;
        self.claim()?;
        let outbox = Outbox::sized(self.max_send_buffer(), len);
        self.start_stream(response, outbox, Framing::Length(len))
    }

    /// Hands `response` (validated, the request claimed) to the loop with
    /// `outbox` for its body.
    fn start_stream(
        &self,
        response: Response,
        outbox: Outbox,
        framing: Framing,
    ) -> Result<ResponseStream, Error> {
        let outbox = Arc::new(outbox);
        let chunked = framing == Framing::Chunked;
        let stream = ResponseStream::new(Arc::clone(&outbox), self.clone(), chunked);
        self.command(|conn| Command::Stream {
            conn,
            response,
            outbox,
            framing,
        });
        Ok(stream)
    }

    /// Starts a Server-Sent Events stream (`text/event-stream`, not cached).
    pub fn response_sse(&self, response: Response) -> Result<SseStream, Error> {
        let response = with_default(response, "Content-Type", "text/event-stream");
        let response = with_default(response, "Cache-Control", "no-cache");
        Ok(SseStream(self.response_stream(response)?))
    }

    /// Starts an NDJSON stream (`application/x-ndjson`).
    pub fn response_ndjson(&self, response: Response) -> Result<NdjsonStream, Error> {
        let response = with_default(response, "Content-Type", "application/x-ndjson");
        Ok(NdjsonStream(self.response_stream(response)?))
    }

    /// Starts a `multipart/x-mixed-replace` stream (MJPEG and the like).
    pub fn response_multipart(&self, response: Response) -> Result<MultipartStream, Error> {
        let boundary = format!("uhttp-frame-{:x}", self.id());
        let response = response
            .header(
                "Content-Type",
                format!("multipart/x-mixed-replace; boundary={boundary}"),
            )
            .header("Cache-Control", "no-cache");
        Ok(MultipartStream {
            stream: self.response_stream(response)?,
            boundary,
        })
    }
}

/// `response` with header `name` set to `value` unless it has one.
fn with_default(response: Response, name: &str, value: &str) -> Response {
    if response.get_header(name).is_some() {
        response
    } else {
        response.header(name, value)
    }
}

/// A streamed response body, sent in pieces as they become available.
///
/// A `Send + Clone` handle: produce from any thread. Sends are bounded by
/// [`Config::max_send_buffer`](crate::Config::max_send_buffer): past it a
/// send fails with [`Error::WouldBlock`] and queues nothing, and
/// [`Event::Writable`](crate::Event::Writable) for the request says when
/// to send again.
///
/// ```
/// use uhttp::{Error, Request, Response};
///
/// fn count_to_ten(req: &Request) -> Result<(), Error> {
///     let stream = req.response_stream(Response::new(200).header("Content-Type", "text/plain"))?;
///     for i in 1..=10 {
///         // Ten short lines fit the buffer; a long producer waits for
///         // `Event::Writable` when it sees `WouldBlock`.
///         stream.send_chunk(format!("{i}\n").as_bytes())?;
///     }
///     stream.end()
/// }
/// ```
#[derive(Clone)]
pub struct ResponseStream {
    outbox: Arc<Outbox>,
    request: Request,
    chunked: bool,
}

impl ResponseStream {
    pub(crate) fn new(outbox: Arc<Outbox>, request: Request, chunked: bool) -> Self {
        ResponseStream {
            outbox,
            request,
            chunked,
        }
    }

    /// Sends `data` as one chunk. An empty `data` sends nothing.
    pub fn send_chunk(&self, data: &[u8]) -> Result<(), Error> {
        if data.is_empty() {
            return Ok(());
        }
        self.send_with(|out| {
            out.extend_from_slice(data);
            Ok(())
        })
    }

    /// Sends whatever `encode` appends as one chunk (nothing if it appends
    /// nothing). The framing helpers of the other stream types use this.
    pub(crate) fn send_with(
        &self,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let chunked = self.chunked;
        self.push(false, |buf| {
            if !chunked {
                return encode(buf);
            }
            let mut piece = Vec::new();
            encode(&mut piece)?;
            encode_chunk(buf, &piece);
            Ok(())
        })
    }

    /// Ends the body (the last chunk); the connection then serves the next
    /// request, or closes for HTTP/1.0 clients.
    pub fn end(&self) -> Result<(), Error> {
        let chunked = self.chunked;
        self.push(true, |buf| {
            if chunked {
                encode_last_chunk(buf);
            }
            Ok(())
        })
    }

    /// Ends the response as cut short: what is queued is sent, then the
    /// connection closes (no last chunk, or fewer bytes than the
    /// `Content-Length`), so the client knows the body is incomplete.
    /// For when the rest cannot be produced (a file being served
    /// changed, say). Later sends fail.
    pub fn abort(&self) {
        if self.outbox.abort() {
            self.request.command(|conn| Command::Kick { conn });
        }
    }

    fn push(
        &self,
        end: bool,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if self.request.is_closed() {
            return Err(Error::Closed);
        }
        if self.outbox.push(end, encode)? {
            self.request.command(|conn| Command::Kick { conn });
        }
        Ok(())
    }

    /// Bytes queued and not yet taken by the loop.
    pub fn buffered(&self) -> usize {
        self.outbox.buffered()
    }

    /// Whether the client is gone (or the response has no body: sends
    /// fail with [`Error::Closed`]).
    pub fn is_closed(&self) -> bool {
        self.request.is_closed() || self.outbox.is_shut()
    }

    /// The request this stream answers.
    pub fn request(&self) -> &Request {
        &self.request
    }
}

impl std::fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseStream")
            .field("request", &self.request)
            .field("chunked", &self.chunked)
            .finish_non_exhaustive()
    }
}

/// A Server-Sent Events stream (`text/event-stream`).
#[derive(Clone, Debug)]
pub struct SseStream(pub(crate) ResponseStream);

impl SseStream {
    /// Sends one event. Multi-line `data` becomes several `data:` lines;
    /// `event` and `id` may not contain CR or LF.
    pub fn send_event(
        &self,
        data: &str,
        event: Option<&str>,
        id: Option<&str>,
        retry: Option<u64>,
    ) -> Result<(), Error> {
        self.0
            .send_with(|out| encode_event(out, data, event, id, retry))
    }

    /// Sends a comment line, which clients ignore: a keep-alive that stops
    /// proxies from timing the stream out.
    pub fn send_comment(&self, text: &str) -> Result<(), Error> {
        self.0.send_with(|out| {
            encode_comment(out, text);
            Ok(())
        })
    }

    /// Ends the stream.
    pub fn end(&self) -> Result<(), Error> {
        self.0.end()
    }

    /// The underlying stream (buffered bytes, closed state, request).
    pub fn stream(&self) -> &ResponseStream {
        &self.0
    }
}

/// A stream of JSON records, one per line (`application/x-ndjson`).
#[derive(Clone, Debug)]
pub struct NdjsonStream(pub(crate) ResponseStream);

impl NdjsonStream {
    /// Sends one record: `value` as compact JSON and a newline.
    pub fn send<T: serde::Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        let value = serde_json::to_value(value)?;
        self.0.send_with(|out| encode_ndjson(out, &value))
    }

    /// Ends the stream.
    pub fn end(&self) -> Result<(), Error> {
        self.0.end()
    }

    /// The underlying stream.
    pub fn stream(&self) -> &ResponseStream {
        &self.0
    }
}

/// A `multipart/x-mixed-replace` stream: each frame replaces the previous
/// one in the browser (an MJPEG camera feed).
#[derive(Clone, Debug)]
pub struct MultipartStream {
    pub(crate) stream: ResponseStream,
    pub(crate) boundary: String,
}

impl MultipartStream {
    /// Sends one frame of `content_type` (e.g. `image/jpeg`).
    pub fn send_frame(&self, content_type: &str, data: &[u8]) -> Result<(), Error> {
        let boundary = &self.boundary;
        self.stream
            .send_with(|out| encode_multipart_frame(out, boundary, content_type, data))
    }

    /// Sends the closing boundary and ends the stream.
    pub fn end(&self) -> Result<(), Error> {
        let boundary = &self.boundary;
        self.stream
            .send_with(|out| encode_multipart_end(out, boundary))?;
        self.stream.end()
    }

    /// The boundary between frames.
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// The underlying stream.
    pub fn stream(&self) -> &ResponseStream {
        &self.stream
    }
}
