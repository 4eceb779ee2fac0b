//! Streaming responses and WebSocket sessions through the public API, with
//! real peers: raw sockets, curl, tungstenite, and the example programs.

mod backpressure;
mod chunked;
mod disconnect;
mod examples;
mod multipart;
mod ndjson;
mod sse;
mod util;
mod websocket;
