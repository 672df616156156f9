//! `sigil quickstart`: the whole flow on one machine, on the embedded
//! RocksDB default (DESIGN.md "Roles and flows"). The real `sigil-ca` and
//! `sigil-log` programs are started as child processes on 127.0.0.1
//! ([`crate::server_process`]); a maintainer is invited, enrolls, packages
//! the small crate shipped in `cli/quickstart-crate/`, signs and publishes
//! it, and a client verifies it from the trust root alone; then a tampered
//! `.crate` and an out-of-scope signature are shown being refused. Every
//! file it makes stays in the directory it names, the servers' logs
//! included (`log.stderr`, `ca.stderr`).
//!
//! `sigil` itself links no server code (no RocksDB, no C++): the
//! quickstart needs `sigil-ca` and `sigil-log` next to it or on `PATH`.

use std::path::{Path, PathBuf};
use std::process::Command;

use sigil_client::ClientOptions;

use crate::client::{Client, TrustRootRequest};
use crate::error::CliError;
use crate::maintainer::{self, SignRequest, Signed};
use crate::server_process::{ServerProcess, find_binary};

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

/// The CA and the log, running as child processes on 127.0.0.1 until
/// dropped.
#[derive(Debug)]
pub struct Servers {
    /// The log's base URL.
    pub log_url: String,
    /// The CA's base URL.
    pub ca_url: String,
    // Dropped (killed) CA first: it is the log's client.
    ca: ServerProcess,
    log: ServerProcess,
}

impl Servers {
    /// What the two servers printed so far, for a report.
    pub fn stderr(&self) -> String {
        format!(
            "--- sigil-log ---\n{}--- sigil-ca ---\n{}",
            self.log.stderr(),
            self.ca.stderr()
        )
    }
}

/// A command for the Sigil program `name`, found next to `sigil` or on
/// `PATH`.
fn program(name: &str) -> Result<Command, CliError> {
    find_binary(name)
        .map(Command::new)
        .map_err(|e| CliError::Usage(e.to_string()))
}

/// Runs `command` to completion; its stdout, or an error with all it said.
fn run_ok(mut command: Command) -> Result<String, CliError> {
    let name = command.get_program().to_string_lossy().into_owned();
    let out = command
        .output()
        .map_err(|e| CliError::Usage(format!("cannot run {name}: {e}")))?;
    if !out.status.success() {
        return Err(CliError::Usage(format!(
            "{name} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    String::from_utf8(out.stdout)
        .map_err(|_| CliError::Usage(format!("{name} printed something that is not UTF-8")))
}

/// Starts `sigil-log` (RocksDB in `dir/log-data`, key in `dir/log`, CA
/// root `dir/ca/root.pem`) and then `sigil-ca` (`dir/ca`, RocksDB in
/// `dir/ca-data`), which logs every certificate to it and checks the log's
/// proofs with `dir/log/log.pub`. `log_args` go to `sigil-log serve`
/// last.
fn start_servers(dir: &Path, log_args: &[&str]) -> Result<Servers, CliError> {
    let started = |e: crate::server_process::ProcessError| CliError::Usage(e.to_string());
    let mut log = program("sigil-log")?;
    log.arg("serve")
        .arg("--data-dir")
        .arg(dir.join("log-data"))
        .arg("--key")
        .arg(dir.join("log/log.key"))
        .arg("--ca-root")
        .arg(dir.join("ca/root.pem"))
        .args(["--listen", "127.0.0.1:0", "--batch-window-ms", "20"])
        .args(log_args);
    let log =
        ServerProcess::start("sigil-log", log, Some(&dir.join("log.stderr"))).map_err(started)?;
    let mut ca = program("sigil-ca")?;
    ca.arg("serve")
        .arg("--dir")
        .arg(dir.join("ca"))
        .arg("--data-dir")
        .arg(dir.join("ca-data"))
        .args(["--log", &log.url, "--listen", "127.0.0.1:0"])
        .arg("--log-key")
        .arg(dir.join("log/log.pub"))
        .arg("--admin-token-file")
        .arg(dir.join("ca/admin.token"));
    let ca = ServerProcess::start("sigil-ca", ca, Some(&dir.join("ca.stderr"))).map_err(started)?;
    Ok(Servers {
        log_url: log.url.clone(),
        ca_url: ca.url.clone(),
        ca,
        log,
    })
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

/// Makes a CA (`sigil-ca init`, in `dir/ca`) and a log key (`sigil-log
/// keygen`, in `dir/log`) and starts both servers on 127.0.0.1 with RocksDB
/// under `dir`: the first two steps of the quickstart, also used by the
/// benchmarks. Returns the servers and the log's verifier key.
pub fn local_pki(dir: &Path, say: &mut dyn FnMut(&str)) -> Result<(Servers, String), CliError> {
    local_pki_with(dir, say, &[])
}

/// [`local_pki`] with more `sigil-log serve` flags (a benchmark that
/// signs thousands of crates from one address passes `--rate-limit 0`).
pub fn local_pki_with(
    dir: &Path,
    say: &mut dyn FnMut(&str),
    log_args: &[&str],
) -> Result<(Servers, String), CliError> {
    say(&format!(
        "[1/11] CA: root and intermediate in {}/ca",
        dir.display()
    ));
    let mut init = program("sigil-ca")?;
    init.args(["init", "--name", "Sigil Quickstart CA", "--out"])
        .arg(dir.join("ca"));
    run_ok(init)?;

    say(&format!("[2/11] log: Ed25519 key for origin {ORIGIN}"));
    let mut keygen = program("sigil-log")?;
    keygen
        .args(["keygen", "--origin", ORIGIN, "--out"])
        .arg(dir.join("log"));
    run_ok(keygen)?;
    let vkey_path = dir.join("log/log.pub");
    let vkey = std::fs::read_to_string(&vkey_path)
        .map_err(file_err(&vkey_path))?
        .trim()
        .to_owned();
    let servers = start_servers(dir, log_args)?;
    Ok((servers, vkey))
}

/// Runs the quickstart in `dir`, printing each step with `say`.
pub fn run(dir: &Path, say: &mut dyn FnMut(&str)) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(file_err(dir))?;
    let (servers, vkey) = local_pki(dir, say)?;
    say(&format!(
        "      sigil-log listening on {}, sigil-ca on {} (RocksDB in {}/log-data and ca-data)",
        servers.log_url,
        servers.ca_url,
        dir.display()
    ));

    say("[3/11] CA invites alice@example.org to sign hello-sigil");
    let token = invite(dir, &servers.ca_url, "alice@example.org", &[CRATE.0])?;

    // The trust root every client pins; alice checks the CA's and the
    // log's answers against it before she writes what they return.
    let trust = crate::client::trust_root(&TrustRootRequest {
        ca_roots: &[dir.join("ca/root.pem")],
        log_key: &vkey,
        origin: None,
        witnesses: &[],
        quorum: 0,
        log_url: None,
    })?;
    let trust_path = dir.join("trust-root.json");
    std::fs::write(&trust_path, &trust).map_err(file_err(&trust_path))?;
    let checker = |home: &str| {
        Client::load(
            &trust_path,
            Some(&dir.join(home)),
            Some(&servers.log_url),
            &ClientOptions::default(),
        )
    };

    say("[4/11] alice makes a P-256 key and enrolls (CSR; the certificate is logged first)");
    let alice_key = maintainer::keygen(&dir.join("alice.key"), None)?;
    let alice = maintainer::enroll(
        &servers.ca_url,
        &token,
        &alice_key,
        &dir.join("alice.pem"),
        &ClientOptions::default(),
        Some(&checker("alice-home")?),
    )?;
    say(&format!(
        "      certificate {} for {} may sign {:?}; logged at index {}",
        alice.serial, alice.identity, alice.crates, alice.log_index
    ));

    say("[5/11] package the crate shipped in cli/quickstart-crate");
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

    say("[6/11] alice signs it (DSSE, in-toto), publishes it to the log and checks its proof");
    let alice_submit = maintainer::Submit {
        log: &servers.log_url,
        checker: checker("alice-home")?,
    };
    let signed = maintainer::sign(&SignRequest {
        key: &alice_key,
        chain: maintainer::read_chain(&dir.join("alice.pem"))?,
        crate_path: &crate_path,
        add_to: None,
        submit: Some(&alice_submit),
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

    say("[7/11] a client pins the trust root and verifies, offline");
    let home = dir.join("sigil-home");
    let client = Client::load(&trust_path, Some(&home), None, &ClientOptions::default())?;
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

    say("[8/11] a tampered .crate is refused");
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

    say("[9/11] bob, allowed to sign only `other-crate`, tries to sign hello-sigil");
    let token = invite(dir, &servers.ca_url, "bob@example.org", &["other-crate"])?;
    let bob_key = maintainer::keygen(&dir.join("bob.key"), None)?;
    maintainer::enroll(
        &servers.ca_url,
        &token,
        &bob_key,
        &dir.join("bob.pem"),
        &ClientOptions::default(),
        Some(&checker("bob-home")?),
    )?;
    let bob_crate = dir
        .join("bob")
        .join(format!("{}-{}.crate", CRATE.0, CRATE.1));
    if let Some(parent) = bob_crate.parent() {
        std::fs::create_dir_all(parent).map_err(file_err(parent))?;
    }
    std::fs::write(&bob_crate, &crate_bytes).map_err(file_err(&bob_crate))?;
    let bob_submit = maintainer::Submit {
        log: &servers.log_url,
        checker: checker("bob-home")?,
    };
    match maintainer::sign(&SignRequest {
        key: &bob_key,
        chain: maintainer::read_chain(&dir.join("bob.pem"))?,
        crate_path: &bob_crate,
        add_to: None,
        submit: Some(&bob_submit),
        pending_out: None,
    }) {
        Err(e) => say(&format!("      refused by the log ({}): {e}", e.code())),
        Ok(_) => {
            return Err(CliError::Usage(
                "BUG: the log accepted an out-of-scope signature".into(),
            ));
        }
    }
    install_time(dir, &servers, &trust_path, &crate_bytes, &tampered, say)?;
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

/// Steps 10 and 11: install time. A registry in `dir/registry` serves
/// hello-sigil; cargo builds a project depending on it through `sigil
/// proxy`, which verifies the download; then the registry serves a
/// tampered hello-sigil (its index line changed to match, as a registry
/// that lies would) and cargo itself refuses it, printing the proxy's
/// reason. Without cargo on the `PATH` the steps say so and are skipped.
fn install_time(
    dir: &Path,
    servers: &Servers,
    trust_path: &Path,
    crate_bytes: &[u8],
    tampered: &[u8],
    say: &mut dyn FnMut(&str),
) -> Result<(), CliError> {
    say("[10/11] cargo builds a project depending on hello-sigil through `sigil proxy`");
    // Absolute: `file://` URLs and the proxy's checks need it.
    let registry = std::path::absolute(dir.join("registry")).map_err(file_err(dir))?;
    publish_local(&registry, crate_bytes)?;
    let mut command = program("sigil")?;
    command
        .args([
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--log",
            &servers.log_url,
        ])
        .arg("--upstream")
        .arg(format!("file://{}/index/", registry.display()))
        .arg("--trust-root")
        .arg(trust_path)
        .arg("--sigil-home")
        .arg(dir.join("proxy-home"));
    let proxy = ServerProcess::start("sigil proxy", command, Some(&dir.join("proxy.stderr")))
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let build = |project: &str| -> Result<Option<std::process::Output>, CliError> {
        let project = dir.join(project);
        std::fs::create_dir_all(project.join("src")).map_err(file_err(&project))?;
        let manifest = format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\n{} = \"={}\"\n\n\
             # Its own workspace, wherever the quickstart directory is.\n[workspace]\n",
            CRATE.0, CRATE.1
        );
        let toml = project.join("Cargo.toml");
        std::fs::write(&toml, manifest).map_err(file_err(&toml))?;
        let lib = project.join("src/lib.rs");
        std::fs::write(&lib, "").map_err(file_err(&lib))?;
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .arg("build")
            .args(["--config", "source.crates-io.replace-with=\"sigil\""])
            .arg("--config")
            .arg(format!(
                "source.sigil.registry=\"sparse+{}/index/\"",
                proxy.url
            ))
            .current_dir(&project)
            .env("CARGO_HOME", project.join("cargo-home"))
            .env("CARGO_TARGET_DIR", project.join("target"))
            .env("CARGO_TERM_COLOR", "never")
            .output();
        match out {
            Ok(out) => Ok(Some(out)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CliError::Usage(format!("cannot run cargo: {e}"))),
        }
    };
    let Some(out) = build("app")? else {
        say("        skipped: cargo is not on the PATH");
        return Ok(());
    };
    if !out.status.success() {
        return Err(CliError::Usage(format!(
            "cargo build through the proxy failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    say(&format!(
        "        OK: cargo build finished; the proxy verified {} {} before cargo got it \
         (Cargo.lock keeps the registry's checksum)",
        CRATE.0, CRATE.1
    ));

    say("[11/11] the registry now serves a tampered hello-sigil: cargo itself refuses it");
    publish_local(&registry, tampered)?;
    let Some(out) = build("app-after-tampering")? else {
        return Ok(());
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reason = stderr
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("sigil: refused"))
        .map(str::to_owned);
    match (out.status.success(), reason) {
        (false, Some(reason)) => say(&format!("        cargo: {reason}")),
        _ => {
            return Err(CliError::Usage(format!(
                "BUG: cargo took a tampered crate through the proxy:\n{stderr}"
            )));
        }
    }
    drop(proxy);
    Ok(())
}

/// Writes `bytes` as the only version of hello-sigil in a sparse
/// registry in `registry` (index line with its `cksum`, the `.crate` where
/// `config.json`'s `dl` says).
fn publish_local(registry: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let (name, version) = CRATE;
    let write = |path: &Path, data: &[u8]| -> Result<(), CliError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(file_err(parent))?;
        }
        std::fs::write(path, data).map_err(file_err(path))
    };
    write(
        &registry.join("index/config.json"),
        format!("{{\"dl\":\"file://{}/crates\"}}", registry.display()).as_bytes(),
    )?;
    let cksum = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
    write(
        &registry
            .join("index")
            .join(sigil_client::sparse_index::index_path(name)),
        format!(
            "{{\"name\":\"{name}\",\"vers\":\"{version}\",\"deps\":[],\"cksum\":\"{cksum}\",\"features\":{{}},\"yanked\":false}}\n"
        )
        .as_bytes(),
    )?;
    write(
        &registry.join(format!("crates/{name}/{version}/download")),
        bytes,
    )
}

/// Invites `identity` to sign `crates` with `sigil-ca invite` and the
/// admin token of `dir/ca`; returns the enrollment token.
pub fn invite(
    dir: &Path,
    ca_url: &str,
    identity: &str,
    crates: &[&str],
) -> Result<String, CliError> {
    let mut invite = program("sigil-ca")?;
    invite
        .args([
            "invite",
            "--ca",
            ca_url,
            "--identity",
            identity,
            "--ttl",
            "1h",
        ])
        .arg("--admin-token-file")
        .arg(dir.join("ca/admin.token"));
    for name in crates {
        invite.args(["--crate", name]);
    }
    let token = run_ok(invite)?.trim().to_owned();
    if token.is_empty() {
        return Err(CliError::Usage("sigil-ca invite printed no token".into()));
    }
    Ok(token)
}
