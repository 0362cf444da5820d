//! `forge promote --from dev --to prod [NAME...]`

use std::path::Path;
use std::process::ExitCode;

use forge::opslog::{today, OpsLog, StepReport};
use forge::pin::pin_file;
use forge::promote::plan;

/// Copy gated digests from one environment's values into the next one's.
#[derive(Debug, clap::Args)]
pub struct PromoteArgs {
    /// Components to promote (default: every component of the chart).
    pub names: Vec<String>,
    #[arg(long, default_value = "dev")]
    pub from: String,
    #[arg(long, default_value = "prod")]
    pub to: String,
    /// Print the operations-log record as a JSON line.
    #[arg(long)]
    pub json: bool,
}

pub fn run(root: &Path, args: &PromoteArgs) -> anyhow::Result<ExitCode> {
    let from = super::delivery::values_file(root, &args.from);
    let to = super::delivery::values_file(root, &args.to);
    let names = super::delivery::names_or_components(root, &args.names)?;
    let log = OpsLog::new(root, args.json);
    let plan = log.step("promote", &format!("{} -> {}", args.from, args.to), || {
        let plan = plan(&root.join("out"), &from, &names, &today())?;
        let changes = pin_file(&to, &plan.pins)?;
        let report = StepReport {
            digests: plan.pins.iter().map(|p| (p.component.clone(), p.digest.clone())).collect(),
            detail: serde_json::json!({
                "changed": changes.iter().map(|c| &c.key).collect::<Vec<_>>(),
                "refused": plan.refusals.iter().map(|r| serde_json::json!({"component": r.component, "reason": r.reason})).collect::<Vec<_>>(),
            }),
        };
        Ok::<_, anyhow::Error>((plan, report))
    })?;
    for pin in &plan.pins {
        println!("promoted {}: {}@{} -> {}", pin.component, pin.repository, pin.digest, to.display());
    }
    for refusal in &plan.refusals {
        eprintln!("refused {}: {}", refusal.component, refusal.reason);
    }
    Ok(if plan.refusals.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
