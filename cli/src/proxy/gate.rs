//! The gate every `.crate` passes before the proxy hands it to cargo: the
//! same check `sigil verify --log` makes (the proof against the pinned
//! trust root, the checkpoint cache, the log's revocations), and the
//! policy for crates nobody signed.
//!
//! One thread owns the verifying [`Client`] (its checkpoint cache has one
//! writer, and its log client is blocking); the server's tasks send it
//! jobs and await the answers.
//!
//! Policy for a crate the log holds no release of ([`Policy`]):
//!
//! 1. a version on the deny list is refused;
//! 2. a crate on the allow list passes unsigned;
//! 3. with `require_signed`, every other unsigned crate is refused;
//! 4. otherwise an unsigned crate passes with a warning, **unless the log
//!    holds a signed release of any version of it**: once signed, always
//!    signed — no silent downgrade to an unsigned version;
//! 5. when the log cannot say (unreachable, an unreadable answer), the
//!    crate is refused: the check cannot be completed.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use axum::body::Bytes;
use sigil_client::ClientError;
pub use sigil_client::proxy_policy::Policy;
use tokio::sync::oneshot;

use crate::client::Client;

/// A crate that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Passed {
    /// Signed, and every check passed: who signed it, and where it is in
    /// the log.
    Verified {
        /// The signers' identities.
        signers: Vec<String>,
        /// The release's log index.
        index: u64,
    },
    /// Nobody signed it and the policy lets it through: the warning to log.
    Unsigned(String),
}

/// Why a crate was refused: one line, for cargo to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// The verified-crate cache: `crates/NAME/VERSION.crate` and
/// `proofs/NAME/VERSION.tlog-proof` under one directory. Only files that
/// passed the gate are written, each by a durable replace.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    proofs: Option<PathBuf>,
}

impl Store {
    /// The cache in `dir` (created on first write).
    pub fn new(dir: &Path) -> Store {
        Store {
            dir: dir.to_owned(),
            proofs: None,
        }
    }

    /// Also takes proofs from `dir`, read-only: `NAME-VERSION.crate.tlog-proof`
    /// files as `sigil sign` writes them (`--proofs`), before asking the log.
    pub fn with_proofs_dir(mut self, dir: &Path) -> Store {
        self.proofs = Some(dir.to_owned());
        self
    }

    fn path(&self, kind: &str, name: &str, version: &str, ext: &str) -> PathBuf {
        self.dir
            .join(kind)
            .join(name)
            .join(format!("{version}.{ext}"))
    }

    /// A verified `.crate`, if cached.
    pub fn crate_file(&self, name: &str, version: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path("crates", name, version, "crate")).ok()
    }

    /// A release's `.tlog-proof`, if cached or in the proofs directory.
    pub fn proof(&self, name: &str, version: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path("proofs", name, version, "tlog-proof"))
            .ok()
            .or_else(|| {
                let dir = self.proofs.as_ref()?;
                std::fs::read(dir.join(format!("{name}-{version}.crate.tlog-proof"))).ok()
            })
    }

    /// An index file (`config.json`, or a crate's, at its index path)
    /// as the upstream last served it, if cached.
    pub fn index_file(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.dir.join("index").join(path)).ok()
    }

    /// Caches an index file (its `path` checked by
    /// [`sigil_client::sparse_index::is_index_path`]).
    ///
    /// Written on every index answer, so atomically (a rename) but without
    /// an fsync: after a power loss an index file may be stale or empty,
    /// which only makes a lookup miss (online it is fetched again; offline
    /// the crate is refused).
    pub fn put_index_file(&self, path: &str, bytes: &[u8]) {
        let path = self.dir.join("index").join(path);
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the proxy's cache");
        }
    }

    fn put(&self, kind: &str, name: &str, version: &str, ext: &str, bytes: &[u8]) {
        write(&self.path(kind, name, version, ext), bytes);
    }
}

/// Writes a cache file by a durable replace; a failure is logged, not
/// fatal: online the cache is an optimisation, offline a crate missing
/// from it is refused.
fn write(path: &Path, bytes: &[u8]) {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            sigil_keyfile::durable_file::replace(path, Path::new(&tmp), bytes)
                .map_err(|e| e.to_string())
        });
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), error = %e, "cannot write the proxy's cache");
    }
}

struct Job {
    name: String,
    version: String,
    bytes: Bytes,
    reply: oneshot::Sender<Result<Passed, Refused>>,
}

/// The verification worker (module documentation).
#[derive(Clone)]
pub struct Gate {
    jobs: mpsc::Sender<Job>,
}

impl Gate {
    /// Starts the worker owning `client` (loaded with the log, unless
    /// offline), `policy` and `store`.
    pub fn start(client: Client, policy: Policy, store: Store) -> Gate {
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::spawn(move || {
            let mut worker = Worker {
                client,
                policy,
                store,
            };
            while let Ok(job) = rx.recv() {
                let verdict = worker.check(&job.name, &job.version, &job.bytes);
                // The requester may be gone (cargo hung up): nothing to do.
                let _ = job.reply.send(verdict);
            }
        });
        Gate { jobs }
    }

    /// Checks `bytes` as `name` `version` (their SHA-256 already equals
    /// the index's `cksum`).
    pub async fn check(&self, name: &str, version: &str, bytes: Bytes) -> Result<Passed, Refused> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            name: name.to_owned(),
            version: version.to_owned(),
            bytes,
            reply,
        };
        let stopped = || Refused("the proxy's verifier stopped; restart the proxy".into());
        self.jobs.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

struct Worker {
    client: Client,
    policy: Policy,
    store: Store,
}

impl Worker {
    fn check(&mut self, name: &str, version: &str, bytes: &[u8]) -> Result<Passed, Refused> {
        if self.policy.deny.contains(&format!("{name}@{version}")) {
            return Err(Refused(format!(
                "{name} {version} is on the proxy's deny list"
            )));
        }
        let proof = match self.store.proof(name, version) {
            Some(proof) => Some(proof),
            None => self.ask_proof(name, version)?,
        };
        match proof {
            Some(proof) => {
                let verified = self
                    .client
                    .verify(bytes, &proof, Some((name, version)))
                    .map_err(|e| Refused(format!("{} ({})", e, e.code())))?;
                self.store
                    .put("proofs", name, version, "tlog-proof", &proof);
                self.store.put("crates", name, version, "crate", bytes);
                Ok(Passed::Verified {
                    signers: verified
                        .release
                        .signers
                        .iter()
                        .map(|s| s.identity.clone())
                        .collect(),
                    index: verified.release.index,
                })
            }
            None => {
                let passed = self.unsigned(name, version)?;
                self.store.put("crates", name, version, "crate", bytes);
                Ok(passed)
            }
        }
    }

    /// The release's proof from the log: `None` if the log holds none.
    fn ask_proof(&self, name: &str, version: &str) -> Result<Option<Vec<u8>>, Refused> {
        let Some(log) = self.client.log() else {
            return Ok(None);
        };
        log.release_proof(name, version).map_err(|e| {
            Refused(format!(
                "cannot ask the log whether {name} {version} is signed ({e}); refused until it answers"
            ))
        })
    }

    fn unsigned(&self, name: &str, version: &str) -> Result<Passed, Refused> {
        if self.policy.allow_unsigned.contains(name) {
            return Ok(Passed::Unsigned(format!(
                "{name} {version} is not signed; allowed by the proxy's allow-unsigned list"
            )));
        }
        if self.policy.require_signed {
            return Err(Refused(format!(
                "{name} {version} is not signed, and the proxy requires every crate to be (require-signed)"
            )));
        }
        let Some(log) = self.client.log() else {
            return Err(Refused(format!(
                "{name} {version} is not signed, and offline the proxy cannot tell whether \
                 {name} was ever signed"
            )));
        };
        match log.releases(name) {
            Err(ClientError::NotFound { .. }) => Ok(Passed::Unsigned(format!(
                "{name} {version} is not signed (the log holds no release of {name})"
            ))),
            Ok(list) if list.releases.is_empty() => Ok(Passed::Unsigned(format!(
                "{name} {version} is not signed (the log holds no release of {name})"
            ))),
            Ok(list) => {
                let signed: Vec<&str> = list.releases.iter().map(|r| r.version.as_str()).collect();
                Err(Refused(format!(
                    "{name} {version} is not signed, but {name} {} {} signed: once signed, \
                     always signed; ask the maintainers to sign {version}",
                    signed.join(", "),
                    if signed.len() == 1 { "was" } else { "were" }
                )))
            }
            Err(e) => Err(Refused(format!(
                "{name} {version} is not signed and the log cannot say whether {name} ever was \
                 ({e}); refused until it answers"
            ))),
        }
    }
}
