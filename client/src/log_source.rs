//! The read side of a log as the client's engines see it: the traits the
//! checkpoint cache ([`ConsistencySource`]) and the monitor
//! ([`TileSource`]) read a log through, and why a read failed
//! ([`FetchError`]). `crate::blocking::LogClient` implements both over
//! HTTP; tests implement them over memory. Keeping them traits keeps the
//! engines free of HTTP.

use sigil_core::merkle::Hash;

/// Why a source could not give what was asked. The two cases call for
/// different actions: a missing partial tile is replaced by the full tile
/// of the same index, a failure to reach the log is retried later.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The log answered that it does not have it (HTTP `404`). For a
    /// partial tile this is allowed: C2SP tlog-tiles lets a log delete it
    /// once the full tile of the same index exists.
    #[error("{what}: the log does not have it")]
    NotFound {
        /// What was asked for: `checkpoint`, a tile path, a proof.
        what: String,
    },
    /// It could not be had now: the log is unreachable, timed out, failed,
    /// or answered something unreadable. Retrying later may work.
    #[error("{what}: {source}")]
    Unavailable {
        /// What was asked for.
        what: String,
        /// Why, for a person.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl FetchError {
    /// [`FetchError::NotFound`] for `what`.
    pub fn not_found(what: impl Into<String>) -> FetchError {
        FetchError::NotFound { what: what.into() }
    }

    /// [`FetchError::Unavailable`] for `what`, because of `source` (an
    /// error, or a message).
    pub fn unavailable(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> FetchError {
        FetchError::Unavailable {
            what: what.into(),
            source: source.into(),
        }
    }

    /// What was asked for.
    pub fn what(&self) -> &str {
        match self {
            FetchError::NotFound { what } | FetchError::Unavailable { what, .. } => what,
        }
    }
}

/// Where consistency proofs come from: the log's
/// `GET /api/v1/proofs/consistency?from=M&to=N` (DESIGN.md "Interfaces"),
/// or anything else that can answer.
pub trait ConsistencySource {
    /// The RFC 9162 §2.1.4.1 consistency proof from the tree of `old_size`
    /// leaves to the tree of `new_size` leaves (`0 < old_size < new_size`).
    ///
    /// # Errors
    ///
    /// [`FetchError`]: no proof could be had. The checkpoint cache then
    /// refuses the checkpoint (`CacheError::NoConsistencyProof`), without
    /// calling it a fork.
    fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, FetchError>;
}

/// The read side of a tiled log, as a monitor sees it (C2SP tlog-tiles,
/// <https://c2sp.org/tlog-tiles>).
pub trait TileSource {
    /// The body of `GET <log>/checkpoint`: the signed checkpoint note
    /// (C2SP `tlog-checkpoint`), byte for byte.
    ///
    /// # Errors
    ///
    /// [`FetchError`], `what` being `checkpoint`.
    fn checkpoint(&self) -> Result<Vec<u8>, FetchError>;

    /// The body of `GET <log>/<path>`, where `path` is a whole tlog-tiles
    /// path as `sigil_core::tile::Tile::path` writes it, *with* its
    /// `tile/` prefix and without a leading `/`: `tile/0/x001/234.p/17`,
    /// `tile/entries/000`, `tile/1/000`. An implementation over HTTP joins
    /// it to the log's base URL with one `/`.
    ///
    /// # Errors
    ///
    /// [`FetchError::NotFound`] if the log does not have it: for a partial
    /// tile the monitor then asks for the full tile of the same index.
    /// [`FetchError::Unavailable`] otherwise.
    fn tile(&self, path: &str) -> Result<Vec<u8>, FetchError>;
}

impl<T: TileSource + ?Sized> TileSource for &T {
    fn checkpoint(&self) -> Result<Vec<u8>, FetchError> {
        (**self).checkpoint()
    }
    fn tile(&self, path: &str) -> Result<Vec<u8>, FetchError> {
        (**self).tile(path)
    }
}

impl<T: ConsistencySource + ?Sized> ConsistencySource for &T {
    fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, FetchError> {
        (**self).consistency_proof(old_size, new_size)
    }
}
