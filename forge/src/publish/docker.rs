//! Docker Engine destination: streams the docker-archive `out/<name>.tar` into
//! `POST /images/load` through bollard. The daemon is asked first whether it already has the
//! image ID (the config digest); then no bytes move and only a missing tag is added.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bollard::query_parameters::{ImportImageOptions, TagImageOptions};
use bollard::{Docker, API_DEFAULT_VERSION};
use futures_util::{StreamExt, TryStreamExt};
use tokio_util::io::ReaderStream;

use super::runtime::block_on;
use super::{ImageRef, PublishError, Published, Publisher};

/// Seconds bollard waits for a daemon answer; loading a large archive takes a while.
const DAEMON_TIMEOUT_SECS: u64 = 600;
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// Where the daemon is and how to talk to it: the DOCKER_HOST / DOCKER_TLS_VERIFY /
/// DOCKER_CERT_PATH triple the docker CLI uses (also what `minikube docker-env` prints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerConnection {
    pub host: String,
    pub tls_verify: bool,
    pub cert_path: Option<PathBuf>,
}

impl DockerConnection {
    /// From the process environment, defaulting to the standard socket like the docker CLI.
    pub fn from_env() -> DockerConnection {
        let vars: HashMap<String, String> = ["DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"]
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        DockerConnection::from_vars(&vars)
    }

    /// From a map of the docker variables (e.g. parsed `minikube docker-env` output).
    pub fn from_vars(vars: &HashMap<String, String>) -> DockerConnection {
        let host = vars
            .get("DOCKER_HOST")
            .filter(|h| !h.is_empty())
            .cloned()
            .unwrap_or_else(|| DEFAULT_HOST.to_string());
        // The docker CLI treats any non-empty DOCKER_TLS_VERIFY as "on".
        let tls_verify = vars.get("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty() && v != "0");
        let cert_path = vars.get("DOCKER_CERT_PATH").filter(|p| !p.is_empty()).map(PathBuf::from);
        DockerConnection { host, tls_verify, cert_path }
    }

    fn unreachable(&self, reason: impl ToString) -> PublishError {
        PublishError::DockerUnreachable { host: self.host.clone(), reason: reason.to_string() }
    }

    /// Connects and negotiates the API version (Debian's 20.10 daemon speaks 1.41, older than
    /// bollard's default), which doubles as the "is the daemon there" check.
    pub async fn connect(&self) -> Result<Docker, PublishError> {
        let docker = if let Some(path) = self.host.strip_prefix("unix://") {
            Docker::connect_with_unix(path, DAEMON_TIMEOUT_SECS, API_DEFAULT_VERSION)
        } else if self.host.starts_with("tcp://") || self.host.starts_with("http://") || self.host.starts_with("https://") {
            if self.tls_verify {
                let certs = self.cert_path.clone().or_else(default_cert_path).ok_or_else(|| {
                    self.unreachable("DOCKER_TLS_VERIFY is set but DOCKER_CERT_PATH is not (and there is no ~/.docker)")
                })?;
                Docker::connect_with_ssl(
                    &self.host,
                    &certs.join("key.pem"),
                    &certs.join("cert.pem"),
                    &certs.join("ca.pem"),
                    DAEMON_TIMEOUT_SECS,
                    API_DEFAULT_VERSION,
                )
            } else {
                Docker::connect_with_http(&self.host, DAEMON_TIMEOUT_SECS, API_DEFAULT_VERSION)
            }
        } else {
            return Err(self.unreachable("DOCKER_HOST must start with unix://, tcp://, http:// or https://"));
        }
        .map_err(|e| self.unreachable(e))?;
        docker.negotiate_version().await.map_err(|e| self.unreachable(e))
    }
}

fn default_cert_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker"))
}

/// Loads images into a Docker daemon.
#[derive(Debug, Clone)]
pub struct DockerPublisher {
    pub connection: DockerConnection,
}

impl DockerPublisher {
    pub fn new(connection: DockerConnection) -> DockerPublisher {
        DockerPublisher { connection }
    }

    fn failed(&self, action: &str, reason: impl ToString) -> PublishError {
        PublishError::Docker {
            host: self.connection.host.clone(),
            action: action.to_string(),
            reason: reason.to_string(),
        }
    }

    async fn publish_async(&self, image: &ImageRef) -> Result<Published, PublishError> {
        let docker = self.connection.connect().await?;
        let image_id = &image.config.digest;
        let tag = image.local_tag();
        let mut published = Published {
            image: image.name.clone(),
            destination: self.destination(),
            reference: tag.clone(),
            digest: image_id.clone(),
            bytes_moved: 0,
            already_present: false,
        };
        if let Some(tags) = self.existing_tags(&docker, image_id).await? {
            if !tags.contains(&tag) {
                let (repo, label) = tag.rsplit_once(':').expect("local_tag always has a ':'");
                let options = TagImageOptions { repo: Some(repo.to_string()), tag: Some(label.to_string()) };
                docker.tag_image(image_id, Some(options)).await.map_err(|e| self.failed("tag", e))?;
            }
            published.already_present = true;
            return Ok(published);
        }
        published.bytes_moved = self.stream_archive(&docker, image).await?;
        match self.existing_tags(&docker, image_id).await? {
            Some(_) => Ok(published),
            None => Err(self.failed(
                "load",
                format!("the daemon accepted {} but has no image {image_id} afterwards; is the archive from the same build as out/{}/?", image.archive.display(), image.name),
            )),
        }
    }

    /// Tags of `image_id` when the daemon has it, None when it does not.
    async fn existing_tags(&self, docker: &Docker, image_id: &str) -> Result<Option<Vec<String>>, PublishError> {
        match docker.inspect_image(image_id).await {
            Ok(found) => Ok(Some(found.repo_tags.unwrap_or_default())),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
            Err(e) => Err(self.failed("inspect", e)),
        }
    }

    /// Streams the archive to the daemon without reading it into memory; returns bytes sent.
    async fn stream_archive(&self, docker: &Docker, image: &ImageRef) -> Result<u64, PublishError> {
        let file = tokio::fs::File::open(&image.archive)
            .await
            .map_err(|e| PublishError::BuildOutput {
                name: image.name.clone(),
                path: image.archive.clone(),
                reason: format!("cannot open the docker-archive: {e}"),
            })?;
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        let body = ReaderStream::new(file).inspect_ok(move |chunk| {
            counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        });
        let mut progress = docker.import_image_stream(ImportImageOptions { quiet: true, platform: None }, body, None);
        while let Some(message) = progress.next().await {
            let message = message.map_err(|e| self.failed("load", e))?;
            if let Some(detail) = message.error_detail {
                return Err(self.failed("load", detail.message.unwrap_or_else(|| "unknown error".into())));
            }
        }
        Ok(sent.load(Ordering::Relaxed))
    }
}

impl Publisher for DockerPublisher {
    fn destination(&self) -> String {
        format!("docker ({})", self.connection.host)
    }

    fn publish(&self, image: &ImageRef) -> Result<Published, PublishError> {
        block_on(self.publish_async(image))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn connection_defaults_to_the_standard_socket() {
        let c = DockerConnection::from_vars(&HashMap::new());
        assert_eq!(c.host, DEFAULT_HOST);
        assert!(!c.tls_verify);
    }

    #[test]
    fn connection_reads_the_tls_triple() {
        let c = DockerConnection::from_vars(&vars(&[
            ("DOCKER_HOST", "tcp://192.0.2.10:2376"),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", "/certs"),
        ]));
        assert_eq!(c.host, "tcp://192.0.2.10:2376");
        assert!(c.tls_verify);
        assert_eq!(c.cert_path, Some(PathBuf::from("/certs")));
    }

    #[test]
    fn missing_socket_is_reported_as_unreachable_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let host = format!("unix://{}/nope.sock", dir.path().display());
        let c = DockerConnection::from_vars(&vars(&[("DOCKER_HOST", &host)]));
        let err = block_on(c.connect()).unwrap_err().to_string();
        assert!(err.contains(&host), "{err}");
        assert!(err.contains("start dockerd or point DOCKER_HOST"), "{err}");
    }

    #[test]
    fn unknown_scheme_is_refused() {
        let c = DockerConnection::from_vars(&vars(&[("DOCKER_HOST", "ssh://somewhere")]));
        let err = block_on(c.connect()).unwrap_err().to_string();
        assert!(err.contains("must start with unix://"), "{err}");
    }
}
