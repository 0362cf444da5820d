//! The `Packages` index of one suite: every binary package with the fields the resolver and
//! the lock need. Dependency fields stay raw here and are parsed only for packages the
//! resolver actually visits, so one odd stanza elsewhere in the archive cannot break a lock.

use super::control;

/// One binary package stanza from a `Packages` index.
#[derive(Debug, Clone)]
pub struct BinaryPackage {
    pub name: String,
    pub version: String,
    pub arch: String,
    /// Source package name (the `Source:` field without its optional `(version)`).
    pub source: String,
    pub suite: String,
    pub filename: String,
    pub size: u64,
    pub sha256: String,
    pub pre_depends: String,
    pub depends: String,
    pub provides: String,
    /// `Priority:` rank, 0 (required) .. 4 (extra / missing): among several providers of a
    /// virtual package the most important one wins, as with apt (mawk, not gawk, for `awk`).
    pub priority: u8,
}

fn priority_rank(priority: Option<&str>) -> u8 {
    match priority {
        Some("required") => 0,
        Some("important") => 1,
        Some("standard") => 2,
        Some("optional") => 3,
        _ => 4,
    }
}

/// Parses a decompressed `Packages` index of `suite`.
pub fn parse(text: &str, suite: &str) -> Result<Vec<BinaryPackage>, String> {
    let paragraphs = control::parse(text).map_err(|e| e.to_string())?;
    let mut packages = Vec::with_capacity(paragraphs.len());
    for p in paragraphs {
        let field = |name: &str| {
            p.get(name)
                .ok_or_else(|| format!("stanza at line {} has no `{name}` field", p.line))
        };
        let name = field("Package")?;
        let size = field("Size")?;
        let sha256 = field("SHA256")?;
        let filename = field("Filename")?;
        if sha256.len() != 64 || !sha256.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "package `{name}` (line {}): bad SHA256 `{sha256}`",
                p.line
            ));
        }
        if filename.starts_with('/') || filename.split('/').any(|c| c == ".." || c.is_empty()) {
            return Err(format!(
                "package `{name}` (line {}): unsafe Filename `{filename}`",
                p.line
            ));
        }
        let source = p
            .get("Source")
            .map(|s| s.split_whitespace().next().unwrap_or(name))
            .unwrap_or(name);
        packages.push(BinaryPackage {
            name: name.to_string(),
            version: field("Version")?.to_string(),
            arch: field("Architecture")?.to_string(),
            source: source.to_string(),
            suite: suite.to_string(),
            filename: filename.to_string(),
            size: size
                .parse()
                .map_err(|_| format!("package `{name}` (line {}): bad Size `{size}`", p.line))?,
            sha256: sha256.to_ascii_lowercase(),
            pre_depends: p.get("Pre-Depends").unwrap_or("").to_string(),
            depends: p.get("Depends").unwrap_or("").to_string(),
            provides: p.get("Provides").unwrap_or("").to_string(),
            priority: priority_rank(p.get("Priority")),
        });
    }
    Ok(packages)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STANZA: &str = "Package: libc6\nSource: glibc (2.41-12+b1)\nVersion: 2.41-12+b1\nArchitecture: amd64\nDepends: libgcc-s1\nFilename: pool/main/g/glibc/libc6_2.41-12+b1_amd64.deb\nSize: 2851\nSHA256: 0000000000000000000000000000000000000000000000000000000000000000\n";

    #[test]
    fn stanza_fields() {
        let p = &parse(STANZA, "trixie").unwrap()[0];
        assert_eq!(p.source, "glibc");
        assert_eq!(p.size, 2851);
        assert_eq!(p.depends, "libgcc-s1");
        assert_eq!(p.suite, "trixie");
    }

    #[test]
    fn unsafe_filename_is_refused() {
        let bad = STANZA.replace("pool/main/g/glibc/", "pool/../../etc/");
        assert!(parse(&bad, "trixie")
            .unwrap_err()
            .contains("unsafe Filename"));
    }

    #[test]
    fn continuation_lines_and_multiple_stanzas() {
        let text = format!(
            "{STANZA}Description: x\n more\n\n{}",
            STANZA.replace("libc6", "libc6-dev")
        );
        let pkgs = parse(&text, "trixie").unwrap();
        assert_eq!(pkgs.len(), 2);
        assert_eq!(pkgs[1].name, "libc6-dev");
        let tricky = STANZA.replace(
            "Depends: libgcc-s1\n",
            "Pre-Depends: zlib1g\nDescription: Package: evil\n",
        );
        let p = &parse(&tricky, "trixie").unwrap()[0];
        assert_eq!(
            (p.depends.as_str(), p.pre_depends.as_str(), p.name.as_str()),
            ("", "zlib1g", "libc6")
        );
    }

    #[test]
    fn duplicate_field_is_refused() {
        let bad = format!("{STANZA}SHA256: {}\n", "1".repeat(64));
        assert!(parse(&bad, "trixie")
            .unwrap_err()
            .contains("duplicate field `SHA256`"));
    }

    #[test]
    fn missing_hash_is_refused() {
        let bad = STANZA.replace("SHA256: ", "MD5sum: ");
        assert!(parse(&bad, "trixie").unwrap_err().contains("SHA256"));
    }
}
