//! A throwaway CA minted in process with `sigil_ca::issue`, for the tests
//! (and `sigil-bench`) that log many fresh certificates without running
//! `sigil-ca`: a root a log is started with (`--ca-root`), an intermediate,
//! and a new leaf, for a new key, on every call of
//! [`TestCa::certificate`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use sigil_ca::issue::{self, CaCertificate};
use sigil_core::entry::{CertificateEntry, EntryBody};

use crate::StartError;

const DAY_MS: u64 = 86_400_000;

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A root and an intermediate, valid from yesterday, and a counter of the
/// leaves issued.
pub struct TestCa {
    root: CaCertificate,
    intermediate: CaCertificate,
    name: String,
    issued: AtomicU64,
}

fn failed(what: &str, e: impl std::fmt::Display) -> StartError {
    StartError(format!("{what}: {e}"))
}

impl TestCa {
    /// A CA named `name` (`"<name> Root"`, `"<name> Intermediate"`).
    ///
    /// # Errors
    ///
    /// If `sigil_ca::issue` refuses (a bug).
    pub fn new(name: &str) -> Result<TestCa, StartError> {
        let year = Duration::from_secs(365 * 86_400);
        let yesterday = now_ms() - DAY_MS;
        let root = issue::new_root(&format!("{name} Root"), yesterday, year * 10)
            .map_err(|e| failed("root", e))?;
        let intermediate =
            issue::new_intermediate(&root, &format!("{name} Intermediate"), yesterday, year)
                .map_err(|e| failed("intermediate", e))?;
        Ok(TestCa {
            root,
            intermediate,
            name: name.to_owned(),
            issued: AtomicU64::new(0),
        })
    }

    /// The root certificate, PEM: what a log is started with.
    pub fn root_pem(&self) -> String {
        sigil_core::pem::certificate_pem(self.root.certificate_der())
    }

    /// A maintainer for the crate `scope`: a fresh P-256 key and its
    /// chain (leaf, intermediate), valid for a day.
    ///
    /// # Errors
    ///
    /// If the key or the certificate cannot be made (a bug).
    pub fn signer(
        &self,
        scope: &str,
    ) -> Result<(p256::ecdsa::SigningKey, Vec<Vec<u8>>), StartError> {
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        let seed = <sha2::Sha256 as sha2::Digest>::digest(format!("{} {n}", self.name).as_bytes());
        let key = p256::ecdsa::SigningKey::from_slice(&seed).map_err(|e| failed("key", e))?;
        let spki = p256::pkcs8::EncodePublicKey::to_public_key_der(key.verifying_key())
            .map_err(|e| failed("key", e))?;
        let leaf = issue::issue_leaf(
            &self.intermediate,
            spki.as_bytes(),
            "maintainer@example.com",
            &[scope.to_owned()],
            now_ms() - 60_000,
            now_ms() + DAY_MS,
            None,
        )
        .map_err(|e| failed("leaf", e))?;
        Ok((
            key,
            vec![leaf, self.intermediate.certificate_der().to_vec()],
        ))
    }

    /// A `certificate` entry never made before: a leaf for a fresh P-256
    /// key, `maintainer@example.com` for the crate `scope`, valid for a day,
    /// and the intermediate.
    ///
    /// # Errors
    ///
    /// If the key or the certificate cannot be made (a bug).
    pub fn certificate(&self, scope: &str) -> Result<EntryBody, StartError> {
        let (_, chain) = self.signer(scope)?;
        Ok(EntryBody::Certificate(CertificateEntry { chain }))
    }
}
