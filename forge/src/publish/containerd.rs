//! containerd destination (kind-style and host clusters): imports into the `k8s.io` namespace,
//! the one the CRI plugin (and so the kubelet) reads, through `ctr`. The image goes in as an
//! OCI archive streamed from `out/<name>/`, so containerd records the manifest digest forge
//! built (a docker-archive would be converted and get a new digest); `--digests` adds the
//! `forge.local/<name>@sha256:...` name a digest-pinned pod spec asks for.

use std::io::{self, Write};
use std::process::{Command, Stdio};

use super::{ImageRef, PublishError, Published, Publisher};

/// The namespace the Kubernetes CRI plugin uses.
pub const K8S_NAMESPACE: &str = "k8s.io";

/// Imports images into containerd with `ctr`.
#[derive(Debug, Clone)]
pub struct ContainerdPublisher {
    /// The ctr program (`$CTR` or `ctr`).
    pub program: String,
    /// Socket; None leaves it to ctr (`$CONTAINERD_ADDRESS`, else /run/containerd/containerd.sock).
    pub address: Option<String>,
    pub namespace: String,
}

impl ContainerdPublisher {
    pub fn from_env() -> ContainerdPublisher {
        ContainerdPublisher {
            program: std::env::var("CTR").unwrap_or_else(|_| "ctr".to_string()),
            address: std::env::var("CONTAINERD_ADDRESS").ok().filter(|a| !a.is_empty()),
            namespace: K8S_NAMESPACE.to_string(),
        }
    }

    fn base_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(address) = &self.address {
            args.extend(["--address".to_string(), address.clone()]);
        }
        args.extend(["-n".to_string(), self.namespace.clone()]);
        args
    }

    /// `ctr ... images ls` arguments.
    pub fn list_args(&self) -> Vec<String> {
        let mut args = self.base_args();
        args.extend(["images".into(), "ls".into()]);
        args
    }

    /// `ctr ... images import` arguments; the archive comes on stdin.
    pub fn import_args(&self, image: &ImageRef) -> Vec<String> {
        let mut args = self.base_args();
        args.extend([
            "images".into(),
            "import".into(),
            "--base-name".into(),
            format!("forge.local/{}", image.name),
            "--digests".into(),
            "-".into(),
        ]);
        args
    }

    fn command_error(&self, args: &[String], reason: String) -> PublishError {
        PublishError::Command {
            command: format!("{} {}", self.program, args.join(" ")),
            reason,
            hint: "is containerd running? set CONTAINERD_ADDRESS to its socket (and CTR to the ctr program if it is not on PATH)".into(),
        }
    }

    /// Whether the namespace holds an image whose target is `digest`.
    pub fn has_digest(&self, digest: &str) -> Result<bool, PublishError> {
        let args = self.list_args();
        let output = Command::new(&self.program)
            .args(&args)
            .output()
            .map_err(|e| self.command_error(&args, e.to_string()))?;
        if !output.status.success() {
            return Err(self.command_error(&args, format!("{}: {}", output.status, String::from_utf8_lossy(&output.stderr).trim())));
        }
        Ok(listing_has_digest(&String::from_utf8_lossy(&output.stdout), digest))
    }

    fn import(&self, image: &ImageRef) -> Result<u64, PublishError> {
        let args = self.import_args(image);
        let mut child = Command::new(&self.program)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.command_error(&args, e.to_string()))?;
        let stdin = child.stdin.take().expect("stdin was requested as a pipe");
        let written = write_oci_archive(image, stdin);
        let output = child.wait_with_output().map_err(|e| self.command_error(&args, e.to_string()))?;
        if !output.status.success() {
            return Err(self.command_error(&args, format!("{}: {}", output.status, String::from_utf8_lossy(&output.stderr).trim())));
        }
        written.map_err(|e| self.command_error(&args, format!("streaming the OCI archive: {e}")))
    }
}

impl Publisher for ContainerdPublisher {
    fn destination(&self) -> String {
        format!(
            "containerd ({}, namespace {})",
            self.address.as_deref().unwrap_or("default socket"),
            self.namespace
        )
    }

    fn publish(&self, image: &ImageRef) -> Result<Published, PublishError> {
        let already_present = self.has_digest(&image.manifest_digest)?;
        let bytes_moved = if already_present { 0 } else { self.import(image)? };
        if !self.has_digest(&image.manifest_digest)? {
            return Err(PublishError::Unexpected {
                destination: self.destination(),
                reason: format!("import finished but no image has digest {}", image.manifest_digest),
            });
        }
        Ok(Published {
            image: image.name.clone(),
            destination: self.destination(),
            reference: format!("forge.local/{}@{}", image.name, image.manifest_digest),
            digest: image.manifest_digest.clone(),
            bytes_moved,
            already_present,
        })
    }
}

/// `ctr images ls` prints `REF TYPE DIGEST SIZE PLATFORMS LABELS`; true when a row's DIGEST
/// column is `digest`.
pub fn listing_has_digest(listing: &str, digest: &str) -> bool {
    listing.lines().skip(1).any(|line| line.split_whitespace().nth(2) == Some(digest))
}

/// Writes `image` as an OCI archive (oci-layout, index.json, blobs) to `out`; returns bytes
/// written. The index names the manifest by its short digest so `--base-name` yields
/// `forge.local/<name>:<short>`, the same tag the docker-archive carries.
pub fn write_oci_archive(image: &ImageRef, out: impl Write) -> io::Result<u64> {
    let mut counter = CountingWriter { inner: out, count: 0 };
    {
        let mut tar = tar::Builder::new(&mut counter);
        tar.mode(tar::HeaderMode::Deterministic);
        append_bytes(&mut tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": image.manifest_media_type,
                "digest": image.manifest_digest,
                "size": image.manifest_bytes.len(),
                "annotations": { "org.opencontainers.image.ref.name": image.short_digest() },
            }],
        });
        append_bytes(&mut tar, "index.json", &serde_json::to_vec(&index)?)?;
        let manifest_name = blob_entry(&image.manifest_digest);
        append_bytes(&mut tar, &manifest_name, &image.manifest_bytes)?;
        for blob in image.blobs() {
            let path = image.blob_path(&blob.digest).map_err(io::Error::other)?;
            let mut file = std::fs::File::open(&path)?;
            let mut header = tar::Header::new_gnu();
            header.set_size(blob.size);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut header, blob_entry(&blob.digest), &mut file)?;
        }
        tar.finish()?;
    }
    counter.inner.flush()?;
    Ok(counter.count)
}

fn blob_entry(digest: &str) -> String {
    format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))
}

fn append_bytes<W: Write>(tar: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, bytes)
}

struct CountingWriter<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_matches_the_digest_column_only() {
        let d = format!("sha256:{}", "a".repeat(64));
        let listing = format!(
            "REF TYPE DIGEST SIZE PLATFORMS LABELS\nforge.local/backend:aaaaaaaaaaaa application/vnd.oci.image.manifest.v1+json {d} 3.1 MiB linux/amd64 -\n"
        );
        assert!(listing_has_digest(&listing, &d));
        assert!(!listing_has_digest(&listing, &format!("sha256:{}", "b".repeat(64))));
        assert!(!listing_has_digest("REF TYPE DIGEST SIZE PLATFORMS LABELS\n", &d));
    }

    #[test]
    fn command_lines_target_the_k8s_namespace() {
        let p = ContainerdPublisher { program: "ctr".into(), address: Some("/tmp/c.sock".into()), namespace: K8S_NAMESPACE.into() };
        assert_eq!(p.list_args().join(" "), "--address /tmp/c.sock -n k8s.io images ls");
    }

    #[test]
    fn unreachable_containerd_names_the_command_and_the_fix() {
        let p = ContainerdPublisher { program: "/nonexistent/ctr".into(), address: None, namespace: K8S_NAMESPACE.into() };
        let err = p.has_digest("sha256:00").unwrap_err().to_string();
        assert!(err.contains("/nonexistent/ctr -n k8s.io images ls"), "{err}");
        assert!(err.contains("CONTAINERD_ADDRESS"), "{err}");
    }
}
