//! The HTTP clients (`LogClient`, `CaClient`, `Webhook`, and their
//! blocking faces) against small axum stubs on 127.0.0.1 (port 0) that
//! answer what a real server would, and what a broken one might: error
//! bodies, `404`s that are answers, garbage, a closed port, a connection
//! dropped before any answer. The real `sigil-log` and `sigil-ca` are
//! exercised in `tests/tests/client.rs` (sigil-e2e).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read as _;
use std::sync::{Arc, Mutex, mpsc};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use sigil_client::blocking;
use sigil_client::{ClientError, FetchError, LogClient, TileSource};
use sigil_core::api_error::ErrorBody;
use sigil_core::ca_api::{EnrollRequest, Enrolled, InviteRequest, Invited};
use sigil_core::entry::{CertificateEntry, EntryBody};
use sigil_core::log_api::{ConsistencyProof, RevocationStatus};

/// Serves `router` on 127.0.0.1:0 from a thread of its own (it lives as
/// long as the test process); returns its base URL.
fn serve(router: Router) -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("http://{}", listener.local_addr().unwrap()))
                .unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// A JSON error answer as the servers give it.
fn error(status: StatusCode, code: &str) -> impl IntoResponse {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        ErrorBody::new(code, format!("the stub says {code}")).to_json(),
    )
}

fn certificate_entry() -> EntryBody {
    EntryBody::Certificate(CertificateEntry {
        chain: vec![vec![0x30, 0x03, 0x02, 0x01, 0x01]],
    })
}

#[tokio::test]
async fn a_4xx_error_body_is_refused_with_its_code() {
    let url = serve(
        Router::new()
            .route(
                "/api/v1/entries",
                post(|| async {
                    let mut body = ErrorBody::new("conflict", "crate@version is logged");
                    body.error.existing_index = Some(41);
                    (StatusCode::CONFLICT, body.to_json())
                }),
            )
            .route(
                "/healthz",
                get(|| async { error(StatusCode::UNPROCESSABLE_ENTITY, "out_of_scope") }),
            ),
    );
    let log = LogClient::new(&url).unwrap();
    match log.submit(&certificate_entry()).await {
        Err(ClientError::Refused {
            status,
            code,
            message,
            existing_index,
            ..
        }) => {
            assert_eq!((status, code.as_str()), (409, "conflict"));
            assert_eq!(message, "crate@version is logged");
            assert_eq!(existing_index, Some(41));
        }
        other => panic!("{other:?}"),
    }
    let e = log.health().await.unwrap_err();
    assert!(matches!(e, ClientError::Refused { .. }), "{e:?}");
    assert_eq!((e.status(), e.code()), (Some(422), Some("out_of_scope")));
    assert!(e.to_string().contains("out_of_scope"), "{e}");
}

#[tokio::test]
async fn a_404_on_release_proof_or_revocation_is_none() {
    let id = [7u8; 32];
    let revoked = RevocationStatus {
        certificate_id: [9; 32],
        from_index: 12,
        index: 14,
        proof: "c2sp.org/tlog-proof@v1\n".into(),
    };
    let url = serve(
        Router::new()
            .route(
                "/api/v1/releases/{name}/{version}",
                get(|| async { error(StatusCode::NOT_FOUND, "no_such_release") }),
            )
            .route(
                "/api/v1/revocations/{id}",
                get(
                    move |axum::extract::Path(id): axum::extract::Path<String>| async move {
                        if id == hex::encode([9u8; 32]) {
                            axum::Json(revoked).into_response()
                        } else {
                            error(StatusCode::NOT_FOUND, "not_revoked").into_response()
                        }
                    },
                ),
            )
            .fallback(|| async { error(StatusCode::NOT_FOUND, "no_such_route") }),
    );
    let log = LogClient::new(&url).unwrap();
    assert_eq!(log.release_proof("serde", "1.0.0").await.unwrap(), None);
    assert_eq!(log.revocation(&id).await.unwrap(), None);
    let status = log.revocation(&[9; 32]).await.unwrap().unwrap();
    assert_eq!(status.from_index, 12);
    // A 404 that is not an answer (no such route: not a log's URL) is an
    // error, never "absent".
    let elsewhere = LogClient::new(&format!("{url}/not-a-log")).unwrap();
    let e = elsewhere.release_proof("serde", "1.0.0").await.unwrap_err();
    assert!(
        matches!(&e, ClientError::NotFound { code, .. } if code == "no_such_route"),
        "{e:?}"
    );
    assert!(elsewhere.revocation(&id).await.is_err());
}

#[tokio::test]
async fn garbage_and_non_json_server_errors_are_typed() {
    let url = serve(
        Router::new()
            .route("/healthz", get(|| async { "ok, sort of" }))
            .route(
                "/checkpoint",
                get(|| async {
                    (
                        StatusCode::BAD_GATEWAY,
                        [(header::RETRY_AFTER, "7")],
                        "<html>bad gateway</html>",
                    )
                }),
            )
            .route(
                "/api/v1/proofs/consistency",
                get(|| async {
                    axum::Json(ConsistencyProof {
                        from: 1,
                        to: 3,
                        hashes: vec![[0; 32]],
                    })
                }),
            )
            .route(
                "/api/v1/entries",
                post(|| async { (StatusCode::CREATED, "{\"index\": \"seven\"}") }),
            ),
    );
    let log = LogClient::new(&url).unwrap();
    let e = log.health().await.unwrap_err();
    assert!(matches!(e, ClientError::BadAnswer { .. }), "{e:?}");
    let e = log.submit(&certificate_entry()).await.unwrap_err();
    assert!(matches!(e, ClientError::BadAnswer { .. }), "{e:?}");
    match log.checkpoint().await {
        Err(ClientError::Unavailable {
            status,
            code,
            message,
            retry_after,
            ..
        }) => {
            assert_eq!((status, code.as_str()), (502, "http_502"));
            assert_eq!(message, "<html>bad gateway</html>");
            assert_eq!(retry_after, Some(7));
        }
        other => panic!("{other:?}"),
    }
    // A proof for other sizes than asked is not an answer.
    let e = log.consistency_proof(1, 2).await.unwrap_err();
    assert!(matches!(e, ClientError::BadAnswer { .. }), "{e:?}");
    assert_eq!(log.consistency_proof(1, 3).await.unwrap().hashes.len(), 1);
}

/// A port nobody listens on: bound, then released.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let log = LogClient::new(&closed_port()).unwrap();
    let e = log.health().await.unwrap_err();
    assert!(matches!(e, ClientError::Unreachable { .. }), "{e:?}");
    assert_eq!(e.status(), None);
    let ca = sigil_client::CaClient::new(&closed_port()).unwrap();
    assert!(matches!(
        ca.chain().await,
        Err(ClientError::Unreachable { .. })
    ));
}

/// A server that accepts connections and closes each one after reading
/// the request, answering nothing (at most `n` connections).
fn dropping_server(n: usize) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let Ok(mut stream) = stream else { break };
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
        }
    });
    url
}

#[test]
fn a_missing_tile_is_not_found_and_a_dropped_connection_unavailable() {
    let url = serve(
        Router::new()
            .route("/tile/0/000", get(|| async { vec![1u8; 32 * 256] }))
            .route(
                "/tile/0/001.p/3",
                get(|| async { error(StatusCode::NOT_FOUND, "no_such_tile") }),
            )
            .route("/checkpoint", get(|| async { "a note\n" })),
    );
    let log = blocking::LogClient::new(&url).unwrap();
    let source: &dyn TileSource = &log;
    assert_eq!(source.tile("tile/0/000").unwrap().len(), 32 * 256);
    match source.tile("tile/0/001.p/3") {
        Err(FetchError::NotFound { what }) => assert_eq!(what, "tile/0/001.p/3"),
        other => panic!("{other:?}"),
    }
    assert_eq!(source.checkpoint().unwrap(), b"a note\n");

    let dropped = blocking::LogClient::new(&dropping_server(2)).unwrap();
    match (&dropped as &dyn TileSource).tile("tile/0/000") {
        Err(FetchError::Unavailable { what, source }) => {
            assert_eq!(what, "tile/0/000");
            assert!(source.to_string().contains("cannot reach"), "{source}");
        }
        other => panic!("{other:?}"),
    }
    let e = dropped.health().unwrap_err();
    assert!(matches!(e, ClientError::Unreachable { .. }), "{e:?}");
}

#[test]
fn a_consistency_source_failure_is_a_typed_fetch_error() {
    use sigil_client::ConsistencySource;
    let url = serve(Router::new().route(
        "/api/v1/proofs/consistency",
        get(|| async { error(StatusCode::BAD_REQUEST, "bad_range") }),
    ));
    let log = blocking::LogClient::new(&url).unwrap();
    // The inherent method answers the typed proof; the trait's, the hashes.
    match ConsistencySource::consistency_proof(&log, 2, 5) {
        Err(FetchError::Unavailable { what, source }) => {
            assert!(what.contains("from size 2 to 5"), "{what}");
            assert!(source.to_string().contains("bad_range"), "{source}");
        }
        other => panic!("{other:?}"),
    }
    let closed = blocking::LogClient::new(&closed_port()).unwrap();
    let source: &dyn ConsistencySource = &closed;
    assert!(matches!(
        source.consistency_proof(2, 5),
        Err(FetchError::Unavailable { .. })
    ));
}

/// What the CA stub saw.
#[derive(Default)]
struct Seen {
    authorization: Vec<Option<String>>,
    bodies: Vec<String>,
}

#[test]
fn the_ca_client_sends_typed_bodies_and_the_admin_token() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    let record_enroll = seen.clone();
    let url = serve(
        Router::new()
            .route(
                "/api/v1/admin/invites",
                post(move |headers: HeaderMap, body: String| {
                    let record = record.clone();
                    async move {
                        let auth = headers
                            .get(header::AUTHORIZATION)
                            .map(|v| v.to_str().unwrap().to_owned());
                        let ok = auth.as_deref() == Some("Bearer s3cret");
                        let mut seen = record.lock().unwrap();
                        seen.authorization.push(auth);
                        seen.bodies.push(body.clone());
                        if !ok {
                            return error(StatusCode::UNAUTHORIZED, "missing_admin_token")
                                .into_response();
                        }
                        let req: InviteRequest = serde_json::from_str(&body).unwrap();
                        (
                            StatusCode::CREATED,
                            axum::Json(Invited {
                                token: "sigil-enroll-x".into(),
                                identity: req.identity,
                                crates: req.crates,
                                expires_at: 99,
                            }),
                        )
                            .into_response()
                    }
                }),
            )
            .route(
                "/api/v1/enroll",
                post(move |body: String| {
                    let record_enroll = record_enroll.clone();
                    async move {
                        record_enroll.lock().unwrap().bodies.push(body.clone());
                        let req: EnrollRequest = serde_json::from_str(&body).unwrap();
                        (
                            StatusCode::CREATED,
                            axum::Json(Enrolled {
                                certificate: "LEAF".into(),
                                chain: "CHAIN".into(),
                                serial: "41".into(),
                                identity: format!("for {}", req.token),
                                crates: vec!["serde".into()],
                                not_before: 1,
                                not_after: 2,
                                log_index: 3,
                                proof: "PROOF".into(),
                            }),
                        )
                    }
                }),
            ),
    );
    let invite = InviteRequest {
        identity: "alice@example.org".into(),
        crates: vec!["serde".into()],
        ttl_seconds: None,
    };
    let anonymous = blocking::CaClient::new(&url).unwrap();
    let e = anonymous.invite(&invite).unwrap_err();
    assert_eq!(e.code(), Some("missing_admin_token"));
    let admin = anonymous.clone().with_admin_token("s3cret\nignored line\n");
    assert!(!format!("{admin:?}").contains("s3cret"));
    let invited = admin.invite(&invite).unwrap();
    assert_eq!(invited.token, "sigil-enroll-x");
    assert_eq!(invited.crates, ["serde"]);
    let enrolled = admin
        .enroll(&EnrollRequest {
            token: "t".into(),
            csr: "CSR".into(),
        })
        .unwrap();
    assert_eq!(
        (enrolled.identity.as_str(), enrolled.log_index),
        ("for t", 3)
    );
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.authorization,
        [None, Some("Bearer s3cret".to_string())]
    );
    // The bodies are the core types' JSON: no member the server refuses.
    assert_eq!(
        seen.bodies[0],
        r#"{"identity":"alice@example.org","crates":["serde"]}"#
    );
    assert_eq!(seen.bodies[2], r#"{"token":"t","csr":"CSR"}"#);
}

#[test]
fn a_webhook_gets_the_json_and_a_refusal_is_an_error() {
    let (tx, rx) = mpsc::channel::<(String, String)>();
    let tx = Arc::new(Mutex::new(tx));
    let url = serve(
        Router::new()
            .route(
                "/hook",
                post(move |headers: HeaderMap, body: String| {
                    let tx = tx.clone();
                    async move {
                        let kind = headers
                            .get(header::CONTENT_TYPE)
                            .map(|v| v.to_str().unwrap().to_owned())
                            .unwrap_or_default();
                        tx.lock().unwrap().send((kind, body)).unwrap();
                        StatusCode::NO_CONTENT
                    }
                }),
            )
            .route("/gone", post(|| async { StatusCode::GONE })),
    );
    let hook = blocking::Webhook::new(&format!("{url}/hook?channel=alerts")).unwrap();
    // A query is kept: the stub's route matches the path.
    hook.post(br#"{"kind":"release"}"#).unwrap();
    let (kind, body) = rx.recv().unwrap();
    assert_eq!(kind, "application/json");
    assert_eq!(body, r#"{"kind":"release"}"#);
    let gone = blocking::Webhook::new(&format!("{url}/gone")).unwrap();
    let e = gone.post(b"{}").unwrap_err();
    assert!(
        matches!(e, ClientError::Refused { status: 410, .. }),
        "{e:?}"
    );
}

/// Over the log's rate limit, a submission waits as `Retry-After` asks and
/// is sent again (a submission is idempotent); after
/// `SUBMIT_RETRIES` more 429s it is the 429 that comes back.
#[tokio::test]
async fn a_submission_over_the_rate_limit_is_sent_again_after_retry_after() {
    use std::sync::atomic::{AtomicU32, Ordering};
    let seen = Arc::new(AtomicU32::new(0));
    let limited = |n: u32| {
        let seen = seen.clone();
        move || {
            let seen = seen.clone();
            async move {
                if seen.fetch_add(1, Ordering::SeqCst) < n {
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        [(header::RETRY_AFTER, "1")],
                        ErrorBody::new("rate_limited", "slow down").to_json(),
                    )
                        .into_response()
                } else {
                    (
                        StatusCode::CREATED,
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"index":7,"proof":"p"}"#,
                    )
                        .into_response()
                }
            }
        }
    };
    // Two 429s, then the answer.
    let url = serve(Router::new().route("/api/v1/entries", post(limited(2))));
    let submitted = LogClient::new(&url)
        .unwrap()
        .submit(&certificate_entry())
        .await
        .unwrap();
    assert_eq!(submitted.index, 7);
    assert_eq!(seen.load(Ordering::SeqCst), 3);
    // Never anything but 429: the client gives up with it.
    seen.store(0, Ordering::SeqCst);
    let url = serve(Router::new().route("/api/v1/entries", post(limited(u32::MAX))));
    let e = LogClient::new(&url)
        .unwrap()
        .submit(&certificate_entry())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(429), "{e:?}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        sigil_client::log_client::SUBMIT_RETRIES + 1
    );
}
