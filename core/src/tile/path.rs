//! Tile paths: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`
//! (<https://c2sp.org/tlog-tiles#merkle-tree>).

use std::fmt;

use super::{MAX_TILE_LEVEL, TILE_WIDTH, Tile, TileError, TileKind};

/// Most 3-digit elements an index can need: `u64::MAX` has 20 digits.
const MAX_INDEX_ELEMENTS: usize = 7;
/// `tile`, the level or `entries`, the index elements, and `<W>`.
const MAX_ELEMENTS: usize = 2 + MAX_INDEX_ELEMENTS + 1;
/// How much of a rejected path an error repeats.
const MAX_PATH_IN_ERROR: usize = 100;

/// Writes the canonical path of `tile`.
pub(super) fn format(tile: &Tile, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match tile.kind {
        TileKind::Hash { level } => write!(f, "tile/{level}/")?,
        TileKind::Entries => f.write_str("tile/entries/")?,
    }
    write_index(f, tile.index)?;
    if tile.width != TILE_WIDTH {
        write!(f, ".p/{}", tile.width)?;
    }
    Ok(())
}

/// Writes `n` as zero-padded 3-digit elements, all but the last prefixed with
/// `x`: 1234067 is `x001/x234/067`. The first element is zero only when it is
/// the only one.
fn write_index(f: &mut impl fmt::Write, n: u64) -> fmt::Result {
    // Base-1000 digits, least significant first.
    let mut groups = [0u64; MAX_INDEX_ELEMENTS];
    let mut count = 0;
    let mut rest = n;
    for slot in groups.iter_mut() {
        *slot = rest % 1000;
        count += 1;
        rest /= 1000;
        if rest == 0 {
            break;
        }
    }
    for (i, group) in groups.iter().take(count).enumerate().rev() {
        if i == 0 {
            write!(f, "{group:03}")?;
        } else {
            write!(f, "x{group:03}/")?;
        }
    }
    Ok(())
}

/// Parses a canonical tile path, optionally with a leading `/`.
pub(super) fn parse(path: &str) -> Result<Tile, TileError> {
    let invalid = |reason: &'static str| TileError::InvalidPath {
        path: path.chars().take(MAX_PATH_IN_ERROR).collect(),
        reason,
    };
    let rest = path.strip_prefix('/').unwrap_or(path);
    let elements: Vec<&str> = rest.split('/').take(MAX_ELEMENTS + 1).collect();
    if elements.len() > MAX_ELEMENTS {
        return Err(invalid("too many path elements"));
    }
    let (first, rest) = elements.split_first().ok_or(invalid("empty path"))?;
    if *first != "tile" {
        return Err(invalid("path does not start with tile/"));
    }
    let (kind, rest) = rest.split_first().ok_or(invalid("missing level"))?;
    let kind = match *kind {
        "entries" => TileKind::Entries,
        level => TileKind::Hash {
            level: parse_level(level)
                .ok_or(invalid("level is not 0 to 63 without leading zeros"))?,
        },
    };
    // A partial tile ends in `<last index element>.p/<W>`.
    let (index_elements, last, width) = match rest {
        [init @ .., last, w] if last.ends_with(".p") => {
            let width =
                parse_width(w).ok_or(invalid("width is not 1 to 255 without leading zeros"))?;
            (init, last.strip_suffix(".p").unwrap_or(last), width)
        }
        [init @ .., last] => (init, *last, TILE_WIDTH),
        [] => return Err(invalid("missing tile index")),
    };
    let index = parse_index(index_elements, last).ok_or(invalid(
        "index is not zero-padded 3-digit elements, all but the last prefixed with x, no leading x000",
    ))?;
    Ok(Tile { kind, index, width })
}

/// `<L>`: `0`, or 1 to 63 without a leading zero.
fn parse_level(s: &str) -> Option<u8> {
    let value = parse_decimal(s, 2)?;
    u8::try_from(value).ok().filter(|&l| l <= MAX_TILE_LEVEL)
}

/// `<W>` of a partial tile: 1 to 255 without a leading zero.
fn parse_width(s: &str) -> Option<u16> {
    let value = parse_decimal(s, 3)?;
    u16::try_from(value)
        .ok()
        .filter(|&w| w > 0 && w < TILE_WIDTH)
}

/// A decimal of at most `max_digits` ASCII digits with no leading zero
/// (except `0` itself).
fn parse_decimal(s: &str, max_digits: usize) -> Option<u64> {
    let bytes = s.as_bytes();
    if bytes.is_empty() || bytes.len() > max_digits || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if bytes.len() > 1 && bytes.first() == Some(&b'0') {
        return None;
    }
    Some(digits_value(bytes))
}

/// The value of a string of ASCII digits short enough not to overflow.
fn digits_value(digits: &[u8]) -> u64 {
    digits
        .iter()
        .fold(0, |acc, d| acc * 10 + u64::from(d - b'0'))
}

/// Exactly three ASCII digits.
fn three_digits(s: &str) -> Option<u64> {
    let bytes = s.as_bytes();
    (bytes.len() == 3 && bytes.iter().all(u8::is_ascii_digit)).then(|| digits_value(bytes))
}

/// `<N>`: the `xDDD` elements before the last, then the last `DDD`. The first
/// element may not be `x000` (that would be a second spelling of a smaller
/// index), and the value must fit in a `u64`.
fn parse_index(leading: &[&str], last: &str) -> Option<u64> {
    if leading.len() >= MAX_INDEX_ELEMENTS {
        return None;
    }
    let mut value: u64 = 0;
    for (i, element) in leading.iter().enumerate() {
        let group = three_digits(element.strip_prefix('x')?)?;
        if i == 0 && group == 0 {
            return None;
        }
        value = value.checked_mul(1000)?.checked_add(group)?;
    }
    value.checked_mul(1000)?.checked_add(three_digits(last)?)
}

/// Formats a tile index alone (`x001/x234/067`), for tests and messages.
#[cfg(test)]
fn index_string(n: u64) -> String {
    let mut s = String::new();
    let _ = write_index(&mut s, n);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_elements() {
        assert_eq!(index_string(0), "000");
        assert_eq!(index_string(999), "999");
        assert_eq!(index_string(1000), "x001/000");
        assert_eq!(index_string(1_234_067), "x001/x234/067");
        assert_eq!(index_string(u64::MAX), "x018/x446/x744/x073/x709/x551/615");
        assert_eq!(
            parse_index(&["x018", "x446", "x744", "x073", "x709", "x551"], "615"),
            Some(u64::MAX)
        );
        assert_eq!(
            parse_index(&["x018", "x446", "x744", "x073", "x709", "x551"], "616"),
            None
        );
        assert_eq!(parse_index(&["x000"], "001"), None);
        assert_eq!(parse_index(&["x001", "x000"], "001"), Some(1_000_001));
    }
}
