//! The local backend: executions of the feedpipe definition run by the engine in this process,
//! with the local integrations, kept in the [`ExecutionStore`] as they go.
//!
//! A process that runs an execution holds its engine lock and its feed's lock until the
//! execution ends. Any command that finds an execution RUNNING whose engine lock is free (the
//! process died) marks it FAILED with `States.Runtime` first ([`Local::recover`]); it can then be
//! redriven from the state it was in. A stop request is a file the running process polls for.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use feed::config::Config;
use serde_json::{json, Value};
use statemachine::asl::StateMachine;
use statemachine::engine::{
    Clock, Engine, EventDetails, EventType, ExecutionRecord, ExecutionStatus, HistoryEvent,
    Observer, ResumePoint, SeededRandom, StartExecution,
};

use crate::callbacks::TaskTokens;
use crate::clock::{FastWaits, SystemClock};
use crate::error::RunsError;
use crate::integrations::{self, BatchJobs, JobDefinition, JobEvent, JobWatcher, WorkerProgram};
use crate::machines::MachineStore;
use crate::store::{Description, EventsWriter, ExecutionStore, Held};

/// The state machine's name in local ARNs.
pub const STATE_MACHINE: &str = "feedpipe";
/// The local job queue.
pub const JOB_QUEUE: &str = "feedpipe-local";
/// The local check job definition.
pub const CHECK_JOB: &str = "feedpipe-check";
/// The local consume job definition.
pub const CONSUME_JOB: &str = "feedpipe-consume";
/// Attempts of the local job definitions (as the deployed `RetryStrategy`).
pub const JOB_ATTEMPTS: u32 = 3;

/// What a local run needs to know of the project.
#[derive(Debug, Clone)]
pub struct Project {
    /// The configuration (relative paths resolved).
    pub config: Config,
    /// Where the jobs read it: the absolute path of `feedpipe.toml`.
    pub config_file: PathBuf,
    /// The local state folder (`.feedpipe/`).
    pub state_dir: PathBuf,
    /// The definition as `feedpipe asl` prints it (with `${...}` placeholders).
    pub definition: String,
}

impl Project {
    /// The local values of the definition's placeholders.
    pub fn substitutions(&self) -> BTreeMap<String, String> {
        [
            ("JobQueue", JOB_QUEUE.to_string()),
            ("CheckJobDefinition", CHECK_JOB.to_string()),
            ("ConsumeJobDefinition", CONSUME_JOB.to_string()),
            ("DiffFunction", "feedpipe-diff".to_string()),
            ("ShapeFunction", "feedpipe-shape".to_string()),
            ("EventsTopic", self.config.notify.clone()),
            ("ConfigUrl", self.config_file.display().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The definition the local engine runs: `feedpipe asl`'s text with the local values.
    pub fn local_definition(&self) -> String {
        statemachine::feedpipe::substitute(&self.definition, &self.substitutions())
    }

    fn job_definitions(&self) -> HashMap<String, JobDefinition> {
        let p = &self.config.pipeline;
        [
            (CHECK_JOB, p.check_timeout_seconds),
            (CONSUME_JOB, p.consume_timeout_seconds),
        ]
        .into_iter()
        .map(|(name, secs)| {
            (
                name.to_string(),
                JobDefinition {
                    attempts: JOB_ATTEMPTS,
                    attempt_timeout: Some(Duration::from_secs(secs)),
                },
            )
        })
        .collect()
    }
}

/// Whoever follows a run as it goes (the CLI's live view).
pub trait RunWatcher: JobWatcher {
    /// A history event was written.
    fn event(&self, event: &HistoryEvent);
}

/// The local backend.
pub struct Local {
    project: Project,
    store: ExecutionStore,
    machines: MachineStore,
    worker: Option<WorkerProgram>,
    tokens: Arc<TaskTokens>,
}

/// The name of a manual run of `feed` started at `ms`: `FEED-2026-12-02T11-58-03-123Z`.
pub fn manual_name(feed: &str, ms: i64) -> String {
    let t = statemachine::eval::Timestamp::from_unix_millis(ms).to_string();
    format!("{feed}-{}", t.replace([':', '.'], "-"))
}

impl Local {
    /// The backend of a project; `worker` runs the Batch jobs (only runs need it).
    pub fn new(project: Project, worker: Option<WorkerProgram>) -> Local {
        let store = ExecutionStore::new(project.state_dir.clone());
        let machines = MachineStore::new(&project.state_dir);
        Local {
            project,
            store,
            machines,
            worker,
            tokens: Arc::new(TaskTokens::new()),
        }
    }

    /// The state machines created through the API (`.feedpipe/machines/`).
    pub fn machines(&self) -> &MachineStore {
        &self.machines
    }

    /// The tokens of the callback tasks this process runs (SendTaskSuccess and the like).
    pub fn tokens(&self) -> &Arc<TaskTokens> {
        &self.tokens
    }

    /// Whether `store` is the feedpipe machine's (failure notifications and feed locks are
    /// the pipeline's only).
    fn is_pipeline(&self, store: &ExecutionStore) -> bool {
        store.root() == self.store.root()
    }

    /// The execution store.
    pub fn store(&self) -> &ExecutionStore {
        &self.store
    }

    /// The project.
    pub fn project(&self) -> &Project {
        &self.project
    }

    /// Marks every RUNNING execution whose process is gone as FAILED (`States.Runtime`), with
    /// the state it was in as resume point. Returns the names marked.
    pub async fn recover(&self) -> Result<Vec<String>, RunsError> {
        self.recover_in(&self.store).await
    }

    /// [`Local::recover`] for the executions of `store`.
    pub async fn recover_in(&self, store: &ExecutionStore) -> Result<Vec<String>, RunsError> {
        let mut marked = Vec::new();
        for d in store.list()? {
            if d.status != ExecutionStatus::Running || store.engine_alive(&d.name)? {
                continue;
            }
            // Hold the engine lock while marking, so two commands do not both mark it.
            let Some(held) = store.lock_engine(&d.name)? else {
                continue;
            };
            let mut d = store.description(&d.name)?;
            if d.status != ExecutionStatus::Running {
                continue;
            }
            let at = d
                .resume
                .as_ref()
                .map(|r| format!(" in state '{}'", r.state))
                .unwrap_or_default();
            let cause = format!(
                "The engine stopped: the feedpipe process{} running this execution ended{at} before it finished. Redrive it to resume: feedpipe redrive {}",
                d.pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
                d.name
            );
            let events = store.events(&d.name)?;
            let last = events.last().map_or(0, |e| e.id);
            let now = SystemClock.now_ms();
            let event = HistoryEvent {
                id: last + 1,
                previous_event_id: last,
                timestamp_ms: now,
                kind: EventType::ExecutionFailed,
                details: EventDetails {
                    error: Some("States.Runtime".into()),
                    cause: Some(cause.clone()),
                    ..EventDetails::default()
                },
            };
            store
                .events_writer(&d.name)?
                .append(&event)
                .map_err(|source| RunsError::Io {
                    path: store.dir(&d.name).join("events.jsonl"),
                    op: "append to",
                    source,
                })?;
            d.status = ExecutionStatus::Failed;
            d.error = Some("States.Runtime".into());
            d.cause = Some(cause);
            d.stop_date_ms = Some(now);
            d.pid = None;
            store.write_description(&d)?;
            drop(held);
            if self.is_pipeline(store) {
                self.notify_failure(&d).await;
            }
            marked.push(d.name);
        }
        Ok(marked)
    }

    /// Announces an execution that ended unsuccessfully, as the EventBridge rule on execution
    /// status changes does in AWS: the `feedpipe-shape` failure notification published to the
    /// configuration's `notify` target. A failure to announce is logged, not returned: the
    /// execution's own status is what counts.
    pub async fn notify_failure(&self, d: &Description) {
        let request = lambdas::shape::ShapeRequest::Failed {
            feed: d.feed.clone().unwrap_or_default(),
            execution: d.name.clone(),
            execution_arn: d.execution_arn.clone(),
            error: d.error.clone(),
            cause: d.cause.clone(),
        };
        let published = match lambdas::shape::shape_notification(request) {
            Ok(n) => {
                let params = json!({
                    "TopicArn": self.project.config.notify,
                    "Subject": n.subject,
                    "Message": n.message,
                    "MessageAttributes": n.attributes,
                });
                integrations::Publisher::new()
                    .publish(&params, "(failure notification)")
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{}: {}", e.error, e.cause.unwrap_or_default()))
            }
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = published {
            tracing::warn!(execution = %d.name, "cannot send the failure notification: {e}");
        }
    }

    /// Starts an execution of `feed` and runs it to its end in this process.
    pub async fn run(
        &self,
        feed: &str,
        name: Option<String>,
        fast_waits: bool,
        watcher: Option<Arc<dyn RunWatcher>>,
    ) -> Result<Description, RunsError> {
        self.recover().await?;
        if self.project.config.feed(feed).is_none() {
            return Err(RunsError::UnknownFeed {
                feed: feed.to_string(),
                origin: self.project.config_file.display().to_string(),
                known: self
                    .project
                    .config
                    .feeds
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let name = name.unwrap_or_else(|| manual_name(feed, SystemClock.now_ms()));
        if !crate::store::is_execution_name(&name) {
            return Err(RunsError::BadName(name));
        }
        let feed_lock = self.store.lock_feed(feed, &name)?;
        self.store.create(&name)?;
        let engine_lock = self
            .store
            .lock_engine(&name)?
            .ok_or_else(|| RunsError::AlreadyExists(name.clone()))?;
        let text = self.project.local_definition();
        self.store.write_definition(&name, &text)?;
        let definition = StateMachine::from_json(&text).map_err(|e| {
            RunsError::Setup(format!("the generated definition does not parse: {e}"))
        })?;
        let start = StartExecution {
            state_machine_name: STATE_MACHINE.into(),
            name: name.clone(),
            input: json!({ "feed": feed }),
            express: false,
        };
        self.drive(
            &self.store,
            Attempt::New(Box::new((definition, start))),
            fast_waits,
            watcher,
            (feed_lock, engine_lock),
        )
        .await
    }

    /// Starts execution `name` of the created state machine `machine` (whose executions are
    /// in `store`) with `definition` and `input`, and runs it to its end in this process.
    pub async fn run_machine(
        &self,
        machine: &str,
        store: &ExecutionStore,
        definition: &str,
        name: &str,
        input: Value,
    ) -> Result<Description, RunsError> {
        if !crate::store::is_execution_name(name) {
            return Err(RunsError::BadName(name.to_string()));
        }
        let parsed = StateMachine::from_json(definition)
            .map_err(|e| RunsError::BadInput(format!("the definition does not parse: {e}")))?;
        store.create(name)?;
        let engine_lock = store
            .lock_engine(name)?
            .ok_or_else(|| RunsError::AlreadyExists(name.to_string()))?;
        store.write_definition(name, definition)?;
        let start = StartExecution {
            state_machine_name: machine.to_string(),
            name: name.to_string(),
            input,
            express: false,
        };
        self.drive(
            store,
            Attempt::New(Box::new((parsed, start))),
            false,
            None,
            (None::<Held>, engine_lock),
        )
        .await
    }

    /// Runs an EXPRESS execution of `machine` to its end, in memory (as Step Functions keeps
    /// no history of express executions: their record is the answer). `started` gets the
    /// execution's ARN as it starts.
    pub async fn run_express(
        &self,
        machine: &str,
        definition: &str,
        name: &str,
        input: Value,
        started: impl FnOnce(&str),
    ) -> Result<ExecutionRecord, RunsError> {
        let parsed = StateMachine::from_json(definition)
            .map_err(|e| RunsError::BadInput(format!("the definition does not parse: {e}")))?;
        let start = StartExecution {
            state_machine_name: machine.to_string(),
            name: name.to_string(),
            input,
            express: true,
        };
        let integrations = self
            .integrations(&self.machines.executions(machine), None)
            .await?;
        let clock = SystemClock;
        let random = SeededRandom::new(RandomState::new().hash_one(clock.now_ms()));
        let engine = Engine::new(&clock, &random, &integrations);
        let execution = engine.execution(parsed, start);
        started(&execution.snapshot().execution_arn);
        Ok(execution.run().await)
    }

    /// Redrives a FAILED, TIMED_OUT or ABORTED execution from the state that did not finish,
    /// in this process, to its new end.
    pub async fn redrive(
        &self,
        name: &str,
        watcher: Option<Arc<dyn RunWatcher>>,
    ) -> Result<Description, RunsError> {
        self.redrive_in(&self.store, name, watcher).await
    }

    /// [`Local::redrive`] for an execution of `store`.
    pub async fn redrive_in(
        &self,
        store: &ExecutionStore,
        name: &str,
        watcher: Option<Arc<dyn RunWatcher>>,
    ) -> Result<Description, RunsError> {
        self.recover_in(store).await?;
        let d = store.description(name)?;
        if !d.status.is_redrivable() {
            return Err(RunsError::NotRedrivable(format!(
                "execution {name:?} is {}: only FAILED, TIMED_OUT or ABORTED executions can be redriven",
                d.status.as_str()
            )));
        }
        if d.resume.is_none() {
            return Err(RunsError::NotRedrivable(format!(
                "execution {name:?} has no state to resume from (it failed before any state ran, or its history is full)"
            )));
        }
        let feed_lock = match &d.feed {
            Some(feed) if self.is_pipeline(store) => Some(store.lock_feed(feed, name)?),
            _ => None,
        };
        let engine_lock = store.lock_engine(name)?.ok_or_else(|| {
            RunsError::NotRedrivable(format!("execution {name:?} is being redriven already"))
        })?;
        let record = store.record(name)?;
        self.drive(
            store,
            Attempt::Redrive(Box::new(record)),
            d.fast_waits,
            watcher,
            (feed_lock, engine_lock),
        )
        .await
    }

    /// Asks the process running `name` to stop it (ABORTED, redrivable) and waits until it has.
    pub async fn stop(
        &self,
        name: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<Description, RunsError> {
        self.stop_in(&self.store, name, error, cause).await
    }

    /// [`Local::stop`] for an execution of `store`.
    pub async fn stop_in(
        &self,
        store: &ExecutionStore,
        name: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<Description, RunsError> {
        self.recover_in(store).await?;
        let d = store.description(name)?;
        if d.status != ExecutionStatus::Running {
            return Err(RunsError::NotRunning {
                name: name.to_string(),
                status: d.status.as_str(),
            });
        }
        store.request_stop(name, error, cause)?;
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.recover_in(store).await?;
            let d = store.description(name)?;
            if d.status != ExecutionStatus::Running {
                return Ok(d);
            }
        }
    }

    /// The local integrations, Batch job logs going to `store`'s `logs/`.
    async fn integrations(
        &self,
        store: &ExecutionStore,
        watcher: Option<Arc<dyn RunWatcher>>,
    ) -> Result<statemachine::engine::Integrations, RunsError> {
        let worker = self
            .worker
            .clone()
            .ok_or_else(|| RunsError::Setup("no worker program to run Batch jobs".into()))?;
        let context = lambdas::Context::new(self.project.config.clone())
            .await
            .map_err(|e| RunsError::Setup(format!("cannot open the store: {}", e.message)))?;
        let batch = Arc::new(BatchJobs::new(
            worker,
            store.root().join("logs"),
            self.project.job_definitions(),
            watcher.map(|w| Arc::new(JobsTo(w)) as Arc<dyn JobWatcher>),
        ));
        Ok(integrations::integrations(
            batch,
            Arc::new(integrations::LocalLambdas::new(context)),
            Arc::new(integrations::Publisher::new()),
            self.tokens.clone(),
        ))
    }

    async fn drive(
        &self,
        store: &ExecutionStore,
        attempt: Attempt,
        fast_waits: bool,
        watcher: Option<Arc<dyn RunWatcher>>,
        _locks: (impl Sized, Held),
    ) -> Result<Description, RunsError> {
        let name = match &attempt {
            Attempt::New(new) => new.1.name.clone(),
            Attempt::Redrive(r) => r.name.clone(),
        };
        store.clear_stop(&name);
        let integrations = self.integrations(store, watcher.clone()).await?;
        let clock: Box<dyn Clock> = if fast_waits {
            Box::new(FastWaits::new())
        } else {
            Box::new(SystemClock)
        };
        let random = SeededRandom::new(RandomState::new().hash_one(clock.now_ms()));
        let observer = FileObserver {
            store,
            writer: Mutex::new(store.events_writer(&name)?),
            description: Mutex::new(None),
            watcher,
            failed: Mutex::new(None),
        };
        let mut engine = Engine::new(clock.as_ref(), &random, &integrations);
        engine.observer = Some(&observer);
        let execution = match attempt {
            Attempt::New(new) => {
                let (definition, start) = *new;
                engine.execution(definition, start)
            }
            Attempt::Redrive(record) => engine
                .resume(*record)
                .map_err(|e| RunsError::NotRedrivable(e.to_string()))?,
        };
        let mut d = Description::of(&execution.snapshot());
        d.pid = Some(std::process::id());
        d.fast_waits = fast_waits;
        store.write_description(&d)?;
        *lock(&observer.description) = Some(d);

        let run = execution.run();
        tokio::pin!(run);
        let mut poll = tokio::time::interval(Duration::from_millis(200));
        let interrupted = tokio::signal::ctrl_c();
        tokio::pin!(interrupted);
        let mut stopping = false;
        let record = loop {
            tokio::select! {
                record = &mut run => break record,
                _ = poll.tick(), if !stopping => {
                    if let Some((error, cause)) = store.stop_requested(&name) {
                        stopping = true;
                        execution.abort(error, cause);
                    }
                }
                _ = &mut interrupted, if !stopping => {
                    stopping = true;
                    execution.abort(
                        Some("Feedpipe.Interrupted".into()),
                        Some("feedpipe was interrupted (SIGINT); redrive the execution to resume".into()),
                    );
                }
            }
        };
        let mut d = Description::of(&record);
        d.fast_waits = fast_waits;
        store.write_description(&d)?;
        store.clear_stop(&name);
        if d.status != ExecutionStatus::Succeeded && self.is_pipeline(store) {
            self.notify_failure(&d).await;
        }
        if let Some(e) = lock(&observer.failed).take() {
            return Err(RunsError::Setup(format!(
                "the execution ran, but its history could not be kept: {e}"
            )));
        }
        Ok(d)
    }

    /// Follows an execution: calls `each` for every history event from the `from`-th on, until
    /// the execution is no longer RUNNING; returns its description then.
    pub async fn follow(
        &self,
        name: &str,
        mut each: impl FnMut(&HistoryEvent),
    ) -> Result<Description, RunsError> {
        let mut offset = 0;
        loop {
            self.recover().await?;
            let d = self.store.description(name)?;
            let mut events = Vec::new();
            offset = self.store.events_from(name, offset, &mut events)?;
            events.iter().for_each(&mut each);
            if d.status != ExecutionStatus::Running && events.is_empty() {
                return Ok(d);
            }
            if events.is_empty() {
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        }
    }
}

enum Attempt {
    New(Box<(StateMachine, StartExecution)>),
    Redrive(Box<ExecutionRecord>),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Job events to a run watcher.
struct JobsTo(Arc<dyn RunWatcher>);

impl JobWatcher for JobsTo {
    fn job(&self, event: JobEvent) {
        self.0.job(event);
    }
}

/// Keeps an execution on disk as it runs: each event appended to `events.jsonl`, the resume
/// point in `description.json`.
struct FileObserver<'s> {
    store: &'s ExecutionStore,
    writer: Mutex<EventsWriter>,
    description: Mutex<Option<Description>>,
    watcher: Option<Arc<dyn RunWatcher>>,
    failed: Mutex<Option<String>>,
}

impl Observer for FileObserver<'_> {
    fn event(&self, event: &HistoryEvent) {
        if let Err(e) = lock(&self.writer).append(event) {
            lock(&self.failed).get_or_insert_with(|| e.to_string());
        }
        if let Some(w) = &self.watcher {
            w.event(event);
        }
    }

    fn progress(&self, resume: &ResumePoint) {
        let mut d = lock(&self.description);
        if let Some(d) = d.as_mut() {
            d.resume = Some(resume.clone());
            if let Err(e) = self.store.write_description(d) {
                lock(&self.failed).get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// The execution input's feed, if it names one.
pub fn input_feed(input: &Value) -> Option<&str> {
    input.get("feed").and_then(Value::as_str)
}
