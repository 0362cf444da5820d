//! The gate's outputs for people (a table) and for code-scanning UIs (SARIF 2.1.0).

use std::fmt::Write;

use serde_json::{json, Value};

use super::report::Vulnerability;

/// Findings as a fixed-width table, most severe first; `excepted` ids are marked.
pub fn table(findings: &[Vulnerability], excepted: &[&str]) -> String {
    if findings.is_empty() {
        return "no vulnerabilities found\n".into();
    }
    let mut rows: Vec<&Vulnerability> = findings.iter().collect();
    rows.sort_by_key(|v| (severity_rank(&v.severity), v.pkg_name.clone(), v.id.clone()));
    let header = ["SEVERITY", "ID", "PACKAGE", "INSTALLED", "FIXED", "NOTE"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|v| {
            let note = if excepted.contains(&v.id.as_str()) {
                "excepted"
            } else if v.fixed_version.is_empty() {
                "no fix"
            } else {
                ""
            };
            [v.severity.clone(), v.id.clone(), v.pkg_name.clone(), v.installed_version.clone(), v.fixed_version.clone(), note.into()]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, row: &[&str]| {
        let parts: Vec<String> = row.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        let _ = writeln!(out, "{}", parts.join("  ").trim_end());
    };
    line(&mut out, &header);
    for row in &cells {
        line(&mut out, &row.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}

/// Rank for sorting: CRITICAL first.
pub fn severity_rank(severity: &str) -> usize {
    super::policy::SEVERITIES.iter().position(|s| *s == severity).unwrap_or(super::policy::SEVERITIES.len())
}

/// SARIF 2.1.0 log of the findings against the image `name` (artifact `out/<name>`).
pub fn sarif(name: &str, digest: &str, scanner: &str, findings: &[Vulnerability], gating: &[String]) -> Value {
    let mut rules = std::collections::BTreeMap::new();
    let results: Vec<Value> = findings
        .iter()
        .map(|v| {
            rules.entry(v.id.clone()).or_insert_with(|| {
                json!({
                    "id": v.id,
                    "shortDescription": {"text": if v.title.is_empty() { v.id.clone() } else { v.title.clone() }},
                    "helpUri": if v.primary_url.is_empty() { Value::Null } else { json!(v.primary_url) },
                    "properties": {"security-severity": security_severity(&v.severity), "tags": ["security", "vulnerability"]},
                })
            });
            let level = if gating.contains(&v.severity) { "error" } else if severity_rank(&v.severity) <= 2 { "warning" } else { "note" };
            json!({
                "ruleId": v.id,
                "level": level,
                "message": {"text": format!("{} {} in {} {} ({})", v.severity, v.id, v.pkg_name, v.installed_version,
                    if v.fixed_version.is_empty() { "no fix available".to_string() } else { format!("fixed in {}", v.fixed_version) })},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": format!("out/{name}")}},
                    "logicalLocations": [{"name": v.pkg_name, "fullyQualifiedName": v.pkg_identifier.as_ref().map(|p| p.purl.clone()).unwrap_or_default(), "kind": "package"}],
                }],
                "partialFingerprints": {"forge/v1": format!("{}:{}:{}", v.id, v.pkg_name, v.installed_version)},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "forge trivy gate", "version": env!("CARGO_PKG_VERSION"),
                     "informationUri": "https://github.com/aquasecurity/trivy", "rules": rules.into_values().collect::<Vec<_>>(),
                     "properties": {"scanner": scanner}}},
            "automationDetails": {"id": format!("forge/scan/{name}/{digest}")},
            "results": results,
        }],
    })
}

fn security_severity(severity: &str) -> &'static str {
    match severity {
        "CRITICAL" => "9.5",
        "HIGH" => "8.0",
        "MEDIUM" => "5.5",
        "LOW" => "2.0",
        _ => "0.0",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(id: &str, sev: &str, fixed: &str) -> Vulnerability {
        Vulnerability {
            id: id.into(),
            pkg_name: "libc6".into(),
            installed_version: "2.41-12".into(),
            fixed_version: fixed.into(),
            status: String::new(),
            severity: sev.into(),
            title: String::new(),
            primary_url: String::new(),
            pkg_identifier: None,
        }
    }

    #[test]
    fn table_sorts_by_severity_and_marks_exceptions() {
        let t = table(&[v("CVE-1", "LOW", ""), v("CVE-2", "CRITICAL", ""), v("CVE-3", "HIGH", "2.41-13")], &["CVE-2"]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("SEVERITY"));
        assert!(lines[1].starts_with("CRITICAL") && lines[1].ends_with("excepted"), "{t}");
        assert!(lines[2].contains("2.41-13"));
        assert!(lines[3].ends_with("no fix"));
    }

    #[test]
    fn sarif_has_rules_and_levels() {
        let s = sarif("t", "sha256:aa", "trivy 0.74.0", &[v("CVE-1", "HIGH", "2"), v("CVE-2", "LOW", "")], &["HIGH".into()]);
        assert_eq!(s["version"], "2.1.0");
        assert_eq!(s["runs"][0]["results"][0]["level"], "error");
        assert_eq!(s["runs"][0]["results"][1]["level"], "note");
        assert_eq!(s["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().len(), 2);
    }
}
