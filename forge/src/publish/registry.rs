//! Registry destination through `oci-client`. Blobs the registry already has are skipped (HEAD
//! first), the manifest is uploaded byte-for-byte as built so the registry's digest is forge's
//! digest, and the manifest goes up only after every blob it references is there: a failed
//! push leaves no manifest pointing at missing content. Transient failures (5xx, connection
//! resets, timeouts) are retried with exponential backoff a bounded number of times.
//! The SBOM, when the build has one, is pushed as an OCI artifact whose `subject` is the image
//! and registered in the referrers API, or where the registry lacks it (distribution 2.8) in
//! the referrers tag schema index `sha256-<hex>` (OCI distribution spec 1.1).

use std::path::{Path, PathBuf};
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use serde_json::json;

use super::image::{self, sha256_digest};
use super::runtime::block_on;
use super::{ImageRef, PublishError, Published, Publisher};

/// Media type of a CycloneDX JSON SBOM, used as the artifact type of the referrer.
pub const CYCLONEDX_JSON: &str = "application/vnd.cyclonedx+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// Where and how to push.
#[derive(Debug, Clone)]
pub struct RegistryPublisher {
    /// `host[:port]/path/name[:tag]`; the tag defaults to the short digest.
    pub target: Reference,
    pub auth: RegistryAuth,
    pub retry: RetryPolicy,
    /// CycloneDX SBOM to push as a referrer when the layout has no attached artifact.
    pub sbom: Option<PathBuf>,
}

/// Bounded exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { attempts: 4, first_delay: Duration::from_millis(250) }
    }
}

/// Parses a push target. A registry host is required (a bare `taskflow/backend` would mean
/// Docker Hub, which forge never guesses) and a digest is refused (the image decides it).
pub fn parse_target(target: &str) -> Result<Reference, String> {
    let first = target.split('/').next().unwrap_or_default();
    let has_host = target.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if !has_host {
        return Err(format!("push target {target:?} has no registry host; write it as HOST[:PORT]/REPOSITORY, e.g. 127.0.0.1:5000/taskflow/backend"));
    }
    let reference: Reference = target.parse().map_err(|e| format!("push target {target:?} is not a valid reference: {e}"))?;
    if reference.digest().is_some() {
        return Err(format!("push target {target:?} carries a digest; give a repository (and optionally a tag), the digest comes from the build"));
    }
    Ok(reference)
}

/// True for hosts on the loopback interface, the only ones reached over plain HTTP (Docker
/// likewise treats 127.0.0.0/8 as an insecure registry by default; anything else is HTTPS).
pub fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => registry.rsplit_once(':').map_or(registry, |(h, _)| h),
    };
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Credentials for `registry`: FORGE_REGISTRY_USERNAME/FORGE_REGISTRY_PASSWORD, else the
/// docker config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`), else anonymous.
pub fn resolve_auth(registry: &str) -> Result<RegistryAuth, String> {
    if let (Ok(user), Ok(password)) = (std::env::var("FORGE_REGISTRY_USERNAME"), std::env::var("FORGE_REGISTRY_PASSWORD")) {
        return Ok(RegistryAuth::Basic(user, password));
    }
    let config = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))
        .map(|d| d.join("config.json"));
    match config {
        Some(path) if path.exists() => {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            auth_from_docker_config(&text, registry).map_err(|e| format!("{}: {e}", path.display()))
        }
        _ => Ok(RegistryAuth::Anonymous),
    }
}

/// Looks `registry` up in the `auths` of a docker config.json (keys may carry a scheme or a
/// path, as `docker login` writes them for some registries).
pub fn auth_from_docker_config(config_json: &str, registry: &str) -> Result<RegistryAuth, String> {
    use base64::Engine;
    let config: serde_json::Value = serde_json::from_str(config_json).map_err(|e| format!("not valid JSON: {e}"))?;
    let Some(auths) = config["auths"].as_object() else { return Ok(RegistryAuth::Anonymous) };
    let host_of = |key: &str| {
        let key = key.trim_start_matches("https://").trim_start_matches("http://");
        key.split('/').next().unwrap_or_default().to_string()
    };
    let Some(entry) = auths.iter().find(|(k, _)| host_of(k) == registry).map(|(_, v)| v) else {
        return Ok(RegistryAuth::Anonymous);
    };
    if let (Some(user), Some(password)) = (entry["username"].as_str(), entry["password"].as_str()) {
        return Ok(RegistryAuth::Basic(user.to_string(), password.to_string()));
    }
    let Some(encoded) = entry["auth"].as_str() else { return Ok(RegistryAuth::Anonymous) };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("auths.{registry}.auth is not base64: {e}"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| format!("auths.{registry}.auth is not UTF-8"))?;
    let (user, password) = decoded.split_once(':').ok_or_else(|| format!("auths.{registry}.auth is not user:password"))?;
    Ok(RegistryAuth::Basic(user.to_string(), password.to_string()))
}

/// Whether an error is worth another attempt: server errors and broken connections.
fn is_transient(error: &OciDistributionError) -> bool {
    match error {
        OciDistributionError::ServerError { code, .. } => *code >= 500,
        OciDistributionError::RequestError(e) => match e.status() {
            Some(status) => status.is_server_error(),
            None => e.is_connect() || e.is_timeout() || e.is_request() || e.is_body(),
        },
        OciDistributionError::IoError(_) => true,
        _ => false,
    }
}

/// The hint for a failure that will not go away by retrying.
fn hint_for(error: &OciDistributionError) -> String {
    use oci_client::errors::OciErrorCode as Code;
    let status = match error {
        OciDistributionError::UnauthorizedError { .. } | OciDistributionError::AuthenticationFailure(_) => Some(401),
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().find_map(|e| match e.code {
            Code::Unauthorized | Code::Denied => Some(401),
            Code::NameUnknown | Code::NameInvalid | Code::NotFound => Some(404),
            _ => None,
        }),
        OciDistributionError::ServerError { code, .. } => Some(*code),
        OciDistributionError::RequestError(e) => e.status().map(|s| s.as_u16()),
        _ => None,
    };
    match status {
        Some(401) | Some(403) => "check the credentials: set FORGE_REGISTRY_USERNAME and FORGE_REGISTRY_PASSWORD, or `docker login` the registry".into(),
        Some(404) => "check the registry address and repository path (is this a registry's /v2/ API?)".into(),
        Some(code) if code >= 500 => "the registry kept failing; check its logs and storage, then run the push again (blobs already uploaded are skipped)".into(),
        _ => "check that the registry is running and reachable, then run the push again".into(),
    }
}

impl RegistryPublisher {
    /// A publisher for `target` with credentials from the environment/docker config.
    pub fn new(target: Reference, sbom: Option<PathBuf>) -> Result<RegistryPublisher, String> {
        let auth = resolve_auth(target.resolve_registry())?;
        Ok(RegistryPublisher { target, auth, retry: RetryPolicy::default(), sbom })
    }

    /// `host/path/name` without tag or digest: what values files and reports record.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.target.resolve_registry(), self.target.repository())
    }

    fn client(&self) -> Client {
        // reqwest is built without a crypto provider of its own; ring is the process-wide one.
        // An Err only means another part of forge installed it first.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let registry = self.target.resolve_registry().to_string();
        let protocol = if is_loopback(&registry) { ClientProtocol::HttpsExcept(vec![registry]) } else { ClientProtocol::Https };
        Client::new(ClientConfig {
            protocol,
            // One PUT per blob, streamed from disk with its length known.
            use_monolithic_push: true,
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(120)),
            ..ClientConfig::default()
        })
    }

    fn reference_with(&self, tag_or_digest: &str) -> Reference {
        let (registry, repository) = (self.target.resolve_registry().to_string(), self.target.repository().to_string());
        if tag_or_digest.starts_with("sha256:") {
            Reference::with_digest(registry, repository, tag_or_digest.to_string())
        } else {
            Reference::with_tag(registry, repository, tag_or_digest.to_string())
        }
    }

    /// Runs `op` with retries; the final error carries the action, the cause and a hint.
    async fn with_retry<T, F, Fut>(&self, action: &str, mut op: F) -> Result<T, PublishError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, OciDistributionError>>,
    {
        let mut delay = self.retry.first_delay;
        let mut attempt = 1;
        loop {
            match op().await {
                Ok(value) => return Ok(value),
                Err(error) if is_transient(&error) && attempt < self.retry.attempts => {
                    eprintln!("forge: {action} on {}: {error}; retrying in {delay:?} (attempt {attempt} of {})", self.target.resolve_registry(), self.retry.attempts);
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                Err(error) => {
                    let tries = if is_transient(&error) { format!(" (after {attempt} attempts)") } else { String::new() };
                    return Err(PublishError::Registry {
                        registry: self.target.resolve_registry().to_string(),
                        action: format!("{action}{tries}"),
                        reason: error.to_string(),
                        hint: hint_for(&error),
                    });
                }
            }
        }
    }

    /// Uploads the blob at `path` unless the registry has it; returns bytes sent.
    async fn push_blob_file(&self, client: &Client, path: &Path, digest: &str, size: u64) -> Result<u64, PublishError> {
        let reference = self.reference_with(digest);
        if self.with_retry(&format!("check blob {digest}"), || client.blob_exists(&reference, digest)).await? {
            return Ok(0);
        }
        self.with_retry(&format!("upload blob {digest}"), || async {
            let file = tokio::fs::File::open(path).await?;
            let stream = futures_util::TryStreamExt::map_err(tokio_util::io::ReaderStream::new(file), OciDistributionError::from);
            client.push_blob_stream(&reference, stream, digest, Some(size)).await
        })
        .await?;
        Ok(size)
    }

    async fn push_blob_bytes(&self, client: &Client, bytes: &[u8], digest: &str) -> Result<u64, PublishError> {
        let reference = self.reference_with(digest);
        if self.with_retry(&format!("check blob {digest}"), || client.blob_exists(&reference, digest)).await? {
            return Ok(0);
        }
        self.with_retry(&format!("upload blob {digest}"), || client.push_blob(&reference, bytes.to_vec(), digest)).await?;
        Ok(bytes.len() as u64)
    }

    /// Whether the registry already serves `digest` in the target repository.
    async fn has_manifest(&self, client: &Client, digest: &str) -> Result<bool, PublishError> {
        self.tag_points_at(client, digest, digest).await
    }

    /// Whether `tag_or_digest` resolves to `digest` in the target repository (HEAD only).
    async fn tag_points_at(&self, client: &Client, tag_or_digest: &str, digest: &str) -> Result<bool, PublishError> {
        let reference = self.reference_with(tag_or_digest);
        let found = self
            .with_retry("check manifest", || async {
                match client.fetch_manifest_digest(&reference, &self.auth).await {
                    Ok(d) => Ok(Some(d)),
                    Err(OciDistributionError::ImageManifestNotFoundError(_)) => Ok(None),
                    Err(OciDistributionError::RegistryError { envelope, .. })
                        if envelope.errors.iter().any(|e| matches!(e.code, oci_client::errors::OciErrorCode::ManifestUnknown | oci_client::errors::OciErrorCode::NameUnknown)) =>
                    {
                        Ok(None)
                    }
                    Err(OciDistributionError::ServerError { code: 404, .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .await?;
        Ok(found.as_deref() == Some(digest))
    }

    async fn push_manifest(&self, client: &Client, reference: &Reference, bytes: &[u8], media_type: &str) -> Result<(), PublishError> {
        let content_type = media_type.parse().map_err(|_| PublishError::Unexpected {
            destination: self.destination(),
            reason: format!("media type {media_type:?} is not a valid header value"),
        })?;
        self.with_retry(&format!("upload manifest {}", reference.whole()), || {
            client.push_manifest_raw(reference, bytes.to_vec(), std::clone::Clone::clone(&content_type))
        })
        .await?;
        Ok(())
    }

    async fn publish_async(&self, image: &ImageRef) -> Result<Published, PublishError> {
        let client = self.client();
        let tag = self.target.tag().map(str::to_string).unwrap_or_else(|| image.short_digest().to_string());
        let tagged = self.reference_with(&tag);
        self.with_retry("authenticate", || client.auth(&tagged, &self.auth, RegistryOperation::Push)).await?;

        let already_present = self.has_manifest(&client, &image.manifest_digest).await?;
        let mut bytes_moved = 0;
        if !already_present {
            for blob in image.blobs() {
                bytes_moved += self.push_blob_file(&client, &image.blob_path(&blob.digest)?, &blob.digest, blob.size).await?;
            }
        }
        // The tag follows the build: (re)point it unless it already names this digest.
        if !self.tag_points_at(&client, &tag, &image.manifest_digest).await? {
            self.push_manifest(&client, &tagged, &image.manifest_bytes, &image.manifest_media_type).await?;
            bytes_moved += image.manifest_bytes.len() as u64;
        }
        if !self.has_manifest(&client, &image.manifest_digest).await? {
            return Err(PublishError::Unexpected {
                destination: self.destination(),
                reason: format!("after the push the registry does not serve {}@{}; it rewrote the manifest", self.repository(), image.manifest_digest),
            });
        }
        bytes_moved += self.push_referrers(&client, image).await?;
        Ok(Published {
            image: image.name.clone(),
            destination: self.destination(),
            reference: format!("{}@{}", self.repository(), image.manifest_digest),
            digest: image.manifest_digest.clone(),
            bytes_moved,
            already_present,
        })
    }

    /// Pushes the image's referrers: the artifacts attached in its layout (the SBOM `forge sbom`
    /// attaches), else one built here from `self.sbom`; returns bytes sent.
    async fn push_referrers(&self, client: &Client, image: &ImageRef) -> Result<u64, PublishError> {
        let mut moved = 0;
        if !image.referrers.is_empty() {
            for referrer in &image.referrers {
                for blob in &referrer.blobs {
                    moved += self.push_blob_file(client, &image.blob_path(&blob.digest)?, &blob.digest, blob.size).await?;
                }
                moved += self.push_artifact_manifest(client, image, &referrer.manifest_bytes, &referrer.manifest_digest, &referrer.artifact_type).await?;
            }
        } else if let Some(sbom) = &self.sbom {
            let sbom_bytes = std::fs::read(sbom).map_err(|e| PublishError::io(sbom, e))?;
            let sbom_digest = sha256_digest(&sbom_bytes);
            let empty = b"{}";
            moved += self.push_blob_bytes(client, empty, &sha256_digest(empty)).await?;
            moved += self.push_blob_bytes(client, &sbom_bytes, &sbom_digest).await?;
            let file_name = sbom.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let manifest = sbom_manifest(image, &sbom_digest, sbom_bytes.len() as u64, &file_name);
            moved += self.push_artifact_manifest(client, image, &manifest, &sha256_digest(&manifest), CYCLONEDX_JSON).await?;
        }
        Ok(moved)
    }

    /// Pushes one referrer manifest by digest (unless present) and registers it.
    async fn push_artifact_manifest(&self, client: &Client, image: &ImageRef, manifest: &[u8], digest: &str, artifact_type: &str) -> Result<u64, PublishError> {
        let mut moved = 0;
        if !self.has_manifest(client, digest).await? {
            self.push_manifest(client, &self.reference_with(digest), manifest, image::OCI_MANIFEST).await?;
            moved += manifest.len() as u64;
        }
        moved += self.register_referrer(client, image, digest, manifest.len() as u64, artifact_type).await?;
        Ok(moved)
    }

    /// Adds the SBOM manifest to the referrers tag schema index unless the registry's
    /// referrers listing (native API, or that same index) already shows it.
    async fn register_referrer(&self, client: &Client, image: &ImageRef, sbom_manifest: &str, size: u64, artifact_type: &str) -> Result<u64, PublishError> {
        let subject = self.reference_with(&image.manifest_digest);
        let index = self.with_retry("list referrers", || client.pull_referrers(&subject, None)).await?;
        if index.manifests.iter().any(|m| m.digest == sbom_manifest) {
            return Ok(0);
        }
        let mut entries: Vec<serde_json::Value> = index
            .manifests
            .iter()
            .map(|m| serde_json::to_value(m).expect("an index entry always serialises"))
            .collect();
        entries.push(json!({
            "mediaType": image::OCI_MANIFEST,
            "digest": sbom_manifest,
            "size": size,
            "artifactType": artifact_type,
        }));
        let body = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}))
            .expect("a serde_json::Value always serialises");
        let tag = image.manifest_digest.replace(':', "-");
        self.push_manifest(client, &self.reference_with(&tag), &body, OCI_INDEX).await?;
        Ok(body.len() as u64)
    }
}

/// An SBOM artifact manifest (OCI 1.1 artifact: empty config, the SBOM as its one layer,
/// `subject` = the image), the same shape `forge sbom` attaches to the layout; used when the
/// layout has none. Deterministic, so pushing it twice yields the same digest.
pub fn sbom_manifest(image: &ImageRef, sbom_digest: &str, sbom_size: u64, file_name: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": image::OCI_MANIFEST,
        "artifactType": CYCLONEDX_JSON,
        "config": {"mediaType": OCI_EMPTY, "digest": sha256_digest(b"{}"), "size": 2, "data": "e30="},
        "layers": [{
            "mediaType": CYCLONEDX_JSON,
            "digest": sbom_digest,
            "size": sbom_size,
            "annotations": {"org.opencontainers.image.title": file_name},
        }],
        "subject": {"mediaType": image.manifest_media_type, "digest": image.manifest_digest, "size": image.manifest_bytes.len()},
    }))
    .expect("a serde_json::Value always serialises")
}

impl Publisher for RegistryPublisher {
    fn destination(&self) -> String {
        format!("registry {}", self.repository())
    }

    fn publish(&self, image: &ImageRef) -> Result<Published, PublishError> {
        block_on(self.publish_async(image))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_needs_a_registry_host_and_no_digest() {
        let r = parse_target("127.0.0.1:5000/taskflow/backend").unwrap();
        assert_eq!(r.resolve_registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "taskflow/backend");
        assert_eq!(parse_target("registry.example.com/backend:v1").unwrap().tag(), Some("v1"));
        let err = parse_target("taskflow/backend").unwrap_err();
        assert!(err.contains("no registry host") && err.contains("HOST[:PORT]/REPOSITORY"), "{err}");
        let err = parse_target(&format!("localhost:5000/b@sha256:{}", "a".repeat(64))).unwrap_err();
        assert!(err.contains("carries a digest"), "{err}");
    }

    #[test]
    fn only_loopback_gets_plain_http() {
        for host in ["127.0.0.1:5000", "127.8.0.1", "localhost:5000", "[::1]:5000"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["registry.example.com", "10.0.0.1:5000", "192.168.1.10:5000", "localhost.example.com:5000"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn docker_config_auth_in_both_forms() {
        // "dTpw" is base64("u:p").
        let config = r#"{"auths":{"https://127.0.0.1:5000/v1/":{"auth":"dTpw"},"other:5000":{"username":"a","password":"b"}}}"#;
        assert!(matches!(auth_from_docker_config(config, "127.0.0.1:5000").unwrap(), RegistryAuth::Basic(u, p) if u == "u" && p == "p"));
        assert!(matches!(auth_from_docker_config(config, "other:5000").unwrap(), RegistryAuth::Basic(u, p) if u == "a" && p == "b"));
        assert!(matches!(auth_from_docker_config(config, "elsewhere").unwrap(), RegistryAuth::Anonymous));
        let err = auth_from_docker_config(r#"{"auths":{"h":{"auth":"!!"}}}"#, "h").unwrap_err();
        assert!(err.contains("auths.h.auth is not base64"), "{err}");
    }

    #[test]
    fn hints_name_the_fix() {
        let unauthorized = OciDistributionError::UnauthorizedError { url: "u".into() };
        assert!(hint_for(&unauthorized).contains("FORGE_REGISTRY_USERNAME"));
        assert!(!is_transient(&unauthorized));
        let server = OciDistributionError::ServerError { code: 500, url: "u".into(), message: String::new() };
        assert!(is_transient(&server));
        assert!(hint_for(&server).contains("kept failing"));
        let missing = OciDistributionError::ServerError { code: 404, url: "u".into(), message: String::new() };
        assert!(!is_transient(&missing));
        assert!(hint_for(&missing).contains("repository path"));
    }
}
