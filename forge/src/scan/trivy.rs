//! Running the real `trivy` binary offline against an image in an OCI layout.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use time::OffsetDateTime;

/// How to find and run Trivy.
#[derive(Debug, Clone)]
pub struct TrivyConfig {
    /// Explicit binary (`--trivy` / `FORGE_TRIVY`); else `trivy` on PATH.
    pub binary: Option<PathBuf>,
    /// Trivy cache dir holding `db/trivy.db` + `db/metadata.json` (`--cache-dir` /
    /// `FORGE_TRIVY_CACHE`, default `$FORGE_CACHE/trivy`).
    pub cache_dir: PathBuf,
    /// OCI repository of a DB mirror (`--db-repository`); with it Trivy may update the DB
    /// from the mirror, without it the scan never touches the network.
    pub db_repository: Option<String>,
    /// Upper bound on one trivy run.
    pub timeout: Duration,
}

/// Why Trivy could not produce a usable report. Each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum TrivyError {
    #[error("trivy not found on PATH{}; install it (tests/tools/trivy.sh builds it from the Go module proxy) or pass --trivy PATH / set FORGE_TRIVY", .0.as_ref().map(|p| format!(" (and {} does not exist)", p.display())).unwrap_or_default())]
    NotFound(Option<PathBuf>),
    #[error("no Trivy vulnerability DB in {}: copy a DB (db/trivy.db + db/metadata.json) there, point --cache-dir at one, or use --db-repository MIRROR for an air-gapped mirror", .0.display())]
    NoDb(PathBuf),
    #[error("Trivy DB metadata {} is unreadable: {reason}; replace the DB", path.display())]
    BadDb { path: PathBuf, reason: String },
    #[error("Trivy DB in {} was updated {updated} ({age_days} days ago), older than the {max_days}-day maximum in the policy; refresh the DB (or its mirror) and scan again", dir.display())]
    StaleDb { dir: PathBuf, updated: String, age_days: i64, max_days: u32 },
    #[error("trivy failed ({status}): {stderr}\nfix the cause above and re-run `forge scan NAME`")]
    Crashed { status: String, stderr: String },
    #[error("trivy did not finish within {0:?}; check the DB and the image, then re-run `forge scan NAME`")]
    TimedOut(Duration),
    #[error("cannot run trivy: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DbMetadata {
    version: u32,
    updated_at: String,
}

/// The DB Trivy will use.
#[derive(Debug, Clone)]
pub struct DbInfo {
    pub updated_at: String,
    pub age_days: i64,
}

/// Result of one trivy run.
#[derive(Debug)]
pub struct TrivyRun {
    pub report: Vec<u8>,
    /// Wall time of the trivy process alone (for the gate-overhead benchmark).
    pub elapsed: Duration,
}

impl TrivyConfig {
    /// The trivy binary to run.
    pub fn locate(&self) -> Result<PathBuf, TrivyError> {
        if let Some(b) = &self.binary {
            return if b.is_file() { Ok(b.clone()) } else { Err(TrivyError::NotFound(Some(b.clone()))) };
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .map(|d| d.join("trivy"))
            .find(|p| p.is_file())
            .ok_or(TrivyError::NotFound(None))
    }

    /// Checks the local DB exists and is younger than `max_days`. With a DB mirror configured
    /// Trivy fetches the DB itself, so only a present DB is checked.
    pub fn check_db(&self, max_days: u32, now: OffsetDateTime) -> Result<Option<DbInfo>, TrivyError> {
        let dir = self.cache_dir.join("db");
        let meta_path = dir.join("metadata.json");
        if !dir.join("trivy.db").is_file() || !meta_path.is_file() {
            return if self.db_repository.is_some() { Ok(None) } else { Err(TrivyError::NoDb(self.cache_dir.clone())) };
        }
        let bad = |reason: String| TrivyError::BadDb { path: meta_path.clone(), reason };
        let meta: DbMetadata = serde_json::from_slice(&std::fs::read(&meta_path)?).map_err(|e| bad(e.to_string()))?;
        if meta.version != 2 {
            return Err(bad(format!("schema version {} (this trivy reads 2)", meta.version)));
        }
        let updated = OffsetDateTime::parse(&meta.updated_at, &time::format_description::well_known::Rfc3339)
            .map_err(|e| bad(format!("UpdatedAt {:?}: {e}", meta.updated_at)))?;
        let age_days = (now - updated).whole_days();
        if age_days > i64::from(max_days) && self.db_repository.is_none() {
            return Err(TrivyError::StaleDb { dir: self.cache_dir.clone(), updated: meta.updated_at, age_days, max_days });
        }
        Ok(Some(DbInfo { updated_at: meta.updated_at, age_days }))
    }

    /// `trivy --version` of `binary` (e.g. `0.74.0`).
    pub fn version(binary: &Path) -> Result<String, TrivyError> {
        let out = Command::new(binary).arg("--version").stdin(Stdio::null()).output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text.lines().find_map(|l| l.strip_prefix("Version:")).map(|v| v.trim().to_string()).unwrap_or_else(|| text.trim().to_string()))
    }

    /// Runs `trivy image --input <input>` and returns its JSON report.
    pub fn scan(&self, binary: &Path, input: &str) -> Result<TrivyRun, TrivyError> {
        let out = tempfile::NamedTempFile::new()?;
        let mut cmd = Command::new(binary);
        cmd.args(["image", "--input", input, "--format", "json", "--quiet", "--scanners", "vuln"])
            .args(["--skip-java-db-update", "--offline-scan", "--cache-dir"])
            .arg(&self.cache_dir)
            .arg("--output")
            .arg(out.path());
        match &self.db_repository {
            Some(repo) => cmd.args(["--db-repository", repo]),
            None => cmd.arg("--skip-db-update"),
        };
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?;
        let stderr = child.stderr.take().expect("piped stderr");
        let reader = std::thread::spawn(move || {
            let mut buf = String::new();
            let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut buf);
            buf
        });
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if start.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                return Err(TrivyError::TimedOut(self.timeout));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let elapsed = start.elapsed();
        let stderr = reader.join().unwrap_or_default();
        if !status.success() {
            let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
            return Err(TrivyError::Crashed { status: status.to_string(), stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n") });
        }
        Ok(TrivyRun { report: std::fs::read(out.path())?, elapsed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn config(dir: &Path) -> TrivyConfig {
        TrivyConfig { binary: None, cache_dir: dir.to_path_buf(), db_repository: None, timeout: Duration::from_secs(5) }
    }

    fn write_db(dir: &Path, meta: &str) {
        std::fs::create_dir_all(dir.join("db")).unwrap();
        std::fs::write(dir.join("db/trivy.db"), b"").unwrap();
        std::fs::write(dir.join("db/metadata.json"), meta).unwrap();
    }

    #[test]
    fn db_checks_fail_closed_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let now = datetime!(2026-11-29 12:00 UTC);
        let err = config(dir.path()).check_db(7, now).unwrap_err();
        assert!(matches!(err, TrivyError::NoDb(_)) && err.to_string().contains("--db-repository"), "{err}");
        write_db(dir.path(), r#"{"Version":2,"UpdatedAt":"2026-11-01T00:00:00Z"}"#);
        let err = config(dir.path()).check_db(7, now).unwrap_err();
        assert!(matches!(err, TrivyError::StaleDb { age_days: 28, .. }), "{err}");
        assert_eq!(config(dir.path()).check_db(30, now).unwrap().unwrap().age_days, 28);
        write_db(dir.path(), "garbage");
        assert!(matches!(config(dir.path()).check_db(7, now).unwrap_err(), TrivyError::BadDb { .. }));
    }

    #[test]
    fn missing_binary_says_how_to_get_one() {
        let mut c = config(Path::new("/nonexistent"));
        c.binary = Some("/nonexistent/trivy".into());
        let err = c.locate().unwrap_err().to_string();
        assert!(err.contains("tests/tools/trivy.sh") && err.contains("/nonexistent/trivy"), "{err}");
    }
}
