//! Docker destination against a real dockerd (started by tests/suites/delivery.sh, which
//! exports DOCKER_HOST). Also the minikube destination's docker-runtime route: minikube
//! itself cannot run on this machine (it downloads its node image), so its `docker-env`
//! output is taken as text with DOCKER_HOST pointing at this real daemon, and the route
//! minikube would take is driven end to end.

mod support;

use std::process::Command;

use forge::publish::docker::{DockerConnection, DockerPublisher};
use forge::publish::minikube::{parse_docker_env, parse_profile_list, route, Route};
use forge::publish::{ImageRef, Publisher};

fn docker_cli(args: &[&str]) -> std::process::Output {
    Command::new("docker").args(args).output().expect("the docker CLI runs")
}

#[test]
#[ignore = "needs a real dockerd: run tests/suites/delivery.sh"]
fn load_then_no_change_load_then_run() {
    support::required_env("DOCKER_HOST");
    let dir = tempfile::tempdir().unwrap();
    let name = format!("fixture-docker-{}", std::process::id());
    let fixture = support::write_image(dir.path(), &name, &support::fresh_salt("docker"));
    let image = ImageRef::open(dir.path(), &name).unwrap();
    let publisher = DockerPublisher::new(DockerConnection::from_env());

    let first = publisher.publish(&image).unwrap();
    assert!(!first.already_present);
    assert_eq!(first.digest, fixture.config_digest, "docker's image ID is the config digest");
    assert_eq!(first.bytes_moved, std::fs::metadata(&image.archive).unwrap().len());

    let second = publisher.publish(&image).unwrap();
    assert!(second.already_present, "{second}");
    assert_eq!(second.bytes_moved, 0);
    assert!(second.to_string().contains("moved 0 bytes"), "{second}");

    let run = docker_cli(&["run", "--rm", "--network", "none", &image.local_tag()]);
    assert!(run.status.success(), "docker run failed: {}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(String::from_utf8_lossy(&run.stdout), "hello from a forge fixture\n");

    // A removed tag is put back without moving bytes (a second tag keeps the image alive).
    let keep = format!("keep/{name}:x");
    assert!(docker_cli(&["tag", &image.local_tag(), &keep]).status.success());
    assert!(docker_cli(&["rmi", &image.local_tag()]).status.success());
    let third = publisher.publish(&image).unwrap();
    assert!(third.already_present && third.bytes_moved == 0, "{third}");
    assert!(docker_cli(&["image", "inspect", &image.local_tag()]).status.success());
    let _ = docker_cli(&["rmi", "-f", &fixture.config_digest]);
}

#[test]
#[ignore = "needs a real dockerd: run tests/suites/delivery.sh"]
fn minikube_docker_runtime_route_loads_through_the_named_daemon() {
    let host = support::required_env("DOCKER_HOST");
    let profiles = parse_profile_list(include_str!("../src/publish/testdata/minikube-profile-list.json")).unwrap();
    let docker_env = parse_docker_env(&format!("DOCKER_HOST={host}\nMINIKUBE_ACTIVE_DOCKERD=minikube\n"));
    let Route::Docker(connection) = route(&profiles[0], Some(&docker_env)).unwrap() else { panic!("docker runtime must route through the daemon") };
    assert_eq!(connection.host, host);

    let dir = tempfile::tempdir().unwrap();
    let name = format!("fixture-minikube-{}", std::process::id());
    support::write_image(dir.path(), &name, &support::fresh_salt("minikube"));
    let image = ImageRef::open(dir.path(), &name).unwrap();
    let published = DockerPublisher::new(connection).publish(&image).unwrap();
    assert!(!published.already_present && published.bytes_moved > 0);
    assert!(docker_cli(&["image", "inspect", &image.local_tag()]).status.success());
    let _ = docker_cli(&["rmi", "-f", &image.config.digest]);
}

#[test]
fn unreachable_daemon_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    support::write_image(dir.path(), "fixture-unreachable", "u");
    let image = ImageRef::open(dir.path(), "fixture-unreachable").unwrap();
    for host in [format!("unix://{}/no.sock", dir.path().display()), "tcp://127.0.0.1:1".to_string()] {
        let vars = [("DOCKER_HOST".to_string(), host.clone())].into_iter().collect();
        let err = DockerPublisher::new(DockerConnection::from_vars(&vars)).publish(&image).unwrap_err().to_string();
        assert!(err.contains(&format!("cannot reach the Docker daemon at {host}")), "{err}");
        assert!(err.contains("start dockerd or point DOCKER_HOST"), "{err}");
    }
}
