//! P-256 key files (`sigil_keyfile::p256_key`): round trips, every
//! refusal, and interoperability with OpenSSL when `openssl` is on PATH.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair,
};
use p256::pkcs8::EncodePublicKey as _;
use pkcs8::LineEnding;
use pkcs8::der::pem;
use sigil_keyfile::p256_key::{
    KeyError, KeyFileError, P256Key, from_pem, read_key, to_pem, write_key,
};
use sigil_keyfile::secret_file::{self, SecretFileError};

const PASS: &[u8] = b"correct horse battery staple";

fn key_error(e: &KeyFileError) -> &KeyError {
    e.key_error()
        .unwrap_or_else(|| panic!("expected a key error, got {e:?}"))
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn spki(key: &P256Key) -> Vec<u8> {
    key.signing_key()
        .verifying_key()
        .to_public_key_der()
        .unwrap()
        .as_bytes()
        .to_vec()
}

#[test]
fn plain_key_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.key");
    let key = P256Key::generate().unwrap();
    write_key(&path, key.signing_key(), None).unwrap();
    assert_eq!(mode(&path), 0o600);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{text}");
    assert!(text.ends_with("-----END PRIVATE KEY-----\n"), "{text}");

    let back = read_key(&path, None).unwrap();
    assert_eq!(back.pkcs8_der(), key.pkcs8_der());
    assert_eq!(back.signing_key(), key.signing_key());
    // A passphrase for an unencrypted key is ignored, as OpenSSL does.
    let back = read_key(&path, Some(PASS)).unwrap();
    assert_eq!(back.pkcs8_der(), key.pkcs8_der());
}

/// Encrypting and then decrypting costs two scrypt runs (N = 2^14, r = 8).
#[test]
fn encrypted_key_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.key");
    let key = P256Key::generate().unwrap();
    let start = Instant::now();
    write_key(&path, key.signing_key(), Some(PASS)).unwrap();
    let encrypted = start.elapsed();
    assert_eq!(mode(&path), 0o600);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    let start = Instant::now();
    let back = read_key(&path, Some(PASS)).unwrap();
    let decrypted = start.elapsed();
    eprintln!("scrypt: encrypt {encrypted:?}, decrypt {decrypted:?}");
    assert_eq!(back.pkcs8_der(), key.pkcs8_der());
    // Two encryptions of one key differ (random salt and IV).
    let again = to_pem(key.signing_key(), Some(PASS)).unwrap();
    assert_ne!(again.as_str(), text);
}

#[test]
fn wrong_passphrase_is_refused() {
    let key = P256Key::generate().unwrap();
    let text = to_pem(key.signing_key(), Some(PASS)).unwrap();
    for wrong in [
        &b"correct horse battery stapl"[..],
        b"x",
        b"Correct horse battery staple",
    ] {
        assert_eq!(
            from_pem(text.as_bytes(), Some(wrong)).unwrap_err(),
            KeyError::WrongPassphrase,
            "{wrong:?}"
        );
    }
}

#[test]
fn encrypted_key_without_passphrase_says_how_to_give_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.key");
    let key = P256Key::generate().unwrap();
    write_key(&path, key.signing_key(), Some(PASS)).unwrap();
    let e = read_key(&path, None).unwrap_err();
    assert_eq!(key_error(&e), &KeyError::PassphraseRequired);
    assert_eq!(
        e.to_string(),
        format!(
            "{}: the key is encrypted; pass --passphrase-file or set SIGIL_PASSPHRASE",
            path.display()
        )
    );
}

#[test]
fn empty_passphrase_is_refused_for_writing() {
    let key = P256Key::generate().unwrap();
    assert_eq!(
        to_pem(key.signing_key(), Some(b"")).unwrap_err(),
        KeyError::EmptyPassphrase
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.key");
    assert!(write_key(&path, key.signing_key(), Some(b"")).is_err());
    assert!(!path.exists());
}

#[test]
fn group_or_world_readable_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.key");
    let key = P256Key::generate().unwrap();
    write_key(&path, key.signing_key(), None).unwrap();
    for bad in [0o640, 0o644, 0o604] {
        fs::set_permissions(&path, fs::Permissions::from_mode(bad)).unwrap();
        let e = read_key(&path, None).unwrap_err();
        assert!(
            matches!(&e, KeyFileError::File(SecretFileError::TooOpen { mode, .. }) if *mode == bad),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .contains(&format!("chmod 600 {}", path.display()))
        );
    }
}

#[test]
fn existing_key_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.key");
    let first = P256Key::generate().unwrap();
    write_key(&path, first.signing_key(), None).unwrap();
    let second = P256Key::generate().unwrap();
    let e = write_key(&path, second.signing_key(), None).unwrap_err();
    assert!(
        matches!(&e, KeyFileError::File(SecretFileError::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists),
        "{e:?}"
    );
    assert_eq!(
        read_key(&path, None).unwrap().pkcs8_der(),
        first.pkcs8_der()
    );
}

#[test]
fn debug_does_not_print_the_key() {
    let key = P256Key::generate().unwrap();
    let debug = format!("{key:?}");
    assert!(debug.contains("elided"), "{debug}");
    assert!(!debug.contains(&hex::encode(key.pkcs8_der())), "{debug}");
}

fn pem_of(label: &str, der: &[u8]) -> String {
    pem::encode_string(label, LineEnding::LF, der).unwrap()
}

#[test]
fn other_key_types_are_refused() {
    let rng = SystemRandom::new();
    let ed25519 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let p384 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_ASN1_SIGNING, &rng).unwrap();
    for (name, der) in [("ed25519", ed25519.as_ref()), ("p384", p384.as_ref())] {
        let e = from_pem(pem_of("PRIVATE KEY", der).as_bytes(), None).unwrap_err();
        assert!(matches!(e, KeyError::WrongKeyType { .. }), "{name}: {e:?}");
        assert!(e.to_string().contains("ec_paramgen_curve:P-256"), "{e}");
        assert!(matches!(
            P256Key::from_pkcs8_der(der),
            Err(KeyError::WrongKeyType { .. })
        ));
    }
    // aws-lc-rs's own P-256 PKCS#8 is fine.
    let p256 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    from_pem(pem_of("PRIVATE KEY", p256.as_ref()).as_bytes(), None).unwrap();
}

#[test]
fn garbage_is_refused_with_the_right_error() {
    let key = P256Key::generate().unwrap();
    let der = key.pkcs8_der();
    type Check = fn(&KeyError) -> bool;
    let not_pem: Check = |e| matches!(e, KeyError::NotPem { .. });
    let malformed: Check = |e| matches!(e, KeyError::Malformed { .. });
    let label: Check = |e| matches!(e, KeyError::UnexpectedLabel { .. });
    let rows: Vec<(&str, String, Check)> = vec![
        ("empty", String::new(), not_pem),
        ("text", "hello".into(), not_pem),
        ("der", String::from_utf8_lossy(der).into_owned(), not_pem),
        (
            "no end",
            "-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n".into(),
            not_pem,
        ),
        (
            "bad base64",
            "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n".into(),
            not_pem,
        ),
        ("empty body", pem_of("PRIVATE KEY", b""), not_pem),
        ("not der", pem_of("PRIVATE KEY", b"hello"), malformed),
        (
            "truncated der",
            pem_of("PRIVATE KEY", &der[..der.len() - 1]),
            malformed,
        ),
        (
            "trailing der",
            pem_of("PRIVATE KEY", &[der, &[0][..]].concat()),
            malformed,
        ),
        (
            "encrypted not der",
            pem_of("ENCRYPTED PRIVATE KEY", b"hello"),
            malformed,
        ),
        (
            "encrypted plain der",
            pem_of("ENCRYPTED PRIVATE KEY", der),
            malformed,
        ),
        ("sec1", pem_of("EC PRIVATE KEY", b"x"), label),
        ("certificate", pem_of("CERTIFICATE", der), label),
    ];
    for (name, text, check) in rows {
        let e = from_pem(text.as_bytes(), Some(PASS)).unwrap_err();
        assert!(check(&e), "{name}: {e:?}");
    }
    let e = from_pem(pem_of("EC PRIVATE KEY", b"x").as_bytes(), None).unwrap_err();
    assert!(e.to_string().contains("openssl pkcs8 -topk8"), "{e}");
}

#[test]
fn truncated_and_bit_flipped_plain_keys_never_panic() {
    let key = P256Key::generate().unwrap();
    let text = to_pem(key.signing_key(), None).unwrap();
    let bytes = text.as_bytes();
    for len in 0..bytes.len() {
        // Cutting the final newline still leaves a valid block.
        let result = from_pem(&bytes[..len], None);
        assert!(result.is_err() || len + 1 == bytes.len(), "len {len}");
    }
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.to_vec();
            flipped[i] ^= 1 << bit;
            if let Ok(k) = from_pem(&flipped, None) {
                // Some flips land in bits base64 ignores or in the embedded
                // public key; whatever loads must be a P-256 key.
                assert_eq!(k.pkcs8_der().len(), key.pkcs8_der().len());
            }
        }
    }
}

#[test]
fn damaged_encrypted_keys_are_refused() {
    let key = P256Key::generate().unwrap();
    let text = to_pem(key.signing_key(), Some(PASS)).unwrap();
    let (_, der) = pem::decode_vec(text.as_bytes()).unwrap();
    // The last byte is ciphertext (its final block, carrying the padding);
    // byte 30 sits in the PBES2 parameters.
    for i in [der.len() - 1, der.len() - 20, 30] {
        let mut damaged = der.clone();
        damaged[i] ^= 0x01;
        let e = from_pem(
            pem_of("ENCRYPTED PRIVATE KEY", &damaged).as_bytes(),
            Some(PASS),
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                KeyError::WrongPassphrase
                    | KeyError::Malformed { .. }
                    | KeyError::UnsupportedEncryption { .. }
            ),
            "byte {i}: {e:?}"
        );
    }
    for len in [1, 10, der.len() / 2, der.len() - 1] {
        let e = from_pem(
            pem_of("ENCRYPTED PRIVATE KEY", &der[..len]).as_bytes(),
            Some(PASS),
        )
        .unwrap_err();
        assert!(matches!(e, KeyError::Malformed { .. }), "len {len}: {e:?}");
    }
}

// OpenSSL interoperability. Skipped (with a note) when `openssl` is absent.

fn openssl() -> Option<Command> {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("openssl not on PATH; skipping the interoperability test");
    }
    ok.then(|| Command::new("openssl"))
}

fn run(mut cmd: Command) -> Vec<u8> {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn private(path: PathBuf) -> PathBuf {
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path
}

#[test]
fn openssl_reads_our_encrypted_key() {
    let Some(mut cmd) = openssl() else { return };
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("ca.key");
    let pass_path = dir.path().join("pass");
    secret_file::write_secret(&pass_path, PASS).unwrap();
    let key = P256Key::generate().unwrap();
    write_key(&key_path, key.signing_key(), Some(PASS)).unwrap();
    cmd.arg("pkey")
        .arg("-in")
        .arg(&key_path)
        .arg("-passin")
        .arg(format!("file:{}", pass_path.display()))
        .args(["-pubout", "-outform", "DER"]);
    assert_eq!(run(cmd), spki(&key));

    // And refuses it with another passphrase, so the check above means
    // something.
    let wrong_path = dir.path().join("wrong");
    secret_file::write_secret(&wrong_path, b"wrong").unwrap();
    let out = Command::new("openssl")
        .arg("pkey")
        .arg("-in")
        .arg(&key_path)
        .arg("-passin")
        .arg(format!("file:{}", wrong_path.display()))
        .arg("-noout")
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn we_read_openssl_keys() {
    let Some(mut genpkey) = openssl() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plain = d.join("plain.key");
    genpkey
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .arg("-out")
        .arg(&plain);
    run(genpkey);
    let plain = private(plain);
    let pass_path = d.join("pass");
    secret_file::write_secret(&pass_path, b"openssl pass\n").unwrap();
    let passin = format!("file:{}", pass_path.display());

    let mut pubout = Command::new("openssl");
    pubout
        .arg("pkey")
        .arg("-in")
        .arg(&plain)
        .args(["-pubout", "-outform", "DER"]);
    let want_spki = run(pubout);

    let key = read_key(&plain, None).unwrap();
    assert_eq!(spki(&key), want_spki);

    // Encrypted by OpenSSL with PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC,
    // and scrypt + AES-256-CBC.
    let encryptions: [(&str, &[&str]); 2] = [
        ("pbkdf2.key", &["-v2", "aes-256-cbc"]),
        ("scrypt.key", &["-scrypt", "-v2", "aes-256-cbc"]),
    ];
    for (name, args) in encryptions {
        let out = d.join(name);
        let mut topk8 = Command::new("openssl");
        topk8
            .args(["pkcs8", "-topk8"])
            .args(args)
            .arg("-in")
            .arg(&plain)
            .arg("-passout")
            .arg(&passin)
            .arg("-out")
            .arg(&out);
        run(topk8);
        let out = private(out);
        assert!(
            fs::read_to_string(&out)
                .unwrap()
                .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        );
        let back = read_key(&out, Some(b"openssl pass")).unwrap();
        assert_eq!(back.pkcs8_der(), key.pkcs8_der(), "{name}");
        assert_eq!(
            key_error(&read_key(&out, None).unwrap_err()),
            &KeyError::PassphraseRequired
        );
        assert_eq!(
            key_error(&read_key(&out, Some(b"nope")).unwrap_err()),
            &KeyError::WrongPassphrase,
            "{name}"
        );
    }

    // PBES1 (PKCS#5 v1.5 / PKCS#12 PBE) is refused as unsupported.
    let pbes1 = d.join("pbes1.key");
    let mut topk8 = Command::new("openssl");
    topk8
        .args(["pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES"])
        .arg("-in")
        .arg(&plain)
        .arg("-passout")
        .arg(&passin)
        .arg("-out")
        .arg(&pbes1);
    if topk8.output().is_ok_and(|o| o.status.success()) {
        let e = read_key(&private(pbes1), Some(b"openssl pass")).unwrap_err();
        assert!(
            matches!(key_error(&e), KeyError::UnsupportedEncryption { .. }),
            "{e:?}"
        );
    }

    // SEC1 "EC PRIVATE KEY" gets a conversion hint.
    let sec1 = d.join("sec1.key");
    let mut ec = Command::new("openssl");
    ec.arg("ec").arg("-in").arg(&plain).arg("-out").arg(&sec1);
    run(ec);
    let e = read_key(&private(sec1), None).unwrap_err();
    assert!(
        matches!(key_error(&e), KeyError::UnexpectedLabel { .. }),
        "{e:?}"
    );
}
