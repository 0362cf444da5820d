//! Debian packages for forge images: verified archive indexes, dependency resolution into
//! the lock, verified downloads into the cache, and safe reading of .deb files.
//!
//! Trust chain: the InRelease of each suite must carry a signature from a Debian archive key
//! that forge embeds; its SHA256 table pins the Packages index; the Packages index pins each
//! .deb's sha256 and size, which the lock records and every download is checked against.

pub mod control;
pub mod deb;
pub(crate) mod http;
pub mod index;
pub mod packages;
pub mod relation;
pub mod release;
pub mod resolve;
pub mod version;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

pub use index::Indexes;
pub use resolve::{resolve, ResolveError};

use crate::cache::{Cache, CacheError, Lookup};
use crate::lock::{inputs_digest, Lock, LockedPackage, LockedRecipe};
use index::SuiteIndex;
use release::Release;

/// The only archive component forge installs from: distroless images ship `main` only.
const COMPONENT: &str = "main";
/// Upper bounds for what the archive may send, so a hostile server cannot exhaust memory.
const MAX_INRELEASE_BYTES: u64 = 16 << 20;
const MAX_PACKAGES_TEXT_BYTES: u64 = 1 << 30;

/// Mirror base URLs (no trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirrors {
    /// `FORGE_MIRROR`, default `http://deb.debian.org/debian`.
    pub debian: String,
    /// `FORGE_SECURITY_MIRROR`, default `http://deb.debian.org/debian-security`; serves the
    /// `*-security` suites.
    pub security: String,
}

impl Mirrors {
    pub fn from_env() -> Mirrors {
        let var = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        Mirrors {
            debian: var("FORGE_MIRROR", "http://deb.debian.org/debian")
                .trim_end_matches('/')
                .to_string(),
            security: var(
                "FORGE_SECURITY_MIRROR",
                "http://deb.debian.org/debian-security",
            )
            .trim_end_matches('/')
            .to_string(),
        }
    }

    /// The mirror that serves `suite`.
    pub fn for_suite(&self, suite: &str) -> &str {
        if suite.ends_with("-security") {
            &self.security
        } else {
            &self.debian
        }
    }
}

/// What a recipe asks of Debian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebianRequest {
    pub packages: Vec<String>,
    /// Dependencies deliberately not followed (see [`resolve`]).
    pub exclude: Vec<String>,
    /// Suites in priority order for version ties, e.g. trixie, trixie-updates, trixie-security.
    pub suites: Vec<String>,
    pub arch: String,
    /// Packages the base recipe chain already provides (left out of the closure).
    pub base: Vec<LockedPackage>,
}

/// Why the archive indexes could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("suite `{suite}`: cannot download {url} ({reason}) and no verified copy is cached; check the network or FORGE_MIRROR / FORGE_SECURITY_MIRROR")]
    Unreachable {
        suite: String,
        url: String,
        reason: String,
    },
    #[error("suite `{suite}`: {url} rejected: {source}; the mirror (or something between it and forge) is not serving Debian's signed metadata")]
    Release {
        suite: String,
        url: String,
        source: release::ReleaseError,
    },
    #[error("suite `{suite}`: {url} is for suite `{found}`; check the suite name in the recipe and the mirror URL")]
    WrongSuite {
        suite: String,
        url: String,
        found: String,
    },
    #[error("suite `{suite}`: Release expired (Valid-Until {valid_until}); the mirror is stale or replaying old metadata, use an up-to-date mirror")]
    Expired { suite: String, valid_until: String },
    #[error("suite `{suite}`: the mirror's Release (Date {fresh}) is older than the one already verified (Date {cached}); refusing a rollback")]
    Rollback {
        suite: String,
        fresh: String,
        cached: String,
    },
    #[error("suite `{suite}`: Release lists no {path}; is architecture `{arch}` right?")]
    NoPackagesIndex {
        suite: String,
        path: String,
        arch: String,
    },
    #[error("suite `{suite}`: {url} does not match the hash in the signed Release: {source}")]
    PackagesMismatch {
        suite: String,
        url: String,
        source: CacheError,
    },
    #[error("suite `{suite}`: cannot download {url}: {reason}")]
    PackagesDownload {
        suite: String,
        url: String,
        reason: String,
    },
    #[error("suite `{suite}`: Packages index {path} is unreadable: {reason}")]
    PackagesCorrupt {
        suite: String,
        path: String,
        reason: String,
    },
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// Why a package could not be provided from the cache or the mirror.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("package `{package}`: cannot download {url}: {reason}; with the network off, only packages already in the cache ({cache}) can be used")]
    Download {
        package: String,
        url: String,
        reason: String,
        cache: PathBuf,
    },
    #[error("package `{package}`: the cached copy {path} was modified (sha256 {actual} instead of {expected}) and was removed, and a fresh download failed: {reason}; re-run with network access")]
    TamperedAndOffline {
        package: String,
        path: PathBuf,
        expected: String,
        actual: String,
        reason: String,
    },
    #[error("package `{package}`: {url} does not match the lock: {source}; the mirror serves different content than was locked (re-run `forge lock` if the archive changed legitimately)")]
    Mismatch {
        package: String,
        url: String,
        source: CacheError,
    },
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// Why `forge lock` failed for the project.
#[derive(Debug, thiserror::Error)]
pub enum LockProjectError {
    #[error("recipe `{recipe}` has base `{base}`, which is not a recipe; add recipes/{base}.toml or fix `base`")]
    MissingBase { recipe: String, base: String },
    #[error("recipes form a base cycle: {}; a recipe cannot (indirectly) be its own base", .0.join(" -> "))]
    BaseCycle(Vec<String>),
    #[error("recipe `{recipe}`: {source}")]
    Index {
        recipe: String,
        source: Box<IndexError>,
    },
    #[error("recipe `{recipe}`: {source}")]
    Resolve {
        recipe: String,
        source: ResolveError,
    },
}

/// One recipe as `forge lock` sees it.
#[derive(Debug, Clone)]
pub struct RecipeRequest {
    pub name: String,
    /// The recipe's `base` recipe, if any.
    pub base: Option<String>,
    /// The recipe's Debian request; its `base` field is ignored and filled in by
    /// [`lock_project`] from the base chain's resolution.
    pub debian: DebianRequest,
}

fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Where the last verified InRelease of `suite` is kept in the cache. Keyed by suite only:
/// the signature, not the mirror, makes it trustworthy, so a cache filled from one mirror
/// serves another offline, and a lagging mirror cannot roll the suite back.
fn inrelease_cache_path(suite: &str) -> PathBuf {
    Path::new("indexes").join(suite).join("InRelease")
}

/// Verifies InRelease bytes and checks they describe `suite`.
fn verified_release(
    suite: &str,
    url: &str,
    bytes: &[u8],
) -> Result<(Release, &'static str), IndexError> {
    let (text, key) = release::verify_inrelease(bytes).map_err(|source| IndexError::Release {
        suite: suite.into(),
        url: url.into(),
        source,
    })?;
    let release = release::parse_release(&text).map_err(|source| IndexError::Release {
        suite: suite.into(),
        url: url.into(),
        source,
    })?;
    if release.codename != suite && release.suite != suite {
        return Err(IndexError::WrongSuite {
            suite: suite.into(),
            url: url.into(),
            found: release.codename,
        });
    }
    Ok((release, key))
}

/// Loads the Release of one suite: fresh from the mirror when reachable (refusing a rollback
/// to an older Date than the cached one), else the cached verified copy.
fn load_release(
    suite: &str,
    mirror: &str,
    cache: &Cache,
) -> Result<(Release, &'static str), IndexError> {
    let url = format!("{mirror}/dists/{suite}/InRelease");
    let cache_path = inrelease_cache_path(suite);
    let cached = match cache.read_meta(&cache_path)? {
        // Re-verify: the cache directory is not trusted any more than the network.
        Some(bytes) => match verified_release(suite, &url, &bytes) {
            Ok(release) => Some(release),
            Err(e) => {
                tracing::warn!("ignoring cached InRelease for {suite}: {e}");
                None
            }
        },
        None => None,
    };
    let release = match http::get(&url, MAX_INRELEASE_BYTES) {
        Ok(bytes) => {
            let fresh = verified_release(suite, &url, &bytes)?;
            check_not_rolled_back(suite, &fresh.0, cached.as_ref().map(|(r, _)| r))?;
            cache.write_meta(&cache_path, &bytes)?;
            fresh
        }
        Err(e) => match cached {
            Some(release) => {
                tracing::warn!(
                    "{e}; using the cached verified InRelease of {suite} (Date {})",
                    release.0.date
                );
                release
            }
            None => {
                return Err(IndexError::Unreachable {
                    suite: suite.into(),
                    url,
                    reason: e.reason,
                })
            }
        },
    };
    check_not_expired(suite, &release.0, now_epoch())?;
    Ok(release)
}

/// A mirror must not serve an older Release than one already verified (replay of old,
/// vulnerable package sets).
fn check_not_rolled_back(
    suite: &str,
    fresh: &Release,
    cached: Option<&Release>,
) -> Result<(), IndexError> {
    match cached {
        Some(old) if fresh.date_epoch < old.date_epoch => Err(IndexError::Rollback {
            suite: suite.into(),
            fresh: fresh.date.clone(),
            cached: old.date.clone(),
        }),
        _ => Ok(()),
    }
}

/// A Release past its `Valid-Until` (security and updates suites carry one) is refused.
fn check_not_expired(suite: &str, release: &Release, now: u64) -> Result<(), IndexError> {
    match release.valid_until_epoch {
        Some(valid_until) if now > valid_until => Err(IndexError::Expired {
            suite: suite.into(),
            valid_until: release.valid_until.clone().unwrap_or_default(),
        }),
        _ => Ok(()),
    }
}

/// Returns the verified `Packages.xz` bytes of a suite, from the cache or the mirror.
fn load_packages_xz(
    suite: &str,
    mirror: &str,
    arch: &str,
    release: &Release,
    cache: &Cache,
) -> Result<Vec<u8>, IndexError> {
    let rel_path = format!("{COMPONENT}/binary-{arch}/Packages.xz");
    let (sha256, size) =
        release
            .sha256
            .get(&rel_path)
            .cloned()
            .ok_or_else(|| IndexError::NoPackagesIndex {
                suite: suite.into(),
                path: rel_path.clone(),
                arch: arch.into(),
            })?;
    match cache.lookup(&sha256, size)? {
        Lookup::Hit(path) => {
            return std::fs::read(&path).map_err(|source| CacheError::Io { path, source }.into())
        }
        Lookup::Corrupt { path, .. } => tracing::warn!(
            "cached {} of {suite} was modified; downloading it again",
            path.display()
        ),
        Lookup::Miss => {}
    }
    // by-hash URLs never change content, so a mirror update between reading InRelease and
    // fetching the index cannot produce a spurious mismatch.
    let url = if release.acquire_by_hash {
        format!("{mirror}/dists/{suite}/{COMPONENT}/binary-{arch}/by-hash/SHA256/{sha256}")
    } else {
        format!("{mirror}/dists/{suite}/{rel_path}")
    };
    let bytes = http::get(&url, size).map_err(|e| IndexError::PackagesDownload {
        suite: suite.into(),
        url: url.clone(),
        reason: e.reason,
    })?;
    cache
        .put_blob(&bytes, &sha256, size)
        .map_err(|source| match source {
            CacheError::Mismatch { .. } => IndexError::PackagesMismatch {
                suite: suite.into(),
                url,
                source,
            },
            other => IndexError::Cache(other),
        })?;
    Ok(bytes)
}

/// Loads and verifies the indexes of `suites` for `arch`. InRelease signatures are checked
/// against the embedded Debian archive keys, Packages.xz against the signed SHA256 table.
/// Verified metadata is cached so the same call works offline later.
pub fn load_indexes(
    suites: &[String],
    arch: &str,
    mirrors: &Mirrors,
    cache: &Cache,
) -> Result<Indexes, IndexError> {
    let mut suite_indexes = Vec::new();
    let mut all_packages = Vec::new();
    for suite in suites {
        let mirror = mirrors.for_suite(suite);
        let (release, verified_by) = load_release(suite, mirror, cache)?;
        let xz = load_packages_xz(suite, mirror, arch, &release, cache)?;
        let corrupt = |reason: String| IndexError::PackagesCorrupt {
            suite: suite.clone(),
            path: format!("{COMPONENT}/binary-{arch}/Packages.xz"),
            reason,
        };
        let mut text = String::new();
        xz2::read::XzDecoder::new(xz.as_slice())
            .take(MAX_PACKAGES_TEXT_BYTES)
            .read_to_string(&mut text)
            .map_err(|e| corrupt(e.to_string()))?;
        all_packages.extend(packages::parse(&text, suite).map_err(corrupt)?);
        suite_indexes.push(SuiteIndex {
            name: suite.clone(),
            mirror: mirror.to_string(),
            release,
            verified_by,
        });
    }
    Ok(Indexes::new(arch, suite_indexes, all_packages))
}

/// Returns the path of a locked package's .deb in the cache, downloading it on a miss. A hit
/// needs no network; every hit is re-hashed, and a modified cached file is evicted and
/// downloaded again (or, offline, reported).
pub fn fetch(pkg: &LockedPackage, mirrors: &Mirrors, cache: &Cache) -> Result<PathBuf, FetchError> {
    let tampered = match cache.lookup(&pkg.sha256, pkg.size)? {
        Lookup::Hit(path) => return Ok(path),
        Lookup::Miss => None,
        Lookup::Corrupt {
            path,
            actual_sha256,
            ..
        } => {
            tracing::warn!(
                "cached {} of package {} was modified (sha256 {actual_sha256}); downloading it again",
                path.display(),
                pkg.name
            );
            Some((path, actual_sha256))
        }
    };
    let url = format!("{}/{}", mirrors.for_suite(&pkg.suite), pkg.filename);
    let bytes = match http::get(&url, pkg.size) {
        Ok(bytes) => bytes,
        Err(e) => {
            return Err(match tampered {
                Some((path, actual)) => FetchError::TamperedAndOffline {
                    package: pkg.name.clone(),
                    path,
                    expected: pkg.sha256.clone(),
                    actual,
                    reason: e.reason,
                },
                None => FetchError::Download {
                    package: pkg.name.clone(),
                    url,
                    reason: e.reason,
                    cache: cache.root().to_path_buf(),
                },
            })
        }
    };
    cache
        .put_blob(&bytes, &pkg.sha256, pkg.size)
        .map_err(|source| match source {
            CacheError::Mismatch { .. } => FetchError::Mismatch {
                package: pkg.name.clone(),
                url,
                source,
            },
            other => FetchError::Cache(other),
        })
}

/// Orders recipes so each comes after its base, checking every base exists and there is no cycle.
fn base_order(recipes: &[RecipeRequest]) -> Result<Vec<usize>, LockProjectError> {
    let by_name: HashMap<&str, usize> = recipes
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.as_str(), i))
        .collect();
    let mut order = Vec::new();
    let mut state = vec![0u8; recipes.len()]; // 0 new, 1 on the current path, 2 done
    let mut sorted: Vec<usize> = (0..recipes.len()).collect();
    sorted.sort_by(|&a, &b| recipes[a].name.cmp(&recipes[b].name));
    for start in sorted {
        let mut path: Vec<usize> = Vec::new();
        let mut current = Some(start);
        while let Some(i) = current {
            match state[i] {
                2 => break,
                1 => {
                    let mut cycle: Vec<String> =
                        path.iter().map(|&j| recipes[j].name.clone()).collect();
                    cycle.push(recipes[i].name.clone());
                    return Err(LockProjectError::BaseCycle(cycle));
                }
                _ => {}
            }
            state[i] = 1;
            path.push(i);
            current = match &recipes[i].base {
                None => None,
                Some(base) => Some(*by_name.get(base.as_str()).ok_or_else(|| {
                    LockProjectError::MissingBase {
                        recipe: recipes[i].name.clone(),
                        base: base.clone(),
                    }
                })?),
            };
        }
        for &i in path.iter().rev() {
            state[i] = 2;
            order.push(i);
        }
    }
    Ok(order)
}

/// The packages a recipe inherits: everything its base chain resolved, base first.
pub fn inherited_packages(lock: &Lock, base_chain: &[&str]) -> Vec<LockedPackage> {
    base_chain
        .iter()
        .filter_map(|name| lock.recipe(name))
        .flat_map(|r| r.packages.iter().cloned())
        .collect()
}

/// Resolves every recipe (bases first, each recipe's closure minus its base chain) into a
/// lock. Indexes are loaded once per distinct (suites, arch).
pub fn lock_project(
    recipes: &[RecipeRequest],
    mirrors: &Mirrors,
    cache: &Cache,
) -> Result<Lock, LockProjectError> {
    let order = base_order(recipes)?;
    let mut loaded: Vec<((Vec<String>, String), Indexes)> = Vec::new();
    // Epoch and suites are filled in once every index is loaded.
    let mut lock = Lock::new(0, Vec::new());
    for i in order {
        let recipe = &recipes[i];
        let key = (recipe.debian.suites.clone(), recipe.debian.arch.clone());
        let position = match loaded.iter().position(|(k, _)| *k == key) {
            Some(p) => p,
            None => {
                let indexes = load_indexes(&key.0, &key.1, mirrors, cache).map_err(|source| {
                    LockProjectError::Index {
                        recipe: recipe.name.clone(),
                        source: Box::new(source),
                    }
                })?;
                loaded.push((key, indexes));
                loaded.len() - 1
            }
        };
        let indexes = &loaded[position].1;
        let mut chain = Vec::new();
        let mut base = recipe.base.as_deref();
        while let Some(name) = base {
            chain.push(name);
            base = recipes
                .iter()
                .find(|r| r.name == name)
                .and_then(|r| r.base.as_deref());
        }
        let mut request = recipe.debian.clone();
        request.base = inherited_packages(&lock, &chain);
        let packages = resolve(&request, indexes).map_err(|source| LockProjectError::Resolve {
            recipe: recipe.name.clone(),
            source,
        })?;
        lock.upsert_recipe(LockedRecipe {
            name: recipe.name.clone(),
            inputs: inputs_digest(&request),
            packages,
        });
    }
    for (_, indexes) in &loaded {
        lock.source_date_epoch = lock.source_date_epoch.max(indexes.source_date_epoch());
        for suite in indexes.locked_suites() {
            if !lock.suites.iter().any(|s| s.name == suite.name) {
                lock.suites.push(suite);
            }
        }
    }
    Ok(lock)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe(name: &str, base: Option<&str>) -> RecipeRequest {
        RecipeRequest {
            name: name.into(),
            base: base.map(Into::into),
            debian: DebianRequest {
                packages: vec![],
                exclude: vec![],
                suites: vec![],
                arch: "amd64".into(),
                base: vec![],
            },
        }
    }

    #[test]
    fn bases_come_first() {
        let recipes = [
            recipe("app", Some("python")),
            recipe("python", Some("base")),
            recipe("base", None),
        ];
        let order: Vec<&str> = base_order(&recipes)
            .unwrap()
            .into_iter()
            .map(|i| recipes[i].name.as_str())
            .collect();
        assert_eq!(order, ["base", "python", "app"]);
    }

    #[test]
    fn missing_base_and_cycles_are_errors() {
        let err = base_order(&[recipe("app", Some("nope"))]).unwrap_err();
        assert!(err.to_string().contains("base `nope`"), "{err}");
        let err = base_order(&[recipe("a", Some("b")), recipe("b", Some("a"))]).unwrap_err();
        assert!(err.to_string().contains("a -> b -> a"), "{err}");
    }

    fn security_release() -> Release {
        let fixture = include_bytes!("testdata/trixie-security.InRelease");
        let (text, _) = release::verify_inrelease(fixture).unwrap();
        release::parse_release(&text).unwrap()
    }

    #[test]
    fn expired_release_is_refused() {
        let release = security_release();
        let valid_until = release.valid_until_epoch.unwrap();
        assert!(check_not_expired("trixie-security", &release, valid_until - 1).is_ok());
        let err = check_not_expired("trixie-security", &release, valid_until + 1).unwrap_err();
        assert!(matches!(err, IndexError::Expired { .. }), "{err}");
        assert!(
            err.to_string().contains("Valid-Until Sat, 05 Dec 2026"),
            "{err}"
        );
    }

    #[test]
    fn rolled_back_release_is_refused() {
        let current = security_release();
        let mut older = current.clone();
        older.date_epoch -= 86_400;
        older.date = "one day earlier".into();
        assert!(check_not_rolled_back("trixie-security", &current, Some(&older)).is_ok());
        assert!(check_not_rolled_back("trixie-security", &current, None).is_ok());
        let err = check_not_rolled_back("trixie-security", &older, Some(&current)).unwrap_err();
        assert!(matches!(err, IndexError::Rollback { .. }), "{err}");
    }

    #[test]
    fn security_suites_use_the_security_mirror() {
        let m = Mirrors {
            debian: "http://d/debian".into(),
            security: "http://d/debian-security".into(),
        };
        assert_eq!(m.for_suite("trixie-security"), "http://d/debian-security");
        assert_eq!(m.for_suite("trixie-updates"), "http://d/debian");
    }
}
