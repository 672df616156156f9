//! The trust root file (`docs/formats.md` §4): round trip, the canonical
//! text, every way a file can be wrong, and no panic on any input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use sigil_core::checkpoint::{self, Checkpoint};
use sigil_core::cosignature::CosignatureSigner;
use sigil_core::note::{self, Ed25519Signer, NoteSigner};
use sigil_core::trust_root::{KeyEntry, MAX_TRUST_ROOT_SIZE, TrustRoot, TrustRootError};

const ORIGIN: &str = "example.com/sigil";
const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n";

fn log_key() -> Ed25519Signer {
    Ed25519Signer::from_seed(ORIGIN, [7; 32]).unwrap()
}

fn witness(i: u8) -> CosignatureSigner {
    CosignatureSigner::from_seed(&format!("witness{i}.example"), [50 + i; 32]).unwrap()
}

fn good() -> TrustRoot {
    TrustRoot {
        log_origin: ORIGIN.to_owned(),
        log_key: log_key().verifier().verifier_key(),
        log_url: None,
        witnesses: vec![
            witness(1).verifier().verifier_key(),
            witness(2).verifier().verifier_key(),
        ],
        quorum: 1,
        ca_roots_pem: vec![PEM.to_owned(), PEM.replace("MIIB", "MIIC")],
    }
}

/// The good file as a JSON value, to edit.
fn good_value() -> serde_json::Value {
    serde_json::from_str(&good().to_json()).unwrap()
}

fn parse_value(v: &serde_json::Value) -> Result<TrustRoot, TrustRootError> {
    TrustRoot::parse(v.to_string().as_bytes())
}

#[test]
fn round_trip_and_canonical_text() {
    let root = good();
    let json = root.to_json();
    assert_eq!(TrustRoot::parse(json.as_bytes()).unwrap(), root);
    // The canonical text is serde_json's pretty form of the documented order.
    let expected = format!(
        "{{\n  \"version\": 1,\n  \"log\": {{\n    \"origin\": \"{ORIGIN}\",\n    \"key\": \"{}\"\n  }},\n  \"witnesses\": [\n    \"{}\",\n    \"{}\"\n  ],\n  \"quorum\": 1,\n  \"ca_roots\": [\n    {},\n    {}\n  ]\n}}\n",
        root.log_key,
        root.witnesses[0],
        root.witnesses[1],
        serde_json::Value::String(root.ca_roots_pem[0].clone()),
        serde_json::Value::String(root.ca_roots_pem[1].clone()),
    );
    assert_eq!(json, expected);
    // Compact JSON with members in another order is the same value.
    let compact = good_value().to_string();
    assert_eq!(TrustRoot::parse(compact.as_bytes()).unwrap(), root);

    let none = TrustRoot {
        witnesses: vec![],
        quorum: 0,
        ..good()
    };
    let json = none.to_json();
    assert!(json.contains("\"witnesses\": [],\n"), "{json}");
    assert_eq!(TrustRoot::parse(json.as_bytes()).unwrap(), none);
}

#[test]
fn policy_verifies_the_logs_checkpoints() {
    let root = good();
    let policy = root.policy().unwrap();
    assert_eq!(policy.origin, ORIGIN);
    assert_eq!(policy.quorum, 1);
    assert_eq!(policy.witnesses.len(), 2);
    let cp = Checkpoint {
        origin: ORIGIN.to_owned(),
        size: 3,
        root: [9; 32],
        extensions: vec![],
    };
    let signed = checkpoint::sign_checkpoint(&cp, &log_key()).unwrap();
    // Quorum 1: the log's signature alone is not enough.
    assert!(matches!(
        checkpoint::verify_checkpoint(&signed, &policy),
        Err(checkpoint::CheckpointError::InsufficientCosignatures { .. })
    ));
    let w = witness(2);
    let cosigned = note::add_signatures(
        &note::Note::parse(&signed).unwrap(),
        &[&w as &dyn NoteSigner],
    )
    .unwrap();
    assert_eq!(
        checkpoint::verify_checkpoint(&cosigned, &policy)
            .unwrap()
            .checkpoint,
        cp
    );
}

/// Each row: what is wrong, the edit, and the error it must give.
#[test]
fn every_malformed_case_is_refused() {
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    type Expect = fn(&TrustRootError) -> bool;
    let w1 = witness(1).verifier().verifier_key();
    let cases: Vec<(&str, Edit, Expect)> = vec![
        ("version 2", Box::new(|v| v["version"] = 2.into()), |e| {
            matches!(e, TrustRootError::UnsupportedVersion(2))
        }),
        ("version 0", Box::new(|v| v["version"] = 0.into()), |e| {
            matches!(e, TrustRootError::UnsupportedVersion(0))
        }),
        (
            "version as a string",
            Box::new(|v| v["version"] = "1".into()),
            |e| matches!(e, TrustRootError::Json(_)),
        ),
        (
            "negative version",
            Box::new(|v| v["version"] = (-1).into()),
            |e| matches!(e, TrustRootError::Json(_)),
        ),
        (
            "unknown top-level member",
            Box::new(|v| v["extra"] = true.into()),
            |e| matches!(e, TrustRootError::Json(m) if m.contains("extra")),
        ),
        (
            "unknown log member",
            Box::new(|v| v["log"]["keys"] = serde_json::json!([])),
            |e| matches!(e, TrustRootError::Json(m) if m.contains("keys")),
        ),
        (
            "missing version",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("version");
            }),
            |e| matches!(e, TrustRootError::Json(m) if m.contains("version")),
        ),
        (
            "missing quorum",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("quorum");
            }),
            |e| matches!(e, TrustRootError::Json(m) if m.contains("quorum")),
        ),
        (
            "missing witnesses",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("witnesses");
            }),
            |e| matches!(e, TrustRootError::Json(_)),
        ),
        (
            "missing log.key",
            Box::new(|v| {
                v["log"].as_object_mut().unwrap().remove("key");
            }),
            |e| matches!(e, TrustRootError::Json(_)),
        ),
        (
            "empty origin",
            Box::new(|v| v["log"]["origin"] = "".into()),
            |e| matches!(e, TrustRootError::BadOrigin),
        ),
        (
            "origin with a newline",
            Box::new(|v| v["log"]["origin"] = "example.com/sigil\n5".into()),
            |e| matches!(e, TrustRootError::BadOrigin),
        ),
        (
            "log key garbage",
            Box::new(|v| v["log"]["key"] = "not a key".into()),
            |e| matches!(e, TrustRootError::BadLogKey(_)),
        ),
        (
            "log key with a wrong key ID",
            Box::new(|v| {
                let k = v["log"]["key"].as_str().unwrap().to_owned();
                let mut parts: Vec<&str> = k.split('+').collect();
                parts[1] = "00000000";
                v["log"]["key"] = parts.join("+").into();
            }),
            |e| matches!(e, TrustRootError::BadLogKey(_)),
        ),
        (
            "log key is a witness key",
            Box::new(move |v| v["log"]["key"] = witness(9).verifier().verifier_key().into()),
            |e| matches!(e, TrustRootError::BadLogKey(m) if m.contains("witness")),
        ),
        (
            "witness key garbage",
            Box::new(|v| v["witnesses"][1] = "witness+1234+AAAA".into()),
            |e| matches!(e, TrustRootError::BadWitnessKey { index: 1, .. }),
        ),
        (
            "witness key is an Ed25519 log key",
            Box::new(|v| v["witnesses"][0] = log_key().verifier().verifier_key().into()),
            |e| matches!(e, TrustRootError::BadWitnessKey { index: 0, .. }),
        ),
        (
            "witness listed twice",
            Box::new(move |v| v["witnesses"][1] = w1.clone().into()),
            |e| matches!(e, TrustRootError::DuplicateKey { index: 1 }),
        ),
        (
            "witness not a string",
            Box::new(|v| v["witnesses"][0] = 5.into()),
            |e| matches!(e, TrustRootError::Json(_)),
        ),
        (
            "quorum above the witnesses",
            Box::new(|v| v["quorum"] = 3.into()),
            |e| {
                matches!(
                    e,
                    TrustRootError::QuorumTooLarge {
                        quorum: 3,
                        witnesses: 2
                    }
                )
            },
        ),
        (
            "negative quorum",
            Box::new(|v| v["quorum"] = (-1).into()),
            |e| matches!(e, TrustRootError::Json(_)),
        ),
        (
            "fractional quorum",
            Box::new(|v| v["quorum"] = 1.5.into()),
            |e| matches!(e, TrustRootError::Json(_)),
        ),
        (
            "no CA roots",
            Box::new(|v| v["ca_roots"] = serde_json::json!([])),
            |e| matches!(e, TrustRootError::NoCaRoots),
        ),
        (
            "CA root not PEM",
            Box::new(|v| v["ca_roots"][1] = "MIIBszCCAVmgAwIBAgIUQ".into()),
            |e| matches!(e, TrustRootError::BadCaRoot { index: 1 }),
        ),
        (
            "CA root is a private key",
            Box::new(|v| {
                v["ca_roots"][0] =
                    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into()
            }),
            |e| matches!(e, TrustRootError::BadCaRoot { index: 0 }),
        ),
        (
            "two certificates in one element",
            Box::new(|v| v["ca_roots"][0] = format!("{PEM}{PEM}").into()),
            |e| matches!(e, TrustRootError::BadCaRoot { index: 0 }),
        ),
        (
            "empty PEM block",
            Box::new(|v| {
                v["ca_roots"][0] = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n".into()
            }),
            |e| matches!(e, TrustRootError::BadCaRoot { index: 0 }),
        ),
        (
            "not an object",
            Box::new(|v| *v = serde_json::json!([1, 2])),
            |e| matches!(e, TrustRootError::Json(_)),
        ),
    ];
    for (what, edit, expected) in cases {
        let mut v = good_value();
        edit(&mut v);
        let err = parse_value(&v).expect_err(what);
        assert!(expected(&err), "{what}: got {err:?}");
        assert!(!err.to_string().contains('\n'), "{what}: {err}");
    }
}

/// Issue #11 item 9: the same public key under two names is refused, with
/// an error that names both entries; so is a witness holding the log's
/// own Ed25519 key.
#[test]
fn item9_the_same_key_under_two_names_is_refused() {
    let alias = CosignatureSigner::from_seed("alias.example", [51; 32]).unwrap();
    assert_eq!(alias.public_key(), witness(1).public_key());
    let mut root = good();
    root.witnesses.push(alias.verifier().verifier_key());
    root.quorum = 2;
    let err = TrustRoot::parse(root.to_json().as_bytes()).unwrap_err();
    assert_eq!(
        err,
        TrustRootError::DuplicatePublicKey {
            first: KeyEntry::Witness(0),
            first_name: "witness1.example".into(),
            second: KeyEntry::Witness(2),
            second_name: "alias.example".into(),
        }
    );
    let message = err.to_string();
    assert!(
        message.contains("witnesses[0] (witness1.example)")
            && message.contains("witnesses[2] (alias.example)"),
        "{message}"
    );
    assert_eq!(root.policy().unwrap_err(), err);

    // The log's key as a witness key (type 0x04 under another name).
    let log_as_witness = CosignatureSigner::from_seed("w.example", [7; 32]).unwrap();
    let mut root = good();
    root.witnesses[1] = log_as_witness.verifier().verifier_key();
    assert_eq!(
        root.validate().unwrap_err(),
        TrustRootError::DuplicatePublicKey {
            first: KeyEntry::Log,
            first_name: ORIGIN.into(),
            second: KeyEntry::Witness(1),
            second_name: "w.example".into(),
        }
    );
}

#[test]
fn malformed_bytes_are_refused() {
    let json = good().to_json();
    for bad in [
        &b""[..],
        b"{",
        b"null",
        b"\xff\xfe",
        &json.as_bytes()[..json.len() / 2],
    ] {
        assert!(matches!(
            TrustRoot::parse(bad),
            Err(TrustRootError::Json(_))
        ));
    }
    // A member given twice is refused, not last-one-wins.
    let twice = json.replacen("\"quorum\": 1,", "\"quorum\": 0,\n  \"quorum\": 1,", 1);
    assert!(
        matches!(TrustRoot::parse(twice.as_bytes()), Err(TrustRootError::Json(m)) if m.contains("duplicate"))
    );
    // Trailing garbage after the object.
    assert!(matches!(
        TrustRoot::parse(format!("{json}x").as_bytes()),
        Err(TrustRootError::Json(_))
    ));
    // Size limit, checked before parsing.
    let big = vec![b' '; MAX_TRUST_ROOT_SIZE + 1];
    assert_eq!(
        TrustRoot::parse(&big),
        Err(TrustRootError::TooLarge {
            size: MAX_TRUST_ROOT_SIZE + 1
        })
    );
    // Whitespace is fine up to the limit.
    let mut padded = json.clone().into_bytes();
    padded.resize(MAX_TRUST_ROOT_SIZE, b' ');
    assert_eq!(TrustRoot::parse(&padded).unwrap(), good());
}

#[test]
fn policy_and_validate_refuse_invalid_values() {
    let mut root = good();
    root.quorum = 5;
    assert!(root.validate().is_err());
    assert!(root.policy().is_err());
    root.quorum = 0;
    root.ca_roots_pem.clear();
    assert_eq!(root.validate(), Err(TrustRootError::NoCaRoots));
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = TrustRoot::parse(&bytes);
    }

    #[test]
    fn parse_never_panics_on_mutated_files(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = good().to_json().into_bytes();
        for (i, b) in flips {
            let i = i.index(bytes.len());
            bytes[i] = b;
        }
        if let Ok(root) = TrustRoot::parse(&bytes) {
            // Anything accepted is valid and re-encodes to an equal value.
            prop_assert_eq!(TrustRoot::parse(root.to_json().as_bytes()).unwrap(), root);
        }
    }

    #[test]
    fn round_trip_any_strings(
        origin in "[ -~]{1,40}",
        pems in proptest::collection::vec("[A-Za-z0-9+/=\n\"\\\\]{1,60}", 1..4),
        n in 0usize..3,
    ) {
        let root = TrustRoot {
            log_origin: origin.clone(),
            log_key: log_key().verifier().verifier_key(),
            log_url: None,
            witnesses: (0..n as u8).map(|i| witness(i).verifier().verifier_key()).collect(),
            quorum: n,
            ca_roots_pem: pems
                .iter()
                .map(|p| format!("-----BEGIN CERTIFICATE-----\nX{p}\n-----END CERTIFICATE-----\n"))
                .collect(),
        };
        prop_assert_eq!(TrustRoot::parse(root.to_json().as_bytes()).unwrap(), root);
    }
}

/// The text of the code block after `<!-- worked-example: NAME -->` in
/// `docs/formats.md`.
fn worked_example(name: &str) -> String {
    let doc = include_str!("../../docs/formats.md");
    let marker = format!("<!-- worked-example: {name} -->");
    let after = &doc[doc.find(&marker).expect("marker") + marker.len()..];
    let start = after.find("```json\n").expect("code block") + "```json\n".len();
    let end = after[start..].find("```").expect("end of block");
    after[start..start + end].to_owned()
}

#[test]
fn worked_example_is_canonical() {
    let text = worked_example("trust-root");
    let root = TrustRoot::parse(text.as_bytes()).unwrap();
    assert_eq!(root.log_origin, "example.com/sigil");
    assert_eq!(root.quorum, 0);
    assert_eq!(root.to_json(), text);
    // The key is the proof example's log key: the §3.3 proof verifies under it.
    assert_eq!(root.policy().unwrap().log.key_id(), 0x16c61d46);
}

/// `log.url` (issue 12: the log URL travels in the trust root): optional,
/// written after `log.key` when present, a base URL of an HTTP(S) API.
#[test]
fn the_log_url_is_optional_and_checked() {
    let mut root = good();
    root.log_url = Some("https://log.example.org/sigil".to_owned());
    let json = root.to_json();
    assert!(
        json.contains("\"key\": ")
            && json.contains(",\n    \"url\": \"https://log.example.org/sigil\"\n  },"),
        "{json}"
    );
    assert_eq!(TrustRoot::parse(json.as_bytes()).unwrap(), root);
    // Absent: the canonical form has no `url` member at all.
    assert!(!good().to_json().contains("\"url\""));
    for bad in [
        "log.example.org",
        "ftp://log.example.org",
        "https://",
        "https:///path",
        "https://log.example.org/a b",
        "https://log.example.org/?q=1",
        "https://log.example.org/#x",
        "https://log.exämple.org",
    ] {
        let mut v = good_value();
        v["log"]["url"] = serde_json::Value::String(bad.to_owned());
        let err = parse_value(&v).unwrap_err();
        assert!(
            matches!(err, TrustRootError::BadLogUrl(_)),
            "{bad}: {err:?}"
        );
    }
    let mut v = good_value();
    v["log"]["url"] = serde_json::json!(7);
    assert!(parse_value(&v).is_err());
}
