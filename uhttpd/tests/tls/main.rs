//! HTTPS end to end (issue 4): the real `uhttpd` with certificates made at
//! test time, talked to by real TLS peers: a rustls client of our own,
//! `curl` and `openssl s_client` when installed.
//!
//! Every server listens on `127.0.0.1` port 0 and its address is read from
//! the first stdout line. Waits are bounded polls, never sleeps.

// The harness shared by the four test binaries; each uses a different part
// of it, and the rest would be reported as dead code in this one.
#[allow(dead_code)]
#[path = "../../../tests/common/mod.rs"]
mod common;

use common::tls_certs;

mod bad_input;
mod certs;
mod client;
mod external;
mod handshake;
mod harness;
mod keys;
mod proxy_protocol;
mod redirect;
mod reload;
mod shutdown;
mod startup;
