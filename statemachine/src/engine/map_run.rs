//! The Map Run of a Distributed Map: its ARN, the items its `ItemReader` reads, the batches its
//! `ItemBatcher` groups them into, and the results its `ResultWriter` exports; reading and
//! writing go through the task integration serving the field's `Resource`
//! (`arn:aws:states:::s3:getObject`, `...:s3:listObjectsV2`, `...:s3:putObject`), so the engine
//! itself does no I/O. The data side (parsing, limits, batches, file contents) is
//! [`crate::eval::item_reader`], [`crate::eval::item_batcher`] and [`crate::eval::result_writer`].
//!
//! Integration contract: `s3:getObject` gets `{"Bucket", "Key", ...}` and answers `{"Body":
//! "<the object's text>"}`; `s3:listObjectsV2` gets `{"Bucket", "Prefix"?, "ContinuationToken"?}`
//! and answers a ListObjectsV2 page (`Contents`, `IsTruncated`, `NextContinuationToken`);
//! `s3:putObject` gets `{"Bucket", "Key", "Body"}`. A reader failure is
//! `States.ItemReaderFailed`, a writer failure `States.ResultWriterFailed`, each with the
//! integration's cause; AWS writes no task events for these calls, and neither does the engine.

use std::sync::Mutex;

use serde_json::{json, Value};

use super::failure::Failure;
use super::integration::{Heartbeat, Resource, Submission, TaskError, TaskRequest};
use super::run::{Here, Run};
use crate::asl::MapState;
use crate::eval::item_batcher::{batches, BatchSpec, ItemBatcher, ITEM_BATCHER_FAILED};
use crate::eval::item_reader::{
    listing_items, max_items_limit, object_items, ItemReader, ITEM_READER_FAILED,
};
use crate::eval::result_writer::{
    export_files, transformed, ChildResult, ResultWriter, RESULT_WRITER_FAILED,
};
use crate::eval::{uuid_v4, EvalError, Scope, Timestamp};

/// How one child execution of a Map Run went (collected only when results are written).
#[derive(Debug, Clone)]
pub(crate) struct ChildRun {
    pub index: usize,
    pub start_ms: i64,
    pub stop_ms: i64,
    pub outcome: Result<Value, (Option<String>, Option<String>)>,
}

/// A Distributed Map's run: its ARN and what it reads and writes.
pub(crate) struct MapRun {
    /// `arn:aws:states:REGION:ACCOUNT:mapRun:MACHINE/LABEL:ID`.
    pub arn: String,
    /// `MACHINE/LABEL`, the name of the child state machine.
    child_machine: String,
    /// The reader and its evaluated request and `MaxItems`.
    reader: Option<(ItemReader, Value, Option<Value>)>,
    /// The batcher's evaluated values (`ItemBatcher`).
    batcher: Option<BatchSpec>,
    /// The writer and where it exports to.
    writer: Option<(ResultWriter, Option<(String, String)>)>,
    /// The children's runs, when results are written.
    pub runs: Option<Mutex<Vec<ChildRun>>>,
}

impl MapRun {
    /// The run of Map state `here`, its fields evaluated against the effective input.
    pub(crate) fn new(
        run: &Run<'_>,
        here: &Here<'_>,
        s: &MapState,
        scope: &Scope,
    ) -> Result<MapRun, EvalError> {
        let o = &run.engine.options;
        let child_machine = format!(
            "{}/{}",
            run.exec.state_machine_name,
            s.label.as_deref().unwrap_or(here.name)
        );
        let reader = match &s.item_reader {
            Some(field) => {
                let reader = ItemReader::parse(field)?;
                let (params, max_items) = reader.request(here.lang, scope)?;
                Some((reader, params, max_items))
            }
            None => None,
        };
        let batcher = match &s.item_batcher {
            Some(field) => Some(ItemBatcher::parse(field)?.evaluate(here.lang, scope)?),
            None => None,
        };
        let writer = match &s.result_writer {
            Some(field) => {
                let writer = ResultWriter::parse(field)?;
                let destination = writer.destination(here.lang, scope)?;
                Some((writer, destination))
            }
            None => None,
        };
        Ok(MapRun {
            arn: format!(
                "arn:aws:states:{}:{}:mapRun:{child_machine}:{}",
                o.region,
                o.account,
                uuid_v4(run.engine.random)
            ),
            child_machine,
            runs: writer.as_ref().map(|_| Mutex::new(Vec::new())),
            reader,
            batcher,
            writer,
        })
    }

    /// Whether the items come from the reader (not from the state's input).
    pub(crate) fn reads(&self) -> bool {
        self.reader.is_some()
    }

    /// The children's inputs and how many items each holds: the selected items as they are
    /// (no counts: one each), or grouped into batches by the `ItemBatcher` (the Map Run fails
    /// with `States.Runtime` on an invalid limit). The counts are for the tolerated failures.
    pub(crate) fn batch(&self, inputs: Vec<Value>) -> Result<(Vec<Value>, Vec<usize>), Failure> {
        let Some(spec) = &self.batcher else {
            return Ok((inputs, Vec::new()));
        };
        spec.limits()
            .and_then(|limits| batches(inputs, &limits, spec.batch_input.as_ref()))
            .map(|batches| batches.into_iter().map(|b| (b.input, b.items)).unzip())
            .map_err(|cause| {
                let mut f = Failure::new(Some(ITEM_BATCHER_FAILED.into()), Some(cause));
                f.children = Some(Vec::new());
                f
            })
    }
}

impl Run<'_> {
    /// The items of the run's reader (the Map Run fails with `States.ItemReaderFailed`).
    pub(crate) async fn read_items(
        &self,
        here: &Here<'_>,
        map_run: &MapRun,
    ) -> Result<Vec<Value>, Failure> {
        let Some((reader, params, max_items)) = &map_run.reader else {
            return Ok(Vec::new());
        };
        let failed = |cause: String| {
            let mut f = Failure::new(Some(ITEM_READER_FAILED.into()), Some(cause));
            // The Map state fails with its run (MapStateFailed), and a redrive reads again.
            f.children = Some(Vec::new());
            f
        };
        let limit = max_items_limit(max_items.as_ref()).map_err(failed)?;
        let mut items = Vec::new();
        match &reader.input_type {
            None => {
                let mut request = params.clone();
                loop {
                    let page = self
                        .call_service(here, &reader.resource, request.clone())
                        .await?
                        .map_err(|e| failed(cause_of(e)))?;
                    let (more, next) = listing_items(&page).map_err(failed)?;
                    items.extend(more);
                    match next {
                        Some(token) if limit.is_none_or(|l| items.len() < l) => {
                            request["ContinuationToken"] = Value::String(token);
                        }
                        _ => break,
                    }
                }
            }
            Some(input_type) => {
                let response = self
                    .call_service(here, &reader.resource, params.clone())
                    .await?
                    .map_err(|e| failed(cause_of(e)))?;
                let body = match &response {
                    Value::String(text) => text.as_str(),
                    other => other["Body"].as_str().ok_or_else(|| {
                        failed(format!(
                            "The response of {} has no Body text.",
                            reader.resource
                        ))
                    })?,
                };
                items = object_items(input_type, body).map_err(failed)?;
            }
        }
        if let Some(l) = limit {
            items.truncate(l);
        }
        Ok(items)
    }

    /// The Map state's result once its children ran: the outputs (shaped by the writer's
    /// `Transformation`), or, when results are exported, the files written and
    /// `{"MapRunArn", "ResultWriterDetails"}` (the Map Run fails with
    /// `States.ResultWriterFailed`).
    pub(crate) async fn write_results(
        &self,
        here: &Here<'_>,
        map_run: &MapRun,
        inputs: Vec<Value>,
        outputs: Vec<Value>,
    ) -> Result<Value, Failure> {
        let (Some((writer, destination)), Some(runs)) = (&map_run.writer, &map_run.runs) else {
            return Ok(Value::Array(outputs));
        };
        let mut runs = std::mem::take(&mut *super::clock::lock(runs));
        runs.sort_by_key(|r| r.index);
        let now = self.engine.clock.now_ms();
        let o = &self.engine.options;
        let children: Vec<ChildResult> = outputs
            .into_iter()
            .zip(inputs)
            .enumerate()
            .map(|(index, (output, input))| {
                // A child that succeeded in an earlier attempt (redrive) did not run now.
                let run = runs
                    .binary_search_by_key(&index, |r| r.index)
                    .ok()
                    .map(|i| runs[i].clone());
                let (start_ms, stop_ms, outcome) = match run {
                    Some(r) => (r.start_ms, r.stop_ms, r.outcome),
                    None => (now, now, Ok(output)),
                };
                let name = uuid_v4(self.engine.random);
                ChildResult {
                    execution_arn: format!(
                        "arn:aws:states:{}:{}:execution:{}:{name}",
                        o.region, o.account, map_run.child_machine
                    ),
                    name,
                    state_machine_arn: format!(
                        "arn:aws:states:{}:{}:stateMachine:{}",
                        o.region, o.account, map_run.child_machine
                    ),
                    input,
                    outcome,
                    start_date: Timestamp::from_unix_millis(start_ms).to_string(),
                    stop_date: Timestamp::from_unix_millis(stop_ms).to_string(),
                }
            })
            .collect();
        let Some((bucket, prefix)) = destination else {
            return Ok(Value::Array(transformed(&children, writer.transformation)));
        };
        let resource = writer.resource.as_deref().unwrap_or_default();
        let (files, result) = export_files(&children, writer, bucket, prefix, &map_run.arn);
        for (key, body) in files {
            let put = json!({"Bucket": bucket, "Key": key, "Body": body});
            self.call_service(here, resource, put).await?.map_err(|e| {
                let mut f = Failure::new(Some(RESULT_WRITER_FAILED.into()), Some(cause_of(e)));
                f.children = Some(Vec::new());
                f
            })?;
        }
        Ok(result)
    }

    /// Calls the integration serving `resource` (outer `Err`: the execution timed out or was
    /// aborted meanwhile).
    async fn call_service(
        &self,
        here: &Here<'_>,
        resource: &str,
        parameters: Value,
    ) -> Result<Result<Value, TaskError>, Failure> {
        let resource = Resource::parse(resource);
        let Some(integration) = self.engine.integrations.find(&resource.arn) else {
            return Ok(Err(TaskError::new(
                "States.Runtime",
                format!(
                    "No local integration serves the resource '{}'.",
                    resource.arn
                ),
            )));
        };
        let heartbeat = Heartbeat::new(self.engine.clock);
        let submission = Submission::default();
        let request = TaskRequest {
            state_name: here.name,
            resource: &resource,
            parameters,
            timeout_seconds: None,
            heartbeat_seconds: None,
            task_token: None,
            execution_name: &self.exec.name,
            heartbeat: &heartbeat,
            submission: &submission,
        };
        self.guard(integration.call(request)).await
    }
}

/// A service error's text for the Map Run's cause.
fn cause_of(e: TaskError) -> String {
    e.cause.unwrap_or(e.error)
}
