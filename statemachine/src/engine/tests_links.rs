//! How history events link (`previousEventId`), as AWS's recorded histories show: Map
//! iterations chained one after the other, Parallel branches from `ParallelStateStarted`,
//! `*Succeeded` events written aside, `EvaluationFailed` linked to where the state was entered
//! from, `TaskSubmitted`, and the abort events of stopped iterations.

use std::sync::Arc;

use serde_json::{json, Value};

use super::tests::{boom, run_with, with, Scripted, T0};
use super::*;

/// `(id, previousEventId, type)` of every event.
fn links(r: &ExecutionRecord) -> Vec<(u64, u64, &'static str)> {
    r.history
        .iter()
        .map(|e| (e.id, e.previous_event_id, e.kind.as_str()))
        .collect()
}

fn run(definition: Value, input: Value, integrations: &Integrations) -> ExecutionRecord {
    run_with(definition, input, integrations, &VirtualClock::new(T0))
}

#[test]
fn a_sequential_map_chains_its_iterations_and_exits_after_the_last_closing_event() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true}}});
    let r = run(def, json!([1, 2]), &Integrations::new());
    assert_eq!(
        links(&r),
        [
            (1, 0, "ExecutionStarted"),
            (2, 0, "MapStateEntered"),
            (3, 2, "MapStateStarted"),
            (4, 3, "MapIterationStarted"),
            (5, 4, "PassStateEntered"),
            (6, 5, "PassStateExited"),
            (7, 6, "MapIterationSucceeded"),
            (8, 6, "MapIterationStarted"),
            (9, 8, "PassStateEntered"),
            (10, 9, "PassStateExited"),
            (11, 10, "MapIterationSucceeded"),
            (12, 11, "MapStateSucceeded"),
            (13, 11, "MapStateExited"),
            (14, 13, "ExecutionSucceeded"),
        ]
    );
}

#[test]
fn parallel_branches_follow_parallel_state_started_and_the_exit_follows_the_last_branch() {
    let pass = |n: &str| json!({"StartAt": n, "States": {n: {"Type": "Pass", "End": true}}});
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel",
        "Branches": [pass("A"), pass("B")], "End": true}}});
    let r = run(def, json!({}), &Integrations::new());
    assert_eq!(
        links(&r),
        [
            (1, 0, "ExecutionStarted"),
            (2, 0, "ParallelStateEntered"),
            (3, 2, "ParallelStateStarted"),
            (4, 3, "PassStateEntered"),
            (5, 4, "PassStateExited"),
            (6, 3, "PassStateEntered"),
            (7, 6, "PassStateExited"),
            (8, 7, "ParallelStateSucceeded"),
            (9, 7, "ParallelStateExited"),
            (10, 9, "ExecutionSucceeded"),
        ]
    );
}

#[test]
fn a_distributed_map_exits_after_map_run_started() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true}}});
    let r = run(def, json!([1]), &Integrations::new());
    assert_eq!(
        links(&r),
        [
            (1, 0, "ExecutionStarted"),
            (2, 0, "MapStateEntered"),
            (3, 2, "MapStateStarted"),
            (4, 3, "MapRunStarted"),
            (5, 4, "MapRunSucceeded"),
            (6, 5, "MapStateSucceeded"),
            (7, 4, "MapStateExited"),
            (8, 7, "ExecutionSucceeded"),
        ]
    );
}

#[test]
fn evaluation_failed_links_to_where_the_state_was_entered_from() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Pass", "Output": "{% $nope %}", "End": true}}});
    let r = run(def, json!({}), &Integrations::new());
    assert_eq!(
        &links(&r)[3..],
        [
            (4, 3, "PassStateEntered"),
            (5, 3, "EvaluationFailed"),
            (6, 5, "ExecutionFailed"),
        ]
    );
    // A Wait state evaluates once entered.
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": "{% $nope %}", "End": true}}});
    let r = run(def, json!({}), &Integrations::new());
    assert_eq!(
        &links(&r)[1..],
        [
            (2, 0, "WaitStateEntered"),
            (3, 2, "EvaluationFailed"),
            (4, 3, "ExecutionFailed"),
        ]
    );
}

/// Submits (the service answers `{"MessageId": "m"}`) and then returns the parameters.
struct Submits;

impl TaskIntegration for Submits {
    fn call<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            request.submission.submit(json!({"MessageId": "m"}));
            Ok(request.parameters)
        })
    }
}

#[test]
fn a_submitted_task_writes_task_submitted_with_the_service_response() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": true}}});
    let r = run(def, json!({"x": 1}), &with(Arc::new(Submits)));
    assert_eq!(
        &links(&r)[2..6],
        [
            (3, 2, "TaskScheduled"),
            (4, 3, "TaskStarted"),
            (5, 4, "TaskSubmitted"),
            (6, 5, "TaskSucceeded"),
        ]
    );
    assert_eq!(
        r.history[4]
            .details
            .output
            .as_ref()
            .map(super::JsonText::to_value),
        Some(json!({"MessageId": "m"}))
    );
}

#[test]
fn a_failed_iteration_stops_the_others_with_their_state_aborted() {
    let clock = VirtualClock::new(T0);
    // Item 0 fails at once; item 1 is still waiting in its task.
    let task = Scripted::new(&clock, 1_000, vec![boom()]);
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map",
        "ItemProcessor": {"StartAt": "W", "States": {
            "W": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "T"},
            "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}}},
        "End": true}}});
    let r = run_with(def, json!([{"wait": 0}, {"wait": 10}]), &with(task), &clock);
    let tail: Vec<_> = links(&r).into_iter().rev().take(4).rev().collect();
    let failed_from = tail[0].1;
    assert_eq!(
        tail,
        [
            (tail[0].0, failed_from, "WaitStateAborted"),
            (tail[0].0 + 1, failed_from, "MapIterationAborted"),
            (tail[0].0 + 2, failed_from, "MapStateFailed"),
            (tail[0].0 + 3, tail[0].0 + 2, "ExecutionFailed"),
        ]
    );
}
