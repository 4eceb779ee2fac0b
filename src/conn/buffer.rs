//! Receive buffers and the loop's pool of buffers.
//!
//! A connection holds buffers only while a request is in flight: an idle
//! keep-alive connection costs its `Connection` struct and nothing more.
//! Buffers come from a small per-loop pool, so a busy loop neither
//! allocates nor zero-fills memory per request.

/// Size of a pooled buffer: one read from a socket, one chunk of a file.
pub(crate) const BUF_SIZE: usize = 64 * 1024;
/// Buffers of each kind the pool keeps for reuse.
const POOL_MAX: usize = 16;
/// Per-request states the pool keeps (about 200 bytes each).
const SERVING_POOL_MAX: usize = 1024;

use std::time::Instant;

use super::exchange::Serving;

/// Free buffers of one loop.
#[derive(Default)]
pub(crate) struct BufPool {
    /// Receive buffers: `len() == BUF_SIZE`, contents don't matter.
    rx: Vec<Vec<u8>>,
    /// Send buffers: empty, with `capacity() >= BUF_SIZE`.
    tx: Vec<Vec<u8>>,
    /// Per-request state of connections, none of them serving. Boxed:
    /// connections hold it as a `Box`, which moves to and from the pool
    /// without copying or allocating.
    #[allow(clippy::vec_box)]
    serving: Vec<Box<Serving>>,
}

impl BufPool {
    fn take_rx(&mut self) -> Vec<u8> {
        self.rx.pop().unwrap_or_else(|| vec![0; BUF_SIZE])
    }

    fn give_rx(&mut self, buf: Vec<u8>) {
        if buf.len() == BUF_SIZE && self.rx.len() < POOL_MAX {
            self.rx.push(buf);
        }
    }

    /// An empty send buffer.
    pub fn take_tx(&mut self) -> Vec<u8> {
        self.tx
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(BUF_SIZE))
    }

    /// Per-request state for a connection that starts serving at `now`.
    pub(super) fn take_serving(&mut self, now: Instant) -> Box<Serving> {
        match self.serving.pop() {
            Some(mut serving) => {
                *serving = Serving::new(now);
                serving
            }
            None => Box::new(Serving::new(now)),
        }
    }

    /// Returns per-request state once its connection is idle or closed.
    pub(super) fn give_serving(&mut self, serving: Box<Serving>) {
        if self.serving.len() < SERVING_POOL_MAX {
            self.serving.push(serving);
        }
    }

    /// Returns a send buffer (its contents are dropped).
    pub fn give_tx(&mut self, mut buf: Vec<u8>) {
        if buf.capacity() >= BUF_SIZE && buf.capacity() <= 2 * BUF_SIZE && self.tx.len() < POOL_MAX
        {
            buf.clear();
            self.tx.push(buf);
        }
    }
}

/// Received bytes not yet used: `data[start..end]`. `data` is fully
/// initialised once, so reading into it never zero-fills again.
#[derive(Default)]
pub(crate) struct RxBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl RxBuf {
    /// The bytes received and not yet consumed.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Marks `n` bytes as used.
    pub fn consume(&mut self, n: usize) {
        self.start += n;
        debug_assert!(self.start <= self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Room to read into, at least `min` bytes (taking a buffer from the
    /// pool, moving the unread bytes to the front, or growing).
    pub fn spare(&mut self, pool: &mut BufPool, min: usize) -> &mut [u8] {
        if self.data.is_empty() {
            self.data = pool.take_rx();
        }
        if self.data.len() - self.end < min && self.start > 0 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.data.len() - self.end < min {
            self.data.resize(self.end + min, 0);
        }
        &mut self.data[self.end..]
    }

    /// Adds `n` bytes just read into [`RxBuf::spare`].
    pub fn commit(&mut self, n: usize) {
        self.end += n;
        debug_assert!(self.end <= self.data.len());
    }

    /// Gives the buffer back to the pool if nothing is in it.
    pub fn release(&mut self, pool: &mut BufPool) {
        if self.is_empty() && !self.data.is_empty() {
            pool.give_rx(std::mem::take(&mut self.data));
            self.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_consumes_compacts_and_releases() {
        let mut pool = BufPool::default();
        let mut rx = RxBuf::default();
        let spare = rx.spare(&mut pool, 16);
        spare[..5].copy_from_slice(b"hello");
        rx.commit(5);
        assert_eq!(rx.bytes(), b"hello");
        rx.consume(2);
        assert_eq!(rx.bytes(), b"llo");
        // Asking for more room than is left after `end` compacts.
        let room = rx.spare(&mut pool, BUF_SIZE - 3).len();
        assert_eq!(room, BUF_SIZE - 3);
        assert_eq!(rx.bytes(), b"llo");
        rx.consume(3);
        assert!(rx.is_empty());
        rx.release(&mut pool);
        assert_eq!(pool.rx.len(), 1);
        // The pooled buffer is reused.
        let mut again = RxBuf::default();
        again.spare(&mut pool, 1);
        assert!(pool.rx.is_empty());
    }

    #[test]
    fn grows_for_a_request_larger_than_a_buffer() {
        let mut pool = BufPool::default();
        let mut rx = RxBuf::default();
        rx.spare(&mut pool, 1);
        rx.commit(BUF_SIZE);
        assert!(rx.spare(&mut pool, 100).len() >= 100);
        assert_eq!(rx.len(), BUF_SIZE);
        rx.consume(BUF_SIZE);
        rx.release(&mut pool);
        // A grown buffer is not pooled.
        assert!(pool.rx.is_empty());
    }
}
