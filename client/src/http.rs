//! One HTTP exchange with a Sigil server (DESIGN.md "Interfaces"), shared
//! by [`crate::LogClient`], [`crate::CaClient`] and [`crate::Webhook`]:
//! timeouts, a bounded answer, and the one way an answer becomes a
//! [`ClientError`].
//!
//! # How an answer is read
//!
//! | status | result |
//! |---|---|
//! | `2xx` | the body (at most [`MAX_ANSWER_BYTES`]) |
//! | `404` | [`ClientError::NotFound`] |
//! | `429`, `5xx` | [`ClientError::Unavailable`], with `Retry-After` (RFC 9110 §10.2.3) when sent |
//! | other `4xx` | [`ClientError::Refused`] |
//! | anything else (`1xx`, `3xx`: redirects are not followed) | [`ClientError::BadAnswer`] |
//!
//! An error body is `sigil_core::api_error::ErrorBody`, `{"error":
//! {"code", "message"}}` (DESIGN.md "Bad input"); one that is not (a
//! proxy's HTML page, an empty body) gets the code `http_<status>` and the
//! first 300 characters of the body as its message.
//!
//! # TLS
//!
//! `https://` URLs are served by rustls (RFC 8446) with the aws-lc-rs
//! provider, the one crypto provider Sigil uses (DESIGN.md "Crypto").
//! Without a bundle the server's certificate must chain to the
//! platform's roots; with [`ClientOptions::ca_bundle`] it must chain to
//! one of the bundle's certificates and nothing else (a private CA, as a
//! test or an internal deployment has). `http://` stays allowed: Sigil's
//! checks do not rely on the transport (every answer is signed or proved),
//! TLS keeps what is asked private and the answers timely.

use std::time::Duration;

use serde::de::DeserializeOwned;
use sigil_core::api_error::ErrorBody;

/// How long one request may take by default, answer included: a log
/// answers a submission after its sequencing round.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How long connecting may take, at most.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest answer read, bytes: more than the largest entry bundle
/// (256 entries of at most 65,535 bytes, each with a 2-byte length).
pub const MAX_ANSWER_BYTES: usize = 32 << 20;

/// How much of a body that is not an error body becomes the message.
const MESSAGE_CHARS: usize = 300;

/// Why a request to a Sigil server did not give the answer asked for.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server's base URL is unusable.
    #[error("{url:?} is not a usable server URL: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No connection could be made, or it broke before a whole answer
    /// came: nothing is known to have happened.
    #[error("{url}: cannot reach the server: {reason}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// The transport's reason.
        reason: String,
    },
    /// No whole answer within the timeout: the request may or may not
    /// have been carried out.
    #[error("{url}: no answer within the timeout")]
    Timeout {
        /// The URL asked.
        url: String,
    },
    /// The server refused the request (a `4xx` other than `404` and
    /// `429`): it has to change before it can succeed.
    #[error("{url}: refused ({status} {code}): {message}")]
    Refused {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The server's error code, or `http_<status>`.
        code: String,
        /// The server's message.
        message: String,
        /// For the log's `409`: the index of the entry already logged.
        existing_index: Option<u64>,
    },
    /// The server has no such thing (`404`).
    #[error("{url}: not found ({code}): {message}")]
    NotFound {
        /// The URL asked.
        url: String,
        /// The server's error code (`no_such_tile`, `no_such_route`, …),
        /// or `http_404`.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The server cannot answer now (`429` or `5xx`): retry later.
    #[error("{url}: unavailable ({status} {code}): {message}")]
    Unavailable {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The server's error code, or `http_<status>`.
        code: String,
        /// The server's message.
        message: String,
        /// Seconds the server asked to wait (`Retry-After`).
        retry_after: Option<u64>,
    },
    /// A whole answer came that is not what the API promises: a body
    /// that does not parse, an unexpected status, too many bytes.
    #[error("{url}: the answer is not what the API promises: {reason}")]
    BadAnswer {
        /// The URL asked.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The log's `.tlog-proof` for a submission does not prove it (the
    /// client was given the log's verifier key): its checkpoint does not
    /// verify, its inclusion proof fails, or it proves another entry; or
    /// the log's checkpoint itself does not verify.
    #[error("{url}: the log's proof does not hold: {reason}")]
    BadProof {
        /// The URL asked.
        url: String,
        /// What does not hold.
        reason: String,
    },
    /// The HTTP client (or the blocking face's runtime) could not be made.
    #[error("cannot start the HTTP client: {0}")]
    Setup(String),
}

impl ClientError {
    /// The HTTP status the server answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Refused { status, .. } | ClientError::Unavailable { status, .. } => {
                Some(*status)
            }
            ClientError::NotFound { .. } => Some(404),
            _ => None,
        }
    }

    /// The server's error code (`ErrorBody`), if it answered with an error.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Refused { code, .. }
            | ClientError::NotFound { code, .. }
            | ClientError::Unavailable { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The URL that was asked (or given, for [`ClientError::InvalidUrl`]).
    pub fn url(&self) -> Option<&str> {
        match self {
            ClientError::InvalidUrl { url, .. }
            | ClientError::Unreachable { url, .. }
            | ClientError::Timeout { url }
            | ClientError::Refused { url, .. }
            | ClientError::NotFound { url, .. }
            | ClientError::Unavailable { url, .. }
            | ClientError::BadAnswer { url, .. }
            | ClientError::BadProof { url, .. } => Some(url),
            ClientError::Setup(_) => None,
        }
    }
}

/// Certificate authorities a client trusts for `https://`, instead of the
/// platform's (module docs, "TLS"): PEM `CERTIFICATE` blocks (RFC 7468).
#[derive(Clone)]
pub struct CaBundle {
    certs: Vec<reqwest::Certificate>,
}

impl std::fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CaBundle({} certificates)", self.certs.len())
    }
}

impl CaBundle {
    /// The certificates of a PEM bundle; at least one.
    ///
    /// # Errors
    ///
    /// [`ClientError::Setup`] if it holds no certificate or one that does
    /// not parse.
    pub fn from_pem(pem: &[u8]) -> Result<CaBundle, ClientError> {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| ClientError::Setup(format!("CA bundle: {}", reasons(&e))))?;
        if certs.is_empty() {
            return Err(ClientError::Setup(
                "CA bundle: no PEM CERTIFICATE in it".into(),
            ));
        }
        Ok(CaBundle { certs })
    }

    /// [`CaBundle::from_pem`] of a file.
    ///
    /// # Errors
    ///
    /// [`ClientError::Setup`] naming the file.
    pub fn read(path: &std::path::Path) -> Result<CaBundle, ClientError> {
        let pem = std::fs::read(path)
            .map_err(|e| ClientError::Setup(format!("{}: {e}", path.display())))?;
        CaBundle::from_pem(&pem).map_err(|e| match e {
            ClientError::Setup(reason) => {
                ClientError::Setup(format!("{}: {reason}", path.display()))
            }
            other => other,
        })
    }
}

/// How a client reaches a server: the timeout per request and, for
/// `https://`, the roots it trusts (module docs, "TLS").
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The longest one request may take, answer included.
    pub timeout: Duration,
    /// Trust exactly these CAs for `https://` instead of the platform's.
    pub ca_bundle: Option<CaBundle>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: DEFAULT_TIMEOUT,
            ca_bundle: None,
        }
    }
}

impl ClientOptions {
    /// The default options with another timeout.
    pub fn with_timeout(timeout: Duration) -> ClientOptions {
        ClientOptions {
            timeout,
            ..ClientOptions::default()
        }
    }
}

/// One server's base URL and an HTTP client with Sigil's timeouts.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    base: String,
    http: reqwest::Client,
}

impl Endpoint {
    /// A client of the server at `base` (`http[s]://host:port[/prefix]`;
    /// a trailing `/` is dropped).
    pub(crate) fn new(base: &str, options: &ClientOptions) -> Result<Endpoint, ClientError> {
        Endpoint::build(base, options, false)
    }

    /// A client of exactly `url` (a query is allowed): requests use the
    /// path `""`.
    pub(crate) fn exact(url: &str, options: &ClientOptions) -> Result<Endpoint, ClientError> {
        Endpoint::build(url, options, true)
    }

    fn build(base: &str, options: &ClientOptions, exact: bool) -> Result<Endpoint, ClientError> {
        let timeout = options.timeout;
        let trimmed = if exact {
            base.trim()
        } else {
            base.trim().trim_end_matches('/')
        };
        let invalid = |reason: &str| ClientError::InvalidUrl {
            url: base.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = trimmed
            .strip_prefix("http://")
            .or_else(|| trimmed.strip_prefix("https://"))
            .ok_or_else(|| invalid("it must start with http:// or https://"))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(invalid("it names no host"));
        }
        if trimmed.contains('#') || (!exact && trimmed.contains('?')) {
            return Err(invalid("a base URL has no query or fragment"));
        }
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(DEFAULT_CONNECT_TIMEOUT))
            .redirect(reqwest::redirect::Policy::none());
        if let Some(bundle) = &options.ca_bundle {
            builder = builder.tls_certs_only(bundle.certs.iter().cloned());
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Setup(reasons(&e)))?;
        Ok(Endpoint {
            base: trimmed.to_owned(),
            http,
        })
    }

    /// The base URL, without a trailing `/`.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// `GET base+path`: the body of a `2xx`, else the [`ClientError`].
    pub(crate) async fn get(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        self.get_authorized(path, None).await
    }

    /// [`Endpoint::get`] with an `Authorization: Bearer` token (RFC 6750
    /// §2.1) when given.
    pub(crate) async fn get_authorized(
        &self,
        path: &str,
        bearer: Option<&str>,
    ) -> Result<Vec<u8>, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.get(&url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        exchange(&url, request).await
    }

    /// `POST base+path` with a JSON body, and an `Authorization: Bearer`
    /// token (RFC 6750 §2.1) when given.
    pub(crate) async fn post_json(
        &self,
        path: &str,
        body: Vec<u8>,
        bearer: Option<&str>,
    ) -> Result<Vec<u8>, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut request = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        exchange(&url, request).await
    }

    /// `GET` with a body expected to be JSON of type `T`.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let body = self.get(path).await?;
        parse_json(&format!("{}{path}", self.base), &body)
    }
}

/// Sends one request and reads its whole answer.
async fn exchange(url: &str, request: reqwest::RequestBuilder) -> Result<Vec<u8>, ClientError> {
    let transport = |e: reqwest::Error| {
        if e.is_timeout() {
            ClientError::Timeout {
                url: url.to_owned(),
            }
        } else {
            ClientError::Unreachable {
                url: url.to_owned(),
                reason: reasons(&e),
            }
        }
    };
    let mut response = request.send().await.map_err(transport)?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(ClientError::BadAnswer {
                url: url.to_owned(),
                reason: format!("more than {MAX_ANSWER_BYTES} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    classify(url, status, retry_after, body)
}

/// An answer's status and body as the caller's result (module docs).
pub(crate) fn classify(
    url: &str,
    status: u16,
    retry_after: Option<u64>,
    body: Vec<u8>,
) -> Result<Vec<u8>, ClientError> {
    if (200..300).contains(&status) {
        return Ok(body);
    }
    let url = url.to_owned();
    if !(400..600).contains(&status) {
        return Err(ClientError::BadAnswer {
            url,
            reason: format!("unexpected HTTP status {status}"),
        });
    }
    let (code, message, existing_index) = match ErrorBody::parse(&body) {
        Some(b) => (b.error.code, b.error.message, b.error.existing_index),
        None => (
            format!("http_{status}"),
            String::from_utf8_lossy(&body)
                .trim()
                .chars()
                .take(MESSAGE_CHARS)
                .collect(),
            None,
        ),
    };
    Err(match status {
        404 => ClientError::NotFound { url, code, message },
        429 | 500.. => ClientError::Unavailable {
            url,
            status,
            code,
            message,
            retry_after,
        },
        _ => ClientError::Refused {
            url,
            status,
            code,
            message,
            existing_index,
        },
    })
}

/// A JSON answer of type `T`, or [`ClientError::BadAnswer`].
pub(crate) fn parse_json<T: DeserializeOwned>(url: &str, body: &[u8]) -> Result<T, ClientError> {
    serde_json::from_slice(body).map_err(|e| ClientError::BadAnswer {
        url: url.to_owned(),
        reason: format!("not the JSON expected: {e}"),
    })
}

/// One path segment, percent-encoded (RFC 3986 §3.3): unreserved
/// characters and `+` (SemVer build metadata) stay, every other byte is
/// `%XX`, so a crate name or version can never add a segment or a query.
pub(crate) fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out == "." || out == ".." {
        // Dot segments are removed by URL normalisation (RFC 3986 §5.2.4).
        return out.replace('.', "%2E");
    }
    out
}

/// An error and its sources, `: `-joined: reqwest's own message names
/// only the step that failed.
fn reasons(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// What [`classify`] gives: `Ok` with the body, or the error's
    /// variant, status and code.
    #[derive(Debug, PartialEq)]
    enum Got {
        Body(&'static str),
        Refused(u16, &'static str, Option<u64>),
        NotFound(&'static str),
        Unavailable(u16, &'static str, Option<u64>),
        BadAnswer,
    }

    const ANSWERS: &[(u16, Option<u64>, &str, Got)] = &[
        (200, None, "{}", Got::Body("{}")),
        (201, None, "created", Got::Body("created")),
        (204, None, "", Got::Body("")),
        (
            400,
            None,
            r#"{"error":{"code":"malformed_json","message":"m"}}"#,
            Got::Refused(400, "malformed_json", None),
        ),
        (
            409,
            None,
            r#"{"error":{"code":"conflict","message":"m","existing_index":7}}"#,
            Got::Refused(409, "conflict", Some(7)),
        ),
        (
            422,
            None,
            r#"{"error":{"code":"out_of_scope","message":"m","later":1}}"#,
            Got::Refused(422, "out_of_scope", None),
        ),
        (
            401,
            None,
            "<html>nope</html>",
            Got::Refused(401, "http_401", None),
        ),
        (
            404,
            None,
            r#"{"error":{"code":"no_such_tile","message":"m"}}"#,
            Got::NotFound("no_such_tile"),
        ),
        (404, None, "Not Found", Got::NotFound("http_404")),
        (
            429,
            Some(1),
            r#"{"error":{"code":"rate_limited","message":"m"}}"#,
            Got::Unavailable(429, "rate_limited", Some(1)),
        ),
        (
            503,
            Some(5),
            r#"{"error":{"code":"log_unavailable","message":"m"}}"#,
            Got::Unavailable(503, "log_unavailable", Some(5)),
        ),
        (500, None, "oops", Got::Unavailable(500, "http_500", None)),
        (502, None, "", Got::Unavailable(502, "http_502", None)),
        (301, None, "", Got::BadAnswer),
        (100, None, "", Got::BadAnswer),
        (600, None, "", Got::BadAnswer),
    ];

    fn got(result: Result<Vec<u8>, ClientError>) -> Got {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        match result {
            Ok(body) => Got::Body(leak(String::from_utf8(body).unwrap())),
            Err(ClientError::Refused {
                status,
                code,
                existing_index,
                ..
            }) => Got::Refused(status, leak(code), existing_index),
            Err(ClientError::NotFound { code, .. }) => Got::NotFound(leak(code)),
            Err(ClientError::Unavailable {
                status,
                code,
                retry_after,
                ..
            }) => Got::Unavailable(status, leak(code), retry_after),
            Err(ClientError::BadAnswer { .. }) => Got::BadAnswer,
            Err(e) => panic!("unexpected {e}"),
        }
    }

    #[test]
    fn answers_are_classified_by_status_and_error_body() {
        for (status, retry_after, body, want) in ANSWERS {
            let result = classify(
                "http://x/y",
                *status,
                *retry_after,
                body.as_bytes().to_vec(),
            );
            assert_eq!(&got(result), want, "status {status}, body {body:?}");
        }
    }

    #[test]
    fn a_non_error_body_becomes_a_short_message() {
        let long = "x".repeat(1000);
        let Err(ClientError::Refused { message, .. }) = classify("u", 400, None, long.into_bytes())
        else {
            panic!("not refused");
        };
        assert_eq!(message.len(), MESSAGE_CHARS);
    }

    const SEGMENTS: &[(&str, &str)] = &[
        ("serde", "serde"),
        ("serde_json", "serde_json"),
        ("tokio-util", "tokio-util"),
        ("1.0.0-rc.1+build.5", "1.0.0-rc.1+build.5"),
        ("a/b", "a%2Fb"),
        ("x?y=1#z", "x%3Fy%3D1%23z"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("é", "%C3%A9"),
        ("a b", "a%20b"),
        ("", ""),
    ];

    #[test]
    fn path_segments_never_add_a_segment_or_a_query() {
        for (input, want) in SEGMENTS {
            assert_eq!(path_segment(input), *want, "input {input:?}");
        }
    }

    const BASES: &[(&str, Option<&str>)] = &[
        ("http://127.0.0.1:6962", Some("http://127.0.0.1:6962")),
        ("http://127.0.0.1:6962/", Some("http://127.0.0.1:6962")),
        (
            "  https://log.example/sigil//  ",
            Some("https://log.example/sigil"),
        ),
        ("127.0.0.1:6962", None),
        ("ftp://x", None),
        ("http://", None),
        ("http:///path", None),
        ("http://x/?q=1", None),
        ("http://x/#f", None),
    ];

    #[test]
    fn base_urls_are_checked_and_trimmed() {
        for (input, want) in BASES {
            let got = Endpoint::new(input, &ClientOptions::default());
            match (got, want) {
                (Ok(e), Some(base)) => assert_eq!(e.base(), *base, "input {input:?}"),
                (Err(ClientError::InvalidUrl { .. }), None) => {}
                (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
            }
        }
    }
}
