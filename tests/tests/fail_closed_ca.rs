//! Issue #11 ("Fail closed, everywhere"), the CA's and the revocations'
//! part, end to end: the real `sigil-ca` and `sigil-log` binaries on
//! 127.0.0.1 (port 0), RocksDB in temporary directories, and where the log
//! must misbehave, a stub log in front of the real one ([`stub`]).
//!
//! | item | test |
//! |---|---|
//! | 3: enrollment can log a certificate the CA then forgets | [`item3_a_lost_answer_never_costs_a_second_certificate`] |
//! | 4: a default `from_index` from an unsigned checkpoint | [`item4_a_forged_checkpoint_sets_no_from_index`], [`item4_from_index_within_the_signed_size_and_log_key_required`] |
//! | 6: a revoked CA can still sign revocations | [`item6_a_revoked_intermediate_cannot_sign_revocations`] |
//! | 8: revocations are not bound to their log | [`item8_a_revocation_for_log_a_is_refused_by_log_b`] |
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rcgen::{CertificateParams, KeyPair};
use serde_json::{Value, json};
use sigil_ca::issue::sign_revocation;
use sigil_ca::setup::load_ca;
use sigil_core::checkpoint::{self, Checkpoint};
use sigil_core::entry::{CrlReason, Entry, EntryBody};
use sigil_core::log_api::encode_submission;
use sigil_core::note::{Ed25519Signer, Note};
use sigil_e2e::http_json::{error_code as code, get, post};
use sigil_e2e::{Server, command, layout};
use sigil_verifier::x509::Certificate;

const ORIGIN: &str = "fail-closed.sigil.example/log";
const ORIGIN_B: &str = "fail-closed.sigil.example/log-b";

fn submit(log: &str, body: &EntryBody) -> (u16, Value) {
    post(
        &format!("{log}/api/v1/entries"),
        encode_submission(body),
        None,
    )
}

/// The published tree size of a log.
fn size(log: &str) -> u64 {
    let (status, health) = get(&format!("{log}/healthz"), None);
    assert_eq!(status, 200, "{health}");
    health["size"].as_u64().unwrap()
}

/// The entry at `index` of a log.
fn entry(log: &str, index: u64) -> Entry {
    let (status, answer) = get(&format!("{log}/api/v1/entries/{index}"), None);
    assert_eq!(status, 200, "{answer}");
    Entry::decode(&STANDARD.decode(answer["entry"].as_str().unwrap()).unwrap()).unwrap()
}

/// A new P-256 key's CSR, PEM.
fn csr() -> String {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .serialize_request(&key)
        .unwrap()
        .pem()
        .unwrap()
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

/// A CA (`dir/ca`) and a log of origin [`ORIGIN`] (`dir/logkey`), both
/// made by the real commands; the log running.
struct World {
    dir: tempfile::TempDir,
    log: Server,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        layout::init_ca(dir.path()).unwrap();
        layout::log_keygen(dir.path(), ORIGIN).unwrap();
        let log = Server::start(layout::log_command(dir.path(), "logdata").unwrap()).unwrap();
        World { dir, log }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `sigil-ca serve` logging to `log_url` (the real log, or a stub in
    /// front of it), with the real log's key and a log timeout of
    /// `timeout`.
    fn ca(&self, log_url: &str, timeout: &str) -> Server {
        let mut c = command("sigil-ca").unwrap();
        c.arg("serve")
            .arg("--dir")
            .arg(self.path().join("ca"))
            .arg("--data-dir")
            .arg(self.path().join("cadata"))
            .args(["--log", log_url, "--listen", "127.0.0.1:0"])
            .args(["--log-timeout", timeout])
            .arg("--admin-token-file")
            .arg(self.path().join("ca/admin.token"))
            .arg("--log-key")
            .arg(self.path().join("logkey/log.pub"));
        Server::start(c).unwrap()
    }

    fn admin_token(&self) -> String {
        std::fs::read_to_string(self.path().join("ca/admin.token"))
            .unwrap()
            .trim()
            .to_string()
    }

    fn invite(&self, ca: &Server, who: &str) -> String {
        let (status, invited) = post(
            &format!("{}/api/v1/admin/invites", ca.url),
            json!({"identity": format!("{who}@example.org"), "crates": ["serde"]})
                .to_string()
                .into_bytes(),
            Some(&self.admin_token()),
        );
        assert_eq!(status, 201, "{invited}");
        invited["token"].as_str().unwrap().to_string()
    }

    fn enroll(&self, ca: &Server, token: &str, csr: &str) -> (u16, Value) {
        post(
            &format!("{}/api/v1/enroll", ca.url),
            json!({"token": token, "csr": csr}).to_string().into_bytes(),
            None,
        )
    }

    fn revoke(&self, ca: &Server, serial: &str, from_index: Option<u64>) -> (u16, Value) {
        let mut body = json!({"serial": serial, "reason": "keyCompromise"});
        if let Some(i) = from_index {
            body["from_index"] = i.into();
        }
        post(
            &format!("{}/api/v1/admin/revocations", ca.url),
            body.to_string().into_bytes(),
            Some(&self.admin_token()),
        )
    }
}

/// A stub log: a minimal HTTP/1.1 server on 127.0.0.1 that forwards each
/// request to the real log and answers with the real log's answer, except
/// where its [`Rule`] says otherwise. One request per connection
/// (`Connection: close`).
mod stub {
    use std::io::{Read as _, Write as _};
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// What the stub does with one request, given how many submissions
    /// (`POST /api/v1/entries`) it saw before this one.
    pub enum Action {
        /// Forward it and pass the answer on.
        Forward,
        /// Answer with this status and body without asking the real log.
        Answer(u16, Vec<u8>),
        /// Forward it (the real log acts on it), then never answer: hold
        /// the connection until the client gives up.
        ForwardAndSwallow,
    }

    /// Decides the action for (method, path, submissions seen before).
    pub type Rule = dyn Fn(&str, &str, usize) -> Action + Send + Sync;

    /// A running stub; its threads end with the test process.
    pub struct Stub {
        /// `http://127.0.0.1:PORT`.
        pub url: String,
        /// Submissions forwarded to the real log so far.
        pub forwarded: Arc<AtomicUsize>,
    }

    pub fn start(upstream: &str, rule: Arc<Rule>) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let forwarded = Arc::new(AtomicUsize::new(0));
        let submissions = Arc::new(AtomicUsize::new(0));
        let upstream = upstream.to_string();
        let counter = forwarded.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (upstream, rule, counter, submissions) = (
                    upstream.clone(),
                    rule.clone(),
                    counter.clone(),
                    submissions.clone(),
                );
                std::thread::spawn(move || {
                    handle(stream, &upstream, &*rule, &counter, &submissions);
                });
            }
        });
        Stub { url, forwarded }
    }

    fn handle(
        mut stream: TcpStream,
        upstream: &str,
        rule: &Rule,
        forwarded: &AtomicUsize,
        submissions: &AtomicUsize,
    ) {
        // Bounds a stuck connection; no test waits on this.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
        let Some((method, path, body)) = read_request(&mut stream) else {
            return;
        };
        let is_submission = method == "POST" && path == sigil_core::log_api::ENTRIES_PATH;
        let seen = if is_submission {
            submissions.fetch_add(1, Ordering::SeqCst)
        } else {
            0
        };
        let forward = || {
            let client = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap();
            let url = format!("{upstream}{path}");
            let req = if method == "POST" {
                client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body.clone())
            } else {
                client.get(url)
            };
            let resp = req.send().unwrap();
            let status = resp.status().as_u16();
            let bytes = resp.bytes().unwrap().to_vec();
            if is_submission {
                forwarded.fetch_add(1, Ordering::SeqCst);
            }
            (status, bytes)
        };
        match rule(&method, &path, seen) {
            Action::Forward => {
                let (status, bytes) = forward();
                respond(&mut stream, status, &bytes);
            }
            Action::Answer(status, bytes) => respond(&mut stream, status, &bytes),
            Action::ForwardAndSwallow => {
                forward();
                // Never answer: wait until the client closes the
                // connection (its timeout), then drop it.
                let mut sink = [0u8; 1024];
                while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
            }
        }
    }

    /// Reads one request: (method, path, body by Content-Length).
    fn read_request(stream: &mut TcpStream) -> Option<(String, String, Vec<u8>)> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = stream.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.lines();
        let mut first = lines.next()?.split(' ');
        let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
        let length = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = buf[head_end..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        Some((method, path, body))
    }

    fn respond(stream: &mut TcpStream, status: u16, body: &[u8]) {
        let head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body);
        let _ = stream.flush();
    }
}

/// Item 3. The log logs the certificate but its answer never reaches the
/// CA (the stub swallows it; the CA times out and answers 503). The
/// certificate is on record: known by serial (revocable) before it was
/// ever handed out, a retry with another key is refused, and a retry with
/// the same token and key gets exactly the certificate the log holds. One
/// token, one certificate.
#[test]
fn item3_a_lost_answer_never_costs_a_second_certificate() {
    let w = World::new();
    let stub = stub::start(
        &w.log.url,
        Arc::new(|method: &str, path: &str, seen: usize| {
            if method == "POST" && path == "/api/v1/entries" && seen == 0 {
                stub::Action::ForwardAndSwallow
            } else {
                stub::Action::Forward
            }
        }),
    );
    let ca = w.ca(&stub.url, "2s");
    let token = w.invite(&ca, "alice");
    let csr = csr();

    let (status, answer) = w.enroll(&ca, &token, &csr);
    assert_eq!(
        (status, code(&answer)),
        (503, "log_unavailable"),
        "{answer}"
    );
    // The stub forwarded the submission before it swallowed the answer,
    // and the real log answers only once the entry is published.
    assert_eq!(stub.forwarded.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(size(&w.log.url), 1);
    let EntryBody::Certificate(logged) = entry(&w.log.url, 0).body else {
        panic!("entry 0 is not a certificate entry");
    };
    let first = logged.chain[0].clone();
    let serial = hex::encode(Certificate::parse(&first).unwrap().serial());
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&serial),
        "the 503 names the certificate on record: {answer}"
    );

    // Known to the CA (revocable), though never handed out.
    let (status, known) = get(
        &format!("{}/api/v1/admin/certificates/{serial}", ca.url),
        Some(&w.admin_token()),
    );
    assert_eq!(
        (status, code(&known)),
        (404, "certificate_pending"),
        "{known}"
    );

    // A retry for another key gets no second certificate.
    let (status, other) = w.enroll(&ca, &token, &self::csr());
    assert_eq!(
        (status, code(&other)),
        (409, "enrollment_pending"),
        "{other}"
    );

    // The retry with the same token and key: the same certificate.
    let (status, answer) = w.enroll(&ca, &token, &csr);
    assert_eq!(status, 201, "{answer}");
    assert_eq!(pem_to_der(answer["certificate"].as_str().unwrap()), first);
    assert_eq!(answer["serial"].as_str().unwrap(), serial);
    let proven = sigil_core::proof::verify(
        answer["proof"].as_str().unwrap().as_bytes(),
        &sigil_core::checkpoint::CheckpointPolicy {
            origin: ORIGIN.into(),
            log: sigil_core::note::parse_verifier_key(
                std::fs::read_to_string(w.path().join("logkey/log.pub"))
                    .unwrap()
                    .trim(),
            )
            .unwrap(),
            witnesses: vec![],
            quorum: 0,
        },
    )
    .unwrap();
    let EntryBody::Certificate(proven) = Entry::decode(&proven.entry).unwrap().body else {
        panic!("the proof is not of a certificate entry");
    };
    assert_eq!(proven.chain[0], first);
    // Every certificate entry in the log is that one certificate.
    for index in 0..size(&w.log.url) {
        if let EntryBody::Certificate(c) = entry(&w.log.url, index).body {
            assert_eq!(c.chain[0], first, "entry {index}");
        }
    }

    let (status, again) = w.enroll(&ca, &token, &csr);
    assert_eq!((status, code(&again)), (409, "token_used"), "{again}");
    let (status, revoked) = w.revoke(&ca, &serial, None);
    assert_eq!(status, 201, "{revoked}");
}

/// Item 4. A stub log serves a checkpoint claiming a huge size, signed by
/// a key of the log's name that is not the log's: the CA does not take a
/// default `from_index` from it (502 `log_checkpoint_invalid`) and signs
/// nothing; the real log receives no revocation.
#[test]
fn item4_a_forged_checkpoint_sets_no_from_index() {
    let w = World::new();
    let real = w.ca(&w.log.url, "5s");
    let token = w.invite(&real, "bob");
    let (status, enrolled) = w.enroll(&real, &token, &csr());
    assert_eq!(status, 201, "{enrolled}");
    let serial = enrolled["serial"].as_str().unwrap().to_string();
    drop(real);

    let forger = Ed25519Signer::from_seed(ORIGIN, [66; 32]).unwrap();
    let forged = checkpoint::sign_checkpoint(
        &Checkpoint {
            origin: ORIGIN.into(),
            size: 1_000_000_000,
            root: [7; 32],
            extensions: vec![],
        },
        &forger,
    )
    .unwrap();
    assert!(Note::parse(&forged).is_ok());
    let stub = stub::start(
        &w.log.url,
        Arc::new(move |method: &str, path: &str, _| {
            if method == "GET" && path == "/checkpoint" {
                stub::Action::Answer(200, forged.clone())
            } else {
                stub::Action::Forward
            }
        }),
    );
    let ca = w.ca(&stub.url, "5s");
    let before = size(&w.log.url);
    let (status, answer) = w.revoke(&ca, &serial, None);
    assert_eq!(
        (status, code(&answer)),
        (502, "log_checkpoint_invalid"),
        "{answer}"
    );
    assert_eq!(size(&w.log.url), before, "nothing reached the log");
    assert_eq!(stub.forwarded.load(std::sync::atomic::Ordering::SeqCst), 0);
}

/// Item 4, the rest: an explicit `from_index` beyond the log's signed size
/// is refused, one within it is used; and `sigil-ca serve` will not start
/// without the log's key.
#[test]
fn item4_from_index_within_the_signed_size_and_log_key_required() {
    let w = World::new();
    let ca = w.ca(&w.log.url, "5s");
    let token = w.invite(&ca, "carol");
    let (status, enrolled) = w.enroll(&ca, &token, &csr());
    assert_eq!(status, 201, "{enrolled}");
    let serial = enrolled["serial"].as_str().unwrap().to_string();
    let now = size(&w.log.url);
    let (status, answer) = w.revoke(&ca, &serial, Some(now + 1));
    assert_eq!((status, code(&answer)), (400, "bad_from_index"), "{answer}");
    assert_eq!(size(&w.log.url), now);
    let (status, answer) = w.revoke(&ca, &serial, Some(now));
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["from_index"].as_u64(), Some(now));

    let mut no_key = command("sigil-ca").unwrap();
    no_key
        .arg("serve")
        .arg("--dir")
        .arg(w.path().join("ca"))
        .arg("--data-dir")
        .arg(w.path().join("cadata-2"))
        .args(["--log", &w.log.url, "--listen", "127.0.0.1:0"])
        .arg("--admin-token-file")
        .arg(w.path().join("ca/admin.token"));
    let out = no_key.output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--log-key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Item 8. Logs A and B trust the same CA. A revocation the CA signed for
/// A (and A logged) is refused by B; one signed for B is accepted by B.
#[test]
fn item8_a_revocation_for_log_a_is_refused_by_log_b() {
    let w = World::new();
    let ca = w.ca(&w.log.url, "5s");
    let token = w.invite(&ca, "dave");
    let (status, enrolled) = w.enroll(&ca, &token, &csr());
    assert_eq!(status, 201, "{enrolled}");
    let serial = enrolled["serial"].as_str().unwrap().to_string();

    // Log B: its own key and origin, the same CA root.
    let b = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(b.path().join("ca")).unwrap();
    std::fs::copy(w.path().join("ca/root.pem"), b.path().join("ca/root.pem")).unwrap();
    layout::log_keygen(b.path(), ORIGIN_B).unwrap();
    let log_b = Server::start(layout::log_command(b.path(), "logdata").unwrap()).unwrap();

    let (status, revoked) = w.revoke(&ca, &serial, None);
    assert_eq!(status, 201, "{revoked}");
    let rev = entry(&w.log.url, revoked["log_index"].as_u64().unwrap());
    let EntryBody::Revocation(for_a) = rev.body else {
        panic!("not a revocation entry");
    };
    let (status, answer) = submit(&log_b.url, &EntryBody::Revocation(for_a.clone()));
    assert_eq!((status, code(&answer)), (422, "bad_revocation"), "{answer}");
    assert_eq!(size(&log_b.url), 0);

    // The same revocation, signed for B, is B's to log.
    let intermediate = load_ca(&w.path().join("ca"), "intermediate", None).unwrap();
    let for_b = sign_revocation(
        &intermediate,
        ORIGIN_B,
        &for_a.serial,
        CrlReason::KeyCompromise,
        0,
        for_a.revoked_at,
    )
    .unwrap();
    let (status, answer) = submit(&log_b.url, &EntryBody::Revocation(for_b));
    assert_eq!(status, 201, "{answer}");
}

/// Item 6. The root revokes the intermediate (a root-signed revocation,
/// logged); from then on the log refuses revocations the intermediate
/// signs, whether the CA submits them or anyone else does.
#[test]
fn item6_a_revoked_intermediate_cannot_sign_revocations() {
    let w = World::new();
    let ca = w.ca(&w.log.url, "5s");
    let token = w.invite(&ca, "erin");
    let (status, enrolled) = w.enroll(&ca, &token, &csr());
    assert_eq!(status, 201, "{enrolled}");
    let serial = enrolled["serial"].as_str().unwrap().to_string();
    let serial_octets = hex::decode(&serial).unwrap();

    let ca_dir = w.path().join("ca");
    let root = load_ca(&ca_dir, "root", None).unwrap();
    let intermediate = load_ca(&ca_dir, "intermediate", None).unwrap();
    let inter_serial = Certificate::parse(intermediate.certificate_der())
        .unwrap()
        .serial()
        .to_vec();
    let now = sigil_serve_now();
    // Before: the intermediate's revocations are fine (not logged here).
    let from = size(&w.log.url);
    let of_intermediate = sign_revocation(
        &root,
        ORIGIN,
        &inter_serial,
        CrlReason::CaCompromise,
        from,
        now,
    )
    .unwrap();
    let (status, answer) = submit(&w.log.url, &EntryBody::Revocation(of_intermediate));
    assert_eq!(status, 201, "{answer}");

    // Through the CA: the log refuses, the CA says so.
    let (status, answer) = w.revoke(&ca, &serial, None);
    assert_eq!((status, code(&answer)), (502, "log_refused"), "{answer}");
    // Submitted directly, with any from_index.
    for from_index in [0, from] {
        let by_intermediate = sign_revocation(
            &intermediate,
            ORIGIN,
            &serial_octets,
            CrlReason::KeyCompromise,
            from_index,
            now,
        )
        .unwrap();
        let (status, answer) = submit(&w.log.url, &EntryBody::Revocation(by_intermediate));
        assert_eq!((status, code(&answer)), (422, "revoked"), "{answer}");
    }
    assert_eq!(size(&w.log.url), from + 1, "only the root's revocation");
}

/// Unix ms now.
fn sigil_serve_now() -> u64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(since.as_millis()).unwrap()
}
