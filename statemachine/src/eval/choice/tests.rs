//! Choice rules against the AWS-recorded `choice_operators__*` cases of the conformance
//! corpus: each is a Choice state whose rule sends the input to `ConditionTrue` or
//! `ConditionFalse`.

use std::path::PathBuf;

use serde_json::{json, Map, Value};

use super::*;
use crate::asl::{State, StateMachine};
use crate::eval::SeededRandom;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/asl-conformance/pure")
}

fn run_choice(definition: &Value, input: &Value) -> Result<String, EvalError> {
    let sm = StateMachine::from_value(definition.clone()).expect("corpus definition parses");
    let State::Choice(choice) = &sm.states[sm.start_at.as_str()] else {
        panic!("the first state is a Choice")
    };
    let ctx = json!({});
    let vars = Map::new();
    let rng = SeededRandom::new(1);
    let scope = Scope::new(input, &ctx, &vars, &rng);
    for rule in &choice.choices {
        if evaluate_rule(&rule.condition, &scope)? {
            return Ok(rule.next.clone().unwrap_or_default());
        }
    }
    Ok(choice.default.clone().unwrap_or_default())
}

#[test]
fn choice_operator_cases_recorded_against_aws() {
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(corpus())
        .expect("corpus present")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("choice_operators__")
        })
        .collect();
    dirs.sort_by_key(|e| e.file_name());
    for dir in dirs {
        for file in std::fs::read_dir(dir.path())
            .expect("readable")
            .filter_map(Result::ok)
        {
            let case: Value =
                serde_json::from_slice(&std::fs::read(file.path()).expect("readable"))
                    .expect("JSON");
            let expected = &case["expected"];
            let got = run_choice(&case["definition"], &case["input"]);
            let ok = match (expected["status"].as_str(), &got) {
                (Some("SUCCEEDED"), Ok(next)) => expected["output"]["TestResult.$"] == json!(next),
                (Some("FAILED"), Err(e)) => expected["error"] == json!(e.error()),
                _ => false,
            };
            checked += 1;
            if !ok {
                failures.push(format!(
                    "{}: input {} expected {} got {got:?}",
                    file.file_name().to_string_lossy(),
                    case["input"],
                    expected
                ));
            }
        }
    }
    assert!(checked > 400, "only {checked} choice cases found");
    assert!(
        failures.is_empty(),
        "{} of {checked} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn string_matches_wildcards_and_escapes() {
    assert!(string_matches("log-2024.txt", "log-*.txt"));
    assert!(string_matches("abc", "*"));
    assert!(string_matches("", "*"));
    assert!(!string_matches("abc", "a*d"));
    assert!(string_matches("a*c", r"a\*c"));
    assert!(!string_matches("abc", r"a\*c"));
    assert!(string_matches(r"a\b", r"a\\b"));
    assert!(string_matches("aXbXc", "*b*c"));
}
