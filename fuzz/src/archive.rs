//! `uhttpd/src/archive/`: the layout only (the walk and the producer
//! touch the disk).

#[path = "../../uhttpd/src/archive/layout.rs"]
pub mod layout;
