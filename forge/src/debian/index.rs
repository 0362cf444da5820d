//! The verified package universe of a lock run: every suite's Release and packages, with the
//! "candidate" of each name (newest version across suites, as apt picks with equal pin
//! priorities; a tie goes to the suite listed first) and the providers of each virtual name.

use std::collections::HashMap;

use super::packages::BinaryPackage;
use super::relation::{self, Alternative};
use super::release::Release;
use super::version;
use crate::lock::LockedSuite;

/// One suite as loaded: where it came from, its verified Release, which key vouched for it.
#[derive(Debug, Clone)]
pub struct SuiteIndex {
    pub name: String,
    pub mirror: String,
    pub release: Release,
    pub verified_by: &'static str,
}

/// All packages of the requested suites for one architecture.
#[derive(Debug)]
pub struct Indexes {
    pub arch: String,
    pub suites: Vec<SuiteIndex>,
    packages: Vec<BinaryPackage>,
    candidates: HashMap<String, usize>,
    /// Virtual name -> (candidate index, provided version).
    providers: HashMap<String, Vec<(usize, Option<String>)>>,
}

impl Indexes {
    /// Builds the universe from packages listed in suite order. Packages of other
    /// architectures than `arch` and `all` are ignored.
    pub fn new(arch: &str, suites: Vec<SuiteIndex>, packages: Vec<BinaryPackage>) -> Indexes {
        let packages: Vec<BinaryPackage> = packages
            .into_iter()
            .filter(|p| p.arch == arch || p.arch == "all")
            .collect();
        let mut candidates: HashMap<String, usize> = HashMap::new();
        for (i, p) in packages.iter().enumerate() {
            match candidates.get(&p.name) {
                Some(&j) if version::compare(&p.version, &packages[j].version).is_le() => {}
                _ => {
                    candidates.insert(p.name.clone(), i);
                }
            }
        }
        let mut providers: HashMap<String, Vec<(usize, Option<String>)>> = HashMap::new();
        let mut candidate_indices: Vec<usize> = candidates.values().copied().collect();
        candidate_indices.sort_by(|&a, &b| {
            (packages[a].priority, &packages[a].name)
                .cmp(&(packages[b].priority, &packages[b].name))
        });
        for i in candidate_indices {
            // A malformed Provides only matters if the package is ever needed; its own
            // dependency parse will then report the stanza.
            for provided in relation::parse_provides(&packages[i].provides).unwrap_or_default() {
                let version = provided.constraint.map(|(_, v)| v);
                providers
                    .entry(provided.name)
                    .or_default()
                    .push((i, version));
            }
        }
        Indexes {
            arch: arch.to_string(),
            suites,
            packages,
            candidates,
            providers,
        }
    }

    /// The package apt would install for `name`, if any real package has that name.
    pub fn candidate(&self, name: &str) -> Option<&BinaryPackage> {
        self.candidates.get(name).map(|&i| &self.packages[i])
    }

    /// Candidates that provide `name`, most important `Priority` first, then by name, with
    /// the provided version.
    pub fn providers(&self, name: &str) -> impl Iterator<Item = (&BinaryPackage, Option<&str>)> {
        self.providers
            .get(name)
            .into_iter()
            .flatten()
            .map(|(i, v)| (&self.packages[*i], v.as_deref()))
    }

    /// A specific version of a package, in any suite (for packages a base recipe locked).
    pub fn exact(&self, name: &str, version: &str) -> Option<&BinaryPackage> {
        self.packages
            .iter()
            .find(|p| p.name == name && p.version == version)
    }

    /// Whether `alt`'s name, qualifier and version constraint accept the real package `pkg`.
    pub fn accepts(&self, alt: &Alternative, pkg_version: &str) -> bool {
        self.arch_qualifier_ok(alt)
            && alt
                .constraint
                .as_ref()
                .is_none_or(|(op, v)| op.holds(pkg_version, v))
    }

    /// `:any` and `:native` are satisfiable in a single-architecture image; an explicit
    /// foreign architecture is not.
    pub fn arch_qualifier_ok(&self, alt: &Alternative) -> bool {
        match alt.arch.as_deref() {
            None | Some("any") | Some("native") => true,
            Some(arch) => arch == self.arch,
        }
    }

    /// Suites for the lock, in request order.
    pub fn locked_suites(&self) -> Vec<LockedSuite> {
        self.suites
            .iter()
            .map(|s| LockedSuite {
                name: s.name.clone(),
                date: s.release.date.clone(),
            })
            .collect()
    }

    /// The newest Release date: a reproducible timestamp for everything built from this lock.
    pub fn source_date_epoch(&self) -> u64 {
        self.suites
            .iter()
            .map(|s| s.release.date_epoch)
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A synthetic package for resolver tests.
    pub fn pkg(
        name: &str,
        version: &str,
        suite: &str,
        depends: &str,
        provides: &str,
    ) -> BinaryPackage {
        BinaryPackage {
            name: name.into(),
            version: version.into(),
            arch: "amd64".into(),
            source: name.into(),
            suite: suite.into(),
            filename: format!("pool/main/{name}_{version}_amd64.deb"),
            size: 1,
            sha256: "0".repeat(64),
            pre_depends: String::new(),
            depends: depends.into(),
            provides: provides.into(),
            priority: 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::pkg;
    use super::*;

    #[test]
    fn newest_version_wins_across_suites_and_ties_go_to_the_first_suite() {
        let mut security = pkg("libc6", "2.41-12+deb13u1", "trixie-security", "", "");
        security.filename = "security".into();
        let mut same_in_updates = pkg("tzdata", "2025b-4", "trixie-updates", "", "");
        same_in_updates.filename = "updates".into();
        let idx = Indexes::new(
            "amd64",
            vec![],
            vec![
                pkg("libc6", "2.41-12", "trixie", "", ""),
                pkg("tzdata", "2025b-4", "trixie", "", ""),
                same_in_updates,
                security,
            ],
        );
        assert_eq!(idx.candidate("libc6").unwrap().suite, "trixie-security");
        assert_eq!(idx.candidate("tzdata").unwrap().suite, "trixie");
    }

    #[test]
    fn foreign_architectures_are_ignored() {
        let mut arm = pkg("x", "9", "trixie", "", "");
        arm.arch = "arm64".into();
        let idx = Indexes::new("amd64", vec![], vec![pkg("x", "1", "trixie", "", ""), arm]);
        assert_eq!(idx.candidate("x").unwrap().version, "1");
    }
}
