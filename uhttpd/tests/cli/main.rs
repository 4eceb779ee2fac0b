//! `uhttpd` end to end: the real binary on a loopback port (port 0, the
//! address read from its stdout), a temporary ROOT, real clients (`ureq`,
//! raw sockets, `curl`, headless Chromium).

mod access_log;
mod acme;
mod archive;
mod auth;
mod bad_bytes;
mod browser;
mod cache_control;
mod command_line;
mod compression;
// The harness shared by the four test binaries; each uses a different part
// of it, and the rest would be reported as dead code in this one.
#[allow(dead_code)]
#[path = "../../../tests/common/mod.rs"]
mod common;
mod connections;
mod fleet;
mod generated;
mod health;
mod limits;
mod listing;
mod log_format;
mod memory;
mod metrics;
mod packaging;
mod permissions;
mod proxy_protocol;
mod resumable;
mod routing;
mod rpc;
mod soak;
mod static_files;
mod strict_client;
mod tls;
mod traversal;
mod unix_socket;
mod uploads;
mod util;
mod wire;

use common::tls_certs;
