//! Stored files (photos, generated documents): content-addressed by SHA-256 under the data
//! directory, so the same photo uploaded twice is kept once and a name never lies about
//! its content.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("file store: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a content address: {0}")]
    BadAddress(String),
}

impl From<FileError> for crate::error::AppError {
    fn from(e: FileError) -> Self {
        crate::error::AppError::Internal(e.to_string())
    }
}

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    pub fn new(data_dir: &Path) -> BlobStore {
        BlobStore { root: data_dir.join("blobs") }
    }

    fn path(&self, sha256: &str) -> Result<PathBuf, FileError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(FileError::BadAddress(sha256.to_string()));
        }
        Ok(self.root.join(&sha256[..2]).join(sha256))
    }

    /// Stores bytes and returns their SHA-256 (hex). Written to a temporary name and renamed,
    /// so a crash never leaves a half-written blob under a real address.
    pub fn put(&self, bytes: &[u8]) -> Result<String, FileError> {
        let sha = hex::encode(Sha256::digest(bytes));
        let path = self.path(&sha)?;
        if path.exists() {
            return Ok(sha);
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        Ok(sha)
    }

    pub fn get(&self, sha256: &str) -> Result<Vec<u8>, FileError> {
        Ok(std::fs::read(self.path(sha256)?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_same_address() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path());
        let a = store.put(b"photo").unwrap();
        let b = store.put(b"photo").unwrap();
        assert_eq!(a, b);
        assert_eq!(store.get(&a).unwrap(), b"photo");
        assert!(store.get("../../etc/passwd").is_err());
    }
}
