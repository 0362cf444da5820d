//! `forge build [NAME...] [--all] [--json] [--scan=auto|required|skip]`.

use anyhow::{bail, Result};
use forge::build::BuildContext;
use forge::project::Project;
use forge::scan::Mode;
use forge::supply_chain;
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
    /// Trivy gate after the build: `required` fails when the scan cannot run, `auto` scans when
    /// trivy and its DB are there (else records `unscanned` with a warning), `skip` records
    /// `unscanned`. A failed scan fails the build in every mode.
    #[arg(long, value_enum, default_value_t = Mode::Auto)]
    pub scan: Mode,
    #[command(flatten)]
    pub trivy: super::scan::TrivyArgs,
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
    let mut ctx = BuildContext::new(project.clone(), MultiProgress::new())?;
    let trivy = args.trivy.config();
    for name in &names {
        let built = ctx.image(name)?;
        let written = ctx.write_outputs(&built)?;
        // Supply chain on every build: SBOM -> image policy -> Trivy gate (issue 5).
        supply_chain::after_build(&project, name, args.scan, &trivy, args.trivy.vuln_policy.as_deref())?;
        let written = forge::build::Written { report: forge::report::Report::load(&project.out_dir().join(name))?, ..written };
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
