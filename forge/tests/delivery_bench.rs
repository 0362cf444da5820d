//! `make bench` figures for delivery: wall time and bytes moved for a first load and a
//! no-change load into the real dockerd, containerd and registry the bench script starts.
//! Measures, never asserts speed. Images: FORGE_BENCH_IMAGES (names in FORGE_BENCH_OUT, e.g.
//! the project's out/ after `make build`), else a fixture with a 64 MiB incompressible layer.

mod support;

use std::path::PathBuf;
use std::time::Instant;

use forge::publish::containerd::ContainerdPublisher;
use forge::publish::docker::{DockerConnection, DockerPublisher};
use forge::publish::registry::{parse_target, RegistryPublisher, RetryPolicy};
use forge::publish::{ImageRef, Publisher};
use oci_client::secrets::RegistryAuth;

#[test]
#[ignore = "benchmark: run tests/bench/delivery.sh"]
fn first_and_no_change_loads() {
    let fixture_dir = tempfile::tempdir().unwrap();
    let (out, names): (PathBuf, Vec<String>) = match std::env::var("FORGE_BENCH_IMAGES") {
        Ok(list) if !list.trim().is_empty() => (PathBuf::from(support::required_env("FORGE_BENCH_OUT")), list.split_whitespace().map(String::from).collect()),
        _ => {
            support::write_image_with_payload(fixture_dir.path(), "bench-64mib", &support::fresh_salt("bench"), 64 << 20);
            (fixture_dir.path().to_path_buf(), vec!["bench-64mib".to_string()])
        }
    };
    let registry = support::required_env("FORGE_TEST_REGISTRY");
    let auth = RegistryAuth::Basic(support::required_env("FORGE_TEST_REGISTRY_USER"), support::required_env("FORGE_TEST_REGISTRY_PASSWORD"));
    println!("{:<14} {:<11} {:>12} {:>10} {:>14} {:>10}", "image", "destination", "first bytes", "first s", "no-change bytes", "no-change s");
    for name in &names {
        let image = ImageRef::open(&out, name).unwrap();
        let publishers: Vec<(&str, Box<dyn Publisher>)> = vec![
            ("docker", Box::new(DockerPublisher::new(DockerConnection::from_env()))),
            ("containerd", Box::new(ContainerdPublisher::from_env())),
            ("registry", Box::new(RegistryPublisher {
                target: parse_target(&format!("{registry}/bench/{name}")).unwrap(),
                auth: auth.clone(),
                retry: RetryPolicy::default(),
                sbom: None,
            })),
        ];
        for (label, publisher) in publishers {
            let timed = || {
                let start = Instant::now();
                let published = publisher.publish(&image).unwrap();
                (published.bytes_moved, start.elapsed().as_secs_f64())
            };
            let (first_bytes, first_s) = timed();
            let (again_bytes, again_s) = timed();
            println!("{name:<14} {label:<11} {first_bytes:>12} {first_s:>10.2} {again_bytes:>14} {again_s:>10.3}");
        }
    }
}
