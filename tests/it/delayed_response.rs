//! A request kept by the application and answered later — from another
//! thread — while the loop serves other requests. The loop sleeps in
//! `wait(None)`, so the answer must wake it.

use std::sync::mpsc;
use std::time::Duration;

use uhttp::{Config, Request};

use crate::util::{Client, IO_TIMEOUT, serve};

#[test]
fn answers_a_held_request_from_another_thread_while_serving_others() {
    let (held_tx, held_rx) = mpsc::channel::<Request>();
    let server = serve(Config::default(), move |req| {
        if req.path() == "/slow" {
            held_tx.send(req).unwrap();
        } else {
            req.respond(200, "fast").unwrap();
        }
    });
    let mut slow = server.connect();
    slow.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
    let held = held_rx.recv_timeout(IO_TIMEOUT).expect("the slow request");

    // Meanwhile, others are served, on new and on kept-alive connections.
    let mut other = server.connect();
    for _ in 0..3 {
        assert_eq!(other.get("/fast").text(), "fast");
    }
    assert_eq!(Client::connect(server.addr()).get("/x").text(), "fast");
    assert!(!held.is_responded());

    // Answered from a worker thread; the sleeping loop is woken.
    std::thread::spawn(move || held.respond(200, "late").unwrap())
        .join()
        .unwrap();
    let resp = slow.read_response();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.text(), "late");
    // The connection goes on.
    slow.send("GET /next HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(slow.read_response().text(), "fast");
}

#[test]
fn answers_many_held_requests_out_of_order_from_workers() {
    let server = serve(Config::default(), move |req| {
        let ms: u64 = req.query().get("ms").unwrap().parse().unwrap();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(ms));
            req.respond(200, format!("after {ms}")).unwrap();
        });
    });
    let mut clients: Vec<(u64, Client)> = [120u64, 60, 0, 30]
        .into_iter()
        .map(|ms| {
            let mut c = server.connect();
            c.send(format!("GET /?ms={ms} HTTP/1.1\r\nHost: t\r\n\r\n"));
            (ms, c)
        })
        .collect();
    for (ms, client) in &mut clients {
        assert_eq!(client.read_response().text(), format!("after {ms}"));
    }
}
