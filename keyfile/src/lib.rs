//! sigil-keyfile: files that keep their promises. A private key is
//! readable by its owner only: created `0600` with `O_EXCL` (never
//! overwritten, never through a symlink), its mode checked on the open
//! handle before a byte is read; a state file is replaced whole and
//! durably, never torn. Every Sigil program that writes a key or a state
//! file (`sigil-ca`, `sigil-log`, `sigil-witness`, `sigil`) goes through
//! here, so they keep one rule.
//!
//! | module | guarantee |
//! |---|---|
//! | [`secret_file`] | secrets `0600`, public files `0644`, exclusive create, `fsync`; a secret others can read is refused (POSIX.1-2017 `open(2)`, `fstat(2)`) |
//! | [`p256_key`] | ECDSA P-256 keys as PKCS#8 PEM (RFC 5958, RFC 7468), optionally encrypted with PBES2 (RFC 8018 §6.2; scrypt, AES-256-CBC); passphrases from a `0600` file or the environment |
//! | [`note_key`] | signed-note keys (C2SP `signed-note`): the log's Ed25519 key and a witness's `cosignature/v1` key, with their verifier key lines |
//! | [`durable_file`] | replace a file atomically and durably: temp, `fsync`, `rename(2)`, `fsync` of the directory |
//!
//! Unix only. Secrets read into memory are wiped when dropped (`zeroize`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod durable_file;
pub mod note_key;
pub mod p256_key;
pub mod secret_file;
