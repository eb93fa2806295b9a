//! Failures as they travel up through states, branches and iterations: the error name and
//! cause, whether `Retry`/`Catch` may handle them, and where a redrive would resume.
//!
//! AWS's rules for matching (`ErrorEquals`) live here too: `States.ALL` matches everything but
//! `States.Runtime` (recorded runs show it catching `States.DataLimitExceeded` of a task result); `States.TaskFailed` matches any task error
//! except timeouts; `States.Timeout` also matches `States.HeartbeatTimeout`; `States.Runtime`
//! is never caught or retried.

use serde_json::{json, Map, Value};

use super::history::HISTORY_LIMIT_CAUSE;
use super::record::{ChildResume, ResumePoint};

/// A state, branch, iteration or execution that did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    /// Error name (`None` for a Fail state without one).
    pub error: Option<String>,
    /// Cause.
    pub cause: Option<String>,
    /// It came from a task integration (for `States.TaskFailed`).
    pub from_task: bool,
    /// The history is full: nothing more may be written.
    pub history_full: bool,
    /// The execution's `TimeoutSeconds` passed.
    pub timed_out: bool,
    /// The execution was stopped from outside.
    pub aborted: bool,
    /// Where a redrive resumes in the scope the failure has reached.
    pub resume: Option<Box<ResumePoint>>,
    /// Set by Map/Parallel on their own failure: how each child ended.
    pub children: Option<Vec<ChildResume>>,
    /// TestState: a retrier would retry this failure (status RETRIABLE).
    pub retriable: bool,
}

impl Failure {
    /// A failure with this error and cause.
    pub(crate) fn new(error: Option<String>, cause: Option<String>) -> Failure {
        Failure {
            error,
            cause,
            from_task: false,
            history_full: false,
            timed_out: false,
            aborted: false,
            resume: None,
            children: None,
            retriable: false,
        }
    }

    /// A `States.Runtime` failure.
    pub(crate) fn runtime(cause: impl Into<String>) -> Failure {
        Failure::new(Some("States.Runtime".into()), Some(cause.into()))
    }

    /// The execution's history reached its quota (`ExecutionFailed` is already written).
    pub(crate) fn history_full() -> Failure {
        Failure {
            history_full: true,
            ..Failure::runtime(HISTORY_LIMIT_CAUSE)
        }
    }

    /// The execution ran past its `TimeoutSeconds`.
    pub(crate) fn execution_timed_out() -> Failure {
        Failure {
            timed_out: true,
            ..Failure::new(Some("States.Timeout".into()), None)
        }
    }

    /// The execution was stopped from outside (`StopExecution`) with this error and cause.
    pub(crate) fn aborted(error: Option<String>, cause: Option<String>) -> Failure {
        Failure {
            aborted: true,
            ..Failure::new(error, cause)
        }
    }

    /// Whether the failure ends the execution no matter what (no Retry, no Catch, no events).
    pub(crate) fn is_fatal(&self) -> bool {
        self.history_full || self.timed_out || self.aborted
    }

    fn name(&self) -> &str {
        self.error.as_deref().unwrap_or("")
    }

    /// Whether a `Retry`/`Catch` entry with these `ErrorEquals` handles this failure.
    pub(crate) fn matches(&self, error_equals: &[String]) -> bool {
        if self.is_fatal() || self.name() == "States.Runtime" {
            return false;
        }
        let name = self.name();
        error_equals.iter().any(|e| match e.as_str() {
            e if e == name => true,
            "States.ALL" => true,
            "States.TaskFailed" => {
                self.from_task
                    && !matches!(
                        name,
                        "States.Timeout" | "States.HeartbeatTimeout" | "States.DataLimitExceeded"
                    )
            }
            "States.Timeout" => name == "States.HeartbeatTimeout",
            _ => false,
        })
    }

    /// The error output a catcher passes on: `{"Error": ..., "Cause": ...}`.
    pub(crate) fn error_output(&self) -> Value {
        let mut m = Map::new();
        if let Some(e) = &self.error {
            m.insert("Error".into(), json!(e));
        }
        match &self.cause {
            Some(c) => {
                m.insert("Cause".into(), json!(c));
            }
            // A task's error output always has a Cause (empty for a timeout).
            None if self.from_task => {
                m.insert("Cause".into(), json!(""));
            }
            None => {}
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str) -> Failure {
        Failure::new(Some(name.into()), None)
    }

    fn eq(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn states_all_catches_all_but_runtime() {
        assert!(f("Boom").matches(&eq(&["States.ALL"])));
        assert!(!f("States.Runtime").matches(&eq(&["States.ALL"])));
        assert!(!f("States.Runtime").matches(&eq(&["States.Runtime"])));
        assert!(f("States.DataLimitExceeded").matches(&eq(&["States.ALL"])));
    }

    #[test]
    fn task_failed_is_a_wildcard_for_task_errors_except_timeouts() {
        let mut e = f("Lambda.Unknown");
        assert!(!e.matches(&eq(&["States.TaskFailed"])));
        e.from_task = true;
        assert!(e.matches(&eq(&["States.TaskFailed"])));
        let mut t = f("States.Timeout");
        t.from_task = true;
        assert!(!t.matches(&eq(&["States.TaskFailed"])));
        assert!(f("States.HeartbeatTimeout").matches(&eq(&["States.Timeout"])));
    }

    #[test]
    fn the_execution_timeout_is_never_caught() {
        assert!(!Failure::execution_timed_out().matches(&eq(&["States.ALL", "States.Timeout"])));
    }
}
