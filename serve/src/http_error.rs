//! The one HTTP error answer of every Sigil server (STYLE.md §9): the body
//! is `sigil_core::api_error::ErrorBody`, `{"error": {"code", "message"}}`.
//! Each server maps its own domain errors onto [`HttpError`] in one place
//! (the log's `error.rs`, the CA's `server.rs`, the witness's `api.rs`),
//! as rustls maps its errors onto TLS alerts in one `From` impl.
//!
//! A `5xx` logs its cause and answers an opaque message ("the operator has
//! been told"), except a `503`, whose message says when to retry and which
//! carries `Retry-After` (RFC 9110 §10.2.3). A `401` carries
//! `WWW-Authenticate: Bearer` (RFC 6750 §3).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sigil_core::api_error::ErrorBody;

/// An error answered to an HTTP client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct HttpError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Stable machine code, e.g. `malformed_json`, `out_of_scope`.
    pub code: &'static str,
    /// What to fix; for a 500, the cause (logged, not sent).
    pub message: String,
    /// Seconds for `Retry-After` (a 429 or 503).
    pub retry_after: Option<u64>,
    /// For the log's `409 conflict`: the index of the entry already logged.
    pub existing_index: Option<u64>,
}

impl HttpError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> HttpError {
        HttpError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            existing_index: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404: no such thing.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 503 with `Retry-After`: the server cannot take the request now and
    /// did nothing; `message` says what to do.
    pub fn unavailable(
        code: &'static str,
        message: impl Into<String>,
        retry_after: u64,
    ) -> HttpError {
        HttpError {
            retry_after: Some(retry_after),
            ..HttpError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
        }
    }

    /// 500: a bug or an I/O failure on the server's side; `cause` is
    /// logged, never sent.
    pub fn internal(cause: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", cause)
    }

    /// The body sent for this error: for a 5xx other than 503, an opaque
    /// message (the cause is logged by [`IntoResponse`]).
    pub fn body(&self) -> ErrorBody {
        let message = if self.is_opaque() {
            "internal error; the operator has been told".to_owned()
        } else {
            self.message.clone()
        };
        let mut body = ErrorBody::new(self.code, message);
        body.error.existing_index = self.existing_index;
        body
    }

    fn is_opaque(&self) -> bool {
        self.status.is_server_error() && self.status != StatusCode::SERVICE_UNAVAILABLE
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if self.is_opaque() {
            tracing::error!(code = self.code, cause = %self.message, "internal error");
        }
        let mut response = (self.status, Json(self.body())).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The answer for a path no route serves: `404 no_such_route`, naming what
/// the server does serve.
pub fn no_such_route(served: &'static str) -> HttpError {
    HttpError::not_found(
        "no_such_route",
        format!("no such endpoint; this server serves {served}"),
    )
}

/// The answer for a known path asked with the wrong method: `405
/// method_not_allowed`.
pub fn method_not_allowed() -> HttpError {
    HttpError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn internal_errors_are_opaque_and_unavailable_ones_say_when() {
        let internal = HttpError::internal("disk on fire");
        assert_eq!(internal.body().error.code, "internal");
        assert!(!internal.body().error.message.contains("disk"));
        let busy = HttpError::unavailable("pool_full", "retry shortly", 1);
        assert_eq!(busy.body().error.message, "retry shortly");
        let response = busy.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let mut conflict = HttpError::new(StatusCode::CONFLICT, "conflict", "logged at 3");
        conflict.existing_index = Some(3);
        assert_eq!(
            conflict.body().to_json(),
            br#"{"error":{"code":"conflict","message":"logged at 3","existing_index":3}}"#
        );
    }
}
