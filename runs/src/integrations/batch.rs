//! `arn:aws:states:::batch:submitJob.sync` locally: the job runs as a child process of the
//! `feedpipe-worker` program, the real Batch entry point, with the job's `ContainerOverrides`
//! (`Command`, `Environment`) plus what Batch and Step Functions set (`AWS_BATCH_JOB_ID`,
//! `AWS_BATCH_JOB_ATTEMPT`, `MANAGED_BY_AWS=STARTED_BY_STEP_FUNCTIONS`).
//!
//! Its stdout and stderr go to `logs/EXECUTION/STATE-N.log` (N counts the state's job attempts
//! in the execution: the local CloudWatch streams). The result is shaped as DescribeJobs shows
//! the job; `TaskSubmitted` carries SubmitJob's answer. A job whose last attempt did not exit 0
//! fails the task with `States.TaskFailed` and the job as JSON cause, as AWS writes it. The job
//! definition's attempts are honoured (exit 2 and 3, feedpipe's "bad input" and "sink refused",
//! are not retried, as the deployed `EvaluateOnExit` says) and its attempt timeout kills the child.
//! The child is killed when the task is dropped (a Step Functions timeout, a stop) and, through
//! `FEEDPIPE_EXIT_WITH_PARENT`, exits when the engine process dies.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Map, Value};
use statemachine::engine::{BoxFuture, TaskError, TaskIntegration, TaskRequest};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};

use super::{now_ms, string_param, uuid};
use crate::error::RunsError;

/// The program that runs Batch jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerProgram {
    /// The executable.
    pub program: PathBuf,
    /// `argv[0]` when it differs from the program (a busybox-style `feedpipe` re-executed as
    /// `feedpipe-worker`).
    pub arg0: Option<String>,
}

/// The name of the worker program.
pub const WORKER: &str = "feedpipe-worker";

impl WorkerProgram {
    /// `FEEDPIPE_WORKER_BIN`, else `feedpipe-worker` beside the running executable, else on
    /// `PATH`, else `busybox` (an executable that acts as the worker when its `argv[0]` is
    /// `feedpipe-worker`, like the `feedpipe` binary), if given.
    pub fn find(busybox: Option<PathBuf>) -> Result<WorkerProgram, RunsError> {
        if let Some(p) = std::env::var_os("FEEDPIPE_WORKER_BIN") {
            let program = PathBuf::from(p);
            if !program.is_file() {
                return Err(RunsError::Setup(format!(
                    "FEEDPIPE_WORKER_BIN names {}, which is not a file",
                    program.display()
                )));
            }
            return Ok(WorkerProgram {
                program,
                arg0: None,
            });
        }
        let beside = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|d| d.join(WORKER)));
        let on_path: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(WORKER))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(program) = beside.into_iter().chain(on_path).find(|p| p.is_file()) {
            return Ok(WorkerProgram {
                program,
                arg0: None,
            });
        }
        match busybox {
            Some(program) => Ok(WorkerProgram {
                program,
                arg0: Some(WORKER.into()),
            }),
            None => Err(RunsError::Setup(format!(
                "cannot find {WORKER}: set FEEDPIPE_WORKER_BIN, or put it beside {} or on PATH",
                std::env::current_exe()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ))),
        }
    }
}

/// A local job definition: what AWS keeps in the job definition resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobDefinition {
    /// `RetryStrategy.Attempts` (1 to 10).
    pub attempts: u32,
    /// `Timeout.AttemptDurationSeconds`.
    pub attempt_timeout: Option<Duration>,
}

/// What a running job reports to whoever watches the execution.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    /// An attempt started.
    Started {
        /// The Task state.
        state: String,
        /// 1-based attempt of the job.
        attempt: u32,
        /// Its log file.
        log: PathBuf,
    },
    /// A JSON log line of the worker: its `fields` (message, records, bytes, ...).
    Log {
        /// The Task state.
        state: String,
        /// The line's fields.
        fields: Map<String, Value>,
    },
    /// An attempt ended.
    Ended {
        /// The Task state.
        state: String,
        /// 1-based attempt.
        attempt: u32,
        /// Its exit code (none when killed).
        exit_code: Option<i32>,
    },
}

/// Receives [`JobEvent`]s.
pub trait JobWatcher: Send + Sync {
    /// A job event.
    fn job(&self, event: JobEvent);
}

/// The local Batch service.
pub struct BatchJobs {
    worker: WorkerProgram,
    logs: PathBuf,
    definitions: HashMap<String, JobDefinition>,
    watcher: Option<Arc<dyn JobWatcher>>,
    attempts: Mutex<HashMap<(String, String), u32>>,
}

impl BatchJobs {
    /// Jobs run with `worker`, logs under `logs/EXECUTION/`, the job definitions by name.
    pub fn new(
        worker: WorkerProgram,
        logs: PathBuf,
        definitions: HashMap<String, JobDefinition>,
        watcher: Option<Arc<dyn JobWatcher>>,
    ) -> BatchJobs {
        BatchJobs {
            worker,
            logs,
            definitions,
            watcher,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    fn tell(&self, event: JobEvent) {
        if let Some(w) = &self.watcher {
            w.job(event);
        }
    }

    /// The next log file of `state` in `execution`.
    fn next_log(&self, execution: &str, state: &str) -> PathBuf {
        let n = {
            let mut a = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
            let n = a
                .entry((execution.to_string(), state.to_string()))
                .or_insert(0);
            *n += 1;
            *n
        };
        let dir = self.logs.join(execution);
        // Attempts of an earlier process (before a redrive) keep their files.
        let mut n = n;
        loop {
            let p = dir.join(format!("{}-{n}.log", file_safe(state)));
            if !p.exists() {
                return p;
            }
            n += 1;
            let mut a = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
            a.insert((execution.to_string(), state.to_string()), n);
        }
    }
}

/// A state name as a file name (`/` and NUL are the only bytes a Linux name cannot hold).
fn file_safe(state: &str) -> String {
    state.replace(['/', '\0'], "_")
}

/// The job's container overrides: command and environment.
struct Overrides {
    command: Vec<String>,
    environment: Vec<(String, String)>,
}

fn overrides(params: &Value, state: &str) -> Result<Overrides, TaskError> {
    let bad = |what: &str| {
        TaskError::new(
            "Batch.ClientException",
            format!("state '{state}': ContainerOverrides.{what}"),
        )
    };
    let o = params.get("ContainerOverrides");
    let command = match o.and_then(|o| o.get("Command")) {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("Command must be a list of strings"))?,
        Some(_) => return Err(bad("Command must be a list of strings")),
    };
    let environment = match o.and_then(|o| o.get("Environment")) {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|kv| {
                Some((
                    kv.get("Name")?.as_str()?.to_string(),
                    kv.get("Value")?.as_str()?.to_string(),
                ))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("Environment must be a list of {Name, Value} strings"))?,
        Some(_) => return Err(bad("Environment must be a list")),
    };
    Ok(Overrides {
        command,
        environment,
    })
}

/// How one attempt ended.
struct AttemptEnd {
    exit_code: Option<i32>,
    /// Why the worker says it failed (its final line's error and cause).
    worker_reason: Option<String>,
    reason: String,
    started_ms: i64,
    stopped_ms: i64,
    log: PathBuf,
}

impl BatchJobs {
    async fn attempt(
        &self,
        state: &str,
        execution: &str,
        job_id: &str,
        attempt: u32,
        o: &Overrides,
        timeout: Option<Duration>,
    ) -> AttemptEnd {
        let log = self.next_log(execution, state);
        let started_ms = now_ms();
        let end = |exit_code, reason: String, log: PathBuf| AttemptEnd {
            exit_code,
            worker_reason: None,
            reason,
            started_ms,
            stopped_ms: now_ms(),
            log,
        };
        let file = match open_log(&log).await {
            Ok(f) => f,
            Err(e) => {
                return end(
                    None,
                    format!("cannot create the log {}: {e}", log.display()),
                    log,
                )
            }
        };
        let mut cmd = tokio::process::Command::new(&self.worker.program);
        #[cfg(unix)]
        if let Some(arg0) = &self.worker.arg0 {
            cmd.arg0(arg0);
        }
        // Progress once a second for the live view (the worker's default is every 10 s), unless
        // the user or the job sets it.
        if std::env::var_os("FEEDPIPE_PROGRESS_SECONDS").is_none() {
            cmd.env("FEEDPIPE_PROGRESS_SECONDS", "1");
        }
        cmd.args(&o.command)
            .envs(o.environment.iter().map(|(k, v)| (k, v)))
            .env("AWS_BATCH_JOB_ID", job_id)
            .env("AWS_BATCH_JOB_ATTEMPT", attempt.to_string())
            .env("MANAGED_BY_AWS", "STARTED_BY_STEP_FUNCTIONS")
            .env("FEEDPIPE_EXIT_WITH_PARENT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                return end(
                    None,
                    format!(
                        "CannotStartContainerError: cannot run {}: {e}",
                        self.worker.program.display()
                    ),
                    log,
                )
            }
        };
        self.tell(JobEvent::Started {
            state: state.to_string(),
            attempt,
            log: log.clone(),
        });
        // Kept open: the worker exits when it reads end-of-file, i.e. when this process dies.
        let _stdin = child.stdin.take();
        let file = Arc::new(tokio::sync::Mutex::new(file));
        let out = child
            .stdout
            .take()
            .map(|s| self.copy(s, file.clone(), None));
        let err = child
            .stderr
            .take()
            .map(|s| self.copy(s, file.clone(), Some(state)));
        let log_file = file.clone();
        // Both streams at once: a child blocked on a full stderr pipe would never close stdout.
        let copies = async {
            let out = async {
                match out {
                    Some(o) => o.await,
                    None => None,
                }
            };
            let err = async {
                if let Some(e) = err {
                    e.await;
                }
            };
            let reason = tokio::join!(out, err).0;
            // tokio writes a file in the background: the last lines are on disk only after this.
            if let Err(e) = log_file.lock().await.flush().await {
                tracing::warn!("cannot write the job log: {e}");
            }
            reason
        };
        let waited = async { tokio::join!(child.wait(), copies) };
        let (status, worker_reason) = match timeout {
            Some(t) => match tokio::time::timeout(t, waited).await {
                Ok((s, r)) => (Some(s), r),
                Err(_) => (None, None),
            },
            None => {
                let (s, r) = waited.await;
                (Some(s), r)
            }
        };
        let (code, reason) = match status {
            None => {
                // Dropping the child kills it (kill_on_drop).
                (
                    None,
                    format!(
                        "Job attempt duration exceeded timeout ({} s)",
                        timeout.unwrap_or_default().as_secs()
                    ),
                )
            }
            Some(Err(e)) => (None, format!("cannot wait for the job's process: {e}")),
            Some(Ok(s)) => match s.code() {
                Some(0) => (Some(0), "Essential container in task exited".to_string()),
                Some(c) => (Some(c), "Essential container in task exited".to_string()),
                None => {
                    #[cfg(unix)]
                    let signal = std::os::unix::process::ExitStatusExt::signal(&s).unwrap_or(9);
                    #[cfg(not(unix))]
                    let signal = 9;
                    (
                        Some(128 + signal),
                        format!("Essential container in task exited (killed by signal {signal})"),
                    )
                }
            },
        };
        self.tell(JobEvent::Ended {
            state: state.to_string(),
            attempt,
            exit_code: code,
        });
        let mut end = end(code, reason, log);
        end.worker_reason = worker_reason;
        end
    }

    /// Copies a child's output to the log, line by line; with `state` (stderr), tells the
    /// watcher of JSON log lines. Returns the last `{"error", "cause"}` of a JSON line (the
    /// worker's final line on stdout says why a job failed).
    async fn copy(
        &self,
        stream: impl AsyncRead + Unpin,
        file: Arc<tokio::sync::Mutex<tokio::fs::File>>,
        state: Option<&str>,
    ) -> Option<String> {
        let mut lines = BufReader::new(stream);
        let mut line = Vec::new();
        let mut reason = None;
        loop {
            line.clear();
            match lines.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => return reason,
                Ok(_) => {}
            }
            if state.is_none() {
                if let Ok(v) = serde_json::from_slice::<Value>(&line) {
                    let field = |k: &str| v.get(k).and_then(Value::as_str);
                    if let (Some(e), Some(c)) = (field("error"), field("cause")) {
                        reason = Some(format!("{e}: {c}"));
                    }
                }
            }
            if let Err(e) = file.lock().await.write_all(&line).await {
                tracing::warn!("cannot write a job log line: {e}");
            }
            if let (Some(state), Some(w)) = (state, &self.watcher) {
                if let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(&line) {
                    if let Some(Value::Object(fields)) = m.remove("fields") {
                        w.job(JobEvent::Log {
                            state: state.to_string(),
                            fields,
                        });
                    }
                }
            }
        }
    }
}

async fn open_log(path: &Path) -> std::io::Result<tokio::fs::File> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    tokio::fs::File::create(path).await
}

/// Exit codes the deployed job definitions do not retry (`EvaluateOnExit` EXIT): 2, bad
/// configuration, input or feed; 3, the sink refused a delivery.
fn is_final_exit(code: Option<i32>) -> bool {
    matches!(code, Some(2) | Some(3))
}

impl TaskIntegration for BatchJobs {
    fn call<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            let state = request.state_name;
            let params = &request.parameters;
            let job_name = string_param(params, "JobName", state)?.to_string();
            let queue = string_param(params, "JobQueue", state)?.to_string();
            let definition_name = string_param(params, "JobDefinition", state)?.to_string();
            let definition = self.definitions.get(&definition_name).ok_or_else(|| {
                TaskError::new(
                    "Batch.ClientException",
                    format!(
                        "Job definition {definition_name} does not exist (local job definitions: {})",
                        self.definitions.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            let o = overrides(params, state)?;
            let job_id = uuid();
            let created_ms = now_ms();
            request.submission.submit(json!({
                "JobArn": format!("arn:aws:batch:us-east-1:123456789012:job/{job_id}"),
                "JobId": job_id,
                "JobName": job_name,
            }));
            let mut attempts = Vec::new();
            let total = definition.attempts.clamp(1, 10);
            let mut last = None;
            for n in 1..=total {
                let end = self
                    .attempt(
                        state,
                        request.execution_name,
                        &job_id,
                        n,
                        &o,
                        definition.attempt_timeout,
                    )
                    .await;
                attempts.push(json!({
                    "Container": {
                        "ExitCode": end.exit_code,
                        "LogStreamName": end.log.display().to_string(),
                        "Reason": end.worker_reason,
                    },
                    "StartedAt": end.started_ms,
                    "StoppedAt": end.stopped_ms,
                    "StatusReason": end.reason,
                }));
                let done = end.exit_code == Some(0) || is_final_exit(end.exit_code);
                last = Some(end);
                if done {
                    break;
                }
            }
            let end = last.expect("at least one attempt runs");
            let first_started = attempts.first().and_then(|a| a.get("StartedAt")).cloned();
            let succeeded = end.exit_code == Some(0);
            let job = json!({
                "JobArn": format!("arn:aws:batch:us-east-1:123456789012:job/{job_id}"),
                "JobId": job_id,
                "JobName": job_name,
                "JobQueue": queue,
                "JobDefinition": definition_name,
                "Status": if succeeded { "SUCCEEDED" } else { "FAILED" },
                "StatusReason": end.reason,
                "Attempts": attempts,
                "Container": {
                    "Command": o.command,
                    "ExitCode": end.exit_code,
                    "LogStreamName": end.log.display().to_string(),
                    "Reason": end.worker_reason,
                },
                "CreatedAt": created_ms,
                "StartedAt": first_started,
                "StoppedAt": end.stopped_ms,
            });
            if succeeded {
                Ok(job)
            } else {
                Err(TaskError::new("States.TaskFailed", job.to_string()))
            }
        })
    }
}
