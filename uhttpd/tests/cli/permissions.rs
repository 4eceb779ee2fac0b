//! Per-user rights of `--auth-file` (issue 13), through the real server:
//! each right allowed and refused, anonymous rules, path prefixes, the
//! old `user:hash` format, `DELETE`, and a bad file refused at start-up.

use std::fs;
use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::Path;

use base64::Engine;
use tempfile::NamedTempFile;

use crate::util::{Response, Server, path_str, run, write_file};

/// Cheap hashes: these tests are about rights, not bcrypt's cost.
const COST: u32 = 4;

/// An auth file: `lines`, with `HASH(user)` replaced by the bcrypt of
/// `pw-user`.
fn auth_file(lines: &[&str]) -> NamedTempFile {
    let mut file = NamedTempFile::new().unwrap();
    for line in lines {
        let line = match line.split_once("HASH(") {
            Some((before, rest)) => {
                let (user, after) = rest.split_once(')').unwrap();
                let hash = bcrypt::hash(format!("pw-{user}"), COST).unwrap();
                format!("{before}{hash}{after}")
            }
            None => (*line).to_owned(),
        };
        writeln!(file, "{line}").unwrap();
    }
    file
}

/// The `Authorization` value of `user` (password `pw-user`).
fn basic(user: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:pw-{user}"));
    format!("Basic {encoded}")
}

/// `METHOD PATH` as `user` (`None`: no login) with `body` and extra
/// header lines.
fn send(
    server: &Server,
    method: &str,
    path: &str,
    user: Option<&str>,
    headers: &str,
    body: &[u8],
) -> Response {
    let login = user.map_or(String::new(), |u| {
        format!("Authorization: {}\r\n", basic(u))
    });
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{login}{headers}\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    server.raw(&request)
}

fn get(server: &Server, path: &str, user: Option<&str>) -> u16 {
    send(server, "GET", path, user, "", b"").status
}

fn put(server: &Server, name: &str, user: Option<&str>) -> u16 {
    send(server, "PUT", &format!("/upload/{name}"), user, "", b"data").status
}

fn delete(server: &Server, path: &str, user: Option<&str>) -> u16 {
    send(server, "DELETE", path, user, "", b"").status
}

/// `POST /upload?dir=DIR` with a form making the folder `name`.
fn mkdir(server: &Server, dir: &str, name: &str, user: Option<&str>) -> u16 {
    let body = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"mkdir\"\r\n\r\n{name}\r\n--XyZ--\r\n"
    );
    let headers = "Content-Type: multipart/form-data; boundary=XyZ\r\nAccept: application/json\r\n";
    let answer = send(
        server,
        "POST",
        &format!("/upload?dir={dir}"),
        user,
        headers,
        body.as_bytes(),
    );
    answer.status
}

/// The rules of these tests: public reads under `/pub` and `/déjà`, alice
/// in the old format, bob with rights under `/incoming` (the upload
/// directory), carol reading `/pub` only.
const RULES: [&str; 5] = [
    "# issue 13",
    "*      read@/pub  read@/d%C3%A9j%C3%A0",
    "alice:HASH(alice)",
    "bob:HASH(bob)    read  upload@/incoming  upload,overwrite,mkdir,delete@/incoming/bob",
    "carol:HASH(carol) read@/pub",
];

/// A server with [`RULES`], uploads into `ROOT/incoming` (`--overwrite`),
/// and files in `/pub`, `/déjà`, `/pubX`, `/incoming/bob`.
fn start(auth: &Path) -> Server {
    let builder = Server::builder();
    let root = builder.root().to_owned();
    for dir in ["pub", "pubX", "déjà", "incoming/bob", "private"] {
        fs::create_dir_all(root.join(dir)).unwrap();
    }
    write_file(&root, "pub/a.txt", b"a");
    write_file(&root, "pubX/a.txt", b"x");
    write_file(&root, "déjà/vu.txt", b"v");
    write_file(&root, "secret.txt", b"s");
    write_file(&root, "incoming/bob/old.txt", b"o");
    let incoming = root.join("incoming");
    builder
        .args([
            "--auth-file",
            path_str(auth),
            "--upload-dir",
            path_str(&incoming),
            "--overwrite",
        ])
        .start()
}

#[test]
fn read_is_granted_per_user_and_to_anyone_under_a_path() {
    let auth = auth_file(&RULES);
    let server = start(auth.path());
    // Anyone reads /pub; elsewhere a login helps: 401 with a challenge.
    assert_eq!(get(&server, "/pub/a.txt", None), 200);
    assert_eq!(get(&server, "/pub/", None), 200);
    assert_eq!(get(&server, "/pub/?q=a", None), 200);
    let refused = send(&server, "GET", "/secret.txt", None, "", b"");
    assert_eq!(refused.status, 401);
    assert!(
        refused
            .header("www-authenticate")
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(get(&server, "/", None), 401);
    assert_eq!(get(&server, "/?q=secret", None), 401);
    assert_eq!(get(&server, "/rpc", None), 401);
    // carol is logged in, and may not: 403.
    assert_eq!(get(&server, "/pub/a.txt", Some("carol")), 200);
    assert_eq!(get(&server, "/secret.txt", Some("carol")), 403);
    assert_eq!(get(&server, "/rpc", Some("carol")), 403);
    // bob reads everywhere, alice (old format) too.
    for user in ["bob", "alice"] {
        assert_eq!(get(&server, "/secret.txt", Some(user)), 200, "{user}");
        assert_eq!(get(&server, "/rpc", Some(user)), 200, "{user}");
    }
    // A wrong password is refused even where anyone may read.
    let wrong = format!(
        "Authorization: Basic {}\r\n",
        base64::engine::general_purpose::STANDARD.encode("bob:nope")
    );
    assert_eq!(
        send(&server, "GET", "/pub/a.txt", None, &wrong, b"").status,
        401
    );
}

#[test]
fn path_rules_match_whole_percent_decoded_segments() {
    let auth = auth_file(&RULES);
    let server = start(auth.path());
    for public in [
        "/pub/a.txt",
        "//pub//a.txt",
        "/p%75b/a.txt",
        "/d%C3%A9j%C3%A0/vu.txt",
        "/d%c3%a9j%c3%a0/",
    ] {
        assert_eq!(get(&server, public, None), 200, "{public}");
    }
    for not_public in [
        "/pubX/a.txt",
        "/pu",
        "/PUB/a.txt",
        "/d%C3%A9j%C3%A0X/vu.txt",
        "/D%C3%89J%C3%80/vu.txt",
        "/pub/../secret.txt",
        "/pub%2Fa.txt",
        "/pub/%ff",
        "/%ff/pub/a.txt",
    ] {
        assert_eq!(get(&server, not_public, None), 401, "{not_public}");
    }
    // The same paths, logged in with every right: the resolver's answers.
    assert_eq!(get(&server, "/pub/../secret.txt", Some("alice")), 400);
    assert_eq!(get(&server, "/pubX/a.txt", Some("alice")), 200);
}

#[test]
fn upload_overwrite_and_mkdir_are_granted_under_their_paths() {
    let auth = auth_file(&RULES);
    let server = start(auth.path());
    let incoming = server.root().join("incoming");
    // upload@/incoming: a new file, not a replacement.
    assert_eq!(put(&server, "new.txt", Some("bob")), 201);
    assert_eq!(put(&server, "new.txt", Some("bob")), 403);
    assert_eq!(put(&server, "new.txt", Some("carol")), 403);
    assert_eq!(put(&server, "other.txt", None), 401);
    assert!(!incoming.join("other.txt").exists());
    // Under /incoming/bob he may replace files, and make folders.
    assert_eq!(put(&server, "bob/old.txt", Some("bob")), 201);
    assert_eq!(fs::read(incoming.join("bob/old.txt")).unwrap(), b"data");
    assert_eq!(mkdir(&server, "bob", "sub", Some("bob")), 201);
    assert!(incoming.join("bob/sub").is_dir());
    assert_eq!(mkdir(&server, "", "top", Some("bob")), 403);
    assert_eq!(mkdir(&server, "", "top", Some("carol")), 403);
    assert_eq!(mkdir(&server, "", "top", None), 401);
    assert!(!incoming.join("top").exists());
    // alice, in the old format, may do all of it.
    assert_eq!(put(&server, "new.txt", Some("alice")), 201);
    assert_eq!(mkdir(&server, "", "top", Some("alice")), 201);
}

#[test]
fn old_format_files_keep_their_meaning() {
    // Only `user:hash` lines: every request needs a login, which may do
    // everything.
    let auth = auth_file(&["alice:HASH(alice)"]);
    let server = Server::builder()
        .uploads()
        .args(["--auth-file", path_str(auth.path())])
        .start();
    write_file(server.root(), "a.txt", b"a");
    assert_eq!(get(&server, "/a.txt", None), 401);
    assert_eq!(get(&server, "/rpc", None), 401);
    assert_eq!(get(&server, "/a.txt", Some("alice")), 200);
    assert_eq!(get(&server, "/a.txt", Some("bob")), 401);
    assert_eq!(put(&server, "x.txt", Some("alice")), 201);
    assert_eq!(delete(&server, "/a.txt", Some("alice")), 204);
    // With --auth-uploads-only, anyone reads, as before.
    let server = Server::builder()
        .uploads()
        .args(["--auth-file", path_str(auth.path()), "--auth-uploads-only"])
        .start();
    write_file(server.root(), "a.txt", b"a");
    assert_eq!(get(&server, "/a.txt", None), 200);
    assert_eq!(get(&server, "/rpc", None), 200);
    assert_eq!(put(&server, "x.txt", None), 401);
    assert_eq!(delete(&server, "/a.txt", None), 401);
    assert_eq!(put(&server, "x.txt", Some("alice")), 201);
}

#[test]
fn delete_removes_files_and_empty_folders_for_users_with_the_right() {
    let auth = auth_file(&RULES);
    let server = start(auth.path());
    let root = server.root().to_owned();
    let outside = tempfile::TempDir::new().unwrap();
    write_file(outside.path(), "keep.txt", b"k");
    symlink(
        outside.path().join("keep.txt"),
        root.join("incoming/bob/out"),
    )
    .unwrap();
    symlink(root.join("pub/a.txt"), root.join("incoming/bob/in")).unwrap();
    write_file(&root, "incoming/bob/.hidden", b"h");
    write_file(&root, "incoming/bob/é €😀.txt", b"m");
    fs::create_dir_all(root.join("incoming/bob/full/x")).unwrap();
    fs::create_dir(root.join("incoming/bob/empty")).unwrap();

    let bob = Some("bob");
    assert_eq!(delete(&server, "/incoming/bob/old.txt", bob), 204);
    assert!(!root.join("incoming/bob/old.txt").exists());
    assert_eq!(get(&server, "/incoming/bob/old.txt", bob), 404);
    assert_eq!(delete(&server, "/incoming/bob/old.txt", bob), 404);
    assert_eq!(
        delete(
            &server,
            "/incoming/bob/%C3%A9%20%E2%82%AC%F0%9F%98%80.txt",
            bob
        ),
        204
    );
    // A symlink out of ROOT is not served, so not removed; one inside is
    // removed itself, never its target.
    assert_eq!(delete(&server, "/incoming/bob/out", bob), 404);
    assert!(outside.path().join("keep.txt").exists());
    assert!(root.join("incoming/bob/out").symlink_metadata().is_ok());
    assert_eq!(delete(&server, "/incoming/bob/in", bob), 204);
    assert!(root.join("incoming/bob/in").symlink_metadata().is_err());
    assert!(root.join("pub/a.txt").exists());
    // Dotfiles are hidden; traversal is malformed.
    assert_eq!(delete(&server, "/incoming/bob/.hidden", bob), 404);
    assert_eq!(delete(&server, "/incoming/bob/%2ehidden", bob), 404);
    assert!(root.join("incoming/bob/.hidden").exists());
    assert_eq!(
        delete(&server, "/incoming/bob/../../secret.txt", Some("alice")),
        400
    );
    assert!(root.join("secret.txt").exists());
    // Folders: empty only; ROOT never.
    assert_eq!(delete(&server, "/incoming/bob/full/", bob), 409);
    assert_eq!(delete(&server, "/incoming/bob/empty/", bob), 204);
    assert!(!root.join("incoming/bob/empty").exists());
    assert_eq!(delete(&server, "/", Some("alice")), 403);
    // Without the right: 403 logged in, 401 anonymous (alice may).
    assert_eq!(delete(&server, "/pub/a.txt", bob), 403);
    assert_eq!(delete(&server, "/pub/a.txt", Some("carol")), 403);
    assert_eq!(delete(&server, "/pub/a.txt", None), 401);
    assert!(root.join("pub/a.txt").exists());
    // From another origin's page: 403 before any login.
    let cross = send(
        &server,
        "DELETE",
        "/pub/a.txt",
        Some("alice"),
        "Origin: http://evil.example\r\n",
        b"",
    );
    assert_eq!(cross.status, 403);
    assert!(root.join("pub/a.txt").exists());
    assert_eq!(delete(&server, "/pub/a.txt", Some("alice")), 204);
    server.stderr.wait_for("the removal logged", |l| {
        l.contains("deleted file") && l.contains("/pub/a.txt")
    });
}

#[test]
fn delete_is_not_offered_without_an_auth_file() {
    let server = Server::builder().uploads().start();
    write_file(server.root(), "a.txt", b"a");
    let answer = send(&server, "DELETE", "/a.txt", None, "", b"");
    assert_eq!(answer.status, 405);
    assert!(server.root().join("a.txt").exists());
}

#[test]
fn a_bad_auth_file_is_refused_at_start_up_naming_the_line() {
    let auth = auth_file(&[
        "# users",
        "alice:HASH(alice)",
        "bob:HASH(bob) read,write@/x",
    ]);
    let root = tempfile::TempDir::new().unwrap();
    let out = run(&[
        "--port",
        "0",
        "--bind",
        "127.0.0.1",
        "--auth-file",
        path_str(auth.path()),
        path_str(root.path()),
    ]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    for word in [path_str(auth.path()), "line 3", "\"write\""] {
        assert!(lines[0].contains(word), "{stderr}");
    }
}

#[test]
fn anyone_may_be_granted_uploads_under_a_path() {
    let auth = auth_file(&["* read upload@/incoming", "alice:HASH(alice)"]);
    let server = start(auth.path());
    let incoming = server.root().join("incoming");
    assert_eq!(get(&server, "/secret.txt", None), 200);
    assert_eq!(put(&server, "drop.txt", None), 201);
    assert_eq!(fs::read(incoming.join("drop.txt")).unwrap(), b"data");
    // Replacing, folders and removal stay alice's: a login helps.
    assert_eq!(put(&server, "drop.txt", None), 401);
    assert_eq!(mkdir(&server, "", "new", None), 401);
    assert_eq!(delete(&server, "/incoming/drop.txt", None), 401);
    assert_eq!(delete(&server, "/incoming/drop.txt", Some("alice")), 204);
}

/// A resumable upload (IETF draft, one request with the whole body) of
/// `name` as `user`, with extra header lines; the final status (after any
/// `104`).
fn resumable_put(server: &Server, name: &str, user: Option<&str>, headers: &str) -> u16 {
    let response = send(
        server,
        "PUT",
        &format!("/upload/{name}"),
        user,
        &format!("Upload-Draft-Interop-Version: 8\r\nUpload-Complete: ?1\r\n{headers}"),
        b"data",
    );
    final_response(&response).status
}

/// The final response of what was read, past any interim (`104`) ones.
fn final_response(response: &Response) -> Response {
    let mut raw = response.raw.as_slice();
    while raw.starts_with(b"HTTP/1.1 1") {
        let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        raw = &raw[end + 4..];
    }
    Response::parse(raw.to_vec())
}

#[test]
fn resumable_uploads_need_the_upload_right_at_the_upload_directory() {
    let auth = auth_file(&RULES);
    let server = start(auth.path());
    let incoming = server.root().join("incoming");
    // bob holds upload@/incoming: a new file, not a replacement.
    assert_eq!(resumable_put(&server, "r.txt", Some("bob"), ""), 201);
    assert_eq!(fs::read(incoming.join("r.txt")).unwrap(), b"data");
    assert_eq!(resumable_put(&server, "r.txt", Some("bob"), ""), 409);
    // carol may only read; anyone else must log in.
    assert_eq!(resumable_put(&server, "c.txt", Some("carol"), ""), 403);
    assert_eq!(resumable_put(&server, "n.txt", None, ""), 401);
    assert!(!incoming.join("c.txt").exists() && !incoming.join("n.txt").exists());
    // alice (old format: every right) may replace it, with --overwrite.
    assert_eq!(resumable_put(&server, "r.txt", Some("alice"), ""), 201);
    // A page of another site may not start one, whoever is logged in.
    let foreign = "Origin: http://evil.example\r\n";
    assert_eq!(resumable_put(&server, "e.txt", Some("alice"), foreign), 403);
    assert!(!incoming.join("e.txt").exists());
}

/// Every request on an upload resource is checked too: the URL of bob's
/// upload gives carol (who may only read) nothing, nor does it anyone
/// not logged in; neither may start a tus upload.
#[test]
fn resumable_upload_resources_refuse_users_without_the_upload_right() {
    let auth = auth_file(&RULES);
    let server = start(auth.path());
    let incoming = server.root().join("incoming");
    let ietf = "Upload-Draft-Interop-Version: 8\r\n";
    let created = send(
        &server,
        "POST",
        "/upload/half.txt",
        Some("bob"),
        &format!("{ietf}Upload-Complete: ?0\r\n"),
        b"ab",
    );
    let created = final_response(&created);
    assert_eq!(created.status, 201, "{}", created.text());
    let location = created.header("location").unwrap().to_owned();
    let patch = format!(
        "{ietf}Content-Type: application/partial-upload\r\nUpload-Offset: 2\r\nUpload-Complete: ?1\r\n"
    );
    let tus = "Tus-Resumable: 1.0.0\r\nUpload-Length: 2\r\nUpload-Metadata: filename dC50eHQ=\r\n";
    for (user, want) in [(Some("carol"), 403), (None, 401)] {
        let status = |method: &str, path: &str, headers: &str, body: &[u8]| {
            send(&server, method, path, user, headers, body).status
        };
        assert_eq!(status("HEAD", &location, ietf, b""), want, "{user:?}");
        assert_eq!(status("PATCH", &location, &patch, b"cd"), want, "{user:?}");
        assert_eq!(status("DELETE", &location, ietf, b""), want, "{user:?}");
        assert_eq!(status("POST", "/upload/", tus, b""), want, "{user:?}");
    }
    // Still bob's and untouched: he completes it.
    let head = send(&server, "HEAD", &location, Some("bob"), ietf, b"");
    assert_eq!(head.header("upload-offset"), Some("2"));
    let done = send(&server, "PATCH", &location, Some("bob"), &patch, b"cd");
    assert_eq!(final_response(&done).status, 201);
    assert_eq!(fs::read(incoming.join("half.txt")).unwrap(), b"abcd");
    assert!(!incoming.join("t.txt").exists());
}
