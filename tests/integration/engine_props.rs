//! Property: random definitions and inputs never panic the engine. Definitions are built from
//! the ASL vocabulary (every state type, paths good and bad, templates with intrinsics and
//! JSONata, Retry/Catch, Map/Parallel nesting, Next pointing anywhere, templates that nest or
//! double the payload each time round a loop), so most parse and many run; whatever they do,
//! the engine must end with a status within its step budget (the history quota), a failure must
//! carry an error name, and the process's peak memory must stay under a bound. TestState gets
//! the same states one at a time. JSONPath `..` gets random deep values.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use statemachine::asl::StateMachine;
use statemachine::engine::{
    Engine, ExecutionStatus, InspectionLevel, Integrations, Mock, Recorded, Replay, SeededRandom,
    StartExecution, TaskError, TestStateInput, VirtualClock,
};
use statemachine::eval::jsonpath::QueryError;
use statemachine::eval::{drop_deep, NoVariables, Scope};

const NAMES: [&str; 5] = ["A", "B", "C", "D", "E"];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z$.{}%' ]{0,8}".prop_map(Value::from),
        Just(json!("2016-03-14T01:59:00Z")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-c]", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn path() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        "$",
        "$.a",
        "$.b",
        "$.a[0]",
        "$.a[*]",
        "$..a",
        "$$",
        "$$.Execution.Input",
        "$$.State.Name",
        "$$.Map.Item.Value",
        "$x",
        "$.",
        "",
        "nope",
        "$[?(@.a > 1)]",
    ])
    .prop_map(Value::from)
}

fn template() -> impl Strategy<Value = Value> {
    let expr = prop::sample::select(vec![
        "States.Format('{}-{}', $.a, $.b)",
        "States.MathAdd($.a, 1)",
        "States.ArrayLength($.a)",
        "States.StringToJson($.a)",
        "States.JsonToString($)",
        "States.Array($.a, 2)",
        "States.Hash($.a, 'SHA-256')",
        "States.UUID()",
        "States.MathRandom(1, 9)",
        "States.ArrayRange(0, $.a, 1)",
        "States.Base64Decode($.a)",
        "States.Nope(1)",
        "States.Format(",
        "States.Array($, $)",
        "States.ArrayLength($..a)",
    ]);
    (prop::collection::vec(
        (
            prop::sample::select(vec!["x.$", "y.$", "z"]),
            prop_oneof![expr.prop_map(Value::from), path(), json_value()],
        ),
        0..3,
    ))
    .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

fn jsonata() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        "{% $states.input %}",
        "{% $states.input.a + 1 %}",
        "{% $x %}",
        "{% [1,2,3] %}",
        "{% $count($states.input) %}",
        "{% ( %}",
        "{% $states.result %}",
        "{% $nope() %}",
        "{% [$states.input, $states.input] %}",
        "{% {'a': $states.input} %}",
    ])
    .prop_map(Value::from)
}

fn transition() -> impl Strategy<Value = (Option<&'static str>, bool)> {
    prop_oneof![
        prop::sample::select(NAMES.to_vec()).prop_map(|n| (Some(n), false)),
        Just((None, true)),
        Just((Some("Missing"), false)),
    ]
}

fn retry_catch() -> impl Strategy<Value = (Option<Value>, Option<Value>)> {
    let errors = prop::sample::select(vec![
        "States.ALL",
        "States.TaskFailed",
        "States.Timeout",
        "Boom",
    ]);
    (
        prop::option::of((errors.clone(), 0u64..3, 0u64..3).prop_map(|(e, i, m)| {
            json!([{"ErrorEquals": [e], "IntervalSeconds": i + 1, "MaxAttempts": m, "JitterStrategy": "FULL"}])
        })),
        prop::option::of((errors, prop::sample::select(NAMES.to_vec()), prop::option::of(path()))
            .prop_map(|(e, n, rp)| {
                let mut c = json!({"ErrorEquals": [e], "Next": n});
                if let Some(rp) = rp {
                    c["ResultPath"] = rp;
                }
                json!([c])
            })),
    )
}

fn leaf_state() -> impl Strategy<Value = Value> {
    let common = || {
        (
            transition(),
            prop::option::of(path()),
            prop::option::of(path()),
            prop::option::of(template()),
        )
    };
    prop_oneof![
        (common(), prop::option::of(json_value())).prop_map(|((t, ip, op, params), result)| {
            let mut s = json!({"Type": "Pass"});
            put_transition(&mut s, t);
            opt(&mut s, "InputPath", ip);
            opt(&mut s, "OutputPath", op);
            opt(&mut s, "Parameters", params);
            opt(&mut s, "Result", result);
            s
        }),
        (common(), retry_catch(), prop::option::of(0u64..5)).prop_map(|((t, ip, _, params), (r, c), timeout)| {
            let mut s = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke"});
            put_transition(&mut s, t);
            opt(&mut s, "InputPath", ip);
            opt(&mut s, "Parameters", params);
            opt(&mut s, "Retry", r);
            opt(&mut s, "Catch", c);
            opt(&mut s, "TimeoutSeconds", timeout.map(|t| json!(t + 1)));
            s
        }),
        (transition(), prop_oneof![(0u64..100).prop_map(|n| json!({"Seconds": n})), path().prop_map(|p| json!({"SecondsPath": p})), path().prop_map(|p| json!({"TimestampPath": p}))])
            .prop_map(|(t, w)| {
                let mut s = json!({"Type": "Wait"});
                put_transition(&mut s, t);
                if let (Some(m), Some(w)) = (s.as_object_mut(), w.as_object()) {
                    m.extend(w.clone());
                }
                s
            }),
        (path(), prop::sample::select(vec!["NumericEquals", "StringEquals", "IsPresent", "BooleanEquals", "TimestampLessThan", "NumericGreaterThanPath"]), json_value(), prop::sample::select(NAMES.to_vec()), prop::option::of(prop::sample::select(NAMES.to_vec())))
            .prop_map(|(var, op, operand, next, default)| {
                let mut s = json!({"Type": "Choice", "Choices": [{"Variable": var, op: operand, "Next": next}]});
                opt(&mut s, "Default", default.map(Value::from));
                s
            }),
        Just(json!({"Type": "Succeed"})),
        (prop::option::of(path()), prop::option::of(path())).prop_map(|(e, c)| {
            let mut s = json!({"Type": "Fail", "Error": "E"});
            opt(&mut s, "CausePath", c);
            if e.is_some() {
                if let Some(m) = s.as_object_mut() {
                    m.remove("Error");
                }
                opt(&mut s, "ErrorPath", e);
            }
            s
        }),
        (jsonata(), jsonata(), transition()).prop_map(|(o, a, t)| {
            let mut s = json!({"Type": "Pass", "QueryLanguage": "JSONata", "Output": o, "Assign": {"x": a}});
            put_transition(&mut s, t);
            s
        }),
    ]
}

fn state() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => leaf_state(),
        1 => (leaf_state(), prop::option::of(path()), prop::option::of(0u64..3), prop::option::of(0u64..2), transition(), retry_catch()).prop_map(
            |(inner, items, conc, tol, t, (r, c))| {
                let mut s = json!({"Type": "Map", "ItemProcessor": {"StartAt": "In", "States": {"In": end_here(inner)}}});
                put_transition(&mut s, t);
                opt(&mut s, "ItemsPath", items);
                opt(&mut s, "MaxConcurrency", conc.map(Value::from));
                opt(&mut s, "ToleratedFailureCount", tol.map(Value::from));
                opt(&mut s, "Retry", r);
                opt(&mut s, "Catch", c);
                s
            }
        ),
        1 => (prop::collection::vec(leaf_state(), 1..3), transition()).prop_map(|(branches, t)| {
            let branches: Vec<Value> = branches
                .into_iter()
                .enumerate()
                .map(|(i, b)| json!({"StartAt": format!("P{i}"), "States": {format!("P{i}"): end_here(b)}}))
                .collect();
            let mut s = json!({"Type": "Parallel", "Branches": branches});
            put_transition(&mut s, t);
            s
        }),
    ]
}

/// The state as the only state of its scope: transitions replaced by `End`.
fn end_here(mut s: Value) -> Value {
    if let Some(m) = s.as_object_mut() {
        m.remove("Catch");
        if m.contains_key("Next") || m.contains_key("End") {
            m.remove("Next");
            m.insert("End".into(), json!(true));
        }
        if m.get("Type") == Some(&json!("Choice")) {
            *m = json!({"Type": "Succeed"})
                .as_object()
                .cloned()
                .unwrap_or_default();
        }
    }
    s
}

fn put_transition(s: &mut Value, (next, end): (Option<&str>, bool)) {
    if let Some(n) = next {
        s["Next"] = json!(n);
    }
    if end {
        s["End"] = json!(true);
    }
}

fn opt(s: &mut Value, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        s[key] = v;
    }
}

fn definition() -> impl Strategy<Value = Value> {
    prop::collection::vec(state(), 1..=NAMES.len()).prop_map(|states| {
        let states: Map<String, Value> = states
            .into_iter()
            .zip(NAMES)
            .map(|(s, n)| (n.to_string(), s))
            .collect();
        json!({"StartAt": "A", "TimeoutSeconds": 86_400, "States": states})
    })
}

fn outcomes() -> impl Strategy<Value = Vec<Recorded>> {
    prop::collection::vec(
        prop_oneof![
            json_value().prop_map(Recorded::Succeeded),
            Just(Recorded::Failed(TaskError::new("Boom", "recorded"))),
            Just(Recorded::Hangs),
        ],
        0..4,
    )
}

/// An input: a small random value, or one carrying a 100 KiB string (a few doublings from the
/// 256 KiB limit).
fn input() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => json_value(),
        1 => json_value().prop_map(|v| json!({"a": v, "b": "x".repeat(100 * 1024)})),
    ]
}

/// This process's peak resident memory in MiB (Linux; 0 elsewhere).
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

/// The peak memory any case may bring the test process to.
const RSS_BOUND_MIB: u64 = 256;

/// A value nested `levels` deep, built without recursion: each level an object (`{"a": inner}`,
/// sometimes with a sibling `b`) or an array (`[inner]`, sometimes with a scalar after it).
fn deep_value(levels: &[(bool, bool)]) -> Value {
    let mut v = json!(0);
    for &(object, sibling) in levels {
        v = if object {
            let mut m = Map::new();
            m.insert("a".into(), v);
            if sibling {
                m.insert("b".into(), json!(1));
            }
            Value::Object(m)
        } else {
            let mut a = vec![v];
            if sibling {
                a.push(json!("s"));
            }
            Value::Array(a)
        };
    }
    v
}

/// How many objects in `v` have the key `a` (what `$..a` finds), counted without recursion.
fn count_a(v: &Value) -> usize {
    let mut n = 0;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                n += usize::from(m.contains_key("a"));
                stack.extend(m.values());
            }
            Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
    n
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

    #[test]
    fn any_definition_finishes_within_its_step_budget_or_fails_by_name(def in definition(), input in input(), outs in outcomes()) {
        let Ok(machine) = StateMachine::from_value(def) else { return Ok(()); };
        let replay = Replay::new(
            NAMES.iter().flat_map(|n| outs.iter().map(|o| (n.to_string(), o.clone()))).chain(outs.iter().map(|o| ("In".to_string(), o.clone()))),
        );
        let integrations = Integrations::new().route("", Arc::new(replay));
        let clock = VirtualClock::new(1_700_000_000_000);
        let random = SeededRandom::new(5);
        let mut engine = Engine::new(&clock, &random, &integrations);
        engine.options.history_limit = 300;
        let start = StartExecution { state_machine_name: "P".into(), name: "p".into(), input, express: false };
        // TimeoutSeconds is one day: the run ends by then on the virtual clock.
        let record = clock.block_on(engine.start(machine, start), Some(1_700_000_000_000 + 2 * 86_400_000));
        let record = record.expect("the execution ends within its timeout");
        prop_assert_ne!(record.status, ExecutionStatus::Running);
        prop_assert!(record.history.len() <= 300);
        if record.status != ExecutionStatus::Succeeded {
            let error = record.error.as_deref().unwrap_or("");
            prop_assert!(!error.is_empty(), "a failure without an error name: {:?}", record.cause);
        }
        let peak = peak_rss_mib();
        prop_assert!(peak <= RSS_BOUND_MIB, "peak RSS {} MiB", peak);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn descendant_paths_on_deep_values_end_with_a_value_or_a_named_error(
        levels in prop::collection::vec((any::<bool>(), prop::bool::weighted(0.1)), 0..560),
        path in prop::sample::select(vec!["$..a", "$..b", "$..*", "$..a..a", "$..[0]", "$..a.b", "$..[?(@.b)]", "$..a.length()", "$..a[0]"]),
    ) {
        let value = deep_value(&levels);
        let context = json!({});
        let random = SeededRandom::new(1);
        let scope = Scope::new(&value, &context, &NoVariables, &random);
        match statemachine::eval::jsonpath::query(path, &scope) {
            Ok(found) => {
                if path == "$..a" {
                    prop_assert_eq!(found.as_array().map(Vec::len), Some(count_a(&value)));
                }
                drop_deep(found);
            }
            Err(QueryError::TooLarge(m)) => prop_assert!(m.contains("selects more than"), "{}", m),
            Err(e) => prop_assert!(path.ends_with("length()"), "{}: {}", path, e),
        }
        drop_deep(value);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_definitions_and_inputs_never_panic_the_engine(def in definition(), input in json_value(), outs in outcomes()) {
        let Ok(machine) = StateMachine::from_value(def) else { return Ok(()); };
        let replay = Replay::new(
            NAMES.iter().flat_map(|n| outs.iter().map(|o| (n.to_string(), o.clone()))).chain(outs.iter().map(|o| ("In".to_string(), o.clone()))),
        );
        let integrations = Integrations::new().route("", Arc::new(replay));
        let clock = VirtualClock::new(1_700_000_000_000);
        let random = SeededRandom::new(3);
        let mut engine = Engine::new(&clock, &random, &integrations);
        engine.options.history_limit = 300;
        let start = StartExecution { state_machine_name: "P".into(), name: "p".into(), input, express: false };
        let execution = engine.execution(machine, start);
        if let Some(record) = clock.block_on(execution.run(), Some(1_700_000_000_000 + 2 * 86_400_000)) {
            prop_assert_ne!(record.status, ExecutionStatus::Running);
            prop_assert!(record.history.len() <= 300);
        }
    }

    #[test]
    fn random_states_never_panic_test_state(st in state(), input in json_value(), mocked in prop::option::of(json_value())) {
        let clock = VirtualClock::new(1_700_000_000_000);
        let random = SeededRandom::new(4);
        let integrations = Integrations::new();
        let engine = Engine::new(&clock, &random, &integrations);
        let request = TestStateInput {
            definition: st,
            state_name: None,
            input,
            inspection_level: InspectionLevel::Trace,
            variables: Map::new(),
            context: None,
            mock: mocked.map(Mock::Result),
            retrier_retry_count: Some(1),
            map_iteration_failure_count: Some(1),
            map_item_reader_data: None,
        };
        let _ = clock.block_on(engine.test_state(request), Some(1_700_000_000_000 + 86_400_000));
    }
}
