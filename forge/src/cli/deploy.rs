//! `forge deploy [--env dev|prod]`

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::Context;

use forge::deploy::{deploy_values, digests_of, helm_upgrade_args, open_hint, preflight, DeployError, Tools};
use forge::opslog::{OpsLog, StepReport};

/// Preflight, build, gate, load, pin and `helm upgrade --install` the chart.
#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// Environment: dev (build, load into the cluster, pin values-dev.yaml) or prod (deploy
    /// the digests `forge promote` wrote into values-prod.yaml, pulled from the registry).
    #[arg(long, default_value = "dev")]
    pub env: String,
    /// Helm release name.
    #[arg(long, default_value = "todo")]
    pub release: String,
    /// Namespace (created when missing).
    #[arg(long, default_value = "taskflow")]
    pub namespace: String,
    /// Where dev images are loaded: minikube, containerd or docker.
    #[arg(long, default_value = "minikube")]
    pub load_to: String,
    /// Extra values files layered over values-<env>.yaml, in order (helm's `-f`): settings
    /// of this machine such as `frontend.publicUrl`. Never pinned or rewritten.
    #[arg(long = "values", short = 'f', value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Kubeconfig for kubectl and helm (default: theirs: $KUBECONFIG, ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Run the preflight checks only.
    #[arg(long)]
    pub preflight_only: bool,
    /// Print the operations-log records as JSON lines.
    #[arg(long)]
    pub json: bool,
}

pub fn run(root: &Path, args: &DeployArgs) -> anyhow::Result<ExitCode> {
    if args.env != "dev" && args.env != "prod" {
        anyhow::bail!("--env {} is not an environment of the chart; use dev or prod", args.env);
    }
    let chart = root.join(super::delivery::CHART_DIR);
    let env_values = super::delivery::values_file(root, &args.env);
    let read = |p: &Path| std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()));
    // values-<env>.yaml, then the overlays: the order helm gets them in.
    let values_files: Vec<PathBuf> = std::iter::once(env_values.clone()).chain(args.values.iter().cloned()).collect();
    let texts = values_files.iter().map(|f| Ok((f.display().to_string(), read(f)?))).collect::<anyhow::Result<Vec<_>>>()?;
    let overlays: Vec<(&str, &str)> = texts.iter().map(|(name, text)| (name.as_str(), text.as_str())).collect();
    let values = deploy_values(&read(&chart.join("values.yaml"))?, &overlays)?;
    let mut tools = Tools::from_env();
    tools.kubeconfig = args.kubeconfig.clone();
    let log = OpsLog::new(root, args.json);
    let subject = format!("{}/{} ({})", args.namespace, args.release, args.env);
    let say = |line: String| if !args.json { println!("{line}") };

    let checked = log.step("deploy.preflight", &subject, || {
        let checked = preflight(&tools, &chart, &values_files, &values, &args.release, &args.namespace)?;
        let detail = serde_json::json!({"context": checked.context, "minikube_profile": checked.minikube_profile,
            "needed": {"cpu_millis": checked.needed.cpu_millis, "memory_bytes": checked.needed.memory_bytes},
            "free": {"cpu_millis": checked.free.cpu_millis, "memory_bytes": checked.free.memory_bytes},
            "values_files": values_files, "public_url": checked.public_url});
        Ok::<_, DeployError>((checked, StepReport { detail, ..StepReport::default() }))
    })?;
    say(format!("preflight ok: context {}, chart needs {}m CPU / {} MiB of {}m / {} MiB free", checked.context, checked.needed.cpu_millis, checked.needed.memory_bytes >> 20, checked.free.cpu_millis, checked.free.memory_bytes >> 20));
    if args.preflight_only {
        return Ok(ExitCode::SUCCESS);
    }
    let names = super::delivery::chart_components(root)?;

    // Each image's forge-report.json, and the digest it names.
    let report_path = |name: &str| root.join("out").join(name).join("forge-report.json");
    let report_of = |name: &str| -> anyhow::Result<serde_json::Value> {
        let path = report_path(name);
        serde_json::from_str(&read(&path)?).with_context(|| format!("{}: not valid JSON", path.display()))
    };
    let digest_in = |json: &serde_json::Value| json["digest"].as_str().unwrap_or_default().to_string();

    if args.env == "dev" {
        log.step("deploy.build", &subject, || {
            // The build and its scan gate are `forge build`'s job; deploy runs exactly that.
            // Its progress goes to stderr so that `--json` output stays JSON lines.
            let exe = std::env::current_exe().context("cannot locate the forge executable")?;
            let status = Command::new(exe).arg("--root").arg(root).arg("build").args(&names).arg("--scan=required")
                .stdout(std::io::stderr()).status().context("cannot run forge build")?;
            anyhow::ensure!(status.success(), "`forge build {} --scan=required` failed; fix what it reported and deploy again", names.join(" "));
            let mut report = StepReport::default();
            for name in &names {
                report.digests.insert(name.clone(), digest_in(&report_of(name)?));
            }
            Ok::<_, anyhow::Error>(((), report))
        })?;
    }
    let gated = log.step("deploy.gate", &subject, || {
        let mut report = StepReport::default();
        for name in &names {
            let json = report_of(name)?;
            let verdict = json["scan"]["verdict"].as_str().unwrap_or("never scanned");
            anyhow::ensure!(verdict == "passed", "{name}: scan verdict {verdict} in {}; deploy ships only images whose gate passed (run `forge scan {name}`)", report_path(name).display());
            let digest = digest_in(&json);
            if args.env == "prod" {
                // Prod runs what promote wrote; it must be this gated build.
                let (_, pinned) = forge::pin::current_image(&env_values, &read(&env_values)?, name)?;
                anyhow::ensure!(pinned == digest, "{name}: {} pins {pinned:?} but the gated build is {digest}; run `forge promote --from dev --to prod`", env_values.display());
            }
            report.digests.insert(name.clone(), digest);
        }
        Ok::<_, anyhow::Error>((report.digests.clone(), report))
    })?;
    if args.env == "dev" {
        let publisher = super::load::publisher_for(&args.load_to, checked.minikube_profile.clone())?;
        for name in &names {
            let published = log.step("deploy.load", name, || {
                let image = forge::publish::ImageRef::open(&root.join("out"), name)?;
                let published = publisher.publish(&image)?;
                Ok::<_, anyhow::Error>((published.clone(), super::load::report_of(&published)))
            })?;
            say(published.to_string());
        }
        log.step("deploy.pin", &env_values.display().to_string(), || {
            let pins = super::pin::current_pins(root, &names, "forge.local")?;
            let changes = forge::pin::pin_file(&env_values, &pins)?;
            let detail = serde_json::json!({"changed": changes.iter().map(|c| &c.key).collect::<Vec<_>>()});
            Ok::<_, anyhow::Error>(((), StepReport { digests: digests_of(&pins), detail }))
        })?;
    }
    log.step("deploy.helm", &subject, || {
        let helm_args = helm_upgrade_args(&args.release, &chart.display().to_string(), &args.namespace, &values_files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>());
        let out = tools.run(&tools.helm, &helm_args.iter().map(String::as_str).collect::<Vec<_>>()).map_err(|e| {
            anyhow::anyhow!("{e}; helm rolled the release back (--atomic). Inspect with `kubectl -n {} get pods,events` and `helm -n {} history {}`", args.namespace, args.namespace, args.release)
        })?;
        // The release now runs the gated digests (dev: the ones just pinned, same reports).
        let detail = serde_json::json!({"release": args.release, "namespace": args.namespace, "values_files": values_files});
        Ok::<_, anyhow::Error>((out, StepReport { digests: gated.clone(), detail }))
    })?;
    say(format!("deployed {} to {} in namespace {}", args.release, checked.context, args.namespace));
    say(open_hint(&tools, &values, checked.minikube_profile.as_deref(), checked.public_url.as_deref()));
    Ok(ExitCode::SUCCESS)
}
