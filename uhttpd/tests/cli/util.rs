//! What the `uhttpd` tests use: the shared harness (`tests/common/`), whose
//! `uhttpd` launcher starts the real binary on a loopback port with a
//! temporary ROOT, and the clients the tests talk to it with.

use std::net::{SocketAddr, TcpStream};
use std::process::Command;

pub use crate::common::client::{Response, read_head, read_to_close};
pub use crate::common::uhttpd::{Server, path_str, port_of, run};
pub use crate::common::{PATIENCE, agent, find, wait_until, write_file};

/// A connection with read and write timeouts of [`PATIENCE`].
pub fn connect(addr: SocketAddr) -> TcpStream {
    crate::common::client::tcp(addr, PATIENCE)
}

/// `curl` with proxies and config files ignored (the test fails when
/// curl is missing).
pub fn curl() -> Command {
    crate::common::require("curl");
    let mut c = Command::new("curl");
    c.args(["-q", "--silent", "--show-error", "--noproxy", "*"]);
    c
}
