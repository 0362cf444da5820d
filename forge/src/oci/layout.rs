//! OCI image layout directory: `oci-layout`, `index.json`, `blobs/sha256/<hex>`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::types::{Descriptor, Index};
use super::{digest_hex, Image, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE};

/// Content of the `oci-layout` marker file.
pub const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
/// Annotation naming the image inside a layout.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Errors reading a layout.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("cannot read OCI layout {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{} is not a forge OCI layout with one image manifest: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
}

/// `index.json` for a layout holding just `image`, named `name`.
pub fn index_json(image: &Image, name: &str) -> Vec<u8> {
    let mut manifest = Descriptor::new(
        MANIFEST_MEDIA_TYPE,
        &image.manifest_digest,
        image.manifest.len() as u64,
    );
    manifest.annotations.insert(REF_NAME.into(), name.into());
    let index = Index {
        schema_version: 2,
        media_type: INDEX_MEDIA_TYPE.into(),
        manifests: vec![manifest],
    };
    serde_json::to_vec(&index).expect("index serialises")
}

/// Writes `image` as a layout into the (new, empty) directory `dir`. Layer blobs are hard-linked
/// from the blob store when it is on the same file system (they are immutable), else copied.
pub fn write(image: &Image, name: &str, dir: &Path) -> io::Result<()> {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs)?;
    fs::write(dir.join("oci-layout"), OCI_LAYOUT)?;
    fs::write(dir.join("index.json"), index_json(image, name))?;
    fs::write(
        blobs.join(digest_hex(&image.manifest_digest)),
        &image.manifest,
    )?;
    fs::write(blobs.join(digest_hex(&image.config_digest)), &image.config)?;
    for layer in &image.layers {
        let dest = blobs.join(digest_hex(&layer.digest));
        if dest.exists() {
            continue;
        }
        let src = image.layer_path(layer);
        if fs::hard_link(&src, &dest).is_err() {
            fs::copy(&src, &dest)?;
        }
    }
    Ok(())
}

/// Manifest digest of the single image in the layout at `dir`.
pub fn read_manifest_digest(dir: &Path) -> Result<String, LayoutError> {
    let path = dir.join("index.json");
    let bytes = fs::read(&path).map_err(|source| LayoutError::Io {
        path: path.clone(),
        source,
    })?;
    let index: Index = serde_json::from_slice(&bytes).map_err(|e| LayoutError::Invalid {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    match index.manifests.as_slice() {
        [m] if m.media_type == MANIFEST_MEDIA_TYPE => Ok(m.digest.clone()),
        _ => Err(LayoutError::Invalid {
            path,
            reason: "expected exactly one image manifest".into(),
        }),
    }
}
