//! `sigil-bench append`: the log's write path without admission and
//! without HTTP (issue #14, "raw append"). Release entries are made from
//! one template (valid encodings; their signatures are not checked, as
//! nothing is admitted), then appended to a `RocksStore` the way the
//! sequencer does it: leaf hashes, tiles (`append_leaves`), entry bundles,
//! the root, a signed checkpoint, and one synced batch per round, with the
//! release rows. The store is a log `sigil-log serve` opens as it is.
//!
//! Baseline, measured in the same run: the same entry bytes appended to a
//! plain file with one `fsync` per round, the durability floor of any log
//! that syncs once per round.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use sigil_core::checkpoint::{Checkpoint, sign_checkpoint};
use sigil_core::entry::{Entry, EntryBody, ReleaseEntry, Signer};
use sigil_core::merkle;
use sigil_core::note::Ed25519Signer;
use sigil_core::statement::{PAYLOAD_TYPE, Release, statement_json};
use sigil_core::tile::{self, TileHashReader};
use sigil_log::storage::{Batch, ReleaseRecord, RocksStore, Storage};
use sigil_log::tiles::{Overlay, StorageTiles, entry_bundles};

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The signers of one real release of `bench` signed with `key` (chain
/// `chain`): what every appended entry carries.
pub fn release_signers(
    key: &p256::ecdsa::SigningKey,
    chain: Vec<Vec<u8>>,
) -> Result<Vec<Signer>, String> {
    let release = sigil_core::statement::Release::new("bench", "0.0.1", [1; 32]).map_err(err)?;
    let env = sigil_core::statement::Envelope::sign_release(&release, key).map_err(err)?;
    Ok(ReleaseEntry::from_envelope(&env, vec![chain])
        .map_err(err)?
        .signers)
}

/// A log being grown by raw appends.
pub struct Appender {
    store: RocksStore,
    signer: Ed25519Signer,
    size: u64,
    signers: Vec<Signer>,
}

impl Appender {
    /// Opens (or creates) the log of `signer` in `dir`; release entries
    /// carry `signers` (a real signature and chain of one release, reused).
    pub fn open(dir: &Path, signer: Ed25519Signer, signers: Vec<Signer>) -> Result<Self, String> {
        let store =
            RocksStore::open(dir, sigil_core::note::NoteSigner::name(&signer)).map_err(err)?;
        let size = match store.load_checkpoint().map_err(err)? {
            Some(c) => c.size,
            None => {
                let a = Appender {
                    store,
                    signer,
                    size: 0,
                    signers,
                };
                let checkpoint = a.sign(0, merkle::empty_root())?;
                a.store
                    .append_batch(&Batch {
                        checkpoint,
                        ..Batch::default()
                    })
                    .map_err(err)?;
                return Ok(a);
            }
        };
        Ok(Appender {
            store,
            signer,
            size,
            signers,
        })
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Closes the store (a server may open it now); what reopening needs.
    pub fn close(self) -> Closed {
        Closed {
            signer: self.signer,
            signers: self.signers,
        }
    }
}

/// An [`Appender`] whose store is closed.
pub struct Closed {
    signer: Ed25519Signer,
    signers: Vec<Signer>,
}

impl Closed {
    /// Opens the store again, at whatever size it has now.
    pub fn reopen(self, dir: &Path) -> Result<Appender, String> {
        Appender::open(dir, self.signer, self.signers)
    }
}

impl Appender {
    fn sign(&self, size: u64, root: merkle::Hash) -> Result<Vec<u8>, String> {
        let cp = Checkpoint {
            origin: sigil_core::note::NoteSigner::name(&self.signer).to_owned(),
            size,
            root,
            extensions: vec![],
        };
        sign_checkpoint(&cp, &self.signer).map_err(err)
    }

    /// The encoded release entry number `n`: crate `bench`, version
    /// `1.<n / 10⁶>.<n % 10⁶>`, a distinct SHA-256.
    pub fn entry(&self, n: u64, now_ms: u64) -> Result<(Vec<u8>, String, [u8; 32]), String> {
        let version = format!("1.{}.{}", n / 1_000_000, n % 1_000_000);
        let sha256: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(n.to_be_bytes()).into();
        let release = Release::new("bench", &version, sha256).map_err(err)?;
        let entry = Entry {
            integrated_at: now_ms,
            body: EntryBody::Release(ReleaseEntry {
                crate_name: release.crate_name.clone(),
                version: release.version.clone(),
                sha256,
                payload_type: PAYLOAD_TYPE.to_owned(),
                payload: statement_json(&release),
                signers: self.signers.clone(),
            }),
        };
        Ok((entry.encode().map_err(err)?, version, sha256))
    }

    /// Appends `count` new entries in rounds of `round`; returns the time
    /// spent in the write path (entry making excluded) and the bytes of
    /// the entries.
    pub fn append(&mut self, count: u64, round: u64) -> Result<(Duration, u64), String> {
        let mut spent = Duration::ZERO;
        let mut bytes = 0;
        let end = self.size + count;
        while self.size < end {
            let n = round.min(end - self.size);
            let now = sigil_e2e::test_ca::now_ms();
            let made: Vec<_> = (self.size..self.size + n)
                .map(|i| self.entry(i, now))
                .collect::<Result<_, _>>()?;
            bytes += made.iter().map(|(e, _, _)| e.len() as u64).sum::<u64>();
            let started = Instant::now();
            self.commit(made)?;
            spent += started.elapsed();
        }
        Ok((spent, bytes))
    }

    /// One round: what the sequencer does after its checks.
    fn commit(&mut self, made: Vec<(Vec<u8>, String, [u8; 32])>) -> Result<(), String> {
        let old_size = self.size;
        let new_size = old_size + made.len() as u64;
        let base = StorageTiles(&self.store);
        let entries: Vec<Vec<u8>> = made.iter().map(|(e, _, _)| e.clone()).collect();
        let leaves: Vec<_> = entries.iter().map(|e| merkle::leaf_hash(e)).collect();
        let mut tiles = tile::append_leaves(old_size, &base, &leaves).map_err(err)?;
        tiles.extend(entry_bundles(&base, old_size, &entries).map_err(err)?);
        let overlay = Overlay::new(&tiles, &self.store);
        let root = merkle::tree_hash(new_size, &TileHashReader::trusted(new_size, &overlay))
            .map_err(err)?;
        let checkpoint = self.sign(new_size, root)?;
        let releases = made
            .into_iter()
            .enumerate()
            .map(|(i, (_, version, sha256))| {
                (
                    "bench".to_owned(),
                    version,
                    ReleaseRecord {
                        index: old_size + i as u64,
                        sha256,
                    },
                )
            })
            .collect();
        self.store
            .append_batch(&Batch {
                old_size,
                new_size,
                tiles,
                releases,
                checkpoint,
                ..Batch::default()
            })
            .map_err(err)?;
        self.size = new_size;
        Ok(())
    }
}

/// The baseline: `rounds` rounds of `round` entries of `entry_len` bytes
/// appended to a file in `dir`, one `fsync` per round; entries per second.
pub fn fsync_baseline(
    dir: &Path,
    rounds: u64,
    round: u64,
    entry_len: usize,
) -> Result<f64, String> {
    let path = dir.join("baseline.bin");
    let mut file = std::fs::File::create(&path).map_err(err)?;
    let chunk = vec![0x5a; entry_len * round as usize];
    let started = Instant::now();
    for _ in 0..rounds {
        file.write_all(&chunk).map_err(err)?;
        file.sync_data().map_err(err)?;
    }
    let rate = (rounds * round) as f64 / started.elapsed().as_secs_f64();
    drop(file);
    let _ = std::fs::remove_file(&path);
    Ok(rate)
}
