//! Uploads into `--upload-dir`: `PUT /upload/NAME` and `POST /upload`
//! with `multipart/form-data`. Bodies stream into a temporary file in the
//! upload directory (a dotfile, so never listed or served) that is renamed
//! to its final name only when complete; every failure path drops the
//! temporary file, so nothing partial is ever left behind.
//!
//! Files may go below the upload directory: `PUT /upload/DIR/SUB/NAME`,
//! `POST /upload?dir=DIR/SUB`, and a multipart file name holding a
//! relative path (`folder/sub/a.txt`, as a folder upload sends). Every
//! component is checked as a served path is ([`check_name`]: no `..`, no
//! dotfile, no separator or control character) and missing directories
//! are created one by one, each existing one resolved first, so no
//! symlink leads out of the upload directory ([`Uploads::directory`]). A
//! multipart field `mkdir` creates a folder (the listing's "new folder").
//!
//! With `--auth-file`, the route checked the upload right at the file (a
//! form: `upload` or `mkdir` at its folder) and passes the rights held
//! there ([`Rights`]): replacing a file needs `overwrite` too (and
//! `--overwrite`, else 409), a form's file `upload`, its `mkdir` field
//! `mkdir`; refused: 403.
//!
//! A stored upload answers `201 Created` with `Location` (when the upload
//! directory is served) and JSON; a browser's form (one that accepts
//! HTML and not JSON) gets `303 See Other` back to the listing instead,
//! which then says what was done.
//!
//! An upload is answered only once it is durable: [`PutUpload::finish`]
//! and [`MultipartUpload::finish`] flush the file to disk (`fdatasync`),
//! rename it and flush the directory. That takes milliseconds (measured
//! on this project's ext4 virtual disks, 1 MiB: `fsync` 1 ms median, 15 ms
//! worst of 20; the directory 0.2 ms, 10 ms worst), so the caller runs
//! them off the poll loop. Creating the temporary file (30-200 µs), and
//! any missing directory on its way (a `mkdir` each, not flushed), stays
//! on the loop, as do the writes of the body as it arrives (page cache:
//! 0.5-4 ms a MiB, in chunks of at most a read buffer).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use percent_encoding::utf8_percent_encode;
use serde_json::json;
use tempfile::NamedTempFile;
use uhttp::util::parse_header_parameters;
use uhttp::{Request, Response};

use crate::auth::challenge;
use crate::errors::json_error;
use crate::multipart::{FeedError, MultipartParser, PartEvent};
use crate::permissions::{Decision, Held, Rights};
use crate::static_files::listing::{LINK_SEGMENT, encode_link};

/// Upload settings.
#[derive(Debug, Clone)]
pub struct Uploads {
    /// Where files go (canonicalized).
    pub dir: PathBuf,
    /// Its URL path (`/`, `/incoming/`) when it is served (under ROOT).
    pub url: Option<String>,
    /// An upload may replace an existing file.
    pub overwrite: bool,
    /// Largest body, in bytes.
    pub max_size: u64,
}

/// Why a name is refused (400).
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("empty file name");
    }
    if name.len() > 255 {
        return Err("file name too long");
    }
    if name.starts_with('.') {
        return Err("file name starts with a dot");
    }
    if name.contains(['/', '\\']) {
        return Err("file name contains a path separator");
    }
    if name.chars().any(char::is_control) {
        return Err("file name contains control characters");
    }
    Ok(())
}

/// One segment of `PUT /upload/PATH`, percent-decoded, as UTF-8. A
/// malformed escape is refused, as in a static path.
fn put_name(raw: &str) -> Result<String, &'static str> {
    let decoded = crate::percent::decode(raw).ok_or("malformed percent escape in the file name")?;
    String::from_utf8(decoded).map_err(|_| "file name is not UTF-8")
}

/// The components of a relative path below the upload directory
/// (`a/b.txt`, split on `/` after decoding): each one checked, none
/// empty (so no absolute path, no `a//b`). An empty path gives none.
pub fn relative_path(path: &str) -> Result<Vec<String>, &'static str> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    if path.len() > 4096 {
        return Err("path too long");
    }
    path.split('/')
        .map(|part| check_name(part).map(|()| part.to_owned()))
        .collect()
}

/// `PUT /upload/PATH`: each `/`-separated segment decoded on its own (so
/// an encoded `%2F` is refused as a separator inside a name).
pub fn put_path(raw: &str) -> Result<Vec<String>, &'static str> {
    raw.split('/')
        .map(|raw| {
            let name = put_name(raw)?;
            check_name(&name).map(|()| name)
        })
        .collect()
}

/// Whether the client is a browser submitting a form: it accepts HTML
/// and does not ask for JSON. Everyone else (curl's `*/*`, scripts,
/// the page's own requests) gets JSON.
fn wants_html(req: &Request) -> bool {
    let accept = req
        .header("accept")
        .unwrap_or_default()
        .to_ascii_lowercase();
    accept.contains("text/html") && !accept.contains("application/json")
}

/// A file being received.
pub struct Receiving {
    temp: NamedTempFile,
    /// The directory it goes to.
    dir: PathBuf,
    /// Its file name there.
    file_name: String,
    /// Its path below the upload directory (`a/b.txt`).
    name: String,
    /// It may replace a file of its name (`--overwrite` and the right).
    replace: bool,
    size: u64,
    /// `--max-upload-size`, checked as the body arrives: a chunked body
    /// declares no length up front.
    max_size: u64,
    /// Counts it in the metrics: in progress until dropped.
    tally: crate::metrics::UploadTally,
}

impl Receiving {
    fn write(&mut self, data: &[u8]) -> Result<(), Response> {
        self.size = self
            .size
            .saturating_add(u64::try_from(data.len()).unwrap_or(u64::MAX));
        if self.size > self.max_size {
            return Err(json_error(413, "upload too large"));
        }
        self.temp
            .as_file_mut()
            .write_all(data)
            .map_err(|e| write_failed(self.temp.path(), &e))
    }
}

impl Uploads {
    /// `PUT /upload/NAME`, on its headers: checks name, size and
    /// collisions before a byte of the body is read (so an
    /// `Expect: 100-continue` client never sends a refused body).
    pub fn start_put(
        &self,
        req: &Request,
        raw_name: &str,
        held: Held,
    ) -> Result<Receiving, Response> {
        let parts = put_path(raw_name).map_err(|why| json_error(400, why))?;
        self.check_size(req)?;
        self.receive(&[], &parts, held)
    }

    /// `POST /upload`, on its headers.
    pub fn start_multipart(&self, req: &Request, held: Held) -> Result<MultipartUpload, Response> {
        let content_type = req.header("content-type").unwrap_or_default();
        let (media_type, params) = parse_header_parameters(content_type);
        if !media_type.eq_ignore_ascii_case("multipart/form-data") {
            return Err(json_error(415, "POST /upload takes multipart/form-data"));
        }
        let boundary = params
            .get("boundary")
            .ok_or_else(|| json_error(400, "multipart body without boundary"))?;
        let parser = MultipartParser::new(boundary)
            .map_err(|e| json_error(400, &format!("multipart: {e}")))?;
        self.check_size(req)?;
        let dir = req.query().get("dir").unwrap_or_default();
        let dir = relative_path(dir.strip_suffix('/').unwrap_or(dir))
            .map_err(|why| json_error(400, &format!("dir: {why}")))?;
        Ok(MultipartUpload {
            parser,
            dir,
            html: wants_html(req),
            held,
            current: None,
            field: None,
            folders: Vec::new(),
            done: Vec::new(),
        })
    }

    fn check_size(&self, req: &Request) -> Result<(), Response> {
        match req.content_length() {
            Some(n) if n > self.max_size => Err(json_error(413, "upload too large")),
            _ => Ok(()),
        }
    }

    /// The directory `parts` names below the upload directory, created
    /// where missing. Each existing component is resolved before the next
    /// is looked at, so a symlink is followed only while it stays inside
    /// the upload directory; otherwise 400 (or 409 when a file stands in
    /// the way).
    pub fn directory(&self, parts: &[String]) -> Result<PathBuf, Response> {
        let mut dir = self.dir.clone();
        for part in parts {
            let next = dir.join(part);
            match fs::symlink_metadata(&next) {
                Ok(meta) if meta.is_dir() => dir = next,
                Ok(meta) if meta.file_type().is_symlink() => match fs::canonicalize(&next) {
                    Ok(target) if target.starts_with(&self.dir) && target.is_dir() => dir = target,
                    _ => {
                        return Err(json_error(
                            400,
                            &format!("{part} leads out of the upload directory"),
                        ));
                    }
                },
                Ok(_) => return Err(json_error(409, &format!("{part} is not a directory"))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&next) {
                    Ok(()) => dir = next,
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists && next.is_dir() => {
                        dir = next
                    }
                    Err(e) => return Err(write_failed(&next, &e)),
                },
                Err(e) => return Err(write_failed(&next, &e)),
            }
        }
        Ok(dir)
    }

    /// The URL of `relative` (components below the upload directory), when
    /// the upload directory is served.
    pub fn location(&self, relative: &[&str], is_dir: bool) -> Option<String> {
        let mut url = self.url.clone()?;
        for part in relative.iter().filter(|p| !p.is_empty()) {
            url.extend(utf8_percent_encode(part, LINK_SEGMENT));
            url.push('/');
        }
        if !is_dir {
            url.pop();
        }
        Some(url)
    }

    /// Opens the temporary file of `parts` (a path whose last component is
    /// the file name) below `base`, creating the directories on the way.
    fn receive(
        &self,
        base: &[String],
        parts: &[String],
        held: Held,
    ) -> Result<Receiving, Response> {
        let Some((file_name, dirs)) = parts.split_last() else {
            return Err(json_error(400, "empty file name"));
        };
        check_name(file_name).map_err(|why| json_error(400, why))?;
        let relative: Vec<String> = base.iter().chain(dirs).cloned().collect();
        let dir = self.directory(&relative)?;
        let name = base
            .iter()
            .chain(parts)
            .cloned()
            .collect::<Vec<_>>()
            .join("/");
        let replace = self.overwrite && held.rights.contains(Rights::OVERWRITE);
        if dir.join(file_name).symlink_metadata().is_ok() {
            if !self.overwrite {
                return Err(json_error(409, &format!("{name} exists")));
            }
            permit(
                held,
                Rights::OVERWRITE,
                &format!("{name} exists and may not be replaced"),
            )?;
        }
        let temp = tempfile::Builder::new()
            .prefix(".uhttpd-upload-")
            // Like any new file: 0666 less the umask (tempfile's default is 0600).
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .suffix(".part")
            .tempfile_in(&dir)
            .map_err(|e| write_failed(&dir, &e))?;
        Ok(Receiving {
            temp,
            dir,
            file_name: file_name.clone(),
            name,
            replace,
            size: 0,
            max_size: self.max_size,
            tally: crate::metrics::UploadTally::start(),
        })
    }

    /// Gives a completed file its final name: 409 if the name was taken
    /// meanwhile (without `--overwrite`), 507/500 if the rename failed.
    fn commit(&self, file: Receiving) -> Result<serde_json::Value, Response> {
        let target = file.dir.join(&file.file_name);
        file.temp
            .as_file()
            .sync_data()
            .map_err(|e| write_failed(file.temp.path(), &e))?;
        let result = if file.replace {
            file.temp.persist(&target).map(drop)
        } else {
            file.temp.persist_noclobber(&target).map(drop)
        };
        if let Err(e) = result {
            if e.error.kind() == io::ErrorKind::AlreadyExists {
                return Err(json_error(409, &format!("{} exists", file.name)));
            }
            return Err(write_failed(&target, &e.error));
        }
        // The new name survives a crash only once the directory is flushed;
        // the data already is, so a failure here is logged, not answered.
        if let Err(e) = fs::File::open(&file.dir).and_then(|dir| dir.sync_all()) {
            log::error!("upload: cannot flush {}: {e}", file.dir.display());
        }
        log::info!("saved upload {} ({} bytes)", target.display(), file.size);
        file.tally.completed();
        Ok(json!({ "name": file.name, "size": file.size }))
    }
}

/// A `PUT` body in progress.
pub struct PutUpload(Receiving);

impl PutUpload {
    pub fn new(receiving: Receiving) -> Self {
        PutUpload(receiving)
    }

    pub fn feed(&mut self, data: &[u8]) -> Result<(), Response> {
        self.0.write(data)
    }

    /// 201 with `{"name", "size"}` once the file is durable (blocks: run
    /// off the poll loop), or why not; with `Location` when the upload
    /// directory is served.
    pub fn finish(self, uploads: &Uploads) -> Response {
        let name = self.0.name.clone();
        match uploads.commit(self.0) {
            Ok(saved) => {
                created(uploads.location(&name.split('/').collect::<Vec<_>>(), false)).body(saved)
            }
            Err(response) => response,
        }
    }
}

/// Whether `held` has `wanted`: else a 401 when a login would help, a
/// 403 saying `why` when it would not.
fn permit(held: Held, wanted: Rights, why: &str) -> Result<(), Response> {
    match held.decide(wanted) {
        Decision::Allow => Ok(()),
        Decision::Login => Err(challenge()),
        Decision::Forbidden => Err(json_error(403, why)),
    }
}

/// A `multipart/form-data` body in progress.
pub struct MultipartUpload {
    parser: MultipartParser,
    /// `?dir=`: where below the upload directory files go.
    dir: Vec<String>,
    /// Answer a browser's form with a redirect to the listing.
    html: bool,
    /// What the sender may do in `dir`.
    held: Held,
    /// The file being received (boxed: the form state stays small).
    current: Option<Box<Receiving>>,
    /// The value of a `mkdir` field being read.
    field: Option<Vec<u8>>,
    /// Folders to create.
    folders: Vec<String>,
    done: Vec<Receiving>,
}

/// Longest `mkdir` field value, in bytes.
const MAX_FIELD: usize = 1024;

/// `201 Created`, with `Location` when known.
fn created(location: Option<String>) -> Response {
    let response = Response::new(201);
    match location {
        Some(url) => response.header("Location", url),
        None => response,
    }
}

impl MultipartUpload {
    pub fn feed(&mut self, uploads: &Uploads, data: &[u8]) -> Result<(), Response> {
        let Self {
            parser,
            dir,
            current,
            field,
            folders,
            done,
            held,
            ..
        } = self;
        let result = parser.feed(data, |event| -> Result<(), Response> {
            match event {
                // A form field (other than `mkdir`), or a file input left
                // empty: no file is opened, so its data is skipped.
                PartEvent::Start { name, filename, .. } => match filename {
                    None if name == "mkdir" => {
                        permit(*held, Rights::MKDIR, "may not create folders here")?;
                        *field = Some(Vec::new());
                    }
                    None => {}
                    Some(name) if name.is_empty() => {}
                    Some(name) => {
                        permit(*held, Rights::UPLOAD, "may not upload here")?;
                        let parts = relative_path(&name).map_err(|why| json_error(400, why))?;
                        let full = dir
                            .iter()
                            .chain(&parts)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join("/");
                        if done.iter().any(|f| f.name == full) {
                            return Err(json_error(400, &format!("{name} sent twice")));
                        }
                        *current = Some(Box::new(uploads.receive(dir, &parts, *held)?));
                    }
                },
                PartEvent::Data(bytes) => {
                    if let Some(file) = current.as_mut() {
                        file.write(bytes)?;
                    } else if let Some(value) = field.as_mut() {
                        if value.len().saturating_add(bytes.len()) > MAX_FIELD {
                            return Err(json_error(400, "mkdir: name too long"));
                        }
                        value.extend_from_slice(bytes);
                    }
                }
                PartEvent::End => {
                    if let Some(file) = current.take() {
                        done.push(*file);
                    }
                    if let Some(value) = field.take() {
                        let name = String::from_utf8(value)
                            .map_err(|_| json_error(400, "mkdir: name is not UTF-8"))?;
                        check_name(&name)
                            .map_err(|why| json_error(400, &format!("mkdir: {why}")))?;
                        folders.push(name);
                    }
                }
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(()),
            Err(FeedError::Handler(response)) => Err(response),
            Err(FeedError::Multipart(e)) => Err(json_error(400, &format!("multipart: {e}"))),
        }
    }

    /// 201 with the files once they are durable (blocks: run off the poll
    /// loop), or why not.
    pub fn finish(mut self, uploads: &Uploads) -> Response {
        if let Err(e) = self.parser.finish() {
            return json_error(400, &format!("multipart: {e}"));
        }
        if self.done.is_empty() && self.folders.is_empty() {
            return json_error(400, "no file in the form");
        }
        let mut saved = Vec::with_capacity(self.done.len());
        for file in std::mem::take(&mut self.done) {
            match uploads.commit(file) {
                Ok(entry) => saved.push(entry),
                Err(response) => return response,
            }
        }
        let target = match uploads.directory(&self.dir) {
            Ok(target) => target,
            Err(response) => return response,
        };
        for folder in &self.folders {
            match fs::create_dir(target.join(folder)) {
                Ok(()) => log::info!("created folder {}", target.join(folder).display()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    return json_error(409, &format!("{folder} exists"));
                }
                Err(e) => return write_failed(&target.join(folder), &e),
            }
        }
        let dir: Vec<&str> = self.dir.iter().map(String::as_str).collect();
        let listing = uploads.location(&dir, true);
        if self.html {
            return self.back_to_listing(listing, saved.len());
        }
        // One file: its URL; several, or a folder: the directory's.
        let location = match (saved.as_slice(), self.folders.as_slice()) {
            ([one], []) => one["name"]
                .as_str()
                .and_then(|name| uploads.location(&name.split('/').collect::<Vec<_>>(), false)),
            ([], [folder]) => {
                let mut path = dir.clone();
                path.push(folder);
                uploads.location(&path, true)
            }
            _ => listing,
        };
        let mut body = json!({ "files": saved });
        if !self.folders.is_empty() {
            body["folders"] = json!(self.folders);
        }
        created(location).body(body)
    }

    /// A browser's form: `303` back to the listing, which says what was
    /// done; `201` with a page linking back when uploads are not listed.
    fn back_to_listing(&self, listing: Option<String>, files: usize) -> Response {
        let what = match self.folders.first() {
            Some(folder) if files == 0 => {
                format!("created={}", encode_link(folder).replace('/', "%2F"))
            }
            _ => format!("uploaded={files}"),
        };
        match listing {
            Some(url) => Response::redirect(&format!("{url}?{what}"), 303),
            None => Response::new(201)
                .header("Content-Type", "text/html; charset=utf-8")
                .body(format!(
                    concat!(
                        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
                        "<title>Uploaded</title></head><body><p>{} file{} uploaded to the upload directory.</p>",
                        "<p><a href=\"/\">Back to the listing</a></p></body></html>\n"
                    ),
                    files,
                    if files == 1 { "" } else { "s" }
                )),
        }
    }
}

/// 507 when the disk (or a quota, or a file-size limit) is full, else 500.
pub fn write_failed(path: &Path, e: &io::Error) -> Response {
    log::error!("upload: cannot write {}: {e}", path.display());
    match e.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded | io::ErrorKind::FileTooLarge => {
            json_error(507, "insufficient storage")
        }
        _ => json_error(500, "cannot write the upload"),
    }
}

#[cfg(test)]
mod tests {
    use super::{check_name, put_name, put_path, relative_path};
    use crate::test_support::str_at_every_offset;

    #[test]
    fn refuses_names_that_could_leave_the_directory_or_hide() {
        for bad in [
            "", ".", "..", ".hidden", "a/b", "a\\b", "../x", "a\0b", "a\nb", "a\rb", "\u{7f}x",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?} should be refused");
        }
        for good in ["a.txt", "firmware-1.2.bin", "résumé.pdf", "a b", "x..y"] {
            assert!(check_name(good).is_ok(), "{good:?} should be accepted");
        }
    }

    #[test]
    fn relative_paths_are_checked_component_by_component() {
        assert_eq!(relative_path(""), Ok(vec![]));
        assert_eq!(
            relative_path("album/2024/été.jpg"),
            Ok(vec!["album".into(), "2024".into(), "été.jpg".into()])
        );
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../b",
            "a/./b",
            "a//b",
            "a/",
            "a\\b",
            "..\\x",
            "a/.git/config",
            "a/b\0c",
            "a/\u{7}",
            &"x/".repeat(2049),
        ] {
            assert!(relative_path(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            put_path("sub%20dir/%C3%A9.txt"),
            Ok(vec!["sub dir".into(), "é.txt".into()])
        );
        for bad in [
            "a%2Fb",
            "a/%2e%2e/b",
            "a/%2E",
            "/a",
            "a/",
            "a%5Cb/c",
            "a/%00",
        ] {
            assert!(put_path(bad).is_err(), "{bad:?} should be refused");
        }
        for (_, raw) in str_at_every_offset("a/b.txt") {
            match raw.split('/').collect::<Vec<_>>().as_slice() {
                [a, b] => assert_eq!(relative_path(&raw), Ok(vec![a.to_string(), b.to_string()])),
                _ => unreachable!(),
            }
        }
    }

    #[test]
    fn decodes_put_names_strictly() {
        assert_eq!(put_name("a%20b.txt").as_deref(), Ok("a b.txt"));
        assert_eq!(put_name("%E2%82%AC.bin").as_deref(), Ok("€.bin"));
        assert_eq!(put_name("%ff"), Err("file name is not UTF-8"));
        for bad in ["a%ZZ.txt", "a%2G", "a%", "a%2"] {
            assert_eq!(
                put_name(bad),
                Err("malformed percent escape in the file name"),
                "{bad}"
            );
        }
    }

    /// Regression for issue 9: multi-byte characters (raw or encoded) and
    /// encoded invalid bytes at every offset of an upload name.
    #[test]
    fn upload_names_with_any_character_at_any_offset_are_decoded_or_refused() {
        let base = "a.txt";
        for (_, raw) in str_at_every_offset(base) {
            let name = put_name(&raw).unwrap();
            assert_eq!(name, raw);
            assert_eq!(check_name(&name), Ok(()), "{raw}");
        }
        for (escape, want) in [
            ("%C3%A9", Ok(())),
            ("%F0%9F%98%80", Ok(())),
            ("%FF", Err("file name is not UTF-8")),
            ("%C3", Err("file name is not UTF-8")),
            ("%", Err("malformed percent escape in the file name")),
            ("%5C", Err("file name contains a path separator")),
        ] {
            for at in 0..=base.len() {
                let raw = format!("{}{escape}{}", &base[..at], &base[at..]);
                let got = put_name(&raw).and_then(|name| check_name(&name));
                assert_eq!(got, want, "{raw}");
            }
        }
    }
}
