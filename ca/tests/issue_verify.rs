//! Certificates issued by `sigil-ca`, checked by `sigil-verifier`: the
//! chains, releases, certificate entries and revocations the real CA and
//! maintainers produce, and each way they can be wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use p256::ecdsa::SigningKey;
use sha2::{Digest as _, Sha256};
use sigil_ca::{
    CaCertificate, CaError, issue_leaf, new_intermediate, new_root, random_serial, sign_revocation,
};
use sigil_core::certificate::{CertificateError, decode_scope};
use sigil_core::entry::{CertificateEntry, CrlReason, Entry, EntryBody, ReleaseEntry, Revocation};
use sigil_core::statement::{Envelope, Release, public_key_spki_der};
use sigil_verifier::x509::Certificate;
use sigil_verifier::{
    CheckedEntry, RevocationSet, TrustedRoots, VerifyError, certificate_id,
    check_certificate_entry, check_entry, check_release, check_revocation, verify_chain,
};

/// 2026-01-01T00:00:00Z, Unix ms.
const NOW: u64 = 1_767_225_600_000;
/// The origin of the log the test revocations are signed for.
const ORIGIN: &str = "issue-verify.sigil.example/log";
const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;

struct Pki {
    root: CaCertificate,
    intermediate: CaCertificate,
    roots: TrustedRoots,
}

fn new_pki(name: &str) -> Pki {
    let root = new_root(
        &format!("{name} Root"),
        NOW - 30 * DAY,
        Duration::from_secs(3653 * 86_400),
    )
    .unwrap();
    let intermediate = new_intermediate(
        &root,
        &format!("{name} Intermediate"),
        NOW - 30 * DAY,
        Duration::from_secs(1096 * 86_400),
    )
    .unwrap();
    let roots = TrustedRoots::from_der(vec![root.certificate_der().to_vec()]).unwrap();
    Pki {
        root,
        intermediate,
        roots,
    }
}

struct Maintainer {
    key: SigningKey,
    leaf: Vec<u8>,
    serial: Vec<u8>,
    chain: Vec<Vec<u8>>,
}

/// A P-256 key derived from a seed, so tests are reproducible.
fn key(seed: &str) -> SigningKey {
    SigningKey::from_slice(&Sha256::digest(seed.as_bytes())).unwrap()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A maintainer whose leaf is valid from NOW - 1 day to NOW + 1 day.
fn maintainer(pki: &Pki, identity: &str, crates: &[&str]) -> Maintainer {
    maintainer_valid(pki, identity, crates, NOW - DAY, NOW + DAY)
}

fn maintainer_valid(
    pki: &Pki,
    identity: &str,
    crates: &[&str],
    not_before: u64,
    not_after: u64,
) -> Maintainer {
    let key = key(identity);
    let spki = public_key_spki_der(key.verifying_key()).unwrap();
    let serial = random_serial().unwrap();
    let leaf = issue_leaf(
        &pki.intermediate,
        &spki,
        identity,
        &names(crates),
        not_before,
        not_after,
        Some(&serial),
    )
    .unwrap();
    let chain = vec![leaf.clone(), pki.intermediate.certificate_der().to_vec()];
    Maintainer {
        key,
        leaf,
        serial,
        chain,
    }
}

fn release_by(crate_name: &str, signers: &[&Maintainer]) -> ReleaseEntry {
    let release = Release::new(crate_name, "1.2.3", Sha256::digest(b"crate").into()).unwrap();
    let mut envelope = Envelope::sign_release(&release, &signers[0].key).unwrap();
    for m in &signers[1..] {
        envelope.add_signature(&m.key).unwrap();
    }
    ReleaseEntry::from_envelope(&envelope, signers.iter().map(|m| m.chain.clone()).collect())
        .unwrap()
}

fn spki_of(der: &[u8]) -> Vec<u8> {
    Certificate::parse(der).unwrap().spki_der().to_vec()
}

#[test]
fn issued_chain_validates_and_says_what_was_issued() {
    let pki = new_pki("Sigil Test");
    let m = maintainer(&pki, "alice@example.com", &["hello", "hello-macros"]);
    let signer = verify_chain(&m.chain, &pki.roots, NOW, None).unwrap();
    assert_eq!(signer.identity, "alice@example.com");
    assert_eq!(signer.crates, names(&["hello", "hello-macros"]));
    assert_eq!(signer.serial, m.serial);
    assert_eq!(
        signer.certificate_id,
        certificate_id(&spki_of(pki.intermediate.certificate_der()), &m.serial)
    );
    assert_eq!(signer.not_before_ms, NOW - DAY);
    assert_eq!(signer.not_after_ms, NOW + DAY);
    assert_eq!(
        signer.spki_der,
        public_key_spki_der(m.key.verifying_key()).unwrap()
    );

    // A URI identity.
    let uri = maintainer(&pki, "https://github.com/alice", &["hello"]);
    let signer = verify_chain(&uri.chain, &pki.roots, NOW, None).unwrap();
    assert_eq!(signer.identity, "https://github.com/alice");

    // The profile, as read back from the certificates.
    let leaf = Certificate::parse(&m.leaf).unwrap();
    assert!(!leaf.is_ca());
    let ku = leaf.key_usage().unwrap();
    assert!(ku.digital_signature() && !ku.key_cert_sign());
    assert_eq!(
        decode_scope(leaf.scope_der().unwrap()).unwrap(),
        names(&["hello", "hello-macros"])
    );
    let inter = Certificate::parse(pki.intermediate.certificate_der()).unwrap();
    assert_eq!(inter.basic_constraints().unwrap().path_len, Some(0));
    let ku = inter.key_usage().unwrap();
    assert!(ku.key_cert_sign() && ku.crl_sign() && ku.digital_signature());
    assert!(inter.has_extended_key_usage(&sigil_core::certificate::CODE_SIGNING_EKU_OID_DER));
    let root = Certificate::parse(pki.root.certificate_der()).unwrap();
    assert_eq!(root.basic_constraints().unwrap().path_len, Some(1));
    assert_eq!(root.issuer(), root.subject());
}

#[test]
fn signed_release_passes() {
    let pki = new_pki("Sigil Test");
    let m = maintainer(&pki, "alice@example.com", &["hello"]);
    let release = release_by("hello", &[&m]);
    let signers =
        check_release(&release, NOW, 5, &pki.roots, RevocationSet::empty(), None).unwrap();
    assert_eq!(signers.len(), 1);
    assert_eq!(signers[0].identity, "alice@example.com");

    // Through `check_entry`, after the entry's own encoding round trip.
    let entry = Entry {
        integrated_at: NOW,
        body: EntryBody::Release(release),
    };
    let entry = Entry::decode(&entry.encode().unwrap()).unwrap();
    match check_entry(&entry, ORIGIN, 5, &pki.roots, RevocationSet::empty(), None).unwrap() {
        CheckedEntry::Release(signers) => assert_eq!(signers[0].serial, m.serial),
        other => panic!("{other:?}"),
    }
}

#[test]
fn co_signed_release_passes() {
    let pki = new_pki("Sigil Test");
    let alice = maintainer(&pki, "alice@example.com", &["hello"]);
    let bob = maintainer(&pki, "https://github.com/bob", &["hello", "other"]);
    let release = release_by("hello", &[&alice, &bob]);
    let signers =
        check_release(&release, NOW, 0, &pki.roots, RevocationSet::empty(), None).unwrap();
    let ids: Vec<&str> = signers.iter().map(|s| s.identity.as_str()).collect();
    assert_eq!(ids, ["alice@example.com", "https://github.com/bob"]);
}

/// The error's code, and for errors about one signer, which signer.
fn code_of(err: &VerifyError) -> (&'static str, Option<usize>) {
    match err {
        VerifyError::Signer { index, .. } => (err.code(), Some(*index)),
        _ => (err.code(), None),
    }
}

#[test]
fn crate_out_of_scope_is_refused() {
    let pki = new_pki("Sigil Test");
    let alice = maintainer(&pki, "alice@example.com", &["hello"]);
    let err = check_release(
        &release_by("serde", &[&alice]),
        NOW,
        0,
        &pki.roots,
        RevocationSet::empty(),
        None,
    )
    .unwrap_err();
    assert_eq!(code_of(&err), ("out_of_scope", Some(0)));
    assert!(err.to_string().contains("`serde`"), "{err}");

    // Scope matches exactly: another spelling of the same crates.io name
    // is out of scope.
    let err = check_release(
        &release_by("Hello", &[&alice]),
        NOW,
        0,
        &pki.roots,
        RevocationSet::empty(),
        None,
    )
    .unwrap_err();
    assert_eq!(code_of(&err), ("out_of_scope", Some(0)));

    // With two signers, each must have the crate in scope.
    let bob = maintainer(&pki, "bob@example.com", &["other"]);
    let err = check_release(
        &release_by("hello", &[&alice, &bob]),
        NOW,
        0,
        &pki.roots,
        RevocationSet::empty(),
        None,
    )
    .unwrap_err();
    assert_eq!(code_of(&err), ("out_of_scope", Some(1)));
}

#[test]
fn validity_is_judged_at_integration_time() {
    let pki = new_pki("Sigil Test");
    let m = maintainer_valid(&pki, "alice@example.com", &["hello"], NOW, NOW + DAY);
    let release = release_by("hello", &[&m]);
    let check = |at| check_release(&release, at, 0, &pki.roots, RevocationSet::empty(), None);

    // Inside validity, including both ends (RFC 5280 §4.1.2.5) and the
    // last millisecond of the last second.
    for at in [NOW, NOW + 12 * HOUR, NOW + DAY, NOW + DAY + 999] {
        check(at).unwrap_or_else(|e| panic!("at {at}: {e}"));
    }
    // Expired: the same release judged after notAfter is refused; judged at
    // its integration time inside validity, it stays valid (above).
    let err = check(NOW + DAY + 1000).unwrap_err();
    assert_eq!(code_of(&err), ("expired", Some(0)));
    assert_eq!(
        err.innermost(),
        &VerifyError::Expired {
            not_after_ms: NOW + DAY,
            at_ms: NOW + DAY + 1000
        }
    );
    // Not yet valid.
    let err = check(NOW - 1).unwrap_err();
    assert_eq!(code_of(&err), ("not_yet_valid", Some(0)));
    assert_eq!(
        err.innermost(),
        &VerifyError::NotYetValid {
            not_before_ms: NOW,
            at_ms: NOW - 1
        }
    );
    // An expired intermediate makes the chain expired too.
    let err = check(NOW + 2000 * DAY).unwrap_err();
    assert_eq!(code_of(&err), ("expired", Some(0)));
}

#[test]
fn chain_to_another_root_is_refused() {
    let ours = new_pki("Sigil Test");
    let theirs = new_pki("Other");
    let m = maintainer(&theirs, "alice@example.com", &["hello"]);
    let err = check_release(
        &release_by("hello", &[&m]),
        NOW,
        0,
        &ours.roots,
        RevocationSet::empty(),
        None,
    )
    .unwrap_err();
    assert_eq!(code_of(&err), ("untrusted_chain", Some(0)));
    // Both roots trusted: accepted.
    let both = TrustedRoots::from_der(vec![
        ours.root.certificate_der().to_vec(),
        theirs.root.certificate_der().to_vec(),
    ])
    .unwrap();
    check_release(
        &release_by("hello", &[&m]),
        NOW,
        0,
        &both,
        RevocationSet::empty(),
        None,
    )
    .unwrap();

    // Same names, different keys: a look-alike CA does not pass either.
    let twin = new_pki("Sigil Test");
    let m = maintainer(&twin, "alice@example.com", &["hello"]);
    let err = check_release(
        &release_by("hello", &[&m]),
        NOW,
        0,
        &ours.roots,
        RevocationSet::empty(),
        None,
    )
    .unwrap_err();
    assert_eq!(code_of(&err), ("untrusted_chain", Some(0)));
}

#[test]
fn signature_by_another_key_is_refused() {
    let pki = new_pki("Sigil Test");
    let m = maintainer(&pki, "alice@example.com", &["hello"]);
    let impostor = key("mallory");
    let release = Release::new("hello", "1.2.3", [7; 32]).unwrap();
    let envelope = Envelope::sign_release(&release, &impostor).unwrap();
    let entry = ReleaseEntry::from_envelope(&envelope, vec![m.chain.clone()]).unwrap();
    let err = check_release(&entry, NOW, 0, &pki.roots, RevocationSet::empty(), None).unwrap_err();
    assert_eq!(code_of(&err), ("bad_signature", Some(0)));

    // A valid co-signer does not make up for a bad one.
    let bob = maintainer(&pki, "bob@example.com", &["hello"]);
    let mut envelope = Envelope::sign_release(&release, &bob.key).unwrap();
    envelope.add_signature(&impostor).unwrap();
    let entry =
        ReleaseEntry::from_envelope(&envelope, vec![bob.chain.clone(), m.chain.clone()]).unwrap();
    let err = check_release(&entry, NOW, 0, &pki.roots, RevocationSet::empty(), None).unwrap_err();
    assert_eq!(code_of(&err), ("bad_signature", Some(1)));

    // A signature over other bytes.
    let mut entry = release_by("hello", &[&m]);
    entry.signers[0].sig = release_by("hello", &[&bob]).signers[0].sig.clone();
    let err = check_release(&entry, NOW, 0, &pki.roots, RevocationSet::empty(), None).unwrap_err();
    assert_eq!(code_of(&err), ("bad_signature", Some(0)));
}

#[test]
fn same_key_twice_is_refused() {
    let pki = new_pki("Sigil Test");
    let m = maintainer(&pki, "alice@example.com", &["hello"]);
    let mut entry = release_by("hello", &[&m]);
    entry.signers.push(entry.signers[0].clone());
    let err = check_release(&entry, NOW, 0, &pki.roots, RevocationSet::empty(), None).unwrap_err();
    assert_eq!(
        err,
        VerifyError::DuplicateSigner {
            first: 0,
            second: 1
        }
    );
    assert_eq!(err.code(), "duplicate_signer");
}

#[test]
fn entry_fields_must_match_the_statement() {
    let pki = new_pki("Sigil Test");
    let m = maintainer(&pki, "alice@example.com", &["hello"]);
    let mut entry = release_by("hello", &[&m]);
    entry.sha256 = [0; 32];
    let err = check_release(&entry, NOW, 0, &pki.roots, RevocationSet::empty(), None).unwrap_err();
    assert_eq!(err.code(), "statement_mismatch");
    let mut entry = release_by("hello", &[&m]);
    entry.signers.clear();
    let err = check_release(&entry, NOW, 0, &pki.roots, RevocationSet::empty(), None).unwrap_err();
    assert_eq!(err.code(), "no_signers");
}

#[test]
fn revocation_applies_from_its_index() {
    let pki = new_pki("Sigil Test");
    let m = maintainer(&pki, "alice@example.com", &["hello"]);
    let release = release_by("hello", &[&m]);
    let revocation = sign_revocation(
        &pki.intermediate,
        ORIGIN,
        &m.serial,
        CrlReason::KeyCompromise,
        10,
        NOW,
    )
    .unwrap();
    let id = check_revocation(
        &revocation,
        ORIGIN,
        NOW,
        0,
        &pki.roots,
        RevocationSet::empty(),
    )
    .unwrap()
    .certificate_id;
    let signer = verify_chain(&m.chain, &pki.roots, NOW, None).unwrap();
    assert_eq!(id, signer.certificate_id);

    let view: RevocationSet = [(id, revocation.from_index)].into_iter().collect();
    check_release(&release, NOW, 9, &pki.roots, &view, None).unwrap();
    for index in [10, 11, 1_000] {
        let err = check_release(&release, NOW, index, &pki.roots, &view, None).unwrap_err();
        assert_eq!(code_of(&err), ("revoked", Some(0)), "index {index}");
        assert_eq!(
            err.innermost(),
            &VerifyError::Revoked {
                certificate_id: id,
                from_index: 10,
                index
            }
        );
    }
    // Another maintainer's certificate is not affected.
    let bob = maintainer(&pki, "bob@example.com", &["hello"]);
    check_release(
        &release_by("hello", &[&bob]),
        NOW,
        50,
        &pki.roots,
        &view,
        None,
    )
    .unwrap();
}

#[test]
fn revoking_the_intermediate_voids_its_leaves() {
    let pki = new_pki("Sigil Test");
    let m = maintainer(&pki, "alice@example.com", &["hello"]);
    let release = release_by("hello", &[&m]);
    let inter_serial = Certificate::parse(pki.intermediate.certificate_der())
        .unwrap()
        .serial()
        .to_vec();
    // The root signs the revocation of the intermediate it issued.
    let revocation = sign_revocation(
        &pki.root,
        ORIGIN,
        &inter_serial,
        CrlReason::CaCompromise,
        3,
        NOW,
    )
    .unwrap();
    let id = check_revocation(
        &revocation,
        ORIGIN,
        NOW,
        0,
        &pki.roots,
        RevocationSet::empty(),
    )
    .unwrap()
    .certificate_id;
    assert_eq!(
        id,
        certificate_id(&spki_of(pki.root.certificate_der()), &inter_serial)
    );
    let view: RevocationSet = [(id, 3)].into_iter().collect();
    check_release(&release, NOW, 2, &pki.roots, &view, None).unwrap();
    let err = check_release(&release, NOW, 3, &pki.roots, &view, None).unwrap_err();
    assert_eq!(code_of(&err), ("revoked", Some(0)));
}

/// Issue #11 item 6: once the intermediate is revoked (by the root, from
/// index 3), a revocation it signs is refused at index 3 and after, and
/// still valid before; the signer's id is the one a leaf's path names.
#[test]
fn item6_a_revoked_intermediate_cannot_sign_revocations() {
    let pki = new_pki("Sigil Test");
    let m = maintainer(&pki, "alice@example.com", &["hello"]);
    let inter_serial = Certificate::parse(pki.intermediate.certificate_der())
        .unwrap()
        .serial()
        .to_vec();
    let of_intermediate = sign_revocation(
        &pki.root,
        ORIGIN,
        &inter_serial,
        CrlReason::CaCompromise,
        3,
        NOW,
    )
    .unwrap();
    let checked = check_revocation(
        &of_intermediate,
        ORIGIN,
        NOW,
        2,
        &pki.roots,
        RevocationSet::empty(),
    )
    .unwrap();
    let path = verify_chain(&m.chain, &pki.roots, NOW, None).unwrap();
    // The intermediate's id as the revocation names it is the one in the
    // leaf's path, and the one check_revocation gives its signatures.
    assert_eq!(path.issuer_ids, [checked.certificate_id]);
    let view: RevocationSet = [(checked.certificate_id, checked.from_index)]
        .into_iter()
        .collect();

    let by_intermediate = sign_revocation(
        &pki.intermediate,
        ORIGIN,
        &m.serial,
        CrlReason::KeyCompromise,
        0,
        NOW,
    )
    .unwrap();
    let before = check_revocation(&by_intermediate, ORIGIN, NOW, 2, &pki.roots, &view).unwrap();
    assert_eq!(before.signer_id, checked.certificate_id);
    assert_eq!(before.certificate_id, path.certificate_id);
    for index in [3, 4, 1_000] {
        let err =
            check_revocation(&by_intermediate, ORIGIN, NOW, index, &pki.roots, &view).unwrap_err();
        assert_eq!(
            err,
            VerifyError::Revoked {
                certificate_id: checked.certificate_id,
                from_index: 3,
                index
            },
            "index {index}"
        );
    }
    let logged = Entry {
        integrated_at: NOW,
        body: EntryBody::Revocation(by_intermediate),
    };
    assert_eq!(
        check_entry(&logged, ORIGIN, 3, &pki.roots, &view, None)
            .unwrap_err()
            .code(),
        "revoked"
    );
}

/// Issue #11 item 8: a revocation signed for one log is refused with
/// another log's origin, by the same verifier and the same roots.
#[test]
fn item8_a_revocation_for_another_log_is_refused() {
    let pki = new_pki("Sigil Test");
    let m = maintainer(&pki, "alice@example.com", &["hello"]);
    let for_a = sign_revocation(
        &pki.intermediate,
        "log-a.example/sigil",
        &m.serial,
        CrlReason::KeyCompromise,
        0,
        NOW,
    )
    .unwrap();
    let none = RevocationSet::empty();
    check_revocation(&for_a, "log-a.example/sigil", NOW, 0, &pki.roots, none).unwrap();
    let err =
        check_revocation(&for_a, "log-b.example/sigil", NOW, 0, &pki.roots, none).unwrap_err();
    assert_eq!(err.code(), "bad_revocation");
    assert!(err.to_string().contains("log-b.example/sigil"), "{err}");
}

#[test]
fn truncated_chain_is_refused() {
    let pki = new_pki("Sigil Test");
    let m = maintainer(&pki, "alice@example.com", &["hello"]);
    let err = verify_chain(&m.chain[..1], &pki.roots, NOW, None).unwrap_err();
    assert_eq!(err.code(), "untrusted_chain");
    let err = verify_chain(&[], &pki.roots, NOW, None).unwrap_err();
    assert_eq!(err, VerifyError::EmptyChain);
    let mut entry = release_by("hello", &[&m]);
    entry.signers[0].chain.truncate(1);
    let err = check_release(&entry, NOW, 0, &pki.roots, RevocationSet::empty(), None).unwrap_err();
    assert_eq!(code_of(&err), ("untrusted_chain", Some(0)));
    // The intermediate alone, as if it were the leaf.
    let err = verify_chain(&m.chain[1..], &pki.roots, NOW, None).unwrap_err();
    assert_eq!(err.code(), "wrong_key_usage");
}

#[test]
fn certificate_entries() {
    let pki = new_pki("Sigil Test");
    let m = maintainer(&pki, "alice@example.com", &["hello", "world"]);
    let entry = CertificateEntry {
        chain: m.chain.clone(),
    };
    let signer = check_certificate_entry(&entry, NOW, &pki.roots, None).unwrap();
    assert_eq!(signer.crates, names(&["hello", "world"]));
    let logged = Entry {
        integrated_at: NOW,
        body: EntryBody::Certificate(entry.clone()),
    };
    assert_eq!(
        check_entry(&logged, ORIGIN, 0, &pki.roots, RevocationSet::empty(), None).unwrap(),
        CheckedEntry::Certificate(signer)
    );

    let other = new_pki("Other");
    let err = check_certificate_entry(&entry, NOW, &other.roots, None).unwrap_err();
    assert_eq!(err.code(), "untrusted_chain");
    let err = check_certificate_entry(&entry, NOW + 10 * DAY, &pki.roots, None).unwrap_err();
    assert_eq!(err.code(), "expired");
    let err = check_certificate_entry(&CertificateEntry { chain: vec![] }, NOW, &pki.roots, None)
        .unwrap_err();
    assert_eq!(err.code(), "empty_chain");
}

#[test]
fn revocation_entries() {
    let pki = new_pki("Sigil Test");
    let m = maintainer(&pki, "alice@example.com", &["hello"]);
    let good = sign_revocation(
        &pki.intermediate,
        ORIGIN,
        &m.serial,
        CrlReason::Superseded,
        7,
        NOW,
    )
    .unwrap();
    let logged = Entry {
        integrated_at: NOW,
        body: EntryBody::Revocation(good.clone()),
    };
    let logged = Entry::decode(&logged.encode().unwrap()).unwrap();
    let id = verify_chain(&m.chain, &pki.roots, NOW, None)
        .unwrap()
        .certificate_id;
    assert_eq!(
        check_entry(&logged, ORIGIN, 0, &pki.roots, RevocationSet::empty(), None).unwrap(),
        CheckedEntry::Revocation {
            certificate_id: id,
            from_index: 7
        }
    );

    // Wrong signer: signed by another CA's key, naming ours.
    let other = new_pki("Other");
    let mut forged = sign_revocation(
        &other.intermediate,
        ORIGIN,
        &m.serial,
        CrlReason::Superseded,
        7,
        NOW,
    )
    .unwrap();
    forged.signer_chain = good.signer_chain.clone();
    let err =
        check_revocation(&forged, ORIGIN, NOW, 0, &pki.roots, RevocationSet::empty()).unwrap_err();
    assert_eq!(err.code(), "bad_revocation");
    // A field changed after signing.
    let mut altered = good.clone();
    altered.from_index = 100;
    let err =
        check_revocation(&altered, ORIGIN, NOW, 0, &pki.roots, RevocationSet::empty()).unwrap_err();
    assert_eq!(err.code(), "bad_revocation");

    // Signer not a CA: a maintainer signs with its own leaf.
    let by_leaf = Revocation::sign(
        ORIGIN,
        m.serial.clone(),
        1,
        7,
        NOW,
        vec![m.leaf.clone()],
        &m.key,
    )
    .unwrap();
    let err =
        check_revocation(&by_leaf, ORIGIN, NOW, 0, &pki.roots, RevocationSet::empty()).unwrap_err();
    assert_eq!(err, VerifyError::NotCa);
    assert_eq!(err.code(), "not_a_ca");

    // Signer from another root.
    let err = check_revocation(
        &forged_by(&other, &m.serial),
        ORIGIN,
        NOW,
        0,
        &pki.roots,
        RevocationSet::empty(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "untrusted_chain");

    // Signer outside its validity at the time of judgement.
    let err = check_revocation(
        &good,
        ORIGIN,
        NOW + 5000 * DAY,
        0,
        &pki.roots,
        RevocationSet::empty(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "expired");
    let err = check_revocation(
        &good,
        ORIGIN,
        NOW - 40 * DAY,
        0,
        &pki.roots,
        RevocationSet::empty(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "not_yet_valid");

    // No signer certificate.
    let mut empty = good.clone();
    empty.signer_chain.clear();
    assert_eq!(
        check_revocation(&empty, ORIGIN, NOW, 0, &pki.roots, RevocationSet::empty()).unwrap_err(),
        VerifyError::EmptyChain
    );
}

fn forged_by(pki: &Pki, serial: &[u8]) -> Revocation {
    sign_revocation(
        &pki.intermediate,
        ORIGIN,
        serial,
        CrlReason::KeyCompromise,
        0,
        NOW,
    )
    .unwrap()
}

#[test]
fn ca_keys_round_trip_and_must_match() {
    let pki = new_pki("Sigil Test");
    let again = CaCertificate::from_parts(
        pki.intermediate.certificate_der().to_vec(),
        pki.intermediate.key_pkcs8_der().to_vec(),
    )
    .unwrap();
    assert_eq!(again, pki.intermediate);
    assert!(!format!("{again:?}").contains(&hex::encode(again.key_pkcs8_der())));
    let err = CaCertificate::from_parts(
        pki.intermediate.certificate_der().to_vec(),
        pki.root.key_pkcs8_der().to_vec(),
    )
    .unwrap_err();
    assert!(matches!(err, CaError::BadKey { .. }), "{err}");
    let err = CaCertificate::from_parts(
        pki.intermediate.certificate_der().to_vec(),
        b"not a key".to_vec(),
    )
    .unwrap_err();
    assert!(matches!(err, CaError::BadKey { .. }), "{err}");
    let m = maintainer(&pki, "alice@example.com", &["hello"]);
    let err = CaCertificate::from_parts(m.leaf, pki.root.key_pkcs8_der().to_vec()).unwrap_err();
    assert!(matches!(err, CaError::BadCertificate(_)), "{err}");
}

#[test]
fn issue_leaf_refuses_what_the_profile_forbids() {
    let pki = new_pki("Sigil Test");
    let spki = public_key_spki_der(key("alice").verifying_key()).unwrap();
    let issue =
        |spki: &[u8], identity: &str, crates: &[&str], nb: u64, na: u64, serial: Option<&[u8]>| {
            issue_leaf(
                &pki.intermediate,
                spki,
                identity,
                &names(crates),
                nb,
                na,
                serial,
            )
        };
    assert!(matches!(
        issue(&spki, "alice", &["hello"], NOW, NOW + DAY, None),
        Err(CaError::Profile(CertificateError::InvalidIdentity { .. }))
    ));
    assert!(matches!(
        issue(&spki, "alice@example.com", &[], NOW, NOW + DAY, None),
        Err(CaError::Profile(CertificateError::EmptyScope))
    ));
    assert!(matches!(
        issue(
            &spki,
            "alice@example.com",
            &["hello", "hello"],
            NOW,
            NOW + DAY,
            None
        ),
        Err(CaError::Profile(CertificateError::DuplicateCrate { .. }))
    ));
    assert!(matches!(
        issue(&spki, "alice@example.com", &["hello"], NOW, NOW, None),
        Err(CaError::InvalidValidity { .. })
    ));
    assert!(matches!(
        issue(
            &spki,
            "alice@example.com",
            &["hello"],
            NOW,
            NOW + 5000 * DAY,
            None
        ),
        Err(CaError::InvalidValidity { .. })
    ));
    assert!(matches!(
        issue(
            &spki,
            "alice@example.com",
            &["hello"],
            NOW,
            NOW + DAY,
            Some(&[0x80])
        ),
        Err(CaError::Profile(CertificateError::InvalidSerial { .. }))
    ));
    assert!(matches!(
        issue(
            &spki[1..],
            "alice@example.com",
            &["hello"],
            NOW,
            NOW + DAY,
            None
        ),
        Err(CaError::BadPublicKey)
    ));
    let p384 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    assert!(matches!(
        issue(
            &rcgen::PublicKeyData::subject_public_key_info(&p384),
            "alice@example.com",
            &["hello"],
            NOW,
            NOW + DAY,
            None
        ),
        Err(CaError::BadPublicKey)
    ));
    // A compressed point is valid P-256 but not the profile's form.
    let compressed =
        p256::pkcs8::EncodePublicKey::to_public_key_der(key("alice").verifying_key()).unwrap();
    let point = key("alice").verifying_key().to_sec1_point(true);
    // SEQUENCE, AlgorithmIdentifier, BIT STRING header and unused-bits
    // octet (26 bytes), then the 33-byte compressed point.
    let mut compressed_spki = compressed.as_bytes()[..26].to_vec();
    compressed_spki.extend_from_slice(point.as_bytes());
    compressed_spki[1] = (compressed_spki.len() - 2) as u8;
    compressed_spki[24] = (point.as_bytes().len() + 1) as u8;
    assert!(sigil_core::statement::p256_public_key_point(&compressed_spki).is_ok());
    assert!(matches!(
        issue(
            &compressed_spki,
            "alice@example.com",
            &["hello"],
            NOW,
            NOW + DAY,
            None
        ),
        Err(CaError::BadPublicKey)
    ));
    // A random serial is 16 octets, positive and minimal.
    let leaf = issue(&spki, "alice@example.com", &["hello"], NOW, NOW + DAY, None).unwrap();
    let serial = Certificate::parse(&leaf).unwrap().serial().to_vec();
    assert_eq!(serial.len(), 16);
    assert!((0x40..0x80).contains(&serial[0]));
}

#[test]
fn revocation_serial_must_be_valid() {
    let pki = new_pki("Sigil Test");
    let err = sign_revocation(
        &pki.intermediate,
        ORIGIN,
        &[0, 1],
        CrlReason::Unspecified,
        0,
        NOW,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            CaError::Profile(CertificateError::InvalidSerial { .. })
        ),
        "{err}"
    );
}
