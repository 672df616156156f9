//! A signed release in a log, as `sigil sign` and the log would make it:
//! a maintainer key and chain from the test PKI (`common`), the DSSE
//! envelope, the release entry at some index of an in-memory RFC 6962
//! tree, the signed (and cosigned) checkpoint and the `.tlog-proof`
//! (`docs/formats.md` §3). Shared by the tests and the bench.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use p256::ecdsa::SigningKey;
use sigil_core::checkpoint::{self, Checkpoint, CheckpointPolicy};
use sigil_core::cosignature::CosignatureSigner;
use sigil_core::entry::{Entry, EntryBody, ReleaseEntry};
use sigil_core::merkle::{self, Hash, MemoryHashes};
use sigil_core::note::{self, Ed25519Signer, NoteSigner};
use sigil_core::proof::TlogProof;
use sigil_core::statement::{Envelope, Release, public_key_spki_der};

use crate::common::{TestPki, leaf_params, pki};

pub const ORIGIN: &str = "example.com/sigil-release-test";

/// A CA, one maintainer, a log key and three witnesses.
pub struct Fixture {
    pub pki: TestPki,
    pub key: SigningKey,
    pub chain: Vec<Vec<u8>>,
    pub log: Ed25519Signer,
    pub witnesses: Vec<CosignatureSigner>,
}

impl Fixture {
    /// A maintainer `alice@example.com` whose leaf allows `scope`.
    pub fn new(scope: &[&str]) -> Fixture {
        Self::with_leaf(|_| {}, scope)
    }

    /// Like [`Fixture::new`], the leaf parameters changed by `edit`.
    pub fn with_leaf(edit: impl FnOnce(&mut rcgen::CertificateParams), scope: &[&str]) -> Fixture {
        let pki = pki("Sigil Release Test");
        let key = SigningKey::from_slice(&[7; 32]).unwrap();
        let spki = public_key_spki_der(key.verifying_key()).unwrap();
        let subject = rcgen::SubjectPublicKeyInfo::from_der(&spki).unwrap();
        let mut params = leaf_params("alice@example.com", scope);
        edit(&mut params);
        let chain = pki.chain(&params, &subject);
        Fixture {
            pki,
            key,
            chain,
            log: Ed25519Signer::from_seed(ORIGIN, [8; 32]).unwrap(),
            witnesses: (0..3u8)
                .map(|i| {
                    CosignatureSigner::from_seed(&format!("w{i}.example"), [20 + i; 32]).unwrap()
                })
                .collect(),
        }
    }

    /// The release entry's bytes for `crate_bytes`, signed by the
    /// maintainer, integrated at `integrated_at` (Unix ms).
    pub fn entry(
        &self,
        name: &str,
        version: &str,
        crate_bytes: &[u8],
        integrated_at: u64,
    ) -> Vec<u8> {
        let sha256: [u8; 32] = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, crate_bytes)
            .as_ref()
            .try_into()
            .unwrap();
        let release = Release::new(name, version, sha256).unwrap();
        let envelope = Envelope::sign_release(&release, &self.key).unwrap();
        let release = ReleaseEntry::from_envelope(&envelope, vec![self.chain.clone()]).unwrap();
        Entry {
            integrated_at,
            body: EntryBody::Release(release),
        }
        .encode()
        .unwrap()
    }

    /// The proof file for `entry` at `index` in a log of `size` entries
    /// (the others are filler), its checkpoint cosigned by the first
    /// `cosigners` witnesses.
    pub fn proof(&self, entry: &[u8], index: u64, size: u64, cosigners: usize) -> Vec<u8> {
        let leaves: Vec<Hash> = (0..size)
            .map(|i| {
                if i == index {
                    merkle::leaf_hash(entry)
                } else {
                    merkle::leaf_hash(format!("filler {i}").as_bytes())
                }
            })
            .collect();
        let tree = MemoryHashes::from_leaf_hashes(leaves);
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: merkle::tree_hash(size, &tree).unwrap(),
            extensions: vec![],
        };
        let mut signed = checkpoint::sign_checkpoint(&cp, &self.log).unwrap();
        if cosigners > 0 {
            let signers: Vec<&dyn NoteSigner> = self.witnesses[..cosigners]
                .iter()
                .map(|w| w as &dyn NoteSigner)
                .collect();
            signed = note::add_signatures(&note::Note::parse(&signed).unwrap(), &signers).unwrap();
        }
        TlogProof {
            extra: Some(entry.to_vec()),
            index,
            hashes: merkle::prove_inclusion(index, size, &tree).unwrap(),
            checkpoint: signed,
        }
        .encode()
    }

    /// The trust root's policy: this log, the three witnesses, `quorum`.
    pub fn policy(&self, quorum: usize) -> CheckpointPolicy {
        CheckpointPolicy {
            origin: ORIGIN.into(),
            log: Box::new(self.log.verifier()),
            witnesses: self.witnesses.iter().map(|w| w.verifier()).collect(),
            quorum,
        }
    }
}
