//! The one place where the log's errors become HTTP answers (STYLE.md §9),
//! as rustls maps its errors onto TLS alerts in one place.
//!
//! Handlers fail with an [`ApiError`]: a domain error of admission
//! ([`AdmissionError`]), of the sequencer ([`Refusal`]), of the answer
//! ([`SubmitError`]) or of the read side ([`ReadError`]), or one of the
//! HTTP layer's own refusals (rate limit, body size, a full pool, a
//! malformed path or query). [`ApiError::to_http`] is the single match
//! that gives each its status and stable code; the body is
//! `sigil_core::api_error::ErrorBody`, `{"error": {"code", "message"}}`
//! ([`sigil_serve::HttpError`]). A 5xx other than 503 logs its cause and
//! answers an opaque message; a 429 or 503 carries `Retry-After`.
//!
//! | error | status | code |
//! |---|---|---|
//! | malformed body ([`sigil_core::log_api::SubmissionError`]) | 400 | `malformed_json`, `unknown_kind`, `malformed_base64`, `malformed_chain`, `malformed_envelope`, `malformed_release`, `malformed_revocation` |
//! | the verifier refuses | 422 | the verifier's code: `out_of_scope`, `expired`, `revoked`, `bad_signature`, ... |
//! | entry too large once stamped | 400 | `malformed_entry` (admission), `entry_too_large` (sequencer) |
//! | another artifact for a logged crate@version | 409 | `conflict`, with `existing_index` |
//! | revoked at the entry's index | 422 | `revoked` |
//! | a certificate valid at admission expired by the entry's `integrated_at` | 422 | `certificate_expired` |
//! | body over the limit | 413 | `body_too_large` |
//! | rate limit | 429 | `rate_limited` |
//! | pool full, shutting down, not sequenced in time, a revocation being published | 503 | `unavailable` |
//! | the log stopped signing: a witness has cosigned a larger tree than storage holds (submissions, `/healthz`) | 503 | `log_rolled_back`, no `Retry-After` |
//! | bad number, query, tile path, certificate id | 400 | `bad_number`, `bad_query`, `bad_tile_path`, `bad_certificate_id` |
//! | malformed lookup ([`sigil_core::log_api::LookupError`]) | 400 | `malformed_json`, `empty_lookup`, `malformed_release`, `duplicate_release` |
//! | a lookup over its count or body limit, or whose answer would be too large: split it | 413 | `too_many` |
//! | out of the published range | 400 | `out_of_range` |
//! | not in the published tree | 404 | `no_such_entry`, `no_such_tile`, `no_such_release`, `not_revoked`, `no_such_route` |
//! | storage, tiles, a failed worker | 500 | `internal` |

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sigil_core::log_api::LookupError;
use sigil_core::tile::TileError;
use sigil_serve::HttpError;

use crate::admission::AdmissionError;
use crate::publisher::SubmitError;
use crate::read::ReadError;
#[cfg(test)]
use crate::rollback::RolledBack;
use crate::rollback::{Stopped, StorageUnavailable};
use crate::sequencer::Refusal;

/// Everything a handler of the log can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Admission refused the submission.
    #[error(transparent)]
    Admission(#[from] AdmissionError),
    /// The sequencer refused it, or its proof could not be made.
    #[error(transparent)]
    Submit(#[from] SubmitError),
    /// A read failed or asked for what is not published.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Too many submissions from this client.
    #[error("rate limit exceeded; retry after {retry_after} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The body is larger than the limit.
    #[error("request body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body could not be read.
    #[error("{0}")]
    BadBody(String),
    /// The pool of submissions waiting for a round is full.
    #[error("the log's pool is full; retry shortly")]
    PoolFull,
    /// The log is shutting down.
    #[error("the log is shutting down")]
    ShuttingDown,
    /// The entry was not sequenced and published within the submit
    /// timeout; no promise was made.
    #[error("the entry was not sequenced in time and no promise was made; submit it again")]
    NotInTime,
    /// A path or query number is not a canonical decimal.
    #[error("{what} must be a decimal number without sign or leading zeros, got {value:?}")]
    BadNumber {
        /// Which parameter.
        what: &'static str,
        /// What was given.
        value: String,
    },
    /// The query string does not parse.
    #[error("{0}")]
    BadQuery(String),
    /// The tile path is not a C2SP tlog-tiles path.
    #[error("{0}")]
    BadTilePath(TileError),
    /// The lookup body is not one (`sigil_core::log_api::parse_lookup`).
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// The certificate id is not 64 hex digits.
    #[error("the certificate id is 64 hex digits: SHA-256 of the issuer's key and the serial")]
    BadCertificateId,
    /// No route serves this path.
    #[error("no such endpoint; see DESIGN.md \"Interfaces\"")]
    NoSuchRoute,
    /// The route does not take this method.
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed,
    /// The log stopped signing: a witness has cosigned a larger tree than
    /// its storage holds, or another process holds the sequencer's lease
    /// ([`crate::rollback`]).
    #[error(transparent)]
    Stopped(#[from] Stopped),
    /// The last write to storage failed; submissions wait until one
    /// succeeds ([`crate::rollback::Halt::writable`]).
    #[error(transparent)]
    StorageUnavailable(#[from] StorageUnavailable),
    /// A blocking worker failed (a bug).
    #[error("worker failed: {0}")]
    Worker(#[from] tokio::task::JoinError),
}

impl ApiError {
    /// The HTTP answer for this error: the one mapping of the log.
    pub fn to_http(&self) -> HttpError {
        use HttpError as H;
        let message = self.to_string();
        match self {
            ApiError::Admission(e) => match e {
                AdmissionError::Malformed(m) => H::bad_request(m.code(), message),
                AdmissionError::Rejected(v) => {
                    H::new(StatusCode::UNPROCESSABLE_ENTITY, v.code(), message)
                }
                AdmissionError::TooLarge(_) => H::bad_request("malformed_entry", message),
                AdmissionError::UnsupportedKind => H::bad_request("unknown_kind", message),
                AdmissionError::Storage(_) => H::internal(message),
            },
            ApiError::Submit(SubmitError::Refused(r)) => match r {
                Refusal::Conflict { existing_index, .. } => H {
                    existing_index: Some(*existing_index),
                    ..H::new(StatusCode::CONFLICT, "conflict", message)
                },
                Refusal::Revoked { .. } => {
                    H::new(StatusCode::UNPROCESSABLE_ENTITY, "revoked", message)
                }
                Refusal::CertificateExpired { .. } => H::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "certificate_expired",
                    message,
                ),
                Refusal::Stopped(why) => stopped(why, message),
                Refusal::EntryTooLarge(_) => H::bad_request("entry_too_large", message),
                Refusal::Storage(_) | Refusal::Round(_) => H::internal(message),
            },
            ApiError::Submit(_) => H::internal(message),
            ApiError::Read(e) => match e {
                ReadError::NoSuchEntry { .. } => H::not_found("no_such_entry", message),
                ReadError::NoSuchTile { .. } => H::not_found("no_such_tile", message),
                ReadError::NoSuchRelease { .. } => H::not_found("no_such_release", message),
                ReadError::NotRevoked => H::not_found("not_revoked", message),
                ReadError::RevocationUnpublished => H::unavailable("unavailable", message, 2),
                ReadError::LookupTooLarge => too_many(message),
                ReadError::InclusionOutOfRange { .. } | ReadError::ConsistencyOutOfRange { .. } => {
                    H::bad_request("out_of_range", message)
                }
                ReadError::Storage(_) | ReadError::Tile(_) | ReadError::Merkle(_) => {
                    H::internal(message)
                }
            },
            ApiError::RateLimited { retry_after } => H {
                retry_after: Some(*retry_after),
                ..H::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
            },
            ApiError::BodyTooLarge { .. } => {
                H::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", message)
            }
            ApiError::BadBody(_) => H::bad_request("bad_body", message),
            ApiError::PoolFull => H::unavailable("unavailable", message, 1),
            ApiError::ShuttingDown => H::unavailable("unavailable", message, 5),
            ApiError::NotInTime => H::unavailable("unavailable", message, 2),
            ApiError::BadNumber { .. } => H::bad_request("bad_number", message),
            ApiError::BadQuery(_) => H::bad_request("bad_query", message),
            ApiError::BadTilePath(_) => H::bad_request("bad_tile_path", message),
            ApiError::BadCertificateId => H::bad_request("bad_certificate_id", message),
            ApiError::Lookup(LookupError::TooLarge | LookupError::TooMany { .. }) => {
                too_many(message)
            }
            ApiError::Lookup(e) => H::bad_request(e.code(), message),
            ApiError::NoSuchRoute => H::not_found("no_such_route", message),
            ApiError::MethodNotAllowed => H::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                message,
            ),
            ApiError::Stopped(why) => stopped(why, message),
            ApiError::StorageUnavailable(_) => H {
                retry_after: Some(5),
                ..H::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    message,
                )
            },
            ApiError::Worker(_) => H::internal(message),
        }
    }

    /// The machine code sent in the body.
    pub fn code(&self) -> &'static str {
        self.to_http().code
    }
}

/// `413 too_many`: the lookup asks for more than one request may; the
/// message says to split it.
fn too_many(message: String) -> HttpError {
    HttpError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_many", message)
}

/// `503 log_rolled_back`, without `Retry-After`: retrying does not help
/// until the operator restores the log's state (`docs/log.md`).
fn stopped(why: &Stopped, message: String) -> HttpError {
    HttpError::new(StatusCode::SERVICE_UNAVAILABLE, why.code(), message)
}

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> HttpError {
        e.to_http()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.to_http().into_response()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sigil_core::log_api::SubmissionError;

    #[test]
    fn statuses_and_codes_clients_rely_on() {
        let conflict = ApiError::Submit(SubmitError::Refused(Refusal::Conflict {
            crate_name: "a".into(),
            version: "1.0.0".into(),
            existing_index: 7,
            existing_sha256: [0; 32],
        }));
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (conflict, 409, "conflict"),
            (
                ApiError::Submit(SubmitError::Refused(Refusal::Revoked {
                    from_index: 1,
                    index: 2,
                })),
                422,
                "revoked",
            ),
            (
                ApiError::Admission(AdmissionError::Malformed(SubmissionError::EmptyChain)),
                400,
                "malformed_chain",
            ),
            (ApiError::BodyTooLarge { limit: 1 }, 413, "body_too_large"),
            (
                ApiError::RateLimited { retry_after: 1 },
                429,
                "rate_limited",
            ),
            (ApiError::PoolFull, 503, "unavailable"),
            (ApiError::ShuttingDown, 503, "unavailable"),
            (ApiError::NotInTime, 503, "unavailable"),
            (
                ApiError::Stopped(Stopped::RolledBack(RolledBack {
                    witness: "w".into(),
                    cosigned: 5,
                    stored: 3,
                })),
                503,
                "log_rolled_back",
            ),
            (
                ApiError::StorageUnavailable(StorageUnavailable("No space left".into())),
                503,
                "storage_unavailable",
            ),
            (
                ApiError::Stopped(Stopped::NotSequencer {
                    holder: "host-a".into(),
                }),
                503,
                "not_sequencer",
            ),
            (
                ApiError::Submit(SubmitError::Refused(Refusal::CertificateExpired {
                    certificate: "signer 0's certificate".into(),
                    not_after_ms: 1_000,
                    integrated_at: 2_000,
                })),
                422,
                "certificate_expired",
            ),
            (ApiError::Read(ReadError::NotRevoked), 404, "not_revoked"),
            (
                ApiError::Read(ReadError::InclusionOutOfRange {
                    index: 3,
                    size: 1,
                    published: 1,
                }),
                400,
                "out_of_range",
            ),
            (ApiError::NoSuchRoute, 404, "no_such_route"),
            (
                ApiError::Lookup(LookupError::TooMany { count: 1001 }),
                413,
                "too_many",
            ),
            (ApiError::Lookup(LookupError::TooLarge), 413, "too_many"),
            (ApiError::Read(ReadError::LookupTooLarge), 413, "too_many"),
            (ApiError::Lookup(LookupError::Empty), 400, "empty_lookup"),
            (
                ApiError::Read(ReadError::RevocationUnpublished),
                503,
                "unavailable",
            ),
            (ApiError::MethodNotAllowed, 405, "method_not_allowed"),
        ];
        for (error, status, code) in cases {
            let http = error.to_http();
            assert_eq!((http.status.as_u16(), http.code), (status, code), "{error}");
        }
        let http = ApiError::Submit(SubmitError::Refused(Refusal::Conflict {
            crate_name: "a".into(),
            version: "1.0.0".into(),
            existing_index: 7,
            existing_sha256: [0; 32],
        }))
        .to_http();
        assert_eq!(http.body().error.existing_index, Some(7));
        assert_eq!(ApiError::PoolFull.to_http().retry_after, Some(1));
    }
}
