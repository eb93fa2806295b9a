//! The jobs' error: what went wrong, mapped to an exit code that says whether a retry may help.

use store::StoreError;

/// Why a job failed. Exit codes: 1 transient (a retry may succeed), 2 bad configuration, input
/// or feed (a retry will not help until it is fixed), 3 the sink refused a delivery.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// `feedpipe.toml`, the environment or the arguments are wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// The feed could not be fetched, or the fetch went wrong in a way a retry may fix.
    #[error("fetching {url}: {message}")]
    Fetch {
        /// The feed URL.
        url: String,
        /// What happened.
        message: String,
        /// Whether a retry may help.
        transient: bool,
    },
    /// The feed's content is invalid (malformed XML, a record without id, corrupt gzip, ...).
    #[error("bad feed {location}")]
    BadFeed {
        /// The snapshot or URL.
        location: String,
        /// The parser's (or the inflater's) error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A stored document (manifest, ids, checkpoint) is missing or corrupt.
    #[error("{0}")]
    State(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The sink refused a batch (a 4xx other than 429), with its answer.
    #[error("the sink refused batch {batch}: {message}")]
    SinkRefused {
        /// The batch number.
        batch: u64,
        /// Status and body of the answer.
        message: String,
    },
    /// The sink kept failing after every retry.
    #[error("the sink failed batch {batch} after {attempts} attempts: {message}")]
    SinkFailed {
        /// The batch number.
        batch: u64,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        message: String,
    },
    /// A bug or a crashed task.
    #[error("internal: {0}")]
    Internal(String),
}

impl JobError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            JobError::Config(_) | JobError::BadFeed { .. } | JobError::State(_) => 2,
            JobError::Fetch { transient, .. } => {
                if *transient {
                    1
                } else {
                    2
                }
            }
            JobError::SinkRefused { .. } => 3,
            JobError::Store(_) | JobError::SinkFailed { .. } | JobError::Internal(_) => 1,
        }
    }

    /// A stable name for the error, as in the final JSON line.
    pub fn kind(&self) -> &'static str {
        match self {
            JobError::Config(_) => "Feedpipe.Config",
            JobError::Fetch { .. } => "Feedpipe.Fetch",
            JobError::BadFeed { .. } => "Feedpipe.BadFeed",
            JobError::State(_) => "Feedpipe.State",
            JobError::Store(_) => "Feedpipe.Store",
            JobError::SinkRefused { .. } => "Feedpipe.SinkRefused",
            JobError::SinkFailed { .. } => "Feedpipe.SinkFailed",
            JobError::Internal(_) => "Feedpipe.Internal",
        }
    }
}

pub use store::error_chain as chain;

impl JobError {
    /// True when the same work may succeed if tried again.
    pub fn is_transient(&self) -> bool {
        match self {
            JobError::Fetch { transient, .. } => *transient,
            JobError::Store(e) => e.is_transient(),
            _ => false,
        }
    }
}
