//! The log the benchmarks drive: its files in a run's directory (the CA
//! root in `root.pem`, the log key in `key/`, RocksDB in `data/`) and the
//! release `sigil-log serve` over them.

use std::path::Path;

use sigil_core::note::Ed25519Signer;
use sigil_e2e::Server;
use sigil_e2e::test_ca::TestCa;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Writes `dir/root.pem` (the root of `ca`) and a fresh log key for
/// `origin` in `dir/key/`; returns its signer (for raw appends).
pub fn write_keys(dir: &Path, ca: &TestCa, origin: &str) -> Result<Ed25519Signer, String> {
    std::fs::write(dir.join("root.pem"), ca.root_pem()).map_err(err)?;
    let signer = Ed25519Signer::generate(origin).map_err(err)?;
    std::fs::create_dir_all(dir.join("key")).map_err(err)?;
    sigil_keyfile::note_key::write_log_key(&dir.join("key"), &signer).map_err(err)?;
    Ok(signer)
}

/// `sigil-log serve` on `dir/data` with the key and root [`write_keys`]
/// wrote, on 127.0.0.1 with the rate limit off (every client is on
/// 127.0.0.1: one bucket), room for `connections` kept-alive connections
/// when given (else the server's default), then `extra`.
pub fn serve(dir: &Path, connections: Option<usize>, extra: &[String]) -> Result<Server, String> {
    let mut c = sigil_e2e::command("sigil-log").map_err(err)?;
    c.arg("serve")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--key")
        .arg(dir.join("key/log.key"))
        .arg("--ca-root")
        .arg(dir.join("root.pem"))
        .args(["--listen", "127.0.0.1:0", "--rate-limit", "0"]);
    if let Some(connections) = connections {
        c.arg("--max-connections")
            .arg((connections + 64).to_string());
    }
    c.args(extra);
    Server::start(c).map_err(err)
}
