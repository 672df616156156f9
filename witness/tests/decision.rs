//! The witness's decision without HTTP: the `--logs` parser's malformed
//! table, and property tests that honest histories are always cosigned and
//! a fork never is, with the state reloaded from disk in between.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use proptest::prelude::*;
use sigil_core::cosignature::CosignatureSigner;
use sigil_core::note::Ed25519Signer;
use sigil_witness::Witness;
use sigil_witness::log_list::{LogList, LogListError};
use sigil_witness::state::StateDir;

/// Malformed log lists (`{KEY}` is a valid key line), with the line the
/// error names (0 when the error has no line).
const MALFORMED_LISTS: &[(&str, usize)] = &[
    ("", 0),
    ("# only a comment\n", 0),
    ("logs/v1\n", 1),
    ("vkey {KEY}\n", 1),
    ("logs/v0\n", 0),
    ("logs/v0\n\nvkey\n", 3),
    ("logs/v0\n\nvkey not-a-key\n", 3),
    ("logs/v0\norigin x\n", 2),
    ("logs/v0\nqpd 1\n", 2),
    ("logs/v0\nvkey {KEY}\nqpd 1\norigin x\n", 4),
    ("logs/v0\nvkey {KEY}\norigin\n", 3),
    ("logs/v0\nvkey {KEY}\nfoo bar\n", 3),
    ("logs/v0\nvkey {KEY}\n\nvkey {KEY}\n", 4),
];

#[test]
fn malformed_log_lists_are_refused() {
    let key = log_key().verifier().verifier_key();
    for (input, line) in MALFORMED_LISTS {
        let text = input.replace("{KEY}", &key);
        let err = LogList::parse(&text).expect_err(input);
        let got = match err {
            LogListError::MissingHeader { line } | LogListError::BadLine { line, .. } => line,
            LogListError::Empty => 0,
            _ => unreachable!(),
        };
        // An empty file or one of comments names the line after its end.
        if *line == 0 {
            assert!(
                matches!(
                    err,
                    LogListError::Empty | LogListError::MissingHeader { .. }
                ),
                "{input:?}: {err}"
            );
        } else {
            assert_eq!(got, *line, "{input:?}: {err}");
        }
    }
}

#[test]
fn log_lists_in_the_witness_network_format() {
    let a = log_key().verifier().verifier_key();
    let b = Ed25519Signer::from_seed("other.example/log", [3; 32])
        .unwrap()
        .verifier()
        .verifier_key();
    let text = format!(
        "#\n# header comment\n#\nlogs/v0\n\nvkey {a}\nqpd 86400\ncontact x (at) y\n\n\
         vkey {b}\norigin {ORIGIN}\nbastion none\n\nvkey {b}\norigin none\n"
    );
    let list = LogList::parse(&text).unwrap();
    assert_eq!(
        list.origins().collect::<Vec<_>>(),
        ["other.example/log", ORIGIN]
    );
    assert_eq!(
        list.keys(ORIGIN).unwrap().len(),
        2,
        "key rotation: two keys"
    );
    assert_eq!(list.keys("other.example/log").unwrap().len(), 1);
    assert!(list.keys("nobody").is_none());
}

fn witness(dir: &std::path::Path) -> Witness {
    let (state, loaded) = StateDir::open(dir).unwrap();
    Witness::new(
        CosignatureSigner::from_seed("witness.example/w1", [5; 32]).unwrap(),
        LogList::parse(&log_list()).unwrap(),
        state,
        loaded,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Along one history the witness cosigns every step; a history that
    /// forks from it at any leaf is refused at every size, before and after
    /// a restart, and the stored size never moves backwards.
    #[test]
    fn honest_steps_are_cosigned_and_forks_never(
        mut sizes in proptest::collection::vec(0u64..40, 1..6),
        fork_at in 0u64..40,
        fork_size in 1u64..40,
    ) {
        sizes.sort_unstable();
        sizes.dedup();
        let main = tree(40, u64::MAX);
        let fork = tree(40, fork_at);
        let dir = tempfile::tempdir().unwrap();
        let mut old = 0;
        {
            let w = witness(dir.path());
            for &size in &sizes {
                let sigs = w.add_checkpoint(&request(&main, old, size)).unwrap();
                prop_assert_eq!(sigs.len(), 1);
                old = size;
            }
        }
        let w = witness(dir.path());
        prop_assert_eq!(w.latest(ORIGIN).map(|l| l.checkpoint.size), Some(old));
        // The fork differs from the witnessed history at size `old` exactly
        // when it forked before `old`: then nothing of it may be cosigned.
        if fork_at < old && fork_size >= old {
            let err = w.add_checkpoint(&request(&fork, old, fork_size)).unwrap_err();
            let expected = if fork_size == old { 409 } else { 422 };
            prop_assert_eq!(err.status(), expected, "{}", err);
        }
        if fork_size < old {
            let err = w.add_checkpoint(&request(&fork, fork_size, fork_size)).unwrap_err();
            let latest = err.latest_size();
            prop_assert_eq!(err.status(), 409);
            prop_assert_eq!(latest, Some(old));
        }
        prop_assert_eq!(w.latest(ORIGIN).map(|l| l.checkpoint.size), Some(old));
    }
}
