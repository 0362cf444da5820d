//! The `forge` binary: parses the command line and hands over to `forge::cli`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use forge::cli;

#[derive(Parser)]
#[command(name = "forge", version, about = "Reproducible distroless OCI images, gated and delivered to Kubernetes")]
struct Cli {
    /// Project root (default: nearest ancestor directory holding recipes/).
    #[arg(long, global = true)]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Load(cli::load::LoadArgs),
    Push(cli::push::PushArgs),
    Pin(cli::pin::PinArgs),
    Promote(cli::promote::PromoteArgs),
    Deploy(cli::deploy::DeployArgs),
}

fn main() -> ExitCode {
    let args = Cli::parse();
    let located = std::env::current_dir()
        .map_err(anyhow::Error::from)
        .and_then(|cwd| Ok(forge::project::Project::locate(args.root.as_deref(), &cwd)?.root));
    let result = located.and_then(|root| match &args.command {
        Command::Load(a) => cli::load::run(&root, a).map(|()| ExitCode::SUCCESS),
        Command::Push(a) => cli::push::run(&root, a).map(|()| ExitCode::SUCCESS),
        Command::Pin(a) => cli::pin::run(&root, a),
        Command::Promote(a) => cli::promote::run(&root, a),
        Command::Deploy(a) => cli::deploy::run(&root, a),
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("forge: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
