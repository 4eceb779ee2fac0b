//! Listening on IPv4, IPv6 and dual-stack addresses.

use std::net::SocketAddr;

use uhttp::Config;

use crate::util::{Client, has_ipv6, serve_on};

fn echo_peer(event: uhttp::Event) {
    let req = event.into_request();
    req.respond(200, req.addr().ip().to_string()).unwrap();
}

fn get_via(addr: SocketAddr) -> String {
    let mut client = Client::connect(addr);
    let resp = client.get("/");
    assert_eq!(resp.status, 200);
    resp.text()
}

#[test]
fn serves_ipv4() {
    let server = serve_on(
        &["127.0.0.1:0".parse().unwrap()],
        Config::default(),
        echo_peer,
    );
    assert!(server.addr().is_ipv4());
    assert_eq!(get_via(server.addr()), "127.0.0.1");
}

#[test]
fn serves_ipv6_loopback() {
    if !has_ipv6() {
        eprintln!("skipped: no IPv6 on this host");
        return;
    }
    let server = serve_on(&["[::1]:0".parse().unwrap()], Config::default(), echo_peer);
    assert!(server.addr().is_ipv6());
    assert_eq!(get_via(server.addr()), "::1");
}

#[test]
fn serves_ipv4_and_ipv6_on_a_dual_stack_wildcard() {
    if !has_ipv6() {
        eprintln!("skipped: no IPv6 on this host");
        return;
    }
    let server = serve_on(&["[::]:0".parse().unwrap()], Config::default(), echo_peer);
    let port = server.addr().port();
    assert_eq!(
        get_via(SocketAddr::from(([0u16, 0, 0, 0, 0, 0, 0, 1], port))),
        "::1"
    );
    // An IPv4 client arrives as an IPv4-mapped IPv6 address.
    let v4 = get_via(SocketAddr::from(([127, 0, 0, 1], port)));
    assert!(
        v4 == "::ffff:127.0.0.1" || v4 == "127.0.0.1",
        "IPv4 peer on a dual-stack socket: {v4}"
    );
}
