//! On-the-fly compression (`--compress`): compressible files are coded on
//! worker threads, never on the poll loop, and the coded bodies are kept
//! in a cache bounded in bytes, so a hot file is compressed once.
//!
//! ```text
//! GET /app.js (Accept-Encoding: br)  ─ cache hit (path, size, mtime, br) → answered on the loop
//!   └ miss → job queued to a compression thread → compress → cache → answer from the thread
//!       └ queue full → identity, at once
//! ```
//!
//! Only types that compress ([`is_compressible`]), from [`MIN_SIZE`] to
//! [`MAX_SIZE`] bytes, never for a `Range` request (those get identity
//! bytes, whose ranges stay stable): see `serve.rs`.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use uhttp::{Request, Response};

use super::encoding::Coding;
use crate::pool::Pool;

/// Smaller files are sent as they are: the coding's framing would eat
/// most of the gain (nginx's `gzip_min_length` is 20 bytes, Caddy's
/// `minimum_length` 512; a TCP segment holds about 1400).
pub const MIN_SIZE: u64 = 1024;
/// Larger files are sent as they are: compressing them whole would keep a
/// thread busy for long and hold their bytes twice.
pub const MAX_SIZE: u64 = 4 << 20;
/// Threads that compress.
const THREADS: usize = 2;
/// Compressions that may wait for a thread; beyond, identity is sent.
const PENDING: usize = 64;

/// gzip level: zlib's default; nginx uses 1 because it compresses every
/// response again, while a cached body is compressed once.
const GZIP_LEVEL: u32 = 6;
/// brotli quality: 11 takes seconds per MiB; 5 is about gzip's speed and
/// 15–20% smaller (Cloudflare and many CDNs code on the fly at 4–5).
const BROTLI_QUALITY: u32 = 5;
/// brotli window (log2 bytes): the encoder's default.
const BROTLI_WINDOW: u32 = 22;
/// zstd level: the library's default, as Caddy uses.
const ZSTD_LEVEL: i32 = 3;

/// Whether a `Content-Type` names something that compresses well: text,
/// JSON, JavaScript, XML, SVG, WASM, fonts without their own compression.
/// Images, audio, video, archives, WOFF fonts are coded already.
pub fn is_compressible(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let Some((kind, sub)) = essence.split_once('/') else {
        return false;
    };
    kind == "text"
        || sub.ends_with("+json")
        || sub.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/javascript"
                | "application/x-javascript"
                | "application/ecmascript"
                | "application/xml"
                | "application/wasm"
                | "application/x-sh"
                | "application/x-tar"
                | "application/toml"
                | "application/yaml"
                | "application/x-yaml"
                | "application/vnd.ms-fontobject"
                | "font/ttf"
                | "font/otf"
                | "image/svg+xml"
                | "image/x-icon"
                | "image/vnd.microsoft.icon"
                | "image/bmp"
        )
}

/// `data` in `coding`.
pub fn compress(coding: Coding, data: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() / 3);
    match coding {
        Coding::Gzip => {
            let level = flate2::Compression::new(GZIP_LEVEL);
            let mut encoder = flate2::write::GzEncoder::new(out, level);
            encoder.write_all(data)?;
            out = encoder.finish()?;
        }
        Coding::Br => {
            let mut encoder =
                brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, BROTLI_WINDOW);
            encoder.write_all(data)?;
            encoder.flush()?;
            drop(encoder);
        }
        Coding::Zstd => {
            out = zstd::stream::encode_all(data, ZSTD_LEVEL)?;
        }
    }
    Ok(out)
}

/// Which coded body: a file as it was when read, in one coding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// The request path, as received.
    pub path: String,
    pub len: u64,
    pub mtime: SystemTime,
    pub coding: Coding,
}

/// Coded bodies, at most `max` bytes of them in all; the oldest go first.
#[derive(Debug)]
pub struct BodyCache {
    max: usize,
    state: Mutex<CacheState>,
}

#[derive(Debug, Default)]
struct CacheState {
    bodies: HashMap<Key, Arc<[u8]>>,
    /// Insertion order, oldest first: what to drop to make room.
    order: VecDeque<Key>,
    bytes: usize,
}

impl BodyCache {
    /// An empty cache holding at most `max` bytes of bodies.
    pub fn new(max: usize) -> BodyCache {
        BodyCache {
            max,
            state: Mutex::default(),
        }
    }

    /// The body kept for `key`.
    pub fn get(&self, key: &Key) -> Option<Arc<[u8]>> {
        self.lock().bodies.get(key).cloned()
    }

    /// Keeps `body` for `key`, dropping the oldest bodies to stay within
    /// the bound; one larger than the whole bound is not kept. Returns
    /// the bytes and bodies held afterwards.
    pub fn insert(&self, key: Key, body: Arc<[u8]>) -> (usize, usize) {
        let mut state = self.lock();
        if body.len() <= self.max && !state.bodies.contains_key(&key) {
            while state.bytes + body.len() > self.max {
                let Some(old) = state.order.pop_front() else {
                    break;
                };
                if let Some(dropped) = state.bodies.remove(&old) {
                    state.bytes -= dropped.len();
                }
            }
            state.bytes += body.len();
            state.order.push_back(key.clone());
            state.bodies.insert(key, body);
        }
        (state.bytes, state.bodies.len())
    }

    /// The bound, in bytes.
    pub fn max(&self) -> usize {
        self.max
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The bytes to compress.
pub enum Input {
    /// Already in memory.
    Memory(Arc<[u8]>),
    /// To be read (on the compression thread) from the open file.
    Disk(Arc<File>),
}

/// Builds the answer from the coded body (`Err`: the file could not be
/// read or coded).
pub type Respond = Box<dyn FnOnce(io::Result<Arc<[u8]>>) -> Response + Send>;

/// One compression, and the request waiting for it.
pub struct Job {
    pub req: Request,
    pub key: Key,
    pub input: Input,
    pub respond: Respond,
}

/// Requests waiting for a compression already under way, by its key.
type Waiting = Mutex<HashMap<Key, Vec<(Request, Respond)>>>;

/// Requests that may wait for one compression under way; beyond, a new
/// request is sent the file as it is.
const MAX_WAITING: usize = 1024;

/// The compression threads and their cache.
pub struct Compressor {
    pool: Pool<Job>,
    cache: Arc<BodyCache>,
    /// Compressions queued or running: a request for the same body waits
    /// for that one instead of compressing it again.
    waiting: Arc<Waiting>,
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor")
            .field("pool", &self.pool)
            .field("cache_max", &self.cache.max)
            .finish()
    }
}

impl Compressor {
    /// Starts the compression threads, with a cache of at most
    /// `cache_bytes` of coded bodies.
    pub fn start(cache_bytes: usize) -> io::Result<Compressor> {
        let cache = Arc::new(BodyCache::new(cache_bytes));
        let waiting = Arc::new(Waiting::default());
        let (shared, waiters) = (Arc::clone(&cache), Arc::clone(&waiting));
        let pool = Pool::new("compress", THREADS, PENDING, move |job: Job| {
            run(&shared, &waiters, job);
        })?;
        Ok(Compressor {
            pool,
            cache,
            waiting,
        })
    }

    /// The coded body kept for `key`.
    pub fn cached(&self, key: &Key) -> Option<Arc<[u8]>> {
        self.cache.get(key)
    }

    /// Queues `job`, or — when the same body is being compressed — lets it
    /// wait for that one; when too many wait, hands it back (the caller
    /// sends identity instead).
    pub fn try_run(&self, job: Job) -> Result<(), Job> {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(waiters) = waiting.get_mut(&job.key) {
            if waiters.len() >= MAX_WAITING {
                return Err(job);
            }
            waiters.push((job.req, job.respond));
            return Ok(());
        }
        let key = job.key.clone();
        waiting.insert(key.clone(), Vec::new());
        // Queued under the lock: the thread cannot finish the job before
        // its entry exists.
        self.pool.try_run(job).inspect_err(|_| {
            waiting.remove(&key);
        })
    }
}

/// On a compression thread: read, code, keep, answer (the request, and
/// those that waited for the same body).
fn run(cache: &BodyCache, waiting: &Waiting, job: Job) {
    let Job {
        req,
        key,
        input,
        respond,
    } = job;
    // Removes the entry of waiters even when coding panics: dropped, their
    // requests are answered 500 by the library rather than never.
    let unwait = Unwait { waiting, key: &key };
    let coded = read(input, key.len).and_then(|data| {
        // Another request may have coded it meanwhile.
        if let Some(body) = cache.get(&key) {
            return Ok(body);
        }
        let body: Arc<[u8]> = compress(key.coding, &data)?.into();
        let (bytes, count) = cache.insert(key.clone(), Arc::clone(&body));
        log::debug!(
            "compressed {} ({}): {} -> {} bytes; compress cache: {bytes} of {} bytes in {count} bodies",
            key.path,
            key.coding.token(),
            key.len,
            body.len(),
            cache.max(),
        );
        Ok(body)
    });
    if let Err(e) = &coded {
        log::warn!("cannot compress {}: {e}", key.path);
    }
    let waiters = unwait.take();
    for (req, respond) in std::iter::once((req, respond)).chain(waiters) {
        let coded = match &coded {
            Ok(body) => Ok(Arc::clone(body)),
            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
        };
        if let Err(e) = req.send(respond(coded)) {
            log::debug!("{}: cannot answer {}: {e}", req.remote_address(), req.url());
        }
    }
}

/// Takes a compression's waiters out of [`Waiting`], at the latest when
/// dropped.
struct Unwait<'a> {
    waiting: &'a Waiting,
    key: &'a Key,
}

impl Unwait<'_> {
    fn take(&self) -> Vec<(Request, Respond)> {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.remove(self.key).unwrap_or_default()
    }
}

impl Drop for Unwait<'_> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

/// The `len` bytes to code: a file that is not `len` bytes long any more
/// changed since it was opened, and is not coded.
fn read(input: Input, len: u64) -> io::Result<Arc<[u8]>> {
    match input {
        Input::Memory(data) => Ok(data),
        Input::Disk(file) => {
            let mut data = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            (&*file)
                .take(len.saturating_add(1))
                .read_to_end(&mut data)?;
            if data.len() as u64 != len {
                return Err(io::Error::other("the file changed while it was read"));
            }
            Ok(data.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(path: &str, coding: Coding) -> Key {
        Key {
            path: path.into(),
            len: 1,
            mtime: SystemTime::UNIX_EPOCH,
            coding,
        }
    }

    #[test]
    fn keeps_at_most_its_bound_dropping_the_oldest() {
        let cache = BodyCache::new(100);
        for i in 0..10 {
            let (bytes, _) = cache.insert(key(&format!("/{i}"), Coding::Gzip), vec![0; 30].into());
            assert!(bytes <= 100);
        }
        assert!(cache.get(&key("/9", Coding::Gzip)).is_some());
        assert!(cache.get(&key("/7", Coding::Gzip)).is_some());
        assert!(cache.get(&key("/6", Coding::Gzip)).is_none());
        assert!(cache.get(&key("/9", Coding::Br)).is_none());
        let (bytes, count) = cache.insert(key("/big", Coding::Br), vec![0; 101].into());
        assert_eq!(
            (bytes, count),
            (90, 3),
            "a body beyond the bound is not kept"
        );
    }

    #[test]
    fn every_coding_round_trips() {
        let text = "function f() { return 42; }\n".repeat(200);
        for coding in Coding::ALL {
            let coded = compress(coding, text.as_bytes()).unwrap();
            assert!(coded.len() < text.len() / 10, "{coding:?}");
            let mut plain = Vec::new();
            match coding {
                Coding::Gzip => {
                    flate2::read::GzDecoder::new(&coded[..])
                        .read_to_end(&mut plain)
                        .unwrap();
                }
                Coding::Br => {
                    brotli::Decompressor::new(&coded[..], 4096)
                        .read_to_end(&mut plain)
                        .unwrap();
                }
                Coding::Zstd => plain = zstd::stream::decode_all(&coded[..]).unwrap(),
            }
            assert_eq!(plain, text.as_bytes(), "{coding:?}");
        }
    }

    #[test]
    fn compresses_text_and_not_what_is_coded_already() {
        for yes in [
            "text/html; charset=utf-8",
            "text/css",
            "TEXT/JavaScript",
            "application/javascript",
            "application/json",
            "application/manifest+json",
            "image/svg+xml",
            "application/wasm",
            "application/xml",
            "application/atom+xml",
        ] {
            assert!(is_compressible(yes), "{yes}");
        }
        for no in [
            "image/png",
            "image/jpeg",
            "video/mp4",
            "application/zip",
            "application/gzip",
            "font/woff2",
            "application/octet-stream",
            "",
            "text",
            "caf\u{e9}/t",
        ] {
            assert!(!is_compressible(no), "{no}");
        }
    }
}
