//! Engine benchmark (a plain binary, `harness = false`): state transitions per second on a long
//! Pass/Choice loop and on a Map of 10,000 items, and the wall time of the whole pure
//! conformance suite, each next to a baseline measured in the same run.
//!
//! `cargo bench -p feedpipe-tests --bench engine [-- loop|map|suite]`

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use statemachine::asl::StateMachine;
use statemachine::engine::{
    Engine, ExecutionRecord, ExecutionStatus, Integrations, SeededRandom, StartExecution,
    VirtualClock,
};

use feedpipe_tests::{conformance_cases, runner::check};

fn main() {
    let process_start = Instant::now();
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |name: &str| which.is_empty() || which.iter().any(|w| w == name);
    if wants("loop") {
        pass_choice_loop(100_000);
    }
    if wants("map") {
        map_of(10_000, "INLINE");
        map_of(10_000, "DISTRIBUTED");
    }
    if wants("suite") {
        pure_suite(process_start);
    }
}

/// Runs one execution with the history quota lifted (these runs are longer than AWS allows).
fn execute(definition: Value, input: Value) -> (ExecutionRecord, Duration) {
    let clock = VirtualClock::new(1_700_000_000_000);
    let random = SeededRandom::new(1);
    let integrations = Integrations::new();
    let mut engine = Engine::new(&clock, &random, &integrations);
    engine.options.history_limit = usize::MAX;
    let machine = StateMachine::from_value(definition).expect("valid definition");
    let start = StartExecution {
        state_machine_name: "Bench".into(),
        name: "bench".into(),
        input,
        express: false,
    };
    let t = Instant::now();
    let record = clock
        .block_on(engine.start(machine, start), None)
        .expect("finishes");
    let elapsed = t.elapsed();
    assert_eq!(
        record.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        record.cause
    );
    (record, elapsed)
}

fn transitions(record: &ExecutionRecord) -> usize {
    record
        .history
        .iter()
        .filter(|e| e.kind.as_str().ends_with("StateEntered"))
        .count()
}

fn report(name: &str, n: usize, elapsed: Duration, baseline: Duration) {
    println!(
        "{name:<44} {n:>9} transitions in {:>8.1} ms = {:>9.0} transitions/s   (baseline {:>7.1} ms, engine/baseline {:.1}x)",
        elapsed.as_secs_f64() * 1e3,
        n as f64 / elapsed.as_secs_f64(),
        baseline.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() / baseline.as_secs_f64().max(1e-9),
    );
}

/// Count → Check → Count ... until the counter reaches `rounds`: 2 transitions per round.
fn pass_choice_loop(rounds: u64) {
    let definition = json!({"StartAt": "Count", "States": {
        "Count": {"Type": "Pass", "Parameters": {"count.$": "States.MathAdd($.count, 1)", "tag.$": "$.tag"}, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.count", "NumericLessThan": rounds, "Next": "Count"}], "Default": "Done"},
        "Done": {"Type": "Succeed"}}});
    let input = json!({"count": 0, "tag": "feedpipe"});
    // Baseline: the same JSON work without the engine (build the new state, compare, clone the
    // input and output twice as the history keeps them).
    let t = Instant::now();
    let mut state = input.clone();
    let mut kept = Vec::new();
    while state["count"].as_u64().unwrap_or(0) < rounds {
        let next =
            json!({"count": state["count"].as_u64().unwrap_or(0) + 1, "tag": state["tag"].clone()});
        kept.push((state.clone(), next.clone()));
        state = next;
    }
    let baseline = t.elapsed();
    std::hint::black_box(kept);
    let (record, elapsed) = execute(definition, input);
    report("Pass/Choice loop", transitions(&record), elapsed, baseline);
}

/// A Map over `items` numbers with an ItemSelector reading `$$.Map.Item`.
fn map_of(items: usize, mode: &str) {
    let definition = json!({"StartAt": "Each", "States": {"Each": {"Type": "Map",
        "ItemsPath": "$.items",
        "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": mode},
            "StartAt": "Double", "States": {"Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($.value, $.value)"}, "End": true}}},
        "End": true}}});
    let input = json!({"items": (0..items).collect::<Vec<_>>()});
    let t = Instant::now();
    let out: Vec<Value> = (0..items)
        .map(|i| {
            let selected = json!({"value": i, "index": i});
            json!({"v": selected["value"].as_u64().unwrap_or(0) * 2})
        })
        .collect();
    let baseline = t.elapsed();
    std::hint::black_box(out);
    let (record, elapsed) = execute(definition, input);
    let n = match mode {
        // Distributed iterations are child executions: their states are not in the parent's
        // history; count one transition each.
        "DISTRIBUTED" => items + transitions(&record),
        _ => transitions(&record),
    };
    report(
        &format!("Map of {items} items ({mode})"),
        n,
        elapsed,
        baseline,
    );
}

/// All pure cases (execution and TestState), checked against their recordings.
fn pure_suite(process_start: Instant) {
    let t = Instant::now();
    let cases = conformance_cases(&["pure"]);
    let loaded = t.elapsed();
    let t = Instant::now();
    let passed = cases.iter().filter(|c| check(c).is_pass()).count();
    let ran = t.elapsed();
    println!(
        "pure conformance suite: {} cases, {passed} match AWS; run {:.2} s (baseline: loading the case files {:.2} s); wall time since process start {:.2} s",
        cases.len(),
        ran.as_secs_f64(),
        loaded.as_secs_f64(),
        process_start.elapsed().as_secs_f64()
    );
}
