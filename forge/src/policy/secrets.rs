//! Secret detection over every file of every layer (a secret deleted in a later layer is still
//! in the image): private keys, `.env` files, and cloud credential patterns.

use regex::bytes::Regex;
use std::sync::LazyLock;

/// Files larger than this are not searched (binaries of that size hold no planted keys; the
/// 120 MB node binary would dominate the gate's time).
pub const MAX_SCANNED: u64 = 64 << 20;

struct Pattern {
    name: &'static str,
    regex: Regex,
}

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    let p = |name, re: &str| Pattern { name, regex: Regex::new(re).expect("secret pattern compiles") };
    vec![
        // A PEM private key with a body (format strings in libcrypto have no base64 body).
        p("private key", r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----\r?\n[A-Za-z0-9+/=:\- \r\n]{40}"),
        p("AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
        p("AWS secret access key", r"(?i)aws_secret_access_key\s*[=:]\s*[A-Za-z0-9/+]{40}"),
        p("GCP service-account key", r#""private_key_id"\s*:\s*"[0-9a-f]{40}""#),
        p("GitHub token", r"\b(?:ghp|gho|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{60,}"),
        p("Slack token", r"\bxox[baprs]-[0-9A-Za-z-]{10,}"),
        p("OpenAI API key", r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20}T3BlbkFJ[A-Za-z0-9_-]{20}"),
    ]
});

/// What kind of secret a file looks like it holds, by name (dotenv files) or content.
pub fn classify(path: &str, content: &[u8]) -> Option<&'static str> {
    let base = path.rsplit('/').next().unwrap_or(path);
    if base == ".env" || (base.starts_with(".env.") && !matches!(base, ".env.example" | ".env.sample" | ".env.template")) {
        return Some(".env file");
    }
    PATTERNS.iter().find(|p| p.regex.is_match(content)).map(|p| p.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planted_keys_are_found_and_certificates_are_not() {
        let key = b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n";
        assert_eq!(classify("app/key.pem", key), Some("private key"));
        let rsa = b"x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpI\n";
        assert_eq!(classify("a", rsa), Some("private key"));
        let cert = b"-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n";
        assert_eq!(classify("etc/ssl/certs/ca-certificates.crt", cert), None);
        // libcrypto's PEM code carries the marker words but never a key body.
        assert_eq!(classify("usr/lib/libcrypto.so", b"-----BEGIN %s-----\nRSA PRIVATE KEY\0ANY PRIVATE KEY"), None);
    }

    #[test]
    fn dotenv_files_and_cloud_keys() {
        assert_eq!(classify("app/.env", b"A=1"), Some(".env file"));
        assert_eq!(classify("app/.env.production", b""), Some(".env file"));
        assert_eq!(classify("app/.env.example", b"A="), None);
        assert_eq!(classify("app/cfg", b"key = AKIAIOSFODNN7EXAMPLE\n"), Some("AWS access key id"));
        assert_eq!(classify("app/cfg", b"token: ghp_0123456789abcdefghijABCDEFGHIJ012345"), Some("GitHub token"));
        assert_eq!(classify("app/x.js", b"const AKIA = 'not a key';"), None);
    }
}
