//! `next-standalone`: a Next.js app with `output: "standalone"`.
//!
//! The host's npm installs exactly `package-lock.json` (`npm ci --ignore-scripts`) and runs the
//! app's `npm run build`, in a scratch copy of the source, so the checkout is never touched.
//! `.next/standalone` is then split: `node_modules` (the dependencies Next traced) into the
//! dependency layer, everything else (server, `.next`, static and public files) into the app
//! layer; both under `/app`. `[build] exclude` drops paths a recipe knows are never loaded.
//!
//! Reproducibility: Next puts random values into a build (build id, preview-mode keys, the
//! server-actions key), the build directory's path into server bundles, and writes some
//! manifests in the order its parallel page compilation happens to finish. forge builds in a
//! fixed directory, passes the server-actions key in (`NEXT_SERVER_ACTIONS_ENCRYPTION_KEY`),
//! then replaces the build id and preview keys Next drew with values derived from the build's
//! input digest and writes every manifest (JSON, and each route's client reference manifest)
//! with sorted keys, so the same inputs give the same bytes. The server-actions key baked into
//! the image is therefore predictable from the source: deployments set
//! `NEXT_SERVER_ACTIONS_ENCRYPTION_KEY` to a secret at run time, which Next prefers to the
//! baked one (charts/todo-app does).
//!
//! The build runs at most once per input digest: its layer digests are recorded under the
//! cache, so an unchanged app plans its layers from hashes alone.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::process::Command;

use anyhow::{bail, Context, Result};
use indicatif::ProgressBar;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{entries_digest, file_digest, run, tool_version, tree_entries};
use crate::build::PlannedLayer;
use crate::fsentry::{Entry, EntryKind};
use crate::rootfs::NONROOT_ID;

/// The app's directory in the image.
pub const APP_DIR: &str = "app";
/// Next writes its runtime cache here: the one path below /app the image user may write.
const NEXT_CACHE: &str = "app/.next/cache";
/// Where every build runs (see `Scratch`).
const SCRATCH_DIR: &str = "/tmp/forge-next-build";
/// Bump when the same inputs give different layers (a change to how the output is normalised):
/// a build record cached by an older forge must not stand in for the new output.
const BUILDER_REVISION: u32 = 2;

/// Top-level source entries that are build products or local state, never inputs.
const NOT_SOURCE: [&str; 4] = ["node_modules", ".next", ".git", "out"];

/// The dependency and app layers of the Next.js app at `source`.
pub fn plan(source: &Path, cache_root: &Path, exclude: &[String]) -> Result<Vec<PlannedLayer<'static>>> {
    check_lockfile(source)?;
    let node = tool_version("node", "next-standalone builder: `node --version`").context("hint: install Node.js >= 20 and npm")?;
    let npm = tool_version("npm", "next-standalone builder: `npm --version`").context("hint: install npm")?;
    let source_entries = tree_entries(source, "", &is_source).with_context(|| format!("reading {}", source.display()))?;
    let inputs = json!({
        "builder": "next-standalone",
        "revision": BUILDER_REVISION,
        "node": node,
        "npm": npm,
        "package-lock.json": file_digest(&source.join("package-lock.json"))?,
        "source": entries_digest(&source_entries),
        "exclude": exclude,
    });
    let build_digest = hex::encode(Sha256::digest(inputs.to_string()));
    let record_path = cache_root.join("builds").join("next-standalone").join(format!("{build_digest}.json"));

    let job = BuildJob { source: source.to_path_buf(), digest: build_digest, exclude: exclude.to_vec() };
    let recorded: Option<(String, String)> = fs::read(&record_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| Some((v["dependencies"].as_str()?.to_string(), v["app"].as_str()?.to_string())));
    let layers = match recorded {
        // Built before: plan from the recorded digests; build again only if a layer blob is gone.
        Some((deps, app)) => {
            let shared = Arc::new(Mutex::new(Shared { job: Some(job), deps: None, app: None, error: None }));
            let other = shared.clone();
            vec![
                layer("dependencies", deps, move |bar| take(&shared, bar, Part::Dependencies)),
                layer("app", app, move |bar| take(&other, bar, Part::App)),
            ]
        }
        None => {
            let bar = ProgressBar::new_spinner();
            bar.set_message(format!("npm ci + next build in {}", source.display()));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            let (deps, app) = job.run(&bar)?;
            bar.finish_and_clear();
            let (deps_digest, app_digest) = (entries_digest(&deps), entries_digest(&app));
            record(&record_path, &json!({ "dependencies": deps_digest, "app": app_digest }))?;
            vec![layer("dependencies", deps_digest, move |_| Ok(deps)), layer("app", app_digest, move |_| Ok(app))]
        }
    };
    Ok(layers)
}

/// One build whose two halves go to two layers, which may ask for them from two threads.
struct Shared {
    /// The build, until a layer runs it.
    job: Option<BuildJob>,
    deps: Option<Vec<Entry>>,
    app: Option<Vec<Entry>>,
    error: Option<String>,
}

#[derive(Clone, Copy)]
enum Part {
    Dependencies,
    App,
}

/// `part` of the shared build, running it if no layer has yet. The lock is held while
/// building, so the other layer waits for the same build instead of starting its own.
fn take(shared: &Mutex<Shared>, bar: &ProgressBar, part: Part) -> Result<Vec<Entry>> {
    let mut state = shared.lock().map_err(|_| anyhow::anyhow!("the Next.js build panicked"))?;
    if let Some(job) = state.job.take() {
        match job.run(bar) {
            Ok((deps, app)) => (state.deps, state.app) = (Some(deps), Some(app)),
            Err(e) => state.error = Some(format!("{e:#}")),
        }
    }
    if let Some(e) = &state.error {
        bail!("{e}");
    }
    let slot = match part {
        Part::Dependencies => state.deps.take(),
        Part::App => state.app.take(),
    };
    slot.ok_or_else(|| anyhow::anyhow!("the Next.js build output was already taken"))
}

fn layer(
    concern: &str,
    digest: String,
    produce: impl FnOnce(&ProgressBar) -> Result<Vec<Entry>> + Send + 'static,
) -> PlannedLayer<'static> {
    PlannedLayer {
        concern: concern.into(),
        inputs: json!({ "builder": "next-standalone", "entries": digest }),
        produce: Box::new(produce),
    }
}

/// Whether a path (relative to the source root) is part of the app's source.
fn is_source(rel: &Path) -> bool {
    let top = rel.components().next().and_then(|c| c.as_os_str().to_str()).unwrap_or_default();
    !(rel.components().count() == 1 && NOT_SOURCE.contains(&top))
}

/// `package-lock.json` must exist and pin what `package.json` asks for.
fn check_lockfile(source: &Path) -> Result<()> {
    let manifest_path = source.join("package.json");
    let lock_path = source.join("package-lock.json");
    let hint = format!("run `npm install` in {} and commit package-lock.json", source.display());
    let read = |p: &Path| -> Result<Value> {
        let text = fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", p.display()))
    };
    if !manifest_path.is_file() {
        bail!("{} is missing: the next-standalone builder needs an npm project\n  hint: point `build.source` at the app's directory", manifest_path.display());
    }
    if !lock_path.is_file() {
        bail!("{} is missing: forge installs exactly what the lock pins\n  hint: {hint}", lock_path.display());
    }
    let (manifest, lock) = (read(&manifest_path)?, read(&lock_path)?);
    let root = &lock["packages"][""];
    if root.is_null() {
        bail!("{} has no `packages[\"\"]` entry (lockfileVersion 2 or 3 needed)\n  hint: {hint}", lock_path.display());
    }
    for field in ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"] {
        let (want, have) = (&manifest[field], &root[field]);
        let empty = |v: &Value| v.is_null() || v.as_object().is_some_and(|o| o.is_empty());
        if want != have && !(empty(want) && empty(have)) {
            let name = want
                .as_object()
                .and_then(|w| w.iter().find(|(k, v)| have.get(k.as_str()) != Some(v)).map(|(k, _)| k.clone()))
                .or_else(|| have.as_object().and_then(|h| h.keys().find(|k| want.get(k.as_str()).is_none()).cloned()))
                .unwrap_or_default();
            bail!(
                "{} is out of date: package.json's {field} (`{name}`) differs from what the lock pins\n  hint: {hint}",
                lock_path.display()
            );
        }
    }
    Ok(())
}

fn record(path: &Path, value: &Value) -> Result<()> {
    let dir = path.parent().expect("record path has a parent");
    let write = || -> io::Result<()> {
        fs::create_dir_all(dir)?;
        let tmp = tempfile::NamedTempFile::new_in(dir)?;
        fs::write(tmp.path(), value.to_string())?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    write().with_context(|| format!("cannot write {}", path.display()))
}

/// One `npm ci` + `npm run build` of a source tree.
struct BuildJob {
    source: PathBuf,
    /// Hex input digest: the seed of every value Next would otherwise pick at random.
    digest: String,
    exclude: Vec<String>,
}

impl BuildJob {
    /// Builds and returns (dependency entries, app entries).
    fn run(&self, bar: &ProgressBar) -> Result<(Vec<Entry>, Vec<Entry>)> {
        let scratch = Scratch::take()?;
        let work = &scratch.work;
        copy_source(&self.source, work).with_context(|| format!("copying {} to {}", self.source.display(), work.display()))?;
        let what = |step: &str| format!("{step} in a copy of {}", self.source.display());
        let npm = |args: &[&str]| {
            let mut cmd = Command::new("npm");
            cmd.current_dir(work)
                .args(args)
                .env("NEXT_TELEMETRY_DISABLED", "1")
                .env("npm_config_update_notifier", "false")
                .env("NEXT_SERVER_ACTIONS_ENCRYPTION_KEY", self.server_actions_key());
            cmd
        };
        bar.set_message("npm ci");
        run(npm(&["ci", "--ignore-scripts", "--no-audit", "--no-fund"]), &what("`npm ci`")).with_context(|| {
            format!("hint: if npm says package.json and package-lock.json are out of sync, run `npm install` in {}", self.source.display())
        })?;
        bar.set_message("npm run build");
        run(npm(&["run", "build"]), &what("`npm run build` (next build)"))?;

        let standalone = work.join(".next/standalone");
        if !standalone.join(".next").is_dir() {
            bail!(
                "`npm run build` in {} produced no .next/standalone\n  hint: set `output: \"standalone\"` in next.config",
                self.source.display()
            );
        }
        let exclude = self.exclude.clone();
        let keep = move |rel: &Path| !exclude.iter().any(|x| rel == Path::new(x));
        let entries = tree_entries(&standalone, APP_DIR, &keep).context("reading .next/standalone")?;
        let entries = self.normalise(entries)?;

        let deps_prefix = format!("{APP_DIR}/node_modules");
        let (mut deps, mut app): (Vec<Entry>, Vec<Entry>) =
            entries.into_iter().partition(|e| e.path == deps_prefix || e.path.starts_with(&format!("{deps_prefix}/")));
        let app_dir = Entry { path: APP_DIR.into(), kind: EntryKind::Dir, mode: 0o755, uid: 0, gid: 0 };
        deps.insert(0, app_dir.clone());
        app.insert(0, app_dir);
        app.retain(|e| e.path != NEXT_CACHE && !e.path.starts_with(&format!("{NEXT_CACHE}/")));
        app.push(Entry { path: NEXT_CACHE.into(), kind: EntryKind::Dir, mode: 0o755, uid: NONROOT_ID, gid: NONROOT_ID });
        Ok((deps, app))
    }

    /// The standalone tree with every value Next drew at random replaced by one derived from
    /// the input digest (same length, same alphabet) and its JSON manifests in sorted key order.
    ///
    /// Next offers no setting for these: the build id could come from `generateBuildId`, but
    /// only with the app's cooperation, and the preview keys come from a cache file Next
    /// ignores whenever it believes it runs in a container (`/.dockerenv`), as CI machines do.
    /// Deriving them is acceptable because they protect nothing in this app (it has no
    /// preview/draft mode) and the image is public to whoever can pull it anyway.
    fn normalise(&self, entries: Vec<Entry>) -> Result<Vec<Entry>> {
        let text = |path: &str| -> Result<String> {
            let entry = entries.iter().find(|e| e.path == format!("{APP_DIR}/{path}"));
            match entry.map(|e| &e.kind) {
                Some(EntryKind::File(data)) => String::from_utf8(data.clone()).with_context(|| format!("{path} is not UTF-8")),
                _ => bail!("`npm run build` left no {path} in .next/standalone\n  hint: is this a Next.js 15 app with `output: \"standalone\"`?"),
            }
        };
        let mut generated = vec![(text(".next/BUILD_ID")?.trim().to_string(), self.derive("build-id", 21))];
        let prerender: Value = serde_json::from_str(&text(".next/prerender-manifest.json")?).context("parsing .next/prerender-manifest.json")?;
        for (key, purpose) in [
            ("previewModeId", "preview-id"),
            ("previewModeSigningKey", "preview-signing"),
            ("previewModeEncryptionKey", "preview-encryption"),
        ] {
            let drawn = prerender["preview"][key].as_str().unwrap_or_default();
            generated.push((drawn.to_string(), self.derive(purpose, drawn.len())));
        }
        let mut entries = entries;
        for (drawn, derived) in &generated {
            entries = replace_everywhere(entries, drawn, derived);
        }
        entries.into_iter().map(sort_manifest_keys).collect()
    }

    /// `len` hex characters derived from the input digest and `purpose`.
    fn derive(&self, purpose: &str, len: usize) -> String {
        let mut out = String::new();
        let mut round = 0u32;
        while out.len() < len {
            out.push_str(&hex::encode(Sha256::digest(format!("{}:{purpose}:{round}", self.digest))));
            round += 1;
        }
        out.truncate(len);
        out
    }

    /// A 256-bit AES key, base64, as Next expects it.
    fn server_actions_key(&self) -> String {
        use base64::Engine as _;
        let key = Sha256::digest(format!("{}:server-actions", self.digest));
        base64::engine::general_purpose::STANDARD.encode(key)
    }
}

/// Replaces `from` with `to` in every path and file: Next's random build id names a directory
/// under .next/static and appears in manifests and prerendered pages.
fn replace_everywhere(entries: Vec<Entry>, from: &str, to: &str) -> Vec<Entry> {
    if from.is_empty() {
        return entries;
    }
    let replace = |bytes: &[u8]| -> Option<Vec<u8>> {
        let text = std::str::from_utf8(bytes).ok()?;
        text.contains(from).then(|| text.replace(from, to).into_bytes())
    };
    entries
        .into_iter()
        .map(|mut e| {
            e.path = e.path.replace(from, to);
            if let EntryKind::File(data) = &e.kind {
                if let Some(new) = replace(data) {
                    e.kind = EntryKind::File(new);
                }
            }
            e
        })
        .collect()
}

/// A manifest below `.next/` rewritten with its object keys sorted. Next fills several
/// manifests (app-paths, app-build, app-path-routes, each route's client reference manifest)
/// as its parallel compilation finishes, so their key order varies between builds; Next only
/// looks keys up, never relies on their order. Every such file is rewritten, whatever its
/// order was, so the output does not depend on the order it came in.
///
/// JSON files that do not parse are left alone (Next writes none; a file that merely ends in
/// `.json` is not ours to judge). A client reference manifest in an unknown shape is an error:
/// left as it is, it would make the image differ from build to build.
fn sort_manifest_keys(mut entry: Entry) -> Result<Entry> {
    let in_next = entry.path.starts_with(&format!("{APP_DIR}/.next/"));
    let EntryKind::File(data) = &entry.kind else { return Ok(entry) };
    if in_next && entry.path.ends_with(".json") {
        if let Ok(value) = serde_json::from_slice::<Value>(data) {
            entry.kind = EntryKind::File(sorted(value).to_string().into_bytes());
        }
    } else if in_next && entry.path.ends_with(CLIENT_REFERENCE_MANIFEST) {
        let text = std::str::from_utf8(data).ok().and_then(sorted_client_reference_manifest).with_context(|| {
            format!(
                "{} is not a client reference manifest as Next.js 15 writes it (`{RSC_MANIFEST_PREFIX}\"<page>\"]=<JSON>`)\n  \
                 hint: forge's next-standalone builder knows Next 15's format; pin `next` to 15.x in package.json",
                entry.path
            )
        })?;
        entry.kind = EntryKind::File(text.into_bytes());
    }
    Ok(entry)
}

/// Suffix of the per-route files mapping client components to their chunks.
const CLIENT_REFERENCE_MANIFEST: &str = "_client-reference-manifest.js";
/// What Next writes before the route's name in such a file.
const RSC_MANIFEST_PREFIX: &str = "globalThis.__RSC_MANIFEST=(globalThis.__RSC_MANIFEST||{});globalThis.__RSC_MANIFEST[";

/// `PREFIX"<page>"]=<JSON>` with the JSON's keys sorted; None if `text` has another shape.
fn sorted_client_reference_manifest(text: &str) -> Option<String> {
    let rest = text.strip_prefix(RSC_MANIFEST_PREFIX)?;
    let mut page = serde_json::Deserializer::from_str(rest).into_iter::<String>();
    let name = page.next()?.ok()?;
    let manifest: Value = serde_json::from_str(rest[page.byte_offset()..].strip_prefix("]=")?).ok()?;
    Some(format!("{RSC_MANIFEST_PREFIX}{}]={}", Value::String(name), sorted(manifest)))
}

/// `value` with every object's keys in sorted order (arrays keep theirs: it means something).
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut pairs: Vec<(String, Value)> = map.into_iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(pairs.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// The fixed scratch directory a build runs in (its path ends up in Next's server bundles, so
/// it must not vary: not even with `$TMPDIR`), held under an exclusive lock while the build
/// runs and removed when it ends: a build leaves ~500 MB of node_modules behind otherwise.
struct Scratch {
    _lock: fs::File,
    work: PathBuf,
}

impl Scratch {
    fn take() -> Result<Scratch> {
        let base = Path::new(SCRATCH_DIR);
        fs::create_dir_all(base).with_context(|| format!("cannot create {}", base.display()))?;
        let lock = fs::File::create(base.join("lock")).context("cannot create the build lock")?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
            .map_err(io::Error::from)
            .context("cannot lock the build directory")?;
        let work = base.join("app");
        if work.exists() {
            fs::remove_dir_all(&work).with_context(|| format!("cannot clean {}", work.display()))?;
        }
        Ok(Scratch { _lock: lock, work })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Best effort: the next build cleans it before starting anyway.
        let _ = fs::remove_dir_all(&self.work);
    }
}

fn copy_source(source: &Path, dest: &Path) -> io::Result<()> {
    fs::create_dir_all(dest)?;
    for entry in tree_entries(source, "", &is_source)? {
        let path = dest.join(entry.path.trim_start_matches('/'));
        match entry.kind {
            EntryKind::Dir => fs::create_dir_all(&path)?,
            EntryKind::File(data) => {
                fs::write(&path, data)?;
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&path, fs::Permissions::from_mode(entry.mode))?;
            }
            EntryKind::Symlink(target) => std::os::unix::fs::symlink(target, &path)?,
            EntryKind::Hardlink(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(dir: &Path, deps: &str, locked: &str) {
        fs::write(dir.join("package.json"), format!(r#"{{"name":"x","dependencies":{deps}}}"#)).unwrap();
        fs::write(
            dir.join("package-lock.json"),
            format!(r#"{{"lockfileVersion":3,"packages":{{"":{{"name":"x","dependencies":{locked}}}}}}}"#),
        )
        .unwrap();
    }

    #[test]
    fn missing_lock_says_run_npm_install() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("package.json"), "{}").unwrap();
        let e = check_lockfile(d.path()).unwrap_err().to_string();
        assert!(e.contains("package-lock.json is missing") && e.contains("run `npm install`"), "{e}");
    }

    #[test]
    fn stale_lock_names_the_dependency() {
        let d = tempfile::tempdir().unwrap();
        project(d.path(), r#"{"next":"15.5.29","pg":"8.0.0"}"#, r#"{"next":"15.5.29"}"#);
        let e = check_lockfile(d.path()).unwrap_err().to_string();
        assert!(e.contains("out of date") && e.contains("`pg`") && e.contains("run `npm install`"), "{e}");
        project(d.path(), r#"{"next":"15.5.29"}"#, r#"{"next":"15.5.29"}"#);
        check_lockfile(d.path()).unwrap();
    }

    #[test]
    fn build_id_is_replaced_in_paths_and_contents() {
        let file = |p: &str, d: &str| Entry { path: p.into(), kind: EntryKind::File(d.into()), mode: 0o644, uid: 0, gid: 0 };
        let out = replace_everywhere(
            vec![file("app/.next/static/RANDOM/_buildManifest.js", "x"), file("app/.next/BUILD_ID", "RANDOM")],
            "RANDOM",
            "stable",
        );
        assert_eq!(out[0].path, "app/.next/static/stable/_buildManifest.js");
        assert_eq!(out[1].kind, EntryKind::File(b"stable".to_vec()));
    }

    fn file(path: &str, data: &str) -> Entry {
        Entry { path: path.into(), kind: EntryKind::File(data.into()), mode: 0o644, uid: 0, gid: 0 }
    }

    fn data(entries: &[Entry], path: &str) -> String {
        match &entries.iter().find(|e| e.path == path).unwrap().kind {
            EntryKind::File(d) => String::from_utf8(d.clone()).unwrap(),
            other => panic!("{path} is {other:?}"),
        }
    }

    #[test]
    fn drawn_build_id_and_preview_keys_are_replaced_by_derived_ones() {
        let job = BuildJob { source: PathBuf::new(), digest: "inputs".into(), exclude: vec![] };
        let built = |id: &str, key: &str| {
            vec![
                file("app/.next/BUILD_ID", id),
                file(
                    "app/.next/prerender-manifest.json",
                    &format!(r#"{{"version":4,"preview":{{"previewModeId":"{key}","previewModeSigningKey":"{key}{key}","previewModeEncryptionKey":"e{key}"}}}}"#),
                ),
                file(&format!("app/.next/static/{id}/_buildManifest.js"), id),
                file("app/node_modules/x/index.js", "unrelated"),
            ]
        };
        let one = job.normalise(built("drawnFirstTime_abcdef", "1111aaaa")).unwrap();
        let two = job.normalise(built("drawnSecondTime_12345", "2222bbbb")).unwrap();
        assert_eq!(one, two);
        let manifest = data(&one, "app/.next/prerender-manifest.json");
        assert!(!manifest.contains("1111aaaa") && manifest.contains(&job.derive("preview-id", 8)), "{manifest}");
        assert_eq!(data(&one, "app/.next/BUILD_ID"), job.derive("build-id", 21));
        assert_eq!(data(&one, "app/node_modules/x/index.js"), "unrelated");
    }

    #[test]
    fn manifests_get_sorted_keys_whatever_order_they_came_in() {
        let sort = |path: &str, text: &str| sort_manifest_keys(file(path, text)).unwrap();
        let a = sort("app/.next/server/app-paths-manifest.json", r#"{"/b":"b.js","/a":{"y":[2,1],"x":0}}"#);
        let b = sort("app/.next/server/app-paths-manifest.json", r#"{"/a":{"x":0,"y":[2,1]},"/b":"b.js"}"#);
        assert_eq!(a, b);
        assert_eq!(data(&[a], "app/.next/server/app-paths-manifest.json"), r#"{"/a":{"x":0,"y":[2,1]},"/b":"b.js"}"#);
        // Files outside .next and files that are not JSON stay byte for byte.
        let pkg = file("app/node_modules/x/package.json", r#"{"name":"x", "main":"i.js"}"#);
        assert_eq!(sort_manifest_keys(pkg.clone()).unwrap(), pkg);
        let broken = file("app/.next/x.json", "{not json");
        assert_eq!(sort_manifest_keys(broken.clone()).unwrap(), broken);
    }

    #[test]
    fn client_reference_manifests_get_sorted_keys_and_keep_their_shape() {
        let path = "app/.next/server/app/tasks/page_client-reference-manifest.js";
        let prefix = "globalThis.__RSC_MANIFEST=(globalThis.__RSC_MANIFEST||{});globalThis.__RSC_MANIFEST[\"/tasks/page\"]=";
        let a = sort_manifest_keys(file(path, &format!(r#"{prefix}{{"ssr":{{"b]=":1,"a":2}},"edge":{{}}}}"#))).unwrap();
        let b = sort_manifest_keys(file(path, &format!(r#"{prefix}{{"edge":{{}},"ssr":{{"a":2,"b]=":1}}}}"#))).unwrap();
        assert_eq!(a, b);
        assert_eq!(data(&[a], path), format!(r#"{prefix}{{"edge":{{}},"ssr":{{"a":2,"b]=":1}}}}"#));
        // Another shape would go into the image unsorted: the build stops and says why.
        let err = sort_manifest_keys(file(path, "self.__RSC_MANIFEST={}")).unwrap_err().to_string();
        assert!(err.contains("page_client-reference-manifest.js is not a client reference manifest as Next.js 15 writes it"), "{err}");
        assert!(err.contains("pin `next` to 15.x"), "{err}");
    }

    #[test]
    fn derived_values_depend_only_on_the_input_digest() {
        let job = |d: &str| BuildJob { source: PathBuf::new(), digest: d.into(), exclude: vec![] };
        assert_eq!(job("a").derive("build-id", 21), job("a").derive("build-id", 21));
        assert_eq!(job("a").derive("preview-signing", 64).len(), 64);
        assert_ne!(job("a").server_actions_key(), job("b").server_actions_key());
    }
}
