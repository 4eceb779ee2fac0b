//! [`EventLoop`]: one `mio::Poll` serving any number of servers (each a
//! set of listeners with one [`Config`]); [`HttpServer`]: the common case
//! of one server in its own loop; [`LoopHandle`]: wakes a loop from
//! another thread.

mod idle;

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, ToSocketAddrs};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;

use crate::config::Config;
#[cfg(feature = "tls")]
use crate::conn::TlsStream;
use crate::conn::{BufPool, CloseReason, Connection, Ctx, Transport};
use crate::error::Error;
use crate::event::{Event, EventQueue, Queued};
use crate::h1::conn::Limits;
use crate::h1::encode::DateCache;
use crate::ids::{ConnRef, ServerId};
use crate::responder::{Command, Shared};

use idle::IdleList;

const WAKER: Token = Token(usize::MAX);
/// Listener tokens count down from just below the waker's.
const LISTENER_BASE: usize = usize::MAX - 1;
/// How long accepting pauses after an error such as running out of file
/// descriptors (`EMFILE`), instead of spinning on a listener that stays
/// readable.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
const LISTEN_BACKLOG: i32 = 1024;

/// The address both ends of a connection over a Unix socket report
/// (`0.0.0.0:0`, which no TCP peer has): such a peer has no IP. It is what
/// [`Request::addr`](crate::Request::addr),
/// [`Request::remote_address`](crate::Request::remote_address) (unless a
/// trusted proxy's `X-Forwarded-For` says otherwise) and
/// [`Completed::peer_addr`](crate::Completed::peer_addr) give for it. List
/// its IP, `0.0.0.0`, in [`Config::trusted_proxies`] to believe
/// `X-Forwarded-For` from Unix peers (a reverse proxy on the same host).
pub const UNIX_SOCKET_ADDR: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));

struct Server {
    config: Config,
    /// What connections apply of `config`, copied once.
    limits: Limits,
    connections: usize,
    local_addrs: Vec<SocketAddr>,
}

struct Listener {
    socket: ListenSocket,
    server: usize,
    /// The bound address; when it is not a wildcard it is also the local
    /// address of every connection (no `getsockname` per accept).
    addr: SocketAddr,
    /// Connections may be waiting that were not accepted yet (limit
    /// reached, or accepting failed): retry without a readiness event.
    pending: bool,
    registered: bool,
}

struct Entry {
    conn: Connection,
    server: usize,
}

enum ListenSocket {
    Tcp(TcpListener),
    Unix(UnixListener),
}

/// A connection just accepted, with its peer.
enum Accepted {
    Tcp(TcpStream, SocketAddr),
    Unix(UnixStream),
}

impl ListenSocket {
    fn accept(&self) -> io::Result<Accepted> {
        match self {
            ListenSocket::Tcp(l) => l.accept().map(|(s, peer)| Accepted::Tcp(s, peer)),
            ListenSocket::Unix(l) => l.accept().map(|(s, _)| Accepted::Unix(s)),
        }
    }

    fn source_mut(&mut self) -> &mut dyn Source {
        match self {
            ListenSocket::Tcp(l) => l,
            ListenSocket::Unix(l) => l,
        }
    }
}

impl Accepted {
    fn peer(&self) -> SocketAddr {
        match self {
            Accepted::Tcp(_, peer) => *peer,
            Accepted::Unix(_) => UNIX_SOCKET_ADDR,
        }
    }
}

/// Wakes an [`EventLoop`] from any thread: its current or next `wait()`
/// returns `Ok(None)` promptly. Cheap to clone.
#[derive(Clone)]
pub struct LoopHandle {
    shared: Arc<Shared>,
}

impl LoopHandle {
    /// Makes the loop's `wait()` return `Ok(None)` soon, e.g. to look at a
    /// stop flag set by a signal handler thread.
    pub fn interrupt(&self) {
        self.shared.interrupt();
    }

    /// The loop's open connections, over all its servers, as
    /// [`EventLoop::connections`] gives them, readable from any thread
    /// (e.g. to sum the loops of several workers for a health check). The
    /// count is updated as the loop accepts and closes connections.
    pub fn connections(&self) -> usize {
        self.shared.connections()
    }

    /// The connections the loop has accepted since it began (a counter,
    /// e.g. for metrics), readable from any thread.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted()
    }

    /// The TLS handshakes the loop's connections have completed since it
    /// began (a counter, e.g. for metrics), readable from any thread.
    pub fn tls_handshakes(&self) -> u64 {
        self.shared.tls_handshakes()
    }

    /// The TLS handshakes that failed since the loop began: ended by a
    /// TLS error (bytes that are not TLS, a ClientHello rustls refuses,
    /// an alert from the client, e.g. one that does not trust the
    /// certificate), or by the connection closing for any other reason
    /// (the client leaving, a timeout, the loop stopping) after the
    /// client's first byte and before completion. A connection closed
    /// before its client sent any byte (a port probe, an unused browser
    /// preconnect) counts as neither, as does one refused for its
    /// PROXY protocol header before TLS began.
    pub fn tls_handshake_failures(&self) -> u64 {
        self.shared.tls_handshake_failures()
    }
}

impl std::fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoopHandle")
    }
}

/// A poll loop serving one or more servers on one thread.
///
/// ```no_run
/// use uhttp::{Config, Event, EventLoop};
/// let mut event_loop = EventLoop::new()?;
/// let site = event_loop.add_server(&["127.0.0.1:8080".parse().unwrap()], Config::default())?;
/// let admin = event_loop.add_server(&["127.0.0.1:9090".parse().unwrap()], Config::default())?;
/// loop {
///     if let Some(Event::Request(req)) = event_loop.wait(None)? {
///         let who = if req.server() == site { "site" } else { "admin" };
///         // A client that left fails only its own answer.
///         if let Err(e) = req.respond(200, who) {
///             eprintln!("cannot answer {}: {e}", req.url());
///         }
///     }
/// }
/// # let _ = admin; Ok::<(), uhttp::Error>(())
/// ```
pub struct EventLoop {
    poll: Poll,
    events: Events,
    servers: Vec<Server>,
    listeners: Vec<Listener>,
    conns: Slab<Entry>,
    /// Connections waiting idle between requests, longest-idle first.
    idle: IdleList,
    shared: Arc<Shared>,
    ready: EventQueue,
    pool: BufPool,
    commands: Vec<Command>,
    /// Connections holding answers back to write them together
    /// (pipelining): written before the loop polls or returns empty-handed.
    unflushed: Vec<usize>,
    date: DateCache,
    next_serial: u64,
    /// When to look at deadlines next.
    next_timer: Option<Instant>,
    /// When to retry accepting after an accept error.
    accept_retry: Option<Instant>,
    /// Connections that used up their turn's write budget with the socket
    /// still writable: driven again next turn, after the poll (which then
    /// does not wait), since no readiness event will come for them.
    yielded: Vec<usize>,
    stopping: bool,
}

impl EventLoop {
    /// A loop with no servers yet.
    pub fn new() -> Result<Self, Error> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        Ok(EventLoop {
            poll,
            events: Events::with_capacity(1024),
            servers: Vec::new(),
            listeners: Vec::new(),
            conns: Slab::new(),
            idle: IdleList::default(),
            shared: Arc::new(Shared::new(waker)),
            ready: EventQueue::default(),
            pool: BufPool::default(),
            commands: Vec::new(),
            unflushed: Vec::new(),
            date: DateCache::default(),
            next_serial: 0,
            next_timer: None,
            accept_retry: None,
            yielded: Vec::new(),
            stopping: false,
        })
    }

    /// Binds `addrs` (an IPv6 wildcard `[::]` is dual-stack) and serves
    /// them with `config`.
    pub fn add_server(&mut self, addrs: &[SocketAddr], config: Config) -> Result<ServerId, Error> {
        let mut sockets = Vec::with_capacity(addrs.len());
        for &addr in addrs {
            let socket = bind(addr, false).map_err(|source| Error::Bind { addr, source })?;
            sockets.push(socket);
        }
        self.add_listeners(sockets, config)
    }

    /// Serves already-bound listening sockets with `config` (for socket
    /// activation, or several loops sharing a port with `SO_REUSEPORT`).
    /// The sockets are switched to non-blocking mode.
    pub fn add_listeners(
        &mut self,
        sockets: Vec<std::net::TcpListener>,
        config: Config,
    ) -> Result<ServerId, Error> {
        let server = self.servers.len();
        let mut local_addrs = Vec::new();
        for socket in sockets {
            socket.set_nonblocking(true)?;
            let addr = socket.local_addr()?;
            local_addrs.push(addr);
            self.add_listener(
                server,
                ListenSocket::Tcp(TcpListener::from_std(socket)),
                addr,
            )?;
        }
        self.servers.push(Server {
            limits: Limits::from(&config),
            config,
            connections: 0,
            local_addrs,
        });
        Ok(ServerId(server))
    }

    /// Also accepts connections of `server` on a bound Unix stream socket
    /// (to sit behind a reverse proxy on the same host); it is switched to
    /// non-blocking mode. Its connections count towards the server's
    /// `max_waiting_clients` and are plain HTTP even when the server has
    /// TLS (the socket never leaves the host). Their peer has no IP: see
    /// [`UNIX_SOCKET_ADDR`]. A server may have only Unix listeners
    /// ([`EventLoop::add_listeners`] with none). The socket's file is the
    /// caller's: it stays when the loop is dropped.
    ///
    /// ```no_run
    /// use uhttp::{Config, EventLoop};
    /// let mut event_loop = EventLoop::new()?;
    /// let server = event_loop.add_listeners(Vec::new(), Config::default())?;
    /// let socket = std::os::unix::net::UnixListener::bind("/run/site.sock")?;
    /// event_loop.add_unix_listener(server, socket)?;
    /// # Ok::<(), uhttp::Error>(())
    /// ```
    pub fn add_unix_listener(
        &mut self,
        server: ServerId,
        socket: std::os::unix::net::UnixListener,
    ) -> Result<(), Error> {
        assert!(server.0 < self.servers.len(), "not a server of this loop");
        socket.set_nonblocking(true)?;
        let socket = ListenSocket::Unix(UnixListener::from_std(socket));
        self.add_listener(server.0, socket, UNIX_SOCKET_ADDR)
    }

    fn add_listener(
        &mut self,
        server: usize,
        mut socket: ListenSocket,
        addr: SocketAddr,
    ) -> Result<(), Error> {
        let index = self.listeners.len();
        self.poll.registry().register(
            socket.source_mut(),
            Token(LISTENER_BASE - index),
            Interest::READABLE,
        )?;
        self.listeners.push(Listener {
            socket,
            server,
            addr,
            pending: true,
            registered: true,
        });
        Ok(())
    }

    /// The addresses a server listens on (with the ports actually bound).
    pub fn local_addrs(&self, server: ServerId) -> &[SocketAddr] {
        &self.servers[server.0].local_addrs
    }

    /// Open connections, over all servers.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// A handle that wakes this loop from another thread.
    pub fn handle(&self) -> LoopHandle {
        LoopHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Starts a graceful stop: listeners close, idle connections close,
    /// and busy ones close after their current response. Keep calling
    /// `wait()` until [`EventLoop::connections`] is 0 (or a grace period
    /// ends).
    pub fn shutdown(&mut self) {
        self.stopping = true;
        self.flush_held();
        for listener in &mut self.listeners {
            if listener.registered {
                let _ = self
                    .poll
                    .registry()
                    .deregister(listener.socket.source_mut());
                listener.registered = false;
            }
            listener.pending = false;
        }
        // Close the listening sockets: new connections are refused at
        // once instead of waiting in the kernel's backlog until exit.
        // (Events still queued for their tokens find no listener and no
        // connection, and are ignored.)
        self.listeners.clear();
        let keys: Vec<usize> = self.conns.iter().map(|(k, _)| k).collect();
        let now = Instant::now();
        for key in keys {
            self.with_conn(key, now, |conn, ctx| conn.stop(ctx));
        }
    }

    /// Runs the loop until an event is ready or `timeout` passes (`None`:
    /// no limit). `Ok(None)` means the timeout passed or the loop was
    /// interrupted through a [`LoopHandle`]. Errors only when the poll
    /// itself fails; a failing connection is just closed.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<Option<Event>, Error> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            // Only WebSocket sessions queue steps of the loop's own.
            #[cfg_attr(not(feature = "websocket"), allow(clippy::never_loop))]
            while let Some(queued) = self.ready.pop_front() {
                match queued {
                    Queued::Event(event) => return Ok(Some(event)),
                    #[cfg(feature = "websocket")]
                    Queued::EndSession(conn) => self.end_session(conn),
                }
            }
            self.run_commands();
            if !self.ready.is_empty() {
                continue;
            }
            // Nothing more to hand out without polling: what answers were
            // held back goes out now, many in one write.
            if !self.unflushed.is_empty() {
                self.flush_held();
                continue;
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Ok(None);
            }
            let mut poll_timeout = deadline.map(|d| d - now);
            for at in [self.next_timer, self.accept_retry].into_iter().flatten() {
                let t = at.saturating_duration_since(now);
                poll_timeout = Some(poll_timeout.map_or(t, |p| p.min(t)));
            }
            if self.shared.begin_poll() || !self.yielded.is_empty() {
                poll_timeout = Some(Duration::ZERO);
            }
            let result = self.poll.poll(&mut self.events, poll_timeout);
            self.shared.end_poll();
            match result {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Io(e)),
            }
            let now = Instant::now();
            let events = std::mem::replace(&mut self.events, Events::with_capacity(0));
            for event in events.iter() {
                match event.token() {
                    WAKER => {}
                    Token(t) if t > LISTENER_BASE - self.listeners.len() => {
                        self.accept(LISTENER_BASE - t, now);
                    }
                    Token(key) => {
                        let read_closed = event.is_read_closed() || event.is_error();
                        let readable = event.is_readable() || read_closed;
                        let writable = event.is_writable() || event.is_write_closed();
                        self.with_conn(key, now, |conn, ctx| {
                            conn.ready(readable, writable, read_closed);
                            conn.drive(ctx);
                        });
                    }
                }
            }
            self.events = events;
            self.run_yielded(now);
            self.run_commands();
            self.run_timers(now);
            if self.accept_retry.is_some_and(|at| now >= at) {
                self.accept_retry = None;
                self.accept_pending(now);
            }
            if self.shared.take_interrupt() && self.ready.is_empty() {
                self.flush_held();
                return Ok(None);
            }
        }
    }

    /// Drives the connections that yielded last turn with bytes left to
    /// write (a stale key, closed or reused since, gets a harmless drive).
    fn run_yielded(&mut self, now: Instant) {
        let mut yielded = std::mem::take(&mut self.yielded);
        for key in yielded.drain(..) {
            self.with_conn(key, now, |conn, ctx| conn.drive(ctx));
        }
        if self.yielded.is_empty() {
            // Keep the allocation for the next turn.
            self.yielded = yielded;
        }
    }

    /// Writes the answers connections held back while their next
    /// pipelined request was with the application.
    fn flush_held(&mut self) {
        let now = Instant::now();
        let mut keys = std::mem::take(&mut self.unflushed);
        for key in keys.drain(..) {
            // A key freed and reused meanwhile names another connection:
            // driving it is harmless.
            self.with_conn(key, now, |conn, ctx| conn.flush(ctx));
        }
        if self.unflushed.is_empty() {
            // Keeps the allocation.
            self.unflushed = keys;
        }
    }

    /// Applies what request handles asked for.
    fn run_commands(&mut self) {
        self.shared.take(&mut self.commands);
        if self.commands.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut commands = std::mem::take(&mut self.commands);
        for command in commands.drain(..) {
            let conn = command.conn();
            if !self.is_current(conn) {
                continue;
            }
            self.with_conn(conn.token, now, |c, ctx| {
                match command {
                    Command::Respond { response, .. } => c.respond(ctx, response),
                    Command::Interim { response, .. } => c.interim(&response),
                    Command::AcceptBody { sink, .. } => c.accept_body(ctx, sink),
                    Command::Resume { .. } => c.resume(ctx),
                    Command::Stream {
                        response,
                        outbox,
                        framing,
                        ..
                    } => c.start_stream(ctx, response, outbox, framing),
                    #[cfg(feature = "websocket")]
                    Command::Upgrade {
                        accept,
                        response,
                        outbox,
                        ..
                    } => c.upgrade(ctx, &accept, &response, outbox),
                    Command::Kick { .. } => {}
                    Command::Abandoned { id, .. } => c.abandoned(ctx, id),
                }
                c.drive(ctx);
            });
        }
        self.commands = commands;
    }

    /// The application has taken (and answered) the WebSocket messages
    /// that came before the client's Close: our Close frame is queued
    /// behind its answers.
    #[cfg(feature = "websocket")]
    fn end_session(&mut self, conn: ConnRef) {
        if self.is_current(conn) {
            self.with_conn(conn.token, Instant::now(), |c, ctx| {
                c.end_session(ctx);
                c.drive(ctx);
            });
        }
    }

    /// Whether `conn` is still open (its slot not reused by another).
    fn is_current(&self, conn: ConnRef) -> bool {
        self.conns
            .get(conn.token)
            .is_some_and(|e| e.conn.serial() == conn.serial)
    }

    /// Runs `f` on a connection with its context; removes the connection
    /// if it closed, and keeps the timer up to date.
    ///
    /// Every way the loop drives a connection (readiness, commands from
    /// request handles, timers, the first drive after accept, shutdown)
    /// comes through here, so this is where a panic is contained: it costs
    /// that one connection, not the loop (see [`EventLoop::contain_panic`]).
    fn with_conn(
        &mut self,
        key: usize,
        now: Instant,
        f: impl FnOnce(&mut Connection, &mut Ctx<'_>),
    ) {
        let Some(entry) = self.conns.get_mut(key) else {
            return;
        };
        let server = &self.servers[entry.server];
        let mut ctx = Ctx {
            config: &server.config,
            limits: &server.limits,
            now,
            date: &mut self.date,
            events: &mut self.ready,
            pool: &mut self.pool,
            shared: &self.shared,
            server: ServerId(entry.server),
            unflushed: &mut self.unflushed,
        };
        let conn = &mut entry.conn;
        let panicked = match catch_unwind(AssertUnwindSafe(|| f(conn, &mut ctx))) {
            Ok(()) => false,
            Err(payload) => {
                Self::contain_panic(conn, &mut ctx, payload);
                true
            }
        };
        if panicked {
            let entry = self.conns.remove(key);
            self.idle.remove(key);
            self.servers[entry.server].connections -= 1;
            self.shared.set_connections(self.conns.len());
            // Its buffers are not given back to the pool (they may be in
            // any state): dropped with it. The drop closes the socket, so
            // the client sees the connection end; it may run application
            // code (a request's context), hence the guard.
            if catch_unwind(AssertUnwindSafe(|| drop(entry))).is_err() {
                log::error!("connection {key}: panic while dropping it after a panic");
            }
            self.accept_pending(now);
            return;
        }
        if let Some(reason) = entry.conn.closed() {
            log::trace!("connection {key} closed: {reason:?}");
            self.remove(key);
            // A slot is free: connections may be waiting in the backlog.
            self.accept_pending(now);
            return;
        }
        if entry.conn.take_yielded() {
            self.yielded.push(key);
        }
        if let Some(deadline) = entry.conn.deadline()
            && self.next_timer.is_none_or(|t| deadline < t)
        {
            self.next_timer = Some(deadline);
        }
        let server = entry.server;
        if self.idle.update(server, key, entry.conn.idle_keep_alive()) && self.is_full(server) {
            // Gone idle at the limit: a connection waiting in the backlog
            // may take its place.
            self.accept_pending(now);
        }
    }

    /// Removes a closed connection; dropping the socket takes it out of
    /// the poll.
    fn remove(&mut self, key: usize) {
        let mut entry = self.conns.remove(key);
        self.idle.remove(key);
        entry.conn.release_buffers(&mut self.pool);
        self.servers[entry.server].connections -= 1;
        // Closed before it stops counting: its client's slot is free by
        // the time `connections()` says it is gone.
        drop(entry);
        self.shared.set_connections(self.conns.len());
    }

    fn is_full(&self, server: usize) -> bool {
        let server = &self.servers[server];
        server.connections >= server.config.max_waiting_clients
    }

    /// After a panic while driving `conn`: logs it, and lets the requests,
    /// streams and WebSockets of that connection learn it is gone (as for
    /// any closed connection: `Error::Closed` to their senders, a closing
    /// event), so that no application thread waits on it forever. The
    /// caller then drops the connection.
    ///
    /// What other connections share with this one stays consistent, so the
    /// loop goes on with them:
    /// - the buffer pool only ever holds whole buffers (a `Vec` push or pop
    ///   cannot be half done), and the panicking connection's own buffers
    ///   are dropped rather than returned;
    /// - the event queue only gains or loses whole events; events this
    ///   connection queued before the panic stay, and their requests are
    ///   marked closed here, so answering them is `Error::Closed`, and a
    ///   command that still reaches the slot finds another serial;
    /// - the command queue and the requests' and outboxes' states are
    ///   behind mutexes held only for one field update or a whole buffer
    ///   swap, so a panic cannot leave them half changed, and `lock()`
    ///   ignores the poisoning it leaves;
    /// - the `Date` cache changes only once a new value is formatted;
    /// - the connection count is fixed by the caller, and timers are
    ///   recomputed from the remaining connections' deadlines.
    fn contain_panic(
        conn: &mut Connection,
        ctx: &mut Ctx<'_>,
        payload: Box<dyn std::any::Any + Send>,
    ) {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let line = match conn.request_line() {
            Some(line) => format!("\"{line}\""),
            None => "-".to_owned(),
        };
        log::error!(
            "{}: panic while serving {line}: {message}; closing the connection",
            conn.peer()
        );
        // The payload is the panic's own value: its drop could panic too.
        let _ = catch_unwind(AssertUnwindSafe(|| drop(payload)));
        let closed = catch_unwind(AssertUnwindSafe(|| {
            conn.close(ctx, CloseReason::Panic, "internal error");
        }));
        if closed.is_err() {
            log::error!("{}: panic again while closing the connection", conn.peer());
        }
    }

    /// Handles every connection whose deadline passed, and finds the next.
    fn run_timers(&mut self, now: Instant) {
        if self.next_timer.is_none_or(|t| now < t) {
            return;
        }
        self.next_timer = None;
        let expired: Vec<usize> = self
            .conns
            .iter()
            .filter(|(_, e)| e.conn.deadline().is_some_and(|d| d <= now))
            .map(|(k, _)| k)
            .collect();
        for key in expired {
            self.with_conn(key, now, |conn, ctx| {
                // Admitting a client may have closed an expired idle
                // connection and given its key to the newcomer.
                if conn.deadline().is_some_and(|d| d <= now) {
                    conn.on_timeout(ctx);
                    conn.drive(ctx);
                }
            });
        }
        let next = self
            .conns
            .iter()
            .filter_map(|(_, e)| e.conn.deadline())
            .min();
        self.next_timer = match (self.next_timer, next) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    fn accept_pending(&mut self, now: Instant) {
        for index in 0..self.listeners.len() {
            if self.listeners[index].pending {
                self.accept(index, now);
            }
        }
    }

    /// Accepts until the backlog is empty, the server is full of busy
    /// connections, or an error says to back off.
    fn accept(&mut self, index: usize, now: Instant) {
        let server = self.listeners[index].server;
        loop {
            if self.stopping {
                return;
            }
            let full = self.is_full(server);
            if full && self.idle.oldest(server).is_none() {
                // Every connection is busy: new ones wait in the backlog.
                self.listeners[index].pending = true;
                return;
            }
            let accepted = match self.listeners[index].socket.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.listeners[index].pending = false;
                    return;
                }
                Err(e) if is_transient_accept_error(&e) => continue,
                Err(e) => {
                    // EMFILE, ENFILE, ENOBUFS, ENOMEM: the listener stays
                    // readable, so retry later instead of spinning.
                    log::warn!("accept failed, pausing {ACCEPT_BACKOFF:?}: {e}");
                    self.listeners[index].pending = true;
                    self.accept_retry = Some(now + ACCEPT_BACKOFF);
                    return;
                }
            };
            if full {
                // Only now that a client is known to wait (an idle
                // connection is not closed for nothing).
                self.evict_idle(server, accepted.peer());
            }
            let bound = self.listeners[index].addr;
            self.add_connection(accepted, bound, server, now);
        }
    }

    /// The server is at its limit and `peer` waits: closes the server's
    /// longest-idle keep-alive connection to make room, as Apache's event
    /// MPM does, so idle connections never lock a new client out.
    fn evict_idle(&mut self, server: usize, peer: SocketAddr) {
        let Some(key) = self.idle.oldest(server) else {
            return;
        };
        if let Some(entry) = self.conns.get_mut(key) {
            let limit = self.servers[server].config.max_waiting_clients;
            entry.conn.evict(peer, limit);
            self.remove(key);
        }
    }

    fn add_connection(
        &mut self,
        accepted: Accepted,
        bound: SocketAddr,
        server: usize,
        now: Instant,
    ) {
        let peer = accepted.peer();
        let (transport, local) = match accepted {
            Accepted::Unix(stream) => (Transport::Unix(stream), UNIX_SOCKET_ADDR),
            Accepted::Tcp(stream, _) => {
                let local = if bound.ip().is_unspecified() {
                    match stream.local_addr() {
                        Ok(local) => local,
                        Err(_) => return,
                    }
                } else {
                    bound
                };
                #[cfg(not(feature = "tls"))]
                let transport = Transport::Plain(stream);
                #[cfg(feature = "tls")]
                let transport = match &self.servers[server].config.tls {
                    None => Transport::Plain(stream),
                    Some(tls) => match rustls::ServerConnection::new(tls.current()) {
                        Ok(conn) => Transport::Tls(Box::new(TlsStream::new(
                            stream,
                            conn,
                            Arc::clone(&self.shared),
                        ))),
                        Err(e) => {
                            log::warn!("cannot start TLS for {peer}: {e}");
                            return;
                        }
                    },
                };
                (transport, local)
            }
        };
        let entry = self.conns.vacant_entry();
        let key = entry.key();
        self.next_serial += 1;
        let conn_ref = ConnRef {
            token: key,
            serial: self.next_serial,
        };
        let limits = &self.servers[server].limits;
        let mut conn = Connection::new(transport, conn_ref, peer, local, limits, now);
        if self.servers[server].config.proxy_protocol.is_required() {
            conn.expect_proxy_header();
        }
        if let Err(e) = self.poll.registry().register(
            conn.socket_mut(),
            Token(key),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            log::warn!("cannot register connection from {peer}: {e}");
            return;
        }
        entry.insert(Entry { conn, server });
        self.servers[server].connections += 1;
        self.shared.set_connections(self.conns.len());
        self.shared.note_accepted();
        // The request often arrives with the handshake: read it now rather
        // than after another trip through the poll.
        self.with_conn(key, now, |conn, ctx| {
            conn.opened(ctx);
            conn.drive(ctx);
        });
    }
}

impl Drop for EventLoop {
    /// Responses still under way when the loop goes (a grace period
    /// ended) are recorded in the access log as cut short by shutdown.
    fn drop(&mut self) {
        let now = Instant::now();
        for (_, entry) in self.conns.iter_mut() {
            let server = &self.servers[entry.server];
            if server.config.access_log.is_none() {
                continue;
            }
            let ctx = Ctx {
                config: &server.config,
                limits: &server.limits,
                now,
                date: &mut self.date,
                events: &mut self.ready,
                pool: &mut self.pool,
                shared: &self.shared,
                server: ServerId(entry.server),
                unflushed: &mut self.unflushed,
            };
            entry.conn.abandon(&ctx);
        }
    }
}

fn is_transient_accept_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// Creates a listening socket: `SO_REUSEADDR`, dual-stack for IPv6
/// (`IPV6_V6ONLY` off), `SO_REUSEPORT` when asked (several loops or
/// processes sharing the port), non-blocking.
pub fn bind(addr: SocketAddr, reuse_port: bool) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(false)?;
    }
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}

/// One server in its own loop: the uHTTP Server shape.
///
/// ```no_run
/// use uhttp::{Event, HttpServer};
/// let mut server = HttpServer::bind("127.0.0.1:8080")?;
/// loop {
///     if let Some(Event::Request(req)) = server.wait(None)? {
///         // A client that left fails only its own answer.
///         if let Err(e) = req.respond(200, "Hello\n") {
///             eprintln!("cannot answer {}: {e}", req.url());
///         }
///     }
/// }
/// # Ok::<(), uhttp::Error>(())
/// ```
pub struct HttpServer {
    event_loop: EventLoop,
    id: ServerId,
}

impl HttpServer {
    /// Listens on `addr` with the default [`Config`].
    pub fn bind(addr: impl ToSocketAddrs) -> Result<Self, Error> {
        HttpServer::with_config(addr, Config::default())
    }

    /// Listens on every address `addr` resolves to, with `config`.
    pub fn with_config(addr: impl ToSocketAddrs, config: Config) -> Result<Self, Error> {
        let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
        if addrs.is_empty() {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no address to listen on",
            )));
        }
        let mut event_loop = EventLoop::new()?;
        let id = event_loop.add_server(&addrs, config)?;
        Ok(HttpServer { event_loop, id })
    }

    /// The first address listened on (with the port actually bound, useful
    /// after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.event_loop.local_addrs(self.id)[0]
    }

    /// Every address listened on.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        self.event_loop.local_addrs(self.id)
    }

    /// Runs the loop until a request (or, in event mode, an event) is
    /// ready, or `timeout` passes. See [`EventLoop::wait`].
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<Option<Event>, Error> {
        self.event_loop.wait(timeout)
    }

    /// A handle that wakes this server's loop from another thread.
    pub fn handle(&self) -> LoopHandle {
        self.event_loop.handle()
    }

    /// The loop underneath, e.g. to add another server to it.
    pub fn event_loop(&mut self) -> &mut EventLoop {
        &mut self.event_loop
    }

    /// Starts a graceful stop; see [`EventLoop::shutdown`].
    pub fn shutdown(&mut self) {
        self.event_loop.shutdown()
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.event_loop.connections()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<crate::Request>();
    is::<LoopHandle>();
    let _ = Ordering::SeqCst;
}
