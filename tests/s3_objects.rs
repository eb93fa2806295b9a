//! The S3 objects some conformance cases read through a Distributed Map's `ItemReader`, served
//! to the engine as the integration of `arn:aws:states:::s3:*` (`getObject`,
//! `listObjectsV2`, `putObject`), in memory.
//!
//! The objects are those LocalStack's tests upload before they start the recorded execution
//! (`tests/asl-conformance/s3-objects/<test function>/<key>`, see the corpus README); they go
//! into the bucket the case's input names. What a `ResultWriter` puts is kept, and reads of
//! objects the corpus does not hold are remembered ([`S3Objects::missing`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use serde_json::{json, Value};
use statemachine::engine::{BoxFuture, TaskError, TaskIntegration, TaskRequest};

/// Objects by bucket and key.
#[derive(Debug, Default)]
pub struct S3Objects {
    objects: Mutex<BTreeMap<(String, String), String>>,
    missing: Mutex<Vec<String>>,
}

impl S3Objects {
    /// The objects of the LocalStack test `test_function` (none if the corpus has none), in
    /// `bucket`.
    pub fn for_test(base: &Path, test_function: &str, bucket: &str) -> S3Objects {
        let store = S3Objects::default();
        let dir = base.join(test_function);
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                let key = entry.file_name().to_string_lossy().into_owned();
                let body = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                store.put(bucket, &key, body);
            }
        }
        store
    }

    /// Stores an object.
    pub fn put(&self, bucket: &str, key: &str, body: String) {
        lock(&self.objects).insert((bucket.to_string(), key.to_string()), body);
    }

    /// An object's text.
    pub fn get(&self, bucket: &str, key: &str) -> Option<String> {
        lock(&self.objects)
            .get(&(bucket.to_string(), key.to_string()))
            .cloned()
    }

    /// The objects read that were not there (`s3://bucket/key`).
    pub fn missing(&self) -> Vec<String> {
        lock(&self.missing).clone()
    }

    fn answer(&self, action: &str, p: &Value) -> Result<Value, TaskError> {
        let bucket = p["Bucket"].as_str().unwrap_or_default();
        match action {
            "getObject" => {
                let key = p["Key"].as_str().unwrap_or_default();
                match self.get(bucket, key) {
                    Some(body) => Ok(json!({ "Body": body })),
                    None => {
                        lock(&self.missing).push(format!("s3://{bucket}/{key}"));
                        Err(TaskError::new(
                            "S3.NoSuchKeyException",
                            "The specified key does not exist. (Service: S3, Status Code: 404)",
                        ))
                    }
                }
            }
            "listObjectsV2" => {
                let prefix = p["Prefix"].as_str().unwrap_or_default();
                let contents: Vec<Value> = lock(&self.objects)
                    .iter()
                    .filter(|((b, k), _)| b == bucket && k.starts_with(prefix))
                    .map(|((_, k), body)| {
                        json!({"Key": k, "Size": body.len(), "ETag": format!("\"{}\"", body.len()),
                               "LastModified": "2026-11-23T20:07:34.000Z", "StorageClass": "STANDARD"})
                    })
                    .collect();
                Ok(json!({"Contents": contents, "IsTruncated": false, "KeyCount": contents.len()}))
            }
            "putObject" => {
                let key = p["Key"].as_str().unwrap_or_default();
                let body = match &p["Body"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                self.put(bucket, key, body);
                Ok(json!({"ETag": "\"etag\""}))
            }
            other => Err(TaskError::new(
                "States.Runtime",
                format!("The test S3 store does not serve s3:{other}"),
            )),
        }
    }
}

impl TaskIntegration for S3Objects {
    fn call<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, TaskError>> {
        let answer = self.answer(&request.resource.resource, &request.parameters);
        Box::pin(async move { answer })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
