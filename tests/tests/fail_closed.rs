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
