//! `uhttpd/src/static_files/`: the modules that parse request data.

#[path = "../../uhttpd/src/static_files/conditional.rs"]
pub mod conditional;
#[path = "../../uhttpd/src/static_files/encoding.rs"]
pub mod encoding;
#[path = "../../uhttpd/src/static_files/fallback.rs"]
pub mod fallback;
#[path = "../../uhttpd/src/static_files/range.rs"]
pub mod range;
#[path = "../../uhttpd/src/static_files/resolve.rs"]
pub mod resolve;
