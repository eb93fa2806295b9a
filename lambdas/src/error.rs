//! The Lambdas' error: a stable kind (the `errorType` Step Functions matches) and a message
//! that says what was wrong and what to do.

use std::fmt;

use store::StoreError;

/// What went wrong, as Step Functions sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Worth retrying (throttling, timeouts, 5xx of the store). `Feedpipe.Transient`.
    Transient,
    /// The payload is not what the definition sends, or names an unknown feed.
    /// `Feedpipe.BadRequest`.
    BadRequest,
    /// `feedpipe.toml` is missing or invalid. `Feedpipe.Config`.
    Config,
    /// An object the run needs is missing (e.g. CheckFeed's `check.json`). `Feedpipe.NotFound`.
    NotFound,
    /// A stored index or document is corrupt. `Feedpipe.BadFeed`.
    BadFeed,
    /// `current.json` moved since the diff: another execution committed first.
    /// `Feedpipe.CommitConflict`.
    CommitConflict,
    /// The store refused for a lasting reason (permissions, bad URL). `Feedpipe.Store`.
    Store,
    /// A bug. `Feedpipe.Internal`.
    Internal,
}

impl ErrorKind {
    /// The stable `errorType` name.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Transient => "Feedpipe.Transient",
            ErrorKind::BadRequest => "Feedpipe.BadRequest",
            ErrorKind::Config => "Feedpipe.Config",
            ErrorKind::NotFound => "Feedpipe.NotFound",
            ErrorKind::BadFeed => "Feedpipe.BadFeed",
            ErrorKind::CommitConflict => "Feedpipe.CommitConflict",
            ErrorKind::Store => "Feedpipe.Store",
            ErrorKind::Internal => "Feedpipe.Internal",
        }
    }
}

/// A Lambda failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The kind.
    pub kind: ErrorKind,
    /// The message (the `errorMessage`, which Step Functions shows as the cause).
    pub message: String,
}

impl Error {
    /// A new error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for Error {}

pub(crate) use store::error_chain as chain;

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        let kind = match &e {
            _ if e.is_transient() => ErrorKind::Transient,
            StoreError::NotFound { .. } => ErrorKind::NotFound,
            StoreError::PreconditionFailed { .. } => ErrorKind::CommitConflict,
            _ => ErrorKind::Store,
        };
        Error::new(kind, chain(&e))
    }
}

impl From<Error> for lambda_runtime::Diagnostic {
    fn from(e: Error) -> lambda_runtime::Diagnostic {
        lambda_runtime::Diagnostic {
            error_type: e.kind.name().to_string(),
            error_message: e.message,
        }
    }
}
