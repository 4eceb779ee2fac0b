//! The `--acme-dir` directory: the account and the certificate, each file
//! written whole (a temporary file renamed over the old one) with mode
//! 0600, the directory itself 0700.
//!
//! ```text
//! account.json   {"directory": URL, "credentials": ...}  (the account key)
//! cert.pem       the chain, leaf first
//! key.pem        the certificate's private key (PKCS#8)
//! ```

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use instant_acme::AccountCredentials;
use serde::{Deserialize, Serialize};

/// The files of one `--acme-dir`.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// An account as stored: the directory it belongs to, and its key.
#[derive(Serialize, Deserialize)]
struct StoredAccount {
    directory: String,
    credentials: AccountCredentials,
}

impl Store {
    /// The store in `dir`, created (0700) if missing.
    pub fn open(dir: &Path) -> io::Result<Store> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        Ok(Store {
            dir: dir.to_owned(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn cert_path(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    pub fn key_path(&self) -> PathBuf {
        self.dir.join("key.pem")
    }

    /// The stored account of the CA at `directory`; `None` if there is
    /// none, it is unreadable, or it belongs to another CA.
    pub fn account(&self, directory: &str) -> Option<AccountCredentials> {
        let text = fs::read(self.dir.join("account.json")).ok()?;
        let stored: StoredAccount = serde_json::from_slice(&text).ok()?;
        (stored.directory == directory).then_some(stored.credentials)
    }

    /// Stores the account of the CA at `directory`.
    pub fn save_account(&self, directory: &str, credentials: AccountCredentials) -> io::Result<()> {
        let stored = StoredAccount {
            directory: directory.to_owned(),
            credentials,
        };
        let json = serde_json::to_vec_pretty(&stored).map_err(io::Error::other)?;
        self.write("account.json", &json)
    }

    /// Stores a certificate chain and its key: the key first, so that a
    /// crash in between leaves a mismatched pair, which start-up refuses
    /// (and orders anew), never an old key read as the new one's.
    pub fn save_certificate(&self, chain_pem: &str, key_pem: &str) -> io::Result<()> {
        self.write("key.pem", key_pem.as_bytes())?;
        self.write("cert.pem", chain_pem.as_bytes())
    }

    /// Writes `name` whole: a 0600 temporary file, synced, renamed over it.
    fn write(&self, name: &str, contents: &[u8]) -> io::Result<()> {
        let path = self.dir.join(name);
        let temp = self.dir.join(format!(".{name}.tmp"));
        // A temporary file left by a crash would make `create_new` fail.
        let _ = fs::remove_file(&temp);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&temp, &path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn files_are_private_and_replaced_whole() {
        let base = tempfile::tempdir().unwrap();
        let store = Store::open(&base.path().join("a/acme")).unwrap();
        assert_eq!(mode(store.dir()), 0o700);
        store.save_certificate("chain 1", "key 1").unwrap();
        store.save_certificate("chain 2", "key 2").unwrap();
        assert_eq!(fs::read_to_string(store.cert_path()).unwrap(), "chain 2");
        assert_eq!(fs::read_to_string(store.key_path()).unwrap(), "key 2");
        assert_eq!(mode(&store.cert_path()), 0o600);
        assert_eq!(mode(&store.key_path()), 0o600);
        let mut names: Vec<_> = fs::read_dir(store.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["cert.pem", "key.pem"]);
    }

    #[test]
    fn an_account_of_another_ca_or_garbage_is_not_used() {
        let base = tempfile::tempdir().unwrap();
        let store = Store::open(base.path()).unwrap();
        assert!(store.account("https://ca.example/dir").is_none());
        fs::write(base.path().join("account.json"), b"\xff\xc3 not json").unwrap();
        assert!(store.account("https://ca.example/dir").is_none());
    }
}
