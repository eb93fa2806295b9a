//! The AWS JSON 1.0 protocol of Step Functions over [`runs::Local`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use runs::{Description, ExecutionStore, Local, RunsError};
use serde_json::{json, Map, Value};
use statemachine::engine::ExecutionStatus;

/// The largest request body accepted (StartExecution's input is at most 256 KiB).
pub const MAX_BODY: usize = 1 << 20;

/// What the API serves: the local backend, and the token non-loopback clients must present.
pub struct Server {
    pub(crate) local: Arc<Local>,
    pub(crate) token: Option<String>,
    /// Every execution's description per state machine, refreshed from the change journal of
    /// the machine's store.
    pub(crate) indexes: std::sync::Mutex<HashMap<String, runs::store::ListIndex>>,
    /// Serialises the changes of created state machines (create, update, delete).
    pub(crate) machines_lock: tokio::sync::Mutex<()>,
}

impl Server {
    /// A server over `local`; `token`, when set, is required of every client that is not on
    /// loopback (as its SigV4 access key id).
    pub fn new(local: Arc<Local>, token: Option<String>) -> Server {
        Server {
            local,
            token,
            indexes: std::sync::Mutex::new(HashMap::new()),
            machines_lock: tokio::sync::Mutex::new(()),
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
pub(crate) struct ApiError(pub(crate) &'static str, pub(crate) String);

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

/// A successful answer: its JSON text.
fn ok(body: String) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/x-amz-json-1.0")],
        body,
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
        Ok(body) => ok(body),
        Err(e) => e.into_response(),
    }
}

/// The answer's JSON text of `action`. Most actions build a value; ListExecutions joins
/// entries serialized in advance (the console's busiest call).
async fn dispatch(
    server: &Server,
    action: &str,
    req: &Map<String, Value>,
) -> Result<String, ApiError> {
    let api = Api { server, req };
    let value = match action {
        "ListExecutions" => return api.list_executions(),
        "ListStateMachines" => api.list_state_machines(),
        "DescribeStateMachine" => api.describe_state_machine(),
        "CreateStateMachine" => api.create_state_machine().await,
        "UpdateStateMachine" => api.update_state_machine().await,
        "DeleteStateMachine" => api.delete_state_machine().await,
        "DescribeStateMachineForExecution" => api.describe_state_machine_for_execution(),
        "StartExecution" => api.start_execution().await,
        "StartSyncExecution" => api.start_sync_execution().await,
        "SendTaskSuccess" => api.send_task(TaskCallback::Success),
        "SendTaskFailure" => api.send_task(TaskCallback::Failure),
        "SendTaskHeartbeat" => api.send_task(TaskCallback::Heartbeat),
        "DescribeExecution" => api.describe_execution(),
        "GetExecutionHistory" => api.get_execution_history(),
        "StopExecution" => api.stop_execution().await,
        "RedriveExecution" => api.redrive_execution().await,
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
    };
    value.map(|v| v.to_string())
}

pub(crate) const REGION_ACCOUNT: &str = "us-east-1:123456789012";

/// The ARN of state machine `name`.
pub(crate) fn machine_arn_of(name: &str) -> String {
    format!("arn:aws:states:{REGION_ACCOUNT}:stateMachine:{name}")
}

fn machine_arn() -> String {
    machine_arn_of(runs::local::STATE_MACHINE)
}

fn seconds(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

fn not_found(arn: &str) -> ApiError {
    ApiError(
        "ExecutionDoesNotExist",
        format!("Execution Does Not Exist: '{arn}'"),
    )
}

fn machine_not_found(arn: &str) -> ApiError {
    ApiError(
        "StateMachineDoesNotExist",
        format!("State Machine Does Not Exist: '{arn}'"),
    )
}

fn execution_arn(machine: &str, name: &str) -> String {
    format!("arn:aws:states:{REGION_ACCOUNT}:execution:{machine}:{name}")
}

/// Maps the backend's errors to the API's, for an execution of `machine`.
fn api_error(machine: &str, e: RunsError) -> ApiError {
    match e {
        RunsError::NoSuchExecution(n) => not_found(&execution_arn(machine, &n)),
        RunsError::AlreadyExists(n) => ApiError(
            "ExecutionAlreadyExists",
            format!("Execution Already Exists: '{}'", execution_arn(machine, &n)),
        ),
        RunsError::NotRedrivable(m) => ApiError("ExecutionNotRedrivable", m),
        RunsError::AlreadyRunning { .. } => ApiError("ExecutionLimitExceeded", e.to_string()),
        RunsError::BadName(_) => ApiError("InvalidName", e.to_string()),
        RunsError::UnknownFeed { .. } | RunsError::BadInput(_) => {
            ApiError("InvalidExecutionInput", e.to_string())
        }
        other => ApiError("ValidationException", other.to_string()),
    }
}

/// A state machine an ARN names.
pub(crate) enum MachineRef {
    /// The feedpipe machine of the configuration.
    Pipeline,
    /// One created through the API, with its definition.
    Created(runs::machines::Machine, String),
}

/// The machine name in a state machine ARN, or `InvalidArn`.
fn machine_name_in(arn: &str) -> Result<&str, ApiError> {
    let prefix = format!("arn:aws:states:{REGION_ACCOUNT}:stateMachine:");
    match arn.strip_prefix(&prefix) {
        Some(name) if !name.is_empty() && !name.contains(':') => Ok(name),
        // A version or alias ARN (`...:NAME:1`) names no machine here.
        _ if arn.starts_with("arn:aws:states:") && arn.contains(":stateMachine:") => Ok(""),
        _ => Err(ApiError("InvalidArn", format!("Invalid Arn: '{arn}'"))),
    }
}

/// The machine `arn` names: `StateMachineDoesNotExist` when there is none.
pub(crate) fn resolve_machine(
    server: &Server,
    arn: &str,
) -> Result<(String, MachineRef), ApiError> {
    let name = machine_name_in(arn)?;
    if name == runs::local::STATE_MACHINE {
        return Ok((name.to_string(), MachineRef::Pipeline));
    }
    match server
        .local
        .machines()
        .get(name)
        .map_err(|e| ApiError("ValidationException", e.to_string()))?
    {
        Some((m, definition)) => Ok((name.to_string(), MachineRef::Created(m, definition))),
        None => Err(machine_not_found(arn)),
    }
}

/// The execution store of machine `machine`.
pub(crate) fn store_of(server: &Server, machine: &str) -> ExecutionStore {
    if machine == runs::local::STATE_MACHINE {
        server.local.store().clone()
    } else {
        server.local.machines().executions(machine)
    }
}

/// An execution an ARN names: its machine, the machine's store and its name.
pub(crate) struct Target {
    pub(crate) machine: String,
    pub(crate) store: ExecutionStore,
    pub(crate) name: String,
}

/// The execution `arn` names: `InvalidArn` when it is not an execution ARN,
/// `ExecutionDoesNotExist` when its machine or the execution does not exist.
pub(crate) fn resolve_execution(server: &Server, arn: &str) -> Result<Target, ApiError> {
    let prefix = format!("arn:aws:states:{REGION_ACCOUNT}:execution:");
    let Some((machine, name)) = arn.strip_prefix(&prefix).and_then(|r| r.split_once(':')) else {
        return if arn.starts_with("arn:aws:states:") && arn.contains(":execution:") {
            Err(not_found(arn))
        } else {
            Err(ApiError("InvalidArn", format!("Invalid Arn: '{arn}'")))
        };
    };
    if !runs::store::is_execution_name(name) {
        return Err(not_found(arn));
    }
    let known = machine == runs::local::STATE_MACHINE
        || matches!(server.local.machines().get(machine), Ok(Some(_)));
    let store = store_of(server, machine);
    if !known || !store.exists(name) {
        return Err(not_found(arn));
    }
    Ok(Target {
        machine: machine.to_string(),
        store,
        name: name.to_string(),
    })
}

/// What a SendTask* call sends back.
#[derive(Clone, Copy)]
enum TaskCallback {
    Success,
    Failure,
    Heartbeat,
}

/// The definition's errors as `run --definition` finds them (none: it can run).
fn definition_errors(text: &str) -> Vec<String> {
    match statemachine::asl::StateMachine::from_json(text) {
        Err(e) => vec![e.to_string()],
        Ok(machine) => statemachine::validate::validate(&machine)
            .into_iter()
            .filter(|d| d.severity == statemachine::validate::Severity::Error)
            .map(|d| d.to_string())
            .collect(),
    }
}

fn invalid_definition(errors: &[String]) -> ApiError {
    ApiError(
        "InvalidDefinition",
        format!("Invalid State Machine Definition: '{}'", errors.join("; ")),
    )
}

fn validation(message: String) -> ApiError {
    ApiError("ValidationException", message)
}

struct Api<'a> {
    server: &'a Server,
    req: &'a Map<String, Value>,
}

impl Api<'_> {
    fn local(&self) -> &Local {
        &self.server.local
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.req.get(key).and_then(Value::as_str)
    }

    fn required(&self, key: &str) -> Result<&str, ApiError> {
        self.str_field(key).ok_or_else(|| {
            validation(format!("1 validation error detected: Value null at '{key}' failed to satisfy constraint: Member must not be null"))
        })
    }

    /// The execution the request's `executionArn` names.
    fn execution(&self) -> Result<Target, ApiError> {
        resolve_execution(self.server, self.required("executionArn")?)
    }

    /// The feedpipe machine's creation (and update) date: when its configuration file was last
    /// written (the definition is generated from it).
    fn pipeline_date(&self) -> Value {
        let written = std::fs::metadata(&self.local().project().config_file)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64);
        seconds(written)
    }

    fn list_state_machines(&self) -> Result<Value, ApiError> {
        let created = self
            .local()
            .machines()
            .list()
            .map_err(|e| validation(e.to_string()))?;
        let mut all = vec![json!({
            "stateMachineArn": machine_arn(),
            "name": runs::local::STATE_MACHINE,
            "type": "STANDARD",
            "creationDate": self.pipeline_date(),
        })];
        all.extend(created.iter().map(|m| {
            json!({
                "stateMachineArn": machine_arn_of(&m.name),
                "name": m.name,
                "type": m.kind,
                "creationDate": seconds(m.creation_date_ms),
            })
        }));
        let (max, offset) = self.page(100)?;
        let more = all.len() > offset + max;
        let page: Vec<Value> = all.into_iter().skip(offset).take(max).collect();
        let mut out = json!({ "stateMachines": page });
        if more {
            out["nextToken"] = json!(format!("fp-{}", offset + max));
        }
        Ok(out)
    }

    fn describe_state_machine(&self) -> Result<Value, ApiError> {
        let arn = self.required("stateMachineArn")?;
        let (name, machine) = resolve_machine(self.server, arn)?;
        Ok(match machine {
            MachineRef::Pipeline => json!({
                "stateMachineArn": machine_arn(),
                "name": name,
                "status": "ACTIVE",
                "definition": self.local().project().local_definition(),
                "roleArn": "arn:aws:iam::123456789012:role/feedpipe-local",
                "type": "STANDARD",
                "creationDate": self.pipeline_date(),
                "loggingConfiguration": {"level": "OFF", "includeExecutionData": false},
                "tracingConfiguration": {"enabled": false},
                "description": "the feedpipe pipeline of the configuration (feedpipe asl)",
            }),
            MachineRef::Created(m, definition) => {
                let mut v = json!({
                    "stateMachineArn": machine_arn_of(&m.name),
                    "name": m.name,
                    "status": "ACTIVE",
                    "definition": definition,
                    "roleArn": m.role_arn,
                    "type": m.kind,
                    "creationDate": seconds(m.creation_date_ms),
                    "loggingConfiguration": {"level": "OFF", "includeExecutionData": false},
                    "tracingConfiguration": {"enabled": false},
                    "revisionId": m.revision_id,
                });
                if let Some(d) = &m.description {
                    v["description"] = json!(d);
                }
                v
            }
        })
    }

    fn role_arn(&self) -> Result<Option<String>, ApiError> {
        match self.str_field("roleArn") {
            None => Ok(None),
            Some(r) if r.starts_with("arn:aws:iam::") && r.contains(":role/") => {
                Ok(Some(r.to_string()))
            }
            Some(r) => Err(ApiError("InvalidArn", format!("Invalid Arn: '{r}'"))),
        }
    }

    async fn create_state_machine(&self) -> Result<Value, ApiError> {
        let name = self.required("name")?;
        let definition = self.required("definition")?;
        let role = self
            .role_arn()?
            .ok_or_else(|| validation("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null".into()))?;
        let kind = self.str_field("type").unwrap_or("STANDARD");
        if kind != "STANDARD" && kind != "EXPRESS" {
            return Err(validation(format!("1 validation error detected: Value '{kind}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]")));
        }
        if !runs::machines::is_machine_name(name) {
            return Err(ApiError("InvalidName", format!("Invalid Name: '{name}'")));
        }
        let errors = definition_errors(definition);
        if !errors.is_empty() {
            return Err(invalid_definition(&errors));
        }
        let arn = machine_arn_of(name);
        let _changing = self.server.machines_lock.lock().await;
        if name == runs::local::STATE_MACHINE {
            return Err(ApiError(
                "StateMachineAlreadyExists",
                format!("State Machine Already Exists: '{arn}' (the feedpipe machine of the configuration)"),
            ));
        }
        let machines = self.local().machines();
        if let Some((m, existing)) = machines.get(name).map_err(|e| validation(e.to_string()))? {
            // Creating the same machine again answers as the first time; anything else differs.
            if existing == definition && m.role_arn == role && m.kind == kind {
                return Ok(
                    json!({"stateMachineArn": arn, "creationDate": seconds(m.creation_date_ms)}),
                );
            }
            return Err(ApiError(
                "StateMachineAlreadyExists",
                format!("State Machine Already Exists: '{arn}'"),
            ));
        }
        let now = statemachine::engine::Clock::now_ms(&runs::clock::SystemClock);
        let machine = runs::machines::Machine {
            name: name.to_string(),
            kind: kind.to_string(),
            role_arn: role,
            creation_date_ms: now,
            update_date_ms: None,
            revision_id: runs::integrations::uuid(),
            description: self.str_field("description").map(str::to_string),
        };
        machines
            .put(&machine, definition)
            .map_err(|e| validation(e.to_string()))?;
        Ok(json!({"stateMachineArn": arn, "creationDate": seconds(now)}))
    }

    async fn update_state_machine(&self) -> Result<Value, ApiError> {
        let arn = self.required("stateMachineArn")?;
        let definition = self.str_field("definition");
        let role = self.role_arn()?;
        let _changing = self.server.machines_lock.lock().await;
        let (_, machine) = resolve_machine(self.server, arn)?;
        let MachineRef::Created(mut m, old) = machine else {
            return Err(validation(
                "the feedpipe machine is generated from feedpipe.toml: change the configuration instead".into(),
            ));
        };
        if definition.is_none()
            && role.is_none()
            && !self.req.contains_key("loggingConfiguration")
            && !self.req.contains_key("tracingConfiguration")
            && !self.req.contains_key("description")
        {
            return Err(ApiError(
                "MissingRequiredParameter",
                "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified".into(),
            ));
        }
        if let Some(d) = definition {
            let errors = definition_errors(d);
            if !errors.is_empty() {
                return Err(invalid_definition(&errors));
            }
        }
        let now = statemachine::engine::Clock::now_ms(&runs::clock::SystemClock);
        if let Some(r) = role {
            m.role_arn = r;
        }
        if let Some(d) = self.str_field("description") {
            m.description = Some(d.to_string());
        }
        m.update_date_ms = Some(now);
        m.revision_id = runs::integrations::uuid();
        self.local()
            .machines()
            .put(&m, definition.unwrap_or(&old))
            .map_err(|e| validation(e.to_string()))?;
        Ok(json!({"updateDate": seconds(now), "revisionId": m.revision_id}))
    }

    /// DeleteStateMachine: running executions are stopped, then the machine and its executions
    /// are removed. Deleting a machine that does not exist succeeds (as in Step Functions).
    async fn delete_state_machine(&self) -> Result<Value, ApiError> {
        let arn = self.required("stateMachineArn")?;
        let name = machine_name_in(arn)?;
        if name == runs::local::STATE_MACHINE {
            return Err(validation(
                "the feedpipe machine is generated from feedpipe.toml and cannot be deleted".into(),
            ));
        }
        let _changing = self.server.machines_lock.lock().await;
        let store = self.local().machines().executions(name);
        for d in store.list().unwrap_or_default() {
            if d.status == ExecutionStatus::Running {
                let _ended_meanwhile = self
                    .local()
                    .stop_in(
                        &store,
                        &d.name,
                        Some("States.Runtime"),
                        Some("the state machine was deleted"),
                    )
                    .await;
            }
        }
        self.local()
            .machines()
            .delete(name)
            .map_err(|e| validation(e.to_string()))?;
        lock(&self.server.indexes).remove(name);
        Ok(json!({}))
    }

    fn describe_state_machine_for_execution(&self) -> Result<Value, ApiError> {
        let t = self.execution()?;
        let definition = t
            .store
            .definition_text(&t.name)
            .map_err(|_| not_found(&execution_arn(&t.machine, &t.name)))?;
        let mut v = json!({
            "stateMachineArn": machine_arn_of(&t.machine),
            "name": t.machine,
            "definition": definition,
            "roleArn": "arn:aws:iam::123456789012:role/feedpipe-local",
            "updateDate": self.pipeline_date(),
        });
        if let Ok(Some((m, _))) = self.local().machines().get(&t.machine) {
            v["roleArn"] = json!(m.role_arn);
            v["updateDate"] = seconds(m.update_date_ms.unwrap_or(m.creation_date_ms));
            v["revisionId"] = json!(m.revision_id);
        }
        Ok(v)
    }

    /// The request's `input` (default `{}`), checked as StartExecution checks it.
    fn input(&self) -> Result<Value, ApiError> {
        let input_text = self.str_field("input").unwrap_or("{}");
        statemachine::engine::check_start_input_text(input_text)
            .map_err(|e| ApiError("InvalidExecutionInput", e.to_string()))?;
        serde_json::from_str(input_text).map_err(|e| {
            ApiError(
                "InvalidExecutionInput",
                format!("Invalid execution input: {e}"),
            )
        })
    }

    async fn start_execution(&self) -> Result<Value, ApiError> {
        let local = self.server.local.clone();
        let arn = self.required("stateMachineArn")?;
        let (machine_name, machine) = resolve_machine(self.server, arn)?;
        let input = self.input()?;
        match machine {
            MachineRef::Pipeline => self.start_pipeline(local, input).await,
            MachineRef::Created(m, definition) if m.is_express() => {
                let name = self.execution_name_or_uuid()?;
                let (arn_tx, arn_rx) = tokio::sync::oneshot::channel();
                tokio::spawn(async move {
                    let result = local
                        .run_express(&m.name, &definition, &name, input, |arn| {
                            let _ = arn_tx.send(arn.to_string());
                        })
                        .await;
                    match result {
                        Ok(r) => {
                            tracing::info!(execution = %r.execution_arn, status = r.status.as_str(), "express execution ended")
                        }
                        Err(e) => tracing::warn!("express execution did not run: {e}"),
                    }
                });
                let started = statemachine::engine::Clock::now_ms(&runs::clock::SystemClock);
                let arn = arn_rx
                    .await
                    .map_err(|_| validation("the express execution could not start".into()))?;
                Ok(json!({"executionArn": arn, "startDate": seconds(started)}))
            }
            MachineRef::Created(_, definition) => {
                let name = self.execution_name_or_uuid()?;
                let store = store_of(self.server, &machine_name);
                if store.exists(&name) {
                    return Err(api_error(&machine_name, RunsError::AlreadyExists(name)));
                }
                let (done_tx, mut done_rx) = tokio::sync::oneshot::channel();
                let (task_store, task_name, task_machine) =
                    (store.clone(), name.clone(), machine_name.clone());
                tokio::spawn(async move {
                    let result = local
                        .run_machine(&task_machine, &task_store, &definition, &task_name, input)
                        .await;
                    let _ = done_tx.send(result);
                });
                let d =
                    wait_for(&machine_name, &store, &name, &mut done_rx, |d| d.is_some()).await?;
                Ok(json!({"executionArn": d.execution_arn, "startDate": seconds(d.start_date_ms)}))
            }
        }
    }

    /// The request's execution `name`, or a new UUID (as Step Functions names them).
    fn execution_name_or_uuid(&self) -> Result<String, ApiError> {
        match self.str_field("name") {
            Some(n) if runs::store::is_execution_name(n) => Ok(n.to_string()),
            Some(n) => Err(ApiError("InvalidName", format!("Invalid Name: '{n}'"))),
            None => Ok(runs::integrations::uuid()),
        }
    }

    async fn start_pipeline(&self, local: Arc<Local>, input: Value) -> Result<Value, ApiError> {
        let machine = runs::local::STATE_MACHINE;
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
            return Err(api_error(machine, RunsError::AlreadyExists(name)));
        }
        let (done_tx, mut done_rx) = tokio::sync::oneshot::channel();
        let (task_local, task_name, task_feed) = (local.clone(), name.clone(), feed.clone());
        tokio::spawn(async move {
            let result = task_local
                .run(&task_feed, Some(task_name), false, None)
                .await;
            let _ = done_tx.send(result);
        });
        let d = wait_for(machine, local.store(), &name, &mut done_rx, |d| d.is_some()).await?;
        Ok(json!({"executionArn": d.execution_arn, "startDate": seconds(d.start_date_ms)}))
    }

    /// StartSyncExecution: an EXPRESS machine's execution run to its end, its record the answer.
    async fn start_sync_execution(&self) -> Result<Value, ApiError> {
        let arn = self.required("stateMachineArn")?;
        let (_, machine) = resolve_machine(self.server, arn)?;
        let (m, definition) = match machine {
            MachineRef::Created(m, d) if m.is_express() => (m, d),
            _ => {
                return Err(ApiError(
                    "StateMachineTypeNotSupported",
                    "This operation is not supported by this type of state machine".into(),
                ))
            }
        };
        let input = self.input()?;
        let name = self.execution_name_or_uuid()?;
        let r = self
            .local()
            .run_express(&m.name, &definition, &name, input, |_| {})
            .await
            .map_err(|e| api_error(&m.name, e))?;
        let stop = r.stop_date_ms.unwrap_or(r.start_date_ms);
        let mut v = json!({
            "executionArn": r.execution_arn,
            "stateMachineArn": r.state_machine_arn,
            "name": r.name,
            "startDate": seconds(r.start_date_ms),
            "stopDate": seconds(stop),
            "status": r.status.as_str(),
            "input": r.input.to_string(),
            "inputDetails": {"included": true},
            "billingDetails": {
                "billedMemoryUsedInMB": 64,
                "billedDurationInMilliseconds": ((stop - r.start_date_ms).max(0) as u64).div_ceil(100) * 100,
            },
        });
        if let Some(o) = &r.output {
            v["output"] = json!(o.to_string());
            v["outputDetails"] = json!({"included": true});
        }
        if let Some(e) = &r.error {
            v["error"] = json!(e);
        }
        if let Some(c) = &r.cause {
            v["cause"] = json!(c);
        }
        Ok(v)
    }

    /// SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat.
    fn send_task(&self, kind: TaskCallback) -> Result<Value, ApiError> {
        use runs::callbacks::{Callback, TokenError};
        let token = self.required("taskToken")?;
        if token.is_empty() || token.len() > 2048 {
            return Err(ApiError(
                "InvalidToken",
                "Invalid Token: the task token must have 1 to 2048 characters".into(),
            ));
        }
        let callback = match kind {
            TaskCallback::Success => {
                let text = self.required("output")?;
                let output = serde_json::from_str(text).map_err(|e| {
                    ApiError(
                        "InvalidOutput",
                        format!("Invalid Output: the output is not JSON: {e}"),
                    )
                })?;
                statemachine::engine::check_start_input_text(text)
                    .map_err(|e| ApiError("InvalidOutput", format!("Invalid Output: {e}")))?;
                Callback::Success(output)
            }
            TaskCallback::Failure => Callback::Failure {
                error: self.str_field("error").map(str::to_string),
                cause: self.str_field("cause").map(str::to_string),
            },
            TaskCallback::Heartbeat => Callback::Heartbeat,
        };
        match self.local().tokens().send(token, callback) {
            Ok(()) => Ok(json!({})),
            Err(TokenError::Invalid) => Err(ApiError(
                "InvalidToken",
                "Invalid Token: no task of this feedpipe serve waits for this token".into(),
            )),
            Err(TokenError::Closed) => Err(ApiError(
                "TaskTimedOut",
                "Task Timed Out: the task of this token has ended".into(),
            )),
        }
    }

    fn describe_execution(&self) -> Result<Value, ApiError> {
        let t = self.execution()?;
        let d = t
            .store
            .description(&t.name)
            .map_err(|e| api_error(&t.machine, e))?;
        Ok(d.describe_json())
    }

    /// `maxResults` (1 to 1000, default `default`) and the offset `nextToken` holds.
    fn page(&self, default: usize) -> Result<(usize, usize), ApiError> {
        let max = match self.req.get("maxResults").and_then(Value::as_u64) {
            None | Some(0) => default,
            Some(n) if n <= 1000 => n as usize,
            Some(n) => {
                return Err(validation(
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

    /// ListExecutions, answered as JSON text.
    fn list_executions(&self) -> Result<String, ApiError> {
        let arn = self.required("stateMachineArn")?;
        let (machine, found) = resolve_machine(self.server, arn)?;
        if matches!(&found, MachineRef::Created(m, _) if m.is_express()) {
            return Err(ApiError(
                "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state machine".into(),
            ));
        }
        let status = self.str_field("statusFilter");
        let redrive = self.str_field("redriveFilter");
        let (max, offset) = self.page(100)?;
        let store = store_of(self.server, &machine);
        let snapshot = {
            let mut indexes = lock(&self.server.indexes);
            let index = indexes.entry(machine.clone()).or_default();
            index.refresh(&store).map_err(|e| api_error(&machine, e))?;
            index.newest_first()
        };
        let mut matching = snapshot
            .iter()
            .map(|l| &**l)
            .filter(|l| status.is_none_or(|s| l.description.status.as_str() == s))
            .filter(|l| match redrive {
                Some("REDRIVEN") => l.description.redrive_count > 0,
                Some("NOT_REDRIVEN") => l.description.redrive_count == 0,
                _ => true,
            })
            .skip(offset);
        // The items were serialized when their descriptions changed: the answer joins them.
        let mut out = String::with_capacity(64 + max * 320);
        out.push_str("{\"executions\":[");
        for (i, l) in matching.by_ref().take(max).enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&l.item);
        }
        out.push(']');
        if matching.next().is_some() {
            out.push_str(&format!(",\"nextToken\":\"fp-{}\"", offset + max));
        }
        out.push('}');
        Ok(out)
    }

    fn get_execution_history(&self) -> Result<Value, ApiError> {
        let t = self.execution()?;
        let mut events: Vec<Value> = t
            .store
            .events(&t.name)
            .map_err(|e| api_error(&t.machine, e))?
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
        let t = self.execution()?;
        let d = t
            .store
            .description(&t.name)
            .map_err(|e| api_error(&t.machine, e))?;
        if d.status != ExecutionStatus::Running {
            // Stopping an execution that has ended changes nothing.
            return Ok(json!({"stopDate": seconds(d.stop_date_ms.unwrap_or(d.start_date_ms))}));
        }
        let d = self
            .local()
            .stop_in(
                &t.store,
                &t.name,
                self.str_field("error"),
                self.str_field("cause"),
            )
            .await
            .map_err(|e| api_error(&t.machine, e))?;
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

    async fn redrive_execution(&self) -> Result<Value, ApiError> {
        let local = self.server.local.clone();
        let t = self.execution()?;
        let before = t
            .store
            .description(&t.name)
            .map_err(|e| api_error(&t.machine, e))?;
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
        let (task_store, task_name) = (t.store.clone(), t.name.clone());
        tokio::spawn(async move {
            let result = local.redrive_in(&task_store, &task_name, None).await;
            let _ = done_tx.send(result);
        });
        let count = before.redrive_count;
        let d = wait_for(&t.machine, &t.store, &t.name, &mut done_rx, |d| {
            d.is_some_and(|d| d.redrive_count > count)
        })
        .await?;
        Ok(json!({"redriveDate": seconds(d.redrive_date_ms.unwrap_or_default())}))
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Waits until the execution's description satisfies `ready`, or the task driving it ended
/// (with its error, if any).
async fn wait_for(
    machine: &str,
    store: &ExecutionStore,
    name: &str,
    done: &mut tokio::sync::oneshot::Receiver<Result<Description, RunsError>>,
    ready: impl Fn(Option<&Description>) -> bool,
) -> Result<Description, ApiError> {
    loop {
        let d = store.description(name).ok();
        if ready(d.as_ref()) {
            return Ok(d.expect("ready needs a description"));
        }
        match done.try_recv() {
            Ok(Ok(d)) => return Ok(d),
            Ok(Err(e)) => return Err(api_error(machine, e)),
            Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                return Err(validation("the execution's task ended unexpectedly".into()))
            }
            Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
