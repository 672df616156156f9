//! Witnesses end to end, with real processes: `sigil-log` configured with a
//! `sigil-witness` publishes cosigned checkpoints and its `.tlog-proof`
//! files carry the cosignature; a client whose trust root asks for a
//! quorum accepts them, and rejects them when the quorum is not met; a
//! second log instance with the same key but a shorter history learns from
//! the witness that it is behind and stops signing.
//!
//! Integrate, then publish (`docs/log.md`): a witness that never answers
//! does not delay proofs when the log's quorum is met by another; a witness
//! on a closed port never stalls the log; a witness that goes silent costs
//! one timeout (the log fails open), after which rounds do not wait for it.
//! The slow party is a stub witness on loopback ([`Stub`]) that records what
//! it was sent; the assertions are on what it recorded, not on durations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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
    /// A temporary directory with a CA (`sigil-ca init`) and a log key.
    fn new() -> World {
        let w = World {
            dir: tempfile::tempdir().unwrap(),
        };
        layout::init_ca(w.dir.path()).unwrap();
        layout::log_keygen(w.dir.path(), ORIGIN).unwrap();
        w
    }

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
        self.start_log_with(data, witnesses, &[])
    }

    fn start_log_with(&self, data: &str, witnesses: &[(&str, &str)], extra: &[&str]) -> Server {
        let mut c = layout::log_command(self.dir.path(), data).unwrap();
        for (url, vkey) in witnesses {
            c.arg("--witness").arg(format!("{url}={vkey}"));
        }
        c.args(extra);
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
        self.publish_version(subdir, name, "1.0.0", key, cert, log)
    }

    /// Packages and signs `name@version` into `subdir`, submitting to `log`.
    fn publish_version(
        &self,
        subdir: &str,
        name: &str,
        version: &str,
        key: &Path,
        cert: &Path,
        log: &str,
    ) -> PathBuf {
        let body = format!("pub fn {name}() {{}}\n");
        let file =
            layout::package(&self.path(subdir), &self.path(subdir), name, version, &body).unwrap();
        let trust = self.path("maintainer-trust.json");
        if !trust.exists() {
            self.trust_root("maintainer-trust.json", &[], 0);
        }
        run_ok(layout::sign_command(key, cert, &file, log, &trust).unwrap()).unwrap();
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

/// The `.tlog-proof` next to a signed `.crate`.
fn proof_of(file: &Path) -> PathBuf {
    PathBuf::from(format!("{}.tlog-proof", file.display()))
}

/// What the [`Stub`] does with the requests it reads.
#[derive(Clone)]
enum Mode {
    /// Relays each request to a real witness and its answer back.
    Forward(String),
    /// Relays like `Forward`, and appends this line to a `200` answer.
    ForwardAppending(String, String),
    /// Never answers; keeps the connection open until the log closes it.
    Hold,
}

/// What the stub saw.
#[derive(Default)]
struct Seen {
    /// `add-checkpoint` requests read.
    received: AtomicUsize,
    /// Requests held without an answer.
    held: AtomicUsize,
    /// Held requests whose connection the log closed (it gave up).
    abandoned: AtomicUsize,
}

/// A witness stand-in on 127.0.0.1: reads HTTP/1.1 requests (keep-alive)
/// and forwards them to a real witness or holds them ([`Mode`]).
struct Stub {
    url: String,
    mode: Arc<Mutex<Mode>>,
    seen: Arc<Seen>,
}

impl Stub {
    fn start(mode: Mode) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (mode, seen) = (Arc::new(Mutex::new(mode)), Arc::new(Seen::default()));
        let (m, s) = (mode.clone(), seen.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (m, s) = (m.clone(), s.clone());
                std::thread::spawn(move || serve_stub(conn, &m, &s));
            }
        });
        Stub { url, mode, seen }
    }

    fn hold(&self) {
        *self.mode.lock().unwrap() = Mode::Hold;
    }

    fn received(&self) -> usize {
        self.seen.received.load(Ordering::SeqCst)
    }

    fn held(&self) -> usize {
        self.seen.held.load(Ordering::SeqCst)
    }

    fn abandoned(&self) -> usize {
        self.seen.abandoned.load(Ordering::SeqCst)
    }

    /// Waits (up to a minute) until the stub has read `n` requests in all.
    fn wait_received(&self, n: usize) {
        for _ in 0..6000 {
            if self.received() >= n {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the stub witness got {} requests, not {n}", self.received());
    }
}

fn serve_stub(conn: TcpStream, mode: &Mutex<Mode>, seen: &Seen) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut writer = conn;
    loop {
        // Request line and headers.
        let mut length = 0usize;
        let mut first = true;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            if first {
                assert!(line.starts_with("POST /add-checkpoint "), "{line}");
                first = false;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        seen.received.fetch_add(1, Ordering::SeqCst);
        let current = mode.lock().unwrap().clone();
        let (witness, extra) = match current {
            Mode::Forward(witness) => (witness, String::new()),
            Mode::ForwardAppending(witness, extra) => (witness, extra),
            Mode::Hold => {
                seen.held.fetch_add(1, Ordering::SeqCst);
                // Until the log gives up and closes the connection.
                let mut rest = Vec::new();
                let _ = reader.read_to_end(&mut rest);
                seen.abandoned.fetch_add(1, Ordering::SeqCst);
                return;
            }
        };
        let r = reqwest::blocking::Client::new()
            .post(format!("{witness}/add-checkpoint"))
            .body(body)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_else(|| "text/plain".into());
        let mut answer = r.bytes().unwrap().to_vec();
        if status == 200 {
            answer.extend_from_slice(extra.as_bytes());
        }
        let head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
            answer.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&answer).is_err() {
            return;
        }
    }
}

/// A URL where nothing listens: a port that was just free.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

#[test]
fn cosigned_checkpoints_and_client_quorum() {
    let w = World::new();
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

    // A second log instance with the same key and another history (an
    // empty store) is a fork. The witness has cosigned size 2 of this key's
    // log, more than the fork holds when it asks at its first round, so the
    // fork stops signing rather than publish a second tree of size 1
    // (docs/log.md, "A witness ahead of the log"): the release is refused
    // and the fork's checkpoint stays empty.
    let fork = w.start_log("logdata-fork", &[(&witness.url, &w1)]);
    let body = "pub fn world() {}\n";
    let forked = layout::package(&w.path("b"), &w.path("b"), "world", "1.0.0", body).unwrap();
    let trust = w.path("maintainer-trust.json");
    let refused =
        run_ok(layout::sign_command(&key, &cert, &forked, &fork.url, &trust).unwrap()).unwrap_err();
    assert!(refused.0.contains("log_rolled_back"), "{refused}");
    let served = reqwest::blocking::get(format!("{}/checkpoint", fork.url))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(served.lines().nth(1), Some("0"), "{served}");
    drop(witness);
}

#[test]
fn a_witness_that_never_answers_does_not_delay_proofs_when_the_quorum_is_met() {
    let w = World::new();
    let w1 = w.witness_keygen("w1");
    let w2 = w.witness_keygen("w2");
    let witness = w.start_witness("w1");
    let sleeper = Stub::start(Mode::Hold);
    // The sleeper's requests outlive the test: 10 minutes.
    let log = w.start_log_with(
        "logdata",
        &[(&witness.url, &w1), (&sleeper.url, &w2)],
        &["--witness-quorum", "1", "--witness-timeout-ms", "600000"],
    );
    let (key, cert) = w.maintainer(&log.url);
    let files: Vec<PathBuf> = ["hello", "world"]
        .iter()
        .map(|name| w.publish(name, name, &key, &cert, &log.url))
        .collect();
    sleeper.wait_received(1);

    // Every submission was answered with a proof carrying the real
    // witness's cosignature, and it verifies with a quorum of one ...
    let one = w.trust_root("trust-1.json", &[&w1], 1);
    for file in &files {
        let note = checkpoint_of(&proof_of(file));
        assert!(note.contains("— w1.witness.example "), "{note}");
        assert!(!note.contains("— w2.witness.example "), "{note}");
        let v = w.verify(&one, file);
        assert_eq!(v["ok"], true, "{v}");
    }
    // ... while the sleeper still holds the log's one request to it, which
    // it never answered: nothing waited for it. (At most one request is in
    // flight per witness.)
    assert_eq!(sleeper.received(), 1);
    assert_eq!(sleeper.held(), 1);
    assert_eq!(sleeper.abandoned(), 0, "the log gave up on the sleeper");
    drop(witness);
}

#[test]
fn a_witness_on_a_closed_port_never_stalls_the_log() {
    let w = World::new();
    let w1 = w.witness_keygen("w1");
    let w2 = w.witness_keygen("w2");
    let witness = w.start_witness("w1");
    let down = closed_port();
    // Default quorum: both witnesses; one of them can never answer.
    let log = w.start_log("logdata", &[(&witness.url, &w1), (&down, &w2)]);
    let (key, cert) = w.maintainer(&log.url);
    let one = w.trust_root("trust-1.json", &[&w1], 1);
    for (i, name) in ["hello", "world", "hello", "world"].iter().enumerate() {
        let version = format!("1.0.{i}");
        let file = w.publish_version(&format!("v{i}"), name, &version, &key, &cert, &log.url);
        let note = checkpoint_of(&proof_of(&file));
        assert!(note.contains("— w1.witness.example "), "{note}");
        let v = w.verify(&one, &file);
        assert_eq!(v["ok"], true, "{v}");
    }
    drop(witness);
}

#[test]
fn a_witness_that_goes_silent_costs_one_timeout_then_is_not_waited_for() {
    let w = World::new();
    let w1 = w.witness_keygen("w1");
    let witness = w.start_witness("w1");
    // The log's only witness is the stub, relaying to the real one for now.
    let stub = Stub::start(Mode::Forward(witness.url.clone()));
    let log = w.start_log_with(
        "logdata",
        &[(&stub.url, &w1)],
        &["--witness-quorum", "1", "--witness-timeout-ms", "3000"],
    );
    let (key, cert) = w.maintainer(&log.url);
    let one = w.trust_root("trust-1.json", &[&w1], 1);
    let none = w.trust_root("trust-0.json", &[], 0);
    let file = w.publish_version("a", "hello", "1.0.0", &key, &cert, &log.url);
    assert_eq!(w.verify(&one, &file)["ok"], true);

    // The witness goes silent. The next round waits for it (it was up)
    // until the timeout, then publishes without it: answered, fail open.
    stub.hold();
    let file = w.publish_version("b", "hello", "1.0.1", &key, &cert, &log.url);
    let note = checkpoint_of(&proof_of(&file));
    assert!(!note.contains("— w1.witness.example "), "{note}");
    assert_eq!(w.verify(&none, &file)["ok"], true);
    assert_eq!(
        w.verify(&one, &file)["ok"],
        false,
        "no cosignature, no quorum"
    );
    assert_eq!(stub.held(), 1);

    // It is down now: the next rounds are answered without waiting for
    // it. Had a round waited, it would have asked the stub (which holds
    // every request) and waited for that request's timeout: one held
    // request per round. The log asks a down witness in the background,
    // one request at a time, so the stub holds fewer requests than there
    // were rounds.
    const ROUNDS: usize = 6;
    for i in 0..ROUNDS {
        let version = format!("1.1.{i}");
        let file = w.publish_version(&format!("c{i}"), "world", &version, &key, &cert, &log.url);
        assert_eq!(w.verify(&none, &file)["ok"], true);
    }
    let held_for_later_rounds = stub.held() - 1;
    assert!(
        held_for_later_rounds < ROUNDS,
        "the stub held {held_for_later_rounds} requests for {ROUNDS} rounds"
    );
    drop(witness);
}

/// A signature line named like the witness whose verifier key is `vkey`,
/// with its key ID, and a signature of zeros: what a witness could append
/// to its answer under another witness's name.
fn forged_line(vkey: &str) -> String {
    use base64::Engine as _;
    let mut parts = vkey.split('+');
    let (name, id) = (parts.next().unwrap(), parts.next().unwrap());
    let mut raw = hex::decode(id).unwrap();
    raw.extend_from_slice(&[0; 72]);
    format!(
        "\u{2014} {name} {}\n",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

#[test]
fn item2_a_witness_cannot_publish_lines_under_another_witness_s_name() {
    let w = World::new();
    let w1 = w.witness_keygen("w1");
    let w2 = w.witness_keygen("w2");
    let witness = w.start_witness("w1");
    // w1's answers reach the log with a garbage line named like w2.
    let liar = Stub::start(Mode::ForwardAppending(
        witness.url.clone(),
        forged_line(&w2),
    ));
    let log = w.start_log("logdata", &[(&liar.url, &w1)]);
    let (key, cert) = w.maintainer(&log.url);
    let file = w.publish("a", "hello", &key, &cert, &log.url);

    // A client that trusts both witnesses, one of them enough, accepts
    // the proof: w1 cosigned it, and nothing under w2's name is in it.
    let both = w.trust_root("trust-both.json", &[&w1, &w2], 1);
    let v = w.verify(&both, &file);
    assert_eq!(v["ok"], true, "{v}");
    // The log kept w1's cosignature and nothing else it was sent.
    let note = checkpoint_of(&proof_of(&file));
    assert!(note.contains("— w1.witness.example "), "{note}");
    assert!(!note.contains("— w2.witness.example "), "{note}");
    let served = reqwest::blocking::get(format!("{}/checkpoint", log.url))
        .unwrap()
        .text()
        .unwrap();
    assert!(!served.contains("— w2.witness.example "), "{served}");
    drop(witness);
}

/// Item 9: one witness key under two names in a trust root never meets a
/// quorum of two. The cosigned message does not name the witness, so the
/// one real cosignature can be copied under an alias name with the
/// alias's key ID; a trust root listing the key twice is refused, with a
/// message naming both entries, before any proof is looked at.
#[test]
fn item9_one_witness_key_under_two_names_is_refused() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let w = World::new();
    let w1 = w.witness_keygen("w1");
    let witness = w.start_witness("w1");
    let log = w.start_log("logdata", &[(&witness.url, &w1)]);
    let (key, cert) = w.maintainer(&log.url);
    let file = w.publish("a", "hello", &key, &cert, &log.url);

    // The alias: w1's public key under another name.
    let real = sigil_core::cosignature::CosignatureVerifier::from_verifier_key(&w1).unwrap();
    let alias = sigil_core::cosignature::CosignatureVerifier::new(
        "alias.witness.example",
        real.public_key(),
    )
    .unwrap()
    .verifier_key();
    let alias_id = hex::decode(alias.split('+').nth(1).unwrap()).unwrap();
    // The proof gets a copy of w1's line under the alias.
    let proof = proof_of(&file);
    let text = std::fs::read_to_string(&proof).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("— w1.witness.example "))
        .unwrap();
    let mut sig = b64.decode(line.rsplit(' ').next().unwrap()).unwrap();
    sig[..4].copy_from_slice(&alias_id);
    let copied = format!("— alias.witness.example {}\n", b64.encode(&sig));
    std::fs::write(&proof, format!("{text}{copied}")).unwrap();

    // Listed once, with a quorum of one: the copied line is not a trusted
    // witness's, the proof verifies on w1's line.
    let once = w.trust_root("trust-once.json", &[&w1], 1);
    assert_eq!(w.verify(&once, &file)["ok"], true);
    // Listed twice, with a quorum of two: refused, whatever the proof.
    let twice_path = w.path("trust-twice.json");
    let mut root: Value = serde_json::from_str(&std::fs::read_to_string(&once).unwrap()).unwrap();
    root["witnesses"]
        .as_array_mut()
        .unwrap()
        .push(Value::String(alias));
    root["quorum"] = 2.into();
    std::fs::write(&twice_path, root.to_string()).unwrap();
    let v = w.verify(&twice_path, &file);
    assert_eq!(v["ok"], false, "{v}");
    let message = v.to_string();
    assert!(
        message.contains("w1.witness.example") && message.contains("alias.witness.example"),
        "{v}"
    );
    drop(witness);
}
