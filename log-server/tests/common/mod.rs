//! What the end-to-end tests share: starting the real `sigil-log` binary on
//! 127.0.0.1 with port 0 and a temporary data directory, and waiting for its
//! `listening on http://IP:PORT` line; a test CA issuing maintainers; typed
//! requests and answers of the log's API.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use p256::ecdsa::SigningKey;
use p256::pkcs8::EncodePublicKey as _;
use serde::de::DeserializeOwned;
use sigil_ca::issue::{self, CaCertificate};
use sigil_core::api_error::ErrorBody;
use sigil_core::checkpoint::{Checkpoint, CheckpointPolicy};
use sigil_core::entry::{EntryBody, ReleaseEntry};
use sigil_core::log_api::{Submitted, encode_submission};
use sigil_core::note;
use sigil_core::statement::{Envelope, Release};
use sigil_core::tile::{Tile, TileError, TileReader};
use sigil_e2e::Server;
use sigil_serve::unix_ms;

/// A running `sigil-log serve` (the shared harness's [`Server`]: `url`,
/// `stderr`). Killed when dropped.
pub struct LogServer(Server);

impl std::ops::Deref for LogServer {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.0
    }
}

/// Runs `sigil-log keygen` into `dir` and returns (key file, verifier key).
pub fn keygen(dir: &Path, origin: &str) -> (PathBuf, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sigil-log"))
        .args(["keygen", "--origin", origin, "--out"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vkey = std::fs::read_to_string(dir.join("log.pub")).unwrap();
    (dir.join("log.key"), vkey.trim_end().to_string())
}

/// `sigil-log serve` on 127.0.0.1, port 0, with the given state.
fn serve_command(data_dir: &Path, key: &Path, ca_root: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sigil-log"));
    c.arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--key")
        .arg(key)
        .arg("--ca-root")
        .arg(ca_root)
        .args(["--listen", "127.0.0.1:0"]);
    c
}

impl LogServer {
    /// Starts the server and waits until it accepts connections. Without
    /// the rate limit unless `extra` sets one: these tests submit from one
    /// address as fast as the log answers.
    pub fn start(data_dir: &Path, key: &Path, ca_root: &Path, extra: &[&str]) -> LogServer {
        let mut c = serve_command(data_dir, key, ca_root);
        if !extra.contains(&"--rate-limit") {
            c.args(["--rate-limit", "0"]);
        }
        c.args(extra);
        LogServer(Server::start(c).unwrap_or_else(|e| panic!("sigil-log: {e}")))
    }

    /// Starts the server with no flag but the required ones and `--listen`.
    pub fn start_with_defaults(data_dir: &Path, key: &Path, ca_root: &Path) -> LogServer {
        let c = serve_command(data_dir, key, ca_root);
        LogServer(Server::start(c).unwrap_or_else(|e| panic!("sigil-log: {e}")))
    }

    /// Starts the server expecting it to refuse to start; returns its stderr.
    pub fn refuses(data_dir: &Path, key: &Path, ca_root: &Path) -> String {
        let out = serve_command(data_dir, key, ca_root).output().unwrap();
        assert!(
            !out.status.success(),
            "sigil-log started but should have refused"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Sends SIGKILL and waits: a crash.
    pub fn kill(mut self) {
        self.0.kill();
    }

    /// Sends SIGTERM and waits for a clean exit; returns the exit success.
    pub fn terminate(self) -> bool {
        self.0.terminate()
    }
}

pub const ORIGIN: &str = "e2e.sigil.test/log";
pub const DAY_MS: u64 = 86_400_000;

/// A CA: root and intermediate, as `sigil-ca` issues them.
pub struct TestCa {
    pub root: CaCertificate,
    pub intermediate: CaCertificate,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let year = Duration::from_secs(365 * 86_400);
        let root =
            issue::new_root(&format!("{name} Root"), unix_ms() - 10 * DAY_MS, year * 10).unwrap();
        let intermediate = issue::new_intermediate(
            &root,
            &format!("{name} Intermediate"),
            unix_ms() - 10 * DAY_MS,
            year,
        )
        .unwrap();
        TestCa { root, intermediate }
    }

    pub fn write_root(&self, dir: &Path) -> PathBuf {
        let path = dir.join("root.pem");
        std::fs::write(
            &path,
            sigil_core::pem::certificate_pem(self.root.certificate_der()),
        )
        .unwrap();
        path
    }

    /// A maintainer key and its chain (leaf, intermediate), valid in
    /// [not_before, not_after].
    pub fn maintainer_at(&self, crates: &[&str], not_before: u64, not_after: u64) -> Maintainer {
        let key = fresh_key();
        let spki = key.verifying_key().to_public_key_der().unwrap();
        let crates: Vec<String> = crates.iter().map(|c| c.to_string()).collect();
        let leaf = issue::issue_leaf(
            &self.intermediate,
            spki.as_bytes(),
            "maintainer@example.com",
            &crates,
            not_before,
            not_after,
            None,
        )
        .unwrap();
        Maintainer {
            key,
            chain: vec![leaf, self.intermediate.certificate_der().to_vec()],
        }
    }

    pub fn maintainer(&self, crates: &[&str]) -> Maintainer {
        self.maintainer_at(crates, unix_ms() - 60_000, unix_ms() + DAY_MS)
    }
}

/// A distinct P-256 key per call (tests only: derived from a counter and the
/// clock, not from a secure random source).
pub fn fresh_key() -> SigningKey {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = format!("{}-{}", unix_ms(), COUNTER.fetch_add(1, Ordering::Relaxed));
    SigningKey::from_slice(&<sha2::Sha256 as sha2::Digest>::digest(seed.as_bytes())).unwrap()
}

pub struct Maintainer {
    pub key: SigningKey,
    pub chain: Vec<Vec<u8>>,
}

impl Maintainer {
    pub fn release(&self, name: &str, version: &str, content: &[u8]) -> ReleaseEntry {
        let sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(content).into();
        let env =
            Envelope::sign_release(&Release::new(name, version, sha).unwrap(), &self.key).unwrap();
        ReleaseEntry::from_envelope(&env, vec![self.chain.clone()]).unwrap()
    }

    /// The `POST /api/v1/entries` body of a signed release.
    pub fn release_body(&self, name: &str, version: &str, content: &[u8]) -> EntryBody {
        EntryBody::Release(self.release(name, version, content))
    }
}

pub struct Setup {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub key: PathBuf,
    pub vkey: String,
    pub root_pem: PathBuf,
    pub ca: TestCa,
}

pub fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (key, vkey) = keygen(dir.path(), ORIGIN);
    let ca = TestCa::new("Sigil Test");
    let root_pem = ca.write_root(dir.path());
    Setup {
        data: dir.path().join("data"),
        dir,
        key,
        vkey,
        root_pem,
        ca,
    }
}

impl Setup {
    pub fn start(&self) -> LogServer {
        LogServer::start(
            &self.data,
            &self.key,
            &self.root_pem,
            &["--batch-window-ms", "10"],
        )
    }

    pub fn policy(&self) -> CheckpointPolicy {
        CheckpointPolicy {
            origin: ORIGIN.into(),
            log: note::parse_verifier_key(&self.vkey).unwrap(),
            witnesses: vec![],
            quorum: 0,
        }
    }
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// A JSON answer of the log: the typed body of a 2xx, the error body
/// otherwise.
pub type Answer<T> = Result<T, ErrorBody>;

/// Reads an answer: a 2xx must be a `T`, anything else an [`ErrorBody`].
pub fn answer<T: DeserializeOwned>(status: u16, body: &[u8]) -> Answer<T> {
    if (200..300).contains(&status) {
        Ok(serde_json::from_slice(body)
            .unwrap_or_else(|e| panic!("{status} body is not the typed answer ({e}): {body:?}")))
    } else {
        Err(ErrorBody::parse(body)
            .unwrap_or_else(|| panic!("{status} body is not an error body: {body:?}")))
    }
}

/// POSTs submission bytes; returns (status, answer).
pub fn post(log: &LogServer, body: &[u8]) -> (u16, Answer<Submitted>) {
    post_json(log, "/api/v1/entries", body)
}

/// POSTs a JSON body to `path`; returns (status, answer).
pub fn post_json<T: DeserializeOwned>(
    log: &LogServer,
    path: &str,
    body: &[u8],
) -> (u16, Answer<T>) {
    let r = client()
        .post(format!("{}{path}", log.url))
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, answer(status, &r.bytes().unwrap()))
}

/// POSTs a submission of `body` (`log_api::encode_submission`).
pub fn submit(log: &LogServer, body: &EntryBody) -> (u16, Answer<Submitted>) {
    post(log, &encode_submission(body))
}

pub fn get(log: &LogServer, path: &str) -> (u16, Vec<u8>) {
    let r = client().get(format!("{}{path}", log.url)).send().unwrap();
    (r.status().as_u16(), r.bytes().unwrap().to_vec())
}

pub fn get_json<T: DeserializeOwned>(log: &LogServer, path: &str) -> (u16, Answer<T>) {
    let (status, body) = get(log, path);
    (status, answer(status, &body))
}

pub fn error_code<T>(answer: &Answer<T>) -> &str {
    answer
        .as_ref()
        .err()
        .map_or("<no error>", |e| &e.error.code)
}

/// The typed body of a 2xx answer.
pub fn ok<T: std::fmt::Debug>(answer: Answer<T>) -> T {
    answer.unwrap_or_else(|e| panic!("expected success, got {e:?}"))
}

/// Tiles over HTTP, for checking that what the API says is what the tiles say.
pub struct HttpTiles<'a>(pub &'a LogServer);

impl TileReader for HttpTiles<'_> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TileError> {
        tiles
            .iter()
            .map(|t| {
                let (status, body) = get(self.0, &format!("/{}", t.path()));
                assert_eq!(status, 200, "GET /{}", t.path());
                Ok(body)
            })
            .collect()
    }
}

pub fn checkpoint_of(log: &LogServer, policy: &CheckpointPolicy) -> Checkpoint {
    let (status, note) = get(log, "/checkpoint");
    assert_eq!(status, 200);
    sigil_core::checkpoint::verify_checkpoint(&note, policy)
        .unwrap()
        .checkpoint
}
