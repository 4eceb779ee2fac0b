//! Small files kept in memory for a moment.
//!
//! A busy site asks for the same small files (icons, scripts, pages) over
//! and over; opening, reading and closing each one every time costs four
//! system calls. A file of at most [`MAX_FILE`] bytes is kept, with its
//! validators, for [`TTL`] after it was read: a change on disk shows
//! within that second. Only paths that resolved to a regular file are ever
//! kept, so every check of the resolver still applies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::encoding::{Coding, CodingSet};

/// How long a kept file is served without looking at the disk again.
pub const TTL: Duration = Duration::from_secs(1);
/// Largest file kept.
pub const MAX_FILE: u64 = 64 * 1024;
/// Bytes kept in all; past it the cache starts over.
const MAX_TOTAL: usize = 8 * 1024 * 1024;

/// A file as served: its bytes and what the headers say about it.
#[derive(Debug)]
pub struct CachedFile {
    pub content: Arc<[u8]>,
    pub mtime: SystemTime,
    pub etag: String,
    pub last_modified: String,
    pub content_type: String,
    /// The coding of `content` (a precompressed sibling), if any.
    pub coding: Option<Coding>,
    /// The codings whose sibling was looked for and not found.
    pub no_sibling: CodingSet,
    loaded: Instant,
}

impl CachedFile {
    pub fn new(
        content: Vec<u8>,
        mtime: SystemTime,
        etag: String,
        last_modified: String,
        content_type: String,
        now: Instant,
    ) -> Self {
        CachedFile {
            content: content.into(),
            mtime,
            etag,
            last_modified,
            content_type,
            coding: None,
            no_sibling: CodingSet::default(),
            loaded: now,
        }
    }
}

/// Request path (as received) to file.
#[derive(Debug, Default)]
pub struct FileCache {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    files: HashMap<String, Arc<CachedFile>>,
    bytes: usize,
}

impl FileCache {
    /// The file kept for `raw_path`, if it is fresh.
    pub fn get(&self, raw_path: &str, now: Instant) -> Option<Arc<CachedFile>> {
        let state = self.lock();
        let file = state.files.get(raw_path)?;
        (now.saturating_duration_since(file.loaded) < TTL).then(|| Arc::clone(file))
    }

    /// Keeps `file` for `raw_path`.
    pub fn insert(&self, raw_path: &str, file: Arc<CachedFile>) {
        let mut state = self.lock();
        if state.bytes + file.content.len() > MAX_TOTAL {
            state.files.clear();
            state.bytes = 0;
        }
        state.bytes += file.content.len();
        if let Some(old) = state.files.insert(raw_path.to_owned(), file) {
            state.bytes -= old.content.len();
        }
    }

    /// Forgets every kept file (after a file was deleted).
    pub fn clear(&self) {
        let mut state = self.lock();
        state.files.clear();
        state.bytes = 0;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(bytes: usize, now: Instant) -> Arc<CachedFile> {
        Arc::new(CachedFile::new(
            vec![0; bytes],
            SystemTime::UNIX_EPOCH,
            "\"e\"".into(),
            "date".into(),
            "text/plain".into(),
            now,
        ))
    }

    #[test]
    fn serves_a_kept_file_until_its_time_is_up() {
        let cache = FileCache::default();
        let now = Instant::now();
        cache.insert("/a", file(10, now));
        assert!(cache.get("/a", now + TTL / 2).is_some());
        assert!(cache.get("/a", now + TTL).is_none());
        assert!(cache.get("/b", now).is_none());
    }

    #[test]
    fn starts_over_when_full() {
        let cache = FileCache::default();
        let now = Instant::now();
        for i in 0..(MAX_TOTAL / MAX_FILE as usize) {
            cache.insert(&format!("/{i}"), file(MAX_FILE as usize, now));
        }
        assert!(cache.get("/0", now).is_some());
        cache.insert("/more", file(MAX_FILE as usize, now));
        assert!(cache.get("/0", now).is_none());
        assert!(cache.get("/more", now).is_some());
        assert!(cache.lock().bytes <= MAX_TOTAL);
    }
}
