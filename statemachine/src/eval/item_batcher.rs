//! The data side of a Distributed Map's `ItemBatcher`: its fields, their values evaluated against
//! the state's effective input (`MaxItemsPerBatch`/`MaxItemsPerBatchPath`,
//! `MaxInputBytesPerBatch`/`MaxInputBytesPerBatchPath`, JSONata expressions in JSONata states,
//! and the `BatchInput` template), the checks on those values, and the grouping of the selected
//! items into child inputs `{"BatchInput": ..., "Items": [...]}`.
//!
//! As AWS documents it (ItemBatcher (Map)): items go into an `Items` array, `BatchInput` is added
//! to every batch, a batch holds at most `MaxItemsPerBatch` items and at most
//! `MaxInputBytesPerBatch` bytes of input, and never more than 256 KiB. A value that is not a
//! positive integer, or a byte limit above 256 KiB, fails the Map Run; this module returns those
//! causes as `Err(String)` and the engine raises them inside the Map Run.

use serde_json::{Map, Value};

use super::error::EvalError;
use super::fields::{evaluate_payload, invalid_path};
use super::jsonpath;
use super::scope::Scope;
use super::state_fields::integer;
use super::template::jsonata_template;
use crate::asl::QueryLanguage;

/// The error of a Map Run whose batching values are invalid.
pub const ITEM_BATCHER_FAILED: &str = "States.Runtime";

/// The largest input of one batch (and the default byte limit): 256 KiB.
pub const MAX_BATCH_BYTES: usize = 262_144;

/// A parsed `ItemBatcher` field.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemBatcher {
    /// `MaxItemsPerBatch` (a number, or a JSONata expression).
    pub max_items: Option<Value>,
    /// `MaxItemsPerBatchPath`.
    pub max_items_path: Option<String>,
    /// `MaxInputBytesPerBatch` (a number, or a JSONata expression).
    pub max_bytes: Option<Value>,
    /// `MaxInputBytesPerBatchPath`.
    pub max_bytes_path: Option<String>,
    /// `BatchInput`: a payload template (JSONPath) or JSONata template.
    pub batch_input: Option<Value>,
}

/// The batcher's values for one Map Run, evaluated but not yet checked (see [`Self::limits`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchSpec {
    max_items: Option<Value>,
    from_items_path: bool,
    max_bytes: Option<Value>,
    from_bytes_path: bool,
    /// The evaluated `BatchInput`, added to every batch.
    pub batch_input: Option<Value>,
}

/// The checked limits of a Map Run's batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Items per batch (`None`: as many as fit in the byte limit).
    pub max_items: Option<usize>,
    /// Bytes of input per batch (serialized JSON), at most [`MAX_BATCH_BYTES`].
    pub max_bytes: usize,
}

/// One child execution's input and the number of items in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// `{"BatchInput"?: ..., "Items": [...]}`.
    pub input: Value,
    /// How many items it holds.
    pub items: usize,
}

impl ItemBatcher {
    /// Reads the field as the definition has it.
    pub fn parse(field: &Value) -> Result<ItemBatcher, EvalError> {
        let Value::Object(m) = field else {
            return Err(EvalError::runtime(format!(
                "Invalid ItemBatcher: it must be an object, not {field}"
            )));
        };
        let path = |name: &str| -> Result<Option<String>, EvalError> {
            match m.get(name) {
                None => Ok(None),
                Some(Value::String(p)) => Ok(Some(p.clone())),
                Some(other) => Err(EvalError::runtime(format!(
                    "Invalid ItemBatcher: {name} must be a string path, not {other}"
                ))),
            }
        };
        Ok(ItemBatcher {
            max_items: m.get("MaxItemsPerBatch").cloned(),
            max_items_path: path("MaxItemsPerBatchPath")?,
            max_bytes: m.get("MaxInputBytesPerBatch").cloned(),
            max_bytes_path: path("MaxInputBytesPerBatchPath")?,
            batch_input: m.get("BatchInput").cloned(),
        })
    }

    /// The batcher's values for a Map Run, evaluated against the state's effective input
    /// (JSONPath) or its `$states` (JSONata).
    pub fn evaluate(&self, lang: QueryLanguage, scope: &Scope) -> Result<BatchSpec, EvalError> {
        let value =
            |literal: &Option<Value>, path: &Option<String>, field: &str| match (literal, path) {
                (Some(Value::String(expr)), _) if lang == QueryLanguage::Jsonata => {
                    jsonata_template(&Value::String(expr.clone()), field, scope).map(Some)
                }
                (Some(v), _) => Ok(Some(v.clone())),
                (None, Some(p)) => jsonpath::query(p, scope)
                    .map(Some)
                    .map_err(|e| invalid_path(p, &e)),
                (None, None) => Ok(None),
            };
        let batch_input = match &self.batch_input {
            Some(template) => Some(evaluate_payload(lang, "BatchInput", template, scope)?),
            None => None,
        };
        Ok(BatchSpec {
            max_items: value(&self.max_items, &self.max_items_path, "MaxItemsPerBatch")?,
            from_items_path: self.max_items.is_none() && self.max_items_path.is_some(),
            max_bytes: value(
                &self.max_bytes,
                &self.max_bytes_path,
                "MaxInputBytesPerBatch",
            )?,
            from_bytes_path: self.max_bytes.is_none() && self.max_bytes_path.is_some(),
            batch_input,
        })
    }
}

impl BatchSpec {
    /// The checked limits; the error is the Map Run's cause.
    pub fn limits(&self) -> Result<BatchLimits, String> {
        let max_items = positive(
            self.max_items.as_ref(),
            "MaxItemsPerBatch",
            self.from_items_path,
        )?;
        let max_bytes = positive(
            self.max_bytes.as_ref(),
            "MaxInputBytesPerBatch",
            self.from_bytes_path,
        )?;
        if let Some(b) = max_bytes.filter(|&b| b > MAX_BATCH_BYTES) {
            return Err(format!(
                "field MaxInputBytesPerBatch must be at most {MAX_BATCH_BYTES} (256 KiB), not {b}"
            ));
        }
        Ok(BatchLimits {
            max_items,
            max_bytes: max_bytes.unwrap_or(MAX_BATCH_BYTES),
        })
    }
}

/// A positive whole number, or the cause naming the field.
fn positive(value: Option<&Value>, field: &str, from_path: bool) -> Result<Option<usize>, String> {
    let Some(v) = value else {
        return Ok(None);
    };
    let field = if from_path {
        format!("{field}Path")
    } else {
        field.to_string()
    };
    // A JSON number with a fraction (1.5) is not an integer; neither is a string in JSONPath.
    let n = match v {
        Value::Number(_) => integer(v),
        _ => None,
    };
    match n {
        Some(n) if n > 0 => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
        Some(_) => Err(format!("field {field} must be positive, not {v}")),
        None => Err(format!("field {field} must be a positive integer, not {v}")),
    }
}

/// The items grouped into batches, in order: each batch takes items while it holds fewer than
/// `max_items` and its input stays within `max_bytes` (an item that does not fit alone fails the
/// Map Run, naming its index).
pub fn batches(
    items: Vec<Value>,
    limits: &BatchLimits,
    batch_input: Option<&Value>,
) -> Result<Vec<Batch>, String> {
    // Size of `{"BatchInput":<v>,"Items":[]}` (or `{"Items":[]}`) as compact JSON.
    let base = match batch_input {
        Some(v) => r#"{"BatchInput":,"Items":[]}"#.len() + json_len(v),
        None => r#"{"Items":[]}"#.len(),
    };
    let max_items = limits.max_items.unwrap_or(usize::MAX);
    let mut out = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut size = base;
    for (index, item) in items.into_iter().enumerate() {
        let len = json_len(&item);
        // The item and, after the first, its comma.
        let fits = |current: &Vec<Value>, size: usize| {
            size + len + usize::from(!current.is_empty()) <= limits.max_bytes
        };
        if !current.is_empty() && (current.len() >= max_items || !fits(&current, size)) {
            out.push(batch(std::mem::take(&mut current), batch_input));
            size = base;
        }
        if current.is_empty() && !fits(&current, size) {
            return Err(format!(
                "The item at index {index} is {len} bytes, too large for a batch of at most \
                 {} bytes (MaxInputBytesPerBatch).",
                limits.max_bytes
            ));
        }
        size += len + usize::from(!current.is_empty());
        current.push(item);
    }
    if !current.is_empty() {
        out.push(batch(current, batch_input));
    }
    Ok(out)
}

/// The length of a value as compact JSON, counted without building the text.
fn json_len(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a `Value` to a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// One batch's input.
fn batch(items: Vec<Value>, batch_input: Option<&Value>) -> Batch {
    let mut m = Map::new();
    if let Some(v) = batch_input {
        m.insert("BatchInput".into(), v.clone());
    }
    let count = items.len();
    m.insert("Items".into(), Value::Array(items));
    Batch {
        input: Value::Object(m),
        items: count,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn limits(max_items: Option<usize>, max_bytes: usize) -> BatchLimits {
        BatchLimits {
            max_items,
            max_bytes,
        }
    }

    fn spec(max_items: Option<Value>, max_bytes: Option<Value>) -> BatchSpec {
        BatchSpec {
            max_items,
            from_items_path: false,
            max_bytes,
            from_bytes_path: true,
            batch_input: None,
        }
    }

    #[test]
    fn the_docs_example_batches_two_items_per_child() {
        // AWS docs, ItemBatcher (Map): with two items per batch, a child's input is
        // {"Items": [first, second]}.
        let items = vec![
            json!({"verdict": "true"}),
            json!({"verdict": "false"}),
            json!(3),
        ];
        let got = batches(items, &limits(Some(2), MAX_BATCH_BYTES), None).unwrap();
        assert_eq!(
            got.iter().map(|b| b.input.clone()).collect::<Vec<_>>(),
            [
                json!({"Items": [{"verdict": "true"}, {"verdict": "false"}]}),
                json!({"Items": [3]})
            ]
        );
        assert_eq!(got.iter().map(|b| b.items).collect::<Vec<_>>(), [2, 1]);
    }

    #[test]
    fn batch_input_comes_first_in_every_batch() {
        let bi = json!({"factCheck": "December 2022"});
        let got = batches(vec![json!(1), json!(2)], &limits(Some(1), 1000), Some(&bi)).unwrap();
        assert_eq!(
            got[1].input.to_string(),
            r#"{"BatchInput":{"factCheck":"December 2022"},"Items":[2]}"#
        );
    }

    #[test]
    fn the_byte_limit_counts_the_whole_serialized_batch_input() {
        // {"Items":[1,2]} is 15 bytes, {"Items":[1,2,3]} 17.
        let items = || vec![json!(1), json!(2), json!(3)];
        let sizes = |max| {
            batches(items(), &limits(None, max), None)
                .unwrap()
                .iter()
                .map(|b| (b.items, b.input.to_string().len()))
                .collect::<Vec<_>>()
        };
        assert_eq!(sizes(17), [(3, 17)]);
        assert_eq!(sizes(16), [(2, 15), (1, 13)]);
        assert!(batches(items(), &limits(None, 12), None)
            .unwrap_err()
            .contains("index 0"));
    }

    #[test]
    fn invalid_limits_name_their_field() {
        let cause = |s: BatchSpec| s.limits().unwrap_err();
        assert_eq!(
            cause(spec(Some(json!(-1)), None)),
            "field MaxItemsPerBatch must be positive, not -1"
        );
        assert_eq!(
            cause(spec(Some(json!(0)), None)),
            "field MaxItemsPerBatch must be positive, not 0"
        );
        assert!(cause(spec(Some(json!(1.5)), None)).contains("positive integer, not 1.5"));
        assert!(cause(spec(None, Some(json!("x")))).starts_with("field MaxInputBytesPerBatchPath"));
        assert!(cause(spec(None, Some(json!(262_145)))).contains("at most 262144"));
        assert_eq!(
            spec(None, Some(json!(262_144))).limits(),
            Ok(limits(None, MAX_BATCH_BYTES))
        );
    }

    #[test]
    fn the_field_must_be_an_object_with_string_paths() {
        assert!(ItemBatcher::parse(&json!(3)).is_err());
        assert!(ItemBatcher::parse(&json!({"MaxItemsPerBatchPath": 3})).is_err());
        let b =
            ItemBatcher::parse(&json!({"MaxItemsPerBatch": 2, "BatchInput": {"a": 1}})).unwrap();
        assert_eq!(b.max_items, Some(json!(2)));
        assert_eq!(b.batch_input, Some(json!({"a": 1})));
    }
}
