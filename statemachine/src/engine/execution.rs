//! One execution attempt in progress: [`Execution::run`] drives it to its end, and
//! [`Execution::snapshot`] shows the record so far (status RUNNING, the history written until
//! now) while it runs or after the run was stopped from outside.

use std::sync::Mutex;
use std::task::{Poll, Waker};

use serde_json::Value;

use super::clock::lock;
use super::failure::Failure;
use super::history::{EventDetails, EventType, Recorder};
use super::record::{ExecutionRecord, ExecutionStatus};
use super::run::{ExecInfo, Frame, Progress, Run, Vars};
use super::Engine;
use crate::asl::QueryLanguage;

/// An execution (new or redriven) and its history as it is being written.
pub struct Execution<'e> {
    engine: &'e Engine<'e>,
    record: Mutex<ExecutionRecord>,
    history: Recorder<'e>,
    opening: Mutex<Option<(EventType, EventDetails)>>,
    abort: AbortSignal,
    progress: Mutex<Option<Progress>>,
}

/// A request to stop an execution from outside, and the wakers of the waits it interrupts.
#[derive(Debug, Default)]
pub(crate) struct AbortSignal {
    state: Mutex<(Option<Reason>, Vec<Waker>)>,
}

type Reason = (Option<String>, Option<String>);

impl AbortSignal {
    fn abort(&self, reason: Reason) {
        let wakers = {
            let mut s = lock(&self.state);
            s.0.get_or_insert(reason);
            std::mem::take(&mut s.1)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// The error and cause, once aborted.
    pub(crate) fn reason(&self) -> Option<Reason> {
        lock(&self.state).0.clone()
    }

    /// Completes with the error and cause when the execution is aborted.
    pub(crate) async fn wait(&self) -> Reason {
        std::future::poll_fn(|cx| {
            let mut s = lock(&self.state);
            match &s.0 {
                Some(r) => Poll::Ready(r.clone()),
                None => {
                    s.1.push(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

impl<'e> Execution<'e> {
    pub(crate) fn new(
        engine: &'e Engine<'e>,
        mut record: ExecutionRecord,
        opening: EventType,
        mut details: EventDetails,
    ) -> Execution<'e> {
        let history = Recorder::new(
            engine.clock,
            engine.options.history_limit,
            std::mem::take(&mut record.history),
        )
        .observed(engine.observer);
        // The first state's input is usually the execution's: one string for both.
        details.input = details.input.map(|t| history.remember(t));
        Execution {
            engine,
            record: Mutex::new(record),
            history,
            opening: Mutex::new(Some((opening, details))),
            abort: AbortSignal::default(),
            progress: Mutex::new(None),
        }
    }

    /// Stops the execution as `StopExecution` does: the run ends at its next wait or state
    /// with status ABORTED (an `ExecutionAborted` event), and it can be redriven from the state
    /// it was in.
    pub fn abort(&self, error: Option<String>, cause: Option<String>) {
        self.abort.abort((error, cause));
    }

    /// The record as it stands while it runs (status RUNNING, the history so far), or as it
    /// was left when a run was stopped from outside. After [`Execution::run`] returned, the
    /// history belongs to the record it returned and this shows the record without it.
    pub fn snapshot(&self) -> ExecutionRecord {
        let mut r = lock(&self.record).clone();
        r.history = self.history.events();
        if r.status == ExecutionStatus::Running {
            // Where a redrive would resume if this run ended now (e.g. its process died).
            r.resume = lock(&self.progress).as_ref().map(Progress::point);
        }
        r
    }

    /// Runs the attempt to its end and returns the finished record (running it a second time
    /// returns the record without history).
    pub async fn run(&self) -> ExecutionRecord {
        let Some((opening, details)) = lock(&self.opening).take() else {
            return self.snapshot();
        };
        let (definition, input, resume, exec) = {
            let mut r = lock(&self.record);
            // An input StartExecution would have refused ends the execution before any state
            // runs, without copies of it (callers should refuse it first: `check_start_input`).
            if opening == EventType::ExecutionStarted {
                if let Err(e) = super::check_start_input(&r.input) {
                    drop(r);
                    let failure = Failure::new(
                        Some(crate::eval::ErrorKind::DataLimitExceeded.name().into()),
                        Some(e.to_string()),
                    );
                    let outcome = match self.history.push(0, opening, details) {
                        Err(_) => Err(Failure::history_full()),
                        Ok(_) => Err(failure),
                    };
                    return self.close(1, outcome);
                }
            }
            let exec = ExecInfo {
                arn: r.execution_arn.clone(),
                name: r.name.clone(),
                state_machine_arn: r.state_machine_arn.clone(),
                state_machine_name: r
                    .state_machine_arn
                    .rsplit(':')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                role_arn: self.engine.options.role_arn.clone(),
                start_ms: r.start_date_ms,
                redrive_count: r.redrive_count,
                input: r.input.clone(),
                express: r.execution_arn.contains(":express:"),
            };
            (r.definition.clone(), r.input.clone(), r.resume.take(), exec)
        };
        let clock = self.engine.clock;
        let deadline = definition
            .timeout_seconds
            .map(|t| clock.now_ms().saturating_add(t.saturating_mul(1000) as i64));
        let mut run = Run::new(self.engine, exec, deadline);
        run.abort = Some(&self.abort);
        let mut frame = Frame {
            vars: Vars {
                own: resume
                    .as_ref()
                    .map(|r| r.variables.clone())
                    .unwrap_or_default(),
                outer: None,
            },
            prev: 0,
            lang: definition.query_language.unwrap_or(QueryLanguage::JsonPath),
            history: &self.history,
            progress: Some(&self.progress),
            current: None,
        };
        let outcome = match self.history.push(0, opening, details) {
            Err(_) => Err(Failure::history_full()),
            Ok(_) => {
                let (start, input) = match &resume {
                    Some(r) => (r.state.as_str(), r.input.clone()),
                    None => (definition.start_at.as_str(), input),
                };
                run.run_graph(
                    &definition.states,
                    start,
                    input,
                    &mut frame,
                    resume.as_ref(),
                )
                .await
            }
        };
        let prev = frame.prev;
        self.close(prev, outcome)
    }

    /// Ends the attempt (closing event, status) and returns the finished record.
    fn close(&self, prev: u64, outcome: Result<Value, Failure>) -> ExecutionRecord {
        self.finish(prev, outcome);
        let mut r = lock(&self.record);
        r.stop_date_ms = Some(self.engine.clock.now_ms());
        let mut record = r.clone();
        record.history = self.history.take_events();
        record
    }

    /// Writes the closing event and sets status, output, error and cause.
    fn finish(&self, prev: u64, outcome: Result<Value, Failure>) {
        let outcome = outcome.and_then(|out| match crate::eval::check_payload_size(&out, "") {
            Ok(()) => Ok(out),
            Err(e) => Err(Failure::new(Some(e.error().into()), Some(e.cause))),
        });
        let mut record = lock(&self.record);
        match outcome {
            Ok(output) => {
                let d = EventDetails {
                    output: Some(self.history.text(&output)),
                    ..EventDetails::default()
                };
                match self.history.push(prev, EventType::ExecutionSucceeded, d) {
                    Ok(_) => {
                        record.status = ExecutionStatus::Succeeded;
                        record.output = Some(output);
                    }
                    Err(_) => fail(
                        &mut record,
                        &Failure::history_full(),
                        ExecutionStatus::Failed,
                    ),
                }
            }
            Err(f) if f.history_full => fail(&mut record, &f, ExecutionStatus::Failed),
            Err(f) => {
                let (kind, status) = if f.timed_out {
                    (EventType::ExecutionTimedOut, ExecutionStatus::TimedOut)
                } else if f.aborted {
                    (EventType::ExecutionAborted, ExecutionStatus::Aborted)
                } else {
                    (EventType::ExecutionFailed, ExecutionStatus::Failed)
                };
                let d = EventDetails {
                    error: f.error.clone(),
                    cause: f.cause.clone(),
                    ..EventDetails::default()
                };
                let _ = self.history.push(prev, kind, d);
                fail(&mut record, &f, status);
            }
        }
    }
}

fn fail(record: &mut ExecutionRecord, f: &Failure, status: ExecutionStatus) {
    record.status = status;
    record.error = f.error.clone();
    record.cause = f.cause.clone();
    record.output = None;
    record.resume = if f.history_full {
        None
    } else {
        f.resume.as_deref().cloned()
    };
}
