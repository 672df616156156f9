//! The client side of the log's and the CA's HTTP APIs (DESIGN.md
//! "Interfaces"), blocking: the CLI does one thing at a time.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;

use crate::error::CliError;

/// An HTTP client with Sigil's timeouts.
pub fn client() -> Result<reqwest::blocking::Client, CliError> {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| CliError::Unreachable {
            url: String::new(),
            reason: e.to_string(),
        })
}

fn refused(server: &'static str, status: u16, body: &[u8]) -> CliError {
    #[derive(Deserialize)]
    struct Body {
        error: Fields,
    }
    #[derive(Deserialize)]
    struct Fields {
        code: String,
        message: String,
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(b) => CliError::Refused {
            server,
            code: b.error.code,
            message: b.error.message,
        },
        Err(_) => CliError::Refused {
            server,
            code: format!("http_{status}"),
            message: String::from_utf8_lossy(body).chars().take(300).collect(),
        },
    }
}

/// POSTs JSON; returns the JSON answer of a 2xx, or the server's refusal.
pub fn post_json(
    http: &reqwest::blocking::Client,
    server: &'static str,
    url: &str,
    body: &Value,
) -> Result<Value, CliError> {
    post_json_auth(http, server, url, body, None)
}

/// [`post_json`] with an `Authorization: Bearer` token (RFC 6750 §2.1).
pub fn post_json_auth(
    http: &reqwest::blocking::Client,
    server: &'static str,
    url: &str,
    body: &Value,
    bearer: Option<&str>,
) -> Result<Value, CliError> {
    let unreachable = |e: reqwest::Error| CliError::Unreachable {
        url: url.to_string(),
        reason: e.to_string(),
    };
    let mut request = http.post(url).json(body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().map_err(unreachable)?;
    let status = response.status();
    let bytes = response.bytes().map_err(unreachable)?;
    if !status.is_success() {
        return Err(refused(server, status.as_u16(), &bytes));
    }
    serde_json::from_slice(&bytes).map_err(|e| CliError::Unreachable {
        url: url.to_string(),
        reason: format!("unreadable answer: {e}"),
    })
}

/// A client of one log.
pub struct LogApi {
    base: String,
    http: reqwest::blocking::Client,
}

/// What the log answered for a submission.
#[derive(Debug, Clone, Deserialize)]
pub struct Submitted {
    /// The entry's index.
    pub index: u64,
    /// Its `.tlog-proof` (C2SP tlog-proof).
    pub proof: String,
}

impl LogApi {
    /// A client of the log at `base`.
    pub fn new(base: &str) -> Result<LogApi, CliError> {
        Ok(LogApi {
            base: base.trim_end_matches('/').to_string(),
            http: client()?,
        })
    }

    /// The log's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// `POST /api/v1/entries` with a submission body.
    pub fn submit(&self, body: &Value) -> Result<Submitted, CliError> {
        let url = format!("{}/api/v1/entries", self.base);
        let answer = post_json(&self.http, "the log", &url, body)?;
        serde_json::from_value(answer).map_err(|e| CliError::Unreachable {
            url,
            reason: format!("unreadable answer: {e}"),
        })
    }

    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, CliError> {
        let url = format!("{}{path}", self.base);
        let unreachable = |e: reqwest::Error| CliError::Unreachable {
            url: url.clone(),
            reason: e.to_string(),
        };
        let response = self.http.get(&url).send().map_err(unreachable)?;
        let status = response.status();
        let bytes = response.bytes().map_err(unreachable)?;
        if status.as_u16() == 404 {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(refused("the log", status.as_u16(), &bytes));
        }
        Ok(Some(bytes.to_vec()))
    }

    /// The `.tlog-proof` of `name@version` against the newest checkpoint,
    /// or `None` if the log has no such release.
    pub fn release_proof(&self, name: &str, version: &str) -> Result<Option<Vec<u8>>, CliError> {
        self.get(&format!("/api/v1/releases/{name}/{version}"))
    }

    /// From which index the log says the certificate with this id is
    /// revoked, if it is.
    pub fn revoked_from(&self, certificate_id: &[u8; 32]) -> Result<Option<u64>, CliError> {
        let Some(body) = self.get(&format!(
            "/api/v1/revocations/{}",
            hex::encode(certificate_id)
        ))?
        else {
            return Ok(None);
        };
        let v: Value = serde_json::from_slice(&body).map_err(|e| CliError::Unreachable {
            url: self.base.clone(),
            reason: format!("unreadable revocation answer: {e}"),
        })?;
        Ok(v["from_index"].as_u64())
    }

    /// An RFC 9162 consistency proof between two tree sizes.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<[u8; 32]>, CliError> {
        let path = format!("/api/v1/proofs/consistency?from={old}&to={new}");
        let body = self.get(&path)?.ok_or_else(|| CliError::Unreachable {
            url: format!("{}{path}", self.base),
            reason: "the log has no such proof".into(),
        })?;
        let v: Value = serde_json::from_slice(&body).map_err(|e| CliError::Unreachable {
            url: self.base.clone(),
            reason: format!("unreadable consistency proof: {e}"),
        })?;
        let hashes = v["hashes"]
            .as_array()
            .ok_or_else(|| CliError::Unreachable {
                url: self.base.clone(),
                reason: "the consistency proof has no `hashes` array".into(),
            })?;
        hashes
            .iter()
            .map(|h| {
                let raw = h
                    .as_str()
                    .and_then(|s| STANDARD.decode(s).ok())
                    .unwrap_or_default();
                <[u8; 32]>::try_from(raw.as_slice()).map_err(|_| CliError::Unreachable {
                    url: self.base.clone(),
                    reason: "a consistency proof hash is not 32 base64 bytes".into(),
                })
            })
            .collect()
    }
}
