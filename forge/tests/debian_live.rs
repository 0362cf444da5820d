//! Live tests against the real Debian archive (deb.debian.org over plain HTTP), plus a
//! loopback "mirror" that serves tampered metadata. They check the trust chain end to end:
//! embedded keys -> InRelease -> Packages.xz -> .deb, the resolver on the real trixie
//! universe, and that a warm cache works with the network unreachable.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::OnceLock;

use forge::cache::Cache;
use forge::debian::{
    self, deb, DebianRequest, FetchError, IndexError, Indexes, Mirrors, RecipeRequest, ResolveError,
};
use forge::lock::{Lock, LockedPackage};

const SUITES: [&str; 3] = ["trixie", "trixie-updates", "trixie-security"];
/// Packages that must never end up in a distroless closure.
const FORBIDDEN: [&str; 8] = [
    "dash",
    "bash",
    "busybox",
    "dpkg",
    "apt",
    "perl-base",
    "debconf",
    "coreutils",
];

/// The base recipe's request: the distroless `cc` set. Distroless hand-picks these packages and
/// never installs what only maintainer scripts need; forge gets the same result by resolving
/// and cutting those dependencies with `exclude`.
fn base_request() -> DebianRequest {
    DebianRequest {
        packages: [
            "base-files",
            "netbase",
            "tzdata",
            "ca-certificates",
            "libc6",
            "libgcc-s1",
            "libstdc++6",
        ]
        .map(String::from)
        .to_vec(),
        exclude: [
            "awk",     // base-files Pre-Depends: awk, only for its postinst
            "debconf", // tzdata/ca-certificates only use it from postinst (it is Perl, which is Essential and so undeclared)
            "openssl", // ca-certificates' postinst runs update-ca-certificates; forge builds the bundle itself
        ]
        .map(String::from)
        .to_vec(),
        suites: SUITES.map(String::from).to_vec(),
        arch: "amd64".into(),
        base: vec![],
    }
}

fn python_request(base: Vec<LockedPackage>) -> DebianRequest {
    DebianRequest {
        packages: vec!["python3.13-minimal".into(), "libpython3.13-stdlib".into()],
        exclude: vec![],
        suites: SUITES.map(String::from).to_vec(),
        arch: "amd64".into(),
        base,
    }
}

fn real_mirrors() -> Mirrors {
    Mirrors {
        debian: "http://deb.debian.org/debian".into(),
        security: "http://deb.debian.org/debian-security".into(),
    }
}

/// Mirrors nobody listens on (port 9 on loopback is closed): the network is "off".
fn offline_mirrors() -> Mirrors {
    Mirrors {
        debian: "http://127.0.0.1:9/debian".into(),
        security: "http://127.0.0.1:9/debian-security".into(),
    }
}

/// One cache and one loaded universe shared by the read-only tests (loading trixie is ~1 s).
fn shared() -> &'static (tempfile::TempDir, Indexes) {
    static SHARED: OnceLock<(tempfile::TempDir, Indexes)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path());
        let suites: Vec<String> = SUITES.map(String::from).to_vec();
        let indexes = debian::load_indexes(&suites, "amd64", &real_mirrors(), &cache)
            .expect("live trixie indexes");
        (dir, indexes)
    })
}

fn names(closure: &[LockedPackage]) -> BTreeSet<&str> {
    closure.iter().map(|p| p.name.as_str()).collect()
}

fn assert_distroless(closure: &[LockedPackage]) {
    for pkg in closure {
        assert!(
            !FORBIDDEN.contains(&pkg.name.as_str()),
            "closure contains `{}`",
            pkg.name
        );
    }
}

#[test]
fn live_indexes_are_verified_with_embedded_keys() {
    let (_, indexes) = shared();
    assert_eq!(indexes.suites.len(), 3);
    for suite in &indexes.suites {
        assert!(
            suite.verified_by.contains("13/trixie"),
            "{} verified by {}",
            suite.name,
            suite.verified_by
        );
    }
    assert!(
        indexes.source_date_epoch() > 1_750_000_000,
        "Release dates are recent"
    );
    assert!(indexes.candidate("libc6").is_some());
}

#[test]
fn live_base_closure_is_the_distroless_cc_set() {
    let (_, indexes) = shared();
    let closure = debian::resolve(&base_request(), indexes).unwrap();
    assert_eq!(
        names(&closure),
        BTreeSet::from([
            "base-files",
            "ca-certificates",
            "gcc-14-base",
            "libc6",
            "libgcc-s1",
            "libstdc++6",
            "netbase",
            "tzdata"
        ])
    );
    assert_distroless(&closure);
    for pkg in &closure {
        assert_eq!(pkg.sha256.len(), 64);
        assert!(pkg.filename.starts_with("pool/"), "{}", pkg.filename);
    }
}

#[test]
fn live_base_without_excludes_would_pull_debconf_openssl_and_awk() {
    let (_, indexes) = shared();
    let mut req = base_request();
    req.exclude.clear();
    let closure = debian::resolve(&req, indexes).unwrap();
    let closure = names(&closure);
    for pulled in ["debconf", "openssl", "mawk"] {
        assert!(
            closure.contains(pulled),
            "{pulled} missing from {closure:?}"
        );
    }
}

#[test]
fn live_python_closure_on_top_of_base_has_no_shell() {
    let (_, indexes) = shared();
    let base = debian::resolve(&base_request(), indexes).unwrap();
    let closure = debian::resolve(&python_request(base.clone()), indexes).unwrap();
    let got = names(&closure);
    for wanted in [
        "python3.13-minimal",
        "libpython3.13-minimal",
        "libpython3.13-stdlib",
        "libssl3t64",
        "libexpat1",
        "zlib1g",
        "libsqlite3-0",
        "media-types",
    ] {
        assert!(got.contains(wanted), "missing {wanted}: {got:?}");
    }
    for inherited in names(&base) {
        assert!(
            !got.contains(inherited),
            "{inherited} comes from the base and must not be repeated"
        );
    }
    assert_distroless(&closure);
}

#[test]
fn live_unknown_package_is_named() {
    let (_, indexes) = shared();
    let mut req = base_request();
    req.packages.push("no-such-package-forge".into());
    let err = debian::resolve(&req, indexes).unwrap_err();
    assert!(
        matches!(err, ResolveError::UnknownPackage { ref name, .. } if name == "no-such-package-forge"),
        "{err}"
    );
}

#[test]
fn live_unsatisfiable_dependency_names_the_chain() {
    let (_, indexes) = shared();
    // A base that pins libpython3.13-minimal at a version python3.13-minimal's exact
    // `(= version)` dependency rejects: the real package cannot be installed twice.
    let mut req = base_request();
    req.packages = vec!["python3.13-minimal".into()];
    req.exclude = vec![];
    req.base = vec![LockedPackage {
        name: "libpython3.13-minimal".into(),
        version: "0.0-1".into(),
        arch: "amd64".into(),
        source: "python3.13".into(),
        suite: "trixie".into(),
        filename: "pool/x.deb".into(),
        size: 1,
        sha256: "0".repeat(64),
    }];
    let err = debian::resolve(&req, indexes).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("libpython3.13-minimal (= "), "{text}");
    assert!(text.contains("chain: python3.13-minimal"), "{text}");
}

#[test]
fn live_fetch_verifies_reads_and_survives_tampering() {
    let (_, indexes) = shared();
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path());
    let netbase = debian::resolve(
        &DebianRequest {
            packages: vec!["netbase".into()],
            ..base_request()
        },
        indexes,
    )
    .unwrap();
    let netbase = &netbase[0];

    let path = debian::fetch(netbase, &real_mirrors(), &cache).unwrap();
    let contents = deb::read_deb(&path, "netbase").unwrap();
    assert!(contents.control.contains("Package: netbase"));
    assert!(contents.entries.iter().any(|e| e.path == "etc/services"));

    // A warm cache needs no network.
    assert_eq!(
        debian::fetch(netbase, &offline_mirrors(), &cache).unwrap(),
        path
    );

    // Tampered with: detected and downloaded again.
    std::fs::write(&path, b"not netbase").unwrap();
    let again = debian::fetch(netbase, &real_mirrors(), &cache).unwrap();
    assert_eq!(forge::cache::sha256_file(&again).unwrap().0, netbase.sha256);

    // Tampered with and offline: a clear error, and the bad file is gone.
    std::fs::write(&path, b"not netbase").unwrap();
    let err = debian::fetch(netbase, &offline_mirrors(), &cache).unwrap_err();
    assert!(
        matches!(err, FetchError::TamperedAndOffline { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("`netbase`") && err.to_string().contains("was modified"),
        "{err}"
    );
    assert!(!path.exists());
}

#[test]
fn live_real_base_and_python_debs_read_cleanly() {
    let (_, indexes) = shared();
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path());
    let base = debian::resolve(&base_request(), indexes).unwrap();
    let python = debian::resolve(&python_request(base.clone()), indexes).unwrap();
    for pkg in base.into_iter().chain(python) {
        let path = debian::fetch(&pkg, &real_mirrors(), &cache).unwrap();
        let contents = deb::read_deb(&path, &pkg.name).unwrap_or_else(|e| panic!("{e}"));
        assert!(!contents.entries.is_empty(), "{}", pkg.name);
        if pkg.name == "libc6" {
            assert!(contents.md5sums.is_some());
            assert!(contents
                .entries
                .iter()
                .any(|e| e.path.ends_with("libc.so.6")));
        }
        if pkg.name == "python3.13-minimal" {
            assert!(contents
                .entries
                .iter()
                .any(|e| e.path == "usr/bin/python3.13"));
        }
    }
}

#[test]
fn live_warm_index_cache_works_offline() {
    let (dir, online) = shared();
    let cache = Cache::at(dir.path());
    let suites: Vec<String> = SUITES.map(String::from).to_vec();
    let offline = debian::load_indexes(&suites, "amd64", &offline_mirrors(), &cache)
        .expect("offline from cache");
    assert_eq!(offline.source_date_epoch(), online.source_date_epoch());
    assert_eq!(
        offline.candidate("libc6").unwrap().version,
        online.candidate("libc6").unwrap().version
    );

    let empty = tempfile::tempdir().unwrap();
    let err = debian::load_indexes(
        &suites,
        "amd64",
        &offline_mirrors(),
        &Cache::at(empty.path()),
    )
    .unwrap_err();
    assert!(matches!(err, IndexError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("FORGE_MIRROR"), "{err}");
}

#[test]
fn live_lock_project_resolves_bases_first_and_is_deterministic() {
    let (dir, _) = shared();
    let cache = Cache::at(dir.path());
    let recipes = [
        RecipeRequest {
            name: "python".into(),
            base: Some("base".into()),
            debian: python_request(vec![]),
        },
        RecipeRequest {
            name: "base".into(),
            base: None,
            debian: base_request(),
        },
    ];
    let lock = debian::lock_project(&recipes, &real_mirrors(), &cache).unwrap();
    let base = lock.recipe("base").unwrap();
    let python = lock.recipe("python").unwrap();
    assert!(base.packages.iter().any(|p| p.name == "libc6"));
    assert!(!python.packages.iter().any(|p| p.name == "libc6"));
    assert_eq!(
        lock.suites
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        SUITES
    );
    assert!(lock.source_date_epoch > 1_750_000_000);
    let mut with_base = python_request(base.packages.clone());
    with_base.base = debian::inherited_packages(&lock, &["base"]);
    assert_eq!(
        python.inputs,
        forge::lock::inputs_digest(&with_base),
        "build-time staleness check must agree"
    );

    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("forge.lock");
    lock.save_atomic(&path).unwrap();
    let again = debian::lock_project(&recipes, &real_mirrors(), &cache).unwrap();
    assert_eq!(again.to_toml(), std::fs::read_to_string(&path).unwrap());
    assert_eq!(Lock::load(&path).unwrap(), lock);
}

/// A loopback HTTP server answering GETs from a fixed table (404 otherwise), for at most
/// `max_requests` connections. Returns its base URL.
fn loopback_mirror(routes: Vec<(String, Vec<u8>)>, max_requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max_requests) {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&request);
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let (status, body) = match routes.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => ("200 OK", body.clone()),
                None => ("404 Not Found", Vec::new()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    base
}

fn real_inrelease() -> Vec<u8> {
    reqwest::blocking::get("http://deb.debian.org/debian/dists/trixie/InRelease")
        .unwrap()
        .bytes()
        .unwrap()
        .to_vec()
}

#[test]
fn live_bad_inrelease_signature_is_refused() {
    let mut inrelease = real_inrelease();
    // Change one byte of the signed text (inside "Origin: Debian").
    let at = inrelease.windows(6).position(|w| w == b"Debian").unwrap();
    inrelease[at] = b'X';
    let url = loopback_mirror(
        vec![("/debian/dists/trixie/InRelease".into(), inrelease)],
        5,
    );
    let mirrors = Mirrors {
        debian: format!("{url}/debian"),
        security: format!("{url}/debian-security"),
    };
    let dir = tempfile::tempdir().unwrap();
    let err = debian::load_indexes(
        &["trixie".into()],
        "amd64",
        &mirrors,
        &Cache::at(dir.path()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("bad signature"), "{err}");
    assert!(err.to_string().contains("suite `trixie`"), "{err}");
}

#[test]
fn live_packages_hash_mismatch_is_refused() {
    let inrelease = real_inrelease();
    let text = String::from_utf8_lossy(&inrelease).into_owned();
    let line = text
        .lines()
        .skip_while(|l| !l.starts_with("SHA256:"))
        .find(|l| l.ends_with(" main/binary-amd64/Packages.xz"))
        .unwrap()
        .to_string();
    let hash = line.split_whitespace().next().unwrap();
    let size: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let forged = vec![b'A'; size];
    let url = loopback_mirror(
        vec![
            ("/debian/dists/trixie/InRelease".into(), inrelease.clone()),
            (
                format!("/debian/dists/trixie/main/binary-amd64/by-hash/SHA256/{hash}"),
                forged,
            ),
        ],
        5,
    );
    let mirrors = Mirrors {
        debian: format!("{url}/debian"),
        security: format!("{url}/debian-security"),
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path());
    let err = debian::load_indexes(&["trixie".into()], "amd64", &mirrors, &cache).unwrap_err();
    assert!(matches!(err, IndexError::PackagesMismatch { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("does not match the hash in the signed Release"),
        "{err}"
    );
    assert!(
        !cache.blob_path(hash).exists(),
        "forged index must not enter the cache"
    );
}

#[test]
fn live_tampered_index_cache_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path());
    let suites = vec!["trixie-updates".to_string()];
    let online = debian::load_indexes(&suites, "amd64", &real_mirrors(), &cache).unwrap();
    let (hash, _) = &online.suites[0].release.sha256["main/binary-amd64/Packages.xz"];
    let packages_blob = cache.blob_path(hash);
    let inrelease = dir.path().join("indexes/trixie-updates/InRelease");
    assert!(packages_blob.exists() && inrelease.exists());

    // A modified Packages blob is evicted; online it is simply downloaded again.
    std::fs::write(&packages_blob, b"evil").unwrap();
    debian::load_indexes(&suites, "amd64", &real_mirrors(), &cache).unwrap();
    assert_eq!(forge::cache::sha256_file(&packages_blob).unwrap().0, *hash);

    // Offline, a modified Packages blob cannot be replaced: clear error naming the suite.
    std::fs::write(&packages_blob, b"evil").unwrap();
    let err = debian::load_indexes(&suites, "amd64", &offline_mirrors(), &cache).unwrap_err();
    assert!(
        matches!(err, IndexError::PackagesDownload { ref suite, .. } if suite == "trixie-updates"),
        "{err}"
    );

    // A cached InRelease whose signature no longer verifies is never trusted.
    let mut text = std::fs::read(&inrelease).unwrap();
    let at = text.windows(6).position(|w| w == b"Debian").unwrap();
    text[at] = b'X';
    std::fs::write(&inrelease, &text).unwrap();
    let err = debian::load_indexes(&suites, "amd64", &offline_mirrors(), &cache).unwrap_err();
    assert!(matches!(err, IndexError::Unreachable { .. }), "{err}");
}
