//! The engine's JSONata evaluator against the reference test suite of JSONata 2.0.6
//! (`tests/jsonata-suite`, MIT, attribution in its README): every case of every group runs
//! through [`jsonata::evaluate_document`] with the case's data and bindings, a fixed clock,
//! seeded randomness and a per-case depth and step budget (a runaway expression fails with
//! `U1001` instead of hanging), and its result or error code is compared with the expected one.
//! `$eval` is not offered by Step Functions: a case using it passes when it fails, as on AWS.
//!
//! `tests/jsonata-expectations.json` lists every case known to fail, with the reason, and the
//! committed pass count of each group (reasons are what differed, rewritten on update). The test fails when a case fails that is not listed,
//! when a listed case passes (update the file), or when a group passes fewer cases than
//! committed. `UPDATE_JSONATA=1` rewrites the file from the current run.
//! The per-group table is printed (`--nocapture`) and written to
//! `$CARGO_TARGET_TMPDIR/jsonata-report.txt`.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use feedpipe_tests::workspace_root;
use statemachine::eval::jsonata::{self, DocumentOptions};
use statemachine::eval::SeededRandom;

const SUITE: &str = "tests/jsonata-suite";
const EXPECTATIONS: &str = "tests/jsonata-expectations.json";

/// The clock every case sees.
const NOW: &str = "2026-01-02T03:04:05.678Z";

/// Nesting allowed to a case without a `depth` field.
const DEFAULT_DEPTH: usize = 500;

/// Evaluation steps allowed to one case.
const MAX_STEPS: u64 = 3_000_000;

/// Stack for the thread that runs the cases (deep recursion cases need room in debug builds).
const STACK_BYTES: usize = 512 << 20;

/// One case of the suite.
struct Case {
    /// `group/file` or `group/file#index` for files holding several cases.
    id: String,
    group: String,
    json: Value,
    expr: String,
}

/// The outcome of one case.
#[derive(Debug, Clone)]
enum Verdict {
    Pass,
    Fail(String),
}

#[test]
fn jsonata_reference_suite() {
    let started = Instant::now();
    let root = workspace_root().join(SUITE);
    let cases = load_cases(&root);
    assert!(cases.len() > 1500, "the suite holds {} cases", cases.len());
    let datasets = load_datasets(&root);
    let runner = std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(move || {
            let mut out: BTreeMap<String, (Verdict, String, Duration)> = BTreeMap::new();
            for case in &cases {
                let t = Instant::now();
                let verdict = catch_unwind(AssertUnwindSafe(|| run(case, &datasets)))
                    .unwrap_or_else(|_| Verdict::Fail("the evaluator panicked".to_string()));
                out.insert(case.id.clone(), (verdict, case.group.clone(), t.elapsed()));
            }
            out
        })
        .expect("spawns the runner thread");
    let verdicts = runner.join().expect("the runner thread finishes");
    let elapsed = started.elapsed();

    let table = Table::build(&verdicts);
    let mut slow: Vec<(&String, Duration)> = verdicts.iter().map(|(k, v)| (k, v.2)).collect();
    slow.sort_by_key(|s| std::cmp::Reverse(s.1));
    let report = format!(
        "{}\n{} cases in {:.2} s; slowest: {}\n\nfailures:\n{}",
        table.render(),
        verdicts.len(),
        elapsed.as_secs_f64(),
        slow.iter()
            .take(5)
            .map(|(k, d)| format!("{k} {:.0} ms", d.as_secs_f64() * 1000.0))
            .collect::<Vec<_>>()
            .join(", "),
        verdicts
            .iter()
            .filter_map(|(id, (v, _, _))| match v {
                Verdict::Pass => None,
                Verdict::Fail(e) => Some(format!("  {id}\n      {e}\n")),
            })
            .collect::<String>()
    );
    println!("{report}");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("jsonata-report.txt");
    let _ = std::fs::write(&out, &report);

    let path = workspace_root().join(EXPECTATIONS);
    let committed: Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| json!({}));
    if std::env::var_os("UPDATE_JSONATA").is_some() {
        let text = serde_json::to_string_pretty(&table.expectations(&verdicts, &committed))
            .expect("serializes")
            + "\n";
        std::fs::write(&path, text).expect("expectations file is writable");
        return;
    }
    let problems = table.problems(&verdicts, &committed);
    assert!(
        problems.is_empty(),
        "JSONata conformance changed ({} problems; see the report in {}):\n{}\n\
         If this is an improvement, run with UPDATE_JSONATA=1 and commit {EXPECTATIONS}.",
        problems.len(),
        out.display(),
        problems.join("\n")
    );
}

/// Every case of every group, in file order.
fn load_cases(root: &Path) -> Vec<Case> {
    let mut files: Vec<PathBuf> = Vec::new();
    for group in std::fs::read_dir(root.join("groups")).expect("suite groups exist") {
        let group = group.expect("readable directory").path();
        for f in std::fs::read_dir(&group).expect("readable group") {
            let f = f.expect("readable entry").path();
            if f.extension().is_some_and(|e| e == "json") {
                files.push(f);
            }
        }
    }
    files.sort();
    let mut cases = Vec::new();
    for f in files {
        let group = f
            .parent()
            .and_then(Path::file_name)
            .map(|g| g.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&f)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", f.display()));
        let json: Value = match serde_json::from_str(&text) {
            Ok(json) => json,
            // A lone UTF-16 surrogate (`\uD800`) is valid JavaScript but no Rust string.
            Err(e) => {
                json!({"unreadable": format!("the case file cannot be read as JSON text: {e}")})
            }
        };
        let many = json.is_array();
        let items = match json {
            Value::Array(items) => items,
            one => vec![one],
        };
        for (i, case) in items.into_iter().enumerate() {
            let id = if many {
                format!("{group}/{stem}#{i}")
            } else {
                format!("{group}/{stem}")
            };
            let expr = match (&case["expr"], &case["expr-file"]) {
                _ if case.get("unreadable").is_some() => String::new(),
                (Value::String(e), _) => e.clone(),
                (_, Value::String(file)) => {
                    let p = f.with_file_name(file);
                    std::fs::read_to_string(&p)
                        .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
                }
                _ => panic!("{id}: no expr and no expr-file"),
            };
            cases.push(Case {
                id,
                group: group.clone(),
                json: case,
                expr,
            });
        }
    }
    cases
}

fn load_datasets(root: &Path) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for f in std::fs::read_dir(root.join("datasets")).expect("suite datasets exist") {
        let f = f.expect("readable entry").path();
        let name = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&f).expect("readable dataset");
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", f.display()));
        out.insert(name, value);
    }
    out
}

/// Runs one case and judges it.
fn run(case: &Case, datasets: &BTreeMap<String, Value>) -> Verdict {
    let c = &case.json;
    if let Some(Value::String(why)) = c.get("unreadable") {
        return Verdict::Fail(why.clone());
    }
    let input: Option<&Value> = match (c.get("data"), c.get("dataset")) {
        (Some(d), _) => Some(d),
        (None, Some(Value::String(name))) => match datasets.get(name) {
            Some(d) => Some(d),
            None => return Verdict::Fail(format!("unknown dataset {name}")),
        },
        _ => None,
    };
    let empty = Map::new();
    let bindings = c["bindings"].as_object().unwrap_or(&empty);
    let random = SeededRandom::new(42);
    let options = DocumentOptions {
        bindings,
        now: NOW,
        random: &random,
        max_depth: c["depth"].as_u64().map_or(DEFAULT_DEPTH, |d| d as usize),
        max_steps: MAX_STEPS,
    };
    let got = jsonata::evaluate_document(&case.expr, input, &options);
    if case.expr.contains("$eval") {
        // Step Functions does not offer `$eval`: AWS fails these expressions.
        return match got {
            Err(_) => Verdict::Pass,
            Ok(v) => Verdict::Fail(format!("$eval is not offered, yet got {v:?}")),
        };
    }
    let code = c["code"].as_str().or_else(|| c["error"]["code"].as_str());
    match (got, code) {
        (Err(e), Some(code)) if e.code == code => Verdict::Pass,
        (Err(e), Some(code)) => Verdict::Fail(format!("expected error {code}, got {e}")),
        (Ok(v), Some(code)) => Verdict::Fail(format!(
            "expected error {code}, got {}",
            v.map_or("undefined".to_string(), |v| v.to_string())
        )),
        (Err(e), None) => Verdict::Fail(format!("unexpected error {e}")),
        (Ok(v), None) => {
            let want = if c["undefinedResult"] == json!(true) {
                None
            } else {
                c.get("result")
            };
            let unordered = c["unordered"] == json!(true);
            let same = match (&v, want) {
                (None, None) => true,
                (Some(a), Some(b)) => same_value(a, b, unordered),
                _ => false,
            };
            if same {
                Verdict::Pass
            } else {
                let show = |x: Option<&Value>| x.map_or("undefined".to_string(), |x| x.to_string());
                Verdict::Fail(format!(
                    "expected {}, got {}",
                    clip(&show(want)),
                    clip(&show(v.as_ref()))
                ))
            }
        }
    }
}

/// JSON equality with numbers compared as doubles (one unit in the last place apart counts as
/// equal: serde_json, built without `float_roundtrip`, may read a decimal one unit off);
/// `unordered` compares top-level arrays as multisets.
fn same_value(a: &Value, b: &Value, unordered: bool) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(p), Some(q)) => {
                p == q || (p.signum() == q.signum() && p.to_bits().abs_diff(q.to_bits()) <= 1)
            }
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) if unordered => {
            let mut left: Vec<&Value> = x.iter().collect();
            x.len() == y.len()
                && y.iter().all(|want| {
                    match left.iter().position(|got| same_value(got, want, false)) {
                        Some(i) => {
                            left.remove(i);
                            true
                        }
                        None => false,
                    }
                })
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q, false))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w, false)))
        }
        _ => a == b,
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() > 160 {
        format!("{}...", s.chars().take(160).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Pass counts per group and in total.
struct Table {
    rows: BTreeMap<String, (usize, usize)>,
}

type Verdicts = BTreeMap<String, (Verdict, String, Duration)>;

impl Table {
    fn build(verdicts: &Verdicts) -> Table {
        let mut rows: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for (verdict, group, _) in verdicts.values() {
            let row = rows.entry(group.clone()).or_default();
            row.0 += usize::from(matches!(verdict, Verdict::Pass));
            row.1 += 1;
        }
        Table { rows }
    }

    fn render(&self) -> String {
        let pct = |p: usize, t: usize| {
            if t == 0 {
                100.0
            } else {
                p as f64 * 100.0 / t as f64
            }
        };
        let mut s = format!("{:<36} {:>9} {:>6}\n", "group", "passed", "rate");
        let (mut p_all, mut t_all) = (0, 0);
        for (k, (p, t)) in &self.rows {
            s += &format!("{k:<36} {:>9} {:>5.1}%\n", format!("{p}/{t}"), pct(*p, *t));
            p_all += p;
            t_all += t;
        }
        s += &format!(
            "\n{:<36} {:>9} {:>5.1}%\n",
            "all",
            format!("{p_all}/{t_all}"),
            pct(p_all, t_all)
        );
        s
    }

    /// The expectations file for this run, keeping committed reasons.
    fn expectations(&self, verdicts: &Verdicts, committed: &Value) -> Value {
        let failures: Map<String, Value> = verdicts
            .iter()
            .filter_map(|(id, (v, _, _))| {
                let Verdict::Fail(e) = v else { return None };
                let _ = committed;
                Some((id.clone(), Value::String(e.clone())))
            })
            .collect();
        let groups: Map<String, Value> = self
            .rows
            .iter()
            .map(|(k, (p, t))| (k.clone(), json!({"passed": p, "total": t})))
            .collect();
        json!({
            "about": "Known failing cases of the JSONata 2.0.6 reference suite (with reasons) and the committed pass count per group; see tests/integration/jsonata_suite.rs.",
            "groups": groups,
            "known_failures": failures,
        })
    }

    /// What differs from the committed expectations.
    fn problems(&self, verdicts: &Verdicts, committed: &Value) -> Vec<String> {
        let mut out = Vec::new();
        let known = committed["known_failures"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (id, (v, _, _)) in verdicts {
            match (v, known.contains_key(id)) {
                (Verdict::Fail(e), false) => out.push(format!("new failure {id}: {e}")),
                (Verdict::Pass, true) => {
                    out.push(format!("now passes (remove it from the list): {id}"))
                }
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
