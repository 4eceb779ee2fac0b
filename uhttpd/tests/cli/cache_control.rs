//! `Cache-Control` of static answers: `no-cache` for HTML and listings,
//! `max-age=600` for other files, `--cache-control` for every file, carried
//! by 304 and 206 answers too (RFC 9110 §15.4.5), never by errors.

use crate::util::{Server, agent, write_file};

/// Status and `Cache-Control` (exactly one, or none) of `GET path` with
/// the request `headers`.
fn get(server: &Server, path: &str, headers: &[(&str, &str)]) -> (u16, Option<String>) {
    let mut req = agent().get(server.url(path));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.call().unwrap();
    let values: Vec<String> = resp
        .headers()
        .get_all("cache-control")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(values.len() <= 1, "{path}: {values:?}");
    (resp.status().as_u16(), values.into_iter().next())
}

fn header(server: &Server, path: &str, name: &str) -> String {
    let resp = agent().get(server.url(path)).call().unwrap();
    resp.headers()[name].to_str().unwrap().to_owned()
}

/// ROOT with pages, a style sheet, a small and a large binary (the large
/// one is streamed from disk, the small ones served from memory), a
/// directory without an index and one with.
fn site(args: &[&str]) -> Server {
    let builder = Server::builder().args(args);
    let root = builder.root().to_owned();
    write_file(&root, "page.html", b"<p>page</p>");
    write_file(&root, "index.html", b"<p>home</p>");
    write_file(&root, "style.css", b"p { color: red }");
    write_file(&root, "small.bin", &[7; 100]);
    write_file(&root, "big.bin", &vec![9; 200_000]);
    std::fs::create_dir(root.join("docs")).unwrap();
    write_file(&root.join("docs"), "a.txt", b"a");
    std::fs::create_dir(root.join("site")).unwrap();
    write_file(&root.join("site"), "index.html", b"<p>site</p>");
    builder.start()
}

const NO_CACHE: Option<&str> = Some("no-cache");
const TEN_MINUTES: Option<&str> = Some("max-age=600");

#[test]
fn html_and_listings_revalidate_other_files_stay_fresh_ten_minutes() {
    let server = site(&[]);
    for (path, want) in [
        ("/page.html", NO_CACHE),
        ("/", NO_CACHE),
        ("/site/", NO_CACHE),
        ("/docs/", NO_CACHE),
        ("/style.css", TEN_MINUTES),
        ("/small.bin", TEN_MINUTES),
        ("/big.bin", TEN_MINUTES),
        ("/docs/a.txt", TEN_MINUTES),
    ] {
        // Twice: the second answer of a small file comes from memory.
        for _ in 0..2 {
            let (status, got) = get(&server, path, &[]);
            assert_eq!(status, 200, "{path}");
            assert_eq!(got.as_deref(), want, "{path}");
        }
    }
    let json = [("Accept", "application/json")];
    assert_eq!(
        get(&server, "/docs/", &json),
        (200, Some("no-cache".into()))
    );
    let (status, got) = get(&server, "/docs", &[]);
    assert_eq!(
        (status, got.as_deref()),
        (301, TEN_MINUTES),
        "the slash redirect"
    );
}

#[test]
fn answers_304_and_206_carry_it_and_errors_do_not() {
    let server = site(&[]);
    for (path, want) in [
        ("/page.html", NO_CACHE),
        ("/style.css", TEN_MINUTES),
        ("/big.bin", TEN_MINUTES),
    ] {
        let etag = header(&server, path, "etag");
        let modified = header(&server, path, "last-modified");
        for condition in [
            ("If-None-Match", etag.as_str()),
            ("If-Modified-Since", &modified),
        ] {
            let (status, got) = get(&server, path, &[condition]);
            assert_eq!(
                (status, got.as_deref()),
                (304, want),
                "{path} {condition:?}"
            );
        }
        for range in ["bytes=0-3", "bytes=0-1,5-6"] {
            let (status, got) = get(&server, path, &[("Range", range)]);
            assert_eq!((status, got.as_deref()), (206, want), "{path} {range}");
        }
        // Errors: 412, 416.
        let (status, got) = get(&server, path, &[("If-Match", "\"other\"")]);
        assert_eq!((status, got), (412, None), "{path}");
        let (status, got) = get(&server, path, &[("Range", "bytes=900000-")]);
        assert_eq!((status, got), (416, None), "{path}");
    }
    assert_eq!(get(&server, "/missing.html", &[]), (404, None));
    assert_eq!(get(&server, "/a%ZZ.txt", &[]), (400, None));
    let resp = agent().post(server.url("/style.css")).send("x").unwrap();
    assert_eq!(resp.status(), 405);
    assert!(resp.headers().get("cache-control").is_none());
    // /rpc keeps its own.
    assert_eq!(get(&server, "/rpc", &[]), (200, Some("no-store".into())));
}

#[test]
fn an_unchanged_listing_is_a_304_and_a_changed_one_is_not() {
    let server = site(&[]);
    for accept in ["text/html", "application/json"] {
        let resp = agent()
            .get(server.url("/docs/"))
            .header("Accept", accept)
            .call()
            .unwrap();
        let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
        let inm = [("Accept", accept), ("If-None-Match", etag.as_str())];
        let resp = agent()
            .get(server.url("/docs/"))
            .header("Accept", accept)
            .header("If-None-Match", &etag)
            .call()
            .unwrap();
        assert_eq!(resp.status(), 304, "{accept}");
        assert_eq!(resp.headers()["etag"], etag.as_str());
        assert_eq!(resp.headers()["vary"], "Accept");
        assert_eq!(resp.headers()["cache-control"], "no-cache");
        write_file(
            &server.root().join("docs"),
            &format!("new-{}", accept.len()),
            b"n",
        );
        assert_eq!(
            get(&server, "/docs/", &inm),
            (200, Some("no-cache".into())),
            "{accept}"
        );
    }
}

#[test]
fn the_option_sets_every_file_and_leaves_listings_alone() {
    let immutable = "public, max-age=31536000, immutable";
    let server = site(&["--cache-control", immutable]);
    for path in ["/page.html", "/", "/style.css", "/small.bin", "/big.bin"] {
        assert_eq!(
            get(&server, path, &[]),
            (200, Some(immutable.into())),
            "{path}"
        );
    }
    let etag = header(&server, "/style.css", "etag");
    let inm = [("If-None-Match", etag.as_str())];
    assert_eq!(
        get(&server, "/style.css", &inm),
        (304, Some(immutable.into()))
    );
    let range = [("Range", "bytes=0-1")];
    assert_eq!(
        get(&server, "/big.bin", &range),
        (206, Some(immutable.into()))
    );
    assert_eq!(get(&server, "/docs/", &[]), (200, Some("no-cache".into())));
    assert_eq!(
        get(&server, "/docs", &[]),
        (301, Some("max-age=600".into()))
    );
    assert_eq!(get(&server, "/missing", &[]), (404, None));

    // An empty value: no Cache-Control on files, as nginx sends them.
    let server = site(&["--cache-control", ""]);
    for path in ["/page.html", "/style.css", "/big.bin"] {
        assert_eq!(get(&server, path, &[]), (200, None), "{path}");
    }
    assert_eq!(get(&server, "/docs/", &[]), (200, Some("no-cache".into())));
}

#[test]
fn the_config_file_key_is_cache_control() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("uhttpd.toml");
    std::fs::write(&config, "cache_control = \"no-cache\"\n").unwrap();
    let server = site(&["-c", crate::util::path_str(&config)]);
    assert_eq!(
        get(&server, "/style.css", &[]),
        (200, Some("no-cache".into()))
    );
}
