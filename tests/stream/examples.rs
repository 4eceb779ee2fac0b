//! The example programs, run.
