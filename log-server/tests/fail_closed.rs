//! Issue #11, "fail closed, everywhere", end to end against the real
//! `sigil-log` binary (127.0.0.1, port 0, temporary directories): the log
//! proves what it says about a revocation, cannot be grown for free by
//! repeating what it already holds, refuses a client over its rate before
//! it reads the body, and judges an entry at the time it stamps it: a
//! certificate that expires between admission and integration refuses the
//! entry. Test names carry the item number of the issue.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read as _, Write as _};

use common::*;
use sigil_ca::issue;
use sigil_core::entry::{CertificateEntry, CrlReason, Entry, EntryBody, Revocation};
use sigil_core::log_api::{Health, RevocationStatus, Submitted};
use sigil_core::proof;
use sigil_serve::unix_ms;
use sigil_verifier::x509::Certificate;

/// The certificate id of `leaf` (its issuer's key and its serial), as
/// the log keys revocations.
fn certificate_id(ca: &TestCa, leaf: &[u8]) -> [u8; 32] {
    let issuer = Certificate::parse(ca.intermediate.certificate_der()).unwrap();
    let leaf = Certificate::parse(leaf).unwrap();
    sigil_verifier::certificate_id(issuer.spki_der(), leaf.serial())
}

/// The CA's revocation of `leaf` from `from_index`.
fn revocation(ca: &TestCa, leaf: &[u8], from_index: u64) -> EntryBody {
    let serial = Certificate::parse(leaf).unwrap().serial().to_vec();
    EntryBody::Revocation(
        issue::sign_revocation(
            &ca.intermediate,
            common::ORIGIN,
            &serial,
            CrlReason::KeyCompromise,
            from_index,
            unix_ms(),
        )
        .unwrap(),
    )
}

fn size(log: &LogServer) -> u64 {
    let (status, health) = get_json::<Health>(log, "/healthz");
    assert_eq!(status, 200);
    ok(health).size
}

fn submitted(answer: (u16, Answer<Submitted>), want: u16) -> Submitted {
    let (status, body) = answer;
    assert_eq!(status, want, "{body:?}");
    ok(body)
}

#[test]
fn item5_revocation_status_is_the_entry_with_its_inclusion_proof() {
    let s = setup();
    let log = s.start();
    let policy = s.policy();
    let alice = s.ca.maintainer(&["five"]);
    let id = certificate_id(&s.ca, &alice.chain[0]);
    let path = format!("/api/v1/revocations/{}", hex::encode(id));

    // Nothing logged: the log's claim of absence.
    let (status, answer) = get_json::<RevocationStatus>(&log, &path);
    assert_eq!((status, error_code(&answer)), (404, "not_revoked"));

    submitted(
        submit(&log, &alice.release_body("five", "1.0.0", b"one")),
        201,
    );
    let first = submitted(submit(&log, &revocation(&s.ca, &alice.chain[0], 9)), 201);
    let (status, answer) = get_json::<RevocationStatus>(&log, &path);
    assert_eq!(status, 200, "{answer:?}");
    let status = ok(answer);
    assert_eq!(
        (status.certificate_id, status.from_index, status.index),
        (id, 9, first.index)
    );
    // The proof is the revocation entry's, against the published checkpoint:
    // a client checks it like a release's.
    let verified = proof::verify(status.proof.as_bytes(), &policy).unwrap();
    assert_eq!(verified.index, first.index);
    assert_eq!(verified.checkpoint.checkpoint, checkpoint_of(&log, &policy));
    let Entry {
        body: EntryBody::Revocation(Revocation { from_index, .. }),
        ..
    } = Entry::decode(&verified.entry).unwrap()
    else {
        panic!("the proven entry is not a revocation");
    };
    assert_eq!(from_index, 9);

    // A revocation from an earlier index is the one that counts now, and
    // the status proves that entry.
    let earlier = submitted(submit(&log, &revocation(&s.ca, &alice.chain[0], 1)), 201);
    let status = ok(get_json::<RevocationStatus>(&log, &path).1);
    assert_eq!((status.from_index, status.index), (1, earlier.index));
    let verified = proof::verify(status.proof.as_bytes(), &policy).unwrap();
    assert_eq!(verified.index, earlier.index);

    // Another certificate is still not revoked; a malformed id is a 400.
    let other = certificate_id(&s.ca, &s.ca.maintainer(&["five"]).chain[0]);
    let (status, _) = get(&log, &format!("/api/v1/revocations/{}", hex::encode(other)));
    assert_eq!(status, 404);
    let (status, _) = get(&log, "/api/v1/revocations/abc");
    assert_eq!(status, 400);
}

#[test]
fn item7_a_repeated_certificate_or_revocation_does_not_grow_the_log() {
    let s = setup();
    let log = s.start();
    let alice = s.ca.maintainer(&["seven"]);
    let certificate = EntryBody::Certificate(CertificateEntry {
        chain: alice.chain.clone(),
    });
    let first = submitted(submit(&log, &certificate), 201);
    let before = size(&log);
    for _ in 0..3 {
        let again = submitted(submit(&log, &certificate), 200);
        assert_eq!(again.index, first.index);
        proof::verify(again.proof.as_bytes(), &s.policy()).unwrap();
    }
    assert_eq!(size(&log), before);

    // The same revocation, submitted again, and a fresh signature of one
    // from a later index: both are what the log already holds.
    let revoke = revocation(&s.ca, &alice.chain[0], 5);
    let revoked = submitted(submit(&log, &revoke), 201);
    let before = size(&log);
    let again = submitted(submit(&log, &revoke), 200);
    assert_eq!(again.index, revoked.index);
    let later = submitted(submit(&log, &revocation(&s.ca, &alice.chain[0], 50)), 200);
    assert_eq!(later.index, revoked.index);
    assert_eq!(size(&log), before);
    let metrics = String::from_utf8(get(&log, "/metrics").1).unwrap();
    assert!(
        metrics.contains("sigil_log_duplicates_total 5"),
        "{metrics}"
    );
}

#[test]
fn item7_over_the_rate_limit_a_submission_is_refused_before_its_body_is_read() {
    let s = setup();
    let log = LogServer::start(
        &s.data,
        &s.key,
        &s.root_pem,
        &["--rate-limit", "1", "--body-limit", "10000000"],
    );
    // Use up the budget (a burst of 2 at 1 per second).
    let mut limited = false;
    for _ in 0..10 {
        if post(&log, b"{}").0 == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "the rate limit never answered 429");
    // Announce a 5 MB body and send none of it: the answer must come
    // anyway, from the headers alone.
    let addr = log.url.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    // Not a timing threshold: a guard so that a server that waits for the
    // body fails this test instead of hanging it.
    conn.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    write!(
        conn,
        "POST /api/v1/entries HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: 5000000\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn
            .read(&mut buf)
            .expect("no answer without the body: the server waits to read it");
        assert!(n > 0, "connection closed without an answer");
        answer.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&answer);
    assert!(head.starts_with("HTTP/1.1 429"), "{head}");
    assert!(head.to_ascii_lowercase().contains("retry-after:"), "{head}");
}

#[test]
fn item7_the_rate_limit_is_on_by_default() {
    let s = setup();
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_sigil-log"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    let flag = help
        .split("--rate-limit")
        .nth(1)
        .and_then(|h| h.split("--").next())
        .unwrap();
    assert!(flag.contains("[default: 10]"), "{help}");
    let log = LogServer::start_with_defaults(&s.data, &s.key, &s.root_pem);
    // Far more than a burst of 20 at once, from one address.
    let limited = (0..200).filter(|_| post(&log, b"{}").0 == 429).count();
    assert!(limited > 0, "200 submissions in a row and none was limited");
}

/// What a submission was answered: status, error code (empty on success)
/// and message.
fn outcome(answer: (u16, Answer<Submitted>)) -> (u16, String, String) {
    match answer {
        (status, Ok(_)) => (status, String::new(), String::new()),
        (status, Err(e)) => (status, e.error.code, e.error.message),
    }
}

#[test]
fn item10_a_certificate_that_expires_between_admission_and_integration_is_refused() {
    // A round starts with its first submission and is cut WINDOW later, so
    // every entry of it is integrated at least WINDOW after it was
    // admitted. A leaf whose notAfter is 2 s from now is valid through the
    // end of that second (notAfter is inclusive, to the second): if it is
    // admitted at all, it has expired by the round's integrated_at.
    const WINDOW: &str = "6000";
    let s = setup();
    let log = LogServer::start(&s.data, &s.key, &s.root_pem, &["--batch-window-ms", WINDOW]);
    let lasting = s.ca.maintainer(&["ten"]);
    for attempt in 0.. {
        // Each attempt needs admission within ~2 s of minting the leaf; a
        // machine slower than that gets `expired` at admission and tries
        // again (a guard, not a threshold: the outcome asserted is the same).
        assert!(attempt < 5, "admission never came before the leaf expired");
        let before = size(&log);
        let now = unix_ms();
        let short = s.ca.maintainer_at(&["ten"], now - 60_000, now + 2_000);
        let bodies = [
            short.release_body("ten", &format!("1.0.{attempt}"), b"short-lived"),
            EntryBody::Certificate(CertificateEntry {
                chain: short.chain.clone(),
            }),
            // In the same round, a release whose certificate lasts: logged.
            lasting.release_body("ten", &format!("2.0.{attempt}"), b"lasting"),
        ];
        let answers: Vec<(u16, String, String)> = std::thread::scope(|scope| {
            let threads: Vec<_> = bodies
                .iter()
                .map(|body| scope.spawn(|| outcome(submit(&log, body))))
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        if answers[..2].iter().any(|(_, code, _)| code == "expired") {
            continue;
        }
        let (status, code, message) = &answers[0];
        assert_eq!(
            (*status, code.as_str()),
            (422, "certificate_expired"),
            "{message}"
        );
        assert!(
            message.starts_with("signer 0's certificate (for maintainer@example.com) expired at"),
            "{message}"
        );
        assert!(message.contains("`sigil enroll`"), "{message}");
        let (status, code, message) = &answers[1];
        assert_eq!(
            (*status, code.as_str()),
            (422, "certificate_expired"),
            "{message}"
        );
        assert!(
            message.starts_with("the logged certificate (for maintainer@example.com) expired at"),
            "{message}"
        );
        assert_eq!(answers[2].0, 201, "{:?}", answers[2]);
        // Only the lasting release was logged.
        assert_eq!(size(&log), before + 1);
        return;
    }
}
