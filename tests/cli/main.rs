//! `uhttpd` end to end: the real binary on a loopback port (port 0, the
//! address read from its stdout), a temporary ROOT, real clients (`ureq`,
//! raw sockets, `curl`, headless Chromium).

mod access_log;
mod auth;
mod bad_bytes;
mod browser;
mod command_line;
mod connections;
mod generated;
mod memory;
mod rpc;
mod soak;
mod static_files;
mod tls;
#[path = "../common/tls_certs.rs"]
mod tls_certs;
mod traversal;
mod uploads;
mod util;
mod wire;
