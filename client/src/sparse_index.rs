//! The cargo sparse registry protocol as `sigil proxy` needs it (the Cargo
//! Book, "Registry Index", "Sparse protocol"): which paths are index
//! files, where a crate's index file lives, its lines' `cksum`, and the
//! `dl` template of `config.json`.
//!
//! Index files are passed through byte for byte: cargo compares the
//! `cksum` of each line with Cargo.lock, so a replacement source must not
//! change a byte of them. Only `config.json` is rewritten, and only its
//! `dl`, so that cargo downloads `.crate` files from the proxy.

use serde::Deserialize;

/// Why a request or an upstream answer does not follow the protocol.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexError {
    /// Not a crate name the registry allows.
    #[error("{0:?} is not a crate name (ASCII letters, digits, `-` and `_`, at most 64)")]
    BadName(String),
    /// Not a version string the proxy will put in a path.
    #[error("{0:?} is not a version (SemVer characters only)")]
    BadVersion(String),
    /// `config.json` is not a JSON object with a string `dl`.
    #[error("the upstream config.json has no string `dl`: {0}")]
    BadConfig(String),
    /// The crate's index file has no line for this version.
    #[error("the index has no version {version} of {name}")]
    NoSuchVersion {
        /// The crate.
        name: String,
        /// The version asked for.
        version: String,
    },
    /// The index line's `cksum` is not 64 hex digits.
    #[error("the index line of {name} {version} has no SHA-256 `cksum`")]
    BadChecksum {
        /// The crate.
        name: String,
        /// The version.
        version: String,
    },
}

/// Checks a crate name as crates.io allows them (and as is safe in a
/// path): 1 to 64 of ASCII letters, digits, `-`, `_`, starting with a
/// letter.
///
/// # Errors
///
/// [`IndexError::BadName`].
pub fn check_name(name: &str) -> Result<(), IndexError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(IndexError::BadName(name.to_owned()))
    }
}

/// Checks a version string for a path: SemVer's characters only (digits,
/// letters, `.`, `-`, `+`), at most 128 bytes, not starting with `.`.
///
/// # Errors
///
/// [`IndexError::BadVersion`].
pub fn check_version(version: &str) -> Result<(), IndexError> {
    let ok = !version.is_empty()
        && version.len() <= 128
        && !version.starts_with('.')
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'));
    if ok {
        Ok(())
    } else {
        Err(IndexError::BadVersion(version.to_owned()))
    }
}

/// The directory of a crate's index file (`1`, `2`, `3/a`, `ab/cd`), from
/// its lowercased name: the `{prefix}` of the `dl` template.
pub fn prefix(name: &str) -> String {
    layout_prefix(&name.to_ascii_lowercase())
}

/// The layout's directory for `name` as given (cargo's `{prefix}`): by
/// characters, so that no name, valid or not, can make it panic.
fn layout_prefix(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let part = |range: std::ops::Range<usize>| -> String {
        chars
            .get(range)
            .map(|c| c.iter().collect())
            .unwrap_or_default()
    };
    match chars.len() {
        0 | 1 => "1".to_owned(),
        2 => "2".to_owned(),
        3 => format!("3/{}", part(0..1)),
        _ => format!("{}/{}", part(0..2), part(2..4)),
    }
}

/// The path of a crate's index file under the index root.
pub fn index_path(name: &str) -> String {
    format!("{}/{}", prefix(name), name.to_ascii_lowercase())
}

/// Whether `path` (relative to the index root, no leading `/`) is
/// `config.json` or the index file of a valid crate name, at the place the
/// layout puts it: only those are passed to the upstream.
pub fn is_index_path(path: &str) -> bool {
    if path == "config.json" {
        return true;
    }
    let Some((dir, name)) = path.rsplit_once('/') else {
        return false;
    };
    check_name(name).is_ok() && name == name.to_ascii_lowercase() && dir == prefix(name)
}

/// One line of an index file: the fields the proxy reads.
#[derive(Debug, Deserialize)]
struct IndexLine {
    vers: String,
    cksum: String,
}

/// The SHA-256 the index records for `name` `version` in its index file
/// `file` (JSON lines, one per version; lines that do not parse are
/// skipped, as cargo does).
///
/// # Errors
///
/// [`IndexError::NoSuchVersion`] or [`IndexError::BadChecksum`].
pub fn checksum(file: &[u8], name: &str, version: &str) -> Result<[u8; 32], IndexError> {
    let line = file
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice::<IndexLine>(line).ok())
        .find(|line| line.vers == version)
        .ok_or_else(|| IndexError::NoSuchVersion {
            name: name.to_owned(),
            version: version.to_owned(),
        })?;
    let mut sum = [0u8; 32];
    hex::decode_to_slice(&line.cksum, &mut sum).map_err(|_| IndexError::BadChecksum {
        name: name.to_owned(),
        version: version.to_owned(),
    })?;
    Ok(sum)
}

/// The upstream `config.json`: its `dl` template, and the file with `dl`
/// replaced by `proxy_dl`, every other key kept.
///
/// # Errors
///
/// [`IndexError::BadConfig`].
pub fn rewrite_config(config: &[u8], proxy_dl: &str) -> Result<(String, Vec<u8>), IndexError> {
    let mut value: serde_json::Value =
        serde_json::from_slice(config).map_err(|e| IndexError::BadConfig(e.to_string()))?;
    let object = value
        .as_object_mut()
        .ok_or_else(|| IndexError::BadConfig("not a JSON object".into()))?;
    let dl = object
        .get("dl")
        .and_then(|v| v.as_str())
        .ok_or_else(|| IndexError::BadConfig("no `dl`".into()))?
        .to_owned();
    object.insert("dl".into(), serde_json::Value::String(proxy_dl.to_owned()));
    let bytes = serde_json::to_vec(&value).map_err(|e| IndexError::BadConfig(e.to_string()))?;
    Ok((dl, bytes))
}

/// The download URL of `name` `version` under the `dl` template (the
/// markers `{crate}`, `{version}`, `{prefix}`, `{lowerprefix}`,
/// `{sha256-checksum}`; with none of them, `{dl}/{crate}/{version}/download`).
pub fn download_url(dl: &str, name: &str, version: &str, sha256: &[u8; 32]) -> String {
    const MARKERS: [&str; 5] = [
        "{crate}",
        "{version}",
        "{prefix}",
        "{lowerprefix}",
        "{sha256-checksum}",
    ];
    if !MARKERS.iter().any(|m| dl.contains(m)) {
        return format!("{}/{name}/{version}/download", dl.trim_end_matches('/'));
    }
    // `prefix` keeps the name's case; `lowerprefix` lowercases it.
    let exact_prefix = layout_prefix(name);
    dl.replace("{crate}", name)
        .replace("{version}", version)
        .replace("{prefix}", &exact_prefix)
        .replace("{lowerprefix}", &prefix(name))
        .replace("{sha256-checksum}", &hex::encode(sha256))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn index_paths_follow_the_layout() {
        for (name, path) in [
            ("a", "1/a"),
            ("ab", "2/ab"),
            ("abc", "3/a/abc"),
            ("serde", "se/rd/serde"),
            ("Serde_JSON", "se/rd/serde_json"),
        ] {
            assert_eq!(index_path(name), path);
        }
        for ok in ["config.json", "1/a", "3/a/abc", "se/rd/serde"] {
            assert!(is_index_path(ok), "{ok}");
        }
        for bad in [
            "",
            "serde",
            "se/rx/serde",
            "xx/rd/serde",
            "../etc/passwd",
            "se/rd/../serde",
            "se/rd/Serde",
            "se/rd/ser de",
            "3/b/abc",
        ] {
            assert!(!is_index_path(bad), "{bad}");
        }
    }

    #[test]
    fn no_name_makes_the_layout_panic() {
        for name in ["", "é", "ée", "éé1", "日本語です", "a\u{0}b"] {
            let _ = index_path(name);
            let _ = download_url("https://x/{prefix}/{lowerprefix}", name, "1.0.0", &[0; 32]);
            assert!(
                !is_index_path(&format!("{}/{name}", prefix(name))) || check_name(name).is_ok()
            );
        }
    }

    #[test]
    fn names_and_versions_are_checked_before_they_reach_a_path() {
        for ok in ["a", "serde_json", "x-1"] {
            check_name(ok).unwrap();
        }
        for bad in ["", "1abc", "a/b", "..", "a b", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        for ok in ["1.0.0", "1.0.0-alpha.1+build.5"] {
            check_version(ok).unwrap();
        }
        for bad in ["", "../1", "1/0", "1 0", ".1"] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_checksum_is_the_line_of_that_version() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let file = format!(
            "{{\"name\":\"x\",\"vers\":\"1.0.0\",\"cksum\":\"{a}\"}}\nnot json\n{{\"name\":\"x\",\"vers\":\"1.1.0\",\"cksum\":\"{b}\"}}\n"
        );
        assert_eq!(checksum(file.as_bytes(), "x", "1.1.0").unwrap(), [0xbb; 32]);
        assert_eq!(checksum(file.as_bytes(), "x", "1.0.0").unwrap(), [0xaa; 32]);
        assert!(matches!(
            checksum(file.as_bytes(), "x", "2.0.0"),
            Err(IndexError::NoSuchVersion { .. })
        ));
        let short = "{\"vers\":\"1.0.0\",\"cksum\":\"abc\"}";
        assert!(matches!(
            checksum(short.as_bytes(), "x", "1.0.0"),
            Err(IndexError::BadChecksum { .. })
        ));
    }

    #[test]
    fn config_keeps_everything_but_dl() {
        let (dl, out) = rewrite_config(
            br#"{"dl":"https://static.crates.io/crates","api":"https://crates.io","auth-required":false}"#,
            "http://127.0.0.1:6964/dl",
        )
        .unwrap();
        assert_eq!(dl, "https://static.crates.io/crates");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["dl"], "http://127.0.0.1:6964/dl");
        assert_eq!(v["api"], "https://crates.io");
        assert_eq!(v["auth-required"], false);
        for bad in [&b"[]"[..], b"{}", b"{\"dl\":1}", b"not json"] {
            assert!(rewrite_config(bad, "x").is_err());
        }
    }

    #[test]
    fn download_urls_expand_the_template() {
        let sum = [0x11; 32];
        assert_eq!(
            download_url("https://static.crates.io/crates", "serde", "1.0.0", &sum),
            "https://static.crates.io/crates/serde/1.0.0/download"
        );
        assert_eq!(
            download_url(
                "https://r.example/{prefix}/{lowerprefix}/{crate}-{version}.crate?s={sha256-checksum}",
                "Serde",
                "1.0.0",
                &sum
            ),
            format!(
                "https://r.example/Se/rd/se/rd/Serde-1.0.0.crate?s={}",
                "11".repeat(32)
            )
        );
    }
}
