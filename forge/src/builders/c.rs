//! `c`: one C source file compiled by the host's `cc` into `/usr/local/bin/<file stem>`, for
//! small helpers such as the Postgres image's non-shell entrypoint.
//!
//! The binary is reproducible: no debug info or symbols (`-s`), no host paths (the compiler
//! runs in the source's directory on the bare file name, and `-ffile-prefix-map` maps what is
//! left), a fixed random seed, and the compiler's version is part of the cache key.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use indicatif::ProgressBar;
use serde_json::json;

use super::{file_digest, run, tool_version};
use crate::build::PlannedLayer;
use crate::fsentry::{Entry, EntryKind};

/// Compiler flags: part of the cache key.
const CFLAGS: [&str; 6] = ["-O2", "-s", "-std=c11", "-Wall", "-Werror", "-D_GNU_SOURCE"];
/// Where binaries go in the image.
pub const BIN_DIR: &str = "usr/local/bin";

/// The layer holding the compiled `source` (a `.c` file).
pub fn plan(source: &Path) -> Result<Vec<PlannedLayer<'static>>> {
    let (Some(dir), Some(file), Some(stem)) = (source.parent(), source.file_name(), source.file_stem()) else {
        bail!("{}: the c builder needs a .c file as `build.source`", source.display());
    };
    if !source.is_file() || source.extension().is_none_or(|e| e != "c") {
        bail!("{}: the c builder needs a .c file as `build.source`\n  hint: point `build.source` at the C file, e.g. \"postgres/pg-init.c\"", source.display());
    }
    let stem = stem.to_str().context("the C file's name is not UTF-8")?.to_string();
    let cc = tool_version("cc", "c builder: `cc --version`").context("hint: install a C compiler (`apt-get install gcc`)")?;
    let inputs = json!({ "builder": "c", "cc": cc, "flags": CFLAGS, "source": file_digest(source)?, "name": stem });
    let (dir, file) = (dir.to_path_buf(), file.to_os_string());
    let produce = move |_: &ProgressBar| -> Result<Vec<Entry>> {
        let out = tempfile::tempdir().context("cannot create a temp dir for cc")?;
        let binary = out.path().join(&stem);
        let mut cmd = Command::new("cc");
        cmd.current_dir(&dir)
            .env("LC_ALL", "C")
            .args(CFLAGS)
            .arg(format!("-ffile-prefix-map={}=.", dir.display()))
            .arg(format!("-frandom-seed={stem}"))
            .arg("-o")
            .arg(&binary)
            .arg(&file);
        run(cmd, &format!("compiling {}", dir.join(&file).display()))?;
        let data = std::fs::read(&binary).with_context(|| format!("cannot read {}", binary.display()))?;
        Ok(vec![
            Entry { path: BIN_DIR.into(), kind: EntryKind::Dir, mode: 0o755, uid: 0, gid: 0 },
            Entry { path: format!("{BIN_DIR}/{stem}"), kind: EntryKind::File(data), mode: 0o755, uid: 0, gid: 0 },
        ])
    };
    Ok(vec![PlannedLayer { concern: "app".into(), inputs, produce: Box::new(produce) }])
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
    }
}
