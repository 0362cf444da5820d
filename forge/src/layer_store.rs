//! Cache of built layers, keyed by the digest of everything that determines a layer's bytes,
//! so an unchanged layer is never rebuilt: `<dir>/blobs/<digest hex>` holds the blob and
//! `<dir>/keys/<key>.json` its [`LayerBlob`]. Both are written atomically; a blob is verified
//! against its digest before it leaves the cache for `out/`.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::fsentry::Entry;
use crate::layer::{self, LayerBlob, LayerError};

/// The layer cache.
#[derive(Debug, Clone)]
pub struct LayerStore {
    dir: PathBuf,
}

/// Errors from the layer cache.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("layer cache {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("cached layer {} does not match its digest {digest} (corrupted or tampered)\n  hint: delete it and build again; forge rebuilds it", path.display())]
    Corrupt { path: PathBuf, digest: String },
    #[error(transparent)]
    Layer(#[from] LayerError),
}

impl LayerStore {
    /// Opens (creating) the store under `dir`.
    pub fn open(dir: &Path) -> Result<LayerStore, StoreError> {
        for sub in ["blobs", "keys"] {
            let path = dir.join(sub);
            fs::create_dir_all(&path).map_err(|source| StoreError::Io { path, source })?;
        }
        Ok(LayerStore {
            dir: dir.to_path_buf(),
        })
    }

    /// Directory holding blobs as `<digest hex>`.
    pub fn blob_dir(&self) -> PathBuf {
        self.dir.join("blobs")
    }

    /// The cached layer for `key`, if its blob is still present with the recorded size.
    pub fn get(&self, key: &str) -> Option<LayerBlob> {
        let bytes = fs::read(self.key_path(key)).ok()?;
        let blob: LayerBlob = serde_json::from_slice(&bytes).ok()?;
        let meta = fs::metadata(self.blob_dir().join(crate::oci::digest_hex(&blob.digest))).ok()?;
        (meta.len() == blob.size).then_some(blob)
    }

    /// Writes `entries` as a layer and records it under `key`.
    pub fn put(&self, key: &str, entries: Vec<Entry>, mtime: u64) -> Result<LayerBlob, StoreError> {
        let blob = layer::write_layer(entries, mtime, &self.blob_dir())?;
        let path = self.key_path(key);
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let tmp = tempfile::NamedTempFile::new_in(self.dir.join("keys")).map_err(io)?;
        fs::write(
            tmp.path(),
            serde_json::to_vec(&blob).expect("blob serialises"),
        )
        .map_err(io)?;
        tmp.persist(&path).map_err(|e| io(e.error))?;
        Ok(blob)
    }

    /// Re-hashes a cached blob; fails closed if it no longer matches its digest.
    pub fn verify(&self, blob: &LayerBlob) -> Result<(), StoreError> {
        let path = self.blob_dir().join(crate::oci::digest_hex(&blob.digest));
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let mut file = fs::File::open(&path).map_err(io)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        if format!("sha256:{}", hex::encode(hasher.finalize())) != blob.digest {
            return Err(StoreError::Corrupt {
                path,
                digest: blob.digest.clone(),
            });
        }
        Ok(())
    }

    fn key_path(&self, key: &str) -> PathBuf {
        self.dir.join("keys").join(format!("{key}.json"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsentry::EntryKind;

    #[test]
    fn put_then_get_and_tampered_blob_is_detected() {
        let d = tempfile::tempdir().unwrap();
        let store = LayerStore::open(d.path()).unwrap();
        assert!(store.get("k").is_none());
        let e = Entry {
            path: "a".into(),
            kind: EntryKind::File(b"x".to_vec()),
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        let blob = store.put("k", vec![e], 0).unwrap();
        assert_eq!(store.get("k"), Some(blob.clone()));
        store.verify(&blob).unwrap();
        let path = store.blob_dir().join(&blob.digest[7..]);
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, bytes).unwrap();
        let err = store.verify(&blob).unwrap_err().to_string();
        assert!(err.contains("does not match its digest"), "{err}");
    }
}
