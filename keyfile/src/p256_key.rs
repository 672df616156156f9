//! ECDSA P-256 private keys on disk, as PKCS#8 PEM: the CA's root and
//! intermediate keys and a maintainer's signing key.
//!
//! * Unencrypted: RFC 5958 §2 `OneAsymmetricKey` (PKCS#8 `PrivateKeyInfo`)
//!   in an RFC 7468 §10 `PRIVATE KEY` block; the key is RFC 5915 §3
//!   `ECPrivateKey` with algorithm `id-ecPublicKey` and named curve
//!   `prime256v1` (RFC 5480 §2.1.1).
//! * Encrypted with a passphrase: RFC 5958 §3 `EncryptedPrivateKeyInfo` in
//!   an RFC 7468 §11 `ENCRYPTED PRIVATE KEY` block. Sigil writes PBES2 (RFC
//!   8018 §6.2) with scrypt (RFC 7914 §7: N = 2^14, r = 8, p = 1, a 16-byte
//!   random salt) and AES-256-CBC, the `pkcs8` crate's recommended
//!   parameters, which OpenSSL 3 reads (`openssl pkey -in key.pem`). It
//!   reads PBES2 with scrypt or PBKDF2 (HMAC-SHA-256 and friends) and AES-CBC
//!   or AES-GCM, which covers `openssl pkcs8 -topk8 -v2 aes-256-cbc`; PBES1
//!   and DES are refused.
//!
//! Files are written with mode 0600 and never overwritten, and a key file
//! (or passphrase file) that group or others may read is refused
//! ([`crate::secret_file`]).
//!
//! Example (unencrypted; base64 shortened):
//!
//! ```text
//! -----BEGIN PRIVATE KEY-----
//! MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg...
//! -----END PRIVATE KEY-----
//! ```
//!
//! Cost: encrypting or decrypting costs one scrypt (16 MiB of memory, tens
//! of milliseconds optimised); it happens once per start.

use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStringExt as _;
use std::path::Path;

use crate::secret_file::{self, SecretFileError};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use p256::ecdsa::SigningKey;
use pkcs8::der::asn1::AnyRef;
use pkcs8::der::{Decode as _, Reader as _, SliceReader, pem};
use pkcs8::pkcs5::pbes2;
use pkcs8::{
    AlgorithmIdentifierRef, DecodePrivateKey as _, EncodePrivateKey as _,
    EncryptedPrivateKeyInfoRef, LineEnding, ObjectIdentifier, PrivateKeyInfoRef,
};
use zeroize::Zeroizing;

/// `id-ecPublicKey` (RFC 5480 §2.1.1).
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `secp256r1`, also called `prime256v1` (RFC 5480 §2.1.1.1).
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// RFC 7468 §10 label of an unencrypted PKCS#8 key.
const LABEL_PRIVATE_KEY: &str = "PRIVATE KEY";
/// RFC 7468 §11 label of an encrypted PKCS#8 key.
const LABEL_ENCRYPTED_PRIVATE_KEY: &str = "ENCRYPTED PRIVATE KEY";

/// The environment variable the CA reads a passphrase from when no
/// `--passphrase-file` is given.
pub const PASSPHRASE_ENV: &str = "SIGIL_PASSPHRASE";

/// Why a key could not be encoded or decoded (no file involved).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not one RFC 7468 PEM block.
    #[error("not a PEM private key ({reason}); expected a PKCS#8 \"PRIVATE KEY\" block")]
    NotPem {
        /// What the PEM parser said.
        reason: String,
    },
    /// A PEM block with another label than `PRIVATE KEY` or
    /// `ENCRYPTED PRIVATE KEY`.
    #[error("a PEM \"{label}\" block is not a PKCS#8 private key{hint}")]
    UnexpectedLabel {
        /// The block's label.
        label: String,
        /// How to convert it, if known.
        hint: &'static str,
    },
    /// The DER inside the block is not a PKCS#8 key.
    #[error("malformed PKCS#8 key: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The key is encrypted and no passphrase was given.
    #[error("the key is encrypted; pass --passphrase-file or set SIGIL_PASSPHRASE")]
    PassphraseRequired,
    /// The passphrase does not decrypt the key (RFC 8018 §6.2.2 step 5:
    /// bad padding, or the plaintext is not DER).
    #[error("wrong passphrase: it does not decrypt the key")]
    WrongPassphrase,
    /// The key is encrypted with a scheme this build cannot decrypt
    /// (PBES1, DES, a PRF other than HMAC-SHA-2...).
    #[error(
        "unsupported key encryption ({reason}); re-encrypt with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
    )]
    UnsupportedEncryption {
        /// What the PKCS#5 decoder said.
        reason: String,
    },
    /// The key is a PKCS#8 key of another algorithm or curve.
    #[error(
        "the key is not an ECDSA P-256 key (algorithm {algorithm}); make one with `sigil-ca init` or `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`"
    )]
    WrongKeyType {
        /// The algorithm (and curve) OIDs found.
        algorithm: String,
    },
    /// An empty passphrase was given to encrypt a key.
    #[error("refusing to encrypt a key with an empty passphrase")]
    EmptyPassphrase,
    /// Encoding or encrypting the key failed.
    #[error("cannot encode the key: {reason}")]
    Encode {
        /// What failed.
        reason: String,
    },
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// Why a key file or passphrase could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file cannot be read or written, or others may read it.
    #[error(transparent)]
    File(#[from] SecretFileError),
    /// The file does not hold a usable key.
    #[error("{path}: {source}")]
    Key {
        /// The file.
        path: String,
        /// What is wrong with the key.
        source: KeyError,
    },
    /// A key could not be encoded for writing.
    #[error("{0}")]
    Encode(KeyError),
    /// The passphrase file's first line, or the passphrase environment
    /// variable, is empty.
    #[error("the passphrase from {from} is empty")]
    EmptyPassphrase {
        /// The file, or `$VARIABLE`.
        from: String,
    },
}

impl KeyFileError {
    /// The key problem, if the error is one (not a file error).
    pub fn key_error(&self) -> Option<&KeyError> {
        match self {
            KeyFileError::Key { source, .. } => Some(source),
            KeyFileError::Encode(e) => Some(e),
            _ => None,
        }
    }
}

/// An ECDSA P-256 private key, both as a p256 signing key (revocations)
/// and as unencrypted PKCS#8 DER (RFC 5958), the form rcgen and
/// `sigil_ca::CaCertificate::from_parts` take. `Debug` does not print it;
/// both forms are wiped when dropped.
#[derive(Clone)]
pub struct P256Key {
    signing_key: SigningKey,
    pkcs8_der: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for P256Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("P256Key")
            .field("verifying_key", &hex::encode(self.public_key_sec1()))
            .field("pkcs8_der", &"[secret key elided]")
            .finish()
    }
}

impl P256Key {
    /// Generates a new key with the system random number generator
    /// (aws-lc-rs).
    pub fn generate() -> Result<Self, KeyError> {
        let doc =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
                .map_err(|_| KeyError::Random)?;
        Self::from_pkcs8_der(doc.as_ref())
    }

    /// Loads an unencrypted PKCS#8 key (RFC 5958 §2), refusing any key but
    /// ECDSA P-256 (RFC 5480 §2.1.1). The DER is re-encoded by p256, so
    /// [`P256Key::pkcs8_der`] is the same for the same key whichever tool
    /// wrote it.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = PrivateKeyInfoRef::try_from(der).map_err(|e| KeyError::Malformed {
            reason: e.to_string(),
        })?;
        let algorithm = info.algorithm.oid;
        let curve = info.algorithm.parameters_oid().ok();
        if algorithm != ID_EC_PUBLIC_KEY || curve != Some(SECP256R1) {
            return Err(KeyError::WrongKeyType {
                algorithm: match curve {
                    Some(curve) => format!("{algorithm} {curve}"),
                    None => algorithm.to_string(),
                },
            });
        }
        let signing_key = SigningKey::from_pkcs8_der(der).map_err(|e| KeyError::Malformed {
            reason: e.to_string(),
        })?;
        let pkcs8_der = signing_key
            .to_pkcs8_der()
            .map_err(|e| KeyError::Encode {
                reason: e.to_string(),
            })?
            .to_bytes();
        Ok(P256Key {
            signing_key,
            pkcs8_der,
        })
    }

    /// The p256 signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    /// The key as unencrypted PKCS#8 DER (RFC 5958 §2). Handle with care.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8_der
    }

    /// The public key as an uncompressed SEC1 point (SEC 1 v2 §2.3.3).
    pub fn public_key_sec1(&self) -> Vec<u8> {
        self.signing_key
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec()
    }
}

/// Encodes `key` as PKCS#8 PEM: RFC 7468 §10 `PRIVATE KEY` without a
/// passphrase, RFC 7468 §11 `ENCRYPTED PRIVATE KEY` (PBES2, scrypt,
/// AES-256-CBC; RFC 8018 §6.2) with one. Lines end in `\n`.
pub fn to_pem(key: &SigningKey, passphrase: Option<&[u8]>) -> Result<Zeroizing<String>, KeyError> {
    let encode = |e: pkcs8::Error| KeyError::Encode {
        reason: e.to_string(),
    };
    match passphrase {
        None => key.to_pkcs8_pem(LineEnding::LF).map_err(encode),
        Some([]) => Err(KeyError::EmptyPassphrase),
        Some(passphrase) => key
            .to_pkcs8_encrypted_pem(passphrase, LineEnding::LF)
            .map_err(|e| match e {
                pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::Rng) => KeyError::Random,
                e => encode(e),
            }),
    }
}

/// Decodes a PKCS#8 PEM key written by [`to_pem`] or OpenSSL (RFC 7468
/// §10 or §11), decrypting it with `passphrase` if it is encrypted.
///
/// A passphrase given for an unencrypted key is ignored, as OpenSSL does,
/// so that one `SIGIL_PASSPHRASE` can serve keys of both kinds.
pub fn from_pem(pem_text: &[u8], passphrase: Option<&[u8]>) -> Result<P256Key, KeyError> {
    let label = pem::decode_label(pem_text).map_err(|e| KeyError::NotPem {
        reason: e.to_string(),
    })?;
    let encrypted = match label {
        LABEL_PRIVATE_KEY => false,
        LABEL_ENCRYPTED_PRIVATE_KEY => true,
        "EC PRIVATE KEY" => {
            return Err(KeyError::UnexpectedLabel {
                label: label.to_string(),
                hint: " (it is SEC1; convert it with `openssl pkcs8 -topk8 -nocrypt`)",
            });
        }
        _ => {
            return Err(KeyError::UnexpectedLabel {
                label: label.to_string(),
                hint: "",
            });
        }
    };
    let der = pem::decode_vec(pem_text)
        .map(|(_, der)| Zeroizing::new(der))
        .map_err(|e| KeyError::NotPem {
            reason: e.to_string(),
        })?;
    if !encrypted {
        return P256Key::from_pkcs8_der(&der);
    }
    let passphrase = passphrase.ok_or(KeyError::PassphraseRequired)?;
    let info = EncryptedPrivateKeyInfoRef::try_from(der.as_slice()).map_err(|e| {
        match encryption_scheme_oid(&der) {
            Some(oid) if oid != pbes2::PBES2_OID => KeyError::UnsupportedEncryption {
                reason: format!("scheme {oid}, not PBES2"),
            },
            _ => KeyError::Malformed {
                reason: e.to_string(),
            },
        }
    })?;
    let plain = info.decrypt(passphrase).map_err(|e| match e {
        // Bad padding, or a plaintext that is not DER: a wrong passphrase
        // (or a damaged file, which the same message covers well enough).
        pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::DecryptFailed)
        | pkcs8::Error::Asn1(_) => KeyError::WrongPassphrase,
        e => KeyError::UnsupportedEncryption {
            reason: e.to_string(),
        },
    })?;
    P256Key::from_pkcs8_der(plain.as_bytes())
}

/// The `encryptionAlgorithm` OID of an `EncryptedPrivateKeyInfo` (RFC
/// 5958 §3), read without decoding its parameters, to name a scheme the
/// PKCS#5 decoder does not know (PBES1, PKCS#12 PBE).
fn encryption_scheme_oid(der: &[u8]) -> Option<ObjectIdentifier> {
    let mut reader = SliceReader::new(der).ok()?;
    reader
        .sequence(|r| {
            let algorithm = AlgorithmIdentifierRef::decode(r)?;
            let _data = AnyRef::decode(r)?;
            Ok::<_, pkcs8::der::Error>(algorithm.oid)
        })
        .ok()
}

/// Writes `key` to a new file at `path` with mode 0600, encrypted if a
/// passphrase is given ([`to_pem`]). Never overwrites.
pub fn write_key(
    path: &Path,
    key: &SigningKey,
    passphrase: Option<&[u8]>,
) -> Result<(), KeyFileError> {
    let pem_text = to_pem(key, passphrase).map_err(KeyFileError::Encode)?;
    secret_file::write_secret(path, pem_text.as_bytes())?;
    Ok(())
}

/// Reads a key written by [`write_key`] (or OpenSSL; see [`from_pem`]),
/// refusing a file that group or others may read.
pub fn read_key(path: &Path, passphrase: Option<&[u8]>) -> Result<P256Key, KeyFileError> {
    let pem_text = Zeroizing::new(secret_file::read_secret(path)?);
    from_pem(&pem_text, passphrase).map_err(|source| KeyFileError::Key {
        path: path.display().to_string(),
        source,
    })
}

/// The passphrase for a key: the first line of `file` (its line ending
/// removed; the file must be mode 0600 like a key) if given, else the
/// value of the environment variable `env_var` if set, else `None`. An
/// empty passphrase from either source is an error, so that a blank
/// variable never silently means "no encryption".
pub fn read_passphrase(
    file: Option<&Path>,
    env_var: &str,
) -> Result<Option<Zeroizing<Vec<u8>>>, KeyFileError> {
    passphrase_from(file, env_var, std::env::var_os(env_var))
}

/// [`read_passphrase`] with the environment variable's value passed in
/// (tests cannot set variables without `unsafe`).
fn passphrase_from(
    file: Option<&Path>,
    env_var: &str,
    env_value: Option<OsString>,
) -> Result<Option<Zeroizing<Vec<u8>>>, KeyFileError> {
    let (passphrase, from) = match (file, env_value) {
        (Some(path), _) => {
            let bytes = Zeroizing::new(secret_file::read_secret(path)?);
            let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            (Zeroizing::new(line.to_vec()), path.display().to_string())
        }
        (None, Some(value)) => (Zeroizing::new(value.into_vec()), format!("${env_var}")),
        (None, None) => return Ok(None),
    };
    if passphrase.is_empty() {
        return Err(KeyFileError::EmptyPassphrase { from });
    }
    Ok(Some(passphrase))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn secret(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        secret_file::write_secret(&path, bytes).unwrap();
        path
    }

    #[test]
    fn passphrase_file_gives_its_first_line() {
        let dir = tempfile::tempdir().unwrap();
        for (contents, want) in [
            (&b"hunter2"[..], &b"hunter2"[..]),
            (b"hunter2\n", b"hunter2"),
            (b"hunter2\r\n", b"hunter2"),
            (b"hunter2\nsecond line\n", b"hunter2"),
            (b" spaces kept \n", b" spaces kept "),
        ] {
            let path = secret(dir.path(), &hex::encode(contents), contents);
            // The file wins over the variable.
            let got = passphrase_from(Some(&path), "V", Some("env".into())).unwrap();
            assert_eq!(
                got.as_deref().map(Vec::as_slice),
                Some(want),
                "{contents:?}"
            );
        }
    }

    #[test]
    fn passphrase_from_the_environment_or_none() {
        let got = passphrase_from(None, "V", Some("from env".into())).unwrap();
        assert_eq!(got.as_deref().map(Vec::as_slice), Some(&b"from env"[..]));
        assert!(passphrase_from(None, "V", None).unwrap().is_none());
        // The real environment: a variable nobody sets.
        assert!(
            read_passphrase(None, "SIGIL_TEST_UNSET_PASSPHRASE_VARIABLE")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn empty_passphrases_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for contents in [&b""[..], b"\n", b"\r\n", b"\nsecond"] {
            let path = secret(dir.path(), &format!("p{}", hex::encode(contents)), contents);
            let e = passphrase_from(Some(&path), "V", None).unwrap_err();
            assert!(
                matches!(e, KeyFileError::EmptyPassphrase { .. }),
                "{contents:?}"
            );
        }
        let e = passphrase_from(None, "SIGIL_PASSPHRASE", Some("".into())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the passphrase from $SIGIL_PASSPHRASE is empty"
        );
    }

    #[test]
    fn passphrase_file_must_be_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = secret(dir.path(), "pass", b"hunter2\n");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = passphrase_from(Some(&path), "V", None).unwrap_err();
        assert!(
            matches!(
                e,
                KeyFileError::File(SecretFileError::TooOpen { mode: 0o644, .. })
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("chmod 600"), "{e}");
    }
}
