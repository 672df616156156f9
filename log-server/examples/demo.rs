//! A throwaway CA and maintainer for trying the log by hand, until the
//! `sigil-ca` and `sigil` commands exist. Never use its keys for anything
//! real: they sit unencrypted in one file.
//!
//! ```sh
//! cargo run -p sigil-log --example demo -- init DEMO_DIR CRATE   # DEMO_DIR/root.pem for --ca-root
//! cargo run -p sigil-log --example demo -- sign DEMO_DIR CRATE VERSION FILE > body.json
//! curl -sS -H 'content-type: application/json' --data-binary @body.json http://127.0.0.1:6962/api/v1/entries
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::SigningKey;
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, EncodePublicKey as _};
use serde_json::{Value, json};
use sigil_ca::issue;
use sigil_core::statement::{Envelope, Release};
use sigil_log::sequencer::unix_ms;

const DAY_MS: u64 = 86_400_000;

fn usage() -> ! {
    eprintln!("usage: demo init DIR CRATE | demo sign DIR CRATE VERSION FILE");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["init", dir, name] => init(Path::new(dir), name),
        ["sign", dir, name, version, file] => sign(Path::new(dir), name, version, Path::new(file)),
        _ => usage(),
    }
}

fn init(dir: &Path, crate_name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let year = Duration::from_secs(365 * 86_400);
    let root = issue::new_root("Sigil Demo Root", unix_ms() - DAY_MS, year * 10).unwrap();
    let intermediate =
        issue::new_intermediate(&root, "Sigil Demo Intermediate", unix_ms() - DAY_MS, year)
            .unwrap();
    let seed: [u8; 32] = aws_lc_rs::rand::generate(&aws_lc_rs::rand::SystemRandom::new())
        .unwrap()
        .expose();
    let key = SigningKey::from_slice(&seed).unwrap();
    let spki = key.verifying_key().to_public_key_der().unwrap();
    let leaf = issue::issue_leaf(
        &intermediate,
        spki.as_bytes(),
        "demo@example.com",
        &[crate_name.to_string()],
        unix_ms() - 60_000,
        unix_ms() + 30 * DAY_MS,
        None,
    )
    .unwrap();
    let state = json!({
        "warning": "demo keys: never use for anything real",
        "maintainer_key_pkcs8": STANDARD.encode(key.to_pkcs8_der().unwrap().as_bytes()),
        "chain": [STANDARD.encode(&leaf), STANDARD.encode(intermediate.certificate_der())],
    });
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dir.join("demo.json"))
        .expect("DIR/demo.json exists already: use a new directory");
    f.write_all(serde_json::to_string_pretty(&state).unwrap().as_bytes())
        .unwrap();
    std::fs::write(
        dir.join("root.pem"),
        sigil_ca::pem::certificate_pem(root.certificate_der()),
    )
    .unwrap();
    eprintln!(
        "wrote {0}/root.pem (pass it to sigil-log serve --ca-root) and {0}/demo.json (a maintainer of {crate_name})",
        dir.display()
    );
}

fn sign(dir: &Path, crate_name: &str, version: &str, file: &Path) {
    let state: Value = serde_json::from_slice(
        &std::fs::read(dir.join("demo.json")).expect("run `demo init` first"),
    )
    .unwrap();
    let der = STANDARD
        .decode(state["maintainer_key_pkcs8"].as_str().unwrap())
        .unwrap();
    let key = SigningKey::from_pkcs8_der(&der).unwrap();
    let bytes = std::fs::read(file).unwrap();
    let sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&bytes).into();
    let release =
        Release::new(crate_name, version, sha).expect("valid crate name and SemVer version");
    let envelope = Envelope::sign_release(&release, &key).unwrap();
    let body = json!({
        "kind": "release",
        "envelope": serde_json::from_slice::<Value>(&envelope.to_json()).unwrap(),
        "chains": [state["chain"]],
    });
    println!("{body}");
}
