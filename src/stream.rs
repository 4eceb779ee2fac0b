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
use crate::h1::stream::{
    encode_chunk, encode_comment, encode_event, encode_last_chunk, encode_multipart_end,
    encode_multipart_frame, encode_ndjson,
};
use crate::outbox::Outbox;
use crate::request::Request;
use crate::responder::Command;

/// A streamed response body, sent in pieces as they become available.
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

    fn push(
        &self,
        end: bool,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if self.outbox.push(end, encode)? {
            self.request.command(|conn| Command::Kick { conn });
        }
        Ok(())
    }

    /// Bytes queued and not yet taken by the loop.
    pub fn buffered(&self) -> usize {
        self.outbox.buffered()
    }

    /// Whether the client is gone.
    pub fn is_closed(&self) -> bool {
        self.outbox.is_closed()
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
