//! Two listeners in one loop on one thread, each answering with its name:
//! the uHTTP Server `read_sockets`/`write_sockets` use case (e.g. an
//! HTTP redirector beside the main site).
//!
//! ```text
//! cargo run --example two_servers -- 8080        # site on 8080, admin on 8081
//! curl localhost:8080/ ; curl localhost:8081/
//! ```

use std::net::SocketAddr;

use uhttp::{Config, Event, EventLoop};

fn main() -> Result<(), uhttp::Error> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    // Port 0 picks a free port for each; otherwise PORT and PORT + 1.
    let second = if port == 0 { 0 } else { port.wrapping_add(1) };
    let mut event_loop = EventLoop::new()?;
    let site = event_loop.add_server(
        &[SocketAddr::from(([127, 0, 0, 1], port))],
        Config::default(),
    )?;
    let mut admin_config = Config::default();
    admin_config.max_waiting_clients = 16;
    let admin =
        event_loop.add_server(&[SocketAddr::from(([127, 0, 0, 1], second))], admin_config)?;
    println!(
        "site listening on http://{}",
        event_loop.local_addrs(site)[0]
    );
    println!(
        "admin listening on http://{}",
        event_loop.local_addrs(admin)[0]
    );
    loop {
        let Some(Event::Request(req)) = event_loop.wait(None)? else {
            continue;
        };
        let name = if req.server() == site {
            "site"
        } else {
            "admin"
        };
        if let Err(e) = req.respond(200, format!("{name}\n")) {
            eprintln!("cannot answer: {e}");
        }
    }
}
