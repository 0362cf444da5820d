//! Subcommands, one module each. To add one: a module here and a variant in [`Command`].

mod build;
mod delivery;
mod deploy;
mod load;
mod lock;
mod pin;
mod promote;
mod push;
mod sbom;
mod scan;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Load built images into docker, minikube, containerd or an OCI layout directory.
    Load(load::LoadArgs),
    /// Push built images (and their SBOM referrers) to a registry.
    Push(push::PushArgs),
    /// Write the current build's repositories and digests into a Helm values file.
    Pin(pin::PinArgs),
    /// Copy gated digests from one environment's values file into the next one's.
    Promote(promote::PromoteArgs),
    /// Preflight, build, gate, load, pin and `helm upgrade --install` the chart.
    Deploy(deploy::DeployArgs),
    /// Write the CycloneDX SBOM of a built image (sbom/NAME.cdx.json), or --validate it.
    Sbom(sbom::Args),
    /// Scan a built image with Trivy and apply policies/vulnerabilities.toml (fails closed).
    Scan(scan::Args),
    /// Check a built image against policies/image.toml.
    Verify(verify::Args),
}

/// Runs the parsed command line; the exit code is non-zero for `pin --check` on stale values
/// and for a promotion that refused an image.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let project = Project::locate(cli.root.as_deref(), &cwd)?;
    match cli.command {
        Command::Lock(args) => lock::run(&project, args).map(|()| ExitCode::SUCCESS),
        Command::Build(args) => build::run(project, args).map(|()| ExitCode::SUCCESS),
        Command::Load(args) => load::run(&project.root, &args).map(|()| ExitCode::SUCCESS),
        Command::Push(args) => push::run(&project.root, &args).map(|()| ExitCode::SUCCESS),
        Command::Pin(args) => pin::run(&project.root, &args),
        Command::Promote(args) => promote::run(&project.root, &args),
        Command::Deploy(args) => deploy::run(&project.root, &args),
        Command::Sbom(args) => sbom::run(&project, args).map(|()| ExitCode::SUCCESS),
        Command::Scan(args) => scan::run(&project, args).map(|()| ExitCode::SUCCESS),
        Command::Verify(args) => verify::run(&project, args).map(|()| ExitCode::SUCCESS),
    }
}
