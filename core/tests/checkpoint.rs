//! Checkpoints (c2sp.org/tlog-checkpoint), witness cosignatures
//! (c2sp.org/tlog-cosignature) and the reader's policy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use sigil_core::checkpoint::{
    Checkpoint, CheckpointError, CheckpointPolicy, sign_checkpoint, verify_checkpoint,
};
use sigil_core::cosignature::{
    CosignatureError, CosignatureSigner, CosignatureVerifier, MAX_TIMESTAMP, cosigned_message,
};
use sigil_core::note::{
    self, Ed25519Signer, Note, NoteError, NoteSignature, NoteSigner, NoteVerifier,
};

/// The root hash of the C2SP example checkpoint (a literal, for `concat!`).
macro_rules! root {
    () => {
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    };
}

use CheckpointError::*;

const MALFORMED: &[(&str, CheckpointError)] = &[
    ("", MissingFinalNewline),
    (
        concat!("example.com/log\n5\n", root!()),
        MissingFinalNewline,
    ),
    ("\n", EmptyLine { line: 1 }),
    ("example.com/log\n", TooFewLines { found: 1 }),
    ("example.com/log\n5\n", TooFewLines { found: 2 }),
    // Empty origin, size, root and extension lines.
    (concat!("\n5\n", root!(), "\n"), EmptyLine { line: 1 }),
    (
        concat!("example.com/log\n\n", root!(), "\n"),
        EmptyLine { line: 2 },
    ),
    ("example.com/log\n5\n\n", EmptyLine { line: 3 }),
    (
        concat!("example.com/log\n5\n", root!(), "\n\n"),
        EmptyLine { line: 4 },
    ),
    (
        concat!("example.com/log\n5\n", root!(), "\next\n\nmore\n"),
        EmptyLine { line: 5 },
    ),
    // The note's blank line and signature are not part of the text.
    (
        concat!(
            "example.com/log\n5\n",
            root!(),
            "\n\n\u{2014} log AAAAAAA=\n"
        ),
        EmptyLine { line: 4 },
    ),
    // Sizes: leading zeros, signs, spaces, other bases, too big, not ASCII digits.
    (concat!("example.com/log\n05\n", root!(), "\n"), InvalidSize),
    (concat!("example.com/log\n00\n", root!(), "\n"), InvalidSize),
    (concat!("example.com/log\n+5\n", root!(), "\n"), InvalidSize),
    (concat!("example.com/log\n-5\n", root!(), "\n"), InvalidSize),
    (concat!("example.com/log\n 5\n", root!(), "\n"), InvalidSize),
    (concat!("example.com/log\n5 \n", root!(), "\n"), InvalidSize),
    (
        concat!("example.com/log\n0x5\n", root!(), "\n"),
        InvalidSize,
    ),
    (
        concat!("example.com/log\n1_000\n", root!(), "\n"),
        InvalidSize,
    ),
    (
        concat!("example.com/log\n5.0\n", root!(), "\n"),
        InvalidSize,
    ),
    (
        concat!("example.com/log\n18446744073709551616\n", root!(), "\n"),
        InvalidSize,
    ),
    (
        concat!("example.com/log\n\u{ff15}\n", root!(), "\n"),
        InvalidSize,
    ),
    // Roots: 31 and 33 bytes, no padding, non-canonical bits, URL-safe alphabet,
    // hex, a trailing space.
    (
        "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n",
        InvalidRootHash,
    ),
    (
        "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IA\n",
        InvalidRootHash,
    ),
    (
        "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
        InvalidRootHash,
    ),
    (
        "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",
        InvalidRootHash,
    ),
    (
        "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",
        InvalidRootHash,
    ),
    (
        "example.com/log\n5\n0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62\n",
        InvalidRootHash,
    ),
    (
        concat!("example.com/log\n5\n", root!(), " \n"),
        InvalidRootHash,
    ),
    // Control characters anywhere.
    (
        concat!("example.com/log\r\n5\n", root!(), "\n"),
        ControlCharacter { offset: 15 },
    ),
    (
        concat!("example.com/log\n5\n", root!(), "\n\tx\n"),
        ControlCharacter { offset: 63 },
    ),
];

#[test]
fn malformed_checkpoints_are_rejected() {
    for (text, want) in MALFORMED {
        assert_eq!(
            Checkpoint::parse(text).as_ref(),
            Err(want),
            "Checkpoint::parse({text:?})"
        );
    }
}

#[test]
fn valid_checkpoints() {
    let rows: &[(&str, &str, u64, usize)] = &[
        (
            concat!("example.com/log\n0\n", root!(), "\n"),
            "example.com/log",
            0,
            0,
        ),
        (
            concat!("example.com/log\n18446744073709551615\n", root!(), "\n"),
            "example.com/log",
            u64::MAX,
            0,
        ),
        // Clients MUST NOT assume the origin is a URL: spaces and '+' are fine.
        (
            concat!("my log + 1\n7\n", root!(), "\n"),
            "my log + 1",
            7,
            0,
        ),
        (
            concat!("o\n1\n", root!(), "\nfirst ext\n\u{2014} second\n"),
            "o",
            1,
            2,
        ),
    ];
    for (text, origin, size, extensions) in rows {
        let cp = Checkpoint::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(cp.origin, *origin, "{text:?}");
        assert_eq!(cp.size, *size, "{text:?}");
        assert_eq!(cp.extensions.len(), *extensions, "{text:?}");
        assert_eq!(cp.to_text(), *text);
    }
}

#[test]
fn sign_checkpoint_refuses_unrepresentable_fields() {
    let log = Ed25519Signer::from_seed("log", [1; 32]).unwrap();
    let good = Checkpoint {
        origin: "example.com/log".into(),
        size: 3,
        root: [7; 32],
        extensions: vec![],
    };
    let rows = [
        (
            Checkpoint {
                origin: String::new(),
                ..good.clone()
            },
            EmptyLine { line: 1 },
        ),
        (
            Checkpoint {
                origin: "a\nb".into(),
                ..good.clone()
            },
            InvalidSize,
        ),
        (
            Checkpoint {
                extensions: vec![String::new()],
                ..good.clone()
            },
            EmptyLine { line: 4 },
        ),
        (
            Checkpoint {
                extensions: vec!["a\nb".into()],
                ..good.clone()
            },
            NewlineInField,
        ),
        (
            Checkpoint {
                origin: "a\tb".into(),
                ..good.clone()
            },
            ControlCharacter { offset: 1 },
        ),
    ];
    for (cp, want) in rows {
        assert_eq!(sign_checkpoint(&cp, &log).unwrap_err(), want, "{cp:?}");
    }
    assert!(sign_checkpoint(&good, &log).is_ok());
}

/// A log, three witnesses, a checkpoint, and its log-signed note.
struct Fixture {
    log: Ed25519Signer,
    witnesses: Vec<CosignatureSigner>,
    text: String,
    signed: Vec<u8>,
}

const ORIGIN: &str = "example.com/log";

fn fixture() -> Fixture {
    // The log's key name need not be the origin.
    let log = Ed25519Signer::from_seed("log-key-2025", [1; 32]).unwrap();
    let witnesses = (1..=3)
        .map(|i| CosignatureSigner::from_seed(&format!("witness{i}.example"), [i; 32]).unwrap())
        .collect();
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: 20852163,
        root: [0xab; 32],
        extensions: vec![],
    };
    let signed = sign_checkpoint(&cp, &log).unwrap();
    Fixture {
        log,
        witnesses,
        text: cp.to_text(),
        signed,
    }
}

impl Fixture {
    fn policy(&self, quorum: usize) -> CheckpointPolicy {
        CheckpointPolicy {
            origin: ORIGIN.into(),
            log: Box::new(self.log.verifier()),
            witnesses: self.witnesses.iter().map(|w| w.verifier()).collect(),
            quorum,
        }
    }

    /// The log-signed note plus these signature lines.
    fn with(&self, extra: &[NoteSignature]) -> Vec<u8> {
        let mut note = Note::parse(&self.signed).unwrap();
        note.signatures.extend_from_slice(extra);
        note.to_bytes()
    }

    /// Witness `i` cosigns the checkpoint at time `t`.
    fn cosig(&self, i: usize, t: u64) -> NoteSignature {
        self.witnesses[i].cosign(&self.text, t).unwrap()
    }
}

#[test]
fn log_signature_alone_meets_quorum_zero() {
    let f = fixture();
    let v = verify_checkpoint(&f.signed, &f.policy(0)).unwrap();
    assert_eq!(v.checkpoint.size, 20852163);
    assert_eq!(v.note, f.signed);
    assert!(v.cosigners.is_empty());
}

#[test]
fn log_signature_is_required() {
    let f = fixture();
    let policy = f.policy(1);
    let missing = MissingLogSignature {
        name: "log-key-2025".into(),
        key_id: f.log.key_id(),
    };
    // Cosigned by all witnesses but not signed by the log.
    let refs: Vec<&dyn NoteSigner> = f.witnesses.iter().map(|w| w as &dyn NoteSigner).collect();
    let only_witnesses = note::sign(&f.text, &refs).unwrap();
    assert_eq!(
        verify_checkpoint(&only_witnesses, &policy).unwrap_err(),
        missing
    );
    // Signed by another key with the log's name: unknown, so still missing.
    let impostor = Ed25519Signer::from_seed("log-key-2025", [66; 32]).unwrap();
    let forged = note::sign(&f.text, &[&impostor, &f.witnesses[0]]).unwrap();
    assert_eq!(verify_checkpoint(&forged, &policy).unwrap_err(), missing);
}

#[test]
fn wrong_origin_is_rejected() {
    let f = fixture();
    let other = Checkpoint {
        origin: "example.com/other-log".into(),
        size: 1,
        root: [1; 32],
        extensions: vec![],
    };
    let signed = sign_checkpoint(&other, &f.log).unwrap();
    assert_eq!(
        verify_checkpoint(&signed, &f.policy(0)).unwrap_err(),
        WrongOrigin {
            expected: ORIGIN.into(),
            found: "example.com/other-log".into()
        }
    );
}

#[test]
fn quorum_counts_distinct_valid_witnesses() {
    let f = fixture();
    let policy = f.policy(2);
    // One cosignature: not enough.
    let one = f.with(&[f.cosig(0, 1000)]);
    assert_eq!(
        verify_checkpoint(&one, &policy).unwrap_err(),
        InsufficientCosignatures {
            required: 2,
            found: 1
        }
    );
    // The same witness twice (two timestamps, and the same line twice) counts once.
    let twice = f.with(&[f.cosig(0, 1000), f.cosig(0, 1001), f.cosig(0, 1000)]);
    assert_eq!(
        verify_checkpoint(&twice, &policy).unwrap_err(),
        InsufficientCosignatures {
            required: 2,
            found: 1
        }
    );
    // Two distinct witnesses: accepted, with their timestamps, in note order.
    let two = f.with(&[f.cosig(2, 3000), f.cosig(0, 1000)]);
    let v = verify_checkpoint(&two, &policy).unwrap();
    assert_eq!(
        v.cosigners,
        [
            ("witness3.example".to_owned(), 3000),
            ("witness1.example".to_owned(), 1000)
        ]
    );
    // Three of three.
    let all = f.with(&[f.cosig(0, 1), f.cosig(1, 2), f.cosig(2, 3)]);
    assert_eq!(
        verify_checkpoint(&all, &f.policy(3))
            .unwrap()
            .cosigners
            .len(),
        3
    );
}

/// Issue #11 item 9: one witness key listed under two names meets a
/// quorum of 2 only once. A `cosignature/v1` does not sign the witness's
/// name, so the same cosignature bytes verify under the second name's key
/// ID; the key is counted, not the name.
#[test]
fn item9_one_witness_key_under_two_names_counts_once() {
    let f = fixture();
    let alias = CosignatureSigner::from_seed("alias.example", [1; 32]).unwrap();
    assert_eq!(alias.public_key(), f.witnesses[0].public_key());
    let mut policy = f.policy(2);
    policy.witnesses = vec![f.witnesses[0].verifier(), alias.verifier()];
    let real = f.cosig(0, 1000);
    // The same cosignature, relabelled with the alias's name and key ID.
    let copied = NoteSignature {
        name: alias.verifier().name().to_owned(),
        key_id: alias.verifier().key_id(),
        signature: real.signature.clone(),
    };
    let note = f.with(&[real, copied]);
    assert_eq!(
        verify_checkpoint(&note, &policy).unwrap_err(),
        InsufficientCosignatures {
            required: 2,
            found: 1
        }
    );
    let fresh = f.with(&[f.cosig(0, 1000), alias.cosign(&f.text, 1001).unwrap()]);
    assert_eq!(
        verify_checkpoint(&fresh, &policy).unwrap_err(),
        InsufficientCosignatures {
            required: 2,
            found: 1
        }
    );
    // Quorum 1: met, and the key is reported once, under the first name.
    policy.quorum = 1;
    let v = verify_checkpoint(&note, &policy).unwrap();
    assert_eq!(v.cosigners, [("witness1.example".to_owned(), 1000)]);
}

#[test]
fn unknown_extra_signatures_are_ignored() {
    let f = fixture();
    let stranger = CosignatureSigner::from_seed("witness9.example", [9; 32]).unwrap();
    let other_log = Ed25519Signer::from_seed("other-log", [10; 32]).unwrap();
    let text = f.text.as_bytes();
    let extra = [
        stranger.cosign(&f.text, 5).unwrap(),
        NoteSignature {
            name: "other-log".into(),
            key_id: other_log.key_id(),
            signature: other_log.sign(text).unwrap(),
        },
        // A witness's name with another key ID, and garbage of an unknown type.
        NoteSignature {
            name: "witness1.example".into(),
            key_id: 7,
            signature: vec![0; 72],
        },
        NoteSignature {
            name: "pq.example".into(),
            key_id: 8,
            signature: vec![0xff; 2420],
        },
        f.cosig(0, 1000),
        f.cosig(1, 1000),
    ];
    let v = verify_checkpoint(&f.with(&extra), &f.policy(2)).unwrap();
    assert_eq!(v.cosigners.len(), 2);
}

#[test]
fn tampered_signatures_reject_the_note() {
    let f = fixture();
    let policy = f.policy(1);
    // Tampered cosignature, even though another witness meets the quorum.
    let mut bad = f.cosig(1, 1000);
    bad.signature[20] ^= 1;
    let note = f.with(&[f.cosig(0, 1000), bad.clone()]);
    assert_eq!(
        verify_checkpoint(&note, &policy).unwrap_err(),
        Note(NoteError::InvalidSignature {
            name: bad.name.clone(),
            key_id: bad.key_id
        })
    );
    // Tampered timestamp.
    let mut bad_time = f.cosig(0, 1000);
    bad_time.signature[7] ^= 1;
    assert!(matches!(
        verify_checkpoint(&f.with(&[bad_time]), &policy).unwrap_err(),
        Note(NoteError::InvalidSignature { .. })
    ));
    // A cosignature of another checkpoint.
    let other_text = f.text.replace("20852163", "20852164");
    let stale = f.witnesses[0].cosign(&other_text, 1000).unwrap();
    assert!(matches!(
        verify_checkpoint(&f.with(&[stale]), &policy).unwrap_err(),
        Note(NoteError::InvalidSignature { .. })
    ));
    // Tampered log signature.
    let mut note = Note::parse(&f.with(&[f.cosig(0, 1)])).unwrap();
    note.signatures[0].signature[0] ^= 1;
    assert_eq!(
        verify_checkpoint(&note.to_bytes(), &policy).unwrap_err(),
        Note(NoteError::InvalidSignature {
            name: "log-key-2025".into(),
            key_id: f.log.key_id()
        })
    );
    // Tampered text.
    let tampered = f.with(&[f.cosig(0, 1)]);
    let tampered = String::from_utf8(tampered)
        .unwrap()
        .replacen("20852163", "20852164", 1);
    assert!(verify_checkpoint(tampered.as_bytes(), &policy).is_err());
}

#[test]
fn invalid_policies_are_refused() {
    let f = fixture();
    assert!(matches!(
        verify_checkpoint(&f.signed, &f.policy(4)).unwrap_err(),
        InvalidPolicy { .. }
    ));
    let mut duplicate = f.policy(1);
    duplicate.witnesses.push(f.witnesses[0].verifier());
    assert!(matches!(
        verify_checkpoint(&f.signed, &duplicate).unwrap_err(),
        InvalidPolicy { .. }
    ));
}

#[test]
fn malformed_notes_are_note_errors() {
    let f = fixture();
    let mut truncated = f.signed.clone();
    truncated.pop();
    assert_eq!(
        verify_checkpoint(&truncated, &f.policy(0)).unwrap_err(),
        Note(NoteError::MissingFinalNewline)
    );
    // A validly signed note whose text is not a checkpoint.
    let signed = note::sign("just text\n", &[&f.log]).unwrap();
    assert_eq!(
        verify_checkpoint(&signed, &f.policy(0)).unwrap_err(),
        TooFewLines { found: 1 }
    );
}

/// Rekor's ECDSA-signed checkpoint (transparency-dev/formats tests): the log
/// key of a policy may be any note verifier.
#[test]
fn ecdsa_log_key() {
    let vkey = "rekor.sigstore.dev+c0d23d6a+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc=";
    let signed = "Rekor\n798034\nf+7CoKgXKE/tNys9TTXcr/ad6U/K3xvznmzew9y6SP0=\n\n\u{2014} rekor.sigstore.dev wNI9ajBEAiARInWIWyCdyG27CO6LPnPekyw20qO0YJfoaPaowGp/XgIgc+qEHS3+GKVClgqq20uDLet7MCoTURUCRdxwWBHHufk=\n";
    let policy = CheckpointPolicy {
        origin: "Rekor".into(),
        log: note::parse_verifier_key(vkey).unwrap(),
        witnesses: vec![],
        quorum: 0,
    };
    let v = verify_checkpoint(signed.as_bytes(), &policy).unwrap();
    assert_eq!(v.checkpoint.size, 798034);
    assert!(format!("{policy:?}").contains("rekor.sigstore.dev+c0d23d6a"));
}

// ---- cosignatures (c2sp.org/tlog-cosignature) ----

#[test]
fn cosign_refuses_what_is_not_a_checkpoint_and_huge_timestamps() {
    let f = fixture();
    let w = &f.witnesses[0];
    assert_eq!(
        w.cosign("hello\n", 1).unwrap_err(),
        CosignatureError::NotACheckpoint(TooFewLines { found: 1 })
    );
    assert_eq!(
        w.cosign(&f.text, MAX_TIMESTAMP + 1).unwrap_err(),
        CosignatureError::TimestampOutOfRange { timestamp: 1 << 63 }
    );
    assert!(w.cosign(&f.text, MAX_TIMESTAMP).is_ok());
    // Through the NoteSigner interface, the refusal is a signer error.
    assert!(matches!(
        note::sign("hello\n", &[w]).unwrap_err(),
        NoteError::Signer { .. }
    ));
}

#[test]
fn cosignature_wire_format() {
    let f = fixture();
    let w = &f.witnesses[0];
    let v = w.verifier();
    // Key ID = SHA-256(name || 0x0A || 0x04 || public key)[:4].
    let mut material = vec![note::ALG_COSIGNATURE_V1];
    material.extend_from_slice(&w.public_key());
    assert_eq!(v.key_id(), note::key_id("witness1.example", &material));
    // Signature = timestamp (8 bytes, big-endian) || Ed25519 over the cosigned message.
    let sig = w.cosign(&f.text, 1679315147).unwrap();
    assert_eq!(sig.signature.len(), 72);
    assert_eq!(sig.signature[..8], 1679315147u64.to_be_bytes());
    let msg = cosigned_message(f.text.as_bytes(), 1679315147);
    assert_eq!(
        msg,
        format!("cosignature/v1\ntime 1679315147\n{}", f.text).into_bytes()
    );
    // The same Ed25519 key as a plain type-0x01 note key signs the same bytes.
    let plain = Ed25519Signer::from_seed("witness1.example", [1; 32]).unwrap();
    assert_eq!(plain.public_key(), w.public_key());
    assert_eq!(sig.signature[8..], plain.sign(&msg).unwrap());
    assert_eq!(
        v.verify_timestamp(f.text.as_bytes(), &sig.signature),
        Some(1679315147)
    );
    // Wrong lengths.
    assert_eq!(
        v.verify_timestamp(f.text.as_bytes(), &sig.signature[..71]),
        None
    );
    let mut long = sig.signature.clone();
    long.push(0);
    assert_eq!(v.verify_timestamp(f.text.as_bytes(), &long), None);
    // A timestamp of 2^63 is refused even with a valid Ed25519 signature.
    for (t, ok) in [
        (MAX_TIMESTAMP, true),
        (MAX_TIMESTAMP + 1, false),
        (u64::MAX, false),
    ] {
        let mut s = t.to_be_bytes().to_vec();
        s.extend(plain.sign(&cosigned_message(f.text.as_bytes(), t)).unwrap());
        assert_eq!(
            v.verify_timestamp(f.text.as_bytes(), &s).is_some(),
            ok,
            "t = {t}"
        );
    }
}

#[test]
fn witness_key_text_forms() {
    let w = CosignatureSigner::from_seed("witness.example/w1", [5; 32]).unwrap();
    let skey = w.private_key();
    assert!(skey.starts_with(&format!(
        "PRIVATE+KEY+witness.example/w1+{:08x}+B",
        w.key_id()
    )));
    let reread = CosignatureSigner::from_private_key(&skey).unwrap();
    assert_eq!(reread.key_id(), w.key_id());
    // A plain Ed25519 signer key (Go note.GenerateKey) also works as a witness key:
    // its key ID is the type-0x01 one; the witness signs with the type-0x04 ID.
    let plain = Ed25519Signer::from_seed("witness.example/w1", [5; 32]).unwrap();
    let from_plain = CosignatureSigner::from_private_key(&plain.private_key()).unwrap();
    assert_eq!(from_plain.key_id(), w.key_id());
    assert_ne!(plain.key_id(), w.key_id());
    // But its type-0x01 ID must be right.
    let wrong = plain.private_key().replacen(
        &format!("{:08x}", plain.key_id()),
        &format!("{:08x}", w.key_id()),
        1,
    );
    assert!(matches!(
        CosignatureSigner::from_private_key(&wrong).unwrap_err(),
        NoteError::KeyIdMismatch { .. }
    ));
    // Verifier key round trip, and the generic reader picks the cosignature type.
    let vkey = w.verifier().verifier_key();
    assert_eq!(
        CosignatureVerifier::from_verifier_key(&vkey)
            .unwrap()
            .verifier_key(),
        vkey
    );
    assert_eq!(
        note::parse_verifier_key(&vkey).unwrap().key_id(),
        w.key_id()
    );
    // The current-time signer makes a cosignature that verifies.
    let f = fixture();
    let signed =
        note::add_signatures(&Note::parse(&f.signed).unwrap(), &[&f.witnesses[1]]).unwrap();
    let v = verify_checkpoint(&signed, &f.policy(1)).unwrap();
    assert!(v.cosigners[0].1 > 1_700_000_000);
    let generated = CosignatureSigner::generate("w").unwrap();
    assert_ne!(
        generated.public_key(),
        CosignatureSigner::generate("w").unwrap().public_key()
    );
}

fn line() -> impl Strategy<Value = String> {
    "[^\\x00-\\x1f]{1,30}"
}

proptest! {
    #[test]
    fn format_parse_round_trip(
        origin in line(),
        size in any::<u64>(),
        root in any::<[u8; 32]>(),
        extensions in proptest::collection::vec(line(), 0..3),
    ) {
        let cp = Checkpoint { origin, size, root, extensions };
        let text = cp.to_text();
        prop_assert_eq!(Checkpoint::parse(&text).unwrap(), cp.clone());
        let log = Ed25519Signer::from_seed("log", [3; 32]).unwrap();
        let signed = sign_checkpoint(&cp, &log).unwrap();
        let policy = CheckpointPolicy {
            origin: cp.origin.clone(),
            log: Box::new(log.verifier()),
            witnesses: vec![],
            quorum: 0,
        };
        prop_assert_eq!(verify_checkpoint(&signed, &policy).unwrap().checkpoint, cp);
    }

    /// Parsing is strict: whatever parses is the one canonical text of its checkpoint.
    #[test]
    fn parse_is_canonical(pieces in proptest::collection::vec(prop_oneof![
        Just("\n"), Just("0"), Just("1"), Just("9"), Just("+"), Just(" "), Just("o"),
        Just(root!()), Just("="), Just("\u{2014}"), Just("\r"),
    ], 0..12)) {
        let text = pieces.concat();
        if let Ok(cp) = Checkpoint::parse(&text) {
            prop_assert_eq!(cp.to_text(), text);
        }
    }

    #[test]
    fn parse_never_panics(text in any::<String>()) {
        let _ = Checkpoint::parse(&text);
    }
}
