//! Files a distroless root file system needs that no package ships as-is: the dpkg database in
//! distroless form, users and groups, the CA bundle that ca-certificates' postinst would build,
//! and the handful of directories and config files maintainer scripts would create.

use crate::fsentry::{Entry, EntryKind};

/// Directory where each installed package gets a control paragraph, as distroless images do.
/// Scanners (trivy, grype, syft) read it in place of `/var/lib/dpkg/status`.
pub const STATUS_D: &str = "var/lib/dpkg/status.d";
/// Path of the generated CA bundle (also the image's `SSL_CERT_FILE`).
pub const CA_BUNDLE: &str = "etc/ssl/certs/ca-certificates.crt";
/// uid and gid of the `nonroot` user every image runs as by default.
pub const NONROOT_ID: u32 = 65532;

/// Keeps what a package installs at run time: drops documentation, man and info pages and
/// lintian overrides (distroless does the same), but keeps `copyright` files, which license
/// scanners read.
pub fn keep_installed_path(path: &str) -> bool {
    for dropped in [
        "usr/share/man",
        "usr/share/info",
        "usr/share/lintian",
        "usr/share/doc-base",
    ] {
        if path == dropped || path.starts_with(&format!("{dropped}/")) {
            return false;
        }
    }
    match path.strip_prefix("usr/share/doc/") {
        // `usr/share/doc/<pkg>` itself (directory or symlink) and its copyright survive.
        Some(rest) => match rest.split_once('/') {
            None => true,
            Some((_, file)) => file == "copyright",
        },
        None => true,
    }
}

/// A package's layer entries: its data files minus docs, plus `status.d/<pkg>` (the control
/// paragraph, `Source:` kept) and `status.d/<pkg>.md5sums` listing the files that remain.
pub fn package_entries(
    package: &str,
    control: &str,
    md5sums: Option<&str>,
    data: Vec<Entry>,
) -> Vec<Entry> {
    let mut out: Vec<Entry> = data
        .into_iter()
        .filter(|e| keep_installed_path(&e.path))
        .collect();
    let mut paragraph = control.trim_end().to_string();
    paragraph.push('\n');
    out.push(file(
        &format!("{STATUS_D}/{package}"),
        paragraph.into_bytes(),
        0o644,
    ));
    if let Some(md5sums) = md5sums {
        // md5sums lines are `<md5>  <path>`; keep those whose file is still in the image.
        let kept: String = md5sums
            .lines()
            .filter(|l| {
                l.split_once("  ")
                    .is_some_and(|(_, p)| keep_installed_path(p.trim_start_matches('/')))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        out.push(file(
            &format!("{STATUS_D}/{package}.md5sums"),
            kept.into_bytes(),
            0o644,
        ));
    }
    out
}

/// Users, groups, name-service config and the directories that base-passwd, base-files and
/// the maintainer scripts would create on a real install.
pub fn system_files() -> Vec<Entry> {
    let passwd = "root:x:0:0:root:/root:/sbin/nologin\n\
                  nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n\
                  nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n";
    let group = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n";
    // Only local files and DNS: there is no NSS plugin beyond glibc's built-ins in the image.
    let nsswitch = "passwd:         files\n\
                    group:          files\n\
                    shadow:         files\n\
                    gshadow:        files\n\
                    hosts:          files dns\n\
                    networks:       files\n\
                    protocols:      files\n\
                    services:       files\n\
                    ethers:         files\n\
                    rpc:            files\n";
    vec![
        dir("etc", 0o755, 0),
        file("etc/passwd", passwd.into(), 0o644),
        file("etc/group", group.into(), 0o644),
        file("etc/nsswitch.conf", nsswitch.into(), 0o644),
        dir("home", 0o755, 0),
        dir("home/nonroot", 0o700, NONROOT_ID),
        dir("root", 0o700, 0),
        dir("tmp", 0o1777, 0),
        dir("var", 0o755, 0),
        dir("var/lib", 0o755, 0),
        dir("var/lib/dpkg", 0o755, 0),
        dir(STATUS_D, 0o755, 0),
    ]
}

/// The CA bundle and `/etc/ca-certificates.conf` exactly as ca-certificates' postinst builds
/// them: every `*.crt` under `/usr/share/ca-certificates` selected, in byte order, each appended
/// with a guaranteed final newline (update-ca-certificates' `sed -e '$a\'`). `None` when
/// `entries` hold no certificates (the package is not in this layer).
pub fn ca_certificates(entries: &[Entry]) -> Option<Vec<Entry>> {
    let mut certs: Vec<(&str, &[u8])> = entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::File(data) => e
                .path
                .strip_prefix("usr/share/ca-certificates/")
                .filter(|p| p.ends_with(".crt"))
                .map(|p| (p, data.as_slice())),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return None;
    }
    certs.sort_by(|a, b| a.0.cmp(b.0));
    let mut conf = String::from(
        "# Generated by forge as ca-certificates' postinst would: every certificate selected.\n",
    );
    let mut bundle = Vec::new();
    for (name, pem) in &certs {
        conf.push_str(name);
        conf.push('\n');
        bundle.extend_from_slice(pem);
        if !pem.is_empty() && !pem.ends_with(b"\n") {
            bundle.push(b'\n');
        }
    }
    Some(vec![
        dir("etc/ssl", 0o755, 0),
        dir("etc/ssl/certs", 0o755, 0),
        file(CA_BUNDLE, bundle, 0o644),
        file("etc/ca-certificates.conf", conf.into_bytes(), 0o644),
    ])
}

fn file(path: &str, data: Vec<u8>, mode: u32) -> Entry {
    Entry {
        path: path.into(),
        kind: EntryKind::File(data),
        mode,
        uid: 0,
        gid: 0,
    }
}

fn dir(path: &str, mode: u32, owner: u32) -> Entry {
    Entry {
        path: path.into(),
        kind: EntryKind::Dir,
        mode,
        uid: owner,
        gid: owner,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_are_dropped_but_copyright_kept() {
        assert!(!keep_installed_path("usr/share/man/man1/ls.1.gz"));
        assert!(!keep_installed_path(
            "usr/share/doc/libc6/changelog.Debian.gz"
        ));
        assert!(!keep_installed_path(
            "usr/share/doc/libc6/examples/x/copyright"
        ));
        assert!(!keep_installed_path("usr/share/lintian/overrides/libc6"));
        assert!(keep_installed_path("usr/share/doc/libc6/copyright"));
        assert!(keep_installed_path("usr/share/doc/libc6"));
        assert!(keep_installed_path("usr/share/zoneinfo/UTC"));
        assert!(keep_installed_path("usr/share/manual"));
    }

    #[test]
    fn status_d_has_control_and_filtered_md5sums() {
        let data = vec![
            file("usr/bin/x", b"x".to_vec(), 0o755),
            file("usr/share/man/x.1", b"m".to_vec(), 0o644),
        ];
        let out = package_entries(
            "x",
            "Package: x\nSource: xsrc\nVersion: 1\n\n",
            Some("aaa  usr/bin/x\nbbb  usr/share/man/x.1\n"),
            data,
        );
        let get = |p: &str| out.iter().find(|e| e.path == p).map(|e| e.kind.clone());
        assert_eq!(
            get("var/lib/dpkg/status.d/x"),
            Some(EntryKind::File(
                b"Package: x\nSource: xsrc\nVersion: 1\n".to_vec()
            ))
        );
        assert_eq!(
            get("var/lib/dpkg/status.d/x.md5sums"),
            Some(EntryKind::File(b"aaa  usr/bin/x\n".to_vec()))
        );
        assert_eq!(get("usr/share/man/x.1"), None);
    }

    #[test]
    fn ca_bundle_concatenates_sorted_certs_with_newlines() {
        let entries = vec![
            file(
                "usr/share/ca-certificates/mozilla/B.crt",
                b"B".to_vec(),
                0o644,
            ),
            file(
                "usr/share/ca-certificates/mozilla/A.crt",
                b"A\n".to_vec(),
                0o644,
            ),
            file(
                "usr/share/ca-certificates/mozilla/readme",
                b"no".to_vec(),
                0o644,
            ),
        ];
        let out = ca_certificates(&entries).unwrap();
        let bundle = out.iter().find(|e| e.path == CA_BUNDLE).unwrap();
        assert_eq!(bundle.kind, EntryKind::File(b"A\nB\n".to_vec()));
        assert!(ca_certificates(&[]).is_none());
    }

    #[test]
    fn nonroot_home_is_private_and_tmp_is_sticky() {
        let files = system_files();
        let home = files.iter().find(|e| e.path == "home/nonroot").unwrap();
        assert_eq!((home.uid, home.gid, home.mode), (65532, 65532, 0o700));
        assert_eq!(files.iter().find(|e| e.path == "tmp").unwrap().mode, 0o1777);
    }
}
