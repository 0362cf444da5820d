//! Registry destination against Debian's real docker-registry on loopback with htpasswd auth
//! (started by tests/suites/delivery.sh: FORGE_TEST_REGISTRY=127.0.0.1:PORT,
//! FORGE_TEST_REGISTRY_USER/_PASSWORD). skopeo is the second client that pulls back by digest.
//! Failures are injected by a loopback proxy in front of the same real registry.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use forge::publish::registry::{parse_target, RegistryPublisher, RetryPolicy, CYCLONEDX_JSON};
use forge::publish::{ImageRef, Publisher};
use oci_client::secrets::RegistryAuth;
use support::fault_proxy::{Fault, FaultProxy};

struct Registry {
    addr: String,
    user: String,
    password: String,
}

fn registry() -> Registry {
    Registry {
        addr: support::required_env("FORGE_TEST_REGISTRY"),
        user: support::required_env("FORGE_TEST_REGISTRY_USER"),
        password: support::required_env("FORGE_TEST_REGISTRY_PASSWORD"),
    }
}

fn publisher(addr: &str, repo: &str, auth: RegistryAuth, sbom: Option<PathBuf>) -> RegistryPublisher {
    RegistryPublisher {
        target: parse_target(&format!("{addr}/{repo}")).unwrap(),
        auth,
        retry: RetryPolicy { attempts: 4, first_delay: Duration::from_millis(50) },
        sbom,
    }
}

fn skopeo(reg: &Registry, args: &[&str]) -> std::process::Output {
    let creds = format!("{}:{}", reg.user, reg.password);
    Command::new("skopeo").args(args).args(["--creds", &creds, "--tls-verify=false"]).output().expect("skopeo runs")
}

fn fixture(tag: &str) -> (tempfile::TempDir, ImageRef, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("fixture-{tag}");
    support::write_image(dir.path(), &name, &support::fresh_salt(tag));
    let sbom = dir.path().join(format!("{name}.cdx.json"));
    std::fs::write(&sbom, format!(r#"{{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"metadata":{{"component":{{"type":"container","name":"{name}"}}}}}}"#)).unwrap();
    let image = ImageRef::open(dir.path(), &name).unwrap();
    (dir, image, sbom)
}

#[test]
#[ignore = "needs the real registry: run tests/suites/delivery.sh"]
fn push_pull_back_by_digest_and_find_the_sbom_referrer() {
    let reg = registry();
    let (_dir, image, sbom) = fixture("push");
    let auth = RegistryAuth::Basic(reg.user.clone(), reg.password.clone());
    let p = publisher(&reg.addr, "taskflow/push", auth.clone(), Some(sbom.clone()));

    let first = p.publish(&image).unwrap();
    assert!(!first.already_present);
    assert!(first.bytes_moved >= image.total_size(), "{first}");
    assert_eq!(first.reference, format!("{}/taskflow/push@{}", reg.addr, image.manifest_digest));

    // Second client: skopeo pulls the manifest back by digest; its bytes hash to our digest.
    let raw = skopeo(&reg, &["inspect", "--raw", &format!("docker://{}", first.reference)]);
    assert!(raw.status.success(), "skopeo inspect: {}", String::from_utf8_lossy(&raw.stderr));
    assert_eq!(raw.stdout, image.manifest_bytes, "the registry serves the manifest byte-for-byte");
    assert_eq!(support::sha256(&raw.stdout), image.manifest_digest);
    let copy_dir = tempfile::tempdir().unwrap();
    let dest = format!("oci:{}:pulled", copy_dir.path().display());
    let creds = format!("{}:{}", reg.user, reg.password);
    let copy = Command::new("skopeo")
        .args(["copy", "--src-creds", &creds, "--src-tls-verify=false", &format!("docker://{}", first.reference), &dest])
        .output()
        .unwrap();
    assert!(copy.status.success(), "skopeo copy: {}", String::from_utf8_lossy(&copy.stderr));
    let pulled_index: serde_json::Value = serde_json::from_slice(&std::fs::read(copy_dir.path().join("index.json")).unwrap()).unwrap();
    assert_eq!(pulled_index["manifests"][0]["digest"], image.manifest_digest.as_str(), "digests equal after a pull by digest");

    // The SBOM is discoverable as a referrer of the image (referrers API or its tag-schema fallback).
    let client = oci_client::Client::new(oci_client::client::ClientConfig {
        protocol: oci_client::client::ClientProtocol::Http,
        ..Default::default()
    });
    let subject: oci_client::Reference = first.reference.parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let referrers = runtime.block_on(async {
        client.auth(&subject, &auth, oci_client::RegistryOperation::Pull).await.unwrap();
        client.pull_referrers(&subject, Some(CYCLONEDX_JSON)).await.unwrap()
    });
    assert_eq!(referrers.manifests.len(), 1, "{referrers:?}");
    let sbom_manifest_ref = subject.clone_with_digest(referrers.manifests[0].digest.clone());
    let raw_sbom_manifest = skopeo(&reg, &["inspect", "--raw", &format!("docker://{}", sbom_manifest_ref.whole())]);
    let sbom_manifest: serde_json::Value = serde_json::from_slice(&raw_sbom_manifest.stdout).unwrap();
    assert_eq!(sbom_manifest["subject"]["digest"], image.manifest_digest.as_str());
    assert_eq!(sbom_manifest["layers"][0]["digest"], support::sha256(&std::fs::read(&sbom).unwrap()).as_str());

    // Pushing again moves no blob bytes and does not duplicate the referrer.
    let second = p.publish(&image).unwrap();
    assert!(second.already_present, "{second}");
    assert_eq!(second.bytes_moved, 0, "{second}");
    let again = runtime.block_on(client.pull_referrers(&subject, Some(CYCLONEDX_JSON))).unwrap();
    assert_eq!(again.manifests.len(), 1);
}

#[test]
#[ignore = "needs the real registry: run tests/suites/delivery.sh"]
fn wrong_password_is_a_401_with_the_fix() {
    let reg = registry();
    let (_dir, image, _) = fixture("unauthorized");
    let p = publisher(&reg.addr, "taskflow/denied", RegistryAuth::Basic(reg.user.clone(), "wrong".into()), None);
    let err = p.publish(&image).unwrap_err().to_string();
    assert!(err.contains(&format!("registry {}", reg.addr)), "{err}");
    assert!(err.contains("FORGE_REGISTRY_USERNAME"), "{err}");
}

#[test]
#[ignore = "needs the real registry: run tests/suites/delivery.sh"]
fn transient_500s_and_resets_are_retried_until_the_push_succeeds() {
    let reg = registry();
    let auth = RegistryAuth::Basic(reg.user.clone(), reg.password.clone());
    for (tag, fault) in [("flaky500", Fault::Status(500)), ("flakyreset", Fault::Reset)] {
        let (_dir, image, _) = fixture(tag);
        let proxy = FaultProxy::start(&reg.addr, fault, 2);
        let published = publisher(&proxy.addr, &format!("taskflow/{tag}"), auth.clone(), None).publish(&image).unwrap();
        assert!(!published.already_present);
        assert_eq!(proxy.faults_served.load(std::sync::atomic::Ordering::SeqCst), 2);
        let raw = skopeo(&reg, &["inspect", "--raw", &format!("docker://{}/taskflow/{tag}@{}", reg.addr, image.manifest_digest)]);
        assert_eq!(support::sha256(&raw.stdout), image.manifest_digest);
    }
}

#[test]
#[ignore = "needs the real registry: run tests/suites/delivery.sh"]
fn persistent_500s_fail_clearly_and_leave_no_manifest() {
    let reg = registry();
    let (_dir, image, _) = fixture("broken");
    let proxy = FaultProxy::start(&reg.addr, Fault::Status(500), usize::MAX);
    let err = publisher(&proxy.addr, "taskflow/broken", RegistryAuth::Basic(reg.user.clone(), reg.password.clone()), None)
        .publish(&image)
        .unwrap_err()
        .to_string();
    assert!(err.contains("after 4 attempts"), "{err}");
    assert!(err.contains("kept failing"), "{err}");
    let raw = skopeo(&reg, &["inspect", "--raw", &format!("docker://{}/taskflow/broken@{}", reg.addr, image.manifest_digest)]);
    assert!(!raw.status.success(), "no manifest may be left referenced after a failed push");
}

#[test]
#[ignore = "needs the real registry: run tests/suites/delivery.sh"]
fn not_a_registry_404_names_the_path_problem() {
    let reg = registry();
    let (_dir, image, _) = fixture("notfound");
    let proxy = FaultProxy::start(&reg.addr, Fault::Status(404), usize::MAX);
    let err = publisher(&proxy.addr, "taskflow/nf", RegistryAuth::Basic(reg.user.clone(), reg.password.clone()), None)
        .publish(&image)
        .unwrap_err()
        .to_string();
    assert!(err.contains("repository path"), "{err}");
}

#[test]
#[ignore = "needs the real registry: run tests/suites/delivery.sh"]
fn sbom_attached_in_the_layout_is_pushed_byte_for_byte_as_the_referrer() {
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    let name = "fixture-attached";
    support::write_image(dir.path(), name, &support::fresh_salt("attached"));
    let artifact = support::attach_sbom(dir.path(), name, br#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1}"#);
    let image = ImageRef::open(dir.path(), name).unwrap();
    assert_eq!(image.referrers.len(), 1);
    let auth = RegistryAuth::Basic(reg.user.clone(), reg.password.clone());
    // No sbom file given: the attached artifact is what goes up.
    let published = publisher(&reg.addr, "taskflow/attached", auth.clone(), None).publish(&image).unwrap();

    let client = oci_client::Client::new(oci_client::client::ClientConfig { protocol: oci_client::client::ClientProtocol::Http, ..Default::default() });
    let subject: oci_client::Reference = published.reference.parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let referrers = runtime.block_on(async {
        client.auth(&subject, &auth, oci_client::RegistryOperation::Pull).await.unwrap();
        client.pull_referrers(&subject, Some(CYCLONEDX_JSON)).await.unwrap()
    });
    let digests: Vec<&str> = referrers.manifests.iter().map(|m| m.digest.as_str()).collect();
    assert_eq!(digests, [artifact.as_str()]);
}
