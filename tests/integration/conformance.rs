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
    Engine, ExecutionRecord, InspectionLevel, Integrations, Mock, Recorded, Replay, SeededRandom,
    StartExecution, TaskError, TestStateInput, VirtualClock,
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
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(String::from))
                .collect()
        })
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
    let express = c["execution_api"] == "start_sync_execution";
    let record = run(definition, c["input"].clone(), &integrations, express)?;
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
        let reversed = c["source"]["snapshot_key"]
            .as_str()
            .is_some_and(|k| k.contains("reverseOrder[True]"));
        let history = c["history"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        compare_history(history, &record, reversed)?;
    }
    Ok(())
}

fn check_test_state(c: &Value, placeholders: &[String]) -> Verdict {
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
    let integrations = Integrations::new();
    let clock = VirtualClock::new(CAPTURE_MS);
    let random = SeededRandom::new(7);
    let engine = Engine::new(&clock, &random, &integrations);
    let out = clock
        .block_on(engine.test_state(request), Some(CAPTURE_MS + HORIZON_MS))
        .ok_or("the tested state did not finish")?
        .map_err(|e| format!("TestState refused the request: {e}"))?;
    let actual = Actual {
        status: out.status.as_str().to_string(),
        output: out.output.clone(),
        error: out.error.clone(),
        cause: out.cause.clone(),
    };
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
            (Some(e), Some(g)) => crate::conformance_compare::same(e, g, placeholders),
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
    let engine = Engine::new(&clock, &random, integrations);
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

/// The recorded task outcomes as a [`Replay`] integration serving every resource.
fn replay(outcomes: &Value, definition: &Value) -> Integrations {
    let list = outcomes.as_array().cloned().unwrap_or_default();
    let recorded = list.into_iter().map(|o| {
        let state = o["state"].as_str().unwrap_or_default().to_string();
        // The recording parsed JSON causes; AWS wrote them as Python's json.dumps does.
        let text = |v: &Value| match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(python_json(other)),
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
        (state, outcome)
    });
    Integrations::new().route("", Arc::new(Replay::new(recorded)))
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

/// Compares event types by id. Events AWS recorded with a non-numeric id (branch events of a
/// Parallel state, whose interleaving varies run to run) were also thinned out by the
/// recording (the ids jump), so between two numbered events they must be found among ours, in
/// any order.
fn compare_history(expected: &[Value], record: &ExecutionRecord, reversed: bool) -> Verdict {
    if expected.is_empty() {
        return Ok(());
    }
    let got: Vec<&str> = record.history.iter().map(|e| e.kind.as_str()).collect();
    let mut exp: Vec<(&str, Option<u64>)> = expected
        .iter()
        .map(|e| (e["type"].as_str().unwrap_or_default(), e["id"].as_u64()))
        .collect();
    if reversed {
        exp.reverse();
    }
    let differ = || {
        format!(
            "history types\n      got      {}\n      expected {}",
            got.join(" "),
            exp.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(" ")
        )
    };
    let mut floor = 0usize;
    let mut pending: Vec<&str> = Vec::new();
    for (ty, id) in exp
        .iter()
        .copied()
        .chain(std::iter::once(("", Some(got.len() as u64 + 1))))
    {
        let Some(id) = id else {
            pending.push(ty);
            continue;
        };
        let id = usize::try_from(id).unwrap_or(usize::MAX);
        if id <= floor || id > got.len() + 1 || (!ty.is_empty() && got[id - 1] != ty) {
            return Err(differ());
        }
        let mut window: Vec<&str> = got[floor..id - 1].to_vec();
        for p in pending.drain(..) {
            match window.iter().position(|w| *w == p) {
                Some(at) => {
                    window.swap_remove(at);
                }
                None => return Err(differ()),
            }
        }
        floor = id;
    }
    if exp.last().is_some_and(|(_, id)| id.is_some())
        && exp.iter().filter_map(|e| e.1).max() != Some(got.len() as u64)
    {
        return Err(differ());
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
        format!(
            "{}/{}",
            if self.pure { "pure" } else { "external" },
            self.feature
        )
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
        let mut totals = [
            ("pure, all", 0, 0),
            ("pure, JSONPath", 0, 0),
            ("pure, JSONata", 0, 0),
            ("external, replayed", 0, 0),
        ];
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
        let pct = |p: usize, t: usize| {
            if t == 0 {
                100.0
            } else {
                p as f64 * 100.0 / t as f64
            }
        };
        let mut s = format!("{:<70} {:>7} {:>6}\n", "feature group", "passed", "rate");
        for (k, (p, t)) in &self.rows {
            s += &format!("{k:<70} {:>7} {:>5.1}%\n", format!("{p}/{t}"), pct(*p, *t));
        }
        s += "\n";
        for (name, p, t) in &self.totals {
            s += &format!(
                "{name:<70} {:>7} {:>5.1}%\n",
                format!("{p}/{t}"),
                pct(*p, *t)
            );
        }
        s
    }

    /// The expectations file for this run, keeping committed reasons.
    fn expectations(
        &self,
        verdicts: &BTreeMap<String, (Verdict, Groups)>,
        committed: &Value,
    ) -> Value {
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
    fn problems(
        &self,
        verdicts: &BTreeMap<String, (Verdict, Groups)>,
        committed: &Value,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let known = committed["known_failures"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (id, (v, _)) in verdicts {
            match (v, known.contains_key(id)) {
                (Err(e), false) => out.push(format!(
                    "new failure {id}: {}",
                    e.lines().next().unwrap_or_default()
                )),
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
