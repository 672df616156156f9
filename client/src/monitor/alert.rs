//! What a monitor reports: [`Alert`], one JSON object per line, raised
//! and counted during a step by `Emitter`.

use serde::{Deserialize, Serialize};

/// What an [`Alert`] is about. Serialized in `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AlertKind {
    /// A valid release of a watched crate, or signed by a watched identity.
    Release,
    /// A valid certificate for a watched identity, or whose scope names a
    /// watched crate.
    Certificate,
    /// A release that was valid when logged and is void now: a revocation
    /// logged after it has `from_index <=` its index (`docs/formats.md`
    /// §1.4). Not a fault of the log.
    RevokedRelease,
    /// Something the log should not have done: an entry it should have
    /// refused, tiles or entries that do not hash to its signed
    /// checkpoint, or two incompatible checkpoints. `code` says which.
    Violation,
}

/// One alert (module docs of [`crate::monitor`] list the codes).
///
/// Serialized by [`Alert::to_json_line`] as one JSON object; members that
/// do not apply are left out. A release alert:
///
/// ```json
/// {"kind":"release","origin":"example.com/log","tree_size":600,"index":12,
///  "integrated_at":1767225600000,"crate":"serde","version":"1.0.12",
///  "sha256":"9f86d0…","identities":["alice@example.com"],"watched":["crate:serde"]}
/// ```
///
/// A violation:
///
/// ```json
/// {"kind":"violation","origin":"example.com/log","tree_size":600,"index":40,
///  "integrated_at":1767225600000,"code":"out_of_scope","reason":"signer 0: …",
///  "crate":"tokio","version":"1.0.0","sha256":"…"}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Alert {
    /// What the alert is about.
    pub kind: AlertKind,
    /// The log's checkpoint origin line.
    pub origin: String,
    /// Size of the checkpoint being verified when the alert was raised.
    pub tree_size: u64,
    /// The entry's log index; absent for checkpoint and tile violations
    /// that concern no single entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// The entry's `integrated_at` (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrated_at: Option<u64>,
    /// For a violation, a machine code (`fork`, `out_of_scope`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// For a person: what happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The release's crate.
    #[serde(default, rename = "crate", skip_serializing_if = "Option::is_none")]
    pub crate_name: Option<String>,
    /// The release's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The release's `.crate` SHA-256, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The identities of a valid release's signers (envelope order), or of
    /// a certificate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<String>,
    /// A certificate's scope: the crates it may sign.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    /// A certificate's id (`sigil_verifier::certificate_id`), lowercase
    /// hex: of a logged certificate, or of the revoked one for a
    /// `revoked_release`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<String>,
    /// Which watches matched: `crate:<name>`, `identity:<identity>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watched: Vec<String>,
}

impl Alert {
    /// An alert with only its kind, origin and tree size set.
    pub(super) fn new(kind: AlertKind, origin: &str, tree_size: u64) -> Alert {
        Alert {
            kind,
            origin: origin.to_owned(),
            tree_size,
            index: None,
            integrated_at: None,
            code: None,
            reason: None,
            crate_name: None,
            version: None,
            sha256: None,
            identities: Vec::new(),
            scope: Vec::new(),
            certificate_id: None,
            watched: Vec::new(),
        }
    }

    /// The alert as one line of JSON (RFC 8259), ending in `\n`.
    ///
    /// # Errors
    ///
    /// None in practice: every member is a string, a number or a list of
    /// strings. The `serde_json` error is passed on rather than hidden.
    pub fn to_json_line(&self) -> Result<String, serde_json::Error> {
        let mut line = serde_json::to_string(self)?;
        line.push('\n');
        Ok(line)
    }

    /// Whether this alert is a [`AlertKind::Violation`].
    pub fn is_violation(&self) -> bool {
        self.kind == AlertKind::Violation
    }
}

/// A release's fields in an alert.
pub(super) fn release_alert(
    mut alert: Alert,
    index: u64,
    at: u64,
    release: &sigil_core::entry::ReleaseEntry,
) -> Alert {
    alert.index = Some(index);
    alert.integrated_at = Some(at);
    alert.crate_name = Some(release.crate_name.clone());
    alert.version = Some(release.version.clone());
    alert.sha256 = Some(hex::encode(release.sha256));
    alert
}

/// Raises the alerts of one step, as they are found, and counts them.
pub(super) struct Emitter<'a> {
    /// The log's origin.
    pub(super) origin: &'a str,
    /// The size of the checkpoint being verified.
    pub(super) tree_size: u64,
    /// The caller's callback.
    pub(super) on_alert: &'a mut dyn FnMut(&Alert),
    /// Alerts raised.
    pub(super) alerts: u64,
    /// Violations raised.
    pub(super) violations: u64,
}

impl Emitter<'_> {
    /// An alert of this kind for this log and tree size.
    pub(super) fn alert(&self, kind: AlertKind) -> Alert {
        Alert::new(kind, self.origin, self.tree_size)
    }

    /// Raises an alert.
    pub(super) fn emit(&mut self, alert: Alert) {
        self.alerts += 1;
        if alert.is_violation() {
            self.violations += 1;
        }
        (self.on_alert)(&alert);
    }

    /// A violation about an entry: counted in the state too.
    pub(super) fn violation(&mut self, state: &mut super::MonitorState, alert: Alert) {
        state.violations = state.violations.saturating_add(1);
        self.emit(alert);
    }

    /// An entry the verifier refuses.
    pub(super) fn refused(
        &mut self,
        state: &mut super::MonitorState,
        index: u64,
        at: u64,
        err: &sigil_verifier::VerifyError,
        release: Option<&sigil_core::entry::ReleaseEntry>,
    ) {
        let mut alert = self.alert(AlertKind::Violation);
        if let Some(release) = release {
            alert = release_alert(alert, index, at, release);
        }
        alert.index = Some(index);
        alert.integrated_at = Some(at);
        alert.code = Some(err.code().into());
        alert.reason = Some(format!("entry {index} should have been refused: {err}"));
        self.violation(state, alert);
    }

    /// A violation that stops the step (not counted in the state, which is
    /// not saved past it).
    pub(super) fn stop(&mut self, code: &'static str, reason: String) -> super::MonitorError {
        let mut alert = self.alert(AlertKind::Violation);
        alert.code = Some(code.into());
        alert.reason = Some(reason.clone());
        self.emit(alert);
        super::MonitorError::Violation { code, reason }
    }
}
