//! Application builders: turn an app's source tree into image layers with the host's own
//! toolchain (uv, npm + Next.js, cc), never by running anything inside the image, as ko and
//! Jib do.
//!
//! Each builder plans its layers up front with cache keys made of input digests (lock files,
//! source tree, recipe), so an unchanged app costs a few hashes and no tool runs at all.
//! Every file a builder puts into a layer is owned by root and read-only for the image's user.

pub mod c;
pub mod next_standalone;
pub mod python_uv;

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::build::PlannedLayer;
use crate::fsentry::{Entry, EntryKind};
use crate::recipe::{BuildSection, Builder, Recipe};

/// The layers `recipe`'s `[build]` section adds (dependencies first, then the app).
/// `cache_root` holds builders' work directories and records.
pub fn plan(recipe: &Recipe, build: &BuildSection, cache_root: &Path) -> Result<Vec<PlannedLayer<'static>>> {
    if !build.source.exists() {
        bail!(
            "{}: key `build.source`: {} does not exist\n  hint: give the app's path relative to the recipe file",
            recipe.path.display(),
            build.source.display()
        );
    }
    if !build.exclude.is_empty() && build.builder != Builder::NextStandalone {
        bail!(
            "{}: key `build.exclude`: only the next-standalone builder takes `exclude`\n  hint: remove it",
            recipe.path.display()
        );
    }
    match build.builder {
        Builder::PythonUv => python_uv::plan(&build.source),
        Builder::NextStandalone => next_standalone::plan(&build.source, cache_root, &build.exclude),
        Builder::C => c::plan(&build.source),
    }
}

/// A directory tree from the host as layer entries below `dest` (a path inside the image,
/// without leading `/`): directories 0755, files 0755 when the owner may execute them else
/// 0644, symlinks as they are, all owned by root. `keep` sees each path relative to `root`
/// and decides whether it (and, for a directory, everything under it) goes in.
pub fn tree_entries(root: &Path, dest: &str, keep: &dyn Fn(&Path) -> bool) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    walk(root, Path::new(""), dest, keep, &mut entries)?;
    Ok(entries)
}

fn walk(root: &Path, rel: &Path, dest: &str, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<Entry>) -> io::Result<()> {
    let mut names: Vec<_> = fs::read_dir(root.join(rel))?.map(|e| e.map(|e| e.file_name())).collect::<io::Result<_>>()?;
    names.sort();
    for name in names {
        let rel = rel.join(&name);
        if !keep(&rel) {
            continue;
        }
        let path = root.join(&rel);
        let meta = fs::symlink_metadata(&path)?;
        let image_path = format!("{dest}/{}", rel.to_str().ok_or_else(|| non_utf8(&path))?);
        let kind = if meta.file_type().is_symlink() {
            let target = fs::read_link(&path)?;
            EntryKind::Symlink(target.to_str().ok_or_else(|| non_utf8(&path))?.to_string())
        } else if meta.is_dir() {
            out.push(Entry { path: image_path, kind: EntryKind::Dir, mode: 0o755, uid: 0, gid: 0 });
            walk(root, &rel, dest, keep, out)?;
            continue;
        } else if meta.is_file() {
            EntryKind::File(fs::read(&path)?)
        } else {
            return Err(io::Error::other(format!("{} is neither a file, a directory nor a symlink", path.display())));
        };
        let mode = match kind {
            EntryKind::Symlink(_) => 0o777,
            _ if meta.permissions().mode() & 0o100 != 0 => 0o755,
            _ => 0o644,
        };
        out.push(Entry { path: image_path, kind, mode, uid: 0, gid: 0 });
    }
    Ok(())
}

fn non_utf8(path: &Path) -> io::Error {
    io::Error::other(format!("{} is not valid UTF-8; forge only puts UTF-8 paths into images", path.display()))
}

/// `sha256:` over entries' paths, kinds, modes and contents: equal digests, equal layers.
pub fn entries_digest(entries: &[Entry]) -> String {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut h = Sha256::new();
    for e in sorted {
        let (tag, payload): (&str, &[u8]) = match &e.kind {
            EntryKind::Dir => ("d", b""),
            EntryKind::File(data) => ("f", data),
            EntryKind::Symlink(t) => ("l", t.as_bytes()),
            EntryKind::Hardlink(t) => ("h", t.as_bytes()),
        };
        h.update(format!("{}\0{tag}\0{:o}\0{}\0{}\0{}\0", e.path, e.mode, e.uid, e.gid, payload.len()));
        h.update(payload);
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// `sha256:` of a file's bytes.
pub fn file_digest(path: &Path) -> Result<String> {
    let data = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(format!("sha256:{}", hex::encode(Sha256::digest(data))))
}

/// Runs `cmd` to completion with its output captured. On failure the error carries what the
/// tool printed (its last lines), so the user sees why it failed, not just that it did.
pub fn run(mut cmd: Command, what: &str) -> Result<std::process::Output> {
    let program = cmd.get_program().to_string_lossy().to_string();
    let output = cmd.output().map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            anyhow::anyhow!("{what}: `{program}` is not installed or not on PATH")
        } else {
            anyhow::anyhow!("{what}: cannot run `{program}`: {e}")
        }
    })?;
    if !output.status.success() {
        bail!("{what} failed ({}):\n{}", output.status, tail(&output, 60));
    }
    Ok(output)
}

/// The last `lines` lines of a tool's stdout and stderr, indented.
fn tail(output: &std::process::Output, lines: usize) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].iter().map(|l| format!("  | {l}")).collect::<Vec<_>>().join("\n")
}

/// The first line a tool prints for `--version`, part of cache keys: another tool version may
/// produce other bytes.
pub fn tool_version(program: &str, what: &str) -> Result<String> {
    let mut cmd = Command::new(program);
    cmd.arg("--version");
    let out = run(cmd, what)?;
    Ok(String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_entries_normalise_modes_and_honour_keep() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("pkg/__pycache__")).unwrap();
        fs::write(d.path().join("pkg/a.py"), "a").unwrap();
        fs::write(d.path().join("pkg/run"), "#!").unwrap();
        fs::set_permissions(d.path().join("pkg/run"), fs::Permissions::from_mode(0o700)).unwrap();
        fs::set_permissions(d.path().join("pkg/a.py"), fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(d.path().join("pkg/__pycache__/a.pyc"), "x").unwrap();
        let keep = |p: &Path| !p.ends_with("__pycache__");
        let entries = tree_entries(d.path(), "app", &keep).unwrap();
        let got: Vec<(&str, u32)> = entries.iter().map(|e| (e.path.as_str(), e.mode)).collect();
        assert_eq!(got, [("app/pkg", 0o755), ("app/pkg/a.py", 0o644), ("app/pkg/run", 0o755)]);
        assert_eq!(entries_digest(&entries), entries_digest(&entries.iter().rev().cloned().collect::<Vec<_>>()));
    }

    #[test]
    fn failing_tool_output_is_shown() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo compiling; echo 'error: broken' >&2; exit 3"]);
        let e = run(cmd, "npm run build").unwrap_err().to_string();
        assert!(e.contains("npm run build failed") && e.contains("| error: broken"), "{e}");
        let e = run(Command::new("no-such-tool-forge"), "x").unwrap_err().to_string();
        assert!(e.contains("not installed or not on PATH"), "{e}");
    }
}
