//! The local task integrations of the feedpipe definition: `batch:submitJob.sync` as a child
//! process of `feedpipe-worker` ([`batch`]), `lambda:invoke` as the `lambdas` handlers in
//! process ([`lambda`]), and `sns:publish` to a `file://` outbox or a real SNS topic ([`sns`]).

pub mod batch;
pub mod lambda;
pub mod sns;

use std::sync::Arc;

use statemachine::engine::{Integrations, TaskError, TaskIntegration};

use crate::callbacks::{TaskTokens, WithCallbacks};
use statemachine::feedpipe::{BATCH_SUBMIT_JOB_SYNC, LAMBDA_INVOKE, SNS_PUBLISH};

pub use batch::{BatchJobs, JobDefinition, JobEvent, JobWatcher, WorkerProgram};
pub use lambda::LocalLambdas;
pub use sns::Publisher;

/// The engine's integrations over the three local services; `.waitForTaskToken` tasks (of SNS,
/// Lambda, and the services of [`crate::callbacks::CALL_FREE`]) wait for their token through
/// `tokens`.
pub fn integrations(
    batch: Arc<BatchJobs>,
    lambdas: Arc<LocalLambdas>,
    sns: Arc<Publisher>,
    tokens: Arc<TaskTokens>,
) -> Integrations {
    let callbacks = |inner: Option<Arc<dyn TaskIntegration>>| {
        Arc::new(WithCallbacks::new(inner, tokens.clone()))
    };
    let mut routes = Integrations::new()
        .route(BATCH_SUBMIT_JOB_SYNC, batch)
        .route(LAMBDA_INVOKE, callbacks(Some(lambdas)))
        .route(SNS_PUBLISH, callbacks(Some(sns)));
    for resource in crate::callbacks::CALL_FREE {
        routes = routes.route(*resource, callbacks(None));
    }
    routes
}

/// A string parameter of a task, or `States.Runtime` naming it.
pub(crate) fn string_param<'v>(
    params: &'v serde_json::Value,
    field: &str,
    state: &str,
) -> Result<&'v str, TaskError> {
    params.get(field).and_then(|v| v.as_str()).ok_or_else(|| {
        TaskError::new(
            "States.Runtime",
            format!("state '{state}': the parameter '{field}' is missing or not a string"),
        )
    })
}

/// Epoch milliseconds now.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A random version-4 UUID (job ids, message ids).
pub fn uuid() -> String {
    let hi: u64 = rand::random();
    let lo: u64 = rand::random();
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&hi.to_be_bytes());
    b[8..].copy_from_slice(&lo.to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}
