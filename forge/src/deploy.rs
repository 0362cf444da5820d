//! `forge deploy`: preflight, then build -> gate -> load -> pin -> helm upgrade. Preflight
//! checks everything a deploy needs before anything changes (helm >= 3, a current kube
//! context whose API server answers, for Minikube a running profile, enough free CPU and
//! memory for the chart's requests, the Secret prod needs, a free NodePort) and each failure
//! says what to fix. The pure parts (version parsing, quantities, fit) are functions of
//! command output so they are unit-tested; the commands are run through [`Tools`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

/// A preflight or deploy failure: what is wrong and what to do about it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{check}: {problem}; {fix}")]
pub struct DeployError {
    pub check: String,
    pub problem: String,
    pub fix: String,
}

fn fail(check: &str, problem: impl ToString, fix: impl ToString) -> DeployError {
    DeployError { check: check.to_string(), problem: problem.to_string(), fix: fix.to_string() }
}

/// The external programs deploy drives (overridable with HELM, KUBECTL, MINIKUBE).
#[derive(Debug, Clone)]
pub struct Tools {
    pub helm: String,
    pub kubectl: String,
    pub minikube: String,
    /// `--kubeconfig` for both helm and kubectl (else their defaults: $KUBECONFIG, ~/.kube/config).
    pub kubeconfig: Option<PathBuf>,
}

impl Tools {
    pub fn from_env() -> Tools {
        let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
        Tools { helm: var("HELM", "helm"), kubectl: var("KUBECTL", "kubectl"), minikube: var("MINIKUBE", "minikube"), kubeconfig: None }
    }

    /// Runs `program args`, returning stdout; Err(stderr or spawn error) otherwise.
    pub fn run(&self, program: &str, args: &[&str]) -> Result<String, String> {
        let mut command = Command::new(program);
        if let Some(kc) = &self.kubeconfig {
            if program == self.kubectl || program == self.helm {
                command.arg("--kubeconfig").arg(kc);
            }
        }
        let output = command.args(args).output().map_err(|e| format!("cannot run `{program}`: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!("`{program} {}` failed ({}): {}", args.join(" "), output.status, String::from_utf8_lossy(&output.stderr).trim()))
        }
    }
}

/// Checks `helm version --template {{.Version}}` output is helm 3 or newer.
pub fn check_helm_version(version: &str) -> Result<(), DeployError> {
    let version = version.trim();
    let major = version.trim_start_matches('v').split('.').next().and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(m) if m >= 3 => Ok(()),
        Some(_) => Err(fail("helm", format!("helm {version} is too old"), "install helm 3 or newer (tests/tools/helm.sh builds one)")),
        None => Err(fail("helm", format!("cannot read the helm version from {version:?}"), "install helm 3 or newer, or set HELM to its path")),
    }
}

/// CPU in millicores from a Kubernetes quantity (`250m`, `1`, `0.5`).
pub fn cpu_millis(quantity: &str) -> Option<u64> {
    let q = quantity.trim();
    match q.strip_suffix('m') {
        Some(m) => m.parse().ok(),
        None => q.parse::<f64>().ok().map(|c| (c * 1000.0).round() as u64),
    }
}

/// Memory in bytes from a Kubernetes quantity (`384Mi`, `1Gi`, `512M`, `1000`).
pub fn memory_bytes(quantity: &str) -> Option<u64> {
    let q = quantity.trim();
    const UNITS: [(&str, u64); 8] = [
        ("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("Ti", 1 << 40),
        ("k", 1_000), ("M", 1_000_000), ("G", 1_000_000_000), ("T", 1_000_000_000_000),
    ];
    for (suffix, factor) in UNITS {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<f64>().ok().map(|v| (v * factor as f64) as u64);
        }
    }
    q.parse::<f64>().ok().map(|v| v as u64)
}

/// CPU (millicores) and memory (bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resources {
    pub cpu_millis: u64,
    pub memory_bytes: u64,
}

/// Sums the requests of the workloads in rendered manifests (`helm template` output):
/// containers x replicas for Deployments/StatefulSets, plus a one-pod surge each, as a
/// rolling update needs.
pub fn chart_requests(rendered: &str) -> Result<Resources, DeployError> {
    let docs = YamlLoader::load_from_str(rendered).map_err(|e| fail("chart", format!("rendered manifests are not YAML: {e}"), "run `helm template` on the chart and fix the error"))?;
    let mut total = Resources::default();
    for doc in &docs {
        let kind = doc["kind"].as_str().unwrap_or_default();
        if kind != "Deployment" && kind != "StatefulSet" {
            continue;
        }
        let replicas = doc["spec"]["replicas"].as_i64().unwrap_or(1).max(0) as u64 + 1;
        let containers = doc["spec"]["template"]["spec"]["containers"].as_vec().cloned().unwrap_or_default();
        for c in containers {
            let requests = &c["resources"]["requests"];
            let text = |y: &Yaml| match y {
                Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
                Yaml::Integer(i) => Some(i.to_string()),
                _ => None,
            };
            total.cpu_millis += replicas * text(&requests["cpu"]).and_then(|q| cpu_millis(&q)).unwrap_or(0);
            total.memory_bytes += replicas * text(&requests["memory"]).and_then(|q| memory_bytes(&q)).unwrap_or(0);
        }
    }
    Ok(total)
}

/// Free capacity: allocatable of the nodes (`kubectl get nodes -o json`) minus the requests of
/// pods not in `namespace` that are still running (`kubectl get pods -A -o json`); the
/// release's own pods are replaced by the upgrade, so they do not count against it.
pub fn free_capacity(nodes_json: &str, pods_json: &str, namespace: &str) -> Result<Resources, DeployError> {
    let parse = |t: &str| serde_json::from_str::<Value>(t).map_err(|e| fail("cluster", format!("kubectl printed no JSON: {e}"), "check `kubectl get nodes -o json`"));
    let (nodes, pods) = (parse(nodes_json)?, parse(pods_json)?);
    let mut free = Resources::default();
    for node in nodes["items"].as_array().into_iter().flatten() {
        let a = &node["status"]["allocatable"];
        free.cpu_millis += a["cpu"].as_str().and_then(cpu_millis).unwrap_or(0);
        free.memory_bytes += a["memory"].as_str().and_then(memory_bytes).unwrap_or(0);
    }
    for pod in pods["items"].as_array().into_iter().flatten() {
        let phase = pod["status"]["phase"].as_str().unwrap_or_default();
        if pod["metadata"]["namespace"].as_str() == Some(namespace) || phase == "Succeeded" || phase == "Failed" {
            continue;
        }
        for c in pod["spec"]["containers"].as_array().into_iter().flatten() {
            let r = &c["resources"]["requests"];
            free.cpu_millis = free.cpu_millis.saturating_sub(r["cpu"].as_str().and_then(cpu_millis).unwrap_or(0));
            free.memory_bytes = free.memory_bytes.saturating_sub(r["memory"].as_str().and_then(memory_bytes).unwrap_or(0));
        }
    }
    Ok(free)
}

/// Fails when `needed` does not fit into `free`.
pub fn check_fit(needed: Resources, free: Resources, where_: &str, fix: &str) -> Result<(), DeployError> {
    let mib = |b: u64| b / (1 << 20);
    if needed.cpu_millis > free.cpu_millis || needed.memory_bytes > free.memory_bytes {
        return Err(fail(
            "resources",
            format!(
                "the chart requests {}m CPU / {} MiB (including one surge pod per workload) but {where_} has {}m / {} MiB free",
                needed.cpu_millis, mib(needed.memory_bytes), free.cpu_millis, mib(free.memory_bytes)
            ),
            fix,
        ));
    }
    Ok(())
}

/// Fails when a Service outside the release already holds `node_port`
/// (`kubectl get svc -A -o json`).
pub fn check_node_port(services_json: &str, node_port: u64, release: &str, namespace: &str) -> Result<(), DeployError> {
    let services: Value = serde_json::from_str(services_json).map_err(|e| fail("nodeport", format!("kubectl printed no JSON: {e}"), "check `kubectl get svc -A -o json`"))?;
    for svc in services["items"].as_array().into_iter().flatten() {
        let ours = svc["metadata"]["namespace"].as_str() == Some(namespace)
            && svc["metadata"]["labels"]["app.kubernetes.io/instance"].as_str() == Some(release);
        let holds = svc["spec"]["ports"].as_array().into_iter().flatten().any(|p| p["nodePort"].as_u64() == Some(node_port));
        if holds && !ours {
            let name = format!("{}/{}", svc["metadata"]["namespace"].as_str().unwrap_or("?"), svc["metadata"]["name"].as_str().unwrap_or("?"));
            return Err(fail("nodeport", format!("NodePort {node_port} is taken by Service {name}"), "delete that Service or set frontend.service.nodePort to a free port (30000-32767) in the values file"));
        }
    }
    Ok(())
}

/// Checks a Secret named by `secrets.existingSecret` exists with the keys the chart reads
/// (`kubectl get secret -o json` output, or None when kubectl said NotFound).
pub fn check_secret(secret_json: Option<&str>, name: &str, namespace: &str, required: &[&str]) -> Result<(), DeployError> {
    let create = format!(
        "create it first: kubectl -n {namespace} create secret generic {name} {}",
        required.iter().map(|k| format!("--from-literal={k}={}", secret_placeholder(k))).collect::<Vec<_>>().join(" ")
    );
    let Some(text) = secret_json else {
        return Err(fail("secrets", format!("Secret {namespace}/{name} (secrets.existingSecret) does not exist"), create));
    };
    let secret: Value = serde_json::from_str(text).map_err(|e| fail("secrets", format!("kubectl printed no JSON: {e}"), "check `kubectl get secret`"))?;
    let missing: Vec<&str> = required.iter().copied().filter(|k| secret["data"][*k].as_str().is_none_or(str::is_empty)).collect();
    if !missing.is_empty() {
        return Err(fail("secrets", format!("Secret {namespace}/{name} lacks {}", missing.join(", ")), create));
    }
    Ok(())
}

/// What to put after `--from-literal=KEY=` in the hint: the generator for keys with a fixed
/// format (an AES-256 key, base64), else `...`.
fn secret_placeholder(key: &str) -> &'static str {
    match key {
        "NEXT_SERVER_ACTIONS_ENCRYPTION_KEY" => "\"$(openssl rand -base64 32)\"",
        _ => "...",
    }
}

/// The facts of the values files deploy needs (merged: base values, then each overlay).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployValues {
    pub existing_secret: Option<String>,
    pub postgres_enabled: bool,
    pub node_port: Option<u64>,
    pub namespace: Option<String>,
}

/// Reads the deploy-relevant values from the base values text and the overlays
/// (`(file name, text)`, in helm's `-f` order: a later file wins).
pub fn deploy_values(base: &str, overlays: &[(&str, &str)]) -> Result<DeployValues, DeployError> {
    let load = |t: &str, which: &str| {
        YamlLoader::load_from_str(t)
            .map_err(|e| fail("values", format!("{which} is not valid YAML: {e}"), "fix the values file"))
            .map(|d| d.into_iter().next().unwrap_or(Yaml::Null))
    };
    let mut docs = vec![load(base, "values.yaml")?];
    for (name, text) in overlays {
        docs.push(load(text, name)?);
    }
    let pick = |path: &[&str]| -> Yaml {
        let walk = |doc: &Yaml| path.iter().fold(doc.clone(), |node, key| node[*key].clone());
        docs.iter().rev().map(walk).find(|found| !matches!(found, Yaml::BadValue | Yaml::Null)).unwrap_or(Yaml::Null)
    };
    let text = |path: &[&str]| pick(path).as_str().filter(|s| !s.is_empty()).map(str::to_string);
    let node_port = match pick(&["frontend", "service", "type"]).as_str() {
        Some("NodePort") => pick(&["frontend", "service", "nodePort"]).as_i64().map(|p| p as u64),
        _ => None,
    };
    Ok(DeployValues {
        existing_secret: text(&["secrets", "existingSecret"]),
        postgres_enabled: pick(&["postgres", "enabled"]).as_bool().unwrap_or(false),
        node_port,
        namespace: text(&["namespace", "name"]),
    })
}

/// Keys the chart reads from an existing Secret.
pub fn required_secret_keys(values: &DeployValues) -> Vec<&'static str> {
    let mut keys = vec!["DATABASE_URL", "BETTER_AUTH_SECRET", "NEXT_SERVER_ACTIONS_ENCRYPTION_KEY"];
    if values.postgres_enabled {
        keys.push("POSTGRES_PASSWORD");
    }
    keys
}

/// What preflight learned, for the operations log and the final message.
#[derive(Debug, Clone, Default)]
pub struct Preflight {
    pub context: String,
    pub minikube_profile: Option<String>,
    pub needed: Resources,
    pub free: Resources,
    /// The frontend's public URL as rendered (see [`public_url`]).
    pub public_url: Option<String>,
}

/// Runs every preflight check in order, stopping at the first failure.
pub fn preflight(tools: &Tools, chart: &std::path::Path, values_files: &[PathBuf], values: &DeployValues, release: &str, namespace: &str) -> Result<Preflight, DeployError> {
    let helm_version = tools
        .run(&tools.helm, &["version", "--template", "{{.Version}}"])
        .map_err(|e| fail("helm", e, "install helm 3 or newer, or set HELM to its path"))?;
    check_helm_version(&helm_version)?;
    tools.run(&tools.kubectl, &["version", "--client"]).map_err(|e| fail("kubectl", e, "install kubectl, or set KUBECTL to its path"))?;
    let context = tools
        .run(&tools.kubectl, &["config", "current-context"])
        .map_err(|e| fail("context", e, "select a cluster: `kubectl config use-context NAME` (or `minikube start`)"))?
        .trim()
        .to_string();
    tools.run(&tools.kubectl, &["--request-timeout=10s", "get", "--raw", "/readyz"]).map_err(|e| {
        let kubeconfig = tools.kubeconfig.as_ref().map(|k| format!(" ({})", k.display())).unwrap_or_default();
        fail("cluster", format!("the API server of context {context:?} does not answer: {e}"), format!("start the cluster (`minikube start`, or the lab's `make lab-up`) or fix the kubeconfig{kubeconfig}"))
    })?;
    let mut report = Preflight { context: context.clone(), ..Preflight::default() };
    let mut template_args = vec!["template".to_string(), release.to_string(), chart.display().to_string(), "--namespace".into(), namespace.to_string()];
    for f in values_files {
        template_args.extend(["-f".to_string(), f.display().to_string()]);
    }
    let rendered = tools
        .run(&tools.helm, &template_args.iter().map(String::as_str).collect::<Vec<_>>())
        .map_err(|e| fail("chart", e, "fix the chart or the values file helm names"))?;
    report.needed = chart_requests(&rendered)?;
    report.public_url = public_url(&rendered);
    if is_minikube_context(tools, &context) {
        let status = tools.run(&tools.minikube, &["-p", &context, "status", "-o", "json"]).map_err(|e| fail("minikube", e, format!("start it: `minikube start -p {context}`")))?;
        check_minikube_status(&status, &context)?;
        report.minikube_profile = Some(context.clone());
    }
    let nodes = tools.run(&tools.kubectl, &["get", "nodes", "-o", "json"]).map_err(|e| fail("cluster", e, "check the kubeconfig's permissions"))?;
    let pods = tools.run(&tools.kubectl, &["get", "pods", "-A", "-o", "json"]).map_err(|e| fail("cluster", e, "check the kubeconfig's permissions"))?;
    report.free = free_capacity(&nodes, &pods, namespace)?;
    let fix = if report.minikube_profile.is_some() { "give minikube more: `minikube start --cpus N --memory M` (recreate the profile), or lower the requests in the values file" } else { "add capacity or lower the requests in the values file" };
    check_fit(report.needed, report.free, &format!("context {context:?}"), fix)?;
    if let Some(secret) = &values.existing_secret {
        let found = match tools.run(&tools.kubectl, &["-n", namespace, "get", "secret", secret, "-o", "json"]) {
            Ok(json) => Some(json),
            Err(e) if e.contains("NotFound") || e.contains("not found") => None,
            Err(e) => return Err(fail("secrets", e, "check the kubeconfig's permissions")),
        };
        check_secret(found.as_deref(), secret, namespace, &required_secret_keys(values))?;
    }
    if let Some(port) = values.node_port {
        let services = tools.run(&tools.kubectl, &["get", "svc", "-A", "-o", "json"]).map_err(|e| fail("nodeport", e, "check the kubeconfig's permissions"))?;
        check_node_port(&services, port, release, namespace)?;
    }
    Ok(report)
}

fn is_minikube_context(tools: &Tools, context: &str) -> bool {
    tools
        .run(&tools.minikube, &crate::publish::minikube::args::profile_list().iter().map(String::as_str).collect::<Vec<_>>())
        .ok()
        .and_then(|listing| crate::publish::minikube::parse_profile_list(&listing).ok())
        .is_some_and(|profiles| profiles.iter().any(|p| p.name == context))
}

/// `minikube status -o json`: Host, Kubelet and APIServer must be Running.
pub fn check_minikube_status(status_json: &str, profile: &str) -> Result<(), DeployError> {
    let status: Value = serde_json::from_str(status_json).map_err(|e| fail("minikube", format!("`minikube status -o json` printed no JSON: {e}"), "run `minikube status` yourself"))?;
    let stopped: Vec<String> = ["Host", "Kubelet", "APIServer"]
        .iter()
        .filter(|k| status[**k].as_str() != Some("Running"))
        .map(|k| format!("{k}={}", status[*k].as_str().unwrap_or("missing")))
        .collect();
    if stopped.is_empty() {
        Ok(())
    } else {
        Err(fail("minikube", format!("profile {profile} is not running ({})", stopped.join(", ")), format!("start it: `minikube start -p {profile}`")))
    }
}

/// The frontend's public URL as the chart resolves it: `BETTER_AUTH_URL` of the frontend's
/// ConfigMap in rendered manifests (`helm template` output). Better Auth accepts sign-ins
/// only from this origin (and `frontend.trustedOrigins`), so it is the URL to open.
pub fn public_url(rendered: &str) -> Option<String> {
    let docs = YamlLoader::load_from_str(rendered).ok()?;
    docs.iter()
        .find(|d| d["kind"].as_str() == Some("ConfigMap") && d["metadata"]["labels"]["app.kubernetes.io/component"].as_str() == Some("frontend"))
        .and_then(|d| d["data"]["BETTER_AUTH_URL"].as_str())
        .filter(|url| !url.is_empty())
        .map(str::to_string)
}

/// How to open the app: the frontend's public URL; on Minikube the profile's address, with
/// what to set when sign-in would refuse that origin.
pub fn open_hint(tools: &Tools, values: &DeployValues, minikube_profile: Option<&str>, public_url: Option<&str>) -> String {
    if let (Some(port), Some(profile)) = (values.node_port, minikube_profile) {
        let url = match tools.run(&tools.minikube, &["-p", profile, "ip"]) {
            Ok(ip) => format!("http://{}:{port}", ip.trim()),
            Err(_) => format!("http://$(minikube -p {profile} ip):{port}"),
        };
        return match public_url {
            Some(public) if public != url => format!("open {url}/ (minikube profile {profile}); sign-in accepts only {public}: set frontend.publicUrl to {url} or add it to frontend.trustedOrigins"),
            _ => format!("open {url}/ (minikube profile {profile})"),
        };
    }
    match public_url {
        Some(url) => format!("open {url}/ (frontend.publicUrl: the origin sign-in accepts)"),
        None => "the chart renders no frontend URL: `kubectl port-forward svc/<release>-todo-app-frontend 3000`, then open http://localhost:3000/".into(),
    }
}

/// Helm arguments of the final step.
pub fn helm_upgrade_args(release: &str, chart: &str, namespace: &str, values_files: &[String]) -> Vec<String> {
    let mut args: Vec<String> = ["upgrade", "--install", release, chart, "--namespace", namespace, "--create-namespace", "--atomic", "--wait", "--timeout", "5m"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for f in values_files {
        args.extend(["-f".to_string(), f.clone()]);
    }
    args
}

/// Map of image -> digest from pins, for the operations log.
pub fn digests_of(pins: &[crate::pin::Pin]) -> BTreeMap<String, String> {
    pins.iter().map(|p| (p.component.clone(), p.digest.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_version_gate() {
        assert!(check_helm_version("v3.22.0").is_ok());
        assert!(check_helm_version("v4.0.1\n").is_ok());
        let err = check_helm_version("v2.17.0").unwrap_err().to_string();
        assert!(err.contains("helm v2.17.0 is too old") && err.contains("install helm 3"), "{err}");
        assert!(check_helm_version("garbage").is_err());
    }

    #[test]
    fn quantities() {
        assert_eq!(cpu_millis("250m"), Some(250));
        assert_eq!(cpu_millis("1"), Some(1000));
        assert_eq!(cpu_millis("0.5"), Some(500));
        assert_eq!(memory_bytes("384Mi"), Some(384 << 20));
        assert_eq!(memory_bytes("1Gi"), Some(1 << 30));
        assert_eq!(memory_bytes("512M"), Some(512_000_000));
        assert_eq!(memory_bytes("1000"), Some(1000));
        assert_eq!(memory_bytes("16318888Ki"), Some(16318888 << 10));
    }

    const RENDERED: &str = "---\nkind: Service\nmetadata: {name: x}\n---\nkind: Deployment\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n        - name: backend\n          resources:\n            requests: {cpu: 50m, memory: 160Mi}\n---\nkind: StatefulSet\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n        - name: pg\n          resources:\n            requests: {cpu: \"0.1\", memory: 160Mi}\n";

    #[test]
    fn chart_requests_include_a_surge_pod() {
        let r = chart_requests(RENDERED).unwrap();
        assert_eq!(r, Resources { cpu_millis: 2 * 50 + 2 * 100, memory_bytes: 4 * (160 << 20) });
    }

    #[test]
    fn fit_against_free_capacity() {
        let nodes = r#"{"items":[{"status":{"allocatable":{"cpu":"2","memory":"4Gi"}}}]}"#;
        let pods = r#"{"items":[
            {"metadata":{"namespace":"kube-system"},"status":{"phase":"Running"},"spec":{"containers":[{"resources":{"requests":{"cpu":"750m","memory":"1Gi"}}}]}},
            {"metadata":{"namespace":"taskflow"},"status":{"phase":"Running"},"spec":{"containers":[{"resources":{"requests":{"cpu":"1","memory":"1Gi"}}}]}},
            {"metadata":{"namespace":"jobs"},"status":{"phase":"Succeeded"},"spec":{"containers":[{"resources":{"requests":{"cpu":"1","memory":"1Gi"}}}]}}]}"#;
        let free = free_capacity(nodes, pods, "taskflow").unwrap();
        assert_eq!(free, Resources { cpu_millis: 1250, memory_bytes: 3 << 30 });
        assert!(check_fit(Resources { cpu_millis: 300, memory_bytes: 640 << 20 }, free, "minikube", "x").is_ok());
        let err = check_fit(Resources { cpu_millis: 1500, memory_bytes: 1 << 20 }, free, "context \"minikube\"", "give minikube more").unwrap_err().to_string();
        assert!(err.contains("requests 1500m CPU") && err.contains("has 1250m / 3072 MiB free") && err.contains("give minikube more"), "{err}");
    }

    #[test]
    fn node_port_taken_by_another_service() {
        let svcs = r#"{"items":[
            {"metadata":{"namespace":"taskflow","name":"todo-frontend","labels":{"app.kubernetes.io/instance":"todo"}},"spec":{"ports":[{"nodePort":30080}]}},
            {"metadata":{"namespace":"other","name":"grafana"},"spec":{"ports":[{"nodePort":30081}]}}]}"#;
        assert!(check_node_port(svcs, 30080, "todo", "taskflow").is_ok());
        let err = check_node_port(svcs, 30081, "todo", "taskflow").unwrap_err().to_string();
        assert!(err.contains("NodePort 30081 is taken by Service other/grafana") && err.contains("frontend.service.nodePort"), "{err}");
    }

    #[test]
    fn missing_secret_says_how_to_create_it() {
        let err = check_secret(None, "taskflow-secrets", "taskflow", &["DATABASE_URL", "BETTER_AUTH_SECRET"]).unwrap_err().to_string();
        assert!(err.contains("Secret taskflow/taskflow-secrets (secrets.existingSecret) does not exist"), "{err}");
        assert!(err.contains("kubectl -n taskflow create secret generic taskflow-secrets --from-literal=DATABASE_URL=... --from-literal=BETTER_AUTH_SECRET=..."), "{err}");
        let partial = r#"{"data":{"DATABASE_URL":"cG9zdGdyZXM="}}"#;
        let err = check_secret(Some(partial), "s", "n", &["DATABASE_URL", "BETTER_AUTH_SECRET"]).unwrap_err().to_string();
        assert!(err.contains("Secret n/s lacks BETTER_AUTH_SECRET"), "{err}");
        let err = check_secret(None, "s", "n", &["NEXT_SERVER_ACTIONS_ENCRYPTION_KEY"]).unwrap_err().to_string();
        assert!(err.contains(r#"--from-literal=NEXT_SERVER_ACTIONS_ENCRYPTION_KEY="$(openssl rand -base64 32)""#), "{err}");
    }

    #[test]
    fn minikube_status() {
        assert!(check_minikube_status(r#"{"Name":"minikube","Host":"Running","Kubelet":"Running","APIServer":"Running","Kubeconfig":"Configured"}"#, "minikube").is_ok());
        let err = check_minikube_status(r#"{"Name":"minikube","Host":"Stopped","Kubelet":"Stopped","APIServer":"Stopped","Kubeconfig":"Stopped"}"#, "minikube").unwrap_err().to_string();
        assert!(err.contains("profile minikube is not running (Host=Stopped, Kubelet=Stopped, APIServer=Stopped)") && err.contains("minikube start -p minikube"), "{err}");
    }

    #[test]
    fn values_merge_env_over_base() {
        let base = "secrets: {existingSecret: \"\"}\npostgres: {enabled: false}\nfrontend: {service: {type: ClusterIP, nodePort: 30080}}\n";
        let dev = "postgres:\n  enabled: true\nfrontend:\n  service:\n    type: NodePort\n    nodePort: 30080\n";
        let prod = "secrets:\n  existingSecret: taskflow-secrets\n";
        assert_eq!(deploy_values(base, &[("values-dev.yaml", dev)]).unwrap(), DeployValues { existing_secret: None, postgres_enabled: true, node_port: Some(30080), namespace: None });
        let p = deploy_values(base, &[("values-prod.yaml", prod)]).unwrap();
        assert_eq!((p.existing_secret.as_deref(), p.node_port), (Some("taskflow-secrets"), None));
        assert_eq!(required_secret_keys(&p), ["DATABASE_URL", "BETTER_AUTH_SECRET", "NEXT_SERVER_ACTIONS_ENCRYPTION_KEY"]);
        // A later overlay wins, as with helm's repeated -f.
        let local = "secrets:\n  existingSecret: local-secrets\nfrontend:\n  service:\n    nodePort: 30090\n";
        let l = deploy_values(base, &[("values-dev.yaml", dev), ("local.yaml", local)]).unwrap();
        assert_eq!((l.existing_secret.as_deref(), l.node_port, l.postgres_enabled), (Some("local-secrets"), Some(30090), true));
        let err = deploy_values(base, &[("values-dev.yaml", dev), ("local.yaml", "a: [")]).unwrap_err().to_string();
        assert!(err.contains("local.yaml is not valid YAML"), "{err}");
    }

    #[test]
    fn public_url_is_the_frontend_configmaps_better_auth_url() {
        let rendered = "---\nkind: ConfigMap\nmetadata:\n  labels: {app.kubernetes.io/component: backend}\ndata:\n  BETTER_AUTH_URL: \"http://todo-frontend:3000\"\n---\nkind: ConfigMap\nmetadata:\n  labels: {app.kubernetes.io/component: frontend}\ndata:\n  BETTER_AUTH_URL: \"http://localhost:30080\"\n";
        assert_eq!(public_url(rendered).as_deref(), Some("http://localhost:30080"));
        assert_eq!(public_url("kind: Service\n"), None);
        let tools = Tools { minikube: "/nonexistent/minikube".into(), ..Tools::from_env() };
        let values = DeployValues { node_port: Some(30080), ..DeployValues::default() };
        assert_eq!(open_hint(&tools, &values, None, Some("http://localhost:30080")), "open http://localhost:30080/ (frontend.publicUrl: the origin sign-in accepts)");
        let hint = open_hint(&tools, &values, Some("minikube"), Some("http://localhost:30080"));
        assert!(hint.contains("open http://$(minikube -p minikube ip):30080/") && hint.contains("sign-in accepts only http://localhost:30080"), "{hint}");
    }

    #[test]
    fn helm_command_line() {
        let args = helm_upgrade_args("todo", "charts/todo-app", "taskflow", &["charts/todo-app/values-dev.yaml".into()]);
        assert_eq!(args.join(" "), "upgrade --install todo charts/todo-app --namespace taskflow --create-namespace --atomic --wait --timeout 5m -f charts/todo-app/values-dev.yaml");
    }
}
