//! Producing a byte range of an archive into its response stream, on an
//! archive thread, until the client stops keeping up
//! ([`Outcome::Blocked`]) or the range is sent.
//!
//! Memory: one chunk of at most [`CHUNK`] bytes waits to be sent, plus a
//! rendered header. Files are read with `pread` from where the range
//! needs them; each read is checked against the entry list (size and
//! mtime, from the open file), so a file that changes ends the response
//! (the stream is aborted: the connection closes short of the
//! `Content-Length`) instead of sending bytes that do not match.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;
use std::{fmt, io};

use uhttp::{Error, Request, ResponseStream};

use super::layout::{Layout, What};
use super::members::Member;

/// The most bytes produced before they are handed to the stream.
pub const CHUNK: usize = 64 << 10;
/// CRCs remembered across downloads (a resumed zip download needs the
/// CRCs of files it does not send again); the cache is emptied when full.
const CRC_CACHE_ENTRIES: usize = 1 << 16;

/// CRC-32s of files by (path, size, mtime), shared by every download.
#[derive(Debug, Default)]
pub struct CrcCache(Mutex<HashMap<(PathBuf, u64, SystemTime), u32>>);

impl CrcCache {
    fn get(&self, key: &(PathBuf, u64, SystemTime)) -> Option<u32> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .copied()
    }

    fn insert(&self, key: (PathBuf, u64, SystemTime), crc: u32) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= CRC_CACHE_ENTRIES {
            map.clear();
        }
        map.insert(key, crc);
    }
}

/// Why producing stopped short.
#[derive(Debug)]
enum Stop {
    /// A file is not as the entry list says any more.
    Changed(PathBuf),
    Io(PathBuf, io::Error),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Changed(path) => write!(f, "{} changed while it was sent", path.display()),
            Stop::Io(path, e) => write!(f, "cannot read {}: {e}", path.display()),
        }
    }
}

/// How far a run got.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The range is sent, or the response ended (the client left, a file
    /// changed).
    Done,
    /// The client is not keeping up: go on after `Event::Writable`.
    Blocked,
}

/// A file being read, from where the range reached it.
struct Reading {
    index: usize,
    file: File,
    /// The offset in the file of the next read.
    at: u64,
    /// The CRC so far, when the file is read from its start.
    crc: Option<crc32fast::Hasher>,
}

/// One download: the layout, the range left to send, and the stream.
pub struct Producer {
    layout: Arc<Layout>,
    members: Vec<Member>,
    stream: ResponseStream,
    pos: u64,
    end: u64,
    pending: Vec<u8>,
    reading: Option<Reading>,
    crcs: Arc<CrcCache>,
}

impl Producer {
    /// Produces `range` of `layout` (made from `members`) into `stream`.
    pub fn new(
        layout: Arc<Layout>,
        members: Vec<Member>,
        stream: ResponseStream,
        range: std::ops::Range<u64>,
        crcs: Arc<CrcCache>,
    ) -> Producer {
        Producer {
            layout,
            members,
            stream,
            pos: range.start,
            end: range.end,
            pending: Vec::with_capacity(CHUNK),
            reading: None,
            crcs,
        }
    }

    /// The request being answered.
    pub fn request(&self) -> &Request {
        self.stream.request()
    }

    /// Ends the response short (the connection closes).
    pub fn abort(&self) {
        self.stream.abort();
    }

    /// Produces and sends until the range is sent or the stream refuses
    /// more for now.
    pub fn run(&mut self) -> Outcome {
        loop {
            if !self.pending.is_empty() {
                match self.stream.send_chunk(&self.pending) {
                    Ok(()) => self.pending.clear(),
                    Err(Error::WouldBlock) => return Outcome::Blocked,
                    Err(_) => return Outcome::Done,
                }
            }
            if self.pos >= self.end {
                let _ = self.stream.end();
                return Outcome::Done;
            }
            if let Err(stop) = self.fill() {
                log::warn!(
                    "{}: archive download cut short: {stop}",
                    self.request().url()
                );
                self.stream.abort();
                return Outcome::Done;
            }
        }
    }

    /// Appends the next bytes of the range to `pending`, up to [`CHUNK`].
    fn fill(&mut self) -> Result<(), Stop> {
        let layout = Arc::clone(&self.layout);
        while self.pending.len() < CHUNK && self.pos < self.end {
            // The range lies within the archive: a piece holds `pos`.
            let Some(i) = layout.piece_at(self.pos) else {
                break;
            };
            let piece = layout.pieces[i];
            let stop = piece.end().min(self.end);
            if let What::Data(index) = piece.what {
                let room = (CHUNK - self.pending.len()) as u64;
                let want = (stop - self.pos).min(room);
                self.read(index, self.pos - piece.start, want)?;
                continue;
            }
            let mut bytes = Vec::new();
            let (members, crcs) = (&self.members, &self.crcs);
            layout.render(piece.what, |i| crc_of(&members[i], crcs), &mut bytes)?;
            let from = (self.pos - piece.start) as usize;
            let to = (stop - piece.start) as usize;
            self.pending.extend_from_slice(&bytes[from..to]);
            self.pos = stop;
        }
        Ok(())
    }

    /// Reads `want` (> 0) bytes of entry `index`'s file from `offset`.
    fn read(&mut self, index: usize, offset: u64, want: u64) -> Result<(), Stop> {
        let member = &self.members[index];
        let size = member.entry.size.unwrap_or(0);
        let path = &member.path;
        let reuse = self
            .reading
            .as_ref()
            .is_some_and(|r| r.index == index && r.at == offset);
        if !reuse {
            let file = open_checked(member)?;
            self.reading = Some(Reading {
                index,
                file,
                at: offset,
                crc: (offset == 0).then(crc32fast::Hasher::new),
            });
        }
        // unwrap: set just above when not reused.
        let reading = self.reading.as_mut().unwrap();
        let start = self.pending.len();
        self.pending.resize(start + want as usize, 0);
        let n = reading
            .file
            .read_at(&mut self.pending[start..], reading.at)
            .map_err(|e| Stop::Io(path.clone(), e))?;
        self.pending.truncate(start + n);
        if n == 0 || !unchanged(&reading.file, member) {
            return Err(Stop::Changed(path.clone()));
        }
        if let Some(crc) = &mut reading.crc {
            crc.update(&self.pending[start..]);
        }
        reading.at += n as u64;
        self.pos += n as u64;
        if reading.at == size
            && let Some(crc) = self.reading.take().and_then(|r| r.crc)
        {
            self.crcs.insert(key(member), crc.finalize());
        }
        Ok(())
    }
}

fn key(member: &Member) -> (PathBuf, u64, SystemTime) {
    (
        member.path.clone(),
        member.entry.size.unwrap_or(0),
        member.modified,
    )
}

/// Opens a member's file, checking it is still as listed.
fn open_checked(member: &Member) -> Result<File, Stop> {
    let path = &member.path;
    let file = File::open(path).map_err(|e| Stop::Io(path.clone(), e))?;
    if !unchanged(&file, member) {
        return Err(Stop::Changed(path.clone()));
    }
    Ok(file)
}

/// Whether the open `file` still has the member's size and mtime.
fn unchanged(file: &File, member: &Member) -> bool {
    file.metadata().is_ok_and(|meta| {
        meta.is_file()
            && Some(meta.len()) == member.entry.size
            && meta.modified().is_ok_and(|m| m == member.modified)
    })
}

/// The CRC-32 of a member's file: remembered, or read whole for it.
fn crc_of(member: &Member, crcs: &CrcCache) -> Result<u32, Stop> {
    let key = key(member);
    if let Some(crc) = crcs.get(&key) {
        return Ok(crc);
    }
    let path = &member.path;
    let file = open_checked(member)?;
    let size = member.entry.size.unwrap_or(0);
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0; CHUNK.min(size as usize)];
    let mut at = 0u64;
    while at < size {
        let want = (size - at).min(buf.len() as u64) as usize;
        let n = file
            .read_at(&mut buf[..want], at)
            .map_err(|e| Stop::Io(path.clone(), e))?;
        if n == 0 {
            return Err(Stop::Changed(path.clone()));
        }
        hasher.update(&buf[..n]);
        at += n as u64;
    }
    if !unchanged(&file, member) {
        return Err(Stop::Changed(path.clone()));
    }
    let crc = hasher.finalize();
    crcs.insert(key, crc);
    Ok(crc)
}
