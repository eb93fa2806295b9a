//! Engine benchmark (a plain binary, `harness = false`): state transitions per second on a long
//! Pass/Choice loop and on a Map of 10,000 items, and the wall time of the whole pure
//! conformance suite, each next to a baseline measured in the same run.
//!
//! `cargo bench -p feedpipe-tests --bench engine [-- loop|map|suite]`; `ENGINE_BENCH_RUNS`
//! (default 5) runs of each figure, round-robin (`ENGINE_BENCH_MAP_ITEMS`, default 10,000, sizes
//! the Maps), reported as median and range, with the
//! thread's time on a CPU and time spent waiting for one (Linux schedstat), which tells load
//! from outside apart from a slow engine.

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
    let runs: usize = std::env::var("ENGINE_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(5);
    let map_items: usize = std::env::var("ENGINE_BENCH_MAP_ITEMS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10_000);
    // Round-robin: run i of every measurement before run i + 1 of any, so that load from
    // outside falls on all of them alike.
    let mut rows: Vec<Row> = Vec::new();
    for _ in 0..runs {
        let mut i = 0;
        let mut add = |m: Measured| {
            if rows.len() <= i {
                rows.push(Row::new(&m));
            }
            rows[i].samples.push(m);
            i += 1;
        };
        if wants("loop") {
            add(pass_choice_loop(100_000));
        }
        if wants("map") {
            add(map_of(map_items, "INLINE"));
            add(map_of(map_items, "DISTRIBUTED"));
        }
    }
    for row in &rows {
        row.report(runs);
    }
    if wants("suite") {
        pure_suite(process_start);
    }
}

/// One run of one measurement.
struct Measured {
    name: String,
    transitions: usize,
    wall: Duration,
    /// Time this thread ran on a CPU, and time it was ready but waited for one (Linux
    /// `/proc/thread-self/schedstat`; `None` elsewhere).
    sched: Option<(Duration, Duration)>,
    baseline: Duration,
}

/// All runs of one measurement.
struct Row {
    name: String,
    transitions: usize,
    samples: Vec<Measured>,
}

impl Row {
    fn new(m: &Measured) -> Row {
        Row {
            name: m.name.clone(),
            transitions: m.transitions,
            samples: Vec::new(),
        }
    }

    fn report(&self, runs: usize) {
        let n = self.transitions as f64;
        let per_s = |d: Duration| n / d.as_secs_f64().max(1e-9);
        let mut wall: Vec<f64> = self.samples.iter().map(|m| per_s(m.wall)).collect();
        wall.sort_by(f64::total_cmp);
        let median = |v: &[f64]| v[v.len() / 2];
        let mut cpu: Vec<f64> = self
            .samples
            .iter()
            .filter_map(|m| m.sched.map(|(on, _)| per_s(on)))
            .collect();
        cpu.sort_by(f64::total_cmp);
        let mut waited: Vec<f64> = self
            .samples
            .iter()
            .filter_map(|m| m.sched.map(|(_, w)| w.as_secs_f64() * 1e3))
            .collect();
        waited.sort_by(f64::total_cmp);
        let mut ratio: Vec<f64> = self
            .samples
            .iter()
            .map(|m| m.wall.as_secs_f64() / m.baseline.as_secs_f64().max(1e-9))
            .collect();
        ratio.sort_by(f64::total_cmp);
        print!(
            "{:<34} {:>7} transitions, {runs} runs: median {:>8.0}/s [{:.0}–{:.0}] wall",
            self.name,
            self.transitions,
            median(&wall),
            wall[0],
            wall[wall.len() - 1],
        );
        if !cpu.is_empty() {
            print!(
                ", {:>8.0}/s on CPU time, median {:.1} ms waiting for a CPU",
                median(&cpu),
                median(&waited)
            );
        }
        println!(
            "; engine/baseline {:.1}x (baseline: the same JSON work without the engine)",
            median(&ratio)
        );
    }
}

/// This thread's time on a CPU and time spent waiting for one.
fn sched() -> Option<(Duration, Duration)> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
    let on = fields.next()??;
    let waiting = fields.next()??;
    Some((Duration::from_nanos(on), Duration::from_nanos(waiting)))
}

/// On-CPU and waiting time of the measured run.
type Sched = Option<(Duration, Duration)>;

/// Runs one execution with the history quota lifted (these runs are longer than AWS allows).
fn execute(definition: Value, input: Value) -> (ExecutionRecord, Duration, Sched) {
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
    let before = sched();
    let t = Instant::now();
    let record = clock
        .block_on(engine.start(machine, start), None)
        .expect("finishes");
    let elapsed = t.elapsed();
    let after = sched();
    assert_eq!(
        record.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        record.cause
    );
    let sched = before
        .zip(after)
        .map(|((on0, w0), (on1, w1))| (on1.saturating_sub(on0), w1.saturating_sub(w0)));
    (record, elapsed, sched)
}

fn transitions(record: &ExecutionRecord) -> usize {
    record
        .history
        .iter()
        .filter(|e| e.kind.as_str().ends_with("StateEntered"))
        .count()
}

/// Count → Check → Count ... until the counter reaches `rounds`: 2 transitions per round.
fn pass_choice_loop(rounds: u64) -> Measured {
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
    let (record, wall, sched) = execute(definition, input);
    Measured {
        name: "Pass/Choice loop".into(),
        transitions: transitions(&record),
        wall,
        sched,
        baseline,
    }
}

/// A Map over `items` numbers with an ItemSelector reading `$$.Map.Item`.
fn map_of(items: usize, mode: &str) -> Measured {
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
    let (record, wall, sched) = execute(definition, input);
    let n = match mode {
        // Distributed iterations are child executions: their states are not in the parent's
        // history; count one transition each.
        "DISTRIBUTED" => items + transitions(&record),
        _ => transitions(&record),
    };
    Measured {
        name: format!("Map of {items} items ({mode})"),
        transitions: n,
        wall,
        sched,
        baseline,
    }
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
