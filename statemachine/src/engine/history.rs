//! Execution history in the shape of Step Functions' `GetExecutionHistory`: typed events with
//! ids, `previousEventId`, timestamps and `*EventDetails`, and the recorder that enforces the
//! 25,000-event quota.
//!
//! [`HistoryEvent`] is a boundary type: it serializes to the JSON one event of
//! `GetExecutionHistory` has (`timestamp` in epoch seconds, `type`, `id`, `previousEventId`, and
//! the details under the key AWS uses for that type, with `input`/`output`/`parameters` as JSON
//! text), and reads that JSON back, so histories can be stored and shown again.
//!
//! Payloads are kept as that text ([`JsonText`], shared): an event holds a reference-counted
//! string, never a copy of the value, and the recorder hands out the same string again when a
//! payload's text equals one of the last few it wrote (a state's input is usually the previous
//! state's output), so a history costs about the text of its distinct payloads.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

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

/// A JSON value kept as its compact text, shared between the events that carry it (cloning one
/// copies a pointer). History events hold their payloads this way, as AWS's API returns them.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct JsonText(Arc<str>);

impl JsonText {
    /// The compact JSON text of `value` (as `serde_json::to_string` writes it).
    pub fn new(value: &Value) -> JsonText {
        JsonText(Arc::from(serde_json::to_string(value).unwrap_or_default()))
    }

    /// Text that is already JSON (kept as it is, not checked).
    pub fn from_text(text: impl Into<Arc<str>>) -> JsonText {
        JsonText(text.into())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Bytes of the text.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty (never, for text made from a value).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value again; text serde_json cannot read back (nested deeper than its parser's 128
    /// levels) comes back as a JSON string holding the text.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or_else(|_| Value::String(self.0.to_string()))
    }

    /// Whether both share one string (a cheap test of sharing, for tests and benchmarks).
    pub fn shares(&self, other: &JsonText) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for JsonText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Value> for JsonText {
    fn from(value: Value) -> JsonText {
        JsonText::new(&value)
    }
}

impl From<&Value> for JsonText {
    fn from(value: &Value) -> JsonText {
        JsonText::new(value)
    }
}

impl PartialEq<Value> for JsonText {
    fn eq(&self, other: &Value) -> bool {
        self.to_value() == *other
    }
}

impl Serialize for JsonText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// The details of an event. Each event type uses a subset of these fields, the same subset
/// AWS's `*EventDetails` structure for that type has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventDetails {
    /// State name (`name`), or the Map state's name in iteration events.
    pub name: Option<String>,
    /// Input (JSON text in the serialized form).
    pub input: Option<JsonText>,
    /// Output or result (JSON text in the serialized form).
    pub output: Option<JsonText>,
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
    pub parameters: Option<JsonText>,
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
    /// Variables a state assigned, in assignment order (values as JSON text in the serialized
    /// form).
    pub assigned_variables: Option<Vec<(String, JsonText)>>,
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

impl Serialize for HistoryEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("timestamp", &(self.timestamp_ms as f64 / 1000.0))?;
        m.serialize_entry("type", self.kind.as_str())?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("previousEventId", &self.previous_event_id)?;
        if let Some(key) = self.kind.details_key() {
            m.serialize_entry(key, &DetailsJson(&self.details))?;
        }
        m.end()
    }
}

/// The details object of an event, written entry by entry in the order AWS's API has them.
struct DetailsJson<'a>(&'a EventDetails);

/// `{"truncated": false}`: the payload is whole.
struct NotTruncated;

impl Serialize for NotTruncated {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("truncated", &false)?;
        m.end()
    }
}

/// Assigned variables: name → JSON text.
struct VarsJson<'a>(&'a [(String, JsonText)]);

impl Serialize for VarsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Serialize for DetailsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        fn put<M: SerializeMap, T: Serialize>(
            m: &mut M,
            k: &str,
            v: &Option<T>,
        ) -> Result<(), M::Error> {
            match v {
                Some(v) => m.serialize_entry(k, v),
                None => Ok(()),
            }
        }
        let d = self.0;
        let mut m = s.serialize_map(None)?;
        put(&mut m, "name", &d.name)?;
        put(&mut m, "roleArn", &d.role_arn)?;
        put(&mut m, "resourceType", &d.resource_type)?;
        put(&mut m, "resource", &d.resource)?;
        put(&mut m, "region", &d.region)?;
        put(&mut m, "input", &d.input)?;
        put(
            &mut m,
            "inputDetails",
            &d.input.as_ref().map(|_| NotTruncated),
        )?;
        put(&mut m, "output", &d.output)?;
        put(
            &mut m,
            "outputDetails",
            &d.output.as_ref().map(|_| NotTruncated),
        )?;
        put(&mut m, "parameters", &d.parameters)?;
        put(&mut m, "timeoutInSeconds", &d.timeout_in_seconds)?;
        put(&mut m, "heartbeatInSeconds", &d.heartbeat_in_seconds)?;
        put(&mut m, "index", &d.index)?;
        put(&mut m, "length", &d.length)?;
        put(&mut m, "mapRunArn", &d.map_run_arn)?;
        put(&mut m, "error", &d.error)?;
        put(&mut m, "cause", &d.cause)?;
        put(&mut m, "location", &d.location)?;
        put(&mut m, "state", &d.state)?;
        put(&mut m, "redriveCount", &d.redrive_count)?;
        if let Some(vars) = &d.assigned_variables {
            m.serialize_entry("assignedVariables", &VarsJson(vars))?;
            m.serialize_entry("assignedVariablesDetails", &NotTruncated)?;
        }
        m.end()
    }
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
    // Payloads are JSON text; anything else (a value written as JSON) is kept as its text.
    let text = |v: &Value| match v {
        Value::String(t) => JsonText::from_text(t.as_str()),
        other => JsonText::new(other),
    };
    let json = |k: &str| m.get(k).map(text);
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
            .map(|vars| vars.iter().map(|(k, v)| (k.clone(), text(v))).collect()),
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
    /// The payload texts written last, most recent first, handed out again when equal.
    recent: Mutex<VecDeque<JsonText>>,
}

/// How many recent payload texts a recorder compares a new one with.
const RECENT_TEXTS: usize = 4;

/// Texts shorter than this are not worth sharing (nor may they push a large payload out of the
/// recent ones: a loop's counter changes every round, its payload not).
const SHARED_TEXT_BYTES: usize = 256;

/// The recent text at `i`, moved to the front (the most recently used).
fn touch(recent: &mut VecDeque<JsonText>, i: usize) -> JsonText {
    let t = recent.remove(i).unwrap_or_else(|| JsonText::from_text(""));
    recent.push_front(t.clone());
    t
}

/// `text` at the front of the recent texts, the least recently used one dropped if full.
fn remember_in(recent: &mut VecDeque<JsonText>, text: JsonText) -> JsonText {
    if recent.len() == RECENT_TEXTS {
        recent.pop_back();
    }
    recent.push_front(text.clone());
    text
}

/// What a history shows for a payload nested deeper than the engine accepts (whose text is not
/// written: serializing it would recurse that deep).
const TOO_DEEP_TEXT: &str = "\"(a value nested deeper than the engine accepts)\"";

/// The JSON text of `value`, or [`TOO_DEEP_TEXT`] for a value nested deeper than
/// [`crate::eval::MAX_PAYLOAD_DEPTH`].
pub(crate) fn text_of(value: &Value) -> String {
    if crate::eval::exceeds_depth(value, crate::eval::MAX_PAYLOAD_DEPTH) {
        return TOO_DEEP_TEXT.to_string();
    }
    serde_json::to_string(value).unwrap_or_default()
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
            recent: Mutex::new(VecDeque::with_capacity(RECENT_TEXTS)),
        }
    }

    /// `text` as a history payload: the string of a recent payload with the same text, or a
    /// new one (then remembered).
    pub(crate) fn share(&self, text: String) -> JsonText {
        if text.len() < SHARED_TEXT_BYTES {
            return JsonText::from_text(text);
        }
        let mut recent = lock(&self.recent);
        if let Some(i) = recent.iter().position(|t| t.as_str() == text) {
            return touch(&mut recent, i);
        }
        remember_in(&mut recent, JsonText::from_text(text))
    }

    /// `text` remembered as a recent payload (or the equal one remembered already).
    pub(crate) fn remember(&self, text: JsonText) -> JsonText {
        if text.len() < SHARED_TEXT_BYTES {
            return text;
        }
        let mut recent = lock(&self.recent);
        if let Some(i) = recent.iter().position(|t| *t == text) {
            return touch(&mut recent, i);
        }
        remember_in(&mut recent, text)
    }

    /// The history text of `value`, shared as [`Recorder::share`] does; when it equals a
    /// recent one, found without writing it anywhere (no allocation).
    pub(crate) fn text(&self, value: &Value) -> JsonText {
        if crate::eval::exceeds_depth(value, crate::eval::MAX_PAYLOAD_DEPTH) {
            return JsonText::from_text(TOO_DEEP_TEXT);
        }
        match self.recent_match(value) {
            Some(t) => t,
            None => self.share(serde_json::to_string(value).unwrap_or_default()),
        }
    }

    /// The recent payload text `value` writes exactly, if any: compared byte by byte while
    /// `value` is written, stopping at the first difference. `value` must be no deeper than
    /// [`crate::eval::MAX_PAYLOAD_DEPTH`].
    pub(crate) fn recent_match(&self, value: &Value) -> Option<JsonText> {
        let mut recent = lock(&self.recent);
        let i = recent.iter().position(|t| writes_as(value, t.as_str()))?;
        Some(touch(&mut recent, i))
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

/// Whether `value`'s compact JSON text is exactly `text` (written against it, not kept).
fn writes_as(value: &Value, text: &str) -> bool {
    /// Accepts only the bytes `rest` starts with.
    struct Same<'t>(&'t [u8]);
    impl std::io::Write for Same<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            match self.0.strip_prefix(buf) {
                Some(rest) => {
                    self.0 = rest;
                    Ok(buf.len())
                }
                None => Err(std::io::Error::other("different")),
            }
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut same = Same(text.as_bytes());
    serde_json::to_writer(&mut same, value).is_ok() && same.0.is_empty()
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
                input: Some(JsonText::new(&serde_json::json!({"x": 1}))),
                assigned_variables: Some(vec![("v".into(), JsonText::new(&"s".into()))]),
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
        assert_eq!(
            serde_json::to_string(&v["stateEnteredEventDetails"]).unwrap(),
            r#"{"name":"A","input":"{\"x\":1}","inputDetails":{"truncated":false},"assignedVariables":{"v":"\"s\""},"assignedVariablesDetails":{"truncated":false}}"#
        );
        let back: HistoryEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn equal_payload_texts_share_one_string() {
        let clock = VirtualClock::new(0);
        let rec = Recorder::new(&clock, 10, Vec::new());
        let big = serde_json::json!({"records": vec!["x".repeat(100); 100]});
        let a = rec.text(&big);
        let b = rec.text(&big.clone());
        assert!(a.shares(&b));
        // A prefix or an extension of a recent text is not that text.
        let short = serde_json::json!({"records": vec!["x".repeat(100); 99]});
        assert!(!rec.text(&short).shares(&a));
        assert_eq!(rec.text(&short).to_value(), short);
        assert!(rec.text(&big).shares(&a));
        assert_eq!(a.to_value(), big);
        let other = rec.text(&serde_json::json!({"n": 1}));
        assert!(!other.shares(&a));
        // Small texts (a loop's counter) neither share nor push a payload out.
        for n in 0..10 {
            rec.text(&serde_json::json!(n));
        }
        assert!(rec.text(&big).shares(&a));
        // A value too deep to write is shown as a note, not serialized.
        let mut deep = serde_json::json!(1);
        for _ in 0..100_000 {
            deep = Value::Array(vec![deep]);
        }
        assert_eq!(rec.text(&deep).as_str(), TOO_DEEP_TEXT);
        crate::eval::drop_deep(deep);
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
