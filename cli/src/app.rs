//! The command lines of `sigil` and `cargo sigil` (DESIGN.md
//! "Interfaces"), and how results are printed: one line a person reads on
//! stderr, or `--json` on stdout for machines. Exit status 0 only when
//! everything passed.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use sigil_client::checkpoint_cache::CacheOutcome;
use sigil_client::{CaBundle, ClientOptions};
use sigil_keyfile::p256_key::{self as keyfile, PASSPHRASE_ENV};

use crate::client::{self, Client, TrustRootRequest};
use crate::error::CliError;
use crate::maintainer::{self, SignRequest, Signed};
use crate::proxy;
use crate::quickstart;
use crate::verify_lock::{self, LockRequest};

/// Sign Rust crates and verify them against the Sigil log.
#[derive(Parser)]
#[command(name = "sigil", version, about)]
struct Sigil {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Makes a P-256 signing key (PKCS#8 PEM, mode 0600).
    Keygen {
        /// Where to write the key (never overwritten).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        passphrase: Passphrase,
    },
    /// Enrolls a key with the CA using an invitation token; writes the
    /// certificate and its chain, and the certificate entry's proof.
    Enroll {
        /// The CA's base URL.
        #[arg(long)]
        ca: String,
        /// The one-time token from `sigil-ca invite`. Visible to other users
        /// of this machine (`ps`): prefer --token-file.
        #[arg(
            long,
            required_unless_present = "token_file",
            conflicts_with = "token_file"
        )]
        token: Option<String>,
        /// A file whose first line is the token (mode 0600, as a key), or
        /// `-` to read it from standard input.
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// The key from `sigil keygen`.
        #[arg(long)]
        key: PathBuf,
        /// Where to write the certificate and chain (PEM).
        #[arg(long)]
        out: PathBuf,
        /// The trust root clients pin (`sigil trust-root`): the CA's proof
        /// that the certificate is logged is checked against it before
        /// anything is written.
        #[arg(long, env = "SIGIL_TRUST_ROOT")]
        trust_root: Option<PathBuf>,
        /// Checkpoint cache directory (default $SIGIL_HOME, else the user cache dir).
        #[arg(long, env = "SIGIL_HOME")]
        sigil_home: Option<PathBuf>,
        #[command(flatten)]
        passphrase: Passphrase,
        #[command(flatten)]
        connect: Connect,
    },
    /// Signs a .crate and publishes it to the log (writes
    /// FILE.crate.tlog-proof), or writes it for a co-maintainer to add
    /// their signature (--no-submit).
    Sign {
        /// The key from `sigil keygen`.
        #[arg(long)]
        key: PathBuf,
        /// The certificate file from `sigil enroll`.
        #[arg(long)]
        cert: PathBuf,
        /// The log to publish to.
        #[arg(long, required_unless_present = "no_submit")]
        log: Option<String>,
        /// The trust root clients pin (`sigil trust-root`): the log's
        /// answer is checked against it before the proof is written.
        #[arg(long, env = "SIGIL_TRUST_ROOT", required_unless_present = "no_submit")]
        trust_root: Option<PathBuf>,
        /// Checkpoint cache directory (default $SIGIL_HOME, else the user cache dir).
        #[arg(long, env = "SIGIL_HOME")]
        sigil_home: Option<PathBuf>,
        /// Add this signature to a co-maintainer's pending submission.
        #[arg(long)]
        add_to: Option<PathBuf>,
        /// Do not submit: write the pending submission instead.
        #[arg(long, conflicts_with = "log")]
        no_submit: bool,
        /// Where to write the pending submission (default
        /// FILE.crate.sigil-pending.json).
        #[arg(long, requires = "no_submit")]
        out: Option<PathBuf>,
        /// The .crate file (from `cargo package`).
        file: PathBuf,
        #[command(flatten)]
        passphrase: Passphrase,
        #[command(flatten)]
        connect: Connect,
    },
    /// Writes the trust root a client pins: CA root(s), the log's key and
    /// URL, witnesses and quorum; `sigil trust-root install FILE` pins one
    /// for every later command.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    TrustRoot {
        #[command(subcommand)]
        action: Option<TrustRootAction>,
        /// PEM file of the CA root certificate (repeat for several).
        #[arg(long = "ca-root", required = true)]
        ca_roots: Vec<PathBuf>,
        /// The log's verifier key file (`sigil-log keygen`'s log.pub).
        #[arg(long, required = true)]
        log_key: Option<PathBuf>,
        /// The log's origin (default: the key's name).
        #[arg(long)]
        origin: Option<String>,
        /// The log's base URL, written into the trust root so that clients
        /// ask it online without --log.
        #[arg(long)]
        log_url: Option<String>,
        /// A witness verifier key, or a file holding one (repeat).
        #[arg(long = "witness")]
        witnesses: Vec<String>,
        /// How many witnesses must cosign a checkpoint.
        #[arg(long, default_value_t = 0)]
        quorum: usize,
        /// Where to write the trust root (JSON).
        #[arg(long, required = true)]
        out: Option<PathBuf>,
    },
    /// Verifies a .crate offline from its proof; exit 0 only if every
    /// check passes.
    Verify {
        #[command(flatten)]
        common: VerifyCommon,
        /// The .crate file.
        file: PathBuf,
        /// The proof (default FILE.crate.tlog-proof, else fetched with --log).
        #[arg(long)]
        proof: Option<PathBuf>,
    },
    /// Verifies every registry crate of a Cargo.lock from cargo's cache.
    VerifyLock(VerifyLockArgs),
    /// Follows a log by its public tiles, re-checks every entry, and prints
    /// alerts as JSON lines (watched crates and identities, violations).
    Monitor {
        /// The log's base URL.
        #[arg(long)]
        log: String,
        /// The trust root file.
        #[arg(long)]
        trust_root: PathBuf,
        /// Where the monitor keeps its state (it resumes from there).
        #[arg(long)]
        state: PathBuf,
        /// Alert on every release of this crate (repeat).
        #[arg(long = "watch-crate")]
        watch_crates: Vec<String>,
        /// Alert on every certificate or release of this identity (repeat).
        #[arg(long = "watch-identity")]
        watch_identities: Vec<String>,
        /// POST each alert (JSON) to this URL too.
        #[arg(long)]
        webhook: Option<String>,
        /// Catch up once and exit; non-zero if a violation was found.
        #[arg(long)]
        once: bool,
        /// Seconds between polls.
        #[arg(long, default_value_t = 10)]
        interval: u64,
        #[command(flatten)]
        connect: Connect,
    },
    /// Runs a cargo registry proxy that verifies every `.crate` before
    /// cargo gets it (cargo goes through it by source replacement:
    /// --print-cargo-config prints the snippet).
    Proxy(ProxyArgs),
    /// Runs CA, log, maintainer and client on this machine, step by step.
    Quickstart {
        /// Directory for everything it makes (default ./sigil-quickstart).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Args)]
struct Passphrase {
    /// File whose first line is the key's passphrase (else
    /// $SIGIL_PASSPHRASE; else the key is not encrypted).
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
}

impl Passphrase {
    fn read(&self) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, CliError> {
        keyfile::read_passphrase(self.passphrase_file.as_deref(), PASSPHRASE_ENV)
            .map_err(|e| CliError::Usage(e.to_string()))
    }
}

/// `sigil trust-root <action>`.
#[derive(Subcommand)]
enum TrustRootAction {
    /// Checks FILE and pins it for this user (the config directory;
    /// `$SIGIL_TRUST_ROOT` or --trust-root still override it).
    Install {
        /// The trust root file (`sigil trust-root --out`).
        file: PathBuf,
    },
}

#[derive(Args)]
struct VerifyCommon {
    /// The trust root file (default: `$SIGIL_TRUST_ROOT`, else the one
    /// `sigil trust-root install` pinned).
    #[arg(long, env = "SIGIL_TRUST_ROOT")]
    trust_root: Option<PathBuf>,
    /// Also ask this log (revocations, consistency for the checkpoint
    /// cache); default: the trust root's log.url.
    #[arg(long)]
    log: Option<String>,
    /// Ask no log, even if the trust root names one.
    #[arg(long, conflicts_with = "log")]
    offline: bool,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Checkpoint cache directory (default $SIGIL_HOME, else the user cache dir).
    #[arg(long, env = "SIGIL_HOME")]
    sigil_home: Option<PathBuf>,
    #[command(flatten)]
    connect: Connect,
}

/// How Sigil's servers are reached.
#[derive(Args)]
struct Connect {
    /// For https:// servers, trust exactly the CA certificates in this PEM
    /// file instead of the system's (e.g. a private CA).
    #[arg(long, env = "SIGIL_CA_BUNDLE")]
    ca_bundle: Option<PathBuf>,
}

impl Connect {
    fn options(&self) -> Result<ClientOptions, CliError> {
        let ca_bundle = self
            .ca_bundle
            .as_deref()
            .map(CaBundle::read)
            .transpose()
            .map_err(|e| CliError::Usage(e.to_string()))?;
        Ok(ClientOptions {
            ca_bundle,
            ..ClientOptions::default()
        })
    }
}

/// `sigil verify-lock` / `cargo sigil verify`.
#[derive(Args)]
pub struct VerifyLockArgs {
    #[command(flatten)]
    common: VerifyCommon,
    /// The lockfile.
    #[arg(default_value = "Cargo.lock")]
    lockfile: PathBuf,
    /// A directory of `<name>-<version>.crate.tlog-proof` files, for offline use.
    #[arg(long)]
    proofs: Option<PathBuf>,
    /// Fail on crates nobody signed (default: warn).
    #[arg(long)]
    deny_unsigned: bool,
    /// Cargo's home (default $CARGO_HOME, else ~/.cargo).
    #[arg(long)]
    cargo_home: Option<PathBuf>,
    /// Check the crates the build needs on this target (repeat; default
    /// the host's), as `cargo metadata --filter-platform` says; the rest
    /// of the lockfile is reported as not needed.
    #[arg(long = "target")]
    targets: Vec<String>,
    /// Check every registry crate of the lockfile, for every platform.
    #[arg(long, conflicts_with = "targets")]
    all_targets: bool,
    /// Let cargo download the needed crates first (`cargo fetch --locked`).
    #[arg(long)]
    fetch: bool,
}

/// `cargo sigil`, as cargo runs it: `cargo-sigil sigil <command>`.
#[derive(Parser)]
#[command(name = "cargo", bin_name = "cargo")]
enum CargoCli {
    /// Sigil for cargo projects.
    #[command(subcommand, version, about)]
    Sigil(CargoCommand),
}

#[derive(Subcommand)]
enum CargoCommand {
    /// Verifies every registry crate of Cargo.lock (as `sigil verify-lock`).
    Verify(VerifyLockArgs),
    /// Runs the verifying registry proxy (as `sigil proxy`).
    Proxy(ProxyArgs),
    /// `cargo build` with every download verified by an ephemeral
    /// `sigil proxy` (nothing to configure; the proxy stops with cargo).
    Build(ThroughProxy),
    /// `cargo fetch` through an ephemeral `sigil proxy`.
    Fetch(ThroughProxy),
}

/// `cargo sigil build|fetch`: the proxy's flags, then cargo's.
#[derive(Args)]
pub struct ThroughProxy {
    /// The trust root the crates are verified against (default: the
    /// pinned one).
    #[arg(long, env = "SIGIL_TRUST_ROOT")]
    trust_root: Option<PathBuf>,
    /// The log to fetch proofs and revocations from (default: the trust
    /// root's log.url).
    #[arg(long)]
    log: Option<String>,
    /// The upstream sparse index.
    #[arg(long, default_value = proxy::DEFAULT_UPSTREAM)]
    upstream: String,
    /// A policy file (TOML: require-signed, allow-unsigned, deny).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Refuse every unsigned crate.
    #[arg(long)]
    require_signed: bool,
    /// Checkpoint cache directory (default $SIGIL_HOME, else the user cache dir).
    #[arg(long, env = "SIGIL_HOME")]
    sigil_home: Option<PathBuf>,
    #[command(flatten)]
    connect: Connect,
    /// Arguments for cargo, after `--` (e.g. `-- --release`).
    #[arg(last = true)]
    cargo_args: Vec<String>,
}

/// Runs `cargo <subcommand>` with source replacement to a `sigil proxy`
/// started for it on a free port, then stops the proxy and repeats its
/// warnings (unsigned crates let through).
fn cargo_through_proxy(subcommand: &str, args: &ThroughProxy) -> Result<(), CliError> {
    let sigil =
        crate::server_process::find_binary("sigil").map_err(|e| CliError::Usage(e.to_string()))?;
    let mut command = std::process::Command::new(sigil);
    command
        .args(["proxy", "--listen", "127.0.0.1:0"])
        .args(["--upstream", &args.upstream]);
    if let Some(log) = &args.log {
        command.args(["--log", log]);
    }
    if let Some(trust) = &args.trust_root {
        command.arg("--trust-root").arg(trust);
    }
    if let Some(policy) = &args.policy {
        command.arg("--policy").arg(policy);
    }
    if args.require_signed {
        command.arg("--require-signed");
    }
    if let Some(home) = &args.sigil_home {
        command.arg("--sigil-home").arg(home);
    }
    if let Some(bundle) = &args.connect.ca_bundle {
        command.arg("--ca-bundle").arg(bundle);
    }
    command.env("SIGIL_LOG", "warn");
    let proxy = crate::server_process::ServerProcess::start("sigil proxy", command, None)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .arg(subcommand)
        .args(["--config", "source.crates-io.replace-with=\"sigil\""])
        .arg("--config")
        .arg(format!(
            "source.sigil.registry=\"sparse+{}/index/\"",
            proxy.url
        ))
        .args(&args.cargo_args)
        .status()
        .map_err(|e| CliError::Usage(format!("cannot run cargo: {e}")))?;
    for line in proxy.stderr().lines().filter(|l| l.contains("WARN")) {
        eprintln!("sigil proxy: {line}");
    }
    drop(proxy);
    if status.success() {
        Ok(())
    } else {
        Err(CliError::Reported(format!(
            "cargo {subcommand} failed ({status})"
        )))
    }
}

/// The `sigil` binary.
pub fn main_sigil() -> ExitCode {
    let cli = Sigil::parse();
    let json = matches!(
        &cli.command,
        Command::Verify { common, .. } | Command::VerifyLock(VerifyLockArgs { common, .. }) if common.json
    );
    finish(run(cli.command), json)
}

/// The `cargo-sigil` binary.
pub fn main_cargo() -> ExitCode {
    let CargoCli::Sigil(command) = CargoCli::parse();
    match command {
        CargoCommand::Verify(args) => {
            let json = args.common.json;
            finish(verify_lock_cmd(&args), json)
        }
        CargoCommand::Proxy(args) => finish(proxy_cmd(&args), false),
        CargoCommand::Build(args) => finish(cargo_through_proxy("build", &args), false),
        CargoCommand::Fetch(args) => finish(cargo_through_proxy("fetch", &args), false),
    }
}

fn finish(result: Result<(), CliError>, json: bool) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json && !matches!(e, CliError::Reported(_)) {
                print_json(&Failure {
                    ok: false,
                    code: e.code(),
                    message: e.to_string(),
                });
            }
            match &e {
                CliError::Security(_) => eprintln!("{e}"),
                _ => eprintln!("sigil: {e}"),
            }
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Keygen { out, passphrase } => {
            let pass = passphrase.read()?;
            maintainer::keygen(&out, pass.as_ref().map(|p| p.as_slice()))?;
            eprintln!(
                "wrote {} (P-256, mode 0600{})",
                out.display(),
                if pass.is_some() { ", encrypted" } else { "" }
            );
            Ok(())
        }
        Command::Enroll {
            ca,
            token,
            token_file,
            key,
            out,
            trust_root,
            sigil_home,
            passphrase,
            connect,
        } => {
            let options = connect.options()?;
            let checker = trust_root
                .as_deref()
                .map(|trust| Client::load(trust, sigil_home.as_deref(), None, &options))
                .transpose()?;
            let token = match (token, token_file) {
                (Some(token), _) => zeroize::Zeroizing::new(token),
                (None, Some(file)) => read_token(&file)?,
                (None, None) => return Err(CliError::Usage("give --token-file or --token".into())),
            };
            let pass = passphrase.read()?;
            let key = maintainer::read_key(&key, pass.as_ref().map(|p| p.as_slice()))?;
            let enrolled = maintainer::enroll(&ca, &token, &key, &out, &options, checker.as_ref())?;
            eprintln!(
                "enrolled: certificate {} for {} may sign {}; written to {} (logged at index {})",
                enrolled.serial,
                enrolled.identity,
                enrolled.crates.join(", "),
                enrolled.cert_path.display(),
                enrolled.log_index
            );
            Ok(())
        }
        Command::Sign {
            key,
            cert,
            log,
            trust_root,
            sigil_home,
            add_to,
            no_submit,
            out,
            file,
            passphrase,
            connect,
        } => {
            let pass = passphrase.read()?;
            let key = maintainer::read_key(&key, pass.as_ref().map(|p| p.as_slice()))?;
            let submit = match (no_submit, &log, &trust_root) {
                (true, _, _) => None,
                (false, Some(log), Some(trust)) => Some(maintainer::Submit {
                    log,
                    checker: Client::load(
                        trust,
                        sigil_home.as_deref(),
                        Some(log),
                        &connect.options()?,
                    )?,
                }),
                (false, _, _) => {
                    return Err(CliError::Usage(
                        "give --log and --trust-root (or --no-submit)".into(),
                    ));
                }
            };
            let signed = maintainer::sign(&SignRequest {
                key: &key,
                chain: maintainer::read_chain(&cert)?,
                crate_path: &file,
                add_to: add_to.as_deref(),
                submit: submit.as_ref(),
                pending_out: out.as_deref(),
            })?;
            match signed {
                Signed::Logged {
                    release,
                    index,
                    proof_path,
                    signatures,
                } => eprintln!(
                    "{} {} signed ({signatures} signature{}) and logged at index {index}; proof: {}",
                    release.crate_name,
                    release.version,
                    if signatures == 1 { "" } else { "s" },
                    proof_path.display()
                ),
                Signed::Pending {
                    release,
                    path,
                    signatures,
                } => eprintln!(
                    "{} {} signed ({signatures} signature{}), not submitted: {}; a co-maintainer \
                     adds theirs with `sigil sign --add-to {}` and submits with --log",
                    release.crate_name,
                    release.version,
                    if signatures == 1 { "" } else { "s" },
                    path.display(),
                    path.display()
                ),
            }
            Ok(())
        }
        Command::TrustRoot {
            action: Some(TrustRootAction::Install { file }),
            ..
        } => {
            let path = client::install_trust_root(&file)?;
            eprintln!("pinned {} as {}", file.display(), path.display());
            Ok(())
        }
        Command::TrustRoot {
            action: None,
            ca_roots,
            log_key,
            origin,
            log_url,
            witnesses,
            quorum,
            out,
        } => {
            let (Some(log_key), Some(out)) = (log_key, out) else {
                return Err(CliError::Usage("give --log-key and --out".into()));
            };
            let key = std::fs::read_to_string(&log_key).map_err(|e| CliError::file(&log_key, e))?;
            let witnesses = witnesses
                .iter()
                .map(|w| match std::fs::read_to_string(w) {
                    Ok(text) => text.trim().to_string(),
                    Err(_) => w.clone(),
                })
                .collect::<Vec<_>>();
            let text = client::trust_root(&TrustRootRequest {
                ca_roots: &ca_roots,
                log_key: &key,
                origin: origin.as_deref(),
                witnesses: &witnesses,
                quorum,
                log_url: log_url.as_deref(),
            })?;
            sigil_keyfile::secret_file::write_public(&out, text.as_bytes())
                .map_err(|e| CliError::file(&out, e))?;
            eprintln!("wrote {}", out.display());
            Ok(())
        }
        Command::Verify {
            common,
            file,
            proof,
        } => verify_cmd(&common, &file, proof.as_deref()),
        Command::VerifyLock(args) => verify_lock_cmd(&args),
        Command::Proxy(args) => proxy_cmd(&args),
        Command::Monitor {
            log,
            trust_root,
            state,
            watch_crates,
            watch_identities,
            webhook,
            once,
            interval,
            connect,
        } => crate::monitor::run(&crate::monitor::MonitorRequest {
            log: &log,
            trust_root: &trust_root,
            state: &state,
            crates: &watch_crates,
            identities: &watch_identities,
            webhook: webhook.as_deref(),
            once,
            interval: std::time::Duration::from_secs(interval.max(1)),
            progress: std::io::stderr().is_terminal(),
            options: &connect.options()?,
        }),
        Command::Quickstart { dir } => {
            let dir = quickstart::choose_dir(dir.as_deref())?;
            quickstart::run(&dir, &mut |line| println!("{line}"))
        }
    }
}

fn load_client(common: &VerifyCommon) -> Result<Client, CliError> {
    Client::load_pinned(
        common.trust_root.as_deref(),
        common.sigil_home.as_deref(),
        common.log.as_deref(),
        common.offline,
        &common.connect.options()?,
    )
}

fn verify_cmd(common: &VerifyCommon, file: &Path, proof: Option<&Path>) -> Result<(), CliError> {
    let client = load_client(common)?;
    let crate_bytes = std::fs::read(file).map_err(|e| CliError::file(file, e))?;
    // A .crate that does not even unpack still gets its digest checked
    // against the proof: "modified after signing" is the useful answer.
    let id = sigil_client::crate_file::read_package_id(&crate_bytes)
        .map_err(|e| CliError::file(file, e));
    let default_proof = maintainer::proof_path_for(file);
    let proof_bytes = match proof {
        Some(p) => std::fs::read(p).map_err(|e| CliError::file(p, e))?,
        None => match std::fs::read(&default_proof) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match client.log() {
                Some(log) => {
                    let id = id.as_ref().map_err(|e| CliError::Usage(e.to_string()))?;
                    log.release_proof(&id.name, &id.version)
                        .map_err(|e| CliError::from_client("the log", e))?
                        .ok_or_else(|| CliError::Check {
                            code: "unsigned",
                            message: format!(
                                "{} {} is not in the log: nobody signed it",
                                id.name, id.version
                            ),
                        })?
                }
                None => {
                    return Err(CliError::file(
                        &default_proof,
                        "no proof: pass --proof P, or --log URL to fetch it",
                    ));
                }
            },
            Err(e) => return Err(CliError::file(&default_proof, e)),
        },
    };
    let expected = id
        .as_ref()
        .ok()
        .map(|id| (id.name.as_str(), id.version.as_str()));
    let verified = client.verify(&crate_bytes, &proof_bytes, expected)?;
    // Signed and logged, yet not a .crate cargo could use: still refused.
    id?;
    let r = &verified.release;
    if common.json {
        print_json(&VerifiedJson {
            ok: true,
            crate_name: &r.crate_name,
            version: &r.version,
            sha256: hex::encode(r.sha256),
            log_index: r.index,
            integrated_at: r.integrated_at,
            signers: r.identities(),
            checkpoint: String::from_utf8_lossy(&r.checkpoint.note),
            cache: format!("{:?}", verified.cache),
            cache_checked: verified.cache.is_verified(),
        });
    } else {
        eprintln!(
            "OK {} {}: signed by {}, logged at index {} in {}",
            r.crate_name,
            r.version,
            r.identities().join(", "),
            r.index,
            client.trust.log_origin
        );
        if let CacheOutcome::Unverified {
            cached_size,
            reason,
        } = &verified.cache
        {
            eprintln!(
                "note: this proof's checkpoint (size {}) could not be compared with the \
                 cached one (size {cached_size}): {reason}",
                r.checkpoint.checkpoint.size
            );
        }
    }
    Ok(())
}

/// `sigil proxy` (module `crate::proxy`).
#[derive(Args)]
pub struct ProxyArgs {
    /// Where to listen.
    #[arg(long, default_value = proxy::DEFAULT_LISTEN)]
    listen: std::net::SocketAddr,
    /// The upstream sparse index (its `config.json` is at this URL).
    #[arg(long, default_value = proxy::DEFAULT_UPSTREAM)]
    upstream: String,
    /// The trust root the crates are verified against (default: the one
    /// `sigil trust-root install` pinned).
    #[arg(long, env = "SIGIL_TRUST_ROOT")]
    trust_root: Option<PathBuf>,
    /// The log to fetch proofs and revocations from (default: the trust
    /// root's log.url).
    #[arg(long)]
    log: Option<String>,
    /// Where verified crates, proofs and index files are kept (default
    /// DIR/proxy under the checkpoint cache directory).
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Checkpoint cache directory (default $SIGIL_HOME, else the user cache dir).
    #[arg(long, env = "SIGIL_HOME")]
    sigil_home: Option<PathBuf>,
    /// A policy file (TOML: require-signed, allow-unsigned, deny).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// A directory of `NAME-VERSION.crate.tlog-proof` files to take proofs
    /// from before asking the log (air-gapped mirrors: with --offline).
    #[arg(long)]
    proofs: Option<PathBuf>,
    /// Refuse every unsigned crate (as `require-signed = true`).
    #[arg(long)]
    require_signed: bool,
    /// Serve only from the cache: no upstream, no log.
    #[arg(long, conflicts_with = "log")]
    offline: bool,
    /// Print the `.cargo/config.toml` snippet for this proxy and exit.
    #[arg(long)]
    print_cargo_config: bool,
    #[command(flatten)]
    connect: Connect,
    #[command(flatten)]
    limits: sigil_serve::http::LimitArgs,
    #[command(flatten)]
    tls: sigil_serve::tls::TlsArgs,
}

fn proxy_cmd(args: &ProxyArgs) -> Result<(), CliError> {
    let transport = args
        .tls
        .transport()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    if args.print_cargo_config {
        print!(
            "{}",
            proxy::cargo_config(&proxy::public_url(transport.scheme(), args.listen))
        );
        return Ok(());
    }
    sigil_serve::init_tracing();
    let client = Client::load_pinned(
        args.trust_root.as_deref(),
        args.sigil_home.as_deref(),
        args.log.as_deref(),
        args.offline,
        &args.connect.options()?,
    )?;
    if client.log().is_none() && !args.offline {
        return Err(CliError::Usage(
            "no log to ask: pass --log URL, use a trust root with log.url, or --offline".into(),
        ));
    }
    let mut policy = match &args.policy {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| CliError::file(path, e))?;
            proxy::gate::Policy::parse(&text).map_err(|e| CliError::file(path, e))?
        }
        None => proxy::gate::Policy::default(),
    };
    policy.require_signed |= args.require_signed;
    let cache = match (&args.cache, &args.sigil_home) {
        (Some(dir), _) => dir.clone(),
        (None, Some(home)) => home.join("proxy"),
        (None, None) => sigil_client::CheckpointCache::default_dir()
            .map_err(|e| CliError::Usage(e.to_string()))?
            .join("proxy"),
    };
    let mut store = proxy::gate::Store::new(&cache);
    if let Some(dir) = &args.proofs {
        store = store.with_proofs_dir(dir);
    }
    let gate = proxy::gate::Gate::start(client, policy, store.clone());
    let limits = args
        .limits
        .limits(
            std::time::Duration::from_secs(120),
            "a download waits for the upstream and the log",
        )
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let upstream = format!("{}/", args.upstream.trim_end_matches('/'));
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .map_err(|e| CliError::Usage(format!("HTTP client: {e}")))?;
    let runtime = sigil_serve::runtime().map_err(|e| CliError::Usage(e.to_string()))?;
    runtime.block_on(async move {
        let stop = sigil_serve::shutdown_signal("finishing the downloads in flight");
        let listener = sigil_serve::bind(args.listen, &transport)
            .await
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let config = proxy::ProxyConfig {
            upstream,
            public_url: proxy::public_url(transport.scheme(), addr),
            offline: args.offline,
            http,
            gate,
            store,
        };
        sigil_serve::http::serve(listener, &transport, proxy::router(config), &limits, stop)
            .await
            .map_err(|e| CliError::Usage(format!("http server: {e}")))
    })
}

fn verify_lock_cmd(args: &VerifyLockArgs) -> Result<(), CliError> {
    let client = load_client(&args.common)?;
    // The project of the lockfile: its Cargo.toml beside it.
    let manifest = args
        .lockfile
        .parent()
        .map_or_else(|| PathBuf::from("Cargo.toml"), |d| d.join("Cargo.toml"));
    let needed = if args.all_targets || !manifest.is_file() {
        None
    } else {
        Some(crate::needed::needed(&manifest, &args.targets, args.fetch)?)
    };
    let report = verify_lock::verify_lock(
        &client,
        &LockRequest {
            lockfile: &args.lockfile,
            proofs_dir: args.proofs.as_deref(),
            cargo_home: args.cargo_home.as_deref(),
            deny_unsigned: args.deny_unsigned,
            progress: !args.common.json && std::io::stderr().is_terminal(),
            needed: needed.as_ref(),
        },
    )?;
    if args.common.json {
        println!(
            "{}",
            serde_json::to_string(&report).map_err(|e| CliError::Usage(e.to_string()))?
        );
    } else {
        eprint!("{}", verify_lock::table(&report));
    }
    if report.ok {
        Ok(())
    } else {
        Err(CliError::Reported(format!(
            "{} failed, {} missing, {} unsigned{}",
            report.failed,
            report.missing,
            report.unsigned,
            if args.deny_unsigned {
                " (--deny-unsigned)"
            } else {
                ""
            }
        )))
    }
}

/// `--json` on a failure: `{"ok": false, "code", "message"}`.
#[derive(serde::Serialize)]
struct Failure<'a> {
    ok: bool,
    code: &'a str,
    message: String,
}

/// `sigil verify --json` on success.
#[derive(serde::Serialize)]
struct VerifiedJson<'a> {
    ok: bool,
    #[serde(rename = "crate")]
    crate_name: &'a str,
    version: &'a str,
    sha256: String,
    log_index: u64,
    integrated_at: u64,
    signers: Vec<&'a str>,
    checkpoint: std::borrow::Cow<'a, str>,
    cache: String,
    cache_checked: bool,
}

/// Prints one JSON object on stdout (a struct of strings and numbers
/// always serializes).
fn print_json(value: &impl serde::Serialize) {
    if let Ok(line) = serde_json::to_string(value) {
        println!("{line}");
    }
}

/// The enrollment token from `file` (its first line; the file must be
/// private, as a key is) or, for `-`, from standard input: a secret on the
/// command line is visible to every user of the machine (`ps`).
fn read_token(file: &Path) -> Result<zeroize::Zeroizing<String>, CliError> {
    let bytes = if file == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
            .map_err(|e| CliError::file(Path::new("<stdin>"), e))?;
        zeroize::Zeroizing::new(bytes)
    } else {
        zeroize::Zeroizing::new(
            sigil_keyfile::secret_file::read_secret(file).map_err(|e| CliError::file(file, e))?,
        )
    };
    let text =
        std::str::from_utf8(&bytes).map_err(|_| CliError::file(file, "the token is not text"))?;
    let token = text.lines().next().unwrap_or("").trim();
    if token.is_empty() {
        return Err(CliError::file(file, "no token in it"));
    }
    Ok(zeroize::Zeroizing::new(token.to_owned()))
}
