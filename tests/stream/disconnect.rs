//! A client that goes away mid-stream.
