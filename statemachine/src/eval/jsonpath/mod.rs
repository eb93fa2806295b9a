//! JSONPath as Step Functions reads it (Jayway semantics): `$` (input), `$$` (context object)
//! and `$name` (variable) roots; `.key`, `['key']`, `[n]`, `[*]`, `..`, slices, unions,
//! filters `[?(@.a > 1)]` and functions like `.length()`. A definite path (names and indices
//! only) gives one value or fails; an indefinite one gives the list of its matches.

mod ast;
mod eval;
mod parse;

use serde_json::Value;

pub(crate) use eval::cmp_numbers;
pub use eval::{MAX_SELECTED_VALUES, MAX_VISITS};
pub use parse::{
    parse, CmpOp, Filter, Function, Operand, ParseError, Path, Root, Segment, Selector,
};

use super::Scope;

/// Why a query gave no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The text is not a JSONPath.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A definite path found nothing (Jayway's message, e.g. `No results for path: $['a']`).
    #[error("{0}")]
    NotFound(String),
    /// The path reads a variable that is not bound.
    #[error("the variable '{0}' is not defined")]
    UnknownVariable(String),
    /// An indefinite path selects (or visits) more values than the engine copies
    /// ([`MAX_SELECTED_VALUES`], [`MAX_VISITS`]): `..` over a deeply nested value.
    #[error("{0}")]
    TooLarge(String),
}

/// Evaluates the path `text` in `scope`: `$` is `scope.input`, `$$` the context, `$name` a
/// variable.
pub fn query(text: &str, scope: &Scope) -> Result<Value, QueryError> {
    let path = parse(text)?;
    query_path(&path, scope)
}

/// Evaluates a parsed path in `scope`.
pub fn query_path(path: &Path, scope: &Scope) -> Result<Value, QueryError> {
    let root = match &path.root {
        Root::Input | Root::Current => scope.input,
        Root::Context => scope.context,
        Root::Variable(name) => scope
            .var(name)
            .ok_or_else(|| QueryError::UnknownVariable(name.clone()))?,
    };
    eval::select(path, root, scope).map_err(|e| match e {
        eval::Unselected::NotFound(m) => QueryError::NotFound(m),
        eval::Unselected::TooLarge(m) => QueryError::TooLarge(m),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{NoVariables, SeededRandom};
    use serde_json::json;

    fn q(path: &str, input: Value) -> Result<Value, QueryError> {
        q_ref(path, &input)
    }

    fn q_ref(path: &str, input: &Value) -> Result<Value, QueryError> {
        let ctx = json!({"Execution": {"Name": "x"}});
        let rng = SeededRandom::new(1);
        let vars = json!({"v": {"a": [1, 2]}});
        let Value::Object(vars) = vars else {
            unreachable!()
        };
        let scope = Scope::new(input, &ctx, &vars, &rng);
        query(path, &scope)
    }

    #[test]
    fn definite_paths_and_jayway_messages() {
        let input = json!({"a": {"b": [10, 20, 30]}, "s": "text"});
        assert_eq!(q("$", input.clone()).unwrap(), input);
        assert_eq!(q("$.a.b[1]", input.clone()).unwrap(), json!(20));
        assert_eq!(q("$.a.b[-1]", input.clone()).unwrap(), json!(30));
        assert_eq!(q("$$.Execution.Name", input.clone()).unwrap(), json!("x"));
        assert_eq!(q("$v.a[0]", input.clone()).unwrap(), json!(1));
        assert_eq!(
            q("$.nope", input.clone()).unwrap_err().to_string(),
            "No results for path: $['nope']"
        );
        assert_eq!(
            q("$.no.such.path", input.clone()).unwrap_err().to_string(),
            "Missing property in path $['no']"
        );
        assert_eq!(
            q("$.a.b[7]", input.clone()).unwrap_err().to_string(),
            "No results for path: $['a']['b'][7]"
        );
        assert!(matches!(
            q("$w", input).unwrap_err(),
            QueryError::UnknownVariable(_)
        ));
        let _ = NoVariables;
    }

    #[test]
    fn indefinite_paths_give_lists() {
        let input = json!({"items": [{"v": 1, "s": 0}, {"v": 2, "s": 1}, {"v": 3, "s": 0}]});
        assert_eq!(q("$.items[*].v", input.clone()).unwrap(), json!([1, 2, 3]));
        assert_eq!(q("$.items[1:].v", input.clone()).unwrap(), json!([2, 3]));
        assert_eq!(q("$.items[:1].v", input.clone()).unwrap(), json!([1]));
        assert_eq!(q("$.items[-2:].v", input.clone()).unwrap(), json!([2, 3]));
        assert_eq!(q("$.items[0,2].v", input.clone()).unwrap(), json!([1, 3]));
        assert_eq!(q("$..v", input.clone()).unwrap(), json!([1, 2, 3]));
        assert_eq!(
            q("$.items[?(@.s == 0)].v", input.clone()).unwrap(),
            json!([1, 3])
        );
        assert_eq!(
            q("$.items[?(@.v > 1 && @.s == 0)].v", input.clone()).unwrap(),
            json!([3])
        );
        assert_eq!(
            q("$.items[?(@.v in [1, 2])].v", input.clone()).unwrap(),
            json!([1, 2])
        );
        assert_eq!(q("$.items.length()", input.clone()).unwrap(), json!(3));
        assert_eq!(q("$.missing[*]", json!({})).unwrap(), json!([]));
        assert_eq!(q("$.item.items[1:5].v", json!({})).unwrap(), json!([]));
        assert_eq!(q("$[*]", json!({})).unwrap(), json!([]));
    }

    #[test]
    fn descendants_keep_document_order() {
        let input = json!({"a": {"a": 1, "b": [{"a": 2}, {"c": {"a": 3}}]}, "z": {"a": 4}});
        assert_eq!(
            q("$..a", input.clone()).unwrap(),
            json!([{"a": 1, "b": [{"a": 2}, {"c": {"a": 3}}]}, 1, 2, 3, 4])
        );
        assert_eq!(q("$..b[*]..a", input).unwrap(), json!([2, 3]));
    }

    /// `{"a": {"a": ... {"a": 0}}}`, `depth` levels, built without recursion.
    fn chain(depth: usize) -> Value {
        // (`json!` would copy `v` through `to_value`, recursively.)
        let mut v = json!(0);
        for _ in 0..depth {
            let mut m = serde_json::Map::new();
            m.insert("a".into(), v);
            v = Value::Object(m);
        }
        v
    }

    #[test]
    fn descendants_of_deep_values_neither_recurse_nor_copy_without_bound() {
        // 500 levels (about the most a payload may have): 500 matches, 125,000 values copied.
        let two = chain(500);
        let found = q_ref("$..a", &two).unwrap();
        assert_eq!(found.as_array().map(Vec::len), Some(500));
        crate::eval::drop_deep(found);
        crate::eval::drop_deep(two);
        // 5,000 levels: the copy would hold 12.5 million values; refused by name.
        let deep = chain(5_000);
        let err = q_ref("$..a", &deep).unwrap_err();
        assert!(matches!(err, QueryError::TooLarge(_)), "{err:?}");
        assert!(err.to_string().contains("$..['a']"), "{err}");
        crate::eval::drop_deep(deep);
        // Far deeper than the stack allows recursion over: `..` still walks it.
        let very = chain(200_000);
        assert_eq!(q_ref("$..b", &very).unwrap(), json!([]));
        crate::eval::drop_deep(very);
    }
}
