//! `forge scan NAME`: the Trivy gate in `required` mode, on an image already built.
//! [`TrivyArgs`] is shared with `forge build`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use forge::project::Project;
use forge::scan::trivy::TrivyConfig;
use forge::scan::Mode;
use forge::supply_chain;

/// How to run Trivy (shared by `forge scan` and `forge build`).
#[derive(Debug, Clone, clap::Args)]
pub struct TrivyArgs {
    /// The trivy binary (default: `trivy` on PATH).
    #[arg(long, env = "FORGE_TRIVY", value_name = "PATH")]
    pub trivy: Option<PathBuf>,
    /// Trivy cache dir holding the vulnerability DB (db/trivy.db, db/metadata.json).
    /// Default: Trivy's own, $XDG_CACHE_HOME/trivy or ~/.cache/trivy.
    #[arg(long, env = "FORGE_TRIVY_CACHE", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// OCI repository of a vulnerability-DB mirror, for air-gapped networks (passed to trivy).
    #[arg(long, env = "FORGE_TRIVY_DB_REPOSITORY", value_name = "REPO")]
    pub db_repository: Option<String>,
    /// Vulnerability policy (default: policies/vulnerabilities.toml).
    #[arg(long, value_name = "FILE")]
    pub vuln_policy: Option<PathBuf>,
    /// Upper bound on one trivy run, in seconds.
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub trivy_timeout: u64,
}

impl TrivyArgs {
    pub fn config(&self) -> TrivyConfig {
        let cache_dir = self.cache_dir.clone().unwrap_or_else(|| {
            let base = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_else(|| PathBuf::from(".cache"));
            base.join("trivy")
        });
        TrivyConfig {
            binary: self.trivy.clone(),
            cache_dir,
            db_repository: self.db_repository.clone(),
            timeout: Duration::from_secs(self.trivy_timeout),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Sarif,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The image to scan (built into out/NAME).
    pub name: String,
    #[command(flatten)]
    pub trivy: TrivyArgs,
    /// What to print on stdout: the findings table, Trivy's JSON report, or SARIF.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print `timings {json}` on stderr: total, trivy process, and forge's own overhead.
    #[arg(long)]
    pub timings: bool,
}

pub fn run(project: &Project, args: Args) -> Result<()> {
    let start = Instant::now();
    let mut out = supply_chain::open_head(project, &args.name)?;
    let outcome = supply_chain::scan(project, &mut out, Mode::Required, &args.trivy.config(), args.trivy.vuln_policy.as_deref())?;
    match args.format {
        Format::Table => print!("{}", outcome.table),
        Format::Json => print!("{}", String::from_utf8_lossy(outcome.trivy_json.as_deref().unwrap_or_default())),
        Format::Sarif => println!("{}", serde_json::to_string_pretty(&outcome.sarif)?),
    }
    let verdict = if outcome.record.verdict == forge::scan::Verdict::Failed {
        Err(anyhow::anyhow!("{}: vulnerability gate failed:\n  {}", args.name, outcome.failures.join("\n  ")))
    } else {
        eprintln!("{}: vulnerability gate passed ({})", args.name, outcome.record.scanner.as_deref().unwrap_or("trivy"));
        Ok(())
    };
    if args.timings {
        let total = start.elapsed().as_secs_f64() * 1000.0;
        let trivy = outcome.trivy_time.as_secs_f64() * 1000.0;
        eprintln!("timings {}", serde_json::json!({"total_ms": total, "trivy_ms": trivy, "overhead_ms": total - trivy}));
    }
    verdict
}
