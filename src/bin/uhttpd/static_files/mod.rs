//! Static files under ROOT: resolve, conditional, range, listing.
//!
//! Each step is a pure function (or reads only the file system) so the
//! request pipeline can call them in order: [`resolve`] a path, answer
//! [`conditional`] requests, select a [`range`], or render a [`listing`];
//! [`freshness`] says which `Cache-Control` each answer carries;
//! [`encoding`] negotiates a content coding (precompressed siblings, or
//! [`compress`] on worker threads).

pub mod cache;
pub mod compress;
pub mod conditional;
pub mod encoding;
pub mod freshness;
pub mod listing;
pub mod range;
pub mod resolve;
mod serve;

pub use serve::{StaticOptions, serve};
