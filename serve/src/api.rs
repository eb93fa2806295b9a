//! The AWS JSON 1.0 protocol of Step Functions over [`runs::Local`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use runs::{Description, Local, RunsError};
use serde_json::{json, Map, Value};
use statemachine::engine::ExecutionStatus;

/// The largest request body accepted (StartExecution's input is at most 256 KiB).
pub const MAX_BODY: usize = 1 << 20;

/// What the API serves: the local backend, and the token non-loopback clients must present.
pub struct Server {
    pub(crate) local: Arc<Local>,
    pub(crate) token: Option<String>,
    /// Every execution's description, refreshed from the store's change journal.
    pub(crate) index: std::sync::Mutex<runs::store::ListIndex>,
}

impl Server {
    /// A server over `local`; `token`, when set, is required of every client that is not on
    /// loopback (as its SigV4 access key id).
    pub fn new(local: Arc<Local>, token: Option<String>) -> Server {
        Server {
            local,
            token,
            index: std::sync::Mutex::new(runs::store::ListIndex::new()),
        }
    }
}

/// The web console: one page, its script included (no CDN: it works offline).
const CONSOLE: &str = include_str!("console.html");

/// The HTTP routes: `POST /` for the API, `GET /` for the web console.
pub fn router(server: Arc<Server>) -> axum::Router {
    axum::Router::new()
        .route("/", axum::routing::post(handle).get(console))
        .route("/events", axum::routing::get(crate::sse::events))
        .route("/logs", axum::routing::get(crate::files::logs))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(server)
}

async fn console() -> Response {
    (
        StatusCode::OK,
        [
            ("content-type", "text/html; charset=utf-8"),
            ("cache-control", "no-store"),
        ],
        CONSOLE,
    )
        .into_response()
}

/// An API error: its `__type` and message.
struct ApiError(&'static str, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self.0 {
            "UnknownOperationException" | "SerializationException" => StatusCode::BAD_REQUEST,
            "UnrecognizedClientException" => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = json!({"__type": self.0, "message": self.1}).to_string();
        (
            status,
            [("content-type", "application/x-amz-json-1.0")],
            body,
        )
            .into_response()
    }
}

fn ok(v: Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/x-amz-json-1.0")],
        v.to_string(),
    )
        .into_response()
}

/// The access key id of a SigV4 `Authorization` header.
fn access_key(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let cred = auth.split("Credential=").nth(1)?;
    cred.split('/').next()
}

async fn handle(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(token) = &server.token {
        if !peer.ip().is_loopback() && access_key(&headers) != Some(token.as_str()) {
            return ApiError(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".into(),
            )
            .into_response();
        }
    }
    let action = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix("AWSStepFunctions."))
        .unwrap_or("")
        .to_string();
    let request: Map<String, Value> = if body.is_empty() {
        Map::new()
    } else {
        match serde_json::from_slice(&body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return ApiError(
                    "SerializationException",
                    "the request body must be a JSON object".into(),
                )
                .into_response()
            }
            Err(e) => {
                return ApiError("SerializationException", format!("malformed JSON: {e}"))
                    .into_response()
            }
        }
    };
    match dispatch(&server, &action, &request).await {
        Ok(v) => ok(v),
        Err(e) => e.into_response(),
    }
}

async fn dispatch(
    server: &Server,
    action: &str,
    req: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let api = Api {
        local: &server.local,
        index: &server.index,
        req,
    };
    match action {
        "ListStateMachines" => Ok(api.list_state_machines()),
        "DescribeStateMachine" => api.describe_state_machine(),
        "DescribeStateMachineForExecution" => api.describe_state_machine_for_execution(),
        "StartExecution" => api.start_execution(server.local.clone()).await,
        "DescribeExecution" => api.describe_execution(),
        "ListExecutions" => api.list_executions(),
        "GetExecutionHistory" => api.get_execution_history(),
        "StopExecution" => api.stop_execution().await,
        "RedriveExecution" => api.redrive_execution(server.local.clone()).await,
        "ValidateStateMachineDefinition" => Ok(api.validate_definition()),
        "TestState" => api.test_state().await,
        "" => Err(ApiError(
            "UnknownOperationException",
            "missing X-Amz-Target: AWSStepFunctions.<Action>".into(),
        )),
        other => Err(ApiError(
            "UnknownOperationException",
            format!("{other} is not an operation feedpipe serve offers"),
        )),
    }
}

const REGION_ACCOUNT: &str = "us-east-1:123456789012";

fn machine_arn() -> String {
    format!(
        "arn:aws:states:{REGION_ACCOUNT}:stateMachine:{}",
        runs::local::STATE_MACHINE
    )
}

fn seconds(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

fn not_found(name: &str) -> ApiError {
    ApiError(
        "ExecutionDoesNotExist",
        format!("Execution Does Not Exist: '{}'", execution_arn(name)),
    )
}

fn execution_arn(name: &str) -> String {
    format!(
        "arn:aws:states:{REGION_ACCOUNT}:execution:{}:{name}",
        runs::local::STATE_MACHINE
    )
}

/// Maps the backend's errors to the API's.
fn api_error(e: RunsError) -> ApiError {
    match e {
        RunsError::NoSuchExecution(n) => not_found(&n),
        RunsError::AlreadyExists(n) => ApiError(
            "ExecutionAlreadyExists",
            format!("Execution Already Exists: '{}'", execution_arn(&n)),
        ),
        RunsError::NotRedrivable(m) => ApiError("ExecutionNotRedrivable", m),
        RunsError::AlreadyRunning { .. } => ApiError("ExecutionLimitExceeded", e.to_string()),
        RunsError::BadName(_) => ApiError("InvalidName", e.to_string()),
        RunsError::UnknownFeed { .. } => ApiError("InvalidExecutionInput", e.to_string()),
        other => ApiError("ValidationException", other.to_string()),
    }
}

struct Api<'a> {
    local: &'a Local,
    index: &'a std::sync::Mutex<runs::store::ListIndex>,
    req: &'a Map<String, Value>,
}

impl Api<'_> {
    fn str_field(&self, key: &str) -> Option<&str> {
        self.req.get(key).and_then(Value::as_str)
    }

    fn required(&self, key: &str) -> Result<&str, ApiError> {
        self.str_field(key).ok_or_else(|| {
            ApiError(
                "ValidationException",
                format!("1 validation error detected: Value null at '{key}' failed to satisfy constraint: Member must not be null"),
            )
        })
    }

    fn check_machine(&self) -> Result<(), ApiError> {
        let arn = self.required("stateMachineArn")?;
        if !arn.starts_with("arn:aws:states:") || !arn.contains(":stateMachine:") {
            return Err(ApiError("InvalidArn", format!("Invalid Arn: '{arn}'")));
        }
        if arn != machine_arn() {
            return Err(ApiError(
                "StateMachineDoesNotExist",
                format!("State Machine Does Not Exist: '{arn}'"),
            ));
        }
        Ok(())
    }

    /// The execution an `executionArn` names.
    fn execution_name(&self) -> Result<String, ApiError> {
        let arn = self.required("executionArn")?;
        let prefix = format!(
            "arn:aws:states:{REGION_ACCOUNT}:execution:{}:",
            runs::local::STATE_MACHINE
        );
        match arn.strip_prefix(&prefix) {
            Some(name) if runs::store::is_execution_name(name) => Ok(name.to_string()),
            _ if arn.starts_with("arn:aws:states:") && arn.contains(":execution:") => {
                Err(not_found(arn.rsplit(':').next().unwrap_or(arn)))
            }
            _ => Err(ApiError("InvalidArn", format!("Invalid Arn: '{arn}'"))),
        }
    }

    fn list_state_machines(&self) -> Value {
        json!({"stateMachines": [{
            "stateMachineArn": machine_arn(),
            "name": runs::local::STATE_MACHINE,
            "type": "STANDARD",
            "creationDate": 0.0,
        }]})
    }

    fn describe_state_machine(&self) -> Result<Value, ApiError> {
        self.check_machine()?;
        Ok(json!({
            "stateMachineArn": machine_arn(),
            "name": runs::local::STATE_MACHINE,
            "status": "ACTIVE",
            "definition": self.local.project().local_definition(),
            "roleArn": "arn:aws:iam::123456789012:role/feedpipe-local",
            "type": "STANDARD",
            "creationDate": 0.0,
        }))
    }

    fn describe_state_machine_for_execution(&self) -> Result<Value, ApiError> {
        let name = self.execution_name()?;
        let definition = self
            .local
            .store()
            .definition_text(&name)
            .map_err(|_| not_found(&name))?;
        Ok(json!({
            "stateMachineArn": machine_arn(),
            "name": runs::local::STATE_MACHINE,
            "definition": definition,
            "roleArn": "arn:aws:iam::123456789012:role/feedpipe-local",
            "updateDate": 0.0,
        }))
    }

    async fn start_execution(&self, local: Arc<Local>) -> Result<Value, ApiError> {
        self.check_machine()?;
        let input_text = self.str_field("input").unwrap_or("{}");
        statemachine::engine::check_start_input_text(input_text)
            .map_err(|e| ApiError("InvalidExecutionInput", e.to_string()))?;
        let input: Value = serde_json::from_str(input_text).map_err(|e| {
            ApiError(
                "InvalidExecutionInput",
                format!("Invalid execution input: {e}"),
            )
        })?;
        let feed = input
            .get("feed")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ApiError(
                    "InvalidExecutionInput",
                    "the input must name a feed of the configuration: {\"feed\": NAME}".into(),
                )
            })?
            .to_string();
        let name = match self.str_field("name") {
            Some(n) => n.to_string(),
            None => runs::local::manual_name(
                &feed,
                statemachine::engine::Clock::now_ms(&runs::clock::SystemClock),
            ),
        };
        if local.store().exists(&name) {
            return Err(api_error(RunsError::AlreadyExists(name)));
        }
        let (done_tx, mut done_rx) = tokio::sync::oneshot::channel();
        let (task_local, task_name, task_feed) = (local.clone(), name.clone(), feed.clone());
        tokio::spawn(async move {
            let result = task_local
                .run(&task_feed, Some(task_name), false, None)
                .await;
            let _ = done_tx.send(result);
        });
        let d = wait_for(&local, &name, &mut done_rx, |d| d.is_some()).await?;
        Ok(json!({"executionArn": d.execution_arn, "startDate": seconds(d.start_date_ms)}))
    }

    fn describe_execution(&self) -> Result<Value, ApiError> {
        let name = self.execution_name()?;
        let d = self.local.store().description(&name).map_err(api_error)?;
        Ok(d.describe_json())
    }

    /// `maxResults` (1 to 1000, default `default`) and the offset `nextToken` holds.
    fn page(&self, default: usize) -> Result<(usize, usize), ApiError> {
        let max = match self.req.get("maxResults").and_then(Value::as_u64) {
            None | Some(0) => default,
            Some(n) if n <= 1000 => n as usize,
            Some(n) => {
                return Err(ApiError(
                    "ValidationException",
                    format!("1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"),
                ))
            }
        };
        let offset = match self.str_field("nextToken") {
            None => 0,
            Some(t) => t
                .strip_prefix("fp-")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| ApiError("InvalidToken", format!("Invalid Token: '{t}'")))?,
        };
        Ok((max, offset))
    }

    fn list_executions(&self) -> Result<Value, ApiError> {
        self.check_machine()?;
        let status = self.str_field("statusFilter");
        let redrive = self.str_field("redriveFilter");
        let (max, offset) = self.page(100)?;
        let snapshot = {
            let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
            index.refresh(self.local.store()).map_err(api_error)?;
            index.newest_first()
        };
        let mut matching = snapshot
            .iter()
            .filter(|d| status.is_none_or(|s| d.status.as_str() == s))
            .filter(|d| match redrive {
                Some("REDRIVEN") => d.redrive_count > 0,
                Some("NOT_REDRIVEN") => d.redrive_count == 0,
                _ => true,
            })
            .skip(offset);
        let items: Vec<Value> = matching
            .by_ref()
            .take(max)
            .map(|d| {
                let mut v = json!({
                    "executionArn": d.execution_arn,
                    "stateMachineArn": d.state_machine_arn,
                    "name": d.name,
                    "status": d.status.as_str(),
                    "startDate": seconds(d.start_date_ms),
                });
                if let Some(t) = d.stop_date_ms {
                    v["stopDate"] = seconds(t);
                }
                if d.redrive_count > 0 {
                    v["redriveCount"] = json!(d.redrive_count);
                }
                v
            })
            .collect();
        let more = matching.next().is_some();
        let mut out = json!({ "executions": items });
        if more {
            out["nextToken"] = json!(format!("fp-{}", offset + max));
        }
        Ok(out)
    }

    fn get_execution_history(&self) -> Result<Value, ApiError> {
        let name = self.execution_name()?;
        if !self.local.store().exists(&name) {
            return Err(not_found(&name));
        }
        let mut events: Vec<Value> = self
            .local
            .store()
            .events(&name)
            .map_err(api_error)?
            .iter()
            .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
            .collect();
        if self.req.get("reverseOrder").and_then(Value::as_bool) == Some(true) {
            events.reverse();
        }
        if self
            .req
            .get("includeExecutionData")
            .and_then(Value::as_bool)
            == Some(false)
        {
            for e in &mut events {
                if let Some(m) = e.as_object_mut() {
                    for (k, d) in m.iter_mut() {
                        if let (true, Some(d)) = (k.ends_with("EventDetails"), d.as_object_mut()) {
                            d.retain(|f, _| {
                                !matches!(f.as_str(), "input" | "output" | "parameters")
                            });
                        }
                    }
                }
            }
        }
        let (max, offset) = self.page(100)?;
        let total = events.len();
        let page: Vec<Value> = events.into_iter().skip(offset).take(max).collect();
        let mut out = json!({ "events": page });
        if offset + max < total {
            out["nextToken"] = json!(format!("fp-{}", offset + max));
        }
        Ok(out)
    }

    async fn stop_execution(&self) -> Result<Value, ApiError> {
        let name = self.execution_name()?;
        let d = self.local.store().description(&name).map_err(api_error)?;
        if d.status != ExecutionStatus::Running {
            // Stopping an execution that has ended changes nothing.
            return Ok(json!({"stopDate": seconds(d.stop_date_ms.unwrap_or(d.start_date_ms))}));
        }
        let d = self
            .local
            .stop(&name, self.str_field("error"), self.str_field("cause"))
            .await
            .map_err(api_error)?;
        Ok(json!({"stopDate": seconds(d.stop_date_ms.unwrap_or_default())}))
    }

    /// ValidateStateMachineDefinition: the definition checked as `run --definition` checks it.
    fn validate_definition(&self) -> Value {
        let text = self.str_field("definition").unwrap_or("");
        let diagnostics: Vec<Value> = match statemachine::asl::StateMachine::from_json(text) {
            Err(e) => vec![json!({
                "severity": "ERROR",
                "code": "SCHEMA_VALIDATION_FAILED",
                "message": e.to_string(),
            })],
            Ok(machine) => statemachine::validate::validate(&machine)
                .into_iter()
                .map(|d| {
                    let severity = match d.severity {
                        statemachine::validate::Severity::Error => "ERROR",
                        statemachine::validate::Severity::Warning => "WARNING",
                    };
                    let location = match (&d.state, &d.field) {
                        (Some(s), Some(f)) => format!("/States/{s}/{f}"),
                        (Some(s), None) => format!("/States/{s}"),
                        (None, Some(f)) => format!("/{f}"),
                        (None, None) => "/".to_string(),
                    };
                    json!({"severity": severity, "code": "SCHEMA_VALIDATION_FAILED",
                           "message": d.message, "location": location})
                })
                .collect(),
        };
        let ok = !diagnostics.iter().any(|d| d["severity"] == "ERROR");
        json!({"result": if ok { "OK" } else { "FAIL" }, "diagnostics": diagnostics, "truncated": false})
    }

    /// TestState: one state run by the engine, without integrations (a Task needs `mock`).
    async fn test_state(&self) -> Result<Value, ApiError> {
        use statemachine::engine::{Engine, InspectionLevel, Integrations, Mock, TestStateInput};
        let parse = |key: &str| -> Result<Option<Value>, ApiError> {
            self.str_field(key)
                .map(|t| {
                    serde_json::from_str(t).map_err(|e| {
                        ApiError("ValidationException", format!("{key} is not JSON: {e}"))
                    })
                })
                .transpose()
        };
        let definition = parse("definition")?
            .ok_or_else(|| ApiError("ValidationException", "definition is required".into()))?;
        let mock = match self.req.get("mock") {
            Some(m) => match (
                m.get("result").and_then(Value::as_str),
                m.get("errorOutput"),
            ) {
                (Some(r), _) => Some(Mock::Result(serde_json::from_str(r).map_err(|e| {
                    ApiError(
                        "ValidationException",
                        format!("mock.result is not JSON: {e}"),
                    )
                })?)),
                (None, Some(e)) => Some(Mock::Error {
                    error: e.get("error").and_then(Value::as_str).unwrap_or("").into(),
                    cause: e.get("cause").and_then(Value::as_str).map(str::to_string),
                }),
                _ => None,
            },
            None => None,
        };
        let request = TestStateInput {
            definition,
            state_name: self.str_field("stateName").map(str::to_string),
            input: parse("input")?.unwrap_or_else(|| json!({})),
            inspection_level: match self.str_field("inspectionLevel") {
                Some("DEBUG") => InspectionLevel::Debug,
                Some("TRACE") => InspectionLevel::Trace,
                _ => InspectionLevel::Info,
            },
            variables: match parse("variables")? {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            },
            context: parse("context")?,
            mock,
            retrier_retry_count: None,
            map_iteration_failure_count: None,
            map_item_reader_data: None,
        };
        let clock = runs::clock::SystemClock;
        let random = statemachine::engine::SeededRandom::new(statemachine::engine::Clock::now_ms(
            &clock,
        ) as u64);
        let integrations = Integrations::new();
        let engine = Engine::new(&clock, &random, &integrations);
        let out = engine
            .test_state(request)
            .await
            .map_err(|e| ApiError("InvalidDefinition", e.to_string()))?;
        let mut v = json!({"status": out.status.as_str()});
        if let Some(o) = out.output {
            v["output"] = json!(o.to_string());
        }
        if let Some(e) = out.error {
            v["error"] = json!(e);
        }
        if let Some(c) = out.cause {
            v["cause"] = json!(c);
        }
        if let Some(n) = out.next_state {
            v["nextState"] = json!(n);
        }
        if let Some(i) = out.inspection_data {
            v["inspectionData"] = Value::Object(i);
        }
        Ok(v)
    }

    async fn redrive_execution(&self, local: Arc<Local>) -> Result<Value, ApiError> {
        let name = self.execution_name()?;
        let before = local.store().description(&name).map_err(api_error)?;
        if !before.status.is_redrivable() || before.resume.is_none() {
            return Err(ApiError(
                "ExecutionNotRedrivable",
                format!(
                    "Execution '{}' is {} and cannot be redriven",
                    before.execution_arn,
                    before.status.as_str()
                ),
            ));
        }
        let (done_tx, mut done_rx) = tokio::sync::oneshot::channel();
        let (task_local, task_name) = (local.clone(), name.clone());
        tokio::spawn(async move {
            let result = task_local.redrive(&task_name, None).await;
            let _ = done_tx.send(result);
        });
        let count = before.redrive_count;
        let d = wait_for(&local, &name, &mut done_rx, |d| {
            d.is_some_and(|d| d.redrive_count > count)
        })
        .await?;
        Ok(json!({"redriveDate": seconds(d.redrive_date_ms.unwrap_or_default())}))
    }
}

/// Waits until the execution's description satisfies `ready`, or the task driving it ended
/// (with its error, if any).
async fn wait_for(
    local: &Local,
    name: &str,
    done: &mut tokio::sync::oneshot::Receiver<Result<Description, RunsError>>,
    ready: impl Fn(Option<&Description>) -> bool,
) -> Result<Description, ApiError> {
    loop {
        let d = local.store().description(name).ok();
        if ready(d.as_ref()) {
            return Ok(d.expect("ready needs a description"));
        }
        match done.try_recv() {
            Ok(Ok(d)) => return Ok(d),
            Ok(Err(e)) => return Err(api_error(e)),
            Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                return Err(ApiError(
                    "ValidationException",
                    "the execution's task ended unexpectedly".into(),
                ))
            }
            Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
