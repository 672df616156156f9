//! `sigil-ca`: Sigil's certificate authority (DESIGN.md "Interfaces").
//!
//! ```text
//! sigil-ca init --out DIR [--name NAME]
//! sigil-ca serve --dir DIR --data-dir DIR --log URL --log-key PUB --admin-token-file F [--listen ADDR]
//!                [--header-timeout-ms MS] [--request-timeout-ms MS] [--max-connections N]
//!                [--tls-cert PEM --tls-key PEM] [--ca-bundle PEM]
//! sigil-ca invite --ca URL --admin-token-file F --identity ID --crate NAME... [--ttl DUR]
//! sigil-ca revoke --ca URL --admin-token-file F --serial HEX --reason R [--from-index N]
//! sigil-ca trust-root (--dir DIR | --ca URL)
//! ```
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use sigil_ca::server::{self, CaConfig};
use sigil_ca::setup::{self, load_ca, read_admin_token, read_certificate, trust_root_snippet};
use sigil_ca::store::CaStore;
use sigil_client::blocking::CaClient;
use sigil_client::{CaBundle, ClientOptions, LogClient};
use sigil_core::ca_api::{InviteRequest, RevokeRequest};
use sigil_keyfile::p256_key::{self as keyfile, PASSPHRASE_ENV};
use sigil_keyfile::secret_file;
use sigil_serve::http::LimitArgs;
use sigil_serve::tls::TlsArgs;

/// Sigil's certificate authority.
#[derive(Parser)]
#[command(name = "sigil-ca", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Trust exactly the CAs in this PEM bundle for `https://` URLs (the
    /// log's for `serve`, the CA's for the admin commands), instead of the
    /// platform's.
    #[arg(long, global = true, value_name = "PEM", env = "SIGIL_CA_BUNDLE")]
    ca_bundle: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Creates a CA: a self-signed root and an intermediate signed by it,
    /// their keys (mode 0600) and an admin token, in a new directory.
    Init {
        /// Directory to create (must not exist or be empty).
        #[arg(long)]
        out: PathBuf,
        /// The CA's name; the certificates are `<NAME> Root` and
        /// `<NAME> Intermediate`.
        #[arg(long, default_value = "Sigil CA")]
        name: String,
        /// Encrypt both keys with the passphrase in this file (else
        /// $SIGIL_PASSPHRASE, else unencrypted).
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
        /// Lifetime of the root, days.
        #[arg(long, default_value_t = 3650)]
        root_validity_days: u64,
        /// Lifetime of the intermediate, days.
        #[arg(long, default_value_t = 1825)]
        intermediate_validity_days: u64,
    },
    /// Runs the CA's HTTP server (needs only the intermediate's key).
    Serve {
        /// The directory `init` made (root.pem, intermediate.pem,
        /// intermediate.key).
        #[arg(long)]
        dir: PathBuf,
        /// Directory of the CA's RocksDB store (created if missing).
        #[arg(long)]
        data_dir: PathBuf,
        /// Base URL of the log every certificate is logged to.
        #[arg(long)]
        log: String,
        /// File holding the admin bearer token (mode 0600).
        #[arg(long)]
        admin_token_file: PathBuf,
        /// The log's verifier key file (`sigil-log keygen`'s log.pub),
        /// required: every proof the log returns is checked before a
        /// certificate is handed out, a revocation's default `from_index`
        /// comes from a checkpoint whose signature is checked, and
        /// revocations are signed for the key's name, the log's origin.
        #[arg(long)]
        log_key: PathBuf,
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:6963")]
        listen: SocketAddr,
        /// Passphrase file for the intermediate's key (else
        /// $SIGIL_PASSPHRASE).
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
        /// Lifetime of issued certificates, e.g. `90d`, `12h`.
        #[arg(long, default_value = "90d", value_parser = parse_duration)]
        leaf_validity: Duration,
        /// Longest lifetime an invitation may have.
        #[arg(long, default_value = "30d", value_parser = parse_duration)]
        max_invite_ttl: Duration,
        /// Largest accepted request body, bytes.
        #[arg(long, default_value_t = 64 * 1024)]
        body_limit: usize,
        /// How long to wait for the log to sequence an entry.
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        log_timeout: Duration,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        tls: TlsArgs,
    },
    /// Invites a maintainer: prints a one-time enrollment token on stdout.
    Invite {
        /// Base URL of the CA.
        #[arg(long)]
        ca: String,
        /// File holding the admin bearer token.
        #[arg(long)]
        admin_token_file: PathBuf,
        /// The maintainer's identity: an email address or an https URI.
        #[arg(long)]
        identity: String,
        /// A crate the maintainer may sign (repeat for several).
        #[arg(long = "crate", required = true)]
        crates: Vec<String>,
        /// How long the token stays valid, e.g. `7d`, `2h`.
        #[arg(long, value_parser = parse_duration)]
        ttl: Option<Duration>,
    },
    /// Revokes a certificate: logs a CA-signed revocation entry.
    Revoke {
        /// Base URL of the CA.
        #[arg(long)]
        ca: String,
        /// File holding the admin bearer token.
        #[arg(long)]
        admin_token_file: PathBuf,
        /// The certificate's serial number, hex.
        #[arg(long)]
        serial: String,
        /// RFC 5280 reason: unspecified, keyCompromise, cACompromise,
        /// affiliationChanged, superseded, cessationOfOperation,
        /// privilegeWithdrawn, aACompromise.
        #[arg(long)]
        reason: String,
        /// Releases logged before this index stay valid (default: the
        /// size of the log's checkpoint, whose signature the CA checks,
        /// i.e. from now on; a larger index is refused).
        #[arg(long)]
        from_index: Option<u64>,
    },
    /// Prints the root certificate clients pin (for `sigil trust-root
    /// --ca-root`), with its SHA-256 fingerprint.
    TrustRoot {
        /// The CA directory `init` made.
        #[arg(long, conflicts_with = "ca", required_unless_present = "ca")]
        dir: Option<PathBuf>,
        /// Or a running CA's base URL (compare the fingerprint out of band).
        #[arg(long)]
        ca: Option<String>,
    },
}

fn main() -> ExitCode {
    sigil_serve::init_tracing();
    sigil_serve::exit("sigil-ca", run(Cli::parse()))
}

fn run(cli: Cli) -> Result<(), String> {
    let ca_bundle = cli
        .ca_bundle
        .as_deref()
        .map(CaBundle::read)
        .transpose()
        .map_err(|e| format!("--ca-bundle {e}"))?;
    let options = |timeout| ClientOptions {
        timeout,
        ca_bundle: ca_bundle.clone(),
    };
    match cli.command {
        Command::Init {
            out,
            name,
            passphrase_file,
            root_validity_days,
            intermediate_validity_days,
        } => {
            let passphrase = keyfile::read_passphrase(passphrase_file.as_deref(), PASSPHRASE_ENV)
                .map_err(|e| e.to_string())?;
            let summary = setup::init(
                &out,
                &name,
                passphrase.as_ref().map(|p| p.as_slice()),
                root_validity_days,
                intermediate_validity_days,
                sigil_serve::unix_ms(),
            )
            .map_err(|e| e.to_string())?;
            eprintln!("{summary}");
            Ok(())
        }
        Command::Serve {
            dir,
            data_dir,
            log,
            admin_token_file,
            log_key,
            listen,
            passphrase_file,
            leaf_validity,
            max_invite_ttl,
            body_limit,
            log_timeout,
            limits,
            tls,
        } => {
            let transport = tls.transport().map_err(|e| e.to_string())?;
            let limits = limits
                .limits(
                    log_timeout,
                    "an enrollment waits for the log (--log-timeout)",
                )
                .map_err(|e| e.to_string())?;
            let passphrase = keyfile::read_passphrase(passphrase_file.as_deref(), PASSPHRASE_ENV)
                .map_err(|e| e.to_string())?;
            let intermediate = load_ca(
                &dir,
                "intermediate",
                passphrase.as_ref().map(|p| p.as_slice()),
            )
            .map_err(|e| e.to_string())?;
            let now = sigil_serve::unix_ms();
            if intermediate.not_after_ms() <= now {
                return Err(format!(
                    "{}: the intermediate certificate has expired; make a new one",
                    dir.join("intermediate.pem").display()
                ));
            }
            let root_der = read_certificate(&dir.join("root.pem")).map_err(|e| e.to_string())?;
            let admin = read_admin_token(&admin_token_file).map_err(|e| e.to_string())?;
            let issuer = aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                intermediate.certificate_der(),
            );
            let mut issuer_id = [0u8; 32];
            issuer_id.copy_from_slice(issuer.as_ref());
            let store = CaStore::open(&data_dir, &issuer_id)
                .map_err(|e| format!("{}: {e}", data_dir.display()))?;
            let vkey = std::fs::read_to_string(&log_key)
                .map_err(|e| format!("{}: {e}", log_key.display()))?;
            let log = LogClient::with_options(&log, &options(log_timeout))
                .map_err(|e| e.to_string())?
                .with_verifier_key(&vkey)
                .map_err(|e| format!("{}: {e}", log_key.display()))?;
            let config = CaConfig {
                intermediate,
                root_der,
                admin,
                log,
                leaf_validity,
                max_invite_ttl,
                body_limit,
            };
            sigil_serve::runtime()
                .map_err(|e| e.to_string())?
                .block_on(async move {
                    let stop = sigil_serve::shutdown_signal("finishing the requests in flight");
                    let listener = sigil_serve::bind(listen, &transport)
                        .await
                        .map_err(|e| e.to_string())?;
                    server::serve(Arc::new(store), config, listener, &limits, &transport, stop)
                        .await
                        .map_err(|e| format!("http server: {e}"))
                })?;
            tracing::info!("stopped cleanly");
            Ok(())
        }
        Command::Invite {
            ca,
            admin_token_file,
            identity,
            crates,
            ttl,
        } => {
            let request = InviteRequest {
                identity,
                crates,
                ttl_seconds: ttl.map(|t| t.as_secs().max(1)),
            };
            let invited = admin_client(&ca, &admin_token_file, &options(ADMIN_TIMEOUT))?
                .invite(&request)
                .map_err(|e| e.to_string())?;
            eprintln!(
                "invited {} for {}; the token expires at {} (Unix ms) and works once",
                invited.identity,
                invited.crates.join(", "),
                invited.expires_at
            );
            println!("{}", invited.token);
            Ok(())
        }
        Command::Revoke {
            ca,
            admin_token_file,
            serial,
            reason,
            from_index,
        } => {
            let request = RevokeRequest {
                serial: serial.clone(),
                reason,
                from_index,
            };
            let revoked = admin_client(&ca, &admin_token_file, &options(ADMIN_TIMEOUT))?
                .revoke(&request)
                .map_err(|e| e.to_string())?;
            eprintln!(
                "revoked {serial}: releases at log index {} or later are refused (revocation \
                 logged at index {})",
                revoked.from_index, revoked.log_index
            );
            println!(
                "{}",
                serde_json::to_string(&revoked).map_err(|e| e.to_string())?
            );
            Ok(())
        }
        Command::TrustRoot { dir, ca } => {
            let root = match (dir, ca) {
                (Some(dir), _) => {
                    read_certificate(&dir.join("root.pem")).map_err(|e| e.to_string())?
                }
                (None, Some(ca)) => fetch_root(&ca, &options(ADMIN_TIMEOUT))?,
                (None, None) => return Err("give --dir or --ca".into()),
            };
            print!("{}", trust_root_snippet(&root).map_err(|e| e.to_string())?);
            Ok(())
        }
    }
}

/// `30s`, `15m`, `12h`, `90d`, or plain seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 30s, 15m, 12h or 90d"))?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?}: the unit must be s, m, h or d")),
    };
    n.checked_mul(unit_secs)
        .map(Duration::from_secs)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{s:?} is zero or too long"))
}

/// How long an admin command waits for the CA (a revocation waits for
/// the log to sequence it).
const ADMIN_TIMEOUT: Duration = Duration::from_secs(60);

fn fetch_root(ca: &str, options: &ClientOptions) -> Result<Vec<u8>, String> {
    let client = CaClient::with_options(ca, options).map_err(|e| e.to_string())?;
    let url = format!("{}{}", client.url(), sigil_core::ca_api::CHAIN_PATH);
    let text = client.chain().map_err(|e| e.to_string())?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(text.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{url}: not a PEM chain: {e}"))?;
    chain
        .last()
        .map(|c| c.to_vec())
        .ok_or_else(|| format!("{url}: the chain is empty"))
}

/// A client of the CA's admin endpoints with the token in `token_file`.
fn admin_client(ca: &str, token_file: &Path, options: &ClientOptions) -> Result<CaClient, String> {
    let token = secret_file::read_secret(token_file).map_err(|e| e.to_string())?;
    let token = std::str::from_utf8(&token)
        .map_err(|_| format!("{}: the admin token is not text", token_file.display()))?;
    Ok(CaClient::with_options(ca, options)
        .map_err(|e| e.to_string())?
        .with_admin_token(token))
}
