//! The cargo user's side: `sigil trust-root`, `sigil verify` and `sigil
//! verify-lock` / `cargo sigil verify` (DESIGN.md "Interfaces").
//!
//! Verification is offline by default: the `.crate`, its `.tlog-proof`
//! and the pinned trust root are enough (`sigil_verifier::release_file`).
//! With `--log`, the client also asks the log for revocations of the
//! signers' certificates and for the consistency proofs that let its
//! checkpoint cache advance; a fork is a `SECURITY ERROR`. Online, every
//! answer is checked or refused, never taken on trust:
//!
//! - a revocation counts only with its proof: the revocation entry's
//!   `.tlog-proof` verifies under the trust root, proves a CA-signed
//!   revocation of exactly that certificate from exactly that index, and
//!   its checkpoint is consistent with the cached one;
//! - "not revoked" is the log's `404 not_revoked` and nothing else (any
//!   other answer, or none, fails the check). It is the log's claim, not a
//!   proof: a log cannot prove that an entry is absent; monitors, which
//!   read every entry, catch a log that hides one (docs/log.md);
//! - a consistency proof that cannot be had fails the check
//!   (`no_consistency_proof`).
//!
//! `sigil verify` asks for each certificate of the release's signers'
//! paths (`GET /api/v1/revocations/{id}`). `verify-lock` asks for a
//! thousand releases at a time ([`Client::lookup`], `POST
//! /api/v1/lookup`): their proofs and every revocation answer in one
//! answer against one checkpoint, which is offered to the cache once.
//! Each release is then checked as `sigil verify` checks it
//! ([`Client::verify_looked_up`]), with the same revocation rule
//! (`Client::check_revocations`); on top, the answer must be about
//! exactly the releases asked (`sigil_client::lookup`), every certificate
//! a verified release needs must have an answer in it
//! (`revocation_withheld`), and its proofs must be against its checkpoint
//! (`lookup_checkpoint_mismatch`).

use std::path::{Path, PathBuf};

use sigil_client::ClientOptions;
use sigil_client::blocking::LogClient;
use sigil_client::checkpoint_cache::{
    CacheError, CacheOutcome, CheckpointCache, ConsistencySource,
};
use sigil_client::lookup::{LookupAnswerError, MatchedLookup, match_answer};
use sigil_core::checkpoint::CheckpointPolicy;
use sigil_core::entry::{Entry, EntryBody};
use sigil_core::log_api::{ReleaseKey, RevocationLookup, RevocationStatus};
use sigil_core::trust_root::TrustRoot;
use sigil_verifier::release_file::{VerifiedRelease, verify_release};
use sigil_verifier::{ChainCache, RevocationSet, TrustedRoots, check_revocation};

use crate::error::CliError;

/// What `sigil trust-root` is given.
pub struct TrustRootRequest<'a> {
    /// PEM file(s) of the CA root certificate(s).
    pub ca_roots: &'a [PathBuf],
    /// The log's verifier key (the text of `sigil-log keygen`'s log.pub).
    pub log_key: &'a str,
    /// The log's origin; default: the key's name.
    pub origin: Option<&'a str>,
    /// Witness verifier keys.
    pub witnesses: &'a [String],
    /// How many witnesses must cosign.
    pub quorum: usize,
    /// Where clients ask the log online (`log.url`), if written.
    pub log_url: Option<&'a str>,
}

/// Builds the trust root file's contents (`docs/formats.md` §4), checking
/// every part.
pub fn trust_root(req: &TrustRootRequest<'_>) -> Result<String, CliError> {
    let mut ca_roots_pem = Vec::new();
    for path in req.ca_roots {
        let pem = std::fs::read(path).map_err(|e| CliError::file(path, e))?;
        let roots = TrustedRoots::from_pem(&pem).map_err(|e| CliError::file(path, e))?;
        drop(roots);
        for der in rustls_pki_types::pem::PemObject::pem_slice_iter(&pem) {
            let der: rustls_pki_types::CertificateDer<'static> =
                der.map_err(|e| CliError::file(path, e))?;
            ca_roots_pem.push(sigil_core::pem::certificate_pem(&der));
        }
    }
    let log_key = req.log_key.trim().to_string();
    let origin = match req.origin {
        Some(o) => o.to_string(),
        None => log_key
            .split('+')
            .next()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| CliError::Usage("the log key has no name; pass --origin".into()))?
            .to_string(),
    };
    let trust = TrustRoot {
        log_origin: origin,
        log_key,
        log_url: req
            .log_url
            .map(|u| u.trim().trim_end_matches('/').to_owned()),
        witnesses: req.witnesses.iter().map(|w| w.trim().to_string()).collect(),
        quorum: req.quorum,
        ca_roots_pem,
    };
    trust
        .validate()
        .map_err(|e| CliError::Usage(format!("trust root: {e}")))?;
    Ok(trust.to_json())
}

/// Where `sigil trust-root install` pins the trust root:
/// `$SIGIL_CONFIG_DIR/trust-root.json`, else
/// `$XDG_CONFIG_HOME/sigil/trust-root.json`, else
/// `$HOME/.config/sigil/trust-root.json`.
///
/// # Errors
///
/// [`CliError::Usage`] when none of those variables is set.
pub fn installed_trust_root_path() -> Result<PathBuf, CliError> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("SIGIL_CONFIG_DIR") {
        return Ok(PathBuf::from(dir).join("trust-root.json"));
    }
    let config = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".config")))
        .ok_or_else(|| {
            CliError::Usage("no config directory: set SIGIL_CONFIG_DIR or HOME".into())
        })?;
    Ok(config.join("sigil").join("trust-root.json"))
}

/// `sigil trust-root install FILE`: checks FILE as `sigil verify` would
/// load it, and copies it to [`installed_trust_root_path`] (durably).
/// Returns where it went.
///
/// # Errors
///
/// The file's problem, or the copy's.
pub fn install_trust_root(file: &Path) -> Result<PathBuf, CliError> {
    let bytes = std::fs::read(file).map_err(|e| CliError::file(file, e))?;
    let trust = TrustRoot::parse(&bytes).map_err(|e| CliError::file(file, e))?;
    TrustedRoots::from_pem(trust.ca_roots_pem.concat().as_bytes())
        .map_err(|e| CliError::file(file, e))?;
    let path = installed_trust_root_path()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| CliError::file(dir, e))?;
    }
    let tmp = path.with_extension("json.tmp");
    sigil_keyfile::durable_file::replace(&path, &tmp, &bytes)
        .map_err(|e| CliError::file(&path, e))?;
    Ok(path)
}

/// A loaded trust root, ready to verify.
pub struct Client {
    /// The pinned trust root.
    pub trust: TrustRoot,
    policy: CheckpointPolicy,
    roots: TrustedRoots,
    cache: CheckpointCache,
    log: Option<LogClient>,
    /// Chains validated in this run (a lockfile's crates share signers).
    chains: ChainCache,
}

/// One verified release, and what the checkpoint cache made of its
/// checkpoint.
#[derive(Debug)]
pub struct Verified {
    /// The release.
    pub release: VerifiedRelease,
    /// The cache's verdict on the proof's checkpoint.
    pub cache: CacheOutcome,
}

/// The log's answer to one lookup of many releases ([`Client::lookup`]):
/// paired with the question, its checkpoint verified and offered to the
/// cache. What [`Client::verify_looked_up`] checks each release against.
#[derive(Debug)]
pub struct Lookup {
    matched: MatchedLookup,
    /// The cache's verdict on the answer's checkpoint.
    cache: CacheOutcome,
}

impl Lookup {
    fn checkpoint(&self) -> &[u8] {
        self.matched.checkpoint().as_bytes()
    }
}

/// A [`LookupAnswerError`] as the check that failed.
fn lookup_error(e: LookupAnswerError) -> CliError {
    CliError::Check {
        code: e.code(),
        message: e.to_string(),
    }
}

impl Client {
    /// [`Client::load`] with the defaults a cargo user expects: the trust
    /// root `trust` if given (`--trust-root`, `$SIGIL_TRUST_ROOT`), else
    /// the pinned one ([`installed_trust_root_path`]); the log `log` if
    /// given, else, unless `offline`, the trust root's `log.url`.
    ///
    /// # Errors
    ///
    /// As [`Client::load`]; [`CliError::Usage`] saying how to pin a trust
    /// root when there is none.
    pub fn load_pinned(
        trust: Option<&Path>,
        cache_dir: Option<&Path>,
        log: Option<&str>,
        offline: bool,
        options: &ClientOptions,
    ) -> Result<Client, CliError> {
        let path = match trust {
            Some(path) => path.to_owned(),
            None => {
                let pinned = installed_trust_root_path()?;
                if !pinned.is_file() {
                    return Err(CliError::Usage(format!(
                        "no trust root: pass --trust-root FILE, or pin one once with `sigil \
                         trust-root install FILE` (it goes to {})",
                        pinned.display()
                    )));
                }
                pinned
            }
        };
        let url = match (log, offline) {
            (Some(log), _) => Some(log.to_owned()),
            (None, true) => None,
            (None, false) => {
                let bytes = std::fs::read(&path).map_err(|e| CliError::file(&path, e))?;
                TrustRoot::parse(&bytes)
                    .map_err(|e| CliError::file(&path, e))?
                    .log_url
            }
        };
        Client::load(&path, cache_dir, url.as_deref(), options)
    }

    /// Loads the trust root at `path`, the checkpoint cache in `cache_dir`
    /// (default `$SIGIL_HOME`, else the user's cache dir) and, if given,
    /// the log to ask online, reached with `options`.
    pub fn load(
        path: &Path,
        cache_dir: Option<&Path>,
        log: Option<&str>,
        options: &ClientOptions,
    ) -> Result<Client, CliError> {
        let bytes = std::fs::read(path).map_err(|e| CliError::file(path, e))?;
        let trust = TrustRoot::parse(&bytes).map_err(|e| CliError::file(path, e))?;
        let policy = trust.policy().map_err(|e| CliError::file(path, e))?;
        let pem = trust.ca_roots_pem.concat();
        let roots = TrustedRoots::from_pem(pem.as_bytes()).map_err(|e| CliError::file(path, e))?;
        let dir = match cache_dir {
            Some(d) => d.to_path_buf(),
            None => CheckpointCache::default_dir().map_err(|e| CliError::Usage(e.to_string()))?,
        };
        let cache = CheckpointCache::open(&dir).map_err(|e| CliError::file(&dir, e))?;
        let log = log
            .map(|url| LogClient::with_options(url, options))
            .transpose()
            .map_err(|e| CliError::from_client("the log", e))?;
        Ok(Client {
            trust,
            policy,
            roots,
            cache,
            log,
            chains: ChainCache::new(),
        })
    }

    /// The log client, when online.
    pub fn log(&self) -> Option<&LogClient> {
        self.log.as_ref()
    }

    /// Verifies one release: every offline check, then (online) the
    /// log's revocations, one request per certificate of the signers'
    /// paths, then the checkpoint cache. `expected` is the (name,
    /// version) the caller believes the crate is.
    pub fn verify(
        &self,
        crate_bytes: &[u8],
        proof: &[u8],
        expected: Option<(&str, &str)>,
    ) -> Result<Verified, CliError> {
        let release = self.verify_offline(crate_bytes, proof, expected)?;
        if let Some(log) = &self.log {
            // A failure to ask is an error, never "not revoked" (module
            // docs).
            self.check_revocations(&release, |id| {
                match log
                    .revocation(id)
                    .map_err(|e| CliError::from_client("the log", e))?
                {
                    None => Ok(None),
                    Some(status) => self.proven_revocation(id, &status, None).map(Some),
                }
            })?;
        }
        let cache = self.offer(&release.checkpoint.note)?;
        Ok(Verified { release, cache })
    }

    /// `POST /api/v1/lookup` for `releases` (at most
    /// `sigil_core::log_api::MAX_LOOKUP_RELEASES`, each once): the answer
    /// paired with the question (`sigil_client::lookup`) and its
    /// checkpoint offered to the cache, once for all of them.
    ///
    /// # Errors
    ///
    /// [`CliError::Usage`] offline; the log's refusal (`too_many`: ask for
    /// fewer) or the transport's; `lookup_unasked_release`,
    /// `lookup_duplicate`; the cache's errors as [`Client::verify`] has
    /// them (a fork is a [`CliError::Security`]).
    pub fn lookup(&self, releases: &[ReleaseKey]) -> Result<Lookup, CliError> {
        let log = self
            .log
            .as_ref()
            .ok_or_else(|| CliError::Usage("a lookup needs the log: give --log URL".into()))?;
        let answer = log
            .lookup(releases)
            .map_err(|e| CliError::from_client("the log", e))?;
        let matched = match_answer(releases, answer).map_err(lookup_error)?;
        let cache = self.offer(matched.checkpoint().as_bytes())?;
        Ok(Lookup { matched, cache })
    }

    /// Verifies `key`'s release as [`Client::verify`] does online, with
    /// the answers of `lookup` instead of a request per certificate:
    /// the proof is `local_proof` if given (a `--proofs` file), else the
    /// lookup's, which must be against the lookup's checkpoint; every
    /// certificate of the signers' paths must have a revocation answer in
    /// the lookup (module docs). `Ok(None)`: the log says the release is
    /// not logged, and there is no local proof.
    ///
    /// # Errors
    ///
    /// As [`Client::verify`]; `lookup_missing_release`,
    /// `revocation_withheld`, `lookup_checkpoint_mismatch`.
    pub fn verify_looked_up(
        &self,
        crate_bytes: &[u8],
        local_proof: Option<&[u8]>,
        key: &ReleaseKey,
        lookup: &Lookup,
    ) -> Result<Option<Verified>, CliError> {
        let (proof, from_lookup) = match local_proof {
            Some(proof) => (proof, false),
            None => match lookup.matched.release(key).map_err(lookup_error)? {
                Some(proof) => (proof.as_bytes(), true),
                None => return Ok(None),
            },
        };
        let release =
            self.verify_offline(crate_bytes, proof, Some((&key.crate_name, &key.version)))?;
        let same_checkpoint = release.checkpoint.note == lookup.checkpoint();
        if from_lookup && !same_checkpoint {
            return Err(CliError::Check {
                code: "lookup_checkpoint_mismatch",
                message: format!(
                    "the log's lookup answer proves {key} against another checkpoint than the \
                     one it answers with: the answer cannot be trusted; report it to the log \
                     operator"
                ),
            });
        }
        self.check_revocations(&release, |id| {
            match lookup.matched.revocation(id).map_err(lookup_error)? {
                RevocationLookup::NotRevoked { .. } => Ok(None),
                RevocationLookup::Revoked(status) => self
                    .proven_revocation(id, status, Some(lookup.checkpoint()))
                    .map(Some),
            }
        })?;
        // The lookup's checkpoint was offered once; a local proof's may
        // be another.
        let cache = if same_checkpoint {
            lookup.cache.clone()
        } else {
            self.offer(&release.checkpoint.note)?
        };
        Ok(Some(Verified { release, cache }))
    }

    /// Every offline check of one release (`verify_release`), against no
    /// revocation: the log's answers are `Client::check_revocations`'s.
    fn verify_offline(
        &self,
        crate_bytes: &[u8],
        proof: &[u8],
        expected: Option<(&str, &str)>,
    ) -> Result<VerifiedRelease, CliError> {
        verify_release(
            crate_bytes,
            proof,
            &self.policy,
            &self.roots,
            RevocationSet::empty(),
            expected,
            Some(&self.chains),
        )
        .map_err(|e| CliError::Check {
            code: e.code(),
            message: e.to_string(),
        })
    }

    /// The online revocation check of a verified release, whatever the
    /// answers come from: `answer` gives, for each certificate id of the
    /// signers' paths, the proven `from_index` of its revocation or `None`
    /// for the log's "not revoked"; an error (no answer, a proof that
    /// does not hold) fails the release. Then the verifier's rule
    /// (`RevocationSet::check_signers`): revoked at or before the
    /// release's index is `revoked`.
    fn check_revocations(
        &self,
        release: &VerifiedRelease,
        mut answer: impl FnMut(&[u8; 32]) -> Result<Option<u64>, CliError>,
    ) -> Result<(), CliError> {
        let mut revocations = RevocationSet::new();
        for id in release.certificate_ids() {
            if let Some(from_index) = answer(&id)? {
                revocations.insert(id, from_index);
            }
        }
        revocations
            .check_signers(&release.signers, release.index)
            .map_err(|source| {
                let e = sigil_verifier::ReleaseCheckError::Release {
                    crate_name: release.crate_name.clone(),
                    version: release.version.clone(),
                    source,
                };
                CliError::Check {
                    code: e.code(),
                    message: e.to_string(),
                }
            })
    }

    /// Offers a verified proof's checkpoint to the cache, online with the
    /// log as the source of consistency proofs (module docs).
    fn offer(&self, note: &[u8]) -> Result<CacheOutcome, CliError> {
        let source = self.log.as_ref().map(|l| l as &dyn ConsistencySource);
        self.cache
            .offer(&self.policy, note, source)
            .map_err(|e| match e {
                CacheError::Fork { .. } => CliError::Security(e.to_string()),
                CacheError::NoConsistencyProof { .. } => CliError::Check {
                    code: "no_consistency_proof",
                    message: e.to_string(),
                },
                other => CliError::Check {
                    code: "checkpoint_cache",
                    message: other.to_string(),
                },
            })
    }

    /// Checks the `.tlog-proof` the CA returned with a certificate
    /// (`sigil enroll`): it verifies against the pinned log key and
    /// witness quorum, its entry is a certificate entry whose leaf is
    /// `leaf_der`, and its checkpoint is offered to the cache (a fork is a
    /// security error). Returns the entry's index.
    ///
    /// # Errors
    ///
    /// [`CliError::Check`] with code `log_proof_invalid`, or
    /// [`CliError::Security`].
    pub fn check_certificate_proof(&self, proof: &[u8], leaf_der: &[u8]) -> Result<u64, CliError> {
        let bad = |reason: String| CliError::Check {
            code: "log_proof_invalid",
            message: format!(
                "the CA's proof that the certificate is logged {reason}; nothing was written: \
                 report it to the CA operator"
            ),
        };
        let proved = sigil_core::proof::verify(proof, &self.policy)
            .map_err(|e| bad(format!("does not verify ({e})")))?;
        let entry = Entry::decode(&proved.entry)
            .map_err(|e| bad(format!("holds an entry that does not decode ({e})")))?;
        let EntryBody::Certificate(logged) = &entry.body else {
            return Err(bad(format!(
                "is of a {} entry, not a certificate",
                entry.kind_name()
            )));
        };
        if logged.chain.first().map(Vec::as_slice) != Some(leaf_der) {
            return Err(bad("is of another certificate".into()));
        }
        let source = self.log.as_ref().map(|l| l as &dyn ConsistencySource);
        self.cache
            .offer(&self.policy, &proved.checkpoint.note, source)
            .map_err(|e| match e {
                CacheError::Fork { .. } => CliError::Security(e.to_string()),
                other => bad(format!("has a checkpoint that cannot be trusted ({other})")),
            })?;
        Ok(proved.index)
    }

    /// Checks the log's answer about a revocation of certificate `id`
    /// before it counts: its `.tlog-proof` verifies under the trust root
    /// (log signature, witness quorum, inclusion at the index the log
    /// named), the entry is a revocation signed by a trusted CA of exactly
    /// this certificate with the `from_index` the log named, and its
    /// checkpoint is consistent with the cached one (online, so a withheld
    /// proof fails): offered to the cache, or, for an item of a lookup,
    /// the lookup's `answered` checkpoint (offered once already). Returns
    /// the `from_index`.
    fn proven_revocation(
        &self,
        id: &[u8; 32],
        status: &RevocationStatus,
        answered: Option<&[u8]>,
    ) -> Result<u64, CliError> {
        let bad = |reason: String| CliError::Check {
            code: "bad_revocation_proof",
            message: format!(
                "the log says certificate {} is revoked from index {}, but {reason}; the \
                 answer cannot be trusted either way: report it to the log operator",
                hex::encode(id),
                status.from_index
            ),
        };
        let proved = sigil_core::proof::verify(status.proof.as_bytes(), &self.policy)
            .map_err(|e| bad(format!("its proof does not verify ({e})")))?;
        if proved.index != status.index {
            return Err(bad(format!(
                "its proof is for index {}, not {}",
                proved.index, status.index
            )));
        }
        let entry = Entry::decode(&proved.entry)
            .map_err(|e| bad(format!("the proven entry does not decode ({e})")))?;
        let EntryBody::Revocation(revocation) = &entry.body else {
            return Err(bad(format!(
                "the proven entry is a {} entry, not a revocation",
                entry.kind_name()
            )));
        };
        // The signer's own revocation status at this index is the log's
        // check at admission, audited by monitors; here the entry must be
        // a revocation the CA signed for this log.
        let revoked = check_revocation(
            revocation,
            &self.policy.origin,
            entry.integrated_at,
            proved.index,
            &self.roots,
            RevocationSet::empty(),
        )
        .map_err(|e| bad(format!("the proven revocation does not verify ({e})")))?;
        if &revoked.certificate_id != id || revocation.from_index != status.from_index {
            return Err(bad(
                "the proven revocation is of another certificate or from another index".into(),
            ));
        }
        if let Some(answered) = answered {
            if proved.checkpoint.note != answered {
                return Err(bad(
                    "its proof is against another checkpoint than the lookup's answer".into(),
                ));
            }
            return Ok(status.from_index);
        }
        let source = self.log.as_ref().map(|l| l as &dyn ConsistencySource);
        self.cache
            .offer(&self.policy, &proved.checkpoint.note, source)
            .map_err(|e| match e {
                CacheError::Fork { .. } => CliError::Security(e.to_string()),
                other => bad(format!("its checkpoint cannot be trusted ({other})")),
            })?;
        Ok(status.from_index)
    }
}
