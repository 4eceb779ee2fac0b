//! Headers and routing (`--cors`, `--header`, `--index`, `--spa`, `--404`,
//! `--mime`) and browser safety: an upload from another origin's page is
//! refused with 403, one from the server's own pages or from curl and
//! scripts (no `Origin`) goes through. Issue 12.

use std::io::Write;

use crate::util::{Response, Server, curl, path_str, run, write_file};

/// A raw HTTP/1.1 request with `headers` and `body`, `Host` naming the
/// server as a browser on it would (`127.0.0.1:PORT`).
fn send(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
        server.port,
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    server.raw(&bytes)
}

fn get(server: &Server, path: &str, headers: &[(&str, &str)]) -> Response {
    send(server, "GET", path, headers, b"")
}

/// The server's own origin, as a browser showing its pages sends it.
fn own_origin(server: &Server) -> String {
    format!("http://127.0.0.1:{}", server.port)
}

#[test]
fn uploads_from_another_origin_are_refused_and_logged() {
    let server = Server::builder()
        .uploads()
        .args(["--cors", "http://app.example"])
        .start();
    let refused = [
        vec![("Origin", "http://evil.example")],
        // A listed --cors origin may read, not write.
        vec![("Origin", "http://app.example")],
        vec![("Origin", "null")],
        vec![("Origin", "https://127.0.0.1")],
        vec![("Sec-Fetch-Site", "cross-site")],
        vec![("Sec-Fetch-Site", "same-site")],
        vec![("Origin", "http://évil.example")],
        vec![("Origin", "http://127.0.0.1:1")],
    ];
    for (i, headers) in refused.iter().enumerate() {
        let name = format!("x{i}.txt");
        let resp = send(&server, "PUT", &format!("/upload/{name}"), headers, b"data");
        assert_eq!(resp.status, 403, "{headers:?}: {}", resp.text());
        assert_eq!(resp.json()["error"], "cross-origin request refused");
        server
            .stderr
            .wait_for("the access-log line of the 403", |l| {
                l.contains(&format!("\"PUT /upload/{name} HTTP/1.1\" 403"))
            });
    }
    server.stderr.wait_for("the reason", |l| {
        l.contains("refused with 403: Origin is another origin")
    });
    assert!(server.uploaded().is_empty(), "{:?}", server.uploaded());

    // The multipart form from another site's page: refused too.
    let source = tempfile::TempDir::new().unwrap();
    let file = write_file(source.path(), "f.txt", b"form data");
    let out = curl()
        .args(["-o", "/dev/null", "--write-out", "%{http_code}"])
        .args(["-H", "Origin: http://evil.example"])
        .args(["-F", &format!("file=@{}", path_str(&file))])
        .arg(server.url("/upload"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "403");
    assert!(server.uploaded().is_empty());

    let own = own_origin(&server);
    let accepted = [
        vec![("Origin", own.as_str())],
        vec![("Origin", own.as_str()), ("Sec-Fetch-Site", "same-origin")],
        vec![("Sec-Fetch-Site", "same-origin")],
        vec![],
    ];
    for (i, headers) in accepted.iter().enumerate() {
        let resp = send(
            &server,
            "PUT",
            &format!("/upload/ok{i}.txt"),
            headers,
            b"data",
        );
        assert_eq!(resp.status, 201, "{headers:?}: {}", resp.text());
    }
    let out = curl()
        .args(["-o", "/dev/null", "--write-out", "%{http_code}"])
        .args(["-H", &format!("Origin: {own}")])
        .args(["-F", &format!("file=@{}", path_str(&file))])
        .arg(server.url("/upload"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "201");
    assert_eq!(
        server.uploaded(),
        ["f.txt", "ok0.txt", "ok1.txt", "ok2.txt", "ok3.txt"]
    );
}

#[test]
fn cors_list_allows_listed_origins_and_varies_on_origin() {
    let builder =
        Server::builder().args(["--cors", "http://app.example,https://other.example:8443"]);
    write_file(builder.root(), "a.txt", b"a");
    let server = builder.start();
    let resp = get(&server, "/a.txt", &[("Origin", "http://app.example")]);
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some("http://app.example")
    );
    assert!(
        resp.header("access-control-expose-headers")
            .unwrap()
            .contains("ETag")
    );
    // Every file answer also varies on Accept-Encoding (precompressed
    // siblings).
    assert_eq!(resp.headers_named("vary"), ["Accept-Encoding", "Origin"]);
    assert_eq!(resp.header("access-control-allow-credentials"), None);
    let resp = get(
        &server,
        "/a.txt",
        &[("Origin", "https://other.example:8443")],
    );
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some("https://other.example:8443")
    );
    for headers in [
        &[("Origin", "http://evil.example")][..],
        &[("Origin", "null")],
        &[("Origin", "http://app.example.evil.example")],
        &[],
    ] {
        for path in ["/a.txt", "/missing", "/"] {
            let resp = get(&server, path, headers);
            assert_eq!(
                resp.header("access-control-allow-origin"),
                None,
                "{path} {headers:?}"
            );
            assert!(
                resp.headers_named("vary").contains(&"Origin"),
                "{path} {headers:?}"
            );
        }
    }
    // A listing varies on Accept and on Origin.
    let resp = get(&server, "/", &[("Origin", "http://app.example")]);
    assert_eq!(resp.headers_named("vary"), ["Accept", "Origin"]);
}

#[test]
fn cors_star_lets_every_origin_read_without_vary() {
    let builder = Server::builder().args(["--cors", "*"]);
    write_file(builder.root(), "a.txt", b"a");
    let server = builder.start();
    for headers in [
        &[("Origin", "http://x.example")][..],
        &[("Origin", "null")],
        &[],
    ] {
        let resp = get(&server, "/a.txt", headers);
        assert_eq!(resp.header("access-control-allow-origin"), Some("*"));
        assert_eq!(
            resp.headers_named("vary"),
            ["Accept-Encoding"],
            "{:?}",
            resp.headers
        );
    }
}

fn auth_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("users");
    let mut file = std::fs::File::create(&path).unwrap();
    writeln!(file, "ann:{}", bcrypt::hash("secret", 4).unwrap()).unwrap();
    path
}

/// A preflight carries no login, so it is answered before any; the
/// answers that need one (401) carry no CORS header, so another site's
/// script can never read them.
#[test]
fn preflight_needs_no_login_and_a_401_is_not_readable_cross_origin() {
    let users = tempfile::TempDir::new().unwrap();
    let auth = auth_file(users.path());
    let builder = Server::builder().args([
        "--cors",
        "http://app.example",
        "--auth-file",
        path_str(&auth),
    ]);
    write_file(builder.root(), "a.txt", b"a");
    let server = builder.start();
    let preflight = [
        ("Origin", "http://app.example"),
        ("Access-Control-Request-Method", "GET"),
        ("Access-Control-Request-Headers", "range"),
    ];
    let resp = send(&server, "OPTIONS", "/a.txt", &preflight, b"");
    assert_eq!(resp.status, 204, "{}", resp.text());
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some("http://app.example")
    );
    assert_eq!(
        resp.header("access-control-allow-methods"),
        Some("GET, HEAD, POST")
    );
    assert!(
        resp.header("access-control-allow-headers")
            .unwrap()
            .contains("Range")
    );
    assert_eq!(resp.header("access-control-max-age"), Some("3600"));
    assert_eq!(resp.header("access-control-allow-credentials"), None);
    assert!(resp.body.is_empty());
    // Another origin's preflight: a bare 204, which the browser refuses.
    let other = [
        ("Origin", "http://evil.example"),
        ("Access-Control-Request-Method", "GET"),
    ];
    let resp = send(&server, "OPTIONS", "/a.txt", &other, b"");
    assert_eq!(resp.status, 204);
    assert_eq!(resp.header("access-control-allow-origin"), None);
    assert_eq!(resp.header("access-control-allow-methods"), None);

    let resp = get(&server, "/a.txt", &[("Origin", "http://app.example")]);
    assert_eq!(resp.status, 401);
    assert!(
        resp.headers
            .iter()
            .all(|(n, _)| !n.to_ascii_lowercase().starts_with("access-control-")),
        "{:?}",
        resp.headers
    );
    // With the login (a same-origin page, or curl), the file and, for a
    // listed origin, its CORS headers: never Allow-Credentials.
    let resp = get(
        &server,
        "/a.txt",
        &[
            ("Origin", "http://app.example"),
            ("Authorization", "Basic YW5uOnNlY3JldA=="),
        ],
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("access-control-allow-credentials"), None);
}

#[test]
fn without_cors_no_cors_header_is_sent_and_options_is_not_allowed() {
    let builder = Server::builder();
    write_file(builder.root(), "a.txt", b"a");
    let server = builder.start();
    let preflight = [
        ("Origin", "http://app.example"),
        ("Access-Control-Request-Method", "GET"),
    ];
    let resp = send(&server, "OPTIONS", "/a.txt", &preflight, b"");
    assert_eq!(resp.status, 405);
    let resp = get(&server, "/a.txt", &[("Origin", "http://app.example")]);
    assert_eq!(resp.header("access-control-allow-origin"), None);
    assert_eq!(resp.headers_named("vary"), ["Accept-Encoding"]);
}

#[test]
fn header_option_adds_its_lines_to_every_answer() {
    let builder = Server::builder().uploads().args([
        "--header",
        "X-Frame-Options: DENY",
        "--header",
        "Content-Security-Policy: default-src 'self'",
    ]);
    write_file(builder.root(), "a.txt", b"a");
    std::fs::create_dir(builder.root().join("dir")).unwrap();
    let server = builder.start();
    let answers = [
        get(&server, "/a.txt", &[]),
        get(&server, "/", &[]),
        get(&server, "/dir", &[]),
        get(&server, "/missing", &[]),
        get(&server, "/a.txt", &[("If-None-Match", "*")]),
        get(&server, "/rpc", &[]),
        send(&server, "DELETE", "/a.txt", &[], b""),
        send(&server, "PUT", "/upload/u.txt", &[], b"u"),
        send(
            &server,
            "PUT",
            "/upload/v.txt",
            &[("Origin", "http://evil.example")],
            b"v",
        ),
    ];
    let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 301, 404, 304, 200, 405, 201, 403]);
    for resp in &answers {
        assert_eq!(
            resp.headers_named("x-frame-options"),
            ["DENY"],
            "{}",
            resp.status
        );
        assert_eq!(
            resp.header("content-security-policy"),
            Some("default-src 'self'"),
            "{}",
            resp.status
        );
    }
}

#[test]
fn bad_option_values_stop_start_up_with_one_line() {
    let root = tempfile::TempDir::new().unwrap();
    write_file(root.path(), "index.html", b"x");
    std::fs::create_dir(root.path().join("dir")).unwrap();
    let root = path_str(root.path());
    for (args, says) in [
        (
            &["--header", "Content-Length: 1"][..],
            "uhttpd sets Content-Length itself",
        ),
        (&["--header", "Cache-Control: no-store"], "--cache-control"),
        (&["--header", "X-A"], "Name: value"),
        (&["--cors", "https://a.example/app"], "is not an origin"),
        (&["--cors", "*,https://a.example"], "alone"),
        (&["--mime", "md=markdown"], "is not a media type"),
        (&["--index", "../index.html"], "cannot be served"),
        (
            &["--spa", "missing.html"],
            "--spa missing.html: no such file",
        ),
        (&["--404", "dir"], "--404 dir: no such file"),
        (&["--spa", ".hidden.html"], "dotfiles are never served"),
    ] {
        let mut argv = args.to_vec();
        argv.extend(["--port", "0", "--bind", "127.0.0.1", root]);
        let out = run(&argv);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    }
}

#[test]
fn index_names_are_tried_in_the_order_given() {
    let dir = tempfile::TempDir::new().unwrap();
    let root = dir.path();
    for (dir, files) in [
        ("both", &["index.html", "index.htm", "main.html"][..]),
        ("htm", &["index.htm"]),
        ("main", &["main.html", "index.htm"]),
    ] {
        std::fs::create_dir(root.join(dir)).unwrap();
        for f in files {
            write_file(&root.join(dir), f, format!("{dir}/{f}").as_bytes());
        }
    }
    let none: [&str; 0] = [];
    let server = Server::serving(root, &none);
    assert_eq!(get(&server, "/both/", &[]).text(), "both/index.html");
    assert_eq!(get(&server, "/htm/", &[]).text(), "htm/index.htm");
    assert_eq!(get(&server, "/main/", &[]).text(), "main/index.htm");
    drop(server);

    let server = Server::serving(root, &["--index", "main.html", "--index", "index.html"]);
    assert_eq!(get(&server, "/both/", &[]).text(), "both/main.html");
    assert_eq!(get(&server, "/main/", &[]).text(), "main/main.html");
    // index.htm is not in the list given: the directory is listed.
    let listing = get(&server, "/htm/", &[]);
    assert_eq!(listing.status, 200);
    assert!(
        listing.text().contains("index.htm</a>"),
        "{}",
        listing.text()
    );
    let resp = get(&server, "/both/", &[]);
    assert_eq!(
        resp.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(resp.header("cache-control"), Some("no-cache"));
}

/// An index that is a symlink leaving ROOT is not served: the directory
/// is listed instead, as for any path through the resolver.
#[test]
fn an_index_linking_outside_root_is_not_served() {
    let outside = tempfile::TempDir::new().unwrap();
    let secret = write_file(outside.path(), "secret.html", b"secret");
    let builder = Server::builder();
    std::os::unix::fs::symlink(&secret, builder.root().join("index.html")).unwrap();
    let server = builder.start();
    let resp = get(&server, "/", &[]);
    assert_eq!(resp.status, 200);
    assert!(
        !resp.text().contains("secret\n") && resp.text() != "secret",
        "{}",
        resp.text()
    );
}

const NAVIGATION: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[test]
fn spa_serves_its_page_to_navigations_and_404_to_assets() {
    let builder = Server::builder().args(["--spa", "/app/index.html"]);
    let root = builder.root().to_owned();
    std::fs::create_dir(root.join("app")).unwrap();
    write_file(&root.join("app"), "index.html", b"<div id=app></div>");
    write_file(&root, "style.css", b"p {}");
    let server = builder.start();
    for path in ["/users/42", "/about", "/v1.2/users", "/deep/er/path/"] {
        let resp = get(&server, path, &[("Accept", NAVIGATION)]);
        assert_eq!(resp.status, 200, "{path}");
        assert_eq!(resp.text(), "<div id=app></div>", "{path}");
        assert_eq!(
            resp.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(resp.header("cache-control"), Some("no-cache"));
        assert_eq!(
            resp.headers_named("vary"),
            ["Accept-Encoding", "Accept"],
            "{path}"
        );
        let etag = resp.header("etag").unwrap().to_owned();
        let again = get(
            &server,
            path,
            &[("Accept", NAVIGATION), ("If-None-Match", &etag)],
        );
        assert_eq!(again.status, 304, "{path}");
    }
    for (path, accept) in [
        ("/app.js", NAVIGATION),
        ("/img/logo.png", NAVIGATION),
        ("/users/42", "*/*"),
        ("/users/42", "application/json"),
        ("/users/42", "text/html;q=0"),
    ] {
        let resp = get(&server, path, &[("Accept", accept)]);
        assert_eq!(resp.status, 404, "{path} {accept}");
        assert_eq!(resp.headers_named("vary"), ["Accept"], "{path}");
    }
    assert_eq!(get(&server, "/users/42", &[]).status, 404);
    // Files that exist are served as themselves, whatever Accept says.
    let css = get(&server, "/style.css", &[("Accept", NAVIGATION)]);
    assert_eq!((css.status, css.text().as_str()), (200, "p {}"));
    // A cached SPA answer is never reused for an asset request.
    assert_eq!(get(&server, "/users/7", &[("Accept", "*/*")]).status, 404);
    let head = send(&server, "HEAD", "/users/42", &[("Accept", NAVIGATION)], b"");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[test]
fn not_found_page_is_sent_with_status_404() {
    let builder = Server::builder().args(["--404", "errors/404.html", "--spa", "index.html"]);
    let root = builder.root().to_owned();
    std::fs::create_dir(root.join("errors")).unwrap();
    write_file(&root.join("errors"), "404.html", b"<h1>lost</h1>");
    write_file(&root, "index.html", b"app");
    let server = builder.start();
    for (path, accept) in [
        ("/missing.js", NAVIGATION),
        ("/page", "*/*"),
        ("/.hidden", "*/*"),
    ] {
        let resp = get(&server, path, &[("Accept", accept)]);
        assert_eq!(resp.status, 404, "{path}");
        assert_eq!(resp.text(), "<h1>lost</h1>", "{path}");
        assert_eq!(
            resp.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(resp.header("cache-control"), None);
    }
    assert_eq!(
        get(&server, "/page", &[("Accept", NAVIGATION)]).text(),
        "app"
    );
    // A malformed path stays a 400, not the 404 page.
    assert_eq!(get(&server, "/a%zz", &[]).status, 400);
    // The page changes on disk: the next 404 shows it.
    write_file(&root.join("errors"), "404.html", b"<h1>gone</h1>");
    assert_eq!(get(&server, "/x.png", &[]).text(), "<h1>gone</h1>");
}

#[test]
fn mime_overrides_the_guessed_type() {
    let builder = Server::builder().args([
        "--mime",
        "md=text/markdown; charset=utf-8",
        "--mime",
        ".LOG=text/plain",
    ]);
    let root = builder.root().to_owned();
    write_file(&root, "README.md", b"# hi");
    write_file(&root, "Run.Log", b"ok");
    write_file(&root, "big.md", &vec![b'#'; 100_000]);
    write_file(&root, "a.css", b"p {}");
    let server = builder.start();
    for (path, want) in [
        ("/README.md", "text/markdown; charset=utf-8"),
        ("/big.md", "text/markdown; charset=utf-8"),
        ("/Run.Log", "text/plain"),
        ("/a.css", "text/css; charset=utf-8"),
    ] {
        let resp = get(&server, path, &[]);
        assert_eq!(resp.header("content-type"), Some(want), "{path}");
        let range = get(&server, path, &[("Range", "bytes=0-0")]);
        assert_eq!(range.status, 206);
        assert_eq!(range.header("content-type"), Some(want), "{path}");
    }
}

/// Behind a TLS-terminating proxy the browser's origin is `https://`: the
/// proxy's `X-Forwarded-Proto` says so, and only a `--trusted-proxy` is
/// believed.
#[test]
fn a_trusted_proxy_says_which_scheme_the_browser_used() {
    let server = Server::builder()
        .uploads()
        .args(["--trusted-proxy", "127.0.0.1"])
        .start();
    let https = format!("https://127.0.0.1:{}", server.port);
    let forwarded = [("Origin", https.as_str()), ("X-Forwarded-Proto", "https")];
    assert_eq!(
        send(&server, "PUT", "/upload/a.txt", &forwarded, b"a").status,
        201
    );
    let plain = [("Origin", https.as_str())];
    assert_eq!(
        send(&server, "PUT", "/upload/b.txt", &plain, b"b").status,
        403
    );
    drop(server);

    let untrusted = Server::builder().uploads().start();
    let https = format!("https://127.0.0.1:{}", untrusted.port);
    let forwarded = [("Origin", https.as_str()), ("X-Forwarded-Proto", "https")];
    assert_eq!(
        send(&untrusted, "PUT", "/upload/c.txt", &forwarded, b"c").status,
        403
    );
    assert!(untrusted.uploaded().is_empty());
}

/// `Origin`, `Sec-Fetch-Site`, `Host` and `Accept` with multi-byte UTF-8
/// and invalid bytes (`\xff`, a lone `\xc3`) at every offset, through the
/// real server: an upload is never accepted with a broken origin, the
/// SPA never answers a broken `Accept`, and the server keeps serving.
#[test]
fn broken_bytes_in_origin_and_accept_never_pass_and_never_crash() {
    let builder =
        Server::builder()
            .uploads()
            .args(["--spa", "index.html", "--cors", "http://app.example"]);
    write_file(builder.root(), "index.html", b"app");
    let server = builder.start();
    let own = own_origin(&server);
    let raw = |head: &[u8]| {
        let mut request = head.to_vec();
        request.extend_from_slice(b"Connection: close\r\nContent-Length: 1\r\n\r\nx");
        server.raw(&request)
    };
    let inserts: [&[u8]; 6] = [
        b"\xff",
        b"\xc3",
        "é".as_bytes(),
        "€".as_bytes(),
        "😀".as_bytes(),
        b"\x00",
    ];
    for insert in inserts {
        for at in 0..=own.len() {
            let mut origin = own.as_bytes().to_vec();
            origin.splice(at..at, insert.iter().copied());
            let mut head = format!(
                "PUT /upload/u.txt HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nOrigin: ",
                server.port
            )
            .into_bytes();
            head.extend_from_slice(&origin);
            head.extend_from_slice(b"\r\n");
            let resp = raw(&head);
            assert!(
                matches!(resp.status, 400 | 403),
                "{origin:?}: {}",
                resp.status
            );

            let mut head = b"PUT /upload/u.txt HTTP/1.1\r\nOrigin: ".to_vec();
            head.extend_from_slice(own.as_bytes());
            head.extend_from_slice(b"\r\nHost: ");
            let host = format!("127.0.0.1:{}", server.port);
            let cut = at.min(host.len());
            head.extend_from_slice(&host.as_bytes()[..cut]);
            head.extend_from_slice(insert);
            head.extend_from_slice(&host.as_bytes()[cut..]);
            head.extend_from_slice(b"\r\n");
            let resp = raw(&head);
            assert!(
                matches!(resp.status, 400 | 403),
                "host at {at}: {}",
                resp.status
            );
        }
        let accept = b"text/html";
        for at in 0..=accept.len() {
            let mut value = accept.to_vec();
            value.splice(at..at, insert.iter().copied());
            let mut head = b"GET /page HTTP/1.1\r\nHost: x\r\nAccept: ".to_vec();
            head.extend_from_slice(&value);
            head.extend_from_slice(b"\r\nSec-Fetch-Site: ");
            head.extend_from_slice(&value);
            head.extend_from_slice(b"\r\n");
            let resp = raw(&head);
            let whole = at == 0 || at == accept.len();
            assert!(
                matches!(resp.status, 400 | 404) || whole,
                "{value:?}: {}",
                resp.status
            );
        }
    }
    assert!(server.uploaded().is_empty());
    assert_eq!(
        get(&server, "/page", &[("Accept", "text/html")]).text(),
        "app"
    );
}
