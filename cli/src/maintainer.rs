//! The maintainer's commands: `sigil keygen`, `sigil enroll`, `sigil sign`
//! (DESIGN.md "Interfaces").
//!
//! * A key is ECDSA P-256, PKCS#8 PEM (RFC 5958), mode 0600, optionally
//!   encrypted with a passphrase (`sigil_keyfile::p256_key`).
//! * Enrolling sends a PKCS#10 request (RFC 2986) signed by that key, which
//!   proves possession; the certificate file written is the leaf followed
//!   by its intermediate, PEM, and next to it the certificate entry's
//!   `.tlog-proof`.
//! * Signing makes the DSSE envelope over the in-toto statement for the
//!   `.crate` (its name and version read from its own `Cargo.toml`), and
//!   either submits it to the log, writing `FILE.crate.tlog-proof`, or
//!   writes the submission to a file so a co-maintainer can add their
//!   signature (DSSE allows several) before it is submitted.

use std::path::{Path, PathBuf};

use rcgen::{CertificateParams, KeyPair};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use sigil_client::ClientOptions;
use sigil_client::blocking::CaClient;
use sigil_core::ca_api::{ENROLL_PATH, EnrollRequest};
use sigil_core::entry::{EntryBody, ReleaseEntry};
use sigil_core::log_api::{encode_submission, parse_submission};
use sigil_core::statement::{Envelope, Release};
use sigil_keyfile::p256_key::{self as keyfile, P256Key};
use sigil_keyfile::secret_file;
use sigil_verifier::x509::Certificate;

use crate::client::Client;
use crate::error::CliError;

fn ca_error(e: sigil_client::ClientError) -> CliError {
    CliError::from_client("the CA", e)
}

fn log_error(e: sigil_client::ClientError) -> CliError {
    CliError::from_client("the log", e)
}

/// `sigil keygen --out KEY.pem`: a new P-256 key, mode 0600, encrypted if
/// a passphrase is given. Never overwrites.
pub fn keygen(out: &Path, passphrase: Option<&[u8]>) -> Result<P256Key, CliError> {
    let key = P256Key::generate().map_err(|e| CliError::file(out, e))?;
    keyfile::write_key(out, key.signing_key(), passphrase).map_err(|e| CliError::file(out, e))?;
    Ok(key)
}

/// Reads a maintainer key.
pub fn read_key(path: &Path, passphrase: Option<&[u8]>) -> Result<P256Key, CliError> {
    keyfile::read_key(path, passphrase).map_err(|e| CliError::file(path, e))
}

/// A PKCS#10 request for `key`, PEM. Its subject is empty: the CA takes
/// the identity and crates from the invitation.
pub fn csr_pem(key: &P256Key) -> Result<String, CliError> {
    let pair = KeyPair::try_from(key.pkcs8_der()).map_err(|e| CliError::Usage(e.to_string()))?;
    CertificateParams::new(Vec::<String>::new())
        .and_then(|p| p.serialize_request(&pair))
        .and_then(|csr| csr.pem())
        .map_err(|e| CliError::Usage(format!("cannot make the certificate request: {e}")))
}

/// What `sigil enroll` got.
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// Where the certificate and chain were written.
    pub cert_path: PathBuf,
    /// The certificate's serial, hex.
    pub serial: String,
    /// The identity it names.
    pub identity: String,
    /// The crates it may sign.
    pub crates: Vec<String>,
    /// The log index of its certificate entry.
    pub log_index: u64,
}

/// `sigil enroll --ca URL --token T --key KEY.pem --out CERT.pem`, the
/// CA reached with `options`. With a `checker` (`--trust-root`), the
/// CA's proof that the certificate is logged is verified before anything
/// is written ([`Client::check_certificate_proof`]).
pub fn enroll(
    ca: &str,
    token: &str,
    key: &P256Key,
    out: &Path,
    options: &ClientOptions,
    checker: Option<&Client>,
) -> Result<Enrolled, CliError> {
    let csr = csr_pem(key)?;
    let client = CaClient::with_options(ca, options).map_err(ca_error)?;
    let url = format!("{}{ENROLL_PATH}", client.url());
    let answer = client
        .enroll(&EnrollRequest {
            token: token.trim().to_owned(),
            csr,
        })
        .map_err(ca_error)?;
    let certificate = answer.certificate;
    let chain = answer.chain;
    let proof = answer.proof;
    // The certificate must be for our key.
    let leaf = CertificateDer::from_pem_slice(certificate.as_bytes()).map_err(|e| {
        CliError::Unreachable {
            url: url.clone(),
            reason: format!("the CA's certificate is not PEM: {e}"),
        }
    })?;
    let parsed = Certificate::parse(&leaf).map_err(|e| CliError::Unreachable {
        url: url.clone(),
        reason: format!("the CA's certificate does not parse: {e}"),
    })?;
    if parsed.p256_point() != Some(key.public_key_sec1().as_slice()) {
        return Err(CliError::Usage(
            "the CA returned a certificate for another key; do not use it".into(),
        ));
    }
    if let Some(checker) = checker {
        checker.check_certificate_proof(proof.as_bytes(), &leaf)?;
    }
    // Leaf, then the intermediates (the root is what clients pin).
    let mut file = certificate;
    for der in pem_certificates(chain.as_bytes())? {
        if !is_self_signed(&der) {
            file.push_str(&sigil_core::pem::certificate_pem(&der));
        }
    }
    secret_file::write_public(out, file.as_bytes()).map_err(|e| CliError::file(out, e))?;
    let proof_path = proof_path_for(out);
    secret_file::write_public(&proof_path, proof.as_bytes())
        .map_err(|e| CliError::file(&proof_path, e))?;
    Ok(Enrolled {
        cert_path: out.to_path_buf(),
        serial: answer.serial,
        identity: answer.identity,
        crates: answer.crates,
        log_index: answer.log_index,
    })
}

/// `FILE` → `FILE.tlog-proof`.
pub fn proof_path_for(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_os_string();
    name.push(".tlog-proof");
    PathBuf::from(name)
}

fn pem_certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, CliError> {
    CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::Usage(format!("not PEM certificates: {e}")))
}

fn is_self_signed(der: &[u8]) -> bool {
    Certificate::parse(der).is_ok_and(|c| c.issuer() == c.subject())
}

/// Reads a certificate file from `sigil enroll`: the leaf and its
/// intermediates, DER, root excluded.
pub fn read_chain(path: &Path) -> Result<Vec<Vec<u8>>, CliError> {
    let pem = std::fs::read(path).map_err(|e| CliError::file(path, e))?;
    let chain: Vec<Vec<u8>> = pem_certificates(&pem)
        .map_err(|e| CliError::file(path, e))?
        .into_iter()
        .filter(|c| !is_self_signed(c))
        .collect();
    if chain.is_empty() {
        return Err(CliError::file(
            path,
            "no certificate in it; use the file `sigil enroll --out` wrote",
        ));
    }
    Ok(chain)
}

/// The release a `.crate` file is: its name and version from its own
/// `Cargo.toml`, and its SHA-256.
pub fn release_of(crate_path: &Path) -> Result<(Release, Vec<u8>), CliError> {
    let bytes = std::fs::read(crate_path).map_err(|e| CliError::file(crate_path, e))?;
    let id = sigil_client::crate_file::read_package_id(&bytes)
        .map_err(|e| CliError::file(crate_path, e))?;
    let sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&bytes).into();
    let release =
        Release::new(&id.name, &id.version, sha).map_err(|e| CliError::file(crate_path, e))?;
    Ok((release, bytes))
}

/// What `sigil sign` did.
#[derive(Debug, Clone)]
pub enum Signed {
    /// Submitted: logged at `index`, proof written to `proof_path`.
    Logged {
        /// The release.
        release: Release,
        /// The entry's index.
        index: u64,
        /// Where the `.tlog-proof` was written.
        proof_path: PathBuf,
        /// How many signatures the release carries.
        signatures: usize,
    },
    /// Not submitted: the submission with all signatures so far was
    /// written to `path` for a co-maintainer.
    Pending {
        /// The release.
        release: Release,
        /// The file.
        path: PathBuf,
        /// How many signatures it carries.
        signatures: usize,
    },
}

/// Where `sigil sign` submits, and what checks the log's answer.
pub struct Submit<'a> {
    /// The log's base URL.
    pub log: &'a str,
    /// The trust root clients pin, loaded with that log
    /// ([`Client::load`] with `Some(log)`): the submission goes to its log
    /// client, and the returned `.tlog-proof` must pass the very check
    /// `sigil verify` makes before it is written next to the `.crate`.
    pub checker: Client,
}

/// What `sigil sign` needs.
pub struct SignRequest<'a> {
    /// The maintainer's key.
    pub key: &'a P256Key,
    /// The leaf and intermediates for the key.
    pub chain: Vec<Vec<u8>>,
    /// The `.crate` file.
    pub crate_path: &'a Path,
    /// A pending submission to add this signature to (`--add-to`).
    pub add_to: Option<&'a Path>,
    /// Submit to this log and check its answer, or (`None`) write the
    /// pending submission.
    pub submit: Option<&'a Submit<'a>>,
    /// Where to write a pending submission (`--no-submit`); default
    /// `FILE.crate.sigil-pending.json`.
    pub pending_out: Option<&'a Path>,
}

/// `sigil sign`: signs the release of `crate_path`, alone or adding to a
/// co-maintainer's pending submission, then submits it or writes it.
pub fn sign(req: &SignRequest<'_>) -> Result<Signed, CliError> {
    let (release, _) = release_of(req.crate_path)?;
    let signed_leaf = Certificate::parse(req.chain.first().map(Vec::as_slice).unwrap_or(&[]))
        .map_err(|e| CliError::Usage(format!("the certificate file: {e}")))?;
    if signed_leaf.p256_point() != Some(req.key.public_key_sec1().as_slice()) {
        return Err(CliError::Usage(
            "the certificate is not for this key; pass the --cert that `sigil enroll` wrote for --key"
                .into(),
        ));
    }
    let (envelope, mut chains) = match req.add_to {
        None => (
            Envelope::sign_release(&release, req.key.signing_key())
                .map_err(|e| CliError::Usage(format!("signing: {e}")))?,
            Vec::new(),
        ),
        Some(path) => {
            let (mut envelope, chains) = read_pending(path)?;
            let theirs = envelope.release().map_err(|e| CliError::file(path, e))?;
            if theirs != release {
                return Err(CliError::Usage(format!(
                    "{} signs {} {} with SHA-256 {}, but {} is {} {} with SHA-256 {}: both \
                     maintainers must sign the same .crate",
                    path.display(),
                    theirs.crate_name,
                    theirs.version,
                    hex::encode(theirs.sha256),
                    req.crate_path.display(),
                    release.crate_name,
                    release.version,
                    hex::encode(release.sha256)
                )));
            }
            envelope
                .add_signature(req.key.signing_key())
                .map_err(|e| CliError::Usage(format!("signing: {e}")))?;
            (envelope, chains)
        }
    };
    let envelope = &envelope;
    chains.push(req.chain.clone());
    // The same checks the log makes on the shape (chains per signature).
    let body = EntryBody::Release(
        ReleaseEntry::from_envelope(envelope, chains)
            .map_err(|e| CliError::Usage(e.to_string()))?,
    );
    let signatures = envelope.signatures.len();
    match req.submit {
        Some(submit) => {
            let log = submit.checker.log().ok_or_else(|| {
                CliError::Usage("sigil sign: the trust root was loaded without the log".into())
            })?;
            let submitted = log.submit(&body).map_err(log_error)?;
            // The log's answer is only as good as its proof: check it as a
            // client will (log signature, witness quorum, inclusion, the
            // entry is this release and this .crate) before shipping it.
            let crate_bytes =
                std::fs::read(req.crate_path).map_err(|e| CliError::file(req.crate_path, e))?;
            if let Err(e) = submit.checker.verify(
                &crate_bytes,
                submitted.proof.as_bytes(),
                Some((&release.crate_name, &release.version)),
            ) {
                return Err(CliError::Check {
                    code: "log_proof_invalid",
                    message: format!(
                        "the log at {} answered that it logged {} {} at index {}, but its proof \
                         does not hold ({}: {e}); no proof was written: do not publish this \
                         release with it, and report it to the log operator",
                        submit.log,
                        release.crate_name,
                        release.version,
                        submitted.index,
                        e.code()
                    ),
                });
            }
            let proof_path = proof_path_for(req.crate_path);
            write_replacing(&proof_path, submitted.proof.as_bytes())?;
            Ok(Signed::Logged {
                release,
                index: submitted.index,
                proof_path,
                signatures,
            })
        }
        None => {
            let path = req.pending_out.map(Path::to_path_buf).unwrap_or_else(|| {
                let mut name = req.crate_path.as_os_str().to_os_string();
                name.push(".sigil-pending.json");
                PathBuf::from(name)
            });
            // The pending file is the submission body itself
            // (`sigil_core::log_api`).
            write_replacing(&path, &encode_submission(&body))?;
            Ok(Signed::Pending {
                release,
                path,
                signatures,
            })
        }
    }
}

/// One certificate chain per signature: leaf first, DER.
type Chains = Vec<Vec<Vec<u8>>>;

/// Reads a pending submission written by `sigil sign` without `--log`: a
/// `POST /api/v1/entries` release body (`sigil_core::log_api`).
fn read_pending(path: &Path) -> Result<(Envelope, Chains), CliError> {
    let bytes = std::fs::read(path).map_err(|e| CliError::file(path, e))?;
    match parse_submission(&bytes).map_err(|e| CliError::file(path, e))? {
        EntryBody::Release(release) => {
            let chains = release.signers.iter().map(|s| s.chain.clone()).collect();
            Ok((release.envelope(), chains))
        }
        _ => Err(CliError::file(
            path,
            "not a pending release from `sigil sign`",
        )),
    }
}

/// Writes a public file, replacing an older one atomically.
fn write_replacing(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    secret_file::write_public(&tmp, bytes).map_err(|e| CliError::file(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| CliError::file(path, e))
}
