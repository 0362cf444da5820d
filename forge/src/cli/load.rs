//! `forge load NAME... --to docker|minikube|containerd|oci:DIR`

use std::path::{Path, PathBuf};

use forge::opslog::{OpsLog, StepReport};
use forge::publish::containerd::ContainerdPublisher;
use forge::publish::docker::{DockerConnection, DockerPublisher};
use forge::publish::minikube::MinikubePublisher;
use forge::publish::oci_layout::OciLayoutPublisher;
use forge::publish::{ImageRef, Publisher};

/// Load built images into a local runtime.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Images to load (recipe names; their `forge build` output in out/).
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Destination: docker (DOCKER_HOST), minikube, containerd (CONTAINERD_ADDRESS, namespace
    /// k8s.io) or oci:DIR (an OCI image layout directory).
    #[arg(long = "to", value_name = "DESTINATION")]
    pub to: String,
    /// Minikube profile (default: the active one).
    #[arg(long)]
    pub profile: Option<String>,
    /// Print the operations-log records as JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// The publisher for a `--to` value.
pub fn publisher_for(to: &str, profile: Option<String>) -> anyhow::Result<Box<dyn Publisher>> {
    Ok(match to {
        "docker" => Box::new(DockerPublisher::new(DockerConnection::from_env())),
        "minikube" => Box::new(MinikubePublisher::from_env(profile)),
        "containerd" => Box::new(ContainerdPublisher::from_env()),
        other => match other.strip_prefix("oci:") {
            Some(dir) if !dir.is_empty() => Box::new(OciLayoutPublisher { dir: PathBuf::from(dir) }),
            _ => anyhow::bail!("unknown destination {other:?}; use docker, minikube, containerd or oci:DIR (to push to a registry: `forge push NAME --to HOST/REPO`)"),
        },
    })
}

pub fn run(root: &Path, args: &LoadArgs) -> anyhow::Result<()> {
    let publisher = publisher_for(&args.to, args.profile.clone())?;
    let log = OpsLog::new(root, args.json);
    for name in &args.names {
        let published = log.step("load", name, || {
            let image = ImageRef::open(&root.join("out"), name)?;
            let published = publisher.publish(&image)?;
            Ok::<_, anyhow::Error>((published.clone(), report_of(&published)))
        })?;
        if !args.json {
            println!("{published}");
        }
    }
    Ok(())
}

/// The operations-log facts of one publish.
pub fn report_of(published: &forge::publish::Published) -> StepReport {
    let mut report = StepReport::default();
    report.digests.insert(published.image.clone(), published.digest.clone());
    report.detail = serde_json::json!({
        "destination": published.destination,
        "reference": published.reference,
        "bytes_moved": published.bytes_moved,
        "already_present": published.already_present,
    });
    report
}
