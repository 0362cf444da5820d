//! docker-archive tar (`docker save` format): `manifest.json` + config + layer blobs. forge lays
//! the blobs out as an OCI layout inside the tar (as Docker >= 25 does), so one file satisfies
//! `docker load`, `trivy image --input` and `skopeo ... oci-archive:` alike. The tar itself is
//! deterministic: fixed order, mtime 0, root owner, mode 0644/0755.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use super::layout::{index_json, OCI_LAYOUT};
use super::{digest_hex, Image};

#[derive(Serialize)]
struct ArchiveManifest {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags")]
    repo_tags: Vec<String>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

fn blob_path(digest: &str) -> String {
    format!("blobs/sha256/{}", digest_hex(digest))
}

/// `manifest.json` of the archive, tagging the image with [`Image::reference`].
pub fn manifest_json(image: &Image, name: &str) -> Vec<u8> {
    let m = ArchiveManifest {
        config: blob_path(&image.config_digest),
        repo_tags: vec![image.reference(name)],
        layers: image.layers.iter().map(|l| blob_path(&l.digest)).collect(),
    };
    serde_json::to_vec(&[m]).expect("archive manifest serialises")
}

/// Writes the archive for `image` to `path`.
pub fn write(image: &Image, name: &str, path: &Path) -> io::Result<()> {
    let mut tar = tar::Builder::new(BufWriter::with_capacity(1 << 20, File::create(path)?));
    let dir = |tar: &mut tar::Builder<_>, p: &str| -> io::Result<()> {
        let mut h = header(0o755, 0);
        h.set_entry_type(tar::EntryType::Directory);
        tar.append_data(&mut h, p, io::empty())
    };
    let bytes = |tar: &mut tar::Builder<_>, p: &str, data: &[u8]| -> io::Result<()> {
        let mut h = header(0o644, data.len() as u64);
        tar.append_data(&mut h, p, data)
    };
    dir(&mut tar, "blobs")?;
    dir(&mut tar, "blobs/sha256")?;
    let mut written = BTreeSet::new();
    bytes(&mut tar, &blob_path(&image.config_digest), &image.config)?;
    for layer in &image.layers {
        if written.insert(layer.digest.clone()) {
            let mut h = header(0o644, layer.size);
            tar.append_data(
                &mut h,
                blob_path(&layer.digest),
                File::open(image.layer_path(layer))?,
            )?;
        }
    }
    bytes(
        &mut tar,
        &blob_path(&image.manifest_digest),
        &image.manifest,
    )?;
    bytes(&mut tar, "index.json", &index_json(image, name))?;
    bytes(&mut tar, "manifest.json", &manifest_json(image, name))?;
    bytes(&mut tar, "oci-layout", OCI_LAYOUT)?;
    let mut out = tar.into_inner()?;
    out.flush()?;
    out.get_ref().sync_all()
}

fn header(mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(tar::EntryType::Regular);
    h
}
