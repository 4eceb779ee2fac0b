//! `?q=`: the entries below a directory whose name contains a text
//! (case-insensitively), found by walking the disk on a search thread,
//! never on the poll loop.
//!
//! The walk follows the rules of serving: dotfiles and names that are not
//! UTF-8 are skipped (and not entered), a symlink counts only while its
//! target stays under ROOT, and a directory reached twice (a symlink loop)
//! is walked once. It is bounded: it stops after [`MAX_VISITED`] entries,
//! [`MAX_RESULTS`] matches or [`MAX_TIME`], and the page says so.

use std::collections::{HashSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::listing::Entry;

/// Directory entries one search looks at, at most.
pub const MAX_VISITED: usize = 10_000;
/// Matches one search returns, at most.
pub const MAX_RESULTS: usize = 1_000;
/// How long one search may walk.
pub const MAX_TIME: Duration = Duration::from_secs(2);
/// Threads running searches.
pub const THREADS: usize = 2;
/// Searches that may wait for a thread; beyond: 503.
pub const PENDING: usize = 16;

/// A search, queued for a search thread.
pub type Job = Box<dyn FnOnce() + Send>;

/// How a search went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Searched {
    /// Entries looked at.
    pub visited: usize,
    /// Why it ended early, if it did (as the page words it).
    pub stopped: Option<&'static str>,
}

/// The entries below `dir` (under the canonical `root`) whose name
/// contains `query`, named by their path below `dir`.
pub fn search(root: &Path, dir: &Path, query: &str) -> (Vec<Entry>, Searched) {
    let deadline = Instant::now() + MAX_TIME;
    let needle = query.to_lowercase();
    let mut found = Vec::new();
    let mut searched = Searched::default();
    let Ok(start) = fs::canonicalize(dir) else {
        return (found, searched);
    };
    let mut seen: HashSet<PathBuf> = HashSet::from([start.clone()]);
    let mut queue = VecDeque::from([(start, String::new())]);
    while let Some((dir, prefix)) = queue.pop_front() {
        let Ok(read) = fs::read_dir(&dir) else {
            continue;
        };
        for dir_entry in read {
            if searched.visited >= MAX_VISITED {
                searched.stopped = Some("it looked at 10000 entries");
                return (found, searched);
            }
            if Instant::now() >= deadline {
                searched.stopped = Some("it took 2 seconds");
                return (found, searched);
            }
            searched.visited += 1;
            let Ok(dir_entry) = dir_entry else { continue };
            let Ok(name) = dir_entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let Ok(file_type) = dir_entry.file_type() else {
                continue;
            };
            let mut path = dir_entry.path();
            if file_type.is_symlink() {
                match fs::canonicalize(&path) {
                    Ok(target) if target.starts_with(root) => path = target,
                    _ => continue,
                }
            }
            let Ok(meta) = fs::metadata(&path) else {
                continue;
            };
            if !meta.is_file() && !meta.is_dir() {
                continue;
            }
            let relative = format!("{prefix}{name}");
            if name.to_lowercase().contains(&needle) {
                if found.len() >= MAX_RESULTS {
                    searched.stopped = Some("it found 1000 matches");
                    return (found, searched);
                }
                found.push(Entry {
                    name: relative.clone(),
                    is_dir: meta.is_dir(),
                    size: meta.len(),
                    modified: meta.modified().ok(),
                });
            }
            if meta.is_dir() && seen.insert(path.clone()) {
                queue.push_back((path, format!("{relative}/")));
            }
        }
    }
    (found, searched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use tempfile::TempDir;

    fn names(found: &[Entry]) -> Vec<&str> {
        let mut names: Vec<_> = found.iter().map(|e| e.name.as_str()).collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn finds_matches_below_keeping_to_the_serving_rules() {
        let tmp = TempDir::new().unwrap();
        let outside = TempDir::new().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        fs::create_dir_all(root.join("a/Ünïcode dir")).unwrap();
        fs::create_dir_all(root.join(".hidden")).unwrap();
        fs::write(root.join("a/Ünïcode dir/report-ÉTÉ.txt"), "x").unwrap();
        fs::write(root.join("a/report.pdf"), "x").unwrap();
        fs::write(root.join(".hidden/report.txt"), "x").unwrap();
        fs::write(root.join("a/.report"), "x").unwrap();
        fs::write(outside.path().join("report-out.txt"), "x").unwrap();
        symlink(outside.path(), root.join("a/out")).unwrap();
        symlink(
            outside.path().join("report-out.txt"),
            root.join("report-link"),
        )
        .unwrap();
        // A loop: walked once.
        symlink(&root, root.join("a/loop")).unwrap();

        let (found, searched) = search(&root, &root, "REPORT");
        assert_eq!(
            names(&found),
            ["a/report.pdf", "a/Ünïcode dir/report-ÉTÉ.txt"]
        );
        assert_eq!(searched.stopped, None);
        let (found, _) = search(&root, &root, "été");
        assert_eq!(names(&found), ["a/Ünïcode dir/report-ÉTÉ.txt"]);
        let (found, _) = search(&root, &root.join("a/Ünïcode dir"), "rep");
        assert_eq!(names(&found), ["report-ÉTÉ.txt"]);
        let (found, _) = search(&root, &root, "dir");
        assert!(found[0].is_dir);
    }

    #[test]
    fn stops_after_the_entry_bound() {
        let tmp = TempDir::new().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        for i in 0..MAX_VISITED + 10 {
            fs::write(root.join(format!("f{i}")), "").unwrap();
        }
        let (found, searched) = search(&root, &root, "f");
        assert_eq!(found.len(), MAX_RESULTS);
        assert_eq!(searched.stopped, Some("it found 1000 matches"));
        let (found, searched) = search(&root, &root, "nomatch");
        assert!(found.is_empty());
        assert_eq!(searched.visited, MAX_VISITED);
        assert_eq!(searched.stopped, Some("it looked at 10000 entries"));
    }
}
