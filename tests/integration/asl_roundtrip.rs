//! Every definition of the conformance corpus parses into the ASL types and prints back to
//! equal JSON.

use serde_json::Value;
use statemachine::asl::{State, StateMachine};

use feedpipe_tests::conformance_cases;

#[test]
fn every_conformance_definition_round_trips() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in conformance_cases(&["pure", "external"]) {
        let definition = case.json["definition"].clone();
        let printed = if definition.get("StartAt").is_some() {
            StateMachine::from_value(definition.clone()).map(|sm| sm.to_value())
        } else {
            serde_json::from_value::<State>(definition.clone())
                .map(|s| serde_json::to_value(s).expect("serializes"))
                .map_err(|e| statemachine::asl::ParseError {
                    path: ".".into(),
                    message: e.to_string(),
                })
        };
        match printed {
            Ok(v) if v == definition => checked += 1,
            Ok(v) => failures.push(format!("{}: printed differently: {v}", case.path.display())),
            Err(e) => failures.push(format!("{}: {e}", case.path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        checked + failures.len(),
        failures.join("\n")
    );
    assert!(checked > 1200, "only {checked} definitions found");
    let _: Option<Value> = None;
}
