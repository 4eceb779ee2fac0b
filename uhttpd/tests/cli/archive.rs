//! `?download=tar|zip`: a directory as one archive, extracted by Python's
//! `tarfile` / `zipfile` and by `tar` / `unzip`, byte-exact; its length
//! known in advance; a resumed download; a file changed while it is sent;
//! `--no-archive`.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::Command;

use crate::common::client::small_buffer_tcp;
use crate::common::{PATIENCE, require};
use crate::util::{Response, Server, connect, read_head, read_to_close, write_file};

/// What a tree holds: each path, relative, with its content (`None` for a
/// directory).
type Tree = BTreeMap<String, Option<Vec<u8>>>;

/// Multi-byte names (2-, 3- and 4-byte characters), nested and empty
/// directories, an empty file, a file of a few MiB; a dotfile, a dot
/// directory, a symlink leaving ROOT (all left out) and one staying in.
fn site(args: &[&str]) -> (Server, tempfile::TempDir) {
    let builder = Server::builder().args(args);
    let outside = fill(builder.root());
    (builder.start(), outside)
}

/// Fills `root` as [`site`] serves it; the directory the outward symlink
/// points into is returned.
fn fill(root: &Path) -> tempfile::TempDir {
    let outside = tempfile::tempdir().unwrap();
    write_file(outside.path(), "secret.txt", b"not for you");
    let top = root.join("docs");
    std::fs::create_dir_all(top.join("é日🦀/deeper")).unwrap();
    std::fs::create_dir_all(top.join("empty dir")).unwrap();
    std::fs::create_dir_all(top.join(".git")).unwrap();
    write_file(&top, "a.txt", b"hello\n");
    write_file(&top, "empty", b"");
    write_file(&top.join("é日🦀"), "ß.bin", &[0, 1, 2, 255]);
    write_file(&top.join("é日🦀/deeper"), &"n".repeat(120), b"long name");
    write_file(&top.join(".git"), "config", b"hidden");
    write_file(&top, ".env", b"SECRET=1");
    let big: Vec<u8> = (0..3 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
    write_file(&top, "big.bin", &big);
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), top.join("out")).unwrap();
    std::os::unix::fs::symlink(top.join("a.txt"), top.join("link.txt")).unwrap();
    outside
}

/// The tree an archive of `docs/` must hold.
fn expected() -> Tree {
    let big: Vec<u8> = (0..3 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
    let mut tree = Tree::new();
    for dir in ["docs", "docs/empty dir", "docs/é日🦀", "docs/é日🦀/deeper"] {
        tree.insert(dir.to_owned(), None);
    }
    tree.insert("docs/a.txt".into(), Some(b"hello\n".to_vec()));
    tree.insert("docs/link.txt".into(), Some(b"hello\n".to_vec()));
    tree.insert("docs/empty".into(), Some(Vec::new()));
    tree.insert("docs/big.bin".into(), Some(big));
    tree.insert("docs/é日🦀/ß.bin".into(), Some(vec![0, 1, 2, 255]));
    tree.insert(
        format!("docs/é日🦀/deeper/{}", "n".repeat(120)),
        Some(b"long name".to_vec()),
    );
    tree
}

/// Reads the tree under `dir`.
fn read_tree(dir: &Path) -> Tree {
    fn walk(base: &Path, dir: &Path, tree: &mut Tree) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path
                .strip_prefix(base)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            if path.is_dir() {
                tree.insert(name, None);
                walk(base, &path, tree);
            } else {
                tree.insert(name, Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut tree = Tree::new();
    walk(dir, dir, &mut tree);
    tree
}

/// `GET path` with `headers` on a connection of its own, read to its
/// close.
fn get(server: &Server, path: &str, headers: &[(&str, &str)]) -> Response {
    request(server, "GET", path, headers)
}

fn request(server: &Server, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut stream = connect(server.addr());
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    read_to_close(&mut stream)
}

/// The archive at `path`, checked to be exactly as long as announced.
fn download(server: &Server, path: &str) -> Response {
    let resp = get(server, path, &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    let len: usize = resp.header("content-length").unwrap().parse().unwrap();
    assert_eq!(resp.body.len(), len, "Content-Length equals the bytes sent");
    assert!(resp.header("etag").is_some());
    assert_eq!(resp.header("accept-ranges"), Some("bytes"));
    resp
}

fn run_ok(command: &mut Command) {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Extracts `archive` with Python (`tarfile` or `zipfile`, which checks
/// every CRC) into a fresh directory.
fn python_extract(archive: &Path, format: &str) -> tempfile::TempDir {
    require("python3");
    let out = tempfile::tempdir().unwrap();
    let script = match format {
        "zip" => {
            "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\n\
             bad = z.testzip()\nassert bad is None, bad\nz.extractall(sys.argv[2])\n"
        }
        _ => "import sys, tarfile\ntarfile.open(sys.argv[1]).extractall(sys.argv[2])\n",
    };
    run_ok(
        Command::new("python3")
            .args(["-c", script])
            .arg(archive)
            .arg(out.path()),
    );
    out
}

#[test]
fn tar_and_zip_extract_byte_exact_with_python_tar_and_unzip() {
    require("tar");
    // `unzip --version` is not an option of unzip: `require` cannot ask.
    let unzip = Command::new("unzip").arg("-v").output();
    assert!(
        unzip.is_ok_and(|o| o.status.success()),
        "unzip is not installed: scripts/install-test-deps.sh installs what the tests need"
    );
    let (server, _outside) = site(&[]);
    let work = tempfile::tempdir().unwrap();
    for format in ["tar", "zip"] {
        let resp = download(&server, &format!("/docs/?download={format}"));
        let want_type = if format == "zip" {
            "application/zip"
        } else {
            "application/x-tar"
        };
        assert_eq!(resp.header("content-type"), Some(want_type));
        assert_eq!(
            resp.header("content-disposition"),
            Some(
                format!("attachment; filename=\"docs.{format}\"; filename*=UTF-8''docs%2E{format}")
                    .as_str()
            )
        );
        let file = work.path().join(format!("docs.{format}"));
        std::fs::write(&file, &resp.body).unwrap();

        let by_python = python_extract(&file, format);
        assert_eq!(read_tree(by_python.path()), expected(), "python {format}");

        let by_tool = tempfile::tempdir().unwrap();
        let mut tool = if format == "zip" {
            let mut c = Command::new("unzip");
            c.arg("-q").arg(&file).arg("-d").arg(by_tool.path());
            c
        } else {
            let mut c = Command::new("tar");
            c.arg("-xf").arg(&file).arg("-C").arg(by_tool.path());
            c
        };
        run_ok(&mut tool);
        assert_eq!(read_tree(by_tool.path()), expected(), "{format} tool");
    }
    // The zip's integrity as unzip sees it (every CRC).
    run_ok(
        Command::new("unzip")
            .arg("-tq")
            .arg(work.path().join("docs.zip")),
    );
}

#[test]
fn head_and_if_none_match_answer_without_the_body() {
    let (server, _outside) = site(&[]);
    let whole = download(&server, "/docs/?download=zip");
    let head = request(&server, "HEAD", "/docs/?download=zip", &[]);
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        whole.header("content-length")
    );
    assert!(head.body.is_empty());
    let tag = whole.header("etag").unwrap();
    let again = get(&server, "/docs/?download=zip", &[("If-None-Match", tag)]);
    assert_eq!(again.status, 304);
    assert_eq!(again.header("etag"), Some(tag));
    // The tar of the same tree is another representation.
    let tar = download(&server, "/docs/?download=tar");
    assert_ne!(tar.header("etag"), Some(tag));
}

#[test]
fn a_resumed_download_concatenated_equals_the_whole() {
    let (server, _outside) = site(&[]);
    for format in ["tar", "zip"] {
        let path = format!("/docs/?download={format}");
        let whole = download(&server, &path);
        let tag = whole.header("etag").unwrap().to_owned();
        let len = whole.body.len();
        // Cut at the start, inside the big file, and (zip) inside the
        // central directory, where the CRCs of files not sent are needed.
        for cut in [1, len / 3, len - 100, len - 1] {
            let range = format!("bytes={cut}-");
            let rest = get(&server, &path, &[("Range", &range), ("If-Range", &tag)]);
            assert_eq!(rest.status, 206, "{format} from {cut}");
            assert_eq!(
                rest.header("content-range"),
                Some(format!("bytes {cut}-{}/{len}", len - 1).as_str())
            );
            let mut joined = whole.body[..cut].to_vec();
            joined.extend_from_slice(&rest.body);
            assert!(joined == whole.body, "{format}: resumed at {cut} differs");
        }
        // A middle range.
        let part = get(&server, &path, &[("Range", "bytes=1000-1999")]);
        assert_eq!(part.status, 206);
        assert!(part.body == whole.body[1000..2000]);
        // Another archive's tag: the whole archive again.
        let stale = get(
            &server,
            &path,
            &[("Range", "bytes=10-"), ("If-Range", "\"other\"")],
        );
        assert_eq!(stale.status, 200);
        assert_eq!(stale.body.len(), len);
        let past = get(&server, &path, &[("Range", &format!("bytes={len}-"))]);
        assert_eq!(past.status, 416);
        assert_eq!(
            past.header("content-range"),
            Some(format!("bytes */{len}").as_str())
        );
    }
}

#[test]
fn a_resumed_zip_extracts_from_a_fresh_server() {
    // No CRC remembered: the resumed part computes the CRCs of files it
    // does not send.
    let root = tempfile::tempdir().unwrap();
    let _outside = fill(root.path());
    let server = Server::serving(root.path(), &[] as &[&str]);
    let whole = download(&server, "/docs/?download=zip");
    let tag = whole.header("etag").unwrap().to_owned();
    drop(server);
    let again = Server::serving(root.path(), &[] as &[&str]);
    let cut = whole.body.len() - 300;
    let rest = get(
        &again,
        "/docs/?download=zip",
        &[("Range", &format!("bytes={cut}-")), ("If-Range", &tag)],
    );
    assert_eq!(rest.status, 206);
    assert!(rest.body == whole.body[cut..]);
}

#[test]
fn a_file_changed_mid_download_ends_the_response_short() {
    let builder = Server::builder();
    let root = builder.root().to_owned();
    std::fs::create_dir(root.join("d")).unwrap();
    let big = vec![7u8; 48 << 20];
    write_file(&root.join("d"), "big.bin", &big);
    let server = builder.start();
    let mut stream = small_buffer_tcp(server.addr(), PATIENCE);
    stream
        .write_all(b"GET /d/?download=tar HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let head = read_head(&mut stream);
    assert_eq!(head.status, 200);
    let len: usize = head.header("content-length").unwrap().parse().unwrap();
    let mut first = vec![0u8; 64 << 10];
    stream.read_exact(&mut first).unwrap();
    // The file changes (its mtime) while most of it is still unsent.
    let file = std::fs::File::options()
        .write(true)
        .open(root.join("d/big.bin"))
        .unwrap();
    file.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1))
        .unwrap();
    let mut rest = Vec::new();
    // Read to the close: it must come, short of the Content-Length.
    let got = match stream.read_to_end(&mut rest) {
        Ok(_) => first.len() + rest.len(),
        Err(e) => panic!("the connection was not closed: {e}"),
    };
    assert!(got < len, "sent {got} of {len}: the change went unnoticed");
    // Every byte that was sent is right.
    assert!(first[1024..].iter().chain(&rest).all(|&b| b == 7));
}

#[test]
fn no_archive_sends_the_listing_and_the_listing_links_the_archives() {
    let (server, _outside) = site(&[]);
    let listing = get(&server, "/docs/", &[]);
    assert!(
        listing.text().contains("href=\"?download=tar\""),
        "{}",
        listing.text()
    );
    assert!(listing.text().contains("href=\"?download=zip\""));

    let (off, _outside) = site(&["--no-archive"]);
    for format in ["tar", "zip"] {
        let resp = get(&off, &format!("/docs/?download={format}"), &[]);
        assert_eq!(resp.status, 200);
        assert_eq!(
            resp.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(resp.text().contains("a.txt"));
        assert!(!resp.text().contains("?download="), "no links when off");
    }
    // A file with the query is just the file.
    let file = get(&server, "/docs/a.txt?download=zip", &[]);
    assert_eq!(file.body, b"hello\n");
}
