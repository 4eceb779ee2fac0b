//! The listing as a file browser, through the real server: sort orders
//! from the query, breadcrumbs, `?q=` search (bounded, never leaving
//! ROOT), uploads into the listed directory, new folders, `--qr`.

use std::fs::{self, File};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::util::{Server, agent, path_str, write_file};

/// `GET path` with `Accept`; (status, body, Location).
fn get(server: &Server, path: &str, accept: &str) -> (u16, String, Option<String>) {
    let mut resp = agent()
        .get(server.url(path))
        .header("Accept", accept)
        .call()
        .unwrap();
    let location = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap(), location)
}

fn html(server: &Server, path: &str) -> String {
    let (status, body, _) = get(server, path, "text/html");
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

fn json_names(server: &Server, path: &str) -> Vec<String> {
    let (status, body, _) = get(server, path, "application/json");
    assert_eq!(status, 200, "GET {path}: {body}");
    let value: Value = serde_json::from_str(&body).unwrap();
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The names of the rows of a listing page, in order.
fn row_names(page: &str) -> Vec<String> {
    page.split("<tr><td class=\"n\">")
        .skip(1)
        .filter_map(|row| {
            let name = row.split_once("\">")?.1;
            Some(name.split_once("</a>")?.0.to_owned())
        })
        .collect()
}

fn set_mtime(path: &Path, secs_ago: u64) {
    let when = SystemTime::now() - Duration::from_secs(secs_ago);
    File::options()
        .write(true)
        .open(path)
        .or_else(|_| File::open(path))
        .unwrap()
        .set_modified(when)
        .unwrap();
}

#[test]
fn sort_orders_come_from_the_query_directories_first() {
    let builder = Server::builder();
    let root = builder.root().to_owned();
    set_mtime(&write_file(&root, "small.txt", b"1"), 100);
    set_mtime(&write_file(&root, "Big.bin", &[0; 5000]), 300);
    set_mtime(&write_file(&root, "médium.txt", &[0; 300]), 200);
    fs::create_dir(root.join("zdir")).unwrap();
    fs::create_dir(root.join("adir")).unwrap();
    let server = builder.start();
    let cases = [
        (
            "/",
            ["adir/", "zdir/", "Big.bin", "médium.txt", "small.txt"],
        ),
        (
            "/?sort=name&order=desc",
            ["zdir/", "adir/", "small.txt", "médium.txt", "Big.bin"],
        ),
        (
            "/?sort=size",
            ["adir/", "zdir/", "small.txt", "médium.txt", "Big.bin"],
        ),
        (
            "/?sort=size&order=desc",
            ["adir/", "zdir/", "Big.bin", "médium.txt", "small.txt"],
        ),
        (
            "/?sort=modified&order=desc",
            ["adir/", "zdir/", "small.txt", "médium.txt", "Big.bin"],
        ),
        // Unknown values are ignored: the default order.
        (
            "/?sort=%FF%C3&order=sideways&sort=",
            ["adir/", "zdir/", "Big.bin", "médium.txt", "small.txt"],
        ),
    ];
    for (path, want) in cases {
        assert_eq!(row_names(&html(&server, path)), want, "{path}");
    }
    // The JSON form sorts the same way.
    assert_eq!(
        json_names(&server, "/?sort=size&order=desc"),
        ["adir", "zdir", "Big.bin", "médium.txt", "small.txt"]
    );
    // Headers link to the other order; the current column is marked.
    let page = html(&server, "/?sort=size");
    assert!(page.contains("aria-sort=\"ascending\"><a href=\"?sort=size&amp;order=desc\">"));
    assert!(page.contains("<a href=\"?sort=name&amp;order=asc\">Name</a>"));
    // Exact bytes on hover, the time with its zone.
    assert!(page.contains("<td class=\"s\" title=\"5000 bytes\">4.9 KiB</td>"));
    assert!(page.contains(" UTC</time>"));
}

#[test]
fn breadcrumbs_of_a_nested_path_with_multibyte_and_percent_names() {
    let builder = Server::builder();
    let nested = builder.root().join("é 100%").join("日本#?").join("😀");
    fs::create_dir_all(&nested).unwrap();
    write_file(&nested, "x.txt", b"deep");
    let server = builder.start();
    let path = "/%C3%A9%20100%25/%E6%97%A5%E6%9C%AC%23%3F/%F0%9F%98%80/";
    let page = html(&server, path);
    let crumbs = concat!(
        "<a href=\"/\">Home</a><span class=\"sep\">/</span>",
        "<a href=\"/%C3%A9%20100%25/\">é 100%</a><span class=\"sep\">/</span>",
        "<a href=\"/%C3%A9%20100%25/%E6%97%A5%E6%9C%AC%23%3F/\">日本#?</a><span class=\"sep\">/</span>",
        "<a href=\"/%C3%A9%20100%25/%E6%97%A5%E6%9C%AC%23%3F/%F0%9F%98%80/\" aria-current=\"page\">😀</a>",
    );
    assert!(page.contains(crumbs), "{page}");
    assert!(page.contains("<title>Index of /é 100%/日本#?/😀/</title>"));
    // Every crumb leads to a listing.
    for href in page
        .split("<nav class=\"crumbs\"")
        .nth(1)
        .unwrap()
        .split("</nav>")
        .next()
        .unwrap()
        .split("href=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
    {
        let (status, _, _) = get(&server, href, "text/html");
        assert_eq!(status, 200, "{href}");
    }
    assert_eq!(row_names(&page), ["x.txt"]);
}

#[test]
fn search_finds_names_below_and_never_leaves_root() {
    let builder = Server::builder();
    let root = builder.root().to_owned();
    let outside = TempDir::new().unwrap();
    write_file(outside.path(), "report-outside.txt", b"o");
    fs::create_dir_all(root.join("docs/été")).unwrap();
    fs::create_dir_all(root.join(".git")).unwrap();
    write_file(&root.join("docs/été"), "Rapport-ÉTÉ 100%.txt", b"r");
    write_file(&root.join("docs"), "rapport.pdf", b"p");
    write_file(&root, "rapport-top.txt", b"t");
    write_file(&root.join(".git"), "rapport-hidden", b"h");
    write_file(&root.join("docs"), ".rapport", b"h");
    symlink(outside.path(), root.join("docs/out")).unwrap();
    symlink(
        outside.path().join("report-outside.txt"),
        root.join("rapport-link"),
    )
    .unwrap();
    symlink(&root, root.join("docs/loop")).unwrap();
    let server = builder.start();

    let mut names = json_names(&server, "/?q=RAPPORT");
    names.sort();
    assert_eq!(
        names,
        [
            "docs/rapport.pdf",
            "docs/été/Rapport-ÉTÉ 100%.txt",
            "rapport-top.txt"
        ]
    );
    assert_eq!(
        json_names(&server, "/docs/?q=%C3%A9t%C3%A9"),
        ["été/", "été/Rapport-ÉTÉ 100%.txt"].map(|n| n.trim_end_matches('/'))
    );
    assert!(json_names(&server, "/?q=outside").is_empty());
    assert!(json_names(&server, "/?q=hidden").is_empty());

    // The results link to the files, relative to the searched directory
    // (`loop` leads back to ROOT, which is inside ROOT: followed once).
    let page = html(&server, "/docs/?q=rapport");
    assert!(page.contains("href=\"loop/rapport-top.txt\""), "{page}");
    assert!(
        page.contains("3 results for \u{201c}rapport\u{201d}"),
        "{page}"
    );
    let href = "%C3%A9t%C3%A9/Rapport-%C3%89T%C3%89%20100%25.txt";
    assert!(page.contains(&format!("href=\"{href}\"")), "{page}");
    let (status, body, _) = get(&server, &format!("/docs/{href}"), "*/*");
    assert_eq!((status, body.as_str()), (200, "r"));
    // A search of something that is not a listed directory is served as usual.
    let (status, body, _) = get(&server, "/rapport-top.txt?q=x", "*/*");
    assert_eq!((status, body.as_str()), (200, "t"));
    let (status, _, _) = get(&server, "/missing/?q=x", "*/*");
    assert_eq!(status, 404);
    let (status, _, _) = get(&server, "/%2e%2e/?q=x", "*/*");
    assert_eq!(status, 400);
}

#[test]
fn search_stops_at_its_entry_bound_and_says_so() {
    let builder = Server::builder();
    let root = builder.root().to_owned();
    for i in 0..10_050 {
        File::create(root.join(format!("f{i:05}"))).unwrap();
    }
    let server = builder.start();
    let page = html(&server, "/?q=nothing-matches");
    assert!(
        page.contains("Search stopped: it looked at 10000 entries."),
        "{page}"
    );
    // Other requests are served meanwhile and after.
    let (status, _, _) = get(&server, "/f00001", "*/*");
    assert_eq!(status, 200);
}

/// A server whose upload directory is ROOT itself.
fn uploads_into_root(setup: impl FnOnce(&Path)) -> Server {
    let builder = Server::builder();
    let root = builder.root().to_owned();
    setup(&root);
    builder.args(["--upload-dir", path_str(&root)]).start()
}

fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, data) in fields {
        let disposition = match filename {
            Some(f) => format!("form-data; name=\"{name}\"; filename=\"{f}\""),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(
            format!("--XyZ\r\nContent-Disposition: {disposition}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--XyZ--\r\n");
    body
}

/// `POST url` with a multipart body and `Accept`; (status, body, Location).
fn post(server: &Server, path: &str, accept: &str, body: Vec<u8>) -> (u16, String, Option<String>) {
    let mut resp = agent()
        .post(server.url(path))
        .header("Accept", accept)
        .content_type("multipart/form-data; boundary=XyZ")
        .send(body)
        .unwrap();
    let location = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap(), location)
}

#[test]
fn put_into_a_subdirectory_answers_201_with_location_and_shows_in_the_listing() {
    let server = uploads_into_root(|root| fs::create_dir(root.join("sub dir")).unwrap());
    let mut resp = agent()
        .put(server.url("/upload/sub%20dir/%C3%A9t%C3%A9%20100%25.txt"))
        .send(&b"summer"[..])
        .unwrap();
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/sub%20dir/%C3%A9t%C3%A9%20100%25.txt");
    let answer: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(answer, json!({"name": "sub dir/été 100%.txt", "size": 6}));
    let (status, body, _) = get(&server, &location, "*/*");
    assert_eq!((status, body.as_str()), (200, "summer"));
    assert_eq!(json_names(&server, "/sub%20dir/"), ["été 100%.txt"]);
    // The page of that directory uploads into it.
    let page = html(&server, "/sub%20dir/");
    assert!(page.contains("action=\"/upload?dir=sub%20dir\""), "{page}");
}

#[test]
fn multipart_upload_into_a_directory_recreates_folder_paths() {
    let server = uploads_into_root(|root| fs::create_dir(root.join("sub")).unwrap());
    let body = multipart(&[
        ("file", Some("album/2024/é.txt"), b"one"),
        ("file", Some("album/top.txt"), b"two"),
    ]);
    let (status, text, location) = post(&server, "/upload?dir=sub", "*/*", body);
    assert_eq!(status, 201, "{text}");
    assert_eq!(location.as_deref(), Some("/sub/"));
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        answer,
        json!({"files": [
            {"name": "sub/album/2024/é.txt", "size": 3},
            {"name": "sub/album/top.txt", "size": 3},
        ]})
    );
    let root = server.root();
    assert_eq!(fs::read(root.join("sub/album/2024/é.txt")).unwrap(), b"one");
    assert_eq!(fs::read(root.join("sub/album/top.txt")).unwrap(), b"two");
}

#[test]
fn hostile_relative_paths_are_refused_and_create_nothing() {
    let outside = TempDir::new().unwrap();
    let out = outside.path().to_owned();
    let server = uploads_into_root(|root| {
        fs::create_dir(root.join("sub")).unwrap();
        symlink(&out, root.join("sub/out")).unwrap();
    });
    for filename in [
        "../x",
        "/etc/x",
        "a/../../b",
        "a\\\\b",
        "..\\\\x",
        "a//b",
        "a/./b",
        "out/x",
        "a/.ssh/x",
        "\u{0}x",
    ] {
        let body = multipart(&[("file", Some(filename), b"bad")]);
        let (status, text, _) = post(&server, "/upload?dir=sub", "*/*", body);
        assert_eq!(status, 400, "{filename:?}: {text}");
    }
    for dir in [
        "..", "sub/..", "/etc", "sub/out", ".git", "sub%00", "sub\\..", "%2e%2e",
    ] {
        let body = multipart(&[("file", Some("ok.txt"), b"bad")]);
        let (status, text, _) = post(&server, &format!("/upload?dir={dir}"), "*/*", body);
        assert_eq!(status, 400, "dir={dir}: {text}");
    }
    for path in [
        "sub/out/x",
        "sub/%2e%2e/x",
        "sub%2F..%2Fx",
        "sub/a%5Cb",
        "sub/a%00",
    ] {
        let resp = agent()
            .put(server.url(&format!("/upload/{path}")))
            .send(&b"bad"[..])
            .unwrap();
        assert_eq!(resp.status(), 400, "PUT /upload/{path}");
    }
    assert_eq!(crate::common::list_dir(&server.root().join("sub")), ["out"]);
    assert!(crate::common::list_dir(&out).is_empty());
}

#[test]
fn a_browser_form_goes_back_to_the_listing_with_a_message() {
    let server = uploads_into_root(|root| fs::create_dir(root.join("sub")).unwrap());
    let body = multipart(&[("file", Some("a.txt"), b"a"), ("file", Some("b.txt"), b"b")]);
    let accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let (status, _, location) = post(&server, "/upload?dir=sub", accept, body);
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert_eq!(location, "/sub/?uploaded=2");
    let page = html(&server, &location);
    assert!(page.contains(">2 files uploaded.</p>"), "{page}");
    assert_eq!(row_names(&page), ["a.txt", "b.txt"]);
    // JSON only when asked for.
    let body = multipart(&[("file", Some("c.txt"), b"c")]);
    let (status, text, location) = post(&server, "/upload?dir=sub", "application/json", body);
    assert_eq!(status, 201);
    assert_eq!(location.as_deref(), Some("/sub/c.txt"));
    assert!(text.starts_with('{'), "{text}");
}

#[test]
fn new_folder_is_created_once_and_checked() {
    let server = uploads_into_root(|root| fs::create_dir(root.join("sub")).unwrap());
    let body = multipart(&[("mkdir", None, "Nouveau dossier é".as_bytes())]);
    let (status, text, location) = post(&server, "/upload?dir=sub", "*/*", body);
    assert_eq!(status, 201, "{text}");
    assert_eq!(
        location.as_deref(),
        Some("/sub/Nouveau%20dossier%20%C3%A9/")
    );
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        answer,
        json!({"files": [], "folders": ["Nouveau dossier é"]})
    );
    assert!(server.root().join("sub/Nouveau dossier é").is_dir());
    assert_eq!(json_names(&server, "/sub/"), ["Nouveau dossier é"]);

    let again = multipart(&[("mkdir", None, "Nouveau dossier é".as_bytes())]);
    let (status, _, _) = post(&server, "/upload?dir=sub", "*/*", again);
    assert_eq!(status, 409);
    for bad in ["..", ".hidden", "a/b", "a\\b", "", "x\u{7}"] {
        let body = multipart(&[("mkdir", None, bad.as_bytes())]);
        let (status, text, _) = post(&server, "/upload?dir=sub", "*/*", body);
        assert_eq!(status, 400, "{bad:?}: {text}");
    }
    // A browser's form comes back to the listing.
    let body = multipart(&[("mkdir", None, b"fromform")]);
    let (status, _, location) = post(&server, "/upload?dir=sub", "text/html", body);
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert_eq!(location, "/sub/?created=fromform");
    assert!(html(&server, &location).contains("Folder \u{201c}fromform\u{201d} created."));
}

#[test]
fn an_upload_directory_outside_root_is_named_on_the_page_and_has_no_location() {
    let server = Server::builder().uploads().start();
    let page = html(&server, "/");
    assert!(page.contains("which this server does not list"), "{page}");
    assert!(!page.contains("name=\"mkdir\""));
    let resp = agent()
        .put(server.url("/upload/x.txt"))
        .send(&b"x"[..])
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert!(resp.headers().get("location").is_none());
}

#[test]
fn an_upload_directory_inside_root_is_linked_from_other_pages() {
    let builder = Server::builder();
    let root = builder.root().to_owned();
    fs::create_dir_all(root.join("in coming/deeper")).unwrap();
    fs::create_dir(root.join("other")).unwrap();
    let server = builder
        .args(["--upload-dir", path_str(&root.join("in coming"))])
        .start();
    let page = html(&server, "/other/");
    assert!(
        page.contains("go to <a href=\"/in%20coming/\">/in%20coming/</a>"),
        "{page}"
    );
    let page = html(&server, "/in%20coming/deeper/");
    assert!(page.contains("action=\"/upload?dir=deeper\""), "{page}");
    let resp = agent()
        .put(server.url("/upload/deeper/n.txt"))
        .send(&b"n"[..])
        .unwrap();
    assert_eq!(resp.headers()["location"], "/in%20coming/deeper/n.txt");
}

#[test]
fn qr_prints_a_code_at_start_up_and_listings_show_one() {
    let server = Server::builder().args(["--qr"]).banner_lines(3).start();
    let url = server.url("/");
    assert!(
        server.banner.contains(&format!("QR code of {url}:")),
        "{}",
        server.banner
    );
    assert!(server.banner.contains('\u{2588}') || server.banner.contains('\u{2580}'));
    let page = html(&server, "/");
    assert!(page.contains("<details class=\"qr\"><summary>QR code of this page</summary><svg"));
    // Without --qr there is none.
    let plain = Server::start();
    assert!(!html(&plain, "/").contains("<svg"));
}
