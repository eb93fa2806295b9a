//! The ConsumeFeed job: stream the added and changed records out of the snapshot and deliver
//! them, with the removals, to the sink, `parallelism` batches in flight, checkpointing as it
//! goes.
//!
//! Batches are numbered in a fixed order (upserts in snapshot order, `batch_size` each, then the
//! deletes in id order), so every attempt cuts the same batches. `runs/NAME/EXECUTION/checkpoint.json`
//! records the delivered batch numbers (and the batch size, which a resumed attempt keeps); it
//! is written every `checkpoint_every` and at the end, also when the job fails. A retried or
//! redriven consume skips the delivered batches; only batches in flight when the previous
//! attempt died are sent again, with the same `Idempotency-Key`.
//!
//! Three parts run at once: an async reader streaming the snapshot from the store, a blocking
//! thread extracting the wanted records (only those are parsed fully) and cutting batches, and
//! `parallelism` delivery tasks.
//!
//! Memory does not grow with the number of changes, only with the batch window: the change
//! lists are read as streams ([`crate::changes`]); the extractor's membership test is a compact
//! [`IdSet`] of the upserted ids (about 10 bytes an id), or nothing at all on a first delivery,
//! when every record of the snapshot is added; the deletes are cut into batches as they are
//! read. That the extracted records are the listed ones, hashes included, is checked with an
//! order-independent digest of both sides ([`PairDigest`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use feed::extract::{Extracted, Extractor};
use feed::{FeedOptions, IdSet};
use futures_util::StreamExt as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use store::layout::{self, ChangeList, Checkpoint, Manifest};
use store::{Condition, Store};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::changes::{ListReader, PairDigest};
use crate::error::{chain, JobError};
use crate::fetch::reader_stream;
use crate::job::{Job, RetryArgs};
use crate::sink::{Batch, RunInfo, Sink};

/// How to consume.
#[derive(Debug, Clone)]
pub struct ConsumeSettings {
    /// The manifest key DiffFeed wrote.
    pub manifest: String,
    /// Batches in flight at once (default: the feed's `sink.parallelism`).
    pub parallelism: Option<u32>,
    /// Records per batch (default: the feed's `sink.batch_size`; a resumed attempt keeps the
    /// checkpoint's).
    pub batch_size: Option<u32>,
    /// Timeouts and retries of deliveries.
    pub retry: RetryArgs,
    /// How often to write the checkpoint.
    pub checkpoint_every: Duration,
    /// How often to log progress.
    pub progress_every: Duration,
}

/// What a consume did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsumeSummary {
    /// Batches in all.
    pub batches: u64,
    /// Batches delivered by this attempt.
    pub delivered: u64,
    /// Batches an earlier attempt had delivered (skipped).
    pub resumed: u64,
    /// Records upserted by this attempt.
    pub upserts: u64,
    /// Records deleted by this attempt.
    pub deletes: u64,
    /// Retried requests.
    pub retries: u64,
    /// Wall time.
    pub seconds: f64,
    /// Records delivered per second.
    pub records_per_second: f64,
}

fn state_error(store: &Store, key: &str, e: impl std::fmt::Display) -> JobError {
    JobError::State(format!("{}: {e}", store.location(key)))
}

/// Reads a JSON document of the store, with the SHA-256 (hex) of its bytes.
async fn read_json<T: serde::de::DeserializeOwned>(
    store: &Store,
    key: &str,
) -> Result<(T, String), JobError> {
    let object = store.get(key).await?;
    let value = serde_json::from_slice(&object.bytes).map_err(|e| state_error(store, key, e))?;
    Ok((value, hex::encode(Sha256::digest(&object.bytes))))
}

fn ceil_div(a: u64, b: u64) -> u64 {
    a.div_ceil(b.max(1))
}

/// Counters shared by the delivery tasks.
#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    upserts: AtomicU64,
    deletes: AtomicU64,
    retries: AtomicU64,
}

/// Runs ConsumeFeed.
pub async fn consume(job: &Job, settings: &ConsumeSettings) -> Result<ConsumeSummary, JobError> {
    let started = Instant::now();
    let store = &job.store;
    let (manifest, manifest_sha256): (Manifest, String) =
        read_json(store, &settings.manifest).await?;
    if manifest.feed != job.feed.name || manifest.execution != job.execution {
        return Err(JobError::Config(format!(
            "{} belongs to {}/{}, not to {}/{}",
            store.location(&settings.manifest),
            manifest.feed,
            manifest.execution,
            job.feed.name,
            job.execution
        )));
    }
    let (upserts, deletes) = (manifest.added + manifest.changed, manifest.removed);
    let checkpoint_key = layout::checkpoint(&job.feed.name, &job.execution);
    let batch_size = settings
        .batch_size
        .unwrap_or(job.feed.sink.batch_size)
        .max(1) as u64;
    let checkpoint = match store.get_opt(&checkpoint_key).await? {
        Some(o) => {
            let c: Checkpoint = serde_json::from_slice(&o.bytes)
                .map_err(|e| state_error(store, &checkpoint_key, e))?;
            // A checkpoint counts only for the very manifest it was written for: a manifest
            // rewritten under the same key (a repeated DiffFeed after a concurrent commit) cuts
            // other batches, so its numbers would skip undelivered records.
            (c.manifest == settings.manifest && c.manifest_sha256 == manifest_sha256).then_some(c)
        }
        None => None,
    };
    let upsert_batches;
    let checkpoint = match checkpoint {
        Some(c) => {
            upsert_batches = ceil_div(upserts, c.batch_size);
            tracing::info!(
                done = c.done_count(),
                batches = c.batches,
                batch_size = c.batch_size,
                "resuming from the checkpoint"
            );
            c
        }
        None => {
            upsert_batches = ceil_div(upserts, batch_size);
            Checkpoint {
                manifest: settings.manifest.clone(),
                manifest_sha256,
                batch_size,
                batches: upsert_batches + ceil_div(deletes, batch_size),
                done: Vec::new(),
            }
        }
    };
    let resumed = checkpoint.done_count();
    let total = checkpoint.batches;
    let parallelism = settings
        .parallelism
        .unwrap_or(job.feed.sink.parallelism)
        .max(1) as usize;
    let run = RunInfo {
        feed: job.feed.name.clone(),
        execution: job.execution.clone(),
        snapshot: manifest.new.snapshot.clone(),
    };
    let sink = Arc::new(Sink::open(&job.feed.sink.url, run, &settings.retry, parallelism).await?);
    tracing::info!(
        upserts,
        deletes,
        batches = total,
        resumed,
        parallelism,
        batch_size = checkpoint.batch_size,
        "consuming"
    );

    let (tx, rx) = mpsc::channel::<Batch>(parallelism * 2);
    let producer = produce(job, &manifest, checkpoint.clone(), upsert_batches, tx);
    let checkpoint = Arc::new(Mutex::new((checkpoint, false)));
    let counters = Arc::new(Counters::default());
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..parallelism {
        let (rx, sink, checkpoint, counters) = (
            rx.clone(),
            sink.clone(),
            checkpoint.clone(),
            counters.clone(),
        );
        workers.spawn(async move {
            loop {
                let batch = rx.lock().await.recv().await;
                let Some(batch) = batch else { return Ok(()) };
                let attempts = sink.deliver(&batch).await?;
                counters
                    .retries
                    .fetch_add(u64::from(attempts - 1), Ordering::Relaxed);
                counters.batches.fetch_add(1, Ordering::Relaxed);
                counters
                    .upserts
                    .fetch_add(batch.upserts.len() as u64, Ordering::Relaxed);
                counters
                    .deletes
                    .fetch_add(batch.deletes.len() as u64, Ordering::Relaxed);
                let mut guard = checkpoint.lock().unwrap_or_else(|p| p.into_inner());
                guard.0.mark(batch.number);
                guard.1 = true;
            }
        });
    }

    // Checkpoint writer and progress log, until the workers are done.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let writer = {
        let (store, key, checkpoint, counters) = (
            store.clone(),
            checkpoint_key.clone(),
            checkpoint.clone(),
            counters.clone(),
        );
        let (every, progress_every) = (settings.checkpoint_every, settings.progress_every);
        let mut stop = stop_rx;
        tokio::spawn(async move {
            let mut last_progress = Instant::now();
            loop {
                // Stopped between writes, never during one: a write cut off (or finishing after
                // the final one) could leave an older checkpoint behind.
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.changed() => return,
                }
                if let Err(e) = save_checkpoint(&store, &key, &checkpoint, false).await {
                    tracing::warn!(error = %chain(&e), "could not write the checkpoint");
                }
                if last_progress.elapsed() >= progress_every {
                    last_progress = Instant::now();
                    log_progress(&counters, total, resumed, started);
                }
            }
        })
    };

    // Produce and deliver at once. The first failed delivery closes the queue, which stops the
    // producer; a failed producer drops its end, which lets the deliveries drain and stop.
    let delivering = async {
        let mut first: Option<JobError> = None;
        while let Some(joined) = workers.join_next().await {
            let result =
                joined.unwrap_or_else(|e| Err(JobError::Internal(format!("delivery task: {e}"))));
            if let Err(e) = result {
                if first.is_none() {
                    rx.lock().await.close();
                    first = Some(e);
                }
            }
        }
        first
    };
    let (produced, delivery_error) = tokio::join!(producer, delivering);
    let first_error = delivery_error.or(produced.err());
    let _ = stop_tx.send(true);
    let _ = writer.await;
    save_checkpoint(store, &checkpoint_key, &checkpoint, true).await?;
    if let Some(e) = first_error {
        return Err(e);
    }
    log_progress(&counters, total, resumed, started);
    let seconds = started.elapsed().as_secs_f64();
    let upserts = counters.upserts.load(Ordering::Relaxed);
    let deletes = counters.deletes.load(Ordering::Relaxed);
    Ok(ConsumeSummary {
        batches: total,
        delivered: counters.batches.load(Ordering::Relaxed),
        resumed,
        upserts,
        deletes,
        retries: counters.retries.load(Ordering::Relaxed),
        seconds,
        records_per_second: (upserts + deletes) as f64 / seconds.max(1e-9),
    })
}

fn log_progress(counters: &Counters, total: u64, resumed: u64, started: Instant) {
    let records =
        counters.upserts.load(Ordering::Relaxed) + counters.deletes.load(Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    tracing::info!(
        records,
        batches = counters.batches.load(Ordering::Relaxed) + resumed,
        of = total,
        retries = counters.retries.load(Ordering::Relaxed),
        records_per_second = (records as f64 / secs).round(),
        "delivering"
    );
}

/// Writes the checkpoint if it changed since the last write (or always, with `force`).
async fn save_checkpoint(
    store: &Store,
    key: &str,
    checkpoint: &Mutex<(Checkpoint, bool)>,
    force: bool,
) -> Result<(), JobError> {
    let lock = || checkpoint.lock().unwrap_or_else(|p| p.into_inner());
    let body = {
        let mut guard = lock();
        if !guard.1 && !force {
            return Ok(());
        }
        guard.1 = false;
        serde_json::to_vec(&guard.0).map_err(|e| JobError::Internal(e.to_string()))?
    };
    if let Err(e) = store.put(key, Bytes::from(body), Condition::Always).await {
        lock().1 = true; // try again next time
        return Err(e.into());
    }
    Ok(())
}

/// Cuts the batches not yet delivered and sends them to the delivery tasks: upserts extracted
/// from the snapshot, then deletes.
async fn produce(
    job: &Job,
    manifest: &Manifest,
    checkpoint: Checkpoint,
    upsert_batches: u64,
    tx: mpsc::Sender<Batch>,
) -> Result<(), JobError> {
    let pending_upserts = (0..upsert_batches).any(|n| !checkpoint.is_done(n));
    if pending_upserts {
        extract_upserts(job, manifest, &checkpoint, tx.clone()).await?;
    }
    let store = job.store.clone();
    let mut list = ListReader::new(
        store,
        &manifest.changes,
        ChangeList::Deletes,
        manifest.removed,
        Handle::current(),
    );
    blocking(move || {
        let size = checkpoint.batch_size as usize;
        let mut batch = Batch {
            number: upsert_batches,
            upserts: Vec::new(),
            deletes: Vec::new(),
        };
        loop {
            let more = list.advance()?;
            if more {
                batch
                    .deletes
                    .push((list.id().to_string(), list.hash().to_string()));
            }
            if batch.deletes.len() == size || (!more && !batch.deletes.is_empty()) {
                let next = Batch {
                    number: batch.number + 1,
                    upserts: Vec::new(),
                    deletes: Vec::with_capacity(size),
                };
                let full = std::mem::replace(&mut batch, next);
                if !checkpoint.is_done(full.number) && tx.blocking_send(full).is_err() {
                    return Ok(()); // delivery stopped; its error is reported
                }
            }
            if !more {
                return Ok(());
            }
        }
    })
    .await
}

/// Runs `work` on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, JobError> + Send + 'static,
) -> Result<T, JobError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| JobError::Internal(format!("worker thread: {e}")))?
}

/// Bytes of the snapshot pushed into the extractor at once.
const PUSH_BYTES: usize = 64 << 10;

/// The digest of the upsert list, which the extracted records must match.
enum Listed {
    /// Read already (while building the set of wanted ids).
    Read(PairDigest),
    /// Being read on another thread (a first delivery needs no set of ids).
    Reading(tokio::task::JoinHandle<Result<PairDigest, JobError>>),
}

impl Listed {
    async fn digest(self) -> Result<PairDigest, JobError> {
        match self {
            Listed::Read(digest) => Ok(digest),
            Listed::Reading(handle) => handle
                .await
                .map_err(|e| JobError::Internal(format!("change list thread: {e}")))?,
        }
    }
}

async fn extract_upserts(
    job: &Job,
    manifest: &Manifest,
    checkpoint: &Checkpoint,
    tx: mpsc::Sender<Batch>,
) -> Result<(), JobError> {
    let snapshot = manifest.new.snapshot.clone();
    let location = job.store.location(&snapshot);
    let list = ListReader::new(
        job.store.clone(),
        &manifest.changes,
        ChangeList::Upserts,
        manifest.added + manifest.changed,
        Handle::current(),
    );
    let opts = FeedOptions::from_config(&job.feed);
    // A first delivery takes every record of the snapshot: no set of ids to build.
    let (extractor, listed) = if manifest.base.is_none() {
        let reading = tokio::task::spawn_blocking(move || list.digest());
        (Extractor::all(&opts), Listed::Reading(reading))
    } else {
        let (ids, digest) = blocking(move || wanted_ids(list)).await?;
        (Extractor::with_ids(&opts, ids), Listed::Read(digest))
    };
    let reader = job.store.read(&snapshot).await?;
    let mut chunks = reader_stream(reader, location.clone());
    let (chunk_tx, mut chunk_rx) = mpsc::channel::<Bytes>(8);
    let checkpoint = checkpoint.clone();
    let cutting = tokio::task::spawn_blocking(move || {
        let mut extractor = extractor;
        let size = checkpoint.batch_size as usize;
        let mut batch = Batch {
            number: 0,
            upserts: Vec::with_capacity(size),
            deletes: Vec::new(),
        };
        let mut extracted = PairDigest::default();
        // Set when the deliveries stopped (a batch failed): nothing more is wanted.
        let stopped = std::cell::Cell::new(false);
        let mut on = |e: Extracted| -> Result<(), feed::FeedError> {
            extracted.add(&e.id, e.hash);
            batch.upserts.push((e.id, e.hash.to_string(), e.json));
            if batch.upserts.len() == size {
                let next = Batch {
                    number: batch.number + 1,
                    upserts: Vec::with_capacity(size),
                    deletes: Vec::new(),
                };
                let full = std::mem::replace(&mut batch, next);
                if !checkpoint.is_done(full.number) && !stopped.get() {
                    stopped.set(tx.blocking_send(full).is_err());
                }
            }
            Ok(())
        };
        while let Some(chunk) = chunk_rx.blocking_recv() {
            // The extractor hands over the records of a push when the push is done: small
            // pushes keep few records waiting (a 1 MiB chunk may inflate to 6 MiB of records).
            for piece in chunk.chunks(PUSH_BYTES) {
                extractor.push(piece, &mut on)?;
                if stopped.get() {
                    return Ok(None);
                }
            }
        }
        let summary = extractor.finish(&mut on)?;
        if !batch.upserts.is_empty() && !checkpoint.is_done(batch.number) && !stopped.get() {
            let _ = tx.blocking_send(batch);
        }
        Ok::<_, feed::FeedError>(Some((summary, extracted)))
    });
    let mut read_error = None;
    while let Some(chunk) = chunks.next().await {
        match chunk {
            Ok(c) => {
                if chunk_tx.send(c).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                read_error = Some(e);
                break;
            }
        }
    }
    drop(chunk_tx);
    let cut = cutting
        .await
        .map_err(|e| JobError::Internal(format!("extraction thread: {e}")))?;
    let listed = listed.digest().await?;
    if let Some(e) = read_error {
        return Err(e);
    }
    let (summary, extracted) = match cut {
        Err(source) => {
            return Err(JobError::BadFeed {
                location,
                source: Box::new(source),
            })
        }
        Ok(None) => return Ok(()), // delivery stopped; its error is reported
        Ok(Some(done)) => done,
    };
    if summary.missing > 0 {
        return Err(JobError::State(format!(
            "{location}: {} changed records are not in the snapshot (first: {})",
            summary.missing,
            summary.missing_ids.join(", ")
        )));
    }
    if extracted != listed {
        return Err(JobError::State(format!(
            "{location}: the {} records extracted are not the {} (id, hash) pairs of the change \
             list {}: the snapshot or the list changed after DiffFeed",
            extracted.count,
            listed.count,
            job.store.location(&manifest.changes.prefix)
        )));
    }
    Ok(())
}

/// The set of ids of the upsert list, and the list's digest.
fn wanted_ids(mut list: ListReader) -> Result<(IdSet, PairDigest), JobError> {
    let mut digest = PairDigest::default();
    let mut failed = None;
    let ids = std::iter::from_fn(|| match list.advance() {
        Ok(true) => {
            digest.add(list.id(), list.hash());
            Some(list.id().to_string())
        }
        Ok(false) => None,
        Err(e) => {
            failed = Some(e);
            None
        }
    });
    let set = IdSet::new(ids);
    match failed {
        Some(e) => Err(e),
        None => Ok((set, digest)),
    }
}
