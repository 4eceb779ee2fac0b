//! TLS: PEM loading and the run-time swappable server configuration.
//! (placeholder until the loading module lands)

use std::sync::{Arc, RwLock};

/// A shared, run-time swappable rustls server configuration.
#[derive(Clone)]
pub struct TlsConfig {
    current: Arc<RwLock<Arc<rustls::ServerConfig>>>,
}

impl TlsConfig {
    /// The configuration new connections get.
    pub fn current(&self) -> Arc<rustls::ServerConfig> {
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }
}
