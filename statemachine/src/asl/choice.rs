//! Choice rules: `Variable` + one comparison operator, `And`/`Or`/`Not`, or a JSONata
//! `Condition`; top-level rules also carry `Next` (and may `Assign`/`Output`).
//!
//! A rule's JSON mixes the condition's keys with the rule's own, so (de)serialization is written
//! by hand here: the rule reads a JSON object, takes its own keys out and parses the rest as the
//! condition, naming the offending key when something does not fit.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// One entry of `Choices`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceRule {
    /// The test.
    pub condition: Condition,
    /// Where to go when it holds (required on top-level rules).
    pub next: Option<String>,
    /// Free text.
    pub comment: Option<String>,
    /// Variables to assign when the rule is taken.
    pub assign: Option<Value>,
    /// JSONata output when the rule is taken.
    pub output: Option<Value>,
}

/// A boolean test over the state's input.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// All must hold. Nested rules have no `Next`.
    And(Vec<ChoiceRule>),
    /// One must hold. Nested rules have no `Next`.
    Or(Vec<ChoiceRule>),
    /// Must not hold. The nested rule has no `Next`.
    Not(Box<ChoiceRule>),
    /// `Variable` compared with an operand.
    Compare {
        /// Path of the value tested.
        variable: String,
        /// The operator.
        op: Comparison,
        /// The literal or the path it is compared with.
        operand: Operand,
    },
    /// A JSONata `Condition` (`{% ... %}` or a boolean literal).
    Jsonata(Value),
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A literal (`StringEquals: "x"`).
    Value(Value),
    /// A path (`StringEqualsPath: "$.x"`).
    Path(String),
}

macro_rules! comparisons {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// The comparison operators of Choice rules (without the `Path` suffix).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Comparison {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Comparison {
            /// Every operator.
            pub const ALL: &'static [Comparison] = &[$(Comparison::$variant),*];

            /// The operator's name as written in ASL (without `Path`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Comparison::$variant => $name,)*
                }
            }
        }
    };
}

comparisons! {
    StringEquals => "StringEquals",
    StringLessThan => "StringLessThan",
    StringGreaterThan => "StringGreaterThan",
    StringLessThanEquals => "StringLessThanEquals",
    StringGreaterThanEquals => "StringGreaterThanEquals",
    StringMatches => "StringMatches",
    NumericEquals => "NumericEquals",
    NumericLessThan => "NumericLessThan",
    NumericGreaterThan => "NumericGreaterThan",
    NumericLessThanEquals => "NumericLessThanEquals",
    NumericGreaterThanEquals => "NumericGreaterThanEquals",
    BooleanEquals => "BooleanEquals",
    TimestampEquals => "TimestampEquals",
    TimestampLessThan => "TimestampLessThan",
    TimestampGreaterThan => "TimestampGreaterThan",
    TimestampLessThanEquals => "TimestampLessThanEquals",
    TimestampGreaterThanEquals => "TimestampGreaterThanEquals",
    IsNull => "IsNull",
    IsPresent => "IsPresent",
    IsNumeric => "IsNumeric",
    IsString => "IsString",
    IsBoolean => "IsBoolean",
    IsTimestamp => "IsTimestamp",
}

impl Comparison {
    /// Looks an operator key up: `("StringEquals", false)`, `("StringEqualsPath", true)`.
    /// `StringMatches` and the `Is*` tests have no `Path` form.
    pub fn parse(key: &str) -> Option<(Comparison, bool)> {
        let (base, is_path) = match key.strip_suffix("Path") {
            Some(base) => (base, true),
            None => (key, false),
        };
        let op = Comparison::ALL.iter().copied().find(|c| c.name() == base)?;
        if is_path && (op == Comparison::StringMatches || op.is_type_test()) {
            return None;
        }
        Some((op, is_path))
    }

    /// `IsNull`, `IsPresent`, `IsNumeric`, `IsString`, `IsBoolean`, `IsTimestamp`.
    pub fn is_type_test(self) -> bool {
        self.name().starts_with("Is")
    }
}

impl Condition {
    fn from_map(mut map: Map<String, Value>, top_level: bool) -> Result<Condition, String> {
        if let Some(c) = map.remove("Condition") {
            return expect_empty(map, Condition::Jsonata(c));
        }
        for key in ["And", "Or"] {
            if let Some(list) = map.remove(key) {
                let Value::Array(items) = list else {
                    return Err(format!("{key} must be an array of rules"));
                };
                let subs = items
                    .into_iter()
                    .map(|v| match v {
                        Value::Object(m) => ChoiceRule::from_map(m, false),
                        _ => Err(format!("{key} must hold rule objects")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let cond = if key == "And" {
                    Condition::And(subs)
                } else {
                    Condition::Or(subs)
                };
                return expect_empty(map, cond);
            }
        }
        if let Some(inner) = map.remove("Not") {
            let Value::Object(m) = inner else {
                return Err("Not must hold one rule object".into());
            };
            let cond = Condition::Not(Box::new(ChoiceRule::from_map(m, false)?));
            return expect_empty(map, cond);
        }
        let variable = match map.remove("Variable") {
            Some(Value::String(v)) => v,
            Some(_) => return Err("Variable must be a string path".into()),
            None => {
                let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                let what = if top_level {
                    "a choice rule"
                } else {
                    "a nested rule"
                };
                return Err(format!(
                    "{what} needs Variable and an operator, And, Or, Not or Condition (found: {})",
                    keys.join(", ")
                ));
            }
        };
        let mut ops = map
            .iter()
            .filter_map(|(k, v)| Comparison::parse(k).map(|o| (o, v)));
        let Some(((op, is_path), value)) = ops.next() else {
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            return Err(format!(
                "rule on {variable} has no comparison operator (found: {})",
                keys.join(", ")
            ));
        };
        if let Some(((second, _), _)) = ops.next() {
            return Err(format!(
                "rule on {variable} has two operators ({} and {})",
                op.name(),
                second.name()
            ));
        }
        let operand = if is_path {
            match value {
                Value::String(p) => Operand::Path(p.clone()),
                _ => return Err(format!("{}Path must be a string path", op.name())),
            }
        } else {
            Operand::Value(value.clone())
        };
        let key = format!("{}{}", op.name(), if is_path { "Path" } else { "" });
        map.remove(&key);
        expect_empty(
            map,
            Condition::Compare {
                variable,
                op,
                operand,
            },
        )
    }

    fn write(&self, map: &mut Map<String, Value>) {
        match self {
            Condition::And(subs) | Condition::Or(subs) => {
                let key = if matches!(self, Condition::And(_)) {
                    "And"
                } else {
                    "Or"
                };
                let items = subs
                    .iter()
                    .map(ChoiceRule::to_map)
                    .map(Value::Object)
                    .collect();
                map.insert(key.into(), Value::Array(items));
            }
            Condition::Not(inner) => {
                map.insert("Not".into(), Value::Object(inner.to_map()));
            }
            Condition::Compare {
                variable,
                op,
                operand,
            } => {
                map.insert("Variable".into(), Value::String(variable.clone()));
                match operand {
                    Operand::Value(v) => map.insert(op.name().into(), v.clone()),
                    Operand::Path(p) => {
                        map.insert(format!("{}Path", op.name()), Value::String(p.clone()))
                    }
                };
            }
            Condition::Jsonata(c) => {
                map.insert("Condition".into(), c.clone());
            }
        }
    }
}

fn expect_empty(map: Map<String, Value>, cond: Condition) -> Result<Condition, String> {
    match map.keys().next() {
        None => Ok(cond),
        Some(k) => Err(format!("unexpected field {k} in choice rule")),
    }
}

impl ChoiceRule {
    fn from_map(mut map: Map<String, Value>, top_level: bool) -> Result<ChoiceRule, String> {
        let mut text = |key: &str| match map.remove(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(format!("{key} must be a string")),
        };
        let next = text("Next")?;
        let comment = text("Comment")?;
        let assign = map.remove("Assign");
        let output = map.remove("Output");
        let condition = Condition::from_map(map, top_level)?;
        Ok(ChoiceRule {
            condition,
            next,
            comment,
            assign,
            output,
        })
    }

    fn to_map(&self) -> Map<String, Value> {
        let mut map = Map::new();
        self.condition.write(&mut map);
        if let Some(c) = &self.comment {
            map.insert("Comment".into(), Value::String(c.clone()));
        }
        if let Some(a) = &self.assign {
            map.insert("Assign".into(), a.clone());
        }
        if let Some(o) = &self.output {
            map.insert("Output".into(), o.clone());
        }
        if let Some(n) = &self.next {
            map.insert("Next".into(), Value::String(n.clone()));
        }
        map
    }
}

impl<'de> Deserialize<'de> for ChoiceRule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(d)?;
        ChoiceRule::from_map(map, true).map_err(D::Error::custom)
    }
}

impl Serialize for ChoiceRule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_rules_round_trip() {
        let v = json!({
            "And": [
                {"Variable": "$.a", "NumericGreaterThanPath": "$.b"},
                {"Not": {"Variable": "$.c", "IsPresent": true}}
            ],
            "Next": "X"
        });
        let rule: ChoiceRule = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(rule.next.as_deref(), Some("X"));
        assert_eq!(serde_json::to_value(&rule).unwrap(), v);
    }

    #[test]
    fn two_operators_or_none_are_errors() {
        let two = json!({"Variable": "$.a", "StringEquals": "x", "NumericEquals": 1, "Next": "X"});
        let err = serde_json::from_value::<ChoiceRule>(two).unwrap_err();
        assert!(err.to_string().contains("two operators"), "{err}");
        let none = json!({"Variable": "$.a", "Next": "X"});
        let err = serde_json::from_value::<ChoiceRule>(none).unwrap_err();
        assert!(err.to_string().contains("no comparison operator"), "{err}");
        assert_eq!(Comparison::parse("IsNullPath"), None);
        assert_eq!(
            Comparison::parse("StringMatches"),
            Some((Comparison::StringMatches, false))
        );
    }
}
