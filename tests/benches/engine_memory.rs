//! Engine memory benchmark (a plain binary, `harness = false`): peak resident memory and wall
//! time of executions whose payloads are large or many, each case in a child process of its
//! own so that its peak (`VmHWM` of `/proc/self/status`) is its alone.
//!
//! `cargo bench -p feedpipe-tests --bench engine_memory [-- CASE...]`, cases `pass-loop` (a
//! Pass/Choice loop carrying a 200 KiB payload, the round counter in a variable), `map` (an
//! inline Map of 10,000 items), `big-input` (a 10 MB input of 215,000 small objects, over the
//! 256 KiB limit; `check_start_input` first, then the engine as if it had not been called),
//! `deep` (a loop that nests its payload one level per round, then `$..a`) and
//! `baseline` (the small Pass/Choice loop of `benches/engine.rs`, transitions per second).
//! `ENGINE_MEMORY_ROUNDS` (default 10,000) sets the rounds of `pass-loop`,
//! `ENGINE_MEMORY_DEPTH` (default 500) the depth of `deep`. Each child runs under a
//! virtual-memory cap (`ENGINE_MEMORY_CAP_MIB`, default 8,192) so that a regression ends in
//! an allocation failure, not in a machine out of memory.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use statemachine::asl::StateMachine;
use statemachine::engine::{
    Engine, ExecutionRecord, HistoryEvent, Integrations, SeededRandom, StartExecution, VirtualClock,
};

const CASES: [&str; 5] = ["baseline", "pass-loop", "map", "big-input", "deep"];
const CHILD: &str = "ENGINE_MEMORY_CHILD";

fn main() {
    if let Ok(case) = std::env::var(CHILD) {
        child(&case);
        return;
    }
    let asked: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let cap: u64 = env_num("ENGINE_MEMORY_CAP_MIB", 8_192);
    let exe = std::env::current_exe().expect("own path");
    println!("engine memory: each case in a child process, peak RSS (VmHWM) and wall");
    for case in CASES {
        if !asked.is_empty() && !asked.iter().any(|a| a == case) {
            continue;
        }
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -v {}; exec \"$0\"", cap * 1024))
            .arg(&exe)
            .env(CHILD, case)
            .output()
            .expect("child process starts");
        let text = String::from_utf8_lossy(&out.stdout);
        if out.status.success() {
            print!("{text}");
        } else {
            println!(
                "{case:<10} ended with {} (cap {cap} MiB of address space): {}{}",
                out.status,
                text.trim(),
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
        }
        let _ = std::io::stdout().flush();
    }
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak and current resident memory of this process, in MiB.
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn child(case: &str) {
    let (start_peak, _) = rss_mib();
    let (definition, input, note) = match case {
        "baseline" => small_loop(100_000),
        "pass-loop" => pass_loop(env_num("ENGINE_MEMORY_ROUNDS", 10_000)),
        "map" => inline_map(10_000),
        "big-input" => big_input(215_000),
        "deep" => deep(env_num("ENGINE_MEMORY_DEPTH", 500)),
        other => panic!("unknown case {other}"),
    };
    let input_bytes = json_len(&input);
    let (_, before_run) = rss_mib();
    if case == "big-input" {
        // What a caller does first: refuse the input as StartExecution would.
        let t = Instant::now();
        let refused = statemachine::engine::check_start_input(&input);
        let (peak, _) = rss_mib();
        println!(
            "{case:<10} check_start_input: {} in {:.1} ms, peak RSS {peak:.1} MiB (the input value itself: {:.1} MiB)",
            match &refused {
                Ok(()) => "accepted".to_string(),
                Err(e) => format!("refused ({e})"),
            },
            t.elapsed().as_secs_f64() * 1e3,
            before_run - start_peak,
        );
    }
    let (record, wall) = execute(definition, input);
    let (peak, now) = rss_mib();
    let transitions = record
        .history
        .iter()
        .filter(|e| e.kind.as_str().ends_with("StateEntered"))
        .count();
    let history_bytes: usize = record.history.iter().map(event_len).sum();
    println!(
        "{case:<10} {note}: {} in {:.2} s ({:.0} transitions/s), {} events, history {:.1} MiB as JSON; input {:.1} KiB; peak RSS {:.1} MiB (at start {:.1}, input built {:.1}), RSS after {:.1} MiB{}",
        record.status.as_str(),
        wall.as_secs_f64(),
        transitions as f64 / wall.as_secs_f64().max(1e-9),
        record.history.len(),
        history_bytes as f64 / 1048576.0,
        input_bytes as f64 / 1024.0,
        peak,
        start_peak,
        before_run,
        now,
        record
            .error
            .as_ref()
            .map(|e| format!("; {e}: {}", record.cause.as_deref().unwrap_or("")))
            .unwrap_or_default(),
    );
}

/// Counts the bytes written to it.
struct Count(usize);

impl Write for Count {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len();
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes of `v`'s JSON text.
fn json_len(v: &Value) -> usize {
    let mut c = Count(0);
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

/// Bytes of the event's JSON text, as `GetExecutionHistory` has it.
fn event_len(e: &HistoryEvent) -> usize {
    let mut c = Count(0);
    let _ = serde_json::to_writer(&mut c, e);
    c.0
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
    (record, t.elapsed())
}

/// The Pass/Choice loop of `benches/engine.rs`: 2 transitions per round, a small payload.
fn small_loop(rounds: u64) -> (Value, Value, String) {
    let definition = json!({"StartAt": "Count", "States": {
        "Count": {"Type": "Pass", "Parameters": {"count.$": "States.MathAdd($.count, 1)", "tag.$": "$.tag"}, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.count", "NumericLessThan": rounds, "Next": "Count"}], "Default": "Done"},
        "Done": {"Type": "Succeed"}}});
    let note = format!("Pass/Choice loop, {rounds} rounds, small payload");
    (definition, json!({"count": 0, "tag": "feedpipe"}), note)
}

/// About `bytes` of job-like records.
fn payload(bytes: usize) -> Value {
    let mut records = Vec::new();
    let mut size = 0;
    let mut i = 0;
    while size < bytes {
        let r = json!({"id": format!("job-{i:06}"), "title": format!("Warehouse operative {i}"),
            "salary": 21_000 + i * 7, "remote": i % 3 == 0, "tags": ["full-time", "north"]});
        size += json_len(&r) + 1;
        records.push(r);
        i += 1;
    }
    json!({ "records": records })
}

/// A Pass/Choice loop carrying a 200 KiB payload unchanged; the counter is a variable.
fn pass_loop(rounds: u64) -> (Value, Value, String) {
    let definition = json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Assign": {"round": 0}, "Next": "Count"},
        "Count": {"Type": "Pass", "Assign": {"round.$": "States.MathAdd($round, 1)"}, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$round", "NumericLessThan": rounds, "Next": "Count"}], "Default": "Done"},
        "Done": {"Type": "Succeed"}}});
    let note = format!("Pass/Choice loop, {rounds} rounds, 200 KiB payload");
    (definition, payload(200 * 1024), note)
}

/// An inline Map over `items` numbers with an ItemSelector reading `$$.Map.Item`.
fn inline_map(items: usize) -> (Value, Value, String) {
    let definition = json!({"StartAt": "Each", "States": {"Each": {"Type": "Map",
        "ItemsPath": "$.items",
        "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": "Double", "States": {"Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($.value, $.value)"}, "End": true}}},
        "End": true}}});
    let input = json!({"items": (0..items).collect::<Vec<_>>()});
    (definition, input, format!("inline Map of {items} items"))
}

/// An input of `n` small objects (about 10 MB for 215,000), far over the 256 KiB limit.
fn big_input(n: usize) -> (Value, Value, String) {
    let definition = json!({"StartAt": "First", "States": {
        "First": {"Type": "Pass", "End": true}}});
    let items: Vec<Value> = (0..n)
        .map(|i| json!({"id": i, "sku": format!("SKU-{i:07}"), "qty": i % 7, "on": true}))
        .collect();
    (
        definition,
        json!({ "items": items }),
        format!("input of {n} objects"),
    )
}

/// Nests the payload one level a round (`{"a": previous}`), then counts `$..a` (past
/// `MAX_PAYLOAD_DEPTH` levels the loop fails by name first).
fn deep(depth: u64) -> (Value, Value, String) {
    let definition = json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Assign": {"round": 0}, "Next": "Wrap"},
        "Wrap": {"Type": "Pass", "Parameters": {"a.$": "$"}, "Assign": {"round.$": "States.MathAdd($round, 1)"}, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$round", "NumericLessThan": depth, "Next": "Wrap"}], "Default": "Find"},
        "Find": {"Type": "Pass", "Parameters": {"found.$": "States.ArrayLength($..a)"}, "End": true}}});
    (definition, json!({}), format!("{depth}-deep value, $..a"))
}
