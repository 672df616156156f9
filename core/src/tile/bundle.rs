//! Entry bundles: `tile/entries/<N>[.p/<W>]`
//! (<https://c2sp.org/tlog-tiles#log-entries>).
//!
//! A bundle is a sequence of big-endian `uint16` length-prefixed entries:
//!
//! ```text
//! bundle = 1*256( length:uint16-be  entry:length*OCTET )
//! ```
//!
//! Entries `""` and `"ab"` make the bundle `00 00 00 02 61 62`.

use super::{MAX_ENTRY_SIZE, TILE_WIDTH, Tile, TileError, TileKind};

/// Encodes entries as a bundle: each entry as a 2-byte big-endian length
/// then the bytes.
///
/// Errors: [`TileError::EmptyBundle`] for no entries (empty tiles are never
/// published), [`TileError::TooManyEntries`] for more than 256,
/// [`TileError::EntryTooLarge`] for an entry above 65,535 bytes.
pub fn encode_bundle(entries: &[&[u8]]) -> Result<Vec<u8>, TileError> {
    if entries.is_empty() {
        return Err(TileError::EmptyBundle);
    }
    if entries.len() > usize::from(TILE_WIDTH) {
        return Err(TileError::TooManyEntries {
            count: entries.len(),
        });
    }
    let total: usize = entries.iter().map(|e| 2 + e.len()).sum();
    let mut out = Vec::with_capacity(total);
    for (index, entry) in entries.iter().enumerate() {
        if entry.len() > MAX_ENTRY_SIZE {
            return Err(TileError::EntryTooLarge {
                index,
                len: entry.len(),
            });
        }
        // length:uint16-be, then the entry.
        out.extend_from_slice(&(entry.len() as u16).to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// Splits a bundle into its entries, borrowing from `data`.
///
/// Errors: [`TileError::EmptyBundle`] for empty data,
/// [`TileError::TruncatedLength`] / [`TileError::TruncatedEntry`] if the data
/// ends inside a length prefix or an entry, [`TileError::TooManyEntries`]
/// if it holds more than 256 entries.
pub fn parse_bundle(data: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    if data.is_empty() {
        return Err(TileError::EmptyBundle);
    }
    let mut entries = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let index = entries.len();
        if index == usize::from(TILE_WIDTH) {
            return Err(TileError::TooManyEntries { count: index + 1 });
        }
        let offset = data.len() - rest.len();
        let (prefix, body) = rest
            .split_first_chunk::<2>()
            .ok_or(TileError::TruncatedLength { index, offset })?;
        let len = usize::from(u16::from_be_bytes(*prefix));
        if body.len() < len {
            return Err(TileError::TruncatedEntry {
                index,
                len,
                available: body.len(),
            });
        }
        let (entry, tail) = body.split_at(len);
        entries.push(entry);
        rest = tail;
    }
    Ok(entries)
}

/// Splits the bundle of `tile` (an entry bundle) and checks that it holds
/// exactly `tile.width` entries.
///
/// Errors: those of [`parse_bundle`], [`TileError::InvalidTile`] for a hash
/// tile, [`TileError::BundleWidthMismatch`].
pub fn parse_bundle_for_tile<'d>(tile: &Tile, data: &'d [u8]) -> Result<Vec<&'d [u8]>, TileError> {
    if tile.kind != TileKind::Entries {
        return Err(TileError::InvalidTile {
            reason: "a hash tile is not an entry bundle",
        });
    }
    let entries = parse_bundle(data)?;
    if entries.len() != usize::from(tile.width) {
        return Err(TileError::BundleWidthMismatch {
            expected: tile.width,
            got: entries.len(),
        });
    }
    Ok(entries)
}
