//! The library over loopback: a real server on port 0, raw `TcpStream`
//! clients for exact bytes, `ureq` (and `curl` when installed) for the
//! normal paths.

mod child;
// The harness shared by the four test binaries; each uses a different part
// of it, and the rest would be reported as dead code in this one.
#[allow(dead_code)]
#[path = "../common/mod.rs"]
mod common;
mod util;

mod access_log;
mod bad_input;
mod chunked_bodies;
mod config_limits;
mod crlf_injection;
mod curl;
mod delayed_response;
mod event_mode;
mod examples;
mod expect_continue;
mod fd_exhaustion;
mod ipv6;
mod keepalive_limits;
mod panic_isolation;
mod peer_limits;
mod pipelining;
mod proxy_protocol;
mod request_api;
mod respond_file;
mod responses;
mod send_buffer_cap;
mod send_timeout;
mod tls_alpn;
mod tls_handshakes;
mod trusted_proxies;
mod two_servers;
mod unix_socket;
mod utf8_every_offset;
