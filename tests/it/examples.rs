//! The examples, built and run for one request each.
