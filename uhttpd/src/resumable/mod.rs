//! Resumable uploads under `/upload/`, in two protocols on one store:
//!
//! - the IETF draft "Resumable Uploads for HTTP"
//!   (draft-ietf-httpbis-resumable-upload-12, interop version 8; 5 to 7
//!   accepted too, see [`headers::interop_version`]): `ietf.rs`;
//! - tus 1.0.0 with the creation, creation-with-upload,
//!   creation-defer-length, termination, expiration and checksum (sha1,
//!   sha256) extensions: `tus.rs`.
//!
//! ```text
//! create   IETF  POST|PUT /upload/NAME   (or POST /upload/ naming the file in Upload-Metadata)
//!          tus   POST /upload/           (Upload-Metadata: filename BASE64)
//!          ──▶ Location: /upload/.resumable/ID   (IETF: also in a 104 before the body is read)
//! offset   HEAD  /upload/.resumable/ID
//! append   PATCH /upload/.resumable/ID   (Upload-Offset; the body is appended)
//! cancel   DELETE /upload/.resumable/ID
//! limits   OPTIONS /upload/
//! ```
//!
//! A request is parsed ([`ietf::parse`], [`tus::parse`]) into an [`Op`];
//! the body of a creation or append streams into the upload's data file
//! on the loop, as a plain upload's does ([`Append::feed`]); its end is
//! made durable on this module's disk threads ([`Append::complete`]:
//! digest check, `fdatasync`, offset recorded) and answered from there;
//! when the last byte is in, the file gets its name with the rules of
//! plain uploads (name checks, `--overwrite` or 409, `--max-upload-size`).
//! An append cut off (the client vanished) keeps what arrived: its bytes
//! are flushed and acknowledged the same way, off the loop, when the
//! request is dropped (unless a digest was to be checked: then nothing).

pub mod headers;
mod ietf;
pub mod store;
mod tus;

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use uhttp::{Request, Response};

use crate::errors::{error_response, json_error};
use crate::permissions::{Held, Rights};
use crate::pool::Pool;
use crate::upload::Uploads;
use headers::Digest;
use store::{AppendError, CreateError, Id, Kind, Limits, Meta, Store};

/// Where the upload resources are.
pub const RESOURCE_PREFIX: &str = "/upload/.resumable/";

/// Threads flushing appends; appends that may wait for one (beyond: 503).
const DISK_THREADS: usize = 2;
const DISK_PENDING: usize = 64;

type Job = Box<dyn FnOnce() + Send>;

/// Resumable uploads: the store, the upload rules, the disk threads.
#[derive(Debug, Clone)]
pub struct Resumable(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    store: Store,
    uploads: Uploads,
    disk: Pool<Job>,
}

/// A protocol, as the request speaks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// The IETF draft, with the interop version the client sent.
    Ietf(u64),
    Tus,
}

/// A creation request.
#[derive(Debug)]
pub struct Create {
    pub name: Vec<String>,
    pub length: Option<u64>,
    /// IETF `Upload-Complete: ?1`: this request's body is the whole file.
    pub complete: bool,
    pub metadata: Option<String>,
    pub content_digest: Option<Digest>,
    pub repr_digest: Option<Digest>,
}

/// An append request.
#[derive(Debug)]
pub struct AppendRequest {
    pub offset: u64,
    /// IETF `Upload-Complete`; tus: complete when the length is reached.
    pub complete: Option<bool>,
    pub length: Option<u64>,
    pub content_digest: Option<Digest>,
    pub repr_digest: Option<Digest>,
}

/// What a request asks.
#[derive(Debug)]
pub enum Op {
    Options,
    Create(Create),
    Offset(Id),
    Append(Id, AppendRequest),
    Cancel(Id),
}

/// What [`Resumable::start`] made of a request.
pub enum Started {
    /// Answered at once.
    Answered(Response),
    /// A body (possibly empty) goes to an upload: feed it, then complete.
    Body(Append),
}

/// The operation on an upload resource (`/upload/.resumable/ID`) when
/// `req` names one, in either protocol: `HEAD` asks the offset, `DELETE`
/// cancels, `PATCH` appends (its headers read by `append`, each protocol
/// its own); another method is 405 with `allow`.
fn resource_op(
    req: &Request,
    allow: &'static str,
    append: impl FnOnce() -> Result<AppendRequest, Response>,
) -> Option<Result<Op, Response>> {
    let id = uhttp::util::split_url(req.url())
        .0
        .strip_prefix(RESOURCE_PREFIX)?;
    let Some(id) = Id::parse(id) else {
        return Some(Err(json_error(404, "no such upload")));
    };
    Some(match req.method() {
        "HEAD" => Ok(Op::Offset(id)),
        "DELETE" => Ok(Op::Cancel(id)),
        "PATCH" => append().map(|a| Op::Append(id, a)),
        _ => Err(error_response(405).header("Allow", allow)),
    })
}

/// Whether `req` is a resumable-upload request (under `/upload/`).
pub fn claims(req: &Request) -> bool {
    let path = uhttp::util::split_url(req.url()).0;
    if path.starts_with(RESOURCE_PREFIX) {
        return true;
    }
    let root = path == "/upload" || path == "/upload/";
    match req.method() {
        "OPTIONS" => root,
        "POST" | "PUT" if path.starts_with("/upload") => {
            req.header("tus-resumable").is_some()
                || req.header("upload-draft-interop-version").is_some()
        }
        _ => false,
    }
}

impl Resumable {
    /// How many resumable uploads are open (begun, not complete).
    pub fn open_count(&self) -> usize {
        self.0.store.open_count()
    }

    /// Opens the store in the upload directory (recovering what a previous
    /// run left) and starts the disk threads.
    pub fn new(uploads: Uploads, limits: Limits) -> io::Result<Resumable> {
        let store = Store::open(&uploads.dir, limits)?;
        let disk = Pool::new("resumable", DISK_THREADS, DISK_PENDING, |job: Job| job())?;
        Ok(Resumable(Arc::new(Shared {
            store,
            uploads,
            disk,
        })))
    }

    /// Parses `req` and does what it asks, or starts receiving its body.
    /// `held`: the requester's rights at the upload directory (an
    /// upload replaces a file only with `--overwrite` and the right).
    pub fn start(&self, req: &Request, held: &Held) -> Started {
        match self.try_start(req, held) {
            Ok(started) => started,
            Err(response) => Started::Answered(response),
        }
    }

    fn try_start(&self, req: &Request, held: &Held) -> Result<Started, Response> {
        let is_tus = req.header("tus-resumable").is_some();
        let (protocol, op) = if is_tus {
            (Protocol::Tus, tus::parse(req)?)
        } else if req.method() == "OPTIONS" {
            return Ok(Started::Answered(self.options()));
        } else {
            ietf::parse(req)?
        };
        let shared = &self.0;
        let answer = |r: Response| Ok(Started::Answered(protocol.decorate(r)));
        match op {
            Op::Options => answer(self.options()),
            Op::Offset(id) => match shared.store.get(id) {
                Some(meta) => answer(protocol.offset(&meta, self.limits())),
                None => answer(json_error(404, "no such upload")),
            },
            Op::Cancel(id) => match shared.store.remove(id) {
                true => answer(Response::new(204)),
                false => answer(json_error(404, "no such upload")),
            },
            Op::Create(create) => self.create(req, protocol, create, held),
            Op::Append(id, append) => self.append_to(req, protocol, id, append, None),
        }
        .map_err(|r| protocol.decorate(r))
    }

    fn limits(&self) -> (u64, Duration) {
        (self.0.uploads.max_size, self.0.store.limits().expiry)
    }

    /// `OPTIONS /upload/`: both protocols' discovery headers.
    fn options(&self) -> Response {
        let (max, expiry) = self.limits();
        tus::options(Response::new(204), max).header("Upload-Limit", ietf::limit(max, expiry))
    }

    fn create(
        &self,
        req: &Request,
        protocol: Protocol,
        create: Create,
        held: &Held,
    ) -> Result<Started, Response> {
        let uploads = &self.0.uploads;
        // A complete body is the whole file: its length is the upload's.
        let length = match (create.complete, req.content_length()) {
            (true, Some(n)) => Some(n),
            _ => create.length,
        };
        if length.is_some_and(|n| n > uploads.max_size) {
            return Err(json_error(413, "upload too large"));
        }
        // The name is checked, its directories made and a collision found
        // now, before a byte is received; the rename checks again.
        let (file_name, dirs) = create
            .name
            .split_last()
            .ok_or_else(|| json_error(400, "empty file name"))?;
        let dir = uploads.directory(dirs)?;
        let replace = uploads.overwrite && held.rights.contains(Rights::OVERWRITE);
        if !replace && dir.join(file_name).symlink_metadata().is_ok() {
            return Err(json_error(
                409,
                &format!("{} exists", create.name.join("/")),
            ));
        }
        let kind = match protocol {
            Protocol::Ietf(_) => Kind::Ietf,
            Protocol::Tus => Kind::Tus,
        };
        let meta = Meta {
            name: create.name,
            length,
            offset: 0,
            kind,
            metadata: create.metadata,
            client: req.remote_address(),
            updated: store::now_secs(),
            repr_digest: create.repr_digest,
            complete: false,
            replace,
        };
        let id = self.0.store.create(meta).map_err(|e| match e {
            CreateError::ClientLimit => json_error(429, "too many open uploads from this client"),
            CreateError::TotalLimit => {
                json_error(503, "too many open uploads").header("Retry-After", "60")
            }
            CreateError::Io(e) => crate::upload::write_failed(self.0.store.dir(), &e),
        })?;
        let location = format!("{RESOURCE_PREFIX}{id}");
        log::info!("{}: resumable upload {id} created", req.remote_address());
        if let Protocol::Ietf(version) = protocol {
            let (max, expiry) = self.limits();
            let limit = ietf::limit(max, expiry);
            let version = version.to_string();
            let sent = req.send_informational(
                104,
                &[
                    ("Location", &location),
                    ("Upload-Draft-Interop-Version", &version),
                    ("Upload-Limit", &limit),
                ],
            );
            if let Err(e) = sent {
                log::debug!("no 104 for {location}: {e}");
            }
        }
        let request = AppendRequest {
            offset: 0,
            complete: Some(create.complete),
            length,
            content_digest: create.content_digest,
            repr_digest: None,
        };
        // Refused on its headers after all (a body longer than the length):
        // the new upload goes again.
        self.append_to(req, protocol, id, request, Some(location))
            .inspect_err(|_| {
                self.0.store.remove(id);
            })
    }

    /// Starts receiving the body of an append, or of a creation
    /// (`created`: the new resource's URL), at `request.offset`: the upload
    /// is held, and the declared lengths checked against it and the limit.
    fn append_to(
        &self,
        req: &Request,
        protocol: Protocol,
        id: Id,
        request: AppendRequest,
        created: Option<String>,
    ) -> Result<Started, Response> {
        let store = &self.0.store;
        let (file, meta) = store
            .begin_append(id, request.offset)
            .map_err(|e| match e {
                AppendError::NotFound => json_error(404, "no such upload"),
                AppendError::Busy => json_error(423, "another request is appending to this upload")
                    .header("Retry-After", "1"),
                AppendError::Completed => protocol.completed(),
                AppendError::Mismatch(expected) => protocol.mismatch(expected, request.offset),
                AppendError::Io(e) => crate::upload::write_failed(&store.data_path(id), &e),
            })?;
        let append = Append {
            resumable: self.clone(),
            id,
            protocol,
            file: Some(file),
            start: request.offset,
            written: 0,
            length: meta.length,
            complete: request.complete,
            content_digest: request.content_digest,
            repr_digest: request.repr_digest,
            created,
            refused: false,
            finished: false,
        };
        // The declared length may be given (again, or first: a deferred
        // one) on an append: it must agree with what the upload knows and
        // holds, and fit.
        let length = match (meta.length, request.length) {
            (Some(known), Some(given)) if known != given => {
                return Err(append.refuse(protocol.inconsistent_length()));
            }
            (known, given) => known.or(given),
        };
        if length.is_some_and(|n| n < request.offset) {
            return Err(append.refuse(protocol.inconsistent_length()));
        }
        if length.is_some_and(|n| n > self.0.uploads.max_size) {
            return Err(append.refuse(json_error(413, "upload too large")));
        }
        let mut append = append;
        append.length = length;
        let room = append.room(length, self.0.uploads.max_size);
        if req.content_length().is_some_and(|n| n > room) {
            let response = match length {
                Some(n)
                    if request
                        .offset
                        .saturating_add(req.content_length().unwrap_or(0))
                        > n =>
                {
                    protocol.inconsistent_length()
                }
                _ => json_error(413, "upload too large"),
            };
            return Err(append.refuse(response));
        }
        Ok(Started::Body(append))
    }
}

impl Protocol {
    /// Headers every answer of this protocol carries.
    fn decorate(self, response: Response) -> Response {
        match self {
            Protocol::Tus => response.header("Tus-Resumable", "1.0.0"),
            Protocol::Ietf(version) => {
                response.header("Upload-Draft-Interop-Version", version.to_string())
            }
        }
    }

    fn offset(self, meta: &Meta, limits: (u64, Duration)) -> Response {
        match self {
            Protocol::Tus => tus::offset(meta, limits.1),
            Protocol::Ietf(_) => ietf::offset(meta, limits),
        }
    }

    fn mismatch(self, expected: u64, provided: u64) -> Response {
        match self {
            Protocol::Tus => json_error(409, "Upload-Offset is not the upload's offset")
                .header("Upload-Offset", expected.to_string()),
            Protocol::Ietf(_) => ietf::mismatch(expected, provided),
        }
    }

    fn completed(self) -> Response {
        match self {
            Protocol::Tus => json_error(403, "the upload is complete"),
            Protocol::Ietf(_) => ietf::problem(400, "completed-upload", "the upload is complete"),
        }
    }

    fn inconsistent_length(self) -> Response {
        match self {
            Protocol::Tus => json_error(400, "the body goes past Upload-Length"),
            Protocol::Ietf(_) => ietf::problem(
                400,
                "inconsistent-upload-length",
                "the lengths given for this upload disagree",
            ),
        }
    }

    fn digest_mismatch(self) -> Response {
        match self {
            // tus checksum extension: 460 Checksum Mismatch.
            Protocol::Tus => json_error(460, "checksum mismatch"),
            Protocol::Ietf(_) => json_error(400, "digest mismatch"),
        }
    }
}

/// The body of one creation or append, being received.
pub struct Append {
    resumable: Resumable,
    id: Id,
    protocol: Protocol,
    file: Option<File>,
    /// The offset it started at, and the bytes written since.
    start: u64,
    written: u64,
    length: Option<u64>,
    complete: Option<bool>,
    content_digest: Option<Digest>,
    repr_digest: Option<Digest>,
    /// The resource URL, when this request created the upload.
    created: Option<String>,
    /// The body was refused midway: what it wrote is not kept.
    refused: bool,
    /// Completed or refused: nothing left for `Drop`.
    finished: bool,
}

impl Append {
    /// Bytes this request may still add.
    fn room(&self, length: Option<u64>, max_size: u64) -> u64 {
        let end = length.unwrap_or(max_size).min(max_size);
        end.saturating_sub(self.start.saturating_add(self.written))
    }

    /// Refused before its body: nothing written; the upload is free again
    /// (its file, and the lock, closed with `self`).
    fn refuse(mut self, response: Response) -> Response {
        self.finished = true;
        response
    }

    /// Writes body bytes (on the loop, into the page cache, as a plain
    /// upload does); refuses what goes past the length or the size limit.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), Response> {
        let n = u64::try_from(data.len()).unwrap_or(u64::MAX);
        if n > self.room(self.length, self.resumable.0.uploads.max_size) {
            let response = match self.length {
                Some(len) if len <= self.resumable.0.uploads.max_size => {
                    self.protocol.inconsistent_length()
                }
                _ => json_error(413, "upload too large"),
            };
            self.refused = true;
            return Err(self.protocol.decorate(response));
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        if let Err(e) = file.write_all(data) {
            self.refused = true;
            let path = self.resumable.0.store.data_path(self.id);
            return Err(self
                .protocol
                .decorate(crate::upload::write_failed(&path, &e)));
        }
        self.written += n;
        Ok(())
    }

    /// The body is in: checked, flushed, acknowledged (and, when the upload
    /// is complete, stored under its name) on a disk thread, which answers
    /// `req`. 503 at once when too many wait.
    pub fn complete(mut self, req: &Request) {
        self.finished = true;
        let req = req.clone();
        let resumable = self.resumable.clone();
        let job_req = req.clone();
        let mut job = Some(self);
        let run: Job = Box::new(move || {
            if let Some(append) = job.take() {
                let response = append.finish();
                if let Err(e) = job_req.send(response) {
                    log::debug!("cannot answer {}: {e}", job_req.url());
                }
            }
        });
        if resumable.0.disk.try_run(run).is_err() {
            // The job, and the append in it, is dropped unfinished: the
            // bytes are not acknowledged; the upload is free again.
            log::warn!("resumable: disk threads busy, append answered 503");
            let _ = req.send(json_error(503, "busy").header("Retry-After", "1"));
        }
    }

    /// The blocking end of an append (a disk thread's work); the upload
    /// is free again once it returns (its file closed).
    fn finish(mut self) -> Response {
        let response = self.durable();
        self.protocol.decorate(response)
    }

    fn durable(&mut self) -> Response {
        let shared = Arc::clone(&self.resumable.0);
        let store = &shared.store;
        let id = self.id;
        let path = store.data_path(id);
        let Some(file) = self.file.take() else {
            return json_error(500, "upload file missing");
        };
        let end = self.start + self.written;
        if let Some(digest) = &self.content_digest {
            match store.check_digest(id, digest, self.start) {
                Ok(true) => {}
                Ok(false) => {
                    // Nothing of this request is kept.
                    let _ = file.set_len(self.start);
                    return self.protocol.digest_mismatch();
                }
                Err(e) => return crate::upload::write_failed(&path, &e),
            }
        }
        if let Err(e) = file.sync_data() {
            return crate::upload::write_failed(&path, &e);
        }
        // Complete: the client said so (IETF), or the length is reached.
        let complete = match self.complete {
            Some(true) => true,
            _ => self.length == Some(end),
        };
        if self.complete == Some(true) && self.length.is_some_and(|n| n != end) {
            let _ = file.set_len(self.start);
            return self.protocol.inconsistent_length();
        }
        let repr_digest = self.repr_digest.take();
        let length = if complete { Some(end) } else { self.length };
        let meta = store.acknowledge(id, |meta| {
            meta.offset = end;
            // A length first declared by this request is kept.
            meta.length = length;
            if repr_digest.is_some() {
                meta.repr_digest = repr_digest;
            }
        });
        let meta = match meta {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return json_error(404, "upload cancelled");
            }
            Err(e) => return crate::upload::write_failed(&path, &e),
        };
        if !complete {
            let (max, expiry) = self.resumable.limits();
            return match self.protocol {
                Protocol::Tus => tus::appended(self.created.as_deref(), &meta, expiry),
                Protocol::Ietf(_) => ietf::appended(self.created.as_deref(), &meta, (max, expiry)),
            };
        }
        // The file, and the lock, are held until the upload is stored and
        // its record says so.
        let response = self.commit(&meta);
        drop(file);
        response
    }

    /// Gives the completed data file its final name.
    fn commit(&self, meta: &Meta) -> Response {
        let shared = &self.resumable.0;
        let (store, uploads) = (&shared.store, &shared.uploads);
        let data = store.data_path(self.id);
        if let Some(digest) = &meta.repr_digest {
            match store.check_digest(self.id, digest, 0) {
                Ok(true) => {}
                Ok(false) => {
                    store.remove(self.id);
                    return self.protocol.digest_mismatch();
                }
                Err(e) => return crate::upload::write_failed(&data, &e),
            }
        }
        let (file_name, dirs) = match meta.name.split_last() {
            Some(split) => split,
            None => return json_error(400, "empty file name"),
        };
        let dir = match uploads.directory(dirs) {
            Ok(dir) => dir,
            Err(response) => return response,
        };
        let name = meta.name.join("/");
        if let Err(e) = rename(&data, &dir.join(file_name), meta.replace) {
            if e.kind() == io::ErrorKind::AlreadyExists {
                store.remove(self.id);
                return json_error(409, &format!("{name} exists"));
            }
            return crate::upload::write_failed(&dir, &e);
        }
        if let Err(e) = File::open(&dir).and_then(|d| d.sync_all()) {
            log::error!("resumable: cannot flush {}: {e}", dir.display());
        }
        let size = meta.offset;
        log::info!("saved resumable upload {name} ({size} bytes)");
        if let Err(e) = store.acknowledge(self.id, |m| m.complete = true) {
            log::warn!("resumable upload {}: cannot mark it complete: {e}", self.id);
        }
        let parts: Vec<&str> = meta.name.iter().map(String::as_str).collect();
        match self.protocol {
            Protocol::Tus => tus::appended(self.created.as_deref(), meta, store.limits().expiry),
            Protocol::Ietf(_) => {
                let response = Response::new(201)
                    .header("Upload-Complete", "?1")
                    .header("Upload-Offset", size.to_string());
                // The stored file's URL when the upload directory is
                // served; else, for a creation, the upload resource's
                // (which answers "complete" until it expires).
                let location = uploads
                    .location(&parts, false)
                    .or_else(|| self.created.clone());
                let response = match location {
                    Some(url) => response.header("Location", url),
                    None => response,
                };
                response.body(serde_json::json!({ "name": name, "size": size }))
            }
        }
    }
}

/// Renames `from` to `to`; without `overwrite`, fails with
/// `AlreadyExists` rather than replace a file, even one another instance
/// stores at the same moment (`RENAME_NOREPLACE`; a hard link then
/// unlink where the file system lacks it, as a plain upload's commit).
fn rename(from: &Path, to: &Path, overwrite: bool) -> io::Result<()> {
    if overwrite {
        return std::fs::rename(from, to);
    }
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use rustix::io::Errno;
    match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Err(Errno::INVAL | Errno::NOSYS) => {
            std::fs::hard_link(from, to)?;
            // Stored: a data file left behind goes when the upload expires.
            if let Err(e) = std::fs::remove_file(from) {
                log::warn!("resumable: cannot remove {}: {e}", from.display());
            }
            Ok(())
        }
        result => result.map_err(io::Error::from),
    }
}

impl Drop for Append {
    /// Cut off (the client vanished): what arrived is flushed and
    /// acknowledged off the loop, unless a digest was to be checked or the
    /// body was refused midway (then it is dropped: the next append cuts
    /// the file back); the upload is free again once the file is closed.
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let (id, start, written) = (self.id, self.start, self.written);
        let keep = !self.refused && self.content_digest.is_none() && written > 0;
        let file = self.file.take();
        let shared = Arc::clone(&self.resumable.0);
        let job_shared = Arc::clone(&shared);
        let run: Job = Box::new(move || {
            let store = &job_shared.store;
            if let (true, Some(file)) = (keep, file) {
                let acked = file
                    .sync_data()
                    .and_then(|()| store.acknowledge(id, |m| m.offset = start + written));
                match acked {
                    Ok(_) => {
                        log::info!("resumable upload {id}: interrupted at {}", start + written)
                    }
                    Err(e) => log::warn!("resumable upload {id}: cannot keep what arrived: {e}"),
                }
            }
        });
        if let Err(run) = shared.disk.try_run(run) {
            // Too busy to flush: the unacknowledged bytes are dropped on
            // the next append (the file is cut to the recorded offset).
            drop(run);
        }
    }
}
