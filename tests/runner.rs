//! Runs one conformance case through the engine and compares the result with what AWS
//! recorded: the shared [`check`] of the conformance test and of the benchmark.
//!
//! Time: every case starts its virtual clock at the moment the corpus was captured
//! (2026-11-23T20:07:34Z: the Wait boundary cases put "now + 24855 days" at
//! 2094-12-11T20:07:34Z), which is the "shift" the corpus README asks for, done on the clock
//! instead of the input. A run stops when finishing would take the clock past one virtual year;
//! it is then RUNNING, which matches a recording whose status is UNKNOWN (AWS never finished
//! it either).
//!
//! The engine runs in account 111111111111, the account every recording shows (its
//! transformer's, and that of the cases' fake ARNs). A case with a recorded history must also
//! match it event by event (see [`crate::history`]); a task whose recorded history has a
//! `TaskSubmitted` event replays that submission too.

use std::sync::Arc;

use serde_json::Value;
use statemachine::asl::StateMachine;
use statemachine::engine::{
    Engine, ExecutionRecord, InspectionLevel, Integrations, Mock, Recorded, Replay, SeededRandom,
    StartExecution, TaskError, TestStateInput, VirtualClock,
};

use crate::compare::{mismatch, same, Actual};
use crate::s3_objects::S3Objects;
use crate::ConformanceCase;
use crate::{errata, history};

/// 2026-11-23T20:07:34Z.
const CAPTURE_MS: i64 = 1_795_464_454_000;
const HORIZON_MS: i64 = 366 * 86_400_000;
const CORPUS_ACCOUNT: &str = "111111111111";

/// One case's result.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// It matches the recording.
    Pass,
    /// It does not; what differed.
    Fail(String),
    /// It does not, and the corpus lacks what a replay needs (a task's outcome, the S3 object an
    /// ItemReader reads); why.
    NotReplayable(String),
}

impl Verdict {
    /// Whether the case matches.
    pub fn is_pass(&self) -> bool {
        *self == Verdict::Pass
    }
}

impl From<Result<(), String>> for Verdict {
    fn from(r: Result<(), String>) -> Verdict {
        match r {
            Ok(()) => Verdict::Pass,
            Err(e) => Verdict::Fail(e),
        }
    }
}

/// Runs one case and compares it with its recording.
pub fn check(case: &ConformanceCase) -> Verdict {
    let c = &case.json;
    let replay = Arc::new(match c.get("task_outcomes") {
        Some(outcomes) => replay(outcomes, &c["definition"], &submissions(&c["history"])),
        None => Replay::new([]),
    });
    let s3 = Arc::new(S3Objects::for_test(
        &crate::workspace_root().join("tests/asl-conformance/s3-objects"),
        &test_function(c),
        c["input"]["Bucket"].as_str().unwrap_or_default(),
    ));
    let integrations = Integrations::new()
        .route("", replay.clone())
        .route("arn:aws:states:::s3:", s3.clone());
    let verdict = Verdict::from(check_with(case, &integrations));
    if verdict.is_pass() {
        return verdict;
    }
    let unrecorded = replay.unrecorded();
    match (s3.missing().first(), unrecorded.first()) {
        (Some(object), _) => Verdict::NotReplayable(format!(
            "not replayable: the corpus does not hold the S3 object the ItemReader reads ({object}); LocalStack's public test code for this case was not found"
        )),
        (None, Some(state)) => Verdict::NotReplayable(format!(
            "not replayable: the corpus has no recorded outcome for state '{state}'"
        )),
        (None, None) => verdict,
    }
}

/// The name of the LocalStack test function that recorded the case (`test_x` of
/// `path.py::Class::test_x[param]`).
fn test_function(c: &Value) -> String {
    let test = c["source"]["test"].as_str().unwrap_or_default();
    let name = test.rsplit("::").next().unwrap_or_default();
    name.split('[').next().unwrap_or_default().to_string()
}

fn check_with(case: &ConformanceCase, integrations: &Integrations) -> Result<(), String> {
    let c = &case.json;
    let placeholders = errata::placeholders(c);
    match c["kind"].as_str() {
        Some("execution") => check_execution(c, &placeholders, integrations),
        Some("test_state") => check_test_state(c, &placeholders, integrations),
        other => Err(format!("unknown case kind {other:?}")),
    }
}

fn check_execution(
    c: &Value,
    placeholders: &[String],
    integrations: &Integrations,
) -> Result<(), String> {
    let definition = StateMachine::from_value(c["definition"].clone())
        .map_err(|e| format!("definition does not parse: {e}"))?;
    let express = c["execution_api"] == "start_sync_execution";
    let record = run(definition, c["input"].clone(), integrations, express)?;
    let actual = Actual::of(
        record.status.as_str(),
        &record.output,
        &record.error,
        &record.cause,
    );
    if let Some(diff) = mismatch(&c["expected"], placeholders, &actual) {
        return Err(diff);
    }
    // The record is what a later process loads to show or redrive the execution.
    let text = serde_json::to_string(&record).map_err(|e| format!("record: {e}"))?;
    let back: ExecutionRecord =
        serde_json::from_str(&text).map_err(|e| format!("record does not read back: {e}"))?;
    if back != record {
        return Err("the record does not survive a JSON round trip".into());
    }
    history::compare(c, &record.history, placeholders)
}

fn check_test_state(
    c: &Value,
    placeholders: &[String],
    integrations: &Integrations,
) -> Result<(), String> {
    let args = &c["test_state_args"];
    let json_text = |v: &Value| match v {
        Value::String(t) => serde_json::from_str(t).map_err(|e| format!("{t:?}: {e}")),
        Value::Null => Ok(Value::Null),
        other => Ok(other.clone()),
    };
    let mock = match &args["mock"] {
        m if m["errorOutput"].is_object() => Some(Mock::Error {
            error: m["errorOutput"]["error"]
                .as_str()
                .unwrap_or_default()
                .into(),
            cause: m["errorOutput"]["cause"].as_str().map(String::from),
        }),
        m if !m["result"].is_null() => Some(Mock::Result(json_text(&m["result"])?)),
        _ => None,
    };
    let config = &args["stateConfiguration"];
    let count = |k: &str| config[k].as_u64().map(|n| n as u32);
    let variables = match json_text(&args["variables"])? {
        Value::Object(m) => m,
        _ => Default::default(),
    };
    let request = TestStateInput {
        definition: c["definition"].clone(),
        state_name: args["stateName"].as_str().map(String::from),
        input: c["input"].clone(),
        inspection_level: match args["inspectionLevel"].as_str() {
            Some("DEBUG") => InspectionLevel::Debug,
            Some("TRACE") => InspectionLevel::Trace,
            _ => InspectionLevel::Info,
        },
        variables,
        context: Some(json_text(&args["context"])?).filter(|v| !v.is_null()),
        mock,
        retrier_retry_count: count("retrierRetryCount"),
        map_iteration_failure_count: count("mapIterationFailureCount"),
        map_item_reader_data: Some(json_text(&config["mapItemReaderData"])?)
            .filter(|v| !v.is_null()),
    };
    let clock = VirtualClock::new(CAPTURE_MS);
    let random = SeededRandom::new(7);
    let mut engine = Engine::new(&clock, &random, integrations);
    // The account the recordings show (their transformer's, and the fake ARNs' of the cases).
    engine.options.account = CORPUS_ACCOUNT.into();
    engine.options.role_arn = format!("arn:aws:iam::{CORPUS_ACCOUNT}:role/ConformanceRole");
    let out = clock
        .block_on(engine.test_state(request), Some(CAPTURE_MS + HORIZON_MS))
        .ok_or("the tested state did not finish")?
        .map_err(|e| format!("TestState refused the request: {e}"))?;
    let actual = Actual::of(out.status.as_str(), &out.output, &out.error, &out.cause);
    if let Some(diff) = mismatch(&c["expected"], placeholders, &actual) {
        return Err(diff);
    }
    let expected_next = c["expected"]["nextState"].as_str();
    if expected_next.is_some() && expected_next != out.next_state.as_deref() {
        return Err(format!(
            "nextState {:?} (expected {expected_next:?})",
            out.next_state
        ));
    }
    let Some(exp) = c["expected"]["inspectionData"].as_object() else {
        return Ok(());
    };
    let got = out.inspection_data.unwrap_or_default();
    let parse = |v: &Value| match v {
        Value::String(t) => serde_json::from_str(t).unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    };
    let mut keys: Vec<&String> = exp.keys().chain(got.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let (e, g) = (exp.get(k).map(parse), got.get(k).cloned());
        let same = match (&e, &g) {
            (Some(e), Some(g)) => same(e, g, placeholders),
            _ => false,
        };
        if !same {
            return Err(format!(
                "inspectionData.{k}: {}\n      expected {}",
                g.map_or("(none)".into(), |v| v.to_string()),
                e.map_or("(none)".into(), |v| v.to_string())
            ));
        }
    }
    Ok(())
}

/// Runs an execution on a fresh virtual clock.
fn run(
    definition: StateMachine,
    input: Value,
    integrations: &Integrations,
    express: bool,
) -> Result<ExecutionRecord, String> {
    let clock = VirtualClock::new(CAPTURE_MS);
    let random = SeededRandom::new(7);
    let mut engine = Engine::new(&clock, &random, integrations);
    // The account the recordings show (their transformer's, and the fake ARNs' of the cases).
    engine.options.account = CORPUS_ACCOUNT.into();
    engine.options.role_arn = format!("arn:aws:iam::{CORPUS_ACCOUNT}:role/ConformanceRole");
    let start = StartExecution {
        state_machine_name: "ConformanceMachine".into(),
        name: "conformance-execution".into(),
        input,
        express,
    };
    let execution = engine.execution(definition, start);
    let finished = clock.block_on(execution.run(), Some(CAPTURE_MS + HORIZON_MS));
    Ok(finished.unwrap_or_else(|| execution.snapshot()))
}

/// The recorded task outcomes as a [`Replay`] integration serving every resource;
/// `submitted[i]` is the service's response to the `i`-th call's submission, if it had one.
fn replay(outcomes: &Value, definition: &Value, submitted: &[Option<Value>]) -> Replay {
    let list = outcomes.as_array().cloned().unwrap_or_default();
    let recorded = list.into_iter().enumerate().map(|(i, o)| {
        let state = o["state"].as_str().unwrap_or_default().to_string();
        // The recording parsed JSON causes back into objects. AWS passes a bare function's
        // error payload on as the function wrote it (Python's json.dumps spacing) and writes
        // compact JSON for the lambda:invoke integration.
        let bare_function = o["event"] == "LambdaFunctionScheduled";
        let text = |v: &Value| match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other if bare_function => Some(python_json(other)),
            other => Some(other.to_string()),
        };
        // A bare function ARN's result is recorded as the payload's JSON text.
        let output = match (&o["output"], o["event"].as_str()) {
            (Value::String(t), Some("LambdaFunctionScheduled")) => {
                serde_json::from_str(t).unwrap_or_else(|_| o["output"].clone())
            }
            (v, _) => v.clone(),
        };
        let outcome = match o["outcome"].as_str() {
            Some("succeeded") => Recorded::Succeeded(output),
            Some("failed") => Recorded::Failed(TaskError {
                error: o["error"].as_str().unwrap_or_default().to_string(),
                cause: text(&o["cause"]),
            }),
            // A recorded timeout: let the engine's own timer fire when the state has one.
            Some("timed_out") if has_timeout(definition, &state) => Recorded::Hangs,
            Some("timed_out") => Recorded::Failed(TaskError {
                error: "States.Timeout".into(),
                cause: text(&o["cause"]),
            }),
            _ => Recorded::Hangs,
        };
        let outcome = match submitted.get(i).cloned().flatten() {
            Some(response) => Recorded::Submitted(response, Box::new(outcome)),
            None => outcome,
        };
        (state, outcome)
    });
    Replay::new(recorded)
}

/// Per scheduled task call of a recorded history, in order, the output of its `TaskSubmitted`
/// event, if it has one (`TaskSubmitted` follows `TaskStarted`, which follows the scheduling).
fn submissions(history: &Value) -> Vec<Option<Value>> {
    let events = history.as_array().map(Vec::as_slice).unwrap_or(&[]);
    let scheduled = [
        "TaskScheduled",
        "LambdaFunctionScheduled",
        "ActivityScheduled",
    ];
    events
        .iter()
        .filter(|e| scheduled.iter().any(|t| e["type"] == *t))
        .map(|s| {
            let started = events
                .iter()
                .find(|e| e["type"] == "TaskStarted" && e["previousEventId"] == s["id"])?;
            let submitted = events
                .iter()
                .find(|e| e["type"] == "TaskSubmitted" && e["previousEventId"] == started["id"])?;
            let output = &submitted["taskSubmittedEventDetails"]["output"];
            Some(match output {
                Value::String(t) => serde_json::from_str(t).unwrap_or_else(|_| output.clone()),
                other => other.clone(),
            })
        })
        .collect()
}

/// JSON text as Python's `json.dumps` writes it (`", "` and `": "` separators).
fn python_json(v: &Value) -> String {
    match v {
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(python_json).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), python_json(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// Whether the Task state `name` (anywhere in the definition) has a timeout or heartbeat.
fn has_timeout(definition: &Value, name: &str) -> bool {
    fn find<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
        match v {
            Value::Object(m) => m
                .get(name)
                .filter(|s| s["Type"] == "Task")
                .or_else(|| m.values().find_map(|x| find(x, name))),
            Value::Array(a) => a.iter().find_map(|x| find(x, name)),
            _ => None,
        }
    }
    find(definition, name).is_some_and(|s| {
        [
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
        ]
        .iter()
        .any(|k| s.get(k).is_some())
    })
}
