//! The interpreter core: one execution attempt ([`Run`]), the scopes states run in ([`Frame`],
//! with their variables), the state loop ([`Run::run_graph`]) and the per-state plumbing every
//! state type shares (entering, exiting, turning evaluation errors into failures).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use serde_json::{json, Map, Value};

use super::clock::{lock, BoxFuture};
use super::execution::AbortSignal;
use super::failure::Failure;
use super::history::{EventDetails, EventType, HistoryFull, Recorder};
use super::integration::Resource;
use super::join::{race, Either};
use super::record::ResumePoint;
use super::retry::Work;
use super::test_state::TestMode;
use super::Engine;
use crate::asl::{QueryLanguage, State};
use crate::eval::{self, EvalError, Scope, Timestamp};

/// Facts about the execution that the context object (`$$.Execution`, `$$.StateMachine`) shows.
#[derive(Debug, Clone)]
pub(crate) struct ExecInfo {
    pub arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub role_arn: String,
    pub start_ms: i64,
    pub redrive_count: u32,
    pub input: Value,
    /// An EXPRESS execution (`$$.Execution` has no `RedriveCount`).
    pub express: bool,
}

/// One attempt of one execution (the first run, or a redrive).
pub(crate) struct Run<'e> {
    pub engine: &'e Engine<'e>,
    pub exec: ExecInfo,
    /// When the execution times out (machine `TimeoutSeconds`), epoch ms.
    pub deadline_ms: Option<i64>,
    /// Per state (by address): does it read the context object?
    uses_context: Mutex<HashMap<usize, bool>>,
    /// Set when running the TestState API.
    pub test: Option<TestMode>,
    /// Stops the execution from outside.
    pub abort: Option<&'e AbortSignal>,
}

/// The state the top-level thread is in, with its input (shared, not copied) and variables:
/// the point a redrive would resume from if the run ended now.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    pub state: String,
    pub input: Arc<Value>,
    pub variables: Map<String, Value>,
}

impl Progress {
    /// As a [`ResumePoint`] (copies the input).
    pub(crate) fn point(&self) -> ResumePoint {
        ResumePoint {
            state: self.state.clone(),
            input: (*self.input).clone(),
            variables: self.variables.clone(),
            children: None,
        }
    }
}

/// Variables of one scope over those of the scopes around it (read-only from inside).
#[derive(Debug, Default)]
pub(crate) struct Vars<'p> {
    pub own: Map<String, Value>,
    pub outer: Option<&'p Vars<'p>>,
}

impl eval::Variables for Vars<'_> {
    fn get_var(&self, name: &str) -> Option<&Value> {
        self.own
            .get(name)
            .or_else(|| self.outer.and_then(|o| o.get_var(name)))
    }
}

/// A thread of control: the machine itself, a Parallel branch or a Map iteration.
pub(crate) struct Frame<'p> {
    /// The scope's variables.
    pub vars: Vars<'p>,
    /// The last event this thread wrote (the next event's `previousEventId`).
    pub prev: u64,
    /// The query language of states that do not set one.
    pub lang: QueryLanguage,
    /// The history this thread writes to.
    pub history: &'p Recorder<'p>,
    /// Where the top-level thread publishes the state it is in (for a record saved mid-run).
    pub progress: Option<&'p Mutex<Option<Progress>>>,
    /// Where a Map iteration or Parallel branch shows the event that would say its current
    /// state was stopped (`TaskStateAborted`, ...), should its Map or Parallel stop it.
    pub current: Option<&'p Mutex<Option<EventType>>>,
}

impl<'p> Frame<'p> {
    /// The frame of a Parallel branch or Map iteration: its own variables (those a redrive
    /// restores, else none) over the parent's, read-only.
    pub(crate) fn child(
        parent_vars: &'p Vars<'p>,
        prev: u64,
        lang: QueryLanguage,
        history: &'p Recorder<'p>,
        resume: Option<&ResumePoint>,
    ) -> Frame<'p> {
        Frame {
            vars: Vars {
                own: resume.map(|r| r.variables.clone()).unwrap_or_default(),
                outer: Some(parent_vars),
            },
            prev,
            lang,
            history,
            progress: None,
            current: None,
        }
    }
}

/// The children of a Map or Parallel state that are running, each with the cell its frame
/// keeps the abort event of its current state in ([`Frame::current`]).
#[derive(Default)]
pub(crate) struct Running(Mutex<BTreeMap<usize, Arc<Mutex<Option<EventType>>>>>);

impl Running {
    /// Child `index` starts; its frame's cell.
    pub(crate) fn enter(&self, index: usize) -> Arc<Mutex<Option<EventType>>> {
        let cell = Arc::new(Mutex::new(None));
        lock(&self.0).insert(index, cell.clone());
        cell
    }

    /// Child `index` ended.
    pub(crate) fn leave(&self, index: usize) {
        lock(&self.0).remove(&index);
    }

    /// The children still running when their parent stopped them, in index order, each with
    /// the event that says its current state was stopped.
    pub(crate) fn stopped(&self) -> Vec<(usize, Option<EventType>)> {
        lock(&self.0)
            .iter()
            .map(|(&i, cell)| (i, *lock(cell)))
            .collect()
    }
}

/// The resume point of child `index` in a redrive's list, if it is to resume.
pub(crate) fn child_resume(
    children: Option<&[super::record::ChildResume]>,
    index: usize,
) -> Option<&ResumePoint> {
    match children.and_then(|c| c.get(index)) {
        Some(super::record::ChildResume::Resume(rp)) => Some(rp),
        _ => None,
    }
}

/// Where a state leaves to.
#[derive(Debug)]
pub(crate) enum Step {
    /// To this state with this input.
    Next(String, Value),
    /// The scope ends with this output.
    End(Value),
}

/// A state being run: its name, definition, entered event and language.
pub(crate) struct Here<'a> {
    pub name: &'a str,
    pub state: &'a State,
    pub entered_id: u64,
    /// The `previousEventId` of the entered event.
    pub entered_prev: u64,
    pub entered_ms: i64,
    pub lang: QueryLanguage,
}

impl<'e> Run<'e> {
    pub(crate) fn new(engine: &'e Engine<'e>, exec: ExecInfo, deadline_ms: Option<i64>) -> Run<'e> {
        Run {
            engine,
            exec,
            deadline_ms,
            uses_context: Mutex::new(HashMap::new()),
            test: None,
            abort: None,
        }
    }

    /// Runs the states of one scope from `start` (or from `resume`) to the scope's end.
    pub(crate) fn run_graph<'a, 'p: 'a>(
        &'a self,
        states: &'a IndexMap<String, State>,
        start: &'a str,
        input: Value,
        frame: &'a mut Frame<'p>,
        resume: Option<&'a ResumePoint>,
    ) -> BoxFuture<'a, Result<Value, Failure>> {
        Box::pin(async move {
            let mut name = start.to_string();
            // Shared with the published progress, which then costs no copy of the input.
            let mut input = Arc::new(input);
            let mut resume = resume;
            loop {
                self.check_deadline()?;
                let Some(state) = states.get(&name) else {
                    return Err(Failure::runtime(format!(
                        "The state '{name}' does not exist in its scope."
                    )));
                };
                if let Some(c) = frame.current {
                    *lock(c) = aborted_event(state);
                }
                if let Some(p) = frame.progress {
                    let progress = Progress {
                        state: name.clone(),
                        input: input.clone(),
                        variables: frame.vars.own.clone(),
                    };
                    if let Some(observer) = self.engine.observer {
                        observer.progress(&progress.point());
                    }
                    *lock(p) = Some(progress);
                }
                let step = self
                    .run_state(&name, state, &input, frame, resume.take())
                    .await;
                match step {
                    Ok(Step::Next(next, output)) => {
                        name = next;
                        input = Arc::new(output);
                    }
                    Ok(Step::End(output)) => return Ok(output),
                    Err(mut failure) => {
                        if failure.resume.is_none() && !failure.history_full {
                            failure.resume = Some(Box::new(ResumePoint {
                                state: name.clone(),
                                input: Arc::try_unwrap(input).unwrap_or_else(|a| (*a).clone()),
                                variables: frame.vars.own.clone(),
                                children: failure.children.take(),
                            }));
                        }
                        return Err(failure);
                    }
                }
            }
        })
    }

    /// Enters a state and runs it by type.
    pub(crate) async fn run_state(
        &self,
        name: &str,
        state: &State,
        input: &Value,
        frame: &mut Frame<'_>,
        resume: Option<&ResumePoint>,
    ) -> Result<Step, Failure> {
        let lang = state.query_language().unwrap_or(frame.lang);
        let entered_ms = self.engine.clock.now_ms();
        let entered_prev = frame.prev;
        // The input's text for the history, written once and shared with the previous event
        // when equal; an input over the limits is shown (as far as it can be) and then fails.
        let (text, fits) = if eval::exceeds_depth(input, eval::MAX_PAYLOAD_DEPTH) {
            (None, Err(eval::too_deep(name)))
        } else {
            let text = frame.history.text(input);
            let fits = match text.len() > eval::PAYLOAD_LIMIT_BYTES {
                true => Err(eval::too_large(name)),
                false => Ok(()),
            };
            (Some(text), fits)
        };
        let entered_id = self.event(
            frame,
            EventType::entered(state.type_name()),
            EventDetails {
                name: Some(name.to_string()),
                input: text,
                ..EventDetails::default()
            },
        )?;
        let here = Here {
            name,
            state,
            entered_id,
            entered_prev,
            entered_ms,
            lang,
        };
        if let Err(e) = fits {
            return Err(self.eval_failure(e, &here, frame));
        }
        match state {
            State::Pass(s) => self.pass(&here, s, input, frame).await,
            State::Choice(s) => self.choice(&here, s, input, frame).await,
            State::Wait(s) => self.wait(&here, s, input, frame).await,
            State::Succeed(s) => self.succeed(&here, s, input, frame).await,
            State::Fail(s) => self.fail(&here, s, input, frame).await,
            State::Task(s) => {
                let work = Work::Task(s, Resource::parse(&s.resource));
                self.with_recovery(&here, work, input, frame, resume).await
            }
            State::Parallel(s) => {
                let work = Work::Parallel(s);
                self.with_recovery(&here, work, input, frame, resume).await
            }
            State::Map(s) => match s.processor() {
                Some(p) => {
                    let work = Work::Map(s, p);
                    self.with_recovery(&here, work, input, frame, resume).await
                }
                None => Err(Failure::runtime("The Map state has no ItemProcessor.")),
            },
        }
    }

    /// Writes an event after the frame's last one and makes it the frame's last.
    pub(crate) fn event(
        &self,
        frame: &mut Frame<'_>,
        kind: EventType,
        details: EventDetails,
    ) -> Result<u64, Failure> {
        let id = frame
            .history
            .push(frame.prev, kind, details)
            .map_err(|HistoryFull| Failure::history_full())?;
        frame.prev = id;
        Ok(id)
    }

    /// Writes an event after the frame's last one without making it the frame's last: the next
    /// event follows from the same one (AWS writes `MapIterationSucceeded`, `MapStateSucceeded`,
    /// `ParallelStateSucceeded` and abort events this way).
    pub(crate) fn event_aside(
        &self,
        frame: &Frame<'_>,
        kind: EventType,
        details: EventDetails,
    ) -> Result<u64, Failure> {
        frame
            .history
            .push(frame.prev, kind, details)
            .map_err(|HistoryFull| Failure::history_full())
    }

    /// Writes the state's exited event and returns where to go.
    pub(crate) fn exit(
        &self,
        here: &Here<'_>,
        frame: &mut Frame<'_>,
        output: Value,
        assigned: Option<Map<String, Value>>,
        next: Option<&str>,
    ) -> Result<Step, Failure> {
        // The output's text: a recent one when equal (a state that passes its input on), else
        // written once, and only up to the size limit.
        let text = if eval::exceeds_depth(&output, eval::MAX_PAYLOAD_DEPTH) {
            Err(eval::too_deep(here.name))
        } else {
            match frame.history.recent_match(&output) {
                Some(t) if t.len() > eval::PAYLOAD_LIMIT_BYTES => Err(eval::too_large(here.name)),
                Some(t) => Ok(t),
                None => eval::payload_text(&output, here.name).map(|t| frame.history.share(t)),
            }
        };
        let text = match text {
            Ok(text) => text,
            Err(e) => {
                eval::drop_deep(output);
                return Err(self.eval_failure(e, here, frame));
            }
        };
        let assigned = assigned.filter(|a| !a.is_empty());
        let mut texts = None;
        if let Some(vars) = assigned {
            if vars
                .values()
                .any(|v| eval::exceeds_depth(v, eval::MAX_PAYLOAD_DEPTH))
            {
                vars.into_iter().for_each(|(_, v)| eval::drop_deep(v));
                return Err(self.eval_failure(eval::too_deep(here.name), here, frame));
            }
            let mut list = Vec::with_capacity(vars.len());
            for (k, v) in vars {
                list.push((k.clone(), frame.history.text(&v)));
                frame.vars.own.insert(k, v);
            }
            texts = Some(list);
        }
        self.event(
            frame,
            EventType::exited(here.state.type_name()),
            EventDetails {
                name: Some(here.name.to_string()),
                output: Some(text),
                assigned_variables: texts,
                ..EventDetails::default()
            },
        )?;
        Ok(match next {
            Some(n) => Step::Next(n.to_string(), output),
            None => Step::End(output),
        })
    }

    /// Turns an evaluation error in state `here` into a failure, writing `EvaluationFailed` for
    /// the errors AWS records that way (JSONata evaluation errors). AWS links that event to the
    /// event the state was entered from (to the entered event itself for a Wait state, whose
    /// fields are evaluated once it is entered).
    pub(crate) fn eval_failure(
        &self,
        err: EvalError,
        here: &Here<'_>,
        frame: &mut Frame<'_>,
    ) -> Failure {
        let cause = err.cause_in_state(here.name, here.entered_id);
        if err.kind == eval::ErrorKind::QueryEvaluationError {
            let details = EventDetails {
                error: Some(err.error().to_string()),
                cause: Some(cause.clone()),
                location: err.location.clone(),
                state: Some(here.name.to_string()),
                ..EventDetails::default()
            };
            if !matches!(here.state, State::Wait(_)) {
                frame.prev = here.entered_prev;
            }
            if let Err(f) = self.event(frame, EventType::EvaluationFailed, details) {
                return f;
            }
        }
        Failure::new(Some(err.error().to_string()), Some(cause))
    }

    /// The context object as the state `here` sees it (only built when the state reads it).
    pub(crate) fn context(&self, here: &Here<'_>, extra: ContextExtra<'_>) -> Value {
        if !self.uses_context(here.state) {
            return Value::Null;
        }
        if let Some(mut ctx) = self.test_context(here, extra.retry_count) {
            if let (Some(token), Some(m)) = (extra.task_token, ctx.as_object_mut()) {
                m.entry("Task").or_insert_with(|| json!({ "Token": token }));
            }
            return ctx;
        }
        let mut state = Map::new();
        state.insert("Name".into(), Value::from(here.name));
        state.insert(
            "EnteredTime".into(),
            Value::from(Timestamp::from_unix_millis(here.entered_ms).to_string()),
        );
        if let Some(n) = extra.retry_count {
            state.insert("RetryCount".into(), Value::from(n));
        }
        let mut execution = json!({
            "Id": self.exec.arn,
            "Input": self.exec.input,
            "StartTime": Timestamp::from_unix_millis(self.exec.start_ms).to_string(),
            "Name": self.exec.name,
            "RoleArn": self.exec.role_arn,
        });
        if !self.exec.express {
            execution["RedriveCount"] = json!(self.exec.redrive_count);
        }
        let mut ctx = json!({
            "Execution": execution,
            "StateMachine": {
                "Id": self.exec.state_machine_arn,
                "Name": self.exec.state_machine_name,
            },
            "State": state,
        });
        if let Some(token) = extra.task_token {
            ctx["Task"] = json!({ "Token": token });
        }
        ctx
    }

    fn uses_context(&self, state: &State) -> bool {
        let key = state as *const State as usize;
        if let Some(&b) = lock(&self.uses_context).get(&key) {
            return b;
        }
        let text = serde_json::to_string(state).unwrap_or_default();
        let b = text.contains("$$") || text.contains("$states");
        lock(&self.uses_context).insert(key, b);
        b
    }

    /// A scope for evaluating fields of the state.
    pub(crate) fn scope<'a>(
        &'a self,
        input: &'a Value,
        context: &'a Value,
        frame: &'a Frame<'_>,
    ) -> Scope<'a> {
        Scope::new(input, context, &frame.vars, self.engine.random)
    }

    /// Fails once the execution's deadline has passed or it was aborted.
    pub(crate) fn check_deadline(&self) -> Result<(), Failure> {
        if let Some((error, cause)) = self.abort.and_then(AbortSignal::reason) {
            return Err(Failure::aborted(error, cause));
        }
        match self.deadline_ms {
            Some(d) if self.engine.clock.now_ms() >= d => Err(Failure::execution_timed_out()),
            _ => Ok(()),
        }
    }

    /// Waits (a Wait state, a Retry's backoff) until `until_ms` on `Clock::wait_until`, or
    /// fails when the execution times out or is aborted first.
    pub(crate) async fn wait_until(&self, until_ms: i64) -> Result<(), Failure> {
        self.guard(self.engine.clock.wait_until(until_ms)).await
    }

    /// Awaits `fut`, or fails when the execution times out or is aborted first.
    pub(crate) async fn guard<T>(
        &self,
        fut: impl std::future::Future<Output = T>,
    ) -> Result<T, Failure> {
        let timeout = async {
            match self.deadline_ms {
                Some(d) => {
                    self.engine.clock.sleep_until(d).await;
                    Failure::execution_timed_out()
                }
                None => std::future::pending().await,
            }
        };
        let abort = async {
            match self.abort {
                Some(a) => {
                    let (error, cause) = a.wait().await;
                    Failure::aborted(error, cause)
                }
                None => std::future::pending().await,
            }
        };
        match race(fut, race(timeout, abort)).await {
            Either::Left(x) => Ok(x),
            Either::Right(Either::Left(f) | Either::Right(f)) => Err(f),
        }
    }
}

/// Parts of the context object that only some fields see.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ContextExtra<'a> {
    /// `$$.State.RetryCount` (states with Retry).
    pub retry_count: Option<u32>,
    /// `$$.Task.Token`.
    pub task_token: Option<&'a str>,
}

impl ContextExtra<'_> {
    /// `$$.State.RetryCount` only.
    pub(crate) fn retries(n: u32) -> Self {
        ContextExtra {
            retry_count: Some(n),
            task_token: None,
        }
    }
}

/// The state's `Next`, or `None` at `End`.
pub(crate) fn next_of(state: &State) -> Option<&str> {
    match state.transition() {
        crate::asl::Transition::Next(n) => Some(n),
        _ => None,
    }
}

/// The event AWS writes when a state of this type is stopped while it runs (states that never
/// wait are never stopped).
fn aborted_event(state: &State) -> Option<EventType> {
    match state {
        State::Task(_) => Some(EventType::TaskStateAborted),
        State::Wait(_) => Some(EventType::WaitStateAborted),
        State::Map(_) => Some(EventType::MapStateAborted),
        State::Parallel(_) => Some(EventType::ParallelStateAborted),
        _ => None,
    }
}
