//! containerd destination against Debian's real containerd (started by
//! tests/suites/delivery.sh with its own root/state/socket; CONTAINERD_ADDRESS exported).

mod support;

use std::process::Command;

use forge::publish::containerd::ContainerdPublisher;
use forge::publish::{ImageRef, Publisher};

#[test]
#[ignore = "needs a real containerd: run tests/suites/delivery.sh"]
fn import_into_k8s_namespace_then_skip() {
    let address = support::required_env("CONTAINERD_ADDRESS");
    let dir = tempfile::tempdir().unwrap();
    let name = format!("fixture-ctr-{}", std::process::id());
    let fixture = support::write_image(dir.path(), &name, &support::fresh_salt("containerd"));
    let image = ImageRef::open(dir.path(), &name).unwrap();
    let publisher = ContainerdPublisher::from_env();

    let first = publisher.publish(&image).unwrap();
    assert!(!first.already_present && first.bytes_moved > 0, "{first}");
    assert_eq!(first.digest, fixture.manifest_digest);

    let ls = Command::new("ctr").args(["--address", &address, "-n", "k8s.io", "images", "ls"]).output().unwrap();
    let listing = String::from_utf8_lossy(&ls.stdout);
    assert!(listing.contains(&format!("forge.local/{name}@{}", fixture.manifest_digest)), "{listing}");
    assert!(listing.contains(&format!("forge.local/{name}:{}", &fixture.manifest_digest[7..19])), "{listing}");
    assert!(listing.lines().any(|l| l.split_whitespace().nth(2) == Some(fixture.manifest_digest.as_str())), "{listing}");

    let second = publisher.publish(&image).unwrap();
    assert!(second.already_present && second.bytes_moved == 0, "{second}");
}
