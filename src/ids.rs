//! Names the loop hands out: which server received a request
//! ([`ServerId`]) and which connection a handle belongs to (`ConnRef`).

/// Names a server within an [`crate::EventLoop`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ServerId(pub(crate) usize);

impl ServerId {
    /// The server's index, in the order servers were added (from 0).
    pub fn index(self) -> usize {
        self.0
    }
}

/// Names one connection: its slab key and a serial that tells a reused key
/// from the connection a handle was made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConnRef {
    pub token: usize,
    pub serial: u64,
}
