//! Task integrations: how a Task state's `Resource` gets work done.
//!
//! The engine routes each Task to a [`TaskIntegration`] by its resource ARN ([`Integrations`]),
//! hands it the effective parameters and gets back the result or an error name and cause (the
//! names `Retry`/`Catch` match: a Lambda handler's `errorType`, `States.TaskFailed`, ...).
//! Integrations are async so that one may run a child process for minutes while the engine keeps
//! other Map iterations going. [`Replay`] is the integration of tests: it plays back recorded
//! outcomes state by state.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use serde_json::Value;

use super::clock::{lock, BoxFuture, Clock};

/// How a Task waits for its service (`.sync`, `.waitForTaskToken` or neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// Call and take the response.
    RequestResponse,
    /// `.sync` / `.sync:2`: run the job and wait for it to finish.
    Sync,
    /// `.waitForTaskToken`: wait until the token is sent back.
    WaitForTaskToken,
}

/// A `Resource` ARN taken apart the way history events name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The ARN as written.
    pub arn: String,
    /// `resourceType` in events: `lambda`, `batch`, `sns`, `aws-sdk:s3`, ... (`lambda` for a
    /// plain function ARN, `activity` for an activity).
    pub resource_type: String,
    /// `resource` in events: `invoke`, `submitJob.sync`, ... (the ARN itself for a function or
    /// activity ARN).
    pub resource: String,
    /// How the task waits.
    pub pattern: Pattern,
    /// A Lambda function ARN used directly as the resource (history uses `LambdaFunction*`
    /// events for those).
    pub is_lambda_function: bool,
    /// An activity ARN.
    pub is_activity: bool,
}

impl Resource {
    /// Parses a resource ARN. Anything not recognised is kept whole as `resource`.
    pub fn parse(arn: &str) -> Resource {
        let pattern = if arn.ends_with(".waitForTaskToken") {
            Pattern::WaitForTaskToken
        } else if arn.ends_with(".sync") || arn.ends_with(".sync:2") {
            Pattern::Sync
        } else {
            Pattern::RequestResponse
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let mut r = Resource {
            arn: arn.to_string(),
            resource_type: String::new(),
            resource: arn.to_string(),
            pattern,
            is_lambda_function: false,
            is_activity: false,
        };
        match parts.as_slice() {
            ["arn", _, "states", "", "", rest] => {
                // arn:aws:states:::SERVICE:ACTION or arn:aws:states:::aws-sdk:SERVICE:ACTION
                let (ty, action) = match rest.split_once(':') {
                    Some(("aws-sdk", more)) => match more.split_once(':') {
                        Some((svc, action)) => (format!("aws-sdk:{svc}"), action),
                        None => ("aws-sdk".to_string(), more),
                    },
                    Some((svc, action)) => (svc.to_string(), action),
                    None => (rest.to_string(), ""),
                };
                r.resource_type = ty;
                r.resource = action.to_string();
            }
            ["arn", _, "lambda", ..] => {
                r.resource_type = "lambda".into();
                r.is_lambda_function = true;
            }
            ["arn", _, "states", _, _, rest] if rest.starts_with("activity:") => {
                r.resource_type = "activity".into();
                r.is_activity = true;
            }
            _ => {}
        }
        r
    }
}

/// One call of a task.
#[derive(Debug)]
pub struct TaskRequest<'a> {
    /// The Task state's name.
    pub state_name: &'a str,
    /// Its resource.
    pub resource: &'a Resource,
    /// The effective parameters (after InputPath and Parameters, or Arguments).
    pub parameters: Value,
    /// The state's timeout, if any.
    pub timeout_seconds: Option<u64>,
    /// The state's heartbeat interval, if any.
    pub heartbeat_seconds: Option<u64>,
    /// The task token (`$$.Task.Token`) for `.waitForTaskToken` tasks.
    pub task_token: Option<&'a str>,
    /// The execution's name (useful to name jobs).
    pub execution_name: &'a str,
    /// Call this to send a heartbeat.
    pub heartbeat: &'a Heartbeat<'a>,
    /// Call this when a `.sync` or `.waitForTaskToken` task has been handed to its service (the
    /// job submitted, the message sent), with the service's response: the engine writes
    /// `TaskSubmitted` and goes on waiting for the result.
    pub submission: &'a Submission,
}

/// The submission line of one task call (see [`TaskRequest::submission`]).
#[derive(Debug, Default)]
pub struct Submission {
    state: Mutex<(Option<Value>, Option<Waker>)>,
}

impl Submission {
    /// Reports the service's response to the submission.
    pub fn submit(&self, response: Value) {
        let waker = {
            let mut s = lock(&self.state);
            s.0 = Some(response);
            s.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// A reported response not yet taken.
    pub(crate) fn take(&self) -> Option<Value> {
        lock(&self.state).0.take()
    }

    /// Completes with the next reported response.
    pub(crate) async fn next(&self) -> Value {
        std::future::poll_fn(|cx| {
            let mut s = lock(&self.state);
            match s.0.take() {
                Some(v) => Poll::Ready(v),
                None => {
                    s.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// The heartbeat line of one task call: integrations call [`Heartbeat::beat`]; the engine fails
/// the task with `States.HeartbeatTimeout` when `HeartbeatSeconds` pass without one.
pub struct Heartbeat<'a> {
    clock: &'a dyn Clock,
    last_ms: AtomicI64,
}

impl std::fmt::Debug for Heartbeat<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Heartbeat")
            .field("last_ms", &self.last_ms())
            .finish()
    }
}

impl<'a> Heartbeat<'a> {
    /// A heartbeat line starting now (the engine makes one per task call; tests of an
    /// integration make their own).
    pub fn new(clock: &'a dyn Clock) -> Heartbeat<'a> {
        Heartbeat {
            clock,
            last_ms: AtomicI64::new(clock.now_ms()),
        }
    }

    /// Records a heartbeat now.
    pub fn beat(&self) {
        self.last_ms
            .fetch_max(self.clock.now_ms(), Ordering::AcqRel);
    }

    /// When the last heartbeat (or the start of the call) was, in epoch milliseconds.
    pub fn last_ms(&self) -> i64 {
        self.last_ms.load(Ordering::Acquire)
    }
}

/// An error a task reports: the name `Retry`/`Catch` match and a cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    /// Error name (`States.TaskFailed`, `Lambda.ServiceException`, a handler's `errorType`, ...).
    pub error: String,
    /// Human-readable cause (often JSON text).
    pub cause: Option<String>,
}

impl TaskError {
    /// An error with a cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> TaskError {
        TaskError {
            error: error.into(),
            cause: Some(cause.into()),
        }
    }
}

/// Something that can run tasks.
pub trait TaskIntegration: Send + Sync {
    /// Runs one task call to its end.
    fn call<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, TaskError>>;
}

/// Routes resources to integrations: the longest matching prefix wins.
#[derive(Clone, Default)]
pub struct Integrations {
    routes: Vec<(String, Arc<dyn TaskIntegration>)>,
}

impl Integrations {
    /// No integrations: every Task fails with `States.Runtime` naming its resource.
    pub fn new() -> Integrations {
        Integrations::default()
    }

    /// Routes every resource starting with `prefix` (e.g. `arn:aws:states:::lambda:invoke`, or
    /// `""` for all) to `integration`.
    pub fn route(
        mut self,
        prefix: impl Into<String>,
        integration: Arc<dyn TaskIntegration>,
    ) -> Self {
        self.routes.push((prefix.into(), integration));
        self
    }

    /// The integration for a resource ARN.
    pub fn find(&self, arn: &str) -> Option<&dyn TaskIntegration> {
        self.routes
            .iter()
            .filter(|(p, _)| arn.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())
            .map(|(_, i)| i.as_ref())
    }
}

/// One recorded call result for [`Replay`].
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// The task returned this output.
    Succeeded(Value),
    /// The task failed with this error.
    Failed(TaskError),
    /// The task never answered (it runs until a timeout or the execution ends).
    Hangs,
    /// The task was handed to its service, which answered with this response
    /// (`TaskSubmitted`); then the outcome.
    Submitted(Value, Box<Recorded>),
}

/// Plays back recorded outcomes: each call of state `S` takes the next outcome recorded for `S`.
/// A call with nothing left fails with `States.Runtime`, naming the state; a call of a state
/// for which nothing at all was recorded is also remembered ([`Replay::unrecorded`]).
#[derive(Debug, Default)]
pub struct Replay {
    outcomes: Mutex<HashMap<String, VecDeque<Recorded>>>,
    unrecorded: Mutex<Vec<String>>,
}

impl Replay {
    /// Outcomes as `(state name, outcome)` in call order.
    pub fn new(outcomes: impl IntoIterator<Item = (String, Recorded)>) -> Replay {
        let mut map: HashMap<String, VecDeque<Recorded>> = HashMap::new();
        for (state, outcome) in outcomes {
            map.entry(state).or_default().push_back(outcome);
        }
        Replay {
            outcomes: Mutex::new(map),
            unrecorded: Mutex::new(Vec::new()),
        }
    }

    /// The states that were called although the recording has no outcome for them at all.
    pub fn unrecorded(&self) -> Vec<String> {
        lock(&self.unrecorded).clone()
    }
}

impl TaskIntegration for Replay {
    fn call<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, TaskError>> {
        let next = {
            let mut outcomes = lock(&self.outcomes);
            match outcomes.get_mut(request.state_name) {
                Some(queue) => queue.pop_front(),
                None => {
                    lock(&self.unrecorded).push(request.state_name.to_string());
                    None
                }
            }
        };
        Box::pin(async move {
            let next = match next {
                Some(Recorded::Submitted(response, then)) => {
                    request.submission.submit(response);
                    Some(*then)
                }
                other => other,
            };
            match next {
                Some(Recorded::Succeeded(v)) => Ok(v),
                Some(Recorded::Failed(e)) => Err(e),
                Some(Recorded::Hangs | Recorded::Submitted(..)) => std::future::pending().await,
                None => Err(TaskError::new(
                    "States.Runtime",
                    format!(
                        "No recorded outcome left for state '{}' (resource '{}')",
                        request.state_name, request.resource.arn
                    ),
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_named_as_history_names_them() {
        let r = Resource::parse("arn:aws:states:::lambda:invoke");
        assert_eq!(
            (r.resource_type.as_str(), r.resource.as_str()),
            ("lambda", "invoke")
        );
        let r = Resource::parse("arn:aws:states:::batch:submitJob.sync");
        assert_eq!(r.resource, "submitJob.sync");
        assert_eq!(r.pattern, Pattern::Sync);
        let r = Resource::parse("arn:aws:states:::aws-sdk:s3:listBuckets.waitForTaskToken");
        assert_eq!(r.resource_type, "aws-sdk:s3");
        assert_eq!(r.pattern, Pattern::WaitForTaskToken);
        let r = Resource::parse("arn:aws:lambda:us-east-1:111111111111:function:f");
        assert!(r.is_lambda_function);
    }
}
