//! The certificate authority end to end: the real `sigil-ca` and
//! `sigil-log` binaries on 127.0.0.1 (port 0) with RocksDB in temporary
//! directories. Invite → enroll → the certificate entry is in the log with
//! a valid proof; every bad input is refused with a JSON error and consumes
//! nothing; a revocation voids only later releases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::SigningKey;
use p256::pkcs8::DecodePrivateKey as _;
use rcgen::{CertificateParams, KeyPair};
use serde_json::{Value, json};
use sigil_core::checkpoint::CheckpointPolicy;
use sigil_core::entry::{Entry, EntryBody, ReleaseEntry};
use sigil_core::note;
use sigil_core::statement::{Envelope, Release};
use sigil_e2e::http_json::{client as http, post};
use sigil_e2e::{Server, command, layout};
use sigil_verifier::{RevocationSet, TrustedRoots};

const ORIGIN: &str = "ca-e2e.sigil.example/log";

/// A CA and a log, wired together, in one temporary directory.
struct Pki {
    dir: tempfile::TempDir,
    log: Server,
    ca: Server,
    vkey: String,
}

fn run_ok(mut c: Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

impl Pki {
    fn ca_dir(&self) -> PathBuf {
        self.dir.path().join("ca")
    }

    fn admin_token_file(&self) -> PathBuf {
        self.ca_dir().join("admin.token")
    }

    fn start() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        layout::init_ca(dir.path()).unwrap();
        let vkey = layout::log_keygen(dir.path(), ORIGIN).unwrap();
        let log = start_log(dir.path());
        let ca = start_ca(dir.path(), &log.url).unwrap();
        Pki { dir, log, ca, vkey }
    }

    fn invite(&self, identity: &str, crates: &[&str], ttl: Option<&str>) -> String {
        let mut c = command("sigil-ca").unwrap();
        c.args(["invite", "--ca", &self.ca.url, "--identity", identity])
            .arg("--admin-token-file")
            .arg(self.admin_token_file());
        for name in crates {
            c.args(["--crate", name]);
        }
        if let Some(ttl) = ttl {
            c.args(["--ttl", ttl]);
        }
        let stdout = run_ok(c);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 1, "invite prints the token and nothing else");
        assert!(lines[0].starts_with("sigil-enroll-"));
        lines[0].to_string()
    }

    /// Stops the CA and starts it again on the same state, talking to the
    /// log at `log_url` whose key is `log_key`.
    fn restart_ca(&mut self, log_url: &str, log_key: &Path) {
        self.ca.kill();
        self.ca = start_ca_with_log_key(self.dir.path(), log_url, log_key).unwrap();
    }

    fn log_pub(&self) -> PathBuf {
        self.dir.path().join("logkey/log.pub")
    }

    fn policy(&self) -> CheckpointPolicy {
        CheckpointPolicy {
            origin: ORIGIN.into(),
            log: note::parse_verifier_key(&self.vkey).unwrap(),
            witnesses: vec![],
            quorum: 0,
        }
    }

    fn roots(&self) -> TrustedRoots {
        TrustedRoots::from_pem(&std::fs::read(self.ca_dir().join("root.pem")).unwrap()).unwrap()
    }
}

fn start_log(dir: &Path) -> Server {
    Server::start(layout::log_command(dir, "logdata").unwrap()).unwrap()
}

fn start_ca(dir: &Path, log_url: &str) -> Result<Server, sigil_e2e::StartError> {
    start_ca_with_log_key(dir, log_url, &dir.join("logkey/log.pub"))
}

fn start_ca_with_log_key(
    dir: &Path,
    log_url: &str,
    log_key: &Path,
) -> Result<Server, sigil_e2e::StartError> {
    Server::start(layout::ca_command(dir, log_url, log_key)?)
}

fn enroll(pki: &Pki, token: &str, csr: &str) -> (u16, Value) {
    post(
        &format!("{}/api/v1/enroll", pki.ca.url),
        json!({"token": token, "csr": csr}).to_string(),
        None,
    )
}

/// A new P-256 key and a CSR for it, made with rcgen.
fn p256_csr() -> (SigningKey, String) {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let csr = CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .serialize_request(&key)
        .unwrap()
        .pem()
        .unwrap();
    (
        SigningKey::from_pkcs8_der(&key.serialize_der()).unwrap(),
        csr,
    )
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<no error code>")
}

fn skip_external() -> bool {
    std::env::var_os("SIGIL_SKIP_EXTERNAL_TOOLS").is_some_and(|v| v == "1")
}

fn have_openssl() -> bool {
    let found = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || skip_external(),
        "openssl is not installed: run `bash .ci/run` (it installs it), or set \
         SIGIL_SKIP_EXTERNAL_TOOLS=1 to skip the checks that use it"
    );
    found
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

/// The documented way without `sigil`: `openssl genpkey` + `openssl req`,
/// then the JSON POST; the certificate entry is in the log with a proof
/// that verifies against the log's key, and `openssl verify` accepts the
/// chain.
#[test]
fn invite_enroll_and_the_certificate_is_logged() {
    let pki = Pki::start();
    let token = pki.invite("alice@example.org", &["serde", "serde_json"], Some("1h"));

    let work = pki.dir.path();
    let csr = if have_openssl() {
        let key = work.join("alice.key");
        let csr = work.join("alice.csr");
        let status = Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
            ])
            .arg(&key)
            .status()
            .unwrap();
        assert!(status.success());
        let status = Command::new("openssl")
            .args(["req", "-new", "-subj", "/CN=ignored", "-key"])
            .arg(&key)
            .arg("-out")
            .arg(&csr)
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::read_to_string(&csr).unwrap()
    } else {
        p256_csr().1
    };

    let (status, answer) = enroll(&pki, &token, &csr);
    assert_eq!(status, 201, "{answer}");
    let leaf = pem_to_der(answer["certificate"].as_str().unwrap());
    let cert = sigil_verifier::x509::Certificate::parse(&leaf).unwrap();
    assert_eq!(cert.identity().unwrap(), "alice@example.org");
    assert_eq!(cert.scope().unwrap(), vec!["serde", "serde_json"]);
    assert_eq!(
        hex::encode(cert.serial()),
        answer["serial"].as_str().unwrap()
    );
    let lifetime = cert.not_after_ms() - cert.not_before_ms();
    assert!(lifetime <= 91 * 86_400_000, "short default lifetime");

    // The proof verifies against the log's key and holds our certificate.
    let verified =
        sigil_core::proof::verify(answer["proof"].as_str().unwrap().as_bytes(), &pki.policy())
            .unwrap();
    assert_eq!(verified.index, answer["log_index"].as_u64().unwrap());
    let entry = Entry::decode(&verified.entry).unwrap();
    let EntryBody::Certificate(logged) = &entry.body else {
        panic!("not a certificate entry: {entry:?}");
    };
    assert_eq!(logged.chain[0], leaf);
    // The log serves the same entry.
    let resp: Value = http()
        .get(format!("{}/api/v1/entries/{}", pki.log.url, verified.index))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(resp["kind"], "certificate");
    assert_eq!(
        STANDARD.decode(resp["entry"].as_str().unwrap()).unwrap(),
        verified.entry
    );

    // The chain the CA hands out is intermediate then root; the root is
    // the one `init` wrote.
    let chain = answer["chain"].as_str().unwrap();
    let root_pem = std::fs::read_to_string(pki.ca_dir().join("root.pem")).unwrap();
    assert!(chain.ends_with(&root_pem));

    if have_openssl() {
        std::fs::write(
            work.join("leaf.pem"),
            answer["certificate"].as_str().unwrap(),
        )
        .unwrap();
        let out = Command::new("openssl")
            .args(["verify", "-x509_strict", "-CAfile"])
            .arg(pki.ca_dir().join("root.pem"))
            .arg("-untrusted")
            .arg(pki.ca_dir().join("intermediate.pem"))
            .arg(work.join("leaf.pem"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl verify: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Single use.
    let (status, again) = enroll(&pki, &token, &p256_csr().1);
    assert_eq!((status, error_code(&again)), (409, "token_used"), "{again}");
}

/// Every kind of bad enrollment gets a 4xx JSON error that names the
/// problem, issues nothing and leaves the token usable.
#[test]
fn bad_enrollments_are_refused_and_consume_nothing() {
    let pki = Pki::start();
    let token = pki.invite("bob@example.org", &["rand"], None);
    let url = format!("{}/api/v1/enroll", pki.ca.url);
    let (_, good_csr) = p256_csr();

    let mut mis_signed = pem_to_csr_der(&good_csr);
    let last = mis_signed.len() - 3;
    mis_signed[last] ^= 0x01;
    let mis_signed = STANDARD.encode(&mis_signed);

    let p384 = {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        CertificateParams::new(Vec::<String>::new())
            .unwrap()
            .serialize_request(&key)
            .unwrap()
            .pem()
            .unwrap()
    };
    let ed25519 = {
        let key = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        CertificateParams::new(Vec::<String>::new())
            .unwrap()
            .serialize_request(&key)
            .unwrap()
            .pem()
            .unwrap()
    };
    // Same shape as a real token, other random octets: never issued.
    let unknown_token = {
        let t = pki.invite("x@example.org", &["x"], None);
        let mut chars: Vec<char> = t.chars().collect();
        let i = chars.len() - 5;
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };

    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("not json", "{nope".into(), 400, "malformed_json"),
        ("missing csr", json!({"token": token}).to_string(), 400, "malformed_json"),
        (
            "unknown field",
            json!({"token": token, "csr": good_csr, "identity": "evil@example.org"}).to_string(),
            400,
            "malformed_json",
        ),
        (
            "malformed token",
            json!({"token": "hunter2", "csr": good_csr}).to_string(),
            400,
            "malformed_token",
        ),
        (
            "unknown token",
            json!({"token": unknown_token, "csr": good_csr}).to_string(),
            403,
            "unknown_token",
        ),
        (
            "garbage csr",
            json!({"token": token, "csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"}).to_string(),
            400,
            "malformed_csr",
        ),
        (
            "not base64",
            json!({"token": token, "csr": "%%%"}).to_string(),
            400,
            "malformed_csr",
        ),
        (
            "mis-signed csr",
            json!({"token": token, "csr": mis_signed}).to_string(),
            400,
            "bad_csr_signature",
        ),
        (
            "P-384 key",
            json!({"token": token, "csr": p384}).to_string(),
            400,
            "wrong_key_type",
        ),
        (
            "Ed25519 key",
            json!({"token": token, "csr": ed25519}).to_string(),
            400,
            "wrong_key_type",
        ),
        (
            "oversized body",
            json!({"token": token, "csr": "A".repeat(200_000)}).to_string(),
            413,
            "body_too_large",
        ),
    ];
    for (what, body, want_status, want_code) in cases {
        let (status, answer) = post(&url, body, None);
        assert_eq!(
            (status, error_code(&answer)),
            (want_status, want_code),
            "{what}: {answer}"
        );
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.len() > 10, "{what}: the message says what to fix");
    }

    // Expired token.
    let short = pki.invite("carol@example.org", &["rand"], Some("1s"));
    std::thread::sleep(Duration::from_millis(1100));
    let (status, answer) = enroll(&pki, &short, &good_csr);
    assert_eq!(
        (status, error_code(&answer)),
        (410, "token_expired"),
        "{answer}"
    );

    // Nothing was consumed: the token still works, once.
    let (status, answer) = enroll(&pki, &token, &good_csr);
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = enroll(&pki, &token, &good_csr);
    assert_eq!(
        (status, error_code(&answer)),
        (409, "token_used"),
        "{answer}"
    );
}

fn pem_to_csr_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

/// If the log cannot be reached no certificate is handed out and the token
/// is not consumed: the same token works once the log is there.
#[test]
fn log_unreachable_issues_nothing_and_keeps_the_token() {
    let mut pki = Pki::start();
    let token = pki.invite("dave@example.org", &["tokio"], None);
    // A port nobody listens on.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    pki.restart_ca(&dead, &pki.log_pub());
    let (_, csr) = p256_csr();
    let (status, answer) = enroll(&pki, &token, &csr);
    assert_eq!(
        (status, error_code(&answer)),
        (503, "log_unavailable"),
        "{answer}"
    );

    let log_url = pki.log.url.clone();
    pki.restart_ca(&log_url, &pki.log_pub());
    let (status, answer) = enroll(&pki, &token, &csr);
    assert_eq!(status, 201, "{answer}");
}

/// The CA checks the log's proof against the log's key before it hands a
/// certificate out: a log answering with another key's checkpoint gets
/// nothing issued and the token stays valid.
#[test]
fn a_proof_from_the_wrong_log_issues_nothing() {
    let mut pki = Pki::start();
    let token = pki.invite("gina@example.org", &["hyper"], None);
    let mut other = command("sigil-log").unwrap();
    other
        .args(["keygen", "--origin", ORIGIN, "--out"])
        .arg(pki.dir.path().join("otherkey"));
    run_ok(other);
    let log_url = pki.log.url.clone();
    pki.restart_ca(&log_url, &pki.dir.path().join("otherkey/log.pub"));
    let (_, csr) = p256_csr();
    let (status, answer) = enroll(&pki, &token, &csr);
    assert_eq!(
        (status, error_code(&answer)),
        (502, "log_proof_invalid"),
        "{answer}"
    );

    pki.restart_ca(&log_url, &pki.log_pub());
    let (status, answer) = enroll(&pki, &token, &csr);
    assert_eq!(status, 201, "{answer}");
}

/// The admin API wants the bearer token; invitations are checked against
/// the certificate profile when they are made.
#[test]
fn admin_endpoints_need_the_token_and_check_their_input() {
    let pki = Pki::start();
    let token = std::fs::read_to_string(pki.admin_token_file()).unwrap();
    let token = token.trim();
    let invites = format!("{}/api/v1/admin/invites", pki.ca.url);
    let good = json!({"identity": "erin@example.org", "crates": ["log"]}).to_string();

    let (s, a) = post(&invites, good.clone(), None);
    assert_eq!((s, error_code(&a)), (401, "missing_admin_token"), "{a}");
    let (s, a) = post(
        &invites,
        good.clone(),
        Some("wrong-token-wrong-token-wrong"),
    );
    assert_eq!((s, error_code(&a)), (403, "wrong_admin_token"), "{a}");
    let revocations = format!("{}/api/v1/admin/revocations", pki.ca.url);
    let (s, a) = post(
        &revocations,
        json!({"serial": "41", "reason": "keyCompromise"}).to_string(),
        None,
    );
    assert_eq!((s, error_code(&a)), (401, "missing_admin_token"), "{a}");

    for (body, code) in [
        (
            json!({"identity": "not an identity", "crates": ["log"]}),
            "bad_identity",
        ),
        (
            json!({"identity": "erin@example.org", "crates": []}),
            "bad_scope",
        ),
        (
            json!({"identity": "erin@example.org", "crates": ["no spaces"]}),
            "bad_scope",
        ),
        (
            json!({"identity": "erin@example.org", "crates": ["log"], "ttl_seconds": 0}),
            "bad_ttl",
        ),
        (
            json!({"identity": "erin@example.org", "crates": ["log"], "ttl_seconds": 999_999_999}),
            "bad_ttl",
        ),
    ] {
        let (s, a) = post(&invites, body.to_string(), Some(token));
        assert_eq!((s, error_code(&a)), (400, code), "{body}: {a}");
    }
    for (body, status, code) in [
        (
            json!({"serial": "zz", "reason": "keyCompromise"}),
            400,
            "bad_serial",
        ),
        (
            json!({"serial": "41", "reason": "because"}),
            400,
            "bad_reason",
        ),
        (
            json!({"serial": "41", "reason": "keyCompromise"}),
            404,
            "unknown_certificate",
        ),
    ] {
        let (s, a) = post(&revocations, body.to_string(), Some(token));
        assert_eq!((s, error_code(&a)), (status, code), "{body}: {a}");
    }

    // The CLI reports a refusal and exits non-zero.
    let bad = pki.dir.path().join("bad.token");
    std::fs::write(&bad, "wrong-token-wrong-token-wrong\n").unwrap();
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = command("sigil-ca")
        .unwrap()
        .args([
            "invite",
            "--ca",
            &pki.ca.url,
            "--identity",
            "e@example.org",
            "--crate",
            "log",
        ])
        .arg("--admin-token-file")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong_admin_token"));
}

/// `GET /api/v1/chain` and `sigil-ca trust-root` give clients the root
/// `init` made.
#[test]
fn chain_and_trust_root_snippet() {
    let pki = Pki::start();
    let chain = http()
        .get(format!("{}/api/v1/chain", pki.ca.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let intermediate = std::fs::read_to_string(pki.ca_dir().join("intermediate.pem")).unwrap();
    let root = std::fs::read_to_string(pki.ca_dir().join("root.pem")).unwrap();
    assert_eq!(chain, format!("{intermediate}{root}"));
    let mut from_dir = command("sigil-ca").unwrap();
    from_dir.args(["trust-root", "--dir"]).arg(pki.ca_dir());
    let from_dir = run_ok(from_dir);
    let mut from_url = command("sigil-ca").unwrap();
    from_url.args(["trust-root", "--ca", &pki.ca.url]);
    assert_eq!(run_ok(from_url), from_dir);
    assert!(from_dir.ends_with(&root));
    assert!(from_dir.contains("SHA-256 fingerprint"));
    TrustedRoots::from_pem(from_dir.as_bytes()).unwrap();
}

/// Keys are written 0600; a key others can read is refused at start.
#[test]
fn ca_keys_are_private() {
    let pki = Pki::start();
    for name in ["root.key", "intermediate.key", "admin.token"] {
        let mode = std::fs::metadata(pki.ca_dir().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
    let key = pki.ca_dir().join("intermediate.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = match start_ca(pki.dir.path(), &pki.log.url) {
        Ok(_) => panic!("sigil-ca served with a group-readable key"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("chmod 600"), "{err}");
}

fn submit_release(pki: &Pki, key: &SigningKey, chain: &[Vec<u8>], version: &str) -> (u16, Value) {
    let sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(version.as_bytes()).into();
    let release = Release::new("serde", version, sha).unwrap();
    let envelope = Envelope::sign_release(&release, key).unwrap();
    let chain: Vec<String> = chain.iter().map(|c| STANDARD.encode(c)).collect();
    let body = json!({
        "kind": "release",
        "envelope": serde_json::from_slice::<Value>(&envelope.to_json()).unwrap(),
        "chains": [chain],
    });
    post(
        &format!("{}/api/v1/entries", pki.log.url),
        body.to_string(),
        None,
    )
}

/// `sigil-ca revoke` logs a CA-signed revocation: releases logged before
/// its `from_index` stay valid, later ones are refused by the log and by
/// the verifier.
#[test]
fn revocation_voids_only_later_releases() {
    let pki = Pki::start();
    let token = pki.invite("frank@example.org", &["serde"], None);
    let (key, csr) = p256_csr();
    let (status, answer) = enroll(&pki, &token, &csr);
    assert_eq!(status, 201, "{answer}");
    let leaf = pem_to_der(answer["certificate"].as_str().unwrap());
    let intermediate =
        pem_to_der(&std::fs::read_to_string(pki.ca_dir().join("intermediate.pem")).unwrap());
    let chain = vec![leaf, intermediate];
    let serial = answer["serial"].as_str().unwrap().to_string();

    let (status, before) = submit_release(&pki, &key, &chain, "1.0.0");
    assert_eq!(status, 201, "{before}");
    let before_proof = before["proof"].as_str().unwrap().to_string();

    let mut revoke = command("sigil-ca").unwrap();
    revoke
        .args(["revoke", "--ca", &pki.ca.url, "--serial", &serial])
        .args(["--reason", "keyCompromise", "--admin-token-file"])
        .arg(pki.admin_token_file());
    let revoked: Value = serde_json::from_str(&run_ok(revoke)).unwrap();
    let from_index = revoked["from_index"].as_u64().unwrap();
    let before_index = before["index"].as_u64().unwrap();
    assert!(before_index < from_index, "{revoked}");

    // The log refuses a later release by the revoked key.
    let (status, after) = submit_release(&pki, &key, &chain, "1.0.1");
    assert_eq!((status, error_code(&after)), (422, "revoked"), "{after}");

    // A verifier with the revocation entry from the log: the earlier
    // release still passes at its index, the same release at an index at
    // or after from_index would not.
    let revocation_proof = revoked["proof"].as_str().unwrap();
    let rev = sigil_core::proof::verify(revocation_proof.as_bytes(), &pki.policy()).unwrap();
    let EntryBody::Revocation(revocation) = Entry::decode(&rev.entry).unwrap().body else {
        panic!("not a revocation entry");
    };
    assert_eq!(hex::encode(&revocation.serial), serial);
    let roots = pki.roots();
    let rev_entry = Entry::decode(&rev.entry).unwrap();
    let id = sigil_verifier::check_revocation(
        &revocation,
        ORIGIN,
        rev_entry.integrated_at,
        rev.index,
        &roots,
        &RevocationSet::new(),
    )
    .unwrap()
    .certificate_id;
    // What the revocation entries the log served say.
    let view: RevocationSet = [(id, revocation.from_index)].into_iter().collect();
    // Online clients learn it from the log.
    let get = |path: &str| {
        let r = http().get(format!("{}{path}", pki.log.url)).send().unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    let (s, a) = get(&format!("/api/v1/revocations/{}", hex::encode(id)));
    assert_eq!(
        (s, a["from_index"].as_u64()),
        (200, Some(from_index)),
        "{a}"
    );
    let (s, a) = get(&format!("/api/v1/revocations/{}", hex::encode([7u8; 32])));
    assert_eq!((s, error_code(&a)), (404, "not_revoked"), "{a}");
    let (s, a) = get("/api/v1/revocations/xyz");
    assert_eq!((s, error_code(&a)), (400, "bad_certificate_id"), "{a}");
    let earlier = sigil_core::proof::verify(before_proof.as_bytes(), &pki.policy()).unwrap();
    let entry = Entry::decode(&earlier.entry).unwrap();
    let EntryBody::Release(release) = &entry.body else {
        panic!("not a release entry");
    };
    let release: &ReleaseEntry = release;
    sigil_verifier::check_release(
        release,
        entry.integrated_at,
        earlier.index,
        &roots,
        &view,
        None,
    )
    .unwrap();
    let err = sigil_verifier::check_release(
        release,
        entry.integrated_at,
        from_index,
        &roots,
        &view,
        None,
    )
    .unwrap_err();
    assert_eq!(err.code(), "revoked", "{err}");

    // Revoking a certificate this CA never issued is refused.
    let mut unknown = command("sigil-ca").unwrap();
    unknown
        .args(["revoke", "--ca", &pki.ca.url, "--serial", "4142434445"])
        .args(["--reason", "superseded", "--admin-token-file"])
        .arg(pki.admin_token_file());
    let out = unknown.output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown_certificate"));
}

/// `init --passphrase-file` encrypts both keys (PKCS#8 PBES2); `serve`
/// refuses to start without the passphrase and starts with it, from the
/// file or from `$SIGIL_PASSPHRASE`.
#[test]
fn encrypted_ca_keys_need_the_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "correct horse battery staple\n").unwrap();
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut init = command("sigil-ca").unwrap();
    init.arg("init")
        .arg("--out")
        .arg(dir.path().join("ca"))
        .arg("--passphrase-file")
        .arg(&pass)
        .env_remove("SIGIL_PASSPHRASE");
    run_ok(init);
    layout::log_keygen(dir.path(), ORIGIN).unwrap();
    for key in ["root.key", "intermediate.key"] {
        let text = std::fs::read_to_string(dir.path().join("ca").join(key)).unwrap();
        assert!(
            text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            "{key}"
        );
    }
    let serve = |extra: &dyn Fn(&mut Command)| {
        let mut c = command("sigil-ca").unwrap();
        c.arg("serve")
            .arg("--dir")
            .arg(dir.path().join("ca"))
            .arg("--data-dir")
            .arg(dir.path().join("cadata"))
            // No log is needed to start, only its key.
            .args(["--log", "http://127.0.0.1:9", "--listen", "127.0.0.1:0"])
            .arg("--log-key")
            .arg(dir.path().join("logkey/log.pub"))
            .arg("--admin-token-file")
            .arg(dir.path().join("ca/admin.token"))
            .env_remove("SIGIL_PASSPHRASE");
        extra(&mut c);
        Server::start(c)
    };
    let err = serve(&|_| {})
        .err()
        .expect("started without the passphrase");
    assert!(err.to_string().contains("encrypted"), "{err}");
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "tr0ub4dor&3\n").unwrap();
    std::fs::set_permissions(&wrong, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = serve(&|c| {
        c.arg("--passphrase-file").arg(&wrong);
    })
    .err()
    .expect("started with a wrong passphrase");
    assert!(err.to_string().contains("passphrase"), "{err}");
    let server = serve(&|c| {
        c.arg("--passphrase-file").arg(&pass);
    })
    .unwrap();
    assert!(server.terminate());
    let server = serve(&|c| {
        c.env("SIGIL_PASSPHRASE", "correct horse battery staple");
    })
    .unwrap();
    assert!(server.terminate());
}
