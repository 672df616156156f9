//! `POST /api/v1/lookup` (`sigil_core::log_api::lookup`, issue 14 item 3)
//! against the real `sigil-log` binary (127.0.0.1, port 0, temporary
//! directories): many releases' proofs and their signers' revocation
//! answers in one answer, every proof against the one checkpoint it
//! names, the same answers the single-item endpoints give; and the
//! limits and malformed bodies, each a 4xx with its code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use sigil_ca::issue;
use sigil_core::entry::{CrlReason, Entry, EntryBody};
use sigil_core::log_api::{
    LookupAnswer, MAX_LOOKUP_BODY_BYTES, MAX_LOOKUP_RELEASES, ReleaseKey, ReleaseLookup,
    RevocationLookup, RevocationStatus, encode_lookup,
};
use sigil_core::proof;
use sigil_serve::unix_ms;
use sigil_verifier::{TrustedRoots, verify_chain};

/// POSTs a lookup body; (status, answer).
fn lookup(log: &LogServer, body: &[u8]) -> (u16, Answer<LookupAnswer>) {
    post_json(log, "/api/v1/lookup", body)
}

fn keys(list: &[(&str, &str)]) -> Vec<ReleaseKey> {
    list.iter().map(|(c, v)| ReleaseKey::new(c, v)).collect()
}

/// The certificate ids of a maintainer's validated path, leaf first.
fn path_ids(s: &Setup, m: &Maintainer) -> Vec<[u8; 32]> {
    let roots = TrustedRoots::from_der(vec![s.ca.root.certificate_der().to_vec()]).unwrap();
    let signer = verify_chain(&m.chain, &roots, unix_ms(), None).unwrap();
    signer.path_ids().copied().collect()
}

#[test]
fn a_lookup_answers_many_releases_against_one_checkpoint() {
    let s = setup();
    let log = s.start();
    let policy = s.policy();
    let alice = s.ca.maintainer(&["alpha", "beta"]);
    let bob = s.ca.maintainer(&["gamma"]);
    for (m, name, version) in [
        (&alice, "alpha", "1.0.0"),
        (&alice, "beta", "0.1.0"),
        (&alice, "alpha", "1.0.1"),
        (&bob, "gamma", "2.0.0"),
    ] {
        let (status, body) = submit(
            &log,
            &m.release_body(name, version, format!("{name}{version}").as_bytes()),
        );
        assert_eq!(status, 201, "{body:?}");
    }
    let asked = keys(&[
        ("gamma", "2.0.0"),
        ("alpha", "1.0.0"),
        ("nobody", "1.0.0"),
        ("alpha", "1.0.1"),
        ("beta", "0.1.0"),
    ]);
    let (status, answer) = lookup(&log, &encode_lookup(&asked));
    assert_eq!(status, 200, "{answer:?}");
    let answer = ok(answer);
    let (_, checkpoint) = get(&log, "/checkpoint");
    assert_eq!(answer.checkpoint.as_bytes(), checkpoint);

    // One item per release asked, in the order asked; each proof is the
    // release's, against the answer's checkpoint, and the same the single
    // request gives.
    assert_eq!(
        answer.releases.iter().map(|r| r.key()).collect::<Vec<_>>(),
        asked
    );
    for item in &answer.releases {
        let ReleaseLookup::Logged {
            crate_name,
            version,
            proof,
        } = item
        else {
            assert_eq!(item.key(), ReleaseKey::new("nobody", "1.0.0"));
            continue;
        };
        let verified = proof::verify(proof.as_bytes(), &policy).unwrap();
        assert_eq!(verified.checkpoint.note, checkpoint);
        let Entry {
            body: EntryBody::Release(release),
            ..
        } = Entry::decode(&verified.entry).unwrap()
        else {
            panic!("not a release");
        };
        assert_eq!(
            (&release.crate_name, &release.version),
            (crate_name, version)
        );
        let (status, single) = get(&log, &format!("/api/v1/releases/{crate_name}/{version}"));
        assert_eq!((status, single), (200, proof.as_bytes().to_vec()));
    }

    // One revocation item per certificate of the signers' paths, each
    // once: both leaves and the intermediate they share.
    let mut want: Vec<[u8; 32]> = path_ids(&s, &alice);
    want.extend(path_ids(&s, &bob));
    want.sort();
    want.dedup();
    assert_eq!(want.len(), 3);
    let mut got: Vec<[u8; 32]> = answer
        .revocations
        .iter()
        .map(|r| r.certificate_id())
        .collect();
    got.sort();
    assert_eq!(got, want);
    assert!(
        answer
            .revocations
            .iter()
            .all(|r| matches!(r, RevocationLookup::NotRevoked { .. }))
    );

    // Bob is revoked: his item is the revocation with its proof, the
    // answer the single request gives; a lookup without his release has
    // no item for him.
    let bob_leaf = path_ids(&s, &bob)[0];
    let serial = sigil_verifier::x509::Certificate::parse(&bob.chain[0])
        .unwrap()
        .serial()
        .to_vec();
    let revocation = issue::sign_revocation(
        &s.ca.intermediate,
        ORIGIN,
        &serial,
        CrlReason::KeyCompromise,
        0,
        unix_ms(),
    )
    .unwrap();
    let (status, body) = submit(&log, &EntryBody::Revocation(revocation));
    assert_eq!(status, 201, "{body:?}");
    let answer = ok(lookup(&log, &encode_lookup(&asked)).1);
    let revoked: Vec<&RevocationStatus> = answer
        .revocations
        .iter()
        .filter_map(|r| match r {
            RevocationLookup::Revoked(status) => Some(status),
            RevocationLookup::NotRevoked { .. } => None,
        })
        .collect();
    assert_eq!(revoked.len(), 1, "{answer:?}");
    assert_eq!(revoked[0].certificate_id, bob_leaf);
    let single = ok(get_json::<RevocationStatus>(
        &log,
        &format!("/api/v1/revocations/{}", hex::encode(bob_leaf)),
    )
    .1);
    assert_eq!(revoked[0], &single);
    let verified = proof::verify(single.proof.as_bytes(), &policy).unwrap();
    assert_eq!(verified.checkpoint.note, answer.checkpoint.as_bytes());

    let answer = ok(lookup(&log, &encode_lookup(&keys(&[("alpha", "1.0.0")]))).1);
    assert_eq!(answer.revocations.len(), 2);
    assert!(
        answer
            .revocations
            .iter()
            .all(|r| r.certificate_id() != bob_leaf)
    );
}

#[test]
fn malformed_and_oversized_lookups_get_a_4xx_with_a_code() {
    let s = setup();
    let log = s.start();
    let many = |n: usize| {
        encode_lookup(
            &(0..n)
                .map(|i| ReleaseKey::new(&format!("c{i}"), "1.0.0"))
                .collect::<Vec<_>>(),
        )
    };
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("not json", b"{".to_vec(), 400, "malformed_json"),
        ("no releases", b"{}".to_vec(), 400, "malformed_json"),
        (
            "an unknown member",
            br#"{"releases":[{"crate":"a","version":"1.0.0"}],"x":1}"#.to_vec(),
            400,
            "malformed_json",
        ),
        ("empty", br#"{"releases":[]}"#.to_vec(), 400, "empty_lookup"),
        (
            "a bad version",
            br#"{"releases":[{"crate":"a","version":"1"}]}"#.to_vec(),
            400,
            "malformed_release",
        ),
        (
            "twice",
            br#"{"releases":[{"crate":"a","version":"1.0.0"},{"crate":"a","version":"1.0.0"}]}"#
                .to_vec(),
            400,
            "duplicate_release",
        ),
        (
            "one too many",
            many(MAX_LOOKUP_RELEASES + 1),
            413,
            "too_many",
        ),
        (
            "over the body limit",
            vec![b' '; MAX_LOOKUP_BODY_BYTES + 1],
            413,
            "too_many",
        ),
    ];
    for (what, body, want_status, want_code) in cases {
        let (status, answer) = lookup(&log, &body);
        assert_eq!(
            (status, error_code(&answer)),
            (want_status, want_code),
            "{what}: {answer:?}"
        );
        assert!(answer.is_err_and(|e| e.error.message.len() > 10), "{what}");
    }
    // The most releases, with versions long enough that the body is over
    // the log's default --body-limit (256 KiB) and under the lookup's own.
    let long: Vec<ReleaseKey> = (0..MAX_LOOKUP_RELEASES)
        .map(|i| ReleaseKey::new(&format!("c{i}"), &format!("1.0.0-{}", "a".repeat(249))))
        .collect();
    let body = encode_lookup(&long);
    assert!(body.len() > 256 * 1024 && body.len() <= MAX_LOOKUP_BODY_BYTES);
    let (status, answer) = lookup(&log, &body);
    assert_eq!(status, 200, "{answer:?}");
    let answer = ok(answer);
    assert_eq!(answer.releases.len(), MAX_LOOKUP_RELEASES);
    assert!(answer.revocations.is_empty());
    // Another method is not a lookup.
    let (status, _) = get(&log, "/api/v1/lookup");
    assert_eq!(status, 405);
}
