//! Re-judging entries (step 4 of [`super`]'s docs): each new entry,
//! authenticated by [`super::follow`], decoded and checked against the
//! log's admission rules at its own `integrated_at` — [`check_release`]
//! with the revocations logged before it (the state's
//! [`sigil_verifier::RevocationSet`]), [`check_certificate_entry`],
//! [`check_revocation`] for this log's origin with the revocations logged
//! before it — then the log's order rules (one artifact per
//! `crate@version`, `integrated_at` not going backwards), and the alerts
//! an owner asked for (watched crates and identities, releases voided by
//! a later revocation).

use sigil_core::entry::{Entry, EntryBody, ReleaseEntry};
use sigil_verifier::{
    ChainCache, TrustedRoots, VerifyError, check_certificate_entry, check_release, check_revocation,
};

use super::Watch;
use super::alert::{AlertKind, Emitter, release_alert};
use super::state::{MonitorState, ReleaseSeen, release_key};

/// The rules an entry is judged by, and what to alert on.
pub(super) struct Judge {
    /// The log's origin line: revocations must be signed for it
    /// (`docs/formats.md` §1.4).
    pub(super) origin: String,
    /// The CA roots chains must lead to.
    pub(super) roots: TrustedRoots,
    /// Chains validated so far: a maintainer's chain is checked once.
    pub(super) chains: ChainCache,
    /// What to alert on besides violations.
    pub(super) watch: Watch,
    /// How far `integrated_at` may go backwards (`super` docs, "Time").
    pub(super) time_tolerance_ms: u64,
}

impl Judge {
    /// One entry at `index`: the admission rules, the order rules, alerts.
    /// Never fails: what the log should not have logged is a violation
    /// alert, counted in the state.
    pub(super) fn entry(
        &self,
        state: &mut MonitorState,
        index: u64,
        bytes: &[u8],
        out: &mut Emitter<'_>,
    ) {
        let entry = match Entry::decode(bytes) {
            Ok(entry) => entry,
            Err(e) => {
                let mut alert = out.alert(AlertKind::Violation);
                alert.index = Some(index);
                alert.code = Some("malformed_entry".into());
                alert.reason = Some(format!("entry {index} does not decode: {e}"));
                out.violation(state, alert);
                return;
            }
        };
        let at = entry.integrated_at;
        if at.saturating_add(self.time_tolerance_ms) < state.last_integrated_at {
            let mut alert = out.alert(AlertKind::Violation);
            alert.index = Some(index);
            alert.integrated_at = Some(at);
            alert.code = Some("time_went_backwards".into());
            alert.reason = Some(format!(
                "entry {index} is stamped {at}, {} ms before an earlier entry (tolerance {} ms)",
                state.last_integrated_at - at,
                self.time_tolerance_ms
            ));
            out.violation(state, alert);
        }
        state.last_integrated_at = state.last_integrated_at.max(at);
        match &entry.body {
            EntryBody::Release(release) => self.release(state, index, at, release, out),
            EntryBody::Certificate(cert) => {
                match check_certificate_entry(cert, at, &self.roots, Some(&self.chains)) {
                    Ok(signer) => {
                        let mut watched: Vec<String> = Vec::new();
                        if self.watch.identities.contains(&signer.identity) {
                            watched.push(format!("identity:{}", signer.identity));
                        }
                        for name in signer
                            .crates
                            .iter()
                            .filter(|c| self.watch.crates.contains(*c))
                        {
                            watched.push(format!("crate:{name}"));
                        }
                        if !watched.is_empty() {
                            let mut alert = out.alert(AlertKind::Certificate);
                            alert.index = Some(index);
                            alert.integrated_at = Some(at);
                            alert.identities = vec![signer.identity];
                            alert.scope = signer.crates;
                            alert.certificate_id = Some(hex::encode(signer.certificate_id));
                            alert.watched = watched;
                            out.emit(alert);
                        }
                    }
                    Err(e) => out.refused(state, index, at, &e, None),
                }
            }
            // For this log's origin, and its signer not revoked before it.
            EntryBody::Revocation(rev) => match check_revocation(
                rev,
                &self.origin,
                at,
                index,
                &self.roots,
                &state.revocations,
            ) {
                Ok(checked) => {
                    self.revoked(state, index, checked.certificate_id, rev.from_index, out)
                }
                Err(e) => out.refused(state, index, at, &e, None),
            },
            // A kind this verifier does not know: the log should not have
            // logged what its clients cannot check.
            _ => out.refused(state, index, at, &VerifyError::UnknownEntryKind, None),
        }
    }

    /// A release entry: [`check_release`] with the revocations logged
    /// before it, then one artifact per `crate@version`.
    fn release(
        &self,
        state: &mut MonitorState,
        index: u64,
        at: u64,
        release: &ReleaseEntry,
        out: &mut Emitter<'_>,
    ) {
        let checked = check_release(
            release,
            at,
            index,
            &self.roots,
            &state.revocations,
            Some(&self.chains),
        );
        let key = release_key(&release.crate_name, &release.version);
        if let Some(seen) = state.releases.get(&key) {
            let (code, what) = if seen.sha256 == release.sha256 {
                (
                    "duplicate_release",
                    "the same artifact is already logged; a resubmission should have been answered with the existing entry",
                )
            } else {
                (
                    "conflicting_release",
                    "another artifact is already logged for this crate@version; the log must refuse a replacement",
                )
            };
            let mut alert = release_alert(out.alert(AlertKind::Violation), index, at, release);
            alert.code = Some(code.into());
            alert.reason = Some(format!(
                "{key} at index {index} with sha256 {}: logged at index {} with sha256 {}; {what}",
                hex::encode(release.sha256),
                seen.index,
                hex::encode(seen.sha256)
            ));
            out.violation(state, alert);
        }
        let signers = match checked {
            Ok(signers) => signers,
            Err(e) => {
                out.refused(state, index, at, &e, Some(release));
                state.releases.entry(key).or_insert(ReleaseSeen {
                    index,
                    sha256: release.sha256,
                    signers: Vec::new(),
                });
                return;
            }
        };
        if !state.releases.contains_key(&key) {
            let ids: Vec<u32> = signers
                .iter()
                .flat_map(|s| s.path_ids().copied())
                .collect::<Vec<_>>()
                .into_iter()
                .map(|id| state.intern(id))
                .collect();
            state.releases.insert(
                key,
                ReleaseSeen {
                    index,
                    sha256: release.sha256,
                    signers: ids,
                },
            );
        }
        let mut watched: Vec<String> = Vec::new();
        if self.watch.crates.contains(&release.crate_name) {
            watched.push(format!("crate:{}", release.crate_name));
        }
        for s in &signers {
            if self.watch.identities.contains(&s.identity) {
                watched.push(format!("identity:{}", s.identity));
            }
        }
        if !watched.is_empty() {
            let mut alert = release_alert(out.alert(AlertKind::Release), index, at, release);
            alert.identities = signers.into_iter().map(|s| s.identity).collect();
            alert.watched = watched;
            out.emit(alert);
        }
    }

    /// A valid revocation at `index` of certificate `id` from `from_index`:
    /// alerts for the releases it voids that were logged before it and
    /// were not void already, then remembered for later releases.
    fn revoked(
        &self,
        state: &mut MonitorState,
        index: u64,
        id: [u8; 32],
        from_index: u64,
        out: &mut Emitter<'_>,
    ) {
        let earlier = state.revocations.revoked_from(&id);
        // Releases in [from_index, until) become void now; those from an
        // earlier revocation's from_index on were void already (alerted,
        // or refused as violations).
        let until = earlier.unwrap_or(u64::MAX).min(index);
        if let Some(&pos) = state.certificate_positions.get(&id) {
            let voided: Vec<(String, u64, [u8; 32])> = state
                .releases
                .iter()
                .filter(|(_, r)| {
                    r.index >= from_index && r.index < until && r.signers.contains(&pos)
                })
                .map(|(k, r)| (k.clone(), r.index, r.sha256))
                .collect();
            for (key, release_index, sha256) in voided {
                let mut alert = out.alert(AlertKind::RevokedRelease);
                alert.index = Some(release_index);
                if let Some((name, version)) = key.split_once('@') {
                    alert.crate_name = Some(name.to_owned());
                    alert.version = Some(version.to_owned());
                }
                alert.sha256 = Some(hex::encode(sha256));
                alert.certificate_id = Some(hex::encode(id));
                alert.reason = Some(format!(
                    "the revocation at index {index} voids a signing certificate of {key} from index {from_index}; the release at index {release_index} no longer verifies"
                ));
                out.emit(alert);
            }
        }
        state.revocations.insert(id, from_index);
    }
}
