//! The one place where the CA's errors become HTTP responses (STYLE.md §9).
//!
//! Every error body is `{"error": {"code": "...", "message": "..."}}`
//! (DESIGN.md "Bad input"): `code` is stable and machine-readable,
//! `message` tells a person what to fix. A 5xx logs its cause and answers
//! with an opaque message.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered to an HTTP client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Machine code, e.g. `bad_csr_signature`.
    pub code: &'static str,
    /// What to fix (for a 500: the cause, logged and not sent).
    pub message: String,
    /// Seconds for `Retry-After`, on 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 503: a dependency (the log) is down; nothing was done.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            retry_after: Some(5),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
        }
    }

    /// 500: a bug or an I/O failure here.
    pub fn internal(cause: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", cause)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = if self.status.is_server_error() && self.retry_after.is_none() {
            tracing::error!(cause = %self.message, "internal error");
            "internal error; the CA operator has been told".to_string()
        } else {
            self.message
        };
        let body = json!({ "error": { "code": self.code, "message": message } });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sigil-ca admin\""),
            );
        }
        response
    }
}
