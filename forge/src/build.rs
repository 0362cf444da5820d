//! `forge build`: recipe + lock -> layers -> image -> `out/<name>/` and `out/<name>.tar`.
//!
//! Building is hermetic: every Debian package comes from the lock (sha256-verified through the
//! download cache), every timestamp is the image epoch, and every layer is cached under the
//! digest of its inputs, so an unchanged image rebuilds without unpacking or compressing
//! anything. A layer is one concern (packages, system files, runtime, deps, app, extra files):
//! producers add a [`PlannedLayer`] in [`BuildContext::plan_layers`].

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{anyhow, bail, Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::debian::{self, DebianRequest, Mirrors};
use crate::fsentry::{Entry, EntryKind};
use crate::layer::LayerBlob;
use crate::layer_store::LayerStore;
use crate::lock::{self, Lock, LockedPackage};
use crate::oci::types::{EmptyObject, History, ImageConfig, RootFs, RuntimeConfig};
use crate::oci::{self, Image};
use crate::project::Project;
use crate::recipe::{FileSource, Recipe, DEFAULT_ARCH, DEFAULT_SUITES};
use crate::report::{LayerReport, Report};
use crate::{cache::Cache, rootfs};

/// `PATH` of every image unless a recipe overrides it.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Packages fetched and unpacked at once (downloads wait on the network, unpacking on xz).
const FETCH_WORKERS: usize = 4;

/// Produces a layer's entries (reporting progress on the bar) when it is not cached.
pub type ProduceEntries<'a> = Box<dyn FnOnce(&ProgressBar) -> Result<Vec<Entry>> + Send + 'a>;

/// One layer a recipe contributes: its cache key inputs and how to produce its entries.
pub struct PlannedLayer<'a> {
    /// What the layer holds, e.g. `debian`, `system`, `files` (also its history entry).
    pub concern: String,
    /// Everything that determines the layer's bytes besides forge itself and the epoch.
    pub inputs: serde_json::Value,
    pub produce: ProduceEntries<'a>,
}

/// A built image (not yet written to `out/`).
pub struct BuiltImage {
    pub recipe: Recipe,
    pub image: Image,
    pub config: ImageConfig,
    pub layers: Vec<LayerReport>,
    /// Every Debian package in the image, base recipes' included.
    pub packages: Vec<LockedPackage>,
    /// The lock's inputs digest for this recipe.
    pub inputs: String,
    /// Files and trees the image is made from (recipes of its chain, their sources, the
    /// lock): the revision label names the last commit that changed one of them.
    pub input_paths: Vec<PathBuf>,
}

/// What happened to `out/` for one image.
pub struct Written {
    pub report: Report,
    /// False when `out/` already held exactly this image.
    pub changed: bool,
}

/// Shared state of one `forge build` run.
pub struct BuildContext {
    pub project: Project,
    lock: Lock,
    mirrors: Mirrors,
    cache: Cache,
    store: LayerStore,
    epoch: u64,
    created: String,
    /// `org.opencontainers.image.source`, when known (see [`image_source`]).
    source_label: Option<String>,
    fingerprint: String,
    progress: MultiProgress,
    /// One slot per recipe: the first thread that needs an image builds it, the others (images
    /// on the same base, built in parallel) wait for that result instead of building it again.
    built: Mutex<HashMap<String, Arc<BuildSlot>>>,
}

/// The outcome of building one recipe, shared by every image that needs it. The error is kept
/// as text because every waiting image reports it in its own context.
type BuildSlot = OnceLock<Result<Arc<BuiltImage>, String>>;

impl BuildContext {
    /// Loads the lock and opens the caches. Fails when the lock is missing.
    pub fn new(project: Project, progress: MultiProgress) -> Result<BuildContext> {
        let lock_path = project.lock_path();
        if !lock_path.is_file() {
            bail!(
                "{} does not exist: forge builds only from the lock\n  hint: run `forge lock`",
                project.relative(&lock_path)
            );
        }
        let lock = Lock::load(&lock_path).with_context(|| {
            format!(
                "cannot read {}\n  hint: run `forge lock` to rewrite it",
                lock_path.display()
            )
        })?;
        let epoch = source_date_epoch(&lock)?;
        let cache = Cache::from_env();
        let store = LayerStore::open(&cache.root().join("layers"))?;
        Ok(BuildContext {
            source_label: image_source(&project.root),
            created: rfc3339(epoch)?,
            mirrors: Mirrors::from_env(),
            fingerprint: forge_fingerprint()?,
            project,
            lock,
            cache,
            store,
            epoch,
            progress,
            built: Mutex::new(HashMap::new()),
        })
    }

    /// Builds (or takes from the layer cache) the image of recipe `name` and its base chain.
    /// Safe to call from several threads: each recipe is built once per context.
    pub fn image(&self, name: &str) -> Result<Arc<BuiltImage>> {
        // Checked up front, for every thread: two threads each filling the slot of one recipe
        // of a loop would wait on each other forever.
        self.check_base_chain(name)?;
        self.image_once(name)
    }

    fn check_base_chain(&self, name: &str) -> Result<()> {
        let mut chain = vec![name.to_string()];
        let mut current = name.to_string();
        while let Some(base) = Recipe::load(&self.project.find_recipe(&current)?)?.base {
            let looped = chain.contains(&base);
            chain.push(base.clone());
            if looped {
                bail!(
                    "recipe base chain loops: {}\n  hint: fix the `base` keys",
                    chain.join(" -> ")
                );
            }
            current = base;
        }
        Ok(())
    }

    fn image_once(&self, name: &str) -> Result<Arc<BuiltImage>> {
        let slot = self
            .built
            .lock()
            .expect("build slots")
            .entry(name.to_string())
            .or_default()
            .clone();
        slot.get_or_init(|| self.build_recipe(name).map_err(|e| format!("{e:#}")))
            .clone()
            .map_err(|e| anyhow!(e))
    }

    fn build_recipe(&self, name: &str) -> Result<Arc<BuiltImage>> {
        let path = self.project.find_recipe(name)?;
        let recipe = Recipe::load(&path)?;
        let base = match &recipe.base {
            Some(b) => Some(self.image_once(b).with_context(|| {
                format!(
                    "building `{b}`, the base of {}",
                    self.project.relative(&recipe.path)
                )
            })?),
            None => None,
        };

        let (own_packages, inputs) = self.locked_packages(&recipe, base.as_deref())?;
        let planned = self.plan_layers(&recipe, base.is_none(), &own_packages)?;
        let own_layers = self.realise(&recipe.name, planned)?;

        let mut layers: Vec<(LayerBlob, LayerReport)> = Vec::new();
        if let Some(base) = &base {
            for (blob, report) in base.image.layers.iter().zip(&base.layers) {
                layers.push((blob.clone(), report.clone()));
            }
        }
        layers.extend(own_layers);
        let mut input_paths = base
            .as_ref()
            .map(|b| b.input_paths.clone())
            .unwrap_or_else(|| vec![self.project.lock_path()]);
        input_paths.extend(recipe_paths(&recipe));
        let config = self.image_config(&recipe, base.as_deref(), &layers, &input_paths);
        let image = Image::assemble(
            &config,
            layers.iter().map(|(b, _)| b.clone()).collect(),
            self.store.blob_dir(),
        );
        let mut packages = base
            .as_ref()
            .map(|b| b.packages.clone())
            .unwrap_or_default();
        packages.extend(own_packages);
        let built = Arc::new(BuiltImage {
            recipe,
            image,
            config,
            layers: layers.into_iter().map(|(_, r)| r).collect(),
            packages,
            inputs,
            input_paths,
        });
        Ok(built)
    }

    /// The recipe's own locked packages (minus what its base has) and its lock inputs digest;
    /// fails when the lock has no entry for the recipe or the entry is stale.
    fn locked_packages(
        &self,
        recipe: &Recipe,
        base: Option<&BuiltImage>,
    ) -> Result<(Vec<LockedPackage>, String)> {
        let base_packages = base.map(|b| b.packages.clone()).unwrap_or_default();
        let request = debian_request(recipe, base_packages.clone());
        let lock_name = self.project.relative(&self.project.lock_path());
        let Some(locked) = self.lock.recipe(&recipe.name) else {
            bail!(
                "{lock_name} has no entry for recipe `{}`\n  hint: run `forge lock`",
                recipe.name
            );
        };
        if locked.inputs != lock::inputs_digest(&request) {
            bail!(
                "{lock_name} is out of date for recipe `{}` ({} or its base changed since it was locked)\n  hint: run `forge lock`",
                recipe.name,
                self.project.relative(&recipe.path)
            );
        }
        let in_base: std::collections::BTreeSet<&str> =
            base_packages.iter().map(|p| p.name.as_str()).collect();
        let own = locked
            .packages
            .iter()
            .filter(|p| !in_base.contains(p.name.as_str()))
            .cloned()
            .collect();
        Ok((own, locked.inputs.clone()))
    }

    /// The layers `recipe` adds on top of its base, bottom first. Each concern is one layer;
    /// later producers (runtime, dependencies, app) append theirs here in that order.
    fn plan_layers<'a>(
        &'a self,
        recipe: &'a Recipe,
        is_root: bool,
        packages: &'a [LockedPackage],
    ) -> Result<Vec<PlannedLayer<'a>>> {
        let mut layers = Vec::new();
        if !packages.is_empty() {
            layers.push(PlannedLayer {
                concern: "debian".into(),
                inputs: json!(packages
                    .iter()
                    .map(|p| [&p.name, &p.sha256])
                    .collect::<Vec<_>>()),
                produce: Box::new(move |bar: &ProgressBar| self.debian_entries(packages, bar)),
            });
        }
        if is_root {
            layers.push(PlannedLayer {
                concern: "system".into(),
                inputs: json!("system"),
                produce: Box::new(|_: &ProgressBar| Ok(rootfs::system_files())),
            });
        }
        if let Some(node) = &recipe.node {
            layers.push(self.node_layer(recipe, &node.version)?);
        }
        if let Some(build) = &recipe.build {
            layers.extend(crate::builders::plan(recipe, build, self.cache.root())?);
        }
        if !recipe.files.is_empty() {
            layers.push(files_layer(recipe)?);
        }
        Ok(layers)
    }

    /// The Node.js runtime layer of `version`, which the lock must pin.
    fn node_layer(&self, recipe: &Recipe, version: &str) -> Result<PlannedLayer<'static>> {
        let Some(locked) = self.lock.node_runtime(version).cloned() else {
            bail!(
                "{} pins no Node.js {version} ({} key `node.version`)\n  hint: run `forge lock`",
                self.project.relative(&self.project.lock_path()),
                self.project.relative(&recipe.path)
            );
        };
        let cache_root = self.cache.root().to_path_buf();
        Ok(PlannedLayer {
            concern: "node".into(),
            inputs: json!({ "version": locked.version, "integrity": locked.integrity }),
            produce: Box::new(move |bar: &ProgressBar| {
                bar.set_message("fetching");
                let tarball = crate::node::fetch(&locked, &cache_root)?;
                Ok(crate::node::runtime_entries(&tarball)?)
            }),
        })
    }

    /// Unpacks the locked packages (fetched through the sha256-verifying cache) into entries,
    /// with their status.d records and, when ca-certificates is among them, the CA bundle.
    fn debian_entries(&self, packages: &[LockedPackage], bar: &ProgressBar) -> Result<Vec<Entry>> {
        bar.set_length(packages.len() as u64);
        let next = Mutex::new(0usize);
        let results: Vec<Mutex<Option<Result<Vec<Entry>>>>> =
            packages.iter().map(|_| Mutex::new(None)).collect();
        std::thread::scope(|s| {
            for _ in 0..FETCH_WORKERS.min(packages.len()) {
                s.spawn(|| loop {
                    let i = {
                        let mut n = next.lock().expect("work counter");
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(pkg) = packages.get(i) else { break };
                    let result = self.package_entries(pkg);
                    let failed = result.is_err();
                    *results[i].lock().expect("result slot") = Some(result);
                    bar.inc(1);
                    if failed {
                        break;
                    }
                });
            }
        });
        let mut entries = Vec::new();
        for (slot, pkg) in results.into_iter().zip(packages) {
            match slot.into_inner().expect("result slot") {
                Some(result) => entries.extend(result?),
                None => bail!(
                    "package {} was not unpacked (an earlier package failed)",
                    pkg.name
                ),
            }
        }
        if let Some(ca) = rootfs::ca_certificates(&entries) {
            entries.extend(ca);
        }
        Ok(entries)
    }

    fn package_entries(&self, pkg: &LockedPackage) -> Result<Vec<Entry>> {
        let deb = debian::fetch(pkg, &self.mirrors, &self.cache).with_context(|| {
            format!(
                "fetching package {} {} ({})",
                pkg.name, pkg.version, pkg.filename
            )
        })?;
        let contents = debian::deb::read_deb(&deb, &pkg.name).with_context(|| {
            format!(
                "unpacking package {} {} ({})",
                pkg.name,
                pkg.version,
                deb.display()
            )
        })?;
        Ok(rootfs::package_entries(
            &pkg.name,
            &contents.control,
            contents.md5sums.as_deref(),
            contents.entries,
        ))
    }

    /// Takes each planned layer from the cache or builds it; missing layers are built in
    /// parallel (compression is the bottleneck and each layer is an independent stream).
    fn realise(
        &self,
        recipe: &str,
        planned: Vec<PlannedLayer<'_>>,
    ) -> Result<Vec<(LayerBlob, LayerReport)>> {
        let keyed: Vec<(String, PlannedLayer<'_>)> = planned
            .into_iter()
            .map(|p| {
                let key = digest_json(&json!({
                    "forge": self.fingerprint,
                    "epoch": self.epoch,
                    "concern": p.concern,
                    "inputs": p.inputs,
                }));
                (key, p)
            })
            .collect();
        let results: Vec<Result<(LayerBlob, String)>> = std::thread::scope(|s| {
            let handles: Vec<_> = keyed
                .into_iter()
                .map(|(key, p)| {
                    s.spawn(move || -> Result<(LayerBlob, String)> {
                        if let Some(blob) = self.store.get(&key) {
                            return Ok((blob, p.concern));
                        }
                        let bar = self.progress.add(ProgressBar::new(0));
                        bar.set_style(
                            ProgressStyle::with_template("{spinner} {prefix}: {msg} {pos}/{len}")
                                .expect("progress template"),
                        );
                        bar.set_prefix(format!("{recipe}/{}", p.concern));
                        bar.set_message("unpacking");
                        bar.enable_steady_tick(std::time::Duration::from_millis(120));
                        let concern = p.concern.clone();
                        let entries = (p.produce)(&bar)
                            .with_context(|| format!("layer `{concern}` of `{recipe}`"))?;
                        bar.set_message("compressing");
                        let blob = self.store.put(&key, entries, self.epoch)?;
                        bar.finish_and_clear();
                        Ok((blob, concern))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow!("layer builder panicked")))
                })
                .collect()
        });
        results
            .into_iter()
            .map(|r| {
                let (blob, concern) = r?;
                let report = LayerReport {
                    digest: blob.digest.clone(),
                    diff_id: blob.diff_id.clone(),
                    size: blob.size,
                    uncompressed_size: blob.uncompressed_size,
                    concern,
                    recipe: recipe.to_string(),
                };
                Ok((blob, report))
            })
            .collect()
    }

    /// The image config: the base's (or forge's defaults), overridden by the recipe, plus
    /// forge's OCI labels and one history record per layer.
    fn image_config(
        &self,
        recipe: &Recipe,
        base: Option<&BuiltImage>,
        layers: &[(LayerBlob, LayerReport)],
        input_paths: &[PathBuf],
    ) -> ImageConfig {
        let mut rc = match base {
            Some(b) => b.config.config.clone(),
            None => RuntimeConfig {
                user: format!("{0}:{0}", rootfs::NONROOT_ID),
                env: vec![
                    format!("PATH={DEFAULT_PATH}"),
                    format!("SSL_CERT_FILE=/{}", rootfs::CA_BUNDLE),
                ],
                working_dir: "/home/nonroot".into(),
                ..RuntimeConfig::default()
            },
        };
        let img = &recipe.image;
        if let Some(user) = &img.user {
            rc.user = user.clone();
        }
        if let Some(workdir) = &img.workdir {
            rc.working_dir = workdir.clone();
        }
        if let Some(entrypoint) = &img.entrypoint {
            // As in a Dockerfile, a new entrypoint drops the inherited cmd.
            rc.entrypoint = entrypoint.clone();
            rc.cmd = Vec::new();
        }
        if let Some(cmd) = &img.cmd {
            rc.cmd = cmd.clone();
        }
        if let Some(ports) = &img.ports {
            rc.exposed_ports = ports
                .iter()
                .map(|p| (format!("{p}/tcp"), EmptyObject {}))
                .collect();
        }
        let mut env: BTreeMap<String, String> = rc
            .env
            .iter()
            .filter_map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        env.extend(img.env.clone());
        rc.env = env.into_iter().map(|(k, v)| format!("{k}={v}")).collect();

        rc.labels
            .extend(git_labels(&self.project.root, input_paths));
        if let Some(source) = &self.source_label {
            rc.labels
                .insert("org.opencontainers.image.source".into(), source.clone());
        }
        rc.labels.remove("org.opencontainers.image.base.name");
        rc.labels.remove("org.opencontainers.image.base.digest");
        if let Some(b) = base {
            rc.labels.insert(
                "org.opencontainers.image.base.name".into(),
                format!("forge.local/{}", b.recipe.name),
            );
            rc.labels.insert(
                "org.opencontainers.image.base.digest".into(),
                b.image.manifest_digest.clone(),
            );
        }
        rc.labels.insert(
            "org.opencontainers.image.ref.name".into(),
            recipe.name.clone(),
        );
        if let Some(d) = &recipe.description {
            rc.labels
                .insert("org.opencontainers.image.description".into(), d.clone());
        }
        rc.labels.extend(img.labels.clone());

        let mut history = base.map(|b| b.config.history.clone()).unwrap_or_default();
        let own = &layers[history.len().min(layers.len())..];
        history.extend(own.iter().map(|(_, r)| History {
            created: self.created.clone(),
            created_by: format!("forge build {}: {}", r.recipe, r.concern),
        }));
        ImageConfig {
            created: self.created.clone(),
            architecture: recipe
                .debian
                .as_ref()
                .map_or(DEFAULT_ARCH.to_string(), |d| d.arch.clone()),
            os: "linux".into(),
            config: rc,
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids: layers.iter().map(|(b, _)| b.diff_id.clone()).collect(),
            },
            history,
        }
    }

    /// The report of `built`.
    pub fn report(&self, built: &BuiltImage) -> Report {
        let image = &built.image;
        Report {
            name: built.recipe.name.clone(),
            digest: image.manifest_digest.clone(),
            config_digest: image.config_digest.clone(),
            size: image.size(),
            uncompressed_size: built.layers.iter().map(|l| l.uncompressed_size).sum(),
            layers: built.layers.clone(),
            created: self.created.clone(),
            recipe: self.project.relative(&built.recipe.path),
            inputs: built.inputs.clone(),
            reference: image.reference(&built.recipe.name),
            // A new build has not been pushed anywhere yet; `forge push` records its pushes.
            pushed: Vec::new(),
            sbom: None,
            policy: None,
            scan: None,
        }
    }

    /// Writes `out/<name>/` and `out/<name>.tar` unless they already hold this image. Both are
    /// assembled in a temp dir under `out/` and renamed into place: the archive first, then
    /// the layout (atomically exchanged with the old one), whose report marks completion.
    pub fn write_outputs(&self, built: &BuiltImage) -> Result<Written> {
        let name = &built.recipe.name;
        let report = self.report(built);
        let out = self.project.out_dir();
        let dir = out.join(name);
        let archive = out.join(format!("{name}.tar"));
        if Report::load(&dir).is_ok_and(|old| old.same_build(&report)) && archive.is_file() {
            return Ok(Written {
                report,
                changed: false,
            });
        }
        std::fs::create_dir_all(&out)
            .with_context(|| format!("cannot create {}", out.display()))?;
        remove_abandoned_temp_dirs(&out);
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".forge-tmp-{}-", std::process::id()))
            .tempdir_in(&out)
            .with_context(|| format!("cannot create a temp dir in {}", out.display()))?;
        let new_dir = tmp.path().join(name);
        let new_archive = tmp.path().join(format!("{name}.tar"));
        for layer in &built.image.layers {
            self.store.verify(layer)?;
        }
        oci::layout::write(&built.image, name, &new_dir)
            .with_context(|| format!("writing OCI layout {}", new_dir.display()))?;
        std::fs::write(new_dir.join(crate::report::FILE_NAME), report.to_json())?;
        oci::docker_archive::write(&built.image, name, &new_archive)
            .with_context(|| format!("writing docker-archive {}", new_archive.display()))?;
        std::fs::rename(&new_archive, &archive)
            .with_context(|| format!("cannot replace {}", archive.display()))?;
        replace_dir(&new_dir, &dir)?;
        Ok(Written {
            report,
            changed: true,
        })
    }
}

/// The Debian resolution request a recipe makes; its digest is the lock's `inputs`.
pub fn debian_request(recipe: &Recipe, base: Vec<LockedPackage>) -> DebianRequest {
    match &recipe.debian {
        Some(d) => DebianRequest {
            packages: d.packages.clone(),
            exclude: d.exclude.clone(),
            suites: d.suites.clone(),
            arch: d.arch.clone(),
            base,
        },
        None => DebianRequest {
            packages: Vec::new(),
            exclude: Vec::new(),
            suites: DEFAULT_SUITES.iter().map(|s| s.to_string()).collect(),
            arch: DEFAULT_ARCH.into(),
            base,
        },
    }
}

/// The `[[files]]` layer: file bytes are read now so the cache key covers their content.
fn files_layer(recipe: &Recipe) -> Result<PlannedLayer<'static>> {
    let mut entries = Vec::new();
    for f in &recipe.files {
        let data = match &f.source {
            FileSource::Inline(s) => s.clone().into_bytes(),
            FileSource::Path(p) => std::fs::read(p).with_context(|| {
                format!(
                    "{}: [[files]] src {} cannot be read",
                    recipe.path.display(),
                    p.display()
                )
            })?,
        };
        entries.push(Entry {
            path: f.dest.clone(),
            kind: EntryKind::File(data),
            mode: f.mode,
            uid: 0,
            gid: 0,
        });
    }
    let inputs = json!(entries
        .iter()
        .map(|e| match &e.kind {
            EntryKind::File(d) => json!([e.path, e.mode, hex::encode(Sha256::digest(d))]),
            _ => json!(e.path),
        })
        .collect::<Vec<_>>());
    Ok(PlannedLayer {
        concern: "files".into(),
        inputs,
        produce: Box::new(move |_: &ProgressBar| Ok(entries)),
    })
}

/// `SOURCE_DATE_EPOCH` from the environment, else the lock's.
fn source_date_epoch(lock: &Lock) -> Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| anyhow!("SOURCE_DATE_EPOCH=`{v}` is not a number of seconds\n  hint: unset it to use the lock's")),
        Err(_) => Ok(lock.source_date_epoch),
    }
}

fn rfc3339(epoch: u64) -> Result<String> {
    let t =
        time::OffsetDateTime::from_unix_timestamp(epoch as i64).context("epoch out of range")?;
    Ok(t.format(&time::format_description::well_known::Rfc3339)?)
}

fn digest_json(value: &serde_json::Value) -> String {
    hex::encode(Sha256::digest(
        serde_json::to_vec(value).expect("json serialises"),
    ))
}

/// Identity of the running forge binary (version, size, mtime, inode): layers cached by
/// another forge build are never reused, so a change to how layers are made can never serve
/// stale bytes. A stat instead of a hash keeps no-change rebuilds fast.
fn forge_fingerprint() -> Result<String> {
    use std::os::unix::fs::MetadataExt;
    let exe = std::env::current_exe().context("cannot locate the forge binary")?;
    let m = std::fs::metadata(&exe).with_context(|| format!("cannot stat {}", exe.display()))?;
    Ok(digest_json(&json!([
        env!("CARGO_PKG_VERSION"),
        m.len(),
        m.mtime(),
        m.mtime_nsec(),
        m.ino(),
        m.dev()
    ])))
}

/// The paths a recipe itself reads: its file, its build source tree, its extra files.
fn recipe_paths(recipe: &Recipe) -> Vec<PathBuf> {
    let mut paths = vec![recipe.path.clone()];
    paths.extend(recipe.build.as_ref().map(|b| b.source.clone()));
    paths.extend(recipe.files.iter().filter_map(|f| match &f.source {
        FileSource::Path(p) => Some(p.clone()),
        FileSource::Inline(_) => None,
    }));
    paths
}

/// Revision and version labels: the last commit that changed one of the image's input paths
/// and its `git describe`. Not HEAD: then every commit would change every image's digest, and
/// a deploy would restart workloads (Postgres) whose image did not change.
fn git_labels(root: &Path, input_paths: &[PathBuf]) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut log = vec!["log", "-1", "--format=%H", "--"];
    let paths: Vec<String> = input_paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    log.extend(paths.iter().map(String::as_str));
    if let Some(rev) = git(root, &log) {
        if let Some(v) = git(root, &["describe", "--tags", "--always", &rev]) {
            labels.insert("org.opencontainers.image.version".into(), v);
        }
        labels.insert("org.opencontainers.image.revision".into(), rev);
    }
    labels
}

/// `FORGE_IMAGE_SOURCE`, else the `origin` remote when it is a network URL: a local path
/// would leak the build host into the image.
fn image_source(root: &Path) -> Option<String> {
    std::env::var("FORGE_IMAGE_SOURCE")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| {
            git(root, &["config", "--get", "remote.origin.url"])
                .filter(|u| u.contains("://") || u.starts_with("git@"))
        })
}

/// Trimmed stdout of `git -C root ARGS`, or `None` (no git, not a checkout, empty output).
fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}

/// Puts `new` at `dest` in one step: `renameat2(RENAME_EXCHANGE)` swaps it with an existing
/// directory (the old one ends up at `new`'s path, inside the temp dir that is then removed),
/// so there is no moment without a complete `dest`.
fn replace_dir(new: &Path, dest: &Path) -> Result<()> {
    let ctx = || format!("cannot move the new build into {}", dest.display());
    if dest.exists() {
        rustix::fs::renameat_with(
            rustix::fs::CWD,
            new,
            rustix::fs::CWD,
            dest,
            rustix::fs::RenameFlags::EXCHANGE,
        )
        .map_err(std::io::Error::from)
        .with_context(ctx)?;
    } else {
        std::fs::rename(new, dest).with_context(ctx)?;
    }
    Ok(())
}

/// Removes temp dirs that killed builds left in `out/` (their pid is gone).
fn remove_abandoned_temp_dirs(out: &Path) {
    let Ok(entries) = std::fs::read_dir(out) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = name
            .strip_prefix(".forge-tmp-")
            .and_then(|r| r.split('-').next())
        else {
            continue;
        };
        if !PathBuf::from(format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
