//! No request path reads outside ROOT. Every path goes over a raw socket,
//! byte for byte: an HTTP client would normalise it first.

use std::os::unix::fs::symlink;
use std::path::Path;

use tempfile::TempDir;

use crate::util::{Server, path_str, write_file};

const SECRET: &str = "TOP-SECRET-OUTSIDE-ROOT";

/// A parent directory holding `secret.txt` and the served `root/`, which
/// holds `sub/inner.txt` and symlinks leaving it.
struct Jail {
    _parent: TempDir,
    server: Server,
    outside: String,
}

fn jail() -> Jail {
    let parent = TempDir::new().unwrap();
    let outside = write_file(parent.path(), "secret.txt", SECRET.as_bytes());
    let root = parent.path().join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    write_file(&root.join("sub"), "inner.txt", b"inner");
    symlink(&outside, root.join("link.txt")).unwrap();
    symlink(parent.path(), root.join("linkdir")).unwrap();
    symlink("../secret.txt", root.join("relative.txt")).unwrap();
    symlink("sub/inner.txt", root.join("inside.txt")).unwrap();
    let server = Server::builder().serve(&root).start();
    Jail {
        _parent: parent,
        server,
        outside: path_str(&outside).to_owned(),
    }
}

fn assert_refused(server: &Server, path: &str) {
    let resp = server.raw_get(path);
    assert!(
        resp.status == 400 || resp.status == 404,
        "{path:?} answered {}",
        resp.status
    );
    let raw = String::from_utf8_lossy(&resp.raw);
    assert!(!raw.contains(SECRET), "{path:?} leaked the outside file");
}

#[test]
fn refuses_dot_dot_in_every_encoding() {
    let j = jail();
    for path in [
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/%2e./secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/%252e%252e/secret.txt",
        "/..%2fsecret.txt",
        "/sub%2f..%2f..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/..%5csecret.txt",
        "/sub%5c..%5c..%5csecret.txt",
        "/..\\secret.txt",
        "/sub\\..\\..\\secret.txt",
        "/.",
        "/./sub/inner.txt",
        "/sub/./inner.txt",
    ] {
        assert_refused(&j.server, path);
    }
}

#[test]
fn refuses_nul_and_control_characters() {
    let j = jail();
    for path in [
        "/sub/inner.txt%00",
        "/sub/inner.txt%00.png",
        "/%00/secret.txt",
        "/sub%00/inner.txt",
        "/sub/inner%0a.txt",
        "/sub/inner%0d%0a.txt",
    ] {
        assert_refused(&j.server, path);
    }
}

#[test]
fn refuses_absolute_paths() {
    let j = jail();
    let encoded: String = j.outside.replace('/', "%2F");
    for path in [
        j.outside.clone(),
        format!("/{}", j.outside),
        encoded.clone(),
        format!("/{encoded}"),
        "/etc/passwd".to_owned(),
        "//etc/passwd".to_owned(),
        "/%2Fetc%2Fpasswd".to_owned(),
        "file:///etc/passwd".to_owned(),
        "http://localhost/../secret.txt".to_owned(),
        "C:\\secret.txt".to_owned(),
        "secret.txt".to_owned(),
    ] {
        let resp = j.server.raw_get(&path);
        assert!(
            resp.status == 400 || resp.status == 404,
            "{path:?} answered {}",
            resp.status
        );
        let raw = String::from_utf8_lossy(&resp.raw);
        assert!(!raw.contains(SECRET), "{path:?} leaked the outside file");
        assert!(!raw.contains("root:x:0:0"), "{path:?} leaked /etc/passwd");
    }
}

#[test]
fn refuses_symlinks_leaving_root() {
    let j = jail();
    for path in [
        "/link.txt",
        "/relative.txt",
        "/linkdir/secret.txt",
        "/linkdir/",
    ] {
        assert_refused(&j.server, path);
    }
    // A symlink that stays inside is followed.
    let resp = j.server.raw_get("/inside.txt");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.text(), "inner");
}

#[test]
fn dotfiles_are_not_served() {
    let builder = Server::builder();
    write_file(builder.root(), ".env", b"PASSWORD=x");
    std::fs::create_dir(builder.root().join(".git")).unwrap();
    write_file(&builder.root().join(".git"), "config", b"[core]");
    let server = builder.start();
    for path in ["/.env", "/.git/config", "/%2eenv", "/.git/"] {
        assert_refused(&server, path);
        let resp = server.raw_get(path);
        assert!(!resp.text().contains("PASSWORD") && !resp.text().contains("[core]"));
    }
}

/// Sanity: the jail's inner file is served, so refusals above mean
/// something.
#[test]
fn serves_the_inner_file() {
    let j = jail();
    let resp = j.server.raw_get("/sub/inner.txt");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.text(), "inner");
    assert!(Path::new(&j.outside).exists());
}
