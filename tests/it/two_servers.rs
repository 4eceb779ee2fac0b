//! Several servers with their own configs in one loop on one thread.

use uhttp::{Config, EventLoop};

use crate::util::{Client, serve_loop};

#[test]
fn serves_two_listeners_from_one_loop_each_with_its_config() {
    let mut event_loop = EventLoop::new().unwrap();
    let any = ["127.0.0.1:0".parse().unwrap()];
    let site = event_loop.add_server(&any, Config::default()).unwrap();
    let mut small = Config::default();
    small.max_headers_length = 200;
    let admin = event_loop.add_server(&any, small).unwrap();
    assert_ne!(site, admin);
    assert_eq!(site.index(), 0);
    assert_eq!(admin.index(), 1);
    let server = serve_loop(event_loop, &[site, admin], move |id, event| {
        let req = event.into_request();
        let name = if id == site { "site" } else { "admin" };
        assert_eq!(req.server(), id);
        req.respond(200, name).unwrap();
    });
    let site_addr = server.addrs_of(0)[0];
    let admin_addr = server.addrs_of(1)[0];
    assert_ne!(site_addr.port(), admin_addr.port());

    // Both at once, with keep-alive connections interleaved.
    let mut a = Client::connect(site_addr);
    let mut b = Client::connect(admin_addr);
    for _ in 0..3 {
        assert_eq!(a.get("/").text(), "site");
        assert_eq!(b.get("/").text(), "admin");
    }

    // Each server keeps its own limits: a 300-byte head passes on the
    // site and is refused on the admin listener.
    let big = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(260)
    );
    assert_eq!(a.send(&big).read_response().status, 200);
    assert_eq!(b.send(&big).read_response().status, 431);
}
