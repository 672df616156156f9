//! The one place where errors become HTTP responses (STYLE.md §9).
//!
//! Every error body is `{"error": {"code": "...", "message": "..."}}`: `code`
//! is stable and machine-readable, `message` tells a person what to fix. A
//! 5xx logs the cause and answers with an opaque message.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request is malformed or the entry fails a check (400).
    #[error("{message}")]
    BadRequest {
        /// Machine code, e.g. `malformed_json`, `bad_signature`.
        code: &'static str,
        /// What to fix.
        message: String,
    },
    /// The entry was checked and refused (422): its signature, chain,
    /// scope or revocation status does not allow it.
    #[error("{message}")]
    Rejected {
        /// The verifier's machine code, e.g. `out_of_scope`.
        code: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No such thing (404).
    #[error("{message}")]
    NotFound {
        /// Machine code.
        code: &'static str,
        /// What was not found.
        message: String,
    },
    /// A different artifact is already logged for this crate@version (409).
    #[error("{message}")]
    Conflict {
        /// What is already logged, and where.
        message: String,
        /// Index of the existing entry.
        existing_index: u64,
    },
    /// The body is larger than the limit (413).
    #[error("request body larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Too many requests from this client (429).
    #[error("rate limit exceeded; retry after {retry_after} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The log cannot take the request now: pool full, shutting down, or
    /// storage failing (503 with `Retry-After`).
    #[error("{message}")]
    Unavailable {
        /// Why, in words a client can act on.
        message: String,
        /// Seconds to wait before retrying.
        retry_after: u64,
    },
    /// A bug or an I/O failure on our side (500). Logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 with the given code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// A 404 with the given code.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::NotFound {
            code,
            message: message.into(),
        }
    }

    /// The machine code sent in the body.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Rejected { code, .. }
            | ApiError::NotFound { code, .. } => code,
            ApiError::Conflict { .. } => "conflict",
            ApiError::TooLarge { .. } => "body_too_large",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Rejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "internal error; the log operator has been told".to_string()
            }
            other => other.to_string(),
        };
        let mut error = json!({ "code": self.code(), "message": message });
        if let ApiError::Conflict { existing_index, .. } = &self {
            error["existing_index"] = json!(existing_index);
        }
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        let retry_after = match &self {
            ApiError::RateLimited { retry_after } | ApiError::Unavailable { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        };
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
