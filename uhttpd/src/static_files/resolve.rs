//! From a request path to a file or directory under ROOT.
//!
//! The rule is *refuse, never rewrite*: a path that could name something
//! outside ROOT, or that only makes sense after normalisation, is refused
//! with 400 instead of being cleaned up into some other path.
//!
//! ```text
//! raw path ─ must start with "/"
//!   └ split on "/" (before decoding: "%2F" stays inside its segment)
//!       └ per segment: percent-decode (a malformed escape: 400) → UTF-8
//!           → refuse ".", "..", "/", "\", NUL, controls
//!           → hide ".name" (404)
//!           └ ROOT.join(segments) → canonicalize → must stay under ROOT (404)
//!               └ file → Target::File, directory → Target::Dir, anything else → 404
//! ```
//!
//! Empty segments (`//`, `/a//b`) are skipped, so `//evil.example/` names
//! `ROOT/evil.example`. Such a path is never echoed into a `Location`
//! header as is: [`dir_redirect_location`] collapses the leading slashes, so
//! the trailing-slash redirect of a directory can never become a
//! protocol-relative, off-site URL.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use percent_encoding::percent_decode_str;

use crate::percent::has_valid_escapes;

/// What a request path names under ROOT.
#[derive(Debug)]
pub enum Target {
    /// A regular file (after following symlinks that stay under ROOT).
    File {
        /// Canonical path, under ROOT.
        path: PathBuf,
    },
    /// A directory (after following symlinks that stay under ROOT).
    Dir {
        /// Canonical path, under ROOT.
        path: PathBuf,
        /// Whether the request path ended in `/`; without it the caller
        /// redirects to [`dir_redirect_location`].
        has_trailing_slash: bool,
    },
}

/// Why a request path does not resolve to something servable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolveError {
    /// Malformed or dangerous path: no leading `/`, a malformed percent
    /// escape, `.`/`..` segments, encoded `/`, `\`, NUL, control
    /// characters, invalid UTF-8.
    BadRequest,
    /// Missing, hidden (dotfile), outside ROOT, or not a file or directory.
    NotFound,
    /// The file system refused access.
    Forbidden,
}

impl ResolveError {
    /// The HTTP status answering this error.
    pub fn status(self) -> u16 {
        match self {
            ResolveError::BadRequest => 400,
            ResolveError::NotFound => 404,
            ResolveError::Forbidden => 403,
        }
    }
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResolveError::BadRequest => "malformed request path",
            ResolveError::NotFound => "no such file under the served directory",
            ResolveError::Forbidden => "access to the file is denied",
        })
    }
}

impl std::error::Error for ResolveError {}

/// Resolves `raw_path` (as received: percent-encoded, without the query)
/// to a file or directory under `root`, which must already be canonical.
///
/// Dotfiles (a segment starting with `.`) answer [`ResolveError::NotFound`]
/// rather than 400 or 403: they are hidden, and a client cannot tell them
/// apart from missing files. Symlinks are followed only while their target
/// stays under `root`; one that leaves it is [`ResolveError::NotFound`].
/// A file named with a trailing slash (`/a.txt/`) is
/// [`ResolveError::NotFound`], as POSIX path resolution would have it.
/// A malformed percent escape (`%zz`, `%2`, a lone `%`) is
/// [`ResolveError::BadRequest`], as in nginx: a name containing `%` is
/// linked as `%25`.
pub fn resolve(root: &Path, raw_path: &str) -> Result<Target, ResolveError> {
    let rest = raw_path.strip_prefix('/').ok_or(ResolveError::BadRequest)?;
    let mut joined = root.to_path_buf();
    for raw_segment in rest.split('/').filter(|s| !s.is_empty()) {
        joined.push(decode_segment(raw_segment)?);
    }

    let path = fs::canonicalize(&joined).map_err(io_error)?;
    if !path.starts_with(root) {
        return Err(ResolveError::NotFound);
    }
    let meta = fs::metadata(&path).map_err(io_error)?;
    let has_trailing_slash = raw_path.ends_with('/');
    if meta.is_file() && !has_trailing_slash {
        Ok(Target::File { path })
    } else if meta.is_dir() {
        Ok(Target::Dir {
            path,
            has_trailing_slash,
        })
    } else {
        Err(ResolveError::NotFound)
    }
}

/// What [`open`] found: an open file (with its metadata, read from the
/// open descriptor so the two agree) or a directory.
#[derive(Debug)]
pub enum Opened {
    /// A regular file, opened for reading.
    File {
        /// The open file.
        file: fs::File,
        /// Its metadata.
        meta: fs::Metadata,
        /// The decoded path below ROOT (for the extension).
        name: PathBuf,
    },
    /// A directory.
    Dir {
        /// Its path, under ROOT.
        path: PathBuf,
        /// Whether the request path ended in `/`.
        has_trailing_slash: bool,
    },
}

/// Resolves and opens `raw_path` under `root` in one step where the kernel
/// can (Linux `openat2` with `RESOLVE_BENEATH`: the kernel itself refuses
/// any path that leaves the directory, `..` and symlinks included). Paths
/// it will not open that way — an absolute symlink, a kernel without
/// `openat2` — take the [`resolve`] route: same answers, more system calls.
/// `root_dir` is `root`, opened.
pub fn open(root: &Path, root_dir: &fs::File, raw_path: &str) -> Result<Opened, ResolveError> {
    use rustix::fs::{Mode, OFlags, ResolveFlags, openat2};
    use rustix::io::Errno;

    let rest = raw_path.strip_prefix('/').ok_or(ResolveError::BadRequest)?;
    let mut relative = PathBuf::new();
    for raw_segment in rest.split('/').filter(|s| !s.is_empty()) {
        relative.push(decode_segment(raw_segment)?);
    }
    let has_trailing_slash = raw_path.ends_with('/');
    if relative.as_os_str().is_empty() {
        return open_resolved(root, raw_path);
    }
    // NONBLOCK: opening a FIFO must not stall the loop.
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
    let resolve_flags = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
    match openat2(root_dir, &relative, flags, Mode::empty(), resolve_flags) {
        Ok(fd) => {
            let file = fs::File::from(fd);
            let meta = file.metadata().map_err(io_error)?;
            if meta.is_file() && !has_trailing_slash {
                Ok(Opened::File {
                    file,
                    meta,
                    name: relative,
                })
            } else if meta.is_dir() {
                Ok(Opened::Dir {
                    path: root.join(relative),
                    has_trailing_slash,
                })
            } else {
                Err(ResolveError::NotFound)
            }
        }
        Err(Errno::NOENT | Errno::NOTDIR | Errno::NAMETOOLONG) => Err(ResolveError::NotFound),
        Err(Errno::ACCESS) => Err(ResolveError::Forbidden),
        // EXDEV (the path leaves ROOT, or an absolute symlink), ELOOP,
        // ENOSYS, EAGAIN, ...: decide the slow, portable way.
        Err(_) => open_resolved(root, raw_path),
    }
}

/// [`open`] by way of [`resolve`] (canonicalize, then check the prefix).
fn open_resolved(root: &Path, raw_path: &str) -> Result<Opened, ResolveError> {
    match resolve(root, raw_path)? {
        Target::Dir {
            path,
            has_trailing_slash,
        } => Ok(Opened::Dir {
            path,
            has_trailing_slash,
        }),
        Target::File { path } => {
            let file = fs::File::open(&path).map_err(io_error)?;
            let meta = file.metadata().map_err(io_error)?;
            if !meta.is_file() {
                return Err(ResolveError::NotFound);
            }
            let name = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            Ok(Opened::File { file, meta, name })
        }
    }
}

/// An entry of a directory under ROOT, named for removal: the directory
/// (canonical, under ROOT) and the entry's decoded name, itself not
/// followed (it may be a symlink).
#[derive(Debug)]
pub struct Entry {
    pub parent: PathBuf,
    pub name: String,
}

/// Resolves the directory holding what `raw_path` names (by [`resolve`]'s
/// rules) and checks the last segment as any segment is (a dotfile: 404).
/// ROOT itself has no parent: [`ResolveError::Forbidden`].
pub fn entry(root: &Path, raw_path: &str) -> Result<Entry, ResolveError> {
    let rest = raw_path.strip_prefix('/').ok_or(ResolveError::BadRequest)?;
    let mut segments = rest.split('/').filter(|s| !s.is_empty());
    let last = segments.next_back().ok_or(ResolveError::Forbidden)?;
    let name = decode_segment(last)?;
    let mut parent = String::from("/");
    for segment in segments {
        parent.push_str(segment);
        parent.push('/');
    }
    match resolve(root, &parent)? {
        Target::Dir { path, .. } => Ok(Entry { parent: path, name }),
        Target::File { .. } => Err(ResolveError::NotFound),
    }
}

/// The `Location` for redirecting a directory request without a trailing
/// slash: `raw_path` with its leading slashes collapsed to one and a `/`
/// appended. `//evil.example` gives `/evil.example/`, never an off-site URL.
/// Meant for a path [`resolve`] accepted as a [`Target::Dir`] (so free of
/// `\`, controls and dot segments); the caller appends the query, if any.
pub fn dir_redirect_location(raw_path: &str) -> String {
    let rest = raw_path.trim_start_matches('/');
    format!("/{rest}/")
}

/// Decodes one raw path segment and checks that it names exactly one entry
/// of its parent directory, and not a hidden one.
fn decode_segment(raw: &str) -> Result<String, ResolveError> {
    if !has_valid_escapes(raw.as_bytes()) {
        return Err(ResolveError::BadRequest);
    }
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| ResolveError::BadRequest)?;
    if decoded == "." || decoded == ".." {
        return Err(ResolveError::BadRequest);
    }
    // `/` can only come from `%2F`: splitting happened before decoding.
    if decoded
        .chars()
        .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        return Err(ResolveError::BadRequest);
    }
    if decoded.starts_with('.') {
        return Err(ResolveError::NotFound);
    }
    // Without `/` a segment cannot be absolute on Unix; this also refuses
    // prefixes such as `C:` where the platform gives them a meaning.
    let mut components = Path::new(&*decoded).components();
    match (components.next(), components.next()) {
        (Some(Component::Normal(_)), None) => Ok(decoded.into_owned()),
        _ => Err(ResolveError::BadRequest),
    }
}

fn io_error(err: io::Error) -> ResolveError {
    match err.kind() {
        io::ErrorKind::PermissionDenied => ResolveError::Forbidden,
        _ => ResolveError::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use tempfile::TempDir;

    /// ROOT with `a.txt`, `sub/b.txt`, `.secret`, `sub/.hidden`, a name
    /// needing encoding, and symlinks in and out; plus a sibling directory
    /// outside ROOT holding `outside.txt`.
    struct Fixture {
        _dirs: (TempDir, TempDir),
        root: PathBuf,
    }

    fn fixture() -> Fixture {
        let root_dir = TempDir::new().unwrap();
        let outside_dir = TempDir::new().unwrap();
        let root = fs::canonicalize(root_dir.path()).unwrap();
        let outside = fs::canonicalize(outside_dir.path()).unwrap();
        fs::write(root.join("a.txt"), "a").unwrap();
        fs::create_dir(root.join("sub")).unwrap();
        fs::write(root.join("sub/b.txt"), "b").unwrap();
        fs::write(root.join(".secret"), "s").unwrap();
        fs::write(root.join("sub/.hidden"), "h").unwrap();
        fs::write(root.join("a b#?%.txt"), "x").unwrap();
        fs::write(root.join("é.txt"), "e").unwrap();
        fs::write(root.join("%2e%2e"), "literal").unwrap();
        fs::write(outside.join("outside.txt"), "o").unwrap();
        symlink(root.join("a.txt"), root.join("link-in")).unwrap();
        symlink("sub", root.join("link-dir")).unwrap();
        symlink(outside.join("outside.txt"), root.join("link-out")).unwrap();
        symlink(&outside, root.join("link-out-dir")).unwrap();
        symlink("/etc/passwd", root.join("passwd")).unwrap();
        symlink("missing", root.join("broken")).unwrap();
        Fixture {
            _dirs: (root_dir, outside_dir),
            root,
        }
    }

    /// What a resolution came to, comparable in a table.
    #[derive(Debug, PartialEq)]
    enum Got {
        File(String),
        Dir(String, bool),
        Err(ResolveError),
    }

    fn got(root: &Path, raw: &str) -> Got {
        let rel = |p: &Path| p.strip_prefix(root).unwrap().to_str().unwrap().to_owned();
        match resolve(root, raw) {
            Ok(Target::File { path }) => {
                assert!(path.is_file());
                Got::File(rel(&path))
            }
            Ok(Target::Dir {
                path,
                has_trailing_slash,
            }) => Got::Dir(rel(&path), has_trailing_slash),
            Err(e) => Got::Err(e),
        }
    }

    use ResolveError::{BadRequest, NotFound};

    #[test]
    fn serves_files_and_directories_under_root() {
        let f = fixture();
        let cases = [
            ("/", Got::Dir(String::new(), true)),
            ("//", Got::Dir(String::new(), true)),
            ("/a.txt", Got::File("a.txt".into())),
            ("/sub", Got::Dir("sub".into(), false)),
            ("/sub/", Got::Dir("sub".into(), true)),
            ("/sub/b.txt", Got::File("sub/b.txt".into())),
            ("/sub//b.txt", Got::File("sub/b.txt".into())),
            ("/%73ub/b%2Etxt", Got::File("sub/b.txt".into())),
            ("/a%20b%23%3F%25.txt", Got::File("a b#?%.txt".into())),
            ("/%C3%A9.txt", Got::File("é.txt".into())),
            ("/%252e%252e", Got::File("%2e%2e".into())),
        ];
        for (raw, want) in cases {
            assert_eq!(got(&f.root, raw), want, "{raw}");
        }
    }

    #[test]
    fn leading_double_slash_stays_under_root() {
        let f = fixture();
        assert_eq!(got(&f.root, "//a.txt"), Got::File("a.txt".into()));
        assert_eq!(got(&f.root, "//evil.example/"), Got::Err(NotFound));
        assert_eq!(dir_redirect_location("//evil.example"), "/evil.example/");
        assert_eq!(dir_redirect_location("///sub"), "/sub/");
        assert_eq!(dir_redirect_location("/sub"), "/sub/");
    }

    #[test]
    fn refuses_traversal_in_every_encoding_with_400() {
        let f = fixture();
        let cases = [
            "/..",
            "/../etc/passwd",
            "/sub/../a.txt",
            "/sub/..",
            "/%2e%2e/etc/passwd",
            "/%2E%2e/etc/passwd",
            "/%2E%2E",
            "/.%2e/etc/passwd",
            "/%2e./etc/passwd",
            "/.",
            "/sub/./b.txt",
            "/%2e",
            "/sub%2fb.txt",
            "/sub%2Fb.txt",
            "/..%2fetc%2fpasswd",
            "/%2fetc%2fpasswd",
            "/sub%5cb.txt",
            "/sub%5Cb.txt",
            "/sub\\b.txt",
            "/..\\etc\\passwd",
            "/a.txt%00",
            "/a.txt%00.png",
            "/a%0d%0a.txt",
            "/a%7f.txt",
            "/a%c2%85.txt",
            "/%ff.txt",
            "/%c3.txt",
            // Malformed escapes (issue 9).
            "/a%ZZ.txt",
            "/a%2G",
            "/a%",
            "/a%2",
            "/%",
            "/sub%/b.txt",
            "/sub/%zz",
            "/a%%41",
        ];
        for raw in cases {
            assert_eq!(got(&f.root, raw), Got::Err(BadRequest), "{raw}");
        }
    }

    #[test]
    fn refuses_paths_not_starting_with_slash_with_400() {
        let f = fixture();
        for raw in ["", "a.txt", "*", "http://x/a.txt", "C:/Windows", "%2fa.txt"] {
            assert_eq!(got(&f.root, raw), Got::Err(BadRequest), "{raw}");
        }
    }

    #[test]
    fn absolute_looking_paths_stay_under_root() {
        let f = fixture();
        fs::create_dir(f.root.join("etc")).unwrap();
        fs::write(f.root.join("etc/passwd"), "inside").unwrap();
        let cases = [
            ("/etc/passwd", Got::File("etc/passwd".into())),
            ("//etc/passwd", Got::File("etc/passwd".into())),
            ("///etc//passwd", Got::File("etc/passwd".into())),
            ("/C:/Windows/win.ini", Got::Err(NotFound)),
            ("/C:%5cWindows", Got::Err(BadRequest)),
            ("/%5c%5cserver%5cshare", Got::Err(BadRequest)),
        ];
        for (raw, want) in cases {
            assert_eq!(got(&f.root, raw), want, "{raw}");
        }
    }

    #[test]
    fn hides_dotfiles_with_404() {
        let f = fixture();
        for raw in ["/.secret", "/%2esecret", "/sub/.hidden", "/.git/config"] {
            assert_eq!(got(&f.root, raw), Got::Err(NotFound), "{raw}");
        }
    }

    #[test]
    fn follows_symlinks_only_while_they_stay_under_root() {
        let f = fixture();
        let cases = [
            ("/link-in", Got::File("a.txt".into())),
            ("/link-dir/", Got::Dir("sub".into(), true)),
            ("/link-dir/b.txt", Got::File("sub/b.txt".into())),
            ("/link-out", Got::Err(NotFound)),
            ("/link-out-dir/outside.txt", Got::Err(NotFound)),
            ("/link-out-dir/", Got::Err(NotFound)),
            ("/passwd", Got::Err(NotFound)),
            ("/broken", Got::Err(NotFound)),
        ];
        for (raw, want) in cases {
            assert_eq!(got(&f.root, raw), want, "{raw}");
        }
    }

    #[test]
    fn answers_404_for_missing_entries_and_paths_through_files() {
        let f = fixture();
        for raw in ["/nope", "/sub/nope", "/a.txt/", "/a.txt/x", "/nope/.."] {
            let want = if raw.ends_with("..") {
                BadRequest
            } else {
                NotFound
            };
            assert_eq!(got(&f.root, raw), Got::Err(want), "{raw}");
        }
    }

    #[test]
    fn answers_404_for_entries_neither_file_nor_directory() {
        // /dev is canonical and holds a character device.
        let root = Path::new("/dev");
        assert_eq!(got(root, "/null"), Got::Err(NotFound));
    }

    /// Regression for issue 9: multi-byte characters and (encoded) invalid
    /// bytes at every offset of a path answer 400 or 404, through both
    /// [`resolve`] and [`open`].
    #[test]
    fn never_panics_on_multibyte_or_invalid_bytes_at_any_offset() {
        use crate::test_support::str_at_every_offset;
        let f = fixture();
        let root_dir = fs::File::open(&f.root).unwrap();
        let base = "/sub/b.txt";
        let mut inputs = str_at_every_offset(base);
        for escape in ["%FF", "%C3", "%E2%82", "%C3%A9"] {
            for at in 0..=base.len() {
                inputs.push((at, format!("{}{escape}{}", &base[..at], &base[at..])));
            }
        }
        for (at, raw) in &inputs {
            // No leading '/', or a segment decoding to invalid UTF-8: 400.
            // Anything else names nothing in the fixture: 404.
            let invalid_utf8 = raw.split('/').any(|segment| {
                let bytes: Vec<u8> = percent_decode_str(segment).collect();
                std::str::from_utf8(&bytes).is_err()
            });
            let want = if *at == 0 || invalid_utf8 {
                BadRequest
            } else {
                NotFound
            };
            let resolved = resolve(&f.root, raw).map(|_| ()).unwrap_err();
            let opened = open(&f.root, &root_dir, raw).map(|_| ()).unwrap_err();
            assert_eq!(resolved, want, "{raw}");
            assert_eq!(opened, want, "{raw}");
        }
    }

    #[test]
    fn names_entries_for_removal_without_following_the_last_segment() {
        let f = fixture();
        let named = |raw: &str| {
            entry(&f.root, raw).map(|e| {
                let parent = e.parent.strip_prefix(&f.root).unwrap().to_owned();
                (parent.to_str().unwrap().to_owned(), e.name)
            })
        };
        let pair = |p: &str, n: &str| Ok((p.to_owned(), n.to_owned()));
        assert_eq!(named("/a.txt"), pair("", "a.txt"));
        assert_eq!(named("//sub//b.txt"), pair("sub", "b.txt"));
        assert_eq!(named("/link-dir/b.txt"), pair("sub", "b.txt"));
        assert_eq!(named("/link-out"), pair("", "link-out"));
        assert_eq!(named("/sub/"), pair("", "sub"));
        assert_eq!(named("/%C3%A9.txt"), pair("", "é.txt"));
        assert_eq!(named("/"), Err(ResolveError::Forbidden));
        assert_eq!(named("/.secret"), Err(NotFound));
        assert_eq!(named("/link-out-dir/outside.txt"), Err(NotFound));
        assert_eq!(named("/a.txt/x"), Err(NotFound));
        assert_eq!(named("/sub/.."), Err(BadRequest));
        assert_eq!(named("/%ff"), Err(BadRequest));
        assert_eq!(named("a.txt"), Err(BadRequest));
    }

    #[test]
    fn maps_errors_to_statuses() {
        assert_eq!(BadRequest.status(), 400);
        assert_eq!(NotFound.status(), 404);
        assert_eq!(ResolveError::Forbidden.status(), 403);
    }
}
