//! The data side of a Distributed Map's `ItemReader`: its fields, the request the engine sends to
//! the integration serving its `Resource` (`s3:getObject`, `s3:listObjectsV2`), the `MaxItems`
//! limit, and the items of what comes back, read as AWS reads them: a JSON array, JSON Lines, CSV
//! (headers from the first row or declared; every value a string, missing fields empty, extra
//! fields dropped), or the objects of a listing.
//!
//! Failures while reading are `States.ItemReaderFailed` with AWS's cause texts; this module
//! returns those causes as `Err(String)` and the engine raises them inside the Map Run.

use serde_json::{Map, Value};

use super::error::EvalError;
use super::fields::{evaluate_payload, invalid_path};
use super::jsonpath;
use super::scope::Scope;
use super::state_fields::integer;
use super::template::jsonata_template;
use crate::asl::QueryLanguage;

/// The error of a Map Run whose items cannot be read.
pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";

/// A Distributed Map stops reading items past this many.
pub const MAX_ITEMS_CAP: usize = 100_000_000;

/// How an object's text becomes items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputType {
    /// A JSON array: its elements.
    Json,
    /// JSON Lines: one item per non-empty line.
    Jsonl,
    /// CSV: one object per row, keyed by the headers.
    Csv {
        /// Where the column names come from.
        headers: CsvHeaders,
        /// The field separator.
        delimiter: char,
    },
}

/// Where a CSV file's column names come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvHeaders {
    /// `CSVHeaderLocation: FIRST_ROW`.
    FirstRow,
    /// `CSVHeaderLocation: GIVEN` with `CSVHeaders`.
    Given(Vec<String>),
}

/// A parsed `ItemReader` field.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemReader {
    /// The `Resource` ARN (`arn:aws:states:::s3:getObject`, `...:s3:listObjectsV2`).
    pub resource: String,
    /// The `Parameters` (JSONPath) or `Arguments` (JSONata) template.
    pub parameters: Value,
    /// How the object is read (`None` for a listing).
    pub input_type: Option<InputType>,
    /// `ReaderConfig.MaxItems` (a number, or a JSONata expression).
    pub max_items: Option<Value>,
    /// `ReaderConfig.MaxItemsPath`.
    pub max_items_path: Option<String>,
}

impl ItemReader {
    /// Reads the field as the definition has it.
    pub fn parse(field: &Value) -> Result<ItemReader, EvalError> {
        let bad = |what: String| EvalError::runtime(format!("Invalid ItemReader: {what}"));
        let resource = field["Resource"]
            .as_str()
            .ok_or_else(|| bad("Resource must be a string".into()))?
            .to_string();
        let parameters = match (field.get("Parameters"), field.get("Arguments")) {
            (Some(p), _) | (None, Some(p)) => p.clone(),
            (None, None) => Value::Object(Map::new()),
        };
        let config = &field["ReaderConfig"];
        let input_type = match config["InputType"].as_str() {
            None => None,
            Some("JSON") => Some(InputType::Json),
            Some("JSONL") => Some(InputType::Jsonl),
            Some("CSV") => Some(InputType::Csv {
                headers: match config["CSVHeaderLocation"].as_str() {
                    None | Some("FIRST_ROW") => CsvHeaders::FirstRow,
                    Some("GIVEN") => CsvHeaders::Given(
                        config["CSVHeaders"]
                            .as_array()
                            .ok_or_else(|| bad("CSVHeaders must be an array of strings".into()))?
                            .iter()
                            .map(|h| h.as_str().map(String::from))
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| bad("CSVHeaders must be an array of strings".into()))?,
                    ),
                    Some(other) => return Err(bad(format!("unknown CSVHeaderLocation {other:?}"))),
                },
                delimiter: match config["CSVDelimiter"].as_str() {
                    None | Some("COMMA") => ',',
                    Some("PIPE") => '|',
                    Some("SEMICOLON") => ';',
                    Some("SPACE") => ' ',
                    Some("TAB") => '\t',
                    Some(other) => return Err(bad(format!("unknown CSVDelimiter {other:?}"))),
                },
            }),
            Some(other) => {
                return Err(bad(format!(
                    "InputType {other:?} is not supported (JSON, JSONL or CSV)"
                )))
            }
        };
        if input_type.is_none() && !resource.ends_with(":listObjectsV2") {
            return Err(bad(format!(
                "ReaderConfig.InputType is required to read objects with {resource}"
            )));
        }
        Ok(ItemReader {
            resource,
            parameters,
            input_type,
            max_items: config.get("MaxItems").cloned(),
            max_items_path: config["MaxItemsPath"].as_str().map(String::from),
        })
    }

    /// Whether the reader lists objects (`s3:listObjectsV2`) instead of reading one.
    pub fn lists_objects(&self) -> bool {
        self.input_type.is_none()
    }

    /// The parameters of the reader's request and the `MaxItems` value (not yet checked: see
    /// [`max_items_limit`]), evaluated against the state's effective input.
    pub fn request(
        &self,
        lang: QueryLanguage,
        scope: &Scope,
    ) -> Result<(Value, Option<Value>), EvalError> {
        let field = match lang {
            QueryLanguage::JsonPath => "Parameters",
            QueryLanguage::Jsonata => "Arguments",
        };
        let parameters = evaluate_payload(lang, field, &self.parameters, scope)?;
        let max_items = match (&self.max_items, &self.max_items_path) {
            (Some(Value::String(expr)), _) => Some(jsonata_template(
                &Value::String(expr.clone()),
                "MaxItems",
                scope,
            )?),
            (Some(literal), _) => Some(literal.clone()),
            (None, Some(path)) => {
                Some(jsonpath::query(path, scope).map_err(|e| invalid_path(path, &e))?)
            }
            (None, None) => None,
        };
        Ok((parameters, max_items))
    }
}

/// The number of items to read: `None` for all (`MaxItems` absent or 0), at most
/// [`MAX_ITEMS_CAP`]. The error is the Map Run's cause.
pub fn max_items_limit(value: Option<&Value>) -> Result<Option<usize>, String> {
    let Some(v) = value else {
        return Ok(None);
    };
    match integer(v) {
        Some(n) if n < 0 => Err("field MaxItems must be positive".into()),
        Some(0) => Ok(None),
        Some(n) => Ok(Some(
            usize::try_from(n).unwrap_or(usize::MAX).min(MAX_ITEMS_CAP),
        )),
        None => Err(format!("field MaxItems must be an integer, not {v}")),
    }
}

/// The items of an object's text.
pub fn object_items(input: &InputType, text: &str) -> Result<Vec<Value>, String> {
    match input {
        InputType::Json => match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(items)) => Ok(items),
            Ok(_) => Err("Attempting to map over non-iterable node.".into()),
            Err(e) => Err(format!("The object is not valid JSON: {e}")),
        },
        InputType::Jsonl => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .map_err(|e| format!("Line {} of the object is not valid JSON: {e}", i + 1))
            })
            .collect(),
        InputType::Csv { headers, delimiter } => csv_items(text, headers, *delimiter),
    }
}

/// CSV rows as objects keyed by the headers; values stay strings.
fn csv_items(text: &str, headers: &CsvHeaders, delimiter: char) -> Result<Vec<Value>, String> {
    let mut rows = csv_rows(text, delimiter)?.into_iter();
    let headers = match headers {
        CsvHeaders::Given(h) => h.clone(),
        CsvHeaders::FirstRow => match rows.next() {
            Some(first) => first,
            None => return Ok(Vec::new()),
        },
    };
    let mut seen = std::collections::HashSet::new();
    if !headers.iter().all(|h| seen.insert(h)) {
        return Err("CSV headers cannot contain duplicates.".into());
    }
    Ok(rows
        .map(|row| {
            let mut item = Map::new();
            for (i, h) in headers.iter().enumerate() {
                let v = row.get(i).cloned().unwrap_or_default();
                item.insert(h.clone(), Value::String(v));
            }
            Value::Object(item)
        })
        .collect())
}

/// The rows of a CSV text (RFC 4180 quoting; `\n` or `\r\n` line ends; empty lines skipped).
fn csv_rows(text: &str, delimiter: char) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1usize;
    let mut chars = text.chars().peekable();
    let end_row = |row: &mut Vec<String>, field: &mut String, rows: &mut Vec<Vec<String>>| {
        if !(row.is_empty() && field.is_empty()) {
            row.push(std::mem::take(field));
            rows.push(std::mem::take(row));
        }
    };
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                line += 1;
                end_row(&mut row, &mut field, &mut rows);
            }
            c if c == delimiter => row.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(format!(
            "The CSV object ends inside a quoted field (opened before line {line})."
        ));
    }
    end_row(&mut row, &mut field, &mut rows);
    Ok(rows)
}

/// The items of one page of an `s3:listObjectsV2` response (one per entry of `Contents`, as
/// AWS hands them to iterations: `Etag`, `Key`, `LastModified`, `Size`, `StorageClass`) and the
/// token of the next page, if the listing is truncated.
pub fn listing_items(page: &Value) -> Result<(Vec<Value>, Option<String>), String> {
    let contents = match &page["Contents"] {
        Value::Null => &[][..],
        Value::Array(a) => a.as_slice(),
        other => return Err(format!("The listing's Contents is not an array: {other}")),
    };
    let items = contents
        .iter()
        .map(|o| {
            let mut item = Map::new();
            for (from, to) in [
                ("ETag", "Etag"),
                ("Key", "Key"),
                ("LastModified", "LastModified"),
                ("Size", "Size"),
                ("StorageClass", "StorageClass"),
            ] {
                if let Some(v) = o.get(from).or_else(|| o.get(to)) {
                    item.insert(to.into(), v.clone());
                }
            }
            Value::Object(item)
        })
        .collect();
    let next = (page["IsTruncated"] == Value::Bool(true))
        .then(|| page["NextContinuationToken"].as_str().map(String::from))
        .flatten();
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn csv(text: &str, headers: CsvHeaders) -> Result<Vec<Value>, String> {
        object_items(
            &InputType::Csv {
                headers,
                delimiter: ',',
            },
            text,
        )
    }

    #[test]
    fn csv_values_stay_strings_missing_fields_are_empty_extra_fields_dropped() {
        let text = "Col1,Col2,Col3\nValue1,Value2,Value3\n,,,\ntrue,1,'HelloWorld'\n   \n";
        assert_eq!(
            csv(text, CsvHeaders::FirstRow).unwrap(),
            [
                json!({"Col1": "Value1", "Col2": "Value2", "Col3": "Value3"}),
                json!({"Col1": "", "Col2": "", "Col3": ""}),
                json!({"Col1": "true", "Col2": "1", "Col3": "'HelloWorld'"}),
                json!({"Col1": "   ", "Col2": "", "Col3": ""}),
            ]
        );
        let given = CsvHeaders::Given(vec!["H1".into()]);
        assert_eq!(
            csv("a,b\r\n\r\n\"x,\"\"y\"\"\",z\n", given).unwrap(),
            [json!({"H1": "a"}), json!({"H1": "x,\"y\""})]
        );
    }

    #[test]
    fn csv_errors_name_what_is_wrong() {
        let dup = CsvHeaders::Given(vec!["H1".into(), "H1".into()]);
        assert_eq!(
            csv("a,b\n", dup).unwrap_err(),
            "CSV headers cannot contain duplicates."
        );
        assert!(csv("h\n\"open\n", CsvHeaders::FirstRow)
            .unwrap_err()
            .contains("quoted field"));
    }

    #[test]
    fn json_objects_must_be_arrays() {
        assert_eq!(
            object_items(&InputType::Json, r#"[{"a": 1}, 2]"#).unwrap(),
            [json!({"a": 1}), json!(2)]
        );
        assert_eq!(
            object_items(&InputType::Json, r#"{"Hello": "world"}"#).unwrap_err(),
            "Attempting to map over non-iterable node."
        );
        assert_eq!(
            object_items(&InputType::Jsonl, "1\n\n{\"a\":2}\n").unwrap(),
            [json!(1), json!({"a": 2})]
        );
        assert!(object_items(&InputType::Jsonl, "1\nnope\n")
            .unwrap_err()
            .starts_with("Line 2"));
    }

    #[test]
    fn max_items_zero_means_all_negative_fails_and_the_cap_holds() {
        assert_eq!(max_items_limit(None), Ok(None));
        assert_eq!(max_items_limit(Some(&json!(0))), Ok(None));
        assert_eq!(max_items_limit(Some(&json!("2"))), Ok(Some(2)));
        assert_eq!(
            max_items_limit(Some(&json!(100_000_001))),
            Ok(Some(MAX_ITEMS_CAP))
        );
        assert_eq!(
            max_items_limit(Some(&json!(-1))).unwrap_err(),
            "field MaxItems must be positive"
        );
    }

    #[test]
    fn listings_give_one_item_per_object_and_the_next_token() {
        let page = json!({"Contents": [{"Key": "a", "Size": 1, "ETag": "\"e\"",
            "LastModified": "2024-01-01T00:00:00Z", "StorageClass": "STANDARD"}],
            "IsTruncated": true, "NextContinuationToken": "t"});
        let (items, next) = listing_items(&page).unwrap();
        assert_eq!(items[0]["Etag"], "\"e\"");
        assert_eq!(next.as_deref(), Some("t"));
    }

    #[test]
    fn readers_parse_their_config() {
        let r = ItemReader::parse(&json!({"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "GIVEN",
                "CSVHeaders": ["A"], "MaxItems": 2},
            "Parameters": {"Bucket": "b", "Key": "k"}}))
        .unwrap();
        assert_eq!(
            r.input_type,
            Some(InputType::Csv {
                headers: CsvHeaders::Given(vec!["A".into()]),
                delimiter: ','
            })
        );
        assert!(
            ItemReader::parse(&json!({"Resource": "arn:aws:states:::s3:listObjectsV2"}))
                .unwrap()
                .lists_objects()
        );
        assert!(ItemReader::parse(&json!({"Resource": "arn:aws:states:::s3:getObject"})).is_err());
    }
}
