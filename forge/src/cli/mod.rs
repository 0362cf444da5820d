//! Subcommands, one module each. To add one: a module here and a variant in [`Command`].

mod build;
mod lock;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use forge::project::Project;

/// forge: reproducible distroless OCI images from pinned Debian packages.
#[derive(Debug, Parser)]
#[command(name = "forge", version, about)]
pub struct Cli {
    /// Project root (default: the nearest ancestor of the current directory with `recipes/`).
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Resolve recipes against the Debian archive into recipes/forge.lock.
    Lock(lock::Args),
    /// Build images from the lock into out/<name>/ (OCI layout) and out/<name>.tar.
    Build(build::Args),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let project = Project::locate(cli.root.as_deref(), &cwd)?;
    match cli.command {
        Command::Lock(args) => lock::run(&project, args),
        Command::Build(args) => build::run(project, args),
    }
}
