//! Op `diff` of `feedpipe-diff`: the index of `current.json`'s snapshot (none on the first run)
//! against the index CheckFeed built, into the manifest `runs/NAME/EXECUTION/diff.json` and the
//! change lists `runs/NAME/EXECUTION/changes/{upserts,deletes}-NNNNNN.idx`
//! ([`store::layout`] describes them).
//!
//! Memory stays small whatever the feed's size: both indexes are read as streams from the store
//! (a 64 KiB window each), the merge holds two entries, and the changes go out in parts of
//! [`layout::CHANGE_PART_ENTRIES`] while the diff goes on (one part being filled for each list,
//! a couple on their way to the store). The result is small too (counts and keys), and carries
//! the sink's `parallelism` and `batch_size` as strings because the definition passes them on
//! as Batch environment values.

use bytes::Bytes;
use feed::diff::{Change, DiffError};
use feed::index::{IndexError, ListBuilder};
use serde::{Deserialize, Serialize};
use store::blocking::{into_store_error, BlockingReader};
use store::layout::{self, ChangeList, Changes, CheckResult, Current, Manifest};
use store::{Condition, Store};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

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
    let changes_prefix = layout::changes(&request.feed, &request.execution);
    let counts = write_changes(
        store,
        base.as_ref(),
        &check.snapshot,
        changes_prefix,
        layout::CHANGE_PART_ENTRIES,
    )
    .await?;
    let manifest_key = layout::manifest(&request.feed, &request.execution);
    let manifest = Manifest {
        feed: request.feed.clone(),
        execution: request.execution.clone(),
        new: check.snapshot.clone(),
        base,
        base_version,
        added: counts.added,
        changed: counts.changed,
        removed: counts.removed,
        changes: counts.changes,
    };
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

/// What the diff found: counts, and the change lists' parts it wrote.
struct Counts {
    added: u64,
    changed: u64,
    removed: u64,
    changes: Changes,
}

/// Diffs the index of `base` (none: everything is added) against the index of `new` and writes
/// the change lists' parts of `part_entries` entries under `prefix`: the merge runs on a
/// blocking thread reading both indexes from the store, and hands finished parts to this task,
/// which stores them.
async fn write_changes(
    store: &Store,
    base: Option<&layout::SnapshotRef>,
    new: &layout::SnapshotRef,
    prefix: String,
    part_entries: u64,
) -> Result<Counts, Error> {
    let (parts_tx, mut parts_rx) = mpsc::channel::<(String, Bytes)>(2);
    let (old_key, new_key) = (base.map(|b| b.index.clone()), new.index.clone());
    let store2 = store.clone();
    let handle = Handle::current();
    let diffing = tokio::task::spawn_blocking(move || {
        let open =
            |key: &str| BlockingReader::open(&store2, key, handle.clone()).map_err(Error::from);
        let old = old_key.as_deref().map(open).transpose()?;
        let new = open(&new_key)?;
        let mut parts = Parts {
            changes: Changes {
                prefix,
                upsert_parts: 0,
                delete_parts: 0,
            },
            lists: [ListBuilder::new(), ListBuilder::new()],
            part_entries,
            tx: parts_tx,
        };
        let summary = feed::diff::diff(old, new, |change| {
            let (list, id, hash) = match change {
                Change::Added { id, hash } => (ChangeList::Upserts, id, hash),
                Change::Changed { id, new, .. } => (ChangeList::Upserts, id, new),
                Change::Removed { id, hash } => (ChangeList::Deletes, id, hash),
            };
            parts.push(list, id, hash)
        })
        .map_err(|e| diff_error(&store2, old_key.as_deref(), &new_key, e))?;
        parts.finish()?;
        Ok::<_, Error>(Counts {
            added: summary.added,
            changed: summary.changed,
            removed: summary.removed,
            changes: parts.changes,
        })
    });
    let mut stored = Ok(());
    while let Some((key, bytes)) = parts_rx.recv().await {
        if let Err(e) = store.put(&key, bytes, Condition::Always).await {
            stored = Err(Error::from(e));
            break; // the diff stops when it next hands over a part
        }
    }
    drop(parts_rx);
    let counts = diffing
        .await
        .map_err(|e| Error::new(ErrorKind::Internal, format!("diff thread: {e}")))?;
    stored?;
    counts
}

/// The change lists being cut into parts.
struct Parts {
    /// Where the parts go, and how many each list has so far.
    changes: Changes,
    /// The part being filled, per list (upserts, deletes).
    lists: [ListBuilder; 2],
    part_entries: u64,
    tx: mpsc::Sender<(String, Bytes)>,
}

impl Parts {
    fn push(&mut self, list: ChangeList, id: &str, hash: feed::RecordHash) -> std::io::Result<()> {
        let n = list as usize;
        self.lists[n]
            .push(id, hash)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        if self.lists[n].len() == self.part_entries {
            self.send(list)?;
        }
        Ok(())
    }

    /// Hands the part being filled of `list` over to be stored.
    fn send(&mut self, list: ChangeList) -> std::io::Result<()> {
        let key = self.changes.part(list, self.changes.parts(list));
        match list {
            ChangeList::Upserts => self.changes.upsert_parts += 1,
            ChangeList::Deletes => self.changes.delete_parts += 1,
        }
        let bytes = Bytes::from(self.lists[list as usize].take_bytes());
        self.tx
            .blocking_send((key, bytes))
            .map_err(|_| std::io::Error::other("storing the change lists stopped"))
    }

    /// Sends the last, partly filled parts.
    fn finish(&mut self) -> Result<(), Error> {
        for list in [ChangeList::Upserts, ChangeList::Deletes] {
            if !self.lists[list as usize].is_empty() {
                self.send(list).map_err(|e| {
                    Error::new(ErrorKind::Internal, format!("{}: {e}", self.changes.prefix))
                })?;
            }
        }
        Ok(())
    }
}

/// The error of a diff: the store's (a failed read), or a damaged index named by its key.
fn diff_error(store: &Store, old: Option<&str>, new: &str, e: DiffError) -> Error {
    let (key, e) = match e {
        DiffError::Old(e) => (old.unwrap_or_default(), e),
        DiffError::New(e) => (new, e),
        // Storing a part stopped (its error is the one reported) or a list refused an entry.
        DiffError::Sink(e) => {
            return Error::new(ErrorKind::Internal, format!("writing the changes: {e}"))
        }
        // The feed's record tag, id or empty_cdata changed since current.json's snapshot was
        // indexed: a diff would list every record as removed and added.
        DiffError::Mismatch { old: o, new: n } => {
            return Error::new(
                ErrorKind::BadRequest,
                format!(
                    "the indexes cannot be compared: {} (the last delivered snapshot) was \
                     built with {o}, {} with {n}; the feed's record_tag, id or empty_cdata \
                     changed since the last delivery: restore them, or remove the feed's \
                     current.json to deliver the whole feed again",
                    store.location(old.unwrap_or_default()),
                    store.location(new),
                ),
            );
        }
    };
    let location = store.location(key);
    match e {
        IndexError::Io(io) => match into_store_error(io) {
            Ok(s) => Error::from(s),
            // A read cut off mid-stream: worth another try.
            Err(io) => Error::new(
                ErrorKind::Transient,
                format!("{location}: reading failed: {}", chain(&io)),
            ),
        },
        damage => Error::new(
            ErrorKind::BadFeed,
            format!("{location}: {}", chain(&damage)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use feed::index::IndexReader;
    use feed::RecordHash;
    use layout::SnapshotRef;

    fn index(ids: impl Iterator<Item = u32>, salt: u32) -> Vec<u8> {
        let xml: String = ids
            .map(|i| {
                format!(
                    "<job><reference>J{i:05}</reference><v>{}</v></job>",
                    i % salt
                )
            })
            .collect();
        let opts = feed::FeedOptions::new("job", feed::IdSource::Child("reference".into()));
        feed::index::index_reader(format!("<jobs>{xml}</jobs>").as_bytes(), &opts)
            .unwrap()
            .try_to_bytes()
            .unwrap()
    }

    fn snapshot(name: &str) -> SnapshotRef {
        SnapshotRef {
            snapshot: format!("{name}.xml"),
            index: format!("{name}.idx"),
            sha256: name.into(),
            bytes: 0,
            records: 0,
            etag: None,
            last_modified: None,
        }
    }

    async fn entries(
        store: &Store,
        changes: &Changes,
        list: ChangeList,
    ) -> Vec<Vec<(String, RecordHash)>> {
        let mut parts = Vec::new();
        for key in changes.keys(list) {
            let bytes = store.get(&key).await.unwrap().bytes;
            let mut r = IndexReader::new(&bytes[..]).unwrap();
            let mut part = Vec::new();
            while r.advance().unwrap() {
                part.push((r.id().to_string(), r.hash()));
            }
            parts.push(part);
        }
        parts
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn long_lists_are_cut_into_parts_that_read_back_as_one_list() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("file://{}", dir.path().display()))
            .await
            .unwrap();
        // Old: 0..300; new: 100..400 with every 7th value changed (salt 7 vs 1000).
        let put = |key: &'static str, bytes: Vec<u8>| {
            let store = store.clone();
            async move {
                store
                    .put(key, Bytes::from(bytes), Condition::Always)
                    .await
                    .unwrap()
            }
        };
        put("old.idx", index(0..300, 1000)).await;
        put("new.idx", index(100..400, 7)).await;
        let (old, new) = (snapshot("old"), snapshot("new"));
        let whole = write_changes(&store, Some(&old), &new, "one/".into(), 1 << 20)
            .await
            .unwrap();
        let cut = write_changes(&store, Some(&old), &new, "cut/".into(), 16)
            .await
            .unwrap();
        assert_eq!(
            (cut.added, cut.removed, cut.changed),
            (whole.added, whole.removed, whole.changed)
        );
        assert_eq!((cut.added, cut.removed), (100, 100));
        assert!(cut.changed > 100, "{}", cut.changed);
        let upserts = cut.added + cut.changed;
        assert_eq!(cut.changes.upsert_parts, upserts.div_ceil(16));
        assert_eq!(cut.changes.delete_parts, 100u64.div_ceil(16));
        for list in [ChangeList::Upserts, ChangeList::Deletes] {
            let parts = entries(&store, &cut.changes, list).await;
            assert!(parts.iter().rev().skip(1).all(|p| p.len() == 16));
            let one = entries(&store, &whole.changes, list).await;
            assert_eq!(one.len(), 1);
            assert_eq!(parts.concat(), one[0]);
        }
        // First run: everything is added, nothing deleted, no delete parts.
        let first = write_changes(&store, None, &new, "first/".into(), 16)
            .await
            .unwrap();
        assert_eq!((first.added, first.changes.delete_parts), (300, 0));
        assert_eq!(first.changes.upsert_parts, 19);
    }
}
