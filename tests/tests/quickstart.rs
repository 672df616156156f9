//! The README's main job, `sigil quickstart`, run as a user runs it: the
//! `sigil` binary starts the real `sigil-ca` and `sigil-log` programs (found
//! next to it) on 127.0.0.1 with RocksDB, goes through all eleven steps, and
//! stops both servers before it exits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpStream;

use sigil_e2e::command;

/// The `http://IP:PORT` after `label` in the quickstart's output.
fn url_after<'a>(out: &'a str, label: &str) -> &'a str {
    let rest = &out[out.find(label).unwrap() + label.len()..];
    rest.split([',', ' ']).next().unwrap()
}

#[test]
fn quickstart_runs_every_step_and_leaves_no_server_behind() {
    let dir = tempfile::tempdir().unwrap();
    // As `./quickstart` runs it: inside a cargo workspace (Sigil's), which
    // the demo project of step 10 must not be taken for a member of.
    std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
    let qs = dir.path().join("qs");
    let mut c = command("sigil").unwrap();
    c.arg("quickstart")
        .arg("--dir")
        .arg(&qs)
        .env("SIGIL_LOG", "warn");
    let out = c.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in 1..=11 {
        assert!(
            stdout.contains(&format!("[{step}/11]")),
            "step {step}: {stdout}"
        );
    }
    assert!(
        stdout.contains("OK hello-sigil 0.1.0: signed by alice@example.org"),
        "{stdout}"
    );
    assert!(stdout.contains("refused (digest_mismatch)"), "{stdout}");
    assert!(
        stdout.contains("refused by the log (out_of_scope)"),
        "{stdout}"
    );
    // Install time: cargo builds through `sigil proxy`, then refuses the
    // tampered crate with the proxy's reason.
    assert!(stdout.contains("OK: cargo build finished"), "{stdout}");
    assert!(
        stdout.contains("cargo: sigil: refused hello-sigil 0.1.0")
            && stdout.contains("(digest_mismatch)"),
        "{stdout}"
    );
    for file in [
        "ca/root.pem",
        "log/log.pub",
        "trust-root.json",
        "hello-sigil-0.1.0.crate",
        "hello-sigil-0.1.0.crate.tlog-proof",
        "log.stderr",
        "ca.stderr",
    ] {
        assert!(qs.join(file).is_file(), "{file} missing");
    }
    // The servers it started are gone: nothing answers on their ports.
    for label in ["sigil-log listening on http://", "sigil-ca on http://"] {
        let addr = url_after(&stdout, label);
        assert!(
            TcpStream::connect(addr).is_err(),
            "{addr} still accepts connections after the quickstart exited"
        );
    }
    // What it left verifies again offline, as the last line says.
    let mut verify = command("sigil").unwrap();
    verify
        .arg("verify")
        .arg("--trust-root")
        .arg(qs.join("trust-root.json"))
        .arg(qs.join("hello-sigil-0.1.0.crate"))
        .env("SIGIL_HOME", dir.path().join("home"));
    let out = verify.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn quickstart_refuses_a_directory_that_is_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.txt"), "mine").unwrap();
    let mut c = command("sigil").unwrap();
    c.arg("quickstart").arg("--dir").arg(dir.path());
    let out = c.output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not empty"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
