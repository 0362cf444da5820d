//! `forge build [NAME...] [--all] [--json] [--scan=auto|required|skip]`.

use anyhow::{anyhow, bail, Result};
use forge::build::{BuildContext, Written};
use forge::report::Report;
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
    let ctx = BuildContext::new(project.clone(), MultiProgress::new())?;
    // Images build in parallel: they share the base through the context, and their builders
    // (uv, next build, unpacking, compression) rarely want the same resource at once.
    let built: Vec<Result<Written>> = std::thread::scope(|s| {
        let handles: Vec<_> = names
            .iter()
            .map(|name| {
                let ctx = &ctx;
                s.spawn(move || ctx.write_outputs(&*ctx.image(name)?))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow!("an image build panicked"))))
            .collect()
    });
    let failed: Vec<String> = names
        .iter()
        .zip(&built)
        .filter_map(|(name, r)| r.as_ref().err().map(|e| format!("{name}: {e:#}")))
        .collect();
    if !failed.is_empty() {
        bail!("{}", failed.join("\n"));
    }
    let trivy = args.trivy.config();
    // The gate runs one image at a time: trivy uses every core and locks its cache.
    for (name, written) in names.iter().zip(built) {
        let changed = written?.changed;
        // Supply chain on every build: SBOM -> image policy -> Trivy gate (issue 5).
        supply_chain::after_build(&project, name, args.scan, &trivy, args.trivy.vuln_policy.as_deref())?;
        let report = Report::load(&project.out_dir().join(name))?;
        if args.json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            println!("{name} {}", report.digest);
        }
        if !changed {
            eprintln!("{name}: out/{name} is up to date");
        }
    }
    Ok(())
}
