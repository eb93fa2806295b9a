//! The CheckFeed job: fetch the feed (conditional GET against the delivered snapshot), stream it
//! into the store as `feeds/NAME/snapshots/SHA256.xml[.gz]` while hashing it and building its
//! record index in the same pass, and write `runs/NAME/EXECUTION/check.json`.
//!
//! The bytes go to the store from the async side while a blocking thread hashes and indexes
//! them (a bounded channel between the two), so the one read of the feed keeps both busy. The
//! snapshot is uploaded under a staging key and finished under its content hash; a snapshot
//! already stored (the feed did not change) is not written twice. Transient failures (network,
//! 429/5xx, throttled store) restart the fetch with backoff.

use std::time::Instant;

use bytes::Bytes;
use feed::index::Indexer;
use feed::FeedOptions;
use futures_util::StreamExt as _;
use store::layout::{self, CheckResult, Current, SnapshotRef};
use store::Condition;

use crate::digest;
use crate::error::{chain, JobError};
use crate::fetch::{fetch, http_client, ByteStream, FetchFailure, Fetched};
use crate::job::{Job, RetryArgs};

/// Runs CheckFeed and returns what it wrote to `check.json`.
pub async fn check(job: &Job, retry: &RetryArgs) -> Result<CheckResult, JobError> {
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
    let (snapshot, not_modified) = loop {
        attempt += 1;
        let result = match fetch(&client, &job.feed.url, previous.as_ref()).await {
            Ok(Fetched::NotModified) => match &previous {
                Some(p) => Ok((p.clone(), true)),
                None => Err(FetchFailure::from(JobError::Internal(
                    "304 without a previous snapshot".into(),
                ))),
            },
            Ok(Fetched::Body {
                stream,
                etag,
                last_modified,
            }) => store_and_index(job, stream)
                .await
                .map(|s| {
                    let snapshot = SnapshotRef {
                        etag,
                        last_modified,
                        ..s
                    };
                    (snapshot, false)
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
    Ok(result)
}

/// Streams the feed into the store; on the way one thread hashes it and another indexes it.
async fn store_and_index(job: &Job, mut stream: ByteStream) -> Result<SnapshotRef, JobError> {
    let staging = layout::run_file(&job.feed.name, &job.execution, "snapshot.partial");
    let mut upload = job.store.upload(&staging).await?;
    let (raw_tx, raw_rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let (forward_tx, mut forward_rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let raw_stage = digest::hash_and_forward(raw_rx, forward_tx);
    let opts = FeedOptions::from_config(&job.feed);
    let indexing = tokio::task::spawn_blocking(move || {
        let mut indexer = Indexer::new(&opts);
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
    let index_key = layout::index(name, &sha256);
    let bytes = index
        .try_to_bytes()
        .map_err(|e| JobError::Internal(format!("cannot write the index: {e}")))?;
    job.store
        .put(&index_key, Bytes::from(bytes), Condition::Always)
        .await?;
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(feed = %name, execution = %job.execution, bytes = raw.bytes,
        records = index.len() as u64, seconds = secs, %snapshot, "snapshot stored");
    Ok(SnapshotRef {
        snapshot,
        index: index_key,
        sha256,
        bytes: raw.bytes,
        records: index.len() as u64,
        etag: None,
        last_modified: None,
    })
}
