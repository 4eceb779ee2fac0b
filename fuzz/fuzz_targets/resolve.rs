//! Path resolution in `uhttpd` (`static_files/resolve.rs`): `resolve` and
//! `open` (openat2 `RESOLVE_BENEATH`, with `resolve` as the fallback).
//!
//! ROOT is a small tree in a fresh temporary directory, next to a
//! directory that must stay out of reach, with symlinks that leave ROOT
//! (relative and absolute) and symlinks that stay inside.
//!
//! Invariants: no panic; whatever is resolved or opened is under ROOT
//! (its canonical path, and for an open file the path of the descriptor
//! itself); nothing outside ROOT is ever opened; `open` and `resolve`
//! give the same answer; a refusal is 400, 403 or 404.
#![no_main]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use uhttp_fuzz::static_files::resolve::{Opened, ResolveError, Target, open, resolve};

struct Tree {
    root: PathBuf,
    root_dir: fs::File,
}

/// ROOT and its neighbour `outside/`, made once per process.
fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        let base = std::env::temp_dir().join(format!("uhttp-fuzz-resolve-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let root = base.join("root");
        let outside = base.join("outside");
        for dir in [
            root.join("sub/deeper"),
            root.join("é dir"),
            root.join(".hidden"),
            outside.clone(),
        ] {
            fs::create_dir_all(dir).expect("create the tree");
        }
        let files: [(&Path, &str); 6] = [
            (&root.join("index.html"), "index"),
            (&root.join("a.txt"), "a"),
            (&root.join("sub/b.txt"), "b"),
            (&root.join("é dir/ü.txt"), "u"),
            (&root.join(".hidden/h.txt"), "h"),
            (&outside.join("secret.txt"), "SECRET"),
        ];
        for (path, text) in files {
            fs::write(path, text).expect("write a file");
        }
        let links: [(PathBuf, PathBuf); 7] = [
            ("../outside".into(), root.join("up")),
            ("../outside/secret.txt".into(), root.join("secret-link")),
            (outside.clone(), root.join("abs-out")),
            (root.join("sub"), root.join("abs-in")),
            ("sub".into(), root.join("rel-in")),
            ("../../outside".into(), root.join("sub/deep-up")),
            ("missing".into(), root.join("dangling")),
        ];
        for (target, link) in links {
            symlink(target, link).expect("make a symlink");
        }
        let root = fs::canonicalize(&root).expect("canonical ROOT");
        let root_dir = fs::File::open(&root).expect("open ROOT");
        Tree { root, root_dir }
    })
}

/// What an answer amounts to, comparable between `open` and `resolve`.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    File(String),
    Dir(bool),
    Refused(u16),
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let tree = tree();
    let root = &tree.root;

    let resolved = match resolve(root, raw) {
        Ok(Target::File { path }) => {
            assert_under(root, &path);
            let text = fs::read_to_string(&path).expect("a resolved file reads");
            Answer::File(text)
        }
        Ok(Target::Dir {
            path,
            has_trailing_slash,
        }) => {
            assert_under(root, &path);
            assert!(path.is_dir());
            Answer::Dir(has_trailing_slash)
        }
        Err(e) => refused(e),
    };

    let opened = match open(root, &tree.root_dir, raw) {
        Ok(Opened::File { file, meta, name }) => {
            assert!(meta.is_file());
            assert!(name.is_relative());
            // The descriptor itself, whatever path led to it.
            let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
            let real = fs::read_link(format!("/proc/self/fd/{fd}")).expect("the fd's path");
            assert_under(root, &real);
            let text = fs::read_to_string(&real).expect("an opened file reads");
            Answer::File(text)
        }
        Ok(Opened::Dir {
            path,
            has_trailing_slash,
        }) => {
            assert_under(
                root,
                &fs::canonicalize(&path).expect("an opened dir exists"),
            );
            Answer::Dir(has_trailing_slash)
        }
        Err(e) => refused(e),
    };
    assert_ne!(resolved, Answer::File("SECRET".into()));
    assert_eq!(opened, resolved, "{raw:?}");
});

fn refused(e: ResolveError) -> Answer {
    let status = e.status();
    assert!(matches!(status, 400 | 403 | 404), "{e:?}");
    Answer::Refused(status)
}

fn assert_under(root: &Path, path: &Path) {
    assert!(path.starts_with(root), "{} is outside ROOT", path.display());
    assert!(
        !path.components().any(|c| c.as_os_str() == ".."),
        "{} has '..'",
        path.display()
    );
}
