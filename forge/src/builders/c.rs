//! `c`: small C helpers compiled by the host's `cc`, such as the Postgres image's non-shell
//! entrypoint. `build.source` is one `.c` file or a directory of them: `lib<name>.c` becomes
//! the shared object `/usr/local/lib/lib<name>.so`, any other `<name>.c` the program
//! `/usr/local/bin/<name>`.
//!
//! The output is reproducible: no debug info or symbols (`-s`), no host paths (the compiler
//! runs in the source's directory on the bare file name, and `-ffile-prefix-map` maps what is
//! left), a fixed random seed, and the compiler's version is part of the cache key.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use indicatif::ProgressBar;
use serde_json::json;

use super::{file_digest, run, tool_version};
use crate::build::PlannedLayer;
use crate::fsentry::{Entry, EntryKind};

/// Compiler flags: part of the cache key.
const CFLAGS: [&str; 6] = ["-O2", "-s", "-std=c11", "-Wall", "-Werror", "-D_GNU_SOURCE"];
/// Where programs go in the image.
pub const BIN_DIR: &str = "usr/local/bin";
/// Where shared objects go in the image.
pub const LIB_DIR: &str = "usr/local/lib";

/// The layer holding the compiled `source` (a `.c` file or a directory of them).
pub fn plan(source: &Path) -> Result<Vec<PlannedLayer<'static>>> {
    let files = c_files(source)?;
    let cc = tool_version("cc", "c builder: `cc --version`").context("hint: install a C compiler (`apt-get install gcc`)")?;
    let mut sources = Vec::new();
    for f in &files {
        sources.push(json!([f.file_name().and_then(|n| n.to_str()), file_digest(f)?]));
    }
    let inputs = json!({ "builder": "c", "cc": cc, "flags": CFLAGS, "sources": sources });
    let produce = move |_: &ProgressBar| -> Result<Vec<Entry>> {
        let mut entries = Vec::new();
        for file in &files {
            entries.extend(compile(file)?);
        }
        Ok(entries)
    };
    Ok(vec![PlannedLayer { concern: "app".into(), inputs, produce: Box::new(produce) }])
}

/// `source` itself if it is a `.c` file, else the `.c` files in it, sorted.
fn c_files(source: &Path) -> Result<Vec<PathBuf>> {
    let is_c = |p: &Path| p.is_file() && p.extension().is_some_and(|e| e == "c");
    let hint = "hint: point `build.source` at a .c file or a directory of them, e.g. \"postgres\"";
    if is_c(source) {
        return Ok(vec![source.to_path_buf()]);
    }
    if !source.is_dir() {
        bail!("{}: the c builder needs a .c file or a directory of them as `build.source`\n  {hint}", source.display());
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(source).with_context(|| format!("cannot list {}", source.display()))? {
        let path = entry?.path();
        if is_c(&path) {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        bail!("{} has no .c files\n  {hint}", source.display());
    }
    Ok(files)
}

/// Compiles one file into its directory and file entries.
fn compile(file: &Path) -> Result<Vec<Entry>> {
    let (Some(dir), Some(name), Some(stem)) = (file.parent(), file.file_name(), file.file_stem().and_then(|s| s.to_str())) else {
        bail!("{}: not a C file name forge can use", file.display());
    };
    let shared = stem.starts_with("lib");
    let (dest_dir, out_name) = if shared { (LIB_DIR, format!("{stem}.so")) } else { (BIN_DIR, stem.to_string()) };
    let out = tempfile::tempdir().context("cannot create a temp dir for cc")?;
    let binary = out.path().join(&out_name);
    let mut cmd = Command::new("cc");
    cmd.current_dir(dir)
        .env("LC_ALL", "C")
        .args(CFLAGS)
        .arg(format!("-ffile-prefix-map={}=.", dir.display()))
        .arg(format!("-frandom-seed={stem}"));
    if shared {
        cmd.args(["-shared", "-fPIC"]);
    }
    cmd.arg("-o").arg(&binary).arg(name);
    run(cmd, &format!("compiling {}", file.display()))?;
    let data = std::fs::read(&binary).with_context(|| format!("cannot read {}", binary.display()))?;
    Ok(vec![
        Entry { path: dest_dir.into(), kind: EntryKind::Dir, mode: 0o755, uid: 0, gid: 0 },
        Entry { path: format!("{dest_dir}/{out_name}"), kind: EntryKind::File(data), mode: 0o755, uid: 0, gid: 0 },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(dir: &Path) -> Vec<Entry> {
        let layer = plan(&dir.join("hello.c")).unwrap().pop().unwrap();
        (layer.produce)(&ProgressBar::hidden()).unwrap()
    }

    #[test]
    fn compiles_reproducibly_wherever_the_source_lives() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let src = "#include <stdio.h>\nint main(void) { printf(\"%s\\n\", __FILE__); return 0; }\n";
        std::fs::write(a.path().join("hello.c"), src).unwrap();
        std::fs::write(b.path().join("hello.c"), src).unwrap();
        let (x, y) = (compile(a.path()), compile(b.path()));
        assert_eq!(x[1].path, "usr/local/bin/hello");
        std::fs::write(a.path().join("libshim.c"), "int shim(void) { return 1; }\n").unwrap();
        let both = (plan(a.path()).unwrap().pop().unwrap().produce)(&ProgressBar::hidden()).unwrap();
        let paths: Vec<&str> = both.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["usr/local/bin", "usr/local/bin/hello", "usr/local/lib", "usr/local/lib/libshim.so"]);
        assert_eq!(x, y, "same source in another directory gives the same binary");
    }

    #[test]
    fn compile_errors_are_shown() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("hello.c"), "int main(void) { return undefined_thing; }\n").unwrap();
        let layer = plan(&d.path().join("hello.c")).unwrap().pop().unwrap();
        let e = format!("{:#}", (layer.produce)(&ProgressBar::hidden()).unwrap_err());
        assert!(e.contains("undefined_thing"), "{e}");
    }

    #[test]
    fn source_must_be_a_c_file() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("x.sh"), "").unwrap();
        assert!(plan(&d.path().join("x.sh")).err().unwrap().to_string().contains("needs a .c file"));
        assert!(plan(d.path()).err().unwrap().to_string().contains("has no .c files"));
    }
}
