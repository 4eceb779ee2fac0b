//! `uhttpd` end to end: the real binary on a loopback port (port 0, the
//! address read from its stdout), a temporary ROOT, real clients (`ureq`,
//! raw sockets, `curl`, headless Chromium).

mod auth;
mod browser;
mod command_line;
mod memory;
mod rpc;
mod static_files;
mod tls;
#[path = "../common/tls_certs.rs"]
mod tls_certs;
mod traversal;
mod uploads;
mod util;
