//! `forge pin [NAME...] [--env dev | --values FILE] [--check]`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use forge::opslog::{OpsLog, StepReport};
use forge::pin::{check_file, pin_file, Pin};
use forge::publish::ImageRef;

/// Write the current build's image repositories and digests into a Helm values file.
#[derive(Debug, clap::Args)]
pub struct PinArgs {
    /// Components to pin (default: every component of the chart).
    pub names: Vec<String>,
    /// Environment whose values file (charts/todo-app/values-ENV.yaml) is pinned.
    #[arg(long, default_value = "dev")]
    pub env: String,
    /// Values file to pin instead of the environment's.
    #[arg(long)]
    pub values: Option<PathBuf>,
    /// Repository prefix images are known by in the cluster (loaded, not pushed).
    #[arg(long, default_value = "forge.local")]
    pub repository_prefix: String,
    /// Change nothing; exit 1 when the file does not match the current build.
    #[arg(long)]
    pub check: bool,
    /// Print the operations-log record as a JSON line.
    #[arg(long)]
    pub json: bool,
}

/// The pins for the current build of `names`.
pub fn current_pins(root: &Path, names: &[String], prefix: &str) -> anyhow::Result<Vec<Pin>> {
    names
        .iter()
        .map(|name| {
            let image = ImageRef::open(&root.join("out"), name)?;
            Ok(Pin { component: name.clone(), repository: format!("{prefix}/{name}"), digest: image.manifest_digest })
        })
        .collect()
}

pub fn run(root: &Path, args: &PinArgs) -> anyhow::Result<ExitCode> {
    let file = args.values.clone().unwrap_or_else(|| super::delivery::values_file(root, &args.env));
    let names = super::delivery::names_or_components(root, &args.names)?;
    let log = OpsLog::new(root, args.json);
    let step = if args.check { "pin.check" } else { "pin" };
    let changes = log.step(step, &file.display().to_string(), || {
        let pins = current_pins(root, &names, &args.repository_prefix)?;
        let changes = if args.check { check_file(&file, &pins)? } else { pin_file(&file, &pins)? };
        let report = StepReport {
            digests: pins.iter().map(|p| (p.component.clone(), p.digest.clone())).collect(),
            detail: serde_json::json!({"changed": changes.iter().map(|c| &c.key).collect::<Vec<_>>(), "check": args.check}),
        };
        Ok::<_, anyhow::Error>((changes, report))
    })?;
    for change in &changes {
        let verb = if args.check { "stale" } else { "pinned" };
        eprintln!("{}:{}: {verb} {}: {:?} -> {:?}", file.display(), change.line, change.key, change.old, change.new);
    }
    if args.check && !changes.is_empty() {
        eprintln!("{} does not match the current build; run `forge pin` and commit the result", file.display());
        return Ok(ExitCode::FAILURE);
    }
    if changes.is_empty() && !args.json {
        println!("{} already matches the current build", file.display());
    }
    Ok(ExitCode::SUCCESS)
}
