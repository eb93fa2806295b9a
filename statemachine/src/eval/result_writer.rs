//! The data side of a Distributed Map's `ResultWriter`: its fields, the child executions' results
//! in the shape AWS exports them (`Transformation` NONE, COMPACT or FLATTEN), the files it writes
//! (`SUCCEEDED_0.json`, `FAILED_0.json`, `manifest.json` under `Prefix/<map run id>/`; a result
//! file holds a JSON array, or one JSON value per line with `OutputType` JSONL) and the state
//! result that points to the manifest.

use serde_json::{json, Map, Value};

use super::error::EvalError;
use super::fields::evaluate_payload;
use super::scope::Scope;
use crate::asl::QueryLanguage;

/// The error of a Map Run whose results cannot be written.
pub const RESULT_WRITER_FAILED: &str = "States.ResultWriterFailed";

/// How child results are shaped (`WriterConfig.Transformation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transformation {
    /// Each execution's metadata with its input and output (the default when exporting).
    None,
    /// The outputs only (the Map's usual result).
    Compact,
    /// The outputs, arrays flattened one level.
    Flatten,
}

/// How exported result files are written (`WriterConfig.OutputType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputType {
    /// One JSON array per file (the default).
    Json,
    /// JSON Lines: one compact JSON value per line, each line ending in `\n`.
    Jsonl,
}

/// A parsed `ResultWriter` field.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultWriter {
    /// The `Resource` (`arn:aws:states:::s3:putObject`), when results are exported.
    pub resource: Option<String>,
    /// The `Parameters`/`Arguments` template (`Bucket`, `Prefix`).
    pub parameters: Option<Value>,
    /// How results are shaped.
    pub transformation: Transformation,
    /// How result files are written (it does not change the state's own output).
    pub output_type: OutputType,
}

impl ResultWriter {
    /// Reads the field as the definition has it.
    pub fn parse(field: &Value) -> Result<ResultWriter, EvalError> {
        let bad = |what: String| EvalError::runtime(format!("Invalid ResultWriter: {what}"));
        let config = &field["WriterConfig"];
        let resource = field["Resource"].as_str().map(String::from);
        let transformation = match config["Transformation"].as_str() {
            None if resource.is_some() => Transformation::None,
            None | Some("COMPACT") => Transformation::Compact,
            Some("NONE") => Transformation::None,
            Some("FLATTEN") => Transformation::Flatten,
            Some(other) => return Err(bad(format!("unknown Transformation {other:?}"))),
        };
        let output_type = match config["OutputType"].as_str() {
            None | Some("JSON") => OutputType::Json,
            Some("JSONL") => OutputType::Jsonl,
            Some(other) => {
                return Err(bad(format!("unknown OutputType {other:?} (JSON or JSONL)")))
            }
        };
        Ok(ResultWriter {
            resource,
            parameters: field.get("Parameters").or(field.get("Arguments")).cloned(),
            transformation,
            output_type,
        })
    }

    /// The bucket and key prefix to export to (`None` when results are not exported).
    pub fn destination(
        &self,
        lang: QueryLanguage,
        scope: &Scope,
    ) -> Result<Option<(String, String)>, EvalError> {
        let (Some(_), Some(template)) = (&self.resource, &self.parameters) else {
            return Ok(None);
        };
        let field = match lang {
            QueryLanguage::JsonPath => "Parameters",
            QueryLanguage::Jsonata => "Arguments",
        };
        let p = evaluate_payload(lang, field, template, scope)?;
        let bucket = p["Bucket"].as_str().ok_or_else(|| {
            EvalError::runtime("The ResultWriter's Bucket must be a string.".to_string())
        })?;
        let prefix = p["Prefix"].as_str().unwrap_or_default();
        Ok(Some((bucket.to_string(), prefix.to_string())))
    }
}

/// One child execution of a Map Run, as the writer reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildResult {
    /// Its ARN.
    pub execution_arn: String,
    /// Its name.
    pub name: String,
    /// The child state machine's ARN.
    pub state_machine_arn: String,
    /// Its input.
    pub input: Value,
    /// Its output, or its error and cause.
    pub outcome: Result<Value, (Option<String>, Option<String>)>,
    /// Start and stop, RFC 3339.
    pub start_date: String,
    /// See `start_date`.
    pub stop_date: String,
}

impl ChildResult {
    /// The execution as the NONE transformation (and every failed execution) shows it.
    fn described(&self) -> Value {
        let mut m = Map::new();
        m.insert("ExecutionArn".into(), json!(self.execution_arn));
        m.insert("Input".into(), json!(self.input.to_string()));
        m.insert("InputDetails".into(), json!({"Included": true}));
        m.insert("Name".into(), json!(self.name));
        m.insert("RedriveCount".into(), json!(0));
        m.insert("StartDate".into(), json!(self.start_date));
        m.insert("StateMachineArn".into(), json!(self.state_machine_arn));
        m.insert("StopDate".into(), json!(self.stop_date));
        match &self.outcome {
            Ok(output) => {
                m.insert("Output".into(), json!(output.to_string()));
                m.insert("OutputDetails".into(), json!({"Included": true}));
                m.insert("RedriveStatus".into(), json!("NOT_REDRIVABLE"));
                m.insert(
                    "RedriveStatusReason".into(),
                    json!("Execution is SUCCEEDED and cannot be redriven"),
                );
                m.insert("Status".into(), json!("SUCCEEDED"));
            }
            Err((error, cause)) => {
                if let Some(e) = error {
                    m.insert("Error".into(), json!(e));
                }
                if let Some(c) = cause {
                    m.insert("Cause".into(), json!(c));
                }
                m.insert("RedriveStatus".into(), json!("REDRIVABLE"));
                m.insert("Status".into(), json!("FAILED"));
            }
        }
        Value::Object(m)
    }
}

/// The results shaped by `transformation`, in item order (failed executions always in full).
pub fn transformed(children: &[ChildResult], transformation: Transformation) -> Vec<Value> {
    let mut out = Vec::with_capacity(children.len());
    for c in children {
        match (&c.outcome, transformation) {
            (Err(_), _) | (Ok(_), Transformation::None) => out.push(c.described()),
            (Ok(Value::Array(items)), Transformation::Flatten) => out.extend(items.iter().cloned()),
            (Ok(v), _) => out.push(v.clone()),
        }
    }
    out
}

/// The files an export writes, `(key, body)` in the order they are written (result files, then
/// the manifest last), and the state's result.
pub fn export_files(
    children: &[ChildResult],
    writer: &ResultWriter,
    bucket: &str,
    prefix: &str,
    map_run_arn: &str,
) -> (Vec<(String, String)>, Value) {
    let run_id = map_run_arn.rsplit(':').next().unwrap_or_default();
    let base = if prefix.is_empty() {
        run_id.to_string()
    } else {
        format!("{}/{run_id}", prefix.trim_end_matches('/'))
    };
    let mut files = Vec::new();
    let mut listed = Map::new();
    for (status, pick) in [("FAILED", false), ("PENDING", false), ("SUCCEEDED", true)] {
        let group: Vec<ChildResult> = children
            .iter()
            .filter(|c| status != "PENDING" && c.outcome.is_ok() == pick)
            .cloned()
            .collect();
        let mut entries = Vec::new();
        if !group.is_empty() {
            let key = format!("{base}/{status}_0.json");
            let results = transformed(&group, writer.transformation);
            let body = match writer.output_type {
                OutputType::Json => Value::Array(results).to_string(),
                OutputType::Jsonl => results.iter().map(|r| format!("{r}\n")).collect(),
            };
            entries.push(json!({"Key": key, "Size": body.len()}));
            files.push((key, body));
        }
        listed.insert(status.into(), Value::Array(entries));
    }
    let manifest_key = format!("{base}/manifest.json");
    let manifest = json!({
        "DestinationBucket": bucket,
        "MapRunArn": map_run_arn,
        "ResultFiles": listed,
    });
    files.push((manifest_key.clone(), manifest.to_string()));
    let result = json!({
        "MapRunArn": map_run_arn,
        "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key},
    });
    (files, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(i: u64, outcome: Result<Value, (Option<String>, Option<String>)>) -> ChildResult {
        ChildResult {
            execution_arn: format!("arn:x:execution:M/Map:{i}"),
            name: i.to_string(),
            state_machine_arn: "arn:x:stateMachine:M/Map".into(),
            input: json!(i),
            outcome,
            start_date: "2024-01-01T00:00:00.000Z".into(),
            stop_date: "2024-01-01T00:00:01.000Z".into(),
        }
    }

    #[test]
    fn an_export_writes_result_files_then_the_manifest_and_points_to_it() {
        let children = [
            child(0, Ok(json!([1, 2]))),
            child(1, Err((Some("E".into()), Some("c".into())))),
        ];
        let arn = "arn:aws:states:us-east-1:1:mapRun:M/Map:run-id";
        let writer =
            ResultWriter::parse(&json!({"Resource": "arn:aws:states:::s3:putObject"})).unwrap();
        let (files, result) = export_files(&children, &writer, "b", "jobs/", arn);
        let keys: Vec<&str> = files.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "jobs/run-id/FAILED_0.json",
                "jobs/run-id/SUCCEEDED_0.json",
                "jobs/run-id/manifest.json"
            ]
        );
        let manifest: Value = serde_json::from_str(&files[2].1).unwrap();
        assert_eq!(
            manifest["ResultFiles"]["SUCCEEDED"][0]["Size"],
            files[1].1.len()
        );
        assert_eq!(manifest["ResultFiles"]["PENDING"], json!([]));
        let succeeded: Value = serde_json::from_str(&files[1].1).unwrap();
        assert_eq!(succeeded[0]["Output"], "[1,2]");
        assert_eq!(succeeded[0]["Status"], "SUCCEEDED");
        assert_eq!(
            result["ResultWriterDetails"]["Key"],
            "jobs/run-id/manifest.json"
        );
    }

    #[test]
    fn transformations_shape_outputs_and_keep_failures_whole() {
        let children = [child(0, Ok(json!([1, 2]))), child(1, Ok(json!(3)))];
        assert_eq!(
            transformed(&children, Transformation::Flatten),
            [json!(1), json!(2), json!(3)]
        );
        assert_eq!(
            transformed(&children, Transformation::Compact),
            [json!([1, 2]), json!(3)]
        );
        let failed = [child(0, Err((Some("E".into()), None)))];
        assert_eq!(
            transformed(&failed, Transformation::Compact)[0]["Status"],
            "FAILED"
        );
    }

    #[test]
    fn writers_parse_their_config() {
        let w = ResultWriter::parse(&json!({"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "b", "Prefix": "p"}}))
        .unwrap();
        assert_eq!(w.transformation, Transformation::None);
        let w =
            ResultWriter::parse(&json!({"WriterConfig": {"Transformation": "FLATTEN"}})).unwrap();
        assert_eq!(
            (w.resource, w.transformation),
            (None, Transformation::Flatten)
        );
        let w = ResultWriter::parse(&json!({"WriterConfig": {"OutputType": "JSONL"}})).unwrap();
        assert_eq!(w.output_type, OutputType::Jsonl);
        assert!(ResultWriter::parse(&json!({"WriterConfig": {"OutputType": "CSV"}})).is_err());
    }

    #[test]
    fn jsonl_result_files_hold_one_result_per_line() {
        // AWS docs, ResultWriter (Map): OutputType JSONL formats the results as JSON Lines;
        // FLATTEN flattens a child's array output before the results are written.
        let children = [child(0, Ok(json!([1, {"a": 2}]))), child(1, Ok(json!("x")))];
        let writer = ResultWriter::parse(&json!({
            "Resource": "arn:aws:states:::s3:putObject",
            "WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSONL"}}))
        .unwrap();
        let arn = "arn:aws:states:us-east-1:1:mapRun:M/Map:run-id";
        let (files, _) = export_files(&children, &writer, "b", "", arn);
        assert_eq!(files[0].0, "run-id/SUCCEEDED_0.json");
        assert_eq!(files[0].1, "1\n{\"a\":2}\n\"x\"\n");
        let manifest: Value = serde_json::from_str(&files[1].1).unwrap();
        assert_eq!(
            manifest["ResultFiles"]["SUCCEEDED"][0]["Size"],
            files[0].1.len()
        );
    }
}
