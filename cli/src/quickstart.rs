//! `sigil quickstart`: the whole flow on one machine, on the embedded
//! RocksDB default (DESIGN.md "Roles and flows"): a CA and a log run
//! in-process on 127.0.0.1, a maintainer is invited, enrolls, packages the
//! small crate shipped in `cli/quickstart-crate/`, signs and publishes it,
//! and a client verifies it from the trust root alone; then a tampered
//! `.crate` and an out-of-scope signature are shown being refused. Every
//! file it makes stays in the directory it names.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sigil_ca::server::CaConfig;
use sigil_ca::store::CaStore;
use sigil_client::LogClient;
use sigil_core::note::{Ed25519Signer, NoteSigner as _};
use sigil_log::storage::rocks::RocksStore;
use sigil_log::{ApiConfig, LogConfig, RoundConfig};
use sigil_verifier::TrustedRoots;

use crate::client::{Client, TrustRootRequest};
use crate::error::CliError;
use crate::maintainer::{self, SignRequest, Signed};

/// The demo crate's files, shipped in the binary so the quickstart works
/// from any directory.
const CRATE_FILES: [(&str, &str); 3] = [
    ("Cargo.toml", include_str!("../quickstart-crate/Cargo.toml")),
    ("src/lib.rs", include_str!("../quickstart-crate/src/lib.rs")),
    ("README.md", include_str!("../quickstart-crate/README.md")),
];

/// The demo crate's name and version (its Cargo.toml).
pub const CRATE: (&str, &str) = ("hello-sigil", "0.1.0");

const ORIGIN: &str = "quickstart.sigil.localhost/log";

fn file_err(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |e| CliError::file(path, e)
}

/// The CA and the log, serving on 127.0.0.1 from a background thread
/// until dropped.
pub struct Servers {
    /// The log's base URL.
    pub log_url: String,
    /// The CA's base URL.
    pub ca_url: String,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Servers {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn start_servers(dir: &Path, signer: Ed25519Signer, vkey: String) -> Result<Servers, CliError> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(String, String), String>>();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let dir = dir.to_path_buf();
    let thread = std::thread::spawn(move || {
        let fail = |tx: &std::sync::mpsc::Sender<Result<(String, String), String>>, e: String| {
            let _ = tx.send(Err(e));
        };
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => return fail(&ready_tx, format!("tokio runtime: {e}")),
        };
        runtime.block_on(async move {
            let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
                let _ = rx.wait_for(|stop| *stop).await;
            };
            // The log.
            let pem = match std::fs::read(dir.join("ca/root.pem")) {
                Ok(p) => p,
                Err(e) => return fail(&ready_tx, format!("ca/root.pem: {e}")),
            };
            let roots = match TrustedRoots::from_pem(&pem) {
                Ok(r) => r,
                Err(e) => return fail(&ready_tx, format!("ca/root.pem: {e}")),
            };
            let storage = match RocksStore::open(&dir.join("log-data"), signer.name()) {
                Ok(s) => s,
                Err(e) => return fail(&ready_tx, format!("log-data: {e}")),
            };
            let config = LogConfig {
                signer,
                roots,
                rounds: RoundConfig {
                    window: Duration::from_millis(20),
                    max_batch: 256,
                },
                api: ApiConfig {
                    body_limit: 256 * 1024,
                    rate_limit: None,
                    submit_timeout: Duration::from_secs(30),
                },
                pool_capacity: 1024,
                witnesses: None,
            };
            let log_listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                Ok(l) => l,
                Err(e) => return fail(&ready_tx, format!("listen: {e}")),
            };
            let log_url = match log_listener.local_addr() {
                Ok(a) => format!("http://{a}"),
                Err(e) => return fail(&ready_tx, format!("listen: {e}")),
            };
            let log = tokio::spawn(sigil_log::serve(
                Arc::new(storage),
                config,
                log_listener,
                stopped(stop_rx.clone()),
            ));
            // The CA, which logs to it.
            let ca = match ca_config(&dir, &log_url, &vkey) {
                Ok(c) => c,
                Err(e) => return fail(&ready_tx, e),
            };
            let (store, config) = ca;
            let ca_listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                Ok(l) => l,
                Err(e) => return fail(&ready_tx, format!("listen: {e}")),
            };
            let ca_url = match ca_listener.local_addr() {
                Ok(a) => format!("http://{a}"),
                Err(e) => return fail(&ready_tx, format!("listen: {e}")),
            };
            let ca = tokio::spawn(sigil_ca::server::serve(
                Arc::new(store),
                config,
                ca_listener,
                stopped(stop_rx.clone()),
            ));
            let _ = ready_tx.send(Ok((log_url, ca_url)));
            let _ = ca.await;
            let _ = log.await;
        });
    });
    match ready_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(Ok((log_url, ca_url))) => Ok(Servers {
            log_url,
            ca_url,
            stop: Some(stop_tx),
            thread: Some(thread),
        }),
        Ok(Err(e)) => Err(CliError::Usage(format!(
            "could not start the CA and log: {e}"
        ))),
        Err(_) => Err(CliError::Usage(
            "the CA and log did not start within 60 s".into(),
        )),
    }
}

fn ca_config(dir: &Path, log_url: &str, vkey: &str) -> Result<(CaStore, CaConfig), String> {
    let ca_dir = dir.join("ca");
    let intermediate = sigil_ca::setup::load_ca(&ca_dir, "intermediate", None)?;
    let root_der = sigil_ca::setup::read_certificate(&ca_dir.join("root.pem"))?;
    let admin = sigil_ca::setup::read_admin_token(&ca_dir.join("admin.token"))?;
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, intermediate.certificate_der());
    let mut issuer = [0u8; 32];
    issuer.copy_from_slice(digest.as_ref());
    let store = CaStore::open(&dir.join("ca-data"), &issuer).map_err(|e| e.to_string())?;
    let log = LogClient::with_timeout(log_url, Duration::from_secs(30))
        .map_err(|e| e.to_string())?
        .with_verifier_key(vkey)
        .map_err(|e| e.to_string())?;
    Ok((
        store,
        CaConfig {
            intermediate,
            root_der,
            admin,
            log,
            leaf_validity: Duration::from_secs(90 * 86_400),
            max_invite_ttl: Duration::from_secs(30 * 86_400),
            body_limit: 64 * 1024,
        },
    ))
}

/// A new directory for the quickstart's files: `dir` if given (it must
/// not exist or be empty), else `./sigil-quickstart[-N]`.
pub fn choose_dir(dir: Option<&Path>) -> Result<PathBuf, CliError> {
    let empty = |p: &Path| std::fs::read_dir(p).map_or(true, |mut e| e.next().is_none());
    if let Some(d) = dir {
        if !empty(d) {
            return Err(CliError::Usage(format!(
                "{} is not empty; give a new directory",
                d.display()
            )));
        }
        return Ok(d.to_path_buf());
    }
    for n in 0..1000 {
        let name = if n == 0 {
            "sigil-quickstart".to_string()
        } else {
            format!("sigil-quickstart-{n}")
        };
        let p = PathBuf::from(name);
        if empty(&p) {
            return Ok(p);
        }
    }
    Err(CliError::Usage(
        "give --dir: ./sigil-quickstart* are all taken".into(),
    ))
}

/// Makes a CA (`dir/ca`) and a log key (`dir/log`) and serves both on
/// 127.0.0.1 with RocksDB under `dir`: the first two steps of the
/// quickstart, also used by the benchmarks. Returns the servers and the
/// log's verifier key.
pub fn local_pki(
    dir: &Path,
    now: u64,
    say: &mut dyn FnMut(&str),
) -> Result<(Servers, String), CliError> {
    say(&format!(
        "[1/9] CA: root and intermediate in {}/ca",
        dir.display()
    ));
    sigil_ca::setup::init(
        &dir.join("ca"),
        "Sigil Quickstart CA",
        None,
        3650,
        1825,
        now,
    )
    .map_err(|e| CliError::Usage(e.to_string()))?;

    say(&format!("[2/9] log: Ed25519 key for origin {ORIGIN}"));
    let signer = Ed25519Signer::generate(ORIGIN).map_err(|e| CliError::Usage(e.to_string()))?;
    let vkey = signer.verifier().verifier_key();
    std::fs::create_dir_all(dir.join("log")).map_err(file_err(dir))?;
    sigil_keyfile::note_key::write_log_key(&dir.join("log"), &signer)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let servers = start_servers(dir, signer, vkey.clone())?;
    Ok((servers, vkey))
}

/// Runs the quickstart in `dir`, printing each step with `say`.
pub fn run(dir: &Path, say: &mut dyn FnMut(&str)) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(file_err(dir))?;
    let now = sigil_ca::server::unix_ms();
    let (servers, vkey) = local_pki(dir, now, say)?;
    say(&format!(
        "      log listening on {}, CA on {} (RocksDB in {}/log-data and ca-data)",
        servers.log_url,
        servers.ca_url,
        dir.display()
    ));

    say("[3/9] CA invites alice@example.org to sign hello-sigil");
    let token = invite(dir, &servers.ca_url, "alice@example.org", &[CRATE.0])?;

    say("[4/9] alice makes a P-256 key and enrolls (CSR; the certificate is logged first)");
    let alice_key = maintainer::keygen(&dir.join("alice.key"), None)?;
    let alice = maintainer::enroll(&servers.ca_url, &token, &alice_key, &dir.join("alice.pem"))?;
    say(&format!(
        "      certificate {} for {} may sign {:?}; logged at index {}",
        alice.serial, alice.identity, alice.crates, alice.log_index
    ));

    say("[5/9] package the crate shipped in cli/quickstart-crate");
    let src = dir.join("hello-sigil");
    for (name, text) in CRATE_FILES {
        let path = src.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(file_err(parent))?;
        }
        std::fs::write(&path, text).map_err(file_err(&path))?;
    }
    let crate_bytes = crate::package::package_dir(&src).map_err(|e| CliError::file(&src, e))?;
    let crate_path = dir.join(format!("{}-{}.crate", CRATE.0, CRATE.1));
    std::fs::write(&crate_path, &crate_bytes).map_err(file_err(&crate_path))?;
    say(&format!(
        "      {} ({} bytes)",
        crate_path.display(),
        crate_bytes.len()
    ));

    say("[6/9] alice signs it (DSSE, in-toto) and publishes it to the log");
    let signed = maintainer::sign(&SignRequest {
        key: &alice_key,
        chain: maintainer::read_chain(&dir.join("alice.pem"))?,
        crate_path: &crate_path,
        add_to: None,
        log: Some(&servers.log_url),
        pending_out: None,
    })?;
    let Signed::Logged {
        index, proof_path, ..
    } = signed
    else {
        return Err(CliError::Usage("the release was not submitted".into()));
    };
    say(&format!(
        "      logged at index {index}; proof in {}",
        proof_path.display()
    ));

    say("[7/9] a client pins the trust root and verifies, offline");
    let trust = crate::client::trust_root(&TrustRootRequest {
        ca_roots: &[dir.join("ca/root.pem")],
        log_key: &vkey,
        origin: None,
        witnesses: &[],
        quorum: 0,
    })?;
    let trust_path = dir.join("trust-root.json");
    std::fs::write(&trust_path, &trust).map_err(file_err(&trust_path))?;
    let home = dir.join("sigil-home");
    let client = Client::load(&trust_path, Some(&home), None)?;
    let proof = std::fs::read(&proof_path).map_err(file_err(&proof_path))?;
    let verified = client.verify(&crate_bytes, &proof, Some(CRATE))?;
    say(&format!(
        "      OK {} {}: signed by {}, in log {} at index {}",
        verified.release.crate_name,
        verified.release.version,
        verified.release.identities().join(", "),
        ORIGIN,
        verified.release.index
    ));

    say("[8/9] a tampered .crate is refused");
    let mut tampered = crate_bytes.clone();
    if let Some(b) = tampered.get_mut(crate_bytes.len() / 2) {
        *b ^= 0x01;
    }
    let tampered_path = dir.join("tampered-hello-sigil-0.1.0.crate");
    std::fs::write(&tampered_path, &tampered).map_err(file_err(&tampered_path))?;
    match client.verify(&tampered, &proof, Some(CRATE)) {
        Err(e) => say(&format!("      refused ({}): {e}", e.code())),
        Ok(_) => {
            return Err(CliError::Usage(
                "BUG: a tampered crate verified; do not trust this build".into(),
            ));
        }
    }

    say("[9/9] bob, allowed to sign only `other-crate`, tries to sign hello-sigil");
    let token = invite(dir, &servers.ca_url, "bob@example.org", &["other-crate"])?;
    let bob_key = maintainer::keygen(&dir.join("bob.key"), None)?;
    maintainer::enroll(&servers.ca_url, &token, &bob_key, &dir.join("bob.pem"))?;
    let bob_crate = dir
        .join("bob")
        .join(format!("{}-{}.crate", CRATE.0, CRATE.1));
    if let Some(parent) = bob_crate.parent() {
        std::fs::create_dir_all(parent).map_err(file_err(parent))?;
    }
    std::fs::write(&bob_crate, &crate_bytes).map_err(file_err(&bob_crate))?;
    match maintainer::sign(&SignRequest {
        key: &bob_key,
        chain: maintainer::read_chain(&dir.join("bob.pem"))?,
        crate_path: &bob_crate,
        add_to: None,
        log: Some(&servers.log_url),
        pending_out: None,
    }) {
        Err(e) => say(&format!("      refused by the log ({}): {e}", e.code())),
        Ok(_) => {
            return Err(CliError::Usage(
                "BUG: the log accepted an out-of-scope signature".into(),
            ));
        }
    }
    drop(servers);
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "sigil".into());
    say(&format!(
        "\ndone. Everything is in {}: ca/ (root, intermediate, admin token), log/ (log key), \
         alice.key + alice.pem, {}, its .tlog-proof, trust-root.json.\nVerify again with:\n  \
         {exe} verify --trust-root {} {}",
        dir.display(),
        crate_path.display(),
        trust_path.display(),
        crate_path.display()
    ));
    Ok(())
}

/// Invites `identity` to sign `crates` through the CA's admin API, with the
/// admin token of `dir/ca`; returns the enrollment token.
pub fn invite(
    dir: &Path,
    ca_url: &str,
    identity: &str,
    crates: &[&str],
) -> Result<String, CliError> {
    let token_path = dir.join("ca/admin.token");
    let admin = std::fs::read_to_string(&token_path).map_err(file_err(&token_path))?;
    let request = sigil_core::ca_api::InviteRequest {
        identity: identity.to_owned(),
        crates: crates.iter().map(|c| c.to_string()).collect(),
        ttl_seconds: Some(3600),
    };
    sigil_client::blocking::CaClient::new(ca_url)
        .and_then(|ca| ca.with_admin_token(admin.trim()).invite(&request))
        .map(|invited| invited.token)
        .map_err(|e| CliError::from_client("the CA", e))
}
