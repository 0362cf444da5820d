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
