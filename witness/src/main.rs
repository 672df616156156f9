//! `sigil-witness`: Sigil's transparency log witness (c2sp.org/tlog-witness).
//!
//! ```text
//! sigil-witness keygen --name NAME --out DIR      # DIR/witness.key (0600), DIR/witness.pub
//! sigil-witness serve --key FILE --logs FILE --data-dir DIR [--listen ADDR]
//!                     [--header-timeout-ms MS] [--request-timeout-ms MS] [--max-connections N]
//!                     [--tls-cert PEM --tls-key PEM]
//! ```
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use sigil_core::cosignature::CosignatureSigner;
use sigil_keyfile::note_key;
use sigil_serve::http::LimitArgs;
use sigil_serve::tls::TlsArgs;
use sigil_witness::log_list::LogList;
use sigil_witness::state::StateDir;
use sigil_witness::{Witness, api};

/// Sigil's transparency log witness.
#[derive(Parser)]
#[command(name = "sigil-witness", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Makes the witness's Ed25519 cosigning key: DIR/witness.key (mode
    /// 0600) and the verifier key line DIR/witness.pub that clients trust.
    Keygen {
        /// The witness's name, e.g. `witness.example.org/w1` (C2SP signed-note key name).
        #[arg(long)]
        name: String,
        /// Directory to write the two files to (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Runs the witness.
    Serve {
        /// The witness's private key file (from `keygen`).
        #[arg(long)]
        key: PathBuf,
        /// The logs to witness: a witness-network `logs/v0` list of `vkey`
        /// (and optional `origin`) lines.
        #[arg(long)]
        logs: PathBuf,
        /// Directory of the per-log state (created if missing).
        #[arg(long)]
        data_dir: PathBuf,
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:7380")]
        listen: SocketAddr,
        /// Largest accepted request body in bytes.
        #[arg(long, default_value_t = api::DEFAULT_BODY_LIMIT)]
        body_limit: usize,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        tls: TlsArgs,
    },
}

fn main() -> ExitCode {
    sigil_serve::init_tracing();
    sigil_serve::exit("sigil-witness", run(Cli::parse()))
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Keygen { name, out } => keygen(&name, &out),
        Command::Serve {
            key,
            logs,
            data_dir,
            listen,
            body_limit,
            limits,
            tls,
        } => {
            let transport = tls.transport().map_err(|e| e.to_string())?;
            let limits = limits
                .limits(std::time::Duration::ZERO, "nothing waits")
                .map_err(|e| e.to_string())?;
            let signer = note_key::read_witness_key(&key).map_err(|e| e.to_string())?;
            let text =
                std::fs::read_to_string(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
            let logs = LogList::parse(&text).map_err(|e| format!("{}: {e}", logs.display()))?;
            let (state, loaded) = StateDir::open(&data_dir).map_err(|e| e.to_string())?;
            let witness = Arc::new(Witness::new(signer, logs, state, loaded));
            tracing::info!(key = %witness.verifier().verifier_key(), "witness key");
            let runtime = sigil_serve::runtime().map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let stop = sigil_serve::shutdown_signal("finishing the requests in flight");
                let listener = sigil_serve::bind(listen, &transport)
                    .await
                    .map_err(|e| e.to_string())?;
                api::serve(witness, listener, body_limit, &limits, &transport, stop)
                    .await
                    .map_err(|e| e.to_string())
            })?;
            tracing::info!("stopped cleanly");
            Ok(())
        }
    }
}

fn keygen(name: &str, out: &Path) -> Result<(), String> {
    let signer = CosignatureSigner::generate(name).map_err(|e| format!("--name: {e}"))?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let (secret, public) = note_key::write_witness_key(out, &signer).map_err(|e| e.to_string())?;
    eprintln!(
        "wrote {} (private, mode 0600) and {}",
        secret.display(),
        public.display()
    );
    Ok(())
}
