//! Reading a .deb without installing it: the `ar` container, the control archive (only
//! `control` and `md5sums` are taken; maintainer scripts are never run, nor even kept) and the
//! data archive turned into layer [`Entry`]s.
//!
//! The data archive is treated as hostile: anything a real Debian package never contains and
//! that could reach outside the image root or onto the host (`..` components, absolute paths,
//! symlinks that climb above the root, entries below a symlink, hardlinks to unknown paths,
//! device nodes, fifos) is refused with an error naming package, file and reason, as are
//! truncated or corrupt archives. Hostile-input tests sit at the end of this file.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::fsentry::{normalize_archive_path, resolve_link_target, Entry, EntryKind, PathError};

use super::control;

/// What forge keeps of a .deb.
#[derive(Debug, Clone)]
pub struct DebContents {
    /// The control paragraph as shipped (written to `/var/lib/dpkg/status.d/<pkg>`).
    pub control: String,
    /// The package's `md5sums` file, when it has one.
    pub md5sums: Option<String>,
    /// The data archive, in archive order.
    pub entries: Vec<Entry>,
}

/// Why a .deb was refused.
#[derive(Debug, thiserror::Error)]
#[error("package `{package}` ({}): {file}: {kind}; the .deb is corrupt or hostile, do not use it", deb.display())]
pub struct DebError {
    pub package: String,
    pub deb: PathBuf,
    /// The ar member or the path inside the data/control archive at fault.
    pub file: String,
    pub kind: DebErrorKind,
}

/// The reason part of a [`DebError`].
#[derive(Debug)]
pub enum DebErrorKind {
    Io(io::Error),
    /// Truncated or undecodable container, compression or tar stream.
    Corrupt(String),
    /// An ar member, compression or format forge does not read.
    Unsupported(String),
    UnsafePath(PathError),
    /// Device node, fifo or another object an image has no business shipping.
    ForbiddenType(String),
    /// A hardlink whose target is not an earlier regular file of the same archive.
    BadHardlink(String),
    /// An entry whose parent path is a symlink of the same archive.
    BelowSymlink(String),
    Duplicate,
    BadControl(String),
}

impl fmt::Display for DebErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DebErrorKind::Io(e) => write!(f, "read error: {e}"),
            DebErrorKind::Corrupt(why) => write!(f, "truncated or corrupt archive: {why}"),
            DebErrorKind::Unsupported(why) => write!(f, "unsupported: {why}"),
            DebErrorKind::UnsafePath(e) => write!(f, "unsafe path: {e}"),
            DebErrorKind::ForbiddenType(t) => write!(f, "{t} entries are not allowed in an image"),
            DebErrorKind::BadHardlink(t) => write!(
                f,
                "hardlink to `{t}`, which is not an earlier regular file of this package"
            ),
            DebErrorKind::BelowSymlink(link) => write!(f, "path goes through the symlink `{link}`"),
            DebErrorKind::Duplicate => write!(f, "appears twice in the archive"),
            DebErrorKind::BadControl(why) => write!(f, "bad control file: {why}"),
        }
    }
}

/// Reads and validates the .deb at `path`, which must be the package `expected_package`.
pub fn read_deb(path: &Path, expected_package: &str) -> Result<DebContents, DebError> {
    let fail = |file: &str, kind: DebErrorKind| DebError {
        package: expected_package.to_string(),
        deb: path.to_path_buf(),
        file: file.to_string(),
        kind,
    };
    let file =
        std::fs::File::open(path).map_err(|e| fail("(the .deb itself)", DebErrorKind::Io(e)))?;
    let mut archive = ar::Archive::new(io::BufReader::new(file));
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    while let Some(member) = archive.next_entry() {
        let mut member =
            member.map_err(|e| fail("(ar container)", DebErrorKind::Corrupt(e.to_string())))?;
        let name = String::from_utf8_lossy(member.header().identifier()).into_owned();
        let declared = member.header().size();
        let mut data = Vec::with_capacity(declared.min(256 << 20) as usize);
        member
            .read_to_end(&mut data)
            .map_err(|e| fail(&name, DebErrorKind::Corrupt(e.to_string())))?;
        if data.len() as u64 != declared {
            return Err(fail(
                &name,
                DebErrorKind::Corrupt(format!(
                    "member declares {declared} bytes, only {} present",
                    data.len()
                )),
            ));
        }
        members.push((name, data));
    }

    // deb(5): debian-binary, then control.tar*, then data.tar*; `_`-prefixed members are
    // reserved for extensions and ignored.
    let mut members = members
        .into_iter()
        .filter(|(name, _)| !name.starts_with('_'));
    match members.next() {
        Some((name, data)) if name == "debian-binary" => {
            if !data.starts_with(b"2.") {
                return Err(fail(
                    "debian-binary",
                    DebErrorKind::Unsupported(format!(
                        "format version {:?}",
                        String::from_utf8_lossy(&data).trim()
                    )),
                ));
            }
        }
        Some((name, _)) => {
            return Err(fail(
                &name,
                DebErrorKind::Corrupt("first member must be `debian-binary`".into()),
            ))
        }
        None => {
            return Err(fail(
                "(ar container)",
                DebErrorKind::Corrupt("empty or not an ar archive".into()),
            ))
        }
    }
    let (control_name, control_data) = members
        .next()
        .filter(|(name, _)| name.starts_with("control.tar"))
        .ok_or_else(|| {
            fail(
                "control.tar",
                DebErrorKind::Corrupt("second member must be control.tar.*".into()),
            )
        })?;
    let (data_name, data_data) = members
        .next()
        .filter(|(name, _)| name.starts_with("data.tar"))
        .ok_or_else(|| {
            fail(
                "data.tar",
                DebErrorKind::Corrupt("third member must be data.tar.*".into()),
            )
        })?;
    if let Some((extra, _)) = members.next() {
        return Err(fail(
            &extra,
            DebErrorKind::Unsupported("unexpected ar member after data.tar".into()),
        ));
    }

    let control_tar =
        decompress(&control_name, &control_data).map_err(|k| fail(&control_name, k))?;
    let (control, md5sums) =
        read_control(control_tar, expected_package).map_err(|(file, kind)| fail(&file, kind))?;
    let data_tar = decompress(&data_name, &data_data).map_err(|k| fail(&data_name, k))?;
    let entries = read_data(data_tar).map_err(|(file, kind)| fail(&file, kind))?;
    Ok(DebContents {
        control,
        md5sums,
        entries,
    })
}

/// A streaming decompressor for a `*.tar[.gz|.xz|.zst]` member.
fn decompress<'a>(name: &str, data: &'a [u8]) -> Result<Box<dyn Read + 'a>, DebErrorKind> {
    let suffix = name.split_once(".tar").map_or("", |(_, s)| s);
    Ok(match suffix {
        "" => Box::new(data),
        ".gz" => Box::new(flate2::read::GzDecoder::new(data)),
        ".xz" => Box::new(xz2::read::XzDecoder::new(data)),
        ".zst" => Box::new(
            zstd::stream::read::Decoder::new(data)
                .map_err(|e| DebErrorKind::Corrupt(e.to_string()))?,
        ),
        other => return Err(DebErrorKind::Unsupported(format!("compression `{other}`"))),
    })
}

type EntryFailure = (String, DebErrorKind);

fn corrupt(file: &str, e: impl fmt::Display) -> EntryFailure {
    (file.to_string(), DebErrorKind::Corrupt(e.to_string()))
}

/// Reads one regular file's content, insisting on the size its header declares.
fn read_content<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    file: &str,
) -> Result<Vec<u8>, EntryFailure> {
    let declared = entry.header().size().map_err(|e| corrupt(file, e))?;
    let mut data = Vec::with_capacity(declared.min(64 << 20) as usize);
    entry.read_to_end(&mut data).map_err(|e| corrupt(file, e))?;
    if data.len() as u64 != declared {
        return Err(corrupt(
            file,
            format!("declares {declared} bytes, only {} present", data.len()),
        ));
    }
    Ok(data)
}

fn entry_path<R: Read>(entry: &tar::Entry<'_, R>) -> Result<(String, String), EntryFailure> {
    let raw = entry.path_bytes();
    let raw = std::str::from_utf8(&raw)
        .map_err(|_| {
            (
                String::from_utf8_lossy(&raw).into_owned(),
                DebErrorKind::UnsafePath(PathError::NotUtf8(
                    String::from_utf8_lossy(&raw).into_owned(),
                )),
            )
        })?
        .to_string();
    let path =
        normalize_archive_path(&raw).map_err(|e| (raw.clone(), DebErrorKind::UnsafePath(e)))?;
    Ok((raw, path))
}

fn read_control(
    tar_stream: Box<dyn Read + '_>,
    expected_package: &str,
) -> Result<(String, Option<String>), EntryFailure> {
    let mut archive = tar::Archive::new(tar_stream);
    let mut control = None;
    let mut md5sums = None;
    for entry in archive.entries().map_err(|e| corrupt("control.tar", e))? {
        let mut entry = entry.map_err(|e| corrupt("control.tar", e))?;
        let (raw, path) = entry_path(&entry)?;
        let slot = match path.as_str() {
            "control" => &mut control,
            "md5sums" => &mut md5sums,
            // Maintainer scripts, conffiles, triggers, shlibs...: forge never runs or needs them.
            _ => continue,
        };
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err((
                raw,
                DebErrorKind::BadControl("must be a regular file".into()),
            ));
        }
        let data = read_content(&mut entry, &raw)?;
        let text = String::from_utf8(data)
            .map_err(|_| (raw.clone(), DebErrorKind::BadControl("not UTF-8".into())))?;
        if slot.replace(text).is_some() {
            return Err((raw, DebErrorKind::Duplicate));
        }
    }
    let control = control.ok_or_else(|| {
        (
            "control".to_string(),
            DebErrorKind::BadControl("missing".into()),
        )
    })?;
    let paragraphs = control::parse(&control).map_err(|e| {
        (
            "control".to_string(),
            DebErrorKind::BadControl(e.to_string()),
        )
    })?;
    let [paragraph] = paragraphs.as_slice() else {
        return Err((
            "control".into(),
            DebErrorKind::BadControl(format!("{} paragraphs instead of one", paragraphs.len())),
        ));
    };
    match paragraph.get("Package") {
        Some(name) if name == expected_package => Ok((control, md5sums)),
        other => Err((
            "control".into(),
            DebErrorKind::BadControl(format!(
                "declares package `{}`, expected `{expected_package}`",
                other.unwrap_or("(none)")
            )),
        )),
    }
}

fn read_data(tar_stream: Box<dyn Read + '_>) -> Result<Vec<Entry>, EntryFailure> {
    let mut archive = tar::Archive::new(tar_stream);
    let mut entries = Vec::new();
    // path -> index in `entries`, to refuse duplicates and resolve hardlinks.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut symlinks: HashSet<String> = HashSet::new();
    for entry in archive.entries().map_err(|e| corrupt("data.tar", e))? {
        let mut entry = entry.map_err(|e| corrupt("data.tar", e))?;
        let header = entry.header();
        let entry_type = header.entry_type();
        if matches!(entry_type, tar::EntryType::XGlobalHeader) {
            continue;
        }
        let (raw, path) = entry_path(&entry)?;
        let fail = |kind: DebErrorKind| (raw.clone(), kind);
        if path.is_empty() {
            if entry_type.is_dir() {
                continue; // "./", the image root itself
            }
            return Err(fail(DebErrorKind::Corrupt(
                "non-directory entry for the root".into(),
            )));
        }
        let mut ancestor = path.as_str();
        while let Some((parent, _)) = ancestor.rsplit_once('/') {
            if symlinks.contains(parent) {
                return Err(fail(DebErrorKind::BelowSymlink(parent.to_string())));
            }
            ancestor = parent;
        }
        let mode = header.mode().map_err(|e| corrupt(&raw, e))? & 0o7777;
        let id = |v: io::Result<u64>| -> Result<u32, EntryFailure> {
            let v = v.map_err(|e| corrupt(&raw, e))?;
            u32::try_from(v).map_err(|_| corrupt(&raw, format!("owner id {v} out of range")))
        };
        let (uid, gid) = (id(header.uid())?, id(header.gid())?);
        let link_target = || -> Result<String, EntryFailure> {
            let link = entry
                .link_name_bytes()
                .ok_or_else(|| corrupt(&raw, "link without a target"))?;
            String::from_utf8(link.into_owned()).map_err(|e| {
                (
                    raw.clone(),
                    DebErrorKind::UnsafePath(PathError::NotUtf8(
                        String::from_utf8_lossy(e.as_bytes()).into_owned(),
                    )),
                )
            })
        };
        let kind = match entry_type {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                EntryKind::File(read_content(&mut entry, &raw)?)
            }
            tar::EntryType::Directory => EntryKind::Dir,
            tar::EntryType::Symlink => {
                let target = link_target()?;
                resolve_link_target(&path, &target)
                    .map_err(|e| fail(DebErrorKind::UnsafePath(e)))?;
                symlinks.insert(path.clone());
                EntryKind::Symlink(target)
            }
            tar::EntryType::Link => {
                let target = link_target()?;
                let target = normalize_archive_path(&target)
                    .map_err(|e| fail(DebErrorKind::UnsafePath(e)))?;
                match seen.get(&target).map(|&i| &entries[i]) {
                    Some(Entry {
                        kind: EntryKind::File(_),
                        ..
                    }) => EntryKind::Hardlink(target),
                    _ => return Err(fail(DebErrorKind::BadHardlink(target))),
                }
            }
            tar::EntryType::Char => {
                return Err(fail(DebErrorKind::ForbiddenType("character device".into())))
            }
            tar::EntryType::Block => {
                return Err(fail(DebErrorKind::ForbiddenType("block device".into())))
            }
            tar::EntryType::Fifo => return Err(fail(DebErrorKind::ForbiddenType("fifo".into()))),
            other => {
                return Err(fail(DebErrorKind::Unsupported(format!(
                    "tar entry type {:?}",
                    other.as_byte() as char
                ))))
            }
        };
        let is_dir = matches!(kind, EntryKind::Dir);
        match seen.get(&path) {
            Some(&i)
                if is_dir
                    && matches!(
                        entries[i],
                        Entry {
                            kind: EntryKind::Dir,
                            ..
                        }
                    ) =>
            {
                // dpkg-deb never repeats directories, but a repeat is harmless: last one wins.
                entries[i] = Entry {
                    path,
                    kind,
                    mode,
                    uid,
                    gid,
                };
                continue;
            }
            Some(_) => return Err(fail(DebErrorKind::Duplicate)),
            None => {}
        }
        seen.insert(path.clone(), entries.len());
        entries.push(Entry {
            path,
            kind,
            mode,
            uid,
            gid,
        });
    }
    Ok(entries)
}

/// Hostile-input tests: one named test per way a .deb can try to escape or lie. Fixtures are
/// built byte by byte here (the tar crate's builder refuses to write most of them).
#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// One raw tar member for a fixture.
    struct Member<'a> {
        kind: u8,
        path: &'a str,
        link: &'a str,
        data: &'a [u8],
        mode: u32,
    }

    fn file<'a>(path: &'a str, data: &'a [u8]) -> Member<'a> {
        Member {
            kind: b'0',
            path,
            link: "",
            data,
            mode: 0o644,
        }
    }
    fn dir(path: &str) -> Member<'_> {
        Member {
            kind: b'5',
            path,
            link: "",
            data: b"",
            mode: 0o755,
        }
    }
    fn symlink<'a>(path: &'a str, target: &'a str) -> Member<'a> {
        Member {
            kind: b'2',
            path,
            link: target,
            data: b"",
            mode: 0o777,
        }
    }
    fn hardlink<'a>(path: &'a str, target: &'a str) -> Member<'a> {
        Member {
            kind: b'1',
            path,
            link: target,
            data: b"",
            mode: 0o644,
        }
    }
    fn special(kind: u8, path: &str) -> Member<'_> {
        Member {
            kind,
            path,
            link: "",
            data: b"",
            mode: 0o600,
        }
    }

    fn octal(field: &mut [u8], value: u64) {
        let text = format!("{:0width$o}\0", value, width = field.len() - 1);
        field.copy_from_slice(text.as_bytes());
    }

    /// A ustar archive with exactly these names (no sanitising).
    fn raw_tar(members: &[Member<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in members {
            let mut h = [0u8; 512];
            h[..m.path.len()].copy_from_slice(m.path.as_bytes());
            octal(&mut h[100..108], u64::from(m.mode));
            octal(&mut h[108..116], 0);
            octal(&mut h[116..124], 0);
            octal(&mut h[124..136], m.data.len() as u64);
            octal(&mut h[136..148], 0);
            h[156] = m.kind;
            h[157..157 + m.link.len()].copy_from_slice(m.link.as_bytes());
            h[257..263].copy_from_slice(b"ustar\0");
            h[263..265].copy_from_slice(b"00");
            h[148..156].copy_from_slice(b"        ");
            let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
            h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
            out.extend_from_slice(&h);
            out.extend_from_slice(m.data);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
        out.extend_from_slice(&[0u8; 1024]);
        out
    }

    fn compress(data: &[u8], suffix: &str) -> Vec<u8> {
        match suffix {
            "" => data.to_vec(),
            ".gz" => {
                let mut e =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            ".xz" => {
                let mut e = xz2::write::XzEncoder::new(Vec::new(), 6);
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            ".zst" => zstd::encode_all(data, 3).unwrap(),
            other => panic!("{other}"),
        }
    }

    fn ar(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut builder = ar::Builder::new(Vec::new());
        for (name, data) in members {
            builder
                .append(
                    &ar::Header::new(name.as_bytes().to_vec(), data.len() as u64),
                    data.as_slice(),
                )
                .unwrap();
        }
        builder.into_inner().unwrap()
    }

    const CONTROL: &str = "Package: hello\nVersion: 1.0-1\nArchitecture: amd64\nSource: hello-src\nDescription: test\n";

    fn control_tar(control: &str) -> Vec<u8> {
        raw_tar(&[
            dir("./"),
            file("./control", control.as_bytes()),
            file(
                "./md5sums",
                b"d41d8cd98f00b204e9800998ecf8427e  usr/bin/hello\n",
            ),
            Member {
                kind: b'0',
                path: "./postinst",
                link: "",
                data: b"#!/bin/sh\nrm -rf /\n",
                mode: 0o755,
            },
        ])
    }

    fn deb_with(data_members: &[Member<'_>], data_suffix: &str) -> Vec<u8> {
        ar(&[
            ("debian-binary", b"2.0\n".to_vec()),
            ("control.tar.gz", compress(&control_tar(CONTROL), ".gz")),
            (
                &format!("data.tar{data_suffix}"),
                compress(&raw_tar(data_members), data_suffix),
            ),
        ])
    }

    fn read(bytes: &[u8]) -> Result<DebContents, DebError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hello_1.0-1_amd64.deb");
        std::fs::write(&path, bytes).unwrap();
        read_deb(&path, "hello")
    }

    fn refused(data_members: &[Member<'_>]) -> DebError {
        let err = read(&deb_with(data_members, ".gz")).expect_err("hostile .deb must be refused");
        let text = err.to_string();
        assert!(
            text.contains("package `hello`"),
            "error must name the package: {text}"
        );
        err
    }

    fn good_data() -> Vec<Member<'static>> {
        vec![
            dir("./"),
            dir("./usr/"),
            dir("./usr/bin/"),
            file("./usr/bin/hello", b"\x7fELF hello"),
            hardlink("./usr/bin/hello-again", "./usr/bin/hello"),
            symlink("./usr/bin/hi", "hello"),
            dir("./etc/"),
            symlink("./etc/localtime", "/usr/share/zoneinfo/UTC"),
        ]
    }

    #[test]
    fn wellformed_deb_is_read_with_every_data_compression() {
        for suffix in ["", ".gz", ".xz", ".zst"] {
            let contents = read(&deb_with(&good_data(), suffix))
                .unwrap_or_else(|e| panic!("data.tar{suffix}: {e}"));
            assert_eq!(contents.control, CONTROL);
            assert!(contents.md5sums.unwrap().contains("usr/bin/hello"));
            let paths: Vec<&str> = contents.entries.iter().map(|e| e.path.as_str()).collect();
            assert_eq!(
                paths,
                [
                    "usr",
                    "usr/bin",
                    "usr/bin/hello",
                    "usr/bin/hello-again",
                    "usr/bin/hi",
                    "etc",
                    "etc/localtime"
                ]
            );
            assert_eq!(
                contents.entries[2].kind,
                EntryKind::File(b"\x7fELF hello".to_vec())
            );
            assert_eq!(contents.entries[2].mode, 0o644);
            assert_eq!(
                contents.entries[3].kind,
                EntryKind::Hardlink("usr/bin/hello".into())
            );
            assert_eq!(
                contents.entries[6].kind,
                EntryKind::Symlink("/usr/share/zoneinfo/UTC".into())
            );
        }
    }

    #[test]
    fn maintainer_scripts_are_not_kept() {
        let contents = read(&deb_with(&good_data(), ".gz")).unwrap();
        assert!(!contents.entries.iter().any(|e| e.path.contains("postinst")));
        assert!(!contents.control.contains("rm -rf"));
    }

    #[test]
    fn hostile_parent_dir_traversal_is_refused() {
        let err = refused(&[dir("./"), file("./../../etc/passwd", b"root::0:0")]);
        assert!(
            matches!(
                err.kind,
                DebErrorKind::UnsafePath(PathError::ParentComponent(_))
            ),
            "{err}"
        );
        assert!(err.to_string().contains("./../../etc/passwd"), "{err}");
    }

    #[test]
    fn hostile_absolute_path_is_refused() {
        let err = refused(&[file("/etc/cron.d/evil", b"* * * * * root sh")]);
        assert!(
            matches!(err.kind, DebErrorKind::UnsafePath(PathError::Absolute(_))),
            "{err}"
        );
    }

    #[test]
    fn hostile_symlink_escaping_the_root_is_refused() {
        let err = refused(&[
            dir("./usr/"),
            symlink("./usr/shadow", "../../../etc/shadow"),
        ]);
        assert!(
            matches!(
                err.kind,
                DebErrorKind::UnsafePath(PathError::EscapesRoot { .. })
            ),
            "{err}"
        );
        assert!(err.to_string().contains("./usr/shadow"), "{err}");
    }

    #[test]
    fn hostile_absolute_symlink_climbing_above_the_root_is_refused() {
        let err = refused(&[symlink("./evil", "/../../etc/shadow")]);
        assert!(
            matches!(
                err.kind,
                DebErrorKind::UnsafePath(PathError::EscapesRoot { .. })
            ),
            "{err}"
        );
    }

    #[test]
    fn hostile_entry_below_a_symlink_is_refused() {
        let err = refused(&[symlink("./etc", "/tmp"), file("./etc/passwd", b"x")]);
        assert!(
            matches!(err.kind, DebErrorKind::BelowSymlink(ref l) if l == "etc"),
            "{err}"
        );
    }

    #[test]
    fn hostile_hardlink_to_unknown_path_is_refused() {
        let err = refused(&[hardlink("./usr/bin/sh", "./bin/bash")]);
        assert!(
            matches!(err.kind, DebErrorKind::BadHardlink(ref t) if t == "bin/bash"),
            "{err}"
        );
    }

    #[test]
    fn hostile_hardlink_outside_the_root_is_refused() {
        let err = refused(&[hardlink("./passwd", "../../../etc/passwd")]);
        assert!(
            matches!(
                err.kind,
                DebErrorKind::UnsafePath(PathError::ParentComponent(_))
            ),
            "{err}"
        );
    }

    #[test]
    fn hostile_hardlink_to_a_directory_is_refused() {
        let err = refused(&[dir("./etc/"), hardlink("./x", "./etc")]);
        assert!(matches!(err.kind, DebErrorKind::BadHardlink(_)), "{err}");
    }

    #[test]
    fn hostile_character_device_is_refused() {
        let err = refused(&[special(b'3', "./dev/mem")]);
        assert!(matches!(err.kind, DebErrorKind::ForbiddenType(_)), "{err}");
        assert!(
            err.to_string().contains("./dev/mem") && err.to_string().contains("character device"),
            "{err}"
        );
    }

    #[test]
    fn hostile_block_device_is_refused() {
        let err = refused(&[special(b'4', "./dev/sda")]);
        assert!(err.to_string().contains("block device"), "{err}");
    }

    #[test]
    fn hostile_fifo_is_refused() {
        let err = refused(&[special(b'6', "./run/pipe")]);
        assert!(err.to_string().contains("fifo"), "{err}");
    }

    #[test]
    fn hostile_duplicate_file_is_refused() {
        let err = refused(&[file("./etc/motd", b"a"), file("./etc/motd", b"b")]);
        assert!(matches!(err.kind, DebErrorKind::Duplicate), "{err}");
    }

    #[test]
    fn truncated_deb_is_refused() {
        let bytes = deb_with(&good_data(), ".gz");
        let err = read(&bytes[..bytes.len() - 40]).expect_err("truncated");
        assert!(matches!(err.kind, DebErrorKind::Corrupt(_)), "{err}");
        assert!(err.to_string().contains("data.tar.gz"), "{err}");
    }

    #[test]
    fn truncated_data_tar_is_refused() {
        let mut tar = raw_tar(&[file("./big", &[7u8; 4096])]);
        tar.truncate(512 + 1000);
        let bytes = ar(&[
            ("debian-binary", b"2.0\n".to_vec()),
            ("control.tar.gz", compress(&control_tar(CONTROL), ".gz")),
            ("data.tar", tar),
        ]);
        let err = read(&bytes).expect_err("truncated tar");
        assert!(matches!(err.kind, DebErrorKind::Corrupt(_)), "{err}");
        assert!(err.to_string().contains("./big"), "{err}");
    }

    #[test]
    fn corrupt_compressed_data_is_refused() {
        for suffix in [".gz", ".xz", ".zst"] {
            let mut data = compress(&raw_tar(&good_data()), suffix);
            let middle = data.len() / 2;
            for b in &mut data[middle..middle + 8] {
                *b ^= 0xff;
            }
            let bytes = ar(&[
                ("debian-binary", b"2.0\n".to_vec()),
                ("control.tar.gz", compress(&control_tar(CONTROL), ".gz")),
                (&format!("data.tar{suffix}"), data),
            ]);
            let err = read(&bytes).expect_err("corrupt");
            assert!(
                matches!(err.kind, DebErrorKind::Corrupt(_)),
                "data.tar{suffix}: {err}"
            );
        }
    }

    #[test]
    fn not_a_deb_is_refused() {
        let err = read(b"this is not an ar archive at all").expect_err("garbage");
        assert!(matches!(err.kind, DebErrorKind::Corrupt(_)), "{err}");
    }

    #[test]
    fn wrong_package_in_control_is_refused() {
        let bytes = ar(&[
            ("debian-binary", b"2.0\n".to_vec()),
            (
                "control.tar.gz",
                compress(&control_tar(&CONTROL.replace("hello", "evil")), ".gz"),
            ),
            ("data.tar.gz", compress(&raw_tar(&good_data()), ".gz")),
        ]);
        let err = read(&bytes).expect_err("wrong package");
        assert!(err.to_string().contains("declares package `evil`"), "{err}");
    }

    #[test]
    fn unknown_compression_and_extra_members_are_refused() {
        let bytes = ar(&[
            ("debian-binary", b"2.0\n".to_vec()),
            ("control.tar.gz", compress(&control_tar(CONTROL), ".gz")),
            ("data.tar.lz4", vec![0; 10]),
        ]);
        assert!(matches!(
            read(&bytes).unwrap_err().kind,
            DebErrorKind::Unsupported(_)
        ));
        let bytes = ar(&[
            ("debian-binary", b"2.0\n".to_vec()),
            ("control.tar.gz", compress(&control_tar(CONTROL), ".gz")),
            ("data.tar.gz", compress(&raw_tar(&good_data()), ".gz")),
            ("evil.sh", b"#!/bin/sh".to_vec()),
        ]);
        assert!(matches!(
            read(&bytes).unwrap_err().kind,
            DebErrorKind::Unsupported(_)
        ));
    }
}
