//! Issue 11, "fail closed, everywhere", on the client's side: with
//! `--log`, whatever the log (or anyone between it and the client)
//! withholds or garbles makes `sigil verify` and `sigil verify-lock` say
//! no, with a code of its own and a non-zero exit. The attacker is a proxy
//! on loopback in front of the real `sigil-log` (`sigil_e2e::proxy`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod world;

use sigil_e2e::proxy::{Answer, Proxy, Reply};
use world::{World, code};

/// The ways a log can fail to give a consistency proof.
fn withheld() -> Vec<(&'static str, Answer)> {
    vec![
        (
            "404",
            Answer::json(
                404,
                r#"{"error":{"code":"no_such_proof","message":"gone"}}"#,
            ),
        ),
        ("500", Answer::text(500, "internal error")),
        ("503", Answer::text(503, "busy")),
        (
            "garbage",
            Answer::json(200, "{\"hashes\": [\"not base64\"]}"),
        ),
        ("empty object", Answer::json(200, "{}")),
        (
            "a proof for other sizes",
            Answer::json(200, r#"{"from":1,"to":2,"hashes":[]}"#),
        ),
    ]
}

/// Item 1: a split view is caught even when the log withholds the
/// consistency proof. A client that cached the checkpoint of an older
/// release then verifies a newer one online through a proxy that answers
/// the consistency request with each kind of failure: refused with
/// `no_consistency_proof`, the cache unchanged; through an honest proxy the
/// same check passes; offline it passes with the documented note.
#[test]
fn item1_a_withheld_consistency_proof_fails_closed_online() {
    let w = World::start("90d");
    let (key, cert) = w.maintainer("alice", &["hello"]);
    let first = w.package("hello", "1.0.0", "pub fn hi() {}\n");
    assert!(w.sign(&key, &cert, &first, &w.log.url).status.success());
    let second = w.package("hello", "1.0.1", "pub fn hi() -> u8 { 1 }\n");
    assert!(w.sign(&key, &cert, &second, &w.log.url).status.success());

    for (what, answer) in withheld() {
        // A fresh cache holding the first release's (smaller) checkpoint.
        let home = w.path(&format!("home-{}", what.replace(' ', "-")));
        let home_arg = format!("--sigil-home={}", home.display());
        let (good, v) = w.verify(&first, &[&home_arg]);
        assert!(good, "{what}: {v}");
        let proxy = Proxy::start(&w.log.url, move |r| {
            if r.path.starts_with("/api/v1/proofs/consistency") {
                Reply::Answer(answer.clone())
            } else {
                Reply::Forward
            }
        });
        let (good, v) = w.verify(&second, &[&home_arg, "--log", &proxy.url]);
        assert!(!good, "{what}: a withheld proof was accepted: {v}");
        assert_eq!(code(&v), "no_consistency_proof", "{what}: {v}");
        assert!(
            proxy
                .requests()
                .iter()
                .any(|r| r.starts_with("GET /api/v1/proofs/consistency")),
            "{what}: the client never asked for the proof"
        );
        // Nothing was cached: the honest log's proof still advances it.
        let honest = Proxy::start(&w.log.url, |_| Reply::Forward);
        let (good, v) = w.verify(&second, &[&home_arg, "--log", &honest.url]);
        assert!(good, "{what}: {v}");
        assert_eq!(
            v["cache"].as_str().unwrap_or(""),
            "Advanced { from_size: 2 }",
            "{what}: {v}"
        );
    }

    // Offline the comparison is not made, and says so (documented).
    let home = format!("--sigil-home={}", w.path("home-offline").display());
    assert!(w.verify(&first, &[&home]).0);
    let (good, v) = w.verify(&second, &[&home]);
    assert!(good, "{v}");
    assert_eq!(v["cache_checked"], false, "{v}");
}

/// Item 10 (`sigil sign`): the proof the log returns is checked as a
/// client will check it (log signature, inclusion, the entry is this
/// release and this `.crate`) before it is written. A log that answers
/// `201` with garbage, with another release's proof, or with a checkpoint
/// whose signature is broken gets a refusal (`log_proof_invalid`), and no
/// `.tlog-proof` is written next to the `.crate`.
#[test]
fn item10_sign_checks_the_proof_the_log_returns() {
    let w = World::start("90d");
    let (key, cert) = w.maintainer("alice", &["hello"]);
    let first = w.package("hello", "1.0.0", "pub fn hi() {}\n");
    assert!(w.sign(&key, &cert, &first, &w.log.url).status.success());
    let first_proof = std::fs::read_to_string(format!("{}.tlog-proof", first.display())).unwrap();

    /// Replaces the `proof` of a submission's answer.
    fn with_proof(answer: Answer, proof: String) -> Answer {
        let mut v: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        v["proof"] = serde_json::Value::String(proof);
        Answer::json(answer.status, &v.to_string())
    }
    /// A way to change the proof the log answered with.
    type Lie = Box<dyn Fn(String) -> String + Send + Sync>;
    let lies: Vec<(&str, Lie)> = vec![
        ("garbage", Box::new(|_| "not a proof\n".to_owned())),
        ("another release's proof", {
            let other = first_proof.clone();
            Box::new(move |_| other.clone())
        }),
        (
            "a broken checkpoint signature",
            Box::new(|proof: String| {
                // The last line is the log's signature: flip one base64
                // character of it.
                let mut lines: Vec<String> = proof.lines().map(str::to_owned).collect();
                let last = lines.last_mut().unwrap();
                let i = last.len() - 6;
                let c = if &last[i..=i] == "A" { "B" } else { "A" };
                last.replace_range(i..=i, c);
                lines.join("\n") + "\n"
            }),
        ),
    ];
    for (i, (what, lie)) in lies.into_iter().enumerate() {
        let file = w.package(
            "hello",
            &format!("2.0.{i}"),
            &format!("pub fn v{i}() {{}}\n"),
        );
        let lie = std::sync::Arc::new(lie);
        let proxy = Proxy::start(&w.log.url, move |r| {
            if r.method == "POST" && r.path == "/api/v1/entries" {
                let lie = lie.clone();
                Reply::Edit(Box::new(move |answer: Answer| {
                    let v: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
                    let proof = v["proof"].as_str().unwrap().to_owned();
                    with_proof(answer, lie(proof))
                }))
            } else {
                Reply::Forward
            }
        });
        let out = w.sign(&key, &cert, &file, &proxy.url);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what}: accepted: {stderr}");
        assert!(stderr.contains("proof does not hold"), "{what}: {stderr}");
        assert!(
            !std::path::Path::new(&format!("{}.tlog-proof", file.display())).exists(),
            "{what}: a proof that does not hold was written"
        );
    }
}

/// Item 10 (`sigil enroll`): the one-time token need not be on the command
/// line, where every user of the machine sees it (`ps`): it is read from a
/// private file (a world-readable one is refused, with the `chmod` that
/// fixes it) or from standard input.
#[test]
fn item10_the_enrollment_token_comes_from_a_file_or_stdin() {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;

    let w = World::start("90d");
    let invite = |who: &str| {
        let mut c = sigil_e2e::command("sigil-ca").unwrap();
        c.args(["invite", "--ca", &w.ca.url])
            .args([
                "--identity",
                &format!("{who}@example.org"),
                "--crate",
                "hello",
            ])
            .arg("--admin-token-file")
            .arg(w.path("ca/admin.token"));
        world::ok(c).trim().to_owned()
    };
    let keygen = |who: &str| {
        let key = w.path(&format!("{who}.key"));
        world::ok(world::sigil(&["keygen", "--out", world::p(&key)]));
        key
    };

    // From a private file.
    let token_file = w.path("token");
    std::fs::write(&token_file, format!("{}\n", invite("tia"))).unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let key = keygen("tia");
    let enroll = |key: &std::path::Path, out: &str, token_arg: &str| {
        world::sigil(&[
            "enroll",
            "--ca",
            &w.ca.url,
            "--token-file",
            token_arg,
            "--key",
            world::p(key),
            "--out",
            world::p(&w.path(out)),
        ])
    };
    let open = world::run(enroll(&key, "tia.pem", world::p(&token_file)));
    assert!(!open.status.success());
    assert!(
        world::stderr(&open).contains("chmod 600"),
        "{}",
        world::stderr(&open)
    );
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    world::ok(enroll(&key, "tia.pem", world::p(&token_file)));
    assert!(w.path("tia.pem").is_file());

    // From standard input.
    let token = invite("uma");
    let key = keygen("uma");
    let mut child = enroll(&key, "uma.pem", "-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{token}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(w.path("uma.pem").is_file());
}

/// Item 10 (clients cap response sizes): a log that answers with an
/// endless body cannot make `sigil verify --log` hold it in memory; the
/// answer is refused once it passes the cap (32 MiB).
#[test]
fn item10_clients_cap_what_they_read() {
    let w = World::start("90d");
    let (key, cert) = w.maintainer("alice", &["hello"]);
    let file = w.package("hello", "1.0.0", "pub fn hi() {}\n");
    assert!(w.sign(&key, &cert, &file, &w.log.url).status.success());
    std::fs::remove_file(format!("{}.tlog-proof", file.display())).unwrap();
    let proxy = Proxy::start(&w.log.url, |r| {
        if r.path.starts_with("/api/v1/releases/") {
            Reply::Answer(Answer {
                status: 200,
                content_type: "text/plain".into(),
                body: vec![b'A'; 40 << 20],
            })
        } else {
            Reply::Forward
        }
    });
    let (good, v) = w.verify(&file, &["--log", &proxy.url]);
    assert!(!good, "{v}");
    assert!(
        v["message"].as_str().unwrap_or("").contains("bytes"),
        "the refusal names the cap: {v}"
    );
}

/// Item 5: online revocation status is proved, and fails closed. A
/// maintainer's certificate is revoked from index 0; through an honest
/// proxy the release is refused (`revoked`). A log that answers the
/// revocation request with a bare 404, an empty object, a server error, the
/// real proof with a later `from_index`, or another entry's proof is not
/// believed either way: the check fails (`bad_revocation_proof` or a
/// refusal), it never passes as "not revoked".
#[test]
fn item5_revocation_status_is_proved_and_fails_closed() {
    let w = World::start("90d");
    let (key, cert) = w.maintainer("dan", &["hello"]);
    let file = w.package("hello", "1.0.0", "pub fn hi() {}\n");
    assert!(w.sign(&key, &cert, &file, &w.log.url).status.success());
    let release_proof = std::fs::read_to_string(format!("{}.tlog-proof", file.display())).unwrap();
    w.revoke_from_0(&cert);

    let honest = Proxy::start(&w.log.url, |_| Reply::Forward);
    let (good, v) = w.verify(&file, &["--log", &honest.url]);
    assert!(!good);
    assert_eq!(code(&v), "revoked", "{v}");

    let later_from_index = |answer: Answer| {
        let mut v: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        v["from_index"] = serde_json::json!(1_000_000);
        Answer::json(answer.status, &v.to_string())
    };
    type Lie = Box<dyn Fn() -> Reply + Send + Sync>;
    let lies: Vec<(&str, Lie)> = vec![
        (
            "a bare 404",
            Box::new(|| Reply::Answer(Answer::text(404, "not found"))),
        ),
        (
            "an empty object",
            Box::new(|| Reply::Answer(Answer::json(200, "{}"))),
        ),
        (
            "a server error",
            Box::new(|| Reply::Answer(Answer::text(500, "oops"))),
        ),
        (
            "a later from_index",
            Box::new(move || Reply::Edit(Box::new(later_from_index))),
        ),
        ("another entry's proof", {
            let other = release_proof.clone();
            Box::new(move || {
                let other = other.clone();
                Reply::Edit(Box::new(move |answer: Answer| {
                    let mut v: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
                    v["proof"] = serde_json::Value::String(other);
                    Answer::json(answer.status, &v.to_string())
                }))
            })
        }),
    ];
    for (what, lie) in lies {
        let proxy = Proxy::start(&w.log.url, move |r| {
            if r.path.starts_with("/api/v1/revocations/") {
                lie()
            } else {
                Reply::Forward
            }
        });
        let (good, v) = w.verify(&file, &["--log", &proxy.url]);
        assert!(!good, "{what}: the release passed as not revoked: {v}");
        assert_ne!(code(&v), "revoked", "{what}: {v}");
    }
}

/// `sigil-ca invite` for `who@example.org` and `hello`: the token.
fn invite(w: &World, who: &str) -> String {
    let mut c = sigil_e2e::command("sigil-ca").unwrap();
    c.args(["invite", "--ca", &w.ca.url, "--crate", "hello"])
        .args(["--identity", &format!("{who}@example.org")])
        .arg("--admin-token-file")
        .arg(w.path("ca/admin.token"));
    world::ok(c).trim().to_owned()
}

/// Fail closed on enrollment too (issue 11, "everywhere"): with
/// `--trust-root`, `sigil enroll` checks the CA's proof that the
/// certificate is logged (log signature, inclusion, the entry is this
/// very certificate) before it writes anything. A CA (or anyone between)
/// answering with another certificate's proof or garbage gets
/// `log_proof_invalid` and no certificate file.
#[test]
fn item10_enroll_checks_the_proof_the_ca_returns() {
    let w = World::start("90d");
    let (_, alice_cert) = w.maintainer("alice", &["hello"]);
    let alice_proof =
        std::fs::read_to_string(format!("{}.tlog-proof", alice_cert.display())).unwrap();
    let key = w.path("bob.key");
    world::ok(world::sigil(&["keygen", "--out", world::p(&key)]));
    let enroll = |ca: &str, token: &str, out: &std::path::Path| {
        let mut c = world::sigil(&["enroll", "--ca", ca, "--token", token]);
        c.args(["--key", world::p(&key), "--out", world::p(out)])
            .args(["--trust-root", world::p(&w.path("trust.json"))])
            .env("SIGIL_HOME", w.path("bob-home"));
        world::run(c)
    };
    for (what, lie) in [
        ("another certificate's proof", alice_proof.clone()),
        ("garbage", "not a proof\n".to_owned()),
    ] {
        let proxy = Proxy::start(&w.ca.url, move |r| {
            if r.method == "POST" && r.path == "/api/v1/enroll" {
                let lie = lie.clone();
                Reply::Edit(Box::new(move |answer: Answer| {
                    let mut v: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
                    v["proof"] = serde_json::Value::String(lie);
                    Answer::json(answer.status, &v.to_string())
                }))
            } else {
                Reply::Forward
            }
        });
        let out_path = w.path(&format!("bob-{}.pem", what.len()));
        let out = enroll(&proxy.url, &invite(&w, "bob"), &out_path);
        let stderr = world::stderr(&out);
        assert!(!out.status.success(), "{what}: accepted: {stderr}");
        assert!(
            stderr.contains("log_proof_invalid")
                || stderr.contains("proof that the certificate is logged"),
            "{what}: {stderr}"
        );
        assert!(!out_path.exists(), "{what}: a certificate was written");
    }
    // The honest answer passes the same check.
    let out_path = w.path("bob.pem");
    let out = enroll(&w.ca.url, &invite(&w, "bob"), &out_path);
    assert!(out.status.success(), "{}", world::stderr(&out));
    assert!(out_path.exists());
}

/// Issue 14 item 3: `verify-lock` online asks the log many crates at once
/// (`POST /api/v1/lookup`) and takes nothing the answer leaves out as
/// "absent" or "not revoked", and nothing it adds. A proxy edits the
/// log's answer: a release left out fails that crate
/// (`lookup_missing_release`); a withheld revocation answer fails every
/// crate whose signer it concerns (`revocation_withheld`); a release not
/// asked, or one answered twice, fails the whole answer; swapped proofs
/// are another crate's (`wrong_crate`); a forged revocation or checkpoint
/// does not verify; an error or garbage is a failure. Nothing passes
/// through a lying proxy; everything passes through an honest one.
#[test]
fn item14_a_lookup_answer_that_withholds_or_adds_fails_closed() {
    use serde_json::{Value, json};
    use world::package_status;

    let w = World::start("90d");
    let (key, cert) = w.maintainer("alice", &["hello", "world"]);
    let hello = w.package("hello", "1.0.0", "pub fn hi() {}\n");
    let world_crate = w.package("world", "1.0.0", "pub fn w() {}\n");
    for file in [&hello, &world_crate] {
        assert!(w.sign(&key, &cert, file, &w.log.url).status.success());
    }
    let lock = w.lock(
        "lock",
        &[("hello", "1.0.0", &hello), ("world", "1.0.0", &world_crate)],
    );
    let honest = Proxy::start(&w.log.url, |_| Reply::Forward);
    let (good, v) = w.verify_lock(&lock, &["--log", &honest.url]);
    assert!(good, "{v}");

    fn release_index(v: &Value, name: &str) -> usize {
        v["releases"]
            .as_array()
            .unwrap()
            .iter()
            .position(|r| r["crate"] == name)
            .unwrap()
    }
    type Edit = fn(&mut Value);
    /// (what, the edit, the (status, code) of hello and of world)
    type Row = (&'static str, Edit, [(&'static str, &'static str); 2]);
    let edits: Vec<Row> = vec![
        (
            "a release left out",
            (|v: &mut Value| {
                let i = release_index(v, "world");
                v["releases"].as_array_mut().unwrap().remove(i);
            }) as Edit,
            [("verified", ""), ("failed", "lookup_missing_release")],
        ),
        (
            "every revocation answer withheld",
            (|v: &mut Value| v["revocations"] = json!([])) as Edit,
            [
                ("failed", "revocation_withheld"),
                ("failed", "revocation_withheld"),
            ],
        ),
        (
            "one revocation answer withheld",
            (|v: &mut Value| {
                v["revocations"].as_array_mut().unwrap().remove(0);
            }) as Edit,
            [
                ("failed", "revocation_withheld"),
                ("failed", "revocation_withheld"),
            ],
        ),
        (
            "a release not asked",
            (|v: &mut Value| {
                v["releases"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"status": "not_logged", "crate": "extra", "version": "1.0.0"}))
            }) as Edit,
            [
                ("failed", "lookup_unasked_release"),
                ("failed", "lookup_unasked_release"),
            ],
        ),
        (
            "a release answered twice",
            (|v: &mut Value| {
                let first = v["releases"][0].clone();
                v["releases"].as_array_mut().unwrap().push(first);
            }) as Edit,
            [
                ("failed", "lookup_duplicate"),
                ("failed", "lookup_duplicate"),
            ],
        ),
        (
            "the proofs swapped",
            (|v: &mut Value| {
                let (h, w) = (release_index(v, "hello"), release_index(v, "world"));
                let proof = v["releases"][h]["proof"].clone();
                v["releases"][h]["proof"] = v["releases"][w]["proof"].clone();
                v["releases"][w]["proof"] = proof;
            }) as Edit,
            [("failed", "wrong_crate"), ("failed", "wrong_crate")],
        ),
        (
            "a forged revocation",
            (|v: &mut Value| {
                let id = v["revocations"][0]["certificate_id"].clone();
                v["revocations"][0] = json!({"status": "revoked", "certificate_id": id,
                    "from_index": 0, "index": 0, "proof": "not a proof\n"});
            }) as Edit,
            [
                ("failed", "bad_revocation_proof"),
                ("failed", "bad_revocation_proof"),
            ],
        ),
        (
            "another checkpoint",
            (|v: &mut Value| v["checkpoint"] = json!("not a checkpoint\n")) as Edit,
            [
                ("failed", "checkpoint_cache"),
                ("failed", "checkpoint_cache"),
            ],
        ),
        (
            "garbage",
            (|v: &mut Value| *v = json!({"releases": "none"})) as Edit,
            [("failed", "unreachable"), ("failed", "unreachable")],
        ),
    ];
    for (what, edit, want) in edits {
        let proxy = Proxy::start(&w.log.url, move |r| {
            if r.method == "POST" && r.path == "/api/v1/lookup" {
                Reply::Edit(Box::new(move |answer: Answer| {
                    let mut v: Value = serde_json::from_slice(&answer.body).unwrap();
                    edit(&mut v);
                    Answer::json(answer.status, &v.to_string())
                }))
            } else {
                Reply::Forward
            }
        });
        let (good, v) = w.verify_lock(&lock, &["--log", &proxy.url]);
        assert!(!good, "{what}: passed: {v}");
        let got = [package_status(&v, "hello"), package_status(&v, "world")];
        assert_eq!(got, want, "{what}: {v}");
    }
    // The log failing the lookup fails every crate, with its code.
    let proxy = Proxy::start(&w.log.url, |r| {
        if r.path == "/api/v1/lookup" {
            Reply::Answer(Answer::text(500, "oops"))
        } else {
            Reply::Forward
        }
    });
    let (good, v) = w.verify_lock(&lock, &["--log", &proxy.url]);
    assert!(!good, "{v}");
    assert_eq!(package_status(&v, "hello"), ("failed", "http_500"), "{v}");
    assert_eq!(v["failed"].as_u64(), Some(2), "{v}");
}
