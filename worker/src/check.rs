//! The CheckFeed job: fetch the feed (conditional GET against the delivered snapshot), stream it
//! into the store as `feeds/NAME/snapshots/SHA256.xml[.gz]` while hashing it and building its
//! record index in the same pass, and write `runs/NAME/EXECUTION/check.json`.
//!
//! The bytes go to the store from the async side while a blocking thread hashes and indexes
//! them (a bounded channel between the two), so the one read of the feed keeps both busy. The
//! snapshot is uploaded under a staging key and finished under its content hash; a snapshot
//! already stored (the feed did not change) is not written twice. Transient failures (network,
//! 429/5xx, throttled store) restart the fetch with backoff.
//!
//! Memory is bounded for any feed size: the indexer holds at most `index_memory` of entries and
//! spills sorted runs to a temporary directory ([`TempSpill`]) beyond that, and the finished
//! index is streamed into the store (a multipart upload on S3) straight from spill storage,
//! never built in memory.

use std::path::PathBuf;
use std::time::Instant;

use bytes::Bytes;
use feed::index::{Index, Indexer};
use feed::FeedOptions;
use futures_util::StreamExt as _;
use store::blocking::{into_store_error, BlockingUpload};
use store::layout::{self, CheckResult, Current, SnapshotRef};
use store::Condition;

use crate::digest;
use crate::error::{chain, JobError};
use crate::fetch::{fetch, http_client, ByteStream, FetchFailure, Fetched};
use crate::job::{Job, RetryArgs};
use crate::spill::TempSpill;

/// Chunks of the feed (up to 1 MiB each from files and S3) queued before each of the hashing
/// and the indexing thread: enough to keep them busy, few enough to keep memory small.
const CHUNKS_IN_FLIGHT: usize = 4;

/// How to check.
#[derive(Debug, Clone)]
pub struct CheckSettings {
    /// Timeouts and retries of the fetch.
    pub retry: RetryArgs,
    /// Where the index build spills sorted runs (a new directory inside; the system's temporary
    /// directory when `None`).
    pub tmp_dir: Option<PathBuf>,
    /// Memory for index entries before runs are spilled, in bytes.
    pub index_memory: usize,
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            retry: RetryArgs::default(),
            tmp_dir: None,
            index_memory: feed::options::DEFAULT_INDEX_MEMORY,
        }
    }
}

/// What a check did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// What it wrote to `check.json`.
    pub result: CheckResult,
    /// Sorted runs the index build spilled (0: it fit `index_memory`, or the feed was not
    /// modified).
    pub spilled_runs: u64,
}

/// Runs CheckFeed.
pub async fn check(job: &Job, settings: &CheckSettings) -> Result<Checked, JobError> {
    let retry = &settings.retry;
    let client = http_client(retry.timeout(), 2)?;
    let current_key = layout::current(&job.feed.name);
    let previous = match job.store.get_opt(&current_key).await? {
        Some(o) => Some(
            serde_json::from_slice::<Current>(&o.bytes)
                .map_err(|e| JobError::State(format!("{}: {e}", job.store.location(&current_key))))?
                .snapshot,
        ),
        None => None,
    };
    let policy = retry.policy();
    let mut attempt = 0;
    let (snapshot, not_modified, spilled_runs) = loop {
        attempt += 1;
        let result = match fetch(&client, &job.feed.url, previous.as_ref()).await {
            Ok(Fetched::NotModified) => match &previous {
                Some(p) => Ok((p.clone(), true, 0)),
                None => Err(FetchFailure::from(JobError::Internal(
                    "304 without a previous snapshot".into(),
                ))),
            },
            Ok(Fetched::Body {
                stream,
                etag,
                last_modified,
            }) => store_and_index(job, settings, stream)
                .await
                .map(|(s, runs)| {
                    let snapshot = SnapshotRef {
                        etag,
                        last_modified,
                        ..s
                    };
                    (snapshot, false, runs)
                })
                .map_err(FetchFailure::from),
            Err(f) => Err(f),
        };
        match result {
            Ok(done) => break done,
            Err(f) if f.error.is_transient() && attempt < policy.max_attempts => {
                let wait = policy.delay(attempt, f.retry_after);
                tracing::warn!(attempt, wait_ms = wait.as_millis() as u64,
                    error = %chain(&f.error), "fetch failed; retrying");
                tokio::time::sleep(wait).await;
            }
            Err(f) => return Err(f.error),
        }
    };
    let result = CheckResult {
        feed: job.feed.name.clone(),
        execution: job.execution.clone(),
        source: job.feed.url.clone(),
        not_modified,
        snapshot,
    };
    let key = layout::check(&job.feed.name, &job.execution);
    let body = serde_json::to_vec_pretty(&result).map_err(|e| JobError::Internal(e.to_string()))?;
    job.store
        .put(&key, Bytes::from(body), Condition::Always)
        .await?;
    Ok(Checked {
        result,
        spilled_runs,
    })
}

/// Streams the feed into the store; on the way one thread hashes it and another indexes it.
/// Returns the snapshot and the number of runs the index build spilled.
async fn store_and_index(
    job: &Job,
    settings: &CheckSettings,
    mut stream: ByteStream,
) -> Result<(SnapshotRef, u64), JobError> {
    let spill = TempSpill::new(settings.tmp_dir.as_deref()).map_err(|e| {
        JobError::Config(format!(
            "spill storage for the index (FEEDPIPE_TMPDIR): {}",
            chain(&e)
        ))
    })?;
    let staging = layout::run_file(&job.feed.name, &job.execution, "snapshot.partial");
    let mut upload = job.store.upload(&staging).await?;
    let (raw_tx, raw_rx) = tokio::sync::mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
    let (forward_tx, mut forward_rx) = tokio::sync::mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
    let raw_stage = digest::hash_and_forward(raw_rx, forward_tx);
    let mut opts = FeedOptions::from_config(&job.feed);
    opts.index_memory = settings.index_memory.max(1);
    let indexing = tokio::task::spawn_blocking(move || {
        let mut indexer = Indexer::with_spill(&opts, spill);
        while let Some(chunk) = forward_rx.blocking_recv() {
            indexer.push(&chunk)?;
        }
        indexer.finish()
    });
    let started = Instant::now();
    let mut last_log = Instant::now();
    let pumped = async {
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            total += chunk.len() as u64;
            upload.write(chunk.clone()).await?;
            if raw_tx.send(chunk).await.is_err() {
                break; // the indexer stopped on an error, reported below
            }
            if last_log.elapsed().as_secs() >= 10 {
                last_log = Instant::now();
                let secs = started.elapsed().as_secs_f64();
                tracing::info!(
                    bytes = total,
                    mb_per_s = total as f64 / 1e6 / secs,
                    "fetching"
                );
            }
        }
        Ok::<_, JobError>(())
    }
    .await;
    drop(raw_tx);
    let bad_feed = |source: Box<dyn std::error::Error + Send + Sync>| JobError::BadFeed {
        location: job.feed.url.clone(),
        source,
    };
    let indexed = indexing
        .await
        .map_err(|e| JobError::Internal(format!("indexing thread: {e}")))
        .and_then(|r| r.map_err(|e| bad_feed(Box::new(e))));
    let raw = digest::wait(raw_stage).await;
    let (index, raw) = match (pumped, raw, indexed) {
        (Ok(()), Ok(raw), Ok(index)) => (index, raw),
        (Err(e), _, _) | (Ok(()), Err(e), _) | (Ok(()), Ok(_), Err(e)) => {
            if let Err(abort) = upload.abort().await {
                tracing::warn!(error = %chain(&abort), "could not remove the partial snapshot");
            }
            return Err(e);
        }
    };
    let sha256 = raw.sha256;
    let name = &job.feed.name;
    let snapshot = layout::snapshot(name, &sha256, raw.gzipped);
    if job.store.head(&snapshot).await?.is_some() {
        upload.abort().await?;
    } else {
        upload.finish(&snapshot).await?;
    }
    let index_key = layout::index(name, &sha256, &index.build().digest());
    let (records, runs) = (index.len() as u64, index.spilled_runs());
    write_index(job, index, &index_key).await?;
    let secs = started.elapsed().as_secs_f64();
    // The job's span carries the feed and the execution.
    tracing::info!(bytes = raw.bytes, records, spilled_runs = runs, seconds = secs, %snapshot,
        "snapshot stored");
    let snapshot = SnapshotRef {
        snapshot,
        index: index_key,
        sha256,
        bytes: raw.bytes,
        records,
        etag: None,
        last_modified: None,
    };
    Ok((snapshot, runs))
}

/// Streams the index file into the store under `key`, from memory or from spill storage; the
/// index (and its temporary directory) goes when this returns.
async fn write_index(job: &Job, index: Index, key: &str) -> Result<(), JobError> {
    let upload = job.store.upload(key).await?;
    let handle = tokio::runtime::Handle::current();
    let location = job.store.location(key);
    let written = tokio::task::spawn_blocking(move || {
        let mut w = BlockingUpload::new(upload, handle);
        let result = index.write_to(&mut w);
        (w.into_inner(), result)
    })
    .await
    .map_err(|e| JobError::Internal(format!("index writing thread: {e}")));
    let (upload, result) = written?;
    match result {
        Ok(()) => Ok(upload.finish(key).await?),
        Err(e) => {
            if let Err(abort) = upload.abort().await {
                tracing::warn!(error = %chain(&abort), "could not remove the partial index");
            }
            Err(match into_store_error(e) {
                Ok(store) => JobError::Store(store),
                Err(io) => JobError::Internal(format!(
                    "{location}: cannot write the index: {}",
                    chain(&io)
                )),
            })
        }
    }
}
