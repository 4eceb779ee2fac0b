//! The one lock helper of the handle layer.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, ignoring poisoning: the data behind our mutexes stays
/// consistent even if a thread panicked while holding one.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
