//! The one HTTP server loop of every Sigil server (`sigil-log`, `sigil-ca`,
//! `sigil-witness`), with the limits that keep one client from holding the
//! server: a connection cap, a header timeout and a whole-request timeout.
//! Built on hyper's HTTP/1.1 connection (the servers speak HTTP/1.1, as
//! they did under `axum::serve`) with hyper-util's timer and graceful
//! shutdown. HTTP/2, once TLS offers it by ALPN, is hyper-util's `auto`
//! builder in its place; it needs hyper's `http2` (the `h2` crate), which
//! the workspace does not build yet.
//!
//! | limit | what it bounds | when it is reached |
//! |---|---|---|
//! | [`Limits::max_connections`] | connections open at once | the next connection waits in the kernel's accept queue until one closes (beyond the queue, the kernel refuses it) |
//! | [`Limits::header_timeout`] | from the moment the server waits for a request (a new connection, or an idle keep-alive one) to the end of its headers; and a TLS handshake | the connection is closed: a client that trickles its headers (slowloris) or idles holds a slot no longer than this |
//! | [`Limits::request_timeout`] | from the end of the headers to the response: reading the body and handling the request | `408 request_timeout` ([`crate::HttpError`]), and the connection is closed |
//!
//! Each request carries the peer's address as axum's
//! `ConnectInfo<SocketAddr>` extension ([`crate::client_addr`] says which
//! address to believe behind a proxy).
//!
//! The transport is pluggable ([`Acceptor`]): plain TCP, or TLS
//! ([`crate::tls`]), whose handshake runs in the connection's own task,
//! under the connection cap and the header timeout, so a slow handshake
//! holds one slot, never the accept loop.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse as _, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower_service::Service as _;

use crate::HttpError;
use crate::tls::{TlsAcceptor, Transport};

/// Default [`Limits::header_timeout`]: 10 s.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`Limits::request_timeout`]: 60 s (a server whose requests
/// wait longer raises it, [`LimitArgs::limits`]).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Default [`Limits::max_connections`]: 512, well under the usual limit
/// of 1,024 open files per process, which the server's own files share.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// What one client may hold of a server (module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest wait for a request's headers (and a TLS handshake).
    pub header_timeout: Duration,
    /// The longest a request may take from its headers to its response.
    pub request_timeout: Duration,
    /// The most connections open at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// The flags of the limits, the same in every server binary (flatten into
/// its `serve` command).
#[derive(Clone, Debug, clap::Args)]
pub struct LimitArgs {
    /// Longest wait for a request's headers, in ms, from the moment the
    /// server waits for one (on a new or an idle keep-alive connection);
    /// then the connection is closed.
    #[arg(long, default_value_t = DEFAULT_HEADER_TIMEOUT.as_millis() as u64)]
    pub header_timeout_ms: u64,
    /// Longest a request may take from its headers to its answer, in ms
    /// (reading the body included); then it is answered 408. Default: 60 s,
    /// or more where a request waits longer by design.
    #[arg(long)]
    pub request_timeout_ms: Option<u64>,
    /// Most connections open at once; more wait to be accepted.
    #[arg(long, default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
}

/// Why the limit flags were refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// A limit of zero would refuse everything.
    #[error("--{0} must be more than 0")]
    Zero(&'static str),
    /// The request timeout would cut off requests that wait by design.
    #[error(
        "--request-timeout-ms {given} is not longer than the {waits} ms a request may wait here \
         ({why}); raise it or leave it out"
    )]
    TooShort {
        /// The value given.
        given: u64,
        /// The longest wait by design, ms.
        waits: u64,
        /// What waits that long.
        why: &'static str,
    },
}

impl LimitArgs {
    /// The limits these flags set, for a server whose requests may wait up
    /// to `longest_wait` by design (`why`: what waits; zero if nothing
    /// does). Without `--request-timeout-ms` the request timeout is
    /// [`DEFAULT_REQUEST_TIMEOUT`], or `longest_wait` plus 10 s if that is
    /// more.
    ///
    /// # Errors
    ///
    /// [`LimitError`] for a zero limit or a request timeout not longer than
    /// `longest_wait`.
    pub fn limits(&self, longest_wait: Duration, why: &'static str) -> Result<Limits, LimitError> {
        if self.header_timeout_ms == 0 {
            return Err(LimitError::Zero("header-timeout-ms"));
        }
        if self.max_connections == 0 {
            return Err(LimitError::Zero("max-connections"));
        }
        let request_timeout = match self.request_timeout_ms {
            Some(0) => return Err(LimitError::Zero("request-timeout-ms")),
            Some(ms) if Duration::from_millis(ms) <= longest_wait => {
                return Err(LimitError::TooShort {
                    given: ms,
                    waits: u64::try_from(longest_wait.as_millis()).unwrap_or(u64::MAX),
                    why,
                });
            }
            Some(ms) => Duration::from_millis(ms),
            None => {
                DEFAULT_REQUEST_TIMEOUT.max(longest_wait.saturating_add(Duration::from_secs(10)))
            }
        };
        Ok(Limits {
            header_timeout: Duration::from_millis(self.header_timeout_ms),
            request_timeout,
            max_connections: self.max_connections,
        })
    }
}

/// Turns an accepted TCP connection into the byte stream HTTP is spoken
/// on: itself ([`PlainTcp`]), or a TLS session once its handshake is done.
pub trait Acceptor: Send + Sync + 'static {
    /// The stream HTTP is spoken on.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Wraps `tcp` (from `peer`). Runs in the connection's task, holding
    /// one of [`Limits::max_connections`] and bounded by
    /// [`Limits::header_timeout`]; an error closes the connection.
    fn accept(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
    ) -> impl Future<Output = std::io::Result<Self::Stream>> + Send;
}

/// Plain HTTP over TCP.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlainTcp;

impl Acceptor for PlainTcp {
    type Stream = TcpStream;

    async fn accept(&self, tcp: TcpStream, _peer: SocketAddr) -> std::io::Result<TcpStream> {
        Ok(tcp)
    }
}

/// Serves `router` on `listener` over `transport` (plain TCP, or TLS:
/// [`crate::tls`]) with `limits` until `shutdown` resolves; then stops
/// accepting, lets the requests in flight finish (each bounded by the
/// request timeout) and returns.
///
/// # Errors
///
/// None yet: accept errors are logged and the loop goes on. The `Result`
/// is for acceptors whose setup can fail.
pub async fn serve(
    listener: TcpListener,
    transport: &Transport,
    router: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    match transport {
        Transport::Plain => serve_with(listener, PlainTcp, router, limits, shutdown).await,
        Transport::Tls(config) => {
            let acceptor = TlsAcceptor::new(config.clone());
            serve_with(listener, acceptor, router, limits, shutdown).await
        }
    }
}

/// [`serve`] over the transport `acceptor` makes of each TCP connection.
///
/// # Errors
///
/// See [`serve`].
pub async fn serve_with<A: Acceptor>(
    listener: TcpListener,
    acceptor: A,
    router: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let acceptor = Arc::new(acceptor);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let builder = Arc::new(builder);
    let limits = *limits;
    tokio::pin!(shutdown);
    loop {
        // A slot first: beyond the cap, connections wait to be accepted.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // closed: never, the loop owns it
            },
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let watcher = graceful.watcher();
        let (acceptor, builder, router) = (acceptor.clone(), builder.clone(), router.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let stream =
                match tokio::time::timeout(limits.header_timeout, acceptor.accept(tcp, peer)).await
                {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "connection refused by the acceptor");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "connection setup timed out");
                        return;
                    }
                };
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                handle(router.clone(), peer, limits.request_timeout, request)
            });
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(connection).await {
                // Timeouts, resets, malformed requests: the client's.
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// One request: the peer's address attached, the router called, the whole
/// bounded by the request timeout.
async fn handle(
    mut router: Router,
    peer: SocketAddr,
    timeout: Duration,
    mut request: Request<Incoming>,
) -> Result<Response, Infallible> {
    request.extensions_mut().insert(ConnectInfo(peer));
    let call = router.call(request.map(Body::new));
    match tokio::time::timeout(timeout, call).await {
        Ok(answered) => answered,
        Err(_) => Ok(HttpError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!(
                "the request took longer than {} ms to send and handle; send it again, faster",
                timeout.as_millis()
            ),
        )
        .into_response()),
    }
}

/// After a failed `accept`: errors of one connection are skipped; others
/// (out of file descriptors, ...) are logged and the loop pauses a second
/// rather than spin.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind as K;
    if matches!(
        e.kind(),
        K::ConnectionAborted | K::ConnectionRefused | K::ConnectionReset | K::Interrupted
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept connections; trying again in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn args(header: u64, request: Option<u64>, max: usize) -> LimitArgs {
        LimitArgs {
            header_timeout_ms: header,
            request_timeout_ms: request,
            max_connections: max,
        }
    }

    #[test]
    fn limit_flags() {
        let wait = Duration::from_secs(70);
        // Defaults: 60 s, or the longest wait plus 10 s.
        let l = args(10_000, None, 512)
            .limits(Duration::ZERO, "nothing")
            .unwrap();
        assert_eq!(l, Limits::default());
        let l = args(10_000, None, 512).limits(wait, "x").unwrap();
        assert_eq!(l.request_timeout, Duration::from_secs(80));
        let l = args(5, Some(70_001), 1).limits(wait, "x").unwrap();
        assert_eq!(
            (l.header_timeout, l.request_timeout, l.max_connections),
            (Duration::from_millis(5), Duration::from_millis(70_001), 1)
        );
        for bad in [
            args(0, None, 1),
            args(1, Some(0), 1),
            args(1, None, 0),
            args(1, Some(70_000), 1),
        ] {
            assert!(bad.limits(wait, "x").is_err(), "{bad:?}");
        }
    }
}
