//! The object sink: each batch becomes one NDJSON part file
//! `FEED/EXECUTION/part-NNNNNN.ndjson` under an `s3://` or `file://` URL, one line per record:
//! `{"op":"upsert","id":…,"hash":…,"record":{…}}` or `{"op":"delete","id":…,"hash":…}`. A part is
//! named by its batch number and written whole, so a repeated delivery replaces it with the
//! same bytes.

use bytes::Bytes;
use store::{Condition, Store};

use super::{AttemptError, Batch, RunInfo};
use crate::error::{chain, JobError};
use crate::retry::RetryPolicy;

/// A folder or bucket prefix receiving part files.
pub struct ObjectSink {
    store: Store,
    run: RunInfo,
    pub(super) policy: RetryPolicy,
}

impl ObjectSink {
    /// Opens the sink at `url` (`s3://bucket/prefix` or `file://DIR`).
    pub async fn open(
        url: &str,
        run: RunInfo,
        policy: RetryPolicy,
    ) -> Result<ObjectSink, JobError> {
        let store = Store::open(url)
            .await
            .map_err(|e| JobError::Config(format!("sink: {}", chain(&e))))?;
        Ok(ObjectSink { store, run, policy })
    }

    /// The key of a batch's part file.
    pub fn part_key(&self, batch: u64) -> String {
        format!(
            "{}/{}/part-{batch:06}.ndjson",
            self.run.feed, self.run.execution
        )
    }

    /// The NDJSON text of a batch.
    pub fn encode(&self, batch: &Batch) -> Bytes {
        let mut out = String::new();
        let text = |s: &str| serde_json::Value::from(s).to_string();
        for (id, hash, record) in &batch.upserts {
            out.push_str(&format!(
                "{{\"op\":\"upsert\",\"id\":{},\"hash\":{},\"record\":{record}}}\n",
                text(id),
                text(hash)
            ));
        }
        for (id, hash) in &batch.deletes {
            out.push_str(&format!(
                "{{\"op\":\"delete\",\"id\":{},\"hash\":{}}}\n",
                text(id),
                text(hash)
            ));
        }
        Bytes::from(out)
    }

    pub(super) async fn attempt(&self, batch: &Batch, body: &Bytes) -> Result<(), AttemptError> {
        let key = self.part_key(batch.number);
        match self.store.put(&key, body.clone(), Condition::Always).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_transient() => Err(AttemptError::Retry {
                message: chain(&e),
                retry_after: None,
            }),
            Err(e) => Err(AttemptError::Fatal(JobError::Store(e))),
        }
    }
}
