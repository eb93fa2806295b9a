//! The engine's bounds: an input StartExecution would refuse, payloads nested past
//! [`crate::eval::MAX_PAYLOAD_DEPTH`], and history payloads shared rather than copied.

use serde_json::{json, Value};

use super::tests::{run_with, types, T0};
use super::*;
use crate::eval::{MAX_PAYLOAD_DEPTH, PAYLOAD_LIMIT_BYTES};

#[test]
fn an_input_over_256_kib_is_refused_naming_the_limit() {
    let big = json!({"blob": "x".repeat(PAYLOAD_LIMIT_BYTES)});
    let err = check_start_input(&big).unwrap_err();
    assert_eq!(
        err,
        StartError::InputTooLarge {
            bytes: PAYLOAD_LIMIT_BYTES + 11,
            limit: PAYLOAD_LIMIT_BYTES
        }
    );
    assert!(err
        .to_string()
        .contains("over the limit of 262144 bytes (256 KiB)"));
    assert!(check_start_input(&json!({"feed": "jobs"})).is_ok());
    let text = serde_json::to_string(&big).unwrap();
    assert!(matches!(
        check_start_input_text(&text),
        Err(StartError::InputTooLarge { bytes, .. }) if bytes == text.len()
    ));
    assert!(check_start_input_text(r#"{"feed": "jobs"}"#).is_ok());

    // An engine given one anyway fails before any state, and cannot be redriven.
    let clock = VirtualClock::new(T0);
    let definition = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}});
    let r = run_with(definition, big, &Integrations::new(), &clock);
    assert_eq!(types(&r), ["ExecutionStarted", "ExecutionFailed"]);
    assert_eq!(r.error.as_deref(), Some("States.DataLimitExceeded"));
    assert!(
        r.cause.as_deref().unwrap_or("").contains("262144"),
        "{:?}",
        r.cause
    );
    let random = SeededRandom::new(1);
    let integrations = Integrations::new();
    let engine = Engine::new(&clock, &random, &integrations);
    assert!(matches!(
        engine.resume(r),
        Err(RedriveError::NothingToResume(_))
    ));
}

#[test]
fn a_payload_nested_past_the_limit_fails_by_name_on_a_small_stack() {
    // Each round wraps the payload in one more object, reads it back through JSONata and asks
    // a Choice about it; on a 2 MiB stack, in a debug build.
    let definition = json!({"StartAt": "Wrap", "States": {
        "Wrap": {"Type": "Pass", "Parameters": {"a.$": "$"}, "Next": "Peek"},
        "Peek": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.input %}", "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "Wrap"}], "Default": "Wrap"}}});
    let r = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let clock = VirtualClock::new(T0);
            let r = run_with(definition, json!({}), &Integrations::new(), &clock);
            (r.status, r.error, r.cause, r.history.len())
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
    let (status, error, cause, events) = r;
    assert_eq!(status, ExecutionStatus::Failed);
    assert_eq!(error.as_deref(), Some("States.DataLimitExceeded"));
    assert_eq!(
        cause.as_deref(),
        Some(format!("The state/task 'Wrap' returned a result nested deeper than {MAX_PAYLOAD_DEPTH} levels of arrays and objects, the most the local engine accepts.").as_str())
    );
    // 6 events a round, MAX_PAYLOAD_DEPTH rounds.
    assert!(events > 6 * (MAX_PAYLOAD_DEPTH - 1), "{events}");
}

#[test]
fn a_payload_carried_through_states_is_one_string_in_the_history() {
    let payload: Vec<Value> = (0..500).map(|i| json!({"id": i, "name": "job"})).collect();
    let definition = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Pass", "ResultPath": null, "Next": "C"},
        "C": {"Type": "Succeed"}}});
    let clock = VirtualClock::new(T0);
    let r = run_with(
        definition,
        json!({ "records": payload }),
        &Integrations::new(),
        &clock,
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    let texts: Vec<&JsonText> = r
        .history
        .iter()
        .filter_map(|e| e.details.input.as_ref().or(e.details.output.as_ref()))
        .collect();
    // Started, A in/out, B in/out, C in/out, Succeeded: one string for all eight.
    assert_eq!(texts.len(), 8);
    assert!(texts.iter().all(|t| t.shares(texts[0])));
    assert_eq!(texts[0].to_value()["records"][499]["id"], 499);
}

/// Collects what an [`Observer`] is told.
#[derive(Default)]
struct Seen {
    lines: std::sync::Mutex<Vec<String>>,
    points: std::sync::Mutex<Vec<ResumePoint>>,
}

impl Observer for Seen {
    fn event(&self, event: &HistoryEvent) {
        let line = serde_json::to_string(event).unwrap_or_default();
        self.lines.lock().unwrap().push(line);
    }

    fn progress(&self, resume: &ResumePoint) {
        self.points.lock().unwrap().push(resume.clone());
    }
}

#[test]
fn the_observer_sees_each_event_as_its_json_line_and_each_top_level_state() {
    let definition = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": {"n": 1}, "Assign": {"v": 2}, "Next": "B"},
        "B": {"Type": "Pass", "End": true}}});
    let clock = VirtualClock::new(T0);
    let random = SeededRandom::new(1);
    let integrations = Integrations::new();
    let seen = Seen::default();
    let mut engine = Engine::new(&clock, &random, &integrations);
    engine.observer = Some(&seen);
    let start = StartExecution {
        state_machine_name: "M".into(),
        name: "e".into(),
        input: json!({"in": true}),
        express: false,
    };
    let machine = crate::asl::StateMachine::from_value(definition).unwrap();
    let r = clock
        .block_on(engine.start(machine, start), None)
        .expect("finishes");
    let lines: Vec<String> = r
        .history
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    assert_eq!(*seen.lines.lock().unwrap(), lines);
    assert!(lines[2].contains(r#""output":"{\"n\":1}""#), "{}", lines[2]);
    let points = seen.points.lock().unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(
        (points[0].state.as_str(), &points[0].input),
        ("A", &json!({"in": true}))
    );
    assert_eq!(
        (points[1].state.as_str(), &points[1].input),
        ("B", &json!({"n": 1}))
    );
    assert_eq!(points[1].variables.get("v"), Some(&json!(2)));
}
