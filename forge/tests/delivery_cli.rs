//! The delivery subcommands through the real `forge` binary on a small project: pin, pin
//! --check, promote, the operations log, and deploy's preflight failures.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const BASE: &str = "secrets:\n  existingSecret: \"\"\nbackend:\n  image:\n    repository: forge.local/backend\n    digest: \"\"\n    tag: \"0.1.0\"\nfrontend:\n  image:\n    repository: forge.local/frontend\n    digest: \"\"\n    tag: \"0.1.0\"\n  service:\n    type: ClusterIP\n";
const DEV: &str = "# dev values\nbackend:\n  image:\n    repository: forge.local/backend\n    digest: \"\"   # forge pin\n    tag: \"0.1.0\"\nfrontend:\n  image:\n    repository: forge.local/frontend\n    digest: ''\n    tag: \"0.1.0\"\n  service:\n    type: NodePort\n    nodePort: 30080\n";
const PROD: &str = "secrets:\n  existingSecret: taskflow-secrets\nbackend:\n  image:\n    repository: registry.example.com/taskflow/backend\n    digest: \"\"\n    tag: \"0.1.0\"\nfrontend:\n  image:\n    repository: registry.example.com/taskflow/frontend\n    digest: \"\"\n    tag: \"0.1.0\"\n";

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("recipes")).unwrap();
    let chart = root.join("charts/todo-app");
    fs::create_dir_all(&chart).unwrap();
    fs::write(chart.join("values.yaml"), BASE).unwrap();
    fs::write(chart.join("values-dev.yaml"), DEV).unwrap();
    fs::write(chart.join("values-prod.yaml"), PROD).unwrap();
    for name in ["backend", "frontend"] {
        support::write_image(&root.join("out"), name, name);
    }
    dir
}

fn forge(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_forge")).arg("--root").arg(root).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn digest_of(root: &Path, name: &str) -> String {
    let report: serde_json::Value = serde_json::from_slice(&fs::read(root.join("out").join(name).join("forge-report.json")).unwrap()).unwrap();
    report["digest"].as_str().unwrap().to_string()
}

#[test]
fn pin_check_fails_on_stale_values_then_pin_fixes_them() {
    let dir = project();
    let root = dir.path();
    let check = forge(root, &["pin", "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    assert!(text(&check).contains("does not match the current build; run `forge pin`"), "{}", text(&check));
    assert_eq!(fs::read_to_string(root.join("charts/todo-app/values-dev.yaml")).unwrap(), DEV, "--check must not write");

    let pin = forge(root, &["pin"]);
    assert!(pin.status.success(), "{}", text(&pin));
    let pinned = fs::read_to_string(root.join("charts/todo-app/values-dev.yaml")).unwrap();
    let (b, f) = (digest_of(root, "backend"), digest_of(root, "frontend"));
    let expected = DEV.replace("digest: \"\"   # forge pin", &format!("digest: \"{b}\"   # forge pin")).replace("digest: ''", &format!("digest: '{f}'"));
    assert_eq!(pinned, expected);

    let check = forge(root, &["pin", "--check"]);
    assert!(check.status.success(), "{}", text(&check));

    let log = fs::read_to_string(root.join(".forge/ops.jsonl")).unwrap();
    let steps: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(steps.iter().map(|s| s["step"].as_str().unwrap()).collect::<Vec<_>>(), ["pin.check", "pin", "pin.check"]);
    assert_eq!(steps[1]["digests"]["backend"], b.as_str());
}

#[test]
fn pin_refuses_invalid_yaml_and_missing_image_block() {
    let dir = project();
    let root = dir.path();
    let dev = root.join("charts/todo-app/values-dev.yaml");
    fs::write(&dev, "backend:\n  image: {repository: x\n").unwrap();
    let out = forge(root, &["pin"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("values-dev.yaml: not valid YAML"), "{}", text(&out));

    fs::write(&dev, "backend:\n  image:\n    repository: x\n    digest: \"\"\nfrontend:\n  replicaCount: 1\n").unwrap();
    let out = forge(root, &["pin"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("values-dev.yaml: no `frontend.image.repository` found"), "{}", text(&out));
    assert!(fs::read_to_string(&dev).unwrap().contains("digest: \"\""), "a failed pin writes nothing");
}

#[test]
fn promote_moves_passed_digests_and_refuses_unscanned() {
    let dir = project();
    let root = dir.path();
    assert!(forge(root, &["pin"]).status.success());
    let (b, f) = (digest_of(root, "backend"), digest_of(root, "frontend"));
    let report = |name: &str, extra: serde_json::Value| {
        let path = root.join("out").join(name).join("forge-report.json");
        let mut r: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        for (k, v) in extra.as_object().unwrap() {
            r[k] = v.clone();
        }
        fs::write(path, serde_json::to_vec(&r).unwrap()).unwrap();
    };
    report("backend", serde_json::json!({"scan": {"verdict": "passed"}, "pushed": [{"repository": "127.0.0.1:5000/taskflow/backend", "digest": b}]}));
    report("frontend", serde_json::json!({"scan": {"verdict": "unscanned", "reason": "trivy not installed"}, "pushed": [{"repository": "127.0.0.1:5000/taskflow/frontend", "digest": f}]}));

    let out = forge(root, &["promote", "--from", "dev", "--to", "prod"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("promoted backend: 127.0.0.1:5000/taskflow/backend@{b}")), "{}", text(&out));
    assert!(text(&out).contains("refused frontend: scan verdict unscanned: trivy not installed"), "{}", text(&out));
    let prod = fs::read_to_string(root.join("charts/todo-app/values-prod.yaml")).unwrap();
    let expected = PROD
        .replacen("repository: registry.example.com/taskflow/backend\n    digest: \"\"", &format!("repository: 127.0.0.1:5000/taskflow/backend\n    digest: \"{b}\""), 1);
    assert_eq!(prod, expected);
}

#[test]
fn deploy_preflight_without_helm_says_what_to_install() {
    let dir = project();
    let out = Command::new(env!("CARGO_BIN_EXE_forge"))
        .arg("--root")
        .arg(dir.path())
        .args(["deploy", "--env", "dev", "--preflight-only"])
        .env("HELM", "/nonexistent/helm")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("helm: cannot run `/nonexistent/helm`"), "{}", text(&out));
    assert!(text(&out).contains("install helm 3 or newer"), "{}", text(&out));
    let log = fs::read_to_string(dir.path().join(".forge/ops.jsonl")).unwrap();
    assert!(log.contains("\"step\":\"deploy.preflight\"") && log.contains("\"outcome\":\"failed\""), "{log}");
}

#[test]
#[ignore = "needs helm and kubectl: run tests/suites/delivery.sh"]
fn deploy_preflight_against_an_unreachable_cluster() {
    support::required_env("HELM");
    let dir = project();
    let kubeconfig = dir.path().join("kubeconfig");
    fs::write(&kubeconfig, "apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster: {server: \"https://127.0.0.1:1\"}\ncontexts:\n- name: gone\n  context: {cluster: gone, user: u}\ncurrent-context: gone\nusers:\n- name: u\n  user: {token: t}\n").unwrap();
    let out = forge(dir.path(), &["deploy", "--preflight-only", "--kubeconfig", kubeconfig.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("cluster: the API server of context \"gone\" does not answer"), "{}", text(&out));
    assert!(text(&out).contains("start the cluster"), "{}", text(&out));

    let empty = dir.path().join("empty-kubeconfig");
    fs::write(&empty, "apiVersion: v1\nkind: Config\n").unwrap();
    let out = forge(dir.path(), &["deploy", "--preflight-only", "--kubeconfig", empty.to_str().unwrap()]);
    assert!(text(&out).contains("context:") && text(&out).contains("kubectl config use-context"), "{}", text(&out));
}

#[test]
#[ignore = "needs dockerd and the registry: run tests/suites/delivery.sh"]
fn load_and_push_through_the_binary_record_ops_and_pushed() {
    let registry = support::required_env("FORGE_TEST_REGISTRY");
    support::required_env("DOCKER_HOST");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("recipes")).unwrap();
    let fixture = support::write_image(&root.join("out"), "cli", &support::fresh_salt("cli"));

    let first = forge(root, &["load", "cli", "--to", "docker"]);
    assert!(first.status.success(), "{}", text(&first));
    assert!(text(&first).contains("cli: delivered to docker"), "{}", text(&first));
    let again = forge(root, &["load", "cli", "--to", "docker", "--json"]);
    let record: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(record["step"], "load");
    assert_eq!(record["detail"]["bytes_moved"], 0);
    assert_eq!(record["detail"]["already_present"], true);
    assert_eq!(record["digests"]["cli"], fixture.config_digest.as_str());

    let push = Command::new(env!("CARGO_BIN_EXE_forge"))
        .arg("--root")
        .arg(root)
        .args(["push", "cli", "--to", &format!("{registry}/taskflow/cli")])
        .env("FORGE_REGISTRY_USERNAME", support::required_env("FORGE_TEST_REGISTRY_USER"))
        .env("FORGE_REGISTRY_PASSWORD", support::required_env("FORGE_TEST_REGISTRY_PASSWORD"))
        .output()
        .unwrap();
    assert!(push.status.success(), "{}", text(&push));
    let report: serde_json::Value = serde_json::from_slice(&fs::read(root.join("out/cli/forge-report.json")).unwrap()).unwrap();
    assert_eq!(report["pushed"][0]["repository"], format!("{registry}/taskflow/cli").as_str());
    assert_eq!(report["pushed"][0]["digest"], fixture.manifest_digest.as_str());

    let bad = forge(root, &["push", "cli", "--to", "taskflow/cli"]);
    assert!(text(&bad).contains("has no registry host"), "{}", text(&bad));
    let bad = forge(root, &["load", "cli", "--to", "kind"]);
    assert!(text(&bad).contains("unknown destination \"kind\""), "{}", text(&bad));

    let steps: Vec<serde_json::Value> = fs::read_to_string(root.join(".forge/ops.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(names, ["load", "load", "push", "push"]);
    assert_eq!(steps[3]["outcome"], "failed");
    let _ = Command::new("docker").args(["rmi", "-f", &fixture.config_digest]).output();
}

#[test]
#[ignore = "needs helm: run tests/suites/delivery.sh"]
fn chart_requests_of_the_real_chart_fit_the_documented_budget() {
    let helm = support::required_env("HELM");
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("../charts/todo-app");
    let rendered = Command::new(helm)
        .args(["template", "todo"])
        .arg(&chart)
        .arg("-f")
        .arg(chart.join("values-dev.yaml"))
        .output()
        .unwrap();
    assert!(rendered.status.success(), "{}", text(&rendered));
    let needed = forge::deploy::chart_requests(&String::from_utf8_lossy(&rendered.stdout)).unwrap();
    // values-dev.yaml documents 250m CPU / 512Mi of requests; preflight adds one surge pod each.
    assert!(needed.cpu_millis >= 250 && needed.cpu_millis <= 2 * 1000, "{needed:?}");
    assert!(needed.memory_bytes >= 512 << 20 && needed.memory_bytes <= 4 << 30, "{needed:?}");
}
