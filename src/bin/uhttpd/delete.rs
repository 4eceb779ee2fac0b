//! `DELETE /PATH`: removes a file, a symlink, or an empty folder under
//! ROOT, for users with the `delete` right (`--auth-file`; without it the
//! method is not offered). The route checked the right and the origin.
//!
//! What may be removed follows the resolver's rules: the folder holding it
//! resolves under ROOT, its name is no dotfile, and a symlink is removed
//! (never what it points to) only when it points inside ROOT, as only then
//! is it served. A folder must be empty (else 409); ROOT itself, 403.
//!
//! On the poll loop: an unlink or rmdir is a metadata operation, like
//! the open of an upload's temporary file (tens of µs); the directory is
//! not flushed (a crash may bring the file back, never half of it).

use std::fs;
use std::io;

use uhttp::Request;
use uhttp::Response;
use uhttp::util::split_url;

use crate::errors::error_response;
use crate::static_files::StaticOptions;
use crate::static_files::resolve::{self, Entry, ResolveError};

/// Answers `DELETE`: 204 once removed, else 400/403/404/409/500.
pub fn delete(files: &StaticOptions, req: &Request) -> Response {
    let raw_path = split_url(req.url()).0;
    match remove(files, raw_path) {
        Ok(what) => {
            log::info!(
                "{}: deleted {what} {}",
                req.remote_address(),
                raw_path.escape_debug()
            );
            // A file kept in memory must not outlive it.
            files.cache.clear();
            Response::new(204)
        }
        Err(status) => error_response(status),
    }
}

/// Removes what `raw_path` names; what it was, or the status refusing it.
fn remove(files: &StaticOptions, raw_path: &str) -> Result<&'static str, u16> {
    let Entry { parent, name } =
        resolve::entry(&files.root, raw_path).map_err(ResolveError::status)?;
    let path = parent.join(&name);
    let meta = fs::symlink_metadata(&path).map_err(io_status)?;
    let has_trailing_slash = raw_path.ends_with('/');
    if meta.file_type().is_symlink() {
        // Served only while it points inside ROOT: only then removable.
        resolve::resolve(&files.root, raw_path).map_err(ResolveError::status)?;
        fs::remove_file(&path).map_err(io_status)?;
        Ok("symlink")
    } else if meta.is_file() && !has_trailing_slash {
        fs::remove_file(&path).map_err(io_status)?;
        Ok("file")
    } else if meta.is_dir() {
        fs::remove_dir(&path).map_err(io_status)?;
        Ok("folder")
    } else {
        Err(404)
    }
}

fn io_status(e: io::Error) -> u16 {
    match e.kind() {
        io::ErrorKind::NotFound => 404,
        io::ErrorKind::PermissionDenied => 403,
        io::ErrorKind::DirectoryNotEmpty => 409,
        _ => {
            log::warn!("delete failed: {e}");
            500
        }
    }
}
