//! `forge verify NAME`: the image policies (policies/image.toml) on an image already built.

use std::path::PathBuf;

use anyhow::Result;
use forge::project::Project;
use forge::supply_chain;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The image to check (built into out/NAME).
    pub name: String,
    /// Policy file (default: policies/image.toml).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

pub fn run(project: &Project, args: Args) -> Result<()> {
    let mut out = supply_chain::open(project, &args.name)?;
    let record = supply_chain::verify(project, &mut out, args.policy.as_deref())?;
    supply_chain::check_policy(&args.name, &record)?;
    println!("{}: image policy passed ({})", args.name, record.policy);
    Ok(())
}
