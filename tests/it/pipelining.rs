//! Pipelined requests get their responses in request order.

use std::time::Duration;

use uhttp::Config;

use crate::util::serve;

#[test]
fn answers_three_pipelined_requests_in_order() {
    let server = serve(Config::default(), |req| {
        req.respond(200, req.path().to_owned()).unwrap()
    });
    let mut client = server.connect();
    client.send(
        "GET /1 HTTP/1.1\r\nHost: t\r\n\r\n\
         GET /2 HTTP/1.1\r\nHost: t\r\n\r\n\
         GET /3 HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    for i in 1..=3 {
        assert_eq!(client.read_response().text(), format!("/{i}"));
    }
}

#[test]
fn keeps_order_when_earlier_requests_are_answered_later() {
    // The first request takes longest; each is answered from a worker.
    let server = serve(Config::default(), |req| {
        let delay = match req.path() {
            "/1" => 150,
            "/2" => 75,
            _ => 0,
        };
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(delay));
            req.respond(200, req.path().to_owned()).unwrap();
        });
    });
    let mut client = server.connect();
    client.send(
        "GET /1 HTTP/1.1\r\nHost: t\r\n\r\n\
         POST /2 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello\
         GET /3 HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    for i in 1..=3 {
        assert_eq!(client.read_response().text(), format!("/{i}"));
    }
}

#[test]
fn pipelined_chunked_bodies_and_a_final_close() {
    let server = serve(Config::default(), |req| {
        req.respond(200, req.data().to_vec()).unwrap()
    });
    let mut client = server.connect();
    client.send(
        "POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
         3\r\nabc\r\n0\r\n\r\n\
         POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nde\
         GET /c HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n\
         GET /never HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(client.read_response().body, b"abc");
    assert_eq!(client.read_response().body, b"de");
    let last = client.read_response();
    assert!(last.body.is_empty());
    assert!(last.closes());
    // The request after `Connection: close` is not answered.
    client.expect_closed();
}

#[test]
fn answers_a_pipelined_request_split_across_writes() {
    let server = serve(Config::default(), |req| {
        req.respond(200, req.path().to_owned()).unwrap()
    });
    let mut client = server.connect();
    client.send("GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HT");
    assert_eq!(client.read_response().text(), "/1");
    client.send("TP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(client.read_response().text(), "/2");
}

#[test]
fn answers_every_pipelined_request_of_a_client_that_half_closes() {
    // The loop is held in the handler of `/hold` while the client sends
    // its requests and its FIN, so the server reads both together: it knows
    // the client is done before it answers. (A FIN arriving after the
    // requests were read is only seen after they are answered.)
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (holding, is_holding) = std::sync::mpsc::channel::<()>();
    let held = std::sync::Mutex::new((holding, held));
    let server = serve(Config::default(), move |req| {
        if req.path() == "/hold" {
            let held = held.lock().unwrap();
            held.0.send(()).unwrap();
            held.1.recv().unwrap();
        }
        req.respond(200, req.path().to_owned()).unwrap()
    });
    let mut holder = server.connect();
    holder.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
    let mut client = server.connect();
    is_holding.recv_timeout(Duration::from_secs(20)).unwrap();
    client.send(
        "GET /1 HTTP/1.1\r\nHost: t\r\n\r\n\
         GET /2 HTTP/1.1\r\nHost: t\r\n\r\n\
         GET /3 HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    client.stream.shutdown(std::net::Shutdown::Write).unwrap();
    release.send(()).unwrap();
    assert_eq!(holder.read_response().text(), "/hold");
    for i in 1..=3 {
        let resp = client.read_response();
        assert_eq!(resp.text(), format!("/{i}"));
        assert_eq!(resp.closes(), i == 3, "only the last answer closes");
    }
    client.expect_closed();
}

#[test]
fn answers_to_requests_that_arrive_together_are_written_together() {
    // While the loop's thread is at /2, the answer to /1 is still held
    // back (it goes out with the next ones); nothing reaches the client
    // until the application is done with what arrived.
    let (at_two, wait_two) = std::sync::mpsc::channel::<()>();
    let (go, gate) = std::sync::mpsc::channel::<()>();
    let server = serve(Config::default(), move |req| {
        if req.path() == "/2" {
            at_two.send(()).unwrap();
            gate.recv_timeout(Duration::from_secs(10)).unwrap();
        }
        req.respond(200, req.path().to_owned()).unwrap()
    });
    let mut client = server.connect();
    let requests: String = (1..=16)
        .map(|i| format!("GET /{i} HTTP/1.1\r\nHost: t\r\n\r\n"))
        .collect();
    client.send(requests);
    wait_two.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(client.is_silent_for(Duration::from_millis(200)));
    go.send(()).unwrap();
    for i in 1..=16 {
        assert_eq!(client.read_response().text(), format!("/{i}"));
    }
}

#[test]
fn an_answer_held_for_the_next_pipelined_one_goes_out_while_that_one_waits() {
    // /2 is answered only once the client has /1: held answers are
    // written before the loop waits.
    let (tx, rx) = std::sync::mpsc::channel::<uhttp::Request>();
    let server = serve(Config::default(), move |req| {
        if req.path() == "/2" {
            tx.send(req).unwrap();
        } else {
            req.respond(200, req.path().to_owned()).unwrap();
        }
    });
    let mut client = server.connect();
    client.send(
        "GET /1 HTTP/1.1\r\nHost: t\r\n\r\n\
         GET /2 HTTP/1.1\r\nHost: t\r\n\r\n\
         GET /3 HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(client.read_response().text(), "/1");
    let second = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    second.respond(200, "/2").unwrap();
    assert_eq!(client.read_response().text(), "/2");
    assert_eq!(client.read_response().text(), "/3");
}
