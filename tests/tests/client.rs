//! The maintainer and client side end to end, with real processes:
//! `sigil-ca` and `sigil-log` serving on 127.0.0.1 with RocksDB, and the
//! `sigil` / `cargo-sigil` binaries doing what a maintainer and a cargo user
//! do. Enroll → sign → publish → verify; every kind of tampering, an
//! out-of-scope, expired or revoked signer, a split view, co-signatures and
//! `verify-lock` over a Cargo.lock and a cargo-style cache.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod world;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use sigil_e2e::command;
use world::{ORIGIN, World, code, ok, p, run, sigil, start_log, stderr};

#[test]
fn enroll_sign_publish_verify_and_every_tampering_fails() {
    let w = World::start("90d");
    let (key, cert) = w.maintainer("alice", &["hello"]);
    let file = w.package("hello", "1.0.0", "pub fn hi() {}\n");
    let out = w.sign(&key, &cert, &file, &w.log.url);
    assert!(out.status.success(), "{}", stderr(&out));
    let proof_path = PathBuf::from(format!("{}.tlog-proof", file.display()));
    assert!(proof_path.is_file());

    let (good, v) = w.verify(&file, &[]);
    assert!(good, "{v}");
    assert_eq!(v["crate"], "hello");
    assert_eq!(v["signers"][0], "alice@example.org");

    // Tampered crate bytes.
    let bytes = std::fs::read(&file).unwrap();
    let mut bad = bytes.clone();
    let n = bad.len();
    bad[n - 10] ^= 1;
    let bad_file = w.path("bad/hello-1.0.0.crate");
    std::fs::create_dir_all(bad_file.parent().unwrap()).unwrap();
    std::fs::write(&bad_file, &bad).unwrap();
    let (good, v) = w.verify(&bad_file, &["--proof", p(&proof_path)]);
    assert!(!good);
    assert!(
        ["digest_mismatch", "file_error"].contains(&code(&v)),
        "tampered crate: {v}"
    );

    // Tampered proof: a hash line, the checkpoint signature, the entry.
    let proof = std::fs::read_to_string(&proof_path).unwrap();
    let lines: Vec<&str> = proof.lines().collect();
    let tamper_b64 = |s: &str| {
        let mut c: Vec<char> = s.chars().collect();
        let i = c.len() / 2;
        c[i] = if c[i] == 'A' { 'B' } else { 'A' };
        c.into_iter().collect::<String>()
    };
    let idx = |pred: &dyn Fn(&str) -> bool| lines.iter().position(|l| pred(l)).unwrap();
    let extra = idx(&|l: &str| l.starts_with("extra "));
    let sig = idx(&|l: &str| l.starts_with("— "));
    // The root hash of the checkpoint is two lines after the origin; a
    // proof hash is any line between "index" and the blank line.
    let index_line = idx(&|l: &str| l.starts_with("index "));
    let mut cases: Vec<(&str, String, &[&str])> = vec![];
    let mut edited = lines.clone();
    let e = format!("extra {}", tamper_b64(&lines[extra][6..]));
    edited[extra] = &e;
    cases.push((
        "entry",
        edited.join("\n") + "\n",
        &["bad_proof", "malformed_proof"],
    ));
    let mut edited = lines.clone();
    let s = tamper_b64(lines[sig]);
    edited[sig] = &s;
    cases.push((
        "checkpoint signature",
        edited.join("\n") + "\n",
        &["bad_checkpoint", "bad_proof"],
    ));
    if !lines[index_line + 1].is_empty() {
        let mut edited = lines.clone();
        let h = tamper_b64(lines[index_line + 1]);
        edited[index_line + 1] = &h;
        cases.push(("proof hash", edited.join("\n") + "\n", &["bad_proof"]));
    }
    for (what, text, codes) in cases {
        let path = w.path(&format!("tampered-{}.tlog-proof", what.replace(' ', "-")));
        std::fs::write(&path, text).unwrap();
        let (good, v) = w.verify(&file, &["--proof", p(&path)]);
        assert!(!good, "{what} tampered but verified");
        assert!(codes.contains(&code(&v)), "{what}: {v}");
        assert!(v["message"].as_str().unwrap().len() > 10);
    }
}

#[test]
fn out_of_scope_and_expired_signers_are_refused() {
    let w = World::start("3s");
    let (key, cert) = w.maintainer("bob", &["other"]);
    let file = w.package("hello", "1.0.0", "pub fn hi() {}\n");
    let out = w.sign(&key, &cert, &file, &w.log.url);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("out_of_scope"), "{}", stderr(&out));

    // Signed while valid: stays valid after the certificate expires.
    let (key, cert) = w.maintainer("carol", &["hello"]);
    let out = w.sign(&key, &cert, &file, &w.log.url);
    assert!(out.status.success(), "{}", stderr(&out));
    std::thread::sleep(Duration::from_millis(5000));
    let (good, v) = w.verify(&file, &[]);
    assert!(good, "judged at integration time: {v}");
    // Signed after it expired: refused.
    let later = w.package("hello", "1.0.1", "pub fn hi2() {}\n");
    let out = w.sign(&key, &cert, &later, &w.log.url);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("expired"), "{}", stderr(&out));
}

#[test]
fn revoked_signer_is_refused_online() {
    let w = World::start("90d");
    let (key, cert) = w.maintainer("dan", &["hello"]);
    let file = w.package("hello", "1.0.0", "pub fn hi() {}\n");
    assert!(w.sign(&key, &cert, &file, &w.log.url).status.success());
    w.revoke_from_0(&cert);
    let (good, v) = w.verify(&file, &["--log", &w.log.url]);
    assert!(!good);
    assert_eq!(code(&v), "revoked", "{v}");
    // New releases are refused by the log.
    let later = w.package("hello", "1.0.1", "pub fn x() {}\n");
    let out = w.sign(&key, &cert, &later, &w.log.url);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("revoked"), "{}", stderr(&out));
}

#[test]
fn a_split_view_is_a_security_error() {
    let w = World::start("90d");
    let (key, cert) = w.maintainer("erin", &["hello", "world"]);
    // Log A: [certificate, hello 1.0.0]. Log B (same key, own history):
    // [hello 1.0.0, world 1.0.0] — the same size, another root.
    let hello = w.package("hello", "1.0.0", "pub fn hi() {}\n");
    assert!(w.sign(&key, &cert, &hello, &w.log.url).status.success());
    let (good, v) = w.verify(&hello, &["--log", &w.log.url]);
    assert!(good, "{v}");

    let b = start_log(w.dir.path(), "logdata-b");
    let dir_b = w.path("b");
    std::fs::create_dir_all(&dir_b).unwrap();
    let hello_b = dir_b.join("hello-1.0.0.crate");
    std::fs::copy(&hello, &hello_b).unwrap();
    assert!(w.sign(&key, &cert, &hello_b, &b.url).status.success());
    let world_b = dir_b.join("world-1.0.0.crate");
    std::fs::copy(w.package("world", "1.0.0", "pub fn w() {}\n"), &world_b).unwrap();
    let out = w.sign(&key, &cert, &world_b, &b.url);
    assert!(out.status.success(), "{}", stderr(&out));

    let (good, v) = w.verify(&world_b, &[]);
    assert!(!good);
    assert_eq!(code(&v), "security_error", "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(message.starts_with("SECURITY ERROR"), "{message}");
    assert!(
        message.matches(ORIGIN).count() >= 2,
        "prints both checkpoints: {message}"
    );
}

#[test]
fn two_maintainers_cosign_one_release() {
    let w = World::start("90d");
    let (ka, ca) = w.maintainer("fay", &["hello"]);
    let (kb, cb) = w.maintainer("gus", &["hello"]);
    let file = w.package("hello", "2.0.0", "pub fn two() {}\n");
    ok(sigil(&[
        "sign",
        "--key",
        p(&ka),
        "--cert",
        p(&ca),
        "--no-submit",
        p(&file),
    ]));
    let pending = PathBuf::from(format!("{}.sigil-pending.json", file.display()));
    assert!(pending.is_file());
    let mut cosign = sigil(&[
        "sign",
        "--key",
        p(&kb),
        "--cert",
        p(&cb),
        "--add-to",
        p(&pending),
        "--log",
        &w.log.url,
        "--trust-root",
        p(&w.path("trust.json")),
        p(&file),
    ]);
    cosign.env("SIGIL_HOME", w.path("gus-home"));
    ok(cosign);
    let (good, v) = w.verify(&file, &[]);
    assert!(good, "{v}");
    let signers: Vec<&str> = v["signers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(signers, ["fay@example.org", "gus@example.org"]);
    // Adding a signature for another crate's pending file is refused.
    let other = w.package("hello", "2.0.1", "pub fn other() {}\n");
    let out = run(sigil(&[
        "sign",
        "--key",
        p(&kb),
        "--cert",
        p(&cb),
        "--add-to",
        p(&pending),
        "--no-submit",
        "--out",
        p(&w.path("x.json")),
        p(&other),
    ]));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("same .crate"), "{}", stderr(&out));
}

#[test]
fn verify_lock_over_a_lockfile_and_a_cargo_cache() {
    let w = World::start("90d");
    let (key, cert) = w.maintainer("hal", &["alpha", "beta"]);
    let home = w.path("cargo-home");
    let cache = home.join("registry/cache/index.crates.io-1949cf8c6b5b557f");
    std::fs::create_dir_all(&cache).unwrap();
    let mut lock =
        String::from("version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n");
    for (name, version, signed) in [
        ("alpha", "1.0.0", true),
        ("beta", "0.3.1", true),
        ("gamma", "2.0.0", false),
    ] {
        let file = w.package(name, version, &format!("pub fn {name}() {{}}\n"));
        if signed {
            assert!(w.sign(&key, &cert, &file, &w.log.url).status.success());
        }
        let bytes = std::fs::read(&file).unwrap();
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        std::fs::write(cache.join(format!("{name}-{version}.crate")), &bytes).unwrap();
        lock.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{sha}\"\n"
        ));
    }
    let lockfile = w.path("Cargo.lock");
    std::fs::write(&lockfile, lock).unwrap();
    let trust = w.path("trust.json");
    let verify_lock = |bin: &str, extra: &[&str]| {
        let mut c = command(bin).unwrap();
        if bin == "cargo-sigil" {
            c.args(["sigil", "verify"]);
        } else {
            c.arg("verify-lock");
        }
        c.args(["--json", "--trust-root", p(&trust), "--log", &w.log.url])
            .args(["--cargo-home", p(&home)])
            .args(extra)
            .arg(&lockfile)
            .env("SIGIL_HOME", w.path("home"));
        let out = run(c);
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("not JSON: {}", stderr(&out)));
        (out.status.success(), v)
    };
    for bin in ["sigil", "cargo-sigil"] {
        let (good, v) = verify_lock(bin, &[]);
        assert!(good, "{bin}: {v}");
        assert_eq!(
            (v["verified"].as_u64(), v["unsigned"].as_u64()),
            (Some(2), Some(1)),
            "{v}"
        );
        let (good, v) = verify_lock(bin, &["--deny-unsigned"]);
        assert!(!good, "{bin}: {v}");
    }
    // A cached crate that differs from what was signed fails.
    let gamma = cache.join("alpha-1.0.0.crate");
    let mut bytes = std::fs::read(&gamma).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 1;
    std::fs::write(&gamma, bytes).unwrap();
    let (good, v) = verify_lock("sigil", &[]);
    assert!(!good, "{v}");
    assert_eq!(v["failed"].as_u64(), Some(1), "{v}");
}

/// Issue 14 item 3: online, `verify-lock` asks the log once per thousand
/// crates (`POST /api/v1/lookup`), not once per crate and per
/// certificate, and still checks every crate: through a proxy that counts
/// requests, three signed crates by two maintainers and an unsigned one
/// take one lookup and no per-crate request. Once a maintainer is
/// revoked, its crates fail (`revoked`) and the other's still verify.
#[test]
fn verify_lock_online_uses_one_lookup_and_reports_a_revoked_signer() {
    use sigil_e2e::proxy::{Proxy, Reply};
    use world::package_status;

    let w = World::start("90d");
    let (kh, ch) = w.maintainer("hal", &["alpha", "beta"]);
    let (ki, ci) = w.maintainer("ida", &["gamma"]);
    let maintainers = [(&kh, &ch), (&ki, &ci)];
    let mut crates = vec![];
    for (name, by) in [
        ("alpha", Some(0)),
        ("beta", Some(0)),
        ("gamma", Some(1)),
        ("delta", None),
    ] {
        let file = w.package(name, "1.0.0", &format!("pub fn {name}() {{}}\n"));
        if let Some(m) = by {
            let (key, cert) = maintainers[m];
            assert!(w.sign(key, cert, &file, &w.log.url).status.success());
        }
        crates.push((name, file));
    }
    let list: Vec<(&str, &str, &std::path::Path)> = crates
        .iter()
        .map(|(n, f)| (*n, "1.0.0", f.as_path()))
        .collect();
    let lock = w.lock("lock", &list);
    let proxy = Proxy::start(&w.log.url, |_| Reply::Forward);
    let (good, v) = w.verify_lock(&lock, &["--log", &proxy.url]);
    assert!(good, "{v}");
    assert_eq!(
        (v["verified"].as_u64(), v["unsigned"].as_u64()),
        (Some(3), Some(1)),
        "{v}"
    );
    let requests = proxy.requests();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.starts_with("POST /api/v1/lookup"))
            .count(),
        1,
        "{requests:?}"
    );
    assert!(
        !requests
            .iter()
            .any(|r| r.contains("/api/v1/releases/") || r.contains("/api/v1/revocations/")),
        "per-crate requests: {requests:?}"
    );

    w.revoke_from_0(&ci);
    let (good, v) = w.verify_lock(&lock, &["--log", &w.log.url]);
    assert!(!good, "{v}");
    assert_eq!(package_status(&v, "gamma"), ("failed", "revoked"), "{v}");
    assert_eq!(package_status(&v, "alpha"), ("verified", ""), "{v}");
    assert_eq!(package_status(&v, "beta"), ("verified", ""), "{v}");
    assert_eq!(package_status(&v, "delta"), ("unsigned", "unsigned"), "{v}");
    // Offline with the proof files, the revocation is not known (and the
    // crate passes, as documented): the lookup is the online check.
    let proofs = w.path("proofs");
    std::fs::create_dir_all(&proofs).unwrap();
    for (name, file) in &crates[..3] {
        std::fs::copy(
            format!("{}.tlog-proof", file.display()),
            proofs.join(format!("{name}-1.0.0.crate.tlog-proof")),
        )
        .unwrap();
    }
    let (good, v) = w.verify_lock(&lock, &["--offline", "--proofs", p(&proofs)]);
    assert!(good, "{v}");
    assert_eq!(v["verified"].as_u64(), Some(3), "{v}");
}

/// `sigil_client`'s blocking clients against the real `sigil-log` and
/// `sigil-ca`: every log endpoint answers in `sigil_core::log_api`'s
/// types, a checked resubmission of a logged release is answered with its
/// entry and proof, refusals carry the server's code, and the CA's admin
/// endpoints want the token.
#[test]
fn the_client_crate_speaks_to_the_real_log_and_ca() {
    use sigil_client::ClientError;
    use sigil_client::blocking::{CaClient, LogClient};
    use sigil_core::ca_api::InviteRequest;
    use sigil_core::entry::{CertificateEntry, Entry, EntryBody};

    let w = World::start("90d");
    let (key, cert) = w.maintainer("ivy", &["hello"]);
    let file = w.package("hello", "1.0.0", "pub fn hi() {}\n");
    assert!(w.sign(&key, &cert, &file, &w.log.url).status.success());
    let vkey = std::fs::read_to_string(w.path("logkey/log.pub")).unwrap();

    let log = LogClient::new(&w.log.url)
        .unwrap()
        .with_verifier_key(&vkey)
        .unwrap();
    let health = log.health().unwrap();
    assert_eq!((health.status.as_str(), health.size), ("ok", 2));
    assert_eq!(log.tree_size().unwrap(), 2);
    let first = log.entry(0).unwrap();
    assert_eq!(first.kind.as_deref(), Some("certificate"));
    let second = log.entry(1).unwrap();
    assert_eq!(second.crate_name.as_deref(), Some("hello"));
    let e = log.entry(99).unwrap_err();
    assert!(matches!(e, ClientError::NotFound { .. }), "{e:?}");
    let inclusion = log.inclusion_proof(1, 2).unwrap();
    assert_eq!(inclusion.hashes.len(), 1);
    let consistency = log.consistency_proof(1, 2).unwrap();
    assert_eq!(consistency.hashes.len(), 1);
    // The level-0 tile of a tree of size 2, and a tile it does not have.
    assert_eq!(log.tile("tile/0/000.p/2").unwrap().len(), 64);
    let e = log.tile("tile/0/000.p/200").unwrap_err();
    assert!(matches!(e, ClientError::NotFound { .. }), "{e:?}");
    let releases = log.releases("hello").unwrap();
    assert_eq!(releases.releases.len(), 1);
    assert_eq!(releases.releases[0].version, "1.0.0");
    let proof = log.release_proof("hello", "1.0.0").unwrap().unwrap();
    assert_eq!(log.release_proof("hello", "9.9.9").unwrap(), None);
    assert_eq!(log.revocation(&[7; 32]).unwrap(), None);

    // The logged release, submitted again: the log answers with the entry
    // it has, and the proof checks against its key.
    let policy = sigil_core::checkpoint::CheckpointPolicy {
        origin: ORIGIN.into(),
        log: sigil_core::note::parse_verifier_key(vkey.trim()).unwrap(),
        witnesses: vec![],
        quorum: 0,
    };
    let verified = sigil_core::proof::verify(&proof, &policy).unwrap();
    let entry = Entry::decode(&verified.entry).unwrap();
    let again = log.submit(&entry.body).unwrap();
    assert_eq!(again.index, 1);
    // A certificate entry that is no certificate: refused with a code.
    let bogus = EntryBody::Certificate(CertificateEntry {
        chain: vec![vec![0x30, 0x00]],
    });
    match log.submit(&bogus) {
        Err(ClientError::Refused { status, code, .. }) => {
            assert!((400..500).contains(&status), "{status}");
            assert!(!code.is_empty());
        }
        other => panic!("{other:?}"),
    }

    // The CA: the chain ends with the pinned root; the admin endpoints
    // want the token.
    let root = std::fs::read_to_string(w.path("ca/root.pem")).unwrap();
    let ca = CaClient::new(&w.ca.url).unwrap();
    assert!(ca.chain().unwrap().ends_with(&root));
    let invite = InviteRequest {
        identity: "jay@example.org".into(),
        crates: vec!["world".into()],
        ttl_seconds: Some(60),
    };
    let e = ca.invite(&invite).unwrap_err();
    assert_eq!(
        (e.status(), e.code()),
        (Some(401), Some("missing_admin_token"))
    );
    let token = std::fs::read_to_string(w.path("ca/admin.token")).unwrap();
    let admin = ca.with_admin_token(&token);
    let invited = admin.invite(&invite).unwrap();
    assert!(invited.token.starts_with("sigil-enroll-"), "{invited:?}");
    let serial = {
        let pem = std::fs::read(&cert).unwrap();
        let der = rustls_pki_types::pem::PemObject::pem_slice_iter(&pem)
            .next()
            .map(|c: Result<rustls_pki_types::CertificateDer<'static>, _>| c.unwrap())
            .unwrap();
        hex::encode(
            sigil_verifier::x509::Certificate::parse(&der)
                .unwrap()
                .serial(),
        )
    };
    let status = admin.certificate(&serial).unwrap();
    assert_eq!(status.certificate.identity, "ivy@example.org");
    assert_eq!(status.certificate.log_index, 0);
    assert_eq!(status.revocation, None);
    let e = admin.certificate("4142434445").unwrap_err();
    assert!(
        matches!(&e, ClientError::NotFound { code, .. } if code == "unknown_certificate"),
        "{e:?}"
    );
}
