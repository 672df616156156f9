//! The client of a Sigil CA (DESIGN.md "Interfaces"): enrollment, the
//! chain, and the admin endpoints, every body one of
//! `sigil_core::ca_api`'s types. Used by `sigil enroll` and `sigil-ca
//! invite`/`revoke`/`trust-root --ca` (through [`crate::blocking::CaClient`]).
//!
//! | method | request | answer |
//! |---|---|---|
//! | [`CaClient::enroll`] | `POST /api/v1/enroll` [`EnrollRequest`] | [`Enrolled`] |
//! | [`CaClient::chain`] | `GET /api/v1/chain` | intermediate then root, PEM |
//! | [`CaClient::invite`] | `POST /api/v1/admin/invites` [`InviteRequest`] | [`Invited`] |
//! | [`CaClient::revoke`] | `POST /api/v1/admin/revocations` [`RevokeRequest`] | [`Revoked`] |
//! | [`CaClient::certificate`] | `GET /api/v1/admin/certificates/{serial}` | [`CertificateStatus`] |
//!
//! Admin requests carry `Authorization: Bearer <token>` (RFC 6750 §2.1)
//! when the client has the admin token ([`CaClient::with_admin_token`]);
//! without it the CA answers `401 missing_admin_token`.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sigil_core::ca_api::{
    CERTIFICATES_PATH, CHAIN_PATH, CertificateStatus, ENROLL_PATH, EnrollRequest, Enrolled,
    INVITES_PATH, InviteRequest, Invited, REVOCATIONS_PATH, RevokeRequest, Revoked,
};

use crate::http::{
    ClientError, ClientOptions, DEFAULT_TIMEOUT, Endpoint, parse_json, path_segment,
};

/// An async client of one CA (module docs).
#[derive(Clone)]
pub struct CaClient {
    endpoint: Endpoint,
    admin_token: Option<String>,
}

impl std::fmt::Debug for CaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token itself.
        f.debug_struct("CaClient")
            .field("base", &self.endpoint.base())
            .field("admin", &self.admin_token.is_some())
            .finish()
    }
}

impl CaClient {
    /// A client of the CA at `base`, with [`DEFAULT_TIMEOUT`] per request
    /// (an enrollment waits for the log to sequence the certificate).
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn new(base: &str) -> Result<CaClient, ClientError> {
        CaClient::with_timeout(base, DEFAULT_TIMEOUT)
    }

    /// [`CaClient::new`] with another timeout per request.
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn with_timeout(base: &str, timeout: Duration) -> Result<CaClient, ClientError> {
        CaClient::with_options(base, &ClientOptions::with_timeout(timeout))
    }

    /// [`CaClient::new`] with other [`ClientOptions`] (timeout, the CAs
    /// trusted for `https://`).
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn with_options(base: &str, options: &ClientOptions) -> Result<CaClient, ClientError> {
        Ok(CaClient {
            endpoint: Endpoint::new(base, options)?,
            admin_token: None,
        })
    }

    /// Sends `token` (its first line, trimmed) as the admin bearer token.
    pub fn with_admin_token(mut self, token: &str) -> CaClient {
        let token = token.lines().next().unwrap_or_default().trim();
        self.admin_token = Some(token.to_owned());
        self
    }

    /// The CA's base URL, without a trailing `/`.
    pub fn url(&self) -> &str {
        self.endpoint.base()
    }

    /// `POST /api/v1/enroll`: redeems an invitation token for a
    /// certificate, logged before it is handed out.
    ///
    /// # Errors
    ///
    /// [`ClientError::Refused`] with the CA's code (`unknown_token`,
    /// `token_used`, `bad_csr_signature`, …); transport, HTTP and answer
    /// errors.
    pub async fn enroll(&self, request: &EnrollRequest) -> Result<Enrolled, ClientError> {
        self.post(ENROLL_PATH, request, None).await
    }

    /// `GET /api/v1/chain`: the intermediate then the root, PEM.
    ///
    /// # Errors
    ///
    /// [`ClientError::BadAnswer`] if it is not text; transport and HTTP
    /// errors.
    pub async fn chain(&self) -> Result<String, ClientError> {
        let body = self.endpoint.get(CHAIN_PATH).await?;
        String::from_utf8(body).map_err(|_| ClientError::BadAnswer {
            url: format!("{}{CHAIN_PATH}", self.url()),
            reason: "the chain is not PEM text".into(),
        })
    }

    /// `POST /api/v1/admin/invites` (admin): a one-time enrollment token.
    ///
    /// # Errors
    ///
    /// [`ClientError::Refused`] (`missing_admin_token`,
    /// `wrong_admin_token`, `bad_identity`, `bad_scope`, `bad_ttl`);
    /// transport, HTTP and answer errors.
    pub async fn invite(&self, request: &InviteRequest) -> Result<Invited, ClientError> {
        self.post(INVITES_PATH, request, self.admin_token.as_deref())
            .await
    }

    /// `POST /api/v1/admin/revocations` (admin): a CA-signed revocation,
    /// logged.
    ///
    /// # Errors
    ///
    /// [`ClientError::Refused`] (`bad_serial`, `bad_reason`, …),
    /// [`ClientError::NotFound`] (`unknown_certificate`); transport, HTTP
    /// and answer errors.
    pub async fn revoke(&self, request: &RevokeRequest) -> Result<Revoked, ClientError> {
        self.post(REVOCATIONS_PATH, request, self.admin_token.as_deref())
            .await
    }

    /// `GET /api/v1/admin/certificates/{serial}` (admin): what the CA
    /// issued under this serial (hex), and its revocation.
    ///
    /// # Errors
    ///
    /// [`ClientError::NotFound`] (`unknown_certificate`); transport, HTTP
    /// and answer errors.
    pub async fn certificate(&self, serial: &str) -> Result<CertificateStatus, ClientError> {
        let path = format!("{CERTIFICATES_PATH}/{}", path_segment(serial.trim()));
        let url = format!("{}{path}", self.url());
        let body = self
            .endpoint
            .get_authorized(&path, self.admin_token.as_deref())
            .await?;
        parse_json(&url, &body)
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        request: &B,
        bearer: Option<&str>,
    ) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.url());
        // Structs of strings, numbers and lists always serialize.
        let body = serde_json::to_vec(request).map_err(|e| ClientError::Setup(e.to_string()))?;
        let answer = self.endpoint.post_json(path, body, bearer).await?;
        parse_json(&url, &answer)
    }
}
