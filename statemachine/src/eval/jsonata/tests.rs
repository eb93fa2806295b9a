//! JSONata evaluation: the language and the AWS functions, on small inputs.

use serde_json::{json, Map, Value};

use super::*;
use crate::eval::SeededRandom;

fn run(expr: &str, input: Value) -> Result<Option<Value>, EvalError> {
    let ctx = json!({"State": {"EnteredTime": "2024-01-02T03:04:05.678Z", "Name": "S"}});
    let mut vars = Map::new();
    vars.insert("var_constant_1".into(), json!(10));
    vars.insert("obj".into(), json!({"a": [1, 2]}));
    let rng = SeededRandom::new(5);
    let result = json!([0, 1, 1, 0, 1]);
    let scope = Scope::new(&input, &ctx, &vars, &rng).with_result(&result);
    evaluate(expr, "Output", &scope)
}

fn ok(expr: &str, input: Value) -> Value {
    run(expr, input)
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
        .unwrap_or(json!("<undefined>"))
}

#[test]
fn paths_and_sequences() {
    let input = json!({"a": {"b": [{"c": 1}, {"c": 2}, {"c": [3, 4]}]}, "s": "x", "items": [5]});
    assert_eq!(
        ok("$states.input.a.b.c", input.clone()),
        json!([1, 2, 3, 4])
    );
    assert_eq!(ok("$states.input.a.b[0].c", input.clone()), json!(1));
    assert_eq!(ok("$states.input.a.b[-1].c", input.clone()), json!([3, 4]));
    assert_eq!(
        ok(
            "$states.input.a.b[$type(c) = 'number' and c > 1].c",
            input.clone()
        ),
        json!(2)
    );
    assert_eq!(ok("$states.input.items", input.clone()), json!([5]));
    assert_eq!(
        ok("$states.input.nope", input.clone()),
        json!("<undefined>")
    );
    assert_eq!(ok("$count($states.result[$ = 1])", input.clone()), json!(3));
    assert_eq!(ok("$obj.a", input.clone()), json!([1, 2]));
    assert_eq!(ok("$states.context.State.Name", input), json!("S"));
}

#[test]
fn operators_and_constructors() {
    let input = json!({"value": 25, "input_values": [1, 2, 3], "type": "Public"});
    assert_eq!(
        ok(
            "$states.input.value >= 20 and $states.input.value < 30",
            input.clone()
        ),
        json!(true)
    );
    assert_eq!(
        ok(
            "$sum($states.input.input_values) + $var_constant_1",
            input.clone()
        ),
        json!(16)
    );
    assert_eq!(
        ok("$not($states.input.type = 'Private')", input.clone()),
        json!(true)
    );
    assert_eq!(
        ok("{'foo': 'bar', 'n': 1 + 2 * 3}", input.clone()),
        json!({"foo": "bar", "n": 7})
    );
    assert_eq!(ok("[1, 'two', 3]", input.clone()), json!([1, "two", 3]));
    assert_eq!(ok("[1..4]", input.clone()), json!([1, 2, 3, 4]));
    assert_eq!(ok("'a' & 1 & true", input.clone()), json!("a1true"));
    assert_eq!(
        ok("$states.input.value > 10 ? 'big' : 'small'", input.clone()),
        json!("big")
    );
    assert_eq!(ok("($x := 2; $y := $x * 5; $y)", input.clone()), json!(10));
    assert_eq!(ok("3 in [1, 2, 3]", input.clone()), json!(true));
    assert_eq!(ok("10 / 4", input.clone()), json!(2.5));
    assert_eq!(ok("-$states.input.value", input), json!(-25));
}

#[test]
fn functions_and_lambdas() {
    let input = json!({"r": [1, 0, 1], "part1": {"a": 1}, "part2": {"b": 2}});
    assert_eq!(
        ok(
            "$map($states.input.r, function($v) { $v = 1 ? 'pass' : 'failed' })",
            input.clone()
        ),
        json!(["pass", "failed", "pass"])
    );
    assert_eq!(
        ok(
            "$merge([$states.input.part1, $states.input.part2])",
            input.clone()
        ),
        json!({"a": 1, "b": 2})
    );
    assert_eq!(
        ok(
            "$filter([1, 2, 3, 4], function($v) { $v % 2 = 0 })",
            input.clone()
        ),
        json!([2, 4])
    );
    assert_eq!(
        ok(
            "$reduce([1, 2, 3], function($a, $b) { $a + $b })",
            input.clone()
        ),
        json!(6)
    );
    assert_eq!(ok("$number('2')", input.clone()), json!(2));
    assert_eq!(ok("$string(1.5)", input.clone()), json!("1.5"));
    assert_eq!(
        ok("$uppercase('abc') ~> $substring(1)", input.clone()),
        json!("BC")
    );
    assert_eq!(
        ok("$contains('hello$world', /^hello\\$/)", input.clone()),
        json!(true)
    );
    assert_eq!(
        ok("$contains('hello$world', /^hello\\ /)", input.clone()),
        json!(false)
    );
    assert_eq!(
        ok("$split('a,b,c', ',')", input.clone()),
        json!(["a", "b", "c"])
    );
    assert_eq!(ok("$join(['a', 'b'], '-')", input.clone()), json!("a-b"));
    assert_eq!(ok("$round(2.5)", input.clone()), json!(2));
    assert_eq!(
        ok("$keys({'a': 1, 'b': 2})", input.clone()),
        json!(["a", "b"])
    );
    assert_eq!(ok("$millis()", input.clone()), json!(1_704_164_645_678i64));
    assert_eq!(ok("$now()", input), json!("2024-01-02T03:04:05.678Z"));
}

#[test]
fn aws_functions() {
    let i = json!({});
    assert_eq!(
        ok("$partition([0, 1, 2], 2)", i.clone()),
        json!([[0, 1], [2]])
    );
    assert_eq!(ok("$partition([0], 1)", i.clone()), json!([[0]]));
    assert_eq!(ok("$range(0, 9, 3)", i.clone()), json!([0, 3, 6, 9]));
    assert_eq!(ok("$range(1, 9, 9)", i.clone()), json!(1));
    assert_eq!(ok("$parse('{\"a\": [1]}')", i.clone()), json!({"a": [1]}));
    assert_eq!(
        ok("$hash('input data', 'MD5')", i.clone()),
        json!("812f45842bc6d66ee14572ce20db8e86")
    );
    assert_eq!(ok("$uuid()", i.clone()).as_str().map(str::len), Some(36));
    let r = ok("$random()", i.clone()).as_f64().unwrap();
    assert!((0.0..1.0).contains(&r));
    assert_eq!(ok("$random(7)", i.clone()), ok("$random(7)", i));
}

#[test]
fn errors_name_the_field_and_expression() {
    let err = run("$fn := function($x){$x}", json!({})).unwrap_err();
    assert_eq!(err.error(), "States.QueryEvaluationError");
    assert_eq!(
        err.cause,
        "The JSONata expression '$fn := function($x){$x}' specified for the field 'Output' returned an unsupported result type."
    );
    assert_eq!(err.location.as_deref(), Some("Output"));
    assert!(run("1 +", json!({})).is_err());
    assert!(run("'a' + 1", json!({})).is_err());
    assert_eq!(run("$doesNotExist", json!({})).unwrap(), None);
    assert_eq!(expression(" {% x %} "), None);
    assert_eq!(expression("{% x %}"), Some(" x "));
}

/// Values nested far deeper than any stack allows (built by an expression, 30,000 levels, each
/// sharing the level below twice, so exponentially large as a tree) are dropped, compared,
/// tested and converted without recursion or walks running away: a clear error or answer,
/// never a stack overflow or a hang.
#[test]
fn deeply_nested_values_fail_cleanly() {
    let empty = Map::new();
    let rng = SeededRandom::new(1);
    let opts = DocumentOptions {
        bindings: &empty,
        now: "2024-01-01T00:00:00Z",
        random: &rng,
        max_depth: DocumentOptions::DEFAULT_MAX_DEPTH,
        max_steps: DocumentOptions::DEFAULT_MAX_STEPS,
    };
    let deep = "$reduce([1..30000], function($a, $v){{'a': $a, 'b': [$a]}}, {})";
    let run = |e: String| evaluate_document(&e, None, &opts).map_err(|e| e.code);
    assert_eq!(run(deep.to_string()), Err("T0001".to_string()));
    assert_eq!(run(format!("$string({deep})")), Err("U1001".to_string()));
    assert_eq!(
        run(format!("($x := {deep}; $x = $x)")),
        Ok(Some(json!(true)))
    );
    assert_eq!(run(format!("$boolean({deep}.b)")), Ok(Some(json!(true))));
    assert_eq!(run(format!("$count({deep}.a.a.a)")), Ok(Some(json!(1))));
    assert_eq!(run(format!("$count({deep}.**)")), Err("U1001".to_string()));
}

/// A very long operator chain or deep nesting is refused by the parser (it would make a tree
/// too deep to walk), not a stack overflow.
#[test]
fn long_chains_and_deep_nesting_are_syntax_errors() {
    let i = json!({});
    let chain = vec!["1"; 20_000].join(" + ");
    let err = run(&chain, i.clone()).unwrap_err();
    assert!(err.cause.contains("nests too deeply"), "{}", err.cause);
    let nested = "[".repeat(5_000) + &"]".repeat(5_000);
    assert!(run(&nested, i.clone()).is_err());
    let path = vec!["a"; 20_000].join(".");
    assert!(run(&path, i.clone()).is_err());
    assert_eq!(ok(&vec!["1"; 60].join(" + "), i.clone()), json!(60));
    let nested_ok = "[".repeat(95) + &"]".repeat(95);
    assert!(run(&nested_ok, i.clone()).is_ok());
    // Recursion up to the evaluation depth limit fits the default stack of a test thread
    // (debug build); past it, a named error.
    let rec = |n: u32| format!("($f := function($n){{$n = 0 ? 0 : 1 + $f($n - 1)}}; $f({n}))");
    assert_eq!(ok(&rec(45), i.clone()), json!(45));
    let err = run(&rec(100), i).unwrap_err();
    assert!(err.cause.contains("U1001"), "{}", err.cause);
}
