//! A Distributed Map's Map Run: items read through the integration of its `ItemReader`
//! (objects, listings with pages, `MaxItems`), results exported through its `ResultWriter`, and
//! the failures of both, with their events.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::tests::{run_with, types, with, T0};
use super::*;

/// An in-memory S3: `getObject`, `listObjectsV2` (one object per page) and `putObject`.
#[derive(Default)]
struct Bucket {
    objects: Mutex<BTreeMap<String, String>>,
    calls: Mutex<Vec<(String, Value)>>,
}

impl Bucket {
    fn with(objects: &[(&str, &str)]) -> Arc<Bucket> {
        let b = Bucket::default();
        for (k, v) in objects {
            b.objects
                .lock()
                .unwrap()
                .insert(k.to_string(), v.to_string());
        }
        Arc::new(b)
    }

    fn answer(&self, action: &str, p: &Value) -> Result<Value, TaskError> {
        self.calls
            .lock()
            .unwrap()
            .push((action.to_string(), p.clone()));
        let objects = self.objects.lock().unwrap();
        match action {
            "getObject" => objects
                .get(p["Key"].as_str().unwrap_or_default())
                .map(|body| json!({ "Body": body }))
                .ok_or_else(|| TaskError::new("S3.NoSuchKeyException", "no such key")),
            "listObjectsV2" => {
                let keys: Vec<&String> = objects.keys().collect();
                let at: usize = p["ContinuationToken"]
                    .as_str()
                    .map_or(0, |t| t.parse().unwrap());
                let key = keys[at];
                Ok(json!({
                    "Contents": [{"Key": key, "Size": objects[key].len(), "ETag": "\"e\"",
                        "LastModified": "2024-01-01T00:00:00Z", "StorageClass": "STANDARD"}],
                    "IsTruncated": at + 1 < keys.len(),
                    "NextContinuationToken": (at + 1).to_string(),
                }))
            }
            "putObject" => {
                drop(objects);
                self.objects.lock().unwrap().insert(
                    p["Key"].as_str().unwrap().to_string(),
                    p["Body"].as_str().unwrap().to_string(),
                );
                Ok(json!({}))
            }
            _ => unreachable!(),
        }
    }
}

impl TaskIntegration for Bucket {
    fn call<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, TaskError>> {
        let answer = self.answer(&request.resource.resource, &request.parameters);
        Box::pin(async move { answer })
    }
}

fn distributed_map(extra: Value) -> Value {
    let mut map = json!({"Type": "Map", "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}});
    for (k, v) in extra.as_object().unwrap() {
        map[k] = v.clone();
    }
    json!({"StartAt": "M", "States": {"M": map}})
}

fn run(definition: Value, input: Value, bucket: &Arc<Bucket>) -> ExecutionRecord {
    run_with(
        definition,
        input,
        &with(bucket.clone()),
        &VirtualClock::new(T0),
    )
}

#[test]
fn a_csv_object_is_read_into_items_that_item_selector_shapes() {
    let bucket = Bucket::with(&[("in.csv", "name,n\na,1\n\"b, c\",2\n")]);
    let def = distributed_map(json!({
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
            "Parameters": {"Bucket": "b", "Key.$": "$.key"}},
        "ItemSelector": {"row.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"}}));
    let r = run(def, json!({"key": "in.csv"}), &bucket);
    assert_eq!(
        r.output,
        Some(json!([{"row": {"name": "a", "n": "1"}, "i": 0},
                    {"row": {"name": "b, c", "n": "2"}, "i": 1}]))
    );
    assert_eq!(
        bucket.calls.lock().unwrap()[0],
        ("getObject".into(), json!({"Bucket": "b", "Key": "in.csv"}))
    );
    // AWS does not know the number of items when the Map starts.
    assert_eq!(r.history[2].details.length, Some(0));
}

#[test]
fn a_listing_is_read_page_by_page_up_to_max_items() {
    let bucket = Bucket::with(&[("a", "1"), ("b", "22"), ("c", "333")]);
    let def = distributed_map(json!({
        "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2",
            "ReaderConfig": {"MaxItems": 2}, "Parameters": {"Bucket": "b"}}}));
    let r = run(def, json!({}), &bucket);
    let out = r.output.unwrap();
    let keys: Vec<&Value> = out.as_array().unwrap().iter().map(|o| &o["Key"]).collect();
    assert_eq!(keys, [&json!("a"), &json!("b")]);
    assert_eq!(out[1]["Size"], 2);
    assert_eq!(out[1]["Etag"], "\"e\"");
    assert_eq!(bucket.calls.lock().unwrap().len(), 2);
}

#[test]
fn a_reader_failure_fails_the_map_run_and_can_be_caught() {
    let bucket = Bucket::with(&[]);
    let def = distributed_map(json!({
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"}, "Parameters": {"Bucket": "b", "Key": "nope"}},
        "Catch": [{"ErrorEquals": ["States.ItemReaderFailed"], "Next": "Caught"}]}));
    let mut def = def;
    def["States"]["M"].as_object_mut().unwrap().remove("End");
    def["States"]["M"]["Next"] = json!("Done");
    def["States"]["M"]["Catch"][0]["Next"] = json!("Done");
    def["States"]["Done"] = json!({"Type": "Succeed"});
    let r = run(def, json!({}), &bucket);
    assert_eq!(
        r.output,
        Some(json!({"Error": "States.ItemReaderFailed", "Cause": "no such key"}))
    );
    assert_eq!(
        &types(&r)[2..7],
        [
            "MapStateStarted",
            "MapRunStarted",
            "MapRunFailed",
            "MapStateFailed",
            "MapStateExited"
        ]
    );
}

#[test]
fn a_result_writer_exports_results_and_a_manifest_and_returns_where() {
    let bucket = Bucket::with(&[]);
    let def = distributed_map(json!({
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "out", "Prefix": "jobs"}}}));
    let r = run(def, json!(["x", "y"]), &bucket);
    let out = r.output.unwrap();
    let manifest_key = out["ResultWriterDetails"]["Key"]
        .as_str()
        .unwrap()
        .to_string();
    let run_id = out["MapRunArn"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap();
    assert_eq!(manifest_key, format!("jobs/{run_id}/manifest.json"));
    let objects = bucket.objects.lock().unwrap();
    let manifest: Value = serde_json::from_str(&objects[&manifest_key]).unwrap();
    assert_eq!(manifest["DestinationBucket"], "out");
    let results_key = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]
        .as_str()
        .unwrap();
    let results: Value = serde_json::from_str(&objects[results_key]).unwrap();
    assert_eq!(results[1]["Input"], "\"y\"");
    assert_eq!(results[1]["Output"], "\"y\"");
    assert_eq!(results[1]["Status"], "SUCCEEDED");
    assert_eq!(manifest["ResultFiles"]["FAILED"], json!([]));
}

#[test]
fn a_writer_without_resource_shapes_the_output() {
    let bucket = Bucket::with(&[]);
    let def = distributed_map(json!({
        "ResultWriter": {"WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSON"}}}));
    let r = run(def, json!([[1, 2], [3]]), &bucket);
    assert_eq!(r.output, Some(json!([1, 2, 3])));
    assert!(bucket.calls.lock().unwrap().is_empty());
}

/// A Distributed Map whose children fail when the first item of their batch is `"bad"`.
fn batching_map(extra: Value) -> Value {
    let mut def = distributed_map(extra);
    def["States"]["M"]["ItemProcessor"]["States"] = json!({
        "P": {"Type": "Choice", "Default": "Ok",
            "Choices": [{"Variable": "$.Items[0]", "StringEquals": "bad", "Next": "Bad"}]},
        "Ok": {"Type": "Pass", "End": true},
        "Bad": {"Type": "Fail", "Error": "Bad", "Cause": "bad item"}});
    def
}

#[test]
fn an_item_batcher_gives_each_child_items_and_batch_input() {
    // The shape is AWS's documented one (ItemBatcher (Map)): {"BatchInput": ..., "Items": [...]}
    // per child, BatchInput evaluated once against the state's input; ItemSelector shapes each
    // item first, with the item's own index.
    let bucket = Bucket::with(&[]);
    let def = batching_map(json!({
        "ItemsPath": "$.items",
        "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
        "ItemBatcher": {"MaxItemsPerBatchPath": "$.per", "BatchInput": {"k.$": "$.key", "n": 1}}}));
    let r = run(
        def,
        json!({"items": ["a", "b", "c"], "per": 2, "key": "K"}),
        &bucket,
    );
    assert_eq!(
        r.output,
        Some(json!([
            {"BatchInput": {"k": "K", "n": 1}, "Items": [{"v": "a", "i": 0}, {"v": "b", "i": 1}]},
            {"BatchInput": {"k": "K", "n": 1}, "Items": [{"v": "c", "i": 2}]}
        ]))
    );
    // Unverified choice: MapStateStarted counts the items, not the batches.
    assert_eq!(r.history[2].details.length, Some(3));
}

#[test]
fn an_invalid_batch_limit_fails_the_map_run() {
    let bucket = Bucket::with(&[]);
    for (batcher, cause) in [
        (
            json!({"MaxItemsPerBatchPath": "$.per"}),
            "field MaxItemsPerBatchPath must be positive, not 0",
        ),
        (
            json!({"MaxInputBytesPerBatch": 262_145}),
            "field MaxInputBytesPerBatch must be at most 262144 (256 KiB), not 262145",
        ),
    ] {
        let def = batching_map(json!({"ItemsPath": "$.items", "ItemBatcher": batcher}));
        let r = run(def, json!({"per": 0, "items": ["a"]}), &bucket);
        assert_eq!(r.error.as_deref(), Some("States.Runtime"));
        assert_eq!(r.cause.as_deref(), Some(cause));
        assert_eq!(
            &types(&r)[2..5],
            ["MapStateStarted", "MapRunStarted", "MapRunFailed"]
        );
    }
}

#[test]
fn a_failed_batch_counts_all_its_items_against_the_tolerance() {
    // AWS defines the threshold over items ("the total number of failed or timed out items
    // divided by the total number of items"); a failed batch fails the items it holds.
    let bucket = Bucket::with(&[]);
    let with_tolerance = |count: u64| {
        batching_map(json!({
            "ToleratedFailureCount": count,
            "ItemBatcher": {"MaxItemsPerBatch": 2}}))
    };
    let input = json!(["bad", "x", "y"]);
    let r = run(with_tolerance(1), input.clone(), &bucket);
    assert_eq!(
        r.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    let r = run(with_tolerance(2), input, &bucket);
    assert_eq!(r.status.as_str(), "SUCCEEDED");
}

#[test]
fn a_jsonl_writer_exports_one_result_per_line() {
    let bucket = Bucket::with(&[]);
    let def = distributed_map(json!({
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "out", "Prefix": "jobs"},
            "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"}}}));
    let r = run(def, json!([{"a": 1}, "y"]), &bucket);
    let out = r.output.unwrap();
    let objects = bucket.objects.lock().unwrap();
    let manifest_key = out["ResultWriterDetails"]["Key"].as_str().unwrap();
    let manifest: Value = serde_json::from_str(&objects[manifest_key]).unwrap();
    let results_key = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]
        .as_str()
        .unwrap();
    assert_eq!(objects[results_key], "{\"a\":1}\n\"y\"\n");
}
