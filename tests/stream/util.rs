//! What the streaming tests use: the shared harness (`tests/common/`) and
//! a server that hands each request's stream to the test.

use std::sync::mpsc;

use uhttp::{Config, Event, Request};

pub use crate::common::IO_TIMEOUT;
pub use crate::common::client::Client;
pub use crate::common::library::{TestServer, serve_events};
pub use crate::common::require;

/// A server whose handler starts a stream (or anything) for every request
/// with `start` and hands it to the test.
pub fn serve_streams<T, F>(config: Config, start: F) -> (TestServer, mpsc::Receiver<T>)
where
    T: Send + 'static,
    F: Fn(Request) -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let server = serve_events(config, move |event| {
        if let Event::Request(req) = event {
            let _ = tx.send(start(req));
        }
    });
    (server, rx)
}
