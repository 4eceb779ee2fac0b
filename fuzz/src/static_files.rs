//! `src/bin/uhttpd/static_files/`: the modules that parse request data.

#[path = "../../src/bin/uhttpd/static_files/conditional.rs"]
pub mod conditional;
#[path = "../../src/bin/uhttpd/static_files/encoding.rs"]
pub mod encoding;
#[path = "../../src/bin/uhttpd/static_files/fallback.rs"]
pub mod fallback;
#[path = "../../src/bin/uhttpd/static_files/range.rs"]
pub mod range;
#[path = "../../src/bin/uhttpd/static_files/resolve.rs"]
pub mod resolve;
