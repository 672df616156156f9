//! The log's HTTP interface: C2SP tlog-tiles (`/checkpoint`, `/tile/...`)
//! and Sigil's JSON API (DESIGN.md "Interfaces"), whose bodies are
//! `sigil_core::log_api`'s. Handlers are thin: they extract, call one
//! function (admission, the pool, or [`crate::read`]), and serialize
//! (STYLE.md §10). Errors become HTTP answers in [`crate::error`] only.
//!
//! Submissions are rate-limited per client ([`ApiConfig::rate_limit`]; the
//! client's address is `sigil_serve::client_addr`'s, which believes
//! `X-Forwarded-For` only from `--trusted-proxy`) by a middleware on the
//! submission route, which answers `429` from the request's headers alone:
//! a client over its rate costs the log no body read, no parse and no
//! signature check. Reads are not limited (tiles and checkpoints are meant
//! to be cached and mirrored).
//!
//! `POST /api/v1/lookup` is a read of many releases at once
//! ([`read::lookup`], `docs/log.md` "Looking up many releases at once"):
//! its body is capped at `sigil_core::log_api::MAX_LOOKUP_BODY_BYTES`
//! whatever `--body-limit` says, and the lookup, proofs and JSON are made
//! off the async threads.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use sigil_core::log_api::LookupError;
use sigil_core::log_api::{
    CHECKPOINT_PATH, CONSISTENCY_PATH, ConsistencyProof, ENTRIES_PATH, EntryInfo, HEALTH_PATH,
    Health, INCLUSION_PATH, InclusionProof, LOOKUP_PATH, MAX_LOOKUP_BODY_BYTES, RELEASES_PATH,
    REVOCATIONS_PATH, ReleaseList, RevocationStatus, Submitted, parse_lookup,
};
use sigil_core::tile::Tile;
use sigil_serve::client_addr::TrustedProxies;
use sigil_verifier::{ChainCache, TrustedRoots};
use tokio::sync::{mpsc, oneshot, watch};

use crate::admission;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::publisher::{Accepted, Published};
use crate::read;
use crate::rollback::Halt;
use crate::sequencer::Pending;
use crate::storage::Storage;

/// Cache lifetime of immutable resources (full tiles): one year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Partial tiles and checkpoints change as the log grows.
const MUTABLE: &str = "no-cache";

/// Everything a handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    storage: Arc<dyn Storage>,
    roots: TrustedRoots,
    /// The log's origin line: revocations must be signed for it
    /// (`docs/formats.md` §1.4).
    origin: String,
    /// Chains validated at admission, so a maintainer's chain is checked
    /// once, not once per release.
    chains: ChainCache,
    published: watch::Receiver<Arc<Published>>,
    pool: mpsc::Sender<Pending>,
    /// Set once the log stopped signing: submissions and `/healthz` say so.
    halt: Halt,
    metrics: Metrics,
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    proxies: TrustedProxies,
    body_limit: usize,
    submit_timeout: Duration,
}

/// Settings of the HTTP layer.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Largest accepted request body, bytes.
    pub body_limit: usize,
    /// Submissions per second per client address, with bursts of twice
    /// that (`None`: no limit).
    pub rate_limit: Option<NonZeroU32>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// How long a submitter waits for its round to be published before a 503.
    pub submit_timeout: Duration,
}

impl AppState {
    /// Builds the state from the log's parts.
    pub fn new(
        storage: Arc<dyn Storage>,
        roots: TrustedRoots,
        published: watch::Receiver<Arc<Published>>,
        pool: mpsc::Sender<Pending>,
        halt: Halt,
        metrics: Metrics,
        config: &ApiConfig,
    ) -> AppState {
        let limiter = config.rate_limit.map(|per_second| {
            RateLimiter::keyed(
                Quota::per_second(per_second)
                    .allow_burst(per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1))),
            )
        });
        // The published checkpoint is the stored one, whose origin the
        // sequencer checked against the key; an unreadable one leaves the
        // origin empty, and every revocation is then refused.
        let origin = origin_of(&published.borrow().checkpoint).unwrap_or_default();
        AppState {
            inner: Arc::new(Inner {
                storage,
                roots,
                origin,
                chains: ChainCache::new(),
                published,
                pool,
                halt,
                metrics,
                limiter,
                proxies: config.trusted_proxies.clone(),
                body_limit: config.body_limit,
                submit_timeout: config.submit_timeout,
            }),
        }
    }

    /// Forgets rate-limit state of clients that have been quiet long
    /// enough to be back at a full burst, so the per-IP map does not grow
    /// with every address ever seen. Call it periodically.
    pub fn prune_rate_limits(&self) {
        if let Some(limiter) = &self.inner.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    fn published(&self) -> Arc<Published> {
        self.inner.published.borrow().clone()
    }

    /// Runs `read` against storage off the async threads.
    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&dyn Storage) -> Result<T, read::ReadError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let storage = self.inner.storage.clone();
        Ok(tokio::task::spawn_blocking(move || read(&*storage)).await??)
    }
}

/// Every route of the log.
pub fn router(state: AppState) -> Router {
    let limit = state.inner.body_limit;
    Router::new()
        .route(CHECKPOINT_PATH, get(get_checkpoint))
        .route("/tile/{*path}", get(get_tile))
        .route(
            ENTRIES_PATH,
            post(post_entry).route_layer(middleware::from_fn_with_state(state.clone(), rate_limit)),
        )
        .route(&format!("{ENTRIES_PATH}/{{index}}"), get(get_entry))
        .route(INCLUSION_PATH, get(get_inclusion))
        .route(CONSISTENCY_PATH, get(get_consistency))
        .route(
            &format!("{RELEASES_PATH}/{{crate_name}}"),
            get(get_releases),
        )
        .route(
            &format!("{RELEASES_PATH}/{{crate_name}}/{{version}}"),
            get(get_release_proof),
        )
        .route(
            &format!("{REVOCATIONS_PATH}/{{certificate_id}}"),
            get(get_revocation),
        )
        .route(
            LOOKUP_PATH,
            post(post_lookup).layer(DefaultBodyLimit::max(MAX_LOOKUP_BODY_BYTES)),
        )
        .route(HEALTH_PATH, get(healthz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        // One span per request (method, path, status, latency) at debug
        // level: `SIGIL_LOG=info,tower_http=debug` shows them.
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NoSuchRoute
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

fn text(body: Vec<u8>, cache: &'static str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response()
}

async fn get_checkpoint(State(state): State<AppState>) -> Response {
    text(state.published().checkpoint.clone(), MUTABLE)
}

async fn get_tile(
    State(state): State<AppState>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let tile = Tile::parse_path(&format!("tile/{path}")).map_err(ApiError::BadTilePath)?;
    let size = state.published().size;
    let body = state.read(move |s| read::tile(s, tile, size)).await?;
    let cache = if tile.is_full() { IMMUTABLE } else { MUTABLE };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response())
}

/// Refuses a submission over its client's rate before anything else
/// happens to it: the body is not read (module documentation).
async fn rate_limit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(limiter) = &state.inner.limiter {
        let client = state.inner.proxies.client(peer.ip(), request.headers());
        if let Err(later) = limiter.check_key(&client) {
            let wait = later.wait_time_from(DefaultClock::default().now());
            let error = ApiError::RateLimited {
                retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            };
            state.inner.metrics.reject(error.code());
            return error.into_response();
        }
    }
    next.run(request).await
}

async fn post_entry(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    let received = Instant::now();
    let result = submit(&state, body, received).await;
    if let Err(e) = &result {
        state.inner.metrics.reject(e.code());
    }
    let accepted = result?;
    let status = if accepted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(Submitted {
            index: accepted.index,
            proof: String::from_utf8_lossy(&accepted.proof).into_owned(),
        }),
    ))
}

/// The origin line of a signed checkpoint note.
fn origin_of(note: &[u8]) -> Option<String> {
    let note = sigil_core::note::Note::parse(note).ok()?;
    Some(
        sigil_core::checkpoint::Checkpoint::parse(&note.text)
            .ok()?
            .origin,
    )
}

/// Admits a submission, puts it in the pool and waits for its answer,
/// which comes once its round is published.
async fn submit(
    state: &AppState,
    body: Result<Bytes, BytesRejection>,
    received: Instant,
) -> Result<Accepted, ApiError> {
    // Nothing is admitted that the log could not sign, or not store.
    state.inner.halt.check()?;
    state.inner.halt.writable()?;
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::BodyTooLarge {
            limit: state.inner.body_limit,
        },
        _ => ApiError::BadBody(e.body_text()),
    })?;
    let size = state.published().size;
    let inner = state.inner.clone();
    let admitted = tokio::task::spawn_blocking(move || {
        admission::admit(
            &body,
            &inner.roots,
            &inner.origin,
            &inner.chains,
            &*inner.storage,
            sigil_serve::unix_ms(),
            size,
        )
    })
    .await??;
    let (respond, answer) = oneshot::channel();
    let pending = Pending {
        body: admitted.body,
        release: admitted.release,
        signer_ids: admitted.signer_ids,
        revokes: admitted.revokes,
        expiry: admitted.expiry,
        received,
        respond,
    };
    state.inner.pool.try_send(pending).map_err(|e| match e {
        mpsc::error::TrySendError::Full(_) => ApiError::PoolFull,
        mpsc::error::TrySendError::Closed(_) => ApiError::ShuttingDown,
    })?;
    match tokio::time::timeout(state.inner.submit_timeout, answer).await {
        Ok(Ok(reply)) => Ok(reply?),
        Ok(Err(_)) | Err(_) => Err(ApiError::NotInTime),
    }
}

async fn get_entry(
    State(state): State<AppState>,
    Path(index): Path<String>,
) -> Result<Json<EntryInfo>, ApiError> {
    let index = parse_u64("index", &index)?;
    let size = state.published().size;
    Ok(Json(
        state
            .read(move |s| read::entry_info(s, index, size))
            .await?,
    ))
}

/// Query of `GET /api/v1/proofs/inclusion`.
#[derive(Deserialize)]
struct InclusionQuery {
    index: String,
    size: Option<String>,
}

async fn get_inclusion(
    State(state): State<AppState>,
    query: Result<Query<InclusionQuery>, QueryRejection>,
) -> Result<Json<InclusionProof>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let index = parse_u64("index", &q.index)?;
    let size = q
        .size
        .as_deref()
        .map(|s| parse_u64("size", s))
        .transpose()?;
    let published = state.published().size;
    Ok(Json(
        state
            .read(move |s| read::inclusion_proof(s, index, size, published))
            .await?,
    ))
}

/// Query of `GET /api/v1/proofs/consistency`.
#[derive(Deserialize)]
struct ConsistencyQuery {
    from: String,
    to: Option<String>,
}

async fn get_consistency(
    State(state): State<AppState>,
    query: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let from = parse_u64("from", &q.from)?;
    let to = q.to.as_deref().map(|s| parse_u64("to", s)).transpose()?;
    let published = state.published().size;
    Ok(Json(
        state
            .read(move |s| read::consistency_proof(s, from, to, published))
            .await?,
    ))
}

/// `GET /api/v1/revocations/{certificate_id}`: the revocation of the
/// certificate with this id (hex of `sigil_verifier::certificate_id`, the
/// issuer key and serial) that sets from which index it voids releases,
/// with its `.tlog-proof` against the published checkpoint
/// ([`read::revocation_status`]). Online clients ask before they accept a
/// release and check the proof; a `404 not_revoked` is the log's claim.
async fn get_revocation(
    State(state): State<AppState>,
    Path(id_hex): Path<String>,
) -> Result<Json<RevocationStatus>, ApiError> {
    let mut id = [0u8; 32];
    hex::decode_to_slice(&id_hex, &mut id).map_err(|_| ApiError::BadCertificateId)?;
    let published = state.published();
    Ok(Json(
        state
            .read(move |s| read::revocation_status(s, id, &published))
            .await?,
    ))
}

/// `POST /api/v1/lookup`: many releases' proofs and their signers'
/// revocation answers against the published checkpoint
/// ([`read::lookup`]). The answer is serialized in the blocking task too:
/// it may be megabytes.
async fn post_lookup(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::Lookup(LookupError::TooLarge),
        _ => ApiError::BadBody(e.body_text()),
    })?;
    let releases = parse_lookup(&body)?;
    let published = state.published();
    let inner = state.inner.clone();
    let json = state
        .read(move |s| {
            let answer = read::lookup(s, &releases, &published, &inner.roots, &inner.chains)?;
            // Strings, numbers and arrays of them always serialize.
            Ok(serde_json::to_vec(&answer).unwrap_or_default())
        })
        .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(MUTABLE)),
        ],
        json,
    )
        .into_response())
}

async fn get_releases(
    State(state): State<AppState>,
    Path(crate_name): Path<String>,
) -> Result<Json<ReleaseList>, ApiError> {
    let size = state.published().size;
    Ok(Json(
        state
            .read(move |s| read::release_list(s, &crate_name, size))
            .await?,
    ))
}

async fn get_release_proof(
    State(state): State<AppState>,
    Path((crate_name, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let published = state.published();
    let proof = state
        .read(move |s| read::release_proof(s, &crate_name, &version, &published))
        .await?;
    Ok(text(proof, MUTABLE))
}

/// `GET /healthz`: the published size, or `503 log_rolled_back` once the
/// log stopped signing ([`crate::rollback`]), so that an operator's probe
/// sees it; reads are still served on their own routes.
async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state.inner.halt.check()?;
    Ok(Json(Health {
        status: "ok".to_owned(),
        size: state.published().size,
    }))
}

async fn metrics(State(state): State<AppState>) -> Response {
    // Off the runtime, as every storage call: the store may hold its lock
    // while it reopens after a failed write. Without an answer the gauges
    // keep their last values.
    if let Ok(parts) = state.read(|s| Ok(s.memory())).await {
        state.inner.metrics.storage_memory(&parts);
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        state.inner.metrics.encode(),
    )
        .into_response()
}

/// Parses a decimal path or query value without sign or leading zeros.
fn parse_u64(what: &'static str, s: &str) -> Result<u64, ApiError> {
    sigil_core::decimal::parse(s).ok_or_else(|| ApiError::BadNumber {
        what,
        value: s.to_owned(),
    })
}
