//! Signed-note vectors: the `[signed notes]` section of
//! `testdata/tlog-vectors/tlog-vectors.txt` (C2SP signed-note example, Go
//! `sumdb/note` TestSign, transparency-dev/formats ECDSA vectors from Rekor
//! and the Pixel 6 log). Every value is read from the file, not copied here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sigil_core::note::{
    self, ALG_ECDSA, EcdsaP256Verifier, Ed25519Signer, Ed25519Verifier, Note, NoteSigner,
    NoteVerifier, Verifiers,
};

const VECTORS: &str = include_str!("../testdata/tlog-vectors/tlog-vectors.txt");

/// One vector: its header line and its `key value` fields, in order.
#[derive(Debug)]
struct Vector {
    header: String,
    fields: Vec<(String, String)>,
}

impl Vector {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn field(&self, key: &str) -> &str {
        self.get(key)
            .unwrap_or_else(|| panic!("vector {:?} has no field {key:?}", self.header))
    }
}

/// The `[signed notes]` section split into vectors. A header line starts at
/// column 0; a field line is indented and is `key  value` or `key = value`.
/// A `second vector: <vkey>` line starts a new vector in the same block.
fn signed_note_vectors() -> Vec<Vector> {
    let section = VECTORS
        .split_once("\n[signed notes]")
        .expect("no [signed notes] section")
        .1;
    let section = section.split("\n[").next().unwrap();
    let mut vectors: Vec<Vector> = Vec::new();
    for line in section.lines().skip(1) {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            vectors.push(Vector {
                header: line.to_owned(),
                fields: Vec::new(),
            });
            continue;
        }
        let line = line.trim();
        if let Some(vkey) = line.strip_prefix("second vector:") {
            let header = format!("{} (second vector)", vectors.last().unwrap().header);
            vectors.push(Vector {
                header,
                fields: vec![("vkey".to_owned(), vkey.trim().to_owned())],
            });
            continue;
        }
        let (key, value) = line.split_once(' ').unwrap();
        let value = value.trim_start();
        let value = value.strip_prefix("= ").unwrap_or(value);
        vectors
            .last_mut()
            .expect("field before any vector")
            .fields
            .push((key.to_owned(), value.to_owned()));
    }
    vectors
}

/// Decodes `'abc\n' + "def"`: quoted pieces joined by `+`, with `\n`, `\\`
/// and escaped quotes.
fn string_literal(expr: &str) -> String {
    string_pieces(expr).concat()
}

/// The quoted pieces of a `'abc\n' + "def"` expression, decoded.
fn string_pieces(expr: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut chars = expr.trim().chars().peekable();
    loop {
        let quote = chars.next().expect("expected a quoted string");
        assert!(quote == '\'' || quote == '"', "bad literal {expr:?}");
        let mut out = String::new();
        loop {
            match chars.next().expect("unterminated string") {
                c if c == quote => break,
                '\\' => match chars.next().unwrap() {
                    'n' => out.push('\n'),
                    c => out.push(c),
                },
                c => out.push(c),
            }
        }
        pieces.push(out);
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        match chars.next() {
            None => return pieces,
            Some('+') => {
                while chars.peek() == Some(&' ') {
                    chars.next();
                }
            }
            Some(c) => panic!("unexpected {c:?} in {expr:?}"),
        }
    }
}

/// First whitespace-separated token of a field (drops trailing comments).
fn token(value: &str) -> &str {
    value.split_whitespace().next().unwrap()
}

/// The last 8-hex-digit token of a field such as `keyid = SHA256(...) = c0d23d6a  (NOT ...)`.
fn hex_id_after_equals(value: &str) -> u32 {
    let tail = value.split("= ").last().unwrap();
    u32::from_str_radix(token(tail), 16).unwrap()
}

fn find(pred: impl Fn(&Vector) -> bool) -> Vector {
    signed_note_vectors()
        .into_iter()
        .find(pred)
        .expect("vector not found in tlog-vectors.txt")
}

/// Every single-byte change to the text or to the decoded signature (key ID
/// included) must make `open` fail.
fn assert_tamper_evident(msg: &[u8], known: &Verifiers) {
    let note = Note::parse(msg).unwrap();
    let text_len = note.text.len();
    for i in 0..text_len {
        for flip in [0x01u8, 0x80] {
            let mut bad = msg.to_vec();
            bad[i] ^= flip;
            assert!(
                note::open(&bad, known).is_err(),
                "text byte {i} ^ {flip:#x} still verifies: {:?}",
                String::from_utf8_lossy(&bad)
            );
        }
    }
    for (s, sig) in note.signatures.iter().enumerate() {
        let mut raw = sig.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&sig.signature);
        for i in 0..raw.len() {
            let mut bad_raw = raw.clone();
            bad_raw[i] ^= 0x01;
            let mut bad = note.clone();
            bad.signatures[s].key_id = u32::from_be_bytes(bad_raw[..4].try_into().unwrap());
            bad.signatures[s].signature = bad_raw[4..].to_vec();
            let bad = bad.to_bytes();
            assert!(
                note::open(&bad, known).is_err(),
                "signature {s} byte {i} flipped still verifies: {}",
                BASE64.encode(&bad_raw)
            );
        }
    }
}

#[test]
fn section_has_the_expected_vectors() {
    let vectors = signed_note_vectors();
    assert_eq!(vectors.len(), 4, "{vectors:#?}");
    for v in &vectors {
        assert!(v.get("vkey").is_some(), "{v:?}");
    }
}

#[test]
fn c2sp_example_note_verifies() {
    let v = find(|v| v.header.contains("C2SP"));
    let vkey = token(v.field("vkey"));
    let verifier = Ed25519Verifier::from_verifier_key(vkey).unwrap();
    assert_eq!(verifier.verifier_key(), vkey);
    assert_eq!(verifier.key_id(), hex_id_after_equals(v.field("keyid")));

    // The note is written as text + blank line + signature line.
    let pieces = string_pieces(v.field("note"));
    let msg = pieces.concat();
    let key_id = verifier.key_id();
    let known = Verifiers::new(vec![Box::new(verifier)]);
    let opened = note::open(msg.as_bytes(), &known).unwrap();
    assert_eq!(opened.text, pieces[0]);
    assert_eq!(opened.verified.len(), 1);
    assert_eq!(opened.verified[0].key_id, key_id);
    assert!(opened.unverified.is_empty());
    // The generic dispatcher reads the same key.
    assert_eq!(note::parse_verifier_key(vkey).unwrap().key_id(), key_id);
    assert_tamper_evident(msg.as_bytes(), &known);
}

#[test]
fn go_private_key_reproduces_signature_byte_for_byte() {
    let v = find(|v| v.get("skey").is_some());
    let skey = token(v.field("skey"));
    let vkey = token(v.field("vkey"));
    let text = string_literal(v.field("text"));
    let sig_line = v.field("sig");

    let signer = Ed25519Signer::from_private_key(skey).unwrap();
    assert_eq!(signer.private_key(), skey, "skey must round-trip");
    assert_eq!(signer.verifier().verifier_key(), vkey);
    assert_eq!(
        format!("{:08x}", signer.key_id()),
        vkey.split('+').nth(1).unwrap()
    );

    let msg = note::sign(&text, &[&signer]).unwrap();
    let expected = format!("{text}\n{sig_line}\n");
    assert_eq!(String::from_utf8(msg.clone()).unwrap(), expected);

    let known = Verifiers::new(vec![Box::new(
        Ed25519Verifier::from_verifier_key(vkey).unwrap(),
    )]);
    let opened = note::open(&msg, &known).unwrap();
    assert_eq!(opened.text, text);
    assert_tamper_evident(&msg, &known);
}

#[test]
fn ecdsa_p256_notes_verify() {
    let vectors: Vec<Vector> = signed_note_vectors()
        .into_iter()
        .filter(|v| v.header.contains("ECDSA"))
        .collect();
    assert_eq!(vectors.len(), 2, "Rekor and pixel6 vectors");
    let mut ids = Vec::new();
    for v in &vectors {
        let vkey = token(v.field("vkey"));
        let declared = u32::from_str_radix(vkey.split('+').nth(1).unwrap(), 16).unwrap();
        let verifier = EcdsaP256Verifier::from_verifier_key(vkey).unwrap();
        assert_eq!(verifier.key_id(), declared, "{}", v.header);
        assert_eq!(verifier.verifier_key(), vkey);
        if let Some(keyid) = v.get("keyid") {
            assert_eq!(verifier.key_id(), hex_id_after_equals(keyid));
            // The file also gives the ID the name-based formula would yield,
            // to show that type 0x02 does not use it.
            let wrong = keyid.split("would give ").nth(1).unwrap();
            let wrong = u32::from_str_radix(&wrong[..8], 16).unwrap();
            let mut material = vec![ALG_ECDSA];
            material.extend_from_slice(verifier.spki());
            assert_eq!(note::key_id(verifier.name(), &material), wrong);
            assert_ne!(wrong, verifier.key_id());
        }
        ids.push(format!("{:08x}", verifier.key_id()));

        let msg = string_literal(v.field("note"));
        let known = Verifiers::new(vec![note::parse_verifier_key(vkey).unwrap()]);
        let opened = note::open(msg.as_bytes(), &known).unwrap();
        assert_eq!(opened.verified.len(), 1, "{}", v.header);
        assert_eq!(opened.verified[0].key_id, declared);
        assert_tamper_evident(msg.as_bytes(), &known);
    }
    assert_eq!(ids, ["c0d23d6a", "91c16e30"]);
}

#[test]
fn ecdsa_signature_is_variable_length_der() {
    let v = find(|v| v.header.contains("ECDSA") && v.get("sig").is_some());
    let msg = string_literal(v.field("note"));
    let parsed = Note::parse(msg.as_bytes()).unwrap();
    let sig = &parsed.signatures[0].signature;
    // The file says "keyid(4) || ASN.1 DER ECDSA(...) (70 bytes here; variable
    // length)": the DER signature after the key ID.
    let described = v.field("sig").split(" bytes here").next().unwrap();
    let described: usize = described.rsplit('(').next().unwrap().parse().unwrap();
    assert_eq!(sig.len(), described);
    // DER: a SEQUENCE whose length byte covers the rest.
    assert_eq!(sig[0], 0x30);
    assert_eq!(usize::from(sig[1]) + 2, sig.len());
}

#[test]
fn verifiers_for_one_vector_do_not_verify_another() {
    let vectors = signed_note_vectors();
    let notes: Vec<String> = vectors
        .iter()
        .map(|v| match v.get("note") {
            Some(n) => string_literal(n),
            None => format!("{}\n{}\n", string_literal(v.field("text")), v.field("sig")),
        })
        .collect();
    for (i, v) in vectors.iter().enumerate() {
        let known = Verifiers::new(vec![
            note::parse_verifier_key(token(v.field("vkey"))).unwrap(),
        ]);
        for (j, msg) in notes.iter().enumerate() {
            let result = note::open(msg.as_bytes(), &known);
            assert_eq!(result.is_ok(), i == j, "vkey {i} on note {j}: {result:?}");
        }
    }
}
