//! The engine against the AWS-recorded corpus (`tests/asl-conformance`): every pure case
//! (`execution` and `test_state`) and every external case (its recorded `task_outcomes`
//! replayed through [`Replay`]) runs on a virtual clock through one [`check`], which compares
//! status, output, error and cause placeholder-aware, and, where the case has a recorded
//! history, every event: type, id, `previousEventId` and details (`feedpipe_tests::history`).
//! Tokens some recordings replaced without listing them are the `feedpipe_tests::errata`.
//!
//! `tests/conformance-expectations.json` lists every case known to fail, with the reason, and the
//! committed pass count of each feature group. The test fails when a case fails that is not
//! listed, when a listed case passes (update the file), or when a group passes fewer cases than
//! committed. `UPDATE_CONFORMANCE=1` rewrites the file from the current run (keeping reasons).
//! The per-feature table is printed (`--nocapture`) and written to
//! `$CARGO_TARGET_TMPDIR/conformance-report.txt`.
//!
//! The runner and the comparisons live in the `feedpipe_tests` helper library (`runner`,
//! `compare`, `history`, `errata`), shared with the benchmark.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use serde_json::{json, Value};

use feedpipe_tests::errata::{ALL_CASES, ERRATA};
use feedpipe_tests::runner::{check, Verdict};
use feedpipe_tests::{conformance_cases, workspace_root, ConformanceCase};

const EXPECTATIONS: &str = "tests/conformance-expectations.json";

#[test]
fn conformance_against_the_aws_recorded_corpus() {
    let started = std::time::Instant::now();
    let cases = conformance_cases(&["pure", "external"]);
    let mut verdicts: BTreeMap<String, (Verdict, Groups)> = BTreeMap::new();
    for case in &cases {
        let id = relative(&case.path);
        let verdict = catch_unwind(AssertUnwindSafe(|| check(case)))
            .unwrap_or_else(|_| Verdict::Fail("the engine panicked".to_string()));
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
            .filter_map(|(id, (v, _))| message(v).map(|e| format!("  {id}\n      {e}\n")))
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

/// Every erratum names cases that exist and whose recording holds its token, so none outlives
/// the reason it was written for.
#[test]
fn every_erratum_applies_to_cases_holding_its_token() {
    let cases = conformance_cases(&["pure", "external"]);
    for erratum in ERRATA {
        if erratum.cases == ALL_CASES {
            let holding = cases
                .iter()
                .filter(|c| c.json["history"].to_string().contains(erratum.token))
                .count();
            assert!(holding > 0, "erratum {:?}: no case holds it", erratum.token);
            continue;
        }
        for id in erratum.cases {
            let case = cases
                .iter()
                .find(|c| c.json["id"] == *id)
                .unwrap_or_else(|| panic!("erratum {:?}: no case {id}", erratum.token));
            let listed = case.json["placeholders"]
                .as_array()
                .is_some_and(|p| p.iter().any(|t| t == erratum.token));
            assert!(
                !listed,
                "erratum {:?}: {id} lists it already",
                erratum.token
            );
            assert!(
                case.json["expected"].to_string().contains(erratum.token)
                    || case.json["history"].to_string().contains(erratum.token),
                "erratum {:?}: {id} does not hold it",
                erratum.token
            );
        }
    }
}

/// What differed, for a case that does not pass.
fn message(v: &Verdict) -> Option<&str> {
    match v {
        Verdict::Pass => None,
        Verdict::Fail(e) | Verdict::NotReplayable(e) => Some(e),
    }
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
            ("external, all", 0, 0),
            (
                "external, replayable (the corpus holds what a replay needs)",
                0,
                0,
            ),
        ];
        for (verdict, g) in verdicts.values() {
            let ok = usize::from(verdict.is_pass());
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
                if !matches!(verdict, Verdict::NotReplayable(_)) {
                    add(4);
                }
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
                let e = message(v)?;
                let committed = committed["known_failures"][id].as_str();
                let reason = match (v, committed) {
                    (Verdict::NotReplayable(why), _) => why.clone(),
                    (_, Some(reason)) => reason.to_string(),
                    _ => e.lines().next().unwrap_or_default().to_string(),
                };
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
                (Verdict::Fail(e) | Verdict::NotReplayable(e), false) => out.push(format!(
                    "new failure {id}: {}",
                    e.lines().next().unwrap_or_default()
                )),
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
