//! The channel from request handles to the poll loop.
//!
//! A [`crate::Request`] may be answered on the loop's thread or any other.
//! Either way the answer becomes a [`Command`] in [`Shared`]'s queue, which
//! the loop drains at the top of every `wait()` and after every poll. The
//! loop's `mio::Waker` is poked only while the loop sleeps in `poll`, so a
//! response given on the loop's own thread costs no system call.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::ids::ConnRef;
use crate::outbox::Outbox;
use crate::response::Response;
use crate::sync::lock;
#[cfg(feature = "websocket")]
use crate::ws::deflate::{Deflater, Params};

/// How an event-mode body is to be received.
#[derive(Debug)]
pub(crate) enum SinkChoice {
    /// Into memory, up to `max_content_length`; `Complete` when whole.
    Buffer,
    /// As `Data` events, read with `read_buffer()`.
    Stream,
    /// Into this file (created or truncated); removed if the body fails.
    File(PathBuf),
}

/// What a handle asks the loop to do.
#[derive(Debug)]
pub(crate) enum Command {
    /// Send this (validated) response to the request on `conn`.
    Respond { conn: ConnRef, response: Response },
    /// Send an interim (1xx) response (validated) ahead of the answer.
    Interim { conn: ConnRef, response: Response },
    /// Start reading the body of the request on `conn` into a sink.
    AcceptBody { conn: ConnRef, sink: SinkChoice },
    /// The application drained a full `read_buffer`: read again.
    Resume { conn: ConnRef },
    /// Start a streamed response; its body comes through `outbox`.
    Stream {
        conn: ConnRef,
        response: Response,
        outbox: Arc<Outbox>,
        /// Chunked, delimited by close, or of a known length.
        framing: crate::h1::encode::Framing,
    },
    /// Switch the connection to WebSocket: send 101 with `accept`; the
    /// frames the application sends come through `outbox`.
    #[cfg(feature = "websocket")]
    Upgrade {
        conn: ConnRef,
        accept: Accepted,
        /// Extra headers and cookies for the 101 (validated).
        response: Response,
        outbox: Arc<Outbox>,
    },
    /// A stream's outbox went from empty to not empty.
    Kick { conn: ConnRef },
    /// The application dropped request `id` without answering it.
    Abandoned { conn: ConnRef, id: u64 },
}

/// What the loop needs to switch a connection to WebSocket.
#[cfg(feature = "websocket")]
#[derive(Debug)]
pub(crate) struct Accepted {
    /// The `Sec-WebSocket-Accept` value.
    pub key: String,
    /// The negotiated permessage-deflate (its response header is already
    /// among the 101's headers) and the compressor the handles share.
    pub deflate: Option<(Params, Arc<Mutex<Deflater>>)>,
}

impl Command {
    /// The connection the command is for.
    pub fn conn(&self) -> ConnRef {
        match self {
            Command::Respond { conn, .. }
            | Command::Interim { conn, .. }
            | Command::AcceptBody { conn, .. }
            | Command::Resume { conn }
            | Command::Stream { conn, .. }
            | Command::Kick { conn }
            | Command::Abandoned { conn, .. } => *conn,
            #[cfg(feature = "websocket")]
            Command::Upgrade { conn, .. } => *conn,
        }
    }
}

/// State shared between the loop and every handle it gave out.
pub(crate) struct Shared {
    queue: Mutex<Vec<Command>>,
    waker: mio::Waker,
    polling: AtomicBool,
    interrupted: AtomicBool,
    /// The loop's open connections, as last counted by the loop.
    connections: AtomicUsize,
    /// Connections accepted since the loop began.
    accepted: AtomicU64,
    /// TLS handshakes completed, and failed, since the loop began.
    tls_handshakes: AtomicU64,
    tls_handshake_failures: AtomicU64,
}

impl Shared {
    pub fn new(waker: mio::Waker) -> Self {
        Shared {
            queue: Mutex::new(Vec::new()),
            waker,
            polling: AtomicBool::new(false),
            interrupted: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            accepted: AtomicU64::new(0),
            tls_handshakes: AtomicU64::new(0),
            tls_handshake_failures: AtomicU64::new(0),
        }
    }

    /// Queues a command and wakes the loop if it is asleep.
    pub fn push(&self, command: Command) {
        lock(&self.queue).push(command);
        if self.polling.load(Ordering::SeqCst)
            && let Err(e) = self.waker.wake()
        {
            log::warn!("cannot wake the poll loop: {e}");
        }
    }

    /// Moves every queued command into `into`.
    pub fn take(&self, into: &mut Vec<Command>) {
        std::mem::swap(&mut *lock(&self.queue), into);
    }

    /// Marks the loop as about to sleep; returns whether commands are
    /// already waiting (then it must not sleep).
    pub fn begin_poll(&self) -> bool {
        self.polling.store(true, Ordering::SeqCst);
        !lock(&self.queue).is_empty()
    }

    /// Makes the loop's `wait()` return soon (from any thread).
    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
        if let Err(e) = self.waker.wake() {
            log::warn!("cannot wake the poll loop: {e}");
        }
    }

    /// Whether `interrupt()` was called since the last look.
    pub fn take_interrupt(&self) -> bool {
        self.interrupted.swap(false, Ordering::SeqCst)
    }

    /// Records the loop's count of open connections (on the loop thread).
    pub fn set_connections(&self, n: usize) {
        self.connections.store(n, Ordering::Relaxed);
    }

    /// The loop's open connections, from any thread.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Counts one accepted connection (on the loop thread).
    pub fn note_accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// Connections accepted so far, from any thread.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Counts one completed TLS handshake (on the loop thread).
    #[cfg(feature = "tls")]
    pub fn note_tls_handshake(&self) {
        self.tls_handshakes.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one failed TLS handshake (on the loop thread).
    #[cfg(feature = "tls")]
    pub fn note_tls_handshake_failure(&self) {
        self.tls_handshake_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// TLS handshakes completed so far, from any thread.
    pub fn tls_handshakes(&self) -> u64 {
        self.tls_handshakes.load(Ordering::Relaxed)
    }

    /// TLS handshakes failed so far, from any thread.
    pub fn tls_handshake_failures(&self) -> u64 {
        self.tls_handshake_failures.load(Ordering::Relaxed)
    }

    /// Marks the loop as awake.
    pub fn end_poll(&self) {
        self.polling.store(false, Ordering::SeqCst);
    }
}
