//! A built image as the publishers see it: the OCI layout `out/<name>/` and the docker-archive
//! `out/<name>.tar` written by `forge build`, read through the standard OCI layout format only
//! (index.json -> manifest -> config + layers), with the manifest bytes hash-checked so the
//! digest every destination reports is the one the build recorded.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::PublishError;

pub use crate::oci::sha256_digest;
pub use crate::oci::MANIFEST_MEDIA_TYPE as OCI_MANIFEST;
use crate::oci::layout::REF_NAME;

/// One blob of the image (config or layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

/// A built image on disk.
#[derive(Debug, Clone)]
pub struct ImageRef {
    /// Recipe name.
    pub name: String,
    /// `out/<name>/`, the OCI image layout.
    pub layout_dir: PathBuf,
    /// `out/<name>.tar`, the docker-archive.
    pub archive: PathBuf,
    /// `sha256:...` of the manifest bytes.
    pub manifest_digest: String,
    /// Manifest media type (OCI image manifest).
    pub manifest_media_type: String,
    /// The manifest exactly as built; pushed byte-for-byte so its digest survives.
    pub manifest_bytes: Vec<u8>,
    /// The config blob; its digest is the image ID Docker reports.
    pub config: BlobRef,
    /// Layers, bottom-up.
    pub layers: Vec<BlobRef>,
    /// Artifacts in the layout whose subject is this image (the attached SBOM).
    pub referrers: Vec<Referrer>,
}

#[derive(Deserialize)]
struct Index {
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: String,
    #[serde(default)]
    artifact_type: Option<String>,
    digest: String,
    size: u64,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Manifest {
    config: Descriptor,
    layers: Vec<Descriptor>,
    #[serde(default)]
    subject: Option<Descriptor>,
}

/// An artifact in the layout that refers to the image (`subject` = the image), e.g. the SBOM
/// `forge sbom` attaches; pushed beside the image as a referrer.
#[derive(Debug, Clone)]
pub struct Referrer {
    pub artifact_type: String,
    pub manifest_digest: String,
    pub manifest_bytes: Vec<u8>,
    /// Config and layers of the artifact, all in the layout's blobs/.
    pub blobs: Vec<BlobRef>,
}

impl From<Descriptor> for BlobRef {
    fn from(d: Descriptor) -> Self {
        BlobRef { media_type: d.media_type, digest: d.digest, size: d.size }
    }
}

impl ImageRef {
    /// Opens the build output of `name` under `out_dir` (the project's `out/`).
    pub fn open(out_dir: &Path, name: &str) -> Result<ImageRef, PublishError> {
        let layout_dir = out_dir.join(name);
        let bad = |path: &Path, reason: String| PublishError::BuildOutput {
            name: name.to_string(),
            path: path.to_path_buf(),
            reason,
        };
        let index_path = layout_dir.join("index.json");
        let index_text = fs::read(&index_path)
            .map_err(|e| bad(&index_path, format!("cannot read the OCI layout index: {e}")))?;
        let index: Index = serde_json::from_slice(&index_text)
            .map_err(|e| bad(&index_path, format!("not an OCI image index: {e}")))?;
        let (artifacts, images): (Vec<Descriptor>, Vec<Descriptor>) =
            index.manifests.into_iter().partition(|m| m.artifact_type.is_some());
        let entry = pick_manifest(images, name).map_err(|reason| bad(&index_path, reason))?;
        if entry.media_type != OCI_MANIFEST {
            return Err(bad(&index_path, format!("manifest media type {} is not {OCI_MANIFEST}", entry.media_type)));
        }
        let manifest_path = blob_path(&layout_dir, &entry.digest).map_err(|r| bad(&index_path, r))?;
        let manifest_bytes = fs::read(&manifest_path)
            .map_err(|e| bad(&manifest_path, format!("cannot read the manifest blob: {e}")))?;
        let actual = sha256_digest(&manifest_bytes);
        if actual != entry.digest {
            return Err(bad(&manifest_path, format!("content hashes to {actual}, index.json says {}", entry.digest)));
        }
        let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| bad(&manifest_path, format!("not an OCI image manifest: {e}")))?;
        let image = ImageRef {
            name: name.to_string(),
            archive: out_dir.join(format!("{name}.tar")),
            manifest_digest: entry.digest,
            manifest_media_type: entry.media_type,
            manifest_bytes,
            config: manifest.config.into(),
            layers: manifest.layers.into_iter().map(BlobRef::from).collect(),
            referrers: Vec::new(),
            layout_dir,
        };
        let mut image = image;
        for artifact in artifacts {
            let path = image.blob_path(&artifact.digest)?;
            let bytes = fs::read(&path).map_err(|e| bad(&path, format!("cannot read the artifact manifest listed in index.json: {e}")))?;
            if sha256_digest(&bytes) != artifact.digest {
                return Err(bad(&path, format!("content does not hash to {}", artifact.digest)));
            }
            let parsed: Manifest = serde_json::from_slice(&bytes).map_err(|e| bad(&path, format!("not an OCI artifact manifest: {e}")))?;
            if parsed.subject.as_ref().map(|s| s.digest.as_str()) != Some(image.manifest_digest.as_str()) {
                // An artifact of another (older) build of this image: not ours to push.
                continue;
            }
            image.referrers.push(Referrer {
                artifact_type: artifact.artifact_type.unwrap_or_default(),
                manifest_digest: artifact.digest,
                manifest_bytes: bytes,
                blobs: std::iter::once(parsed.config).chain(parsed.layers).map(BlobRef::from).collect(),
            });
        }
        for blob in image.blobs().chain(image.referrers.iter().flat_map(|r| r.blobs.iter())) {
            let path = image.blob_path(&blob.digest)?;
            let len = fs::metadata(&path)
                .map_err(|e| bad(&path, format!("blob listed in the manifest is missing: {e}")))?
                .len();
            if len != blob.size {
                return Err(bad(&path, format!("blob is {len} bytes, the manifest says {}", blob.size)));
            }
        }
        Ok(image)
    }

    /// Config then layers: every blob a registry or content store needs besides the manifest.
    pub fn blobs(&self) -> impl Iterator<Item = &BlobRef> {
        std::iter::once(&self.config).chain(self.layers.iter())
    }

    /// Path of a blob inside the layout.
    pub fn blob_path(&self, digest: &str) -> Result<PathBuf, PublishError> {
        blob_path(&self.layout_dir, digest).map_err(|reason| PublishError::BuildOutput {
            name: self.name.clone(),
            path: self.layout_dir.clone(),
            reason,
        })
    }

    /// The tag the docker-archive carries: `forge.local/<name>:<first 12 hex of the manifest digest>`.
    pub fn local_tag(&self) -> String {
        format!("forge.local/{}:{}", self.name, self.short_digest())
    }

    /// First 12 hex characters of the manifest digest: a human label, never an identity.
    pub fn short_digest(&self) -> &str {
        let hex = self.manifest_digest.trim_start_matches("sha256:");
        &hex[..hex.len().min(12)]
    }

    /// Sum of the blob sizes plus the manifest: what a full transfer of the layout moves.
    pub fn total_size(&self) -> u64 {
        self.blobs().map(|b| b.size).sum::<u64>() + self.manifest_bytes.len() as u64
    }
}

/// The manifest of `name`: the entry annotated with that ref name, else the only entry.
fn pick_manifest(manifests: Vec<Descriptor>, name: &str) -> Result<Descriptor, String> {
    let count = manifests.len();
    let mut only = None;
    for m in manifests {
        if m.annotations.get(REF_NAME).map(String::as_str) == Some(name) {
            return Ok(m);
        }
        only = Some(m);
    }
    match (count, only) {
        (1, Some(m)) => Ok(m),
        (0, _) => Err("index.json lists no manifest".to_string()),
        _ => Err(format!("index.json lists {count} manifests and none is annotated {REF_NAME}={name}")),
    }
}

/// `blobs/sha256/<hex>` under `layout`, refusing digests that are not plain sha256 hex (a
/// hostile index must not point outside the layout).
fn blob_path(layout: &Path, digest: &str) -> Result<PathBuf, String> {
    let hex = digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .ok_or_else(|| format!("digest {digest:?} is not sha256:<64 lowercase hex>"))?;
    Ok(layout.join("blobs").join("sha256").join(hex))
}

/// `sha256:<hex>` of a file's content, streamed.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_path_refuses_traversal_in_a_hostile_digest() {
        let err = blob_path(Path::new("/out/x"), "sha256:../../../etc/passwd").unwrap_err();
        assert!(err.contains("not sha256:<64 lowercase hex>"), "{err}");
        assert!(blob_path(Path::new("/out/x"), "sha512:abcd").is_err());
        let ok = blob_path(Path::new("/out/x"), &format!("sha256:{}", "a".repeat(64))).unwrap();
        assert_eq!(ok, Path::new("/out/x/blobs/sha256").join("a".repeat(64)));
    }

    #[test]
    fn missing_layout_names_the_file_and_the_next_step() {
        let dir = tempfile::tempdir().unwrap();
        let err = ImageRef::open(dir.path(), "backend").unwrap_err().to_string();
        assert!(err.contains("backend/index.json"), "{err}");
        assert!(err.contains("run `forge build backend`"), "{err}");
    }
}
