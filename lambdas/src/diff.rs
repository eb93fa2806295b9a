//! Op `diff` of `feedpipe-diff`: the index of `current.json`'s snapshot (none on the first run)
//! against the index CheckFeed built, into the manifest `runs/NAME/EXECUTION/diff.json` and the
//! id list `runs/NAME/EXECUTION/changes.json`.
//!
//! The result is small whatever the feed's size (counts and keys), and carries the sink's
//! `parallelism` and `batch_size` as strings because the definition passes them on as Batch
//! environment values.

use bytes::Bytes;
use feed::diff::Change;
use serde::{Deserialize, Serialize};
use store::layout::{self, Changes, CheckResult, Current, Manifest};
use store::Condition;

use crate::commit::parse;
use crate::error::{chain, Error, ErrorKind};
use crate::Context;

/// The `diff` payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DiffRequest {
    /// Feed name.
    pub feed: String,
    /// Execution name.
    pub execution: String,
}

/// The `diff` result, as the definition's `ResultSelector` picks it (and as Shape gets it back
/// in its payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffResponse {
    /// Anything added, changed or removed.
    pub updated: bool,
    /// Records added.
    pub added: u64,
    /// Records changed.
    pub changed: u64,
    /// Records removed.
    pub removed: u64,
    /// Key of the manifest.
    pub manifest: String,
    /// Key of the new snapshot.
    pub snapshot: String,
    /// The sink's parallelism, as a string (a Batch environment value).
    pub parallelism: String,
    /// The sink's batch size, as a string.
    pub batch_size: String,
}

/// Compares and writes the manifest (see the module documentation).
pub async fn diff(ctx: &Context, request: DiffRequest) -> Result<DiffResponse, Error> {
    let feed = ctx.feed(&request.feed)?;
    if !layout::is_execution_name(&request.execution) {
        return Err(Error::new(
            ErrorKind::BadRequest,
            format!("{:?} is not a valid execution name", request.execution),
        ));
    }
    let store = &ctx.store;
    let check_key = layout::check(&request.feed, &request.execution);
    let check = match store.get(&check_key).await {
        Ok(o) => parse::<CheckResult>(store, &check_key, &o.bytes)?,
        Err(store::StoreError::NotFound { location }) => {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("{location} is missing: CheckFeed must run (and succeed) before DiffFeed"),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let current_key = layout::current(&request.feed);
    let (base, base_version) = match store.get_opt(&current_key).await? {
        Some(o) => (
            Some(parse::<Current>(store, &current_key, &o.bytes)?.snapshot),
            Some(o.version.0),
        ),
        None => (None, None),
    };
    let new_index = store.get(&check.snapshot.index).await?.bytes;
    let old_index = match &base {
        Some(b) => Some(store.get(&b.index).await?.bytes),
        None => None,
    };
    let locations = (
        base.as_ref().map(|b| store.location(&b.index)),
        store.location(&check.snapshot.index),
    );
    let changes = tokio::task::spawn_blocking(move || compare(old_index, new_index, locations))
        .await
        .map_err(|e| Error::new(ErrorKind::Internal, format!("diff thread: {e}")))??;

    let changes_key = layout::changes(&request.feed, &request.execution);
    let manifest_key = layout::manifest(&request.feed, &request.execution);
    let manifest = Manifest {
        feed: request.feed.clone(),
        execution: request.execution.clone(),
        new: check.snapshot.clone(),
        base,
        base_version,
        added: changes.added,
        changed: changes.changed,
        removed: changes.changes.deletes.len() as u64,
        changes: changes_key.clone(),
    };
    store
        .put(
            &changes_key,
            json_bytes(&changes.changes)?,
            Condition::Always,
        )
        .await?;
    store
        .put(&manifest_key, json_bytes(&manifest)?, Condition::Always)
        .await?;
    tracing::info!(feed = %request.feed, execution = %request.execution,
        added = manifest.added, changed = manifest.changed, removed = manifest.removed, "diffed");
    Ok(DiffResponse {
        updated: manifest.added + manifest.changed + manifest.removed > 0,
        added: manifest.added,
        changed: manifest.changed,
        removed: manifest.removed,
        manifest: manifest_key,
        snapshot: check.snapshot.snapshot,
        parallelism: feed.sink.parallelism.to_string(),
        batch_size: feed.sink.batch_size.to_string(),
    })
}

fn json_bytes<T: Serialize>(value: &T) -> Result<Bytes, Error> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("cannot encode: {e}")))
}

struct Compared {
    changes: Changes,
    added: u64,
    changed: u64,
}

/// The pure comparison: ids to upsert (added and changed, with their new hashes) and to delete.
fn compare(
    old: Option<Bytes>,
    new: Bytes,
    (old_location, new_location): (Option<String>, String),
) -> Result<Compared, Error> {
    let mut changes = Changes::default();
    let (mut added, mut changed) = (0, 0);
    feed::diff::diff(old.as_deref(), &new[..], |change| {
        match change {
            Change::Added { id, hash } => {
                added += 1;
                changes.upserts.push((id.to_string(), hash.to_string()));
            }
            Change::Changed { id, new, .. } => {
                changed += 1;
                changes.upserts.push((id.to_string(), new.to_string()));
            }
            Change::Removed { id, hash } => {
                changes.deletes.push((id.to_string(), hash.to_string()));
            }
        }
        Ok(())
    })
    .map_err(|e| {
        let which = match &e {
            feed::diff::DiffError::Old(_) => old_location.unwrap_or_default(),
            _ => new_location,
        };
        Error::new(ErrorKind::BadFeed, format!("{which}: {}", chain(&e)))
    })?;
    Ok(Compared {
        changes,
        added,
        changed,
    })
}
