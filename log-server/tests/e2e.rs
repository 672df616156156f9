//! End-to-end tests of the real `sigil-log` binary on 127.0.0.1 (port 0,
//! temporary directories, real RocksDB, real HTTP): every admission rule,
//! duplicates, every read API checked with `sigil-core` and against tiles
//! fetched over HTTP, restarts and bad input. Requests and answers are the
//! typed bodies of `sigil_core::log_api` and `sigil_core::api_error`, so
//! these tests also hold the server to that contract.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use sigil_ca::issue;
use sigil_core::api_error::ErrorBody;
use sigil_core::checkpoint::Checkpoint;
use sigil_core::entry::{CertificateEntry, CrlReason, Entry, EntryBody};
use sigil_core::log_api::{
    ConsistencyProof, EntryInfo, InclusionProof, ReleaseList, Submitted, encode_submission,
};
use sigil_core::merkle;
use sigil_core::note::{self, Note};
use sigil_core::proof;
use sigil_core::tile::TileHashReader;
use sigil_serve::unix_ms;

#[test]
fn keygen_writes_a_private_key_only_its_owner_reads() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let (key, vkey) = keygen(dir.path(), ORIGIN);
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(note::parse_verifier_key(&vkey).is_ok());
    let private = std::fs::read_to_string(&key).unwrap();
    assert!(private.starts_with(&format!("PRIVATE+KEY+{ORIGIN}+")));
    // A key others can read is refused.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let ca = TestCa::new("x");
    let root = ca.write_root(dir.path());
    let stderr = LogServer::refuses(&dir.path().join("data"), &key, &root);
    assert!(stderr.contains("chmod 600"), "{stderr}");
}

#[test]
fn a_signed_release_is_logged_and_every_proof_checks_out() {
    let s = setup();
    let log = s.start();
    let policy = s.policy();
    let alice = s.ca.maintainer(&["hello"]);

    let (status, body) = submit(&log, &alice.release_body("hello", "1.0.0", b"crate v1"));
    assert_eq!(status, 201, "{body:?}");
    let body = ok(body);
    let index = body.index;
    let proof_text = body.proof.as_str();
    let verified = proof::verify(proof_text.as_bytes(), &policy).unwrap();
    assert_eq!(verified.index, index);
    let entry = Entry::decode(&verified.entry).unwrap();
    assert_eq!(entry.kind_name(), "release");

    // An independent RFC 6962 verifier (Python standard library) agrees.
    let proof_file = s.dir.path().join("hello-1.0.0.crate.tlog-proof");
    std::fs::write(&proof_file, proof_text).unwrap();
    let script = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("../tools/verify_tlog_proof.py");
    if let Ok(out) = std::process::Command::new("python3")
        .arg(script)
        .arg(&proof_file)
        .args(["--origin", ORIGIN])
        .output()
    {
        assert!(
            out.status.success(),
            "independent verifier: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    // More entries, so the tree has interior nodes.
    for i in 0..20 {
        let (status, body) = submit(
            &log,
            &alice.release_body("hello", &format!("1.1.{i}"), b"x"),
        );
        assert_eq!(status, 201, "{body:?}");
    }
    let cp = checkpoint_of(&log, &policy);
    assert_eq!(cp.size, 21);

    // Entry by index.
    let (status, e) = get_json::<EntryInfo>(&log, &format!("/api/v1/entries/{index}"));
    assert_eq!(status, 200);
    let e = ok(e);
    assert_eq!(e.entry, verified.entry);
    assert_eq!(e.leaf_hash, merkle::leaf_hash(&verified.entry));
    assert_eq!(e.crate_name.as_deref(), Some("hello"));
    assert_eq!(e.kind.as_deref(), Some("release"));

    // Inclusion proofs from the API verify, and equal those computed from
    // tiles fetched over HTTP and authenticated against the checkpoint.
    let tiles = HttpTiles(&log);
    let from_tiles = TileHashReader::authenticated(cp.size, cp.root, &tiles);
    for i in [0u64, 7, 20] {
        let (status, p) = get_json::<InclusionProof>(
            &log,
            &format!("/api/v1/proofs/inclusion?index={i}&size={}", cp.size),
        );
        assert_eq!(status, 200, "{p:?}");
        let p = ok(p);
        assert_eq!((p.index, p.size), (i, cp.size));
        let hashes = p.hashes;
        let (_, e) = get_json::<EntryInfo>(&log, &format!("/api/v1/entries/{i}"));
        let leaf = merkle::leaf_hash(&ok(e).entry);
        merkle::verify_inclusion(&leaf, i, cp.size, &hashes, &cp.root).unwrap();
        assert_eq!(
            merkle::prove_inclusion(i, cp.size, &from_tiles).unwrap(),
            hashes
        );
    }

    // Consistency from an early size.
    let (status, c) = get_json::<ConsistencyProof>(&log, "/api/v1/proofs/consistency?from=1&to=21");
    assert_eq!(status, 200, "{c:?}");
    let hashes = ok(c).hashes;
    let old_root = merkle::leaf_hash(&verified.entry);
    merkle::verify_consistency(1, 21, &old_root, &cp.root, &hashes).unwrap();

    // Releases of a crate, and the proof file of one.
    let (status, list) = get_json::<ReleaseList>(&log, "/api/v1/releases/hello");
    assert_eq!(status, 200);
    let list = ok(list);
    assert_eq!(
        (list.crate_name.as_str(), list.releases.len()),
        ("hello", 21)
    );
    let (status, file) = get(&log, "/api/v1/releases/hello/1.0.0");
    assert_eq!(status, 200);
    assert_eq!(proof::verify(&file, &policy).unwrap().index, index);
    let (status, _) = get(&log, "/api/v1/releases/hello/9.9.9");
    assert_eq!(status, 404);

    // Full tiles are immutable, the checkpoint is not.
    let r = client()
        .get(format!("{}/checkpoint", log.url))
        .send()
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-cache");
    let (status, _) = get(&log, "/healthz");
    assert_eq!(status, 200);
    let (status, metrics) = get(&log, "/metrics");
    assert_eq!(status, 200);
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(metrics.contains("sigil_log_tree_size 21"), "{metrics}");
    // RocksDB's own memory accounting, by the part each setting bounds:
    // the memtables hold the 21 entries.
    let memtables = metrics
        .lines()
        .find_map(|l| l.strip_prefix("sigil_log_storage_memory_bytes{part=\"memtables\"} "))
        .and_then(|v| v.trim().parse::<u64>().ok());
    assert!(memtables.is_some_and(|b| b > 0), "{metrics}");
    for part in ["table_readers", "block_cache"] {
        assert!(
            metrics.contains(&format!(
                "sigil_log_storage_memory_bytes{{part=\"{part}\"}}"
            )),
            "{part}: {metrics}"
        );
    }
}

#[test]
fn duplicates_and_conflicts() {
    let s = setup();
    let log = s.start();
    let alice = s.ca.maintainer(&["dup"]);
    let body = alice.release_body("dup", "1.0.0", b"one");
    let (status, first) = submit(&log, &body);
    assert_eq!(status, 201, "{first:?}");
    let first = ok(first);
    let (status, again) = submit(&log, &body);
    assert_eq!(status, 200, "{again:?}");
    let again = ok(again);
    assert_eq!(again.index, first.index);
    proof::verify(again.proof.as_bytes(), &s.policy()).unwrap();
    // Same crate@version, same digest, another signature: still the same release.
    let (status, again) = submit(&log, &alice.release_body("dup", "1.0.0", b"one"));
    assert_eq!(status, 200, "{again:?}");
    // Another artifact for the same crate@version.
    let (status, conflict) = submit(&log, &alice.release_body("dup", "1.0.0", b"two"));
    assert_eq!(status, 409, "{conflict:?}");
    let conflict = conflict.unwrap_err().error;
    assert_eq!(
        (conflict.code.as_str(), conflict.existing_index),
        ("conflict", Some(first.index))
    );
}

#[test]
fn admission_refuses_what_the_verifier_refuses() {
    let s = setup();
    let log = s.start();
    let alice = s.ca.maintainer(&["alpha"]);

    // Out of scope.
    let (status, body) = submit(&log, &alice.release_body("beta", "1.0.0", b"x"));
    assert_eq!(
        (status, error_code(&body)),
        (422, "out_of_scope"),
        "{body:?}"
    );

    // A chain to another CA.
    let other = TestCa::new("Other").maintainer(&["alpha"]);
    let (status, body) = submit(&log, &other.release_body("alpha", "1.0.0", b"x"));
    assert_eq!(status, 422, "{body:?}");

    // Expired and not yet valid.
    let expired =
        s.ca.maintainer_at(&["alpha"], unix_ms() - 2 * DAY_MS, unix_ms() - DAY_MS);
    let (status, body) = submit(&log, &expired.release_body("alpha", "1.0.0", b"x"));
    assert_eq!((status, error_code(&body)), (422, "expired"), "{body:?}");
    let future =
        s.ca.maintainer_at(&["alpha"], unix_ms() + DAY_MS, unix_ms() + 2 * DAY_MS);
    let (status, body) = submit(&log, &future.release_body("alpha", "1.0.0", b"x"));
    assert_eq!(
        (status, error_code(&body)),
        (422, "not_yet_valid"),
        "{body:?}"
    );

    // Signed by a key that is not the certificate's.
    let mut forged = alice.release("alpha", "1.0.0", b"x");
    forged.signers[0].chain = s.ca.maintainer(&["alpha"]).chain;
    let (status, body) = submit(&log, &EntryBody::Release(forged));
    assert_eq!(
        (status, error_code(&body)),
        (422, "bad_signature"),
        "{body:?}"
    );

    // Mismatched digest: the statement names one sha256, the payload is edited.
    let mut tampered = alice.release("alpha", "1.0.0", b"x");
    let statement = &mut tampered.payload;
    let pos = statement.windows(6).position(|w| w == b"sha256").unwrap() + 9;
    statement[pos] = if statement[pos] == b'a' { b'b' } else { b'a' };
    let (status, body) = submit(&log, &EntryBody::Release(tampered));
    assert_eq!(
        (status, error_code(&body)),
        (422, "bad_signature"),
        "{body:?}"
    );

    // The certificate entry the CA logs is accepted.
    let (status, body) = submit(
        &log,
        &EntryBody::Certificate(CertificateEntry {
            chain: alice.chain.clone(),
        }),
    );
    assert_eq!(status, 201, "{body:?}");

    // A valid release, then a revocation from the next index: later releases
    // by that certificate are refused, the earlier one stays in the log.
    let (status, body) = submit(&log, &alice.release_body("alpha", "1.0.0", b"x"));
    assert_eq!(status, 201, "{body:?}");
    let body = ok(body);
    let next = body.index + 1;
    let leaf_serial = {
        let e = Entry::decode(
            &proof::verify(body.proof.as_bytes(), &s.policy())
                .unwrap()
                .entry,
        )
        .unwrap();
        let EntryBody::Release(r) = e.body else {
            panic!()
        };
        sigil_verifier::check_release(
            &r,
            e.integrated_at,
            0,
            &sigil_verifier::TrustedRoots::from_der(vec![s.ca.root.certificate_der().to_vec()])
                .unwrap(),
            sigil_verifier::RevocationSet::empty(),
            None,
        )
        .unwrap()[0]
            .serial
            .clone()
    };
    let rev = issue::sign_revocation(
        &s.ca.intermediate,
        ORIGIN,
        &leaf_serial,
        CrlReason::KeyCompromise,
        next,
        unix_ms(),
    )
    .unwrap();
    let (status, body) = submit(&log, &EntryBody::Revocation(rev.clone()));
    assert_eq!(status, 201, "{body:?}");
    let revocation = rev;
    let (status, body) = submit(&log, &alice.release_body("alpha", "1.0.1", b"y"));
    assert_eq!((status, error_code(&body)), (422, "revoked"), "{body:?}");
    let (status, _) = get(&log, "/api/v1/releases/alpha/1.0.0");
    assert_eq!(status, 200);

    // A revocation signed by another CA is refused.
    let other_ca = TestCa::new("Other");
    let rev = issue::sign_revocation(
        &other_ca.intermediate,
        ORIGIN,
        &leaf_serial,
        CrlReason::KeyCompromise,
        0,
        unix_ms(),
    )
    .unwrap();
    let mut forged = revocation;
    forged.signature = rev.signature;
    forged.signer_chain = rev.signer_chain;
    let (status, body) = submit(&log, &EntryBody::Revocation(forged));
    assert_eq!(status, 422, "{body:?}");
}

#[test]
fn bad_input_gets_a_4xx_json_error_and_the_server_keeps_serving() {
    let s = setup();
    let log = s.start();
    let alice = s.ca.maintainer(&["ok"]);
    let good = alice.release_body("ok", "1.0.0", b"ok");

    let cases: &[(&str, Vec<u8>, u16, &str)] = &[
        ("not json", b"{".to_vec(), 400, "malformed_json"),
        ("not an object", b"[1,2]".to_vec(), 400, "malformed_json"),
        (
            "no kind",
            br#"{"chain":[]}"#.to_vec(),
            400,
            "malformed_json",
        ),
        (
            "unknown kind",
            br#"{"kind":"banana"}"#.to_vec(),
            400,
            "unknown_kind",
        ),
        (
            "unknown field",
            br#"{"kind":"certificate","chain":["AA=="],"x":1}"#.to_vec(),
            400,
            "malformed_json",
        ),
        (
            "bad base64",
            br#"{"kind":"certificate","chain":["!!!"]}"#.to_vec(),
            400,
            "malformed_base64",
        ),
        (
            "empty chain",
            br#"{"kind":"certificate","chain":[]}"#.to_vec(),
            400,
            "malformed_chain",
        ),
        (
            "garbage certificate",
            br#"{"kind":"certificate","chain":["AAAA"]}"#.to_vec(),
            422,
            "malformed_certificate",
        ),
        (
            "bad envelope",
            br#"{"kind":"release","envelope":{"payloadType":"x"},"chains":[]}"#.to_vec(),
            400,
            "malformed_envelope",
        ),
        ("oversized", vec![b' '; 300 * 1024], 413, "body_too_large"),
    ];
    for (what, body, want_status, want_code) in cases {
        let (status, answer) = post(&log, body);
        assert_eq!(
            (status, error_code(&answer)),
            (*want_status, *want_code),
            "{what}: {answer:?}"
        );
        assert!(answer.is_err_and(|e| !e.error.message.is_empty()), "{what}");
    }
    // Chains that don't match the signatures: no chain for the one
    // signature (the body cut before its "chains" member, which is last).
    let good_json = String::from_utf8(encode_submission(&good)).unwrap();
    let chains = good_json.find(r#""chains":"#).unwrap();
    let wrong = format!(r#"{}"chains":[]}}"#, &good_json[..chains]);
    let (status, answer) = post(&log, wrong.as_bytes());
    assert_eq!(
        (status, error_code(&answer)),
        (400, "malformed_release"),
        "{answer:?}"
    );

    for (path, want) in [
        ("/tile/0/001", 404),
        ("/tile/0/x000", 400),
        ("/tile/0/000.p/0", 400),
        ("/tile/99/000", 400),
        ("/tile/entries/000", 404),
        ("/api/v1/entries/0", 404),
        ("/api/v1/entries/01", 400),
        ("/api/v1/entries/-1", 400),
        ("/api/v1/proofs/inclusion?index=0&size=1", 400),
        ("/api/v1/proofs/inclusion?index=x", 400),
        ("/api/v1/proofs/consistency?from=0&to=0", 400),
        ("/no/such/thing", 404),
    ] {
        let (status, body) = get(&log, path);
        assert_eq!(status, want, "GET {path}: {body:?}");
        let error = ErrorBody::parse(&body);
        assert!(
            error.is_some_and(|e| !e.error.code.is_empty()),
            "GET {path}: {body:?}"
        );
    }
    // Still serving.
    let (status, body) = submit(&log, &good);
    assert_eq!(status, 201, "{body:?}");
}

#[test]
fn restarts_keep_the_log_and_refuse_a_wrong_key() {
    let s = setup();
    let policy = s.policy();
    let alice = s.ca.maintainer(&["keep"]);
    let log = s.start();
    for i in 0..5 {
        let (status, _) = submit(&log, &alice.release_body("keep", &format!("0.{i}.0"), b"k"));
        assert_eq!(status, 201);
    }
    let before = checkpoint_of(&log, &policy);
    let (_, before_note) = get(&log, "/checkpoint");
    assert!(log.terminate(), "SIGTERM must stop the log cleanly");

    let log = s.start();
    let (_, after_note) = get(&log, "/checkpoint");
    assert_eq!(before_note, after_note, "same checkpoint after a restart");
    for i in 5..300 {
        let (status, _) = submit(&log, &alice.release_body("keep", &format!("0.{i}.0"), b"k"));
        assert_eq!(status, 201);
    }
    let after = checkpoint_of(&log, &policy);
    let (_, c) = get_json::<ConsistencyProof>(
        &log,
        &format!(
            "/api/v1/proofs/consistency?from={}&to={}",
            before.size, after.size
        ),
    );
    let hashes = ok(c).hashes;
    merkle::verify_consistency(before.size, after.size, &before.root, &after.root, &hashes)
        .unwrap();
    // A full tile now exists and is served as immutable.
    let r = client()
        .get(format!("{}/tile/entries/000", log.url))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    drop(log);

    // Another key for the same data directory: refused, clearly.
    let other = tempfile::tempdir().unwrap();
    let (other_key, _) = keygen(other.path(), ORIGIN);
    let stderr = LogServer::refuses(&s.data, &other_key, &s.root_pem);
    assert!(stderr.contains("not signed by this log key"), "{stderr}");
    let _ = Note::parse(&after_note).unwrap();
}

#[test]
fn a_crash_during_a_stream_of_submissions_loses_nothing_acknowledged() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let s = setup();
    let policy = s.policy();
    let log = s.start();
    let alice = Arc::new(s.ca.maintainer(&["crash"]));
    let stop = Arc::new(AtomicBool::new(false));
    // (index, entry bytes) of every submission answered with 201.
    type Acknowledged = Arc<Mutex<Vec<(u64, Vec<u8>)>>>;
    let acknowledged: Acknowledged = Arc::default();
    let seen_checkpoints: Arc<Mutex<Vec<Checkpoint>>> = Arc::default();

    let url = log.url.clone();
    let mut workers = Vec::new();
    for w in 0..4 {
        let (alice, stop, acknowledged, url) = (
            alice.clone(),
            stop.clone(),
            acknowledged.clone(),
            url.clone(),
        );
        let policy = s.policy();
        workers.push(std::thread::spawn(move || {
            let client = client();
            // Bounded: at most 2,000 submissions per worker.
            for i in 0..2_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let body = alice.release_body(
                    "crash",
                    &format!("{w}.{i}.0"),
                    format!("{w}/{i}").as_bytes(),
                );
                let Ok(r) = client
                    .post(format!("{url}/api/v1/entries"))
                    .body(encode_submission(&body))
                    .send()
                else {
                    break; // the server is gone
                };
                if r.status().as_u16() != 201 {
                    continue;
                }
                let Ok(submitted) = r.json::<Submitted>() else {
                    break;
                };
                let verified = proof::verify(submitted.proof.as_bytes(), &policy).unwrap();
                acknowledged
                    .lock()
                    .unwrap()
                    .push((verified.index, verified.entry));
            }
        }));
    }
    let watcher = {
        let (stop, seen, url) = (stop.clone(), seen_checkpoints.clone(), url.clone());
        let policy = s.policy();
        std::thread::spawn(move || {
            let client = client();
            for _ in 0..1_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(r) = client.get(format!("{url}/checkpoint")).send()
                    && let Ok(note) = r.bytes()
                    && let Ok(v) = sigil_core::checkpoint::verify_checkpoint(&note, &policy)
                {
                    seen.lock().unwrap().push(v.checkpoint);
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        })
    };

    // Let the stream run, then crash the log in the middle of it.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while acknowledged.lock().unwrap().len() < 150 {
        assert!(
            std::time::Instant::now() < deadline,
            "the log acknowledged only {} submissions in 120 s:\n{}",
            acknowledged.lock().unwrap().len(),
            log.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    log.kill();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    watcher.join().unwrap();

    let log = s.start();
    let after = checkpoint_of(&log, &policy);
    let acknowledged = acknowledged.lock().unwrap();
    assert!(acknowledged.len() >= 150);
    for (index, bytes) in acknowledged.iter() {
        assert!(
            *index < after.size,
            "acknowledged index {index} lost (size {})",
            after.size
        );
        let (status, e) = get_json::<EntryInfo>(&log, &format!("/api/v1/entries/{index}"));
        assert_eq!(status, 200);
        assert_eq!(&ok(e).entry, bytes, "entry {index} changed");
    }
    // Every checkpoint seen before the crash is consistent with the one after.
    for before in seen_checkpoints
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.size > 0)
    {
        let (status, c) = get_json::<ConsistencyProof>(
            &log,
            &format!(
                "/api/v1/proofs/consistency?from={}&to={}",
                before.size, after.size
            ),
        );
        assert_eq!(status, 200, "{c:?}");
        let hashes = ok(c).hashes;
        merkle::verify_consistency(before.size, after.size, &before.root, &after.root, &hashes)
            .unwrap();
    }
    // And the log goes on.
    let (status, body) = submit(&log, &alice.release_body("crash", "9.9.9", b"after"));
    assert_eq!(status, 201, "{body:?}");
}

#[test]
fn the_per_client_rate_limit_answers_429_with_retry_after() {
    let s = setup();
    let log = LogServer::start(&s.data, &s.key, &s.root_pem, &["--rate-limit", "1"]);
    let mut limited = 0;
    for _ in 0..10 {
        let r = client()
            .post(format!("{}/api/v1/entries", log.url))
            .body("{}")
            .send()
            .unwrap();
        if r.status().as_u16() == 429 {
            assert!(r.headers().contains_key("retry-after"));
            let body = ErrorBody::parse(&r.bytes().unwrap()).unwrap();
            assert_eq!(body.error.code, "rate_limited");
            limited += 1;
        }
    }
    assert!(
        limited >= 5,
        "only {limited} of 10 rapid submissions were limited"
    );
    // Reads are not limited.
    for _ in 0..10 {
        assert_eq!(get(&log, "/checkpoint").0, 200);
    }
}
