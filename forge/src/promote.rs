//! `forge promote --from dev --to prod`: carry the digests that ran in one environment into the
//! next one's values file, but only for images whose gate passed. For each component the
//! source values file must pin exactly the digest of the current build (what was tried is what
//! is promoted), `out/<name>/forge-report.json` must say scan `passed` (and policy `passed`
//! when a policy verdict is recorded) with no accepted-risk exception past its date, and the
//! image must have been pushed to a registry: prod refers to that registry repository.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::pin::{self, Pin};

/// A component that will not be promoted, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub component: String,
    pub reason: String,
}

/// What a promotion decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub pins: Vec<Pin>,
    pub refusals: Vec<Refusal>,
}

/// Decides, per component, whether it may move from `from_values` to the next environment.
/// `today` is `YYYY-MM-DD` (UTC), compared against exception expiry dates.
pub fn plan(out_dir: &Path, from_values: &Path, components: &[String], today: &str) -> Result<Plan, pin::PinError> {
    let text = std::fs::read_to_string(from_values).map_err(|source| pin::PinError::Io { file: from_values.to_path_buf(), source })?;
    let mut plan = Plan::default();
    for component in components {
        let (_, tried_digest) = pin::current_image(from_values, &text, component)?;
        match judge(out_dir, component, &tried_digest, from_values, today) {
            Ok(pin) => plan.pins.push(pin),
            Err(reason) => plan.refusals.push(Refusal { component: component.clone(), reason }),
        }
    }
    Ok(plan)
}

fn judge(out_dir: &Path, name: &str, tried_digest: &str, from_values: &Path, today: &str) -> Result<Pin, String> {
    let report_path: PathBuf = out_dir.join(name).join("forge-report.json");
    let text = std::fs::read_to_string(&report_path)
        .map_err(|e| format!("{}: {e}; run `forge build {name}` (and scan it)", report_path.display()))?;
    let report: Value = serde_json::from_str(&text).map_err(|e| format!("{}: not valid JSON ({e}); rebuild with `forge build {name}`", report_path.display()))?;
    let digest = report["digest"].as_str().ok_or_else(|| format!("{}: no digest; rebuild with `forge build {name}`", report_path.display()))?;
    if tried_digest != digest {
        let shown = if tried_digest.is_empty() { "no digest" } else { tried_digest };
        return Err(format!(
            "{} pins {shown} but the current build is {digest}; deploy and try the current build first (`forge pin`, `forge deploy`)",
            from_values.display()
        ));
    }
    match report["scan"]["verdict"].as_str() {
        Some("passed") => {}
        Some("failed") => {
            let why = report["scan"]["reason"].as_str().unwrap_or("see `forge scan`");
            return Err(format!("scan verdict failed ({why}); fix the findings and rebuild"));
        }
        Some(other) => {
            let why = report["scan"]["reason"].as_str().map(|r| format!(": {r}")).unwrap_or_default();
            return Err(format!("scan verdict {other}{why}; run `forge scan {name}` with a current vulnerability database"));
        }
        None => return Err(format!("never scanned (no scan verdict in {}); run `forge scan {name}`", report_path.display())),
    }
    if let Some(verdict) = report["policy"]["verdict"].as_str() {
        if verdict != "passed" {
            return Err(format!("policy verdict {verdict}; see `forge verify {name}`"));
        }
    }
    if let Some(expired) = expired_exception(&report["scan"]["excepted"], today) {
        return Err(format!("the accepted risk {expired} has expired; fix it or renew the exception, then rescan"));
    }
    let repository = report["pushed"]
        .as_array()
        .and_then(|pushed| pushed.iter().rev().find(|p| p["digest"].as_str() == Some(digest)))
        .and_then(|p| p["repository"].as_str())
        .ok_or_else(|| format!("{digest} was never pushed to a registry; run `forge push {name} --to REGISTRY/REPOSITORY`"))?;
    Ok(Pin { component: name.to_string(), repository: repository.to_string(), digest: digest.to_string() })
}

/// The first accepted-risk entry (`"CVE-... in pkg (until YYYY-MM-DD)"`) whose date is before
/// `today`.
fn expired_exception(excepted: &Value, today: &str) -> Option<String> {
    excepted.as_array()?.iter().filter_map(Value::as_str).find_map(|entry| {
        let until = entry.rsplit_once("(until ")?.1.trim_end_matches(')');
        (until < today).then(|| entry.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DEV: &str = "backend:\n  image:\n    repository: forge.local/backend\n    digest: \"sha256:b1\"\nfrontend:\n  image: {repository: forge.local/frontend, digest: 'sha256:f1'}\npostgres:\n  image:\n    repository: forge.local/postgres\n    digest: \"sha256:p1\"\nextra:\n  image:\n    repository: forge.local/extra\n    digest: sha256:e1\n";

    fn report(out: &Path, name: &str, report: Value) {
        std::fs::create_dir_all(out.join(name)).unwrap();
        std::fs::write(out.join(name).join("forge-report.json"), serde_json::to_vec(&report).unwrap()).unwrap();
    }

    #[test]
    fn promotes_passed_and_refuses_the_rest_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let dev = dir.path().join("values-dev.yaml");
        std::fs::write(&dev, DEV).unwrap();
        let pushed = |d: &str, repo: &str| json!([{"repository": "old/x", "digest": "sha256:old"}, {"repository": repo, "digest": d}]);
        report(&out, "backend", json!({"digest": "sha256:b1", "scan": {"verdict": "passed", "excepted": ["CVE-1 in zlib (until 2099-01-01)"]}, "pushed": pushed("sha256:b1", "127.0.0.1:5000/taskflow/backend")}));
        report(&out, "frontend", json!({"digest": "sha256:f1", "scan": {"verdict": "unscanned", "reason": "trivy not found"}, "pushed": pushed("sha256:f1", "r/f")}));
        report(&out, "postgres", json!({"digest": "sha256:p1", "scan": {"verdict": "failed", "reason": "2 policy violation(s)"}}));
        report(&out, "extra", json!({"digest": "sha256:e1", "scan": {"verdict": "passed", "excepted": ["CVE-9 in glibc (until 2020-01-01)"]}, "pushed": pushed("sha256:e1", "r/e")}));
        let components: Vec<String> = ["backend", "frontend", "postgres", "extra"].map(String::from).to_vec();
        let plan = plan(&out, &dev, &components, "2026-11-29").unwrap();
        assert_eq!(plan.pins, vec![Pin { component: "backend".into(), repository: "127.0.0.1:5000/taskflow/backend".into(), digest: "sha256:b1".into() }]);
        let refused: Vec<(&str, &str)> = plan.refusals.iter().map(|r| (r.component.as_str(), r.reason.as_str())).collect();
        assert_eq!(refused.len(), 3);
        assert!(refused[0].0 == "frontend" && refused[0].1.contains("scan verdict unscanned: trivy not found"), "{refused:?}");
        assert!(refused[1].0 == "postgres" && refused[1].1.contains("scan verdict failed (2 policy violation(s))"), "{refused:?}");
        assert!(refused[2].0 == "extra" && refused[2].1.contains("CVE-9 in glibc (until 2020-01-01) has expired"), "{refused:?}");
    }

    #[test]
    fn refuses_never_scanned_unpushed_and_stale_dev_pins() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let dev = dir.path().join("values-dev.yaml");
        std::fs::write(&dev, DEV).unwrap();
        report(&out, "backend", json!({"digest": "sha256:b1"}));
        report(&out, "frontend", json!({"digest": "sha256:f1", "scan": {"verdict": "passed"}}));
        report(&out, "postgres", json!({"digest": "sha256:p2", "scan": {"verdict": "passed"}}));
        let components: Vec<String> = ["backend", "frontend", "postgres", "extra"].map(String::from).to_vec();
        let plan = plan(&out, &dev, &components, "2026-11-29").unwrap();
        assert!(plan.pins.is_empty());
        let reasons: Vec<&str> = plan.refusals.iter().map(|r| r.reason.as_str()).collect();
        assert!(reasons[0].contains("never scanned") && reasons[0].contains("forge scan backend"), "{reasons:?}");
        assert!(reasons[1].contains("never pushed") && reasons[1].contains("forge push frontend --to"), "{reasons:?}");
        assert!(reasons[2].contains("pins sha256:p1 but the current build is sha256:p2"), "{reasons:?}");
        assert!(reasons[3].contains("forge-report.json") && reasons[3].contains("forge build extra"), "{reasons:?}");
    }
}
