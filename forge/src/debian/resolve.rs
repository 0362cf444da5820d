//! Dependency closure: from the requested packages, follow Pre-Depends and Depends through
//! versioned constraints, virtual packages (Provides) and alternatives until nothing new is
//! needed. Deterministic: requests are visited in sorted order, breadth first, and every
//! choice depends only on the indexes and what was chosen before.
//!
//! Rules, in the order applied to each dependency group `a | b | c`:
//! 1. satisfied by a package already chosen (or provided by the base recipe): done;
//! 2. any alternative names an excluded package: the group is cut, not followed;
//! 3. the first alternative a real package or a provider can satisfy is chosen.
//!
//! Maintainer scripts never run in a forge image, so dependencies that exist only for them
//! (debconf, perl for ca-certificates' postinst, ...) are what `exclude` is for.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use super::index::Indexes;
use super::packages::BinaryPackage;
use super::relation::{self, Alternative, Group};
use super::DebianRequest;
use crate::lock::LockedPackage;

/// Why a closure could not be computed. `chain` runs from the requested package to the one at
/// fault.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("unknown package `{name}` requested by the recipe: {hint}")]
    UnknownPackage {
        name: String,
        chain: Vec<String>,
        hint: String,
    },
    #[error("unsatisfiable dependency `{dependency}` of `{package}` (chain: {}): {reason}; if only maintainer scripts need it, add it to the recipe's `exclude`", chain.join(" -> "))]
    Unsatisfiable {
        package: String,
        dependency: String,
        chain: Vec<String>,
        reason: String,
    },
    #[error(
        "package `{name}` is both requested and excluded; remove it from one of the two lists"
    )]
    RequestedAndExcluded { name: String },
    #[error("package `{package}` ({suite}) has a malformed {field} field: {message}")]
    BadField {
        package: String,
        suite: String,
        field: &'static str,
        message: String,
    },
}

/// What the resolver knows is installed: the base recipe's packages and everything chosen.
struct Installed<'a> {
    indexes: &'a Indexes,
    /// name -> version
    real: HashMap<String, String>,
    /// virtual name -> provided versions (None = unversioned)
    provided: HashMap<String, Vec<Option<String>>>,
}

impl<'a> Installed<'a> {
    fn add(&mut self, name: &str, version: &str, provides: &str) {
        self.real.insert(name.to_string(), version.to_string());
        for p in relation::parse_provides(provides).unwrap_or_default() {
            self.provided
                .entry(p.name)
                .or_default()
                .push(p.constraint.map(|(_, v)| v));
        }
    }

    fn satisfies(&self, alt: &Alternative) -> bool {
        if let Some(version) = self.real.get(&alt.name) {
            if self.indexes.accepts(alt, version) {
                return true;
            }
        }
        let Some(provided) = self.provided.get(&alt.name) else {
            return false;
        };
        if !self.indexes.arch_qualifier_ok(alt) {
            return false;
        }
        match &alt.constraint {
            None => !provided.is_empty(),
            Some((op, wanted)) => provided.iter().flatten().any(|v| op.holds(v, wanted)),
        }
    }
}

/// Computes the closure of `req.packages`, minus `req.base`, sorted by name.
pub fn resolve(req: &DebianRequest, indexes: &Indexes) -> Result<Vec<LockedPackage>, ResolveError> {
    let excluded: BTreeSet<&str> = req.exclude.iter().map(String::as_str).collect();
    let mut installed = Installed {
        indexes,
        real: HashMap::new(),
        provided: HashMap::new(),
    };
    for base in &req.base {
        // The base was locked earlier; its Provides come from the same version in the indexes
        // (or, if the mirror moved on, from the current candidate).
        let provides = indexes
            .exact(&base.name, &base.version)
            .or_else(|| indexes.candidate(&base.name))
            .map_or("", |p| p.provides.as_str());
        installed.add(&base.name, &base.version, provides);
    }

    let mut chosen: BTreeMap<String, &BinaryPackage> = BTreeMap::new();
    let mut parent: HashMap<String, String> = HashMap::new();
    let mut queue: VecDeque<&BinaryPackage> = VecDeque::new();
    let chain_of = |parent: &HashMap<String, String>, name: &str| {
        let mut chain = vec![name.to_string()];
        while let Some(p) = parent.get(chain.last().unwrap()) {
            chain.push(p.clone());
        }
        chain.reverse();
        chain
    };

    let mut requested: Vec<&str> = req.packages.iter().map(String::as_str).collect();
    requested.sort();
    requested.dedup();
    for name in requested {
        if excluded.contains(name) {
            return Err(ResolveError::RequestedAndExcluded {
                name: name.to_string(),
            });
        }
        if installed.real.contains_key(name) {
            continue;
        }
        let Some(pkg) = indexes.candidate(name) else {
            let providers: Vec<&str> = indexes
                .providers(name)
                .map(|(p, _)| p.name.as_str())
                .collect();
            let hint = if providers.is_empty() {
                format!(
                    "no such package in suites {}; check the spelling in the recipe",
                    req.suites.join(", ")
                )
            } else {
                format!(
                    "it is a virtual package; name one of its providers instead: {}",
                    providers.join(", ")
                )
            };
            return Err(ResolveError::UnknownPackage {
                name: name.to_string(),
                chain: vec![name.to_string()],
                hint,
            });
        };
        installed.add(&pkg.name, &pkg.version, &pkg.provides);
        chosen.insert(pkg.name.clone(), pkg);
        queue.push_back(pkg);
    }

    while let Some(pkg) = queue.pop_front() {
        for (field, text) in [("Pre-Depends", &pkg.pre_depends), ("Depends", &pkg.depends)] {
            let groups =
                relation::parse_depends(text).map_err(|message| ResolveError::BadField {
                    package: pkg.name.clone(),
                    suite: pkg.suite.clone(),
                    field,
                    message,
                })?;
            for group in groups {
                if group.0.iter().any(|alt| installed.satisfies(alt)) {
                    continue;
                }
                if group
                    .0
                    .iter()
                    .any(|alt| excluded.contains(alt.name.as_str()))
                {
                    continue;
                }
                let Some(next) = choose(&group, indexes, &excluded) else {
                    return Err(ResolveError::Unsatisfiable {
                        package: pkg.name.clone(),
                        dependency: group.to_string(),
                        chain: chain_of(&parent, &pkg.name),
                        reason: explain(&group, indexes),
                    });
                };
                if chosen.contains_key(&next.name) || installed.real.contains_key(&next.name) {
                    // The candidate is already in (at a version the constraint rejects).
                    return Err(ResolveError::Unsatisfiable {
                        package: pkg.name.clone(),
                        dependency: group.to_string(),
                        chain: chain_of(&parent, &pkg.name),
                        reason: format!(
                            "`{}` is already in at version {} (from the base recipe or an earlier choice)",
                            next.name, installed.real[&next.name]
                        ),
                    });
                }
                installed.add(&next.name, &next.version, &next.provides);
                parent.insert(next.name.clone(), pkg.name.clone());
                chosen.insert(next.name.clone(), next);
                queue.push_back(next);
            }
        }
    }

    Ok(chosen
        .into_values()
        .map(|p| LockedPackage {
            name: p.name.clone(),
            version: p.version.clone(),
            arch: p.arch.clone(),
            source: p.source.clone(),
            suite: p.suite.clone(),
            filename: p.filename.clone(),
            size: p.size,
            sha256: p.sha256.clone(),
        })
        .collect())
}

/// The first alternative a real package or (failing that) a provider can satisfy.
fn choose<'a>(
    group: &Group,
    indexes: &'a Indexes,
    excluded: &BTreeSet<&str>,
) -> Option<&'a BinaryPackage> {
    for alt in &group.0 {
        if let Some(pkg) = indexes.candidate(&alt.name) {
            if indexes.accepts(alt, &pkg.version) {
                return Some(pkg);
            }
        }
        if !indexes.arch_qualifier_ok(alt) {
            continue;
        }
        let provider = indexes.providers(&alt.name).find(|(p, provided)| {
            !excluded.contains(p.name.as_str())
                && match (&alt.constraint, provided) {
                    (None, _) => true,
                    (Some((op, wanted)), Some(v)) => op.holds(v, wanted),
                    (Some(_), None) => false,
                }
        });
        if let Some((pkg, _)) = provider {
            return Some(pkg);
        }
    }
    None
}

/// Says, per alternative, why it could not be used.
fn explain(group: &Group, indexes: &Indexes) -> String {
    group
        .0
        .iter()
        .map(|alt| match indexes.candidate(&alt.name) {
            Some(p) if !indexes.arch_qualifier_ok(alt) => format!(
                "`{}` is not available for architecture `{}`",
                p.name,
                alt.arch.as_deref().unwrap_or("")
            ),
            Some(p) => format!(
                "`{}` is at version {} which does not satisfy `{alt}`",
                p.name, p.version
            ),
            None if indexes.providers(&alt.name).next().is_some() => {
                format!("no provider of `{alt}` matches (or all are excluded)")
            }
            None => format!("no package `{}` exists in the suites", alt.name),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::super::index::testing::pkg;
    use super::*;

    fn request(packages: &[&str], exclude: &[&str]) -> DebianRequest {
        DebianRequest {
            packages: packages.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
            suites: vec!["trixie".into()],
            arch: "amd64".into(),
            base: vec![],
        }
    }

    fn names(closure: &[LockedPackage]) -> Vec<&str> {
        closure.iter().map(|p| p.name.as_str()).collect()
    }

    fn universe(pkgs: Vec<BinaryPackage>) -> Indexes {
        Indexes::new("amd64", vec![], pkgs)
    }

    #[test]
    fn follows_depends_and_pre_depends() {
        let mut app = pkg("app", "1", "trixie", "liba (>= 2)", "");
        app.pre_depends = "libpre".into();
        let idx = universe(vec![
            app,
            pkg("liba", "2.1", "trixie", "libc6", ""),
            pkg("libc6", "2.41", "trixie", "", ""),
            pkg("libpre", "1", "trixie", "", ""),
            pkg("unrelated", "1", "trixie", "", ""),
        ]);
        let closure = resolve(&request(&["app"], &[]), &idx).unwrap();
        assert_eq!(names(&closure), ["app", "liba", "libc6", "libpre"]);
    }

    #[test]
    fn newest_version_across_suites_is_locked() {
        let idx = universe(vec![
            pkg("libc6", "2.41-12", "trixie", "", ""),
            pkg("libc6", "2.41-12+deb13u1", "trixie-security", "", ""),
        ]);
        let closure = resolve(&request(&["libc6"], &[]), &idx).unwrap();
        assert_eq!(closure[0].version, "2.41-12+deb13u1");
        assert_eq!(closure[0].suite, "trixie-security");
    }

    #[test]
    fn virtual_packages_resolve_through_provides() {
        let idx = universe(vec![
            pkg("app", "1", "trixie", "awk", ""),
            pkg("mawk", "1.3", "trixie", "", "awk"),
            pkg("gawk", "5", "trixie", "", "awk"),
        ]);
        let closure = resolve(&request(&["app"], &[]), &idx).unwrap();
        assert_eq!(
            names(&closure),
            ["app", "gawk"],
            "equally important providers are tried in name order"
        );
    }

    #[test]
    fn most_important_provider_wins() {
        let mut mawk = pkg("mawk", "1.3", "trixie", "", "awk");
        mawk.priority = 0;
        let idx = universe(vec![
            pkg("app", "1", "trixie", "awk", ""),
            mawk,
            pkg("gawk", "5", "trixie", "", "awk"),
        ]);
        assert_eq!(
            names(&resolve(&request(&["app"], &[]), &idx).unwrap()),
            ["app", "mawk"]
        );
    }

    #[test]
    fn versioned_dependency_needs_versioned_provides() {
        let idx = universe(vec![
            pkg("app", "1", "trixie", "libfoo-abi (>= 2)", ""),
            pkg("old", "1", "trixie", "", "libfoo-abi"),
            pkg("new", "1", "trixie", "", "libfoo-abi (= 3)"),
        ]);
        let closure = resolve(&request(&["app"], &[]), &idx).unwrap();
        assert_eq!(names(&closure), ["app", "new"]);
    }

    #[test]
    fn first_satisfiable_alternative_is_chosen() {
        let idx = universe(vec![
            pkg("app", "1", "trixie", "missing | liba (>= 9) | libb", ""),
            pkg("liba", "1", "trixie", "", ""),
            pkg("libb", "1", "trixie", "", ""),
        ]);
        let closure = resolve(&request(&["app"], &[]), &idx).unwrap();
        assert_eq!(names(&closure), ["app", "libb"]);
    }

    #[test]
    fn already_selected_alternative_is_preferred() {
        let idx = universe(vec![
            pkg("app", "1", "trixie", "liba | libb", ""),
            pkg("liba", "1", "trixie", "", ""),
            pkg("libb", "1", "trixie", "", ""),
        ]);
        let closure = resolve(&request(&["app", "libb"], &[]), &idx).unwrap();
        assert_eq!(names(&closure), ["app", "libb"]);
    }

    #[test]
    fn any_qualifier_is_satisfied_and_foreign_arch_is_not() {
        let idx = universe(vec![
            pkg("app", "1", "trixie", "python3:any (>= 3.13)", ""),
            pkg("python3", "3.13.5-1", "trixie", "", ""),
            pkg("bad", "1", "trixie", "python3:arm64", ""),
        ]);
        assert_eq!(
            names(&resolve(&request(&["app"], &[]), &idx).unwrap()),
            ["app", "python3"]
        );
        let err = resolve(&request(&["bad"], &[]), &idx).unwrap_err();
        assert!(
            err.to_string().contains("not available for architecture"),
            "{err}"
        );
    }

    #[test]
    fn exclude_cuts_dependencies_and_alternative_groups() {
        let idx = universe(vec![
            pkg(
                "ca-certificates",
                "1",
                "trixie",
                "openssl (>= 1.1.1), debconf (>= 0.5) | debconf-2.0",
                "",
            ),
            pkg("openssl", "3", "trixie", "", ""),
            pkg("debconf", "1", "trixie", "perl-base", "debconf-2.0"),
            pkg("perl-base", "5", "trixie", "", ""),
        ]);
        let closure = resolve(
            &request(&["ca-certificates"], &["debconf", "openssl"]),
            &idx,
        )
        .unwrap();
        assert_eq!(names(&closure), ["ca-certificates"]);
    }

    #[test]
    fn base_packages_satisfy_dependencies_and_are_left_out() {
        let idx = universe(vec![
            pkg("app", "1", "trixie", "libc6 (>= 2.36)", ""),
            pkg("libc6", "2.41", "trixie", "", ""),
        ]);
        let mut req = request(&["app"], &[]);
        req.base = resolve(&request(&["libc6"], &[]), &idx).unwrap();
        assert_eq!(names(&resolve(&req, &idx).unwrap()), ["app"]);
    }

    #[test]
    fn unknown_package_names_it_and_hints_at_providers() {
        let idx = universe(vec![pkg("mawk", "1", "trixie", "", "awk")]);
        let err = resolve(&request(&["nope"], &[]), &idx).unwrap_err();
        assert!(err.to_string().contains("unknown package `nope`"), "{err}");
        let err = resolve(&request(&["awk"], &[]), &idx).unwrap_err();
        assert!(err.to_string().contains("mawk"), "{err}");
    }

    #[test]
    fn unsatisfiable_dependency_names_the_chain() {
        let idx = universe(vec![
            pkg("app", "1", "trixie", "liba", ""),
            pkg("liba", "1", "trixie", "libb (>= 2)", ""),
            pkg("libb", "1", "trixie", "", ""),
        ]);
        let err = resolve(&request(&["app"], &[]), &idx).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`libb (>= 2)` of `liba`"), "{text}");
        assert!(text.contains("chain: app -> liba"), "{text}");
        assert!(text.contains("version 1"), "{text}");
        match err {
            ResolveError::Unsatisfiable { chain, .. } => assert_eq!(chain, ["app", "liba"]),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn requesting_an_excluded_package_is_an_error() {
        let idx = universe(vec![pkg("a", "1", "trixie", "", "")]);
        assert!(matches!(
            resolve(&request(&["a"], &["a"]), &idx),
            Err(ResolveError::RequestedAndExcluded { .. })
        ));
    }

    #[test]
    fn malformed_dependency_field_names_the_package() {
        let idx = universe(vec![pkg("a", "1", "trixie", "b [amd64]", "")]);
        let err = resolve(&request(&["a"], &[]), &idx).unwrap_err();
        assert!(
            err.to_string().contains("`a`") && err.to_string().contains("Depends"),
            "{err}"
        );
    }
}
