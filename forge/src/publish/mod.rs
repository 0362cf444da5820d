//! Delivering a built image to where it runs: one [`Publisher`] trait, one module per
//! destination (the shape of ko's `pkg/publish`). The CLI edge picks the destination; every
//! publisher first asks the destination whether it already holds the image and then moves no
//! bytes, so re-running a load or push is cheap and says so.

pub mod containerd;
pub mod docker;
pub mod image;
pub mod minikube;
pub mod oci_layout;
pub mod registry;
mod runtime;

use std::fmt;
use std::path::PathBuf;

pub use image::{BlobRef, ImageRef, Referrer};

/// One destination an image can be delivered to.
pub trait Publisher {
    /// Short name of the destination for messages and the operations log ("docker", ...).
    fn destination(&self) -> String;
    /// Delivers `image`; skips the transfer when the destination already has it.
    fn publish(&self, image: &ImageRef) -> Result<Published, PublishError>;
}

/// What a publish did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Published {
    /// Image name (recipe name).
    pub image: String,
    /// Destination description, e.g. `docker (unix:///run/docker.sock)`.
    pub destination: String,
    /// How to refer to the image there (tag, repository@digest, ...).
    pub reference: String,
    /// The digest the destination knows the image by (manifest digest; docker: image ID).
    pub digest: String,
    /// Bytes sent to the destination.
    pub bytes_moved: u64,
    /// True when the destination already had the image and nothing was transferred.
    pub already_present: bool,
}

impl fmt::Display for Published {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.already_present {
            write!(
                f,
                "{}: {} already has {} ({}); moved 0 bytes",
                self.image, self.destination, self.digest, self.reference
            )
        } else {
            write!(
                f,
                "{}: delivered to {} as {} ({}); moved {} bytes",
                self.image, self.destination, self.reference, self.digest, self.bytes_moved
            )
        }
    }
}

/// Everything that can go wrong while delivering; each message names the object at fault and
/// the next step.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The build output is missing or inconsistent.
    #[error("{path}: {reason}; run `forge build {name}` to (re)create it")]
    BuildOutput { name: String, path: PathBuf, reason: String },
    /// The Docker daemon cannot be reached.
    #[error("cannot reach the Docker daemon at {host}: {reason}; start dockerd or point DOCKER_HOST (and DOCKER_TLS_VERIFY/DOCKER_CERT_PATH) at a running daemon")]
    DockerUnreachable { host: String, reason: String },
    /// The Docker daemon answered with an error.
    #[error("Docker daemon at {host}: {action} failed: {reason}")]
    Docker { host: String, action: String, reason: String },
    /// A registry refused or failed an operation.
    #[error("registry {registry}: {action} failed: {reason}; {hint}")]
    Registry { registry: String, action: String, reason: String, hint: String },
    /// A helper program (minikube, ctr) failed or is missing.
    #[error("`{command}` failed: {reason}; {hint}")]
    Command { command: String, reason: String, hint: String },
    /// Reading or writing a local file failed.
    #[error("{path}: {source}")]
    Io { path: PathBuf, #[source] source: std::io::Error },
    /// The destination answered with something forge cannot use.
    #[error("{destination}: {reason}")]
    Unexpected { destination: String, reason: String },
}

impl PublishError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PublishError::Io { path: path.into(), source }
    }
}
