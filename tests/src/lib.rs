//! sigil-e2e: end-to-end tests for Sigil. The tests in `tests/` start the real
//! binaries on 127.0.0.1 (port 0) with temporary directories; this library will
//! hold what they share (process spawning, readiness on the `listening on`
//! line).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
