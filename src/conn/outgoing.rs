//! [`Outgoing`]: the bytes of a response still to be sent — a buffer
//! (head, small bodies, chunks read from files) and the body parts not yet
//! read into it.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use crate::response::Part;

/// File parts at least this long go out with `sendfile` on plain
/// connections; shorter ones are read behind the head (one write).
pub(crate) const SENDFILE_MIN: u64 = 32 * 1024;

#[derive(Default)]
pub(crate) struct Outgoing {
    pub buf: Vec<u8>,
    pub pos: usize,
    pub parts: VecDeque<Part>,
    /// Unsent bytes at the front of `buf` that belong to answers already
    /// recorded as sent (queued in full ahead of a pipelined request).
    pub logged: usize,
}

impl Outgoing {
    pub fn is_empty(&self) -> bool {
        self.pos == self.buf.len() && self.parts.is_empty()
    }

    /// Whether the buffer is sent and the next part is a file for
    /// `sendfile` (a plain connection, a part long enough).
    pub fn next_sendfile(&mut self) -> Option<(&File, &mut u64, &mut u64)> {
        if self.pos != self.buf.len() {
            return None;
        }
        match self.parts.front_mut() {
            Some(Part::File { file, offset, len }) if *len >= SENDFILE_MIN => {
                Some((file, offset, len))
            }
            _ => None,
        }
    }

    /// Drops the front part once `sendfile` has sent all of it.
    pub fn sent_file_part(&mut self) {
        self.parts.pop_front();
    }

    /// `n` bytes were written: how many of them belong to the answer
    /// under way (not to earlier ones already recorded).
    pub fn written(&mut self, n: usize) -> usize {
        let earlier = n.min(self.logged);
        self.logged -= earlier;
        n - earlier
    }

    /// Tops the buffer up from the parts, at most to `cap` bytes unsent
    /// (file parts are read only that far). With `sendfile`, stops at a
    /// file part long enough to go out that way. Returns false when the
    /// buffer has nothing to send.
    pub fn refill(&mut self, cap: usize, sendfile: bool) -> io::Result<bool> {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
            self.logged = 0;
        } else if self.pos > 0 && self.buf.len() - self.pos < cap && !self.parts.is_empty() {
            // Topping up after a short write: the sent bytes go first, or
            // the buffer would grow by all the body sent through it.
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        while self.buf.len() - self.pos < cap {
            let Some(part) = self.parts.front_mut() else {
                break;
            };
            match part {
                Part::Bytes(bytes) => {
                    if self.buf.is_empty() && bytes.len() > cap {
                        std::mem::swap(&mut self.buf, bytes);
                    } else {
                        self.buf.extend_from_slice(bytes);
                    }
                    self.parts.pop_front();
                }
                Part::Shared { data, offset, len } => {
                    let take = (*len).min(cap - (self.buf.len() - self.pos));
                    self.buf.extend_from_slice(&data[*offset..*offset + take]);
                    *offset += take;
                    *len -= take;
                    if *len == 0 {
                        self.parts.pop_front();
                    }
                }
                Part::File { len: 0, .. } => {
                    // An empty file: nothing to read, and reading would
                    // look like a file that shrank.
                    self.parts.pop_front();
                }
                Part::File { len, .. } if sendfile && *len >= SENDFILE_MIN => break,
                Part::File { file, offset, len } => {
                    let want = (*len).min((cap - (self.buf.len() - self.pos)) as u64) as usize;
                    let start = self.buf.len();
                    self.buf.resize(start + want, 0);
                    let n = read_at_full(file, &mut self.buf[start..], *offset)?;
                    self.buf.truncate(start + n);
                    if n == 0 {
                        return Err(shrunk());
                    }
                    *offset += n as u64;
                    *len -= n as u64;
                    if *len == 0 {
                        self.parts.pop_front();
                    }
                }
            }
        }
        Ok(self.pos < self.buf.len())
    }
}

/// The file shrank under us: the promised length cannot be kept, so the
/// connection must end.
pub(crate) fn shrunk() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "file shorter than announced")
}

fn read_at_full(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// Issue 16: a file read through the buffer and sent in short writes
    /// (TLS took 16 KiB at a time) grew the buffer by all the file.
    #[test]
    fn short_writes_keep_the_buffer_at_its_cap() {
        const LEN: usize = 1 << 20;
        const CAP: usize = 64 * 1024;
        let bytes: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        let mut out = Outgoing::default();
        out.buf.extend_from_slice(b"head");
        out.parts.push_back(Part::File {
            file: file.into(),
            offset: 0,
            len: LEN as u64,
        });
        let mut sent = Vec::new();
        while out.refill(CAP, false).unwrap() {
            assert!(out.buf.capacity() <= 2 * CAP, "{}", out.buf.capacity());
            // The socket takes 16 KiB, or what is left.
            let end = out.buf.len().min(out.pos + 16 * 1024);
            sent.extend_from_slice(&out.buf[out.pos..end]);
            out.pos = end;
        }
        assert!(out.is_empty());
        assert_eq!(&sent[..4], b"head");
        assert!(sent[4..] == bytes[..], "the file came out changed");
    }
}
