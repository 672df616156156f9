//! The policy file of `sigil proxy` (README, "Verify every download"):
//! what to do with crates the log holds no release of, and exceptions.
//! Parsed here, strictly (unknown keys are errors), so that the parser
//! can be fuzzed with the others of this crate.

use std::collections::BTreeSet;

use serde::Deserialize;

/// What to do with crates the log holds no release of, and exceptions
/// (`sigil proxy`'s gate, `cli/src/proxy/gate.rs`). Read from a TOML file (`--policy`):
///
/// ```toml
/// require-signed = false
/// allow-unsigned = ["some-crate"]
/// deny = ["evil-crate@1.2.3"]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Policy {
    /// Refuse every unsigned crate.
    #[serde(default)]
    pub require_signed: bool,
    /// Crates that pass unsigned whatever the other rules say.
    #[serde(default)]
    pub allow_unsigned: BTreeSet<String>,
    /// `name@version`s that are refused, signed or not (yanked for
    /// security, say).
    #[serde(default)]
    pub deny: BTreeSet<String>,
}

impl Policy {
    /// Parses a policy file.
    ///
    /// # Errors
    ///
    /// The TOML error, which names the line.
    pub fn parse(text: &str) -> Result<Policy, String> {
        let policy: Policy = toml::from_str(text).map_err(|e| e.to_string())?;
        for entry in &policy.deny {
            if entry
                .split_once('@')
                .is_none_or(|(n, v)| n.is_empty() || v.is_empty())
            {
                return Err(format!("deny: {entry:?} is not name@version"));
            }
        }
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn policy_files() {
        let p = Policy::parse(
            "require-signed = true\nallow-unsigned = [\"a\"]\ndeny = [\"b@1.0.0\"]\n",
        )
        .unwrap();
        assert!(p.require_signed);
        assert!(p.allow_unsigned.contains("a"));
        assert!(p.deny.contains("b@1.0.0"));
        assert_eq!(Policy::parse("").unwrap(), Policy::default());
        for bad in [
            "require_signed = true",
            "require-signed = \"yes\"",
            "deny = [\"b\"]",
            "deny = [\"@1\"]",
            "unknown = 1",
            "not toml",
        ] {
            assert!(Policy::parse(bad).is_err(), "{bad}");
        }
    }
}
