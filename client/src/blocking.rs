//! The blocking face of the HTTP clients, for synchronous programs (the
//! `sigil` command, `sigil-ca invite`): the same clients and methods as
//! [`crate::LogClient`], [`crate::CaClient`] and [`crate::Webhook`], each
//! call run to completion on a current-thread tokio runtime the value owns
//! (as `reqwest::blocking` wraps reqwest's async client). One
//! implementation, two faces.
//!
//! Do not call these from inside an async runtime: a runtime cannot block
//! on another one (tokio panics). Use the async clients there.
//!
//! [`LogClient`] is also the HTTP [`TileSource`] of `sigil monitor` and the
//! [`ConsistencySource`] of the checkpoint cache: a `404` is
//! [`FetchError::NotFound`], every other failure [`FetchError::Unavailable`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sigil_core::ca_api::{
    CertificateStatus, EnrollRequest, Enrolled, InviteRequest, Invited, RevokeRequest, Revoked,
};
use sigil_core::checkpoint::CheckpointPolicy;
use sigil_core::entry::EntryBody;
use sigil_core::log_api::{
    ConsistencyProof, EntryInfo, Health, InclusionProof, LookupAnswer, ReleaseKey, ReleaseList,
    RevocationStatus, Submitted,
};
use sigil_core::merkle::Hash;
use sigil_core::note::NoteError;

use crate::http::{ClientError, ClientOptions};
use crate::log_source::{ConsistencySource, FetchError, TileSource};

/// A current-thread runtime shared by the clones of one blocking client.
#[derive(Debug, Clone)]
struct Runtime(Arc<tokio::runtime::Runtime>);

impl Runtime {
    fn new() -> Result<Runtime, ClientError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| Runtime(Arc::new(rt)))
            .map_err(|e| ClientError::Setup(format!("tokio runtime: {e}")))
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
}

/// [`crate::LogClient`], blocking.
#[derive(Debug, Clone)]
pub struct LogClient {
    inner: crate::LogClient,
    runtime: Runtime,
}

impl LogClient {
    /// [`crate::LogClient::new`].
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn new(base: &str) -> Result<LogClient, ClientError> {
        LogClient::from_async(crate::LogClient::new(base)?)
    }

    /// [`crate::LogClient::with_timeout`].
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn with_timeout(base: &str, timeout: Duration) -> Result<LogClient, ClientError> {
        LogClient::from_async(crate::LogClient::with_timeout(base, timeout)?)
    }

    /// [`crate::LogClient::with_options`].
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn with_options(base: &str, options: &ClientOptions) -> Result<LogClient, ClientError> {
        LogClient::from_async(crate::LogClient::with_options(base, options)?)
    }

    /// The blocking face of an async client (not used elsewhere: its
    /// connections then belong to this face's runtime).
    ///
    /// # Errors
    ///
    /// [`ClientError::Setup`] if the runtime cannot be made.
    pub fn from_async(inner: crate::LogClient) -> Result<LogClient, ClientError> {
        Ok(LogClient {
            inner,
            runtime: Runtime::new()?,
        })
    }

    /// [`crate::LogClient::with_verifier_key`].
    ///
    /// # Errors
    ///
    /// The key does not parse.
    pub fn with_verifier_key(self, vkey: &str) -> Result<LogClient, NoteError> {
        Ok(LogClient {
            inner: self.inner.with_verifier_key(vkey)?,
            runtime: self.runtime,
        })
    }

    /// [`crate::LogClient::with_policy`].
    pub fn with_policy(self, policy: CheckpointPolicy) -> LogClient {
        LogClient {
            inner: self.inner.with_policy(policy),
            runtime: self.runtime,
        }
    }

    /// The async client underneath.
    pub fn as_async(&self) -> &crate::LogClient {
        &self.inner
    }

    /// The log's base URL.
    pub fn url(&self) -> &str {
        self.inner.url()
    }

    /// [`crate::LogClient::submit`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn submit(&self, body: &EntryBody) -> Result<Submitted, ClientError> {
        self.runtime.block_on(self.inner.submit(body))
    }

    /// [`crate::LogClient::checkpoint`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn checkpoint(&self) -> Result<Vec<u8>, ClientError> {
        self.runtime.block_on(self.inner.checkpoint())
    }

    /// [`crate::LogClient::tree_size`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn tree_size(&self) -> Result<u64, ClientError> {
        self.runtime.block_on(self.inner.tree_size())
    }

    /// [`crate::LogClient::tile`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn tile(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        self.runtime.block_on(self.inner.tile(path))
    }

    /// [`crate::LogClient::entry`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn entry(&self, index: u64) -> Result<EntryInfo, ClientError> {
        self.runtime.block_on(self.inner.entry(index))
    }

    /// [`crate::LogClient::inclusion_proof`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, ClientError> {
        self.runtime
            .block_on(self.inner.inclusion_proof(index, size))
    }

    /// [`crate::LogClient::consistency_proof`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<ConsistencyProof, ClientError> {
        self.runtime
            .block_on(self.inner.consistency_proof(from, to))
    }

    /// [`crate::LogClient::releases`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn releases(&self, crate_name: &str) -> Result<ReleaseList, ClientError> {
        self.runtime.block_on(self.inner.releases(crate_name))
    }

    /// [`crate::LogClient::release_proof`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn release_proof(
        &self,
        crate_name: &str,
        version: &str,
    ) -> Result<Option<Vec<u8>>, ClientError> {
        self.runtime
            .block_on(self.inner.release_proof(crate_name, version))
    }

    /// [`crate::LogClient::revocation`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn revocation(
        &self,
        certificate_id: &[u8; 32],
    ) -> Result<Option<RevocationStatus>, ClientError> {
        self.runtime.block_on(self.inner.revocation(certificate_id))
    }

    /// [`crate::LogClient::lookup`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn lookup(&self, releases: &[ReleaseKey]) -> Result<LookupAnswer, ClientError> {
        self.runtime.block_on(self.inner.lookup(releases))
    }

    /// [`crate::LogClient::health`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn health(&self) -> Result<Health, ClientError> {
        self.runtime.block_on(self.inner.health())
    }
}

/// A client error as a source's [`FetchError`] (module docs).
fn fetch_error(what: &str, e: ClientError) -> FetchError {
    match e {
        ClientError::NotFound { .. } => FetchError::not_found(what),
        other => FetchError::unavailable(what, other),
    }
}

impl TileSource for LogClient {
    fn checkpoint(&self) -> Result<Vec<u8>, FetchError> {
        LogClient::checkpoint(self).map_err(|e| fetch_error("checkpoint", e))
    }

    fn tile(&self, path: &str) -> Result<Vec<u8>, FetchError> {
        LogClient::tile(self, path).map_err(|e| fetch_error(path, e))
    }
}

impl ConsistencySource for LogClient {
    fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, FetchError> {
        LogClient::consistency_proof(self, old_size, new_size)
            .map(|proof| proof.hashes)
            .map_err(|e| {
                fetch_error(
                    &format!("the consistency proof from size {old_size} to {new_size}"),
                    e,
                )
            })
    }
}

/// [`crate::CaClient`], blocking.
#[derive(Debug, Clone)]
pub struct CaClient {
    inner: crate::CaClient,
    runtime: Runtime,
}

impl CaClient {
    /// [`crate::CaClient::new`].
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn new(base: &str) -> Result<CaClient, ClientError> {
        CaClient::from_async(crate::CaClient::new(base)?)
    }

    /// [`crate::CaClient::with_timeout`].
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn with_timeout(base: &str, timeout: Duration) -> Result<CaClient, ClientError> {
        CaClient::from_async(crate::CaClient::with_timeout(base, timeout)?)
    }

    /// [`crate::CaClient::with_options`].
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn with_options(base: &str, options: &ClientOptions) -> Result<CaClient, ClientError> {
        CaClient::from_async(crate::CaClient::with_options(base, options)?)
    }

    /// The blocking face of an async client.
    ///
    /// # Errors
    ///
    /// [`ClientError::Setup`] if the runtime cannot be made.
    pub fn from_async(inner: crate::CaClient) -> Result<CaClient, ClientError> {
        Ok(CaClient {
            inner,
            runtime: Runtime::new()?,
        })
    }

    /// [`crate::CaClient::with_admin_token`].
    pub fn with_admin_token(self, token: &str) -> CaClient {
        CaClient {
            inner: self.inner.with_admin_token(token),
            runtime: self.runtime,
        }
    }

    /// The CA's base URL.
    pub fn url(&self) -> &str {
        self.inner.url()
    }

    /// [`crate::CaClient::enroll`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn enroll(&self, request: &EnrollRequest) -> Result<Enrolled, ClientError> {
        self.runtime.block_on(self.inner.enroll(request))
    }

    /// [`crate::CaClient::chain`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn chain(&self) -> Result<String, ClientError> {
        self.runtime.block_on(self.inner.chain())
    }

    /// [`crate::CaClient::invite`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn invite(&self, request: &InviteRequest) -> Result<Invited, ClientError> {
        self.runtime.block_on(self.inner.invite(request))
    }

    /// [`crate::CaClient::revoke`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn revoke(&self, request: &RevokeRequest) -> Result<Revoked, ClientError> {
        self.runtime.block_on(self.inner.revoke(request))
    }

    /// [`crate::CaClient::certificate`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn certificate(&self, serial: &str) -> Result<CertificateStatus, ClientError> {
        self.runtime.block_on(self.inner.certificate(serial))
    }
}

/// [`crate::Webhook`], blocking.
#[derive(Debug, Clone)]
pub struct Webhook {
    inner: crate::Webhook,
    runtime: Runtime,
}

impl Webhook {
    /// [`crate::Webhook::new`].
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn new(url: &str) -> Result<Webhook, ClientError> {
        Ok(Webhook {
            inner: crate::Webhook::new(url)?,
            runtime: Runtime::new()?,
        })
    }

    /// [`crate::Webhook::with_options`].
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn with_options(url: &str, options: &ClientOptions) -> Result<Webhook, ClientError> {
        Ok(Webhook {
            inner: crate::Webhook::with_options(url, options)?,
            runtime: Runtime::new()?,
        })
    }

    /// The webhook's URL.
    pub fn url(&self) -> &str {
        self.inner.url()
    }

    /// [`crate::Webhook::post`].
    ///
    /// # Errors
    ///
    /// As the async method.
    pub fn post(&self, json: &[u8]) -> Result<(), ClientError> {
        self.runtime.block_on(self.inner.post(json))
    }
}
