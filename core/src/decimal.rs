//! Unsigned decimals as the C2SP text formats write them: ASCII digits only,
//! no sign, no leading zeros (`0` itself excepted), at most `u64::MAX`. The
//! tree size of c2sp.org/tlog-checkpoint and the `index` line of
//! c2sp.org/tlog-proof use this one form, so every such number has exactly
//! one spelling; the log's HTTP API reads indexes and sizes the same way.

/// Parses `s` in the one canonical form; `None` for anything else
/// (empty, sign, leading zero, non-digit, overflow).
///
/// ```
/// use sigil_core::decimal::parse;
/// assert_eq!(parse("0"), Some(0));
/// assert_eq!(parse("70000"), Some(70000));
/// for bad in ["", "01", "+1", "-1", " 1", "1 ", "18446744073709551616"] {
///     assert_eq!(parse(bad), None, "{bad:?}");
/// }
/// ```
pub fn parse(s: &str) -> Option<u64> {
    let digits_only = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = s.len() > 1 && s.starts_with('0');
    if !digits_only || leading_zero {
        return None;
    }
    s.parse().ok()
}
