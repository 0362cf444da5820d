//! What software an image holds, read from the image itself: Debian packages
//! (`/var/lib/dpkg/status.d`), Python distributions (`*.dist-info/METADATA`), npm packages
//! (every `package.json` with a name and version, as Trivy counts them) and the Debian release.

use std::collections::BTreeMap;

use crate::image_fs::ImageFs;

/// Directory of per-package dpkg status files in distroless-style images.
pub const STATUS_D: &str = "var/lib/dpkg/status.d";

/// Paths whose content the inventory needs (pass to [`ImageFs::load`]).
pub fn wanted(path: &str) -> bool {
    path.starts_with(STATUS_D)
        || path == "etc/os-release"
        || path == "usr/lib/os-release"
        || path == "etc/debian_version"
        || (path.ends_with("/METADATA") && path.contains(".dist-info/"))
        || path.ends_with("/package.json")
        || path == "package.json"
        || path.ends_with("node_modules/.package-lock.json")
}

/// A Debian binary package installed in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebPackage {
    pub name: String,
    /// Full version, epoch included (`1:2.3-4`).
    pub version: String,
    pub arch: String,
    pub source: String,
    pub source_version: String,
}

/// A language package (PyPI distribution or npm package) and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LangPackage {
    pub name: String,
    pub version: String,
    /// Image paths of the metadata files that declare it.
    pub paths: Vec<String>,
    /// `sha512-...` SRI integrity when npm recorded one.
    pub integrity: Option<String>,
}

/// Everything the SBOM lists that is read from the image.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Debian point release, e.g. `13.2` (from /etc/debian_version, else os-release).
    pub debian_version: Option<String>,
    pub debs: Vec<DebPackage>,
    pub pypi: Vec<LangPackage>,
    pub npm: Vec<LangPackage>,
}

/// Errors in package metadata found in the image.
#[derive(Debug, thiserror::Error)]
#[error("/{path}: {reason}")]
pub struct InventoryError {
    pub path: String,
    pub reason: String,
}

impl Inventory {
    /// Reads the inventory of `image` (loaded with [`wanted`] content).
    pub fn read(image: &ImageFs) -> Result<Inventory, InventoryError> {
        let mut inv = Inventory { debian_version: debian_version(image), ..Inventory::default() };
        let mut pypi: BTreeMap<(String, String), LangPackage> = BTreeMap::new();
        let mut npm: BTreeMap<(String, String), LangPackage> = BTreeMap::new();
        let npm_integrity = npm_integrity(image);

        for path in image.files.keys() {
            if let Some(rest) = path.strip_prefix(STATUS_D).and_then(|r| r.strip_prefix('/')) {
                if rest.is_empty() || rest.contains('/') || rest.ends_with(".md5sums") {
                    continue;
                }
                if let Some(content) = image.content(path) {
                    inv.debs.push(parse_status(path, content)?);
                }
            } else if path.ends_with("/METADATA") && path.contains(".dist-info/") {
                let Some(content) = image.content(path) else { continue };
                let (name, version) = parse_python_metadata(path, content)?;
                let key = (pep503(&name), version.clone());
                pypi.entry(key)
                    .or_insert_with(|| LangPackage { name: pep503(&name), version, paths: vec![], integrity: None })
                    .paths
                    .push(format!("/{path}"));
            } else if path.ends_with("package.json") && (path == "package.json" || path.ends_with("/package.json")) {
                let Some(content) = image.content(path) else { continue };
                let Some((name, version)) = parse_package_json(content) else { continue };
                let integrity = npm_integrity.get(path.trim_end_matches("/package.json")).cloned();
                let entry = npm
                    .entry((name.clone(), version.clone()))
                    .or_insert_with(|| LangPackage { name, version, paths: vec![], integrity: None });
                entry.paths.push(format!("/{path}"));
                if entry.integrity.is_none() {
                    entry.integrity = integrity;
                }
            }
        }
        inv.debs.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
        inv.pypi = pypi.into_values().collect();
        inv.npm = npm.into_values().collect();
        Ok(inv)
    }
}

/// PEP 503 normalised distribution name (how PyPI, purls and Trivy compare names).
pub fn pep503(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c == '_' || c == '.' { '-' } else { c.to_ascii_lowercase() };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out
}

fn debian_version(image: &ImageFs) -> Option<String> {
    if let Some(v) = image.content("etc/debian_version") {
        let v = String::from_utf8_lossy(v).trim().to_string();
        if v.starts_with(|c: char| c.is_ascii_digit()) {
            return Some(v);
        }
    }
    let os_release = image.content("etc/os-release").or_else(|| image.content("usr/lib/os-release"))?;
    String::from_utf8_lossy(os_release).lines().find_map(|l| {
        l.strip_prefix("VERSION_ID=").map(|v| v.trim_matches('"').to_string())
    })
}

/// Parses one dpkg control paragraph (`status.d/<pkg>`).
pub fn parse_status(path: &str, content: &[u8]) -> Result<DebPackage, InventoryError> {
    let err = |reason: &str| InventoryError { path: path.to_string(), reason: reason.to_string() };
    let text = std::str::from_utf8(content).map_err(|_| err("not UTF-8"))?;
    let mut fields = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) || line.is_empty() {
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            fields.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let name = fields.get("package").cloned().ok_or_else(|| err("no Package field"))?;
    let version = fields.get("version").cloned().ok_or_else(|| err("no Version field"))?;
    let arch = fields.get("architecture").cloned().ok_or_else(|| err("no Architecture field"))?;
    // `Source: name (version)` when the source version differs from the binary's.
    let (source, source_version) = match fields.get("source") {
        Some(s) => match s.split_once(' ') {
            Some((n, v)) => (n.to_string(), v.trim().trim_start_matches('(').trim_end_matches(')').to_string()),
            None => (s.clone(), version.clone()),
        },
        None => (name.clone(), version.clone()),
    };
    Ok(DebPackage { name, version, arch, source, source_version })
}

/// `Name:` and `Version:` of a core-metadata file.
pub fn parse_python_metadata(path: &str, content: &[u8]) -> Result<(String, String), InventoryError> {
    let text = String::from_utf8_lossy(content);
    let header = text.split("\n\n").next().unwrap_or("");
    let field = |key: &str| header.lines().find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()));
    match (field("Name:"), field("Version:")) {
        (Some(n), Some(v)) if !n.is_empty() && !v.is_empty() => Ok((n, v)),
        _ => Err(InventoryError { path: path.to_string(), reason: "METADATA lacks Name or Version".into() }),
    }
}

/// `(name, version)` of a package.json that declares both (others are not packages).
pub fn parse_package_json(content: &[u8]) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_slice(content).ok()?;
    let name = v.get("name")?.as_str()?.trim();
    let version = v.get("version")?.as_str()?.trim();
    (!name.is_empty() && !version.is_empty()).then(|| (name.to_string(), version.to_string()))
}

/// npm's hidden lockfile (`node_modules/.package-lock.json`) records each installed
/// package's integrity: image dir of the package -> `sha512-...`.
fn npm_integrity(image: &ImageFs) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (path, info) in &image.files {
        if !path.ends_with("node_modules/.package-lock.json") {
            continue;
        }
        let Some(content) = info.content.as_deref() else { continue };
        let Ok(lock) = serde_json::from_slice::<serde_json::Value>(content) else { continue };
        let root = path.trim_end_matches("node_modules/.package-lock.json").trim_end_matches('/');
        let Some(packages) = lock.get("packages").and_then(|p| p.as_object()) else { continue };
        for (rel, meta) in packages {
            if let Some(integrity) = meta.get("integrity").and_then(|i| i.as_str()) {
                let dir = if root.is_empty() { rel.clone() } else { format!("{root}/{rel}") };
                out.insert(dir, integrity.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_paragraph_with_source_version() {
        let p = parse_status("s", b"Package: libssl3t64\nVersion: 3.5.1-1\nArchitecture: amd64\nSource: openssl (3.5.1-1+b1)\nDescription: x\n more\n").unwrap();
        assert_eq!((p.source.as_str(), p.source_version.as_str()), ("openssl", "3.5.1-1+b1"));
        let p = parse_status("s", b"Package: tzdata\nVersion: 2025b-4\nArchitecture: all\n").unwrap();
        assert_eq!(p.source, "tzdata");
    }

    #[test]
    fn status_paragraph_missing_version_names_the_file() {
        let err = parse_status("var/lib/dpkg/status.d/x", b"Package: x\n").unwrap_err();
        assert_eq!(err.to_string(), "/var/lib/dpkg/status.d/x: no Version field");
    }

    #[test]
    fn python_names_are_normalised() {
        assert_eq!(pep503("Typing_Extensions"), "typing-extensions");
        assert_eq!(pep503("zope.interface"), "zope-interface");
        let (n, v) = parse_python_metadata("m", b"Metadata-Version: 2.1\nName: FastAPI\nVersion: 0.115.0\n\nName: body").unwrap();
        assert_eq!((n.as_str(), v.as_str()), ("FastAPI", "0.115.0"));
    }

    #[test]
    fn package_json_without_version_is_not_a_package() {
        assert_eq!(parse_package_json(br#"{"name":"x"}"#), None);
        assert_eq!(parse_package_json(b"not json"), None);
        assert_eq!(parse_package_json(br#"{"name":"@s/x","version":"1.0.0"}"#), Some(("@s/x".into(), "1.0.0".into())));
    }
}
