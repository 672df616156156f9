//! The write path (sequencer and publisher, wired by `WritePath`) against
//! the in-memory store with fault injection (STYLE.md §8): rounds answer
//! with proofs that verify, duplicates and conflicts are decided in index
//! order, a failed write is retried with the very same checkpoint, and a
//! restart resumes consistently.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use p256::ecdsa::SigningKey;
use sigil_core::checkpoint::{Checkpoint, CheckpointPolicy};
use sigil_core::entry::{CertificateEntry, Entry, EntryBody, ReleaseEntry};
use sigil_core::merkle;
use sigil_core::note::{Ed25519Signer, Note};
use sigil_core::proof;
use sigil_core::statement::{Envelope, Release};
use sigil_core::tile::TileHashReader;
use sigil_log::WritePath;
use sigil_log::admission::Expiry;
use sigil_log::metrics::Metrics;
use sigil_log::publisher::{Accepted, SubmitError};
use sigil_log::sequencer::{OpenError, Pending, Refusal, RoundConfig};
use sigil_log::storage::memory::{Fault, MemStore};
use sigil_log::storage::{Batch, Storage};
use sigil_log::tiles::StorageTiles;
use sigil_log::{ServeError, Witnesses};
use tokio::sync::oneshot;

const ORIGIN: &str = "test.example/log";

fn signer() -> Ed25519Signer {
    Ed25519Signer::from_seed(ORIGIN, [5; 32]).unwrap()
}

fn policy() -> CheckpointPolicy {
    CheckpointPolicy {
        origin: ORIGIN.into(),
        log: Box::new(signer().verifier()),
        witnesses: vec![],
        quorum: 0,
    }
}

/// An [`Expiry`] no round reaches: these tests are about other checks.
fn never() -> Expiry {
    Expiry {
        not_after_ms: u64::MAX,
        certificate: "a test certificate".into(),
    }
}

struct Harness {
    write: WritePath,
}

const ROUNDS: RoundConfig = RoundConfig {
    window: Duration::from_millis(2),
    max_batch: 64,
};

async fn open(
    store: Arc<MemStore>,
    signer: Ed25519Signer,
    witnesses: Option<Witnesses>,
) -> Result<WritePath, ServeError> {
    WritePath::start(store, signer, ROUNDS, 10_000, witnesses, Metrics::new()).await
}

async fn start(store: Arc<MemStore>) -> Harness {
    Harness {
        write: open(store, signer(), None).await.unwrap(),
    }
}

impl Harness {
    async fn submit(
        &self,
        body: EntryBody,
        release: Option<(String, String, [u8; 32])>,
    ) -> Result<Accepted, SubmitError> {
        let (respond, answer) = oneshot::channel();
        self.write
            .pool
            .send(Pending {
                body,
                release,
                signer_ids: vec![],
                revokes: None,
                expiry: never(),
                received: Instant::now(),
                respond,
            })
            .await
            .map_err(|_| ())
            .unwrap();
        answer.await.unwrap()
    }

    async fn stop(self) {
        self.write.stop().await;
    }
}

fn certificate(i: u32) -> EntryBody {
    EntryBody::Certificate(CertificateEntry {
        chain: vec![format!("certificate {i}").into_bytes()],
    })
}

fn release(
    name: &str,
    version: &str,
    content: &[u8],
) -> (EntryBody, Option<(String, String, [u8; 32])>) {
    let key = SigningKey::from_slice(&[9u8; 32]).unwrap();
    let sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(content).into();
    let env = Envelope::sign_release(&Release::new(name, version, sha).unwrap(), &key).unwrap();
    let entry = ReleaseEntry::from_envelope(&env, vec![vec![b"leaf".to_vec()]]).unwrap();
    (
        EntryBody::Release(entry),
        Some((name.to_string(), version.to_string(), sha)),
    )
}

#[tokio::test]
async fn every_answer_carries_a_proof_that_verifies() {
    let store = Arc::new(MemStore::new());
    let h = Arc::new(start(store.clone()).await);
    let mut tasks = Vec::new();
    for i in 0..300u32 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            (i, h.submit(certificate(i), None).await)
        }));
    }
    let mut seen = HashMap::new();
    for t in tasks {
        let (i, answer) = t.await.unwrap();
        let accepted = answer.unwrap();
        assert!(accepted.created);
        let verified = proof::verify(&accepted.proof, &policy()).unwrap();
        assert_eq!(verified.index, accepted.index);
        let entry = Entry::decode(&verified.entry).unwrap();
        assert_eq!(entry.body, certificate(i));
        assert!(
            seen.insert(accepted.index, i).is_none(),
            "index given twice"
        );
    }
    // Indexes are exactly 0..300.
    assert_eq!(seen.len(), 300);
    assert!(seen.keys().all(|i| *i < 300));
    let stored = store.load_checkpoint().unwrap().unwrap();
    assert_eq!(stored.size, 300);
    Arc::try_unwrap(h).ok().unwrap().stop().await;
}

#[tokio::test]
async fn duplicates_return_the_existing_entry_and_conflicts_are_refused() {
    let store = Arc::new(MemStore::new());
    let h = start(store.clone()).await;
    let (body, key) = release("hello", "1.0.0", b"crate bytes");
    let first = h.submit(body.clone(), key.clone()).await.unwrap();
    assert!(first.created);
    let again = h.submit(body.clone(), key.clone()).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.index, first.index);
    proof::verify(&again.proof, &policy()).unwrap();

    let (other, other_key) = release("hello", "1.0.0", b"different bytes");
    match h.submit(other, other_key).await {
        Err(SubmitError::Refused(Refusal::Conflict { existing_index, .. })) => {
            assert_eq!(existing_index, first.index)
        }
        other => panic!("expected a conflict, got {other:?}"),
    }

    // Two submissions of one new release in the same round get one index.
    let (body, key) = release("hello", "2.0.0", b"v2");
    let (a, b) = tokio::join!(h.submit(body.clone(), key.clone()), h.submit(body, key));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.index, b.index);
    assert!(
        a.created != b.created,
        "exactly one of the two creates the entry"
    );
    assert_eq!(store.releases("hello").unwrap().len(), 2);
    h.stop().await;
}

#[tokio::test]
async fn a_failed_write_is_retried_with_the_same_checkpoint() {
    let store = Arc::new(MemStore::new());
    // Record every batch the sequencer tries to write, and fail the ones
    // the plan says to.
    let attempts: Arc<Mutex<Vec<Batch>>> = Arc::default();
    let plan: Arc<Mutex<Vec<Fault>>> = Arc::default();
    let (seen, faults) = (attempts.clone(), plan.clone());
    store.set_append_hook(Some(Arc::new(move |b: &Batch| {
        seen.lock().unwrap().push(b.clone());
        faults.lock().unwrap().pop()
    })));
    let h = start(store.clone()).await;
    h.submit(certificate(0), None).await.unwrap();

    for (i, fault) in [Fault::NotPersisted, Fault::Persisted, Fault::NotPersisted]
        .into_iter()
        .enumerate()
    {
        plan.lock().unwrap().push(fault);
        let answer = h.submit(certificate(1 + i as u32), None).await.unwrap();
        proof::verify(&answer.proof, &policy()).unwrap();
    }
    let attempts = attempts.lock().unwrap().clone();
    // For every size, every attempt carried the same signed checkpoint.
    let mut by_size: HashMap<u64, Vec<u8>> = HashMap::new();
    for b in attempts.iter() {
        let previous = by_size
            .entry(b.new_size)
            .or_insert_with(|| b.checkpoint.clone());
        assert_eq!(
            *previous, b.checkpoint,
            "two checkpoints signed for size {}",
            b.new_size
        );
    }
    // Open (size 0), size 1, then 3 rounds of which two were written twice.
    assert_eq!(attempts.len(), 7, "attempts: {}", attempts.len());
    assert_eq!(store.load_checkpoint().unwrap().unwrap().size, 4);
    h.stop().await;
}

#[tokio::test]
async fn restart_resumes_and_the_old_checkpoint_is_consistent_with_the_new() {
    let store = Arc::new(MemStore::new());
    let h = start(store.clone()).await;
    for i in 0..70 {
        h.submit(certificate(i), None).await.unwrap();
    }
    h.stop().await;
    let before = store.load_checkpoint().unwrap().unwrap();

    let h = start(store.clone()).await;
    for i in 70..600 {
        h.submit(certificate(i), None).await.unwrap();
    }
    h.stop().await;
    let after = store.load_checkpoint().unwrap().unwrap();
    assert_eq!((before.size, after.size), (70, 600));

    let root = |note: &[u8]| {
        Checkpoint::parse(&Note::parse(note).unwrap().text)
            .unwrap()
            .root
    };
    let tiles = StorageTiles(&*store);
    let proof = merkle::prove_consistency(70, 600, &TileHashReader::trusted(600, &tiles)).unwrap();
    merkle::verify_consistency(70, 600, &root(&before.note), &root(&after.note), &proof).unwrap();
}

#[tokio::test]
async fn a_store_signed_by_another_key_is_refused() {
    let store = Arc::new(MemStore::new());
    let h = start(store.clone()).await;
    h.submit(certificate(0), None).await.unwrap();
    h.stop().await;
    let other = Ed25519Signer::from_seed(ORIGIN, [6; 32]).unwrap();
    let err = open(store, other, None).await.err().unwrap();
    assert!(
        matches!(err, ServeError::Open(OpenError::WrongKey(_))),
        "{err}"
    );
    assert!(
        err.to_string().contains("not signed by this log key"),
        "{err}"
    );
}

#[tokio::test]
async fn a_revocation_voids_later_releases_of_any_certificate_on_the_path() {
    use sigil_core::entry::Revocation;
    let store = Arc::new(MemStore::new());
    let h = start(store.clone()).await;
    // An intermediate's id, as admission lists it among a signer's path.
    let intermediate_id = [7u8; 32];
    let revocation = EntryBody::Revocation(Revocation {
        serial: vec![0x42],
        reason: 1,
        from_index: 1,
        revoked_at: 1_767_225_600_000,
        signature: vec![0x30; 70],
        signer_chain: vec![b"the CA".to_vec()],
    });
    let (respond, answer) = oneshot::channel();
    h.write
        .pool
        .send(Pending {
            body: revocation,
            release: None,
            signer_ids: vec![],
            revokes: Some((intermediate_id, 1)),
            expiry: never(),
            received: Instant::now(),
            respond,
        })
        .await
        .map_err(|_| ())
        .unwrap();
    assert_eq!(answer.await.unwrap().unwrap().index, 0);

    let (body, key) = release("late", "1.0.0", b"late");
    let (respond, answer) = oneshot::channel();
    h.write
        .pool
        .send(Pending {
            body,
            release: key,
            signer_ids: vec![[1u8; 32], intermediate_id],
            revokes: None,
            expiry: never(),
            received: Instant::now(),
            respond,
        })
        .await
        .map_err(|_| ())
        .unwrap();
    match answer.await.unwrap() {
        Err(SubmitError::Refused(Refusal::Revoked { from_index, index })) => {
            assert_eq!((from_index, index), (1, 1))
        }
        other => panic!("expected a revocation refusal, got {other:?}"),
    }
    assert_eq!(store.load_checkpoint().unwrap().unwrap().size, 1);
    h.stop().await;
}

/// Submits a revocation of `id` from `from_index` (its checks are
/// admission's; the body's bytes are what gets logged).
async fn revoke(h: &Harness, id: [u8; 32], from_index: u64) -> Result<Accepted, SubmitError> {
    use sigil_core::entry::Revocation;
    let (respond, answer) = oneshot::channel();
    h.write
        .pool
        .send(Pending {
            body: EntryBody::Revocation(Revocation {
                serial: vec![0x42],
                reason: 1,
                from_index,
                revoked_at: 1_767_225_600_000,
                signature: vec![0x30; 70],
                signer_chain: vec![b"the CA".to_vec()],
            }),
            release: None,
            signer_ids: vec![],
            revokes: Some((id, from_index)),
            expiry: never(),
            received: Instant::now(),
            respond,
        })
        .await
        .map_err(|_| ())
        .unwrap();
    answer.await.unwrap()
}

#[tokio::test]
async fn repeated_certificates_and_revocations_return_the_existing_entry() {
    let store = Arc::new(MemStore::new());
    let h = start(store.clone()).await;
    let first = h.submit(certificate(1), None).await.unwrap();
    assert!(first.created);
    let again = h.submit(certificate(1), None).await.unwrap();
    assert_eq!((again.index, again.created), (first.index, false));
    proof::verify(&again.proof, &policy()).unwrap();
    // In one round too.
    let (a, b) = tokio::join!(
        h.submit(certificate(2), None),
        h.submit(certificate(2), None)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.index, b.index);
    assert!(a.created != b.created);

    let id = [7u8; 32];
    let revoked = revoke(&h, id, 5).await.unwrap();
    assert!(revoked.created);
    // The same revocation, or one from a later index, changes nothing: the
    // entry that already says so.
    for from in [5, 9] {
        let again = revoke(&h, id, from).await.unwrap();
        assert_eq!((again.index, again.created), (revoked.index, false));
    }
    let size = store.load_checkpoint().unwrap().unwrap().size;
    assert_eq!(size, 3);
    // An earlier from_index is news: logged, and it is the one storage
    // names from now on.
    let earlier = revoke(&h, id, 2).await.unwrap();
    assert!(earlier.created);
    let record = store.revocation(&id).unwrap().unwrap();
    assert_eq!((record.from_index, record.index), (2, earlier.index));
    assert_eq!(revoke(&h, id, 5).await.unwrap().index, earlier.index);
    assert_eq!(store.load_checkpoint().unwrap().unwrap().size, 4);
    h.stop().await;
}

/// Submits a certificate entry whose check's certificates stop validating
/// at `not_after_ms`.
async fn submit_expiring(h: &Harness, i: u32, not_after_ms: u64) -> Result<Accepted, SubmitError> {
    let (respond, answer) = oneshot::channel();
    h.write
        .pool
        .send(Pending {
            body: certificate(i),
            release: None,
            signer_ids: vec![],
            revokes: None,
            expiry: Expiry {
                not_after_ms,
                certificate: "the logged certificate".into(),
            },
            received: Instant::now(),
            respond,
        })
        .await
        .map_err(|_| ())
        .unwrap();
    answer.await.unwrap()
}

#[tokio::test]
async fn item10_an_entry_expired_at_its_integration_time_is_refused() {
    let store = Arc::new(MemStore::new());
    let h = start(store.clone()).await;
    // The round stamps integrated_at at or after now: a notAfter whose
    // second is over has expired by then (admission saw it valid earlier).
    let now = sigil_serve::unix_ms();
    let over = (now / 1000 - 1) * 1000;
    match submit_expiring(&h, 1, over).await {
        Err(SubmitError::Refused(Refusal::CertificateExpired {
            certificate,
            not_after_ms,
            integrated_at,
        })) => {
            assert_eq!(certificate, "the logged certificate");
            assert_eq!(not_after_ms, over);
            assert!(integrated_at >= now);
        }
        other => panic!("expected an expiry refusal, got {other:?}"),
    }
    assert_eq!(store.load_checkpoint().unwrap().unwrap().size, 0);
    // Valid a day longer: logged.
    let logged = submit_expiring(&h, 2, now + 86_400_000).await.unwrap();
    assert_eq!(logged.index, 0);
    h.stop().await;
}
