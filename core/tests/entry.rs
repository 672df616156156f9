//! Tests for `sigil_core::entry`: the log entry encoding of
//! `docs/formats.md`, "Log entries".
#![allow(clippy::unwrap_used, clippy::expect_used)]

use p256::ecdsa::SigningKey;
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};
use sigil_core::entry::{
    CertificateEntry, CrlReason, ENTRY_VERSION, Entry, EntryBody, EntryError, KIND_CERTIFICATE,
    KIND_RELEASE, KIND_REVOCATION, MAX_ENTRY_SIZE, REVOCATION_CONTEXT, ReleaseEntry, Revocation,
    Signer, revocation_signed_message,
};
use sigil_core::statement::{
    Envelope, PAYLOAD_TYPE, Release, StatementError, public_key_spki_der, statement_json,
};

/// `docs/formats.md`, read at compile time so the worked examples there are
/// checked on every test run.
const FORMATS_MD: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/formats.md"));

/// 2026-01-01T00:00:00Z in Unix milliseconds.
const NEW_YEAR_2026: u64 = 1_767_225_600_000;

/// The worked-example release entry of `docs/formats.md` §1.6.
const RELEASE_HEX: &str = concat!(
    "010000019b76daa800010568656c6c6f05312e302e30e3b0c44298fc1c149afbf4c8996fb92427ae41e464",
    "9b934ca495991b7852b8551c6170706c69636174696f6e2f766e642e696e2d746f746f2b6a736f6e010a7b",
    "225f74797065223a2268747470733a2f2f696e2d746f746f2e696f2f53746174656d656e742f7631222c22",
    "7375626a656374223a5b7b226e616d65223a2268656c6c6f2d312e302e302e6372617465222c2264696765",
    "7374223a7b22736861323536223a2265336230633434323938666331633134396166626634633839393666",
    "623932343237616534316534363439623933346361343935393931623738353262383535227d7d5d2c2270",
    "726564696361746554797065223a2268747470733a2f2f736967696c2e6465762f72656c656173652f7631",
    "222c22707265646963617465223a7b226372617465223a2268656c6c6f222c2276657273696f6e223a2231",
    "2e302e30227d7d00a9403466356635643434366534356563663064613761636236346466353935356431",
    "62386237636432386130653366303365363635636361343662623436306239614730450220629632ec34",
    "3c56d81d771e27f3eb10e29a8c17fe32d000ecfe0675b5759ed746022100e526f8f15f52c73aaa47fae6",
    "aea22acb486715bc6869dd6ea5cb25c8c14a48e9001e00096c6561662d636572740011696e7465726d65",
    "64696174652d63657274",
);

/// The worked-example certificate entry of `docs/formats.md` §1.6.
const CERTIFICATE_HEX: &str = concat!(
    "010000019b76daa80002001e00096c6561662d636572740011696e7465726d6564696174652d6365",
    "7274",
);

/// The worked-example revocation entry of `docs/formats.md` §1.6 (and of
/// the `entry` module documentation).
const REVOCATION_HEX: &str = concat!(
    "010000019b76daa80003080123456789abcdef01000000000000002a0000019b76d18040473045022042",
    "bb5af1f9674df30d4176721670f31943646a64a6c56d9879ac8343f291e981022100b3336d3c335e1e49",
    "8e8d7e7d7c037ce92b4fb914f14a8abc76e68493e92a8c1200130011696e7465726d6564696174652d63",
    "657274",
);

/// The example key of `docs/formats.md` §2.5.
fn example_key() -> SigningKey {
    SigningKey::from_slice(&Sha256::digest(b"sigil worked example key")).unwrap()
}

fn stand_in_chain() -> Vec<Vec<u8>> {
    vec![b"leaf-cert".to_vec(), b"intermediate-cert".to_vec()]
}

fn example_release_entry() -> Entry {
    let release = Release::new("hello", "1.0.0", Sha256::digest(b"").into()).unwrap();
    let envelope = Envelope::sign_release(&release, &example_key()).unwrap();
    Entry {
        integrated_at: NEW_YEAR_2026,
        body: EntryBody::Release(
            ReleaseEntry::from_envelope(&envelope, vec![stand_in_chain()]).unwrap(),
        ),
    }
}

fn example_certificate_entry() -> Entry {
    Entry {
        integrated_at: NEW_YEAR_2026,
        body: EntryBody::Certificate(CertificateEntry {
            chain: stand_in_chain(),
        }),
    }
}

/// The origin of the example log of `docs/formats.md` §3.3, which the
/// worked-example revocation is signed for.
const EXAMPLE_ORIGIN: &str = "example.com/sigil";

fn example_revocation_entry() -> Entry {
    let revocation = Revocation::sign(
        EXAMPLE_ORIGIN,
        vec![0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
        CrlReason::KeyCompromise.code(),
        42,
        1_767_225_000_000,
        vec![b"intermediate-cert".to_vec()],
        &example_key(),
    )
    .unwrap();
    Entry {
        integrated_at: NEW_YEAR_2026,
        body: EntryBody::Revocation(revocation),
    }
}

/// The bytes of the annotated hex dump after `<!-- worked-example: NAME -->`
/// in `docs/formats.md`: on each line, the hex before any `#`.
fn docs_example(name: &str) -> Vec<u8> {
    let marker = format!("<!-- worked-example: {name} -->");
    let start = FORMATS_MD
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker} in docs/formats.md"));
    let mut lines = FORMATS_MD[start + marker.len()..].lines().skip(1);
    assert!(
        lines.next().unwrap().starts_with("```"),
        "{name}: no code block"
    );
    let hex: String = lines
        .take_while(|line| !line.starts_with("```"))
        .map(|line| line.split('#').next().unwrap().replace(' ', ""))
        .collect();
    hex::decode(hex).unwrap()
}

/// The text of the code block after `<!-- worked-example: NAME -->`.
fn docs_block(name: &str) -> String {
    let marker = format!("<!-- worked-example: {name} -->");
    let start = FORMATS_MD.find(&marker).unwrap();
    FORMATS_MD[start + marker.len()..]
        .lines()
        .skip(2)
        .take_while(|line| !line.starts_with("```"))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------- worked examples

#[test]
fn worked_examples_match_the_code_and_the_docs() {
    for (name, entry, hex) in [
        ("release-entry", example_release_entry(), RELEASE_HEX),
        (
            "certificate-entry",
            example_certificate_entry(),
            CERTIFICATE_HEX,
        ),
        (
            "revocation-entry",
            example_revocation_entry(),
            REVOCATION_HEX,
        ),
    ] {
        let bytes = hex::decode(hex).unwrap();
        assert_eq!(hex::encode(entry.encode().unwrap()), hex, "{name}: code");
        assert_eq!(docs_example(name), bytes, "{name}: docs/formats.md");
        assert_eq!(Entry::decode(&bytes).unwrap(), entry, "{name}: decode");
    }
}

#[test]
fn worked_example_sizes_match_the_docs() {
    assert_eq!(hex::decode(RELEASE_HEX).unwrap().len(), 522);
    assert_eq!(hex::decode(CERTIFICATE_HEX).unwrap().len(), 42);
    assert_eq!(hex::decode(REVOCATION_HEX).unwrap().len(), 129);
}

#[test]
fn worked_statement_and_envelope_match_the_docs() {
    let Entry {
        body: EntryBody::Release(release),
        ..
    } = example_release_entry()
    else {
        unreachable!()
    };
    let envelope = release.envelope();
    assert_eq!(docs_block("statement").as_bytes(), &envelope.payload[..]);
    assert_eq!(docs_block("envelope").as_bytes(), &envelope.to_json()[..]);
    let spki = public_key_spki_der(example_key().verifying_key()).unwrap();
    assert!(FORMATS_MD.contains(&format!("spki  = {}", hex::encode(&spki))));
    assert!(FORMATS_MD.contains(&format!("keyid = {}", release.signers[0].keyid)));
}

#[test]
fn worked_example_signatures_verify() {
    let spki = public_key_spki_der(example_key().verifying_key()).unwrap();
    let Ok(Entry {
        body: EntryBody::Release(release),
        ..
    }) = Entry::decode(&hex::decode(RELEASE_HEX).unwrap())
    else {
        panic!()
    };
    release.envelope().verify_signature(0, &spki).unwrap();
    let Ok(Entry {
        body: EntryBody::Revocation(revocation),
        ..
    }) = Entry::decode(&hex::decode(REVOCATION_HEX).unwrap())
    else {
        panic!()
    };
    revocation.verify_signature(EXAMPLE_ORIGIN, &spki).unwrap();
    let mut tampered = revocation.clone();
    tampered.from_index += 1;
    assert!(matches!(
        tampered.verify_signature(EXAMPLE_ORIGIN, &spki),
        Err(EntryError::Statement(StatementError::BadSignature))
    ));
}

/// Issue #11 item 8: a revocation is bound to the log it was signed for.
/// The same bytes checked with another log's origin (or with a prefix or
/// an extension of it) do not verify, and the origin cannot be empty.
#[test]
fn item8_a_revocation_verifies_only_for_its_own_log() {
    let spki = public_key_spki_der(example_key().verifying_key()).unwrap();
    let EntryBody::Revocation(revocation) = example_revocation_entry().body else {
        unreachable!()
    };
    revocation.verify_signature(EXAMPLE_ORIGIN, &spki).unwrap();
    for other in [
        "example.com/other-log",
        "example.com/sigi",
        "example.com/sigil2",
        "example.com/sigil\n",
    ] {
        assert!(
            matches!(
                revocation.verify_signature(other, &spki),
                Err(EntryError::Statement(StatementError::BadSignature))
            ),
            "{other:?}"
        );
    }
    assert!(matches!(
        revocation.verify_signature("", &spki),
        Err(EntryError::FieldLength {
            field: "origin",
            ..
        })
    ));
    // The same revocation signed for another log differs only in its
    // signature; the entry does not carry the origin.
    let other = Revocation::sign(
        "example.com/other-log",
        revocation.serial.clone(),
        revocation.reason,
        revocation.from_index,
        revocation.revoked_at,
        revocation.signer_chain.clone(),
        &example_key(),
    )
    .unwrap();
    assert_ne!(other.signature, revocation.signature);
    assert!(other.verify_signature(EXAMPLE_ORIGIN, &spki).is_err());
    other
        .verify_signature("example.com/other-log", &spki)
        .unwrap();
}

// ---------------------------------------------------------------- fixed cases

#[test]
fn revocation_signed_message_is_context_then_body_prefix() {
    let entry = example_revocation_entry();
    let bytes = entry.encode().unwrap();
    let EntryBody::Revocation(r) = &entry.body else {
        unreachable!()
    };
    let message = revocation_signed_message(
        EXAMPLE_ORIGIN,
        &r.serial,
        r.reason,
        r.from_index,
        r.revoked_at,
    )
    .unwrap();
    assert_eq!(REVOCATION_CONTEXT, b"sigil-revocation/v2\n");
    assert_eq!(&message[..20], REVOCATION_CONTEXT);
    // origin = 2-byte length || "example.com/sigil"
    assert_eq!(&message[20..22], &[0x00, 0x11]);
    assert_eq!(&message[22..22 + 17], EXAMPLE_ORIGIN.as_bytes());
    // body = serial (1 + 8) || reason (1) || from_index (8) || revoked_at (8) || ...
    assert_eq!(&message[22 + 17..], &bytes[10..10 + 9 + 1 + 8 + 8]);
    assert_eq!(r.signed_message(EXAMPLE_ORIGIN).unwrap(), message);
}

#[test]
fn header_layout() {
    let bytes = example_certificate_entry().encode().unwrap();
    assert_eq!(bytes[0], ENTRY_VERSION);
    assert_eq!(bytes[1..9], NEW_YEAR_2026.to_be_bytes());
    assert_eq!(bytes[9], KIND_CERTIFICATE);
    assert_eq!(example_release_entry().kind(), KIND_RELEASE);
    assert_eq!(example_revocation_entry().kind(), KIND_REVOCATION);
    assert_eq!(example_release_entry().kind_name(), "release");
    assert_eq!(example_certificate_entry().kind_name(), "certificate");
    assert_eq!(example_revocation_entry().kind_name(), "revocation");
}

#[test]
fn envelope_survives_the_log() {
    let (a, b) = (example_key(), SigningKey::from_slice(&[7; 32]).unwrap());
    let release = Release::new("serde_json", "1.0.140", [9; 32]).unwrap();
    let mut env = Envelope::sign_release(&release, &a).unwrap();
    env.add_signature(&b).unwrap();
    let entry = Entry {
        integrated_at: 5,
        body: EntryBody::Release(
            ReleaseEntry::from_envelope(&env, vec![vec![vec![1]], vec![vec![2], vec![3]]]).unwrap(),
        ),
    };
    let decoded = Entry::decode(&entry.encode().unwrap()).unwrap();
    let EntryBody::Release(decoded) = decoded.body else {
        unreachable!()
    };
    assert_eq!(decoded.release(), release);
    assert_eq!(decoded.signers[1].chain, vec![vec![2], vec![3]]);
    let rebuilt = decoded.envelope();
    assert_eq!(rebuilt, env);
    rebuilt
        .verify_signature(0, &public_key_spki_der(a.verifying_key()).unwrap())
        .unwrap();
    rebuilt
        .verify_signature(1, &public_key_spki_der(b.verifying_key()).unwrap())
        .unwrap();
}

#[test]
fn from_envelope_checks() {
    let env = Envelope::sign_release(
        &Release::new("hello", "1.0.0", [0; 32]).unwrap(),
        &example_key(),
    )
    .unwrap();
    assert_eq!(
        ReleaseEntry::from_envelope(&env, vec![]),
        Err(EntryError::ChainCountMismatch {
            signatures: 1,
            chains: 0
        })
    );
    assert_eq!(
        ReleaseEntry::from_envelope(&env, vec![vec![], vec![]]),
        Err(EntryError::ChainCountMismatch {
            signatures: 1,
            chains: 2
        })
    );
    assert!(matches!(
        ReleaseEntry::from_envelope(&env, vec![vec![]]),
        Err(EntryError::FieldLength { field: "chain", .. })
    ));
    assert_eq!(
        ReleaseEntry::from_envelope(&env, vec![vec![vec![0; 70_000]]]),
        Err(EntryError::FieldLength {
            field: "certificate",
            len: 70_000,
            min: 1,
            max: 65_535
        })
    );
    assert!(matches!(
        ReleaseEntry::from_envelope(&env, vec![vec![vec![0; 40_000], vec![0; 30_000]]]),
        Err(EntryError::TooLarge { .. })
    ));
    let mut other_type = env.clone();
    other_type.payload_type = "application/json".into();
    assert_eq!(
        ReleaseEntry::from_envelope(&other_type, vec![vec![vec![1]]]),
        Err(EntryError::Statement(StatementError::WrongPayloadType))
    );
}

/// A valid release entry to break in the encode-error rows.
fn small_release() -> ReleaseEntry {
    let release = Release::new("hello", "1.0.0", [1; 32]).unwrap();
    ReleaseEntry {
        crate_name: release.crate_name.clone(),
        version: release.version.clone(),
        sha256: release.sha256,
        payload_type: PAYLOAD_TYPE.into(),
        payload: statement_json(&release),
        signers: vec![Signer {
            keyid: "k".into(),
            sig: vec![1],
            chain: vec![vec![2]],
        }],
    }
}

fn small_revocation() -> Revocation {
    Revocation {
        serial: vec![1],
        reason: 0,
        from_index: 0,
        revoked_at: 0,
        signature: vec![1],
        signer_chain: vec![vec![2]],
    }
}

fn encode_release(edit: impl FnOnce(&mut ReleaseEntry)) -> Result<Vec<u8>, EntryError> {
    let mut body = small_release();
    edit(&mut body);
    Entry {
        integrated_at: 0,
        body: EntryBody::Release(body),
    }
    .encode()
}

fn encode_revocation(edit: impl FnOnce(&mut Revocation)) -> Result<Vec<u8>, EntryError> {
    let mut body = small_revocation();
    edit(&mut body);
    Entry {
        integrated_at: 0,
        body: EntryBody::Revocation(body),
    }
    .encode()
}

fn field_length(field: &'static str, len: usize, min: usize, max: usize) -> EntryError {
    EntryError::FieldLength {
        field,
        len,
        min,
        max,
    }
}

#[test]
fn encode_rejects_out_of_bounds_and_invalid_fields() {
    let long_version = format!("1.0.0-{}", "a".repeat(250));
    type Row = (&'static str, Result<Vec<u8>, EntryError>, EntryError);
    let rows: Vec<Row> = vec![
        (
            "crate_name 65 bytes",
            encode_release(|r| r.crate_name = "a".repeat(65)),
            field_length("crate_name", 65, 1, 64),
        ),
        (
            "crate_name empty",
            encode_release(|r| r.crate_name.clear()),
            field_length("crate_name", 0, 1, 64),
        ),
        (
            "version 256 bytes",
            encode_release(|r| r.version = long_version.clone()),
            field_length("version", 256, 1, 255),
        ),
        (
            "payload_type 256 bytes",
            encode_release(|r| r.payload_type = "t".repeat(256)),
            field_length("payload_type", 256, 1, 255),
        ),
        (
            "payload 65536 bytes",
            encode_release(|r| r.payload = vec![b' '; 65_536]),
            field_length("payload", 65_536, 1, 65_535),
        ),
        (
            "no signers",
            encode_release(|r| r.signers.clear()),
            field_length("signers", 0, 1, 65_535),
        ),
        (
            "keyid 256 bytes",
            encode_release(|r| r.signers[0].keyid = "k".repeat(256)),
            field_length("keyid", 256, 0, 255),
        ),
        (
            "sig 256 bytes",
            encode_release(|r| r.signers[0].sig = vec![0; 256]),
            field_length("sig", 256, 1, 255),
        ),
        (
            "sig empty",
            encode_release(|r| r.signers[0].sig.clear()),
            field_length("sig", 0, 1, 255),
        ),
        (
            "chain empty",
            encode_release(|r| r.signers[0].chain.clear()),
            field_length("chain", 0, 1, 65_535),
        ),
        (
            "certificate empty",
            encode_release(|r| r.signers[0].chain[0].clear()),
            field_length("certificate", 0, 1, 65_535),
        ),
        (
            "invalid crate name",
            encode_release(|r| r.crate_name = "1abc".into()),
            EntryError::Statement(StatementError::InvalidCrateName {
                reason: "does not start with an ASCII letter",
            }),
        ),
        (
            "invalid version",
            encode_release(|r| r.version = "1.0".into()),
            EntryError::Statement(StatementError::InvalidVersion {
                reason: "not MAJOR.MINOR.PATCH",
            }),
        ),
        (
            "payload type",
            encode_release(|r| r.payload_type = "application/json".into()),
            EntryError::Statement(StatementError::WrongPayloadType),
        ),
        (
            "payload not a statement",
            encode_release(|r| r.payload = b"{}".to_vec()),
            EntryError::Statement(StatementError::WrongStatementType),
        ),
        (
            "sha256 differs from statement",
            encode_release(|r| r.sha256[0] ^= 1),
            EntryError::StatementMismatch,
        ),
        (
            "version differs from statement",
            encode_release(|r| r.version = "1.0.1".into()),
            EntryError::StatementMismatch,
        ),
        (
            "crate_name differs from statement",
            encode_release(|r| r.crate_name = "Hello".into()),
            EntryError::StatementMismatch,
        ),
        (
            "serial 21 bytes",
            encode_revocation(|r| r.serial = vec![1; 21]),
            field_length("serial", 21, 1, 20),
        ),
        (
            "serial empty",
            encode_revocation(|r| r.serial.clear()),
            field_length("serial", 0, 1, 20),
        ),
        (
            "serial negative",
            encode_revocation(|r| r.serial = vec![0x80]),
            EntryError::InvalidSerial { reason: "negative" },
        ),
        (
            "serial zero",
            encode_revocation(|r| r.serial = vec![0]),
            EntryError::InvalidSerial { reason: "zero" },
        ),
        (
            "serial leading zero",
            encode_revocation(|r| r.serial = vec![0, 0x7f]),
            EntryError::InvalidSerial {
                reason: "leading zero byte",
            },
        ),
        (
            "reason certificateHold",
            encode_revocation(|r| r.reason = 6),
            EntryError::InvalidReason(6),
        ),
        (
            "reason unassigned",
            encode_revocation(|r| r.reason = 7),
            EntryError::InvalidReason(7),
        ),
        (
            "reason removeFromCRL",
            encode_revocation(|r| r.reason = 8),
            EntryError::InvalidReason(8),
        ),
        (
            "reason 11",
            encode_revocation(|r| r.reason = 11),
            EntryError::InvalidReason(11),
        ),
        (
            "signature 256 bytes",
            encode_revocation(|r| r.signature = vec![0; 256]),
            field_length("signature", 256, 1, 255),
        ),
        (
            "signer_chain empty",
            encode_revocation(|r| r.signer_chain.clear()),
            field_length("signer_chain", 0, 1, 65_535),
        ),
    ];
    for (name, actual, expected) in rows {
        assert_eq!(actual, Err(expected), "{name}");
    }
    // Three signers of 30 kB each: every field fits, the entry does not.
    assert!(matches!(
        encode_release(|r| {
            r.signers = vec![
                Signer {
                    keyid: String::new(),
                    sig: vec![1],
                    chain: vec![vec![0; 30_000]],
                };
                3
            ];
        }),
        Err(EntryError::TooLarge { len }) if len > MAX_ENTRY_SIZE
    ));
    // The boundaries themselves are accepted.
    encode_revocation(|r| r.serial = [&[0x7f][..], &[0xff; 19]].concat()).unwrap();
    encode_revocation(|r| r.serial = vec![0, 0x80]).unwrap();
    encode_revocation(|r| r.signature = vec![0; 255]).unwrap();
    encode_release(|r| r.signers[0].keyid.clear()).unwrap();
    encode_release(|r| r.signers[0].keyid = "k".repeat(255)).unwrap();
    let cert = Entry {
        integrated_at: 0,
        body: EntryBody::Certificate(CertificateEntry {
            chain: vec![vec![0; MAX_ENTRY_SIZE - 14]],
        }),
    };
    assert_eq!(cert.encode().unwrap().len(), MAX_ENTRY_SIZE);
    let too_big = Entry {
        integrated_at: 0,
        body: EntryBody::Certificate(CertificateEntry {
            chain: vec![vec![0; MAX_ENTRY_SIZE - 13]],
        }),
    };
    assert_eq!(
        too_big.encode(),
        Err(EntryError::TooLarge {
            len: MAX_ENTRY_SIZE + 1
        })
    );
}

#[test]
fn decode_rejects_bad_headers() {
    let good = hex::decode(CERTIFICATE_HEX).unwrap();
    for version in [0u8, 2, 0xff] {
        let mut bytes = good.clone();
        bytes[0] = version;
        assert_eq!(
            Entry::decode(&bytes),
            Err(EntryError::UnsupportedVersion(version))
        );
    }
    for kind in [0u8, 4, 0xff] {
        let mut bytes = good.clone();
        bytes[9] = kind;
        assert_eq!(Entry::decode(&bytes), Err(EntryError::UnknownKind(kind)));
    }
    assert_eq!(
        Entry::decode(&[]),
        Err(EntryError::Truncated { field: "version" })
    );
    assert_eq!(
        Entry::decode(&vec![0; MAX_ENTRY_SIZE + 1]),
        Err(EntryError::TooLarge {
            len: MAX_ENTRY_SIZE + 1
        })
    );
}

#[test]
fn decode_rejects_bad_fields() {
    let revocation = hex::decode(REVOCATION_HEX).unwrap();
    // Byte 10 is the serial length, 11..19 the serial, 19 the reason.
    let patch = |at: usize, value: u8| {
        let mut bytes = revocation.clone();
        bytes[at] = value;
        Entry::decode(&bytes)
    };
    assert_eq!(patch(19, 7), Err(EntryError::InvalidReason(7)));
    assert_eq!(patch(19, 6), Err(EntryError::InvalidReason(6)));
    assert_eq!(
        patch(11, 0x00),
        Err(EntryError::InvalidSerial {
            reason: "leading zero byte"
        })
    );
    assert_eq!(
        patch(11, 0x81),
        Err(EntryError::InvalidSerial { reason: "negative" })
    );
    assert_eq!(patch(10, 21), Err(field_length("serial", 21, 1, 20)));
    assert_eq!(patch(10, 0), Err(field_length("serial", 0, 1, 20)));

    let release = hex::decode(RELEASE_HEX).unwrap();
    // Byte 10 is the crate_name length, 11..16 "hello".
    let mut bytes = release.clone();
    bytes[11] = 0xff;
    assert_eq!(
        Entry::decode(&bytes),
        Err(EntryError::InvalidUtf8 {
            field: "crate_name"
        })
    );
    let mut bytes = release.clone();
    bytes[11] = b'j'; // "jello" is a fine name, but not the signed one
    assert_eq!(Entry::decode(&bytes), Err(EntryError::StatementMismatch));
    let mut bytes = release.clone();
    bytes[10] = 65;
    assert_eq!(
        Entry::decode(&bytes),
        Err(field_length("crate_name", 65, 1, 64))
    );
    // sha256 is at 22..54.
    let mut bytes = release.clone();
    bytes[22] ^= 1;
    assert_eq!(Entry::decode(&bytes), Err(EntryError::StatementMismatch));
    // keyid is UTF-8. From the end: chain (2 + 30), sig (1 + 71), then the
    // 64 keyid bytes.
    let keyid_at = release.len() - (64 + 1 + 71 + 2 + 30);
    let mut bytes = release.clone();
    assert_eq!(bytes[keyid_at], b'4');
    bytes[keyid_at] = 0xc3;
    assert_eq!(
        Entry::decode(&bytes),
        Err(EntryError::InvalidUtf8 { field: "keyid" })
    );
}

#[test]
fn trailing_bytes_are_rejected() {
    for hex in [RELEASE_HEX, CERTIFICATE_HEX, REVOCATION_HEX] {
        let mut bytes = hex::decode(hex).unwrap();
        bytes.push(0);
        assert_eq!(
            Entry::decode(&bytes),
            Err(EntryError::TrailingBytes { count: 1 })
        );
    }
}

#[test]
fn every_truncation_of_the_examples_is_an_error() {
    for hex in [RELEASE_HEX, CERTIFICATE_HEX, REVOCATION_HEX] {
        let bytes = hex::decode(hex).unwrap();
        for len in 0..bytes.len() {
            assert!(
                matches!(
                    Entry::decode(&bytes[..len]),
                    Err(EntryError::Truncated { .. })
                ),
                "prefix of {len} bytes: {:?}",
                Entry::decode(&bytes[..len])
            );
        }
    }
}

#[test]
fn crl_reasons() {
    let codes: Vec<u8> = CrlReason::ALL.iter().map(|r| r.code()).collect();
    assert_eq!(codes, [0, 1, 2, 3, 4, 5, 9, 10]);
    for reason in CrlReason::ALL {
        assert_eq!(CrlReason::from_code(reason.code()), Some(reason));
        assert_eq!(CrlReason::from_name(reason.name()), Some(reason));
    }
    assert_eq!(
        CrlReason::from_name("KEYCOMPROMISE"),
        Some(CrlReason::KeyCompromise)
    );
    assert_eq!(CrlReason::from_name("certificateHold"), None);
    for code in [6, 7, 8, 11, 255] {
        assert_eq!(CrlReason::from_code(code), None);
    }
}

// ---------------------------------------------------------------- properties

fn bytes(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), len)
}

fn chain() -> impl Strategy<Value = Vec<Vec<u8>>> {
    proptest::collection::vec(bytes(1..300), 1..4)
}

fn version() -> impl Strategy<Value = String> {
    (
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        proptest::option::of("(0|[1-9][0-9]{0,3}|[0-9a-zA-Z-]{0,3}[a-zA-Z-])(\\.(0|[1-9][0-9]{0,3}|[a-zA-Z-][0-9a-zA-Z-]{0,3})){0,3}"),
        proptest::option::of("[0-9a-zA-Z-]{1,6}(\\.[0-9a-zA-Z-]{1,6}){0,3}"),
    )
        .prop_map(|(major, minor, patch, pre, build)| {
            let mut v = format!("{major}.{minor}.{patch}");
            if let Some(pre) = pre {
                v = format!("{v}-{pre}");
            }
            if let Some(build) = build {
                v = format!("{v}+{build}");
            }
            v
        })
}

fn signer() -> impl Strategy<Value = Signer> {
    (".{0,60}", bytes(1..256), chain()).prop_map(|(keyid, sig, chain)| Signer { keyid, sig, chain })
}

fn release_entry() -> impl Strategy<Value = ReleaseEntry> {
    (
        "[a-zA-Z][a-zA-Z0-9_-]{0,63}",
        version(),
        any::<[u8; 32]>(),
        proptest::collection::vec(signer(), 1..4),
    )
        .prop_map(|(crate_name, version, sha256, signers)| {
            let release = Release::new(&crate_name, &version, sha256).unwrap();
            ReleaseEntry {
                crate_name,
                version,
                sha256,
                payload_type: PAYLOAD_TYPE.into(),
                payload: statement_json(&release),
                signers,
            }
        })
}

/// Positive, minimal DER INTEGER contents of 1 to 20 bytes.
fn serial() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (1u8..0x80, bytes(0..20)).prop_map(|(first, rest)| [vec![first], rest].concat()),
        (0x80u8..=0xff, bytes(0..19)).prop_map(|(second, rest)| [vec![0, second], rest].concat()),
    ]
}

fn revocation() -> impl Strategy<Value = Revocation> {
    (
        serial(),
        proptest::sample::select(CrlReason::ALL.to_vec()),
        any::<u64>(),
        any::<u64>(),
        bytes(1..256),
        chain(),
    )
        .prop_map(
            |(serial, reason, from_index, revoked_at, signature, signer_chain)| Revocation {
                serial,
                reason: reason.code(),
                from_index,
                revoked_at,
                signature,
                signer_chain,
            },
        )
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        any::<u64>(),
        prop_oneof![
            release_entry().prop_map(EntryBody::Release),
            chain().prop_map(|chain| EntryBody::Certificate(CertificateEntry { chain })),
            revocation().prop_map(EntryBody::Revocation),
        ],
    )
        .prop_map(|(integrated_at, body)| Entry {
            integrated_at,
            body,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// decode(encode(e)) == e for every valid entry of every kind.
    #[test]
    fn round_trip(entry in entry()) {
        let bytes = entry.encode().unwrap();
        prop_assert!(bytes.len() <= MAX_ENTRY_SIZE);
        prop_assert_eq!(bytes[0], ENTRY_VERSION);
        prop_assert_eq!(bytes[9], entry.kind());
        prop_assert_eq!(Entry::decode(&bytes).unwrap(), entry);
    }

    /// Every prefix of a valid encoding is an error, and so is every
    /// extension of it.
    #[test]
    fn truncated_or_extended_is_an_error(entry in entry(), extra in bytes(1..8)) {
        let bytes = entry.encode().unwrap();
        for len in 0..bytes.len() {
            prop_assert!(Entry::decode(&bytes[..len]).is_err(), "prefix {}", len);
        }
        let mut longer = bytes.clone();
        longer.extend_from_slice(&extra);
        prop_assert_eq!(
            Entry::decode(&longer),
            Err(EntryError::TrailingBytes { count: extra.len() })
        );
    }

    /// Canonical form: any byte string that decodes re-encodes to itself,
    /// here for single-byte changes, insertions and deletions of valid
    /// encodings.
    #[test]
    fn mutations_that_decode_are_canonical(
        entry in entry(),
        at in any::<prop::sample::Index>(),
        value in any::<u8>(),
        op in 0..3u8,
    ) {
        let mut bytes = entry.encode().unwrap();
        let i = at.index(bytes.len());
        match op {
            0 => bytes[i] = value,
            1 => bytes.insert(i, value),
            _ => { bytes.remove(i); }
        }
        if let Ok(decoded) = Entry::decode(&bytes) {
            prop_assert_eq!(decoded.encode().unwrap(), bytes);
        }
    }

    /// Arbitrary bytes never panic the decoder; whatever it accepts is
    /// canonical.
    #[test]
    fn decode_never_panics(bytes in bytes(0..600)) {
        if let Ok(entry) = Entry::decode(&bytes) {
            prop_assert_eq!(entry.encode().unwrap(), bytes);
        }
    }

    /// The same with a valid header, to reach the body parsers.
    #[test]
    fn decode_never_panics_after_a_valid_header(
        integrated_at in any::<u64>(),
        kind in 1u8..=3,
        body in bytes(0..600),
    ) {
        let mut bytes = vec![ENTRY_VERSION];
        bytes.extend_from_slice(&integrated_at.to_be_bytes());
        bytes.push(kind);
        bytes.extend_from_slice(&body);
        if let Ok(entry) = Entry::decode(&bytes) {
            prop_assert_eq!(entry.encode().unwrap(), bytes);
        }
    }
}
