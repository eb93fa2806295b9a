//! What the local backend can refuse or fail with.

use std::path::PathBuf;

/// An error of the local backend.
#[derive(Debug, thiserror::Error)]
pub enum RunsError {
    /// No execution of that name.
    #[error("execution {0:?} does not exist (list them with `feedpipe executions`)")]
    NoSuchExecution(String),
    /// The name is taken.
    #[error("an execution named {0:?} exists already; choose another --name")]
    AlreadyExists(String),
    /// Not a valid execution name.
    #[error("{0:?} is not a valid execution name: 1 to 80 characters, no white space and none of < > {{ }} [ ] ? * \" # % \\ ^ | ~ ` $ & , ; : /")]
    BadName(String),
    /// Another execution of the feed is running.
    #[error("feed {feed:?} is being run by execution {execution:?}; wait for it (`feedpipe watch {execution}`) or stop it (`feedpipe stop {execution}`)")]
    AlreadyRunning {
        /// The feed.
        feed: String,
        /// The running execution.
        execution: String,
    },
    /// The feed is not in the configuration.
    #[error("feed {feed:?} is not configured in {origin}; configured: {known}")]
    UnknownFeed {
        /// The name asked for.
        feed: String,
        /// The configuration file.
        origin: String,
        /// The configured names.
        known: String,
    },
    /// The execution cannot be redriven.
    #[error("{0}")]
    NotRedrivable(String),
    /// The execution is not running.
    #[error("execution {name:?} is {status}, not RUNNING: there is nothing to stop")]
    NotRunning {
        /// The execution.
        name: String,
        /// Its status.
        status: &'static str,
    },
    /// An input the engine refuses.
    #[error("{0}")]
    BadInput(String),
    /// A file of the store could not be read or written.
    #[error("cannot {op} {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file of the store is not what feedpipe wrote.
    #[error("{} is damaged: {what}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// Something the run needs could not be set up (the store, the worker program).
    #[error("{0}")]
    Setup(String),
    /// An AWS call failed (the message names the call and what to check).
    #[error("{0}")]
    Aws(String),
}

impl RunsError {
    /// Whether the error is the user's to fix (exit 2) rather than a failed execution.
    pub fn is_usage(&self) -> bool {
        !matches!(
            self,
            RunsError::Io { .. } | RunsError::Corrupt { .. } | RunsError::Aws(_)
        )
    }
}
