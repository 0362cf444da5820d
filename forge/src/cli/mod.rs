//! The command line: one file per subcommand, each with its clap arguments and a `run`.

pub mod delivery;
pub mod deploy;
pub mod load;
pub mod pin;
pub mod promote;
pub mod push;

use std::path::{Path, PathBuf};

/// The project root: `--root`, else the nearest ancestor of the working directory holding
/// `recipes/`.
pub fn project_root(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(root) = explicit {
        return Ok(root.to_path_buf());
    }
    let cwd = std::env::current_dir()?;
    cwd.ancestors()
        .find(|dir| dir.join("recipes").is_dir())
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow::anyhow!("no recipes/ directory in {} or above; run forge inside the project or pass --root DIR", cwd.display()))
}
