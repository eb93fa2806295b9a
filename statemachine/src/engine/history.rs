//! Execution history in the shape of Step Functions' `GetExecutionHistory`: typed events with
//! ids, `previousEventId`, timestamps and `*EventDetails`, and the recorder that enforces the
//! 25,000-event quota.
//!
//! [`HistoryEvent`] is a boundary type: it serializes to the JSON one event of
//! `GetExecutionHistory` has (`timestamp` in epoch seconds, `type`, `id`, `previousEventId`, and
//! the details under the key AWS uses for that type, with `input`/`output`/`parameters` as JSON
//! text), and reads that JSON back, so histories can be stored and shown again.

use std::sync::Mutex;

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::clock::{lock, Clock};

macro_rules! event_types {
    ($($variant:ident => $key:expr),* $(,)?) => {
        /// The `type` of a history event, as Step Functions names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $(
                #[doc = concat!("`", stringify!($variant), "`")]
                $variant,
            )*
        }

        impl EventType {
            /// Every event type.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),*];

            /// The name AWS writes in `type`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => stringify!($variant),)*
                }
            }

            /// The key the event's details sit under (`None` for events without details).
            pub fn details_key(self) -> Option<&'static str> {
                match self {
                    $(EventType::$variant => $key,)*
                }
            }

            /// Looks a `type` name up.
            pub fn parse(name: &str) -> Option<EventType> {
                EventType::ALL.iter().copied().find(|t| t.as_str() == name)
            }
        }
    };
}

const ENTERED: Option<&str> = Some("stateEnteredEventDetails");
const EXITED: Option<&str> = Some("stateExitedEventDetails");

event_types! {
    ExecutionStarted => Some("executionStartedEventDetails"),
    ExecutionSucceeded => Some("executionSucceededEventDetails"),
    ExecutionFailed => Some("executionFailedEventDetails"),
    ExecutionTimedOut => Some("executionTimedOutEventDetails"),
    ExecutionAborted => Some("executionAbortedEventDetails"),
    ExecutionRedriven => Some("executionRedrivenEventDetails"),
    PassStateEntered => ENTERED,
    PassStateExited => EXITED,
    TaskStateEntered => ENTERED,
    TaskStateExited => EXITED,
    TaskStateAborted => None,
    ChoiceStateEntered => ENTERED,
    ChoiceStateExited => EXITED,
    WaitStateEntered => ENTERED,
    WaitStateExited => EXITED,
    WaitStateAborted => None,
    SucceedStateEntered => ENTERED,
    SucceedStateExited => EXITED,
    FailStateEntered => ENTERED,
    ParallelStateEntered => ENTERED,
    ParallelStateExited => EXITED,
    ParallelStateStarted => None,
    ParallelStateSucceeded => None,
    ParallelStateFailed => None,
    ParallelStateAborted => None,
    MapStateEntered => ENTERED,
    MapStateExited => EXITED,
    MapStateStarted => Some("mapStateStartedEventDetails"),
    MapStateSucceeded => None,
    MapStateFailed => None,
    MapStateAborted => None,
    MapIterationStarted => Some("mapIterationStartedEventDetails"),
    MapIterationSucceeded => Some("mapIterationSucceededEventDetails"),
    MapIterationFailed => Some("mapIterationFailedEventDetails"),
    MapIterationAborted => Some("mapIterationAbortedEventDetails"),
    MapRunStarted => Some("mapRunStartedEventDetails"),
    MapRunSucceeded => None,
    MapRunFailed => Some("mapRunFailedEventDetails"),
    MapRunAborted => None,
    TaskScheduled => Some("taskScheduledEventDetails"),
    TaskStarted => Some("taskStartedEventDetails"),
    TaskSubmitted => Some("taskSubmittedEventDetails"),
    TaskSucceeded => Some("taskSucceededEventDetails"),
    TaskFailed => Some("taskFailedEventDetails"),
    TaskTimedOut => Some("taskTimedOutEventDetails"),
    LambdaFunctionScheduled => Some("lambdaFunctionScheduledEventDetails"),
    LambdaFunctionStarted => None,
    LambdaFunctionSucceeded => Some("lambdaFunctionSucceededEventDetails"),
    LambdaFunctionFailed => Some("lambdaFunctionFailedEventDetails"),
    LambdaFunctionTimedOut => Some("lambdaFunctionTimedOutEventDetails"),
    ActivityScheduled => Some("activityScheduledEventDetails"),
    ActivityStarted => Some("activityStartedEventDetails"),
    ActivitySucceeded => Some("activitySucceededEventDetails"),
    ActivityFailed => Some("activityFailedEventDetails"),
    ActivityTimedOut => Some("activityTimedOutEventDetails"),
    EvaluationFailed => Some("evaluationFailedEventDetails"),
}

impl EventType {
    /// `{Pass,Task,...}StateEntered` for a state's `Type`.
    pub fn entered(state_type: &str) -> EventType {
        match state_type {
            "Task" => EventType::TaskStateEntered,
            "Choice" => EventType::ChoiceStateEntered,
            "Wait" => EventType::WaitStateEntered,
            "Succeed" => EventType::SucceedStateEntered,
            "Fail" => EventType::FailStateEntered,
            "Parallel" => EventType::ParallelStateEntered,
            "Map" => EventType::MapStateEntered,
            _ => EventType::PassStateEntered,
        }
    }

    /// `{Pass,Task,...}StateExited` for a state's `Type` (Fail states never exit).
    pub fn exited(state_type: &str) -> EventType {
        match state_type {
            "Task" => EventType::TaskStateExited,
            "Choice" => EventType::ChoiceStateExited,
            "Wait" => EventType::WaitStateExited,
            "Succeed" => EventType::SucceedStateExited,
            "Parallel" => EventType::ParallelStateExited,
            "Map" => EventType::MapStateExited,
            _ => EventType::PassStateExited,
        }
    }
}

/// The details of an event. Each event type uses a subset of these fields, the same subset
/// AWS's `*EventDetails` structure for that type has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventDetails {
    /// State name (`name`), or the Map state's name in iteration events.
    pub name: Option<String>,
    /// Input (JSON text in the serialized form).
    pub input: Option<Value>,
    /// Output or result (JSON text in the serialized form).
    pub output: Option<Value>,
    /// Error name.
    pub error: Option<String>,
    /// Error cause.
    pub cause: Option<String>,
    /// Task resource (`invoke`, `submitJob.sync`, or a function ARN).
    pub resource: Option<String>,
    /// Task resource type (`lambda`, `batch`, `aws-sdk:s3`, ...).
    pub resource_type: Option<String>,
    /// Task region.
    pub region: Option<String>,
    /// Task parameters (JSON text in the serialized form).
    pub parameters: Option<Value>,
    /// Task timeout.
    pub timeout_in_seconds: Option<u64>,
    /// Task heartbeat.
    pub heartbeat_in_seconds: Option<u64>,
    /// Map iteration index.
    pub index: Option<u64>,
    /// Number of Map items.
    pub length: Option<u64>,
    /// Execution role.
    pub role_arn: Option<String>,
    /// Map Run ARN.
    pub map_run_arn: Option<String>,
    /// Variables a state assigned (values as JSON text in the serialized form).
    pub assigned_variables: Option<Map<String, Value>>,
    /// Failed field (`EvaluationFailed`).
    pub location: Option<String>,
    /// Failed state (`EvaluationFailed`).
    pub state: Option<String>,
    /// `ExecutionRedriven`: the redrive count.
    pub redrive_count: Option<u32>,
}

/// One event of an execution's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    /// 1-based id.
    pub id: u64,
    /// The event this one follows from (0 for none).
    pub previous_event_id: u64,
    /// When, in epoch milliseconds.
    pub timestamp_ms: i64,
    /// What happened.
    pub kind: EventType,
    /// Details (empty for event types without).
    pub details: EventDetails,
}

const TEXT_FIELDS: [&str; 3] = ["input", "output", "parameters"];

impl Serialize for HistoryEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("timestamp", &(self.timestamp_ms as f64 / 1000.0))?;
        m.serialize_entry("type", self.kind.as_str())?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("previousEventId", &self.previous_event_id)?;
        if let Some(key) = self.kind.details_key() {
            m.serialize_entry(key, &details_json(&self.details))?;
        }
        m.end()
    }
}

fn details_json(d: &EventDetails) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            out.insert(k.to_string(), v);
        }
    };
    let text = |v: &Option<Value>| v.as_ref().map(|v| Value::String(v.to_string()));
    put("name", d.name.clone().map(Value::from));
    put("roleArn", d.role_arn.clone().map(Value::from));
    put("resourceType", d.resource_type.clone().map(Value::from));
    put("resource", d.resource.clone().map(Value::from));
    put("region", d.region.clone().map(Value::from));
    for (key, v) in TEXT_FIELDS.iter().zip([&d.input, &d.output, &d.parameters]) {
        put(key, text(v));
        if v.is_some() && *key != "parameters" {
            put(
                &format!("{key}Details"),
                Some(serde_json::json!({"truncated": false})),
            );
        }
    }
    put("timeoutInSeconds", d.timeout_in_seconds.map(Value::from));
    put(
        "heartbeatInSeconds",
        d.heartbeat_in_seconds.map(Value::from),
    );
    put("index", d.index.map(Value::from));
    put("length", d.length.map(Value::from));
    put("mapRunArn", d.map_run_arn.clone().map(Value::from));
    put("error", d.error.clone().map(Value::from));
    put("cause", d.cause.clone().map(Value::from));
    put("location", d.location.clone().map(Value::from));
    put("state", d.state.clone().map(Value::from));
    put("redriveCount", d.redrive_count.map(Value::from));
    if let Some(vars) = &d.assigned_variables {
        let texts = vars
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.to_string())))
            .collect();
        put("assignedVariables", Some(Value::Object(texts)));
        put(
            "assignedVariablesDetails",
            Some(serde_json::json!({"truncated": false})),
        );
    }
    out
}

impl<'de> Deserialize<'de> for HistoryEvent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<HistoryEvent, D::Error> {
        let v = Map::<String, Value>::deserialize(d)?;
        let ty = v.get("type").and_then(Value::as_str).unwrap_or_default();
        let kind = EventType::parse(ty)
            .ok_or_else(|| D::Error::custom(format!("unknown history event type {ty:?}")))?;
        let num = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
        let timestamp_ms = v
            .get("timestamp")
            .and_then(Value::as_f64)
            .map(|t| (t * 1000.0).round() as i64)
            .unwrap_or(0);
        let details = kind
            .details_key()
            .and_then(|k| v.get(k))
            .and_then(Value::as_object)
            .map(parse_details)
            .unwrap_or_default();
        Ok(HistoryEvent {
            id: num("id"),
            previous_event_id: num("previousEventId"),
            timestamp_ms,
            kind,
            details,
        })
    }
}

fn parse_details(m: &Map<String, Value>) -> EventDetails {
    let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    let n = |k: &str| m.get(k).and_then(Value::as_u64);
    let json = |k: &str| {
        m.get(k).map(|v| match v {
            Value::String(t) => serde_json::from_str(t).unwrap_or_else(|_| v.clone()),
            other => other.clone(),
        })
    };
    EventDetails {
        name: s("name"),
        input: json("input"),
        output: json("output"),
        error: s("error"),
        cause: s("cause"),
        resource: s("resource"),
        resource_type: s("resourceType"),
        region: s("region"),
        parameters: json("parameters"),
        timeout_in_seconds: n("timeoutInSeconds"),
        heartbeat_in_seconds: n("heartbeatInSeconds"),
        index: n("index"),
        length: n("length"),
        role_arn: s("roleArn"),
        map_run_arn: s("mapRunArn"),
        assigned_variables: m
            .get("assignedVariables")
            .and_then(Value::as_object)
            .map(|vars| {
                vars.iter()
                    .map(|(k, v)| {
                        let parsed = v
                            .as_str()
                            .and_then(|t| serde_json::from_str(t).ok())
                            .unwrap_or_else(|| v.clone());
                        (k.clone(), parsed)
                    })
                    .collect()
            }),
        location: s("location"),
        state: s("state"),
        redrive_count: n("redriveCount").map(|c| c as u32),
    }
}

/// Step Functions' hard quota of events per execution.
pub const HISTORY_LIMIT: usize = 25_000;

/// The error an execution fails with when its history is full.
pub const HISTORY_LIMIT_CAUSE: &str =
    "The execution reached the maximum number of history events (25000).";

/// Nothing more may be written: the quota is reached (`ExecutionFailed` has been written) or the
/// attempt has closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HistoryFull;

/// Appends events for one execution (shared by all its branches and iterations).
pub(crate) struct Recorder<'c> {
    clock: &'c dyn Clock,
    limit: usize,
    events: Mutex<Vec<HistoryEvent>>,
    observer: Option<&'c dyn Observer>,
}

/// Sees an execution as it is written: each history event in order (called while the event is
/// appended, so events arrive in id order), and the point a redrive would resume from each time
/// the top-level scope enters a state. The local execution store implements it to keep an
/// execution on disk as it runs.
pub trait Observer: Send + Sync {
    /// A history event was appended.
    fn event(&self, event: &HistoryEvent);
    /// The top-level scope entered a state; a redrive would resume here if the run ended now.
    fn progress(&self, _resume: &super::ResumePoint) {}
}

impl<'c> Recorder<'c> {
    /// A recorder continuing `events` (empty for a new execution).
    pub(crate) fn new(clock: &'c dyn Clock, limit: usize, events: Vec<HistoryEvent>) -> Self {
        Recorder {
            clock,
            limit,
            events: Mutex::new(events),
            observer: None,
        }
    }

    /// The same recorder, telling `observer` of each event it appends.
    pub(crate) fn observed(mut self, observer: Option<&'c dyn Observer>) -> Self {
        self.observer = observer;
        self
    }

    /// Appends an event after `previous` and returns its id. When only one slot is left and the
    /// event is not `ExecutionSucceeded`, writes `ExecutionFailed` instead and reports
    /// [`HistoryFull`], as Step Functions does.
    pub(crate) fn push(
        &self,
        previous: u64,
        kind: EventType,
        details: EventDetails,
    ) -> Result<u64, HistoryFull> {
        let mut events = lock(&self.events);
        // After the attempt's closing event only a redrive may write.
        if events.last().is_some_and(|e| is_terminal(e.kind))
            && kind != EventType::ExecutionRedriven
        {
            return Err(HistoryFull);
        }
        let id = events.len() as u64 + 1;
        let full = events.len() + 1 >= self.limit && kind != EventType::ExecutionSucceeded;
        let (kind, details) = if full && !is_terminal(kind) {
            let details = EventDetails {
                error: Some("States.Runtime".into()),
                cause: Some(HISTORY_LIMIT_CAUSE.into()),
                ..EventDetails::default()
            };
            (EventType::ExecutionFailed, details)
        } else {
            (kind, details)
        };
        events.push(HistoryEvent {
            id,
            previous_event_id: previous,
            timestamp_ms: self.clock.now_ms(),
            kind,
            details,
        });
        if let (Some(observer), Some(event)) = (self.observer, events.last()) {
            observer.event(event);
        }
        if kind == EventType::ExecutionFailed && full {
            return Err(HistoryFull);
        }
        Ok(id)
    }

    /// The events so far.
    pub(crate) fn events(&self) -> Vec<HistoryEvent> {
        lock(&self.events).clone()
    }

    /// The events so far, moved out.
    pub(crate) fn take_events(&self) -> Vec<HistoryEvent> {
        std::mem::take(&mut *lock(&self.events))
    }
}

/// Events that end an execution attempt.
pub(crate) fn is_terminal(kind: EventType) -> bool {
    matches!(
        kind,
        EventType::ExecutionSucceeded
            | EventType::ExecutionFailed
            | EventType::ExecutionTimedOut
            | EventType::ExecutionAborted
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::clock::VirtualClock;

    #[test]
    fn events_serialize_like_get_execution_history_and_read_back() {
        let e = HistoryEvent {
            id: 2,
            previous_event_id: 0,
            timestamp_ms: 1_700_000_000_123,
            kind: EventType::PassStateEntered,
            details: EventDetails {
                name: Some("A".into()),
                input: Some(serde_json::json!({"x": 1})),
                ..EventDetails::default()
            },
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "PassStateEntered");
        assert_eq!(v["stateEnteredEventDetails"]["input"], "{\"x\":1}");
        assert_eq!(
            v["stateEnteredEventDetails"]["inputDetails"]["truncated"],
            false
        );
        let back: HistoryEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn the_last_slot_is_for_execution_succeeded_only() {
        let clock = VirtualClock::new(0);
        let rec = Recorder::new(&clock, 3, Vec::new());
        rec.push(0, EventType::ExecutionStarted, EventDetails::default())
            .unwrap();
        rec.push(0, EventType::PassStateEntered, EventDetails::default())
            .unwrap();
        assert_eq!(
            rec.push(2, EventType::PassStateExited, EventDetails::default()),
            Err(HistoryFull)
        );
        let events = rec.events();
        assert_eq!(events.len(), 3);
        assert_eq!(events[2].kind, EventType::ExecutionFailed);
        assert_eq!(
            events[2].details.cause.as_deref(),
            Some(HISTORY_LIMIT_CAUSE)
        );
    }
}
