//! The certificate being served, as the health check and the start-up
//! summary report it: subject and expiry of the leaf. Set at start-up
//! and after every successful reload (`tls_reload.rs`).

use std::path::Path;
use std::sync::{PoisonError, RwLock};

use uhttp::tls;

use crate::x509::{self, Summary};

/// The served leaf's summary, shared between the reload thread and the
/// workers; `None` when it could not be read (the log says why).
#[derive(Debug, Default)]
pub struct ServedCert {
    summary: RwLock<Option<Summary>>,
}

impl ServedCert {
    /// The summary of the first certificate of the PEM chain at `path`.
    pub fn read(path: &Path) -> Result<Summary, String> {
        let chain = tls::load_certs(path).map_err(|e| e.to_string())?;
        let leaf = chain.first().ok_or("no certificate in the file")?;
        x509::summarize(leaf).map_err(|e| format!("cannot read it: {e}"))
    }

    /// Records what is served now.
    pub fn set(&self, summary: Option<Summary>) {
        *self.summary.write().unwrap_or_else(PoisonError::into_inner) = summary;
    }

    /// What is served now.
    pub fn get(&self) -> Option<Summary> {
        // A poisoned lock still holds a whole value (one assignment).
        self.summary
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
