//! A CA directory on disk, as `sigil-ca init` makes it and `sigil-ca
//! serve` (and `sigil quickstart`) reads it:
//!
//! | file | what | mode |
//! |---|---|---|
//! | `root.pem`, `root.key` | the self-signed root and its key (keep the key offline) | 0644, 0600 |
//! | `intermediate.pem`, `intermediate.key` | the online intermediate and its key | 0644, 0600 |
//! | `admin.token` | the admin bearer token | 0600 |
//!
//! Keys are PKCS#8 PEM (RFC 5958), encrypted when a passphrase is given
//! (`sigil_keyfile::p256_key`); certificates are PEM (RFC 7468 §5).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use sigil_core::pem::certificate_pem;
use sigil_keyfile::p256_key::{self as keyfile, KeyFileError};
use sigil_keyfile::secret_file::{self, SecretFileError};
use sigil_verifier::VerifyError;
use sigil_verifier::x509::Certificate;

use crate::invite::AdminToken;
use crate::{CaCertificate, CaError, new_intermediate, new_root};

/// Why a CA directory could not be made or read; each message names the
/// file and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The intermediate would outlive the root.
    #[error("the intermediate may not outlive the root: give it fewer days")]
    IntermediateOutlivesRoot,
    /// `init` was pointed at a directory that holds files.
    #[error("{} exists and is not empty; choose a new directory", .0.display())]
    NotEmpty(PathBuf),
    /// A file or directory could not be read or made.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A key or token file could not be written or read, or others can
    /// read it.
    #[error(transparent)]
    File(#[from] SecretFileError),
    /// A key file does not hold a usable CA key.
    #[error(transparent)]
    Key(#[from] KeyFileError),
    /// Making a certificate, key or token failed.
    #[error(transparent)]
    Ca(#[from] CaError),
    /// A file does not hold what it should (a PEM certificate, a token).
    #[error("{}: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// Creates a CA in the new (or empty) directory `out`: root `<name> Root`
/// valid `root_days`, intermediate `<name> Intermediate` valid
/// `intermediate_days`, keys encrypted with `passphrase` if given, and an
/// admin token. Returns a summary for the operator.
///
/// # Errors
///
/// [`SetupError`]; nothing is overwritten (key files are created
/// exclusively).
pub fn init(
    out: &Path,
    name: &str,
    pass: Option<&[u8]>,
    root_days: u64,
    intermediate_days: u64,
    now: u64,
) -> Result<String, SetupError> {
    if intermediate_days > root_days {
        return Err(SetupError::IntermediateOutlivesRoot);
    }
    if std::fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(SetupError::NotEmpty(out.to_path_buf()));
    }
    std::fs::create_dir_all(out).map_err(|source| SetupError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let day = Duration::from_secs(86_400);
    let root_name = format!("{name} Root");
    let intermediate_name = format!("{name} Intermediate");
    let root = new_root(
        &root_name,
        now,
        day * u32::try_from(root_days).unwrap_or(u32::MAX),
    )?;
    let intermediate = new_intermediate(
        &root,
        &intermediate_name,
        now,
        day * u32::try_from(intermediate_days).unwrap_or(u32::MAX),
    )?;
    for (stem, ca) in [("root", &root), ("intermediate", &intermediate)] {
        let key =
            keyfile::P256Key::from_pkcs8_der(ca.key_pkcs8_der()).map_err(KeyFileError::Encode)?;
        keyfile::write_key(&out.join(format!("{stem}.key")), key.signing_key(), pass)?;
        secret_file::write_public(
            &out.join(format!("{stem}.pem")),
            certificate_pem(ca.certificate_der()).as_bytes(),
        )?;
    }
    let admin = crate::invite::new_admin_token()?;
    secret_file::write_secret(
        &out.join("admin.token"),
        format!("{}\n", &*admin).as_bytes(),
    )?;
    Ok(format!(
        "created {dir}:\n  root.pem, root.key          {root_name} (keep root.key offline: serve does not need it)\n  intermediate.pem, .key      {intermediate_name} (online; signs leaves and revocations)\n  admin.token                 bearer token for invite/revoke (mode 0600)\nkeys are {enc}, mode 0600\nroot SHA-256 fingerprint: {fp}",
        dir = out.display(),
        enc = if pass.is_some() {
            "encrypted with the passphrase"
        } else {
            "NOT encrypted (use --passphrase-file to encrypt them)"
        },
        fp = fingerprint(root.certificate_der()),
    ))
}

/// Loads `<stem>.pem` and `<stem>.key` from a CA directory, checking that
/// they belong together.
pub fn load_ca(
    dir: &Path,
    stem: &str,
    passphrase: Option<&[u8]>,
) -> Result<CaCertificate, SetupError> {
    let cert_path = dir.join(format!("{stem}.pem"));
    let key_path = dir.join(format!("{stem}.key"));
    let der = read_certificate(&cert_path)?;
    let key = keyfile::read_key(&key_path, passphrase)?;
    CaCertificate::from_parts(der, key.pkcs8_der().to_vec()).map_err(|e| SetupError::Malformed {
        path: key_path.clone(),
        reason: format!("it is not the key of {}: {e}", cert_path.display()),
    })
}

/// The first PEM certificate in `path`, DER.
pub fn read_certificate(path: &Path) -> Result<Vec<u8>, SetupError> {
    let pem = std::fs::read(path).map_err(|source| SetupError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let der = CertificateDer::from_pem_slice(&pem).map_err(|e| SetupError::Malformed {
        path: path.to_path_buf(),
        reason: format!("not a PEM certificate: {e}"),
    })?;
    Ok(der.to_vec())
}

/// The admin token file (mode 0600, refused otherwise).
pub fn read_admin_token(path: &Path) -> Result<AdminToken, SetupError> {
    let malformed = |reason: String| SetupError::Malformed {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = secret_file::read_secret(path)?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| malformed("the admin token is not text".into()))?;
    AdminToken::from_file_text(&text).map_err(|e| malformed(e.to_string()))
}

/// SHA-256 of a certificate, colon-separated hex (as `openssl x509
/// -fingerprint -sha256` prints it).
pub fn fingerprint(der: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
    d.as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The root as a PEM block preceded by comment lines naming it: what a
/// client passes to `sigil trust-root --ca-root` (PEM readers skip text
/// outside the block, RFC 7468 §2).
pub fn trust_root_snippet(root_der: &[u8]) -> Result<String, SetupError> {
    let cert =
        Certificate::parse(root_der).map_err(|e| SetupError::Ca(CaError::BadCertificate(e)))?;
    if !cert.is_ca() {
        return Err(SetupError::Ca(CaError::BadCertificate(VerifyError::NotCa)));
    }
    Ok(format!(
        "# Sigil CA root certificate: pin it with `sigil trust-root --ca-root FILE`.\n\
         # SHA-256 fingerprint {fp}\n\
         # valid until {until} (Unix s); check the fingerprint with the CA operator out of band.\n{pem}",
        fp = fingerprint(root_der),
        until = cert.not_after(),
        pem = certificate_pem(root_der)
    ))
}
