//! The engine against the AWS-recorded corpus (`tests/asl-conformance`): every pure case
//! (`execution` and `test_state`) and every external case (its recorded `task_outcomes`
//! replayed through [`Replay`]) runs on a virtual clock through one [`check`], which compares
//! status, output, error and cause placeholder-aware, and, for pure executions, the sequence of
//! history event types.
//!
//! `tests/conformance-expectations.json` lists every case known to fail, with the reason, and the
//! committed pass count of each feature group. The test fails when a case fails that is not
//! listed, when a listed case passes (update the file), or when a group passes fewer cases than
//! committed. `UPDATE_CONFORMANCE=1` rewrites the file from the current run (keeping reasons).
//! The per-feature table is printed (`--nocapture`) and written to
//! `$CARGO_TARGET_TMPDIR/conformance-report.txt`.
//!
//! Time: every case starts its virtual clock at the moment the corpus was captured
//! (2026-11-23T20:07:34Z: the Wait boundary cases put "now + 24855 days" at
//! 2094-12-11T20:07:34Z), which is the "shift" the corpus README asks for, done on the clock
//! instead of the input. A run stops when finishing would take the clock past one virtual year;
//! it is then RUNNING, which matches a recording whose status is UNKNOWN (AWS never finished
//! it either).

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};
use statemachine::asl::StateMachine;
use statemachine::engine::{
    Engine, ExecutionRecord, Integrations, Recorded, Replay, SeededRandom, StartExecution,
    TaskError, VirtualClock,
};

use crate::conformance_compare::{mismatch, Actual};
use feedpipe_tests::{conformance_cases, workspace_root, ConformanceCase};

/// 2026-11-23T20:07:34Z.
const CAPTURE_MS: i64 = 1_795_464_454_000;
const HORIZON_MS: i64 = 366 * 86_400_000;
const EXPECTATIONS: &str = "tests/conformance-expectations.json";

/// One case's result: `Ok` or what differed.
type Verdict = Result<(), String>;

#[test]
fn conformance_against_the_aws_recorded_corpus() {
    let started = std::time::Instant::now();
    let cases = conformance_cases(&["pure", "external"]);
    let mut verdicts: BTreeMap<String, (Verdict, Groups)> = BTreeMap::new();
    for case in &cases {
        let id = relative(&case.path);
        let verdict = catch_unwind(AssertUnwindSafe(|| check(case)))
            .unwrap_or_else(|_| Err("the engine panicked".to_string()));
        verdicts.insert(id, (verdict, Groups::of(case)));
    }
    let elapsed = started.elapsed();
    let table = Table::build(&verdicts);
    let report = format!(
        "{}\n{} cases in {:.2} s\n\nfailures:\n{}",
        table.render(),
        verdicts.len(),
        elapsed.as_secs_f64(),
        verdicts
            .iter()
            .filter_map(|(id, (v, _))| v.as_ref().err().map(|e| format!("  {id}\n      {e}\n")))
            .collect::<String>()
    );
    println!("{report}");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance-report.txt");
    let _ = std::fs::write(&out, &report);

    let path = workspace_root().join(EXPECTATIONS);
    let committed: Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| json!({}));
    if std::env::var_os("UPDATE_CONFORMANCE").is_some() {
        let text = serde_json::to_string_pretty(&table.expectations(&verdicts, &committed))
            .expect("serializes")
            + "\n";
        std::fs::write(&path, text).expect("expectations file is writable");
        return;
    }
    let problems = table.problems(&verdicts, &committed);
    assert!(
        problems.is_empty(),
        "conformance changed ({} problems; see the report in {}):\n{}\n\
         If this is an improvement, run with UPDATE_CONFORMANCE=1 and commit {EXPECTATIONS}.",
        problems.len(),
        out.display(),
        problems.join("\n")
    );
}

/// Runs one case and compares it with its recording.
fn check(case: &ConformanceCase) -> Verdict {
    let c = &case.json;
    let placeholders: Vec<String> = c["placeholders"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p.as_str().map(String::from)).collect())
        .unwrap_or_default();
    match c["kind"].as_str() {
        Some("execution") => check_execution(c, &placeholders),
        Some("test_state") => check_test_state(c, &placeholders),
        other => Err(format!("unknown case kind {other:?}")),
    }
}

fn check_execution(c: &Value, placeholders: &[String]) -> Verdict {
    let definition = StateMachine::from_value(c["definition"].clone())
        .map_err(|e| format!("definition does not parse: {e}"))?;
    let integrations = match c.get("task_outcomes") {
        Some(outcomes) => replay(outcomes, &c["definition"]),
        None => Integrations::new(),
    };
    let record = run(definition, c["input"].clone(), &integrations)?;
    let actual = Actual {
        status: record.status.as_str().to_string(),
        output: record.output.clone(),
        error: record.error.clone(),
        cause: record.cause.clone(),
    };
    if let Some(diff) = mismatch(&c["expected"], placeholders, &actual) {
        return Err(diff);
    }
    if c["pure"] == json!(true) {
        compare_history(c["history"].as_array().map(Vec::as_slice).unwrap_or(&[]), &record)?;
    }
    Ok(())
}

fn check_test_state(_c: &Value, _placeholders: &[String]) -> Verdict {
    Err("TestState is not run yet".into())
}

/// Runs an execution on a fresh virtual clock.
fn run(
    definition: StateMachine,
    input: Value,
    integrations: &Integrations,
) -> Result<ExecutionRecord, String> {
    let clock = VirtualClock::new(CAPTURE_MS);
    let random = SeededRandom::new(7);
    let engine = Engine::new(&clock, &random, integrations);
    let start = StartExecution {
        state_machine_name: "ConformanceMachine".into(),
        name: "conformance-execution".into(),
        input,
    };
    let record = clock.block_on(engine.start(definition, start), Some(CAPTURE_MS + HORIZON_MS));
    Ok(record.unwrap_or_else(|| running_record()))
}

/// The record of an execution that did not finish within the horizon.
fn running_record() -> ExecutionRecord {
    let v = json!({
        "executionArn": "", "name": "", "stateMachineArn": "",
        "definition": {"StartAt": "S", "States": {"S": {"Type": "Succeed"}}},
        "input": {}, "status": "RUNNING", "startDateMs": 0, "history": []
    });
    serde_json::from_value(v).expect("a valid record")
}

/// The recorded task outcomes as a [`Replay`] integration serving every resource.
fn replay(outcomes: &Value, definition: &Value) -> Integrations {
    let list = outcomes.as_array().cloned().unwrap_or_default();
    let recorded = list.into_iter().map(|o| {
        let state = o["state"].as_str().unwrap_or_default().to_string();
        let text = |v: &Value| match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        };
        let outcome = match o["outcome"].as_str() {
            Some("succeeded") => Recorded::Succeeded(o["output"].clone()),
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
        (state, outcome)
    });
    Integrations::new().route("", Arc::new(Replay::new(recorded)))
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
        ["TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"]
            .iter()
            .any(|k| s.get(k).is_some())
    })
}

/// Compares event types in order. Events AWS recorded with a non-numeric id (branches of a
/// Parallel state, whose interleaving varies run to run) are compared as a set per block.
fn compare_history(expected: &[Value], record: &ExecutionRecord) -> Verdict {
    if expected.is_empty() {
        return Ok(());
    }
    let got: Vec<&str> = record.history.iter().map(|e| e.kind.as_str()).collect();
    let exp: Vec<(&str, bool)> = expected
        .iter()
        .map(|e| (e["type"].as_str().unwrap_or_default(), e["id"].is_u64()))
        .collect();
    let differ = || {
        format!(
            "history types\n      got      {}\n      expected {}",
            got.join(" "),
            exp.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(" ")
        )
    };
    if got.len() != exp.len() {
        return Err(differ());
    }
    let mut i = 0;
    while i < exp.len() {
        if exp[i].1 {
            if exp[i].0 != got[i] {
                return Err(differ());
            }
            i += 1;
            continue;
        }
        let end = (i..exp.len()).find(|&j| exp[j].1).unwrap_or(exp.len());
        let mut a: Vec<&str> = exp[i..end].iter().map(|(t, _)| *t).collect();
        let mut b: Vec<&str> = got[i..end].to_vec();
        a.sort_unstable();
        b.sort_unstable();
        if a != b {
            return Err(differ());
        }
        i = end;
    }
    Ok(())
}

fn relative(path: &Path) -> String {
    let base = workspace_root().join("tests/asl-conformance");
    path.strip_prefix(&base)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// The groups a case counts in: its feature folder, and the totals.
#[derive(Debug, Clone)]
struct Groups {
    feature: String,
    pure: bool,
    jsonata: bool,
}

impl Groups {
    fn of(case: &ConformanceCase) -> Groups {
        let c = &case.json;
        let id = c["id"].as_str().unwrap_or_default();
        let jsonata = c["features"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x == "JSONata"));
        Groups {
            feature: id.split('/').next().unwrap_or_default().to_string(),
            pure: c["pure"] == json!(true),
            jsonata,
        }
    }

    /// `pure/FEATURE` or `external/FEATURE`.
    fn key(&self) -> String {
        format!("{}/{}", if self.pure { "pure" } else { "external" }, self.feature)
    }
}

/// Pass counts per group and in total.
struct Table {
    rows: BTreeMap<String, (usize, usize)>,
    totals: Vec<(&'static str, usize, usize)>,
}

impl Table {
    fn build(verdicts: &BTreeMap<String, (Verdict, Groups)>) -> Table {
        let mut rows: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut totals = [("pure, all", 0, 0), ("pure, JSONPath", 0, 0), ("pure, JSONata", 0, 0), ("external, replayed", 0, 0)];
        for (verdict, g) in verdicts.values() {
            let ok = usize::from(verdict.is_ok());
            let row = rows.entry(g.key()).or_default();
            row.0 += ok;
            row.1 += 1;
            let mut add = |i: usize| {
                totals[i].1 += ok;
                totals[i].2 += 1;
            };
            if g.pure {
                add(0);
                add(if g.jsonata { 2 } else { 1 });
            } else {
                add(3);
            }
        }
        Table {
            rows,
            totals: totals.to_vec(),
        }
    }

    fn render(&self) -> String {
        let pct = |p: usize, t: usize| if t == 0 { 100.0 } else { p as f64 * 100.0 / t as f64 };
        let mut s = format!("{:<70} {:>7} {:>6}\n", "feature group", "passed", "rate");
        for (k, (p, t)) in &self.rows {
            s += &format!("{k:<70} {:>7} {:>5.1}%\n", format!("{p}/{t}"), pct(*p, *t));
        }
        s += "\n";
        for (name, p, t) in &self.totals {
            s += &format!("{name:<70} {:>7} {:>5.1}%\n", format!("{p}/{t}"), pct(*p, *t));
        }
        s
    }

    /// The expectations file for this run, keeping committed reasons.
    fn expectations(&self, verdicts: &BTreeMap<String, (Verdict, Groups)>, committed: &Value) -> Value {
        let failures: serde_json::Map<String, Value> = verdicts
            .iter()
            .filter_map(|(id, (v, _))| {
                let e = v.as_ref().err()?;
                let reason = committed["known_failures"][id]
                    .as_str()
                    .map(String::from)
                    .unwrap_or_else(|| e.lines().next().unwrap_or_default().to_string());
                Some((id.clone(), Value::String(reason)))
            })
            .collect();
        let groups: serde_json::Map<String, Value> = self
            .rows
            .iter()
            .map(|(k, (p, t))| (k.clone(), json!({"passed": p, "total": t})))
            .collect();
        json!({
            "about": "Known failing conformance cases (with reasons) and the committed pass count per feature group; see tests/integration/conformance.rs.",
            "groups": groups,
            "known_failures": failures,
        })
    }

    /// What differs from the committed expectations.
    fn problems(&self, verdicts: &BTreeMap<String, (Verdict, Groups)>, committed: &Value) -> Vec<String> {
        let mut out = Vec::new();
        let known = committed["known_failures"].as_object().cloned().unwrap_or_default();
        for (id, (v, _)) in verdicts {
            match (v, known.contains_key(id)) {
                (Err(e), false) => out.push(format!("new failure {id}: {}", e.lines().next().unwrap_or_default())),
                (Ok(()), true) => out.push(format!("now passes (remove it from the list): {id}")),
                _ => {}
            }
        }
        for id in known.keys() {
            if !verdicts.contains_key(id) {
                out.push(format!("listed case does not exist: {id}"));
            }
        }
        for (k, (p, _)) in &self.rows {
            let floor = committed["groups"][k]["passed"].as_u64().unwrap_or(0) as usize;
            if *p < floor {
                out.push(format!("{k}: {p} passed, committed {floor}"));
            }
        }
        out
    }
}
