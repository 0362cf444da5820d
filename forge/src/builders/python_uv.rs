//! `python-uv`: a uv-managed Python application.
//!
//! Dependencies: exactly what `uv.lock` pins (without dev groups), installed by the host's uv
//! for the image's interpreter and platform (CPython 3.13, manylinux x86_64, wheels only,
//! hash-checked), never by running Python in the image. Console scripts (`bin/`) are left out
//! (their shebangs name the host's interpreter and the image runs modules with `-m`), and no
//! bytecode is written, so the layer is byte-for-byte reproducible. Extension modules lose
//! their debug info (`strip --strip-debug`, as Debian's dh_strip does): many wheels ship it,
//! and it is most of their size (asyncpg's protocol module: 9.5 MB).
//!
//! App: every top-level Python package of the source tree (a directory with `__init__.py`,
//! except `tests`/`test`), without caches.
//!
//! Image layout the recipe's `[image]` section runs (see recipes/backend.toml):
//! `/app/site-packages` (on `PYTHONPATH`), the packages under `/app` (the workdir), so
//! `python3.13 -m <package>` runs the app and `python3.13 -m <package>.<module>` its tools.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use indicatif::ProgressBar;
use serde_json::json;

use super::{entries_digest, file_digest, run, tool_version, tree_entries};
use crate::build::PlannedLayer;
use crate::fsentry::{Entry, EntryKind};

/// Python version of the image's interpreter (Debian 13's python3.13).
pub const PYTHON_VERSION: &str = "3.13";
/// Wheel platform: Debian 13 has glibc 2.41, so any manylinux wheel up to 2_40 runs there.
pub const PYTHON_PLATFORM: &str = "x86_64-manylinux_2_40";
/// Where the dependencies go in the image (the recipe puts it on `PYTHONPATH`).
pub const SITE_PACKAGES: &str = "app/site-packages";
/// Where the app's packages go in the image (the recipe's workdir).
pub const APP_DIR: &str = "app";

/// The dependency and app layers of the uv project at `source`.
pub fn plan(source: &Path) -> Result<Vec<PlannedLayer<'static>>> {
    let pyproject = source.join("pyproject.toml");
    let lockfile = source.join("uv.lock");
    if !pyproject.is_file() {
        bail!("{} is missing: the python-uv builder needs a uv project\n  hint: point `build.source` at the directory holding pyproject.toml", pyproject.display());
    }
    if !lockfile.is_file() {
        bail!("{} is missing: forge installs exactly what the lock pins\n  hint: run `uv lock` in {} and commit uv.lock", lockfile.display(), source.display());
    }
    let uv = tool_version("uv", "python-uv builder: `uv --version`").context("hint: install uv (`pip install uv`)")?;
    let strip = tool_version("strip", "python-uv builder: `strip --version`").context("hint: install binutils")?;
    let deps_inputs = json!({
        "builder": "python-uv",
        "uv": uv,
        "strip": strip,
        "uv.lock": file_digest(&lockfile)?,
        "pyproject.toml": file_digest(&pyproject)?,
        "python": PYTHON_VERSION,
        "platform": PYTHON_PLATFORM,
        "dest": SITE_PACKAGES,
    });
    let source_dir = source.to_path_buf();
    let deps = PlannedLayer {
        concern: "dependencies".into(),
        inputs: deps_inputs,
        produce: Box::new(move |bar: &ProgressBar| dependency_entries(&source_dir, bar)),
    };

    let app = app_entries(source)?;
    let app_layer = PlannedLayer {
        concern: "app".into(),
        inputs: json!({ "builder": "python-uv", "entries": entries_digest(&app) }),
        produce: Box::new(move |_: &ProgressBar| Ok(app)),
    };
    Ok(vec![deps, app_layer])
}

/// Checks the lock, exports it as hashed requirements and installs them into a temp dir.
fn dependency_entries(source: &Path, bar: &ProgressBar) -> Result<Vec<Entry>> {
    bar.set_message("uv lock --check");
    let mut check = Command::new("uv");
    check.current_dir(source).args(["lock", "--check"]);
    run(check, &format!("`uv lock --check` in {}", source.display())).with_context(|| {
        format!("{}/uv.lock does not match pyproject.toml\n  hint: run `uv lock` in {} and commit uv.lock", source.display(), source.display())
    })?;

    let work = tempfile::tempdir().context("cannot create a temp dir for the uv install")?;
    let requirements = work.path().join("requirements.txt");
    let target = work.path().join("site-packages");
    bar.set_message("uv export");
    let mut export = Command::new("uv");
    export.current_dir(source).args([
        "export", "--frozen", "--no-dev", "--no-emit-project", "--no-header", "--format", "requirements.txt", "--output-file",
    ]);
    export.arg(&requirements);
    run(export, &format!("`uv export` in {}", source.display()))?;

    bar.set_message("uv pip install");
    let mut install = Command::new("uv");
    install
        .current_dir(source)
        .args(["pip", "install", "--no-config", "--target"])
        .arg(&target)
        .args(["--python-version", PYTHON_VERSION, "--python-platform", PYTHON_PLATFORM])
        .args(["--only-binary", ":all:", "--require-hashes", "--no-deps", "--no-compile", "--requirement"])
        .arg(&requirements);
    run(install, &format!("installing the locked dependencies of {} for CPython {PYTHON_VERSION} {PYTHON_PLATFORM}", source.display()))?;

    bar.set_message("strip --strip-debug");
    strip_extension_modules(&target)?;

    let keep = |rel: &Path| {
        let top_level_extra = rel.components().count() == 1
            && (rel == Path::new("bin") || rel.to_str().is_some_and(|s| s.starts_with('.')));
        !top_level_extra && !is_bytecode(rel)
    };
    let mut entries = vec![app_dir(), dir(SITE_PACKAGES)];
    entries.extend(tree_entries(&target, SITE_PACKAGES, &keep).context("reading the installed dependencies")?);
    Ok(entries)
}

/// Removes debug info from every ELF shared object below `dir` (in place: it is a scratch copy).
fn strip_extension_modules(dir: &Path) -> Result<()> {
    let mut objects = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("cannot list {}", d.display()))? {
            let entry = entry?;
            let (path, kind) = (entry.path(), entry.file_type()?);
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() && is_shared_object(&path) {
                objects.push(path);
            }
        }
    }
    objects.sort();
    for chunk in objects.chunks(64) {
        let mut cmd = Command::new("strip");
        cmd.arg("--strip-debug").args(chunk);
        run(cmd, "stripping debug info from the dependencies' extension modules")?;
    }
    Ok(())
}

/// An ELF file named like a shared object (`x.so`, `libx.so.1`).
fn is_shared_object(path: &Path) -> bool {
    let named = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".so") || n.contains(".so."));
    let mut magic = [0u8; 4];
    named && std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok() && magic == *b"\x7fELF"
}

/// The source tree's top-level packages under `/app`.
fn app_entries(source: &Path) -> Result<Vec<Entry>> {
    let mut packages = Vec::new();
    for entry in std::fs::read_dir(source).with_context(|| format!("cannot list {}", source.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if path.join("__init__.py").is_file() && name != "tests" && name != "test" {
            packages.push(name);
        }
    }
    packages.sort();
    if packages.is_empty() {
        bail!("{} has no top-level Python package (a directory with __init__.py)\n  hint: point `build.source` at the app's project directory", source.display());
    }
    let mut entries = vec![app_dir()];
    for name in packages {
        let keep = |rel: &Path| !is_bytecode(rel);
        entries.push(dir(&format!("{APP_DIR}/{name}")));
        entries.extend(
            tree_entries(&source.join(&name), &format!("{APP_DIR}/{name}"), &keep)
                .with_context(|| format!("reading {}", source.join(&name).display()))?,
        );
    }
    Ok(entries)
}

/// Bytecode caches: they hold timestamps and host paths, and Python works without them.
fn is_bytecode(rel: &Path) -> bool {
    rel.file_name().is_some_and(|n| n == "__pycache__") || rel.extension().is_some_and(|e| e == "pyc" || e == "pyo")
}

fn dir(path: &str) -> Entry {
    Entry { path: path.into(), kind: EntryKind::Dir, mode: 0o755, uid: 0, gid: 0 }
}

fn app_dir() -> Entry {
    dir(APP_DIR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_lock_says_run_uv_lock() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("pyproject.toml"), "[project]\nname='x'\n").unwrap();
        let e = plan(d.path()).err().unwrap().to_string();
        assert!(e.contains("uv.lock is missing") && e.contains("run `uv lock`"), "{e}");
    }

    #[test]
    fn app_layer_takes_packages_but_not_tests_or_bytecode() {
        let d = tempfile::tempdir().unwrap();
        for p in ["app/__pycache__", "app/api", "tests", "scripts"] {
            std::fs::create_dir_all(d.path().join(p)).unwrap();
        }
        for f in ["app/__init__.py", "app/api/routes.py", "app/__pycache__/x.cpython-313.pyc", "tests/__init__.py", "scripts/x.py"] {
            std::fs::write(d.path().join(f), "#").unwrap();
        }
        let paths: Vec<String> = app_entries(d.path()).unwrap().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["app", "app/app", "app/app/__init__.py", "app/app/api", "app/app/api/routes.py"]);
    }
}
