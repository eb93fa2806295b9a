//! Callback tasks (`.waitForTaskToken`): the engine gives such a task a token (`$$.Task.Token`);
//! the task's service call is made as usual (an SNS message, a Lambda invocation), then the task
//! waits until a client sends the token back with SendTaskSuccess, SendTaskFailure or
//! SendTaskHeartbeat ([`TaskTokens`]), or until its `TimeoutSeconds` / `HeartbeatSeconds` pass.
//!
//! For services feedpipe has no local integration for (SQS, EventBridge, ECS, nested Step
//! Functions, ...), a callback task makes no call: the token is in the task's parameters
//! (the `TaskScheduled` event), and whoever completes it sends it back.
//!
//! Tokens live in the process that runs the execution: when it ends, its tasks' tokens end too
//! (the execution is then FAILED by recovery and a redrive gives the task a new token).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use statemachine::engine::{BoxFuture, TaskError, TaskIntegration, TaskRequest};

/// What a client sent back for a token.
#[derive(Debug, Clone, PartialEq)]
pub enum Callback {
    /// SendTaskSuccess: the task's result.
    Success(Value),
    /// SendTaskFailure: the task fails with this error and cause.
    Failure {
        /// The error name (`Retry`/`Catch` match it).
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
    /// SendTaskHeartbeat.
    Heartbeat,
}

/// Why a token was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token this process handed out (`InvalidToken`).
    Invalid,
    /// The token's task has ended (`TaskTimedOut`, as Step Functions answers for a closed task).
    Closed,
}

/// How many ended tokens are remembered (to answer `TaskTimedOut` rather than `InvalidToken`).
const CLOSED_KEPT: usize = 10_000;

/// The tokens of the callback tasks waiting in this process.
#[derive(Default)]
pub struct TaskTokens {
    inner: Mutex<Tokens>,
}

#[derive(Default)]
struct Tokens {
    open: HashMap<String, tokio::sync::mpsc::Sender<Callback>>,
    closed: HashSet<String>,
    closed_order: VecDeque<String>,
}

impl std::fmt::Debug for TaskTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskTokens")
            .field("open", &lock(&self.inner).open.len())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl TaskTokens {
    /// No tokens yet.
    pub fn new() -> TaskTokens {
        TaskTokens::default()
    }

    /// Hands `callback` to the task waiting for `token`.
    pub fn send(&self, token: &str, callback: Callback) -> Result<(), TokenError> {
        let t = lock(&self.inner);
        match t.open.get(token) {
            // The channel holds a few messages; a heartbeat that finds it full is redundant.
            Some(tx) => match tx.try_send(callback) {
                Ok(()) => Ok(()),
                Err(tokio::sync::mpsc::error::TrySendError::Full(Callback::Heartbeat)) => Ok(()),
                Err(tokio::sync::mpsc::error::TrySendError::Full(_)) => Err(TokenError::Closed),
                Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => Err(TokenError::Closed),
            },
            None if t.closed.contains(token) => Err(TokenError::Closed),
            None => Err(TokenError::Invalid),
        }
    }

    /// How many callback tasks are waiting.
    pub fn waiting(&self) -> usize {
        lock(&self.inner).open.len()
    }

    fn open(
        self: &Arc<Self>,
        token: &str,
    ) -> (Registration, tokio::sync::mpsc::Receiver<Callback>) {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        lock(&self.inner).open.insert(token.to_string(), tx);
        (
            Registration {
                tokens: self.clone(),
                token: token.to_string(),
            },
            rx,
        )
    }

    fn close(&self, token: &str) {
        let mut t = lock(&self.inner);
        if t.open.remove(token).is_some() && t.closed.insert(token.to_string()) {
            t.closed_order.push_back(token.to_string());
            while t.closed_order.len() > CLOSED_KEPT {
                if let Some(old) = t.closed_order.pop_front() {
                    t.closed.remove(&old);
                }
            }
        }
    }
}

/// A waiting token; closed when dropped (the task ended, was stopped or timed out).
struct Registration {
    tokens: Arc<TaskTokens>,
    token: String,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.tokens.close(&self.token);
    }
}

/// A task integration with callbacks: a request-response call through `inner` (none when
/// `inner` is `None`), then, for `.waitForTaskToken` tasks, the wait for the token.
pub struct WithCallbacks {
    inner: Option<Arc<dyn TaskIntegration>>,
    tokens: Arc<TaskTokens>,
}

impl WithCallbacks {
    /// `inner` with callbacks through `tokens`; `None`: callback tasks that make no call.
    pub fn new(inner: Option<Arc<dyn TaskIntegration>>, tokens: Arc<TaskTokens>) -> WithCallbacks {
        WithCallbacks { inner, tokens }
    }
}

impl TaskIntegration for WithCallbacks {
    fn call<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            let Some(token) = request.task_token.map(str::to_string) else {
                return match &self.inner {
                    Some(inner) => inner.call(request).await,
                    None => Err(TaskError::new(
                        "States.Runtime",
                        format!(
                            "No local integration serves the resource '{}' (only its .waitForTaskToken form waits for a callback).",
                            request.resource.arn
                        ),
                    )),
                };
            };
            // Registered before the call, so a client that answers at once finds the token.
            let (_registration, mut rx) = self.tokens.open(&token);
            let heartbeat = request.heartbeat;
            let submission = request.submission;
            let response = match &self.inner {
                Some(inner) => inner.call(request).await?,
                None => json!({}),
            };
            submission.submit(response);
            loop {
                match rx.recv().await {
                    Some(Callback::Heartbeat) => heartbeat.beat(),
                    Some(Callback::Success(output)) => return Ok(output),
                    Some(Callback::Failure { error, cause }) => {
                        return Err(TaskError {
                            error: error.unwrap_or_default(),
                            cause,
                        })
                    }
                    None => {
                        return Err(TaskError::new(
                            "States.Runtime",
                            "the task's token was dropped before a callback",
                        ))
                    }
                }
            }
        })
    }
}

/// Resources whose `.waitForTaskToken` form waits for a callback without a local call.
pub const CALL_FREE: &[&str] = &[
    "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    "arn:aws:states:::events:putEvents.waitForTaskToken",
    "arn:aws:states:::ecs:runTask.waitForTaskToken",
    "arn:aws:states:::eks:runJob.waitForTaskToken",
    "arn:aws:states:::glue:startJobRun.waitForTaskToken",
    "arn:aws:states:::states:startExecution.waitForTaskToken",
    "arn:aws:states:::apigateway:invoke.waitForTaskToken",
    "arn:aws:states:::batch:submitJob.waitForTaskToken",
];
