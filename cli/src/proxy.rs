//! `sigil proxy`: a cargo sparse-registry proxy that verifies every
//! `.crate` before cargo gets it. Cargo goes through it by source
//! replacement ([`cargo_config`]):
//!
//! * `GET /index/config.json`: the upstream's, with `dl` pointing at this
//!   proxy ([`sigil_client::sparse_index::rewrite_config`]);
//! * `GET /index/<path>`: the upstream's index file, byte for byte (cargo
//!   compares each line's `cksum` with Cargo.lock), with its `ETag`,
//!   `Last-Modified` and `Cache-Control`; a conditional request is passed
//!   on, and a `304` back;
//! * `GET /dl/<crate>/<version>/download`: the upstream's `.crate`, only
//!   after its SHA-256 equals the index's `cksum` and it passed the
//!   [`gate`] (the full `sigil verify --log` check, and the policy for
//!   unsigned crates). A refused crate is `403` with one `text/plain`
//!   line, which cargo prints (cargo retries `5xx` and `429`, and reads
//!   `404` as "no such crate": neither fits);
//! * `GET /healthz`, `GET /metrics`.
//!
//! Index files and verified crates are kept on disk ([`gate::Store`]);
//! `--offline` serves only from there, for air-gapped builds.

pub mod gate;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use sha2::{Digest as _, Sha256};
use sigil_client::sparse_index as index;

use self::gate::{Gate, Passed, Refused, Store};

/// The default upstream: the public registry's sparse index.
pub const DEFAULT_UPSTREAM: &str = "https://index.crates.io/";

/// The largest index file the proxy passes on (the largest on crates.io
/// are a few MiB).
pub const MAX_INDEX_FILE: u64 = 32 << 20;

/// The largest `.crate` the proxy fetches (crates.io allows 10 MiB by
/// default; some crates have more).
pub const MAX_CRATE: u64 = 256 << 20;

/// The default address: the port after the CA's (6963).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:6964";

/// The `.cargo/config.toml` snippet that sends cargo through a proxy at
/// `url` (`http://127.0.0.1:6964`).
pub fn cargo_config(url: &str) -> String {
    format!(
        "# .cargo/config.toml: every crates.io download goes through `sigil proxy`\n\
         [source.crates-io]\n\
         replace-with = \"sigil\"\n\
         [source.sigil]\n\
         registry = \"sparse+{}/index/\"\n",
        url.trim_end_matches('/')
    )
}

/// What the proxy is configured with.
pub struct ProxyConfig {
    /// The upstream sparse index, ending in `/` (`https://index.crates.io/`),
    /// or a registry in a directory (`file:///srv/registry/index/`, its
    /// `config.json`'s `dl` a `file://` URL under `/srv/registry`).
    pub upstream: String,
    /// This proxy's own base URL, as cargo reaches it (for `dl`).
    pub public_url: String,
    /// Serve only from the cache; ask no upstream.
    pub offline: bool,
    /// An HTTP client for the upstream.
    pub http: reqwest::Client,
    /// The verification worker.
    pub gate: Gate,
    /// The on-disk cache.
    pub store: Store,
}

struct Metrics {
    registry: Registry,
    index: Counter,
    verified: Counter,
    unsigned: Counter,
    refused: Counter,
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("sigil_proxy");
        let (index, verified, unsigned, refused) = Default::default();
        registry.register(
            "index_requests",
            "Index requests served",
            Clone::clone(&index),
        );
        registry.register(
            "crates_verified",
            "Crates that passed every check",
            Clone::clone(&verified),
        );
        registry.register(
            "crates_unsigned",
            "Unsigned crates let through by the policy (with a warning)",
            Clone::clone(&unsigned),
        );
        registry.register(
            "crates_refused",
            "Crates refused (403)",
            Clone::clone(&refused),
        );
        Metrics {
            registry,
            index,
            verified,
            unsigned,
            refused,
        }
    }
}

#[derive(Clone)]
struct AppState(Arc<(ProxyConfig, Metrics)>);

impl AppState {
    fn config(&self) -> &ProxyConfig {
        &self.0.0
    }
    fn metrics(&self) -> &Metrics {
        &self.0.1
    }
}

/// The proxy's routes (module documentation).
pub fn router(config: ProxyConfig) -> Router {
    let state = AppState(Arc::new((config, Metrics::new())));
    Router::new()
        .route("/index/{*path}", get(get_index))
        .route("/dl/{name}/{version}/download", get(get_crate))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(get_metrics))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// A one-line `text/plain` answer.
fn plain(status: StatusCode, line: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{line}\n"),
    )
        .into_response()
}

/// Headers of an index answer passed through in both directions.
const REQUEST_HEADERS: [header::HeaderName; 2] = [header::IF_NONE_MATCH, header::IF_MODIFIED_SINCE];
const ANSWER_HEADERS: [header::HeaderName; 4] = [
    header::ETAG,
    header::LAST_MODIFIED,
    header::CACHE_CONTROL,
    header::CONTENT_TYPE,
];

async fn get_index(
    State(state): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    state.metrics().index.inc();
    let config = state.config();
    if !index::is_index_path(&path) {
        return plain(
            StatusCode::NOT_FOUND,
            format!("sigil proxy: {path:?} is not a path of the sparse index"),
        );
    }
    let config_json = path == "config.json";
    if config.offline {
        return match config.store.index_file(&path) {
            Some(bytes) if config_json => rewritten_config(config, &bytes),
            Some(bytes) => (StatusCode::OK, bytes).into_response(),
            None => plain(
                StatusCode::NOT_FOUND,
                format!("sigil proxy (offline): {path} is not in the cache"),
            ),
        };
    }
    if let Some(root) = local_root(&config.upstream) {
        // A registry in a directory: the file, or 404.
        return match read_local(root, &format!("{}{path}", config.upstream), MAX_INDEX_FILE) {
            Ok(body) => {
                config.store.put_index_file(&path, &body);
                if config_json {
                    rewritten_config(config, &body)
                } else {
                    (StatusCode::OK, body).into_response()
                }
            }
            Err(why) => plain(StatusCode::NOT_FOUND, format!("sigil proxy: {why}")),
        };
    }
    let mut request = config.http.get(format!("{}{path}", config.upstream));
    if !config_json {
        for name in REQUEST_HEADERS {
            if let Some(v) = headers.get(&name) {
                request = request.header(name, v);
            }
        }
    }
    let answer = match request.send().await {
        Ok(answer) => answer,
        Err(e) => {
            return plain(
                StatusCode::BAD_GATEWAY,
                format!("sigil proxy: the upstream index is unreachable: {e}"),
            );
        }
    };
    let status = answer.status();
    let mut out = HeaderMap::new();
    for name in ANSWER_HEADERS {
        if let Some(v) = answer.headers().get(&name) {
            out.insert(name, v.clone());
        }
    }
    let body = match read_capped(answer, MAX_INDEX_FILE).await {
        Ok(body) => body,
        Err(e) => {
            return plain(
                StatusCode::BAD_GATEWAY,
                format!("sigil proxy: the upstream index answer: {e}"),
            );
        }
    };
    if status == StatusCode::OK {
        config.store.put_index_file(&path, &body);
        if config_json {
            return rewritten_config(config, &body);
        }
    }
    (status, out, body).into_response()
}

fn rewritten_config(config: &ProxyConfig, upstream: &[u8]) -> Response {
    let dl = format!("{}/dl", config.public_url.trim_end_matches('/'));
    match index::rewrite_config(upstream, &dl) {
        Ok((_, bytes)) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => plain(StatusCode::BAD_GATEWAY, format!("sigil proxy: {e}")),
    }
}

async fn get_crate(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
) -> Response {
    let refuse = |state: &AppState, why: String| {
        state.metrics().refused.inc();
        tracing::warn!(%name, %version, reason = %why, "refused");
        plain(
            StatusCode::FORBIDDEN,
            format!("sigil: refused {name} {version}: {why}"),
        )
    };
    if let Err(e) = index::check_name(&name).and_then(|()| index::check_version(&version)) {
        return refuse(&state, e.to_string());
    }
    let bytes = match fetch_checked(state.config(), &name, &version).await {
        Ok(bytes) => bytes,
        Err(Refused(why)) => return refuse(&state, why),
    };
    match state
        .config()
        .gate
        .check(&name, &version, bytes.clone())
        .await
    {
        Ok(Passed::Verified { signers, index }) => {
            state.metrics().verified.inc();
            tracing::info!(%name, %version, signers = %signers.join(", "), index, "verified");
        }
        Ok(Passed::Unsigned(warning)) => {
            state.metrics().unsigned.inc();
            tracing::warn!(%name, %version, "{warning}");
        }
        Err(Refused(why)) => return refuse(&state, why),
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/gzip")],
        bytes,
    )
        .into_response()
}

/// The `.crate` of `name` `version` whose SHA-256 is the index's `cksum`:
/// from the cache offline, else from the upstream.
///
/// The `cksum` and the `dl` template come from the index files this proxy
/// last passed to cargo (its cache) when they hold the version: cargo
/// checks the download against the very index it was served; otherwise
/// from the upstream.
async fn fetch_checked(config: &ProxyConfig, name: &str, version: &str) -> Result<Bytes, Refused> {
    let index_path = index::index_path(name);
    let cached = config
        .store
        .index_file(&index_path)
        .and_then(|file| index::checksum(&file, name, version).ok());
    let cksum = match (cached, config.offline) {
        (Some(cksum), _) => cksum,
        (None, true) => {
            return Err(Refused(format!(
                "offline, and the cached index of {name} has no version {version}"
            )));
        }
        (None, false) => {
            let file = upstream_get(
                config,
                &format!("{}{index_path}", config.upstream),
                "index file",
                MAX_INDEX_FILE,
            )
            .await?;
            index::checksum(&file, name, version).map_err(|e| Refused(e.to_string()))?
        }
    };
    let bytes = if config.offline {
        config
            .store
            .crate_file(name, version)
            .map(Bytes::from)
            .ok_or_else(|| {
                Refused("offline, and this crate is not in the verified cache".to_owned())
            })?
    } else {
        let config_json = match config.store.index_file("config.json") {
            Some(cached) => Bytes::from(cached),
            None => {
                upstream_get(
                    config,
                    &format!("{}config.json", config.upstream),
                    "config.json",
                    MAX_INDEX_FILE,
                )
                .await?
            }
        };
        let (dl, _) =
            index::rewrite_config(&config_json, "").map_err(|e| Refused(e.to_string()))?;
        let url = index::download_url(&dl, name, version, &cksum);
        upstream_get(config, &url, ".crate", MAX_CRATE).await?
    };
    let got: [u8; 32] = Sha256::digest(&bytes).into();
    if got != cksum {
        return Err(Refused(format!(
            "its SHA-256 is {} but the index records {}: the file was changed upstream",
            hex::encode(got),
            hex::encode(cksum)
        )));
    }
    Ok(bytes)
}

/// `GET url` at the upstream: the body of a `200` (at most `limit`
/// bytes), else a refusal naming what could not be fetched.
async fn upstream_get(
    config: &ProxyConfig,
    url: &str,
    what: &str,
    limit: u64,
) -> Result<Bytes, Refused> {
    if url.starts_with("file://") {
        // Only below a directory upstream: an HTTP registry's `dl` cannot
        // make the proxy read local files.
        let root = local_root(&config.upstream).ok_or_else(|| {
            Refused(format!(
                "the upstream's {what} is at {url}, a local file, but the upstream is not a \
                 local directory"
            ))
        })?;
        return read_local(root, url, limit).map_err(Refused);
    }
    let answer = config
        .http
        .get(url)
        .send()
        .await
        .map_err(|e| Refused(format!("cannot fetch the {what} from the upstream ({e})")))?;
    let status = answer.status();
    if status != StatusCode::OK {
        return Err(Refused(format!(
            "the upstream answered {status} for the {what} ({url})"
        )));
    }
    read_capped(answer, limit)
        .await
        .map_err(|e| Refused(format!("the {what} from the upstream: {e}")))
}

/// The registry directory of a `file://` upstream (`file:///srv/registry/index/`
/// → `/srv/registry`): the index's parent, under which its files and its
/// `.crate`s must lie.
fn local_root(upstream: &str) -> Option<&str> {
    let path = upstream.strip_prefix("file://")?;
    let index = path.trim_end_matches('/');
    Some(index.rsplit_once('/').map_or("/", |(parent, _)| parent))
}

/// Reads the local file of `url` (`file:///…`), which must lie under
/// `root` and hold no `..`; at most `limit` bytes.
fn read_local(root: &str, url: &str, limit: u64) -> Result<Bytes, String> {
    let path = url.strip_prefix("file://").unwrap_or(url);
    // By path components: `/srv/registry-other` is not under `/srv/registry`.
    if path.split('/').any(|part| part == "..") || !std::path::Path::new(path).starts_with(root) {
        return Err(format!("{url} is outside the upstream directory"));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("{url}: {e}"))?;
    let size = file.metadata().map_err(|e| format!("{url}: {e}"))?.len();
    if size > limit {
        return Err(format!("{url} is larger than {limit} bytes"));
    }
    std::fs::read(path)
        .map(Bytes::from)
        .map_err(|e| format!("{url}: {e}"))
}

/// The body of `answer`, refused beyond `limit` bytes (announced or read).
async fn read_capped(mut answer: reqwest::Response, limit: u64) -> Result<Bytes, String> {
    if answer.content_length().is_some_and(|n| n > limit) {
        return Err(format!("larger than {limit} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = answer
        .chunk()
        .await
        .map_err(|e| format!("cut short ({e})"))?
    {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(format!("larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

async fn get_metrics(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, &state.metrics().registry).is_err() {
        out.clear();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

/// The base URL cargo reaches a proxy listening on `addr` at.
pub fn public_url(scheme: &str, addr: SocketAddr) -> String {
    format!("{scheme}://{addr}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_local_upstream_reads_only_below_its_directory() {
        let dir = std::env::temp_dir().join(format!("sigil-proxy-local-{}", std::process::id()));
        let registry = dir.join("registry");
        std::fs::create_dir_all(registry.join("index")).unwrap();
        std::fs::create_dir_all(dir.join("registry-other")).unwrap();
        std::fs::write(registry.join("index/config.json"), b"{}").unwrap();
        std::fs::write(dir.join("registry-other/secret"), b"no").unwrap();
        let upstream = format!("file://{}/index/", registry.display());
        let root = local_root(&upstream).unwrap();
        let url = |p: &str| format!("file://{}/{p}", dir.display());
        assert!(read_local(root, &url("registry/index/config.json"), 10).is_ok());
        for outside in ["registry-other/secret", "registry/../registry-other/secret"] {
            assert!(read_local(root, &url(outside), 10).is_err(), "{outside}");
        }
        assert!(read_local(root, &url("registry/index/config.json"), 1).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
