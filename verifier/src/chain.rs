//! X.509 path validation (RFC 5280 §6) of a maintainer's chain to a trusted
//! root, and Sigil's profile checks on its leaf (`sigil_core::certificate`).
//!
//! Path building, signatures, validity, basicConstraints, pathLen and the
//! extended key usage `codeSigning` on every certificate of the path are
//! rustls-webpki's `EndEntityCert::verify_for_usage`, with aws-lc-rs and
//! ECDSA P-256/SHA-256 as the only algorithm. The rest is checked here on
//! the certificates parsed once by [`crate::x509`]:
//!
//! * the leaf's key is ECDSA P-256 (webpki does not look at it);
//! * the leaf's keyUsage asserts `digitalSignature` and not `keyCertSign`,
//!   and every other certificate of the chain is a CA whose keyUsage, if
//!   present, asserts `keyCertSign` (RFC 5280 §6.1.4 (k), (n); webpki skips
//!   keyUsage);
//! * the leaf's subjectAltName holds one identity and its Sigil scope
//!   extension is present, non-critical and well formed.
//!
//! The scope is read after webpki has accepted the path rather than in its
//! path callback: it is a property of the leaf alone, so the outcome is
//! the same and the leaf is parsed once.
//!
//! Time: webpki compares whole seconds, so a chain is judged at
//! `floor(at_ms / 1000)`; `notAfter` is inclusive (RFC 5280 §4.1.2.5).

use std::time::Duration;

use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, UnixTime};
use sigil_core::certificate::CODE_SIGNING_EKU_OID_DER;
use webpki::{EndEntityCert, KeyUsage as ExtendedKeyUsagePolicy};

use crate::error::VerifyError;
use crate::revocation::certificate_id;
use crate::roots::TrustedRoots;
use crate::x509::Certificate;

/// The one signature algorithm Sigil accepts on certificates.
static ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[webpki::aws_lc_rs::ECDSA_P256_SHA256];

/// `id-kp-codeSigning`, with the `'static` lifetime webpki asks for.
static CODE_SIGNING: [u8; 8] = CODE_SIGNING_EKU_OID_DER;

/// A signer whose chain validated: what its leaf certificate says.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerifiedSigner {
    /// The identity in the leaf's subjectAltName (RFC 5280 §4.2.1.6): an
    /// email address (`rfc822Name`) or a URI.
    pub identity: String,
    /// The crates the leaf may sign (its Sigil scope extension).
    pub crates: Vec<String>,
    /// The leaf's serial number: DER INTEGER content octets (RFC 5280
    /// §4.1.2.2), as a revocation entry's `serial`.
    pub serial: Vec<u8>,
    /// [`certificate_id`] of the leaf, with the issuer the path used.
    pub certificate_id: [u8; 32],
    /// The leaf's notBefore, Unix ms.
    pub not_before_ms: u64,
    /// The leaf's notAfter, Unix ms (inclusive, to the second).
    pub not_after_ms: u64,
    /// The leaf's SubjectPublicKeyInfo DER: the maintainer's P-256 key.
    pub spki_der: Vec<u8>,
    /// [`certificate_id`] of each intermediate of the validated path, the
    /// leaf's issuer first: a revocation of any of them, or of
    /// `certificate_id`, voids this signer (the log re-checks these in
    /// index order).
    pub issuer_ids: Vec<[u8; 32]>,
    /// The notAfter of each intermediate of the validated path, Unix ms
    /// (inclusive, to the second), in the order of `issuer_ids`. With
    /// `not_after_ms`, the times after which this path no longer validates
    /// ([`expired_at`]; the log re-checks them at the entry's
    /// `integrated_at`).
    pub issuer_not_after_ms: Vec<u64>,
}

/// What [`validate`] learns beyond the [`VerifiedSigner`].
#[derive(Clone)]
pub(crate) struct ValidatedChain {
    /// The signer.
    pub(crate) signer: VerifiedSigner,
    /// The leaf's key as an uncompressed P-256 point, for aws-lc-rs.
    pub(crate) point: Vec<u8>,
}

impl VerifiedSigner {
    /// The [`certificate_id`]s of the signer's validated path: the leaf,
    /// then each intermediate. A revocation of any of them voids the
    /// signer (`crate::RevocationSet::check_path`).
    pub fn path_ids(&self) -> impl Iterator<Item = &[u8; 32]> {
        std::iter::once(&self.certificate_id).chain(&self.issuer_ids)
    }

    /// The earliest notAfter of the validated path (Unix ms, inclusive, to
    /// the second), and whose it is: `None` for the leaf, `Some(k)` for the
    /// intermediate `issuer_ids[k]`. From the second after it, the path no
    /// longer validates ([`expired_at`]). The leaf wins a tie.
    pub fn path_not_after(&self) -> (u64, Option<usize>) {
        self.issuer_not_after_ms.iter().enumerate().fold(
            (self.not_after_ms, None),
            |earliest, (k, &t)| {
                if t < earliest.0 {
                    (t, Some(k))
                } else {
                    earliest
                }
            },
        )
    }
}

/// Whether a certificate whose notAfter is `not_after_ms` (Unix ms, as
/// [`VerifiedSigner::not_after_ms`] gives it) has expired at `at_ms`: the
/// rule of every check here. Validity is judged at whole seconds,
/// `floor(at_ms / 1000)`, and notAfter is inclusive (RFC 5280 §4.1.2.5), so
/// a certificate is valid through the last millisecond of its notAfter
/// second.
pub fn expired_at(not_after_ms: u64, at_ms: u64) -> bool {
    at_ms / 1000 > not_after_ms / 1000
}

/// Validates a chain (leaf first, then intermediates; the root is not
/// included) to a trusted root with extended key usage `codeSigning` at
/// `at_ms` (Unix ms), and reads the leaf's identity and scope. The checks
/// are listed in the module documentation; a leaf without the scope
/// extension is refused ([`VerifyError::MissingScope`]). With `chains`, a
/// chain validated before is not validated again ([`ChainCache`]).
pub fn verify_chain(
    chain: &[Vec<u8>],
    roots: &TrustedRoots,
    at_ms: u64,
    chains: Option<&ChainCache>,
) -> Result<VerifiedSigner, VerifyError> {
    validate(chain, roots, at_ms, chains).map(|v| v.signer)
}

/// [`verify_chain`], keeping what [`crate::check_release`] needs too.
pub(crate) fn validate(
    chain: &[Vec<u8>],
    roots: &TrustedRoots,
    at_ms: u64,
    chains: Option<&ChainCache>,
) -> Result<ValidatedChain, VerifyError> {
    let Some(cache) = chains else {
        return validate_uncached(chain, roots, at_ms).map(|(validated, _)| validated);
    };
    let key = ChainCache::key(chain, roots);
    let at_s = unix_seconds(at_ms);
    if let Some(hit) = cache.get(&key, at_s) {
        return Ok(hit);
    }
    let (validated, window) = validate_uncached(chain, roots, at_ms)?;
    cache.put(key, validated.clone(), window);
    Ok(validated)
}

/// Full validation; also returns the window of times (Unix seconds,
/// inclusive) in which every certificate of `chain` is within its validity.
fn validate_uncached(
    chain: &[Vec<u8>],
    roots: &TrustedRoots,
    at_ms: u64,
) -> Result<(ValidatedChain, (i64, i64)), VerifyError> {
    let (leaf_der, rest) = chain.split_first().ok_or(VerifyError::EmptyChain)?;
    let leaf = Certificate::parse_at(leaf_der, 0)?;
    let point = leaf.p256_point().ok_or(VerifyError::UnsupportedKey {
        index: 0,
        algorithm: leaf.key_algorithm().name(),
    })?;
    let mut window = (leaf.not_before(), leaf.not_after());
    for (i, der) in rest.iter().enumerate() {
        let ca = Certificate::parse_at(der, i + 1)?;
        check_ca_usage(&ca)?;
        window = (window.0.max(ca.not_before()), window.1.min(ca.not_after()));
    }

    let ee_der = CertificateDer::from(leaf_der.as_slice());
    let ee = EndEntityCert::try_from(&ee_der).map_err(|e| match e {
        webpki::Error::UnsupportedCriticalExtension => {
            VerifyError::UnsupportedCriticalExtension { index: 0 }
        }
        _ => VerifyError::MalformedCertificate {
            index: 0,
            reason: "rustls-webpki cannot read it",
        },
    })?;
    let intermediates: Vec<CertificateDer<'_>> = rest
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let path = ee
        .verify_for_usage(
            ALGORITHMS,
            roots.anchors(),
            &intermediates,
            unix_time(at_ms),
            ExtendedKeyUsagePolicy::required(&CODE_SIGNING),
            None,
            None,
        )
        .map_err(|e| from_webpki(e, at_ms))?;

    let leaf_id = certificate_id(path.issuer_spki().as_ref(), leaf.serial());
    let path_cas: Vec<&webpki::Cert<'_>> = path.intermediate_certificates().collect();
    let issuer_ids: Vec<[u8; 32]> = path_cas
        .iter()
        .enumerate()
        .map(|(k, ca)| {
            let issuer_spki = match path_cas.get(k + 1) {
                Some(next) => next.subject_public_key_info(),
                None => webpki::spki_for_anchor(path.anchor()),
            };
            certificate_id(issuer_spki.as_ref(), ca.serial())
        })
        .collect();
    // Every intermediate webpki used is one of `rest`, parsed above.
    let issuer_not_after_ms = path_cas
        .iter()
        .enumerate()
        .map(|(k, ca)| Certificate::parse_at(ca.der().as_ref(), k + 1).map(|c| c.not_after_ms()))
        .collect::<Result<Vec<u64>, VerifyError>>()?;

    match leaf.key_usage() {
        Some(ku) if ku.digital_signature() && !ku.key_cert_sign() => {}
        Some(_) => {
            return Err(VerifyError::WrongKeyUsage {
                reason: "the leaf's keyUsage must assert digitalSignature and not keyCertSign",
            });
        }
        None => {
            return Err(VerifyError::WrongKeyUsage {
                reason: "the leaf has no keyUsage extension (Sigil leaves assert digitalSignature)",
            });
        }
    }
    let identity = leaf.identity()?;
    let crates = leaf.scope()?;
    Ok((
        ValidatedChain {
            signer: VerifiedSigner {
                identity,
                crates,
                serial: leaf.serial().to_vec(),
                certificate_id: leaf_id,
                not_before_ms: leaf.not_before_ms(),
                not_after_ms: leaf.not_after_ms(),
                spki_der: leaf.spki_der().to_vec(),
                issuer_ids,
                issuer_not_after_ms,
            },
            point: point.to_vec(),
        },
        window,
    ))
}

/// The most chains [`ChainCache`] holds before it starts over.
const CHAIN_CACHE_CAPACITY: usize = 4096;

/// Chains that validated, so that a maintainer's chain is validated once,
/// not once per release. A value the caller owns and passes to the checks
/// (`Option<&ChainCache>`): the log keeps one for admission, a monitor or
/// `verify-lock` one for a run; a one-off check passes `None`. Clones
/// share the cache; it is safe to use from several threads.
///
/// Sound because everything path validation looks at is fixed by the
/// chain's bytes and the roots (both in the key), except the time: a hit
/// is only used at a time inside the window where *every* certificate of
/// the chain is within its validity (a superset of the path webpki chose),
/// where full validation would give the same answer. Failures are not
/// cached; revocation is not part of it ([`crate::RevocationSet`] is asked
/// on every check). It holds at most 4,096 chains and starts over when
/// full.
#[derive(Clone, Default)]
pub struct ChainCache(
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<[u8; 32], CachedChain>>>,
);

#[derive(Clone)]
struct CachedChain {
    validated: ValidatedChain,
    window: (i64, i64),
}

impl ChainCache {
    /// An empty cache.
    pub fn new() -> ChainCache {
        ChainCache::default()
    }

    /// SHA-256 over the number of roots, then each root's and each
    /// certificate's length (8 bytes, big-endian) and bytes: a chain is
    /// cached per set of roots.
    fn key(chain: &[Vec<u8>], roots: &TrustedRoots) -> [u8; 32] {
        use sha2::Digest as _;
        let roots = roots.roots_der();
        let mut h = sha2::Sha256::new();
        h.update((roots.len() as u64).to_be_bytes());
        for c in roots.iter().chain(chain) {
            h.update((c.len() as u64).to_be_bytes());
            h.update(c);
        }
        h.finalize().into()
    }

    fn get(&self, key: &[u8; 32], at_s: i64) -> Option<ValidatedChain> {
        let map = self.0.lock().ok()?;
        let hit = map.get(key)?;
        (hit.window.0 <= at_s && at_s <= hit.window.1).then(|| hit.validated.clone())
    }

    fn put(&self, key: [u8; 32], validated: ValidatedChain, window: (i64, i64)) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= CHAIN_CACHE_CAPACITY {
                map.clear();
            }
            map.insert(key, CachedChain { validated, window });
        }
    }
}

impl std::fmt::Debug for ChainCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.0.lock().map(|m| m.len()).unwrap_or(0);
        write!(f, "ChainCache({len} chains)")
    }
}

/// The whole second webpki judges `at_ms` at.
fn unix_seconds(at_ms: u64) -> i64 {
    i64::try_from(at_ms / 1000).unwrap_or(i64::MAX)
}

/// RFC 5280 §6.1.4 (k) and (n) for a certificate that issues others: a CA
/// (basicConstraints `cA`) whose keyUsage, if present, asserts
/// `keyCertSign`.
fn check_ca_usage(ca: &Certificate<'_>) -> Result<(), VerifyError> {
    if !ca.is_ca() {
        return Err(VerifyError::WrongKeyUsage {
            reason: "a certificate after the leaf is not a CA certificate (basicConstraints cA); the chain is the leaf, then the intermediate",
        });
    }
    if ca.key_usage().is_some_and(|ku| !ku.key_cert_sign()) {
        return Err(VerifyError::WrongKeyUsage {
            reason: "an intermediate's keyUsage lacks keyCertSign (RFC 5280 §6.1.4 (n))",
        });
    }
    Ok(())
}

/// Checks a CA certificate on its own, for a revocation's signer: a CA with
/// keyUsage `keyCertSign`, an ECDSA P-256 key, issued by (subject name
/// match and ecdsa-with-SHA256 signature by) a trusted root, and valid at
/// `at_ms` (RFC 5280 §6.1.3 (a) for one step of a path). rustls-webpki
/// validates end-entity certificates only, so this is done here. Returns
/// the certificate and its [`certificate_id`] under the root that issued
/// it (what a revocation of it names).
pub(crate) fn verify_ca_certificate<'a>(
    der: &'a [u8],
    roots: &TrustedRoots,
    at_ms: u64,
) -> Result<(Certificate<'a>, [u8; 32]), VerifyError> {
    let ca = Certificate::parse_at(der, 0)?;
    if ca.p256_point().is_none() {
        return Err(VerifyError::UnsupportedKey {
            index: 0,
            algorithm: ca.key_algorithm().name(),
        });
    }
    if !ca.is_ca() {
        return Err(VerifyError::NotCa);
    }
    if !ca.key_usage().is_some_and(|ku| ku.key_cert_sign()) {
        return Err(VerifyError::WrongKeyUsage {
            reason: "the revocation signer's keyUsage lacks keyCertSign",
        });
    }
    if !ca.signed_with_ecdsa_sha256() {
        return Err(VerifyError::UnsupportedSignatureAlgorithm);
    }
    let mut named = false;
    for root in roots.keys().iter().filter(|r| r.subject == ca.issuer()) {
        named = true;
        let verified = webpki::aws_lc_rs::ECDSA_P256_SHA256
            .verify_signature(&root.point, ca.tbs_certificate(), ca.signature())
            .is_ok();
        if verified {
            check_validity(&ca, at_ms)?;
            let id = certificate_id(&root.spki, ca.serial());
            return Ok((ca, id));
        }
    }
    Err(VerifyError::UntrustedChain {
        reason: if named {
            "the CA certificate's signature does not verify with the key of the trusted root it names"
        } else {
            "the CA certificate's issuer is not a trusted root"
        }
        .into(),
    })
}

/// RFC 5280 §6.1.3 (a)(2), at whole seconds.
fn check_validity(cert: &Certificate<'_>, at_ms: u64) -> Result<(), VerifyError> {
    let at = i64::try_from(at_ms / 1000).unwrap_or(i64::MAX);
    if at < cert.not_before() {
        return Err(VerifyError::NotYetValid {
            not_before_ms: cert.not_before_ms(),
            at_ms,
        });
    }
    if at > cert.not_after() {
        return Err(VerifyError::Expired {
            not_after_ms: cert.not_after_ms(),
            at_ms,
        });
    }
    Ok(())
}

fn unix_time(at_ms: u64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(at_ms / 1000))
}

/// Maps rustls-webpki's path-validation errors onto Sigil's codes.
fn from_webpki(e: webpki::Error, at_ms: u64) -> VerifyError {
    use webpki::Error as W;
    let untrusted = |reason: &str| VerifyError::UntrustedChain {
        reason: reason.to_owned(),
    };
    match e {
        W::CertExpired { not_after, .. } => VerifyError::Expired {
            not_after_ms: not_after.as_secs().saturating_mul(1000),
            at_ms,
        },
        W::CertNotValidYet { not_before, .. } => VerifyError::NotYetValid {
            not_before_ms: not_before.as_secs().saturating_mul(1000),
            at_ms,
        },
        W::UnknownIssuer => {
            untrusted("no trusted root or given intermediate issued a certificate of the chain")
        }
        W::InvalidSignatureForPublicKey => {
            untrusted("a certificate's signature does not verify with its issuer's key")
        }
        W::PathLenConstraintViolated => {
            untrusted("the chain is longer than a CA's pathLenConstraint allows")
        }
        W::EndEntityUsedAsCa => untrusted("a certificate that is not a CA issued another one"),
        W::CaUsedAsEndEntity => VerifyError::WrongKeyUsage {
            reason: "the leaf is a CA certificate (basicConstraints cA); sign with a maintainer certificate",
        },
        W::RequiredEkuNotFoundContext(_) | W::EmptyEkuExtension => VerifyError::WrongKeyUsage {
            reason: "a certificate of the chain lacks extKeyUsage codeSigning (RFC 5280 §4.2.1.12)",
        },
        W::UnsupportedSignatureAlgorithmContext(_)
        | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            VerifyError::UnsupportedSignatureAlgorithm
        }
        other => VerifyError::UntrustedChain {
            reason: format!("rustls-webpki: {other:?}"),
        },
    }
}
