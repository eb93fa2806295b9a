//! Property tests: evaluation never panics, whatever paths, intrinsic calls, JSONata
//! expressions, templates and values it is given. Each case runs through the same entry points
//! the engine uses.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::*;
use crate::asl::QueryLanguage;

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-z0-9 ,.$*{}'\\\\-]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Text built from the characters the three languages are made of.
fn expression_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "$",
        "$$",
        "$.",
        "$.a",
        ".b",
        "[0]",
        "[-1]",
        "[*]",
        "[1:]",
        "[?(@.a > 1)]",
        "..",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "'",
        "\"",
        ",",
        ":",
        ";",
        "?",
        "+",
        "-",
        "*",
        "/",
        "%",
        "&",
        "=",
        "!=",
        "<",
        ">=",
        "and",
        "or",
        "in",
        "~>",
        ":=",
        "1",
        "2.5",
        "1e400",
        "-0",
        "true",
        "null",
        "a",
        "b",
        "$x",
        "$states.input",
        "$states.result",
        "$var",
        "function($v){$v}",
        "$map",
        "$count",
        "$sum",
        "$string",
        "$pad",
        "$range",
        "$substring",
        "$partition",
        "$hash",
        "$random",
        "$uuid",
        "$parse",
        "$fromMillis",
        "/a+/",
        "States.",
        "States.Format",
        "States.Array",
        "States.ArrayRange",
        "States.MathAdd",
        "States.MathRandom",
        "States.StringSplit",
        "States.ArrayGetItem",
        "States.Hash",
        "States.JsonMerge",
        "States.Base64Decode",
        "'{}'",
        "\\",
        "é",
        " ",
    ]);
    prop::collection::vec(pieces, 0..14).prop_map(|v| v.concat())
}

fn with_scope(input: &Value, f: impl FnOnce(&Scope)) {
    let ctx = json!({"Execution": {"Input": input.clone()}, "State": {"EnteredTime": "2024-01-01T00:00:00Z"}});
    let mut vars = Map::new();
    vars.insert("x".into(), input.clone());
    vars.insert("var".into(), json!([1, {"a": 2}]));
    let rng = SeededRandom::new(9);
    let result = json!({"a": [1, 2, 3]});
    let scope = Scope::new(input, &ctx, &vars, &rng).with_result(&result);
    f(&scope);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn paths_never_panic(text in expression_text(), input in value()) {
        with_scope(&input, |scope| {
            let _ = jsonpath::query(&text, scope);
            let p = Some(Some(text.clone()));
            let _ = apply_input_path(&p, scope);
            let _ = apply_result_path(&p, scope.input, json!(1));
            let _ = apply_output_path(&p, scope.input, scope);
        });
    }

    #[test]
    fn intrinsics_never_panic(text in expression_text(), input in value()) {
        with_scope(&input, |scope| {
            let _ = intrinsics::evaluate(&text, "f.$", scope);
            let _ = intrinsics::evaluate(&format!("States.Format({text})"), "f.$", scope);
        });
    }

    #[test]
    fn jsonata_never_panics(text in expression_text(), input in value()) {
        with_scope(&input, |scope| {
            let _ = jsonata::evaluate(&text, "Output", scope);
        });
    }

    #[test]
    fn templates_and_assign_never_panic(template in value(), input in value()) {
        with_scope(&input, |scope| {
            for lang in [QueryLanguage::JsonPath, QueryLanguage::Jsonata] {
                let _ = evaluate_payload(lang, "Output", &template, scope);
                let _ = evaluate_assign(lang, &template, scope);
            }
            let _ = check_payload_size(&template, "S");
        });
    }

    #[test]
    fn timestamps_never_panic(text in "[0-9T:.Z+-]{0,32}") {
        if let Some(t) = Timestamp::parse(&text) {
            let _ = t.to_string();
            let _ = t.unix_millis();
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    with_scope(&json!({}), |scope| {
        let deep = "(".repeat(5000) + &")".repeat(5000);
        assert!(jsonata::evaluate(&deep, "Output", scope).is_err());
        let calls = "States.Array(".repeat(5000) + &")".repeat(5000);
        assert!(intrinsics::evaluate(&calls, "f.$", scope).is_err());
        let filters = format!("$[?({}@.a{})]", "(".repeat(5000), ")".repeat(5000));
        assert!(jsonpath::query(&filters, scope).is_err());
        let nots = format!("$[?({}@.a)]", "!".repeat(5000));
        assert!(jsonpath::query(&nots, scope).is_err());
    });
}
