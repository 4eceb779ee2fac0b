//! The partial uploads, on disk and in memory: one owner ([`Store`]) for
//! every upload's state, shared by the poll loop and the disk threads.
//!
//! Each upload is two files in `UPLOAD_DIR/.uhttpd-resumable/` (a dot
//! directory, so never listed nor served, on the upload directory's file
//! system so the final rename is atomic): `ID.part`, the bytes received,
//! and `ID.meta`, a small JSON record (final name, declared length,
//! acknowledged offset, protocol, client, last change). The offset in the
//! record is the durable one: it is raised only after the data file was
//! flushed (`fdatasync`, on a disk thread), and the record itself is
//! replaced by flush + rename. After a restart [`Store::open`] reads the
//! records back and cuts each data file to its acknowledged offset, so a
//! client resumes where the server last said it stood.
//!
//! One writer at a time: [`Store::begin_append`] marks the upload busy
//! until the append is acknowledged or dropped; a second append meanwhile
//! is refused ([`AppendError::Busy`], answered 423 Locked, as tusd does;
//! both protocols' clients retry after asking the offset again).
//!
//! Uploads not changed for `expiry` are removed (lazily, on the next
//! request that looks at the store, and at start-up); a completed upload's
//! record is kept until then too, so its resource still answers "complete".

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::headers::{Algorithm, Digest};

/// Name of the directory of partial uploads, in the upload directory.
pub const DIR: &str = ".uhttpd-resumable";

/// An upload's id: 128 random bits, as 32 lowercase hex digits (the
/// resource URL is unguessable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Id([u8; 16]);

impl Id {
    fn random() -> io::Result<Id> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(io::Error::other)?;
        Ok(Id(bytes))
    }

    /// The id in a URL segment: exactly 32 lowercase hex digits.
    pub fn parse(text: &str) -> Option<Id> {
        let hex = text.as_bytes();
        if hex.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            let digit = |b: u8| match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'a'..=b'f' => Some(b - b'a' + 10),
                _ => None,
            };
            *byte = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Some(Id(bytes))
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Which protocol created an upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Ietf,
    Tus,
}

/// An upload's record (`ID.meta`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    /// Final path below the upload directory, by component (each checked).
    pub name: Vec<String>,
    /// Declared (or, once complete, known) length.
    pub length: Option<u64>,
    /// Bytes durably received.
    pub offset: u64,
    pub kind: Kind,
    /// tus `Upload-Metadata`, as sent (echoed by `HEAD`).
    pub metadata: Option<String>,
    pub client: IpAddr,
    /// Seconds since the epoch of the last acknowledged change.
    pub updated: u64,
    /// RFC 9530 `Repr-Digest` of the whole file, checked on completion.
    pub repr_digest: Option<Digest>,
    /// The file was stored under its name; nothing more may be appended.
    pub complete: bool,
    /// It may replace a file of its name (`--overwrite` and the right, as
    /// the creator held them).
    #[serde(default)]
    pub replace: bool,
}

impl Meta {
    /// When it expires, in seconds since the epoch.
    pub fn expires(&self, expiry: Duration) -> u64 {
        self.updated.saturating_add(expiry.as_secs())
    }
}

/// How many uploads may be open, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub expiry: Duration,
    pub max_open: usize,
    pub max_open_per_client: usize,
}

/// Why an upload cannot be created.
#[derive(Debug)]
pub enum CreateError {
    /// The client has `max_open_per_client` partial uploads.
    ClientLimit,
    /// `max_open` partial uploads exist.
    TotalLimit,
    Io(io::Error),
}

/// Why an append cannot start.
#[derive(Debug)]
pub enum AppendError {
    /// No such upload (never was, expired or cancelled).
    NotFound,
    /// Another request is appending, or its bytes are being flushed.
    Busy,
    /// The upload is complete.
    Completed,
    /// The client's offset is not the upload's: here is the right one.
    Mismatch(u64),
    Io(io::Error),
}

struct Entry {
    meta: Meta,
    busy: bool,
}

/// Every partial upload (see the module doc).
pub struct Store {
    dir: PathBuf,
    limits: Limits,
    uploads: Mutex<HashMap<Id, Entry>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish()
    }
}

/// Seconds since the epoch, now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Writes `bytes` to `path` durably: a flushed temporary file renamed
/// over it.
fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = path.with_extension("meta-new");
    let mut file = File::create(&temp)?;
    file.write_all(bytes)?;
    file.sync_data()?;
    fs::rename(&temp, path)
}

impl Store {
    /// Opens the store of `upload_dir` and recovers what a
    /// previous run left: records read back, data cut to the acknowledged
    /// offset; expired, broken or orphaned files removed.
    pub fn open(upload_dir: &Path, limits: Limits) -> io::Result<Store> {
        let store = Store {
            dir: upload_dir.join(DIR),
            limits,
            uploads: Mutex::new(HashMap::new()),
        };
        match store.recover() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(store),
            Err(e) => Err(e),
            Ok(()) => Ok(store),
        }
    }

    /// Reads back what a previous run left (nothing when the directory,
    /// made by the first creation, does not exist).
    fn recover(&self) -> io::Result<()> {
        let now = now_secs();
        let mut uploads = self.lock();
        for entry in fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let ext = path.extension().and_then(|s| s.to_str()).unwrap_or("");
            let keep = match (Id::parse(stem), ext) {
                (Some(id), "meta") => match self.recovered(id, &path, now) {
                    Some(meta) => {
                        uploads.insert(id, Entry { meta, busy: false });
                        true
                    }
                    None => false,
                },
                // Data files are kept or removed with their record, below.
                (Some(_), "part") => true,
                _ => false,
            };
            if !keep {
                let _ = fs::remove_file(&path);
            }
        }
        for entry in fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let orphan = Id::parse(stem).is_none_or(|id| !uploads.contains_key(&id));
            if orphan {
                let _ = fs::remove_file(&path);
            }
        }
        log::info!("resumable uploads: {} recovered", uploads.len());
        Ok(())
    }

    /// The record at `path` if it is sound and not expired, its data cut
    /// to the acknowledged offset.
    fn recovered(&self, id: Id, path: &Path, now: u64) -> Option<Meta> {
        let meta: Meta = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
        if meta.expires(self.limits.expiry) <= now {
            log::info!("resumable upload {id} expired");
            let _ = fs::remove_file(self.data_path(id));
            return None;
        }
        if !meta.complete {
            let data = OpenOptions::new()
                .write(true)
                .open(self.data_path(id))
                .ok()?;
            if data.metadata().ok()?.len() < meta.offset {
                log::warn!("resumable upload {id}: data shorter than its offset, dropped");
                return None;
            }
            data.set_len(meta.offset).ok()?;
        }
        Some(meta)
    }

    /// How many uploads are open (begun, not complete), for the metrics.
    pub fn open_count(&self) -> usize {
        self.lock().values().filter(|e| !e.meta.complete).count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Id, Entry>> {
        self.uploads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The directory of partial uploads.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn data_path(&self, id: Id) -> PathBuf {
        self.dir.join(format!("{id}.part"))
    }

    fn meta_path(&self, id: Id) -> PathBuf {
        self.dir.join(format!("{id}.meta"))
    }

    /// Removes what expired (not while busy).
    fn sweep(&self, uploads: &mut HashMap<Id, Entry>) {
        let now = now_secs();
        let expiry = self.limits.expiry;
        let expired: Vec<Id> = uploads
            .iter()
            .filter(|(_, e)| !e.busy && e.meta.expires(expiry) <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            log::info!("resumable upload {id} expired");
            uploads.remove(&id);
            self.remove_files(id);
        }
    }

    fn remove_files(&self, id: Id) {
        let _ = fs::remove_file(self.data_path(id));
        let _ = fs::remove_file(self.meta_path(id));
    }

    /// A new upload with `meta` (offset 0): its empty data file and record
    /// are created (on the loop: two small file creations, not flushed; an
    /// upload lost to a crash before its first acknowledgement is simply
    /// gone, 404, and the client starts again).
    pub fn create(&self, meta: Meta) -> Result<Id, CreateError> {
        let mut uploads = self.lock();
        self.sweep(&mut uploads);
        let open = uploads.values().filter(|e| !e.meta.complete);
        let (total, mine) = open.fold((0, 0), |(t, m), e| {
            (t + 1, m + usize::from(e.meta.client == meta.client))
        });
        if mine >= self.limits.max_open_per_client {
            return Err(CreateError::ClientLimit);
        }
        if total >= self.limits.max_open {
            return Err(CreateError::TotalLimit);
        }
        match fs::create_dir(&self.dir) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(CreateError::Io(e)),
            _ => {}
        }
        let id = Id::random().map_err(CreateError::Io)?;
        let created = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.data_path(id))
            .and_then(|_| {
                // unwrap: a derived Serialize of plain data cannot fail.
                let json = serde_json::to_vec(&meta).unwrap();
                fs::write(self.meta_path(id), json)
            });
        if let Err(e) = created {
            self.remove_files(id);
            return Err(CreateError::Io(e));
        }
        uploads.insert(id, Entry { meta, busy: false });
        Ok(id)
    }

    /// The record of `id`, if it exists and has not expired.
    pub fn get(&self, id: Id) -> Option<Meta> {
        let mut uploads = self.lock();
        self.sweep(&mut uploads);
        uploads.get(&id).map(|e| e.meta.clone())
    }

    /// Starts an append at `offset`: the upload becomes busy, and its data
    /// file is opened, cut to the acknowledged offset (bytes of an earlier
    /// append not yet acknowledged are dropped) and positioned there. On
    /// the loop, as a plain upload's file creation is: an `open` and an
    /// `ftruncate` that, but after an interrupted append whose flush was
    /// refused, changes nothing.
    pub fn begin_append(&self, id: Id, offset: u64) -> Result<(File, Meta), AppendError> {
        let mut uploads = self.lock();
        self.sweep(&mut uploads);
        let entry = uploads.get_mut(&id).ok_or(AppendError::NotFound)?;
        if entry.meta.complete {
            return Err(AppendError::Completed);
        }
        if entry.busy {
            return Err(AppendError::Busy);
        }
        if offset != entry.meta.offset {
            return Err(AppendError::Mismatch(entry.meta.offset));
        }
        let mut file = OpenOptions::new()
            .write(true)
            .open(self.data_path(id))
            .map_err(AppendError::Io)?;
        file.set_len(offset).map_err(AppendError::Io)?;
        file.seek(SeekFrom::Start(offset))
            .map_err(AppendError::Io)?;
        entry.busy = true;
        Ok((file, entry.meta.clone()))
    }

    /// Records what an append made durable (the caller flushed the data
    /// first; blocks: a disk thread's work): the new offset, and the
    /// length or digest the request declared. The upload stays busy.
    pub fn acknowledge(&self, id: Id, change: impl FnOnce(&mut Meta)) -> io::Result<Meta> {
        let mut meta = self
            .lock()
            .get(&id)
            .map(|e| e.meta.clone())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "upload cancelled"))?;
        change(&mut meta);
        meta.updated = now_secs();
        // unwrap: a derived Serialize of plain data cannot fail.
        replace_file(&self.meta_path(id), &serde_json::to_vec(&meta).unwrap())?;
        if let Some(entry) = self.lock().get_mut(&id) {
            entry.meta = meta.clone();
        }
        Ok(meta)
    }

    /// The append is over: another may start.
    pub fn release(&self, id: Id) {
        if let Some(entry) = self.lock().get_mut(&id) {
            entry.busy = false;
        }
    }

    /// Cancels `id` (`DELETE`): its files go. Whether it existed.
    pub fn remove(&self, id: Id) -> bool {
        let mut uploads = self.lock();
        self.sweep(&mut uploads);
        let existed = uploads.remove(&id).is_some();
        if existed {
            self.remove_files(id);
        }
        existed
    }

    /// Whether the data of `id` hashes to `digest` (blocks: reads the
    /// whole file; a disk thread's work).
    pub fn check_digest(&self, id: Id, digest: &Digest, from: u64) -> io::Result<bool> {
        let mut file = File::open(self.data_path(id))?;
        file.seek(SeekFrom::Start(from))?;
        Ok(hash(&mut file, digest.algorithm)? == digest.value)
    }
}

/// The `algorithm` digest of what `reader` holds.
pub fn hash(reader: &mut impl Read, algorithm: Algorithm) -> io::Result<Vec<u8>> {
    use sha2::Digest as _;
    let mut buf = vec![0u8; 64 * 1024];
    macro_rules! run {
        ($hasher:expr) => {{
            let mut hasher = $hasher;
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => hasher.update(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            hasher.finalize().to_vec()
        }};
    }
    Ok(match algorithm {
        Algorithm::Sha1 => run!(sha1::Sha1::new()),
        Algorithm::Sha256 => run!(sha2::Sha256::new()),
        Algorithm::Sha512 => run!(sha2::Sha512::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            expiry: Duration::from_secs(3600),
            max_open: 3,
            max_open_per_client: 2,
        }
    }

    fn meta(client: &str) -> Meta {
        Meta {
            name: vec!["a.bin".into()],
            length: Some(10),
            offset: 0,
            kind: Kind::Ietf,
            metadata: None,
            client: client.parse().unwrap(),
            updated: now_secs(),
            repr_digest: None,
            complete: false,
            replace: false,
        }
    }

    #[test]
    fn ids_are_32_lowercase_hex_digits_and_round_trip() {
        let id = Id::random().unwrap();
        assert_eq!(Id::parse(&id.to_string()), Some(id));
        for bad in [
            "",
            "0123456789abcdef0123456789abcde",
            "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdef0123456789abcdeg",
            "0123456789abcdef0123456789abcdef0",
            "0123456789abcdef0123456789abcdé",
        ] {
            assert_eq!(Id::parse(bad), None, "{bad}");
        }
        let text = id.to_string();
        for (at, bad) in crate::test_support::str_at_every_offset(&text) {
            assert_eq!(Id::parse(&bad), None, "{at}: {bad}");
        }
    }

    #[test]
    fn one_writer_at_a_time_offsets_must_match_and_restart_recovers_the_acknowledged_offset() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), limits()).unwrap();
        let id = store.create(meta("10.0.0.1")).unwrap();
        assert!(matches!(
            store.begin_append(id, 1),
            Err(AppendError::Mismatch(0))
        ));
        let (mut file, _) = store.begin_append(id, 0).unwrap();
        assert!(matches!(store.begin_append(id, 0), Err(AppendError::Busy)));
        file.write_all(b"hello").unwrap();
        file.sync_data().unwrap();
        store.acknowledge(id, |m| m.offset = 5).unwrap();
        store.release(id);
        // Bytes written but never acknowledged are cut off on restart.
        let (mut file, _) = store.begin_append(id, 5).unwrap();
        file.write_all(b"wor").unwrap();
        drop((file, store));
        let store = Store::open(dir.path(), limits()).unwrap();
        assert_eq!(store.get(id).map(|m| m.offset), Some(5));
        assert_eq!(fs::read(store.data_path(id)).unwrap(), b"hello");
        assert!(store.remove(id));
        assert!(store.get(id).is_none());
        assert_eq!(fs::read_dir(dir.path().join(DIR)).unwrap().count(), 0);
    }

    #[test]
    fn limits_count_open_uploads_per_client_and_in_total() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), limits()).unwrap();
        store.create(meta("10.0.0.1")).unwrap();
        store.create(meta("10.0.0.1")).unwrap();
        assert!(matches!(
            store.create(meta("10.0.0.1")),
            Err(CreateError::ClientLimit)
        ));
        store.create(meta("10.0.0.2")).unwrap();
        assert!(matches!(
            store.create(meta("10.0.0.3")),
            Err(CreateError::TotalLimit)
        ));
    }

    #[test]
    fn expired_uploads_are_removed_at_start_up_and_on_use() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), limits()).unwrap();
        let mut old = meta("10.0.0.1");
        old.updated = now_secs() - 3601;
        let stale = store.create(old).unwrap();
        let fresh = store.create(meta("10.0.0.1")).unwrap();
        drop(store);
        let store = Store::open(dir.path(), limits()).unwrap();
        assert!(store.get(stale).is_none());
        assert!(!store.data_path(stale).exists());
        assert!(store.get(fresh).is_some());
        // Junk in the directory is cleared too.
        fs::write(dir.path().join(DIR).join("junk"), b"x").unwrap();
        drop(store);
        Store::open(dir.path(), limits()).unwrap();
        assert!(!dir.path().join(DIR).join("junk").exists());
    }
}
