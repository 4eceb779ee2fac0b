//! `--unix PATH`: the Unix stream socket uhttpd listens on behind a
//! reverse proxy on the same host.
//!
//! - The socket gets `--unix-mode` (default `0660`: the owner and the
//!   group, such as the proxy's `www-data`, may connect).
//! - A socket file left at PATH by a run that did not end cleanly is
//!   replaced, but only if it is a socket and nothing answers on it; any
//!   other file (a regular file, a directory, a symlink) is left alone and
//!   start-up fails.
//! - The file is removed when uhttpd exits, if it is still the one it
//!   made ([`Bound`] is dropped).
//!
//! Connections on it are plain HTTP, even with `--cert` (the socket never
//! leaves the host). Their peer has no IP: it is logged as `unix:`, and
//! `--trusted-proxy 0.0.0.0` (the stand-in address of a Unix peer,
//! [`uhttp::UNIX_SOCKET_ADDR`]) believes its `X-Forwarded-For`.

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

/// The permission bits of the socket file, `0` to `0777`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketMode(pub u32);

impl Default for SocketMode {
    fn default() -> Self {
        SocketMode(0o660)
    }
}

impl FromStr for SocketMode {
    type Err = String;
    /// Octal digits, with or without a leading `0` or `0o`: `0660`, `660`.
    fn from_str(s: &str) -> Result<Self, String> {
        let digits = s.trim();
        let digits = digits.strip_prefix("0o").unwrap_or(digits);
        let invalid = || format!("invalid mode \"{}\": octal, such as 0660", s.trim());
        if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return Err(invalid());
        }
        match u32::from_str_radix(digits, 8) {
            Ok(mode) if mode <= 0o777 => Ok(SocketMode(mode)),
            _ => Err(invalid()),
        }
    }
}

impl fmt::Display for SocketMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}

impl<'de> Deserialize<'de> for SocketMode {
    /// A string as on the command line (`"0660"`), or a TOML octal
    /// integer (`0o660`).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(u32),
        }
        match Raw::deserialize(d)? {
            Raw::Text(s) => s.parse().map_err(serde::de::Error::custom),
            Raw::Number(n) if n <= 0o777 => Ok(SocketMode(n)),
            Raw::Number(n) => Err(serde::de::Error::custom(format!(
                "invalid mode {n:#o}: at most 0o777"
            ))),
        }
    }
}

/// Why the socket could not be set up.
#[derive(Debug)]
pub enum UnixSocketError {
    /// Something that is not a socket is at the path.
    NotASocket(PathBuf),
    /// A server answers on the socket already.
    InUse(PathBuf),
    Io {
        path: PathBuf,
        source: io::Error,
    },
}

impl fmt::Display for UnixSocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnixSocketError::NotASocket(path) => write!(
                f,
                "cannot listen on {}: a file that is not a socket is there (not replaced)",
                path.display()
            ),
            UnixSocketError::InUse(path) => write!(
                f,
                "cannot listen on {}: another server is listening on it",
                path.display()
            ),
            UnixSocketError::Io { path, source } => {
                write!(f, "cannot listen on {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for UnixSocketError {}

/// A bound socket, whose file is removed when this is dropped.
#[derive(Debug)]
pub struct Bound {
    pub listener: UnixListener,
    path: PathBuf,
    /// Device and inode of the file made, so that only it is removed.
    id: (u64, u64),
}

impl Bound {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Bound {
    fn drop(&mut self) {
        let ours = fs::symlink_metadata(&self.path)
            .is_ok_and(|m| m.file_type().is_socket() && (m.dev(), m.ino()) == self.id);
        if ours && let Err(e) = fs::remove_file(&self.path) {
            log::warn!("cannot remove {}: {e}", self.path.display());
        }
    }
}

/// Binds a socket at `path` with `mode`, replacing a stale socket file.
pub fn bind(path: &Path, mode: SocketMode) -> Result<Bound, UnixSocketError> {
    let io = |source| UnixSocketError::Io {
        path: path.to_owned(),
        source,
    };
    match fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => {
            return Err(UnixSocketError::NotASocket(path.to_owned()));
        }
        Ok(_) => match UnixStream::connect(path) {
            Ok(_) => return Err(UnixSocketError::InUse(path.to_owned())),
            // Nobody listens: left by a run that did not end cleanly.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                log::info!("replacing the stale socket {}", path.display());
                fs::remove_file(path).map_err(io)?;
            }
            Err(e) => return Err(io(e)),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    let meta = fs::symlink_metadata(path).map_err(io)?;
    let bound = Bound {
        listener,
        path: path.to_owned(),
        id: (meta.dev(), meta.ino()),
    };
    // Once the file exists: `bind` makes it with the umask's mode.
    fs::set_permissions(path, fs::Permissions::from_mode(mode.0)).map_err(io)?;
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_octal_modes() {
        for (text, mode) in [
            ("0660", 0o660),
            ("660", 0o660),
            ("0o600", 0o600),
            ("0", 0),
            (" 777 ", 0o777),
        ] {
            assert_eq!(text.parse::<SocketMode>(), Ok(SocketMode(mode)), "{text}");
        }
        for bad in [
            "",
            "0o",
            "8",
            "0668",
            "1777",
            "rw-rw----",
            "-1",
            "0x1ff",
            "é",
            "66\u{0}",
        ] {
            assert!(bad.parse::<SocketMode>().is_err(), "{bad:?}");
        }
        assert_eq!(SocketMode(0o660).to_string(), "0660");
    }

    #[test]
    fn replaces_a_stale_socket_but_never_another_file_and_removes_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        // A socket nobody listens on any more.
        drop(UnixListener::bind(&path).unwrap());
        let bound = bind(&path, SocketMode(0o600)).unwrap();
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        // A second server on the same path is refused; the first stays.
        assert!(matches!(
            bind(&path, SocketMode::default()),
            Err(UnixSocketError::InUse(_))
        ));
        drop(bound);
        assert!(!path.exists());

        let file = dir.path().join("file");
        fs::write(&file, b"keep me").unwrap();
        assert!(matches!(
            bind(&file, SocketMode::default()),
            Err(UnixSocketError::NotASocket(_))
        ));
        assert_eq!(fs::read(&file).unwrap(), b"keep me");
    }
}
