//! Read-only view of a built image for the supply-chain steps (SBOM, policy, scan): finds the
//! image in an OCI layout directory, reads its config, and walks its layers.
//!
//! The layout may hold more than the image (an SBOM artifact that refers to it), so the image
//! is the manifest annotated `org.opencontainers.image.ref.name = <name>` without a `subject`,
//! or, failing a name, the first image manifest without one.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Media type of an OCI image manifest.
pub const IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Annotation naming an image inside a layout.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Largest file whose content [`ImageFs::load`] keeps in memory when asked to.
const MAX_KEPT_CONTENT: u64 = 16 << 20;

/// Errors reading an image from a layout.
#[derive(Debug, thiserror::Error)]
pub enum ImageFsError {
    #[error("cannot read {}: {source} (build the image first: `forge build NAME`)", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error("blob {digest} in {}: content does not match its digest (the layout is corrupt; rebuild with `forge build`)", layout.display())]
    DigestMismatch { layout: PathBuf, digest: String },
}

/// A content descriptor (the fields forge reads).
#[derive(Debug, Clone, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(rename = "artifactType", default)]
    pub artifact_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Index {
    manifests: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    config: Descriptor,
    layers: Vec<Descriptor>,
    #[serde(default)]
    subject: Option<Descriptor>,
}

/// The runtime part of an image config (docker's capitalised names).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RuntimeConfig {
    #[serde(rename = "User", default)]
    pub user: String,
    #[serde(rename = "ExposedPorts", default)]
    pub exposed_ports: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "Env", default)]
    pub env: Vec<String>,
    #[serde(rename = "Entrypoint", default)]
    pub entrypoint: Vec<String>,
    #[serde(rename = "Cmd", default)]
    pub cmd: Vec<String>,
    #[serde(rename = "Labels", default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct ConfigBlob {
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    config: RuntimeConfig,
}

/// What a path in the image is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    Symlink(String),
    Hardlink(String),
    Other,
}

/// One path of the image's final file system.
#[derive(Debug, Clone)]
pub struct FileInfo {
    pub kind: FileKind,
    /// Permission bits including setuid/setgid/sticky (`0o7777` mask).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    /// Index of the layer (bottom = 0) that last wrote the path.
    pub layer: usize,
    /// Content, when the caller asked for this path and the file is small enough.
    pub content: Option<Vec<u8>>,
}

/// One image layer as the manifest lists it.
#[derive(Debug, Clone)]
pub struct Layer {
    pub digest: String,
    pub size: u64,
    pub media_type: String,
}

/// An image found in a layout, with its flattened file system.
#[derive(Debug, Clone)]
pub struct ImageFs {
    pub layout: PathBuf,
    /// Manifest digest (`sha256:...`): the image's identity.
    pub digest: String,
    pub manifest_size: u64,
    pub config_digest: String,
    pub created: Option<String>,
    pub architecture: String,
    pub config: RuntimeConfig,
    pub layers: Vec<Layer>,
    /// Final file system: normalised relative path (no leading `/`) -> info.
    pub files: BTreeMap<String, FileInfo>,
}

/// Location of a blob in a layout.
pub fn blob_path(layout: &Path, digest: &str) -> PathBuf {
    layout.join("blobs/sha256").join(digest.strip_prefix("sha256:").unwrap_or(digest))
}

/// Reads a (small) blob and checks it against its digest.
pub fn read_blob(layout: &Path, digest: &str) -> Result<Vec<u8>, ImageFsError> {
    let path = blob_path(layout, digest);
    let bytes = std::fs::read(&path).map_err(|source| ImageFsError::Io { path, source })?;
    if format!("sha256:{}", hex::encode(Sha256::digest(&bytes))) != digest {
        return Err(ImageFsError::DigestMismatch { layout: layout.to_path_buf(), digest: digest.into() });
    }
    Ok(bytes)
}

fn invalid(path: &Path, reason: impl Into<String>) -> ImageFsError {
    ImageFsError::Invalid { path: path.to_path_buf(), reason: reason.into() }
}

/// The index entry of the image (not of an artifact referring to it) in `layout`.
pub fn find_image(layout: &Path, name: Option<&str>) -> Result<Descriptor, ImageFsError> {
    let path = layout.join("index.json");
    let bytes = std::fs::read(&path).map_err(|source| ImageFsError::Io { path: path.clone(), source })?;
    let index: Index = serde_json::from_slice(&bytes).map_err(|e| invalid(&path, format!("not an OCI index: {e}")))?;
    let images: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| d.media_type == IMAGE_MANIFEST && d.artifact_type.is_none())
        .collect();
    let named = name.and_then(|n| images.iter().find(|d| d.annotations.get(REF_NAME).map(String::as_str) == Some(n)));
    named
        .or_else(|| images.first())
        .map(|d| (*d).clone())
        .ok_or_else(|| invalid(&path, "no image manifest in the index (rebuild with `forge build`)"))
}

impl ImageFs {
    /// Opens the image `name` in `layout` and flattens its layers. Content is kept for paths
    /// where `keep(path)` is true (e.g. package metadata the SBOM reads).
    pub fn load(layout: &Path, name: Option<&str>, keep: &dyn Fn(&str) -> bool) -> Result<ImageFs, ImageFsError> {
        let mut image = ImageFs::head(layout, name)?;
        for (index, layer) in image.layers.iter().enumerate() {
            walk_layer(layout, layer, &mut |path, header, reader| {
                apply_entry(&mut image.files, index, path, header, reader, keep)
            })?;
        }
        Ok(image)
    }

    /// Opens the image `name` in `layout` without reading its layers (`files` stays empty):
    /// digests, config and layer list only.
    pub fn head(layout: &Path, name: Option<&str>) -> Result<ImageFs, ImageFsError> {
        let desc = find_image(layout, name)?;
        let manifest_bytes = read_blob(layout, &desc.digest)?;
        let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| invalid(&blob_path(layout, &desc.digest), format!("not an image manifest: {e}")))?;
        if manifest.subject.is_some() {
            return Err(invalid(&blob_path(layout, &desc.digest), "manifest has a subject: it is an artifact, not an image"));
        }
        let config_bytes = read_blob(layout, &manifest.config.digest)?;
        let config: ConfigBlob = serde_json::from_slice(&config_bytes)
            .map_err(|e| invalid(&blob_path(layout, &manifest.config.digest), format!("not an image config: {e}")))?;

        let layers: Vec<Layer> = manifest
            .layers
            .iter()
            .map(|l| Layer { digest: l.digest.clone(), size: l.size, media_type: l.media_type.clone() })
            .collect();
        Ok(ImageFs {
            layout: layout.to_path_buf(),
            digest: desc.digest,
            manifest_size: desc.size,
            config_digest: manifest.config.digest,
            created: config.created,
            architecture: config.architecture,
            config: config.config,
            layers,
            files: BTreeMap::new(),
        })
    }

    /// Content of a kept file, following symlinks inside the image.
    pub fn content(&self, path: &str) -> Option<&[u8]> {
        let mut path = path.trim_start_matches('/').to_string();
        for _ in 0..16 {
            let info = self.files.get(&path)?;
            match &info.kind {
                FileKind::Symlink(target) => path = resolve_link(&path, target),
                FileKind::Hardlink(target) => path = normalise(target)?,
                _ => return info.content.as_deref(),
            }
        }
        None
    }

    /// Sum of the compressed layer sizes plus manifest and config (what a pull transfers).
    pub fn compressed_size(&self) -> u64 {
        self.layers.iter().map(|l| l.size).sum::<u64>() + self.manifest_size
    }
}

/// Resolves a symlink `target` written at `link` to a normalised image path.
pub fn resolve_link(link: &str, target: &str) -> String {
    let base = if target.starts_with('/') { String::new() } else { link.rsplit_once('/').map(|(d, _)| d.to_string()).unwrap_or_default() };
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Normalises a tar path: strips `./` and `/`, rejects `..` escapes.
pub fn normalise(path: &str) -> Option<String> {
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Streams every entry of one layer (gzip or plain tar) to `visit(path, header, reader)`.
/// Paths are normalised; entries that would escape the root are an error.
pub fn walk_layer(
    layout: &Path,
    layer: &Layer,
    visit: &mut dyn FnMut(&str, &tar::Header, &mut dyn Read) -> io::Result<()>,
) -> Result<(), ImageFsError> {
    let path = blob_path(layout, &layer.digest);
    let file = File::open(&path).map_err(|source| ImageFsError::Io { path: path.clone(), source })?;
    let reader: Box<dyn Read> = if layer.media_type.ends_with("+gzip") || layer.media_type.ends_with(".gzip") {
        Box::new(flate2::read::GzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let io_err = |source| ImageFsError::Io { path: path.clone(), source };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(io_err)? {
        let mut entry = entry.map_err(io_err)?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(rel) = normalise(&raw) else {
            return Err(invalid(&path, format!("layer entry {raw:?} escapes the image root")));
        };
        let header = entry.header().clone();
        visit(&rel, &header, &mut entry).map_err(io_err)?;
    }
    Ok(())
}

fn apply_entry(
    files: &mut BTreeMap<String, FileInfo>,
    layer: usize,
    path: &str,
    header: &tar::Header,
    reader: &mut dyn Read,
    keep: &dyn Fn(&str) -> bool,
) -> io::Result<()> {
    // OCI whiteouts: `.wh..wh..opq` hides a directory's lower content, `.wh.x` deletes x.
    let (dir, base) = path.rsplit_once('/').unwrap_or(("", path));
    if base == ".wh..wh..opq" {
        let prefix = format!("{dir}/");
        files.retain(|p, info| !(p.starts_with(&prefix) && info.layer < layer));
        return Ok(());
    }
    if let Some(victim) = base.strip_prefix(".wh.") {
        let victim = if dir.is_empty() { victim.to_string() } else { format!("{dir}/{victim}") };
        let prefix = format!("{victim}/");
        files.retain(|p, _| p != &victim && !p.starts_with(&prefix));
        return Ok(());
    }
    if path.is_empty() {
        return Ok(());
    }
    let link = |h: &tar::Header| h.link_name_bytes().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let kind = match header.entry_type() {
        tar::EntryType::Regular | tar::EntryType::Continuous => FileKind::File,
        tar::EntryType::Directory => FileKind::Dir,
        tar::EntryType::Symlink => FileKind::Symlink(link(header)),
        tar::EntryType::Link => FileKind::Hardlink(link(header)),
        _ => FileKind::Other,
    };
    let size = header.size()?;
    let content = if kind == FileKind::File && size <= MAX_KEPT_CONTENT && keep(path) {
        let mut buf = Vec::with_capacity(size as usize);
        reader.read_to_end(&mut buf)?;
        Some(buf)
    } else {
        None
    };
    files.insert(
        path.to_string(),
        FileInfo { kind, mode: header.mode()? & 0o7777, uid: header.uid()?, gid: header.gid()?, size, layer, content },
    );
    Ok(())
}

#[cfg(test)]
pub(crate) mod fixture {
    //! Builds small OCI layouts for tests, the way `forge build` writes them.
    use super::*;
    use std::io::Write;

    /// One file for a test layer: (path, mode, uid, content or symlink target, is_symlink).
    pub struct TestFile<'a> {
        pub path: &'a str,
        pub mode: u32,
        pub uid: u64,
        pub content: &'a [u8],
        pub symlink: bool,
    }

    pub fn file<'a>(path: &'a str, mode: u32, content: &'a [u8]) -> TestFile<'a> {
        TestFile { path, mode, uid: 0, content, symlink: false }
    }

    pub fn symlink<'a>(path: &'a str, target: &'a str) -> TestFile<'a> {
        TestFile { path, mode: 0o777, uid: 0, content: target.as_bytes(), symlink: true }
    }

    fn write_blob(dir: &Path, bytes: &[u8]) -> String {
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(blob_path(dir, &digest), bytes).unwrap();
        digest
    }

    /// Writes a layout named `name` with one gzip layer per element of `layers` and the
    /// given runtime config JSON (`{"User": ..., ...}`); returns the manifest digest.
    pub fn layout(dir: &Path, name: &str, runtime: serde_json::Value, layers: &[Vec<TestFile>]) -> String {
        let mut descs = Vec::new();
        let mut diff_ids = Vec::new();
        for files in layers {
            let mut tar = tar::Builder::new(Vec::new());
            for f in files {
                let mut h = tar::Header::new_ustar();
                h.set_mode(f.mode);
                h.set_uid(f.uid);
                h.set_gid(f.uid);
                h.set_mtime(0);
                if f.symlink {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    tar.append_link(&mut h, f.path, std::str::from_utf8(f.content).unwrap()).unwrap();
                } else if f.path.ends_with('/') {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_size(0);
                    tar.append_data(&mut h, f.path, io::empty()).unwrap();
                } else {
                    h.set_size(f.content.len() as u64);
                    tar.append_data(&mut h, f.path, f.content).unwrap();
                }
            }
            let raw = tar.into_inner().unwrap();
            diff_ids.push(format!("sha256:{}", hex::encode(Sha256::digest(&raw))));
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&raw).unwrap();
            let gz = gz.finish().unwrap();
            let digest = write_blob(dir, &gz);
            descs.push(serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": gz.len()}));
        }
        let config = serde_json::json!({"created": "2026-01-01T00:00:00Z", "architecture": "amd64", "os": "linux",
            "config": runtime, "rootfs": {"type": "layers", "diff_ids": diff_ids}});
        let config = serde_json::to_vec(&config).unwrap();
        let config_digest = write_blob(dir, &config);
        let manifest = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "mediaType": IMAGE_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": descs})).unwrap();
        let digest = write_blob(dir, &manifest);
        let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": IMAGE_MANIFEST, "digest": digest, "size": manifest.len(), "annotations": {REF_NAME: name}}]});
        std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        digest
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::*;
    use super::*;

    #[test]
    fn flattens_layers_with_whiteouts_and_keeps_requested_content() {
        let dir = tempfile::tempdir().unwrap();
        let digest = layout(
            dir.path(),
            "t",
            serde_json::json!({"User": "65532:65532"}),
            &[
                vec![file("etc/a", 0o644, b"one"), file("etc/b", 0o644, b"gone"), symlink("etc/c", "a")],
                vec![file("./etc/a", 0o4755, b"two"), file("etc/.wh.b", 0o644, b"")],
            ],
        );
        let fs = ImageFs::load(dir.path(), Some("t"), &|p| p.starts_with("etc/")).unwrap();
        assert_eq!(fs.digest, digest);
        assert_eq!(fs.config.user, "65532:65532");
        assert_eq!(fs.files["etc/a"].mode, 0o4755);
        assert_eq!(fs.files["etc/a"].layer, 1);
        assert!(!fs.files.contains_key("etc/b"));
        assert_eq!(fs.content("/etc/c"), Some(&b"two"[..]));
    }

    #[test]
    fn corrupt_blob_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let digest = layout(dir.path(), "t", serde_json::json!({}), &[vec![]]);
        std::fs::write(blob_path(dir.path(), &digest), b"{}").unwrap();
        let err = ImageFs::load(dir.path(), Some("t"), &|_| false).unwrap_err();
        assert!(err.to_string().contains(&digest), "{err}");
    }

    #[test]
    fn path_escaping_the_root_is_rejected() {
        assert_eq!(normalise("../etc/passwd"), None);
        assert_eq!(normalise("./usr//bin/"), Some("usr/bin".into()));
        assert_eq!(resolve_link("usr/bin/sh", "../../bin/dash"), "bin/dash");
        assert_eq!(resolve_link("usr/bin/sh", "/bin/dash"), "bin/dash");
    }
}
