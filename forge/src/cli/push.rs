//! `forge push NAME... --to REGISTRY/REPOSITORY`

use std::path::{Path, PathBuf};

use anyhow::Context;

use forge::opslog::OpsLog;
use forge::publish::registry::{parse_target, RegistryPublisher};
use forge::publish::{ImageRef, Publisher};

/// Push built images (and their SBOMs, as referrers) to an OCI registry.
#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// Images to push (recipe names).
    #[arg(required = true)]
    pub names: Vec<String>,
    /// HOST[:PORT]/REPOSITORY[:TAG] for one image; with several images, HOST[:PORT]/PREFIX and
    /// each goes to PREFIX/NAME. Credentials: FORGE_REGISTRY_USERNAME/FORGE_REGISTRY_PASSWORD or
    /// docker's config.json. Plain HTTP is used for loopback registries only.
    #[arg(long = "to", value_name = "REPOSITORY")]
    pub to: String,
    /// Print the operations-log records as JSON lines.
    #[arg(long)]
    pub json: bool,
}

pub fn run(root: &Path, args: &PushArgs) -> anyhow::Result<()> {
    let log = OpsLog::new(root, args.json);
    for name in &args.names {
        let target = if args.names.len() == 1 { args.to.clone() } else { format!("{}/{name}", args.to.trim_end_matches('/')) };
        let published = log.step("push", name, || {
            let image = ImageRef::open(&root.join("out"), name)?;
            let reference = parse_target(&target).map_err(anyhow::Error::msg)?;
            let publisher = RegistryPublisher::new(reference, sbom_of(root, name)).map_err(anyhow::Error::msg)?;
            let published = publisher.publish(&image)?;
            record_pushed(&image.layout_dir.join("forge-report.json"), &publisher.repository(), &image.manifest_digest)?;
            Ok::<_, anyhow::Error>((published.clone(), super::load::report_of(&published)))
        })?;
        if !args.json {
            println!("{published}");
        }
    }
    Ok(())
}

/// The image's CycloneDX SBOM: `sbom/<name>.cdx.json` when `forge sbom` wrote one.
fn sbom_of(root: &Path, name: &str) -> Option<PathBuf> {
    Some(root.join("sbom").join(format!("{name}.cdx.json"))).filter(|p| p.exists())
}

/// Adds `{repository, digest}` to the report's `pushed` list (replacing an entry for the same
/// repository), keeping every other field as it is; atomic.
pub fn record_pushed(report: &Path, repository: &str, digest: &str) -> anyhow::Result<()> {
    let text = std::fs::read(report).with_context(|| format!("{}: cannot read the build report", report.display()))?;
    let mut value: serde_json::Value = serde_json::from_slice(&text).with_context(|| format!("{}: not valid JSON", report.display()))?;
    let object = value.as_object_mut().with_context(|| format!("{}: not a JSON object", report.display()))?;
    let pushed = object.entry("pushed").or_insert_with(|| serde_json::json!([]));
    let list = pushed.as_array_mut().with_context(|| format!("{}: `pushed` is not a list", report.display()))?;
    list.retain(|p| p["repository"].as_str() != Some(repository));
    list.push(serde_json::json!({"repository": repository, "digest": digest}));
    let mut bytes = serde_json::to_vec_pretty(&value)?;
    bytes.push(b'\n');
    forge::atomic::write(report, &bytes).with_context(|| format!("{}: cannot write", report.display()))
}
