//! Trivy's JSON report (schema version 2): the fields the gate reads, and the check that the
//! report is about the image forge asked about.

use serde::{Deserialize, Serialize};

/// Errors reading a Trivy report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("Trivy report {origin} is not valid JSON of schema version 2: {reason} (re-run `forge scan NAME`; if it persists, the trivy binary is broken: rebuild it with tests/tools/trivy.sh)")]
    Malformed { origin: String, reason: String },
    #[error("Trivy report {origin} is for another image: {field} is {found:?}, expected {expected:?} (scan the image again: `forge scan NAME`)")]
    WrongImage { origin: String, field: &'static str, found: String, expected: String },
}

/// The report's top level.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrivyReport {
    pub schema_version: u32,
    pub artifact_name: String,
    #[serde(default)]
    pub artifact_type: String,
    pub metadata: ReportMetadata,
    #[serde(default)]
    pub results: Vec<ReportResult>,
    #[serde(default)]
    pub trivy: Option<TrivyVersion>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrivyVersion {
    pub version: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReportMetadata {
    #[serde(rename = "ImageID", default)]
    pub image_id: String,
    #[serde(default)]
    pub repo_digests: Vec<String>,
    #[serde(rename = "OS", default)]
    pub os: Option<Os>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Os {
    pub family: String,
    pub name: String,
}

/// One scan target (the OS packages, one language's packages...).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReportResult {
    pub target: String,
    #[serde(default)]
    pub class: String,
    #[serde(rename = "Type", default)]
    pub kind: String,
    #[serde(default)]
    pub vulnerabilities: Vec<Vulnerability>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Vulnerability {
    #[serde(rename = "VulnerabilityID")]
    pub id: String,
    pub pkg_name: String,
    #[serde(default)]
    pub installed_version: String,
    #[serde(default)]
    pub fixed_version: String,
    #[serde(default)]
    pub status: String,
    pub severity: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub primary_url: String,
    #[serde(rename = "PkgIdentifier", default)]
    pub pkg_identifier: Option<PkgIdentifier>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PkgIdentifier {
    #[serde(rename = "PURL", default)]
    pub purl: String,
}

/// What the report must be about.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The `--input` argument forge passed (`out/NAME@sha256:...`).
    pub artifact_name: &'a str,
    /// Manifest digest of the image.
    pub digest: &'a str,
    /// Config digest (Trivy's ImageID).
    pub config_digest: &'a str,
}

impl TrivyReport {
    /// Parses a report and checks it is about `expected`.
    pub fn parse(origin: &str, bytes: &[u8], expected: &Expected) -> Result<TrivyReport, ReportError> {
        let malformed = |reason: String| ReportError::Malformed { origin: origin.into(), reason };
        let report: TrivyReport = serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
        if report.schema_version != 2 {
            return Err(malformed(format!("SchemaVersion is {}, forge reads 2", report.schema_version)));
        }
        let wrong = |field, found: &str, expected: &str| ReportError::WrongImage {
            origin: origin.into(),
            field,
            found: found.into(),
            expected: expected.into(),
        };
        if report.artifact_name != expected.artifact_name {
            return Err(wrong("ArtifactName", &report.artifact_name, expected.artifact_name));
        }
        if report.metadata.image_id != expected.config_digest {
            return Err(wrong("Metadata.ImageID", &report.metadata.image_id, expected.config_digest));
        }
        // Archives carry no RepoDigests; when a report has them, one must be this image.
        if !report.metadata.repo_digests.is_empty()
            && !report.metadata.repo_digests.iter().any(|d| d.ends_with(&format!("@{}", expected.digest)))
        {
            return Err(wrong("Metadata.RepoDigests", &report.metadata.repo_digests.join(", "), expected.digest));
        }
        Ok(report)
    }

    /// Every finding of every result.
    pub fn vulnerabilities(&self) -> impl Iterator<Item = &Vulnerability> {
        self.results.iter().flat_map(|r| r.vulnerabilities.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPECTED: Expected = Expected { artifact_name: "out/t@sha256:aa", digest: "sha256:aa", config_digest: "sha256:cc" };

    fn report(artifact: &str, image_id: &str) -> String {
        format!(
            r#"{{"SchemaVersion":2,"ArtifactName":"{artifact}","ArtifactType":"container_image",
            "Metadata":{{"ImageID":"{image_id}","OS":{{"Family":"debian","Name":"13.2"}}}},
            "Results":[{{"Target":"t (debian 13.2)","Class":"os-pkgs","Type":"debian","Vulnerabilities":[
              {{"VulnerabilityID":"CVE-1","PkgName":"libc6","InstalledVersion":"2.41-12","FixedVersion":"2.41-13","Status":"fixed","Severity":"HIGH"}}]}}]}}"#
        )
    }

    #[test]
    fn parses_a_report_for_the_image() {
        let r = TrivyReport::parse("r", report("out/t@sha256:aa", "sha256:cc").as_bytes(), &EXPECTED).unwrap();
        assert_eq!(r.vulnerabilities().count(), 1);
    }

    #[test]
    fn malformed_json_is_rejected() {
        let err = TrivyReport::parse("r.json", b"{\"SchemaVersion\":2,", &EXPECTED).unwrap_err();
        assert!(matches!(err, ReportError::Malformed { .. }), "{err}");
        assert!(err.to_string().contains("r.json"));
        let err = TrivyReport::parse("r.json", br#"{"SchemaVersion":1,"ArtifactName":"x","Metadata":{}}"#, &EXPECTED).unwrap_err();
        assert!(err.to_string().contains("SchemaVersion is 1"), "{err}");
    }

    #[test]
    fn report_for_another_image_is_rejected() {
        let err = TrivyReport::parse("r", report("out/other@sha256:bb", "sha256:cc").as_bytes(), &EXPECTED).unwrap_err();
        assert!(err.to_string().contains("ArtifactName"), "{err}");
        let err = TrivyReport::parse("r", report("out/t@sha256:aa", "sha256:dd").as_bytes(), &EXPECTED).unwrap_err();
        assert!(err.to_string().contains("Metadata.ImageID"), "{err}");
    }
}
