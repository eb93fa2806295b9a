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
use feed::index::{Index, Indexer};
use feed::FeedOptions;
use futures_util::StreamExt as _;
use sha2::{Digest as _, Sha256};
use store::layout::{self, CheckResult, Current, SnapshotRef};
use store::Condition;

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

/// What the indexing thread returns.
struct Indexed {
    sha256: String,
    index: Index,
    gzipped: bool,
    bytes: u64,
}

/// Streams the feed into the store, hashing and indexing it on the way.
async fn store_and_index(job: &Job, mut stream: ByteStream) -> Result<SnapshotRef, JobError> {
    let staging = layout::run_file(&job.feed.name, &job.execution, "snapshot.partial");
    let mut upload = job.store.upload(&staging).await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let opts = FeedOptions::from_config(&job.feed);
    let indexing = tokio::task::spawn_blocking(move || {
        let mut sha = Sha256::new();
        let mut indexer = Indexer::new(&opts);
        let mut head = Vec::with_capacity(2);
        let mut bytes = 0u64;
        while let Some(chunk) = rx.blocking_recv() {
            let want = 2usize.saturating_sub(head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..want]);
            sha.update(&chunk);
            bytes += chunk.len() as u64;
            indexer.push(&chunk)?;
        }
        let index = indexer.finish()?;
        Ok::<_, feed::FeedError>(Indexed {
            sha256: hex::encode(sha.finalize()),
            index,
            gzipped: head == [0x1f, 0x8b],
            bytes,
        })
    });
    let started = Instant::now();
    let mut last_log = Instant::now();
    let pumped = async {
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            total += chunk.len() as u64;
            upload.write(chunk.clone()).await?;
            if tx.send(chunk).await.is_err() {
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
    drop(tx);
    let indexed = match indexing.await {
        Ok(r) => r.map_err(|source| JobError::BadFeed {
            location: job.feed.url.clone(),
            source: Box::new(source),
        }),
        Err(e) => Err(JobError::Internal(format!("indexing thread: {e}"))),
    };
    let indexed = match (pumped, indexed) {
        (Ok(()), Ok(indexed)) => indexed,
        (Err(e), _) | (Ok(()), Err(e)) => {
            if let Err(abort) = upload.abort().await {
                tracing::warn!(error = %chain(&abort), "could not remove the partial snapshot");
            }
            return Err(e);
        }
    };
    let name = &job.feed.name;
    let snapshot = layout::snapshot(name, &indexed.sha256, indexed.gzipped);
    if job.store.head(&snapshot).await?.is_some() {
        upload.abort().await?;
    } else {
        upload.finish(&snapshot).await?;
    }
    let index = layout::index(name, &indexed.sha256);
    job.store
        .put(
            &index,
            Bytes::from(indexed.index.to_bytes()),
            Condition::Always,
        )
        .await?;
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(feed = %name, execution = %job.execution, bytes = indexed.bytes,
        records = indexed.index.len() as u64, seconds = secs, %snapshot, "snapshot stored");
    Ok(SnapshotRef {
        snapshot,
        index,
        sha256: indexed.sha256,
        bytes: indexed.bytes,
        records: indexed.index.len() as u64,
        etag: None,
        last_modified: None,
    })
}
