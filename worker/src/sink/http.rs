//! The HTTP sink: `POST` of `{"feed", "snapshot", "upserts": [record...], "deletes": [id...]}`
//! with an `Idempotency-Key` header (DESIGN.md §5) and, for logs and tests, `Feedpipe-Batch: N`
//! (the batch number, stable across attempts). 2xx is success; 408, 429 and 5xx, timeouts
//! and connection failures are retried; any other status fails the job with the sink's answer.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::StatusCode;

use super::{AttemptError, Batch, RunInfo};
use crate::error::{chain, JobError};
use crate::fetch::snippet;
use crate::retry::{parse_retry_after, RetryPolicy};

/// An HTTP endpoint receiving batches.
pub struct HttpSink {
    client: reqwest::Client,
    url: String,
    run: RunInfo,
    pub(super) policy: RetryPolicy,
    timeout: Duration,
}

impl HttpSink {
    /// A sink posting to `url`.
    pub fn new(
        client: reqwest::Client,
        url: String,
        run: RunInfo,
        policy: RetryPolicy,
        timeout: Duration,
    ) -> HttpSink {
        HttpSink {
            client,
            url,
            run,
            policy,
            timeout,
        }
    }

    /// The request body of a batch.
    pub fn encode(&self, batch: &Batch) -> Bytes {
        let mut body = Vec::with_capacity(batch.len() * 4096 + 256);
        let text = |s: &str| serde_json::Value::from(s).to_string();
        body.extend_from_slice(
            format!(
                "{{\"feed\":{},\"snapshot\":{},\"upserts\":[",
                text(&self.run.feed),
                text(&self.run.snapshot)
            )
            .as_bytes(),
        );
        for (i, (_, _, record)) in batch.upserts.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(record.as_str().as_bytes());
        }
        body.extend_from_slice(b"],\"deletes\":[");
        for (i, (id, _)) in batch.deletes.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(text(id).as_bytes());
        }
        body.extend_from_slice(b"]}");
        Bytes::from(body)
    }

    pub(super) async fn attempt(&self, batch: &Batch, body: &Bytes) -> Result<(), AttemptError> {
        let sent = self
            .client
            .post(&self.url)
            .timeout(self.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", batch.idempotency_key(&self.run.feed))
            .header("Feedpipe-Batch", batch.number)
            .body(body.clone())
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                return Err(AttemptError::Retry {
                    message: format!("POST {}: {}", self.url, chain(&e)),
                    retry_after: None,
                })
            }
        };
        let status = response.status();
        if status.is_success() {
            // Read the body so the connection goes back to the pool.
            let _ = response.bytes().await;
            return Ok(());
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let text = response.text().await.unwrap_or_default();
        let message = format!("POST {} answered {status}: {}", self.url, snippet(&text));
        if status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT
            || status.is_server_error()
        {
            return Err(AttemptError::Retry {
                message,
                retry_after,
            });
        }
        Err(AttemptError::Fatal(JobError::SinkRefused {
            batch: batch.number,
            message,
        }))
    }
}
