//! OCI image layout destination (`--to oci:DIR`): copies the image into another layout, e.g.
//! a shared directory several builds collect into. Blobs the target already has are not
//! copied; index.json names the image by its recipe name and is replaced atomically.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::image::sha256_file;
use super::{ImageRef, PublishError, Published, Publisher};

use crate::oci::layout::REF_NAME;

/// Copies images into the OCI layout at `dir` (created when missing).
#[derive(Debug, Clone)]
pub struct OciLayoutPublisher {
    pub dir: PathBuf,
}

impl OciLayoutPublisher {
    fn copy_blob(&self, source: &Path, digest: &str) -> Result<u64, PublishError> {
        let hex = digest.trim_start_matches("sha256:");
        let blobs = self.dir.join("blobs").join("sha256");
        let target = blobs.join(hex);
        // A blob is its digest: an existing file with the right hash needs no copy.
        if target.exists() && sha256_file(&target).map_err(|e| PublishError::io(&target, e))? == digest {
            return Ok(0);
        }
        fs::create_dir_all(&blobs).map_err(|e| PublishError::io(&blobs, e))?;
        let temp = blobs.join(format!(".{hex}.partial"));
        let copied = fs::copy(source, &temp).map_err(|e| PublishError::io(source, e))?;
        fs::rename(&temp, &target).map_err(|e| PublishError::io(&target, e))?;
        Ok(copied)
    }

    fn update_index(&self, image: &ImageRef) -> Result<(), PublishError> {
        let path = self.dir.join("index.json");
        let mut index: Value = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| PublishError::Unexpected {
                destination: self.destination(),
                reason: format!("{} is not an OCI image index ({e}); move it away or choose another directory", path.display()),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []})
            }
            Err(e) => return Err(PublishError::io(&path, e)),
        };
        let manifests = index["manifests"].as_array_mut().ok_or_else(|| PublishError::Unexpected {
            destination: self.destination(),
            reason: format!("{} has no manifests array", path.display()),
        })?;
        manifests.retain(|m| m["annotations"][REF_NAME].as_str() != Some(image.name.as_str()));
        manifests.push(json!({
            "mediaType": image.manifest_media_type,
            "digest": image.manifest_digest,
            "size": image.manifest_bytes.len(),
            "annotations": { REF_NAME: image.name },
        }));
        let layout = self.dir.join("oci-layout");
        fs::write(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(|e| PublishError::io(&layout, e))?;
        let bytes = serde_json::to_vec_pretty(&index).expect("a serde_json::Value always serialises");
        crate::atomic::write(&path, &bytes).map_err(|e| PublishError::io(&path, e))
    }

    fn indexed_digest(&self, name: &str) -> Option<String> {
        let index: Value = serde_json::from_slice(&fs::read(self.dir.join("index.json")).ok()?).ok()?;
        index["manifests"]
            .as_array()?
            .iter()
            .find(|m| m["annotations"][REF_NAME].as_str() == Some(name))
            .and_then(|m| m["digest"].as_str().map(str::to_string))
    }
}

impl Publisher for OciLayoutPublisher {
    fn destination(&self) -> String {
        format!("oci layout {}", self.dir.display())
    }

    fn publish(&self, image: &ImageRef) -> Result<Published, PublishError> {
        let mut bytes_moved = 0;
        for blob in image.blobs() {
            bytes_moved += self.copy_blob(&image.blob_path(&blob.digest)?, &blob.digest)?;
        }
        bytes_moved += self.copy_blob(&image.blob_path(&image.manifest_digest)?, &image.manifest_digest)?;
        let already_present = bytes_moved == 0 && self.indexed_digest(&image.name).as_deref() == Some(&image.manifest_digest);
        if !already_present {
            self.update_index(image)?;
        }
        Ok(Published {
            image: image.name.clone(),
            destination: self.destination(),
            reference: format!("{}:{}", self.dir.display(), image.name),
            digest: image.manifest_digest.clone(),
            bytes_moved,
            already_present,
        })
    }
}
