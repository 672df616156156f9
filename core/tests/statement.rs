//! Tests for `sigil_core::statement`: DSSE PAE and envelopes (DSSE v1.0
//! `protocol.md`, `envelope.md`) and in-toto Statement v1 release
//! statements (`docs/formats.md`, "Signed statements").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer as _;
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};
use sigil_core::statement::{
    Envelope, MAX_ENVELOPE_SIZE, MAX_STATEMENT_SIZE, PAYLOAD_TYPE, PREDICATE_TYPE, Release,
    STATEMENT_TYPE, Signature, StatementError, key_id, p256_public_key_point, pae, parse_statement,
    public_key_spki_der, statement_json,
};

/// A deterministic test key: the scalar is SHA-256 of `seed`.
fn key(seed: &str) -> SigningKey {
    SigningKey::from_slice(&Sha256::digest(seed.as_bytes())).unwrap()
}

fn spki(key: &SigningKey) -> Vec<u8> {
    public_key_spki_der(key.verifying_key()).unwrap()
}

fn hello() -> Release {
    Release::new("hello", "1.0.0", Sha256::digest(b"").into()).unwrap()
}

// ---------------------------------------------------------------- PAE

/// DSSE `protocol.md`, "Test Vectors": the PAE of "hello world" with type
/// "http://example.com/HelloWorld".
#[test]
fn pae_matches_dsse_spec_example() {
    assert_eq!(
        pae("http://example.com/HelloWorld", b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );
}

/// LEN() counts UTF-8 bytes, not characters; an empty body still gets its
/// separating space (DSSE `protocol.md`, "Signature Definition").
#[test]
fn pae_lengths_are_byte_lengths_without_leading_zeros() {
    let pae_bytes = pae("application/vnd.exämple+json", b"{}");
    assert!(pae_bytes.starts_with(b"DSSEv1 29 application/vnd.ex\xc3\xa4mple+json 2 {}"));
    assert_eq!(pae("t", b""), b"DSSEv1 1 t 0 ");
    assert_eq!(pae("", b"x"), b"DSSEv1 0  1 x");
    let body = vec![b'a'; 1000];
    assert!(pae("t", &body).starts_with(b"DSSEv1 1 t 1000 aaa"));
}

/// The whole DSSE `protocol.md` test vector: ECDSA P-256/SHA-256 with
/// RFC 6979 nonces over the PAE gives the spec's signature (raw r || s);
/// its DER form verifies through `Envelope::verify_signature`; the spec's
/// JSON envelope parses.
#[test]
fn dsse_spec_signature_example() {
    let d =
        hex::decode("d73ec437fd6346e3619c5ebfdfff0f6916804955ad32ac9ac492b0ede1f6ffb7").unwrap();
    let key = SigningKey::from_slice(&d).unwrap();
    let point = hex::decode(concat!(
        "04",
        "67cd390f77aa359cb08c2235f652270493a9ed832b0abcc01f70954c0390d238",
        "0c782bd54e269125a44f4433aff1432ce94e12bca73aa67ac80cea12608ddf74"
    ))
    .unwrap();
    assert_eq!(
        key.verifying_key().to_sec1_point(false).as_bytes(),
        &point[..]
    );

    let spec_sig = STANDARD
        .decode("A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==")
        .unwrap();
    let message = pae("http://example.com/HelloWorld", b"hello world");
    let raw: p256::ecdsa::Signature = key.sign(&message);
    assert_eq!(raw.to_bytes().as_slice(), &spec_sig[..]);

    let spec_json = br#"{"payload": "aGVsbG8gd29ybGQ=",
 "payloadType": "http://example.com/HelloWorld",
 "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}"#;
    let mut env = Envelope::from_json(spec_json).unwrap();
    assert_eq!(env.payload, b"hello world");
    assert_eq!(env.payload_type, "http://example.com/HelloWorld");
    assert_eq!(env.signatures[0].keyid, "");
    assert_eq!(env.signatures[0].sig, spec_sig);
    // Sigil signatures are DER; the spec's are raw r || s.
    assert_eq!(
        env.verify_signature(0, &point),
        Err(StatementError::BadSignature)
    );
    env.signatures[0].sig = raw.to_der().as_bytes().to_vec();
    env.verify_signature(0, &point).unwrap();
    env.verify_signature(0, &spki(&key)).unwrap();
    // The payload type is not in-toto, so there is no release in it.
    assert_eq!(env.release(), Err(StatementError::WrongPayloadType));
}

// ---------------------------------------------------------------- signing

#[test]
fn sign_to_json_from_json_verify_round_trip() {
    let key = key("maintainer one");
    let release = hello();
    let env = Envelope::sign_release(&release, &key).unwrap();
    assert_eq!(env.payload_type, PAYLOAD_TYPE);
    assert_eq!(env.payload, statement_json(&release));
    assert_eq!(env.signatures.len(), 1);
    assert_eq!(env.signatures[0].keyid, key_id(&spki(&key)));

    let json = env.to_json();
    let parsed = Envelope::from_json(&json).unwrap();
    assert_eq!(parsed, env);
    assert_eq!(parsed.to_json(), json);
    parsed.verify_signature(0, &spki(&key)).unwrap();
    assert_eq!(parsed.release().unwrap(), release);
}

#[test]
fn to_json_is_the_standard_envelope() {
    let env = Envelope {
        payload_type: "t".into(),
        payload: b"\xfb\xff".to_vec(),
        signatures: vec![Signature {
            keyid: "k\"1".into(),
            sig: vec![0xff],
        }],
    };
    assert_eq!(
        String::from_utf8(env.to_json()).unwrap(),
        r#"{"payload":"+/8=","payloadType":"t","signatures":[{"keyid":"k\"1","sig":"/w=="}]}"#
    );
}

#[test]
fn co_signed_envelope_verifies_both() {
    let (a, b) = (key("maintainer one"), key("maintainer two"));
    let mut env = Envelope::sign_release(&hello(), &a).unwrap();
    env.add_signature(&b).unwrap();
    let env = Envelope::from_json(&env.to_json()).unwrap();
    assert_eq!(env.signatures.len(), 2);
    assert_eq!(env.signatures[1].keyid, key_id(&spki(&b)));
    env.verify_signature(0, &spki(&a)).unwrap();
    env.verify_signature(1, &spki(&b)).unwrap();
    assert_eq!(
        env.verify_signature(0, &spki(&b)),
        Err(StatementError::BadSignature)
    );
    assert_eq!(
        env.verify_signature(1, &spki(&a)),
        Err(StatementError::BadSignature)
    );
    assert_eq!(
        env.verify_signature(2, &spki(&a)),
        Err(StatementError::NoSuchSignature { index: 2, count: 2 })
    );
}

#[test]
fn the_same_key_cannot_sign_twice() {
    let a = key("maintainer one");
    let mut env = Envelope::sign_release(&hello(), &a).unwrap();
    assert_eq!(
        env.add_signature(&a),
        Err(StatementError::DuplicateSigner {
            keyid: key_id(&spki(&a))
        })
    );
    assert_eq!(env.signatures.len(), 1);
}

#[test]
fn signing_validates_the_release() {
    let mut release = hello();
    release.crate_name = "not valid".into();
    assert!(matches!(
        Envelope::sign_release(&release, &key("k")),
        Err(StatementError::InvalidCrateName { .. })
    ));
}

#[test]
fn tampering_breaks_the_signature() {
    let key = key("maintainer one");
    let env = Envelope::sign_release(&hello(), &key).unwrap();
    let spki = spki(&key);

    let mut payload = env.clone();
    payload.payload = statement_json(&Release::new("hello", "1.0.1", [0; 32]).unwrap());
    assert_eq!(
        payload.verify_signature(0, &spki),
        Err(StatementError::BadSignature)
    );

    let mut payload_type = env.clone();
    payload_type.payload_type = "application/vnd.in-toto.other+json".into();
    assert_eq!(
        payload_type.verify_signature(0, &spki),
        Err(StatementError::BadSignature)
    );

    for i in 0..env.signatures[0].sig.len() {
        let mut sig = env.clone();
        sig.signatures[0].sig[i] ^= 0x01;
        assert!(sig.verify_signature(0, &spki).is_err(), "byte {i}");
    }
    let mut truncated = env.clone();
    truncated.signatures[0].sig.pop();
    assert!(truncated.verify_signature(0, &spki).is_err());

    // The keyid is a hint only: changing it does not matter to the signature.
    let mut keyid = env.clone();
    keyid.signatures[0].keyid = "something else".into();
    keyid.verify_signature(0, &spki).unwrap();
}

#[test]
fn wrong_key_fails() {
    let env = Envelope::sign_release(&hello(), &key("maintainer one")).unwrap();
    assert_eq!(
        env.verify_signature(0, &spki(&key("maintainer two"))),
        Err(StatementError::BadSignature)
    );
}

#[test]
fn public_key_forms() {
    let key = key("maintainer one");
    let env = Envelope::sign_release(&hello(), &key).unwrap();
    let spki = spki(&key);
    let uncompressed = key.verifying_key().to_sec1_point(false).as_bytes().to_vec();
    let compressed = key.verifying_key().to_sec1_point(true).as_bytes().to_vec();
    assert_eq!(uncompressed.len(), 65);
    assert_eq!(compressed.len(), 33);
    // P-256 SPKI DER = fixed 26-byte header || uncompressed point.
    assert_eq!(spki.len(), 91);
    assert_eq!(&spki[26..], &uncompressed[..]);
    for form in [&spki, &uncompressed, &compressed] {
        assert_eq!(p256_public_key_point(form).unwrap().to_vec(), uncompressed);
        env.verify_signature(0, form).unwrap();
    }

    let mut off_curve = uncompressed.clone();
    off_curve[64] ^= 1;
    let mut wrong_curve_oid = spki.clone();
    wrong_curve_oid[22] ^= 1; // last byte of the prime256v1 OID 1.2.840.10045.3.1.7
    let mut trailing = spki.clone();
    trailing.push(0);
    for bad in [
        &b""[..],
        &[0x04][..],
        &off_curve,
        &spki[..90],
        &wrong_curve_oid,
        &trailing,
        &[0u8; 65][..],
    ] {
        assert_eq!(
            env.verify_signature(0, bad),
            Err(StatementError::BadPublicKey),
            "{}",
            hex::encode(bad)
        );
    }
}

#[test]
fn key_id_is_hex_sha256_of_spki() {
    let spki = spki(&key("maintainer one"));
    let id = key_id(&spki);
    assert_eq!(id, hex::encode(Sha256::digest(&spki)));
    assert_eq!(id.len(), 64);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
}

#[test]
fn release_requires_in_toto_payload_type() {
    let mut env = Envelope::sign_release(&hello(), &key("k")).unwrap();
    env.payload_type = "application/json".into();
    assert_eq!(env.release(), Err(StatementError::WrongPayloadType));
}

// ---------------------------------------------------------------- statement

#[test]
fn statement_json_is_fixed_compact_json() {
    assert_eq!(
        String::from_utf8(statement_json(&hello())).unwrap(),
        concat!(
            r#"{"_type":"https://in-toto.io/Statement/v1","#,
            r#""subject":[{"name":"hello-1.0.0.crate","digest":{"sha256":"#,
            r#""e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}],"#,
            r#""predicateType":"https://sigil.dev/release/v1","#,
            r#""predicate":{"crate":"hello","version":"1.0.0"}}"#
        )
    );
    assert_eq!(hello().artifact_name(), "hello-1.0.0.crate");
}

#[test]
fn statement_json_escapes_unvalidated_fields() {
    let release = Release {
        crate_name: "a\"b".into(),
        version: "1.0.0".into(),
        sha256: [0; 32],
    };
    let json = statement_json(&release);
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(value["predicate"]["crate"], "a\"b");
    assert!(matches!(
        parse_statement(&json),
        Err(StatementError::InvalidCrateName { .. })
    ));
}

/// The digest of the empty string, lowercase hex.
macro_rules! digest {
    () => {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    };
}

/// A statement with the given subject list and predicate, other fields
/// standard.
macro_rules! statement {
    (subject: $subject:expr, predicate: $predicate:expr) => {
        concat!(
            r#"{"_type":"https://in-toto.io/Statement/v1","subject":"#,
            $subject,
            r#","predicateType":"https://sigil.dev/release/v1","predicate":"#,
            $predicate,
            "}"
        )
    };
    (name: $name:expr, predicate: $predicate:expr) => {
        statement!(
            subject: concat!(r#"[{"name":""#, $name, r#"","digest":{"sha256":""#, digest!(), r#""}}]"#),
            predicate: $predicate
        )
    };
    (digest: $digest:expr) => {
        statement!(
            subject: concat!(r#"[{"name":"hello-1.0.0.crate","digest":"#, $digest, "}]"),
            predicate: r#"{"crate":"hello","version":"1.0.0"}"#
        )
    };
}

/// Marker for the rows that must parse to `hello()`.
const OK: Result<(), StatementError> = Ok(());

/// A stand-in for any `StatementError::Json`: rows compare only the variant.
const JSON: Result<(), StatementError> = Err(StatementError::Json(String::new()));

const fn err(e: StatementError) -> Result<(), StatementError> {
    Err(e)
}

const STATEMENT_ROWS: &[(&str, Result<(), StatementError>)] = &[
    // Accepted: Sigil's own form, and equivalent forms in-toto allows.
    (
        statement!(name: "hello-1.0.0.crate", predicate: r#"{"crate":"hello","version":"1.0.0"}"#),
        OK,
    ),
    (
        concat!(
            r#" {"predicate":{"version":"1.0.0","crate":"hello","extra":[1,2]},"#,
            r#""predicateType":"https://sigil.dev/release/v1","x-ext":{"a":null},"#,
            r#""subject":[{"digest":{"sha512":"00","sha256":""#,
            digest!(),
            r#""},"#,
            r#""uri":"https://crates.io","name":"hello-1.0.0.crate"}],"#,
            r#""_type":"https://in-toto.io/Statement/v1"} "#
        ),
        OK,
    ),
    // _type
    (
        concat!(
            r#"{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"hello-1.0.0.crate","digest":{"sha256":""#,
            digest!(),
            r#""}}],"predicateType":"https://sigil.dev/release/v1","predicate":{"crate":"hello","version":"1.0.0"}}"#
        ),
        err(StatementError::WrongStatementType),
    ),
    (
        r#"{"subject":[],"predicateType":"https://sigil.dev/release/v1"}"#,
        err(StatementError::WrongStatementType),
    ),
    // subject count
    (
        statement!(subject: "[]", predicate: r#"{"crate":"hello","version":"1.0.0"}"#),
        err(StatementError::SubjectCount { count: 0 }),
    ),
    (
        r#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://sigil.dev/release/v1","predicate":{"crate":"hello","version":"1.0.0"}}"#,
        err(StatementError::SubjectCount { count: 0 }),
    ),
    (
        statement!(
            subject: concat!(r#"[{"name":"hello-1.0.0.crate","digest":{"sha256":""#, digest!(), r#""}},{"name":"hello-1.0.0.crate","digest":{"sha256":""#, digest!(), r#""}}]"#),
            predicate: r#"{"crate":"hello","version":"1.0.0"}"#
        ),
        err(StatementError::SubjectCount { count: 2 }),
    ),
    // subject name
    (
        statement!(name: "hello-1.0.1.crate", predicate: r#"{"crate":"hello","version":"1.0.0"}"#),
        err(StatementError::SubjectNameMismatch),
    ),
    (
        statement!(name: "hello-1.0.0.tar.gz", predicate: r#"{"crate":"hello","version":"1.0.0"}"#),
        err(StatementError::SubjectNameMismatch),
    ),
    (
        statement!(name: "Hello-1.0.0.crate", predicate: r#"{"crate":"hello","version":"1.0.0"}"#),
        err(StatementError::SubjectNameMismatch),
    ),
    (
        statement!(subject: concat!(r#"[{"digest":{"sha256":""#, digest!(), r#""}}]"#), predicate: r#"{"crate":"hello","version":"1.0.0"}"#),
        err(StatementError::SubjectNameMismatch),
    ),
    // predicate and subject disagree
    (
        statement!(name: "hello-1.0.0.crate", predicate: r#"{"crate":"world","version":"1.0.0"}"#),
        err(StatementError::SubjectNameMismatch),
    ),
    (
        statement!(name: "hello-1.0.0.crate", predicate: r#"{"crate":"hello","version":"1.0.1"}"#),
        err(StatementError::SubjectNameMismatch),
    ),
    // The subject alone cannot name the release: "a-b-1.0.0" could be a-b@1.0.0.
    (
        statement!(name: "hello-1.0.0.crate", predicate: r#"{"crate":"hello-1","version":"0.0"}"#),
        err(StatementError::InvalidVersion {
            reason: "not MAJOR.MINOR.PATCH",
        }),
    ),
    (
        statement!(name: "hello-1.0.0.crate", predicate: r#"{"crate":"hello"}"#),
        err(StatementError::MissingPredicate),
    ),
    (
        statement!(name: "hello-1.0.0.crate", predicate: r#"{"version":"1.0.0"}"#),
        err(StatementError::MissingPredicate),
    ),
    (
        statement!(name: "hello-1.0.0.crate", predicate: "{}"),
        err(StatementError::MissingPredicate),
    ),
    (
        concat!(
            r#"{"_type":"https://in-toto.io/Statement/v1","subject":["#,
            r#"{"name":"hello-1.0.0.crate","digest":{"sha256":""#,
            digest!(),
            r#""}}"#,
            r#"],"predicateType":"https://sigil.dev/release/v1"}"#
        ),
        err(StatementError::MissingPredicate),
    ),
    (
        statement!(name: "hello-1.0.0.crate", predicate: r#"{"crate":"hello","version":1}"#),
        JSON,
    ),
    // predicateType
    (
        r#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}"#,
        err(StatementError::WrongPredicateType),
    ),
    (
        r#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"https://sigil.dev/release/v2"}"#,
        err(StatementError::WrongPredicateType),
    ),
    (
        r#"{"_type":"https://in-toto.io/Statement/v1","subject":[]}"#,
        err(StatementError::WrongPredicateType),
    ),
    // digest
    (
        statement!(digest: r#"{"sha256":"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}"#),
        err(StatementError::BadSha256),
    ),
    (
        statement!(digest: r#"{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"}"#),
        err(StatementError::BadSha256),
    ),
    (
        statement!(digest: r#"{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555"}"#),
        err(StatementError::BadSha256),
    ),
    (
        statement!(digest: r#"{"sha256":"g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}"#),
        err(StatementError::BadSha256),
    ),
    (
        statement!(digest: r#"{"sha256":""}"#),
        err(StatementError::BadSha256),
    ),
    (
        statement!(digest: r#"{"sha512":"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"}"#),
        err(StatementError::MissingSha256),
    ),
    (
        statement!(digest: r#"{"SHA256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}"#),
        err(StatementError::MissingSha256),
    ),
    (statement!(digest: "{}"), err(StatementError::MissingSha256)),
    (
        statement!(subject: r#"[{"name":"hello-1.0.0.crate"}]"#, predicate: r#"{"crate":"hello","version":"1.0.0"}"#),
        err(StatementError::MissingSha256),
    ),
    (statement!(digest: r#"{"sha256":7}"#), JSON),
    (
        statement!(digest: concat!(r#"{"sha256":""#, digest!(), r#"","sha256":""#, digest!(), r#""}"#)),
        JSON,
    ),
    // crate names and versions (more rows in RELEASE_ROWS)
    (
        statement!(name: "1hello-1.0.0.crate", predicate: r#"{"crate":"1hello","version":"1.0.0"}"#),
        err(StatementError::InvalidCrateName {
            reason: "does not start with an ASCII letter",
        }),
    ),
    (
        statement!(name: "-1.0.0.crate", predicate: r#"{"crate":"","version":"1.0.0"}"#),
        err(StatementError::InvalidCrateName { reason: "empty" }),
    ),
    (
        statement!(name: "hello-v1.0.0.crate", predicate: r#"{"crate":"hello","version":"v1.0.0"}"#),
        err(StatementError::InvalidVersion {
            reason: "MAJOR, MINOR and PATCH must be numbers without leading zeros",
        }),
    ),
    (
        statement!(name: "hello-1.0.crate", predicate: r#"{"crate":"hello","version":"1.0"}"#),
        err(StatementError::InvalidVersion {
            reason: "not MAJOR.MINOR.PATCH",
        }),
    ),
    // malformed JSON and wrong shapes
    ("", JSON),
    ("null", JSON),
    ("[]", JSON),
    (r#"{"_type":"https://in-toto.io/Statement/v1""#, JSON),
    (
        statement!(subject: "{}", predicate: r#"{"crate":"hello","version":"1.0.0"}"#),
        JSON,
    ),
    (
        concat!(
            r#"{"_type":"https://in-toto.io/Statement/v1","_type":"https://in-toto.io/Statement/v1","subject":["#,
            r#"{"name":"hello-1.0.0.crate","digest":{"sha256":""#,
            digest!(),
            r#""}}"#,
            r#"],"predicateType":"https://sigil.dev/release/v1","predicate":{"crate":"hello","version":"1.0.0"}}"#
        ),
        JSON,
    ),
    (
        concat!(
            statement!(name: "hello-1.0.0.crate", predicate: r#"{"crate":"hello","version":"1.0.0"}"#),
            "x"
        ),
        JSON,
    ),
    (
        concat!(
            statement!(name: "hello-1.0.0.crate", predicate: r#"{"crate":"hello","version":"1.0.0"}"#),
            "{}"
        ),
        JSON,
    ),
];

/// Same variant, and same contents except for `Json`'s message.
fn same_error(actual: &StatementError, expected: &StatementError) -> bool {
    match (actual, expected) {
        (StatementError::Json(_), StatementError::Json(_)) => true,
        _ => actual == expected,
    }
}

#[test]
fn parse_statement_table() {
    for (input, expected) in STATEMENT_ROWS {
        let actual = parse_statement(input.as_bytes());
        let ok = match (&actual, expected) {
            (Ok(release), Ok(())) => *release == hello(),
            (Err(a), Err(e)) => same_error(a, e),
            _ => false,
        };
        assert!(
            ok,
            "input {input}\n  expected {expected:?}\n  got      {actual:?}"
        );
    }
}

#[test]
fn parse_statement_size_limit() {
    let mut big = statement_json(&hello());
    big.truncate(big.len() - 1);
    big.extend_from_slice(br#","pad":""#);
    while big.len() < MAX_STATEMENT_SIZE - 2 {
        big.push(b'x');
    }
    big.extend_from_slice(b"\"}");
    assert_eq!(big.len(), MAX_STATEMENT_SIZE);
    assert_eq!(parse_statement(&big).unwrap(), hello());
    big.insert(1, b' ');
    assert_eq!(
        parse_statement(&big),
        Err(StatementError::TooLarge {
            len: MAX_STATEMENT_SIZE + 1,
            max: MAX_STATEMENT_SIZE
        })
    );
}

/// `Release::new` rows: (crate name, version, expected).
const RELEASE_ROWS: &[(&str, &str, Result<(), StatementError>)] = &[
    ("hello", "1.0.0", OK),
    ("a", "0.0.0", OK),
    ("Hello_World-2", "10.20.30", OK),
    ("serde_json", "1.0.0-alpha.1+build.5", OK),
    ("x", "1.0.0-0a.x-y-z.--", OK),
    ("x", "1.0.0+001.0", OK),
    ("x", "1.0.0-rc.1+sha.5114f85", OK),
    ("x", "18446744073709551615.0.0", OK),
    (
        "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234",
        "1.0.0",
        OK,
    ),
    (
        "",
        "1.0.0",
        err(StatementError::InvalidCrateName { reason: "empty" }),
    ),
    (
        "1x",
        "1.0.0",
        err(StatementError::InvalidCrateName {
            reason: "does not start with an ASCII letter",
        }),
    ),
    (
        "_x",
        "1.0.0",
        err(StatementError::InvalidCrateName {
            reason: "does not start with an ASCII letter",
        }),
    ),
    (
        "-x",
        "1.0.0",
        err(StatementError::InvalidCrateName {
            reason: "does not start with an ASCII letter",
        }),
    ),
    (
        "héllo",
        "1.0.0",
        err(StatementError::InvalidCrateName {
            reason: "has a character other than ASCII letters, digits, '-' and '_'",
        }),
    ),
    (
        "a.b",
        "1.0.0",
        err(StatementError::InvalidCrateName {
            reason: "has a character other than ASCII letters, digits, '-' and '_'",
        }),
    ),
    (
        "a b",
        "1.0.0",
        err(StatementError::InvalidCrateName {
            reason: "has a character other than ASCII letters, digits, '-' and '_'",
        }),
    ),
    (
        "a/b",
        "1.0.0",
        err(StatementError::InvalidCrateName {
            reason: "has a character other than ASCII letters, digits, '-' and '_'",
        }),
    ),
    (
        "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij12345",
        "1.0.0",
        err(StatementError::InvalidCrateName {
            reason: "longer than 64 characters",
        }),
    ),
    (
        "x",
        "",
        err(StatementError::InvalidVersion { reason: "empty" }),
    ),
    (
        "x",
        "1",
        err(StatementError::InvalidVersion {
            reason: "not MAJOR.MINOR.PATCH",
        }),
    ),
    (
        "x",
        "1.0",
        err(StatementError::InvalidVersion {
            reason: "not MAJOR.MINOR.PATCH",
        }),
    ),
    (
        "x",
        "1.0.0.0",
        err(StatementError::InvalidVersion {
            reason: "not MAJOR.MINOR.PATCH",
        }),
    ),
    (
        "x",
        "v1.0.0",
        err(StatementError::InvalidVersion {
            reason: "MAJOR, MINOR and PATCH must be numbers without leading zeros",
        }),
    ),
    (
        "x",
        "01.0.0",
        err(StatementError::InvalidVersion {
            reason: "MAJOR, MINOR and PATCH must be numbers without leading zeros",
        }),
    ),
    (
        "x",
        "1.00.0",
        err(StatementError::InvalidVersion {
            reason: "MAJOR, MINOR and PATCH must be numbers without leading zeros",
        }),
    ),
    (
        "x",
        "1..0",
        err(StatementError::InvalidVersion {
            reason: "MAJOR, MINOR and PATCH must be numbers without leading zeros",
        }),
    ),
    (
        "x",
        " 1.0.0",
        err(StatementError::InvalidVersion {
            reason: "MAJOR, MINOR and PATCH must be numbers without leading zeros",
        }),
    ),
    (
        "x",
        "1.0.0 ",
        err(StatementError::InvalidVersion {
            reason: "MAJOR, MINOR and PATCH must be numbers without leading zeros",
        }),
    ),
    (
        "x",
        "1.0.+0",
        err(StatementError::InvalidVersion {
            reason: "MAJOR, MINOR and PATCH must be numbers without leading zeros",
        }),
    ),
    (
        "x",
        "18446744073709551616.0.0",
        err(StatementError::InvalidVersion {
            reason: "MAJOR, MINOR or PATCH does not fit in 64 bits",
        }),
    ),
    (
        "x",
        "1.0.0-",
        err(StatementError::InvalidVersion {
            reason: "bad pre-release identifier",
        }),
    ),
    (
        "x",
        "1.0.0-01",
        err(StatementError::InvalidVersion {
            reason: "bad pre-release identifier",
        }),
    ),
    (
        "x",
        "1.0.0-a..b",
        err(StatementError::InvalidVersion {
            reason: "bad pre-release identifier",
        }),
    ),
    (
        "x",
        "1.0.0-a_b",
        err(StatementError::InvalidVersion {
            reason: "bad pre-release identifier",
        }),
    ),
    (
        "x",
        "1.0.0-é",
        err(StatementError::InvalidVersion {
            reason: "bad pre-release identifier",
        }),
    ),
    (
        "x",
        "1.0.0+",
        err(StatementError::InvalidVersion {
            reason: "bad build metadata identifier",
        }),
    ),
    (
        "x",
        "1.0.0+a+b",
        err(StatementError::InvalidVersion {
            reason: "bad build metadata identifier",
        }),
    ),
    (
        "x",
        "1.0.0+a.",
        err(StatementError::InvalidVersion {
            reason: "bad build metadata identifier",
        }),
    ),
    (
        "x",
        "1.0.0-+a",
        err(StatementError::InvalidVersion {
            reason: "bad pre-release identifier",
        }),
    ),
];

#[test]
fn release_new_table() {
    for (name, version, expected) in RELEASE_ROWS {
        let actual = Release::new(name, version, [7; 32]);
        let ok = match (&actual, expected) {
            (Ok(r), Ok(())) => {
                r.crate_name == *name && r.version == *version && r.sha256 == [7; 32]
            }
            (Err(a), Err(e)) => a == e,
            _ => false,
        };
        assert!(
            ok,
            "name {name:?} version {version:?}\n  expected {expected:?}\n  got      {actual:?}"
        );
        // Every row also goes through a statement.
        if expected.is_ok() {
            let release = actual.unwrap();
            assert_eq!(parse_statement(&statement_json(&release)).unwrap(), release);
        }
    }
}

#[test]
fn version_length_limit() {
    let long = format!("1.0.0-{}", "a".repeat(249));
    assert_eq!(long.len(), 255);
    Release::new("x", &long, [0; 32]).unwrap();
    let too_long = format!("{long}a");
    assert_eq!(
        Release::new("x", &too_long, [0; 32]),
        Err(StatementError::InvalidVersion {
            reason: "longer than 255 bytes"
        })
    );
}

// ---------------------------------------------------------------- envelope JSON

fn hello_envelope_json(payload_b64: &str, sig_b64: &str) -> Vec<u8> {
    format!(
        r#"{{"payloadType":"{PAYLOAD_TYPE}","payload":"{payload_b64}","signatures":[{{"keyid":"k","sig":"{sig_b64}"}}]}}"#
    )
    .into_bytes()
}

#[test]
fn from_json_accepts_both_base64_alphabets_and_optional_padding() {
    let bytes = b"\xfb\xff\xbf>?";
    for (payload, sig) in [
        ("+/+/Pj8=", "+/8="),
        ("-_-_Pj8=", "-_8="),
        ("-_-_Pj8", "-_8"),
        ("+/+/Pj8", "+/8"),
    ] {
        let env = Envelope::from_json(&hello_envelope_json(payload, sig)).unwrap();
        assert_eq!(env.payload, bytes, "{payload}");
        assert_eq!(env.signatures[0].sig, [0xfb, 0xff], "{sig}");
    }
    let url = URL_SAFE_NO_PAD.encode(statement_json(&hello()));
    let env = Envelope::from_json(&hello_envelope_json(&url, "AA")).unwrap();
    assert_eq!(env.release().unwrap(), hello());
}

#[test]
fn from_json_errors() {
    let rows: &[(&[u8], StatementError)] = &[
        (b"", StatementError::Json(String::new())),
        (b"{", StatementError::Json(String::new())),
        (b"[]", StatementError::Json(String::new())),
        (b"\xff", StatementError::Json(String::new())),
        (
            br#"{"payload":"","signatures":[{"sig":""}]}"#,
            StatementError::Json(String::new()),
        ),
        (
            br#"{"payloadType":"t","signatures":[{"sig":""}]}"#,
            StatementError::Json(String::new()),
        ),
        (
            br#"{"payloadType":"t","payload":""}"#,
            StatementError::Json(String::new()),
        ),
        (
            br#"{"payloadType":"t","payload":"","signatures":[{"keyid":"k"}]}"#,
            StatementError::Json(String::new()),
        ),
        (
            br#"{"payloadType":"t","payload":"","signatures":{}}"#,
            StatementError::Json(String::new()),
        ),
        (
            br#"{"payloadType":"t","payloadType":"u","payload":"","signatures":[{"sig":""}]}"#,
            StatementError::Json(String::new()),
        ),
        (
            br#"{"payloadType":1,"payload":"","signatures":[{"sig":""}]}"#,
            StatementError::Json(String::new()),
        ),
        (
            br#"{"payloadType":"t","payload":"","signatures":[]}"#,
            StatementError::NoSignatures,
        ),
        (
            br#"{"payloadType":"t","payload":"a","signatures":[{"sig":""}]}"#,
            StatementError::Base64 { field: "payload" },
        ),
        (
            br#"{"payloadType":"t","payload":"+_8=","signatures":[{"sig":""}]}"#,
            StatementError::Base64 { field: "payload" },
        ),
        (
            br#"{"payloadType":"t","payload":"AB==","signatures":[{"sig":""}]}"#,
            StatementError::Base64 { field: "payload" },
        ),
        (
            br#"{"payloadType":"t","payload":"AA==","signatures":[{"sig":"A A="}]}"#,
            StatementError::Base64 { field: "sig" },
        ),
        (
            br#"{"payloadType":"t","payload":"AA==","signatures":[{"sig":"AA=="},{"sig":"!"}]}"#,
            StatementError::Base64 { field: "sig" },
        ),
    ];
    for (input, expected) in rows {
        let actual = Envelope::from_json(input);
        assert!(
            matches!(&actual, Err(a) if same_error(a, expected)),
            "input {}\n  expected {expected:?}\n  got      {actual:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn from_json_tolerates_what_dsse_allows() {
    let env = Envelope::from_json(
        br#"{"payloadType":"","payload":"","signatures":[{"sig":"","keyid":null,"extra":1},{"keyid":"k","sig":"AA=="}],"extension":{"x":[]}}"#,
    )
    .unwrap();
    assert_eq!(env.payload_type, "");
    assert_eq!(env.payload, b"");
    assert_eq!(
        env.signatures,
        [
            Signature {
                keyid: String::new(),
                sig: vec![]
            },
            Signature {
                keyid: "k".into(),
                sig: vec![0]
            }
        ]
    );
    assert_eq!(
        env.verify_signature(0, &spki(&key("k"))),
        Err(StatementError::BadSignature)
    );
}

#[test]
fn from_json_size_limit() {
    let mut json = hello_envelope_json("AA==", "AA==");
    let pad = MAX_ENVELOPE_SIZE - json.len();
    json.splice(1..1, std::iter::repeat_n(b' ', pad));
    assert_eq!(json.len(), MAX_ENVELOPE_SIZE);
    Envelope::from_json(&json).unwrap();
    json.insert(1, b' ');
    assert_eq!(
        Envelope::from_json(&json),
        Err(StatementError::TooLarge {
            len: MAX_ENVELOPE_SIZE + 1,
            max: MAX_ENVELOPE_SIZE
        })
    );
}

#[test]
fn constants_are_the_spec_values() {
    assert_eq!(PAYLOAD_TYPE, "application/vnd.in-toto+json");
    assert_eq!(STATEMENT_TYPE, "https://in-toto.io/Statement/v1");
    assert_eq!(PREDICATE_TYPE, "https://sigil.dev/release/v1");
}

// ---------------------------------------------------------------- properties

/// Crate names by the crates.io rules.
fn crate_name() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9_-]{0,63}"
}

/// SemVer 2.0 versions, with optional pre-release and build identifiers.
fn version() -> impl Strategy<Value = String> {
    let numeric = prop_oneof![Just("0".to_owned()), "[1-9][0-9]{0,5}"];
    (
        any::<u64>(),
        any::<u32>(),
        any::<u16>(),
        proptest::option::of(proptest::collection::vec(
            prop_oneof![numeric, "[0-9A-Za-z-]{0,5}[A-Za-z-][0-9A-Za-z-]{0,5}"],
            1..4,
        )),
        proptest::option::of(proptest::collection::vec("[0-9A-Za-z-]{1,8}", 1..4)),
    )
        .prop_map(|(major, minor, patch, pre, build)| {
            let mut v = format!("{major}.{minor}.{patch}");
            if let Some(pre) = pre {
                v = format!("{v}-{}", pre.join("."));
            }
            if let Some(build) = build {
                v = format!("{v}+{}", build.join("."));
            }
            v
        })
}

proptest! {
    #[test]
    fn from_json_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Envelope::from_json(&bytes);
    }

    #[test]
    fn from_json_never_panics_on_json_like_text(s in r#"[{}\[\]":, a-zA-Z0-9+/=_-]{0,256}"#) {
        let _ = Envelope::from_json(s.as_bytes());
        let _ = parse_statement(s.as_bytes());
    }

    #[test]
    fn parse_statement_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_statement(&bytes);
    }

    #[test]
    fn statement_round_trip(name in crate_name(), version in version(), sha256 in any::<[u8; 32]>()) {
        let release = Release::new(&name, &version, sha256).unwrap();
        prop_assert_eq!(parse_statement(&statement_json(&release)).unwrap(), release);
    }

    #[test]
    fn envelope_json_round_trip(
        payload_type in ".{0,40}",
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        sigs in proptest::collection::vec((".{0,20}", proptest::collection::vec(any::<u8>(), 0..80)), 1..4),
    ) {
        let env = Envelope {
            payload_type,
            payload,
            signatures: sigs.into_iter().map(|(keyid, sig)| Signature { keyid, sig }).collect(),
        };
        prop_assert_eq!(Envelope::from_json(&env.to_json()).unwrap(), env);
    }
}
