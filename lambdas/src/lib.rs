//! The two Lambdas of feedpipe as plain async handler functions: `feedpipe-diff` (op `diff`:
//! index of the last delivered snapshot vs the new one → manifest; op `commit`: advance
//! `current.json`) and `feedpipe-shape` (the SNS notification). The `lambda_runtime` binaries
//! (`src/bin/`) only wire these; the local engine calls them in-process with the same payloads.
//!
//! Every failure is an [`Error`] whose [`ErrorKind::name`] becomes the Lambda `errorType` that
//! the definition's `Retry`/`Catch` match (`Feedpipe.Transient` is retried).
#![deny(missing_docs)]

use serde::Deserialize;

pub mod commit;
pub mod context;
pub mod diff;
pub mod error;
pub mod shape;

pub use context::Context;
pub use error::{Error, ErrorKind};

/// The payload of the `feedpipe-diff` function: `{"op": "diff" | "commit", ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum DiffFunctionRequest {
    /// Compare and write the manifest.
    Diff(diff::DiffRequest),
    /// Advance `current.json`.
    Commit(commit::CommitRequest),
}

/// The `feedpipe-diff` function: dispatches on `op`.
pub async fn diff_function(
    ctx: &Context,
    request: DiffFunctionRequest,
) -> Result<serde_json::Value, Error> {
    let value = match request {
        DiffFunctionRequest::Diff(r) => serde_json::to_value(diff::diff(ctx, r).await?),
        DiffFunctionRequest::Commit(r) => serde_json::to_value(commit::commit(ctx, r).await?),
    };
    value.map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("cannot encode the result: {e}"),
        )
    })
}

/// Sets up `tracing`: JSON lines (with the handlers' fields: feed, execution, counts) when
/// running in Lambda (`AWS_LAMBDA_FUNCTION_NAME` set), readable lines otherwise. The level comes
/// from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, `info` by default.
pub fn init_logging() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    let filter = tracing_subscriber::EnvFilter::try_new(level.to_lowercase())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        builder.json().with_current_span(false).init();
    } else {
        builder
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
}
