//! Streaming responses and WebSocket sessions through the public API, with
//! real peers: raw sockets, curl, tungstenite, and the example programs.

mod backpressure;
mod chunked;
// The harness shared by the four test binaries; each uses a different part
// of it, and the rest would be reported as dead code in this one.
#[allow(dead_code)]
#[path = "../common/mod.rs"]
mod common;
mod disconnect;
mod example_resets;
mod examples;
mod multipart;
mod ndjson;
mod sized;
mod sse;
mod util;
mod websocket;
