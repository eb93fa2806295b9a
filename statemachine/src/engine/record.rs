//! The execution record: everything needed to show an execution again and to redrive it
//! (definition, input, status, result, history and where a redrive resumes). A boundary type:
//! it serializes to JSON so it can be kept on disk and loaded back.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::history::HistoryEvent;
use crate::asl::StateMachine;

/// Status of an execution, as `DescribeExecution` writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    /// Still going (or stopped before it could finish, e.g. past a test's time horizon).
    Running,
    /// Finished with an output.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Ran longer than the machine's `TimeoutSeconds`.
    TimedOut,
    /// Stopped from outside.
    Aborted,
}

impl ExecutionStatus {
    /// The name as Step Functions writes it (`SUCCEEDED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }

    /// Whether `RedriveExecution` accepts an execution in this status.
    pub fn is_redrivable(self) -> bool {
        matches!(
            self,
            ExecutionStatus::Failed | ExecutionStatus::TimedOut | ExecutionStatus::Aborted
        )
    }
}

/// One execution, from start to its current end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionRecord {
    /// `arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME`.
    pub execution_arn: String,
    /// The execution's name.
    pub name: String,
    /// `arn:aws:states:REGION:ACCOUNT:stateMachine:MACHINE`.
    pub state_machine_arn: String,
    /// The definition it runs (a redrive runs the same one).
    pub definition: StateMachine,
    /// The execution input.
    pub input: Value,
    /// Where it is.
    pub status: ExecutionStatus,
    /// Start, epoch milliseconds.
    pub start_date_ms: i64,
    /// End of the latest attempt, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_date_ms: Option<i64>,
    /// Output when it succeeded (which may be `null`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub output: Option<Value>,
    /// Error name when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Error cause when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// How many times it was redriven.
    #[serde(default)]
    pub redrive_count: u32,
    /// When it was last redriven, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_date_ms: Option<i64>,
    /// The history, all attempts.
    pub history: Vec<HistoryEvent>,
    /// Where a redrive resumes (set when the execution ended unsuccessfully and can resume).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<ResumePoint>,
}

impl ExecutionRecord {
    /// `{"execution","status","output","error","cause"}`, what `feedpipe run --json` prints.
    pub fn summary_json(&self) -> Value {
        serde_json::json!({
            "execution": self.execution_arn,
            "status": self.status.as_str(),
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
        })
    }

    /// The history as `GetExecutionHistory` returns it: `{"events": [...]}`.
    pub fn history_json(&self) -> Value {
        serde_json::json!({ "events": self.history })
    }
}

/// A field that is present (even as `null`) is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Where a redrive picks up within one scope (the machine, a Parallel branch or a Map
/// iteration): the state that did not finish, its input, and the scope's variables then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResumePoint {
    /// The state to run again.
    pub state: String,
    /// Its input.
    pub input: Value,
    /// The variables the scope had bound when the state was entered.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub variables: Map<String, Value>,
    /// For a Parallel or Map state: how each branch or iteration ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<ChildResume>>,
}

/// How a Parallel branch or Map iteration ended, for a redrive of its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChildResume {
    /// It succeeded with this output: a redrive keeps it and does not run it again.
    Succeeded(Value),
    /// It failed here: a redrive resumes it from this point.
    Resume(ResumePoint),
    /// It did not finish for another reason (not started, aborted): a redrive runs it again.
    Rerun,
}
