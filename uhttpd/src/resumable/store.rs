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
//! Several instances may share the upload directory (behind a load
//! balancer): the records on disk are the state, read again by every
//! request that looks at an upload (a small file read, on the loop, as a
//! plain upload's file creation is), so an upload begun on one instance
//! is resumed on another; what is kept in memory is a cache of the
//! records seen here, for the limits and the metrics (this instance's
//! view).
//!
//! One writer at a time, across processes: [`Store::begin_append`] takes
//! an exclusive advisory lock (`flock`) on the data file, held by the file
//! it returns until that is closed (the append acknowledged or dropped);
//! a second append meanwhile, from this instance or another, is refused
//! ([`AppendError::Busy`], answered 423 Locked, as tusd does; both
//! protocols' clients retry after asking the offset again). Recovery at
//! start-up leaves a locked upload alone: another instance is writing it.
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
    /// Another request (here or on another instance sharing the
    /// directory) is appending, or its bytes are being flushed.
    Busy,
    /// The upload is complete.
    Completed,
    /// The client's offset is not the upload's: here is the right one.
    Mismatch(u64),
    Io(io::Error),
}

/// Every partial upload (see the module doc).
pub struct Store {
    dir: PathBuf,
    limits: Limits,
    /// The records seen by this instance (the disk has the truth).
    uploads: Mutex<HashMap<Id, Meta>>,
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

/// How long a file that may be another instance's work in progress (a
/// record being replaced, a data file whose record is not written yet)
/// is left alone by recovery.
const IN_PROGRESS: Duration = Duration::from_secs(60);

/// Extension of a record being replaced.
const NEW_RECORD: &str = "meta-new";

/// Takes the exclusive advisory lock of an upload's data file, without
/// waiting: `false` when another open file holds it (in this process or
/// another). It is released when `file` (and any duplicate) is closed.
fn try_lock(file: &File) -> io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Whether `path` changed within [`IN_PROGRESS`].
fn is_recent(path: &Path) -> bool {
    fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().map_or(true, |age| age < IN_PROGRESS))
}

/// Writes `bytes` to `path` durably: a flushed temporary file renamed
/// over it.
fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = path.with_extension(NEW_RECORD);
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
                        uploads.insert(id, meta);
                        true
                    }
                    None => false,
                },
                // Data files are kept or removed with their record, below.
                (Some(_), "part") => true,
                // Another instance may be replacing this record.
                (Some(_), NEW_RECORD) => is_recent(&path),
                _ => false,
            };
            if !keep {
                let _ = fs::remove_file(&path);
            }
        }
        for entry in fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            // A data file just created by another instance has no record
            // for a moment.
            let orphan = Id::parse(stem).is_none_or(|id| !uploads.contains_key(&id));
            if orphan && !is_recent(&path) {
                let _ = fs::remove_file(&path);
            }
        }
        log::info!("resumable uploads: {} recovered", uploads.len());
        Ok(())
    }

    /// The record at `path` if it is sound and not expired, its data cut
    /// to the acknowledged offset; one being appended to by another
    /// instance (its data file locked) is kept as it is.
    fn recovered(&self, id: Id, path: &Path, now: u64) -> Option<Meta> {
        let meta: Meta = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
        if meta.complete {
            return (meta.expires(self.limits.expiry) > now).then_some(meta);
        }
        let data = OpenOptions::new()
            .write(true)
            .open(self.data_path(id))
            .ok()?;
        if !try_lock(&data).ok()? {
            return Some(meta);
        }
        if meta.expires(self.limits.expiry) <= now {
            log::info!("resumable upload {id} expired");
            let _ = fs::remove_file(self.data_path(id));
            return None;
        }
        if data.metadata().ok()?.len() < meta.offset {
            log::warn!("resumable upload {id}: data shorter than its offset, dropped");
            return None;
        }
        data.set_len(meta.offset).ok()?;
        Some(meta)
    }

    /// The record of `id` as the disk has it (`None`: none, or unreadable).
    fn read_record(&self, id: Id) -> Option<Meta> {
        let bytes = match fs::read(self.meta_path(id)) {
            Ok(bytes) => bytes,
            Err(e) => {
                if e.kind() != io::ErrorKind::NotFound {
                    log::warn!("resumable upload {id}: cannot read its record: {e}");
                }
                return None;
            }
        };
        serde_json::from_slice(&bytes)
            .inspect_err(|e| log::warn!("resumable upload {id}: broken record: {e}"))
            .ok()
    }

    /// The record of `id` read from disk, the cache brought up to date;
    /// an expired upload is removed (unless someone is appending to it).
    fn load(&self, uploads: &mut HashMap<Id, Meta>, id: Id) -> Option<Meta> {
        let Some(meta) = self.read_record(id) else {
            uploads.remove(&id);
            return None;
        };
        if meta.expires(self.limits.expiry) <= now_secs() && !self.is_being_written(id) {
            log::info!("resumable upload {id} expired");
            uploads.remove(&id);
            self.remove_files(id);
            return None;
        }
        uploads.insert(id, meta.clone());
        Some(meta)
    }

    /// Whether an append holds the data file of `id`.
    fn is_being_written(&self, id: Id) -> bool {
        OpenOptions::new()
            .write(true)
            .open(self.data_path(id))
            .is_ok_and(|file| !try_lock(&file).unwrap_or(false))
    }

    /// How many uploads are open (begun, not complete), for the metrics.
    pub fn open_count(&self) -> usize {
        self.lock().values().filter(|meta| !meta.complete).count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Id, Meta>> {
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

    /// Removes what expired (its record read again first: another
    /// instance may have changed it; not while being appended to).
    fn sweep(&self, uploads: &mut HashMap<Id, Meta>) {
        let now = now_secs();
        let expiry = self.limits.expiry;
        let expired: Vec<Id> = uploads
            .iter()
            .filter(|(_, meta)| meta.expires(expiry) <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.load(uploads, id);
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
        let open = uploads.values().filter(|meta| !meta.complete);
        let (total, mine) = open.fold((0, 0), |(t, m), other| {
            (t + 1, m + usize::from(other.client == meta.client))
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
        uploads.insert(id, meta);
        Ok(id)
    }

    /// The record of `id`, if it exists and has not expired (read from
    /// disk: another instance may have changed it).
    pub fn get(&self, id: Id) -> Option<Meta> {
        let mut uploads = self.lock();
        self.sweep(&mut uploads);
        self.load(&mut uploads, id)
    }

    /// Starts an append at `offset`: the data file is opened and locked
    /// (the returned file holds the lock: the upload is busy until it is
    /// closed), the record read under the lock, and the file cut to the
    /// acknowledged offset (bytes of an earlier append not yet
    /// acknowledged are dropped) and positioned there. On the loop, as a
    /// plain upload's file creation is: an `open`, a `flock` that does not
    /// wait, a small read and an `ftruncate` that, but after an
    /// interrupted append whose flush was refused, changes nothing.
    pub fn begin_append(&self, id: Id, offset: u64) -> Result<(File, Meta), AppendError> {
        let mut uploads = self.lock();
        self.sweep(&mut uploads);
        let mut file = match OpenOptions::new().write(true).open(self.data_path(id)) {
            Ok(file) => file,
            // Stored under its name (or being stored: the record does not
            // say so yet), or gone.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(match self.load(&mut uploads, id) {
                    Some(meta) if meta.complete => AppendError::Completed,
                    Some(_) => AppendError::Busy,
                    None => AppendError::NotFound,
                });
            }
            Err(e) => return Err(AppendError::Io(e)),
        };
        if !try_lock(&file).map_err(AppendError::Io)? {
            return Err(AppendError::Busy);
        }
        let meta = self.load(&mut uploads, id).ok_or(AppendError::NotFound)?;
        if meta.complete {
            return Err(AppendError::Completed);
        }
        if offset != meta.offset {
            return Err(AppendError::Mismatch(meta.offset));
        }
        file.set_len(offset).map_err(AppendError::Io)?;
        file.seek(SeekFrom::Start(offset))
            .map_err(AppendError::Io)?;
        Ok((file, meta))
    }

    /// Records what an append made durable (the caller flushed the data
    /// first, and still holds the file from [`Store::begin_append`];
    /// blocks: a disk thread's work): the new offset, and the length or
    /// digest the request declared.
    pub fn acknowledge(&self, id: Id, change: impl FnOnce(&mut Meta)) -> io::Result<Meta> {
        let mut meta = self
            .read_record(id)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "upload cancelled"))?;
        change(&mut meta);
        meta.updated = now_secs();
        // unwrap: a derived Serialize of plain data cannot fail.
        replace_file(&self.meta_path(id), &serde_json::to_vec(&meta).unwrap())?;
        self.lock().insert(id, meta.clone());
        Ok(meta)
    }

    /// Cancels `id` (`DELETE`): its files go. Whether it existed.
    pub fn remove(&self, id: Id) -> bool {
        let mut uploads = self.lock();
        self.sweep(&mut uploads);
        let cached = uploads.remove(&id).is_some();
        let existed = fs::remove_file(self.meta_path(id)).is_ok() || cached;
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
        // Closing the file ends the append.
        drop(file);
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

    /// Two instances sharing the upload directory (two stores here: an
    /// `flock` conflicts between two open files of one process as between
    /// two processes).
    #[test]
    fn an_upload_begun_through_one_store_is_resumed_through_another_one_writer_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let a = Store::open(dir.path(), limits()).unwrap();
        let b = Store::open(dir.path(), limits()).unwrap();
        let id = a.create(meta("10.0.0.1")).unwrap();
        assert_eq!(b.get(id).map(|m| m.offset), Some(0));

        let (mut file, _) = a.begin_append(id, 0).unwrap();
        assert!(matches!(b.begin_append(id, 0), Err(AppendError::Busy)));
        // An instance starting meanwhile leaves the locked upload alone.
        file.write_all(b"hel").unwrap();
        let c = Store::open(dir.path(), limits()).unwrap();
        assert_eq!(fs::read(c.data_path(id)).unwrap(), b"hel");
        file.write_all(b"lo").unwrap();
        file.sync_data().unwrap();
        a.acknowledge(id, |m| m.offset = 5).unwrap();
        drop(file);

        assert_eq!(b.get(id).map(|m| m.offset), Some(5));
        assert!(matches!(
            b.begin_append(id, 0),
            Err(AppendError::Mismatch(5))
        ));
        let (mut file, _) = b.begin_append(id, 5).unwrap();
        assert!(matches!(a.begin_append(id, 5), Err(AppendError::Busy)));
        file.write_all(b" world").unwrap();
        file.sync_data().unwrap();
        b.acknowledge(id, |m| m.offset = 11).unwrap();
        drop(file);
        assert_eq!(a.get(id).map(|m| m.offset), Some(11));
        assert_eq!(fs::read(a.data_path(id)).unwrap(), b"hello world");

        // Cancelled on one: gone on the other, and its writer is told.
        let (_file, _) = a.begin_append(id, 11).unwrap();
        assert!(b.remove(id));
        assert!(a.get(id).is_none());
        assert_eq!(
            a.acknowledge(id, |m| m.offset = 12).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        assert!(matches!(b.begin_append(id, 11), Err(AppendError::NotFound)));
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
