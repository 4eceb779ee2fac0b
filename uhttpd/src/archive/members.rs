//! The entry list of a directory archive: what is under a directory that
//! a request could be served, in a fixed order.
//!
//! The rules are the serving rules of `static_files::resolve`: names that
//! are not UTF-8, start with `.`, or hold `\` or control characters are
//! left out (no request path reaches them); symlinks are followed only
//! while their target stays under ROOT; anything neither a file nor a
//! directory is left out. A directory already on the path being walked
//! (a symlink loop) is left out too.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::layout::Entry;

/// Entries an archive may hold; a bigger tree is refused.
pub const MAX_MEMBERS: usize = 100_000;
/// Directory levels an archive may hold below its top.
pub const MAX_DEPTH: usize = 64;

/// One member and where its content is.
#[derive(Debug, Clone)]
pub struct Member {
    /// Name, kind, size and mtime, as laid out.
    pub entry: Entry,
    /// The canonical path of a file (its content), under ROOT.
    pub path: PathBuf,
    /// The exact mtime, to notice a file changing while it is sent.
    pub modified: SystemTime,
}

/// Why no entry list was made.
#[derive(Debug)]
pub enum WalkError {
    /// More than [`MAX_MEMBERS`] entries.
    TooMany,
    /// The top directory cannot be read.
    Io(io::Error),
}

/// The members of an archive of `dir` (canonical, under the canonical
/// `root`): first `top` itself (the name every other member starts
/// with), then its content depth first, each directory's entries sorted
/// by name (bytewise).
pub fn walk(root: &Path, dir: &Path, top: &str) -> Result<Vec<Member>, WalkError> {
    let meta = fs::metadata(dir).map_err(WalkError::Io)?;
    let mut members = vec![member(top.to_owned(), None, dir, &meta)];
    let mut ancestors = vec![dir.to_path_buf()];
    fs::read_dir(dir).map_err(WalkError::Io)?;
    walk_dir(root, dir, top, &mut ancestors, &mut members)?;
    Ok(members)
}

fn walk_dir(
    root: &Path,
    dir: &Path,
    prefix: &str,
    ancestors: &mut Vec<PathBuf>,
    members: &mut Vec<Member>,
) -> Result<(), WalkError> {
    let Ok(read) = fs::read_dir(dir) else {
        // An unreadable subdirectory is left out, as its listing would
        // be refused.
        return Ok(());
    };
    let mut names: Vec<String> = read
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| is_servable_name(name))
        .collect();
    names.sort_unstable();
    for name in names {
        let path = dir.join(&name);
        let Some((path, meta)) = follow(root, &path) else {
            continue;
        };
        let full = format!("{prefix}/{name}");
        if meta.is_file() {
            members.push(member(full, Some(meta.len()), &path, &meta));
        } else if meta.is_dir() {
            if ancestors.contains(&path) || ancestors.len() > MAX_DEPTH {
                continue;
            }
            members.push(member(full.clone(), None, &path, &meta));
            ancestors.push(path.clone());
            walk_dir(root, &path, &full, ancestors, members)?;
            ancestors.pop();
        }
        if members.len() > MAX_MEMBERS {
            return Err(WalkError::TooMany);
        }
    }
    Ok(())
}

/// Where `path` leads, when that stays under `root`: its canonical path
/// and metadata (a symlink followed).
fn follow(root: &Path, path: &Path) -> Option<(PathBuf, fs::Metadata)> {
    let link = fs::symlink_metadata(path).ok()?;
    let path = if link.file_type().is_symlink() {
        let target = fs::canonicalize(path).ok()?;
        if !target.starts_with(root) {
            return None;
        }
        target
    } else {
        path.to_path_buf()
    };
    let meta = fs::metadata(&path).ok()?;
    (meta.is_file() || meta.is_dir()).then_some((path, meta))
}

fn member(name: String, size: Option<u64>, path: &Path, meta: &fs::Metadata) -> Member {
    let modified = meta.modified().unwrap_or(UNIX_EPOCH);
    let mtime = modified
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Member {
        entry: Entry { name, size, mtime },
        path: path.to_path_buf(),
        modified,
    }
}

/// Whether a request path could name this entry (see
/// `resolve::decode_segment`): no dotfile, no `\`, no control character.
/// Such a name is also a safe archive path segment: not empty, not `..`,
/// no `/`, no NUL.
pub fn is_servable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servable_names_exclude_what_serving_refuses() {
        for good in ["a", "é日🦀", "a b", "x..y", "a.b"] {
            assert!(is_servable_name(good), "{good:?}");
        }
        for bad in [
            "", ".", "..", ".hidden", "a\\b", "a\0b", "a\nb", "a/b", "\u{7f}",
        ] {
            assert!(!is_servable_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn walks_depth_first_sorted_without_hidden_or_escaping_links() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"x").unwrap();
        let root = tempfile::tempdir().unwrap();
        let root_path = std::fs::canonicalize(root.path()).unwrap();
        let top = root_path.join("top");
        std::fs::create_dir_all(top.join("b/c")).unwrap();
        std::fs::write(top.join("a"), b"12").unwrap();
        std::fs::write(top.join("b/c/d"), b"").unwrap();
        std::fs::write(top.join(".hidden"), b"").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), top.join("out")).unwrap();
        std::os::unix::fs::symlink(&top, top.join("b/loop")).unwrap();
        std::os::unix::fs::symlink(top.join("a"), top.join("z")).unwrap();
        let members = walk(&root_path, &top, "top").unwrap();
        let names: Vec<(&str, Option<u64>)> = members
            .iter()
            .map(|m| (m.entry.name.as_str(), m.entry.size))
            .collect();
        assert_eq!(
            names,
            [
                ("top", None),
                ("top/a", Some(2)),
                ("top/b", None),
                ("top/b/c", None),
                ("top/b/c/d", Some(0)),
                ("top/z", Some(2)),
            ]
        );
    }
}
