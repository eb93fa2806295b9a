//! Op `commit` of `feedpipe-diff`: advance `feeds/NAME/current.json` to the delivered snapshot.
//!
//! It runs only after ConsumeFeed succeeded, and moves `current.json` only if it still is the
//! version the diff compared against (a conditional write: `If-Match` its version, or
//! `If-None-Match: *` when there was none). A repeated commit of the same execution (a retried
//! Lambda, a redrive) finds its own execution in `current.json` and does nothing.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use store::layout::{self, Current, Manifest};
use store::{Condition, StoreError, Version};

use crate::error::{Error, ErrorKind};
use crate::Context;

/// The `commit` payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CommitRequest {
    /// Feed name.
    pub feed: String,
    /// Execution name.
    pub execution: String,
    /// The manifest key DiffFeed returned.
    pub manifest: String,
}

/// The `commit` result; the definition keeps `current`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitResponse {
    /// What `current.json` now says.
    pub current: CurrentSummary,
}

/// A summary of `current.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrentSummary {
    /// Key of `current.json`.
    pub key: String,
    /// The delivered snapshot.
    pub snapshot: String,
    /// Its records.
    pub records: u64,
    /// The execution that delivered it.
    pub execution: String,
    /// False when this commit found its execution already committed (a repeat).
    pub advanced: bool,
}

fn summary(key: String, current: &Current, advanced: bool) -> CommitResponse {
    CommitResponse {
        current: CurrentSummary {
            key,
            snapshot: current.snapshot.snapshot.clone(),
            records: current.snapshot.records,
            execution: current.execution.clone(),
            advanced,
        },
    }
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    store: &store::Store,
    key: &str,
    bytes: &[u8],
) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::new(
            ErrorKind::BadFeed,
            format!(
                "{} is not a valid feedpipe document: {e}",
                store.location(key)
            ),
        )
    })
}

/// Advances `current.json` (see the module documentation).
pub async fn commit(ctx: &Context, request: CommitRequest) -> Result<CommitResponse, Error> {
    ctx.feed(&request.feed)?;
    let expected = layout::manifest(&request.feed, &request.execution);
    if request.manifest != expected {
        return Err(Error::new(
            ErrorKind::BadRequest,
            format!(
                "manifest {:?} does not belong to execution {} of feed {} (expected {expected:?})",
                request.manifest, request.execution, request.feed
            ),
        ));
    }
    let store = &ctx.store;
    let object = store.get(&request.manifest).await?;
    let manifest: Manifest = parse(store, &request.manifest, &object.bytes)?;
    let key = layout::current(&request.feed);

    let existing = store.get_opt(&key).await?;
    if let Some(object) = &existing {
        let current: Current = parse(store, &key, &object.bytes)?;
        if current.execution == request.execution {
            return Ok(summary(key, &current, false));
        }
    }
    let found = existing.as_ref().map(|o| o.version.0.clone());
    if found != manifest.base_version {
        return Err(conflict(
            &key,
            &request.execution,
            &manifest,
            found.as_deref(),
        ));
    }
    let current = Current {
        feed: request.feed.clone(),
        execution: request.execution.clone(),
        snapshot: manifest.new.clone(),
    };
    let body = serde_json::to_vec_pretty(&current)
        .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
    let condition = match &manifest.base_version {
        Some(v) => Condition::IfMatch(Version(v.clone())),
        None => Condition::IfAbsent,
    };
    match store.put(&key, Bytes::from(body), condition).await {
        Ok(_) => {
            tracing::info!(feed = %request.feed, execution = %request.execution,
                snapshot = %current.snapshot.snapshot, "committed");
            Ok(summary(key, &current, true))
        }
        Err(StoreError::PreconditionFailed { .. }) => {
            // Lost a race: fine if the winner was this very execution (a retried invocation).
            let now = store.get_opt(&key).await?;
            if let Some(object) = &now {
                let winner: Current = parse(store, &key, &object.bytes)?;
                if winner.execution == request.execution {
                    return Ok(summary(key, &winner, false));
                }
            }
            let found = now.map(|o| o.version.0);
            Err(conflict(
                &key,
                &request.execution,
                &manifest,
                found.as_deref(),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

fn conflict(key: &str, execution: &str, manifest: &Manifest, found: Option<&str>) -> Error {
    Error::new(
        ErrorKind::CommitConflict,
        format!(
            "{key} changed since execution {execution} compared against it (expected version {}, \
             found {}): another execution committed first. Nothing is lost: the next run diffs \
             against the new current snapshot and delivers what is still different.",
            manifest.base_version.as_deref().unwrap_or("none"),
            found.unwrap_or("none"),
        ),
    )
}
