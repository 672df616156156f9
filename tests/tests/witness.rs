//! Witnesses end to end, with real processes: `sigil-log` configured with a
//! `sigil-witness` publishes cosigned checkpoints and its `.tlog-proof`
//! files carry the cosignature; a client whose trust root asks for a
//! quorum accepts them, and rejects them when the quorum is not met; a
//! second log instance with the same key but another history gets no
//! cosignature from the witness, so quorum clients refuse its proofs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;
use sigil_e2e::{Server, command, layout, run_ok};

const ORIGIN: &str = "witness-e2e.sigil.example/log";

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `sigil-witness keygen`; returns its verifier key.
    fn witness_keygen(&self, name: &str) -> String {
        let mut c = command("sigil-witness").unwrap();
        c.args(["keygen", "--name", &format!("{name}.witness.example")])
            .args(["--out", p(&self.path(name))]);
        run_ok(c).unwrap();
        std::fs::read_to_string(self.path(&format!("{name}/witness.pub")))
            .unwrap()
            .trim()
            .to_string()
    }

    fn start_witness(&self, name: &str) -> Server {
        let logs = self.path(&format!("{name}/logs"));
        let vkey = std::fs::read_to_string(self.path("logkey/log.pub")).unwrap();
        std::fs::write(&logs, format!("logs/v0\nvkey {}\n", vkey.trim())).unwrap();
        let mut c = command("sigil-witness").unwrap();
        c.args([
            "serve",
            "--key",
            p(&self.path(&format!("{name}/witness.key"))),
        ])
        .args(["--logs", p(&logs)])
        .args(["--data-dir", p(&self.path(&format!("{name}/data")))])
        .args(["--listen", "127.0.0.1:0"]);
        Server::start(c).unwrap()
    }

    fn start_log(&self, data: &str, witnesses: &[(&str, &str)]) -> Server {
        let mut c = layout::log_command(self.dir.path(), data).unwrap();
        for (url, vkey) in witnesses {
            c.arg("--witness").arg(format!("{url}={vkey}"));
        }
        Server::start(c).unwrap()
    }

    fn trust_root(&self, out: &str, witnesses: &[&str], quorum: usize) -> PathBuf {
        let mut c = command("sigil").unwrap();
        c.args(["trust-root", "--ca-root", p(&self.path("ca/root.pem"))])
            .args(["--log-key", p(&self.path("logkey/log.pub"))])
            .args(["--quorum", &quorum.to_string()])
            .args(["--out", p(&self.path(out))]);
        for w in witnesses {
            c.args(["--witness", w]);
        }
        run_ok(c).unwrap();
        self.path(out)
    }

    /// Enrolls a maintainer for `hello` with a CA logging to `log_url`.
    fn maintainer(&self, log_url: &str) -> (PathBuf, PathBuf) {
        let ca = Server::start(
            layout::ca_command(self.dir.path(), log_url, &self.path("logkey/log.pub")).unwrap(),
        )
        .unwrap();
        layout::enroll(self.dir.path(), &ca.url, "w", &["hello", "world"]).unwrap()
    }

    /// Packages and signs `name@1.0.0` into `subdir`, submitting to `log`.
    fn publish(&self, subdir: &str, name: &str, key: &Path, cert: &Path, log: &str) -> PathBuf {
        let body = format!("pub fn {name}() {{}}\n");
        let file =
            layout::package(&self.path(subdir), &self.path(subdir), name, "1.0.0", &body).unwrap();
        run_ok(layout::sign_command(key, cert, &file, log).unwrap()).unwrap();
        file
    }

    fn verify(&self, trust: &Path, file: &Path) -> Value {
        let mut c = command("sigil").unwrap();
        c.args(["verify", "--json", "--trust-root", p(trust)])
            .arg(file)
            .env(
                "SIGIL_HOME",
                self.path(&format!(
                    "home-{}",
                    trust.file_stem().unwrap().to_str().unwrap()
                )),
            );
        let out = c.output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.success(), v["ok"] == true, "{v}");
        v
    }
}

fn checkpoint_of(proof: &Path) -> String {
    let text = std::fs::read_to_string(proof).unwrap();
    // The checkpoint note follows the first blank line.
    text.split_once("\n\n").unwrap().1.to_string()
}

#[test]
fn cosigned_checkpoints_and_client_quorum() {
    let w = World {
        dir: tempfile::tempdir().unwrap(),
    };
    layout::init_ca(w.dir.path()).unwrap();
    layout::log_keygen(w.dir.path(), ORIGIN).unwrap();
    let w1 = w.witness_keygen("w1");
    let w2 = w.witness_keygen("w2");
    let witness = w.start_witness("w1");
    let log = w.start_log("logdata", &[(&witness.url, &w1)]);
    let (key, cert) = w.maintainer(&log.url);
    let file = w.publish("a", "hello", &key, &cert, &log.url);

    // The proof's checkpoint carries the witness's cosignature, and so
    // does the log's /checkpoint.
    let proof = PathBuf::from(format!("{}.tlog-proof", file.display()));
    let note = checkpoint_of(&proof);
    assert!(note.contains("— w1.witness.example "), "{note}");
    let served = reqwest::blocking::get(format!("{}/checkpoint", log.url))
        .unwrap()
        .text()
        .unwrap();
    assert!(served.contains("— w1.witness.example "), "{served}");

    // Quorum 1 of [w1]: accepted. Quorum 2 of [w1, w2]: one cosignature
    // is not enough.
    let one = w.trust_root("trust-1.json", &[&w1], 1);
    let v = w.verify(&one, &file);
    assert_eq!(v["ok"], true, "{v}");
    let two = w.trust_root("trust-2.json", &[&w1, &w2], 2);
    let v = w.verify(&two, &file);
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["code"], "bad_checkpoint", "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("cosign"),
        "the reason names the missing cosignatures: {v}"
    );

    // After a restart the log asks again at once: its first /checkpoint is
    // cosigned, before any new entry.
    assert!(log.terminate());
    let log = w.start_log("logdata", &[(&witness.url, &w1)]);
    let served = reqwest::blocking::get(format!("{}/checkpoint", log.url))
        .unwrap()
        .text()
        .unwrap();
    assert!(served.contains("— w1.witness.example "), "{served}");

    // A second log instance with the same key and another history: the
    // witness refuses to cosign it, so its proofs fail a quorum client.
    let fork = w.start_log("logdata-fork", &[(&witness.url, &w1)]);
    let forked = w.publish("b", "world", &key, &cert, &fork.url);
    let forked_proof = PathBuf::from(format!("{}.tlog-proof", forked.display()));
    let note = checkpoint_of(&forked_proof);
    assert!(
        !note.contains("— w1.witness.example "),
        "the witness cosigned a fork: {note}"
    );
    let v = w.verify(&one, &forked);
    assert_eq!(v["ok"], false, "{v}");
    // Without a quorum the same proof passes: witnesses are what catch it.
    let none = w.trust_root("trust-0.json", &[], 0);
    let v = w.verify(&none, &forked);
    assert_eq!(v["ok"], true, "{v}");
    drop(witness);
}
