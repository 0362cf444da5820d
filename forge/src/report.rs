//! `out/<name>/forge-report.json`: what was built, for people and for later steps (scan,
//! policy, push add their own fields).

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// File name of the report inside `out/<name>/`.
pub const FILE_NAME: &str = "forge-report.json";

/// The build report of one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub name: String,
    /// Manifest digest, `sha256:...`.
    pub digest: String,
    pub config_digest: String,
    /// Compressed size: manifest + config + distinct layers.
    pub size: u64,
    pub uncompressed_size: u64,
    pub layers: Vec<LayerReport>,
    /// RFC 3339 creation time (the image epoch).
    pub created: String,
    /// Recipe file, relative to the project root.
    pub recipe: String,
    /// The lock's inputs digest for this recipe.
    pub inputs: String,
    /// `forge.local/<name>:<12 hex>` tag used in the docker-archive.
    pub reference: String,
    /// Registry repositories this build was pushed to (`forge push`); `forge promote` points
    /// prod at them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pushed: Vec<Pushed>,
    /// SBOM path relative to the project root (`sbom/<name>.cdx.json`), set by the supply-chain step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom: Option<String>,
    /// Image-policy verdict (`forge verify`), set by the supply-chain step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<crate::policy::PolicyRecord>,
    /// Trivy-gate verdict (`forge scan`), set by the supply-chain step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<crate::scan::ScanRecord>,
}

/// One registry push of the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pushed {
    /// `host[:port]/path/name`, no tag.
    pub repository: String,
    /// Manifest digest as the registry serves it (equal to `digest`).
    pub digest: String,
}

/// One layer of the report, bottom first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerReport {
    pub digest: String,
    pub diff_id: String,
    pub size: u64,
    pub uncompressed_size: u64,
    /// What the layer holds: `debian`, `system`, `node`, `deps`, `app`, `files`...
    pub concern: String,
    /// Recipe that produced the layer (`base` for inherited layers).
    pub recipe: String,
}

impl Report {
    /// True when `other` describes the same build (ignoring what later steps such as scan or
    /// push add), i.e. `out/` already holds this image.
    pub fn same_build(&self, other: &Report) -> bool {
        (
            &self.name,
            &self.digest,
            &self.config_digest,
            &self.layers,
            &self.created,
            &self.recipe,
            &self.inputs,
            &self.reference,
        ) == (
            &other.name,
            &other.digest,
            &other.config_digest,
            &other.layers,
            &other.created,
            &other.recipe,
            &other.inputs,
            &other.reference,
        )
    }

    /// Reads `out/<name>/forge-report.json` from the image directory `dir`.
    pub fn load(dir: &Path) -> io::Result<Report> {
        let bytes = std::fs::read(dir.join(FILE_NAME))?;
        serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("report serialises");
        bytes.push(b'\n');
        bytes
    }
}

impl Report {
    /// Writes the report into the image directory `dir` atomically (temp file + rename), so a
    /// reader never sees half a report. Later steps (scan, policy, push) update it this way.
    pub fn save_atomic(&self, dir: &Path) -> io::Result<()> {
        // Later steps re-record the same verdicts on a no-change rebuild: leave the file alone.
        if std::fs::read(dir.join(FILE_NAME)).is_ok_and(|old| old == self.to_json()) {
            return Ok(());
        }
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        io::Write::write_all(&mut tmp, &self.to_json())?;
        tmp.as_file().sync_all()?;
        std::fs::set_permissions(
            tmp.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o644),
        )?;
        tmp.persist(dir.join(FILE_NAME)).map_err(|e| e.error)?;
        Ok(())
    }
}
