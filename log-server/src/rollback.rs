//! What the log does once it learns that its storage was rolled back: it
//! stops signing (`docs/log.md`, "Witnessing": "A witness ahead of the
//! log").
//!
//! A witness cosigns a checkpoint only if this log's key signed it
//! (C2SP tlog-witness §add-checkpoint), so a witness that has cosigned size
//! `N` saw this log sign a tree of size `N`. If the log's storage now holds
//! fewer entries, it was restored from an old backup (or lost writes): the
//! entries past its size were signed and may have been served, and every
//! checkpoint it signs from here would be a second, different tree of
//! sizes it already signed — a fork, which witnesses and monitors report
//! as a split view. So the log signs nothing more: no round is sequenced,
//! no new checkpoint is published, submissions are answered `503
//! log_rolled_back`, and `/healthz` says so. Reads of what was published
//! are still served: they are a prefix of what the log signed before.
//!
//! [`Halt`] is the one shared flag: the publisher sets it when a configured
//! witness answers with a larger size ([`crate::witnessing::Failure::Ahead`]);
//! the sequencer sets it when another sequencer has taken the bucket's
//! checkpoint record ([`Stopped::NotSequencer`], `storage::object`
//! invariant 4), and a standby starts with it set. The sequencer, the
//! publisher and the HTTP layer read it. It is set once
//! and never cleared while the process runs. It is not stored: at start
//! the stored checkpoint is cosigned before the log serves
//! ([`crate::publisher`]), so a witness that is up tells the log again.

use std::sync::{Arc, OnceLock};

/// Why the log stopped signing: a witness has cosigned a larger tree of
/// this log than its storage holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this log no longer signs: witness {witness} has cosigned size {cosigned} of this log, \
     but its storage holds only {stored} entries, so the storage was rolled back (restored \
     from an old backup?). Signing again would make a second tree of sizes it already \
     signed: a fork. The operator must restore the newest backup or state of the data \
     directory (size {cosigned} or more), then start the log again"
)]
pub struct RolledBack {
    /// The witness's key name.
    pub witness: String,
    /// The size the witness says it cosigned.
    pub cosigned: u64,
    /// The size of the checkpoint the log asked it to cosign.
    pub stored: u64,
}

/// Why this process signs no more.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Stopped {
    /// A witness has cosigned a larger tree than storage holds.
    #[error(transparent)]
    RolledBack(#[from] RolledBack),
    /// Another process holds the sequencer's lease on the bucket: this one
    /// is a standby (or lost the lease) and serves reads only
    /// (`docs/object-storage.md`, "Standby sequencer").
    #[error(
        "this log server does not sequence: {holder} holds the sequencer's lease on the log's \
         bucket. Reads are served here; send submissions to the active sequencer (it takes a \
         few seconds for a standby to take over after the active one stops)"
    )]
    NotSequencer {
        /// The holder named in the checkpoint record.
        holder: String,
    },
}

impl Stopped {
    /// The machine code of the HTTP answer (503).
    pub fn code(&self) -> &'static str {
        match self {
            Stopped::RolledBack(_) => "log_rolled_back",
            Stopped::NotSequencer { .. } => "not_sequencer",
        }
    }
}

/// The log cannot write its storage right now (disk full, a data
/// directory made unwritable, the bucket unreachable): new submissions are
/// refused with this until a write succeeds again; reads are served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the log cannot write to its storage right now ({0}); submissions are refused until it \
     can, and reads are still served. Try again later; the operator must free space or fix \
     the storage, and the log retries by itself"
)]
pub struct StorageUnavailable(pub String);

/// Whether the log has stopped signing, and why (set at most once), and
/// whether its last write to storage failed (cleared by the next one that
/// succeeds). Clones share both.
#[derive(Clone, Debug, Default)]
pub struct Halt(
    Arc<OnceLock<Stopped>>,
    Arc<std::sync::Mutex<Option<String>>>,
);

impl Halt {
    /// A log that signs.
    pub fn new() -> Halt {
        Halt::default()
    }

    /// Stops signing for `why`, and says so on stderr at `ERROR`. Only the
    /// first reason is kept; `false` if the log had already stopped.
    pub fn stop(&self, why: impl Into<Stopped>) -> bool {
        let mut first = false;
        let kept = self.0.get_or_init(|| {
            first = true;
            why.into()
        });
        if first {
            match kept {
                Stopped::RolledBack(r) => tracing::error!(
                    witness = %r.witness,
                    cosigned = r.cosigned,
                    stored = r.stored,
                    "{kept}"
                ),
                Stopped::NotSequencer { holder } => tracing::warn!(%holder, "{kept}"),
            }
        }
        first
    }

    /// The sequencer's write failed with `why`: new submissions are refused
    /// ([`Halt::writable`]) until [`Halt::storage_recovered`].
    pub fn storage_failed(&self, why: String) {
        if let Ok(mut slot) = self.1.lock() {
            if slot.is_none() {
                tracing::error!(error = %why, "storage unwritable: refusing submissions until a write succeeds");
            }
            *slot = Some(why);
        }
    }

    /// A write succeeded: submissions are taken again.
    pub fn storage_recovered(&self) {
        if let Ok(mut slot) = self.1.lock()
            && slot.take().is_some()
        {
            tracing::warn!("storage writable again: taking submissions");
        }
    }

    /// `Err` while the last write to storage failed.
    pub fn writable(&self) -> Result<(), StorageUnavailable> {
        match self.1.lock().ok().and_then(|slot| slot.clone()) {
            Some(why) => Err(StorageUnavailable(why)),
            None => Ok(()),
        }
    }

    /// A halt already set: a standby's.
    pub fn stopped(why: Stopped) -> Halt {
        let halt = Halt::new();
        let _ = halt.0.set(why);
        halt
    }

    /// Why the log stopped signing, if it did.
    pub fn reason(&self) -> Option<&Stopped> {
        self.0.get()
    }

    /// `Err` with the reason once the log has stopped signing.
    pub fn check(&self) -> Result<(), Stopped> {
        match self.reason() {
            Some(why) => Err(why.clone()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_is_kept_and_shared() {
        let halt = Halt::new();
        let shared = halt.clone();
        assert!(halt.check().is_ok());
        let why = RolledBack {
            witness: "w1.example".into(),
            cosigned: 9,
            stored: 4,
        };
        assert!(shared.stop(why.clone()));
        assert!(!halt.stop(RolledBack {
            witness: "w2.example".into(),
            cosigned: 99,
            stored: 4,
        }));
        assert_eq!(halt.check(), Err(Stopped::RolledBack(why)));
        let message = halt.reason().map(ToString::to_string).unwrap_or_default();
        assert!(
            message.contains("w1.example has cosigned size 9"),
            "{message}"
        );
        assert!(message.contains("holds only 4 entries"), "{message}");
    }
}
