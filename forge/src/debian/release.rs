//! A suite's `InRelease`: OpenPGP clear-signed text whose signature must verify against the
//! Debian archive keys that forge carries itself (not the host's keyring, so a build on any
//! host trusts the same keys), and whose SHA256 table then vouches for the Packages indexes.

use std::collections::HashMap;

use pgp::composed::{CleartextSignedMessage, Deserializable, SignedPublicKey};

use super::control;

/// Public keys that sign trixie, trixie-updates and trixie-security today (checked with gpgv
/// against debian-archive-keyring): the archive automatic signing key, the security archive
/// automatic signing key and the stable release key, exported from debian-archive-keyring.
const ARCHIVE_KEYS: [(&str, &[u8]); 3] = [
    (
        "Debian Archive Automatic Signing Key (13/trixie)",
        include_bytes!("../../assets/keyrings/debian-archive-trixie-automatic.pgp"),
    ),
    (
        "Debian Security Archive Automatic Signing Key (13/trixie)",
        include_bytes!("../../assets/keyrings/debian-archive-trixie-security-automatic.pgp"),
    ),
    (
        "Debian Stable Release Key (13/trixie)",
        include_bytes!("../../assets/keyrings/debian-archive-trixie-stable.pgp"),
    ),
];

/// Why an InRelease file was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("not an OpenPGP clear-signed message: {0}")]
    NotSigned(String),
    #[error(
        "bad signature: no signature verifies against the Debian archive keys forge carries ({0})"
    )]
    BadSignature(String),
    #[error("malformed Release text: {0}")]
    Malformed(String),
}

/// The parts of a verified Release file that forge uses.
#[derive(Debug, Clone)]
pub struct Release {
    pub suite: String,
    pub codename: String,
    /// `Date:` exactly as published.
    pub date: String,
    pub date_epoch: u64,
    /// `Valid-Until:` as published, and as seconds since the epoch.
    pub valid_until: Option<String>,
    pub valid_until_epoch: Option<u64>,
    pub acquire_by_hash: bool,
    /// Path (relative to `dists/<suite>/`) -> (sha256, size).
    pub sha256: HashMap<String, (String, u64)>,
}

/// Loads the embedded archive keys. They are compiled in, so a failure here is a build defect.
fn archive_keys() -> Result<Vec<(&'static str, SignedPublicKey)>, ReleaseError> {
    ARCHIVE_KEYS
        .iter()
        .map(|(name, bytes)| {
            let key = SignedPublicKey::from_bytes(*bytes).map_err(|e| {
                ReleaseError::BadSignature(format!("embedded key `{name}` unreadable: {e}"))
            })?;
            // Checks self-signatures and every subkey's binding, including signing subkeys'
            // embedded back-signatures.
            key.verify().map_err(|e| {
                ReleaseError::BadSignature(format!("embedded key `{name}` invalid: {e}"))
            })?;
            Ok((*name, key))
        })
        .collect()
}

/// Verifies an InRelease file and returns the signed text (LF line endings) and the name of
/// the key that vouched for it. Only the signed text is ever parsed afterwards, never the raw
/// file, so nothing outside the signature can influence the result.
pub fn verify_inrelease(bytes: &[u8]) -> Result<(String, &'static str), ReleaseError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| ReleaseError::NotSigned("not UTF-8".into()))?;
    let (message, _) = CleartextSignedMessage::from_string(text)
        .map_err(|e| ReleaseError::NotSigned(e.to_string()))?;
    if message.signatures().is_empty() {
        return Err(ReleaseError::NotSigned("no signatures".into()));
    }
    for (name, key) in archive_keys()? {
        if message.verify(&key).is_ok() {
            return Ok((signed_text(&message), name));
        }
        // Subkey binding (and back-) signatures were checked by `key.verify()` in archive_keys.
        for subkey in &key.public_subkeys {
            if message.verify(subkey).is_ok() {
                return Ok((signed_text(&message), name));
            }
        }
    }
    let issuers: Vec<String> = message
        .signatures()
        .iter()
        .flat_map(|s| {
            s.issuer_fingerprint()
                .into_iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    Err(ReleaseError::BadSignature(format!(
        "signed by {}",
        if issuers.is_empty() {
            "unknown keys".into()
        } else {
            issuers.join(", ")
        }
    )))
}

fn signed_text(message: &CleartextSignedMessage) -> String {
    message.signed_text().replace("\r\n", "\n")
}

/// Parses verified Release text.
pub fn parse_release(text: &str) -> Result<Release, ReleaseError> {
    let paragraphs = control::parse(text).map_err(|e| ReleaseError::Malformed(e.to_string()))?;
    let [p] = paragraphs.as_slice() else {
        return Err(ReleaseError::Malformed(format!(
            "expected one paragraph, found {}",
            paragraphs.len()
        )));
    };
    let field = |name: &str| {
        p.get(name)
            .ok_or_else(|| ReleaseError::Malformed(format!("no `{name}` field")))
    };
    let date = field("Date")?;
    let date_epoch = parse_date(date)
        .ok_or_else(|| ReleaseError::Malformed(format!("unreadable Date `{date}`")))?;
    let valid_until_epoch = match p.get("Valid-Until") {
        Some(v) => Some(
            parse_date(v)
                .ok_or_else(|| ReleaseError::Malformed(format!("unreadable Valid-Until `{v}`")))?,
        ),
        None => None,
    };
    let mut sha256 = HashMap::new();
    for line in field("SHA256")?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [hash, size, path] = parts.as_slice() else {
            return Err(ReleaseError::Malformed(format!("bad SHA256 line `{line}`")));
        };
        let size = size
            .parse()
            .map_err(|_| ReleaseError::Malformed(format!("bad size in `{line}`")))?;
        sha256.insert(path.to_string(), (hash.to_ascii_lowercase(), size));
    }
    Ok(Release {
        suite: p.get("Suite").unwrap_or("").to_string(),
        codename: p.get("Codename").unwrap_or("").to_string(),
        date: date.to_string(),
        date_epoch,
        valid_until: p.get("Valid-Until").map(str::to_string),
        valid_until_epoch,
        acquire_by_hash: p
            .get("Acquire-By-Hash")
            .is_some_and(|v| v.eq_ignore_ascii_case("yes")),
        sha256,
    })
}

/// Parses the RFC 2822 style dates of Release files (`Sat, 21 Nov 2026 09:15:44 UTC`) into
/// seconds since the Unix epoch. Only UTC spellings are accepted; the archive uses nothing else.
pub fn parse_date(text: &str) -> Option<u64> {
    let text = text.split_once(',').map_or(text, |(_, rest)| rest);
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [day, month, year, time, zone] = parts.as_slice() else {
        return None;
    };
    if !matches!(*zone, "UTC" | "GMT" | "Z" | "+0000") {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as i64 + 1;
    let day: i64 = day.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&day)
        || !(0..24).contains(h)
        || !(0..60).contains(m)
        || !(0..61).contains(s)
    {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s;
    u64::try_from(seconds).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_dates() {
        assert_eq!(parse_date("Thu, 01 Jan 1970 00:00:00 UTC"), Some(0));
        assert_eq!(
            parse_date("Sat, 09 Aug 2025 09:50:06 UTC"),
            Some(1_754_733_006)
        );
        assert_eq!(
            parse_date("Sat, 21 Nov 2026 09:15:44 UTC"),
            Some(1_795_252_544)
        );
        assert_eq!(parse_date("Sat, 21 Nov 2026 09:15:44 +0100"), None);
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn embedded_keys_load() {
        assert_eq!(archive_keys().unwrap().len(), 3);
    }

    /// trixie-security's InRelease as published on 2026-11-28 (signed by the security
    /// archive's trixie subkey and the bookworm key, which forge does not carry).
    const SECURITY_INRELEASE: &[u8] = include_bytes!("testdata/trixie-security.InRelease");

    #[test]
    fn real_inrelease_verifies_with_an_embedded_subkey() {
        let (text, key) = verify_inrelease(SECURITY_INRELEASE).unwrap();
        assert_eq!(
            key,
            "Debian Security Archive Automatic Signing Key (13/trixie)"
        );
        let release = parse_release(&text).unwrap();
        assert_eq!(release.codename, "trixie-security");
        assert!(release.acquire_by_hash);
        assert!(release.valid_until_epoch.unwrap() > release.date_epoch);
        let (hash, size) = &release.sha256["main/binary-amd64/Packages.xz"];
        assert_eq!(hash.len(), 64);
        assert!(*size > 0);
    }

    #[test]
    fn tampered_signed_text_is_refused() {
        let text = String::from_utf8(SECURITY_INRELEASE.to_vec()).unwrap();
        let tampered = text.replacen("Codename: trixie-security", "Codename: trixie-securitx", 1);
        assert_ne!(text, tampered);
        let err = verify_inrelease(tampered.as_bytes()).unwrap_err();
        assert!(matches!(err, ReleaseError::BadSignature(_)), "{err}");
        assert!(err.to_string().contains("bad signature"), "{err}");
    }

    #[test]
    fn text_after_the_signature_is_never_parsed() {
        let mut bytes = SECURITY_INRELEASE.to_vec();
        bytes.extend_from_slice(b"\nSHA256:\n 0000000000000000000000000000000000000000000000000000000000000000 1 evil\n");
        if let Ok((text, _)) = verify_inrelease(&bytes) {
            assert!(!text.contains("evil"));
        }
    }

    #[test]
    fn stripped_signature_is_refused() {
        let text = String::from_utf8(SECURITY_INRELEASE.to_vec()).unwrap();
        let cleartext = text.split("-----BEGIN PGP SIGNATURE-----").next().unwrap();
        assert!(verify_inrelease(cleartext.as_bytes()).is_err());
    }

    #[test]
    fn unsigned_text_is_refused() {
        let err = verify_inrelease(b"Origin: Debian\nSuite: stable\n").unwrap_err();
        assert!(matches!(err, ReleaseError::NotSigned(_)), "{err}");
    }
}
