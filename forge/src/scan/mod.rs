//! The Trivy gate: scan a built image with the real `trivy`, check the report is about that
//! image, apply `policies/vulnerabilities.toml`, and produce a verdict.
//!
//! Modes (`--scan=`): `required` fails closed when the scan cannot run (no trivy, no DB, a DB
//! older than the policy allows, a crash, a malformed report); `auto` scans when trivy and its
//! DB are usable and otherwise records `unscanned` with a warning (a crash or a malformed report
//! still fails: the scanner was there and misbehaved); `skip` records `unscanned`. A `failed`
//! verdict fails in every mode.

pub mod output;
pub mod policy;
pub mod report;
pub mod trivy;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use policy::VulnPolicy;
use report::{Expected, TrivyReport};
use trivy::{TrivyConfig, TrivyError};

/// File names the gate writes into `out/<name>/`.
pub const REPORT_FILE: &str = "trivy-report.json";
pub const SARIF_FILE: &str = "scan.sarif";

/// `--scan=` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Required,
    Auto,
    Skip,
}

/// The gate's verdict as recorded in the build report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Passed,
    Failed,
    Unscanned,
}

/// `scan` field of `out/<name>/forge-report.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanRecord {
    pub verdict: Verdict,
    pub mode: Mode,
    /// e.g. `trivy 0.74.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_updated_at: Option<String>,
    /// Findings per severity.
    #[serde(default)]
    pub counts: BTreeMap<String, u64>,
    /// Gating findings let through by an exception: `ID in PACKAGE (until DATE)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excepted: Vec<String>,
    /// Why the verdict is not `passed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Errors that stop the gate (the caller fails the command).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{0}")]
    Trivy(#[from] TrivyError),
    #[error("{0}")]
    Report(#[from] report::ReportError),
    #[error("image directory {0} contains '@', which trivy's --input reads as a digest separator; move the project to a path without '@'")]
    AtInPath(String),
    #[error("cannot write scan output {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

/// The image to scan.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub name: &'a str,
    /// `out/<name>` (OCI layout).
    pub layout: &'a Path,
    pub digest: &'a str,
    pub config_digest: &'a str,
}

/// Everything a gate run produced.
#[derive(Debug)]
pub struct Outcome {
    pub record: ScanRecord,
    /// Reasons the gate failed (empty unless the verdict is `failed`).
    pub failures: Vec<String>,
    /// Loud warnings (e.g. `unscanned` in auto mode).
    pub warnings: Vec<String>,
    /// The human table (empty when unscanned).
    pub table: String,
    /// Raw Trivy JSON and SARIF, when scanned.
    pub trivy_json: Option<Vec<u8>>,
    pub sarif: Option<serde_json::Value>,
    /// Time spent inside the trivy process.
    pub trivy_time: Duration,
}

impl Outcome {
    fn unscanned(mode: Mode, reason: String, warn: bool) -> Outcome {
        Outcome {
            record: ScanRecord { verdict: Verdict::Unscanned, mode, scanner: None, db_updated_at: None, counts: BTreeMap::new(), excepted: vec![], reason: Some(reason.clone()) },
            failures: vec![],
            warnings: if warn { vec![format!("image NOT SCANNED: {reason}")] } else { vec![] },
            table: String::new(),
            trivy_json: None,
            sarif: None,
            trivy_time: Duration::ZERO,
        }
    }
}

/// Runs the gate on `target` in `mode`.
pub fn gate(target: &Target, mode: Mode, trivy: &TrivyConfig, policy: &VulnPolicy, now: OffsetDateTime) -> Result<Outcome, ScanError> {
    if mode == Mode::Skip {
        return Ok(Outcome::unscanned(mode, "scan skipped (--scan=skip)".into(), false));
    }
    let prepared = trivy.locate().and_then(|bin| trivy.check_db(policy.max_db_age_days, now).map(|db| (bin, db)));
    let (binary, db) = match prepared {
        Ok(found) => found,
        Err(e) if mode == Mode::Auto => return Ok(Outcome::unscanned(mode, e.to_string(), true)),
        Err(e) => return Err(e.into()),
    };
    let layout = target.layout.display().to_string();
    if layout.contains('@') {
        return Err(ScanError::AtInPath(layout));
    }
    let input = format!("{layout}@{}", target.digest);
    let run = trivy.scan(&binary, &input)?;
    let expected = Expected { artifact_name: &input, digest: target.digest, config_digest: target.config_digest };
    let report = TrivyReport::parse(&format!("from `trivy image --input {input}`"), &run.report, &expected)?;
    let scanner = match &report.trivy {
        Some(v) => format!("trivy {}", v.version),
        None => format!("trivy {}", TrivyConfig::version(&binary)?),
    };

    let findings: Vec<report::Vulnerability> = report.vulnerabilities().cloned().collect();
    let evaluation = policy.evaluate(&findings, now.date());
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for v in &findings {
        *counts.entry(v.severity.clone()).or_default() += 1;
    }
    let excepted_ids: Vec<&str> = evaluation.excepted.iter().map(|(v, _)| v.id.as_str()).collect();
    let table = output::table(&findings, &excepted_ids);
    let sarif = output::sarif(target.name, target.digest, &scanner, &findings, &policy.fail_on);
    let failures = evaluation.failures.clone();
    let verdict = if failures.is_empty() { Verdict::Passed } else { Verdict::Failed };
    let record = ScanRecord {
        verdict,
        mode,
        scanner: Some(scanner),
        db_updated_at: db.map(|d| d.updated_at),
        counts,
        excepted: evaluation.excepted.iter().map(|(v, e)| format!("{} in {} (until {})", v.id, v.pkg_name, e.expires)).collect(),
        reason: (!failures.is_empty()).then(|| format!("{} policy violation(s) under {}", failures.len(), policy.path)),
    };
    Ok(Outcome { record, failures, warnings: vec![], table, trivy_json: Some(run.report), sarif: Some(sarif), trivy_time: run.elapsed })
}

/// Writes the raw report and SARIF of a scanned outcome into `out/<name>/`.
pub fn write_outputs(layout: &Path, outcome: &Outcome) -> Result<(), ScanError> {
    let write = |file: &str, bytes: &[u8]| {
        let path = layout.join(file);
        crate::sbom::write(&path, bytes).map_err(|source| ScanError::Write { path: path.display().to_string(), source })
    };
    if let Some(json) = &outcome.trivy_json {
        write(REPORT_FILE, json)?;
    }
    if let Some(sarif) = &outcome.sarif {
        let mut bytes = serde_json::to_vec_pretty(sarif).expect("sarif serialises");
        bytes.push(b'\n');
        write(SARIF_FILE, &bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_without_trivy_records_unscanned_and_warns_required_fails_closed() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target { name: "t", layout: dir.path(), digest: "sha256:aa", config_digest: "sha256:cc" };
        let trivy = TrivyConfig {
            binary: Some(dir.path().join("no-trivy")),
            cache_dir: dir.path().into(),
            db_repository: None,
            timeout: Duration::from_secs(1),
        };
        let policy = VulnPolicy::default();
        let now = OffsetDateTime::now_utc();
        let auto = gate(&target, Mode::Auto, &trivy, &policy, now).unwrap();
        assert_eq!(auto.record.verdict, Verdict::Unscanned);
        assert!(auto.warnings[0].contains("NOT SCANNED") && auto.warnings[0].contains("tests/tools/trivy.sh"), "{:?}", auto.warnings);
        let err = gate(&target, Mode::Required, &trivy, &policy, now).unwrap_err();
        assert!(err.to_string().contains("trivy not found"), "{err}");
        let skip = gate(&target, Mode::Skip, &trivy, &policy, now).unwrap();
        assert_eq!((skip.record.verdict, skip.warnings.len()), (Verdict::Unscanned, 0));
        let json = serde_json::to_value(&skip.record).unwrap();
        assert_eq!(json["verdict"], "unscanned");
        assert_eq!(json["mode"], "skip");
    }
}
