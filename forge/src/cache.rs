//! The download cache: blobs (.deb files, Packages indexes) stored by their sha256 under
//! `blobs/sha256/<hex>`, plus the last verified `InRelease` of each suite so a warm cache can
//! work with the network off. Every write goes to a temp file in the cache and is renamed into
//! place, so a killed process never leaves a half-written blob under its final name, and every
//! read of a blob re-hashes it, so a blob modified on disk is never trusted.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Content-addressed cache rooted at one directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// What a verified blob lookup found.
#[derive(Debug)]
pub enum Lookup {
    Hit(PathBuf),
    Miss,
    /// A blob was stored under this hash but its content hashes to `actual` (or has the wrong
    /// size). It has already been removed from the cache.
    Corrupt {
        path: PathBuf,
        actual_sha256: String,
        actual_size: u64,
    },
}

/// A blob whose content is not what its caller expected.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache I/O on {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("content mismatch: expected sha256 {expected} ({expected_size} bytes), got sha256 {actual} ({actual_size} bytes)")]
    Mismatch {
        expected: String,
        expected_size: u64,
        actual: String,
        actual_size: u64,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CacheError + '_ {
    move |source| CacheError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// sha256 (lower-case hex) and length of a byte slice.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// sha256 (lower-case hex) and length of a file, streamed.
pub fn sha256_file(path: &Path) -> io::Result<(String, u64)> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

impl Cache {
    /// `FORGE_CACHE`, else `$XDG_CACHE_HOME/forge`, else `~/.cache/forge`.
    pub fn from_env() -> Cache {
        let non_empty = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let root = non_empty("FORGE_CACHE")
            .or_else(|| non_empty("XDG_CACHE_HOME").map(|p| p.join("forge")))
            .or_else(|| non_empty("HOME").map(|p| p.join(".cache").join("forge")))
            .unwrap_or_else(|| PathBuf::from(".forge-cache"));
        Cache { root }
    }

    /// A cache rooted at `root` (created on first write).
    pub fn at(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with this sha256 lives (whether or not it is present).
    pub fn blob_path(&self, sha256: &str) -> PathBuf {
        self.root.join("blobs").join("sha256").join(sha256)
    }

    /// Looks a blob up and verifies its hash and size. A corrupt blob is deleted so the next
    /// download can replace it.
    pub fn lookup(&self, sha256: &str, size: u64) -> Result<Lookup, CacheError> {
        let path = self.blob_path(sha256);
        let (actual_sha256, actual_size) = match sha256_file(&path) {
            Ok(found) => found,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Lookup::Miss),
            Err(e) => return Err(CacheError::Io { path, source: e }),
        };
        if actual_sha256 == sha256 && actual_size == size {
            return Ok(Lookup::Hit(path));
        }
        fs::remove_file(&path).map_err(io_err(&path))?;
        Ok(Lookup::Corrupt {
            path,
            actual_sha256,
            actual_size,
        })
    }

    /// Stores `data` as a blob after checking it against the expected hash and size.
    pub fn put_blob(&self, data: &[u8], sha256: &str, size: u64) -> Result<PathBuf, CacheError> {
        let actual = sha256_hex(data);
        if actual != sha256 || data.len() as u64 != size {
            return Err(CacheError::Mismatch {
                expected: sha256.to_string(),
                expected_size: size,
                actual,
                actual_size: data.len() as u64,
            });
        }
        let path = self.blob_path(sha256);
        self.write_atomic(&path, data)?;
        Ok(path)
    }

    /// Reads a small metadata file (e.g. a cached InRelease) relative to the cache root.
    pub fn read_meta(&self, rel: &Path) -> Result<Option<Vec<u8>>, CacheError> {
        let path = self.root.join(rel);
        match fs::read(&path) {
            Ok(data) => Ok(Some(data)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CacheError::Io { path, source: e }),
        }
    }

    /// Writes a metadata file relative to the cache root, atomically.
    pub fn write_meta(&self, rel: &Path, data: &[u8]) -> Result<(), CacheError> {
        self.write_atomic(&self.root.join(rel), data)
    }

    fn write_atomic(&self, path: &Path, data: &[u8]) -> Result<(), CacheError> {
        let dir = path.parent().expect("cache paths always have a parent");
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(dir)
            .map_err(io_err(dir))?;
        tmp.write_all(data).map_err(io_err(path))?;
        tmp.as_file().sync_all().map_err(io_err(path))?;
        tmp.persist(path).map_err(|e| CacheError::Io {
            path: path.to_path_buf(),
            source: e.error,
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_round_trip_and_are_verified_on_read() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path());
        let data = b"hello deb";
        let hash = sha256_hex(data);
        assert!(matches!(cache.lookup(&hash, 9).unwrap(), Lookup::Miss));
        let path = cache.put_blob(data, &hash, 9).unwrap();
        assert!(matches!(cache.lookup(&hash, 9).unwrap(), Lookup::Hit(p) if p == path));
    }

    #[test]
    fn tampered_blob_is_detected_and_evicted() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path());
        let hash = sha256_hex(b"original");
        let path = cache.put_blob(b"original", &hash, 8).unwrap();
        fs::write(&path, b"tampered").unwrap();
        match cache.lookup(&hash, 8).unwrap() {
            Lookup::Corrupt { actual_sha256, .. } => {
                assert_eq!(actual_sha256, sha256_hex(b"tampered"))
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        assert!(!path.exists(), "corrupt blob must be evicted");
    }

    #[test]
    fn put_refuses_content_that_does_not_match() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path());
        let err = cache
            .put_blob(b"evil", &sha256_hex(b"good"), 4)
            .unwrap_err();
        assert!(matches!(err, CacheError::Mismatch { .. }));
        assert!(!cache.blob_path(&sha256_hex(b"good")).exists());
    }
}
