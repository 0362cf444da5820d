//! The operations log: every delivery step (load, push, pin, promote, deploy stages) appended
//! as one JSON line to `.forge/ops.jsonl` with start, end, duration, outcome and the digests it
//! touched, for later analysis (`jq`, a spreadsheet). `--json` prints the same lines on stdout.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// One line of the log.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Record {
    /// Step name, e.g. `load`, `push`, `deploy.preflight`, `deploy.helm`.
    pub step: String,
    /// What the step worked on (image name, values file, release).
    pub subject: String,
    /// RFC 3339 UTC.
    pub started_at: String,
    pub ended_at: String,
    pub duration_ms: u64,
    /// `ok` or `failed`.
    pub outcome: String,
    /// The error message when failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Image name -> digest for the images the step handled.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub digests: BTreeMap<String, String>,
    /// Step-specific facts (bytes moved, destination, changed keys...).
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
}

/// Appends records to `<root>/.forge/ops.jsonl` and optionally echoes them.
#[derive(Debug, Clone)]
pub struct OpsLog {
    pub path: PathBuf,
    pub echo_json: bool,
}

/// What a successful step reports into its record.
#[derive(Debug, Clone, Default)]
pub struct StepReport {
    pub digests: BTreeMap<String, String>,
    pub detail: serde_json::Value,
}

impl OpsLog {
    /// The log of the project at `root`.
    pub fn new(root: &Path, echo_json: bool) -> OpsLog {
        OpsLog { path: root.join(".forge").join("ops.jsonl"), echo_json }
    }

    /// Runs `work` as step `step` on `subject`, recording it whether it succeeds or fails.
    /// A log that cannot be written is reported on stderr but never fails the step itself.
    pub fn step<T, E: std::fmt::Display>(
        &self,
        step: &str,
        subject: &str,
        work: impl FnOnce() -> Result<(T, StepReport), E>,
    ) -> Result<T, E> {
        let started_at = SystemTime::now();
        let clock = Instant::now();
        let result = work();
        let (outcome, error, report) = match &result {
            Ok((_, report)) => ("ok", None, report.clone()),
            Err(e) => ("failed", Some(e.to_string()), StepReport::default()),
        };
        let record = Record {
            step: step.to_string(),
            subject: subject.to_string(),
            started_at: rfc3339(started_at),
            ended_at: rfc3339(SystemTime::now()),
            duration_ms: clock.elapsed().as_millis() as u64,
            outcome: outcome.to_string(),
            error,
            digests: report.digests,
            detail: report.detail,
        };
        if let Err(e) = self.append(&record) {
            eprintln!("forge: warning: cannot append to {}: {e}", self.path.display());
        }
        result.map(|(value, _)| value)
    }

    /// Appends one record (a single write of one line, so concurrent appenders interleave
    /// whole lines).
    pub fn append(&self, record: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record).expect("a Record always serialises");
        line.push(b'\n');
        if self.echo_json {
            std::io::stdout().write_all(&line)?;
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        OpenOptions::new().create(true).append(true).open(&self.path)?.write_all(&line)
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for a point in time.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, since.subsec_millis())
}

/// Today's UTC date as `YYYY-MM-DD`.
pub fn today() -> String {
    rfc3339(SystemTime::now())[..10].to_string()
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_millis(1_796_000_000_123)), "2026-11-30T00:53:20.123Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn records_success_and_failure_as_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = OpsLog::new(dir.path(), false);
        let ok: Result<u32, String> = log.step("load", "backend", || {
            let mut report = StepReport::default();
            report.digests.insert("backend".into(), "sha256:ab".into());
            report.detail = serde_json::json!({"bytes_moved": 0});
            Ok((7, report))
        });
        assert_eq!(ok, Ok(7));
        let failed: Result<(), String> = log.step("push", "backend", || Err("registry 127.0.0.1:1 refused".to_string()));
        assert!(failed.is_err());
        let text = std::fs::read_to_string(dir.path().join(".forge/ops.jsonl")).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["step"], "load");
        assert_eq!(lines[0]["outcome"], "ok");
        assert_eq!(lines[0]["digests"]["backend"], "sha256:ab");
        assert_eq!(lines[0]["detail"]["bytes_moved"], 0);
        assert!(lines[0]["duration_ms"].is_u64());
        assert_eq!(lines[1]["outcome"], "failed");
        assert_eq!(lines[1]["error"], "registry 127.0.0.1:1 refused");
    }
}
