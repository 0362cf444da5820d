//! Small real images for the delivery tests, written in the standard formats forge build
//! produces (OCI layout `out/<name>/` + docker-archive `out/<name>.tar`): one gzip layer with a
//! static C program at /hello that prints a greeting, so `docker run` has something to run.
#![allow(dead_code)] // each test binary uses a different part of this module

pub mod fault_proxy;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The static /hello program, compiled once per test build with the system C compiler.
fn hello_binary() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let binary = dir.join("forge-fixture-hello");
    if !binary.exists() {
        let source = dir.join(format!("forge-fixture-hello.{:?}.c", std::thread::current().id()));
        fs::write(
            &source,
            "#include <unistd.h>\nint main(void){static const char m[]=\"hello from a forge fixture\\n\";return write(1,m,sizeof m-1)==sizeof m-1?0:1;}\n",
        )
        .unwrap();
        // Tests run as threads of one process: the partial name must be unique per thread too.
        let partial = dir.join(format!("forge-fixture-hello.{}.{:?}", std::process::id(), std::thread::current().id()));
        let status = Command::new("cc").args(["-static", "-Os", "-o"]).arg(&partial).arg(&source).status().expect("cc (gcc) is needed to build the fixture program");
        assert!(status.success(), "compiling the fixture program failed");
        fs::rename(&partial, &binary).unwrap();
    }
    binary
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn tar_entry(tar: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32, data: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(mode);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, path, data).unwrap();
}

pub struct Fixture {
    pub manifest_digest: String,
    pub config_digest: String,
    pub layer_size: u64,
}

/// Writes `out/<name>/` and `out/<name>.tar` for an image whose /etc/salt holds `salt`
/// (different salts give different digests).
pub fn write_image(out: &Path, name: &str, salt: &str) -> Fixture {
    write_image_with_payload(out, name, salt, 0)
}

/// Like [`write_image`], plus `/payload` with `payload_bytes` of incompressible bytes, for
/// benchmarks that need a realistically sized layer.
pub fn write_image_with_payload(out: &Path, name: &str, salt: &str, payload_bytes: usize) -> Fixture {
    let hello = fs::read(hello_binary()).unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    tar_entry(&mut tar, "hello", 0o755, &hello);
    tar_entry(&mut tar, "etc/salt", 0o644, salt.as_bytes());
    if payload_bytes > 0 {
        // xorshift64: fast, deterministic and does not compress, like real binaries mostly.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ u64::from(salt.len() as u32);
        let payload: Vec<u8> = (0..payload_bytes / 8)
            .flat_map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()
            })
            .collect();
        tar_entry(&mut tar, "payload", 0o644, &payload);
    }
    let layer_tar = tar.into_inner().unwrap();
    let diff_id = sha256(&layer_tar);
    let layer = gzip(&layer_tar);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": {"Entrypoint": ["/hello"], "User": "65532:65532"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha256(&layer), "size": layer.len()}],
    }))
    .unwrap();
    let manifest_digest = sha256(&manifest);
    let layout = out.join(name);
    let blobs = layout.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    for blob in [&config, &layer, &manifest] {
        fs::write(blobs.join(&sha256(blob)[7..]), blob).unwrap();
    }
    fs::write(layout.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest.len(),
                       "annotations": {"org.opencontainers.image.ref.name": name}}],
    });
    fs::write(layout.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();

    let tag = format!("forge.local/{name}:{}", &manifest_digest[7..19]);
    let mut archive = tar::Builder::new(Vec::new());
    let docker_manifest = serde_json::json!([{
        "Config": format!("blobs/sha256/{}", &sha256(&config)[7..]),
        "RepoTags": [tag],
        "Layers": [format!("blobs/sha256/{}", &sha256(&layer)[7..])],
    }]);
    tar_entry(&mut archive, "manifest.json", 0o644, &serde_json::to_vec(&docker_manifest).unwrap());
    tar_entry(&mut archive, &format!("blobs/sha256/{}", &sha256(&config)[7..]), 0o644, &config);
    tar_entry(&mut archive, &format!("blobs/sha256/{}", &sha256(&layer)[7..]), 0o644, &layer);
    fs::write(out.join(format!("{name}.tar")), archive.into_inner().unwrap()).unwrap();

    let report = serde_json::json!({
        "name": name, "digest": manifest_digest, "config_digest": sha256(&config),
        "size": layer.len() + config.len(), "layers": [], "recipe": format!("recipes/{name}.toml"),
    });
    fs::write(layout.join("forge-report.json"), serde_json::to_vec_pretty(&report).unwrap()).unwrap();
    Fixture { manifest_digest, config_digest: sha256(&config), layer_size: layer.len() as u64 }
}

/// An environment variable a service-backed test needs; the suite script sets it after
/// starting the service, so its absence is a setup error, not a reason to pass.
pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run this test through tests/suites/delivery.sh, which starts the service"))
}

/// Attaches `sbom` to the layout the way `forge sbom` does (an OCI 1.1 artifact with
/// `subject` = the image, listed in index.json with its artifactType); returns the artifact
/// manifest digest.
pub fn attach_sbom(out: &Path, name: &str, sbom: &[u8]) -> String {
    let layout = out.join(name);
    let index_path = layout.join("index.json");
    let mut index: serde_json::Value = serde_json::from_slice(&fs::read(&index_path).unwrap()).unwrap();
    let image = index["manifests"][0].clone();
    let empty = b"{}";
    for blob in [sbom, &empty[..]] {
        fs::write(layout.join("blobs/sha256").join(&sha256(blob)[7..]), blob).unwrap();
    }
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cyclonedx+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(empty), "size": 2, "data": "e30="},
        "layers": [{"mediaType": "application/vnd.cyclonedx+json", "digest": sha256(sbom), "size": sbom.len(),
                    "annotations": {"org.opencontainers.image.title": format!("{name}.cdx.json")}}],
        "subject": {"mediaType": image["mediaType"], "digest": image["digest"], "size": image["size"]},
        "annotations": {"org.opencontainers.image.created": "2026-11-29T00:00:00Z"},
    }))
    .unwrap();
    let digest = sha256(&manifest);
    fs::write(layout.join("blobs/sha256").join(&digest[7..]), &manifest).unwrap();
    index["manifests"].as_array_mut().unwrap().push(serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": "application/vnd.cyclonedx+json",
        "digest": digest, "size": manifest.len(),
    }));
    fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    digest
}

/// A salt no earlier run used, so a fixture is new to a long-lived daemon or store.
pub fn fresh_salt(label: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{label}-{}-{nanos}", std::process::id())
}
