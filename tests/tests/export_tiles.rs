//! `sigil-log export-tiles` (issue #14: the read path from a plain static
//! file server): a stopped log's tiles and checkpoint written to a
//! directory, served by a static server, and followed from there by
//! `sigil monitor`, which reads only tlog-tiles paths.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sigil_core::log_api::encode_submission;
use sigil_e2e::static_server::StaticServer;
use sigil_e2e::test_ca::TestCa;
use sigil_e2e::{Server, command, layout, run_ok};

const ORIGIN: &str = "export-e2e.sigil.example/log";

#[test]
fn exported_tiles_served_by_a_static_server_are_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Export").unwrap();
    std::fs::create_dir_all(dir.path().join("ca")).unwrap();
    std::fs::write(dir.path().join("ca/root.pem"), ca.root_pem()).unwrap();
    layout::log_keygen(dir.path(), ORIGIN).unwrap();
    let mut c = layout::log_command(dir.path(), "data").unwrap();
    c.args(["--rate-limit", "0"]);
    let log = Server::start(c).unwrap();
    // 300 entries: a full bundle and level-0 tile, then partial ones.
    let http = reqwest::blocking::Client::new();
    for _ in 0..300 {
        let r = http
            .post(format!("{}/api/v1/entries", log.url))
            .header("content-type", "application/json")
            .body(encode_submission(&ca.certificate("export").unwrap()))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    assert!(log.terminate());

    let out = dir.path().join("static");
    let mut export = command("sigil-log").unwrap();
    export
        .args(["export-tiles", "--origin", ORIGIN])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--out")
        .arg(&out);
    run_ok(export).unwrap();
    for path in [
        "checkpoint",
        "tile/0/000",
        "tile/0/001.p/44",
        "tile/1/000.p/1",
        "tile/entries/000",
        "tile/entries/001.p/44",
    ] {
        assert!(out.join(path).is_file(), "{path}");
    }

    let server = StaticServer::start(&out).unwrap();
    let mut trust = command("sigil").unwrap();
    trust
        .arg("trust-root")
        .arg("--ca-root")
        .arg(dir.path().join("ca/root.pem"))
        .arg("--log-key")
        .arg(dir.path().join("logkey/log.pub"))
        .arg("--out")
        .arg(dir.path().join("trust.json"));
    run_ok(trust).unwrap();
    let mut monitor = command("sigil").unwrap();
    monitor
        .args(["monitor", "--log", &server.url, "--once"])
        .arg("--trust-root")
        .arg(dir.path().join("trust.json"))
        .arg("--state")
        .arg(dir.path().join("monitor.json"));
    run_ok(monitor).unwrap();
    // Its state (a directory) records the checkpoint it followed to.
    let mut found = String::new();
    for e in std::fs::read_dir(dir.path().join("monitor.json")).unwrap() {
        found.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap_or_default());
    }
    let exported = std::fs::read_to_string(out.join("checkpoint")).unwrap();
    assert!(
        found.contains(exported.lines().nth(2).unwrap()),
        "the monitor followed the exported tree: {found}"
    );
}
