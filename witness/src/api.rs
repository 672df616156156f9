//! The HTTP interface: `POST /add-checkpoint` (c2sp.org/tlog-witness
//! §add-checkpoint) and `GET /healthz`.
//!
//! The spec's endpoint answers as the spec says, in plain text: `200` with
//! the cosignature lines, `409` with `Content-Type: text/x.tlog.size` and
//! the latest cosigned size, and `400`/`403`/`404`/`422` with a one-line
//! reason. Everything else (unknown paths, wrong methods) answers like the
//! log, with `sigil_serve::HttpError` (`{"error": {"code": "...",
//! "message": "..."}}`, DESIGN.md "Bad input"). A `500` logs its cause and
//! answers an opaque message. Bodies above the configured limit get `413`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sigil_core::witness_protocol::{
    ADD_CHECKPOINT_PATH, SIZE_CONTENT_TYPE, format_cosignature_response, format_size_response,
};

use sigil_serve::HttpError;

use crate::witness::{AddCheckpointError, Witness};

/// The default largest request body: 64 KiB, room for a checkpoint with
/// many signatures and 63 proof lines.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

const TEXT: &str = "text/plain; charset=utf-8";

/// The witness's routes, with the body limit applied at the edge.
pub fn router(witness: Arc<Witness>, body_limit: usize) -> Router {
    Router::new()
        .route(
            ADD_CHECKPOINT_PATH,
            post(add_checkpoint).fallback(method_not_allowed),
        )
        .route("/healthz", get(healthz).fallback(method_not_allowed))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(witness)
}

/// `POST /add-checkpoint`: one call into [`Witness::add_checkpoint`], off
/// the async runtime (it fsyncs).
async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    match tokio::task::spawn_blocking(move || witness.add_checkpoint(&body)).await {
        Ok(Ok(cosignatures)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, TEXT)],
            format_cosignature_response(&cosignatures),
        )
            .into_response(),
        Ok(Err(e)) => refusal(&e),
        Err(e) => {
            tracing::error!(cause = %e, "add-checkpoint task failed");
            internal()
        }
    }
}

/// The spec's answer for each refusal (§add-checkpoint).
fn refusal(e: &AddCheckpointError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!(cause = %e, "add-checkpoint failed");
        return internal();
    }
    tracing::info!(status = status.as_u16(), reason = %e, "add-checkpoint refused");
    if let Some(size) = e.latest_size() {
        return (
            status,
            [(header::CONTENT_TYPE, SIZE_CONTENT_TYPE)],
            format_size_response(size),
        )
            .into_response();
    }
    (status, [(header::CONTENT_TYPE, TEXT)], format!("{e}\n")).into_response()
}

fn internal() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, TEXT)],
        "internal error; nothing was cosigned\n",
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn not_found() -> HttpError {
    HttpError::not_found(
        "not_found",
        "no such endpoint: a witness serves POST /add-checkpoint and GET /healthz",
    )
}

async fn method_not_allowed() -> HttpError {
    HttpError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "wrong method: use POST /add-checkpoint or GET /healthz",
    )
}

/// Serves the witness on `listener` over `transport` (HTTP or HTTPS) with `limits` (`sigil_serve::http`:
/// the connection cap and timeouts) until `shutdown` resolves; requests in
/// flight finish first.
///
/// # Errors
///
/// The server's I/O error.
pub async fn serve(
    witness: Arc<Witness>,
    listener: tokio::net::TcpListener,
    body_limit: usize,
    limits: &sigil_serve::http::Limits,
    transport: &sigil_serve::tls::Transport,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    sigil_serve::http::serve(
        listener,
        transport,
        router(witness, body_limit),
        limits,
        shutdown,
    )
    .await
}
