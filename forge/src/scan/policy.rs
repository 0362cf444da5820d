//! `policies/vulnerabilities.toml`: which findings fail the gate, and the written exceptions
//! that let an unfixed (or not applicable) finding pass until an expiry date.
//!
//! ```toml
//! max_db_age_days = 7
//! fail_on = ["CRITICAL", "HIGH"]
//!
//! [[exception]]
//! id = "CVE-2025-0001"
//! package = "glibc"
//! justification = "not reachable: forge images have no NSS modules that use it"
//! expires = 2026-12-31
//! ```

use std::path::Path;

use serde::Deserialize;
use time::Date;

use super::report::Vulnerability;

/// Severities Trivy reports, most severe first.
pub const SEVERITIES: [&str; 5] = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"];

/// Errors in the policy file; each names the file and line.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}:{line}: {reason}")]
    Invalid { path: String, line: usize, reason: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    max_db_age_days: Option<u32>,
    fail_on: Option<Vec<toml::Spanned<String>>>,
    #[serde(default)]
    exception: Vec<toml::Spanned<RawException>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    id: String,
    package: String,
    justification: String,
    expires: toml::Spanned<toml::value::Datetime>,
}

/// An accepted risk: finding `id` in `package` may pass until `expires` (inclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub id: String,
    pub package: String,
    pub justification: String,
    pub expires: Date,
    /// Line of the `[[exception]]` entry, for messages.
    pub line: usize,
}

/// The parsed policy.
#[derive(Debug, Clone)]
pub struct VulnPolicy {
    pub path: String,
    pub max_db_age_days: u32,
    pub fail_on: Vec<String>,
    pub exceptions: Vec<Exception>,
}

impl Default for VulnPolicy {
    fn default() -> VulnPolicy {
        VulnPolicy { path: "(built-in default)".into(), max_db_age_days: 7, fail_on: vec!["CRITICAL".into(), "HIGH".into()], exceptions: vec![] }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

impl VulnPolicy {
    /// Loads the policy file at `path`.
    pub fn load(path: &Path) -> Result<VulnPolicy, PolicyError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io { path: shown.clone(), source })?;
        VulnPolicy::parse(&shown, &text)
    }

    /// Parses policy `text` read from `path`.
    pub fn parse(path: &str, text: &str) -> Result<VulnPolicy, PolicyError> {
        let invalid = |line, reason: String| PolicyError::Invalid { path: path.into(), line, reason };
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
            invalid(line, e.message().to_string())
        })?;
        let mut policy = VulnPolicy { path: path.into(), ..VulnPolicy::default() };
        if let Some(days) = raw.max_db_age_days {
            policy.max_db_age_days = days;
        }
        if let Some(fail_on) = raw.fail_on {
            policy.fail_on.clear();
            for s in fail_on {
                if !SEVERITIES.contains(&s.get_ref().as_str()) {
                    return Err(invalid(line_of(text, s.span().start), format!("fail_on: unknown severity {:?} (use {})", s.get_ref(), SEVERITIES.join(", "))));
                }
                policy.fail_on.push(s.into_inner());
            }
        }
        for entry in raw.exception {
            let line = line_of(text, entry.span().start);
            let e = entry.into_inner();
            let expires_line = line_of(text, e.expires.span().start);
            let dt = e.expires.get_ref();
            let date = match (dt.date, dt.time, dt.offset) {
                (Some(d), None, None) => Date::from_calendar_date(d.year as i32, time::Month::try_from(d.month).map_err(|_| invalid(expires_line, "expires: bad month".into()))?, d.day)
                    .map_err(|err| invalid(expires_line, format!("expires: {err}")))?,
                _ => return Err(invalid(expires_line, format!("expires = {dt}: use a plain date like 2026-12-31"))),
            };
            for (field, value) in [("id", &e.id), ("package", &e.package), ("justification", &e.justification)] {
                if value.trim().is_empty() {
                    return Err(invalid(line, format!("exception {}: {field} must not be empty", e.id)));
                }
            }
            policy.exceptions.push(Exception { id: e.id, package: e.package, justification: e.justification, expires: date, line });
        }
        Ok(policy)
    }

    /// Applies the policy to `findings` on `today`.
    pub fn evaluate<'a>(&'a self, findings: &'a [Vulnerability], today: Date) -> Evaluation<'a> {
        let mut eval = Evaluation::default();
        for e in &self.exceptions {
            if e.expires < today {
                eval.failures.push(format!(
                    "{}:{}: exception {} for {} expired on {} (fix the finding, or renew the exception with a new justification)",
                    self.path, e.line, e.id, e.package, e.expires
                ));
            }
        }
        for v in findings {
            if !self.fail_on.iter().any(|s| s == &v.severity) {
                continue;
            }
            let exception = self.exceptions.iter().find(|e| e.id == v.id && e.package == v.pkg_name);
            let fixable = !v.fixed_version.is_empty();
            match exception {
                _ if fixable => eval.failures.push(format!(
                    "{} {} in {} {}: fixed in {} (update the lock: `forge lock NAME && forge build NAME`; exceptions cover only unfixed findings)",
                    v.severity, v.id, v.pkg_name, v.installed_version, v.fixed_version
                )),
                Some(e) if e.expires >= today => eval.excepted.push((v, e)),
                Some(_) => {} // reported above as an expired exception
                None => eval.failures.push(format!(
                    "{} {} in {} {}: no fix available (status {}); add an [[exception]] with id, package, justification and expires to {}",
                    v.severity, v.id, v.pkg_name, v.installed_version, if v.status.is_empty() { "unknown" } else { &v.status }, self.path
                )),
            }
        }
        eval
    }
}

/// The outcome of applying the policy.
#[derive(Debug, Default)]
pub struct Evaluation<'a> {
    /// One line per reason the gate fails.
    pub failures: Vec<String>,
    /// Gating findings that passed through an exception.
    pub excepted: Vec<(&'a Vulnerability, &'a Exception)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn finding(id: &str, pkg: &str, severity: &str, fixed: &str) -> Vulnerability {
        Vulnerability {
            id: id.into(),
            pkg_name: pkg.into(),
            installed_version: "1".into(),
            fixed_version: fixed.into(),
            status: if fixed.is_empty() { "affected".into() } else { "fixed".into() },
            severity: severity.into(),
            title: String::new(),
            primary_url: String::new(),
            pkg_identifier: None,
        }
    }

    const POLICY: &str = "max_db_age_days = 3\n\n[[exception]]\nid = \"CVE-2\"\npackage = \"glibc\"\njustification = \"not reachable\"\nexpires = 2026-12-31\n";

    #[test]
    fn fixable_high_fails_unfixed_critical_needs_an_exception() {
        let p = VulnPolicy::parse("v.toml", POLICY).unwrap();
        assert_eq!(p.max_db_age_days, 3);
        let findings = vec![finding("CVE-1", "tzdata", "HIGH", "2"), finding("CVE-2", "glibc", "CRITICAL", ""), finding("CVE-3", "x", "MEDIUM", "")];
        let e = p.evaluate(&findings, date!(2026 - 11 - 29));
        assert_eq!(e.failures.len(), 1, "{:?}", e.failures);
        assert!(e.failures[0].contains("CVE-1") && e.failures[0].contains("fixed in 2"));
        assert_eq!(e.excepted.len(), 1);

        let only_unfixed = vec![finding("CVE-2", "glibc", "CRITICAL", "")];
        assert!(p.evaluate(&only_unfixed, date!(2026 - 12 - 31)).failures.is_empty());
        let expired = p.evaluate(&only_unfixed, date!(2027 - 01 - 01));
        assert_eq!(expired.failures.len(), 1);
        assert!(expired.failures[0].contains("v.toml:3: exception CVE-2 for glibc expired on 2026-12-31"), "{:?}", expired.failures);
        let empty = VulnPolicy::parse("v.toml", "").unwrap();
        let none = empty.evaluate(&only_unfixed, date!(2026 - 01 - 01));
        assert!(none.failures[0].contains("no fix available"), "{:?}", none.failures);
    }

    #[test]
    fn unknown_field_names_file_and_line() {
        let err = VulnPolicy::parse("v.toml", "[[exception]]\nid = \"a\"\npackage = \"b\"\njustification = \"c\"\nexpires = 2026-01-01\nowner = \"me\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("v.toml:"), "{msg}");
        assert!(msg.contains("owner"), "{msg}");
        let err = VulnPolicy::parse("v.toml", "max_age = 3\n").unwrap_err();
        assert!(err.to_string().starts_with("v.toml:1:"), "{err}");
    }

    #[test]
    fn bad_dates_are_rejected_with_their_line() {
        let bad = "[[exception]]\nid = \"a\"\npackage = \"b\"\njustification = \"c\"\nexpires = \"soon\"\n";
        let err = VulnPolicy::parse("v.toml", bad).unwrap_err().to_string();
        assert!(err.starts_with("v.toml:5:"), "{err}");
        let with_time = bad.replace("\"soon\"", "2026-01-01T10:00:00Z");
        let err = VulnPolicy::parse("v.toml", &with_time).unwrap_err().to_string();
        assert!(err.contains("plain date"), "{err}");
        let impossible = bad.replace("\"soon\"", "2026-02-30");
        assert!(VulnPolicy::parse("v.toml", &impossible).is_err());
        let missing_justification = "[[exception]]\nid = \"a\"\npackage = \"b\"\nexpires = 2026-01-01\n";
        assert!(VulnPolicy::parse("v.toml", missing_justification).unwrap_err().to_string().contains("justification"));
        let severity = VulnPolicy::parse("v.toml", "fail_on = [\"HIGH\", \"SEVERE\"]\n").unwrap_err().to_string();
        assert!(severity.starts_with("v.toml:1:") && severity.contains("SEVERE"), "{severity}");
    }
}
