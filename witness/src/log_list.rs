//! The logs a witness cosigns for, and their keys: the `--logs` file.
//!
//! A witness is "configured with a list of supported log public keys", one
//! log per origin line (c2sp.org/tlog-witness §Introduction). The file uses
//! the witness network's log-list format `logs/v0`
//! (witness-network.org/log-list-format), so a community list can be used
//! as it is:
//!
//! ```text
//! # comments and blank lines are ignored
//! logs/v0                                   the first other line, exactly
//!
//! vkey <verifier key>                       starts a log: a C2SP signed-note vkey
//! origin <origin line>|none                 optional, right after vkey; "none" or
//!                                           absent: the origin is the key's name
//! qpd <N>                                   optional, ignored (requests per day)
//! bastion <URL>|none                        optional, ignored
//! contact <anything>                        optional, ignored
//! ```
//!
//! For example:
//!
//! ```text
//! logs/v0
//!
//! vkey sigil.example.org/log+4a1b6c0d+AZ6m5vYl0Tb9J8q0xV1eOJ6XJpqqgH1xfq0sGn3rS5cT
//! qpd 1440
//! contact ops@sigil.example.org
//! ```
//!
//! Several `vkey` items may name the same origin: the log may sign with any
//! of those keys (key rotation). Any other keyword, a malformed key or the
//! same key twice for one origin is an error naming the line.

use std::collections::BTreeMap;

use sigil_core::note::{NoteVerifier, parse_verifier_key};

/// The first line of a log list (witness-network.org/log-list-format §Header).
pub const LOG_LIST_HEADER: &str = "logs/v0";

/// Why a log list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogListError {
    /// The first line that is neither blank nor a comment is not `logs/v0`.
    #[error("line {line}: a log list starts with the line \"logs/v0\"")]
    MissingHeader {
        /// 1-based line number.
        line: usize,
    },
    /// A line that this format does not define, or one out of place.
    #[error("line {line}: {reason}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The file lists no log at all: the witness would refuse everything.
    #[error("the log list names no log")]
    Empty,
}

/// One log's keys.
struct Log {
    keys: Vec<Box<dyn NoteVerifier>>,
}

/// The logs a witness knows, by origin line, each with its trusted keys
/// (c2sp.org/tlog-witness §add-checkpoint: "the public key(s) it trusts for
/// the checkpoint origin").
pub struct LogList {
    logs: BTreeMap<String, Log>,
}

impl std::fmt::Debug for LogList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (origin, log) in &self.logs {
            let keys: Vec<String> = log
                .keys
                .iter()
                .map(|k| format!("{}+{:08x}", k.name(), k.key_id()))
                .collect();
            m.entry(origin, &keys);
        }
        m.finish()
    }
}

impl LogList {
    /// Parses a `logs/v0` log list (see the module docs).
    ///
    /// # Errors
    ///
    /// The first problem found, with its line number.
    pub fn parse(text: &str) -> Result<LogList, LogListError> {
        let mut logs: BTreeMap<String, Log> = BTreeMap::new();
        let mut header = false;
        // The item being read: its key, and whether an `origin` line may still follow.
        let mut current: Option<(Box<dyn NoteVerifier>, Option<String>, bool)> = None;
        let finish = |logs: &mut BTreeMap<String, Log>,
                      item: (Box<dyn NoteVerifier>, Option<String>, bool),
                      line: usize|
         -> Result<(), LogListError> {
            let (key, origin, _) = item;
            let origin = origin.unwrap_or_else(|| key.name().to_owned());
            let log = logs
                .entry(origin.clone())
                .or_insert(Log { keys: Vec::new() });
            if log
                .keys
                .iter()
                .any(|k| k.name() == key.name() && k.key_id() == key.key_id())
            {
                return Err(LogListError::BadLine {
                    line,
                    reason: format!(
                        "the key {}+{:08x} is listed twice for {origin:?}",
                        key.name(),
                        key.key_id()
                    ),
                });
            }
            log.keys.push(key);
            Ok(())
        };
        let mut item_line = 0;
        for (i, raw) in text.lines().enumerate() {
            let number = i + 1;
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            if !header {
                if line != LOG_LIST_HEADER {
                    return Err(LogListError::MissingHeader { line: number });
                }
                header = true;
                continue;
            }
            let bad = |reason: &str| LogListError::BadLine {
                line: number,
                reason: reason.to_owned(),
            };
            let (keyword, value) = line.split_once(' ').unwrap_or((line, ""));
            match keyword {
                "vkey" => {
                    if let Some(item) = current.take() {
                        finish(&mut logs, item, item_line)?;
                    }
                    let key = parse_verifier_key(value)
                        .map_err(|e| bad(&format!("not a signed-note verifier key: {e}")))?;
                    current = Some((key, None, true));
                    item_line = number;
                }
                "origin" => {
                    let Some((_, origin, open)) = current.as_mut() else {
                        return Err(bad("\"origin\" before any \"vkey\" line"));
                    };
                    if !*open {
                        return Err(bad("\"origin\" must directly follow its \"vkey\" line"));
                    }
                    if value.is_empty() {
                        return Err(bad(
                            "empty origin: write \"origin none\" to use the key name",
                        ));
                    }
                    if value != "none" {
                        *origin = Some(value.to_owned());
                    }
                    *open = false;
                }
                "qpd" | "bastion" | "contact" => {
                    let Some((_, _, open)) = current.as_mut() else {
                        return Err(bad(&format!("{keyword:?} before any \"vkey\" line")));
                    };
                    *open = false;
                }
                _ => {
                    return Err(bad(&format!(
                        "unknown line {keyword:?}: expected vkey, origin, qpd, bastion or contact"
                    )));
                }
            }
        }
        if !header {
            return Err(LogListError::MissingHeader {
                line: text.lines().count() + 1,
            });
        }
        if let Some(item) = current.take() {
            finish(&mut logs, item, item_line)?;
        }
        if logs.is_empty() {
            return Err(LogListError::Empty);
        }
        Ok(LogList { logs })
    }

    /// The trusted keys of the log with this origin line, or `None` if the
    /// origin is unknown (c2sp.org/tlog-witness §add-checkpoint: 404).
    pub fn keys(&self, origin: &str) -> Option<&[Box<dyn NoteVerifier>]> {
        self.logs.get(origin).map(|l| l.keys.as_slice())
    }

    /// Every origin line in the list, in order.
    pub fn origins(&self) -> impl Iterator<Item = &str> {
        self.logs.keys().map(String::as_str)
    }
}
