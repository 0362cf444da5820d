//! The supply-chain steps of a build, in order: SBOM -> image policy -> Trivy gate. Each step
//! reads the image from `out/<name>/`, and records its result in `out/<name>/forge-report.json`.
//! `forge build` runs all three after writing the image; `forge sbom`, `forge verify` and
//! `forge scan` run one each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use time::OffsetDateTime;

use crate::image_fs::ImageFs;
use crate::lock::{Lock, LockedNode};
use crate::policy::{ImagePolicy, Pins, PolicyRecord, VerifyInput};
use crate::project::Project;
use crate::recipe::Recipe;
use crate::report::Report;
use crate::sbom::{self, inventory::Inventory, App, Facts, NodeRuntime};
use crate::scan::{self, policy::VulnPolicy, trivy::TrivyConfig, Mode, Outcome, Target, Verdict};

/// Default policy files, relative to the project root.
pub const IMAGE_POLICY: &str = "policies/image.toml";
pub const VULN_POLICY: &str = "policies/vulnerabilities.toml";

/// A built image, opened for the supply-chain steps.
pub struct BuiltOutput {
    pub name: String,
    pub dir: PathBuf,
    pub report: Report,
    pub image: ImageFs,
    pub inventory: Inventory,
}

/// Opens `out/<name>/` (content of package metadata loaded for the SBOM and pin checks).
pub fn open(project: &Project, name: &str) -> Result<BuiltOutput> {
    open_with(project, name, true)
}

/// Opens `out/<name>/` for the scan, which needs only digests (layers are not read).
pub fn open_head(project: &Project, name: &str) -> Result<BuiltOutput> {
    open_with(project, name, false)
}

fn open_with(project: &Project, name: &str, files: bool) -> Result<BuiltOutput> {
    let dir = project.out_dir().join(name);
    let report = Report::load(&dir)
        .with_context(|| format!("no build of {name} in {} (run `forge build {name}`)", dir.display()))?;
    let image = if files { ImageFs::load(&dir, Some(name), &sbom::inventory::wanted)? } else { ImageFs::head(&dir, Some(name))? };
    if image.digest != report.digest {
        bail!("{}: image digest {} differs from the report's {}; rebuild with `forge build {name}`", dir.display(), image.digest, report.digest);
    }
    let inventory = Inventory::read(&image)?;
    Ok(BuiltOutput { name: name.into(), dir, report, image, inventory })
}

/// The recipe chain of `name`, the image's own recipe first.
fn recipe_chain(project: &Project, name: &str) -> Result<Vec<Recipe>> {
    let mut chain = Vec::new();
    let mut next = Some(name.to_string());
    while let Some(n) = next {
        if chain.iter().any(|r: &Recipe| r.name == n) || chain.len() > 16 {
            bail!("recipe base chain of {name} loops at {n}");
        }
        let recipe = Recipe::load(&project.find_recipe(&n)?)?;
        next = recipe.base.clone();
        chain.push(recipe);
    }
    Ok(chain)
}

/// What the lock says about an image (its own entry plus its bases').
struct LockFacts {
    /// Debian packages (the image's own pin wins over a base's).
    pins: Pins,
    /// The pinned Node.js runtime of the first recipe in the chain with a `[node]` section.
    node: Option<LockedNode>,
}

/// The lock's pins for `name`; `None` when the lock has no entry for it or a base.
fn lock_facts(project: &Project, name: &str) -> Result<Option<LockFacts>> {
    let lock = Lock::load(&project.lock_path())?;
    let mut facts = LockFacts { pins: Pins::default(), node: None };
    for recipe in recipe_chain(project, name)? {
        let Some(locked) = lock.recipe(&recipe.name) else { return Ok(None) };
        for p in &locked.packages {
            facts.pins.versions.entry(p.name.clone()).or_insert_with(|| p.version.clone());
            facts.pins.sha256.insert((p.name.clone(), p.version.clone(), p.arch.clone()), p.sha256.clone());
        }
        if let (None, Some(node)) = (&facts.node, &recipe.node) {
            let pinned = lock.node_runtime(&node.version).with_context(|| {
                format!("{}: Node.js {} is not in recipes/forge.lock; run `forge lock {}`", recipe.path.display(), node.version, recipe.name)
            })?;
            facts.node = Some(pinned.clone());
        }
    }
    Ok(Some(facts))
}

/// SOURCE_DATE_EPOCH of the image: the environment's, else the image's `created` (which the
/// build derives from the lock), so SBOMs are reproducible either way.
fn epoch(image: &ImageFs) -> Result<i64> {
    if let Ok(v) = std::env::var("SOURCE_DATE_EPOCH") {
        return v.trim().parse().with_context(|| format!("SOURCE_DATE_EPOCH={v:?} is not a Unix time"));
    }
    let created = image.created.as_deref().unwrap_or("1970-01-01T00:00:00Z");
    Ok(OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339)
        .with_context(|| format!("image config created {created:?} is not RFC 3339"))?
        .unix_timestamp())
}

/// Writes `sbom/<name>.cdx.json`, attaches it to `out/<name>/`, records its path.
pub fn write_sbom(project: &Project, out: &mut BuiltOutput) -> Result<PathBuf> {
    let name = out.name.clone();
    let mut facts = Facts::default();
    if let Some(lock) = lock_facts(project, &name)? {
        facts.deb_sha256 = lock.pins.sha256;
        facts.node = lock.node.map(|n| NodeRuntime { version: n.version, tarball: n.tarball, integrity: n.integrity });
    }
    if let Some(app_layer) = out.report.layers.iter().rev().find(|l| l.concern == "app") {
        let version = out.image.config.labels.get("org.opencontainers.image.version").cloned()
            .unwrap_or_else(|| app_layer.diff_id.trim_start_matches("sha256:")[..12].to_string());
        facts.app = Some(App { name: name.clone(), version, layer_diff_id: Some(app_layer.diff_id.clone()) });
    }
    let epoch = epoch(&out.image)?;
    let bom = sbom::build(&name, &out.image, &out.inventory, &facts, epoch)?;
    let created = bom.metadata.as_ref().and_then(|m| m.timestamp.as_ref()).map(|t| t.to_string()).unwrap_or_default();
    let json = sbom::to_json(bom)?;
    let path = project.root.join("sbom").join(format!("{name}.cdx.json"));
    sbom::write(&path, &json).with_context(|| format!("cannot write {}", path.display()))?;
    sbom::attach::attach(&out.dir, &name, &json, &created)?;
    out.report.sbom = Some(project.relative(&path));
    out.report.save_atomic(&out.dir).with_context(|| format!("cannot update {}/forge-report.json", out.dir.display()))?;
    Ok(path)
}

/// Runs the image policy (`policy` or policies/image.toml) and records the verdict.
pub fn verify(project: &Project, out: &mut BuiltOutput, policy: Option<&Path>) -> Result<PolicyRecord> {
    let path = policy.map(Path::to_path_buf).unwrap_or_else(|| project.root.join(IMAGE_POLICY));
    let policy = ImagePolicy::load(&path)?;
    let lock = lock_facts(project, &out.name)?;
    let attached = sbom::attach::attached(&out.dir, &out.name)?;
    let sbom_debs = attached.as_deref().map(sbom::debian_components).transpose()
        .with_context(|| format!("the SBOM attached to {} is unreadable; run `forge sbom {}`", out.dir.display(), out.name))?;
    let input = VerifyInput { debs: &out.inventory.debs, sbom_debs: sbom_debs.as_deref(), pinned: lock.as_ref().map(|l| &l.pins) };
    let mut record = policy.verify(&out.name, &out.image, &input)?;
    record.policy = project.relative(&path);
    out.report.policy = Some(record.clone());
    out.report.save_atomic(&out.dir).with_context(|| format!("cannot update {}/forge-report.json", out.dir.display()))?;
    Ok(record)
}

/// Runs the Trivy gate in `mode` and records the verdict (also when it cannot run in
/// `required` mode: then the report says `unscanned` with the reason, and this fails).
pub fn scan(project: &Project, out: &mut BuiltOutput, mode: Mode, trivy: &TrivyConfig, policy: Option<&Path>) -> Result<Outcome> {
    let path = policy.map(Path::to_path_buf).unwrap_or_else(|| project.root.join(VULN_POLICY));
    let policy = VulnPolicy::load(&path)?;
    let target = Target { name: &out.name, layout: &out.dir, digest: &out.image.digest, config_digest: &out.image.config_digest };
    match scan::gate(&target, mode, trivy, &policy, OffsetDateTime::now_utc()) {
        Ok(outcome) => {
            scan::write_outputs(&out.dir, &outcome)?;
            out.report.scan = Some(outcome.record.clone());
            out.report.save_atomic(&out.dir)?;
            Ok(outcome)
        }
        Err(e) => {
            out.report.scan = Some(scan::ScanRecord {
                verdict: Verdict::Unscanned,
                mode,
                scanner: None,
                db_updated_at: None,
                counts: BTreeMap::new(),
                excepted: vec![],
                reason: Some(e.to_string()),
            });
            out.report.save_atomic(&out.dir)?;
            Err(e).context(format!("scan of {} failed closed (--scan={})", out.name, mode_name(mode)))
        }
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Required => "required",
        Mode::Auto => "auto",
        Mode::Skip => "skip",
    }
}

/// Prints an outcome's warnings, table and failures; errors when the verdict is `failed`.
pub fn report_outcome(name: &str, outcome: &Outcome) -> Result<()> {
    for w in &outcome.warnings {
        eprintln!("warning: {name}: {w}");
    }
    if outcome.record.verdict == Verdict::Unscanned {
        return Ok(());
    }
    eprint!("{}", outcome.table);
    if outcome.record.verdict == Verdict::Failed {
        bail!("{name}: vulnerability gate failed:\n  {}", outcome.failures.join("\n  "));
    }
    eprintln!("{name}: vulnerability gate passed ({})", outcome.record.scanner.as_deref().unwrap_or("trivy"));
    Ok(())
}

/// Errors when a policy record has violations, listing each.
pub fn check_policy(name: &str, record: &PolicyRecord) -> Result<()> {
    if record.violations.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = record.violations.iter().map(|v| v.to_string()).collect();
    bail!("{name}: {} image policy violation(s) ({}):\n  {}", lines.len(), record.policy, lines.join("\n  "))
}

/// SBOM -> policy -> scan for a freshly built image; fails on a policy violation or a failed
/// (or, with `--scan=required`, impossible) scan, after recording every result.
pub fn after_build(project: &Project, name: &str, mode: Mode, trivy: &TrivyConfig, vuln_policy: Option<&Path>) -> Result<()> {
    let mut out = open(project, name)?;
    write_sbom(project, &mut out)?;
    let record = verify(project, &mut out, None)?;
    let outcome = scan(project, &mut out, mode, trivy, vuln_policy);
    // Report both gates before failing on either.
    let errors: Vec<String> = [check_policy(name, &record), outcome.and_then(|o| report_outcome(name, &o))]
        .into_iter()
        .filter_map(|r| r.err().map(|e| format!("{e:#}")))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        bail!("{}", errors.join("\n"))
    }
}
