//! Delivering a monitor's alerts to a webhook: one `POST` of one JSON
//! document (`application/json`) per alert, as `sigil monitor --webhook`
//! does. A `2xx` answer is delivery; anything else is a [`ClientError`]
//! for the caller to report (the alert was printed anyway).

use std::time::Duration;

use crate::http::{ClientError, ClientOptions, DEFAULT_TIMEOUT, Endpoint};

/// A webhook at one URL.
#[derive(Debug, Clone)]
pub struct Webhook {
    endpoint: Endpoint,
}

impl Webhook {
    /// A webhook at `url` (`http://…`; a query is kept), with
    /// [`DEFAULT_TIMEOUT`] per delivery.
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn new(url: &str) -> Result<Webhook, ClientError> {
        Webhook::with_timeout(url, DEFAULT_TIMEOUT)
    }

    /// [`Webhook::new`] with another timeout per delivery.
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn with_timeout(url: &str, timeout: Duration) -> Result<Webhook, ClientError> {
        Webhook::with_options(url, &ClientOptions::with_timeout(timeout))
    }

    /// [`Webhook::new`] with other [`ClientOptions`] (timeout, the CAs
    /// trusted for `https://`).
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn with_options(url: &str, options: &ClientOptions) -> Result<Webhook, ClientError> {
        Ok(Webhook {
            endpoint: Endpoint::exact(url, options)?,
        })
    }

    /// The webhook's URL.
    pub fn url(&self) -> &str {
        self.endpoint.base()
    }

    /// POSTs one JSON document; the answer's body is ignored.
    ///
    /// # Errors
    ///
    /// Transport errors and any status but `2xx`.
    pub async fn post(&self, json: &[u8]) -> Result<(), ClientError> {
        self.endpoint
            .post_json("", json.to_vec(), None)
            .await
            .map(drop)
    }
}
