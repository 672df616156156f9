//! Malformed notes and keys are refused with the right error
//! (c2sp.org/signed-note §Format, §Signatures), and `Note::parse` never panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use sigil_core::note::{
    self, Ed25519Signer, Ed25519Verifier, MAX_NOTE_SIZE, MAX_SIGNATURES, Note, NoteError,
    NoteSignature, NoteSigner, NoteVerifier, Verifiers,
};

/// Go's `sumdb/note` documentation example (note_test.go TestSign).
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";

use NoteError::*;

/// Syntax errors of `Note::parse`. `AAAAAAA=` is a well-formed 5-byte signature.
const MALFORMED: &[(&[u8], NoteError)] = &[
    (b"", MissingFinalNewline),
    (b"hello\n", MissingBlankLine),
    // No blank line between text and signature.
    (b"hello\n\xe2\x80\x94 a AAAAAAA=\n", MissingBlankLine),
    // Missing final newline.
    (b"hello\n\n\xe2\x80\x94 a AAAAAAA=", MissingFinalNewline),
    (b"hello\n\n", NoSignatures),
    (b"\n\n", NoSignatures),
    // Bad UTF-8 in the text, in a signature line, and a truncated em dash.
    (
        b"hel\xfflo\n\n\xe2\x80\x94 a AAAAAAA=\n",
        InvalidUtf8 { offset: 3 },
    ),
    (
        b"hello\n\n\xe2\x80\x94 \xc0\xaf AAAAAAA=\n",
        InvalidUtf8 { offset: 11 },
    ),
    (b"hello\n\n\xe2\x80 a AAAAAAA=\n", InvalidUtf8 { offset: 7 }),
    // Control characters: NUL, CR, tab, ESC; in text and signature lines.
    (
        b"he\x00llo\n\n\xe2\x80\x94 a AAAAAAA=\n",
        ControlCharacter { offset: 2 },
    ),
    (
        b"hello\r\n\n\xe2\x80\x94 a AAAAAAA=\n",
        ControlCharacter { offset: 5 },
    ),
    (
        b"hello\n\n\xe2\x80\x94 a\tAAAAAAA=\n",
        ControlCharacter { offset: 12 },
    ),
    (
        b"hello\n\n\xe2\x80\x94 a AAAAAAA=\n\x1b\n",
        ControlCharacter { offset: 22 },
    ),
    // No em dash: hyphen, en dash, nothing, no space after it.
    (b"hello\n\n- a AAAAAAA=\n", MissingEmDash { line: 3 }),
    (
        b"hello\n\n\xe2\x80\x93 a AAAAAAA=\n",
        MissingEmDash { line: 3 },
    ),
    (b"hello\n\na AAAAAAA=\n", MissingEmDash { line: 3 }),
    (
        b"hello\n\n\xe2\x80\x94a AAAAAAA=\n",
        MissingEmDash { line: 3 },
    ),
    // A trailing garbage line after good signatures; text with empty lines.
    (
        b"hello\n\n\xe2\x80\x94 a AAAAAAA=\nx\n",
        MissingEmDash { line: 4 },
    ),
    (
        b"a\n\nb\n\n\xe2\x80\x94 a AAAAAAA=\nx\n",
        MissingEmDash { line: 6 },
    ),
    // Key names: empty, with '+', with Unicode spaces (NBSP, ideographic space).
    (
        b"hello\n\n\xe2\x80\x94  AAAAAAA=\n",
        InvalidSignatureName { line: 3 },
    ),
    (
        b"hello\n\n\xe2\x80\x94 a+b AAAAAAA=\n",
        InvalidSignatureName { line: 3 },
    ),
    (
        b"hello\n\n\xe2\x80\x94 a\xc2\xa0b AAAAAAA=\n",
        InvalidSignatureName { line: 3 },
    ),
    (
        b"hello\n\n\xe2\x80\x94 a\xe3\x80\x80b AAAAAAA=\n",
        InvalidSignatureName { line: 3 },
    ),
    // A name with an ASCII space: the name ends there and the rest is not base64.
    (
        b"hello\n\n\xe2\x80\x94 a b AAAAAAA=\n",
        InvalidSignatureBase64 { line: 3 },
    ),
    // Base64: bad character, missing padding, non-canonical bits, URL alphabet, trailing space.
    (
        b"hello\n\n\xe2\x80\x94 a AAAA*AA=\n",
        InvalidSignatureBase64 { line: 3 },
    ),
    (
        b"hello\n\n\xe2\x80\x94 a AAAAAAA\n",
        InvalidSignatureBase64 { line: 3 },
    ),
    (
        b"hello\n\n\xe2\x80\x94 a AAAAAAB=\n",
        InvalidSignatureBase64 { line: 3 },
    ),
    (
        b"hello\n\n\xe2\x80\x94 a AAAA_AA=\n",
        InvalidSignatureBase64 { line: 3 },
    ),
    (
        b"hello\n\n\xe2\x80\x94 a AAAAAAA= \n",
        InvalidSignatureBase64 { line: 3 },
    ),
    // Too short: 4 bytes (key ID only), 2 bytes, nothing.
    (
        b"hello\n\n\xe2\x80\x94 a AAAAAA==\n",
        SignatureTooShort { line: 3, len: 4 },
    ),
    (
        b"hello\n\n\xe2\x80\x94 a AAA=\n",
        SignatureTooShort { line: 3, len: 2 },
    ),
    (
        b"hello\n\n\xe2\x80\x94 a\n",
        SignatureTooShort { line: 3, len: 0 },
    ),
    (
        b"hello\n\n\xe2\x80\x94 a \n",
        SignatureTooShort { line: 3, len: 0 },
    ),
];

/// A note with `n` well-formed signature lines.
fn note_with_signatures(n: usize) -> Vec<u8> {
    let mut msg = b"hello\n\n".to_vec();
    for _ in 0..n {
        msg.extend_from_slice("— a AAAAAAA=\n".as_bytes());
    }
    msg
}

/// A syntactically valid note of exactly `size` bytes.
fn note_of_size(size: usize) -> Vec<u8> {
    let tail = "\n\n— a AAAAAAA=\n".as_bytes();
    let mut msg = vec![b'x'; size - tail.len()];
    msg.extend_from_slice(tail);
    msg
}

/// Rows that are too big to write out.
fn generated_rows() -> Vec<(Vec<u8>, NoteError)> {
    vec![
        (
            note_with_signatures(MAX_SIGNATURES + 1),
            TooManySignatures {
                max: MAX_SIGNATURES,
            },
        ),
        (
            note_of_size(MAX_NOTE_SIZE + 1),
            TooLarge {
                size: MAX_NOTE_SIZE + 1,
                max: MAX_NOTE_SIZE,
            },
        ),
    ]
}

#[test]
fn malformed_notes_are_rejected() {
    let generated = generated_rows();
    let rows = MALFORMED
        .iter()
        .map(|(input, err)| (*input, err))
        .chain(generated.iter().map(|(input, err)| (input.as_slice(), err)));
    let known = Verifiers::new(vec![Box::new(
        Ed25519Verifier::from_verifier_key(PETER_VKEY).unwrap(),
    )]);
    for (input, want) in rows {
        let shown = String::from_utf8_lossy(&input[..input.len().min(200)]);
        assert_eq!(
            Note::parse(input).as_ref(),
            Err(want),
            "Note::parse({shown:?})"
        );
        assert_eq!(
            note::open(input, &known).as_ref().map(|_| ()),
            Err(want),
            "open({shown:?})"
        );
    }
}

#[test]
fn limits_are_inclusive() {
    assert_eq!(
        Note::parse(&note_with_signatures(MAX_SIGNATURES))
            .unwrap()
            .signatures
            .len(),
        MAX_SIGNATURES
    );
    assert!(Note::parse(&note_of_size(MAX_NOTE_SIZE)).is_ok());
    // The spec: verifiers MUST accept at least 16 signatures.
    const { assert!(MAX_SIGNATURES >= 16) };
}

#[test]
fn parse_then_format_is_identity_on_valid_notes() {
    let valid: &[&str] = &[
        "hello\n\n— a AAAAAAA=\n",
        // Text with empty lines and a line that looks like a signature.
        "a\n\n— not a signature\n\n\n— b AAAAAAA=\n— c/d:e AAAAAAAA\n",
        // The text is just a newline.
        "\n\n— a AAAAAAA=\n",
        // DEL and non-ASCII are allowed.
        "caf\u{e9} \u{7f}\n\n— \u{1f980} AAAAAAA=\n",
    ];
    for input in valid {
        let note = Note::parse(input.as_bytes()).unwrap();
        assert_eq!(note.to_bytes(), input.as_bytes(), "{input:?}");
    }
    let note = Note::parse(valid[1].as_bytes()).unwrap();
    assert_eq!(note.text, "a\n\n— not a signature\n\n");
    assert_eq!(note.signatures.len(), 2);
}

/// Open rows: the note is the Go example, signed by `PeterNeumann+c74f20a3`.
type Check = fn(&NoteError) -> bool;
const OPEN_ROWS: &[(&str, &str, Check)] = &[
    // Known key, one flipped base64 character in the signature.
    (
        "— PeterNeumann x08go/ZJkuBS9UG/SffcvIARxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "known key, bad signature",
        |e| matches!(e, InvalidSignature { name, key_id: 0xc74f20a3 } if name == "PeterNeumann"),
    ),
    // Known key, signature truncated to 32 bytes.
    (
        "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuG\n",
        "known key, short signature",
        |e| matches!(e, InvalidSignature { .. }),
    ),
    // Only unknown keys: another name, and the same name with another ID.
    (
        "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n",
        "unknown key only",
        |e| *e == UnverifiedNote,
    ),
    (
        "— PeterNeumann AAAAAF+4nTZeY09cQ/8CLwV3k+8=\n",
        "same name, other key ID",
        |e| *e == UnverifiedNote,
    ),
    // Same key ID, other name: also unknown (§Signatures: name AND ID).
    (
        "— PeterNewman x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "same key ID, other name",
        |e| *e == UnverifiedNote,
    ),
    // A valid signature does not excuse a bad one from the same key.
    (
        "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n\
         — PeterNeumann x08go/ZJkuBS9UG/SffcvIARxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "good then bad signature from one key",
        |e| matches!(e, InvalidSignature { .. }),
    ),
];

#[test]
fn open_rejects_unverifiable_notes() {
    let known = Verifiers::new(vec![Box::new(
        Ed25519Verifier::from_verifier_key(PETER_VKEY).unwrap(),
    )]);
    for (sigs, what, check) in OPEN_ROWS {
        let msg = format!("{PETER_TEXT}\n{sigs}");
        // Syntax is fine; only verification fails.
        Note::parse(msg.as_bytes()).unwrap_or_else(|e| panic!("{what}: {e}: {msg:?}"));
        match note::open(msg.as_bytes(), &known) {
            Err(e) => assert!(check(&e), "{what}: unexpected error {e:?} for {msg:?}"),
            Ok(n) => panic!("{what}: accepted {msg:?}: {n:?}"),
        }
    }
}

#[test]
fn open_ignores_unknown_and_repeated_signatures() {
    let known = Verifiers::new(vec![Box::new(
        Ed25519Verifier::from_verifier_key(PETER_VKEY).unwrap(),
    )]);
    let unknown = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";
    let msg = format!("{PETER_TEXT}\n{unknown}{PETER_SIG}{unknown}{PETER_SIG}");
    let opened = note::open(msg.as_bytes(), &known).unwrap();
    assert_eq!(opened.text, PETER_TEXT);
    assert_eq!(opened.verified.len(), 1);
    assert_eq!(opened.unverified.len(), 1);
    assert_eq!(opened.unverified[0].name, "EnochRoot");
}

#[test]
fn open_refuses_ambiguous_keys() {
    let v = || Box::new(Ed25519Verifier::from_verifier_key(PETER_VKEY).unwrap());
    let mut known = Verifiers::new(vec![v()]);
    known.push(v());
    assert_eq!(known.len(), 2);
    let msg = format!("{PETER_TEXT}\n{PETER_SIG}");
    assert_eq!(
        note::open(msg.as_bytes(), &known).unwrap_err(),
        AmbiguousKey {
            name: "PeterNeumann".into(),
            key_id: 0xc74f20a3
        }
    );
    assert!(known.get("PeterNeumann", 0xc74f20a3).is_some());
    assert!(known.get("PeterNeumann", 0xc74f20a4).is_none());
}

/// Rekor's ECDSA P-256 key (transparency-dev/formats tests).
const REKOR_VKEY: &str = "rekor.sigstore.dev+c0d23d6a+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc=";
/// PeterNeumann's public key as a type-0x04 cosignature key.
const COSIG_VKEY: &str = "PeterNeumann+18b9780b+BBpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

/// Verifier keys for `note::parse_verifier_key`: Ok(key ID) or the error.
const VKEY_ROWS: &[(&str, Result<u32, NoteError>)] = &[
    (PETER_VKEY, Ok(0xc74f20a3)),
    // Go reads upper-case key IDs too.
    (
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        Ok(0xc74f20a3),
    ),
    // Wrong key ID.
    (
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        Err(KeyIdMismatch {
            computed: 0xc74f20a3,
            declared: 0xc74f20a4,
        }),
    ),
    // A key ID for another name.
    (
        "PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        Err(KeyIdMismatch {
            computed: 0x94245f47,
            declared: 0xc74f20a3,
        }),
    ),
    // Key ID not 8 hex digits.
    (
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        Err(MalformedKey {
            reason: "key ID is not 8 hexadecimal digits",
        }),
    ),
    (
        "PeterNeumann+c74f20ag+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        Err(MalformedKey {
            reason: "key ID is not 8 hexadecimal digits",
        }),
    ),
    (
        "PeterNeumann++74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        Err(MalformedKey {
            reason: "key ID is not 8 hexadecimal digits",
        }),
    ),
    // Bad base64: truncated, bad character, empty.
    (
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        Err(MalformedKey {
            reason: "key is not valid base64",
        }),
    ),
    (
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T!",
        Err(MalformedKey {
            reason: "key is not valid base64",
        }),
    ),
    (
        "PeterNeumann+c74f20a3+",
        Err(MalformedKey {
            reason: "key is empty",
        }),
    ),
    // Missing fields.
    (
        "PeterNeumann+c74f20a3",
        Err(MalformedKey {
            reason: "expected <name>+<key ID>+<base64 key>",
        }),
    ),
    (
        "PeterNeumann",
        Err(MalformedKey {
            reason: "expected <name>+<key ID>+<base64 key>",
        }),
    ),
    (
        "",
        Err(MalformedKey {
            reason: "expected <name>+<key ID>+<base64 key>",
        }),
    ),
    // Bad names.
    (
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        Err(InvalidKeyName),
    ),
    (
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        Err(InvalidKeyName),
    ),
    // Wrong lengths for Ed25519 (31 and 33 bytes), with matching key IDs.
    (
        "PeterNeumann+a3fe51bc+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10Q=",
        Err(InvalidKeyLength {
            key_type: 1,
            len: 31,
        }),
    ),
    (
        "PeterNeumann+5bdbe860+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA==",
        Err(InvalidKeyLength {
            key_type: 1,
            len: 33,
        }),
    ),
    // Unknown type 0x07.
    (
        "PeterNeumann+fb5f42c1+Bxpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        Err(UnsupportedKeyType { key_type: 7 }),
    ),
    // The same 32 bytes as a type-0x04 cosignature key: valid, other key ID.
    (COSIG_VKEY, Ok(0x18b9780b)),
    // ECDSA: good key; the name-based key ID; a point off the curve; a compressed point.
    (REKOR_VKEY, Ok(0xc0d23d6a)),
    (
        "rekor.sigstore.dev+37b7aa39+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc=",
        Err(KeyIdMismatch {
            computed: 0xc0d23d6a,
            declared: 0x37b7aa39,
        }),
    ),
    (
        "rekor.sigstore.dev+ce92ef5b+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLY=",
        Err(InvalidPublicKey {
            reason: "not a point on P-256",
        }),
    ),
    (
        "rekor.sigstore.dev+edd20e4d+AjA5MBMGByqGSM49AgEGCCqGSM49AwEHAyIAA9htmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0hrZLOC96l",
        Err(InvalidPublicKey {
            reason: "not the SubjectPublicKeyInfo of an uncompressed P-256 point",
        }),
    ),
];

#[test]
fn verifier_keys() {
    for (vkey, want) in VKEY_ROWS {
        let got = note::parse_verifier_key(vkey).map(|v| v.key_id());
        assert_eq!(&got, want, "parse_verifier_key({vkey:?})");
    }
}

#[test]
fn typed_constructors_check_the_type() {
    let (rekor, cosig) = (REKOR_VKEY, COSIG_VKEY);
    assert_eq!(
        Ed25519Verifier::from_verifier_key(rekor).unwrap_err(),
        WrongKeyType {
            expected: 1,
            found: 2
        }
    );
    assert_eq!(
        Ed25519Verifier::from_verifier_key(cosig).unwrap_err(),
        WrongKeyType {
            expected: 1,
            found: 4
        }
    );
    assert_eq!(
        note::EcdsaP256Verifier::from_verifier_key(PETER_VKEY).unwrap_err(),
        WrongKeyType {
            expected: 2,
            found: 1
        }
    );
    assert_eq!(
        sigil_core::cosignature::CosignatureVerifier::from_verifier_key(PETER_VKEY).unwrap_err(),
        WrongKeyType {
            expected: 4,
            found: 1
        }
    );
}

#[test]
fn signer_keys() {
    let rows: &[(&str, NoteError)] = &[
        (
            "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
            KeyIdMismatch {
                computed: 0xc74f20a3,
                declared: 0xc74f20a4,
            },
        ),
        (
            "PRIVATE+KEX+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
            MalformedKey {
                reason: "signer key does not start with PRIVATE+KEY+",
            },
        ),
        // A verifier key is not a signer key.
        (
            PETER_VKEY,
            MalformedKey {
                reason: "signer key does not start with PRIVATE+KEY+",
            },
        ),
        (
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDE=",
            InvalidKeyLength {
                key_type: 1,
                len: 31,
            },
        ),
        (
            "PRIVATE+KEY+PeterNeumann+c74f20a3+BIEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
            WrongKeyType {
                expected: 1,
                found: 4,
            },
        ),
    ];
    for (skey, want) in rows {
        // The error must not quote the secret.
        let err = Ed25519Signer::from_private_key(skey).unwrap_err();
        assert_eq!(&err, want, "from_private_key({skey:?})");
        assert!(!err.to_string().contains("AYEKFALV"), "{err}");
    }
    let signer = Ed25519Signer::from_private_key(PETER_SKEY).unwrap();
    assert_eq!(signer.private_key(), PETER_SKEY);
}

#[test]
fn debug_output_never_shows_private_keys() {
    let signer = Ed25519Signer::from_private_key(PETER_SKEY).unwrap();
    let seed_hex = "810a1402d5146c8d84f2443330f54080ebf98ee17d9c74f6252fc5d5c7283173";
    let debug = format!("{signer:?} {signer:#?}");
    assert!(!debug.contains("AYEKFALV"), "{debug}");
    assert!(!debug.contains(&seed_hex[..16]), "{debug}");
    assert!(debug.contains("redacted"), "{debug}");
    let witness = sigil_core::cosignature::CosignatureSigner::from_seed("w", [7; 32]).unwrap();
    let debug = format!("{witness:?}");
    assert!(!debug.contains(&"07".repeat(8)), "{debug}");
    assert!(debug.contains("redacted"), "{debug}");
}

/// A signer that returns whatever it was built with.
struct Fixed(&'static str, u32, Vec<u8>);
impl NoteSigner for Fixed {
    fn name(&self) -> &str {
        self.0
    }
    fn key_id(&self) -> u32 {
        self.1
    }
    fn sign(&self, _: &[u8]) -> Result<Vec<u8>, NoteError> {
        Ok(self.2.clone())
    }
}

#[test]
fn sign_refuses_what_it_could_not_parse() {
    let peter = Ed25519Signer::from_private_key(PETER_SKEY).unwrap();
    let rows: &[(&str, NoteError)] = &[
        ("", EmptyText),
        ("no newline", MissingFinalNewline),
        ("tab\there\n", ControlCharacter { offset: 3 }),
        ("cr\r\n", ControlCharacter { offset: 2 }),
    ];
    for (text, want) in rows {
        assert_eq!(
            &note::sign(text, &[&peter]).unwrap_err(),
            want,
            "sign({text:?})"
        );
    }
    assert_eq!(note::sign("x\n", &[]).unwrap_err(), NoSigners);
    assert_eq!(
        note::sign("x\n", &[&peter, &peter]).unwrap_err(),
        DuplicateSigner {
            name: "PeterNeumann".into(),
            key_id: 0xc74f20a3
        }
    );
    for bad_name in ["a b", "a+b", "", "a\u{a0}", "a\u{1}"] {
        let signer = Fixed(bad_name, 1, vec![1]);
        assert_eq!(
            note::sign("x\n", &[&signer]).unwrap_err(),
            InvalidKeyName,
            "{bad_name:?}"
        );
        assert!(
            Ed25519Signer::from_seed(bad_name, [0; 32]).is_err(),
            "{bad_name:?}"
        );
    }
    let empty = Fixed("e", 1, vec![]);
    assert!(matches!(
        note::sign("x\n", &[&empty]).unwrap_err(),
        Signer { .. }
    ));
    // Too many signers, and a note too large.
    let many: Vec<Fixed> = (0..=MAX_SIGNATURES as u32)
        .map(|i| Fixed("m", i, vec![1]))
        .collect();
    let many: Vec<&dyn NoteSigner> = many.iter().map(|s| s as &dyn NoteSigner).collect();
    assert_eq!(
        note::sign("x\n", &many).unwrap_err(),
        TooManySignatures {
            max: MAX_SIGNATURES
        }
    );
    let big = "x".repeat(MAX_NOTE_SIZE) + "\n";
    assert!(matches!(
        note::sign(&big, &[&peter]).unwrap_err(),
        TooLarge { .. }
    ));
}

#[test]
fn add_signatures_keeps_existing_ones() {
    let peter = Ed25519Signer::from_private_key(PETER_SKEY).unwrap();
    let enoch = Ed25519Signer::from_seed("EnochRoot", [9; 32]).unwrap();
    let msg = format!("{PETER_TEXT}\n{PETER_SIG}");
    let note = Note::parse(msg.as_bytes()).unwrap();

    let both = note::add_signatures(&note, &[&enoch]).unwrap();
    let both_text = String::from_utf8(both.clone()).unwrap();
    assert!(
        both_text.starts_with(&msg),
        "existing signature first: {both_text}"
    );
    let known = Verifiers::new(vec![Box::new(peter.verifier()), Box::new(enoch.verifier())]);
    assert_eq!(note::open(&both, &known).unwrap().verified.len(), 2);

    // Re-signing with an existing key replaces its line rather than repeating it.
    let again = note::add_signatures(&Note::parse(&both).unwrap(), &[&peter]).unwrap();
    let parsed = Note::parse(&again).unwrap();
    let names: Vec<&str> = parsed.signatures.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["EnochRoot", "PeterNeumann"]);

    // Existing signatures must be well-formed.
    let mut bad = note.clone();
    bad.signatures.push(NoteSignature {
        name: "bad name".into(),
        key_id: 1,
        signature: vec![1],
    });
    assert_eq!(
        note::add_signatures(&bad, &[&enoch]).unwrap_err(),
        InvalidSignatureName { line: 5 }
    );
}

#[test]
fn generated_keys_work_and_differ() {
    let a = Ed25519Signer::generate("example.com/a").unwrap();
    let b = Ed25519Signer::generate("example.com/a").unwrap();
    assert_ne!(a.public_key(), b.public_key());
    let reread = Ed25519Signer::from_private_key(&a.private_key()).unwrap();
    assert_eq!(reread.public_key(), a.public_key());
    let v = Ed25519Verifier::from_verifier_key(&a.verifier().verifier_key()).unwrap();
    assert_eq!(v.public_key(), a.public_key());
    let msg = note::sign("text\n", &[&a]).unwrap();
    assert!(note::open(&msg, &Verifiers::new(vec![Box::new(v)])).is_ok());
    assert_eq!(
        note::open(&msg, &Verifiers::new(vec![Box::new(b.verifier())])).unwrap_err(),
        UnverifiedNote,
        "same name, other key: another key ID, so unknown"
    );
}

/// Text characters: anything but control characters, plus the bytes that
/// matter to the format.
fn text_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>().prop_filter("no control characters", |c| *c >= ' '),
        2 => Just('\n'),
        1 => Just('\u{2014}'),
        1 => Just(' '),
        1 => Just('+'),
    ]
}

/// Pieces that drive the parser into its corners.
fn note_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"\n".to_vec()),
        Just("\u{2014} ".as_bytes().to_vec()),
        Just("\u{2014}".as_bytes().to_vec()),
        Just(b" ".to_vec()),
        Just(b"a".to_vec()),
        Just(b"+".to_vec()),
        Just(b"AAAAAAA=".to_vec()),
        Just(b"=".to_vec()),
        Just("\u{a0}".as_bytes().to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\xe2\x80".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..4),
    ]
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Note::parse(&bytes);
    }

    #[test]
    fn parse_never_panics_on_near_notes(pieces in proptest::collection::vec(note_piece(), 0..40)) {
        let msg = pieces.concat();
        if let Ok(note) = Note::parse(&msg) {
            // Whatever parses formats back to the same bytes.
            prop_assert_eq!(note.to_bytes(), msg);
        }
    }

    #[test]
    fn sign_parse_open_round_trip(
        body in proptest::collection::vec(text_char(), 0..200),
        seeds in proptest::collection::vec(any::<[u8; 32]>(), 1..4),
        with_unknown in any::<bool>(),
    ) {
        let text: String = body.into_iter().chain(['\n']).collect();
        let signers: Vec<Ed25519Signer> = seeds
            .iter()
            .enumerate()
            .map(|(i, seed)| Ed25519Signer::from_seed(&format!("example.com/k{i}"), *seed).unwrap())
            .collect();
        let refs: Vec<&dyn NoteSigner> = signers.iter().map(|s| s as &dyn NoteSigner).collect();
        let mut msg = note::sign(&text, &refs).unwrap();
        let parsed = Note::parse(&msg).unwrap();
        prop_assert_eq!(&parsed.text, &text);
        prop_assert_eq!(parsed.signatures.len(), signers.len());
        prop_assert_eq!(parsed.to_bytes(), msg.clone());
        if with_unknown {
            let stranger = Ed25519Signer::from_seed("stranger", [0xaa; 32]).unwrap();
            msg = note::add_signatures(&parsed, &[&stranger]).unwrap();
        }
        let known = Verifiers::new(
            signers.iter().map(|s| Box::new(s.verifier()) as Box<dyn NoteVerifier>).collect(),
        );
        let opened = note::open(&msg, &known).unwrap();
        prop_assert_eq!(&opened.text, &text);
        prop_assert_eq!(opened.verified.len(), signers.len());
        prop_assert_eq!(opened.unverified.len(), usize::from(with_unknown));
        // Only the last key known: still opens, the others are unverified.
        let last = Verifiers::new(vec![Box::new(signers[signers.len() - 1].verifier())]);
        let opened = note::open(&msg, &last).unwrap();
        prop_assert_eq!(opened.verified.len(), 1);
    }
}
