//! Event mode: `Headers`, then the application picks how the body is
//! received (buffered, `Data` events, a file) or answers without it.

use serde_json::json;
use std::sync::mpsc;
use std::time::Duration;
use uhttp::{Config, Error, Event, Request};

use crate::util::{IO_TIMEOUT, serve_events, wait_until, write_pattern_file};

fn event_config() -> Config {
    let mut config = Config::default();
    config.event_mode = true;
    config
}

/// Names an event for the log the tests compare.
fn kind(event: &Event) -> &'static str {
    match event {
        Event::Request(_) => "Request",
        Event::Headers(_) => "Headers",
        Event::Data(_) => "Data",
        Event::Complete(_) => "Complete",
        Event::Error(_) => "Error",
        _ => "other",
    }
}

/// A request whose head and body are sent in two writes, with the body
/// sent only once the server has seen the head (it answers the
/// `Expect: 100-continue` only after `accept_body*`, so waiting for the
/// 100 orders the writes without sleeping).
fn put_in_two_steps(client: &mut crate::util::Client, body: &[u8]) {
    client.send(format!(
        "PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    ));
    client.expect_bytes(b"HTTP/1.1 100 Continue\r\n\r\n");
    client.send(body);
}

#[test]
fn headers_then_accept_body_then_complete() {
    let (log_tx, log_rx) = mpsc::channel();
    let server = serve_events(event_config(), move |event| {
        let req = event.request().clone();
        log_tx.send(kind(&event)).unwrap();
        match event {
            Event::Headers(_) => {
                assert!(!req.is_loaded());
                assert_eq!(req.content_length(), Some(11));
                assert_eq!(req.bytes_received(), 0);
                req.accept_body().unwrap();
                assert!(matches!(req.accept_body(), Err(Error::InvalidState(_))));
            }
            Event::Complete(_) => {
                assert!(req.is_loaded());
                assert_eq!(req.bytes_received(), 11);
                req.respond(200, req.data().to_vec()).unwrap();
            }
            other => panic!("unexpected {other:?}"),
        }
    });
    let mut client = server.connect();
    put_in_two_steps(&mut client, b"hello world");
    assert_eq!(client.read_response().body, b"hello world");
    let log: Vec<_> = log_rx.try_iter().collect();
    assert_eq!(log, ["Headers", "Complete"]);
}

#[test]
fn a_request_without_a_body_comes_as_request() {
    let server = serve_events(event_config(), |event| match event {
        Event::Request(req) => req.respond(200, "plain").unwrap(),
        other => panic!("unexpected {other:?}"),
    });
    assert_eq!(server.connect().get("/").text(), "plain");
}

#[test]
fn head_and_body_in_one_write_may_come_as_request() {
    let server = serve_events(event_config(), |event| match event {
        Event::Request(req) => req.respond(200, req.data().to_vec()).unwrap(),
        Event::Headers(req) => req.accept_body().unwrap(),
        Event::Complete(req) => req.respond(200, req.data().to_vec()).unwrap(),
        other => panic!("unexpected {other:?}"),
    });
    let mut client = server.connect();
    client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nxyz");
    assert_eq!(client.read_response().body, b"xyz");
}

#[test]
fn streams_the_body_as_data_events_whose_buffers_sum_to_the_body() {
    const LEN: usize = 3 * 1024 * 1024 + 17;
    let body: Vec<u8> = (0..LEN).map(|i| (i * 7 % 256) as u8).collect();
    let (done_tx, done_rx) = mpsc::channel();
    let mut config = event_config();
    config.max_content_length = 8 * 1024 * 1024;
    let server = serve_events(config, move |event| match event {
        Event::Headers(req) => {
            req.set_context((Vec::<u8>::new(), 0usize));
            req.accept_body_streaming().unwrap();
        }
        Event::Data(req) => {
            let chunk = req.read_buffer();
            assert!(!chunk.is_empty());
            req.with_context(|(got, events): &mut (Vec<u8>, usize)| {
                got.extend_from_slice(&chunk);
                *events += 1;
            })
            .unwrap();
        }
        Event::Complete(req) => {
            // Whatever arrived after the last Data event.
            let tail = req.read_buffer();
            let (mut got, events) = req.take_context::<(Vec<u8>, usize)>().unwrap();
            got.extend_from_slice(&tail);
            assert_eq!(req.bytes_received(), got.len() as u64);
            req.respond_json(200, &json!({"bytes": got.len(), "events": events}))
                .unwrap();
            done_tx.send(got).unwrap();
        }
        other => panic!("unexpected {other:?}"),
    });
    let mut client = server.connect();
    put_in_two_steps(&mut client, &body);
    let resp = client.read_response().json();
    assert_eq!(resp["bytes"], LEN);
    assert!(resp["events"].as_u64().unwrap() >= 1);
    let got = done_rx.recv_timeout(IO_TIMEOUT).unwrap();
    assert!(got == body, "the streamed bytes differ from the body sent");
}

#[test]
fn streams_a_chunked_body_as_data_events() {
    let server = serve_events(event_config(), move |event| match event {
        Event::Headers(req) => {
            req.set_context(Vec::<u8>::new());
            req.accept_body_streaming().unwrap();
        }
        Event::Data(req) => {
            let chunk = req.read_buffer();
            req.with_context(|got: &mut Vec<u8>| got.extend_from_slice(&chunk));
        }
        Event::Complete(req) => {
            let mut got = req.take_context::<Vec<u8>>().unwrap();
            got.extend_from_slice(&req.read_buffer());
            req.respond(200, got).unwrap();
        }
        other => panic!("unexpected {other:?}"),
    });
    let mut client = server.connect();
    client.send(
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
    );
    client.expect_bytes(b"HTTP/1.1 100 Continue\r\n\r\n");
    client.send("3\r\nabc\r\n");
    client.send("4;x=y\r\ndefg\r\n0\r\nT: 1\r\n\r\n");
    assert_eq!(client.read_response().body, b"abcdefg");
}

#[test]
fn writes_the_body_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("upload.bin");
    let source = dir.path().join("source.bin");
    write_pattern_file(&source, 2 * 1024 * 1024 + 3);
    let body = std::fs::read(&source).unwrap();
    let to = target.clone();
    let mut config = event_config();
    config.max_content_length = 4 * 1024 * 1024;
    let server = serve_events(config, move |event| match event {
        Event::Headers(req) => req.accept_body_to_file(&to).unwrap(),
        Event::Complete(req) => {
            assert!(req.data().is_empty());
            req.respond_json(200, &json!({"size": req.bytes_received()}))
                .unwrap();
        }
        other => panic!("unexpected {other:?}"),
    });
    let mut client = server.connect();
    put_in_two_steps(&mut client, &body);
    assert_eq!(client.read_response().json(), json!({"size": body.len()}));
    assert!(std::fs::read(&target).unwrap() == body);
}

#[test]
fn reports_an_error_and_removes_the_partial_file_when_the_client_vanishes() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("partial.bin");
    let to = target.clone();
    let (tx, rx) = mpsc::channel::<(String, Option<String>, u64)>();
    let (seen_tx, seen_rx) = mpsc::channel::<()>();
    let server = serve_events(event_config(), move |event| match event {
        Event::Headers(req) => {
            req.accept_body_to_file(&to).unwrap();
            seen_tx.send(()).unwrap();
        }
        Event::Error(req) => {
            tx.send(("Error".into(), req.error(), req.bytes_received()))
                .unwrap();
            assert!(matches!(req.respond(400, "x"), Err(Error::Closed)));
        }
        other => tx.send((kind(&other).into(), None, 0)).unwrap(),
    });
    let mut client = server.connect();
    client.send("PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n");
    seen_rx.recv_timeout(IO_TIMEOUT).unwrap();
    client.send([b'a'; 1000]);
    // Wait until the file holds the bytes, so the disconnect is mid-body.
    wait_until("the file to hold 1000 bytes", || {
        std::fs::metadata(&target).is_ok_and(|m| m.len() == 1000)
    });
    drop(client);
    let (kind, error, received) = rx.recv_timeout(IO_TIMEOUT).unwrap();
    assert_eq!(kind, "Error");
    assert!(error.is_some());
    assert_eq!(received, 1000);
    assert!(!target.exists(), "the partial upload was left behind");
}

#[test]
fn reports_an_error_when_the_client_vanishes_mid_stream() {
    let (tx, rx) = mpsc::channel::<String>();
    let (seen_tx, seen_rx) = mpsc::channel::<()>();
    let server = serve_events(event_config(), move |event| match event {
        Event::Headers(req) => {
            req.accept_body_streaming().unwrap();
            seen_tx.send(()).unwrap();
        }
        Event::Data(req) => {
            req.read_buffer();
            let _ = seen_tx.send(());
        }
        other => tx.send(kind(&other).into()).unwrap(),
    });
    let mut client = server.connect();
    client.send("PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n");
    seen_rx.recv_timeout(IO_TIMEOUT).unwrap();
    client.send([b'a'; 10]);
    seen_rx.recv_timeout(IO_TIMEOUT).unwrap();
    drop(client);
    assert_eq!(rx.recv_timeout(IO_TIMEOUT).unwrap(), "Error");
}

#[test]
fn answering_on_headers_without_accepting_leaves_the_body_unread_and_closes() {
    let (tx, rx) = mpsc::channel::<Request>();
    let server = serve_events(event_config(), move |event| match event {
        Event::Headers(req) => {
            req.respond(413, "too big for me").unwrap();
            assert!(matches!(req.accept_body(), Err(Error::InvalidState(_))));
            tx.send(req).unwrap();
        }
        other => panic!("unexpected {other:?}"),
    });
    let mut client = server.connect();
    client.send("PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n");
    let resp = client.read_response();
    assert_eq!(resp.status, 413);
    assert!(resp.closes());
    client.expect_closed();
    let req = rx.recv_timeout(IO_TIMEOUT).unwrap();
    assert_eq!(req.bytes_received(), 0);
}

#[test]
fn keeps_application_state_in_the_context_slot() {
    #[derive(Debug, PartialEq)]
    struct Upload {
        name: String,
        chunks: u32,
    }
    let server = serve_events(event_config(), move |event| match event {
        Event::Headers(req) => {
            req.set_context(Upload {
                name: req.path().to_owned(),
                chunks: 0,
            });
            // A different type is not there.
            assert_eq!(req.take_context::<String>(), None);
            req.accept_body_streaming().unwrap();
        }
        Event::Data(req) => {
            req.read_buffer();
            req.with_context(|u: &mut Upload| u.chunks += 1).unwrap();
        }
        Event::Complete(req) => {
            let upload = req.take_context::<Upload>().unwrap();
            assert!(req.take_context::<Upload>().is_none());
            req.respond(200, format!("{} {}", upload.name, upload.chunks > 0))
                .unwrap();
        }
        other => panic!("unexpected {other:?}"),
    });
    let mut client = server.connect();
    put_in_two_steps(&mut client, b"some bytes");
    assert_eq!(client.read_response().text(), "/up true");
}

#[test]
fn refuses_a_streamed_body_over_max_content_length_with_error_and_413() {
    let (tx, rx) = mpsc::channel::<&'static str>();
    let mut config = event_config();
    config.max_content_length = 100;
    let server = serve_events(config, move |event| {
        tx.send(kind(&event)).unwrap();
        match event {
            Event::Headers(req) => req.accept_body_streaming().unwrap(),
            Event::Data(req) => {
                req.read_buffer();
            }
            _ => {}
        }
    });
    let mut client = server.connect();
    client.send(
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
    );
    client.expect_bytes(b"HTTP/1.1 100 Continue\r\n\r\n");
    client.send(format!("65\r\n{}\r\n", "z".repeat(101)));
    assert_eq!(client.read_response().status, 413);
    client.read_to_end();
    let mut log = Vec::new();
    while log.last() != Some(&"Error") {
        log.push(rx.recv_timeout(IO_TIMEOUT).expect("an Error event"));
    }
    assert_eq!(log.first(), Some(&"Headers"));
    assert!(
        log[1..log.len() - 1].iter().all(|k| *k == "Data"),
        "{log:?}"
    );
}

#[test]
fn a_slow_reader_of_data_events_does_not_time_the_client_out() {
    // The application takes longer than request_timeout to drain a full
    // stream buffer: the pause is the application's, not the client's,
    // so no 408 may come of it.
    const LEN: usize = 2 * 1024 * 1024;
    let mut config = event_config();
    config.request_timeout = Duration::from_millis(200);
    config.max_content_length = 4 * 1024 * 1024;
    // Data and Complete both go to the worker, in order: answering on the
    // loop thread could take the count before the worker added its last
    // read to it.
    let (data_tx, data_rx) = mpsc::channel::<(Request, bool)>();
    let server = serve_events(config, move |event| match event {
        Event::Headers(req) => {
            req.set_context(0usize);
            req.accept_body_streaming().unwrap();
        }
        Event::Data(req) => data_tx.send((req, false)).unwrap(),
        Event::Complete(req) => data_tx.send((req, true)).unwrap(),
        other => panic!("unexpected {other:?}"),
    });
    // A worker drains each Data event late.
    let worker = std::thread::spawn(move || {
        let mut first = true;
        while let Ok((req, complete)) = data_rx.recv_timeout(IO_TIMEOUT) {
            if first {
                std::thread::sleep(Duration::from_millis(500));
                first = false;
            }
            let n = req.read_buffer().len();
            req.with_context(|total: &mut usize| *total += n);
            if complete {
                let total = req.take_context::<usize>().unwrap();
                req.respond(200, total.to_string()).unwrap();
            }
        }
    });
    let mut client = server.connect();
    client.send(format!(
        "PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: {LEN}\r\n\r\n"
    ));
    let writer_stream = client.stream.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let mut s = writer_stream;
        std::io::Write::write_all(&mut s, &vec![b'd'; LEN])
    });
    let resp = client.read_response();
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.text(), LEN.to_string());
    writer.join().unwrap().unwrap();
    drop(server);
    worker.join().unwrap();
}

#[test]
fn reports_an_error_when_head_partial_body_and_close_come_together() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("partial.bin");
    let to = target.clone();
    let (tx, rx) = mpsc::channel::<&'static str>();
    let mut config = event_config();
    config.request_timeout = Duration::from_secs(30);
    let server = serve_events(config, move |event| {
        tx.send(kind(&event)).unwrap();
        if let Event::Headers(req) = event {
            req.accept_body_to_file(&to).unwrap();
        }
    });
    let mut client = server.connect();
    client.send("PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\npartial");
    client.stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(rx.recv_timeout(IO_TIMEOUT).unwrap(), "Headers");
    assert_eq!(rx.recv_timeout(IO_TIMEOUT).unwrap(), "Error");
    assert!(!target.exists());
    client.read_to_end();
}

/// `Request::send_informational`: a `104` with its headers goes out on
/// the headers, before `100 Continue` and the final answer; an HTTP/1.0
/// client gets only the final answer.
#[test]
fn interim_responses_precede_continue_and_the_answer_and_skip_http10() {
    let server = serve_events(event_config(), |event| match event {
        Event::Headers(req) => {
            req.send_informational(104, &[("Location", "/up/1"), ("Upload-Offset", "0")])
                .unwrap();
            assert!(matches!(
                req.send_informational(200, &[]),
                Err(Error::InvalidStatus(200))
            ));
            assert!(matches!(
                req.send_informational(104, &[("Bad\nName", "x")]),
                Err(Error::InvalidHeader(_))
            ));
            req.accept_body().unwrap();
        }
        // The HTTP/1.0 request, head and body in one write.
        Event::Request(req) => {
            req.send_informational(104, &[("Location", "/up/2")])
                .unwrap();
            req.respond(201, req.data().to_vec()).unwrap();
        }
        Event::Complete(req) => {
            req.respond(201, req.data().to_vec()).unwrap();
            assert!(matches!(
                req.send_informational(104, &[]),
                Err(Error::AlreadyResponded)
            ));
        }
        other => panic!("unexpected {other:?}"),
    });
    let mut client = server.connect();
    client.send("PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    client.expect_bytes(
        b"HTTP/1.1 104 Upload Resumption Supported\r\nLocation: /up/1\r\nUpload-Offset: 0\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n",
    );
    client.send("ok");
    let response = client.read_response();
    assert_eq!(
        (response.status, response.body.as_slice()),
        (201, &b"ok"[..])
    );

    let mut old = server.connect();
    old.send("PUT /up HTTP/1.0\r\nContent-Length: 2\r\n\r\nok");
    let response = old.read_response();
    assert_eq!(response.status, 201);
    assert!(
        response.raw.starts_with(b"HTTP/1.1 201"),
        "{}",
        response.text()
    );
}
