//! The CA's HTTP API (DESIGN.md "Interfaces"): enrollment, the chain, and
//! the admin endpoints behind the bearer token.
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /api/v1/enroll` | maintainer | token + PKCS#10 CSR → certificate, chain, log proof |
//! | `GET /api/v1/chain` | anyone | intermediate then root, PEM (RFC 8555 §9.1 media type) |
//! | `POST /api/v1/admin/invites` | admin | identity + crates → one-time token |
//! | `POST /api/v1/admin/revocations` | admin | serial + reason [+ from_index] → logged revocation |
//! | `GET /api/v1/admin/certificates/{serial}` | admin | what the CA issued under that serial |
//! | `GET /healthz` | anyone | `ok` |
//!
//! Request and answer bodies are `sigil_core::ca_api`'s types (the CLI and
//! `sigil_client::CaClient` use the same ones); every error is a
//! `sigil_serve::HttpError`, `{"error": {"code", "message"}}`. Entries go
//! to the log through `sigil_client::LogClient`, which checks the log's
//! proof when the CA has the log's key.
//!
//! # Enrollment
//!
//! ```json
//! POST /api/v1/enroll
//! {"token": "sigil-enroll-…", "csr": "-----BEGIN CERTIFICATE REQUEST-----\n…"}
//! ```
//!
//! The CSR may also be base64 DER. The CA checks the token (known,
//! unexpired, unredeemed), checks the CSR (its signature proves possession
//! of the key; P-256 only; its subject and extensions are ignored), issues
//! the leaf with the identity and crates of the invitation, **records it**
//! as the invitation's pending certificate (with its serial, in one synced
//! batch: `crate::store`, "Recorded before submitted"), then submits a
//! `certificate` entry to the log and waits until the log has sequenced
//! it. Only then does it redeem the token and answer `201`:
//!
//! ```json
//! {"certificate": "<leaf PEM>", "chain": "<intermediate PEM><root PEM>",
//!  "serial": "<hex>", "identity": "…", "crates": ["…"],
//!  "not_before": <Unix ms>, "not_after": <Unix ms>,
//!  "log_index": <index>, "proof": "<.tlog-proof text>"}
//! ```
//!
//! If the log is unreachable, times out, refuses or answers with a proof
//! that does not hold, no certificate is handed out and the token stays
//! unredeemed (503 / 502), but the certificate stays on record: the log may
//! have logged it (a timeout says nothing), so it is revocable by serial,
//! and a retry with the same token (and a CSR for the same key, else `409
//! enrollment_pending`) resubmits **the same certificate** and answers with
//! it, even after the token expired. One token, one certificate, always.
//! Two enrollments with one token at once: the second gets 409
//! `token_in_use`.
//!
//! # Revocation
//!
//! The CA signs a revocation for the origin of the log it submits to (the
//! name of `--log-key`, `docs/formats.md` §1.4). The default `from_index`
//! is the size of the log's checkpoint **after verifying its signature**
//! with the log's key; a `from_index` beyond that size is refused (`400
//! bad_from_index`), and a checkpoint that does not verify gets `502
//! log_checkpoint_invalid` and nothing is signed.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use sigil_client::{ClientError, LogClient};
use sigil_core::ca_api::{
    CERTIFICATES_PATH, CHAIN_PATH, CertificateStatus, ENROLL_PATH, EnrollRequest, Enrolled,
    INVITES_PATH, InviteRequest, Invited, REVOCATIONS_PATH, RevokeRequest, Revoked,
};
use sigil_core::certificate::{classify_identity, encode_scope, validate_serial};
use sigil_core::entry::{CertificateEntry, CrlReason, EntryBody};
use sigil_core::pem::certificate_pem;
use sigil_serve::HttpError;
use sigil_serve::http::Limits;
use sigil_serve::http_error::method_not_allowed;
use sigil_serve::tls::Transport;
use sigil_serve::unix_ms;
use tokio::net::TcpListener;

use crate::csr;
use crate::invite::{self, AdminToken};
use crate::issue::{CaCertificate, issue_leaf, sign_revocation};
use crate::store::{
    CaStore, Invite, IssuedCertificate, PendingCertificate, RevocationRecord, StoreError,
};

/// How far a leaf's notBefore is set before the moment of issuance, so
/// that a log or verifier whose clock is a little behind the CA's still
/// finds it valid (RFC 5280 leaves clock skew to the CA).
pub const BACKDATE: Duration = Duration::from_secs(5 * 60);

/// Everything `sigil-ca serve` is configured with.
pub struct CaConfig {
    /// The online intermediate and its key.
    pub intermediate: CaCertificate,
    /// The root certificate, DER (served in the chain; its key stays
    /// offline).
    pub root_der: Vec<u8>,
    /// The admin bearer token.
    pub admin: AdminToken,
    /// The log every certificate goes to before it is handed out. It must
    /// have the log's verifier key (`LogClient::with_verifier_key`): its
    /// proofs and checkpoints are checked (`sigil_client::log_client`,
    /// "Checked submissions"), and its name is the origin revocations are
    /// signed for.
    pub log: LogClient,
    /// Lifetime of issued leaves.
    pub leaf_validity: Duration,
    /// Longest lifetime an invitation may ask for.
    pub max_invite_ttl: Duration,
    /// Largest accepted request body, bytes.
    pub body_limit: usize,
}

struct Inner {
    config: CaConfig,
    store: Arc<CaStore>,
    /// Token hashes with an enrollment in progress.
    in_flight: Mutex<HashSet<[u8; 32]>>,
}

/// The server's shared state.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl AppState {
    /// State over an open store.
    pub fn new(store: Arc<CaStore>, config: CaConfig) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                config,
                store,
                in_flight: Mutex::new(HashSet::new()),
            }),
        }
    }
}

/// Every route of the CA.
pub fn router(state: AppState) -> Router {
    let limit = state.inner.config.body_limit;
    Router::new()
        .route(ENROLL_PATH, post(enroll))
        .route(CHAIN_PATH, get(chain))
        .route(INVITES_PATH, post(create_invite))
        .route(REVOCATIONS_PATH, post(revoke))
        .route(
            &format!("{CERTIFICATES_PATH}/{{serial}}"),
            get(get_certificate),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback(|| async {
            HttpError::not_found(
                "not_found",
                "no such endpoint; see the sigil-ca documentation for the routes",
            )
        })
        .method_not_allowed_fallback(|| async { method_not_allowed() })
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the CA on `listener` over `transport` (HTTP or HTTPS) with `limits` (`sigil_serve::http`: the
/// connection cap and timeouts) until `shutdown` resolves. Prints nothing:
/// the binary announces the address.
pub async fn serve(
    store: Arc<CaStore>,
    config: CaConfig,
    listener: TcpListener,
    limits: &Limits,
    transport: &Transport,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    sigil_serve::http::serve(
        listener,
        transport,
        router(AppState::new(store, config)),
        limits,
        shutdown,
    )
    .await
}

/// Seconds a client is told to wait (`Retry-After`) when the log is down.
const LOG_RETRY_AFTER: u64 = 5;

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, HttpError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| HttpError::internal(format!("worker failed: {e}")))?
        .map_err(|e| HttpError::internal(format!("store: {e}")))
}

fn body(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, HttpError> {
    body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("request body larger than {limit} bytes"),
        ),
        _ => HttpError::bad_request("bad_body", e.body_text()),
    })
}

fn parse_json<T: for<'de> Deserialize<'de>>(bytes: &[u8], shape: &str) -> Result<T, HttpError> {
    serde_json::from_slice(bytes).map_err(|e| {
        HttpError::bad_request(
            "malformed_json",
            format!("request body is not {shape}: {e}"),
        )
    })
}

/// What the CA answers when the log did not log an entry: `502` when the
/// log refused it or its proof does not hold (the CA and the log
/// disagree), `503` with `Retry-After` when it could not be asked.
/// `consequence` says what that means for the request.
fn log_error(e: ClientError, consequence: &str) -> HttpError {
    match e {
        ClientError::Refused { .. } | ClientError::NotFound { .. } => HttpError::new(
            StatusCode::BAD_GATEWAY,
            "log_refused",
            format!("the log refused the entry: {e}; {consequence}"),
        ),
        ClientError::BadProof { .. } => HttpError::new(
            StatusCode::BAD_GATEWAY,
            "log_proof_invalid",
            format!("{e}; {consequence}"),
        ),
        other => HttpError::unavailable(
            "log_unavailable",
            format!("the log is unavailable: {other}; {consequence}; retry later"),
            LOG_RETRY_AFTER,
        ),
    }
}

/// [`log_error`] for an enrollment whose certificate is on record.
fn enroll_log_error(e: ClientError, serial: &str) -> HttpError {
    log_error(
        e,
        &format!(
            "no certificate was handed out and the token is still valid; certificate {serial} \
             is on record and may be in the log: retry with the same token and the same key to \
             receive exactly that certificate"
        ),
    )
}

/// Removes its token hash from the in-flight set when dropped.
struct InFlight {
    inner: Arc<Inner>,
    hash: [u8; 32],
}

impl InFlight {
    fn claim(inner: &Arc<Inner>, hash: [u8; 32]) -> Option<InFlight> {
        let mut set = inner
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        set.insert(hash).then(|| InFlight {
            inner: inner.clone(),
            hash,
        })
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.inner
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.hash);
    }
}

async fn enroll(
    State(state): State<AppState>,
    body_bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, HttpError> {
    let inner = &state.inner;
    let bytes = body(body_bytes, inner.config.body_limit)?;
    let req: EnrollRequest = parse_json(&bytes, r#"{"token": "...", "csr": "<PEM>"}"#)?;
    let hash = invite::token_hash(req.token.trim())
        .map_err(|e| HttpError::bad_request("malformed_token", e.to_string()))?;

    // The CSR first: a bad one costs nothing and consumes nothing.
    let csr_bytes = if req.csr.trim_start().starts_with("-----BEGIN") {
        req.csr.into_bytes()
    } else {
        STANDARD.decode(req.csr.trim()).map_err(|_| {
            HttpError::bad_request(
                "malformed_csr",
                "csr is neither PEM (-----BEGIN CERTIFICATE REQUEST-----) nor base64 DER",
            )
        })?
    };
    let checked =
        csr::check_csr(&csr_bytes).map_err(|e| HttpError::bad_request(e.code(), e.to_string()))?;

    let _claim = InFlight::claim(&state.inner, hash).ok_or_else(|| {
        HttpError::new(
            StatusCode::CONFLICT,
            "token_in_use",
            "an enrollment with this token is in progress; wait for its answer",
        )
    })?;
    let store = inner.store.clone();
    let found = blocking(move || store.invite(&hash)).await?;
    let now = unix_ms();
    let invite = check_invite(found, &hash, now)?;

    let intermediate = &inner.config.intermediate;
    let leaf = match &invite.pending {
        // A retry: the certificate recorded for this token, never another.
        Some(pending) => pending_certificate(pending, checked.spki_der())?,
        None => {
            let leaf = issue_for(inner, &invite, checked.spki_der(), now)?;
            let serial = sigil_verifier::x509::Certificate::parse(&leaf)
                .map_err(|e| HttpError::internal(format!("issued certificate: {e}")))?
                .serial()
                .to_vec();
            let pending = PendingCertificate {
                serial: hex::encode(&serial),
                der: STANDARD.encode(&leaf),
                submitted_at: now,
            };
            let store = inner.store.clone();
            blocking(move || store.record_pending(&hash, &pending, &serial)).await?;
            leaf
        }
    };
    let parsed = sigil_verifier::x509::Certificate::parse(&leaf)
        .map_err(|e| HttpError::internal(format!("issued certificate: {e}")))?;
    let serial = parsed.serial().to_vec();

    let entry = EntryBody::Certificate(CertificateEntry {
        chain: vec![leaf.clone(), intermediate.certificate_der().to_vec()],
    });
    let logged = inner
        .config
        .log
        .submit(&entry)
        .await
        .map_err(|e| enroll_log_error(e, &hex::encode(&serial)))?;

    let issued = IssuedCertificate {
        serial: hex::encode(&serial),
        identity: invite.identity.clone(),
        crates: invite.crates.clone(),
        not_before: parsed.not_before_ms(),
        not_after: parsed.not_after_ms(),
        log_index: logged.index,
        der: STANDARD.encode(&leaf),
    };
    let record = issued.clone();
    let store = inner.store.clone();
    let serial_key = serial.clone();
    blocking(move || store.redeem(&hash, unix_ms(), &record, &serial_key)).await?;
    tracing::info!(
        serial = %issued.serial,
        identity = %issued.identity,
        crates = ?issued.crates,
        log_index = logged.index,
        "issued"
    );
    let chain = format!(
        "{}{}",
        certificate_pem(intermediate.certificate_der()),
        certificate_pem(&inner.config.root_der)
    );
    Ok((
        StatusCode::CREATED,
        axum::Json(Enrolled {
            certificate: certificate_pem(&leaf),
            chain,
            serial: issued.serial,
            identity: issued.identity,
            crates: issued.crates,
            not_before: issued.not_before,
            not_after: issued.not_after,
            log_index: logged.index,
            proof: logged.proof,
        }),
    )
        .into_response())
}

/// Issues the leaf for `invite` and the key `spki_der` (a P-256
/// SubjectPublicKeyInfo from a checked CSR), valid from a little before
/// `now` for the configured lifetime, within the intermediate's validity.
fn issue_for(
    inner: &Inner,
    invite: &Invite,
    spki_der: &[u8],
    now: u64,
) -> Result<Vec<u8>, HttpError> {
    let intermediate = &inner.config.intermediate;
    let validity_ms = u64::try_from(inner.config.leaf_validity.as_millis()).unwrap_or(u64::MAX);
    let backdate_ms = u64::try_from(BACKDATE.as_millis()).unwrap_or(0);
    let not_before = now
        .saturating_sub(backdate_ms)
        .max(intermediate.not_before_ms());
    let not_after = now
        .saturating_add(validity_ms)
        .min(intermediate.not_after_ms());
    issue_leaf(
        intermediate,
        spki_der,
        &invite.identity,
        &invite.crates,
        not_before,
        not_after,
        None,
    )
    .map_err(|e| HttpError::internal(format!("issuing: {e}")))
}

/// The certificate recorded for a token, if the retry is for the same key
/// (the CSR's `spki_der`): a token never gets a second certificate.
fn pending_certificate(
    pending: &PendingCertificate,
    spki_der: &[u8],
) -> Result<Vec<u8>, HttpError> {
    let leaf = STANDARD
        .decode(&pending.der)
        .map_err(|e| HttpError::internal(format!("stored pending certificate: {e}")))?;
    let parsed = sigil_verifier::x509::Certificate::parse(&leaf)
        .map_err(|e| HttpError::internal(format!("stored pending certificate: {e}")))?;
    if parsed.spki_der() != spki_der {
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "enrollment_pending",
            format!(
                "certificate {} was already issued for this token, for another key, and sent to \
                 the log; retry with the key it was issued for (the same CSR), or ask the CA \
                 operator to revoke it and invite you again",
                pending.serial
            ),
        ));
    }
    Ok(leaf)
}

/// The invitation if it may be redeemed now; the error tells the
/// maintainer what happened to it otherwise. An invitation with a pending
/// certificate may be completed after it expired: the certificate was
/// issued while it was valid.
fn check_invite(found: Option<Invite>, hash: &[u8; 32], now: u64) -> Result<Invite, HttpError> {
    let invite = found
        .filter(|i| {
            let mut stored = [0u8; 32];
            hex::decode_to_slice(&i.token_sha256, &mut stored).is_ok()
                && invite::hashes_equal(&stored, hash)
        })
        .ok_or_else(|| {
            HttpError::new(
                StatusCode::FORBIDDEN,
                "unknown_token",
                "this CA issued no such enrollment token; check that you copied it whole, \
             or ask the CA operator for an invitation",
            )
        })?;
    if invite.redeemed.is_some() {
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "token_used",
            "this enrollment token was already used; tokens are single-use, ask the CA \
             operator for a new invitation",
        ));
    }
    if now >= invite.expires_at && invite.pending.is_none() {
        return Err(HttpError::new(
            StatusCode::GONE,
            "token_expired",
            format!(
                "this enrollment token expired at {} (Unix ms); ask the CA operator for a \
                 new invitation",
                invite.expires_at
            ),
        ));
    }
    Ok(invite)
}

async fn chain(State(state): State<AppState>) -> Response {
    let config = &state.inner.config;
    let pem = format!(
        "{}{}",
        certificate_pem(config.intermediate.certificate_der()),
        certificate_pem(&config.root_der)
    );
    (
        [(header::CONTENT_TYPE, "application/pem-certificate-chain")],
        pem,
    )
        .into_response()
}

fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), HttpError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            HttpError::new(
                StatusCode::UNAUTHORIZED,
                "missing_admin_token",
                "this endpoint needs the admin token: Authorization: Bearer <token>",
            )
        })?;
    if !state.inner.config.admin.matches(presented.trim()) {
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "wrong_admin_token",
            "the admin token is wrong; use the one in the file given to sigil-ca serve \
             --admin-token-file",
        ));
    }
    Ok(())
}

/// An admin request: the bearer token first, then the JSON body of the
/// given `shape` (named in the error message).
fn admin_request<T: for<'de> Deserialize<'de>>(
    state: &AppState,
    headers: &HeaderMap,
    body_bytes: Result<Bytes, BytesRejection>,
    shape: &str,
) -> Result<T, HttpError> {
    require_admin(state, headers)?;
    let bytes = body(body_bytes, state.inner.config.body_limit)?;
    parse_json(&bytes, shape)
}

/// Default lifetime of an invitation.
pub const DEFAULT_INVITE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

async fn create_invite(
    State(state): State<AppState>,
    headers: HeaderMap,
    body_bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, HttpError> {
    let req: InviteRequest = admin_request(
        &state,
        &headers,
        body_bytes,
        r#"{"identity": "...", "crates": ["..."], "ttl_seconds": N}"#,
    )?;
    let inner = &state.inner;
    // Refuse now what issuance would refuse later.
    classify_identity(&req.identity)
        .map_err(|e| HttpError::bad_request("bad_identity", e.to_string()))?;
    encode_scope(&req.crates).map_err(|e| HttpError::bad_request("bad_scope", e.to_string()))?;
    let ttl = match req.ttl_seconds {
        None => DEFAULT_INVITE_TTL,
        Some(0) => return Err(HttpError::bad_request("bad_ttl", "ttl_seconds must be > 0")),
        Some(s) => Duration::from_secs(s),
    };
    if ttl > inner.config.max_invite_ttl {
        return Err(HttpError::bad_request(
            "bad_ttl",
            format!(
                "ttl_seconds may be at most {}",
                inner.config.max_invite_ttl.as_secs()
            ),
        ));
    }
    let (token, hash) = invite::new_token().map_err(|e| HttpError::internal(e.to_string()))?;
    let now = unix_ms();
    let invite = Invite {
        token_sha256: hex::encode(hash),
        identity: req.identity,
        crates: req.crates,
        created_at: now,
        expires_at: now.saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)),
        redeemed: None,
        pending: None,
    };
    let record = invite.clone();
    let store = inner.store.clone();
    blocking(move || store.put_invite(&hash, &record)).await?;
    tracing::info!(identity = %invite.identity, crates = ?invite.crates, "invited");
    Ok((
        StatusCode::CREATED,
        axum::Json(Invited {
            token: token.as_str().to_owned(),
            identity: invite.identity,
            crates: invite.crates,
            expires_at: invite.expires_at,
        }),
    )
        .into_response())
}

fn parse_serial(hex_serial: &str) -> Result<Vec<u8>, HttpError> {
    let serial = hex::decode(hex_serial.trim()).map_err(|_| {
        HttpError::bad_request(
            "bad_serial",
            "serial must be the certificate's serial number in hex, as the enrollment \
             answer and `openssl x509 -serial` print it",
        )
    })?;
    validate_serial(&serial).map_err(|e| HttpError::bad_request("bad_serial", e.to_string()))?;
    Ok(serial)
}

async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body_bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, HttpError> {
    let req: RevokeRequest = admin_request(
        &state,
        &headers,
        body_bytes,
        r#"{"serial": "<hex>", "reason": "keyCompromise", "from_index": N}"#,
    )?;
    let inner = &state.inner;
    let serial = parse_serial(&req.serial)?;
    let reason = CrlReason::from_name(&req.reason).ok_or_else(|| {
        let names: Vec<&str> = CrlReason::ALL.iter().map(|r| r.name()).collect();
        HttpError::bad_request(
            "bad_reason",
            format!("reason must be one of {names:?} (RFC 5280 §5.3.1)"),
        )
    })?;
    let store = inner.store.clone();
    let key = serial.clone();
    // Every certificate this CA ever submitted to the log, handed out or
    // still pending, may be revoked.
    if !blocking(move || store.is_known_serial(&key)).await? {
        return Err(HttpError::not_found(
            "unknown_certificate",
            format!("this CA issued no certificate with serial {}", req.serial),
        ));
    }
    let log = &inner.config.log;
    let origin = log.origin().ok_or_else(|| {
        HttpError::internal("the CA has no log key, so no log origin to sign revocations for")
    })?;
    // The size of a checkpoint the log signed, never an unchecked one: a
    // forged size would void releases the revocation is not meant to.
    let size = log.verified_tree_size().await.map_err(|e| match e {
        ClientError::BadProof { .. } => HttpError::new(
            StatusCode::BAD_GATEWAY,
            "log_checkpoint_invalid",
            format!("{e}; nothing was signed, the revocation is not in effect"),
        ),
        other => log_error(other, "the revocation is not in effect"),
    })?;
    let from_index = match req.from_index {
        Some(i) if i > size => {
            return Err(HttpError::bad_request(
                "bad_from_index",
                format!(
                    "from_index {i} is beyond the log's size {size} (its signed checkpoint); \
                     give an index the log has reached, or none for its current size"
                ),
            ));
        }
        Some(i) => i,
        None => size,
    };
    let now = unix_ms();
    let revocation = sign_revocation(
        &inner.config.intermediate,
        origin,
        &serial,
        reason,
        from_index,
        now,
    )
    .map_err(|e| HttpError::internal(format!("signing the revocation: {e}")))?;
    let logged = log
        .submit(&EntryBody::Revocation(revocation))
        .await
        .map_err(|e| log_error(e, "the revocation is not in effect"))?;
    let record = RevocationRecord {
        serial: hex::encode(&serial),
        reason: reason.code(),
        from_index,
        revoked_at: now,
        log_index: logged.index,
    };
    let store = inner.store.clone();
    let stored = record.clone();
    blocking(move || store.put_revocation(&serial, &stored)).await?;
    tracing::warn!(
        serial = %record.serial,
        reason = reason.name(),
        from_index,
        log_index = logged.index,
        "revoked"
    );
    Ok((
        StatusCode::CREATED,
        axum::Json(Revoked {
            serial: record.serial,
            reason: reason.name().to_owned(),
            from_index,
            revoked_at: now,
            log_index: logged.index,
            proof: logged.proof,
        }),
    )
        .into_response())
}

async fn get_certificate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(serial_hex): Path<String>,
) -> Result<Response, HttpError> {
    require_admin(&state, &headers)?;
    let serial = parse_serial(&serial_hex)?;
    let store = state.inner.store.clone();
    let (cert, revocation, known) = blocking(move || {
        Ok((
            store.certificate(&serial)?,
            store.revocation(&serial)?,
            store.is_known_serial(&serial)?,
        ))
    })
    .await?;
    let certificate = cert.ok_or_else(|| {
        if known {
            HttpError::not_found(
                "certificate_pending",
                format!(
                    "certificate {serial_hex} was issued and sent to the log, but its enrollment \
                     has not completed (the maintainer retries with the same token); it can be \
                     revoked"
                ),
            )
        } else {
            HttpError::not_found(
                "unknown_certificate",
                format!("this CA issued no certificate with serial {serial_hex}"),
            )
        }
    })?;
    Ok(axum::Json(CertificateStatus {
        certificate,
        revocation,
    })
    .into_response())
}
