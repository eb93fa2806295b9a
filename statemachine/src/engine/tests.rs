//! Behaviour of the engine that the AWS-recorded corpus cannot show: redrive, timeouts and
//! heartbeats, retry timing, concurrency limits, the history quota, variable scopes, records
//! that survive a JSON round trip. All on the virtual clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::*;
use crate::asl::StateMachine;

pub(super) const T0: i64 = 1_700_000_000_000;

fn machine(json: Value) -> StateMachine {
    StateMachine::from_value(json).expect("a valid definition")
}

fn start(input: Value) -> StartExecution {
    StartExecution {
        state_machine_name: "M".into(),
        name: "e".into(),
        input,
        express: false,
    }
}

/// Runs `definition` on a virtual clock starting at T0.
pub(super) fn run_with(
    definition: Value,
    input: Value,
    integrations: &Integrations,
    clock: &VirtualClock,
) -> ExecutionRecord {
    let random = SeededRandom::new(1);
    let engine = Engine::new(clock, &random, integrations);
    clock
        .block_on(engine.start(machine(definition), start(input)), None)
        .expect("finishes")
}

fn redrive_with(
    record: ExecutionRecord,
    integrations: &Integrations,
    clock: &VirtualClock,
) -> ExecutionRecord {
    let random = SeededRandom::new(2);
    let engine = Engine::new(clock, &random, integrations);
    clock
        .block_on(engine.redrive(record), None)
        .expect("finishes")
        .expect("redrivable")
}

pub(super) fn types(r: &ExecutionRecord) -> Vec<&'static str> {
    r.history.iter().map(|e| e.kind.as_str()).collect()
}

/// A task that answers from a script of outcomes, after `delay_ms` of clock time, counting calls
/// per state and the most calls in flight at once.
pub(super) struct Scripted {
    clock: VirtualClock,
    delay_ms: i64,
    script: Mutex<Vec<Result<Value, TaskError>>>,
    calls: Mutex<Vec<(String, Value)>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Scripted {
    pub(super) fn new(
        clock: &VirtualClock,
        delay_ms: i64,
        script: Vec<Result<Value, TaskError>>,
    ) -> Arc<Scripted> {
        Arc::new(Scripted {
            clock: clock.clone(),
            delay_ms,
            script: Mutex::new(script.into_iter().rev().collect()),
            calls: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        })
    }

    fn calls(&self) -> Vec<(String, Value)> {
        self.calls.lock().unwrap().clone()
    }
}

impl TaskIntegration for Scripted {
    fn call<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            self.calls
                .lock()
                .unwrap()
                .push((request.state_name.to_string(), request.parameters.clone()));
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            self.clock
                .sleep_until(self.clock.now_ms() + self.delay_ms)
                .await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            let next = self.script.lock().unwrap().pop();
            next.unwrap_or_else(|| Ok(request.parameters.clone()))
        })
    }
}

pub(super) fn with(i: Arc<dyn TaskIntegration>) -> Integrations {
    Integrations::new().route("", i)
}

pub(super) fn boom() -> Result<Value, TaskError> {
    Err(TaskError::new("Boom", "it broke"))
}

#[test]
fn a_redriven_task_resumes_at_the_failed_state_with_its_input() {
    let clock = VirtualClock::new(T0);
    let task = Scripted::new(&clock, 0, vec![boom(), Ok(json!({"ok": 1}))]);
    let integrations = with(task.clone());
    let def = json!({"StartAt": "Prep", "States": {
        "Prep": {"Type": "Pass", "Result": 7, "ResultPath": "$.n", "Assign": {"seen": true}, "Next": "Call"},
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"n.$": "$.n", "seen.$": "$seen", "redrives.$": "$$.Execution.RedriveCount"}, "End": true}}});
    let failed = run_with(def, json!({"x": 1}), &integrations, &clock);
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("Boom"));
    assert_eq!(
        failed.resume.as_ref().map(|r| r.state.as_str()),
        Some("Call")
    );

    // The record survives being stored as JSON.
    let stored = serde_json::to_string(&failed).unwrap();
    let loaded: ExecutionRecord = serde_json::from_str(&stored).unwrap();
    assert_eq!(loaded, failed);

    let done = redrive_with(loaded, &integrations, &clock);
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{:?}", done.cause);
    assert_eq!(done.redrive_count, 1);
    assert_eq!(done.output, Some(json!({"ok": 1})));
    let calls = task.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].1, json!({"n": 7, "seen": true, "redrives": 1}));
    let t = types(&done);
    let redriven = t
        .iter()
        .position(|t| *t == "ExecutionRedriven")
        .expect("redriven event");
    assert_eq!(t[redriven - 1], "ExecutionFailed");
    assert_eq!(
        &t[redriven + 1..],
        [
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(
        t.iter().filter(|t| **t == "PassStateEntered").count(),
        1,
        "Prep ran once"
    );
}

#[test]
fn a_redriven_map_reruns_only_the_iterations_that_failed() {
    let clock = VirtualClock::new(T0);
    // Items 0 and 2 succeed, item 1 fails; on redrive item 1 succeeds.
    let task = Scripted::new(
        &clock,
        0,
        vec![Ok(json!("a")), boom(), Ok(json!("b")), Ok(json!("c"))],
    );
    let integrations = with(task.clone());
    let def = json!({"StartAt": "Each", "States": {"Each": {"Type": "Map", "MaxConcurrency": 1,
        "ItemProcessor": {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
        "ToleratedFailureCount": 0, "End": true}}});
    let failed = run_with(def.clone(), json!([1, 2, 3]), &integrations, &clock);
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert_eq!(
        failed.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    let done = redrive_with(failed, &integrations, &clock);
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{:?}", done.cause);
    assert_eq!(done.output, Some(json!(["a", "b", "c"])));
    let inputs: Vec<Value> = task.calls().into_iter().map(|(_, p)| p).collect();
    assert_eq!(inputs, [json!(1), json!(2), json!(2), json!(3)]);
}

#[test]
fn a_redriven_parallel_reruns_only_the_failed_branch() {
    let clock = VirtualClock::new(T0);
    let task = Scripted::new(
        &clock,
        0,
        vec![Ok(json!("left")), boom(), Ok(json!("right"))],
    );
    let integrations = with(task.clone());
    let branch = |name: &str| json!({"StartAt": name, "States": {name: {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}});
    let def = json!({"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "Branches": [branch("L"), branch("R")], "End": true}}});
    let failed = run_with(def, json!({}), &integrations, &clock);
    assert_eq!(failed.error.as_deref(), Some("Boom"));
    let done = redrive_with(failed, &integrations, &clock);
    assert_eq!(done.output, Some(json!(["left", "right"])));
    let states: Vec<String> = task.calls().into_iter().map(|(s, _)| s).collect();
    assert_eq!(states, ["L", "R", "R"]);
}

#[test]
fn succeeded_executions_are_not_redrivable() {
    let clock = VirtualClock::new(T0);
    let done = run_with(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}),
        json!({}),
        &Integrations::new(),
        &clock,
    );
    let random = SeededRandom::new(0);
    let integrations = Integrations::new();
    let engine = Engine::new(&clock, &random, &integrations);
    assert!(matches!(
        engine.resume(done),
        Err(RedriveError::NotRedrivable(_, "SUCCEEDED"))
    ));
}

#[test]
fn the_execution_times_out_on_the_virtual_clock_and_can_be_redriven() {
    let clock = VirtualClock::new(T0);
    let def = json!({"TimeoutSeconds": 10, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let r = run_with(def, json!({}), &Integrations::new(), &clock);
    assert_eq!(r.status, ExecutionStatus::TimedOut);
    assert_eq!(clock.now_ms(), T0 + 10_000);
    assert_eq!(types(&r).last(), Some(&"ExecutionTimedOut"));
    assert_eq!(r.resume.as_ref().map(|p| p.state.as_str()), Some("W"));
}

#[test]
fn task_timeout_and_heartbeat_fail_with_states_timeout() {
    let clock = VirtualClock::new(T0);
    let slow = Scripted::new(&clock, 60_000, vec![]);
    let integrations = with(slow);
    let task = |extra: Value| {
        let mut t =
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
        t.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"StartAt": "T", "States": {"T": t}})
    };
    let r = run_with(
        task(json!({"TimeoutSeconds": 5})),
        json!({}),
        &integrations,
        &clock,
    );
    assert_eq!(
        (r.status, r.error.as_deref()),
        (ExecutionStatus::Failed, Some("States.Timeout"))
    );
    assert!(types(&r).contains(&"TaskTimedOut"));
    let r = run_with(
        task(json!({"HeartbeatSeconds": 2})),
        json!({}),
        &integrations,
        &clock,
    );
    assert_eq!(r.error.as_deref(), Some("States.Timeout"));
    let r = run_with(
        task(json!({"TimeoutSeconds": 120})),
        json!({}),
        &integrations,
        &clock,
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
}

/// A task that beats every second for `beats` seconds, then answers.
struct Beating {
    clock: VirtualClock,
    beats: i64,
}

impl TaskIntegration for Beating {
    fn call<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            for _ in 0..self.beats {
                self.clock.sleep_until(self.clock.now_ms() + 1000).await;
                request.heartbeat.beat();
            }
            Ok(json!("done"))
        })
    }
}

#[test]
fn heartbeats_keep_a_long_task_alive() {
    let clock = VirtualClock::new(T0);
    let integrations = with(Arc::new(Beating {
        clock: clock.clone(),
        beats: 30,
    }));
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "HeartbeatSeconds": 2, "End": true}}});
    let r = run_with(def, json!({}), &integrations, &clock);
    assert_eq!(r.status, ExecutionStatus::Succeeded, "{:?}", r.cause);
    assert_eq!(clock.now_ms(), T0 + 30_000);
}

#[test]
fn retries_back_off_on_the_clock_then_catch_with_result_path() {
    let clock = VirtualClock::new(T0);
    let task = Scripted::new(&clock, 0, vec![boom(), boom(), boom()]);
    let integrations = with(task);
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 3}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handled"}], "End": true},
        "Handled": {"Type": "Pass", "End": true}}});
    let r = run_with(def, json!({"in": 1}), &integrations, &clock);
    assert_eq!(
        r.output,
        Some(json!({"in": 1, "error": {"Error": "Boom", "Cause": "it broke"}}))
    );
    let scheduled: Vec<i64> = r
        .history
        .iter()
        .filter(|e| e.kind == EventType::TaskScheduled)
        .map(|e| e.timestamp_ms - T0)
        .collect();
    assert_eq!(scheduled, [0, 2_000, 8_000]);
}

#[test]
fn map_max_concurrency_bounds_iterations_in_flight() {
    let clock = VirtualClock::new(T0);
    let task = Scripted::new(&clock, 1_000, vec![]);
    let integrations = with(task.clone());
    let def = json!({"StartAt": "Each", "States": {"Each": {"Type": "Map", "MaxConcurrency": 2,
        "ItemProcessor": {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
        "End": true}}});
    let r = run_with(def, json!([1, 2, 3, 4, 5, 6]), &integrations, &clock);
    assert_eq!(r.output, Some(json!([1, 2, 3, 4, 5, 6])));
    assert_eq!(task.max_in_flight.load(Ordering::SeqCst), 2);
    assert_eq!(clock.now_ms(), T0 + 3_000);
}

#[test]
fn a_loop_stops_at_the_history_quota() {
    let clock = VirtualClock::new(T0);
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A"}}});
    let r = run_with(def, json!({}), &Integrations::new(), &clock);
    assert_eq!(r.status, ExecutionStatus::Failed);
    assert_eq!(r.history.len(), HISTORY_LIMIT);
    assert_eq!(
        r.history.last().map(|e| e.kind),
        Some(EventType::ExecutionFailed)
    );
    assert_eq!(r.cause.as_deref(), Some(history::HISTORY_LIMIT_CAUSE));
    assert!(r.resume.is_none(), "AWS does not redrive past the quota");
}

#[test]
fn inner_scopes_read_outer_variables_and_keep_their_own() {
    let clock = VirtualClock::new(T0);
    let def = json!({"StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"outer": "o"}, "Next": "Each"},
        "Each": {"Type": "Map", "ItemSelector": {"item.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
            "ItemProcessor": {"StartAt": "In", "States": {
                "In": {"Type": "Pass", "Assign": {"inner.$": "$.item"}, "Next": "Read"},
                "Read": {"Type": "Pass", "Parameters": {"outer.$": "$outer", "inner.$": "$inner", "index.$": "$.index"}, "End": true}}},
            "Next": "After"},
        "After": {"Type": "Pass", "Parameters": {"results.$": "$", "outer.$": "$outer"}, "End": true}}});
    let r = run_with(def, json!(["a", "b"]), &Integrations::new(), &clock);
    assert_eq!(
        r.output,
        Some(
            json!({"results": [{"outer": "o", "inner": "a", "index": 0}, {"outer": "o", "inner": "b", "index": 1}], "outer": "o"})
        )
    );
    let leak = json!({"StartAt": "Each", "States": {
        "Each": {"Type": "Map", "ItemProcessor": {"StartAt": "In", "States": {"In": {"Type": "Pass", "Assign": {"inner": 1}, "End": true}}}, "Next": "After"},
        "After": {"Type": "Pass", "Parameters": {"v.$": "$inner"}, "End": true}}});
    let r = run_with(leak, json!([1]), &Integrations::new(), &clock);
    assert_eq!(
        r.status,
        ExecutionStatus::Failed,
        "an inner variable is not visible outside"
    );
}

#[test]
fn history_events_chain_and_serialize_as_get_execution_history() {
    let clock = VirtualClock::new(T0);
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}});
    let r = run_with(def, json!({"k": "v"}), &Integrations::new(), &clock);
    let ids: Vec<(u64, u64)> = r
        .history
        .iter()
        .map(|e| (e.id, e.previous_event_id))
        .collect();
    assert_eq!(ids, [(1, 0), (2, 0), (3, 2), (4, 3), (5, 4), (6, 5)]);
    let v = r.history_json();
    assert_eq!(
        v["events"][1]["stateEnteredEventDetails"]["input"],
        "{\"k\":\"v\"}"
    );
    assert_eq!(v["events"][5]["type"], "ExecutionSucceeded");
}

#[test]
fn the_engine_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let clock = VirtualClock::new(T0);
    let random = SeededRandom::new(0);
    let integrations = Integrations::new();
    let engine = Engine::new(&clock, &random, &integrations);
    let def = machine(json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}));
    let fut = engine.start(def, start(json!({})));
    assert_send(&fut);
}

#[test]
fn an_aborted_execution_stops_at_its_wait_and_can_be_redriven() {
    let clock = VirtualClock::new(T0);
    let random = SeededRandom::new(0);
    let integrations = Integrations::new();
    let engine = Engine::new(&clock, &random, &integrations);
    let def = machine(json!({"StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"v": 1}, "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"v.$": "$v"}, "End": true}}}));
    let execution = engine.execution(def, start(json!({"in": 1})));
    let stopper = async {
        clock.sleep_until(T0 + 10_000).await;
        let live = execution.snapshot();
        assert_eq!(live.status, ExecutionStatus::Running);
        let at = live.resume.expect("a running record says where it is");
        assert_eq!(
            (at.state.as_str(), at.variables["v"].clone()),
            ("W", json!(1))
        );
        execution.abort(Some("Stopped".into()), Some("by the test".into()));
        std::future::pending::<()>().await
    };
    let aborted = match clock.block_on(join::race(execution.run(), stopper), None) {
        Some(join::Either::Left(record)) => record,
        _ => panic!("the run ends"),
    };
    assert_eq!(aborted.status, ExecutionStatus::Aborted);
    assert_eq!(types(&aborted).last(), Some(&"ExecutionAborted"));
    assert_eq!(aborted.error.as_deref(), Some("Stopped"));
    let done = redrive_with(aborted, &integrations, &clock);
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{:?}", done.cause);
    assert_eq!(done.output, Some(json!({"v": 1})));
    assert_eq!(clock.now_ms(), T0 + 10_000 + 3_600_000);
}
