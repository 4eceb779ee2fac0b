//! `src/bin/uhttpd/archive/`: the layout only (the walk and the producer
//! touch the disk).

#[path = "../../src/bin/uhttpd/archive/layout.rs"]
pub mod layout;
