//! Deterministic layer writer: [`Entry`]s in, a gzip-compressed tar blob out.
//!
//! The same entries always give the same bytes, whatever the host: paths are sorted (so parents
//! come before children), every mtime is the image epoch, owners and modes are the entries'
//! own, user/group names are empty, there are no PAX records or access times, and the gzip
//! header carries no file name, mtime 0 and a fixed OS byte at a fixed compression level.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

use crate::fsentry::{Entry, EntryKind};

/// Media type of every layer forge writes.
pub const MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// gzip level: the same as `gzip`'s default, a fair size/speed trade and part of the digest.
const GZIP_LEVEL: u32 = 6;
/// gzip OS byte: "unknown", so the header does not depend on the build host.
const GZIP_OS_UNKNOWN: u8 = 255;

/// Directories that are symlinks into `/usr` on every merged-/usr Debian system (trixie ships
/// them in base-files). dpkg keeps such a symlink when a package ships the directory, so a
/// package path through one of them is rewritten to its `/usr` twin instead of replacing it.
const MERGED_USR: [(&str, &str); 4] = [
    ("bin", "usr/bin"),
    ("sbin", "usr/sbin"),
    ("lib", "usr/lib"),
    ("lib64", "usr/lib64"),
];

/// Errors while assembling a layer.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("layer entry `{path}` is a hard link to `{target}`, which is not a regular file in the same layer")]
    DanglingHardlink { path: String, target: String },
    #[error("layer entry `{path}` resolves through symlinks more than 40 times (a symlink loop)")]
    SymlinkLoop { path: String },
    #[error("cannot write layer blob in {}: {source}", dir.display())]
    Io { dir: PathBuf, source: io::Error },
}

/// A written layer blob and its identities.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerBlob {
    /// `sha256:` of the compressed blob (what manifests reference).
    pub digest: String,
    /// `sha256:` of the uncompressed tar (what image configs list as `rootfs.diff_ids`).
    pub diff_id: String,
    pub size: u64,
    pub uncompressed_size: u64,
}

/// Normalises `entries` and writes them as a layer blob into `dir`, named by its digest hex.
/// Returns the blob's identities; the file is `dir/<digest hex>`.
pub fn write_layer(entries: Vec<Entry>, mtime: u64, dir: &Path) -> Result<LayerBlob, LayerError> {
    let entries = normalise(entries)?;
    let io_err = |source| LayerError::Io {
        dir: dir.to_path_buf(),
        source,
    };
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_err)?;
    let (diff_id, uncompressed_size, digest, size) =
        write_tar_gz(&entries, mtime, tmp.as_file().try_clone().map_err(io_err)?)
            .map_err(io_err)?;
    // Blobs are public content (temp files start as 0600).
    std::fs::set_permissions(
        tmp.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .map_err(io_err)?;
    tmp.persist(dir.join(&digest))
        .map_err(|e| io_err(e.error))?;
    Ok(LayerBlob {
        digest: format!("sha256:{digest}"),
        diff_id: format!("sha256:{diff_id}"),
        size,
        uncompressed_size,
    })
}

/// Sorts and de-duplicates entries (the last entry for a path wins), rewrites paths that pass
/// through a symlinked directory to the real directory, and orders hard links after their
/// target by giving the content to the first path of each group.
pub fn normalise(entries: Vec<Entry>) -> Result<Vec<Entry>, LayerError> {
    let mut symlinks: BTreeMap<String, String> = MERGED_USR
        .iter()
        .map(|(l, t)| (l.to_string(), format!("/{t}")))
        .collect();
    for e in &entries {
        if let EntryKind::Symlink(target) = &e.kind {
            symlinks.insert(e.path.clone(), target.clone());
        }
    }
    let mut by_path: BTreeMap<String, Entry> = BTreeMap::new();
    for mut e in entries {
        e.path = resolve_parents(&e.path, &symlinks)?;
        if let EntryKind::Hardlink(target) = &e.kind {
            e.kind = EntryKind::Hardlink(resolve_parents(target, &symlinks)?);
        }
        // A directory shipped where a symlink to a directory lives keeps the symlink (as dpkg does).
        if e.kind == EntryKind::Dir && symlinks.contains_key(&e.path) {
            continue;
        }
        if e.path.is_empty() {
            continue;
        }
        by_path.insert(e.path.clone(), e);
    }
    order_hardlinks(&mut by_path)?;
    Ok(by_path.into_values().collect())
}

/// Rewrites every proper ancestor of `path` that is a known symlink to its target, so the
/// entry lands in the real directory. Targets are resolved like a chroot would: absolute from
/// the image root, relative from the link's directory, `..` stops at the root.
fn resolve_parents(path: &str, symlinks: &BTreeMap<String, String>) -> Result<String, LayerError> {
    let mut parts: Vec<String> = path
        .split('/')
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect();
    let mut hops = 0;
    let mut i = 0;
    while i + 1 < parts.len() {
        let prefix = parts[..=i].join("/");
        if let Some(target) = symlinks.get(&prefix) {
            hops += 1;
            if hops > 40 {
                return Err(LayerError::SymlinkLoop {
                    path: path.to_string(),
                });
            }
            let mut resolved: Vec<String> = if target.starts_with('/') {
                Vec::new()
            } else {
                parts[..i].to_vec()
            };
            for c in target.split('/') {
                match c {
                    "" | "." => {}
                    ".." => {
                        resolved.pop();
                    }
                    c => resolved.push(c.to_string()),
                }
            }
            let rest = parts.split_off(i + 1);
            parts = resolved;
            parts.extend(rest);
            i = 0;
            continue;
        }
        i += 1;
    }
    Ok(parts.join("/"))
}

/// Tar requires a hard link's target to come first; after sorting it may not. Each group of
/// paths sharing content gets the content at its first path and links at the others.
fn order_hardlinks(by_path: &mut BTreeMap<String, Entry>) -> Result<(), LayerError> {
    let links: Vec<(String, String)> = by_path
        .values()
        .filter_map(|e| match &e.kind {
            EntryKind::Hardlink(t) => Some((e.path.clone(), t.clone())),
            _ => None,
        })
        .collect();
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, target) in links {
        match by_path.get(&target) {
            Some(Entry {
                kind: EntryKind::File(_),
                ..
            }) => groups.entry(target).or_default().push(path),
            _ => return Err(LayerError::DanglingHardlink { path, target }),
        }
    }
    for (target, mut members) in groups {
        members.push(target.clone());
        members.sort();
        let first = members[0].clone();
        if first == target {
            continue;
        }
        let original = by_path.remove(&target).expect("target checked above");
        for m in &members[1..] {
            let link = by_path
                .get_mut(m)
                .map(|e| e.clone())
                .unwrap_or_else(|| original.clone());
            by_path.insert(
                m.clone(),
                Entry {
                    kind: EntryKind::Hardlink(first.clone()),
                    ..link
                },
            );
        }
        by_path.insert(
            first.clone(),
            Entry {
                path: first,
                ..original
            },
        );
    }
    Ok(())
}

/// Writes the tar+gzip stream; returns (diff_id hex, tar size, digest hex, blob size).
fn write_tar_gz(
    entries: &[Entry],
    mtime: u64,
    file: File,
) -> io::Result<(String, u64, String, u64)> {
    let blob = HashWriter::new(BufWriter::with_capacity(1 << 20, file));
    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(GZIP_OS_UNKNOWN)
        .write(blob, Compression::new(GZIP_LEVEL));
    let mut tar = tar::Builder::new(HashWriter::new(gz));
    for e in entries {
        append(&mut tar, e, mtime)?;
    }
    let tar_stream = tar.into_inner()?;
    let (gz, diff_id, tar_size) = tar_stream.finish();
    let blob = gz.finish()?;
    let (mut out, digest, size) = blob.finish();
    out.flush()?;
    out.get_ref().sync_all()?;
    Ok((diff_id, tar_size, digest, size))
}

fn append<W: Write>(tar: &mut tar::Builder<W>, e: &Entry, mtime: u64) -> io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_mtime(mtime);
    h.set_uid(e.uid.into());
    h.set_gid(e.gid.into());
    h.set_mode(e.mode & 0o7777);
    match &e.kind {
        EntryKind::Dir => {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            tar.append_data(&mut h, &e.path, io::empty())
        }
        EntryKind::File(data) => {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(data.len() as u64);
            tar.append_data(&mut h, &e.path, data.as_slice())
        }
        EntryKind::Symlink(target) => {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            tar.append_link(&mut h, &e.path, target)
        }
        EntryKind::Hardlink(target) => {
            h.set_entry_type(tar::EntryType::Link);
            h.set_size(0);
            tar.append_link(&mut h, &e.path, target)
        }
    }
}

/// A writer that sha256-hashes and counts what passes through it.
pub struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W> HashWriter<W> {
    pub fn new(inner: W) -> Self {
        HashWriter {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// The inner writer, the hex sha256 and the byte count of everything written.
    pub fn finish(self) -> (W, String, u64) {
        (self.inner, hex::encode(self.hasher.finalize()), self.len)
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, data: &[u8]) -> Entry {
        Entry {
            path: path.into(),
            kind: EntryKind::File(data.to_vec()),
            mode: 0o644,
            uid: 0,
            gid: 0,
        }
    }
    fn dir(path: &str) -> Entry {
        Entry {
            path: path.into(),
            kind: EntryKind::Dir,
            mode: 0o755,
            uid: 0,
            gid: 0,
        }
    }
    fn link(path: &str, kind: EntryKind) -> Entry {
        Entry {
            path: path.into(),
            kind,
            mode: 0o777,
            uid: 0,
            gid: 0,
        }
    }

    #[test]
    fn same_entries_in_any_order_give_identical_blobs() {
        let a = vec![
            dir("etc"),
            file("etc/b", b"b"),
            file("etc/a", b"a"),
            dir("usr"),
        ];
        let mut b = a.clone();
        b.reverse();
        let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let x = write_layer(a, 1700000000, d1.path()).unwrap();
        let y = write_layer(b, 1700000000, d2.path()).unwrap();
        assert_eq!(x, y);
        let z = write_layer(vec![dir("etc")], 1700000001, d2.path()).unwrap();
        assert_ne!(x.digest, z.digest);
    }

    #[test]
    fn tar_has_sorted_paths_fixed_metadata_and_gzip_header() {
        let d = tempfile::tempdir().unwrap();
        let long = format!("usr/share/{}", "x".repeat(150));
        let blob = write_layer(
            vec![
                file("z", b"z"),
                dir("a"),
                file("a/f", b"f"),
                dir("usr"),
                dir("usr/share"),
                file(&long, b"l"),
            ],
            42,
            d.path(),
        )
        .unwrap();
        let bytes = std::fs::read(d.path().join(&blob.digest[7..])).unwrap();
        // gzip header: magic, deflate, no flags (so no name), mtime 0, OS 255.
        assert_eq!(&bytes[..8], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
        assert_eq!(bytes[9], 255);
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let mut paths = Vec::new();
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert_eq!(h.mtime().unwrap(), 42);
            assert_eq!(h.username().unwrap(), Some(""));
            assert!(!matches!(
                h.entry_type(),
                tar::EntryType::XHeader | tar::EntryType::XGlobalHeader
            ));
            paths.push(
                e.path()
                    .unwrap()
                    .to_string_lossy()
                    .trim_end_matches('/')
                    .to_string(),
            );
        }
        assert_eq!(paths, ["a", "a/f", "usr", "usr/share", long.as_str(), "z"]);
    }

    #[test]
    fn merged_usr_paths_are_rewritten_and_dirs_do_not_replace_symlinks() {
        let out = normalise(vec![
            link("lib", EntryKind::Symlink("usr/lib".into())),
            dir("lib"),
            dir("lib/x86_64-linux-gnu"),
            file("lib/x86_64-linux-gnu/libc.so.6", b"elf"),
            file("bin/busybox", b"bb"),
        ])
        .unwrap();
        let paths: Vec<_> = out.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "lib",
                "usr/bin/busybox",
                "usr/lib/x86_64-linux-gnu",
                "usr/lib/x86_64-linux-gnu/libc.so.6"
            ]
        );
        assert_eq!(out[0].kind, EntryKind::Symlink("usr/lib".into()));
    }

    #[test]
    fn paths_through_in_layer_symlinks_cannot_climb_out_of_the_root() {
        let out = normalise(vec![
            link("a", EntryKind::Symlink("../../../etc".into())),
            file("a/passwd", b"x"),
        ])
        .unwrap();
        assert!(out.iter().any(|e| e.path == "etc/passwd"));
    }

    #[test]
    fn symlink_loop_is_rejected() {
        let err = normalise(vec![
            link("a", EntryKind::Symlink("b".into())),
            link("b", EntryKind::Symlink("a".into())),
            file("a/x", b"x"),
        ])
        .unwrap_err();
        assert!(matches!(err, LayerError::SymlinkLoop { .. }), "{err}");
    }

    #[test]
    fn hardlink_sorted_before_its_target_gets_the_content() {
        let out = normalise(vec![
            file("z/real", b"data"),
            link("a/alias", EntryKind::Hardlink("z/real".into())),
        ])
        .unwrap();
        assert_eq!(out[0].path, "a/alias");
        assert_eq!(out[0].kind, EntryKind::File(b"data".to_vec()));
        assert_eq!(out[1].kind, EntryKind::Hardlink("a/alias".into()));
    }

    #[test]
    fn dangling_hardlink_is_rejected() {
        let err = normalise(vec![link("a", EntryKind::Hardlink("missing".into()))]).unwrap_err();
        assert!(
            err.to_string().contains("`a` is a hard link to `missing`"),
            "{err}"
        );
    }
}
