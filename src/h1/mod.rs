//! Sans-IO HTTP/1.1: head parsing, body decoding, response encoding, stream framing.
pub mod stream;
