//! Shared pieces of the delivery subcommands: where the project keeps things.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The chart the delivery commands pin and deploy.
pub const CHART_DIR: &str = "charts/todo-app";

/// `charts/todo-app/values-<env>.yaml`.
pub fn values_file(root: &Path, env: &str) -> PathBuf {
    root.join(CHART_DIR).join(format!("values-{env}.yaml"))
}

/// The chart's components (top-level keys with an image block in its base values.yaml).
pub fn chart_components(root: &Path) -> anyhow::Result<Vec<String>> {
    let base = root.join(CHART_DIR).join("values.yaml");
    let text = std::fs::read_to_string(&base).with_context(|| format!("{}: cannot read the chart's base values", base.display()))?;
    Ok(forge::pin::components(&base, &text)?)
}

/// The names given, or every chart component when none were.
pub fn names_or_components(root: &Path, names: &[String]) -> anyhow::Result<Vec<String>> {
    if names.is_empty() {
        chart_components(root)
    } else {
        Ok(names.to_vec())
    }
}
