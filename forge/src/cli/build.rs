//! `forge build [NAME...] [--all] [--json]`.

use anyhow::{bail, Result};
use forge::build::BuildContext;
use forge::project::Project;
use indicatif::MultiProgress;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Recipes to build (found in recipes/, recipes/lab/, recipes/test/).
    pub names: Vec<String>,
    /// Build every top-level recipe (recipes/*.toml).
    #[arg(long, conflicts_with = "names")]
    pub all: bool,
    /// Print each image's report as one JSON object per line instead of `NAME DIGEST`.
    #[arg(long)]
    pub json: bool,
}

pub fn run(project: Project, args: Args) -> Result<()> {
    let names = if args.all {
        project.top_level_recipes()?
    } else {
        args.names
    };
    if names.is_empty() {
        bail!("nothing to build\n  hint: name recipes (`forge build base`) or pass `--all`");
    }
    let mut ctx = BuildContext::new(project, MultiProgress::new())?;
    for name in &names {
        let built = ctx.image(name)?;
        let written = ctx.write_outputs(&built)?;
        if args.json {
            println!("{}", serde_json::to_string(&written.report)?);
        } else {
            println!("{name} {}", written.report.digest);
        }
        if !written.changed {
            eprintln!("{name}: out/{name} is up to date");
        }
    }
    Ok(())
}
