//! Tests for `sigil_core::certificate`: the crate-scope extension's DER
//! (module documentation, "The scope extension"), identities and serials.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use sigil_core::certificate::{
    CertificateError, IdentityKind, MAX_SCOPE_CRATES, SCOPE_EXTENSION_OID,
    SCOPE_EXTENSION_OID_ARCS, SCOPE_EXTENSION_OID_DER, classify_identity, decode_scope,
    encode_scope, validate_serial,
};

/// RustCrypto's `const-oid`, a parser nobody here wrote that keeps arcs in
/// 32-bit integers, reads the scope OID and encodes it to the same octets;
/// it refuses the 128-bit `2.25` UUID arc the OID used to have
/// (docs/certificates.md).
#[test]
fn const_oid_reads_the_scope_oid() {
    let oid = const_oid::ObjectIdentifier::new(SCOPE_EXTENSION_OID).unwrap();
    assert_eq!(oid.as_bytes(), SCOPE_EXTENSION_OID_DER);
    assert_eq!(oid.to_string(), SCOPE_EXTENSION_OID);
    assert_eq!(
        const_oid::ObjectIdentifier::from_bytes(SCOPE_EXTENSION_OID_DER).unwrap(),
        oid
    );
    let arcs: Vec<u64> = oid.arcs().map(u64::from).collect();
    assert_eq!(arcs, SCOPE_EXTENSION_OID_ARCS);
    assert!(
        const_oid::ObjectIdentifier::new("2.25.139526725496265795380794671847951376368").is_err()
    );
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Each row: a description, the input in hex, and the expected result.
type Row = (
    &'static str,
    &'static str,
    Result<&'static [&'static str], &'static str>,
);

/// Table of encodings, each with the result `decode_scope` must give; the
/// error is named by its variant.
const DECODE_CASES: &[Row] = &[
    ("one name", "30070c0568656c6c6f", Ok(&["hello"])),
    (
        "worked example",
        "30130c0568656c6c6f0c0a736967696c2d636f7265",
        Ok(&["hello", "sigil-core"]),
    ),
    ("empty input", "", Err("Truncated")),
    ("only a tag", "30", Err("Truncated")),
    (
        "SET instead of SEQUENCE",
        "31070c0568656c6c6f",
        Err("WrongTag"),
    ),
    ("primitive 0x10 tag", "10070c0568656c6c6f", Err("WrongTag")),
    ("IA5String element", "3007160568656c6c6f", Err("WrongTag")),
    (
        "PrintableString element",
        "3007130568656c6c6f",
        Err("WrongTag"),
    ),
    (
        "indefinite length",
        "30800c0568656c6c6f0000",
        Err("NonMinimalLength"),
    ),
    (
        "long form for a short length",
        "3081070c0568656c6c6f",
        Err("NonMinimalLength"),
    ),
    (
        "long form with a leading zero",
        "308200070c0568656c6c6f",
        Err("NonMinimalLength"),
    ),
    (
        "element long form, short length",
        "30080c810568656c6c6f",
        Err("NonMinimalLength"),
    ),
    (
        "five length octets",
        "3085000000000700",
        Err("NonMinimalLength"),
    ),
    (
        "length past the end",
        "30080c0568656c6c6f",
        Err("Truncated"),
    ),
    (
        "element past the end",
        "30070c0668656c6c6f",
        Err("Truncated"),
    ),
    (
        "huge long-form length",
        "3084ffffffff0c00",
        Err("Truncated"),
    ),
    (
        "trailing byte",
        "30070c0568656c6c6f00",
        Err("TrailingBytes"),
    ),
    (
        "a second SEQUENCE",
        "30070c0568656c6c6f30070c0568656c6c6f",
        Err("TrailingBytes"),
    ),
    ("empty sequence", "3000", Err("EmptyScope")),
    ("empty name", "30020c00", Err("InvalidCrateName")),
    (
        "name with a space",
        "30070c0568656c206f",
        Err("InvalidCrateName"),
    ),
    (
        "name starting with a digit",
        "30070c0531656c6c6f",
        Err("InvalidCrateName"),
    ),
    ("name not UTF-8", "30070c0568656cff6f", Err("NotUtf8")),
    (
        "duplicate",
        "300e0c0568656c6c6f0c0568656c6c6f",
        Err("DuplicateCrate"),
    ),
    (
        "duplicate by case",
        "300e0c0568656c6c6f0c0548656c6c6f",
        Err("DuplicateCrate"),
    ),
    (
        "duplicate by - and _",
        "300a0c03612d620c03615f62",
        Err("DuplicateCrate"),
    ),
];

fn variant(err: &CertificateError) -> &'static str {
    match err {
        CertificateError::Truncated { .. } => "Truncated",
        CertificateError::WrongTag { .. } => "WrongTag",
        CertificateError::NonMinimalLength { .. } => "NonMinimalLength",
        CertificateError::TrailingBytes { .. } => "TrailingBytes",
        CertificateError::EmptyScope => "EmptyScope",
        CertificateError::TooManyCrates { .. } => "TooManyCrates",
        CertificateError::NotUtf8 { .. } => "NotUtf8",
        CertificateError::InvalidCrateName { .. } => "InvalidCrateName",
        CertificateError::DuplicateCrate { .. } => "DuplicateCrate",
        CertificateError::InvalidIdentity { .. } => "InvalidIdentity",
        CertificateError::InvalidSerial { .. } => "InvalidSerial",
        _ => "other",
    }
}

#[test]
fn decode_scope_table() {
    for (what, input, want) in DECODE_CASES {
        let bytes = hex::decode(input).unwrap();
        let got = decode_scope(&bytes);
        match (want, &got) {
            (Ok(list), Ok(decoded)) => {
                assert_eq!(decoded, &names(list), "{what}: {input}");
                assert_eq!(encode_scope(decoded).unwrap(), bytes, "{what}: re-encoding");
            }
            (Err(name), Err(err)) => assert_eq!(variant(err), *name, "{what}: {input}: {err}"),
            _ => panic!("{what}: {input}: expected {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn scope_size_limits() {
    let full: Vec<String> = (0..MAX_SCOPE_CRATES)
        .map(|i| format!("crate-{i}"))
        .collect();
    let der = encode_scope(&full).unwrap();
    // Over 127 and over 255 bytes: the long length form.
    assert_eq!(&der[..2], &[0x30, 0x82]);
    assert_eq!(decode_scope(&der).unwrap(), full);

    let mut over = full.clone();
    over.push("one-more".into());
    assert_eq!(
        encode_scope(&over),
        Err(CertificateError::TooManyCrates { count: 257 })
    );
    // Hand-build the 257-name encoding the encoder refuses.
    let mut body = der[4..].to_vec();
    body.extend_from_slice(&[0x0c, 0x08]);
    body.extend_from_slice(b"one-more");
    let mut too_many = vec![0x30, 0x82];
    too_many.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    too_many.extend_from_slice(&body);
    assert_eq!(
        decode_scope(&too_many),
        Err(CertificateError::TooManyCrates { count: 257 })
    );

    // The longest crate name, 64 bytes, and one byte over.
    let long = "a".repeat(64);
    assert_eq!(
        decode_scope(&encode_scope(std::slice::from_ref(&long)).unwrap()).unwrap(),
        vec![long.clone()]
    );
    assert!(matches!(
        encode_scope(&[format!("{long}b")]),
        Err(CertificateError::InvalidCrateName { index: 0, .. })
    ));
}

#[test]
fn encode_scope_refuses_what_decode_refuses() {
    assert_eq!(encode_scope(&[]), Err(CertificateError::EmptyScope));
    assert!(matches!(
        encode_scope(&names(&["ok", "not ok"])),
        Err(CertificateError::InvalidCrateName { index: 1, .. })
    ));
    assert_eq!(
        encode_scope(&names(&["serde_json", "Serde-Json"])),
        Err(CertificateError::DuplicateCrate {
            name: "Serde-Json".into()
        })
    );
}

/// A crates.io name: an ASCII letter, then up to 63 of letters, digits, - and _.
fn crate_name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_-]{0,63}"
}

proptest! {
    #[test]
    fn scope_round_trips(list in prop::collection::vec(crate_name(), 1..40)) {
        // Drop crates.io duplicates, keeping the first of each.
        let mut seen = std::collections::HashSet::new();
        let list: Vec<String> = list
            .into_iter()
            .filter(|n| seen.insert(n.to_ascii_lowercase().replace('-', "_")))
            .collect();
        let der = encode_scope(&list).unwrap();
        prop_assert_eq!(decode_scope(&der).unwrap(), list);
    }

    #[test]
    fn decode_scope_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = std::hint::black_box(decode_scope(&bytes));
    }

    /// Valid encodings with one byte changed: decoding returns an error or
    /// a scope that encodes back to exactly the changed bytes (no second
    /// encoding of any scope).
    #[test]
    fn decode_scope_is_canonical_under_mutation(
        list in prop::collection::vec(crate_name(), 1..6),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut seen = std::collections::HashSet::new();
        let list: Vec<String> = list
            .into_iter()
            .filter(|n| seen.insert(n.to_ascii_lowercase().replace('-', "_")))
            .collect();
        let mut der = encode_scope(&list).unwrap();
        let i = at.index(der.len());
        der[i] = byte;
        if let Ok(decoded) = decode_scope(&der) {
            prop_assert_eq!(encode_scope(&decoded).unwrap(), der);
        }
    }
}

#[test]
fn identities() {
    let cases: &[(&str, Result<IdentityKind, ()>)] = &[
        ("alice@example.com", Ok(IdentityKind::Rfc822Name)),
        ("a.b+tag@sub.example.org", Ok(IdentityKind::Rfc822Name)),
        ("https://github.com/alice", Ok(IdentityKind::Uri)),
        (
            "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1",
            Ok(IdentityKind::Uri),
        ),
        ("mailto:alice@example.com", Ok(IdentityKind::Uri)),
        ("urn:sigil:maintainer:7", Ok(IdentityKind::Uri)),
        ("", Err(())),
        ("alice", Err(())),
        ("alice example@x.org", Err(())),
        ("https:", Err(())),
        ("1http://x", Err(())),
        ("@example.com", Err(())),
        ("alice@", Err(())),
        ("alice@-bad.org", Err(())),
        ("alice@exa_mple.org", Err(())),
        ("al..ice@example.org", Err(())),
        ("alice@example..org", Err(())),
        ("alicé@example.org", Err(())),
        ("alice@example.org\n", Err(())),
    ];
    for (identity, want) in cases {
        let got = classify_identity(identity);
        match want {
            Ok(kind) => assert_eq!(got, Ok(*kind), "{identity:?}"),
            Err(()) => assert!(
                matches!(got, Err(CertificateError::InvalidIdentity { .. })),
                "{identity:?}: {got:?}"
            ),
        }
    }
    let long = format!("https://example.org/{}", "a".repeat(300));
    assert!(classify_identity(&long).is_err());
}

#[test]
fn serials() {
    let cases: &[(&str, bool)] = &[
        ("01", true),
        ("7f", true),
        ("0080", true),
        ("00ff", true),
        ("0123456789abcdef0123456789abcdef01234567", true),
        ("", false),
        ("00", false),
        ("80", false),
        ("ff01", false),
        ("0001", false),
        ("007f", false),
        ("0123456789abcdef0123456789abcdef0123456789", false),
    ];
    for (serial, ok) in cases {
        let got = validate_serial(&hex::decode(serial).unwrap());
        assert_eq!(got.is_ok(), *ok, "{serial}: {got:?}");
    }
}
