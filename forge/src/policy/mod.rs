//! Image policies (`policies/image.toml`), checked by `forge verify NAME` and on every build:
//! runtime user, no shell, no package manager, no setuid/setgid files, no world-writable paths
//! but the allowed ones, Debian packages pinned by the lock, exposed ports per image, a size
//! budget, required OCI labels, and no secrets in any layer. Every violation names the file or
//! config field at fault.
//!
//! ```toml
//! [rules]
//! user = "65532:65532"
//! no_shell = true
//! no_package_manager = true
//! no_setuid = true
//! world_writable_allowed = ["/tmp"]
//! lock_pinned = true
//! required_labels = ["org.opencontainers.image.title"]
//! max_size_mb = 100
//! no_secrets = true
//! secret_allowlist = ["/etc/ssl/certs/", "/usr/share/ca-certificates/"]
//!
//! [images.backend]
//! ports = [8000]
//! max_size_mb = 250
//! ```

pub mod secrets;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::image_fs::{self, FileKind, ImageFs, ImageFsError};
use crate::sbom::inventory::DebPackage;
use crate::sbom::SbomDeb;

/// Executables that make a shell available.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox", "toybox"];
/// Executables that install software at run time.
const PACKAGE_MANAGERS: &[&str] = &[
    "apt", "apt-get", "aptitude", "dpkg", "dpkg-deb", "apk", "rpm", "yum", "dnf", "microdnf", "zypper", "pip", "pip3",
    "easy_install", "uv", "npm", "npx", "yarn", "pnpm", "corepack", "gem", "cargo", "go",
];

/// Errors in the policy file; each names the file and line.
#[derive(Debug, thiserror::Error)]
pub enum PolicyFileError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}:{line}: {reason}")]
    Invalid { path: String, line: usize, reason: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    rules: Rules,
    #[serde(default)]
    images: BTreeMap<String, ImageRules>,
}

/// Rules for every image.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Required runtime user (`uid:gid`); root is always a violation.
    pub user: String,
    #[serde(default = "yes")]
    pub no_shell: bool,
    #[serde(default = "yes")]
    pub no_package_manager: bool,
    #[serde(default = "yes")]
    pub no_setuid: bool,
    #[serde(default = "default_world_writable")]
    pub world_writable_allowed: Vec<String>,
    #[serde(default = "yes")]
    pub lock_pinned: bool,
    #[serde(default)]
    pub required_labels: Vec<String>,
    pub max_size_mb: u64,
    #[serde(default = "yes")]
    pub no_secrets: bool,
    #[serde(default)]
    pub secret_allowlist: Vec<String>,
}

/// Per-image rules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRules {
    #[serde(default)]
    pub ports: Vec<u16>,
    pub max_size_mb: Option<u64>,
    /// Rules this image is exempt from (e.g. a test image that must carry busybox), each
    /// waiver explained by `justification`.
    #[serde(default)]
    pub waive: Vec<String>,
    #[serde(default)]
    pub justification: String,
}

/// Names of the rules, as violations and waivers spell them.
pub const RULES: &[&str] = &[
    "user", "no_shell", "no_package_manager", "no_setuid", "world_writable", "lock_pinned", "ports", "max_size_mb",
    "required_labels", "no_secrets",
];

fn yes() -> bool {
    true
}

fn default_world_writable() -> Vec<String> {
    vec!["/tmp".into()]
}

/// The parsed `policies/image.toml`.
#[derive(Debug, Clone)]
pub struct ImagePolicy {
    pub path: String,
    pub rules: Rules,
    pub images: BTreeMap<String, ImageRules>,
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub rule: String,
    /// The file (`/bin/sh`) or config field (`config.User`) at fault.
    pub subject: String,
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.rule, self.subject, self.detail)
    }
}

/// `policy` field of `out/<name>/forge-report.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRecord {
    /// `passed` or `failed`.
    pub verdict: String,
    pub policy: String,
    pub violations: Vec<Violation>,
}

/// What `verify` needs besides the image.
#[derive(Debug, Clone, Default)]
pub struct VerifyInput<'a> {
    /// Debian packages installed in the image (its dpkg status files).
    pub debs: &'a [DebPackage],
    /// Debian packages the image's attached SBOM lists; `None` when no SBOM is attached.
    pub sbom_debs: Option<&'a [SbomDeb]>,
    /// Lock pins of this image. `None` when the image has no lock entry.
    pub pinned: Option<&'a Pins>,
}

/// What recipes/forge.lock pins for an image (its own entry plus its bases').
#[derive(Debug, Clone, Default)]
pub struct Pins {
    /// Package name -> version.
    pub versions: BTreeMap<String, String>,
    /// `(name, version, arch)` -> sha256 of the `.deb`.
    pub sha256: BTreeMap<(String, String, String), String>,
}

impl ImagePolicy {
    /// Loads the policy file at `path`.
    pub fn load(path: &Path) -> Result<ImagePolicy, PolicyFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PolicyFileError::Io { path: shown.clone(), source })?;
        ImagePolicy::parse(&shown, &text)
    }

    /// Parses policy `text` read from `path`; unknown rules are errors.
    pub fn parse(path: &str, text: &str) -> Result<ImagePolicy, PolicyFileError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| PolicyFileError::Invalid {
            path: path.into(),
            line: e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1).unwrap_or(1),
            reason: e.message().to_string(),
        })?;
        let invalid = |needle: &str, reason: String| PolicyFileError::Invalid {
            path: path.into(),
            line: text.find(needle).map(|at| text[..at].matches('\n').count() + 1).unwrap_or(1),
            reason,
        };
        for (image, rules) in &raw.images {
            for rule in &rules.waive {
                if !RULES.contains(&rule.as_str()) {
                    return Err(invalid(&format!("\"{rule}\""), format!("images.{image}.waive: unknown rule {rule:?} (rules: {})", RULES.join(", "))));
                }
            }
            if !rules.waive.is_empty() && rules.justification.trim().is_empty() {
                return Err(invalid(&format!("[images.{image}]"), format!("images.{image}: a waiver needs a justification")));
            }
        }
        Ok(ImagePolicy { path: path.into(), rules: raw.rules, images: raw.images })
    }

    /// Checks `image` (named `name`) against the policy.
    pub fn verify(&self, name: &str, image: &ImageFs, input: &VerifyInput) -> Result<PolicyRecord, ImageFsError> {
        let mut v = Vec::new();
        let mut add = |rule: &str, subject: String, detail: String| v.push(Violation { rule: rule.into(), subject, detail });
        let recipe = format!("recipes/{name}.toml");
        let per_image = self.images.get(name).cloned().unwrap_or_default();

        // Runtime user.
        let user = image.config.user.trim();
        let uid = user.split(':').next().unwrap_or("");
        if user.is_empty() || uid == "0" || uid == "root" {
            add("user", "config.User".into(), format!("image runs as root (User {user:?}); set [image] user = \"{}\" in {recipe}", self.rules.user));
        } else if user != self.rules.user {
            add("user", "config.User".into(), format!("User is {user:?}, policy requires {:?}; set [image] user in {recipe}", self.rules.user));
        }

        for (path, info) in &image.files {
            let shown = format!("/{path}");
            let (dir, base) = path.rsplit_once('/').unwrap_or(("", path));
            let in_bin = dir == "bin" || dir == "sbin" || dir.ends_with("/bin") || dir.ends_with("/sbin");
            let executable_like = matches!(info.kind, FileKind::File | FileKind::Symlink(_) | FileKind::Hardlink(_));
            if in_bin && executable_like {
                if self.rules.no_shell && SHELLS.contains(&base) {
                    add("no_shell", shown.clone(), format!("a shell is in the image; drop the package providing it from {recipe} (or add it to [debian] exclude)"));
                }
                if self.rules.no_package_manager && PACKAGE_MANAGERS.contains(&base) {
                    add("no_package_manager", shown.clone(), format!("a package manager is in the image; remove it from {recipe}"));
                }
            }
            if self.rules.no_setuid && info.kind == FileKind::File && info.mode & 0o6000 != 0 {
                let bits = if info.mode & 0o4000 != 0 { "setuid" } else { "setgid" };
                add("no_setuid", shown.clone(), format!("{bits} file (mode {:04o}); forge images need no privilege escalation, remove it or its mode bit", info.mode));
            }
            let writable = info.mode & 0o002 != 0 && matches!(info.kind, FileKind::File | FileKind::Dir);
            if writable && !self.rules.world_writable_allowed.iter().any(|a| a.trim_matches('/') == path) {
                add("world_writable", shown, format!("world-writable (mode {:04o}); only {} may be", info.mode, self.rules.world_writable_allowed.join(", ")));
            }
        }

        // Lock pinning of Debian packages: what dpkg says is installed, and what the SBOM lists
        // (name, version and the .deb's sha256 must all match the lock).
        if self.rules.lock_pinned && !input.debs.is_empty() {
            match input.pinned {
                None => add("lock_pinned", "recipes/forge.lock".into(), format!("no lock entry for image {name}; run `forge lock {name}`")),
                Some(pins) => {
                    for deb in input.debs {
                        match pins.versions.get(&deb.name) {
                            Some(ver) if *ver == deb.version => {}
                            Some(ver) => add("lock_pinned", format!("/var/lib/dpkg/status.d/{}", deb.name), format!("{} {} but the lock pins {ver}; rebuild with `forge build {name}`", deb.name, deb.version)),
                            None => add("lock_pinned", format!("/var/lib/dpkg/status.d/{}", deb.name), format!("{} {} is not in recipes/forge.lock; run `forge lock {name}`", deb.name, deb.version)),
                        }
                    }
                    match input.sbom_debs {
                        None => add("lock_pinned", "SBOM".into(), format!("no SBOM attached to out/{name}; run `forge sbom {name}`")),
                        Some(listed) => {
                            for deb in listed {
                                if let Some(detail) = sbom_pin_mismatch(deb, pins) {
                                    add("lock_pinned", format!("SBOM component {}", deb.purl), format!("{detail}; rebuild with `forge build {name}`"));
                                }
                            }
                        }
                    }
                }
            }
        }

        // Exposed ports.
        for port in image.config.exposed_ports.keys() {
            let number: Option<u16> = port.split('/').next().and_then(|p| p.parse().ok());
            if !number.is_some_and(|n| per_image.ports.contains(&n)) {
                let allowed = if per_image.ports.is_empty() { "none".to_string() } else { format!("{:?}", per_image.ports) };
                add("ports", format!("config.ExposedPorts[{port}]"), format!("port not allowed for image {name} (allowed: {allowed} in {} [images.{name}])", self.path));
            }
        }

        // Size budget (compressed, what a pull transfers).
        let budget = per_image.max_size_mb.unwrap_or(self.rules.max_size_mb);
        let size = image.compressed_size();
        if size > budget << 20 {
            add("max_size_mb", "image size".into(), format!("{:.1} MiB compressed exceeds the {budget} MiB budget of {}", size as f64 / 1048576.0, self.path));
        }

        // Labels.
        for label in &self.rules.required_labels {
            if image.config.labels.get(label).is_none_or(|v| v.trim().is_empty()) {
                add("required_labels", format!("config.Labels[{label}]"), format!("missing; set it under [image] labels in {recipe}"));
            }
        }

        // Secrets, in every layer.
        if self.rules.no_secrets {
            for (index, layer) in image.layers.iter().enumerate() {
                image_fs::walk_layer(&image.layout, layer, &mut |path, header, reader| {
                    let shown = format!("/{path}");
                    let regular = matches!(header.entry_type(), tar::EntryType::Regular | tar::EntryType::Continuous);
                    if !regular || self.rules.secret_allowlist.iter().any(|a| shown.starts_with(a.as_str())) {
                        return Ok(());
                    }
                    let size = header.size()?;
                    let mut content = Vec::new();
                    if size <= secrets::MAX_SCANNED {
                        reader.read_to_end(&mut content)?;
                    }
                    if let Some(kind) = secrets::classify(path, &content) {
                        add("no_secrets", shown, format!("{kind} in layer {index} ({}); remove it from the build inputs and rebuild", layer.digest));
                    }
                    Ok(())
                })?;
            }
        }

        v.retain(|violation| !per_image.waive.contains(&violation.rule));
        let verdict = if v.is_empty() { "passed" } else { "failed" };
        Ok(PolicyRecord { verdict: verdict.into(), policy: self.path.clone(), violations: v })
    }
}

/// Why an SBOM's Debian package is not the one the lock pins, if it is not.
fn sbom_pin_mismatch(deb: &SbomDeb, pins: &Pins) -> Option<String> {
    let what = format!("{} {} ({})", deb.name, deb.version, deb.arch);
    let Some(pinned) = pins.sha256.get(&(deb.name.clone(), deb.version.clone(), deb.arch.clone())) else {
        return Some(format!("{what} is not pinned in recipes/forge.lock"));
    };
    match &deb.sha256 {
        None => Some(format!("{what} has no SHA-256 hash; the lock pins {pinned}")),
        Some(sha) if !sha.eq_ignore_ascii_case(pinned) => Some(format!("{what} has SHA-256 {sha} but the lock pins {pinned}")),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image_fs::fixture::*;

    const POLICY: &str = r#"
[rules]
user = "65532:65532"
required_labels = ["org.opencontainers.image.title"]
max_size_mb = 10
secret_allowlist = ["/etc/ssl/certs/"]

[images.web]
ports = [3000]
"#;

    fn verify(runtime: serde_json::Value, files: Vec<TestFile>) -> Vec<Violation> {
        let dir = tempfile::tempdir().unwrap();
        layout(dir.path(), "web", runtime, &[files]);
        let image = ImageFs::load(dir.path(), Some("web"), &|_| false).unwrap();
        let policy = ImagePolicy::parse("image.toml", POLICY).unwrap();
        policy.verify("web", &image, &VerifyInput::default()).unwrap().violations
    }

    fn good_config() -> serde_json::Value {
        serde_json::json!({"User": "65532:65532", "ExposedPorts": {"3000/tcp": {}}, "Labels": {"org.opencontainers.image.title": "web"}})
    }

    #[test]
    fn a_clean_image_passes() {
        let v = verify(good_config(), vec![file("tmp/", 0o1777, b""), file("usr/bin/node", 0o755, b"\x7fELF"), file("etc/ssl/certs/x.pem", 0o644, b"-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n")]);
        assert!(v.is_empty(), "{v:?}");
    }

    #[test]
    fn root_shell_setuid_key_and_extra_port_are_each_named() {
        let mut config = good_config();
        config["User"] = "".into();
        config["ExposedPorts"]["22/tcp"] = serde_json::json!({});
        config["Labels"] = serde_json::json!({});
        let v = verify(
            config,
            vec![
                symlink("bin/sh", "dash"),
                file("bin/dash", 0o755, b"\x7fELF"),
                file("usr/bin/passwd", 0o4755, b"\x7fELF"),
                file("usr/bin/pip", 0o755, b"#!"),
                file("app/data/", 0o777, b""),
                file("app/id_rsa", 0o600, b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"),
                file("app/.env", 0o644, b"SECRET=1"),
            ],
        );
        let got: Vec<String> = v.iter().map(|x| format!("{} {}", x.rule, x.subject)).collect();
        for want in [
            "user config.User",
            "no_shell /bin/sh",
            "no_shell /bin/dash",
            "no_setuid /usr/bin/passwd",
            "no_package_manager /usr/bin/pip",
            "world_writable /app/data",
            "no_secrets /app/id_rsa",
            "no_secrets /app/.env",
            "ports config.ExposedPorts[22/tcp]",
            "required_labels config.Labels[org.opencontainers.image.title]",
        ] {
            assert!(got.contains(&want.to_string()), "missing {want:?} in {got:#?}");
        }
        assert_eq!(got.len(), 10, "{got:#?}");
        assert!(v[0].detail.contains("recipes/web.toml"), "{}", v[0]);
    }

    #[test]
    fn secret_deleted_in_a_later_layer_is_still_found() {
        let dir = tempfile::tempdir().unwrap();
        let key = b"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49\n";
        layout(dir.path(), "web", good_config(), &[vec![file("app/k.pem", 0o644, key)], vec![file("app/.wh.k.pem", 0o644, b"")]]);
        let image = ImageFs::load(dir.path(), Some("web"), &|_| false).unwrap();
        assert!(!image.files.contains_key("app/k.pem"));
        let policy = ImagePolicy::parse("image.toml", POLICY).unwrap();
        let v = policy.verify("web", &image, &VerifyInput::default()).unwrap().violations;
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].detail.contains("layer 0"), "{}", v[0]);
    }

    #[test]
    fn lock_pinning_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        layout(dir.path(), "web", good_config(), &[vec![]]);
        let image = ImageFs::load(dir.path(), Some("web"), &|_| false).unwrap();
        let policy = ImagePolicy::parse("image.toml", POLICY).unwrap();
        let deb = |n: &str, v: &str| DebPackage { name: n.into(), version: v.into(), arch: "amd64".into(), source: n.into(), source_version: v.into() };
        let debs = vec![deb("libc6", "2.41-12"), deb("tzdata", "2025b-4"), deb("extra", "1")];
        let key = |n: &str, v: &str| (n.to_string(), v.to_string(), "amd64".to_string());
        let pins = Pins {
            versions: [("libc6".to_string(), "2.41-12".to_string()), ("tzdata".to_string(), "2025b-3".to_string())].into(),
            sha256: [(key("libc6", "2.41-12"), "aa".repeat(32)), (key("tzdata", "2025b-3"), "bb".repeat(32))].into(),
        };
        let listed = |n: &str, v: &str, sha: Option<String>| SbomDeb {
            purl: format!("pkg:deb/debian/{n}@{v}?arch=amd64"),
            name: n.into(),
            version: v.into(),
            arch: "amd64".into(),
            sha256: sha,
        };
        let sbom = vec![
            listed("libc6", "2.41-12", Some("AA".repeat(32))),
            listed("tzdata", "2025b-3", Some("cc".repeat(32))),
            listed("libssl3t64", "3.5.1-1", Some("dd".repeat(32))),
            listed("libc6", "2.41-12", None),
        ];
        let r = policy.verify("web", &image, &VerifyInput { debs: &debs, sbom_debs: Some(&sbom), pinned: Some(&pins) }).unwrap();
        let got: Vec<String> = r.violations.iter().map(|v| format!("{} | {}", v.subject, v.detail)).collect();
        assert_eq!(got.len(), 5, "{got:#?}");
        assert!(got[0].starts_with("/var/lib/dpkg/status.d/tzdata | tzdata 2025b-4 but the lock pins 2025b-3"), "{got:#?}");
        assert!(got[1].starts_with("/var/lib/dpkg/status.d/extra | extra 1 is not in recipes/forge.lock"), "{got:#?}");
        assert!(got[2].contains("pkg:deb/debian/tzdata@2025b-3") && got[2].contains("has SHA-256 cccc"), "{got:#?}");
        assert!(got[3].contains("libssl3t64 3.5.1-1 (amd64) is not pinned in recipes/forge.lock"), "{got:#?}");
        assert!(got[4].contains("libc6 2.41-12 (amd64) has no SHA-256 hash"), "{got:#?}");
        assert_eq!(r.verdict, "failed");

        let r = policy.verify("web", &image, &VerifyInput { debs: &debs[..1], sbom_debs: None, pinned: Some(&pins) }).unwrap();
        let got: Vec<String> = r.violations.iter().map(|v| v.to_string()).collect();
        assert_eq!(got, ["lock_pinned: SBOM: no SBOM attached to out/web; run `forge sbom web`"]);
    }

    #[test]
    fn waivers_need_a_known_rule_and_a_justification() {
        let base = "[rules]\nuser = \"65532:65532\"\nmax_size_mb = 10\n";
        let ok = format!("{base}[images.web]\nwaive = [\"no_shell\"]\njustification = \"test image runs busybox\"\nports = [3000]\n");
        let policy = ImagePolicy::parse("p", &ok).unwrap();
        let dir = tempfile::tempdir().unwrap();
        layout(dir.path(), "web", good_config(), &[vec![file("usr/bin/busybox", 0o755, b"x")]]);
        let image = ImageFs::load(dir.path(), Some("web"), &|_| false).unwrap();
        assert!(policy.verify("web", &image, &VerifyInput::default()).unwrap().violations.is_empty());
        let err = ImagePolicy::parse("p", &ok.replace("no_shell", "no_shells")).unwrap_err().to_string();
        assert!(err.starts_with("p:5:") && err.contains("no_shells"), "{err}");
        let err = ImagePolicy::parse("p", &ok.replace("test image runs busybox", "")).unwrap_err().to_string();
        assert!(err.contains("justification"), "{err}");
    }

    #[test]
    fn unknown_rules_are_errors_naming_file_and_line() {
        let err = ImagePolicy::parse("policies/image.toml", "[rules]\nuser = \"65532:65532\"\nmax_size_mb = 1\nno_curl = true\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("policies/image.toml:4:") && msg.contains("no_curl"), "{msg}");
        let err = ImagePolicy::parse("p", "[rules]\nuser = \"1\"\nmax_size_mb = 1\n[images.x]\nport = [1]\n").unwrap_err();
        assert!(err.to_string().starts_with("p:5:"), "{err}");
    }
}
