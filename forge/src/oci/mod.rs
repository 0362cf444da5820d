//! OCI image model and its two on-disk forms: an OCI image layout directory and a
//! docker-archive tar (which forge also makes a valid OCI layout, as Docker >= 25 does).

pub mod docker_archive;
pub mod layout;
pub mod types;

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::layer::LayerBlob;
use types::{Descriptor, ImageConfig, Manifest};

/// Media type of an OCI image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of an OCI image config.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// Media type of an OCI image index.
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Hex part of a `sha256:` digest.
pub fn digest_hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// A complete image: serialised manifest and config, plus its layer blobs on disk.
#[derive(Debug, Clone)]
pub struct Image {
    pub manifest: Vec<u8>,
    pub manifest_digest: String,
    pub config: Vec<u8>,
    pub config_digest: String,
    pub layers: Vec<LayerBlob>,
    /// Directory holding each layer blob as `<digest hex>`.
    pub blob_dir: PathBuf,
}

impl Image {
    /// Serialises `config` and a manifest over `layers` (bottom first) into an image.
    pub fn assemble(config: &ImageConfig, layers: Vec<LayerBlob>, blob_dir: PathBuf) -> Image {
        let config = serde_json::to_vec(config).expect("image config serialises");
        let config_digest = sha256_digest(&config);
        let manifest = Manifest {
            schema_version: 2,
            media_type: MANIFEST_MEDIA_TYPE.into(),
            config: Descriptor::new(CONFIG_MEDIA_TYPE, &config_digest, config.len() as u64),
            layers: layers
                .iter()
                .map(|l| Descriptor::new(crate::layer::MEDIA_TYPE, &l.digest, l.size))
                .collect(),
        };
        let manifest = serde_json::to_vec(&manifest).expect("manifest serialises");
        Image {
            manifest_digest: sha256_digest(&manifest),
            manifest,
            config_digest,
            config,
            layers,
            blob_dir,
        }
    }

    /// Path of a layer blob on disk.
    pub fn layer_path(&self, layer: &LayerBlob) -> PathBuf {
        self.blob_dir.join(digest_hex(&layer.digest))
    }

    /// Compressed size: manifest, config and every distinct layer.
    pub fn size(&self) -> u64 {
        let mut seen = std::collections::BTreeSet::new();
        let layers: u64 = self
            .layers
            .iter()
            .filter(|l| seen.insert(&l.digest))
            .map(|l| l.size)
            .sum();
        layers + self.config.len() as u64 + self.manifest.len() as u64
    }

    /// `forge.local/<name>:<first 12 hex of the manifest digest>`: the tag docker-archive and
    /// daemon loads use, unique per content.
    pub fn reference(&self, name: &str) -> String {
        format!(
            "forge.local/{name}:{}",
            &digest_hex(&self.manifest_digest)[..12]
        )
    }
}
