//! sigil-serve: what the server binaries (`sigil-ca`, `sigil-log`,
//! `sigil-witness`) share, so that they behave alike (DESIGN.md
//! "Interfaces"): logs on stderr filtered by `$SIGIL_LOG`, one line
//! `listening on http://IP:PORT` on stderr once the socket accepts, a
//! clean stop on SIGTERM or Ctrl-C, the clock they stamp with, one
//! error answer ([`http_error`]), one server loop with the limits that
//! keep a client from holding a server ([`http`]), and which address a
//! request comes from behind a proxy ([`client_addr`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client_addr;
pub mod http;
pub mod http_error;
pub mod tls;

use std::net::SocketAddr;

use tokio::net::TcpListener;

pub use http_error::HttpError;

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The tokio runtime could not be built.
    #[error("tokio runtime: {0}")]
    Runtime(std::io::Error),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// Now, as Unix milliseconds: the time servers stamp entries and
/// certificates with. A clock before 1970 reads as 0.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Logs to stderr at the level `$SIGIL_LOG` names (default `info`; e.g.
/// `SIGIL_LOG=info,tower_http=debug`), in colour only on a terminal.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SIGIL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// A multi-threaded tokio runtime.
///
/// # Errors
///
/// [`StartError::Runtime`].
pub fn runtime() -> Result<tokio::runtime::Runtime, StartError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(StartError::Runtime)
}

/// Binds `listen` (port 0 picks a free port) and prints `listening on
/// http://IP:PORT` (`https://` over TLS) on stderr: from then on
/// connections are accepted (they wait in the backlog until the server
/// runs).
///
/// # Errors
///
/// [`StartError::Bind`].
pub async fn bind(
    listen: SocketAddr,
    transport: &tls::Transport,
) -> Result<TcpListener, StartError> {
    let bind = |source| StartError::Bind {
        addr: listen,
        source,
    };
    let listener = TcpListener::bind(listen).await.map_err(bind)?;
    let addr = listener.local_addr().map_err(bind)?;
    eprintln!("listening on {}://{addr}", transport.scheme());
    Ok(listener)
}

/// A future that resolves on SIGTERM or SIGINT, logging `what` (what the
/// server finishes before it exits). The handlers are installed when this
/// is called, not when the future is first polled: call it before [`bind`],
/// so a SIGTERM sent as soon as the listening line appears stops the server
/// cleanly instead of killing it. Must be called inside a tokio runtime.
pub fn shutdown_signal(what: &'static str) -> impl std::future::Future<Output = ()> + Send {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        let wait = |s: std::io::Result<tokio::signal::unix::Signal>| async move {
            match s {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(term) => {},
            () = wait(int) => {},
        }
        tracing::info!("shutting down: {what}");
    }
}

/// The exit status of a server binary: success, or the error printed as
/// `<program>: <message>` on stderr.
pub fn exit<E: std::fmt::Display>(program: &str, result: Result<(), E>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{program}: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// What a server's data directory holds, before RocksDB opens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreDir {
    /// Missing (now created) or empty: a new store goes here.
    Fresh,
    /// Holds a RocksDB database (its `CURRENT` file).
    RocksDb,
    /// Holds other files: never let RocksDB create a database among them.
    Foreign,
}

/// Looks at (and, if missing, creates) a server's data directory.
pub fn store_dir(dir: &std::path::Path) -> std::io::Result<StoreDir> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(StoreDir::Fresh),
            Some(Err(e)) => Err(e),
            Some(Ok(_)) if dir.join("CURRENT").is_file() => Ok(StoreDir::RocksDb),
            Some(Ok(_)) => Ok(StoreDir::Foreign),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)?;
            Ok(StoreDir::Fresh)
        }
        Err(e) => Err(e),
    }
}
