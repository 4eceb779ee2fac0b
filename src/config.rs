//! Server options, named as in uHTTP Server, with server-grade defaults.

use std::net::IpAddr;
use std::num::NonZeroU64;
use std::time::Duration;

use crate::access_log::AccessLog;
use crate::peer_limits::PeerLimits;
use crate::proxy_protocol::ProxyProtocol;
#[cfg(feature = "tls")]
use crate::tls::TlsConfig;

/// Options of one server (one or more listeners sharing them).
///
/// Start from the defaults and set what differs (the type is
/// `#[non_exhaustive]`, so a new option is not a breaking change; build it
/// this way rather than with a struct literal):
///
/// ```
/// use std::time::Duration;
/// let mut config = uhttp::Config::default();
/// config.max_content_length = 1 << 20;
/// config.keep_alive_timeout = Duration::from_secs(5);
/// ```
///
/// A timeout too long to add to the clock (`Duration::MAX`) means no
/// limit.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// Concurrent connections. At the limit, the keep-alive connection
    /// idle the longest is closed to admit a new one (as Apache's event
    /// MPM does); only while every connection is busy do new ones wait in
    /// the listen backlog, until one closes or goes idle. Default 1024.
    pub max_waiting_clients: usize,
    /// How long an idle keep-alive connection is kept. Default 30 s.
    pub keep_alive_timeout: Duration,
    /// Requests served on one connection before it is closed. Default 100.
    pub keep_alive_max_requests: usize,
    /// Largest request head (request line and headers) in bytes; larger is
    /// answered with 431. Default 8 KiB.
    pub max_headers_length: usize,
    /// Largest request body in bytes; larger is answered with 413 without
    /// reading it. Default 1 MiB.
    pub max_content_length: u64,
    /// Largest WebSocket message in bytes (all fragments together, RFC
    /// 6455 §5.4); a larger one is refused with close code 1009 from its
    /// frame header, before its payload is read. Default 1 MiB.
    ///
    /// A message is held whole before the application sees it, and again
    /// as a frame while the answer to it is sent, so a connection may hold
    /// about twice this much: at the default, `max_waiting_clients` (1024)
    /// clients all sending their largest message at once would take 2 GiB.
    /// 1 MiB keeps the usual chat and JSON traffic far under the cap and
    /// matches `max_content_length` (the same client may post a body that
    /// size); on a small box, lower it (64 KiB: 128 MiB for 1024 such
    /// clients), or lower `max_waiting_clients`. Raise it only for what
    /// the application really receives (16 MiB for the Autobahn suite's
    /// 9.* cases).
    #[cfg(feature = "websocket")]
    #[cfg_attr(docsrs, doc(cfg(feature = "websocket")))]
    pub max_message_size: usize,
    /// Time allowed from a request's first byte to the end of its headers,
    /// and without progress while a body arrives (then: 408). Default 10 s.
    pub request_timeout: Duration,
    /// Time allowed without progress while a response is sent (plain,
    /// file, stream, WebSocket): a client that reads nothing for this long
    /// is cut off. Time spent waiting for the application to produce
    /// bytes does not count. Default 60 s (nginx's `send_timeout`).
    pub send_timeout: Duration,
    /// Bytes queued for one client before producers are told to wait
    /// ([`crate::Error::WouldBlock`]) and file reads pause. Default 256 KiB.
    pub max_send_buffer: usize,
    /// Proxies whose `X-Forwarded-For` is believed. Default none.
    pub trusted_proxies: Vec<IpAddr>,
    /// Read a PROXY protocol header (v1 or v2) before anything else on
    /// every connection, from these proxies only. Default off.
    pub proxy_protocol: ProxyProtocol,
    /// Hand out [`crate::Event::Headers`] before reading bodies, so the
    /// application chooses how each body is received. Default off.
    pub event_mode: bool,
    /// Accept permessage-deflate (RFC 7692) when a WebSocket client offers
    /// it, as browsers do. It costs memory and CPU per connection: 371 KiB
    /// for the compressor and 47 KiB for the decompressor once a
    /// connection uses them (freed after each message when the client
    /// asks for no context takeover; [`crate::ws::deflate`]), and
    /// compression runs on the thread that calls
    /// [`crate::WebSocket::send_text`] / `send_binary`. Default on.
    #[cfg(feature = "websocket")]
    #[cfg_attr(docsrs, doc(cfg(feature = "websocket")))]
    pub websocket_deflate: bool,
    /// Serve TLS with this (swappable) configuration. Default none.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub tls: Option<TlsConfig>,
    /// Called when each response ends, with what was really sent
    /// ([`crate::access_log`]). Default none.
    pub access_log: Option<AccessLog>,
    /// Connections and requests per client address, counted across every
    /// server and loop holding a clone of the same [`PeerLimits`]
    /// ([`crate::peer_limits`]). Default none.
    pub peer_limits: Option<PeerLimits>,
    /// Bytes per second one connection's responses (files, streams) are
    /// sent at, at most (as nginx's `limit_rate`; WebSocket messages are
    /// not paced). Writes wait on the loop's timers, never in a sleep;
    /// the rate holds over any second, after a first burst of a
    /// twentieth of it (at least 4 KiB). Default none.
    pub limit_rate: Option<NonZeroU64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_waiting_clients: 1024,
            keep_alive_timeout: Duration::from_secs(30),
            keep_alive_max_requests: 100,
            max_headers_length: 8 * 1024,
            max_content_length: 1024 * 1024,
            #[cfg(feature = "websocket")]
            max_message_size: 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(60),
            max_send_buffer: 256 * 1024,
            trusted_proxies: Vec::new(),
            proxy_protocol: ProxyProtocol::Off,
            event_mode: false,
            #[cfg(feature = "websocket")]
            websocket_deflate: true,
            #[cfg(feature = "tls")]
            tls: None,
            access_log: None,
            peer_limits: None,
            limit_rate: None,
        }
    }
}

/// What the connection machine applies of a server's options.
impl From<&Config> for crate::h1::conn::Limits {
    fn from(config: &Config) -> Self {
        crate::h1::conn::Limits {
            max_headers_length: config.max_headers_length,
            max_content_length: config.max_content_length,
            max_send_buffer: config.max_send_buffer,
            request_timeout: config.request_timeout,
            keep_alive_timeout: config.keep_alive_timeout,
            send_timeout: config.send_timeout,
            keep_alive_max_requests: config.keep_alive_max_requests,
            event_mode: config.event_mode,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Config");
        d.field("max_waiting_clients", &self.max_waiting_clients)
            .field("keep_alive_timeout", &self.keep_alive_timeout)
            .field("keep_alive_max_requests", &self.keep_alive_max_requests)
            .field("max_headers_length", &self.max_headers_length)
            .field("max_content_length", &self.max_content_length)
            .field("request_timeout", &self.request_timeout)
            .field("send_timeout", &self.send_timeout)
            .field("max_send_buffer", &self.max_send_buffer)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("proxy_protocol", &self.proxy_protocol)
            .field("event_mode", &self.event_mode);
        #[cfg(feature = "websocket")]
        d.field("max_message_size", &self.max_message_size)
            .field("websocket_deflate", &self.websocket_deflate);
        #[cfg(feature = "tls")]
        d.field("tls", &self.tls.is_some());
        d.field("access_log", &self.access_log.is_some())
            .field("peer_limits", &self.peer_limits)
            .field("limit_rate", &self.limit_rate)
            .finish()
    }
}
