//! Static files under ROOT: resolve, conditional, range, listing.
//!
//! Each step is a pure function (or reads only the file system) so the
//! request pipeline can call them in order: [`resolve`] a path, answer
//! [`conditional`] requests, select a [`range`], or render a [`listing`]
//! (as a [`page`], or the results of a [`search`]);
//! [`freshness`] says which `Cache-Control` each answer carries,
//! [`content_type`] which `Content-Type`; [`fallback`] names what a
//! directory or a missing path falls back to; [`encoding`] negotiates a
//! content coding (precompressed siblings, or [`compress`] on worker
//! threads).

pub mod cache;
pub mod compress;
pub mod conditional;
pub mod content_type;
pub mod encoding;
pub mod fallback;
pub mod freshness;
pub mod listing;
pub mod page;
pub mod range;
pub mod resolve;
pub mod search;
mod serve;

pub use serve::{StaticOptions, search, serve, wants_search};
