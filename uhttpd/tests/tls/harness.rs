//! A real `uhttpd` on a loopback port (the shared launcher of
//! `tests/common/uhttpd.rs`), and the site it serves.

use tempfile::TempDir;

pub use crate::common::uhttpd::{Server, bin};
pub use crate::common::{PATIENCE, poll};

/// A ROOT with a few files in it.
pub fn site() -> TempDir {
    let root = TempDir::new().unwrap();
    std::fs::write(root.path().join("hello.txt"), "hello over TLS\n").unwrap();
    std::fs::write(root.path().join("1k.bin"), one_kib()).unwrap();
    root
}

/// The contents of `1k.bin`.
pub fn one_kib() -> Vec<u8> {
    (0..1024u32).map(|i| (i % 251) as u8).collect()
}
