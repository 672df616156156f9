//! The real `sigil-witness` binary on 127.0.0.1:0: keygen, every status code
//! of c2sp.org/tlog-witness §add-checkpoint, forks refused across restarts,
//! and the compare-and-swap under concurrent requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};

use common::*;
use sigil_core::cosignature::CosignatureVerifier;
use sigil_core::note::{Ed25519Signer, Note};
use sigil_core::witness_protocol::{encode_add_checkpoint, parse_cosignature_response};
use sigil_e2e::Server;

const BIN: &str = env!("CARGO_BIN_EXE_sigil-witness");

struct Setup {
    _tmp: tempfile::TempDir,
    key: PathBuf,
    logs: PathBuf,
    data: PathBuf,
    verifier: CosignatureVerifier,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("keys");
    let out = Command::new(BIN)
        .args(["keygen", "--name", "witness.example/w1", "--out"])
        .arg(&keys)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = keys.join("witness.key");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let vkey = std::fs::read_to_string(keys.join("witness.pub")).unwrap();
    let verifier = CosignatureVerifier::from_verifier_key(vkey.trim_end()).unwrap();
    // The private key never shows on the console.
    let secret = std::fs::read_to_string(&key).unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains(secret.trim_end()));
    let logs = tmp.path().join("logs.txt");
    std::fs::write(&logs, log_list()).unwrap();
    let data = tmp.path().join("state");
    Setup {
        key,
        logs,
        data,
        verifier,
        _tmp: tmp,
    }
}

fn start(s: &Setup) -> Server {
    let mut cmd = Command::new(BIN);
    cmd.arg("serve")
        .arg("--key")
        .arg(&s.key)
        .arg("--logs")
        .arg(&s.logs)
        .arg("--data-dir")
        .arg(&s.data)
        .args(["--listen", "127.0.0.1:0"]);
    Server::start(cmd).unwrap()
}

struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

fn post(server: &Server, body: Vec<u8>) -> Answer {
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/add-checkpoint", server.url))
        .body(body)
        .send()
        .unwrap();
    Answer {
        status: r.status().as_u16(),
        content_type: r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        body: r.bytes().unwrap().to_vec(),
    }
}

/// Posts a request that must be cosigned, and checks the cosignature.
fn cosigned(server: &Server, verifier: &CosignatureVerifier, body: Vec<u8>) {
    let note = sigil_core::witness_protocol::parse_add_checkpoint(&body)
        .unwrap()
        .note;
    let a = post(server, body);
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let sigs = parse_cosignature_response(&a.body).unwrap();
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0].name, "witness.example/w1");
    let text = Note::parse(&note).unwrap().text;
    let ts = verifier.verify_timestamp(text.as_bytes(), &sigs[0].signature);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        ts.is_some_and(|t| t.abs_diff(now) < 60),
        "cosignature does not verify"
    );
}

/// A refusal: the status, and for 409 the known size in a text/x.tlog.size body.
fn refused(server: &Server, body: Vec<u8>, status: u16, known: Option<u64>) {
    let a = post(server, body);
    assert_eq!(a.status, status, "{}", String::from_utf8_lossy(&a.body));
    assert!(
        !String::from_utf8_lossy(&a.body).contains('\u{2014}'),
        "a refusal carries no signature"
    );
    if let Some(size) = known {
        assert_eq!(a.content_type, "text/x.tlog.size");
        assert_eq!(a.body, format!("{size}\n").as_bytes());
    }
}

#[test]
fn every_status_code_of_add_checkpoint() {
    let s = setup();
    let server = start(&s);
    let main = tree(20, u64::MAX);
    let fork = tree(20, 3);

    // 404: a log the witness does not know.
    let other = Ed25519Signer::from_seed("other.example/log", [9; 32]).unwrap();
    let note = checkpoint_note(&main, 5, &other, "other.example/log");
    refused(&server, encode_add_checkpoint(0, &[], &note), 404, None);
    // 403: the right origin, but no signature from the log's key: a key
    // with the same name and another secret, and a key of another name.
    let impostor = Ed25519Signer::from_seed(ORIGIN, [8; 32]).unwrap();
    let note = checkpoint_note(&main, 5, &impostor, ORIGIN);
    refused(&server, encode_add_checkpoint(0, &[], &note), 403, None);
    let note = checkpoint_note(&main, 5, &other, ORIGIN);
    refused(&server, encode_add_checkpoint(0, &[], &note), 403, None);
    // 400: malformed bodies and notes, and an old size above the checkpoint's.
    for bad in [
        &b""[..],
        b"old 0\n",
        b"old 00\n\nx\n",
        b"new 0\n\nsigil.example/test-log\n1\nAAAA\n",
    ] {
        refused(&server, bad.to_vec(), 400, None);
    }
    let mut unsigned = checkpoint_note(&main, 5, &log_key(), ORIGIN);
    let text_len = Note::parse(&unsigned).unwrap().text.len();
    unsigned.truncate(text_len);
    refused(&server, encode_add_checkpoint(0, &[], &unsigned), 400, None);
    let mut high = b"old 9\n\n".to_vec();
    high.extend_from_slice(&checkpoint_note(&main, 5, &log_key(), ORIGIN));
    refused(&server, high, 400, None);

    // 200 for 0 -> 5 -> 9.
    cosigned(&server, &s.verifier, request(&main, 0, 5));
    // 409 with the known size: old size 0 again.
    refused(&server, request(&main, 0, 9), 409, Some(5));
    // 422: the right old size, a proof that does not verify.
    let mut wrong = proof(&main, 5, 9);
    wrong[0][0] ^= 1;
    let note = checkpoint_note(&main, 9, &log_key(), ORIGIN);
    refused(&server, encode_add_checkpoint(5, &wrong, &note), 422, None);
    // ... and a proof of the wrong length.
    refused(&server, encode_add_checkpoint(5, &[], &note), 422, None);
    cosigned(&server, &s.verifier, request(&main, 5, 9));
    // The same checkpoint again: cosigned again (a retry).
    cosigned(&server, &s.verifier, request(&main, 9, 9));

    // Another instance of the log, same key, another history.
    // Same size, other root: 409.
    refused(&server, request(&fork, 9, 9), 409, Some(9));
    // Larger, with its own (valid for its history) proof: 422.
    refused(&server, request(&fork, 9, 12), 422, None);
    // Smaller than the known size: 409.
    refused(&server, request(&main, 5, 5), 409, Some(9));
    refused(&server, request(&fork, 0, 3), 409, Some(9));

    // The rest of the HTTP surface.
    let client = reqwest::blocking::Client::new();
    let r = client
        .get(format!("{}/healthz", server.url))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    for (req, status, code) in [
        (client.get(format!("{}/nope", server.url)), 404, "not_found"),
        (
            client.get(format!("{}/add-checkpoint", server.url)),
            405,
            "method_not_allowed",
        ),
    ] {
        let r = req.send().unwrap();
        assert_eq!(r.status().as_u16(), status);
        let v: serde_json::Value = r.json().unwrap();
        assert_eq!(v["error"]["code"], code);
        assert!(v["error"]["message"].is_string());
    }
    let big = vec![b'a'; 65 * 1024];
    assert_eq!(post(&server, big).status, 413);
    assert!(server.terminate(), "SIGTERM must stop the witness cleanly");
}

#[test]
fn restart_remembers_what_was_cosigned() {
    let s = setup();
    let main = tree(20, u64::MAX);
    let fork = tree(20, 7);
    let server = start(&s);
    cosigned(&server, &s.verifier, request(&main, 0, 5));
    cosigned(&server, &s.verifier, request(&main, 5, 9));
    assert!(server.terminate());

    let server = start(&s);
    refused(&server, request(&fork, 9, 9), 409, Some(9));
    refused(&server, request(&fork, 9, 12), 422, None);
    refused(&server, request(&fork, 0, 12), 409, Some(9));
    cosigned(&server, &s.verifier, request(&main, 9, 12));
    // A crash (SIGKILL) right after an answer loses nothing either.
    let mut server = server;
    server.kill();
    let server = start(&s);
    refused(&server, request(&main, 9, 14), 409, Some(12));
    cosigned(&server, &s.verifier, request(&main, 12, 14));
    assert!(server.terminate());
}

fn start_fails(s: &Setup) -> String {
    let out = Command::new(BIN)
        .arg("serve")
        .arg("--key")
        .arg(&s.key)
        .arg("--logs")
        .arg(&s.logs)
        .arg("--data-dir")
        .arg(&s.data)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn state_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "LOCK")
        .collect()
}

#[test]
fn a_corrupt_state_file_stops_the_start() {
    let s = setup();
    let server = start(&s);
    cosigned(&server, &s.verifier, request(&tree(5, u64::MAX), 0, 5));
    // Two witnesses never share one directory.
    assert!(start_fails(&s).contains("in use by another sigil-witness"));
    assert!(server.terminate());
    let files = state_files(&s.data);
    assert_eq!(files.len(), 1);
    std::fs::write(&files[0], b"garbage").unwrap();
    let err = start_fails(&s);
    assert!(err.contains("corrupt"), "{err}");
    assert!(err.contains(&files[0].display().to_string()), "{err}");
    // A checkpoint of another origin under this origin's name is corrupt too.
    let other = Ed25519Signer::from_seed("other.example/log", [9; 32]).unwrap();
    std::fs::write(
        &files[0],
        checkpoint_note(&tree(5, 9), 5, &other, "other.example/log"),
    )
    .unwrap();
    assert!(start_fails(&s).contains("corrupt"));
}

#[test]
fn concurrent_requests_from_one_old_size_have_one_winner() {
    let s = setup();
    let server = Arc::new(start(&s));
    let main = tree(20, u64::MAX);
    let fork = tree(20, 6);
    cosigned(&server, &s.verifier, request(&main, 0, 5));
    for round in 0..3u64 {
        let old = 5 + round * 5;
        let new = old + 5;
        let bodies = [request(&main, old, new), request(&fork, old, new)];
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let body = bodies[i % 2].clone();
                let barrier = barrier.clone();
                let server = server.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    (i % 2, post(&server, body).status)
                })
            })
            .collect();
        let results: Vec<(usize, u16)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let winners: Vec<_> = results.iter().filter(|(_, st)| *st == 200).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        // The losers: 409 (the winner moved the size on), or 422 from the
        // second round on for the history the witness did not take.
        assert!(
            results.iter().all(|(_, st)| [200, 409, 422].contains(st)),
            "{results:?}"
        );
        if round == 0 {
            assert!(
                results.iter().all(|(_, st)| [200, 409].contains(st)),
                "{results:?}"
            );
        }
        let winner = winners[0].0;
        // The winner's history is now the witness's; the other is a fork.
        let (won, lost) = if winner == 0 {
            (&main, &fork)
        } else {
            (&fork, &main)
        };
        refused(&server, request(lost, new, new), 409, Some(new));
        cosigned(&server, &s.verifier, request(won, new, new));
        if winner == 1 {
            break; // the fork won: the main history can no longer extend it.
        }
    }
}
