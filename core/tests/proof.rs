//! C2SP tlog-proof: encoding, strict parsing, and verification against a
//! trust policy, including witness quorums and every way a proof can lie.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use sigil_core::checkpoint::{self, Checkpoint, CheckpointPolicy};
use sigil_core::cosignature::CosignatureSigner;
use sigil_core::merkle::{self, Hash, MemoryHashes};
use sigil_core::note::{self, Ed25519Signer, NoteSigner};
use sigil_core::proof::{self, ProofError, TlogProof};

const ORIGIN: &str = "example.com/sigil-test";

fn log_key() -> Ed25519Signer {
    Ed25519Signer::from_seed(ORIGIN, [42u8; 32]).unwrap()
}

fn witness(i: u8) -> CosignatureSigner {
    CosignatureSigner::from_seed(&format!("witness{i}.example"), [100 + i; 32]).unwrap()
}

fn entries(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("entry number {i}").into_bytes())
        .collect()
}

/// A log of `n` entries in memory, its signed checkpoint, and a proof file
/// for entry `index`, cosigned by the given witnesses.
fn proof_for(n: usize, index: u64, witnesses: &[CosignatureSigner]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let data = entries(n);
    let leaves: Vec<Hash> = data.iter().map(|e| merkle::leaf_hash(e)).collect();
    let tree = MemoryHashes::from_leaf_hashes(leaves);
    let size = n as u64;
    let cp = Checkpoint {
        origin: ORIGIN.to_string(),
        size,
        root: merkle::tree_hash(size, &tree).unwrap(),
        extensions: vec![],
    };
    let mut signed = checkpoint::sign_checkpoint(&cp, &log_key()).unwrap();
    if !witnesses.is_empty() {
        let parsed = note::Note::parse(&signed).unwrap();
        let signers: Vec<&dyn NoteSigner> =
            witnesses.iter().map(|w| w as &dyn NoteSigner).collect();
        signed = note::add_signatures(&parsed, &signers).unwrap();
    }
    let p = TlogProof {
        extra: Some(data[index as usize].clone()),
        index,
        hashes: merkle::prove_inclusion(index, size, &tree).unwrap(),
        checkpoint: signed,
    };
    (p.encode(), data)
}

fn policy(witnesses: &[CosignatureSigner], quorum: usize) -> CheckpointPolicy {
    CheckpointPolicy {
        origin: ORIGIN.to_string(),
        log: Box::new(log_key().verifier()),
        witnesses: witnesses.iter().map(|w| w.verifier()).collect(),
        quorum,
    }
}

#[test]
fn valid_proofs_verify_for_every_index() {
    for n in 1..=20usize {
        for i in 0..n as u64 {
            let (file, data) = proof_for(n, i, &[]);
            let v = proof::verify(&file, &policy(&[], 0)).unwrap();
            assert_eq!(v.entry, data[i as usize]);
            assert_eq!(v.index, i);
            assert_eq!(v.checkpoint.checkpoint.size, n as u64);
        }
    }
}

#[test]
fn worked_example_is_byte_exact() {
    // The layout the spec shows: header, extra, index, hashes, blank line,
    // checkpoint verbatim.
    let (file, _) = proof_for(3, 2, &[]);
    let text = String::from_utf8(file).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("c2sp.org/tlog-proof@v1"));
    assert_eq!(lines.next(), Some("extra ZW50cnkgbnVtYmVyIDI="));
    assert_eq!(lines.next(), Some("index 2"));
    // PATH(2, D[0:3]) = [MTH(D[0:2])]
    let d = entries(3);
    let expected = merkle::node_hash(&merkle::leaf_hash(&d[0]), &merkle::leaf_hash(&d[1]));
    use base64::Engine as _;
    assert_eq!(
        lines.next(),
        Some(
            base64::engine::general_purpose::STANDARD
                .encode(expected)
                .as_str()
        )
    );
    assert_eq!(lines.next(), Some(""));
    assert_eq!(lines.next(), Some(ORIGIN));
    assert_eq!(lines.next(), Some("3"));
}

#[test]
fn witness_quorum_is_enforced() {
    let ws = [witness(1), witness(2), witness(3)];
    let (one, _) = proof_for(5, 1, &ws[..1]);
    let (two, _) = proof_for(5, 1, &ws[..2]);
    assert!(proof::verify(&one, &policy(&ws, 1)).is_ok());
    assert!(matches!(
        proof::verify(&one, &policy(&ws, 2)),
        Err(ProofError::Checkpoint(_))
    ));
    let v = proof::verify(&two, &policy(&ws, 2)).unwrap();
    assert_eq!(v.checkpoint.cosigners.len(), 2);
}

#[test]
fn wrong_log_key_or_origin_is_rejected() {
    let (file, _) = proof_for(4, 0, &[]);
    let other = CheckpointPolicy {
        origin: ORIGIN.to_string(),
        log: Box::new(
            Ed25519Signer::from_seed(ORIGIN, [43u8; 32])
                .unwrap()
                .verifier(),
        ),
        witnesses: vec![],
        quorum: 0,
    };
    assert!(matches!(
        proof::verify(&file, &other),
        Err(ProofError::Checkpoint(_))
    ));
    let mut wrong_origin = policy(&[], 0);
    wrong_origin.origin = "example.com/other".to_string();
    assert!(matches!(
        proof::verify(&file, &wrong_origin),
        Err(ProofError::Checkpoint(_))
    ));
}

#[test]
fn tampered_entry_index_or_hash_fails_inclusion() {
    let (file, _) = proof_for(13, 6, &[]);
    let good = TlogProof::parse(&file).unwrap();

    let mut p = good.clone();
    p.extra.as_mut().unwrap()[0] ^= 1;
    assert!(matches!(
        proof::verify(&p.encode(), &policy(&[], 0)),
        Err(ProofError::Inclusion(_))
    ));

    for index in [5, 7, 12, 13, u64::MAX] {
        let mut p = good.clone();
        p.index = index;
        assert!(
            matches!(
                proof::verify(&p.encode(), &policy(&[], 0)),
                Err(ProofError::Inclusion(_))
            ),
            "index {index} must fail"
        );
    }

    for h in 0..good.hashes.len() {
        for bit in [0usize, 77, 255] {
            let mut p = good.clone();
            p.hashes[h][bit / 8] ^= 1 << (bit % 8);
            assert!(matches!(
                proof::verify(&p.encode(), &policy(&[], 0)),
                Err(ProofError::Inclusion(_))
            ));
        }
    }

    let mut p = good.clone();
    p.hashes.pop();
    assert!(proof::verify(&p.encode(), &policy(&[], 0)).is_err());
    let mut p = good;
    p.hashes.push([0u8; 32]);
    assert!(proof::verify(&p.encode(), &policy(&[], 0)).is_err());
}

#[test]
fn proof_without_entry_is_not_a_sigil_proof() {
    let (file, _) = proof_for(2, 0, &[]);
    let mut p = TlogProof::parse(&file).unwrap();
    p.extra = None;
    assert!(matches!(
        proof::verify(&p.encode(), &policy(&[], 0)),
        Err(ProofError::MissingEntry)
    ));
}

/// Malformed proof files, each with the error it must produce.
const MALFORMED: &[(&str, ProofError)] = &[
    ("", ProofError::BadHeader),
    (
        "c2sp.org/tlog-proof@v2\nindex 0\n\nx\n",
        ProofError::BadHeader,
    ),
    ("c2sp.org/tlog-proof@v1", ProofError::BadHeader),
    (
        "c2sp.org/tlog-proof@v1\r\nindex 0\n\nx\n",
        ProofError::BadHeader,
    ),
    ("c2sp.org/tlog-proof@v1\n", ProofError::BadIndex),
    (
        "c2sp.org/tlog-proof@v1\nindex 01\n\nx\n",
        ProofError::BadIndex,
    ),
    (
        "c2sp.org/tlog-proof@v1\nindex -1\n\nx\n",
        ProofError::BadIndex,
    ),
    (
        "c2sp.org/tlog-proof@v1\nindex +1\n\nx\n",
        ProofError::BadIndex,
    ),
    (
        "c2sp.org/tlog-proof@v1\nindex \n\nx\n",
        ProofError::BadIndex,
    ),
    (
        "c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\nx\n",
        ProofError::BadIndex,
    ),
    (
        "c2sp.org/tlog-proof@v1\nindex  1\n\nx\n",
        ProofError::BadIndex,
    ),
    (
        "c2sp.org/tlog-proof@v1\nextra\nindex 1\n\nx\n",
        ProofError::BadExtra,
    ),
    (
        "c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\nx\n",
        ProofError::BadExtra,
    ),
    (
        "c2sp.org/tlog-proof@v1\nextra aGVsbG8\nindex 1\n\nx\n",
        ProofError::BadExtra,
    ),
    (
        "c2sp.org/tlog-proof@v1\nextra aGVsbG9=\nindex 1\n\nx\n",
        ProofError::BadExtra,
    ),
    (
        "c2sp.org/tlog-proof@v1\nextra aGVsbG8=\n\nx\n",
        ProofError::BadIndex,
    ),
    (
        "c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\nx\n",
        ProofError::BadHash { line: 3 },
    ),
    (
        "c2sp.org/tlog-proof@v1\nextra AA==\nindex 1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nx\n",
        ProofError::BadHash { line: 5 },
    ),
    (
        "c2sp.org/tlog-proof@v1\nindex 1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        ProofError::MissingBlankLine,
    ),
    (
        "c2sp.org/tlog-proof@v1\nindex 1\n",
        ProofError::MissingBlankLine,
    ),
    (
        "c2sp.org/tlog-proof@v1\nindex 1\n\n",
        ProofError::MissingCheckpoint,
    ),
];

#[test]
fn malformed_proofs_are_rejected_with_a_reason() {
    for (input, want) in MALFORMED {
        // ProofError carries storage errors and so has no PartialEq; the
        // Debug form names the variant and its fields.
        let got = TlogProof::parse(input.as_bytes())
            .err()
            .map(|e| format!("{e:?}"));
        assert_eq!(got, Some(format!("{want:?}")), "input {input:?}");
    }
}

#[test]
fn too_many_hashes_and_oversized_files_are_rejected() {
    let line = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let file = format!("c2sp.org/tlog-proof@v1\nindex 1\n{}\nx\n", line.repeat(65));
    assert!(matches!(
        TlogProof::parse(file.as_bytes()),
        Err(ProofError::TooManyHashes)
    ));
    let big = vec![b'a'; proof::MAX_PROOF_SIZE + 1];
    assert!(matches!(
        TlogProof::parse(&big),
        Err(ProofError::TooLarge(_))
    ));
    assert!(matches!(
        TlogProof::parse(&[0xff, 0xfe]),
        Err(ProofError::NotText)
    ));
}

proptest! {
    #[test]
    fn encode_parse_round_trip(
        extra in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
        index in any::<u64>(),
        hashes in proptest::collection::vec(any::<[u8; 32]>(), 0..=64),
        checkpoint in "[a-z./]{1,20}\n[0-9]{1,5}\n[A-Za-z0-9+/]{43}=\n\n— [a-z.]{1,10} [A-Za-z0-9+/]{4,40}\n",
    ) {
        let p = TlogProof { extra, index, hashes, checkpoint: checkpoint.into_bytes() };
        prop_assert_eq!(TlogProof::parse(&p.encode()).unwrap(), p);
    }

    #[test]
    fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = TlogProof::parse(&data);
        let _ = proof::verify(&data, &policy(&[], 0));
    }

    #[test]
    fn parse_never_panics_on_near_valid_text(
        lines in proptest::collection::vec("(extra |index |)[A-Za-z0-9+/=]{0,50}", 0..6),
    ) {
        let file = format!("c2sp.org/tlog-proof@v1\n{}\n\nx\n", lines.join("\n"));
        let _ = TlogProof::parse(file.as_bytes());
    }
}

// ---------------------------------------------------------------- worked example

/// `docs/formats.md`, read at compile time so its worked example of a proof
/// file cannot drift from the code.
const FORMATS_MD: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/formats.md"));

/// The text of the code block after `<!-- worked-example: NAME -->`, each
/// line followed by a newline.
fn docs_block(name: &str) -> String {
    let marker = format!("<!-- worked-example: {name} -->");
    let start = FORMATS_MD
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker} in docs/formats.md"));
    FORMATS_MD[start + marker.len()..]
        .lines()
        .skip(2)
        .take_while(|line| !line.starts_with("```"))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// The bytes of an annotated hex dump in `docs/formats.md` (hex before `#`).
fn docs_hex(name: &str) -> Vec<u8> {
    let hex: String = docs_block(name)
        .lines()
        .map(|line| line.split('#').next().unwrap().replace(' ', ""))
        .collect();
    hex::decode(hex).unwrap()
}

#[test]
fn docs_worked_example_is_what_the_code_produces_and_verifies() {
    // A log holding the three worked-example entries of §1.6, in this order.
    let entries = [
        docs_hex("certificate-entry"),
        docs_hex("revocation-entry"),
        docs_hex("release-entry"),
    ];
    let origin = "example.com/sigil";
    let key = Ed25519Signer::from_private_key(docs_block("proof-log-key").trim_end()).unwrap();
    assert_eq!(
        key.verifier().verifier_key(),
        docs_block("proof-log-vkey").trim_end()
    );
    let tree =
        MemoryHashes::from_leaf_hashes(entries.iter().map(|e| merkle::leaf_hash(e)).collect());
    let cp = Checkpoint {
        origin: origin.to_string(),
        size: 3,
        root: merkle::tree_hash(3, &tree).unwrap(),
        extensions: vec![],
    };
    let file = TlogProof {
        extra: Some(entries[2].clone()),
        index: 2,
        hashes: merkle::prove_inclusion(2, 3, &tree).unwrap(),
        checkpoint: checkpoint::sign_checkpoint(&cp, &key).unwrap(),
    }
    .encode();
    let text = String::from_utf8(file.clone()).unwrap();
    assert_eq!(
        docs_block("proof-file"),
        text,
        "docs/formats.md §3 is stale; the code produces:\n{text}"
    );

    let policy = CheckpointPolicy {
        origin: origin.to_string(),
        log: note::parse_verifier_key(docs_block("proof-log-vkey").trim_end()).unwrap(),
        witnesses: vec![],
        quorum: 0,
    };
    let verified = proof::verify(docs_block("proof-file").as_bytes(), &policy).unwrap();
    assert_eq!(verified.entry, entries[2]);
}
