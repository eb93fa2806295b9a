//! Where ConsumeFeed delivers: an HTTP endpoint ([`http`], DESIGN.md §5) or NDJSON part files in
//! a store ([`objects`], `s3://` or `file://`). One [`Batch`] at a time per call; callers run
//! `PARALLELISM` calls at once. Every batch is retried on transient failures with exponential
//! backoff and full jitter (or the server's `Retry-After`) up to the policy's attempts.

use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::error::JobError;
use crate::job::RetryArgs;
use crate::retry::RetryPolicy;

pub mod http;
pub mod objects;

/// One delivery: up to `batch_size` upserts or deletes, numbered in a fixed order (upsert
/// batches in snapshot order, then delete batches) so a resumed consume numbers them alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The batch number, from 0.
    pub number: u64,
    /// Records to create or replace: id, record hash, the record's JSON form (serialised by
    /// the delivery task, off the extraction thread).
    pub upserts: Vec<(String, String, feed::RecordJson)>,
    /// Records to delete: id and the hash of the deleted record.
    pub deletes: Vec<(String, String)>,
}

impl Batch {
    /// Records in the batch.
    pub fn len(&self) -> usize {
        self.upserts.len() + self.deletes.len()
    }

    /// True when the batch has no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `Idempotency-Key`: a digest of the batch's record keys (`feed/record-id/record-hash`,
    /// deletes as `feed/record-id/deleted/hash`), so the same content always carries the same
    /// key, in a retry, a resumed consume or a redrive.
    pub fn idempotency_key(&self, feed: &str) -> String {
        let mut sha = Sha256::new();
        for (id, hash, _) in &self.upserts {
            sha.update(format!("{feed}/{id}/{hash}\n"));
        }
        for (id, hash) in &self.deletes {
            sha.update(format!("{feed}/{id}/deleted/{hash}\n"));
        }
        format!("{feed}-{}", hex::encode(&sha.finalize()[..16]))
    }
}

/// What one failed attempt means.
pub enum AttemptError {
    /// Try again (after `retry_after` if the server asked for it).
    Retry {
        /// What happened.
        message: String,
        /// The server's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// Give up now.
    Fatal(JobError),
}

/// A delivery target.
pub enum Sink {
    /// `http(s)://`.
    Http(http::HttpSink),
    /// `s3://` or `file://`: NDJSON part files.
    Objects(objects::ObjectSink),
}

/// What a sink needs to know about the run.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Feed name.
    pub feed: String,
    /// Execution name.
    pub execution: String,
    /// Snapshot key being delivered.
    pub snapshot: String,
}

impl Sink {
    /// Opens the sink at `url`.
    pub async fn open(
        url: &str,
        run: RunInfo,
        retry: &RetryArgs,
        parallelism: usize,
    ) -> Result<Sink, JobError> {
        let policy = retry.policy();
        if url.starts_with("http://") || url.starts_with("https://") {
            let client = crate::fetch::http_client(retry.timeout(), parallelism)?;
            return Ok(Sink::Http(http::HttpSink::new(
                client,
                url.to_string(),
                run,
                policy,
                retry.timeout(),
            )));
        }
        Ok(Sink::Objects(
            objects::ObjectSink::open(url, run, policy).await?,
        ))
    }

    fn policy(&self) -> RetryPolicy {
        match self {
            Sink::Http(s) => s.policy,
            Sink::Objects(s) => s.policy,
        }
    }

    async fn attempt(&self, batch: &Batch, body: &bytes::Bytes) -> Result<(), AttemptError> {
        match self {
            Sink::Http(s) => s.attempt(batch, body).await,
            Sink::Objects(s) => s.attempt(batch, body).await,
        }
    }

    fn encode(&self, batch: &Batch) -> bytes::Bytes {
        match self {
            Sink::Http(s) => s.encode(batch),
            Sink::Objects(s) => s.encode(batch),
        }
    }

    /// Delivers one batch, retrying transient failures; returns the attempts it took.
    pub async fn deliver(&self, batch: &Batch) -> Result<u32, JobError> {
        let policy = self.policy();
        let body = self.encode(batch);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.attempt(batch, &body).await {
                Ok(()) => return Ok(attempt),
                Err(AttemptError::Fatal(e)) => return Err(e),
                Err(AttemptError::Retry {
                    message,
                    retry_after,
                }) => {
                    if attempt >= policy.max_attempts {
                        return Err(JobError::SinkFailed {
                            batch: batch.number,
                            attempts: attempt,
                            message,
                        });
                    }
                    let wait = policy.delay(attempt, retry_after);
                    tracing::debug!(batch = batch.number, attempt, wait_ms = wait.as_millis() as u64,
                        %message, "delivery failed; retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_key_depends_on_content_only() {
        let a = Batch {
            number: 3,
            upserts: vec![(
                "1".into(),
                "aa".into(),
                feed::RecordJson::from_value(&serde_json::json!({})),
            )],
            deletes: vec![("2".into(), "bb".into())],
        };
        let mut b = a.clone();
        b.number = 9;
        b.upserts[0].2 = feed::RecordJson::from_value(&serde_json::json!({"x": 1}));
        assert_eq!(a.idempotency_key("jobs"), b.idempotency_key("jobs"));
        b.upserts[0].1 = "ab".into();
        assert_ne!(a.idempotency_key("jobs"), b.idempotency_key("jobs"));
        assert_ne!(a.idempotency_key("jobs"), a.idempotency_key("other"));
        assert!(a.idempotency_key("jobs").starts_with("jobs-"));
    }
}
