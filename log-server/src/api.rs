//! The log's HTTP interface: C2SP tlog-tiles (`/checkpoint`, `/tile/...`)
//! and Sigil's JSON API (DESIGN.md "Interfaces"). Handlers are thin: they
//! extract, call one function, and serialize (STYLE.md §10).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use serde_json::json;
use sigil_core::entry::{Entry, EntryBody};
use sigil_core::merkle::{self};
use sigil_core::tile::{Tile, TileHashReader};
use sigil_verifier::{ChainCache, TrustedRoots};
use tokio::sync::{mpsc, oneshot, watch};

use crate::admission;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::sequencer::{self, Pending, Published};
use crate::storage::Storage;
use crate::tiles::StorageTiles;

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
    /// Chains validated at admission, so a maintainer's chain is checked
    /// once, not once per release.
    chains: ChainCache,
    published: watch::Receiver<Arc<Published>>,
    pool: mpsc::Sender<Pending>,
    metrics: Metrics,
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    body_limit: usize,
    submit_timeout: Duration,
}

/// Settings of the HTTP layer.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Largest accepted request body, bytes.
    pub body_limit: usize,
    /// Submissions per second per client IP (`None`: no limit).
    pub rate_limit: Option<NonZeroU32>,
    /// How long a submitter waits for its round before a 503.
    pub submit_timeout: Duration,
}

impl AppState {
    /// Builds the state from the log's parts.
    pub fn new(
        storage: Arc<dyn Storage>,
        roots: TrustedRoots,
        published: watch::Receiver<Arc<Published>>,
        pool: mpsc::Sender<Pending>,
        metrics: Metrics,
        config: &ApiConfig,
    ) -> AppState {
        let limiter = config.rate_limit.map(|per_second| {
            RateLimiter::keyed(
                Quota::per_second(per_second)
                    .allow_burst(per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1))),
            )
        });
        AppState {
            inner: Arc::new(Inner {
                storage,
                roots,
                chains: ChainCache::new(),
                published,
                pool,
                metrics,
                limiter,
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
}

/// Every route of the log.
pub fn router(state: AppState) -> Router {
    let limit = state.inner.body_limit;
    Router::new()
        .route("/checkpoint", get(get_checkpoint))
        .route("/tile/{*path}", get(get_tile))
        .route("/api/v1/entries", post(post_entry))
        .route("/api/v1/entries/{index}", get(get_entry))
        .route("/api/v1/proofs/inclusion", get(get_inclusion))
        .route("/api/v1/proofs/consistency", get(get_consistency))
        .route("/api/v1/releases/{crate_name}", get(get_releases))
        .route(
            "/api/v1/releases/{crate_name}/{version}",
            get(get_release_proof),
        )
        .route("/api/v1/revocations/{certificate_id}", get(get_revocation))
        .route("/healthz", get(healthz))
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
    ApiError::not_found(
        "no_such_route",
        "no such endpoint; see DESIGN.md \"Interfaces\"",
    )
}

async fn method_not_allowed() -> Response {
    let mut r = ApiError::bad_request("method_not_allowed", "method not allowed on this endpoint")
        .into_response();
    *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    r
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
    let tile = Tile::parse_path(&format!("tile/{path}"))
        .map_err(|e| ApiError::bad_request("bad_tile_path", e.to_string()))?;
    let size = state.published().size;
    // Any width up to the published one is served: a partial tile is a
    // prefix of every later version of the same tile.
    Tile::at_size(tile.kind, tile.index, size)
        .filter(|published| tile.width <= published.width)
        .ok_or_else(|| {
            ApiError::not_found(
                "no_such_tile",
                format!("{tile} does not exist at tree size {size}"),
            )
        })?;
    let storage = state.inner.storage.clone();
    let data = blocking(move || {
        use sigil_core::tile::TileReader as _;
        StorageTiles(&*storage)
            .read_tiles(&[tile])
            .map_err(|e| ApiError::Internal(format!("reading {tile}: {e}")))
    })
    .await?;
    let body = data.into_iter().next().unwrap_or_default();
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

async fn post_entry(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let received = Instant::now();
    let result = submit(&state, peer, body, received).await;
    if let Err(e) = &result {
        state.inner.metrics.reject(e.code());
    }
    let accepted = result?;
    let status = if accepted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let proof = String::from_utf8_lossy(&accepted.proof).into_owned();
    Ok((
        status,
        axum::Json(json!({ "index": accepted.index, "proof": proof })),
    )
        .into_response())
}

async fn submit(
    state: &AppState,
    peer: SocketAddr,
    body: Result<Bytes, BytesRejection>,
    received: Instant,
) -> Result<sequencer::Accepted, ApiError> {
    if let Some(limiter) = &state.inner.limiter
        && limiter.check_key(&peer.ip()).is_err()
    {
        return Err(ApiError::RateLimited { retry_after: 1 });
    }
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge {
            limit: state.inner.body_limit,
        },
        _ => ApiError::bad_request("bad_body", e.body_text()),
    })?;
    let size = state.published().size;
    let storage = state.inner.storage.clone();
    let inner = state.inner.clone();
    let admitted = blocking(move || {
        admission::admit(
            &body,
            &inner.roots,
            &inner.chains,
            &*storage,
            sequencer::unix_ms(),
            size,
        )
    })
    .await?;
    let (respond, answer) = oneshot::channel();
    let pending = Pending {
        body: admitted.body,
        release: admitted.release,
        signer_ids: admitted.signer_ids,
        revokes: admitted.revokes,
        received,
        respond,
    };
    state.inner.pool.try_send(pending).map_err(|e| match e {
        mpsc::error::TrySendError::Full(_) => ApiError::Unavailable {
            message: "the log's pool is full; retry shortly".into(),
            retry_after: 1,
        },
        mpsc::error::TrySendError::Closed(_) => ApiError::Unavailable {
            message: "the log is shutting down".into(),
            retry_after: 5,
        },
    })?;
    match tokio::time::timeout(state.inner.submit_timeout, answer).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(_)) | Err(_) => Err(ApiError::Unavailable {
            message: "the entry was not sequenced in time and no promise was made; submit it again"
                .into(),
            retry_after: 2,
        }),
    }
}

async fn get_entry(
    State(state): State<AppState>,
    Path(index): Path<String>,
) -> Result<Response, ApiError> {
    let index = parse_u64("index", &index)?;
    let size = state.published().size;
    if index >= size {
        return Err(ApiError::not_found(
            "no_such_entry",
            format!("index {index} is beyond the tree size {size}"),
        ));
    }
    let storage = state.inner.storage.clone();
    let bytes = blocking(move || {
        sequencer::read_entry(&*storage, index, size).map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    let mut body = json!({
        "index": index,
        "leaf_hash": STANDARD.encode(merkle::leaf_hash(&bytes)),
        "entry": STANDARD.encode(&bytes),
    });
    if let Ok(entry) = Entry::decode(&bytes) {
        body["kind"] = json!(entry.kind_name());
        body["integrated_at"] = json!(entry.integrated_at);
        if let EntryBody::Release(r) = &entry.body {
            body["crate"] = json!(r.crate_name);
            body["version"] = json!(r.version);
            body["sha256"] = json!(hex::encode(r.sha256));
        }
    }
    Ok(axum::Json(body).into_response())
}

/// Query of `GET /api/v1/proofs/inclusion`.
#[derive(Deserialize)]
struct InclusionQuery {
    index: String,
    size: Option<String>,
}

async fn get_inclusion(
    State(state): State<AppState>,
    query: Result<Query<InclusionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let published = state.published().size;
    let index = parse_u64("index", &q.index)?;
    let size = match &q.size {
        Some(s) => parse_u64("size", s)?,
        None => published,
    };
    if size > published || index >= size {
        return Err(ApiError::bad_request(
            "out_of_range",
            format!(
                "need index < size <= {published} (the published tree size); got index {index}, size {size}"
            ),
        ));
    }
    let storage = state.inner.storage.clone();
    let hashes = blocking(move || {
        merkle::prove_inclusion(
            index,
            size,
            &TileHashReader::trusted(size, &StorageTiles(&*storage)),
        )
        .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    Ok(axum::Json(json!({
        "index": index,
        "size": size,
        "hashes": hashes.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// Query of `GET /api/v1/proofs/consistency`.
#[derive(Deserialize)]
struct ConsistencyQuery {
    from: String,
    to: Option<String>,
}

async fn get_consistency(
    State(state): State<AppState>,
    query: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let published = state.published().size;
    let from = parse_u64("from", &q.from)?;
    let to = match &q.to {
        Some(s) => parse_u64("to", s)?,
        None => published,
    };
    if from == 0 || from > to || to > published {
        return Err(ApiError::bad_request(
            "out_of_range",
            format!(
                "need 0 < from <= to <= {published} (the published tree size); got from {from}, to {to}"
            ),
        ));
    }
    let storage = state.inner.storage.clone();
    let hashes = blocking(move || {
        merkle::prove_consistency(
            from,
            to,
            &TileHashReader::trusted(to, &StorageTiles(&*storage)),
        )
        .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    Ok(axum::Json(json!({
        "from": from,
        "to": to,
        "hashes": hashes.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// `GET /api/v1/revocations/{certificate_id}`: whether the log holds a
/// revocation of the certificate with this id (hex of
/// `sigil_verifier::certificate_id`, the issuer key and serial), and from
/// which index it voids releases. Online clients ask before they accept a
/// release; the revocation entries themselves are in the log for monitors.
async fn get_revocation(
    State(state): State<AppState>,
    Path(id_hex): Path<String>,
) -> Result<Response, ApiError> {
    let mut id = [0u8; 32];
    hex::decode_to_slice(&id_hex, &mut id).map_err(|_| {
        ApiError::bad_request(
            "bad_certificate_id",
            "the certificate id is 64 hex digits: SHA-256 of the issuer's key and the serial",
        )
    })?;
    let storage = state.inner.storage.clone();
    let found = blocking(move || {
        storage
            .revocation(&id)
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    match found {
        Some(from_index) => Ok(axum::Json(
            json!({ "certificate_id": id_hex.to_ascii_lowercase(), "from_index": from_index }),
        )
        .into_response()),
        None => Err(ApiError::not_found(
            "not_revoked",
            "the log holds no revocation of this certificate",
        )),
    }
}

async fn get_releases(
    State(state): State<AppState>,
    Path(crate_name): Path<String>,
) -> Result<Response, ApiError> {
    let storage = state.inner.storage.clone();
    let size = state.published().size;
    let name = crate_name.clone();
    let releases = blocking(move || {
        storage
            .releases(&name)
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    let list: Vec<_> = releases
        .into_iter()
        .filter(|(_, r)| r.index < size)
        .map(|(version, r)| json!({ "version": version, "index": r.index, "sha256": hex::encode(r.sha256) }))
        .collect();
    Ok(axum::Json(json!({ "crate": crate_name, "releases": list })).into_response())
}

async fn get_release_proof(
    State(state): State<AppState>,
    Path((crate_name, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let storage = state.inner.storage.clone();
    let published = state.published();
    let proof = blocking(move || {
        let record = storage
            .release(&crate_name, &version)
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .filter(|r| r.index < published.size)
            .ok_or_else(|| {
                ApiError::not_found(
                    "no_such_release",
                    format!("{crate_name}@{version} is not in the log"),
                )
            })?;
        let reader = StorageTiles(&*storage);
        let entry = sequencer::read_entry(&*storage, record.index, published.size)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        sequencer::prove(&reader, record.index, &published, entry)
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?;
    Ok(text(proof, MUTABLE))
}

async fn healthz(State(state): State<AppState>) -> Response {
    axum::Json(json!({ "status": "ok", "size": state.published().size })).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
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
fn parse_u64(what: &str, s: &str) -> Result<u64, ApiError> {
    sigil_core::decimal::parse(s).ok_or_else(|| {
        ApiError::bad_request(
            "bad_number",
            format!("{what} must be a decimal number without sign or leading zeros, got {s:?}"),
        )
    })
}

/// Runs storage work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("worker failed: {e}")))?
}
