//! The listing's upload form, driven in headless Chromium over the Chrome
//! DevTools Protocol: open the listing, choose a file, submit, check disk.

use serde_json::json;
use tempfile::TempDir;

use crate::common::chromium::{Cdp, Chromium, require_chromium};
use crate::util::{Server, path_str, write_file};

#[test]
fn listing_upload_form_works_in_headless_chromium() {
    require_chromium();
    let server = Server::builder().uploads().start();
    write_file(server.root(), "existing.txt", b"listed");
    let source = TempDir::new().unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let file = write_file(source.path(), "from browser.bin", &data);

    let browser = Chromium::start();
    let mut cdp = Cdp::connect(&browser.ws_url);
    let target = cdp.call(None, "Target.createTarget", json!({"url": "about:blank"}));
    let attached = cdp.call(
        None,
        "Target.attachToTarget",
        json!({"targetId": target["targetId"], "flatten": true}),
    );
    let session = attached["sessionId"].as_str().unwrap().to_owned();
    let page = Some(session.as_str());

    cdp.call(page, "Page.enable", json!({}));
    let navigated = cdp.call(page, "Page.navigate", json!({"url": server.url("/")}));
    assert!(navigated.get("errorText").is_none(), "{navigated}");
    cdp.wait_event("Page.loadEventFired");

    let document = cdp.call(page, "DOM.getDocument", json!({}));
    let input = cdp.call(
        page,
        "DOM.querySelector",
        json!({"nodeId": document["root"]["nodeId"], "selector": "form input[type=file]"}),
    );
    let input_id = input["nodeId"].as_u64().unwrap();
    assert_ne!(input_id, 0, "the listing has no file input");
    cdp.call(
        page,
        "DOM.setFileInputFiles",
        json!({"nodeId": input_id, "files": [path_str(&file)]}),
    );
    // Click the button, as a user would.
    cdp.call(
        page,
        "Runtime.evaluate",
        json!({"expression": "document.querySelector('form button[type=submit]').click()"}),
    );
    cdp.wait_event("Page.loadEventFired");

    server
        .stderr
        .wait_for("the upload to be saved", |l| l.contains("saved upload"));
    let access = server
        .stderr
        .wait_for("the POST /upload answer", |l| l.contains("\"POST /upload"));
    assert!(access.contains(" 201 "), "{access}");
    assert_eq!(server.uploaded(), ["from browser.bin"]);
    let saved = std::fs::read(server.upload_dir().join("from browser.bin")).unwrap();
    assert!(saved == data, "the saved file differs from the chosen one");

    cdp.close_browser();
}
