//! The one error body every Sigil HTTP server answers with (DESIGN.md "Bad
//! input"): the log, the CA and the witness (outside the witness's C2SP
//! `add-checkpoint` answers, which are plain text by that spec).
//!
//! ```json
//! {"error": {"code": "out_of_scope", "message": "signer 0: alice@example.org may sign [\"other\"] but not `hello`"}}
//! ```
//!
//! `code` is stable, snake_case and meant for programs; `message` is one
//! line that tells a person what to fix. A `409` from the log for a second
//! artifact of a logged `crate@version` adds `existing_index`, the index of
//! the entry already logged. Unknown members are ignored when reading, so a
//! server may add members later.

use serde::{Deserialize, Serialize};

/// The whole error body: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The `error` member of an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable machine code, e.g. `malformed_json`, `out_of_scope`.
    pub code: String,
    /// One line for a person: what is wrong and what to do.
    pub message: String,
    /// For the log's `409 conflict`: the index of the entry already logged
    /// for the `crate@version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_index: Option<u64>,
}

impl ErrorBody {
    /// A body with this code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
                existing_index: None,
            },
        }
    }

    /// The body as compact JSON (RFC 8259).
    pub fn to_json(&self) -> Vec<u8> {
        // A struct of strings and an optional integer always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads an error body; `None` if `bytes` is not one (a proxy's HTML
    /// page, an empty body), so the caller can report the status instead.
    pub fn parse(bytes: &[u8]) -> Option<ErrorBody> {
        serde_json::from_slice(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trips_and_tolerates_new_members() {
        let body = ErrorBody::new("conflict", "already logged");
        assert_eq!(
            body.to_json(),
            br#"{"error":{"code":"conflict","message":"already logged"}}"#
        );
        assert_eq!(ErrorBody::parse(&body.to_json()).unwrap(), body);
        let later = br#"{"error":{"code":"c","message":"m","existing_index":7,"hint":"x"},"id":1}"#;
        let parsed = ErrorBody::parse(later).unwrap();
        assert_eq!(parsed.error.existing_index, Some(7));
        for bad in [&b""[..], b"<html>", br#"{"error":"x"}"#, br#"{"code":"c"}"#] {
            assert!(ErrorBody::parse(bad).is_none(), "{bad:?}");
        }
    }
}
