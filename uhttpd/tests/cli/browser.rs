//! The listing's upload form, driven in headless Chromium over the Chrome
//! DevTools Protocol: open the listing, choose a file, submit, check disk.
//! And tus-js-client's browser bundle uploading from a page of its own.

use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::common::chromium::{Cdp, Chromium, require_chromium};
use crate::util::{PATIENCE, Server, path_str, write_file};

/// A page in a fresh headless Chromium.
struct Tab {
    _browser: Chromium,
    cdp: Cdp,
    session: String,
}

impl Tab {
    fn open() -> Tab {
        require_chromium();
        let browser = Chromium::start();
        let mut cdp = Cdp::connect(&browser.ws_url);
        let target = cdp.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = cdp.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        let session = attached["sessionId"].as_str().unwrap().to_owned();
        let mut tab = Tab {
            _browser: browser,
            cdp,
            session,
        };
        tab.call("Page.enable", json!({}));
        tab.call("DOM.enable", json!({}));
        tab
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        self.cdp.call(Some(&self.session), method, params)
    }

    fn navigate(&mut self, url: &str) {
        let navigated = self.call("Page.navigate", json!({"url": url}));
        assert!(navigated.get("errorText").is_none(), "{navigated}");
        self.cdp.wait_event("Page.loadEventFired");
    }

    /// Runs `expression` in the page (awaiting a promise) and returns its
    /// value.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
        );
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Waits (in the page, bounded) until `condition` holds, then returns
    /// `value`.
    fn wait_for(&mut self, condition: &str, value: &str) -> Value {
        let limit = PATIENCE.as_millis() / 2;
        self.eval(&format!(
            "new Promise((resolve, reject) => {{ const start = Date.now(); \
             const t = setInterval(() => {{ if ({condition}) {{ clearInterval(t); resolve({value}); }} \
             else if (Date.now() - start > {limit}) {{ clearInterval(t); reject(new Error('timed out: ' + {condition:?})); }} }}, 10); }})"
        ))
    }

    /// Clicks `selector` and waits for the page it loads.
    fn click_and_load(&mut self, selector: &str) {
        self.eval(&format!("document.querySelector({selector:?}).click()"));
        self.cdp.wait_event("Page.loadEventFired");
    }

    fn node(&mut self, selector: &str) -> u64 {
        let document = self.call("DOM.getDocument", json!({}));
        let found = self.call(
            "DOM.querySelector",
            json!({"nodeId": document["root"]["nodeId"], "selector": selector}),
        );
        let id = found["nodeId"].as_u64().unwrap();
        assert_ne!(id, 0, "no {selector} on the page");
        id
    }

    fn set_files(&mut self, selector: &str, files: &[&Path]) {
        let node = self.node(selector);
        let files: Vec<&str> = files.iter().map(|f| path_str(f)).collect();
        self.call(
            "DOM.setFileInputFiles",
            json!({"nodeId": node, "files": files}),
        );
    }

    /// Focuses `selector` and types `text` into it, as a user would.
    fn type_into(&mut self, selector: &str, text: &str) {
        self.eval(&format!("document.querySelector({selector:?}).focus()"));
        self.call("Input.insertText", json!({"text": text}));
    }

    /// The names in the listing's visible rows, in order.
    fn visible_rows(&mut self) -> Vec<String> {
        let rows = self.eval(
            "[...document.querySelectorAll('#listing tbody tr:not(.up)')]\
             .filter(tr => !tr.hidden).map(tr => tr.querySelector('td.n').textContent)",
        );
        serde_json::from_value(rows).unwrap()
    }
}

impl Drop for Tab {
    fn drop(&mut self) {
        self.cdp.close_browser();
    }
}

#[test]
fn listing_sorts_and_filters_in_headless_chromium() {
    let builder = Server::builder();
    let root = builder.root().to_owned();
    std::fs::create_dir(root.join("folder")).unwrap();
    write_file(&root, "apple.txt", &[b'a'; 10]);
    write_file(&root, "banana.txt", &[b'b'; 1000]);
    write_file(&root, "cherry.txt", &[b'c'; 100]);
    let server = builder.start();
    let mut tab = Tab::open();
    tab.navigate(&server.url("/"));
    let by_name = ["folder/", "apple.txt", "banana.txt", "cherry.txt"];
    assert_eq!(tab.visible_rows(), by_name);
    // Sorting is a link: the server sorts.
    tab.click_and_load("th.s a");
    assert_eq!(
        tab.visible_rows(),
        ["folder/", "apple.txt", "cherry.txt", "banana.txt"]
    );
    assert_eq!(tab.eval("location.search"), "?sort=size&order=asc");
    tab.click_and_load("th.s a");
    assert_eq!(
        tab.visible_rows(),
        ["folder/", "banana.txt", "cherry.txt", "apple.txt"]
    );
    tab.click_and_load("th.n a");
    assert_eq!(tab.visible_rows(), by_name);
    // Typing filters the rows at once, without a request.
    tab.type_into("#filter", "AN");
    assert_eq!(tab.visible_rows(), ["banana.txt"]);
    tab.type_into("#filter", "x");
    assert!(tab.visible_rows().is_empty());
    // Enter searches below this folder.
    write_file(&root.join("folder"), "banana split.txt", b"s");
    tab.eval("document.querySelector('#filter').value = 'banana'");
    tab.click_and_load("form.filter button");
    assert_eq!(
        tab.visible_rows(),
        ["banana.txt", "folder/banana split.txt"]
    );
    assert!(
        tab.eval("document.querySelector('.summary').textContent")
            .as_str()
            .unwrap()
            .starts_with("2 results")
    );
}

#[test]
fn listing_uploads_files_folders_and_new_folders_in_headless_chromium() {
    let builder = Server::builder();
    let root = builder.root().to_owned();
    std::fs::create_dir(root.join("sub dir")).unwrap();
    write_file(&root.join("sub dir"), "existing.txt", b"listed");
    let server = builder.args(["--upload-dir", path_str(&root)]).start();
    let source = TempDir::new().unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    let big_file = write_file(source.path(), "from browser.bin", &big);
    let small_file = write_file(source.path(), "été.txt", "ÉTÉ".as_bytes());
    let folder = source.path().join("album");
    std::fs::create_dir_all(folder.join("inner")).unwrap();
    write_file(&folder, "one.txt", b"1");
    write_file(&folder.join("inner"), "two.txt", b"2");

    let mut tab = Tab::open();
    tab.navigate(&server.url("/sub%20dir/"));

    // Several files through the file input, each uploaded resumably with
    // its progress.
    tab.set_files(
        "form.files input[type=file]:not([webkitdirectory])",
        &[&big_file, &small_file],
    );
    tab.wait_for(
        "document.querySelector('form.files input[type=file]:not([webkitdirectory])').files.length === 2",
        "true",
    );
    tab.eval("document.querySelector('form.files button[type=submit]').click()");
    let status = tab.wait_for(
        "document.querySelector('#status').textContent.includes('uploaded')",
        "document.querySelector('#status').textContent",
    );
    assert_eq!(status, "2 files uploaded.");
    let progress = tab.eval(
        "[...document.querySelectorAll('#progress li')].map(li => ({name: li.querySelector('.name').textContent, \
         events: Number(li.dataset.progressEvents), full: li.querySelector('progress').value === li.querySelector('progress').max, \
         state: li.className}))",
    );
    let progress = progress.as_array().unwrap();
    assert_eq!(progress.len(), 2, "{progress:?}");
    for file in progress {
        assert_eq!(file["state"], "ok", "{file}");
        assert_eq!(file["full"], true, "{file}");
        assert!(
            file["events"].as_u64().unwrap() >= 1,
            "no progress event: {file}"
        );
    }
    let saved = std::fs::read(root.join("sub dir/from browser.bin")).unwrap();
    assert!(saved == big, "the saved file differs from the chosen one");
    assert_eq!(
        std::fs::read(root.join("sub dir/été.txt")).unwrap(),
        "ÉTÉ".as_bytes()
    );
    // The page stayed, its table refreshed in place.
    assert_eq!(tab.eval("location.pathname"), "/sub%20dir/");
    assert_eq!(
        tab.visible_rows(),
        ["existing.txt", "from browser.bin", "été.txt"]
    );

    // A folder, its paths recreated below the listed directory.
    tab.set_files("form.files input[webkitdirectory]", &[&folder]);
    // Chromium reads the folder in the background: wait for its files.
    let chosen = tab.wait_for(
        "document.querySelector('form.files input[webkitdirectory]').files.length === 2",
        "[...document.querySelector('form.files input[webkitdirectory]').files].map(f => f.webkitRelativePath).sort()",
    );
    assert_eq!(chosen, json!(["album/inner/two.txt", "album/one.txt"]));
    tab.eval("document.querySelector('#status').textContent = ''");
    tab.eval("document.querySelector('form.files button[type=submit]').click()");
    let status = tab.wait_for(
        "document.querySelector('#status').textContent.includes('uploaded')",
        "document.querySelector('#status').textContent",
    );
    assert_eq!(status, "2 files uploaded.");
    assert_eq!(
        std::fs::read(root.join("sub dir/album/one.txt")).unwrap(),
        b"1"
    );
    assert_eq!(
        std::fs::read(root.join("sub dir/album/inner/two.txt")).unwrap(),
        b"2"
    );
    assert_eq!(tab.visible_rows()[0], "album/");

    // A new folder.
    tab.type_into("form.mkdir input[name=mkdir]", "Nouveau é");
    tab.eval("document.querySelector('form.mkdir button').click()");
    let status = tab.wait_for(
        "document.querySelector('#status').textContent.includes('created')",
        "document.querySelector('#status').textContent",
    );
    assert_eq!(status, "Folder \u{201c}Nouveau é\u{201d} created.");
    assert!(root.join("sub dir/Nouveau é").is_dir());
    assert_eq!(tab.visible_rows()[..2], ["album/", "Nouveau é/"]);

    // Without JavaScript the form posts, and the browser comes back to
    // the listing with a message.
    tab.call(
        "Emulation.setScriptExecutionDisabled",
        json!({"value": true}),
    );
    tab.navigate(&server.url("/sub%20dir/"));
    let plain = write_file(source.path(), "plain.txt", b"no script");
    tab.set_files(
        "form.files input[type=file]:not([webkitdirectory])",
        &[&plain],
    );
    tab.call(
        "Emulation.setScriptExecutionDisabled",
        json!({"value": false}),
    );
    // Submit through the DOM without the page's script (it never ran).
    tab.click_and_load("form.files button[type=submit]");
    assert_eq!(
        tab.eval("location.pathname + location.search"),
        "/sub%20dir/?uploaded=1"
    );
    assert_eq!(
        tab.eval("document.querySelector('#status').textContent"),
        "1 file uploaded."
    );
    assert_eq!(
        std::fs::read(root.join("sub dir/plain.txt")).unwrap(),
        b"no script"
    );
    // The new folder was a fetch (201), the form a navigation (303).
    server.stderr.wait_for("the form's POST answered 303", |l| {
        l.contains("\"POST /upload?dir=sub%20dir HTTP/1.1\" 303 ")
    });
}

#[test]
fn listing_takes_dropped_files_and_folders_in_headless_chromium() {
    let builder = Server::builder();
    let root = builder.root().to_owned();
    std::fs::create_dir(root.join("drop here")).unwrap();
    let server = builder.args(["--upload-dir", path_str(&root)]).start();
    let source = TempDir::new().unwrap();
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let dropped = write_file(source.path(), "dropped €.bin", &data);
    let folder = source.path().join("dropped folder");
    std::fs::create_dir_all(folder.join("deep")).unwrap();
    write_file(&folder.join("deep"), "leaf.txt", b"leaf");
    write_file(&folder.join("deep"), "empty.txt", b"");

    let mut tab = Tab::open();
    tab.navigate(&server.url("/drop%20here/"));
    let drag = |kind: &str| {
        json!({
            "type": kind, "x": 100, "y": 100,
            "data": {"items": [], "files": [path_str(&dropped), path_str(&folder)], "dragOperationsMask": 1},
        })
    };
    tab.call("Input.dispatchDragEvent", drag("dragEnter"));
    tab.call("Input.dispatchDragEvent", drag("dragOver"));
    tab.call("Input.dispatchDragEvent", drag("drop"));
    let status = tab.wait_for(
        "document.querySelector('#status').textContent.includes('uploaded')",
        "document.querySelector('#status').textContent",
    );
    assert_eq!(status, "3 files uploaded.");
    let events = tab.eval(
        "[...document.querySelectorAll('#progress li')].map(li => [li.querySelector('.name').textContent, Number(li.dataset.progressEvents) > 0, li.className]).sort()",
    );
    assert_eq!(
        events,
        json!([
            ["dropped folder/deep/empty.txt", false, "ok"],
            ["dropped folder/deep/leaf.txt", true, "ok"],
            ["dropped €.bin", true, "ok"]
        ])
    );
    let saved = std::fs::read(root.join("drop here/dropped €.bin")).unwrap();
    assert!(saved == data, "the dropped file was not saved as it is");
    assert_eq!(
        std::fs::read(root.join("drop here/dropped folder/deep/leaf.txt")).unwrap(),
        b"leaf"
    );
    assert_eq!(
        std::fs::read(root.join("drop here/dropped folder/deep/empty.txt")).unwrap(),
        b""
    );
    assert_eq!(tab.visible_rows(), ["dropped folder/", "dropped €.bin"]);
}

#[test]
fn listing_fits_a_phone_screen_and_follows_the_dark_scheme_in_headless_chromium() {
    let builder = Server::builder();
    let root = builder.root().to_owned();
    let long = "a-rather-long-file-name-without-any-spaces-that-must-wrap-somewhere.tar.gz";
    write_file(&root, long, b"x");
    std::fs::create_dir(root.join("Ünïcödé folder with a long name")).unwrap();
    let server = builder.uploads().start();
    let mut tab = Tab::open();
    tab.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 400, "height": 800, "deviceScaleFactor": 2, "mobile": true}),
    );
    tab.navigate(&server.url("/"));
    let widths = tab.eval("[document.documentElement.scrollWidth, window.innerWidth]");
    assert_eq!(widths, json!([400, 400]), "the page scrolls sideways");
    assert_eq!(
        tab.eval("getComputedStyle(document.querySelector('td.m')).display"),
        "none"
    );
    let light = tab.eval("getComputedStyle(document.body).backgroundColor");
    assert_eq!(light, "rgb(255, 255, 255)");
    tab.call(
        "Emulation.setEmulatedMedia",
        json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
    );
    let dark = tab.eval("getComputedStyle(document.body).backgroundColor");
    assert_eq!(dark, "rgb(22, 22, 22)");
    // The type markers are drawn by the page itself.
    let marker = tab.eval(
        "getComputedStyle(document.querySelector('a.k.archive'), '::before').backgroundColor",
    );
    assert_eq!(marker, "rgb(141, 110, 99)");
}

/// The listing's "Download as .zip" link: Chromium saves the archive of the
/// directory, and it extracts (Python's `zipfile`, CRCs checked) to the
/// directory's files, under the directory's name.
#[test]
fn listing_downloads_a_folder_as_zip_in_headless_chromium() {
    let builder = Server::builder();
    let root = builder.root().to_owned();
    std::fs::create_dir_all(root.join("docs/d\u{e9}j\u{e0}")).unwrap();
    write_file(&root, "docs/a.txt", b"alpha");
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    write_file(&root, "docs/d\u{e9}j\u{e0}/b.bin", &big);
    let server = builder.start();
    let downloads = TempDir::new().unwrap();
    let mut tab = Tab::open();
    tab.cdp.call(
        None,
        "Browser.setDownloadBehavior",
        json!({"behavior": "allow", "downloadPath": path_str(downloads.path()), "eventsEnabled": true}),
    );
    tab.navigate(&server.url("/docs/"));
    tab.eval("document.querySelector('nav.actions a[href=\"?download=zip\"]').click()");
    let begun = tab.cdp.wait_event("Browser.downloadWillBegin");
    let name = begun["params"]["suggestedFilename"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(name.ends_with(".zip"), "{begun}");
    // Progress events until the download is done (each wait is bounded).
    let mut state = String::new();
    for _ in 0..1000 {
        let progress = tab.cdp.wait_event("Browser.downloadProgress");
        state = progress["params"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if state != "inProgress" {
            break;
        }
    }
    assert_eq!(state, "completed");
    let archive = downloads.path().join(&name);
    let listed = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\n\
             assert z.testzip() is None\n\
             for i in sorted(z.infolist(), key=lambda i: i.filename):\n\
             \x20   print(i.filename, len(z.read(i)) if not i.is_dir() else '-')",
            path_str(&archive),
        ])
        .output()
        .unwrap();
    assert!(listed.status.success(), "{listed:?}");
    assert_eq!(
        String::from_utf8(listed.stdout).unwrap(),
        "docs/ -\ndocs/a.txt 5\ndocs/d\u{e9}j\u{e0}/ -\ndocs/d\u{e9}j\u{e0}/b.bin 300000\n"
    );
}

/// `len` bytes that do not repeat in short periods (`content` in
/// `tests/cli/resumable/tus_browser.js` makes the same ones).
fn pattern(len: u32) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn fifty_mib() -> Vec<u8> {
    pattern(50 << 20)
}

/// Chooses `file` in the listing's file input and submits the form.
fn choose_and_submit(tab: &mut Tab, file: &Path) {
    let input = "form.files input[type=file]:not([webkitdirectory])";
    tab.set_files(input, &[file]);
    tab.wait_for(
        &format!("document.querySelector({input:?}).files.length === 1"),
        "true",
    );
    tab.eval("document.querySelector('form.files button[type=submit]').click()");
}

/// Waits for the upload to end and returns the page's status line.
fn upload_status(tab: &mut Tab) -> Value {
    tab.wait_for(
        "document.querySelector('#status').textContent.includes('uploaded')",
        "document.querySelector('#status').textContent",
    )
}

/// The paths of the access log's lines for `method`.
fn logged(server: &Server, method: &str) -> Vec<String> {
    let prefix = format!("\"{method} ");
    server
        .stderr
        .all()
        .iter()
        .filter_map(|line| {
            let (_, rest) = line.split_once(&prefix)?;
            Some(rest.split(' ').next()?.to_owned())
        })
        .collect()
}

const BAR: &str = "document.querySelector('#progress li progress')";

#[test]
fn listing_upload_survives_a_network_cut_in_headless_chromium() {
    let builder = Server::builder();
    let root = builder.root().to_owned();
    let server = builder.args(["--upload-dir", path_str(&root)]).start();
    let source = TempDir::new().unwrap();
    let data = fifty_mib();
    let file = write_file(source.path(), "big €.bin", &data);
    let mut tab = Tab::open();
    tab.navigate(&server.url("/"));
    // Slow enough (20 MB/s) that the cut falls inside a piece.
    tab.call("Network.enable", json!({}));
    let network = |offline: bool| {
        json!({"offline": offline, "latency": 0, "downloadThroughput": -1,
               "uploadThroughput": if offline { -1 } else { 20_000_000 }})
    };
    tab.call("Network.emulateNetworkConditions", network(false));
    choose_and_submit(&mut tab, &file);
    // Paused at a quarter (in the same tick as the check), it stops, then
    // goes on when resumed.
    let row = "document.querySelector('#progress li')";
    tab.wait_for(
        &format!("{BAR} && {BAR}.value >= {BAR}.max / 4"),
        &format!("({row}.querySelector('button.pause').click(), true)"),
    );
    let paused = tab.wait_for(
        &format!("{row}.querySelector('.result').textContent === 'paused'"),
        &format!("[{row}.className, {row}.querySelector('button.pause').textContent]"),
    );
    assert_eq!(paused, json!(["paused", "Resume"]));
    let at = tab.eval(&format!("{BAR}.value"));
    assert!(at.as_f64().unwrap() < data.len() as f64, "{at}");
    tab.eval(&format!("{row}.querySelector('button.pause').click()"));
    tab.wait_for(&format!("{BAR} && {BAR}.value >= {BAR}.max / 2"), "true");
    tab.call("Network.emulateNetworkConditions", network(true));
    // The page notices and retries, with backoff, while the network is
    // away.
    tab.wait_for(&format!("Number({row}.dataset.retries) >= 2"), "true");
    assert_eq!(tab.eval(&format!("{row}.className")), "");
    tab.call("Network.emulateNetworkConditions", network(false));
    assert_eq!(upload_status(&mut tab), "1 file uploaded.");
    let saved = std::fs::read(root.join("big €.bin")).unwrap();
    assert_eq!(
        Sha256::digest(&saved),
        Sha256::digest(&data),
        "the stored file differs from the chosen one"
    );
    // One upload resource, created once, appended to in pieces.
    assert_eq!(logged(&server, "POST"), ["/upload/big%20%E2%82%AC.bin"]);
    let patches = logged(&server, "PATCH");
    assert!(patches.len() >= 7, "{patches:?}");
    assert!(patches.iter().all(|p| *p == patches[0]), "{patches:?}");
    assert!(!logged(&server, "HEAD").is_empty(), "no offset asked");
    assert_eq!(
        tab.eval("localStorage.length"),
        0,
        "a finished upload stays remembered"
    );
}

#[test]
fn listing_upload_resumes_after_a_reload_in_headless_chromium() {
    let builder = Server::builder();
    let root = builder.root().to_owned();
    let server = builder.args(["--upload-dir", path_str(&root)]).start();
    let source = TempDir::new().unwrap();
    let data = fifty_mib();
    let file = write_file(source.path(), "reloaded.bin", &data);
    let mut tab = Tab::open();
    tab.navigate(&server.url("/"));
    choose_and_submit(&mut tab, &file);
    // Reload once a piece is stored, in the same tick as the check so the
    // upload cannot finish in between.
    tab.wait_for(
        &format!("{BAR} && {BAR}.value >= 16 * 1024 * 1024"),
        "(setTimeout(() => location.reload(), 0), true)",
    );
    tab.cdp.wait_event("Page.loadEventFired");
    assert_eq!(tab.eval("localStorage.length"), 1);
    // The same file chosen again continues the same upload.
    choose_and_submit(&mut tab, &file);
    assert_eq!(upload_status(&mut tab), "1 file uploaded.");
    let resumed_from =
        tab.eval("Number(document.querySelector('#progress li').dataset.resumedFrom)");
    assert!(
        resumed_from.as_u64().unwrap() >= 8 * 1024 * 1024,
        "resumed from {resumed_from}"
    );
    let saved = std::fs::read(root.join("reloaded.bin")).unwrap();
    assert_eq!(Sha256::digest(&saved), Sha256::digest(&data));
    assert_eq!(logged(&server, "POST"), ["/upload/reloaded.bin"]);
    let patches = logged(&server, "PATCH");
    assert!(patches.iter().all(|p| *p == patches[0]), "{patches:?}");
    let heads = logged(&server, "HEAD");
    assert!(
        !heads.is_empty() && heads.iter().all(|h| *h == patches[0]),
        "{heads:?}"
    );
}

// ----- tus-js-client's browser bundle -----

const TUS_JS_BUNDLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../target/tus-js/node_modules/tus-js-client/dist/tus.min.js"
);

/// A server whose ROOT holds tus-js-client's browser bundle and the page
/// `tests/cli/resumable/tus_browser.html` (uploads go to a directory of
/// their own), and a tab on that page.
fn tus_js_page() -> (Server, Tab) {
    assert!(
        Path::new(TUS_JS_BUNDLE).is_file(),
        "{TUS_JS_BUNDLE} is missing: scripts/install-test-deps.sh installs tus-js-client"
    );
    let builder = Server::builder().uploads();
    std::fs::copy(TUS_JS_BUNDLE, builder.root().join("tus.min.js")).unwrap();
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/resumable");
    for page in ["tus_browser.html", "tus_browser.js"] {
        std::fs::copy(here.join(page), builder.root().join(page)).unwrap();
    }
    let server = builder.start();
    let mut tab = Tab::open();
    tab.navigate(&server.url("/tus_browser.html"));
    assert_eq!(tab.eval("typeof tus.Upload"), "function");
    assert_eq!(tab.eval("tus.isSupported"), true);
    (server, tab)
}

/// What tus-js-client reported for an upload of `size` bytes that
/// should have gone through: the stored file has the generated content.
fn check_tus_js_upload(server: &Server, result: &Value, name: &str, size: u32) {
    assert_eq!(result["offset"], size, "{name}: {result}");
    let url = result["url"].as_str().unwrap_or_default();
    assert!(
        url.starts_with(&server.url("/upload/.resumable/")),
        "{name}: {result}"
    );
    let stored = std::fs::read(server.upload_dir().join(name)).unwrap();
    assert_eq!(
        Sha256::digest(&stored),
        Sha256::digest(pattern(size)),
        "{name}: the stored file differs from the page's Blob"
    );
}

/// tus-js-client's protocol options in the version pinned in
/// `tests/cli/resumable/package.json`: tus and its two IETF drafts
/// (interop versions 6 and 5).
const TUS_JS_PROTOCOLS: [&str; 3] = ["tus-v1", "ietf-draft-05", "ietf-draft-03"];

#[test]
fn tus_js_client_in_chromium_uploads_over_tus_and_the_ietf_drafts() {
    let (server, mut tab) = tus_js_page();
    // Not a multiple of the chunk: the last PATCH is a short one.
    let size = (4 << 20) + 12_345;
    for protocol in TUS_JS_PROTOCOLS {
        let name = format!("{protocol}.bin");
        let result = tab.eval(&format!(
            "startUpload({protocol:?}, {size}, 1 << 20, {name:?}).done"
        ));
        assert_eq!(result["retries"], 0, "{protocol}: {result}");
        check_tus_js_upload(&server, &result, &name, size);
    }
    // Each upload was created once.
    assert_eq!(logged(&server, "POST").len(), TUS_JS_PROTOCOLS.len());
}

#[test]
fn tus_js_client_in_chromium_retries_through_a_network_cut() {
    let (server, mut tab) = tus_js_page();
    tab.call("Network.enable", json!({}));
    // Slow enough (4 MB/s) that the cut comes while a chunk is on its way.
    let network = |offline: bool| {
        json!({"offline": offline, "latency": 0, "downloadThroughput": -1,
               "uploadThroughput": if offline { -1 } else { 4_000_000 }})
    };
    let size = 8 << 20;
    for protocol in ["tus-v1", "ietf-draft-05"] {
        tab.call("Network.emulateNetworkConditions", network(false));
        let name = format!("cut-{protocol}.bin");
        tab.eval(&format!(
            "window.upload = startUpload({protocol:?}, {size}, 1 << 20, {name:?}); true"
        ));
        tab.wait_for("upload.offset >= 2 << 20", "true");
        tab.call("Network.emulateNetworkConditions", network(true));
        // It retries (and fails) while the network is away.
        tab.wait_for("upload.retries >= 2", "true");
        let at = tab.eval("upload.offset").as_u64().unwrap();
        assert!(at < size, "{protocol}: finished before the cut");
        assert!(!server.upload_dir().join(&name).exists());
        tab.call("Network.emulateNetworkConditions", network(false));
        let result = tab.eval("upload.done");
        check_tus_js_upload(&server, &result, &name, size as u32);
    }
    // One upload resource each, appended to after the cut (no new one).
    assert_eq!(logged(&server, "POST").len(), 2);
    assert!(!logged(&server, "HEAD").is_empty(), "no offset asked");
}
