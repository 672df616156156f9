//! The monitor engine (`sigil_client::monitor`) against an in-memory log
//! built like the real one: real certificates and signatures from the
//! test PKI, tiles from `sigil_core::tile::append_leaves`, entry bundles,
//! and checkpoints signed with an Ed25519 log key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../verifier/tests/common/mod.rs"]
mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use p256::ecdsa::SigningKey;
use p256::pkcs8::DecodePrivateKey as _;
use proptest::prelude::*;
use sigil_client::monitor::{
    Alert, AlertKind, FetchError, Monitor, MonitorError, MonitorState, StepReport, TileSource,
    Watch,
};
use sigil_core::checkpoint::{Checkpoint, CheckpointPolicy, sign_checkpoint};
use sigil_core::entry::{CertificateEntry, Entry, EntryBody, ReleaseEntry, Revocation};
use sigil_core::merkle::{self, Hash, leaf_hash};
use sigil_core::note::Ed25519Signer;
use sigil_core::statement::{Envelope, Release, public_key_spki_der};
use sigil_core::tile::{
    Tile, TileHashReader, TileKind, append_leaves, encode_bundle, parse_bundle,
};
use sigil_verifier::{TrustedRoots, check_certificate_entry};

use common::{NOW, TestPki, leaf_params, pki};

const ORIGIN: &str = "example.com/sigil-monitor-test";

/// A maintainer: key, chain, identity.
struct Maintainer {
    key: SigningKey,
    chain: Vec<Vec<u8>>,
}

/// The PKI, three maintainers and the entries of the base log.
struct World {
    pki: TestPki,
    alice: Maintainer,
    bob: Maintainer,
    carol: Maintainer,
    /// 600 entries: certificates of alice, bob, carol, then releases:
    /// index % 3 == 0 alice `alpha`, 1 bob `beta`, 2 carol `gamma`.
    base: Vec<Vec<u8>>,
}

fn maintainer(pki: &TestPki, seed: u8, identity: &str, scope: &[&str]) -> Maintainer {
    let key = SigningKey::from_slice(&[seed; 32]).unwrap();
    let spki = public_key_spki_der(key.verifying_key()).unwrap();
    let subject = rcgen::SubjectPublicKeyInfo::from_der(&spki).unwrap();
    let chain = pki.chain(&leaf_params(identity, scope), &subject);
    Maintainer { key, chain }
}

fn encode(integrated_at: u64, body: EntryBody) -> Vec<u8> {
    Entry {
        integrated_at,
        body,
    }
    .encode()
    .unwrap()
}

fn certificate(m: &Maintainer, at: u64) -> Vec<u8> {
    encode(
        at,
        EntryBody::Certificate(CertificateEntry {
            chain: m.chain.clone(),
        }),
    )
}

fn release(m: &Maintainer, name: &str, version: &str, artifact: &[u8], at: u64) -> Vec<u8> {
    let sha256: [u8; 32] = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, artifact)
        .as_ref()
        .try_into()
        .unwrap();
    let release = Release::new(name, version, sha256).unwrap();
    let envelope = Envelope::sign_release(&release, &m.key).unwrap();
    let entry = ReleaseEntry::from_envelope(&envelope, vec![m.chain.clone()]).unwrap();
    encode(at, EntryBody::Release(entry))
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let pki = pki("Sigil Monitor Test");
        let alice = maintainer(&pki, 1, "alice@example.com", &["alpha"]);
        let bob = maintainer(&pki, 2, "bob@example.com", &["beta"]);
        let carol = maintainer(&pki, 3, "carol@example.com", &["gamma"]);
        let mut base = vec![
            certificate(&alice, NOW),
            certificate(&bob, NOW),
            certificate(&carol, NOW),
        ];
        for i in 3..600u64 {
            let (m, name) = match i % 3 {
                0 => (&alice, "alpha"),
                1 => (&bob, "beta"),
                _ => (&carol, "gamma"),
            };
            let version = format!("0.{i}.0");
            base.push(release(m, name, &version, version.as_bytes(), NOW + i));
        }
        World {
            pki,
            alice,
            bob,
            carol,
            base,
        }
    })
}

/// A tiled log in memory: every tile and bundle it ever published, at
/// every width, and its newest signed checkpoint.
struct TestLog {
    signer: Ed25519Signer,
    entries: Vec<Vec<u8>>,
    tiles: BTreeMap<Tile, Vec<u8>>,
    checkpoint: Vec<u8>,
    root: Hash,
    /// Paths fetched, in order.
    fetched: RefCell<Vec<String>>,
    /// Paths that fail as if the log could not be reached.
    down: RefCell<Vec<String>>,
}

fn log_key() -> Ed25519Signer {
    Ed25519Signer::from_seed(ORIGIN, [8; 32]).unwrap()
}

impl TestLog {
    fn new() -> TestLog {
        let mut log = TestLog {
            signer: log_key(),
            entries: Vec::new(),
            tiles: BTreeMap::new(),
            checkpoint: Vec::new(),
            root: merkle::empty_root(),
            fetched: RefCell::new(Vec::new()),
            down: RefCell::new(Vec::new()),
        };
        log.sign(0, merkle::empty_root());
        log
    }

    fn with(entries: &[Vec<u8>]) -> TestLog {
        let mut log = TestLog::new();
        log.append(entries);
        log
    }

    fn size(&self) -> u64 {
        self.entries.len() as u64
    }

    fn sign(&mut self, size: u64, root: Hash) {
        self.root = root;
        self.checkpoint = sign_checkpoint(
            &Checkpoint {
                origin: ORIGIN.into(),
                size,
                root,
                extensions: vec![],
            },
            &self.signer,
        )
        .unwrap();
    }

    /// Appends entries as the sequencer does: changed hash tiles, the
    /// bundles they touch, a new signed checkpoint.
    fn append(&mut self, new: &[Vec<u8>]) {
        if new.is_empty() {
            return;
        }
        let old = self.size();
        let leaves: Vec<Hash> = new.iter().map(|e| leaf_hash(e)).collect();
        for (tile, data) in append_leaves(old, &self.tiles, &leaves).unwrap() {
            self.tiles.insert(tile, data);
        }
        self.entries.extend_from_slice(new);
        let size = self.size();
        for b in (old >> 8)..=((size - 1) >> 8) {
            let tile = Tile::at_size(TileKind::Entries, b, size).unwrap();
            let from = (b * 256) as usize;
            let refs: Vec<&[u8]> = self.entries[from..from + usize::from(tile.width)]
                .iter()
                .map(|e| e.as_slice())
                .collect();
            self.tiles.insert(tile, encode_bundle(&refs).unwrap());
        }
        let root = merkle::tree_hash(size, &TileHashReader::trusted(size, &self.tiles)).unwrap();
        self.sign(size, root);
    }

    fn bundle_fetches(&self) -> Vec<String> {
        self.fetched
            .borrow()
            .iter()
            .filter(|p| p.starts_with("tile/entries/"))
            .cloned()
            .collect()
    }
}

impl TileSource for TestLog {
    fn checkpoint(&self) -> Result<Vec<u8>, FetchError> {
        Ok(self.checkpoint.clone())
    }

    fn tile(&self, path: &str) -> Result<Vec<u8>, FetchError> {
        let tile = Tile::parse_path(path).map_err(|e| FetchError::unavailable(path, e))?;
        self.fetched.borrow_mut().push(path.to_owned());
        if self.down.borrow().iter().any(|p| p == path) {
            return Err(FetchError::unavailable(path, "connection reset"));
        }
        self.tiles
            .get(&tile)
            .cloned()
            .ok_or_else(|| FetchError::not_found(path))
    }
}

fn policy() -> CheckpointPolicy {
    CheckpointPolicy {
        origin: ORIGIN.into(),
        log: Box::new(log_key().verifier()),
        witnesses: vec![],
        quorum: 0,
    }
}

fn roots() -> TrustedRoots {
    TrustedRoots::from_der(vec![world().pki.root.der.clone()]).unwrap()
}

fn monitor(crates: &[&str], identities: &[&str]) -> Monitor {
    Monitor::new(
        policy(),
        roots(),
        Watch {
            crates: crates.iter().map(|s| s.to_string()).collect(),
            identities: identities.iter().map(|s| s.to_string()).collect(),
        },
    )
}

/// One step, collecting alerts and progress.
struct Run {
    result: Result<StepReport, MonitorError>,
    alerts: Vec<Alert>,
    progress: Vec<(u64, u64)>,
}

fn step(m: &Monitor, log: &dyn TileSource, dir: &Path) -> Run {
    let mut alerts = Vec::new();
    let mut progress = Vec::new();
    let result = m.step(log, dir, &mut |a| alerts.push(a.clone()), &mut |d, t| {
        progress.push((d, t))
    });
    Run {
        result,
        alerts,
        progress,
    }
}

fn state(dir: &Path) -> MonitorState {
    MonitorState::load(dir, &policy()).unwrap().unwrap()
}

fn of_kind(alerts: &[Alert], kind: AlertKind) -> Vec<&Alert> {
    alerts.iter().filter(|a| a.kind == kind).collect()
}

fn violation_codes(alerts: &[Alert]) -> Vec<(Option<u64>, String)> {
    of_kind(alerts, AlertKind::Violation)
        .into_iter()
        .map(|a| (a.index, a.code.clone().unwrap_or_default()))
        .collect()
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

#[test]
fn catch_up_600_entries_alerts_on_watched_crate_and_identity() {
    let w = world();
    let log = TestLog::with(&w.base);
    let dir = tempfile::tempdir().unwrap();
    let m = monitor(&["beta"], &["alice@example.com"]);
    let run = step(&m, &log, dir.path());
    let report = run.result.unwrap();
    assert_eq!(report.violations, 0, "{:?}", violation_codes(&run.alerts));
    assert_eq!(
        (report.from_size, report.to_size, report.checkpoint_size),
        (0, 600, 600)
    );
    assert!(!report.stale);
    // Three bundles: two full, one partial of 88.
    assert_eq!(
        log.bundle_fetches(),
        [
            "tile/entries/000",
            "tile/entries/001",
            "tile/entries/002.p/88"
        ]
    );
    assert_eq!(run.progress, [(256, 600), (512, 600), (600, 600)]);

    // Certificates: alice (identity), bob (scope names beta); not carol.
    let certs = of_kind(&run.alerts, AlertKind::Certificate);
    assert_eq!(certs.len(), 2);
    assert_eq!(certs[0].index, Some(0));
    assert_eq!(certs[0].watched, ["identity:alice@example.com"]);
    assert_eq!(certs[1].identities, ["bob@example.com"]);
    assert_eq!(certs[1].scope, ["beta"]);
    assert_eq!(certs[1].watched, ["crate:beta"]);

    // Releases: alice's alpha (identity) and bob's beta (crate), not carol's.
    let releases = of_kind(&run.alerts, AlertKind::Release);
    assert_eq!(releases.len(), 2 * 199);
    assert!(
        releases
            .iter()
            .all(|a| a.crate_name.as_deref() != Some("gamma"))
    );
    let first = releases[0];
    assert_eq!(first.index, Some(3));
    assert_eq!(first.crate_name.as_deref(), Some("alpha"));
    assert_eq!(first.version.as_deref(), Some("0.3.0"));
    assert_eq!(first.sha256.as_deref(), Some(hex_sha256(b"0.3.0").as_str()));
    assert_eq!(first.identities, ["alice@example.com"]);
    assert_eq!(first.integrated_at, Some(NOW + 3));
    assert_eq!(first.origin, ORIGIN);
    assert_eq!(first.tree_size, 600);
    assert_eq!(report.alerts, run.alerts.len() as u64);

    // One JSON object per line.
    let line = first.to_json_line().unwrap();
    assert!(line.ends_with('\n') && !line.trim_end().contains('\n'));
    let json: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(json["kind"], "release");
    assert_eq!(json["crate"], "alpha");
    assert_eq!(json["index"], 3);
    assert_eq!(json["origin"], ORIGIN);
    assert!(json.get("code").is_none());
    assert_eq!(serde_json::from_str::<Alert>(&line).unwrap(), *first);

    let s = state(dir.path());
    assert_eq!(s.size(), 600);
    assert_eq!(s.checkpoint().unwrap().size, 600);
    assert_eq!(s.checkpoint_note(), Some(log.checkpoint.as_slice()));
    assert_eq!(s.release_count(), 597);
    assert_eq!(s.release("beta", "0.4.0").map(|r| r.0), Some(4));
    assert_eq!(s.violations(), 0);

    // Nothing new: a step does nothing.
    let again = step(&m, &log, dir.path());
    let report = again.result.unwrap();
    assert_eq!((report.from_size, report.to_size), (600, 600));
    assert!(again.alerts.is_empty());
}

#[test]
fn resume_after_restart_processes_only_new_entries() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let mut log = TestLog::with(&w.base[..300]);
    step(&monitor(&[], &[]), &log, dir.path()).result.unwrap();
    assert_eq!(state(dir.path()).size(), 300);

    // A new process: new Monitor, same directory; the log grew.
    log.append(&w.base[300..]);
    log.fetched.borrow_mut().clear();
    let m = monitor(&["alpha"], &[]);
    let run = step(&m, &log, dir.path());
    let report = run.result.unwrap();
    assert_eq!((report.from_size, report.to_size), (300, 600));
    // Bundle 1 is fetched at its new (full) width; entries 256..300 of it
    // are not checked again.
    assert_eq!(
        log.bundle_fetches(),
        ["tile/entries/001", "tile/entries/002.p/88"]
    );
    assert_eq!(run.progress, [(212, 300), (300, 300)]);
    let releases = of_kind(&run.alerts, AlertKind::Release);
    assert_eq!(releases.len(), 100); // alpha: indices 300, 303, …, 597
    assert!(releases.iter().all(|a| a.index.unwrap() >= 300));
    assert_eq!(state(dir.path()).size(), 600);
}

#[test]
fn interrupted_catch_up_resumes_from_the_last_save() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let mut log = TestLog::with(&w.base);
    // Bundle 1 served with a changed entry: the step stops there, and
    // keeps bundle 0 (fewer entries than the save interval).
    let good = log.tiles[&Tile::at_size(TileKind::Entries, 1, 600).unwrap()].clone();
    tamper_bundle(&mut log, 1, 600, 10);
    let m = monitor(&[], &[]);
    let run = step(&m, &log, dir.path());
    assert!(matches!(
        run.result,
        Err(MonitorError::Violation {
            code: "entry_hash_mismatch",
            ..
        })
    ));
    assert_eq!(state(dir.path()).size(), 256);
    // Fixed: the next step starts at entry 256.
    log.tiles
        .insert(Tile::at_size(TileKind::Entries, 1, 600).unwrap(), good);
    log.fetched.borrow_mut().clear();
    let report = step(&m, &log, dir.path()).result.unwrap();
    assert_eq!((report.from_size, report.to_size), (256, 600));
}

/// Changes one byte of entry `i` of bundle `b` as served at `size`
/// (inside the entry's last byte, so the bundle still parses).
fn tamper_bundle(log: &mut TestLog, b: u64, size: u64, i: usize) {
    let tile = Tile::at_size(TileKind::Entries, b, size).unwrap();
    let data = &log.tiles[&tile];
    let mut entries: Vec<Vec<u8>> = parse_bundle(data)
        .unwrap()
        .into_iter()
        .map(|e| e.to_vec())
        .collect();
    let last = entries[i].len() - 1;
    entries[i][last] ^= 1;
    let refs: Vec<&[u8]> = entries.iter().map(|e| e.as_slice()).collect();
    log.tiles.insert(tile, encode_bundle(&refs).unwrap());
}

#[test]
fn changed_entry_bytes_are_detected() {
    let w = world();
    let mut log = TestLog::with(&w.base[..300]);
    tamper_bundle(&mut log, 0, 300, 17);
    let dir = tempfile::tempdir().unwrap();
    let run = step(&monitor(&[], &[]), &log, dir.path());
    assert!(matches!(
        run.result,
        Err(MonitorError::Violation {
            code: "entry_hash_mismatch",
            ..
        })
    ));
    assert_eq!(
        violation_codes(&run.alerts),
        [(Some(17), "entry_hash_mismatch".to_string())]
    );
    assert!(MonitorState::load(dir.path(), &policy()).unwrap().is_none());
}

#[test]
fn checkpoint_root_that_does_not_match_the_tiles_is_a_violation() {
    let w = world();
    for first in [0usize, 100] {
        let dir = tempfile::tempdir().unwrap();
        let m = monitor(&[], &[]);
        if first > 0 {
            step(&m, &TestLog::with(&w.base[..first]), dir.path())
                .result
                .unwrap();
        }
        let before = std::fs::read(dir.path().join("state.json")).ok();
        let mut log = TestLog::with(&w.base[..300]);
        log.sign(300, [7; 32]);
        let run = step(&m, &log, dir.path());
        assert!(
            matches!(
                run.result,
                Err(MonitorError::Violation {
                    code: "tiles_mismatch",
                    ..
                })
            ),
            "{:?}",
            run.result
        );
        assert_eq!(
            violation_codes(&run.alerts),
            [(None, "tiles_mismatch".into())]
        );
        assert_eq!(std::fs::read(dir.path().join("state.json")).ok(), before);
    }
}

#[test]
fn checkpoint_signed_by_another_key_is_refused() {
    let w = world();
    let mut log = TestLog::with(&w.base[..10]);
    log.signer = Ed25519Signer::from_seed(ORIGIN, [9; 32]).unwrap();
    log.sign(10, log.root);
    let dir = tempfile::tempdir().unwrap();
    let run = step(&monitor(&[], &[]), &log, dir.path());
    assert!(
        matches!(run.result, Err(MonitorError::Checkpoint(_))),
        "{:?}",
        run.result
    );
    assert!(run.alerts.is_empty());
    assert!(MonitorState::load(dir.path(), &policy()).unwrap().is_none());
}

#[test]
fn fork_is_a_violation_and_the_state_does_not_advance() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let m = monitor(&[], &[]);
    step(&m, &TestLog::with(&w.base[..300]), dir.path())
        .result
        .unwrap();
    let before = std::fs::read(dir.path().join("state.json")).unwrap();

    // Another history under the same key: entry 150 differs.
    let mut other: Vec<Vec<u8>> = w.base[..400].to_vec();
    other[150] = certificate(&w.carol, NOW + 150);
    for size in [400usize, 300] {
        let forked = TestLog::with(&other[..size]);
        let run = step(&m, &forked, dir.path());
        assert!(
            matches!(
                run.result,
                Err(MonitorError::Violation { code: "fork", .. })
            ),
            "{size}: {:?}",
            run.result
        );
        assert_eq!(violation_codes(&run.alerts), [(None, "fork".into())]);
        assert_eq!(
            std::fs::read(dir.path().join("state.json")).unwrap(),
            before
        );
    }
    // An older checkpoint is stale, not a fork.
    let run = step(&m, &TestLog::with(&w.base[..200]), dir.path());
    assert!(run.result.unwrap().stale);
}

#[test]
fn out_of_scope_release_in_the_log_is_a_violation() {
    let w = world();
    let mut entries = w.base[..10].to_vec();
    // bob may sign beta only.
    entries.push(release(&w.bob, "alpha", "9.9.9", b"evil", NOW + 10));
    entries.extend_from_slice(&w.base[10..20]);
    let log = TestLog::with(&entries);
    let dir = tempfile::tempdir().unwrap();
    let run = step(&monitor(&["alpha"], &[]), &log, dir.path());
    let report = run.result.unwrap();
    assert_eq!(report.violations, 1);
    assert_eq!(report.to_size, 21);
    assert_eq!(
        violation_codes(&run.alerts),
        [(Some(10), "out_of_scope".into())]
    );
    let v = of_kind(&run.alerts, AlertKind::Violation)[0];
    assert_eq!(v.crate_name.as_deref(), Some("alpha"));
    assert_eq!(v.version.as_deref(), Some("9.9.9"));
    // No release alert for the refused release.
    assert!(
        of_kind(&run.alerts, AlertKind::Release)
            .iter()
            .all(|a| a.index != Some(10))
    );
    assert_eq!(state(dir.path()).violations(), 1);
}

#[test]
fn second_artifact_for_a_crate_version_is_a_violation() {
    let w = world();
    let mut entries = w.base[..10].to_vec();
    entries.push(release(
        &w.alice,
        "alpha",
        "0.3.0",
        b"another artifact",
        NOW + 10,
    ));
    entries.push(release(&w.alice, "alpha", "0.6.0", b"0.6.0", NOW + 11));
    let log = TestLog::with(&entries);
    let dir = tempfile::tempdir().unwrap();
    let run = step(&monitor(&[], &[]), &log, dir.path());
    assert_eq!(
        violation_codes(&run.alerts),
        [
            (Some(10), "conflicting_release".into()),
            (Some(11), "duplicate_release".into())
        ]
    );
    assert_eq!(run.result.unwrap().violations, 2);
    // The first artifact is the one remembered.
    assert_eq!(
        state(dir.path()).release("alpha", "0.3.0").map(|r| r.0),
        Some(3)
    );
}

#[test]
fn later_revocation_voids_earlier_releases_and_refuses_later_ones() {
    let w = world();
    let alice_leaf = check_certificate_entry(
        &CertificateEntry {
            chain: w.alice.chain.clone(),
        },
        NOW,
        &roots(),
        None,
    )
    .unwrap();
    let ca_key = SigningKey::from_pkcs8_der(&w.pki.intermediate.key.serialize_der()).unwrap();
    // alice's releases in base[..30] are at 3, 6, …, 27. Revoke her leaf
    // from index 12, at index 30.
    let revocation = Revocation::sign(
        ORIGIN,
        alice_leaf.serial.clone(),
        1,
        12,
        NOW,
        vec![w.pki.intermediate.der.clone()],
        &ca_key,
    )
    .unwrap();
    let mut entries = w.base[..30].to_vec();
    entries.push(encode(NOW + 30, EntryBody::Revocation(revocation)));
    // After the revocation, a new release of hers must have been refused.
    entries.push(release(&w.alice, "alpha", "1.0.0", b"1.0.0", NOW + 31));
    let log = TestLog::with(&entries);
    let dir = tempfile::tempdir().unwrap();
    let run = step(&monitor(&[], &[]), &log, dir.path());
    let revoked: Vec<u64> = of_kind(&run.alerts, AlertKind::RevokedRelease)
        .iter()
        .map(|a| a.index.unwrap())
        .collect();
    assert_eq!(revoked, [12, 15, 18, 21, 24, 27]);
    let first = of_kind(&run.alerts, AlertKind::RevokedRelease)[0].clone();
    assert_eq!(first.crate_name.as_deref(), Some("alpha"));
    assert_eq!(first.version.as_deref(), Some("0.12.0"));
    assert_eq!(
        first.certificate_id,
        Some(hex::encode(alice_leaf.certificate_id))
    );
    assert_eq!(violation_codes(&run.alerts), [(Some(31), "revoked".into())]);
    assert_eq!(
        state(dir.path()).revoked_from(&alice_leaf.certificate_id),
        Some(12)
    );
}

#[test]
fn integration_time_going_backwards_is_a_violation() {
    let w = world();
    let mut entries = w.base[..5].to_vec();
    entries.push(certificate(&w.carol, NOW - 120_000));
    entries.push(certificate(&w.carol, NOW - 30_000)); // within a minute of NOW + 4
    let log = TestLog::with(&entries);
    let dir = tempfile::tempdir().unwrap();
    let run = step(&monitor(&[], &[]), &log, dir.path());
    assert_eq!(
        violation_codes(&run.alerts),
        [(Some(5), "time_went_backwards".into())]
    );
}

#[test]
fn a_second_monitor_on_the_same_directory_is_refused() {
    let w = world();
    let log = TestLog::with(&w.base[..5]);
    let dir = tempfile::tempdir().unwrap();
    let m = monitor(&[], &[]);
    // Hold the lock through a tile source that steps a second monitor.
    struct Nested<'a> {
        log: &'a TestLog,
        dir: &'a Path,
        inner: RefCell<Option<Result<StepReport, MonitorError>>>,
    }
    impl TileSource for Nested<'_> {
        fn checkpoint(&self) -> Result<Vec<u8>, FetchError> {
            let r = monitor(&[], &[]).step(self.log, self.dir, &mut |_| {}, &mut |_, _| {});
            *self.inner.borrow_mut() = Some(r);
            self.log.checkpoint()
        }
        fn tile(&self, path: &str) -> Result<Vec<u8>, FetchError> {
            self.log.tile(path)
        }
    }
    let nested = Nested {
        log: &log,
        dir: dir.path(),
        inner: RefCell::new(None),
    };
    step(&m, &nested, dir.path()).result.unwrap();
    assert!(matches!(
        nested.inner.into_inner(),
        Some(Err(MonitorError::Locked { .. }))
    ));
}

#[test]
fn partial_tiles_deleted_by_the_log_are_cut_from_full_ones() {
    let w = world();
    let mut log = TestLog::with(&w.base[..300]);
    let at_300 = log.checkpoint.clone();
    log.append(&w.base[300..]);
    // The log moved on to 600 and deleted the partial tiles of size 300
    // whose full tile exists now (tlog-tiles allows it); the monitor
    // still holds the checkpoint of size 300.
    let full: Vec<Tile> = log.tiles.keys().filter(|t| t.is_full()).copied().collect();
    log.tiles
        .retain(|t, _| t.is_full() || !full.iter().any(|f| f.kind == t.kind && f.index == t.index));
    log.checkpoint = at_300;
    let dir = tempfile::tempdir().unwrap();
    let run = step(&monitor(&[], &[]), &log, dir.path());
    assert_eq!(run.result.unwrap().to_size, 300);
    assert!(
        log.fetched
            .borrow()
            .contains(&"tile/entries/001.p/44".to_string())
    );
    assert!(
        log.fetched
            .borrow()
            .contains(&"tile/entries/001".to_string())
    );
}

#[test]
fn an_unavailable_partial_tile_is_a_fetch_error_not_a_full_tile() {
    let w = world();
    let log = TestLog::with(&w.base[..300]);
    // The partial bundle is there, but the log fails to serve it now.
    log.down.borrow_mut().push("tile/entries/001.p/44".into());
    let dir = tempfile::tempdir().unwrap();
    let m = monitor(&[], &[]);
    let run = step(&m, &log, dir.path());
    match run.result {
        Err(MonitorError::Fetch(FetchError::Unavailable { what, .. })) => {
            assert_eq!(what, "tile/entries/001.p/44");
        }
        other => panic!("{other:?}"),
    }
    assert!(run.alerts.is_empty(), "not a violation");
    // The full tile is not asked for: only a missing partial tile is cut
    // from it.
    assert!(
        !log.fetched
            .borrow()
            .contains(&"tile/entries/001".to_string())
    );
    // Bundle 0 was checked and kept; the next step resumes after it.
    assert_eq!(state(dir.path()).size(), 256);
    log.down.borrow_mut().clear();
    let report = step(&m, &log, dir.path()).result.unwrap();
    assert_eq!((report.from_size, report.to_size), (256, 300));
}

#[test]
fn a_missing_full_tile_is_a_fetch_error() {
    let w = world();
    let mut log = TestLog::with(&w.base[..300]);
    let full = Tile::at_size(TileKind::Entries, 0, 300).unwrap();
    log.tiles.remove(&full);
    let dir = tempfile::tempdir().unwrap();
    let run = step(&monitor(&[], &[]), &log, dir.path());
    assert!(
        matches!(
            &run.result,
            Err(MonitorError::Fetch(FetchError::NotFound { what })) if what == "tile/entries/000"
        ),
        "{:?}",
        run.result
    );
    assert!(run.alerts.is_empty());
}

/// Alerts without the tree size they were raised under.
fn comparable(alerts: &[Alert]) -> Vec<Alert> {
    alerts
        .iter()
        .map(|a| {
            let mut a = a.clone();
            a.tree_size = 0;
            a
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Following the log through any sequence of checkpoints ends in the
    /// same state, with the same alerts, as one step to the last one.
    #[test]
    fn stepping_through_any_growth_equals_one_step(
        cuts in proptest::collection::vec(0usize..=300, 1..6),
    ) {
        let w = world();
        let mut sizes = cuts;
        sizes.push(300);
        sizes.sort_unstable();
        let m = monitor(&["beta"], &["carol@example.com"]);

        let stepwise = tempfile::tempdir().unwrap();
        let mut log = TestLog::new();
        let mut alerts = Vec::new();
        for &size in &sizes {
            log.append(&w.base[log.entries.len()..size]);
            let run = step(&m, &log, stepwise.path());
            prop_assert!(run.result.is_ok(), "{:?}", run.result);
            alerts.extend(run.alerts);
        }

        let once = tempfile::tempdir().unwrap();
        let run = step(&m, &log, once.path());
        prop_assert!(run.result.is_ok());
        prop_assert_eq!(state(stepwise.path()), state(once.path()));
        prop_assert_eq!(comparable(&alerts), comparable(&run.alerts));
    }
}

#[test]
fn damaged_or_foreign_state_is_refused_and_kept() {
    let w = world();
    let log = TestLog::with(&w.base[..5]);
    let dir = tempfile::tempdir().unwrap();
    step(&monitor(&[], &[]), &log, dir.path()).result.unwrap();
    let path = dir.path().join("state.json");
    let good = std::fs::read(&path).unwrap();

    // Another log's monitor on this directory.
    let other = Ed25519Signer::from_seed("example.com/other", [8; 32]).unwrap();
    let foreign = Monitor::new(
        CheckpointPolicy {
            origin: "example.com/other".into(),
            log: Box::new(other.verifier()),
            witnesses: vec![],
            quorum: 0,
        },
        roots(),
        Watch::default(),
    );
    let run = step(&foreign, &log, dir.path());
    assert!(
        matches!(run.result, Err(MonitorError::WrongLog { .. })),
        "{:?}",
        run.result
    );

    // A state whose edge does not match its size.
    let mut json: serde_json::Value = serde_json::from_slice(&good).unwrap();
    json["size"] = 4.into();
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    let run = step(&monitor(&[], &[]), &log, dir.path());
    assert!(
        matches!(run.result, Err(MonitorError::Corrupt { .. })),
        "{:?}",
        run.result
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        serde_json::to_vec(&json).unwrap()
    );
}
