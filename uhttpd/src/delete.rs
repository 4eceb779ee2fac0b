//! `DELETE /PATH`: removes a file, a symlink, or an empty folder under
//! ROOT, for users with the `delete` right (`--auth-file`; without it the
//! method is not offered). The route checked the right and the origin.
//!
//! What may be removed follows the resolver's rules: the folder holding it
//! resolves under ROOT, its name is no dotfile, and a symlink is removed
//! (never what it points to) only when it points inside ROOT, as only then
//! is it served. A folder must be empty (else 409); ROOT itself, 403.
//!
//! The entry is removed relative to its folder's open descriptor
//! (`unlinkat`), so the checked folder is the one changed.
//!
//! On the poll loop: an unlink or rmdir is a metadata operation, like
//! the open of an upload's temporary file (tens of µs); the directory is
//! not flushed (a crash may bring the file back, never half of it).

use std::os::fd::OwnedFd;
use std::path::Path;

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
    use rustix::fs::{AtFlags, FileType, statat, unlinkat};

    let Entry { parent, name } =
        resolve::entry(&files.root, raw_path).map_err(ResolveError::status)?;
    let dir = open_parent(files, &parent)?;
    let stat = statat(&dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW).map_err(errno_status)?;
    let has_trailing_slash = raw_path.ends_with('/');
    let (what, flags) = match FileType::from_raw_mode(stat.st_mode) {
        FileType::Symlink => {
            // Served only while it points inside ROOT: only then removable.
            resolve::resolve(&files.root, raw_path).map_err(ResolveError::status)?;
            ("symlink", AtFlags::empty())
        }
        FileType::RegularFile if !has_trailing_slash => ("file", AtFlags::empty()),
        FileType::Directory => ("folder", AtFlags::REMOVEDIR),
        _ => return Err(404),
    };
    unlinkat(&dir, name.as_str(), flags).map_err(errno_status)?;
    Ok(what)
}

/// The folder holding the entry (canonical, under ROOT), open: the entry
/// is removed relative to it, so a folder swapped for a symlink after the
/// check cannot lead the removal out of ROOT. Opened beneath ROOT's
/// descriptor with no symlink allowed (Linux `openat2`); where the kernel
/// has no `openat2`, by its canonical path.
fn open_parent(files: &StaticOptions, parent: &Path) -> Result<OwnedFd, u16> {
    use rustix::fs::{Mode, OFlags, ResolveFlags, open, openat2};
    use rustix::io::Errno;

    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let relative = parent.strip_prefix(&files.root).map_err(|_| 404_u16)?;
    let relative = if relative.as_os_str().is_empty() {
        Path::new(".")
    } else {
        relative
    };
    let resolve_flags =
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
    match openat2(
        &*files.root_dir,
        relative,
        flags,
        Mode::empty(),
        resolve_flags,
    ) {
        Err(Errno::NOSYS) => {
            open(parent, flags | OFlags::NOFOLLOW, Mode::empty()).map_err(errno_status)
        }
        // ELOOP, EXDEV: a symlink appeared on the way since the check.
        Err(Errno::LOOP | Errno::XDEV) => Err(404),
        other => other.map_err(errno_status),
    }
}

fn errno_status(e: rustix::io::Errno) -> u16 {
    use rustix::io::Errno;
    match e {
        Errno::NOENT | Errno::NOTDIR => 404,
        Errno::ACCESS | Errno::PERM | Errno::ROFS => 403,
        Errno::NOTEMPTY | Errno::EXIST => 409,
        _ => {
            log::warn!("delete failed: {e}");
            500
        }
    }
}
