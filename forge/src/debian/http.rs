//! Plain blocking HTTP GET for the archive. Integrity never depends on the transport: every
//! byte fetched is checked against a signature or a signed hash before use.

use std::time::Duration;

/// A failed download.
#[derive(Debug, thiserror::Error)]
#[error("GET {url}: {reason}")]
pub struct HttpError {
    pub url: String,
    pub reason: String,
}

const ATTEMPTS: u32 = 3;

/// Fetches `url` fully into memory, retrying transient failures a bounded number of times.
/// `max_bytes` bounds what a misbehaving server can make forge buffer.
pub fn get(url: &str, max_bytes: u64) -> Result<Vec<u8>, HttpError> {
    let err = |reason: String| HttpError {
        url: url.to_string(),
        reason,
    };
    let client = reqwest::blocking::Client::builder()
        .user_agent(concat!("forge/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(300))
        .build()
        .map_err(|e| err(e.to_string()))?;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match client.get(url).send() {
            Ok(response) if response.status().is_success() => {
                if response.content_length().is_some_and(|n| n > max_bytes) {
                    return Err(err(format!(
                        "response larger than the {max_bytes} bytes expected"
                    )));
                }
                let bytes = response.bytes().map_err(|e| err(e.to_string()))?;
                if bytes.len() as u64 > max_bytes {
                    return Err(err(format!(
                        "response larger than the {max_bytes} bytes expected"
                    )));
                }
                return Ok(bytes.to_vec());
            }
            // 4xx will not get better by retrying.
            Ok(response) if response.status().is_client_error() => {
                return Err(err(format!("HTTP {}", response.status())));
            }
            Ok(response) => last = format!("HTTP {}", response.status()),
            Err(e) => last = error_chain(&e),
        }
        if attempt < ATTEMPTS {
            std::thread::sleep(Duration::from_millis(500 * u64::from(attempt)));
        }
    }
    Err(err(last))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
