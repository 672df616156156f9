//! The CA's state in RocksDB (DESIGN.md "Storage and the write path": the
//! embedded default): invitations, the certificates it issued and the
//! revocations it signed.
//!
//! # Keys
//!
//! | key | value |
//! |---|---|
//! | `meta/format` | [`FORMAT_VERSION`], ASCII |
//! | `meta/issuer` | SHA-256 of the intermediate certificate this store belongs to |
//! | `invite/<first 16 octets of the token hash>` | [`Invite`], JSON, with the whole hash |
//! | `cert/<serial octets>` | [`IssuedCertificate`], JSON: a certificate handed out |
//! | `submitted/<serial octets>` | the token hash (hex) of the invitation it was issued for: every certificate ever submitted to the log |
//! | `revocation/<serial octets>` | [`RevocationRecord`], JSON |
//!
//! Tokens are never stored, only their SHA-256 (see [`crate::invite`]):
//! the first half selects the record, the whole hash in it is compared in
//! constant time by the server (the split-token pattern).
//!
//! # Invariants
//!
//! * Every write is one `WriteBatch`, fsync'd before the call returns: after
//!   a crash the store holds a whole write or none of it.
//! * **Recorded before submitted** (issue #11 item 3). A certificate is
//!   written as its invitation's [`Invite::pending`], with its serial under
//!   `submitted/`, in one synced batch ([`CaStore::record_pending`]) before
//!   it is sent to the log. So every certificate the log may hold is known
//!   here (revocable by serial), and an invitation never gets a second
//!   one: a retry with the same token resubmits the pending certificate.
//! * Redeeming an invitation (clearing `pending`) and recording the
//!   certificate handed out under `cert/` are one batch, so a token is
//!   consumed exactly when its certificate is on record.
//! * A store belongs to one intermediate: opening it with another is
//!   refused, so invitations and serials never mix between CAs.
//! * Stored values are decoded defensively: a value that does not parse is
//!   [`StoreError::Corrupt`], never a panic.
//!
//! All methods take `&self` and block on I/O; the server calls them from
//! `tokio::task::spawn_blocking`.

use std::path::{Path, PathBuf};

use rocksdb::{DB, Options, WriteBatch, WriteOptions};
use serde::{Deserialize, Serialize};

/// The on-disk format this code reads and writes.
pub const FORMAT_VERSION: &str = "sigil-ca-store-1";

const KEY_FORMAT: &[u8] = b"meta/format";
const KEY_ISSUER: &[u8] = b"meta/issuer";
const PREFIX_INVITE: &[u8] = b"invite/";
const PREFIX_CERT: &[u8] = b"cert/";
const PREFIX_REVOCATION: &[u8] = b"revocation/";
const PREFIX_SUBMITTED: &[u8] = b"submitted/";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// RocksDB failed.
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),
    /// The directory could not be read or created.
    #[error("{path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The directory is not a CA store of this format, or belongs to
    /// another intermediate.
    #[error("{path} is not this CA's store: {reason}")]
    NotThisStore {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A stored value does not parse.
    #[error("corrupt store value under {key}: {reason}")]
    Corrupt {
        /// The key, printable.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A write's precondition no longer held (the invitation was redeemed
    /// or removed meanwhile); nothing was written.
    #[error("conflict: {0}")]
    Conflict(&'static str),
}

/// An invitation: who may enroll, for which crates, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    /// SHA-256 of the token, hex: compared in constant time on use.
    pub token_sha256: String,
    /// The identity the certificate will name (SAN).
    pub identity: String,
    /// The crates it may sign (the scope extension).
    pub crates: Vec<String>,
    /// When the invitation was made, Unix ms.
    pub created_at: u64,
    /// The first instant it is no longer valid, Unix ms.
    pub expires_at: u64,
    /// Set once redeemed.
    pub redeemed: Option<Redemption>,
    /// The certificate issued for this invitation and submitted to the log
    /// but not yet handed out (the log's answer did not come, or did not
    /// hold): a retry with the same token resubmits it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingCertificate>,
}

/// A certificate recorded before it was submitted to the log (module docs,
/// "Recorded before submitted").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingCertificate {
    /// Serial, hex.
    pub serial: String,
    /// The certificate, base64 DER.
    pub der: String,
    /// When it was first submitted, Unix ms.
    pub submitted_at: u64,
}

/// When an invitation was redeemed and for which certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redemption {
    /// Unix ms.
    pub at: u64,
    /// Serial of the certificate issued, hex.
    pub serial: String,
}

/// A certificate the CA issued, with where it is logged; the same record
/// the admin API answers (`sigil_core::ca_api`).
pub use sigil_core::ca_api::IssuedCertificate;

/// A revocation the CA signed and logged; the same record the admin API
/// answers (`sigil_core::ca_api`).
pub use sigil_core::ca_api::RevocationRecord;

/// The CA's RocksDB store.
pub struct CaStore {
    db: DB,
    path: PathBuf,
}

fn key(prefix: &[u8], id: &[u8]) -> Vec<u8> {
    [prefix, id].concat()
}

/// The record key of an invitation: its token hash's first 16 octets.
fn invite_key(token_hash: &[u8; 32]) -> Vec<u8> {
    key(PREFIX_INVITE, token_hash.get(..16).unwrap_or(token_hash))
}

impl CaStore {
    /// Opens (or creates, if `dir` is missing or empty) the store of the CA
    /// whose intermediate certificate hashes to `issuer` (SHA-256 of its
    /// DER). Refuses a directory that holds something else, a store of
    /// another format, or another intermediate's store.
    pub fn open(dir: &Path, issuer: &[u8; 32]) -> Result<CaStore, StoreError> {
        let io = |source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let not_this = |reason: &str| StoreError::NotThisStore {
            path: dir.to_path_buf(),
            reason: reason.to_string(),
        };
        let fresh = match sigil_serve::store_dir(dir).map_err(io)? {
            sigil_serve::StoreDir::Fresh => true,
            sigil_serve::StoreDir::RocksDb => false,
            sigil_serve::StoreDir::Foreign => {
                return Err(not_this(
                    "the directory is not empty and holds no RocksDB database",
                ));
            }
        };
        let mut options = Options::default();
        options.create_if_missing(fresh);
        let db = DB::open(&options, dir)?;
        let store = CaStore {
            db,
            path: dir.to_path_buf(),
        };
        match (store.db.get(KEY_FORMAT)?, store.db.get(KEY_ISSUER)?) {
            (None, None) if fresh => {
                let mut batch = WriteBatch::default();
                batch.put(KEY_FORMAT, FORMAT_VERSION);
                batch.put(KEY_ISSUER, issuer);
                store.write(batch)?;
            }
            (Some(format), Some(stored)) => {
                if format != FORMAT_VERSION.as_bytes() {
                    return Err(not_this(&format!(
                        "format {:?}, this program reads {FORMAT_VERSION:?}",
                        String::from_utf8_lossy(&format)
                    )));
                }
                if stored != issuer {
                    return Err(not_this(
                        "it belongs to another intermediate certificate; use that CA's \
                         directory or a new --data-dir",
                    ));
                }
            }
            _ => return Err(not_this("it is not a sigil-ca store")),
        }
        Ok(store)
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut options = WriteOptions::default();
        options.set_sync(true);
        Ok(self.db.write_opt(batch, &options)?)
    }

    fn get_json<T: for<'de> Deserialize<'de>>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.db.get(key)? {
            None => Ok(None),
            Some(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| StoreError::Corrupt {
                        key: String::from_utf8_lossy(key).into_owned(),
                        reason: e.to_string(),
                    })
            }
        }
    }

    fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
        serde_json::to_vec(value).map_err(|e| StoreError::Corrupt {
            key: String::new(),
            reason: e.to_string(),
        })
    }

    /// Stores a new invitation under its token hash. Refuses to replace
    /// one (a token hash collision means a broken random generator).
    pub fn put_invite(&self, token_hash: &[u8; 32], invite: &Invite) -> Result<(), StoreError> {
        let k = invite_key(token_hash);
        if self.db.get(&k)?.is_some() {
            return Err(StoreError::Conflict("an invitation with this token exists"));
        }
        let mut batch = WriteBatch::default();
        batch.put(&k, Self::json(invite)?);
        self.write(batch)
    }

    /// The invitation whose token hash starts like this one, redeemed or
    /// not. The caller compares [`Invite::token_sha256`] with the whole
    /// hash in constant time.
    pub fn invite(&self, token_hash: &[u8; 32]) -> Result<Option<Invite>, StoreError> {
        self.get_json(&invite_key(token_hash))
    }

    /// The invitation with this token hash, if it exists and is not yet
    /// redeemed; a [`StoreError::Conflict`] otherwise.
    fn unredeemed(&self, token_hash: &[u8; 32]) -> Result<Invite, StoreError> {
        let invite = self
            .invite(token_hash)?
            .ok_or(StoreError::Conflict("the invitation is gone"))?;
        if invite.redeemed.is_some() {
            return Err(StoreError::Conflict("the invitation was already redeemed"));
        }
        Ok(invite)
    }

    /// Records `pending` as the certificate of the invitation with this
    /// token hash, and its serial as submitted, in one synced batch: call
    /// it before submitting the certificate to the log. Refuses an
    /// invitation that is gone, redeemed, or already has a pending
    /// certificate (one token, one certificate).
    pub fn record_pending(
        &self,
        token_hash: &[u8; 32],
        pending: &PendingCertificate,
        serial: &[u8],
    ) -> Result<(), StoreError> {
        let mut invite = self.unredeemed(token_hash)?;
        if invite.pending.is_some() {
            return Err(StoreError::Conflict(
                "the invitation already has a certificate pending",
            ));
        }
        invite.pending = Some(pending.clone());
        let mut batch = WriteBatch::default();
        batch.put(invite_key(token_hash), Self::json(&invite)?);
        batch.put(key(PREFIX_SUBMITTED, serial), hex::encode(token_hash));
        self.write(batch)
    }

    /// Whether a certificate with this serial (content octets) was ever
    /// submitted to the log or handed out by this CA: what may be revoked.
    pub fn is_known_serial(&self, serial: &[u8]) -> Result<bool, StoreError> {
        Ok(self.db.get(key(PREFIX_SUBMITTED, serial))?.is_some()
            || self.db.get(key(PREFIX_CERT, serial))?.is_some())
    }

    /// Redeems an invitation and records the certificate issued for it, in
    /// one synced batch. A pending certificate, if any, must be this one
    /// (same serial); it is cleared. The caller serialises redemptions of one token
    /// (the server holds a per-token lock); this re-checks that the
    /// invitation is still unredeemed and refuses otherwise.
    pub fn redeem(
        &self,
        token_hash: &[u8; 32],
        at: u64,
        issued: &IssuedCertificate,
        serial: &[u8],
    ) -> Result<(), StoreError> {
        let mut invite = self.unredeemed(token_hash)?;
        if invite
            .pending
            .as_ref()
            .is_some_and(|p| p.serial != issued.serial)
        {
            return Err(StoreError::Conflict(
                "another certificate is pending for the invitation",
            ));
        }
        invite.pending = None;
        invite.redeemed = Some(Redemption {
            at,
            serial: issued.serial.clone(),
        });
        let mut batch = WriteBatch::default();
        batch.put(invite_key(token_hash), Self::json(&invite)?);
        batch.put(key(PREFIX_CERT, serial), Self::json(issued)?);
        self.write(batch)
    }

    /// The certificate with this serial (content octets), if this CA
    /// issued it.
    pub fn certificate(&self, serial: &[u8]) -> Result<Option<IssuedCertificate>, StoreError> {
        self.get_json(&key(PREFIX_CERT, serial))
    }

    /// Records a logged revocation. A later revocation of the same
    /// certificate replaces the record only if it voids from an earlier
    /// index (what the log keeps too).
    pub fn put_revocation(
        &self,
        serial: &[u8],
        record: &RevocationRecord,
    ) -> Result<(), StoreError> {
        let k = key(PREFIX_REVOCATION, serial);
        if let Some(old) = self.get_json::<RevocationRecord>(&k)?
            && old.from_index <= record.from_index
        {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        batch.put(&k, Self::json(record)?);
        self.write(batch)
    }

    /// The revocation of the certificate with this serial, if any.
    pub fn revocation(&self, serial: &[u8]) -> Result<Option<RevocationRecord>, StoreError> {
        self.get_json(&key(PREFIX_REVOCATION, serial))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn invite() -> Invite {
        Invite {
            token_sha256: hex::encode([9u8; 32]),
            identity: "alice@example.org".into(),
            crates: vec!["serde".into()],
            created_at: 1,
            expires_at: 2,
            redeemed: None,
            pending: None,
        }
    }

    fn issued() -> IssuedCertificate {
        IssuedCertificate {
            serial: "41".into(),
            identity: "alice@example.org".into(),
            crates: vec!["serde".into()],
            not_before: 1,
            not_after: 2,
            log_index: 7,
            der: "AA==".into(),
        }
    }

    #[test]
    fn redeem_is_once_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca");
        let issuer = [1u8; 32];
        {
            let store = CaStore::open(&path, &issuer).unwrap();
            store.put_invite(&[9; 32], &invite()).unwrap();
            assert!(matches!(
                store.put_invite(&[9; 32], &invite()),
                Err(StoreError::Conflict(_))
            ));
            store.redeem(&[9; 32], 5, &issued(), &[0x41]).unwrap();
            assert!(matches!(
                store.redeem(&[9; 32], 6, &issued(), &[0x41]),
                Err(StoreError::Conflict(_))
            ));
            assert!(matches!(
                store.redeem(&[8; 32], 6, &issued(), &[0x41]),
                Err(StoreError::Conflict(_))
            ));
        }
        let store = CaStore::open(&path, &issuer).unwrap();
        let got = store.invite(&[9; 32]).unwrap().unwrap();
        assert_eq!(got.redeemed.unwrap().serial, "41");
        assert_eq!(store.certificate(&[0x41]).unwrap().unwrap(), issued());
        assert!(store.certificate(&[0x42]).unwrap().is_none());
    }

    /// Item 3: the certificate is on record (revocable, and the one the
    /// token gets) before it is submitted; redeeming clears it.
    #[test]
    fn pending_is_recorded_once_and_redeemed_with_the_same_serial() {
        let dir = tempfile::tempdir().unwrap();
        let store = CaStore::open(dir.path(), &[1; 32]).unwrap();
        store.put_invite(&[9; 32], &invite()).unwrap();
        assert!(!store.is_known_serial(&[0x41]).unwrap());
        let pending = PendingCertificate {
            serial: "41".into(),
            der: "AA==".into(),
            submitted_at: 3,
        };
        store.record_pending(&[9; 32], &pending, &[0x41]).unwrap();
        assert!(store.is_known_serial(&[0x41]).unwrap());
        assert_eq!(
            store.invite(&[9; 32]).unwrap().unwrap().pending,
            Some(pending.clone())
        );
        assert!(matches!(
            store.record_pending(&[9; 32], &pending, &[0x42]),
            Err(StoreError::Conflict(_))
        ));
        let mut other = issued();
        other.serial = "42".into();
        assert!(matches!(
            store.redeem(&[9; 32], 5, &other, &[0x42]),
            Err(StoreError::Conflict(_))
        ));
        store.redeem(&[9; 32], 5, &issued(), &[0x41]).unwrap();
        let got = store.invite(&[9; 32]).unwrap().unwrap();
        assert_eq!(got.pending, None);
        assert_eq!(got.redeemed.unwrap().serial, "41");
        assert!(store.is_known_serial(&[0x41]).unwrap());
    }

    #[test]
    fn refuses_another_issuer_and_foreign_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca");
        drop(CaStore::open(&path, &[1; 32]).unwrap());
        assert!(matches!(
            CaStore::open(&path, &[2; 32]),
            Err(StoreError::NotThisStore { .. })
        ));
        let other = dir.path().join("other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("notes.txt"), "hi").unwrap();
        assert!(matches!(
            CaStore::open(&other, &[1; 32]),
            Err(StoreError::NotThisStore { .. })
        ));
    }

    #[test]
    fn revocations_only_move_earlier() {
        let dir = tempfile::tempdir().unwrap();
        let store = CaStore::open(dir.path(), &[1; 32]).unwrap();
        let mut r = RevocationRecord {
            serial: "41".into(),
            reason: 1,
            from_index: 10,
            revoked_at: 1,
            log_index: 11,
        };
        store.put_revocation(&[0x41], &r).unwrap();
        r.from_index = 20;
        store.put_revocation(&[0x41], &r).unwrap();
        assert_eq!(store.revocation(&[0x41]).unwrap().unwrap().from_index, 10);
        r.from_index = 3;
        store.put_revocation(&[0x41], &r).unwrap();
        assert_eq!(store.revocation(&[0x41]).unwrap().unwrap().from_index, 3);
    }

    #[test]
    fn corrupt_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let store = CaStore::open(dir.path(), &[1; 32]).unwrap();
        store.db.put(invite_key(&[3; 32]), b"{nope").unwrap();
        assert!(matches!(
            store.invite(&[3; 32]),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
