//! The CLI's one error type: every failure is one line a person can act
//! on, with a stable machine code for `--json`.

use sigil_client::ClientError;

/// Why a `sigil` command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A server could not be reached or answered nonsense.
    #[error("{url}: {reason}")]
    Unreachable {
        /// What was asked.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A server refused the request (its `{"error": {code, message}}`).
    #[error("{server} refused ({code}): {message}")]
    Refused {
        /// Which server ("the CA", "the log").
        server: &'static str,
        /// Its error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// A check failed: the artifact must not be trusted.
    #[error("{message}")]
    Check {
        /// Stable machine code (the verifier's).
        code: &'static str,
        /// One line saying what is wrong.
        message: String,
    },
    /// The log showed two histories: fail closed, loudly.
    #[error("{0}")]
    Security(String),
    /// A failure already printed in full (a report, a table); only the
    /// exit status is left to give.
    #[error("{0}")]
    Reported(String),
    /// The command line or an input is unusable.
    #[error("{0}")]
    Usage(String),
}

impl CliError {
    /// The stable machine code for `--json`.
    pub fn code(&self) -> &str {
        match self {
            CliError::File { .. } => "file_error",
            CliError::Unreachable { .. } => "unreachable",
            CliError::Refused { code, .. } => code,
            CliError::Check { code, .. } => code,
            CliError::Security(_) => "security_error",
            CliError::Reported(_) => "failed",
            CliError::Usage(_) => "usage",
        }
    }

    /// What a failed request to `server` ("the CA", "the log") means for
    /// the user: the server's own code when it answered with an error
    /// (`{"error": {code, message}}`, or `http_<status>`), `unreachable`
    /// otherwise.
    pub fn from_client(server: &'static str, e: ClientError) -> CliError {
        match e {
            ClientError::Refused { code, message, .. }
            | ClientError::NotFound { code, message, .. }
            | ClientError::Unavailable { code, message, .. } => CliError::Refused {
                server,
                code,
                message,
            },
            ClientError::Unreachable { url, reason } => CliError::Unreachable {
                url,
                reason: format!("cannot reach {server}: {reason}"),
            },
            ClientError::Timeout { url } => CliError::Unreachable {
                url,
                reason: format!("{server} did not answer in time"),
            },
            ClientError::BadAnswer { url, reason } => CliError::Unreachable {
                url,
                reason: format!("unreadable answer from {server}: {reason}"),
            },
            ClientError::InvalidUrl { url, reason } => {
                CliError::Usage(format!("{url:?} is not a URL of {server}: {reason}"))
            }
            other => CliError::Unreachable {
                url: other.url().unwrap_or_default().to_owned(),
                reason: other.to_string(),
            },
        }
    }

    /// A file error for `path`.
    pub fn file(path: &std::path::Path, reason: impl std::fmt::Display) -> CliError {
        CliError::File {
            path: path.display().to_string(),
            reason: reason.to_string(),
        }
    }
}
