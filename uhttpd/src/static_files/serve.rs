//! The static-file pipeline, read top to bottom: method → resolve →
//! directory (redirect, index, listing) or missing (SPA page, 404 page)
//! → coding (a precompressed sibling, the file as it is, or coded on a
//! compression thread) → conditional → range → body.

use std::cell::RefCell;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use uhttp::{Body, Part, Request, Response, util::split_url};

use super::cache::{CachedFile, FileCache, MAX_FILE};
use super::compress::{Compressor, Input, Job, Key, MAX_SIZE, MIN_SIZE, is_compressible};
use super::conditional::{
    coded_etag, etag, if_none_match_names, if_range_matches, last_modified, not_modified,
    precondition_failed,
};
use super::content_type::{MimeOverride, content_type};
use super::encoding::{Accepted, Choice, Coding, CodingSet};
use super::fallback::{IndexName, SitePath, accepts_html, has_extension};
use super::freshness::{Freshness, REDIRECT, REVALIDATE};
use super::listing::{Entry, View, listing_etag, read_entries, render_json};
use super::page::{Page, PageOptions, qr_svg, segments};
use super::range::{
    self, RangeOutcome, content_range, multipart_parts, unsatisfiable_content_range,
};
use super::resolve::{Opened, ResolveError, dir_redirect_location, open};
use super::search::{self, Searched};
use crate::errors::error_response;

/// How static files are served.
#[derive(Debug, Clone)]
pub struct StaticOptions {
    /// The served directory, canonicalized.
    pub root: std::path::PathBuf,
    /// The served directory, open: paths are resolved beneath it.
    pub root_dir: Arc<File>,
    /// Directory listings on.
    pub listing: bool,
    /// What listing pages offer besides the entries (uploads, QR code).
    pub page: PageOptions,
    /// The threads answering `?q=` searches (listings on).
    pub search: Option<Arc<crate::pool::Pool<search::Job>>>,
    /// Small files kept in memory for a moment.
    pub cache: Arc<FileCache>,
    /// The `Cache-Control` of files.
    pub freshness: Freshness,
    /// Send `FILE.br`, `FILE.zst` or `FILE.gz` for `FILE` when the client
    /// accepts it (on unless `--no-precompressed`).
    pub precompressed: bool,
    /// On-the-fly compression (`--compress`).
    pub compressor: Option<Arc<Compressor>>,
    /// File names tried in a directory, in order (`--index`).
    pub index: Vec<IndexName>,
    /// Served (200) for unknown pages a browser navigates to (`--spa`).
    pub spa: Option<SitePath>,
    /// Served (404) for other missing paths (`--404`).
    pub not_found: Option<SitePath>,
    /// Overrides of the guessed `Content-Type` (`--mime`).
    pub mime: Vec<MimeOverride>,
}

/// Answers a request for a path under ROOT; `None` when a compression
/// thread will answer it.
pub fn serve(options: &StaticOptions, req: &Request) -> Option<Response> {
    if req.method() != "GET" && req.method() != "HEAD" {
        return Some(error_response(405).header("Allow", "GET, HEAD"));
    }
    let (raw_path, query) = split_url(req.url());
    let accepted = Accepted::parse(req.header("accept-encoding"));
    let now = Instant::now();
    if options.precompressed
        && let Some(sibling) = cached_sibling(options, raw_path, &accepted, now)
    {
        return Some(serve_cached(options, req, sibling));
    }
    if let Some(cached) = options.cache.get(raw_path, now) {
        // Usable when each coding the client accepts was looked for, and
        // had no sibling, when the file was kept.
        if !options.precompressed || accepted.preferred().all(|c| cached.no_sibling.contains(c)) {
            let source = Source::Memory(Arc::clone(&cached.content));
            let info = cached.info(options);
            return identity_or_coded(options, req, raw_path, &accepted, &info, source);
        }
    }
    match open(&options.root, &options.root_dir, raw_path) {
        Err(ResolveError::NotFound) => missing(options, req, raw_path, &accepted),
        Err(e) => Some(error_response(e.status())),
        Ok(Opened::Dir {
            has_trailing_slash: false,
            ..
        }) => {
            let mut location = dir_redirect_location(raw_path);
            if let Some(q) = query {
                location.push('?');
                location.push_str(q);
            }
            Some(Response::redirect(&location, 301).header("Cache-Control", REDIRECT))
        }
        Ok(Opened::Dir { path, .. }) => serve_dir(options, req, raw_path, &accepted, &path),
        Ok(Opened::File { file, meta, name }) => {
            let found = Found {
                key: raw_path,
                raw_file: raw_path,
                path: &name,
                file,
                meta,
            };
            serve_file(options, req, &accepted, found)
        }
    }
}

/// The cache key of `raw_path`'s sibling in `coding` (a space never
/// appears in a request path).
fn sibling_key(raw_path: &str, coding: Coding) -> String {
    format!("{raw_path} {}", coding.token())
}

/// `raw_path`'s sibling in `coding`, if kept; the key is built in a
/// buffer each thread keeps, so that a lookup allocates nothing.
fn kept_sibling(
    cache: &FileCache,
    raw_path: &str,
    coding: Coding,
    now: Instant,
) -> Option<Arc<CachedFile>> {
    thread_local!(static KEY: RefCell<String> = const { RefCell::new(String::new()) });
    KEY.with_borrow_mut(|key| {
        key.clear();
        key.push_str(raw_path);
        key.push(' ');
        key.push_str(coding.token());
        cache.get(key, now)
    })
}

/// A precompressed sibling kept in memory that answers the request: the
/// client's best coding whose sibling is kept, when every coding it
/// prefers more was looked for and not found.
fn cached_sibling(
    options: &StaticOptions,
    raw_path: &str,
    accepted: &Accepted,
    now: Instant,
) -> Option<Arc<CachedFile>> {
    let mut before = CodingSet::default();
    for coding in accepted.preferred() {
        if let Some(kept) = kept_sibling(&options.cache, raw_path, coding, now) {
            let best = accepted.choose(|c| c == coding) == Choice::Coded(coding);
            let none_better = Coding::ALL
                .iter()
                .all(|&c| !before.contains(c) || kept.no_sibling.contains(c));
            return (best && none_better).then_some(kept);
        }
        before = before.with(coding);
    }
    None
}

fn serve_dir(
    options: &StaticOptions,
    req: &Request,
    raw_path: &str,
    accepted: &Accepted,
    dir: &Path,
) -> Option<Response> {
    // Through the resolver, like any request path: an index that is a
    // dotfile or a symlink leaving ROOT is not served.
    for index in &options.index {
        let raw_file = format!("{raw_path}{}", index.encoded());
        if let Ok(Opened::File { file, meta, name }) =
            open(&options.root, &options.root_dir, &raw_file)
        {
            let found = Found {
                key: raw_path,
                raw_file: &raw_file,
                path: &name,
                file,
                meta,
            };
            return serve_file(options, req, accepted, found);
        }
    }
    if !options.listing {
        return missing(options, req, raw_path, accepted);
    }
    let view = View::from_query(req.query());
    let mut entries = match read_entries(dir) {
        Ok(entries) => entries,
        Err(e) => {
            log::warn!("cannot list {}: {e}", dir.display());
            return Some(error_response(403));
        }
    };
    view.sort(&mut entries);
    Some(listing(options, req, raw_path, &view, &entries, None))
}

/// Whether `req` asks for a `?q=` search (answered by [`search`]).
pub fn wants_search(options: &StaticOptions, req: &Request) -> bool {
    options.search.is_some()
        && matches!(req.method(), "GET" | "HEAD")
        && req.query().get("q").is_some_and(|q| !q.trim().is_empty())
}

/// Answers a `?q=` search from a search thread: `None` when queued (the
/// thread answers), else the answer now: the path's usual answer when it
/// is not a listed directory, 503 when too many searches wait.
pub fn search(options: &StaticOptions, req: &Request) -> Option<Response> {
    let raw_path = split_url(req.url()).0;
    let (
        Some(pool),
        Ok(Opened::Dir {
            path,
            has_trailing_slash: true,
        }),
    ) = (
        &options.search,
        open(&options.root, &options.root_dir, raw_path),
    )
    else {
        return serve(options, req);
    };
    if path.join("index.html").is_file() {
        return serve(options, req);
    }
    let view = View::from_query(req.query());
    let Some(query) = view.query.clone() else {
        return serve(options, req);
    };
    let (options_here, req_here) = (options.clone(), req.clone());
    let job: search::Job = Box::new(move || {
        let (mut found, searched) = search::search(&options_here.root, &path, &query);
        view.sort(&mut found);
        let raw_path = split_url(req_here.url()).0;
        let response = listing(
            &options_here,
            &req_here,
            raw_path,
            &view,
            &found,
            Some(&searched),
        );
        if let Err(e) = req_here.send(response) {
            log::debug!("cannot answer a search: {e}");
        }
    });
    match pool.try_run(job) {
        Ok(()) => None,
        Err(_) => {
            log::warn!(
                "{}: search answered 503: too many searches wait",
                req.remote_address()
            );
            Some(error_response(503).header("Retry-After", "1"))
        }
    }
}

/// A listing (or search results) as HTML or, when asked, JSON, with an
/// ETag from its bytes.
fn listing(
    options: &StaticOptions,
    req: &Request,
    raw_path: &str,
    view: &View,
    entries: &[Entry],
    searched: Option<&Searched>,
) -> Response {
    let wants_json = req
        .header("accept")
        .is_some_and(|a| a.to_ascii_lowercase().contains("application/json"));
    let (content_type, body) = if wants_json {
        ("application/json", render_json(entries).to_string())
    } else {
        let segments = segments(raw_path);
        let qr = options.page.qr_scheme.and_then(|scheme| {
            let host = req.header("host")?;
            qr_svg(&format!(
                "{scheme}://{host}{}",
                super::page::dir_url(&segments)
            ))
        });
        let page = Page {
            segments: &segments,
            entries,
            view,
            searched,
            uploads: options
                .page
                .uploads
                .as_ref()
                .map(|u| u.seen_from(&segments)),
            notice: notice(req),
            qr_svg: qr,
            archive_links: options.page.archive_links,
        };
        ("text/html; charset=utf-8", page.render())
    };
    // Revalidated at every use: a listing changes with its directory. Its
    // tag is a hash of the bytes, so an unchanged listing is a 304.
    let tag = listing_etag(body.as_bytes());
    let unchanged = if_none_match_names(req.header("if-none-match"), &tag);
    let response = Response::new(if unchanged { 304 } else { 200 })
        .header("ETag", &tag)
        .header("Cache-Control", REVALIDATE)
        .header("Vary", "Accept");
    if unchanged {
        return response;
    }
    response
        .header("Content-Type", content_type)
        .body(body.into_bytes())
}

/// The message after an upload or a new folder, from the query of the
/// redirect that followed it (`?uploaded=3`, `?created=NAME`).
fn notice(req: &Request) -> Option<String> {
    let query = req.query();
    if let Some(n) = query.get("uploaded").and_then(|n| n.parse::<u32>().ok()) {
        return Some(format!(
            "{n} file{} uploaded.",
            if n == 1 { "" } else { "s" }
        ));
    }
    let created = query
        .get("created")
        .filter(|c| !c.is_empty() && c.len() <= 255)?;
    Some(format!("Folder \u{201c}{created}\u{201d} created."))
}

/// A path that names nothing servable: the `--spa` page for a browser's
/// navigation to a page (no extension, `Accept` with `text/html`), else
/// the `--404` page, else a plain 404. With `--spa` the answer depends on
/// `Accept`, and says so (unless a compression thread answers: it adds
/// `Vary: Accept-Encoding` only).
fn missing(
    options: &StaticOptions,
    req: &Request,
    raw_path: &str,
    accepted: &Accepted,
) -> Option<Response> {
    let Some(spa) = &options.spa else {
        return Some(not_found(options));
    };
    let response = if !has_extension(raw_path) && accepts_html(req.header("accept")) {
        serve_site_file(options, req, accepted, spa)?
    } else {
        not_found(options)
    };
    Some(response.header("Vary", "Accept"))
}

/// The `--spa` page, as a file (validators, ranges, codings), kept in the
/// cache under its own path rather than the one asked for.
fn serve_site_file(
    options: &StaticOptions,
    req: &Request,
    accepted: &Accepted,
    page: &SitePath,
) -> Option<Response> {
    if let Some(cached) = options.cache.get(page.raw(), Instant::now()) {
        return Some(serve_cached(options, req, cached));
    }
    match open(&options.root, &options.root_dir, page.raw()) {
        Ok(Opened::File { file, meta, name }) => {
            let found = Found {
                key: page.raw(),
                raw_file: page.raw(),
                path: &name,
                file,
                meta,
            };
            serve_file(options, req, accepted, found)
        }
        _ => {
            log::warn!("--spa {page}: not a file under ROOT any more");
            Some(not_found(options))
        }
    }
}

/// `404` with the `--404` page (its type from its name, no validators:
/// it is an error), or the plain text one.
fn not_found(options: &StaticOptions) -> Response {
    let Some(page) = &options.not_found else {
        return error_response(404);
    };
    match open(&options.root, &options.root_dir, page.raw()) {
        Ok(Opened::File { file, meta, name }) => {
            let body = match meta.len() {
                0 => Body::Empty,
                len => Body::Parts(vec![Part::File {
                    file: Arc::new(file),
                    offset: 0,
                    len,
                }]),
            };
            Response::new(404)
                .header("Content-Type", content_type(&options.mime, &name))
                .body(body)
        }
        _ => {
            log::warn!("--404 {page}: not a file under ROOT any more");
            error_response(404)
        }
    }
}

/// Where the bytes of a file response come from.
enum Source {
    /// The open file, read (or sent with `sendfile`) as the socket drains.
    Disk(Arc<File>),
    /// Bytes in memory: a small file kept, or a coded body.
    Memory(Arc<[u8]>),
}

impl Source {
    fn part(&self, offset: u64, len: u64) -> Part {
        match self {
            Source::Disk(file) => Part::File {
                file: Arc::clone(file),
                offset,
                len,
            },
            // Ranges were checked against the length: in bounds.
            Source::Memory(data) => Part::Shared {
                data: Arc::clone(data),
                offset: offset as usize,
                len: len as usize,
            },
        }
    }
}

/// What the headers say about a file.
#[derive(Clone, Copy)]
struct FileInfo<'a> {
    len: u64,
    mtime: SystemTime,
    etag: &'a str,
    last_modified: &'a str,
    content_type: &'a str,
    cache_control: Option<&'a str>,
    /// The content coding of the bytes sent, if any.
    coding: Option<Coding>,
    /// Whether the answer depends on `Accept-Encoding`.
    vary: bool,
}

impl FileInfo<'_> {
    /// `response` with the validators, `Cache-Control`, `Vary` and
    /// `Accept-Ranges`: what a 200, a 206 and a 304 all carry.
    fn validators(&self, response: Response) -> Response {
        let mut response = response
            .header("ETag", self.etag)
            .header("Last-Modified", self.last_modified)
            .header("Accept-Ranges", "bytes");
        if self.vary {
            response = response.header("Vary", "Accept-Encoding");
        }
        match self.cache_control {
            Some(value) => response.header("Cache-Control", value),
            None => response,
        }
    }

    /// `response` with `Content-Type` (of the file as it is) and
    /// `Content-Encoding`: what a 200 and a single-range 206 carry.
    fn representation(&self, response: Response) -> Response {
        let response = response.header("Content-Type", self.content_type);
        match self.coding {
            Some(coding) => response.header("Content-Encoding", coding.token()),
            None => response,
        }
    }
}

impl CachedFile {
    /// What the headers say about this file, served with `options`.
    fn info<'a>(&'a self, options: &'a StaticOptions) -> FileInfo<'a> {
        FileInfo {
            len: self.content.len() as u64,
            mtime: self.mtime,
            etag: &self.etag,
            last_modified: &self.last_modified,
            content_type: &self.content_type,
            cache_control: options.freshness.file(&self.content_type),
            coding: self.coding,
            vary: options.precompressed || self.coding.is_some(),
        }
    }
}

/// A file [`open`] found for a request.
struct Found<'a> {
    /// The request path it is kept under in the file cache.
    key: &'a str,
    /// The request path naming the file itself (for a directory's index,
    /// the directory's path and `index.html`): its siblings add a suffix.
    raw_file: &'a str,
    /// Its path, whose extension gives the type.
    path: &'a Path,
    file: File,
    meta: std::fs::Metadata,
}

/// Answers with a found file — or its precompressed sibling in the
/// client's best coding — keeping it in memory for the next requests when
/// it is small.
fn serve_file(
    options: &StaticOptions,
    req: &Request,
    accepted: &Accepted,
    found: Found<'_>,
) -> Option<Response> {
    let mtime = found.meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let content_type = content_type(&options.mime, found.path);
    let mut no_sibling = CodingSet::default();
    if options.precompressed {
        for coding in accepted.preferred() {
            let Some((file, meta)) = open_sibling(options, found.raw_file, coding, mtime) else {
                no_sibling = no_sibling.with(coding);
                continue;
            };
            if accepted.choose(|c| c == coding) != Choice::Coded(coding) {
                // Identity weighs more, and every other coding less.
                break;
            }
            let sibling = Loaded {
                key: sibling_key(found.key, coding),
                file,
                meta,
                content_type,
                coding: Some(coding),
                no_sibling,
            };
            return sibling.serve(options, req, accepted);
        }
    }
    let original = Loaded {
        key: found.key.to_owned(),
        file: found.file,
        meta: found.meta,
        content_type,
        coding: None,
        no_sibling,
    };
    original.serve(options, req, accepted)
}

/// `raw_file` with `coding`'s suffix, when it is a regular file under the
/// same rules as any served file (under ROOT, no dotfile, symlinks staying
/// inside) and at least as new as the original (`mtime`): an older one
/// may hold an earlier version. Compared in whole seconds, as HTTP dates
/// are: the `brotli` tool gives its output the input's time truncated to
/// the second.
fn open_sibling(
    options: &StaticOptions,
    raw_file: &str,
    coding: Coding,
    mtime: SystemTime,
) -> Option<(File, std::fs::Metadata)> {
    let secs = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    let raw = format!("{raw_file}{}", coding.suffix());
    match open(&options.root, &options.root_dir, &raw) {
        Ok(Opened::File { file, meta, .. }) if secs(meta.modified().ok()?) >= secs(mtime) => {
            Some((file, meta))
        }
        _ => None,
    }
}

/// A file (or sibling) about to be served.
struct Loaded {
    key: String,
    file: File,
    meta: std::fs::Metadata,
    /// The type of the original file.
    content_type: String,
    coding: Option<Coding>,
    no_sibling: CodingSet,
}

impl Loaded {
    fn serve(
        self,
        options: &StaticOptions,
        req: &Request,
        accepted: &Accepted,
    ) -> Option<Response> {
        let Loaded {
            key,
            mut file,
            meta,
            content_type,
            coding,
            no_sibling,
        } = self;
        let len = meta.len();
        let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let tag = match coding {
            Some(coding) => coded_etag(len, mtime, coding.token()),
            None => etag(len, mtime),
        };
        let modified = last_modified(mtime);
        if len <= MAX_FILE {
            let mut content = Vec::with_capacity(len as usize);
            if std::io::Read::read_to_end(&mut file, &mut content).is_err()
                || content.len() as u64 != len
            {
                return Some(error_response(500));
            }
            let mut cached =
                CachedFile::new(content, mtime, tag, modified, content_type, Instant::now());
            cached.coding = coding;
            cached.no_sibling = no_sibling;
            let cached = Arc::new(cached);
            options.cache.insert(&key, Arc::clone(&cached));
            if coding.is_some() {
                return Some(serve_cached(options, req, cached));
            }
            let source = Source::Memory(Arc::clone(&cached.content));
            return identity_or_coded(options, req, &key, accepted, &cached.info(options), source);
        }
        let info = FileInfo {
            len,
            mtime,
            etag: &tag,
            last_modified: &modified,
            content_type: &content_type,
            cache_control: options.freshness.file(&content_type),
            coding,
            vary: options.precompressed || coding.is_some(),
        };
        let source = Source::Disk(Arc::new(file));
        if coding.is_some() {
            return Some(answer(req, &info, &source));
        }
        identity_or_coded(options, req, &key, accepted, &info, source)
    }
}

/// Answers with a sibling kept in memory.
fn serve_cached(options: &StaticOptions, req: &Request, cached: Arc<CachedFile>) -> Response {
    let source = Source::Memory(Arc::clone(&cached.content));
    answer(req, &cached.info(options), &source)
}

/// Answers with the file as it is (`info`, `source`), or coded on the fly
/// when `--compress` is on, the client prefers a coding and the file
/// compresses; 406 when the client refuses identity and no coding is on
/// offer (RFC 9110 §12.5.3).
fn identity_or_coded(
    options: &StaticOptions,
    req: &Request,
    key: &str,
    accepted: &Accepted,
    info: &FileInfo<'_>,
    source: Source,
) -> Option<Response> {
    let compressor = options.compressor.as_ref().filter(|_| {
        is_compressible(info.content_type) && (MIN_SIZE..=MAX_SIZE).contains(&info.len)
    });
    let info = FileInfo {
        vary: info.vary || compressor.is_some(),
        ..*info
    };
    // A range is of the bytes as they are: coded, its offsets would depend
    // on the coder.
    let compressor = compressor.filter(|_| req.header("range").is_none());
    match (accepted.choose(|_| compressor.is_some()), compressor) {
        (Choice::Coded(coding), Some(compressor)) => {
            coded(compressor, req, key, coding, &info, source)
        }
        (Choice::None, _) => Some(error_response(406).header("Vary", "Accept-Encoding")),
        _ => Some(answer(req, &info, &source)),
    }
}

/// Answers with the file coded on the fly in `coding`: from the cache at
/// once, else from a compression thread (`None`), else — when too many
/// wait — as it is.
fn coded(
    compressor: &Compressor,
    req: &Request,
    key: &str,
    coding: Coding,
    identity: &FileInfo<'_>,
    source: Source,
) -> Option<Response> {
    // Weak: another coder version may code the same file differently.
    let tag = format!(
        "W/{}",
        coded_etag(identity.len, identity.mtime, coding.token())
    );
    let info = FileInfo {
        etag: &tag,
        coding: Some(coding),
        vary: true,
        ..*identity
    };
    // A 304 or 412 needs no compression.
    if let Some(response) = preconditions(req, &info) {
        return Some(response);
    }
    let key = Key {
        path: key.to_owned(),
        len: identity.len,
        mtime: identity.mtime,
        coding,
    };
    if let Some(body) = compressor.cached(&key) {
        let info = FileInfo {
            len: body.len() as u64,
            ..info
        };
        return Some(whole(&info, &Source::Memory(body)));
    }
    let input = match &source {
        Source::Memory(data) => Input::Memory(Arc::clone(data)),
        Source::Disk(file) => Input::Disk(Arc::clone(file)),
    };
    let owned = OwnedInfo::of(&info);
    let job = Job {
        req: req.clone(),
        key,
        input,
        respond: Box::new(move |coded| match coded {
            Ok(body) => whole(&owned.info(body.len() as u64), &Source::Memory(body)),
            Err(_) => error_response(500),
        }),
    };
    match compressor.try_run(job) {
        Ok(()) => None,
        Err(_) => {
            log::debug!("compression threads busy: {} sent as it is", req.url());
            Some(answer(req, identity, &source))
        }
    }
}

/// A [`FileInfo`] that can go to another thread.
struct OwnedInfo {
    mtime: SystemTime,
    etag: String,
    last_modified: String,
    content_type: String,
    cache_control: Option<String>,
    coding: Option<Coding>,
}

impl OwnedInfo {
    fn of(info: &FileInfo<'_>) -> OwnedInfo {
        OwnedInfo {
            mtime: info.mtime,
            etag: info.etag.to_owned(),
            last_modified: info.last_modified.to_owned(),
            content_type: info.content_type.to_owned(),
            cache_control: info.cache_control.map(str::to_owned),
            coding: info.coding,
        }
    }

    fn info(&self, len: u64) -> FileInfo<'_> {
        FileInfo {
            len,
            mtime: self.mtime,
            etag: &self.etag,
            last_modified: &self.last_modified,
            content_type: &self.content_type,
            cache_control: self.cache_control.as_deref(),
            coding: self.coding,
            vary: true,
        }
    }
}

/// The answer for a file: 412, 304, 200, 206 (one range, or several as
/// `multipart/byteranges`) or 416, preconditions taken in the order of
/// RFC 9110 §13.2.2.
fn answer(req: &Request, info: &FileInfo<'_>, source: &Source) -> Response {
    let len = info.len;
    if let Some(response) = preconditions(req, info) {
        return response;
    }
    let Some(range_header) = req.header("range") else {
        return whole(info, source);
    };
    if !if_range_matches(req.header("if-range"), info.etag, info.mtime) {
        return whole(info, source);
    }
    match range::parse_range(range_header, len) {
        RangeOutcome::Full => whole(info, source),
        RangeOutcome::Unsatisfiable => {
            error_response(416).header("Content-Range", unsatisfiable_content_range(len))
        }
        RangeOutcome::Partial(ranges) => match ranges.as_slice() {
            [r] => info
                .representation(info.validators(Response::new(206)))
                .header("Content-Range", content_range(r, len))
                .body(Body::Parts(vec![source.part(r.start, r.len())])),
            // A coded representation's `Content-Encoding` would be read as
            // the coding of the multipart body: the whole instead (RFC 9110
            // §14.2 lets a server ignore `Range`).
            _ if info.coding.is_some() => whole(info, source),
            _ => byteranges(&ranges, info, source),
        },
    }
}

/// `412` or `304`, when the preconditions say so (RFC 9110 §13.2.2,
/// steps 1 to 4).
fn preconditions(req: &Request, info: &FileInfo<'_>) -> Option<Response> {
    if precondition_failed(
        req.header("if-match"),
        req.header("if-unmodified-since"),
        info.etag,
        info.mtime,
    ) {
        return Some(error_response(412));
    }
    if not_modified(
        req.header("if-none-match"),
        req.header("if-modified-since"),
        info.etag,
        info.mtime,
    ) {
        return Some(info.validators(Response::new(304)));
    }
    None
}

/// `200` with the whole file (an empty file gets an empty body).
fn whole(info: &FileInfo<'_>, source: &Source) -> Response {
    let body = if info.len == 0 {
        Body::Empty
    } else {
        Body::Parts(vec![source.part(0, info.len)])
    };
    info.representation(info.validators(Response::new(200)))
        .body(body)
}

/// `206` with several ranges as `multipart/byteranges`, under a boundary
/// of its own.
fn byteranges(ranges: &[range::ByteRange], info: &FileInfo<'_>, source: &Source) -> Response {
    let boundary = match range::random_boundary() {
        Ok(boundary) => boundary,
        Err(e) => {
            // RFC 9110 §14.2: a server may ignore Range.
            log::error!("no random source for a multipart boundary: {e}");
            return whole(info, source);
        }
    };
    let (parts, _total) = multipart_parts(ranges, info.len, info.content_type, &boundary);
    let parts = parts
        .into_iter()
        .map(|p| match p {
            range::Part::Bytes(b) => Part::Bytes(b),
            range::Part::File { offset, len } => source.part(offset, len),
        })
        .collect();
    info.validators(Response::new(206))
        .header(
            "Content-Type",
            format!("multipart/byteranges; boundary={boundary}"),
        )
        .body(Body::Parts(parts))
}
