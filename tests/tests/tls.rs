//! Issue #11 "TLS", end to end: the three servers serve HTTPS with
//! `--tls-cert`/`--tls-key`, and every client reaches them by `https://`
//! URLs trusting a private CA given with `--ca-bundle`: the CLI (enroll,
//! sign, verify, monitor), the CA's admin commands, the CA's client of
//! the log, and the log's client of its witness. The PKI is a throwaway
//! CA made with rcgen for this test (not Sigil's CA: TLS server
//! certificates are the operator's, from any CA).
//!
//! A client without the bundle, or speaking plain HTTP to a TLS port,
//! gets no answer it trusts and says so (fail closed); a server refuses
//! a TLS key that others can read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use serde_json::Value;
use sigil_e2e::{Server, command, layout, run_ok};

const ORIGIN: &str = "tls-e2e.sigil.example/log";

/// The throwaway PKI: the CA's certificate (what clients trust) and one
/// server certificate for `localhost` and 127.0.0.1 with its key.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn throwaway_pki(dir: &Path) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Sigil e2e throwaway TLS CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress(Ipv4Addr::LOCALHOST.into()));
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &ca).unwrap();
    let pki = Pki {
        ca: dir.join("tls-ca.pem"),
        cert: dir.join("tls-server.pem"),
        key: dir.join("tls-server.key"),
    };
    std::fs::write(&pki.ca, ca.pem()).unwrap();
    std::fs::write(&pki.cert, cert.pem()).unwrap();
    std::fs::write(&pki.key, key.serialize_pem()).unwrap();
    std::fs::set_permissions(&pki.key, std::fs::Permissions::from_mode(0o600)).unwrap();
    pki
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn run(mut c: Command) -> Output {
    c.env_remove("SIGIL_PASSPHRASE")
        .env_remove("SIGIL_CA_BUNDLE")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Everything of one Sigil deployment, every server on HTTPS.
struct World {
    dir: tempfile::TempDir,
    pki: Pki,
    witness: Server,
    log: Server,
    ca: Server,
}

impl World {
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn start() -> World {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let pki = throwaway_pki(d);
        let tls = |c: &mut Command| {
            c.args(["--tls-cert", p(&pki.cert), "--tls-key", p(&pki.key)]);
        };
        layout::init_ca(d).unwrap();
        let log_vkey = layout::log_keygen(d, ORIGIN).unwrap();

        let mut c = command("sigil-witness").unwrap();
        c.args([
            "keygen",
            "--name",
            "w.tls.example",
            "--out",
            p(&d.join("w")),
        ]);
        run_ok(c).unwrap();
        std::fs::write(d.join("w/logs"), format!("logs/v0\nvkey {log_vkey}\n")).unwrap();
        let mut c = command("sigil-witness").unwrap();
        c.args(["serve", "--key", p(&d.join("w/witness.key"))])
            .args(["--logs", p(&d.join("w/logs"))])
            .args(["--data-dir", p(&d.join("w/data"))])
            .args(["--listen", "127.0.0.1:0"]);
        tls(&mut c);
        let witness = Server::start(c).unwrap();

        let witness_vkey = std::fs::read_to_string(d.join("w/witness.pub")).unwrap();
        let mut c = layout::log_command(d, "logdata").unwrap();
        c.arg("--witness")
            .arg(format!("{}={}", witness.url, witness_vkey.trim()))
            .args(["--ca-bundle", p(&pki.ca)]);
        tls(&mut c);
        let log = Server::start(c).unwrap();

        let mut c = layout::ca_command(d, &log.url, &d.join("logkey/log.pub")).unwrap();
        c.args(["--ca-bundle", p(&pki.ca)]);
        tls(&mut c);
        let ca = Server::start(c).unwrap();

        let mut c = command("sigil").unwrap();
        c.args(["trust-root", "--ca-root", p(&d.join("ca/root.pem"))])
            .args(["--log-key", p(&d.join("logkey/log.pub"))])
            .args(["--witness", witness_vkey.trim(), "--quorum", "1"])
            .args(["--out", p(&d.join("trust.json"))]);
        run_ok(c).unwrap();
        World {
            dir,
            pki,
            witness,
            log,
            ca,
        }
    }

    fn sigil(&self, args: &[&str]) -> Command {
        let mut c = command("sigil").unwrap();
        c.args(args).env("SIGIL_HOME", self.path("home"));
        c
    }

    fn bundle(&self) -> [&str; 2] {
        ["--ca-bundle", p(&self.pki.ca)]
    }

    /// `sigil-ca invite` over HTTPS: the token.
    fn invite(&self, extra: &[&str]) -> Output {
        let mut c = command("sigil-ca").unwrap();
        c.args(["invite", "--ca", &self.ca.url])
            .args(["--identity", "tls@example.org", "--crate", "hello"])
            .args(["--admin-token-file", p(&self.path("ca/admin.token"))])
            .args(extra);
        run(c)
    }

    /// Invites, enrolls and signs `hello@1.0.0` over HTTPS: the `.crate`.
    /// The CA logs the certificate over HTTPS and checks the log's proof;
    /// the log has each checkpoint cosigned by the witness over HTTPS.
    fn publish(&self) -> PathBuf {
        let token = ok(self.invite(&self.bundle()));
        let key = self.path("m.key");
        ok(run(self.sigil(&["keygen", "--out", p(&key)])));
        let cert = self.path("m.pem");
        let mut enroll = self.sigil(&["enroll", "--ca", &self.ca.url, "--token", token.trim()]);
        enroll
            .args(["--key", p(&key), "--out", p(&cert)])
            .args(self.bundle());
        ok(run(enroll));
        let d = self.dir.path();
        let file = layout::package(d, d, "hello", "1.0.0", "pub fn hi() {}\n").unwrap();
        let trust = self.path("trust.json");
        let mut sign = layout::sign_command(&key, &cert, &file, &self.log.url, &trust).unwrap();
        sign.args(self.bundle());
        ok(run(sign));
        file
    }

    fn verify(&self, file: &Path, extra: &[&str]) -> (Output, Value) {
        let mut c = self.sigil(&[
            "verify",
            "--json",
            "--trust-root",
            p(&self.path("trust.json")),
        ]);
        c.args(["--log", &self.log.url]).args(extra).arg(file);
        let out = run(c);
        let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out, v)
    }
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "failed: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn tls_every_server_and_every_client_over_https_with_a_private_ca() {
    let w = World::start();
    for server in [&w.witness, &w.log, &w.ca] {
        assert!(
            server.url.starts_with("https://127.0.0.1:"),
            "{}",
            server.url
        );
    }
    let file = w.publish();
    // The trust root asks for one cosignature: it came over HTTPS.
    let (out, v) = w.verify(&file, &w.bundle());
    assert!(out.status.success(), "{v} {}", stderr(&out));
    assert_eq!(v["ok"], true, "{v}");

    // The monitor follows the log's tiles over HTTPS.
    let mut monitor = w.sigil(&[
        "monitor",
        "--log",
        &w.log.url,
        "--trust-root",
        p(&w.path("trust.json")),
        "--state",
        p(&w.path("monitor")),
        "--watch-crate",
        "hello",
        "--once",
    ]);
    monitor.args(w.bundle());
    let alerts = ok(run(monitor));
    assert!(alerts.contains("hello"), "{alerts}");

    // `sigil proxy` serves HTTPS with the same flags, and asks the log
    // over HTTPS with the bundle.
    let mut proxy = command("sigil").unwrap();
    proxy
        .args(["proxy", "--listen", "127.0.0.1:0", "--log", &w.log.url])
        .args(["--trust-root", p(&w.path("trust.json"))])
        .args(["--sigil-home", p(&w.path("proxy-home"))])
        .args(["--tls-cert", p(&w.pki.cert), "--tls-key", p(&w.pki.key)])
        .args(w.bundle());
    let proxy = Server::start(proxy).unwrap();
    assert!(proxy.url.starts_with("https://127.0.0.1:"), "{}", proxy.url);
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&w.pki.ca).unwrap()).unwrap();
    let http = reqwest::blocking::Client::builder()
        .tls_certs_only([ca])
        .build()
        .unwrap();
    let health = http.get(format!("{}/healthz", proxy.url)).send().unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

#[test]
fn tls_a_client_that_cannot_authenticate_the_server_fails_closed() {
    let w = World::start();
    let file = w.publish();

    // Without the bundle the private CA is unknown: no answer is trusted,
    // the verification fails with a reason, never passes.
    let (out, v) = w.verify(&file, &[]);
    assert!(!out.status.success(), "{v}");
    assert_eq!(v["ok"], false, "{v}");
    // Another CA's bundle: the same.
    std::fs::create_dir_all(w.path("other")).unwrap();
    let other = throwaway_pki(&w.path("other"));
    let (out, v) = w.verify(&file, &["--ca-bundle", p(&other.ca)]);
    assert!(!out.status.success(), "{v}");
    // The admin command too.
    let out = w.invite(&[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("certificate"), "{}", stderr(&out));
    // Plain HTTP to a TLS port gets no HTTP answer.
    let plain = w.log.url.replace("https://", "http://");
    let (out, _) = {
        let mut c = w.sigil(&["verify", "--json", "--trust-root", p(&w.path("trust.json"))]);
        c.args(["--log", &plain]).arg(&file);
        let out = run(c);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out, v)
    };
    assert!(!out.status.success());
    // A bundle that is not PEM is refused before anything is asked.
    std::fs::write(w.path("junk.pem"), "not a certificate").unwrap();
    let (out, _) = w.verify(&file, &["--ca-bundle", p(&w.path("junk.pem"))]);
    assert!(!out.status.success());
}

#[test]
fn tls_a_server_refuses_a_key_others_can_read_or_half_a_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = throwaway_pki(d);
    layout::init_ca(d).unwrap();
    layout::log_keygen(d, ORIGIN).unwrap();
    std::fs::set_permissions(&pki.key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut c = layout::log_command(d, "logdata").unwrap();
    c.args(["--tls-cert", p(&pki.cert), "--tls-key", p(&pki.key)]);
    let out = run(c);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));
    // A certificate without its key is a usage error.
    let mut c = layout::log_command(d, "logdata").unwrap();
    c.args(["--tls-cert", p(&pki.cert)]);
    let out = run(c);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--tls-key"), "{}", stderr(&out));
    // A key that is not the certificate's.
    std::fs::set_permissions(&pki.key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let other = throwaway_pki(&{
        let o = d.join("other");
        std::fs::create_dir_all(&o).unwrap();
        o
    });
    let mut c = command("sigil-witness").unwrap();
    c.args(["serve", "--key", "/nonexistent", "--logs", "/nonexistent"])
        .args(["--data-dir", p(&d.join("wdata"))])
        .args(["--tls-cert", p(&pki.cert), "--tls-key", p(&other.key)]);
    let out = run(c);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--tls-cert and --tls-key"),
        "{}",
        stderr(&out)
    );
}
