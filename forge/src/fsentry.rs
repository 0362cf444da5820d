//! One file-system entry of an image layer, as every producer (a .deb's data archive, a
//! generated config file, an app build) hands it to the layer writer.
//!
//! Paths are relative to the image root, normalised (no `.`/`..` components, no leading or
//! trailing `/`), and owners/modes are what the image should carry, never the host's.

/// What kind of object an [`Entry`] is, with its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File(Vec<u8>),
    /// Target as written in the archive; relative targets are resolved from the link's directory.
    Symlink(String),
    /// Path (relative to the image root) of an earlier entry in the same layer.
    Hardlink(String),
}

/// A single entry destined for a layer tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub kind: EntryKind,
    /// Permission bits only (e.g. `0o755`); file type bits come from `kind`.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// Why an archive path or link target was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("absolute path `{0}` (archive members must be relative to the image root)")]
    Absolute(String),
    #[error("path `{0}` contains a `..` component")]
    ParentComponent(String),
    #[error("path `{0}` is not valid UTF-8")]
    NotUtf8(String),
    #[error("path `{0}` contains a NUL byte")]
    Nul(String),
    #[error("link target `{target}` of `{link}` climbs above the image root")]
    EscapesRoot { link: String, target: String },
}

/// Normalises a path as stored in a package's data archive (`./usr/bin/x`, `usr/lib/`) into the
/// [`Entry::path`] form (`usr/bin/x`). The image root itself becomes the empty string.
///
/// Absolute paths and any `..` component are refused outright rather than clamped: a legitimate
/// Debian package never ships them, so their presence means a hostile or broken archive.
pub fn normalize_archive_path(raw: &str) -> Result<String, PathError> {
    if raw.contains('\0') {
        return Err(PathError::Nul(raw.escape_default().to_string()));
    }
    if raw.starts_with('/') {
        return Err(PathError::Absolute(raw.to_string()));
    }
    let mut parts = Vec::new();
    for component in raw.split('/') {
        match component {
            "" | "." => continue,
            ".." => return Err(PathError::ParentComponent(raw.to_string())),
            name => parts.push(name),
        }
    }
    Ok(parts.join("/"))
}

/// Resolves a symlink's target against the link's own directory and returns the image-root
/// relative path it points to. Absolute targets are taken relative to the image root (that is
/// how they resolve inside a container). A target that climbs above the root is refused: it
/// would only resolve "inside" by accident of the kernel clamping `..` at `/`, and an unpacker
/// that is not chrooted would follow it onto the host.
pub fn resolve_link_target(link: &str, target: &str) -> Result<String, PathError> {
    if target.contains('\0') {
        return Err(PathError::Nul(target.escape_default().to_string()));
    }
    let escapes = || PathError::EscapesRoot {
        link: link.to_string(),
        target: target.to_string(),
    };
    let mut resolved: Vec<&str> = Vec::new();
    if !target.starts_with('/') {
        // Start from the directory that holds the link.
        resolved.extend(link.split('/').filter(|c| !c.is_empty()));
        resolved.pop();
    }
    for component in target.split('/') {
        match component {
            "" | "." => continue,
            ".." => {
                if resolved.pop().is_none() {
                    return Err(escapes());
                }
            }
            name => resolved.push(name),
        }
    }
    Ok(resolved.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_paths_are_normalised() {
        assert_eq!(normalize_archive_path("./usr/bin/x").unwrap(), "usr/bin/x");
        assert_eq!(normalize_archive_path("./usr/lib/").unwrap(), "usr/lib");
        assert_eq!(normalize_archive_path("./").unwrap(), "");
        assert_eq!(normalize_archive_path("usr//./share").unwrap(), "usr/share");
    }

    #[test]
    fn parent_components_are_refused_even_when_they_stay_inside() {
        assert!(matches!(
            normalize_archive_path("./usr/../etc"),
            Err(PathError::ParentComponent(_))
        ));
        assert!(matches!(
            normalize_archive_path("../../etc/passwd"),
            Err(PathError::ParentComponent(_))
        ));
    }

    #[test]
    fn absolute_archive_paths_are_refused() {
        assert!(matches!(
            normalize_archive_path("/etc/passwd"),
            Err(PathError::Absolute(_))
        ));
    }

    #[test]
    fn link_targets_resolve_from_the_link_directory() {
        assert_eq!(
            resolve_link_target("usr/bin/python3", "python3.13").unwrap(),
            "usr/bin/python3.13"
        );
        assert_eq!(
            resolve_link_target("lib64/ld.so", "../lib/x86_64/ld.so").unwrap(),
            "lib/x86_64/ld.so"
        );
        assert_eq!(
            resolve_link_target("etc/localtime", "/usr/share/zoneinfo/UTC").unwrap(),
            "usr/share/zoneinfo/UTC"
        );
    }

    #[test]
    fn link_targets_climbing_above_the_root_are_refused() {
        assert!(matches!(
            resolve_link_target("usr/x", "../../etc/shadow"),
            Err(PathError::EscapesRoot { .. })
        ));
        assert!(matches!(
            resolve_link_target("x", "/../etc"),
            Err(PathError::EscapesRoot { .. })
        ));
    }
}
