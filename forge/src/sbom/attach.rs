//! Attaches an SBOM to the image's OCI layout as an OCI 1.1 artifact whose `subject` is the
//! image, so registries and tools (`oras discover`, the referrers API) find it next to the image.
//!
//! The image's own index entry stays first and unchanged, so the image digest and every tool
//! that takes "the first manifest" still see the image; the artifact is listed after it.

use std::path::Path;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::image_fs::{self, blob_path, ImageFsError, IMAGE_MANIFEST};

/// The OCI empty descriptor's blob (`{}`), used as the config of artifacts.
const EMPTY_JSON: &[u8] = b"{}";
const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn write_blob(layout: &Path, bytes: &[u8]) -> std::io::Result<String> {
    let digest = digest_of(bytes);
    let path = blob_path(layout, &digest);
    if !path.exists() {
        std::fs::create_dir_all(path.parent().expect("blob dir"))?;
        super::write(&path, bytes)?;
    }
    Ok(digest)
}

/// Adds (or replaces) the SBOM artifact of image `name` in `layout`; returns the artifact
/// manifest digest. `created` is the SBOM timestamp (kept reproducible).
pub fn attach(layout: &Path, name: &str, sbom: &[u8], created: &str) -> Result<String, ImageFsError> {
    let io = |source| ImageFsError::Io { path: layout.to_path_buf(), source };
    let image = image_fs::find_image(layout, Some(name))?;
    let sbom_digest = write_blob(layout, sbom).map_err(io)?;
    write_blob(layout, EMPTY_JSON).map_err(io)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": IMAGE_MANIFEST,
        "artifactType": super::MEDIA_TYPE,
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": digest_of(EMPTY_JSON), "size": EMPTY_JSON.len(), "data": "e30="},
        "layers": [{"mediaType": super::MEDIA_TYPE, "digest": sbom_digest, "size": sbom.len(),
                    "annotations": {"org.opencontainers.image.title": format!("{name}.cdx.json")}}],
        "subject": {"mediaType": image.media_type, "digest": image.digest, "size": image.size},
        "annotations": {"org.opencontainers.image.created": created},
    });
    let manifest = serde_json::to_vec(&manifest).expect("manifest serialises");
    let manifest_digest = write_blob(layout, &manifest).map_err(io)?;

    let index_path = layout.join("index.json");
    let bytes = std::fs::read(&index_path).map_err(io)?;
    let mut index: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ImageFsError::Invalid { path: index_path.clone(), reason: e.to_string() })?;
    let manifests = index["manifests"].as_array_mut().ok_or_else(|| ImageFsError::Invalid {
        path: index_path.clone(),
        reason: "no manifests array".into(),
    })?;
    // Drop an earlier SBOM of this image (a rebuild re-attaches), keep everything else in order.
    manifests.retain(|m| {
        !(m["artifactType"] == super::MEDIA_TYPE && m["annotations"]["vnd.forge.subject"] == image.digest.as_str())
    });
    manifests.push(json!({
        "mediaType": IMAGE_MANIFEST,
        "artifactType": super::MEDIA_TYPE,
        "digest": manifest_digest,
        "size": manifest.len(),
        "annotations": {"vnd.forge.subject": image.digest, "org.opencontainers.image.title": format!("{name}.cdx.json")},
    }));
    let out = serde_json::to_vec(&index).expect("index serialises");
    super::write(&index_path, &out).map_err(io)?;
    Ok(manifest_digest)
}

/// The attached SBOM of the image in `layout`, if any (bytes, checked against their digest).
pub fn attached(layout: &Path, name: &str) -> Result<Option<Vec<u8>>, ImageFsError> {
    let image = image_fs::find_image(layout, Some(name))?;
    let index: Value = serde_json::from_slice(&std::fs::read(layout.join("index.json")).map_err(|source| ImageFsError::Io {
        path: layout.join("index.json"),
        source,
    })?)
    .unwrap_or(Value::Null);
    let Some(entry) = index["manifests"].as_array().into_iter().flatten().find(|m| {
        m["artifactType"] == super::MEDIA_TYPE && m["annotations"]["vnd.forge.subject"] == image.digest.as_str()
    }) else {
        return Ok(None);
    };
    let manifest: Value = serde_json::from_slice(&image_fs::read_blob(layout, entry["digest"].as_str().unwrap_or(""))?)
        .unwrap_or(Value::Null);
    if manifest["subject"]["digest"] != image.digest.as_str() {
        return Ok(None);
    }
    let layer = manifest["layers"][0]["digest"].as_str().unwrap_or("");
    Ok(Some(image_fs::read_blob(layout, layer)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image_fs::fixture::*;
    use crate::image_fs::ImageFs;

    #[test]
    fn attach_keeps_the_image_first_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let digest = layout(dir.path(), "t", serde_json::json!({}), &[vec![file("a", 0o644, b"x")]]);
        let first = attach(dir.path(), "t", b"{\"sbom\":1}", "2026-01-01T00:00:00Z").unwrap();
        let again = attach(dir.path(), "t", b"{\"sbom\":1}", "2026-01-01T00:00:00Z").unwrap();
        assert_eq!(first, again);
        let index: Value = serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
        let m = index["manifests"].as_array().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0]["digest"], digest.as_str());
        assert_eq!(ImageFs::load(dir.path(), Some("t"), &|_| false).unwrap().digest, digest);
        assert_eq!(attached(dir.path(), "t").unwrap().unwrap(), b"{\"sbom\":1}");
        let artifact: Value = serde_json::from_slice(&image_fs::read_blob(dir.path(), &first).unwrap()).unwrap();
        assert_eq!(artifact["subject"]["digest"], digest.as_str());
    }
}
