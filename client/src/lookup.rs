//! The log's answer to a lookup (`POST /api/v1/lookup`,
//! `sigil_core::log_api::lookup`, `docs/log.md` "Looking up many releases
//! at once"), matched to the question before anything in it is used: the
//! answer must be about exactly the releases asked, each once, and every
//! certificate a verified release needs an answer for must have one. What
//! is missing is never read as "absent":
//!
//! | the answer | result | code |
//! |---|---|---|
//! | an item for a release not asked | the whole answer is refused | `lookup_unasked_release` |
//! | a release or a certificate answered twice | the whole answer is refused | `lookup_duplicate` |
//! | no item for a release asked | that release fails | `lookup_missing_release` |
//! | no revocation item for a certificate on a verified release's path | that release fails | `revocation_withheld` |
//!
//! The proofs themselves (releases, revocations, the checkpoint) are
//! checked by the caller, as for the single requests: this module only
//! pairs questions with answers. No I/O, so the fuzz targets use it.

use std::collections::HashMap;

use sigil_core::log_api::{LookupAnswer, ReleaseKey, ReleaseLookup, RevocationLookup};

/// Why (part of) a lookup's answer cannot be used (module docs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupAnswerError {
    /// The answer has an item for a release that was not asked for.
    #[error(
        "the log's lookup answer has an item for {0}, which was not asked for: the answer cannot \
         be trusted; report it to the log operator"
    )]
    Unasked(ReleaseKey),
    /// A release or a certificate is answered twice.
    #[error(
        "the log's lookup answer answers {0} twice: the answer cannot be trusted; report it to \
         the log operator"
    )]
    Duplicate(String),
    /// A release asked for has no item in the answer.
    #[error(
        "the log's lookup answer says nothing of {0}, which was asked for: it is not taken as \
         unsigned; try again, or report it to the log operator"
    )]
    Missing(ReleaseKey),
    /// A certificate on a verified release's signer path has no
    /// revocation item in the answer.
    #[error(
        "the log's lookup answer has no revocation answer for certificate {}, on a signer's \
         path: a withheld answer is not \"not revoked\"; try again, or report it to the log \
         operator",
        hex::encode(.0)
    )]
    Withheld([u8; 32]),
}

impl LookupAnswerError {
    /// The stable machine code (module docs).
    pub fn code(&self) -> &'static str {
        match self {
            LookupAnswerError::Unasked(_) => "lookup_unasked_release",
            LookupAnswerError::Duplicate(_) => "lookup_duplicate",
            LookupAnswerError::Missing(_) => "lookup_missing_release",
            LookupAnswerError::Withheld(_) => "revocation_withheld",
        }
    }
}

/// An answer whose items are paired with the question (module docs).
#[derive(Debug, Clone)]
pub struct MatchedLookup {
    checkpoint: String,
    /// Release asked → its `.tlog-proof`, `None` if not logged.
    releases: HashMap<ReleaseKey, Option<String>>,
    revocations: HashMap<[u8; 32], RevocationLookup>,
}

/// Pairs `answer` with the releases `asked` for.
///
/// # Errors
///
/// [`LookupAnswerError::Unasked`], [`LookupAnswerError::Duplicate`]: the
/// whole answer is refused. Releases asked but not answered are
/// [`MatchedLookup::release`]'s error, for each of them alone.
pub fn match_answer(
    asked: &[ReleaseKey],
    answer: LookupAnswer,
) -> Result<MatchedLookup, LookupAnswerError> {
    let mut wanted: HashMap<&ReleaseKey, bool> = asked.iter().map(|k| (k, false)).collect();
    let mut releases = HashMap::with_capacity(answer.releases.len());
    for item in answer.releases {
        let key = item.key();
        match wanted.get_mut(&key) {
            None => return Err(LookupAnswerError::Unasked(key)),
            Some(true) => return Err(LookupAnswerError::Duplicate(key.to_string())),
            Some(answered) => *answered = true,
        }
        let proof = match item {
            ReleaseLookup::Logged { proof, .. } => Some(proof),
            ReleaseLookup::NotLogged { .. } => None,
        };
        releases.insert(key, proof);
    }
    let mut revocations = HashMap::with_capacity(answer.revocations.len());
    for item in answer.revocations {
        let id = item.certificate_id();
        if revocations.insert(id, item).is_some() {
            return Err(LookupAnswerError::Duplicate(format!(
                "certificate {}",
                hex::encode(id)
            )));
        }
    }
    Ok(MatchedLookup {
        checkpoint: answer.checkpoint,
        releases,
        revocations,
    })
}

impl MatchedLookup {
    /// The checkpoint every proof of the answer must be against (signed
    /// note text, unverified).
    pub fn checkpoint(&self) -> &str {
        &self.checkpoint
    }

    /// The `.tlog-proof` of `key`, `None` if the log says it is not
    /// logged.
    ///
    /// # Errors
    ///
    /// [`LookupAnswerError::Missing`] if the answer has no item for it
    /// (or it was not asked).
    pub fn release(&self, key: &ReleaseKey) -> Result<Option<&str>, LookupAnswerError> {
        self.releases
            .get(key)
            .map(Option::as_deref)
            .ok_or_else(|| LookupAnswerError::Missing(key.clone()))
    }

    /// The revocation item of certificate `id`.
    ///
    /// # Errors
    ///
    /// [`LookupAnswerError::Withheld`] if the answer has none.
    pub fn revocation(&self, id: &[u8; 32]) -> Result<&RevocationLookup, LookupAnswerError> {
        self.revocations
            .get(id)
            .ok_or(LookupAnswerError::Withheld(*id))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use sigil_core::log_api::RevocationStatus;

    use super::*;

    fn key(name: &str) -> ReleaseKey {
        ReleaseKey::new(name, "1.0.0")
    }

    fn logged(name: &str) -> ReleaseLookup {
        ReleaseLookup::Logged {
            crate_name: name.into(),
            version: "1.0.0".into(),
            proof: format!("proof of {name}"),
        }
    }

    fn not_logged(name: &str) -> ReleaseLookup {
        ReleaseLookup::NotLogged {
            crate_name: name.into(),
            version: "1.0.0".into(),
        }
    }

    fn answer(releases: Vec<ReleaseLookup>, revocations: Vec<RevocationLookup>) -> LookupAnswer {
        LookupAnswer {
            checkpoint: "cp".into(),
            releases,
            revocations,
        }
    }

    #[test]
    fn an_honest_answer_pairs_every_item() {
        let asked = [key("a"), key("b")];
        let revoked = RevocationLookup::Revoked(RevocationStatus {
            certificate_id: [2; 32],
            from_index: 0,
            index: 3,
            proof: "p".into(),
        });
        let m = match_answer(
            &asked,
            answer(
                vec![not_logged("b"), logged("a")],
                vec![
                    RevocationLookup::NotRevoked {
                        certificate_id: [1; 32],
                    },
                    revoked.clone(),
                ],
            ),
        )
        .unwrap();
        assert_eq!(m.checkpoint(), "cp");
        assert_eq!(m.release(&key("a")).unwrap(), Some("proof of a"));
        assert_eq!(m.release(&key("b")).unwrap(), None);
        assert_eq!(m.revocation(&[2; 32]).unwrap(), &revoked);
        assert!(matches!(
            m.revocation(&[1; 32]).unwrap(),
            RevocationLookup::NotRevoked { .. }
        ));
    }

    /// (what, the answer's releases, the answer's revocation ids, the code
    /// of the whole answer's refusal)
    type Row = (
        &'static str,
        Vec<ReleaseLookup>,
        Vec<[u8; 32]>,
        Option<&'static str>,
    );

    #[test]
    fn unasked_and_duplicate_items_refuse_the_whole_answer() {
        let rows: Vec<Row> = vec![
            (
                "honest",
                vec![logged("a"), logged("b")],
                vec![[1; 32]],
                None,
            ),
            (
                "an extra release",
                vec![logged("a"), logged("b"), logged("c")],
                vec![],
                Some("lookup_unasked_release"),
            ),
            (
                "another version",
                vec![
                    logged("a"),
                    ReleaseLookup::Logged {
                        crate_name: "b".into(),
                        version: "1.0.1".into(),
                        proof: String::new(),
                    },
                ],
                vec![],
                Some("lookup_unasked_release"),
            ),
            (
                "a release twice",
                vec![logged("a"), not_logged("a"), logged("b")],
                vec![],
                Some("lookup_duplicate"),
            ),
            (
                "a certificate twice",
                vec![logged("a"), logged("b")],
                vec![[1; 32], [1; 32]],
                Some("lookup_duplicate"),
            ),
            // Missing items are each release's own failure.
            ("a release left out", vec![logged("a")], vec![], None),
        ];
        for (what, releases, ids, want) in rows {
            let revocations = ids
                .into_iter()
                .map(|certificate_id| RevocationLookup::NotRevoked { certificate_id })
                .collect();
            let got = match_answer(&[key("a"), key("b")], answer(releases, revocations));
            assert_eq!(got.as_ref().err().map(|e| e.code()), want, "{what}");
        }
    }

    #[test]
    fn what_is_missing_fails_alone_and_is_never_absent() {
        let m = match_answer(&[key("a"), key("b")], answer(vec![logged("a")], vec![])).unwrap();
        assert!(m.release(&key("a")).is_ok());
        let e = m.release(&key("b")).unwrap_err();
        assert_eq!(e.code(), "lookup_missing_release");
        assert!(e.to_string().contains("b@1.0.0"), "{e}");
        let e = m.revocation(&[9; 32]).unwrap_err();
        assert_eq!(e.code(), "revocation_withheld");
        assert!(e.to_string().contains(&"09".repeat(32)), "{e}");
        // Nor is a release that was not asked.
        assert_eq!(
            m.release(&key("z")).unwrap_err().code(),
            "lookup_missing_release"
        );
    }
}
