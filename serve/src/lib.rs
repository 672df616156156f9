//! sigil-serve: what the server binaries (`sigil-ca`, `sigil-log`,
//! `sigil-witness`) share, so that they behave alike (DESIGN.md
//! "Interfaces"): logs on stderr filtered by `$SIGIL_LOG`, one line
//! `listening on http://IP:PORT` on stderr once the socket accepts, and a
//! clean stop on SIGTERM or Ctrl-C.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::net::SocketAddr;

use tokio::net::TcpListener;

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
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

/// Binds `listen` (port 0 picks a free port) and prints `listening on
/// http://IP:PORT` on stderr: from then on connections are accepted (they
/// wait in the backlog until the server runs).
pub async fn bind(listen: SocketAddr) -> Result<TcpListener, String> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    eprintln!("listening on http://{addr}");
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
pub fn exit(program: &str, result: Result<(), String>) -> std::process::ExitCode {
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
