//! The Map state: items (ItemsPath / Items), each item's input (ItemSelector, with
//! `$$.Map.Item`), iterations run at most MaxConcurrency at once with `MapIteration*` events
//! (inline) or as child executions behind `MapRun*` events (distributed; with an ItemBatcher each
//! child gets a batch of items), failure tolerance (ToleratedFailureCount/Percentage, counted in
//! items), then ResultSelector → ResultPath → OutputPath or Output,
//! with Retry and Catch. A redrive reruns only the iterations that did not succeed.

use std::ops::ControlFlow;
use std::sync::Mutex;

use serde_json::Value;

use super::clock::lock;
use super::failure::Failure;
use super::history::{EventDetails, EventType, Recorder};
use super::join::{boxed, run_limited};
use super::map_run::{ChildRun, MapRun};
use super::record::ChildResume;
use super::run::{child_resume, next_of, ContextExtra, Frame, Here, Run, Running, Step};
use super::test_state::Mock;
use crate::asl::{ItemProcessor, MapState, QueryLanguage};
use crate::eval::{
    apply_input_path, evaluate_payload, map_items, map_limits, EvalError, MapLimits,
};

/// The error of a Map whose failed iterations exceed its tolerance.
const EXCEEDED: (&str, &str) = (
    "States.ExceedToleratedFailureThreshold",
    "The specified tolerated failure threshold was exceeded",
);

impl Run<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn map_attempt(
        &self,
        here: &Here<'_>,
        s: &MapState,
        processor: &ItemProcessor,
        input: &Value,
        frame: &mut Frame<'_>,
        retry_count: u32,
        resume: Option<&[ChildResume]>,
    ) -> Result<Step, Failure> {
        let ctx = self.context(here, ContextExtra::retries(retry_count));
        // MaxConcurrency is checked before MapStateStarted, the tolerances after it.
        let limits = {
            let scope = self.scope(input, &ctx, frame);
            apply_input_path(&s.input_path, &scope)
                .and_then(|eff| map_limits(s, here.lang, &scope.with_input(&eff)))
        };
        let (limits, late_error) = match limits {
            Ok(l) => (l, None),
            Err(e) if e.cause.contains("Tolerated") => (MapLimits::default(), Some(e)),
            Err(e) => return Err(self.eval_failure(e, here, frame)),
        };
        let distributed = processor
            .processor_config
            .as_ref()
            .and_then(|c| c.mode.as_deref())
            == Some("DISTRIBUTED");
        // A Distributed Map with an ItemReader reads its items in its Map Run (TestState may
        // hand them over instead); AWS then ignores ItemsPath.
        let reads = distributed
            && s.item_reader.is_some()
            && self
                .tested(here)
                .is_none_or(|t| t.item_reader_data.is_none());
        let prepared =
            self.map_items(here, s, input, frame, reads)
                .and_then(|(effective, items)| {
                    let map_run = match distributed {
                        true => {
                            let ctx = self.context(here, ContextExtra::default());
                            let scope = self.scope(input, &ctx, frame);
                            let scope = match here.lang {
                                QueryLanguage::JsonPath => scope.with_input(&effective),
                                QueryLanguage::Jsonata => scope,
                            };
                            Some(MapRun::new(self, here, s, &scope)?)
                        }
                        false => None,
                    };
                    let inputs = self.select_inputs(here, s, input, &effective, items, frame)?;
                    Ok((effective, inputs, map_run))
                });
        let (effective, inputs, map_run) = match prepared {
            Ok(p) => p,
            Err(e) => {
                let f = self.eval_failure(e, here, frame);
                self.event(frame, EventType::MapStateFailed, EventDetails::default())?;
                return Err(f);
            }
        };
        // TestState shows the limits only once the items are known.
        if late_error.is_none() {
            self.inspect(here, "maxConcurrency", || limits.max_concurrency.into());
            if let Some(c) = limits.tolerated_failure_count {
                self.inspect(here, "toleratedFailureCount", || c.into());
            }
            if let Some(p) = limits.tolerated_failure_percentage {
                self.inspect(here, "toleratedFailurePercentage", || p.into());
            }
        }
        self.event(
            frame,
            EventType::MapStateStarted,
            EventDetails {
                length: Some(inputs.len() as u64),
                ..EventDetails::default()
            },
        )?;
        if let Some(e) = late_error {
            return Err(self.eval_failure(e, here, frame));
        }
        if let Some(run) = &map_run {
            self.event(
                frame,
                EventType::MapRunStarted,
                EventDetails {
                    map_run_arn: Some(run.arn.clone()),
                    ..EventDetails::default()
                },
            )?;
        }
        let outcome = match self.tested(here).and_then(|t| t.mock().map(|m| (t, m))) {
            Some((test, Mock::Result(v))) => {
                let failed = test.map_iteration_failure_count as usize;
                let tolerated = failed == 0
                    || (limits.tolerated_failure_count.is_none()
                        && limits.tolerated_failure_percentage.is_none())
                    || tolerates(&limits, failed, inputs.len());
                if tolerated {
                    Ok(Value::Array(
                        v.as_array().cloned().unwrap_or_else(|| vec![v.clone()]),
                    ))
                } else {
                    Err(Failure::new(
                        Some(EXCEEDED.0.into()),
                        Some(EXCEEDED.1.into()),
                    ))
                }
            }
            Some((_, Mock::Error { error, cause })) => {
                Err(Failure::new(Some(error.clone()), cause.clone()))
            }
            None => {
                let run = async {
                    let inputs = match &map_run {
                        Some(r) if r.reads() => {
                            let items = self.read_items(here, r).await?;
                            self.select_inputs(here, s, input, &effective, items, frame)
                                .map_err(|e| {
                                    let mut f = Failure::new(
                                        Some(e.error().into()),
                                        Some(e.cause_in_state(here.name, here.entered_id)),
                                    );
                                    f.children = Some(Vec::new());
                                    f
                                })?
                        }
                        _ => inputs,
                    };
                    // With an ItemBatcher, each child gets a batch; failures count its items.
                    let (inputs, weights) = match &map_run {
                        Some(r) => r.batch(inputs)?,
                        None => (inputs, Vec::new()),
                    };
                    let runs = map_run.as_ref().and_then(|r| r.runs.as_ref());
                    let kept = runs.map(|_| inputs.clone());
                    let outputs = self
                        .iterate(
                            here,
                            processor,
                            inputs,
                            &weights,
                            limits,
                            frame,
                            distributed,
                            resume,
                            runs,
                        )
                        .await?;
                    match &map_run {
                        Some(r) => {
                            self.write_results(here, r, kept.unwrap_or_default(), outputs)
                                .await
                        }
                        None => Ok(Value::Array(outputs)),
                    }
                };
                run.await
            }
        };
        let result = match outcome {
            Ok(result) => result,
            Err(failure) => {
                if distributed && !failure.is_fatal() {
                    self.event(
                        frame,
                        EventType::MapRunFailed,
                        EventDetails {
                            error: failure.error.clone(),
                            cause: failure.cause.clone(),
                            ..EventDetails::default()
                        },
                    )?;
                }
                return Err(failure);
            }
        };
        if distributed {
            // As AWS links them (recordings since late 2024): MapRunSucceeded and then
            // MapStateSucceeded written aside, the state's exit following MapRunStarted.
            let run_succeeded =
                self.event_aside(frame, EventType::MapRunSucceeded, EventDetails::default())?;
            let run_started = std::mem::replace(&mut frame.prev, run_succeeded);
            let written =
                self.event_aside(frame, EventType::MapStateSucceeded, EventDetails::default());
            frame.prev = run_started;
            written?;
        } else {
            self.event_aside(frame, EventType::MapStateSucceeded, EventDetails::default())?;
        }
        let shaped = self.shape_result(here, s.into(), input, &effective, &result, &ctx, frame);
        self.conclude(here, frame, shaped, next_of(here.state))
    }

    /// The effective input and the items (none yet when the Map Run reads them).
    fn map_items(
        &self,
        here: &Here<'_>,
        s: &MapState,
        input: &Value,
        frame: &Frame<'_>,
        reads: bool,
    ) -> Result<(Value, Vec<Value>), EvalError> {
        let ctx = self.context(here, ContextExtra::default());
        let scope = self.scope(input, &ctx, frame);
        let effective = self.effective_input(here, &s.input_path, &scope)?;
        let reader_data = self.tested(here).and_then(|t| t.item_reader_data.clone());
        let items = match reader_data {
            Some(Value::Array(items)) => items,
            Some(other) => vec![other],
            None if reads => Vec::new(),
            None => map_items(s, here.lang, &scope.with_input(&effective))?,
        };
        if here.lang == QueryLanguage::JsonPath && !reads {
            self.inspect(here, "afterItemsPath", || Value::Array(items.clone()));
        }
        Ok((effective.into_owned(), items))
    }

    /// Each iteration's input: the item through ItemSelector (or the older Parameters).
    fn select_inputs(
        &self,
        here: &Here<'_>,
        s: &MapState,
        input: &Value,
        effective: &Value,
        items: Vec<Value>,
        frame: &Frame<'_>,
    ) -> Result<Vec<Value>, EvalError> {
        let Some(selector) = s.item_selector.as_ref().or(s.parameters.as_ref()) else {
            return Ok(items);
        };
        let field = if s.item_selector.is_some() {
            "ItemSelector"
        } else {
            "Parameters"
        };
        // One context object for all items; only `Map.Item` changes.
        let mut ctx = self.context(here, ContextExtra::default());
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                if let Value::Object(m) = &mut ctx {
                    m.insert(
                        "Map".into(),
                        serde_json::json!({"Item": {"Index": i, "Value": item}}),
                    );
                }
                let scope = self.scope(effective, &ctx, frame);
                let scope = match here.lang {
                    QueryLanguage::JsonPath => scope,
                    QueryLanguage::Jsonata => scope.with_input(input),
                };
                evaluate_payload(here.lang, field, selector, &scope)
            })
            .collect()
    }

    /// Runs the iterations; the results in item order, or the failure that ended the Map.
    /// `weights[i]` is how many items iteration `i` holds (a batch; 1 where absent): the
    /// tolerated failures count items, as AWS defines its threshold.
    #[allow(clippy::too_many_arguments)]
    async fn iterate(
        &self,
        here: &Here<'_>,
        processor: &ItemProcessor,
        items: Vec<Value>,
        weights: &[usize],
        limits: MapLimits,
        frame: &mut Frame<'_>,
        distributed: bool,
        resume: Option<&[ChildResume]>,
        runs: Option<&Mutex<Vec<ChildRun>>>,
    ) -> Result<Vec<Value>, Failure> {
        let count = items.len();
        let lang = processor.query_language.unwrap_or(here.lang);
        let mut children: Vec<ChildResume> = vec![ChildResume::Rerun; count];
        let mut failed = 0usize;
        let mut first_failure: Option<Failure> = None;
        let mut fatal: Option<Failure> = None;
        let weight = |i: usize| weights.get(i).copied().unwrap_or(1);
        let total: usize = (0..count).map(weight).sum();
        let tolerance = |failed: usize| tolerates(&limits, failed, total);
        let tolerant = limits.tolerated_failure_count.is_some()
            || limits.tolerated_failure_percentage.is_some();
        let running = Running::default();
        // Event links as AWS writes them: an iteration follows from the Map's latest link when
        // it starts; once it ends, the Map's link moves on to the iteration's last event before
        // its closing `MapIteration*` event (which is written aside), so a sequential Map chains
        // its iterations. After the last one succeeded, the Map goes on from the last closing
        // event.
        let links = Mutex::new(Links {
            current: frame.prev,
            last_closing: None,
        });
        let history = frame.history;
        let parent_vars = &frame.vars;
        let clock = self.engine.clock;
        let limit = self.engine.options.history_limit;
        let mut items: Vec<Option<Value>> = items.into_iter().map(Some).collect();
        for (i, c) in resume.unwrap_or(&[]).iter().enumerate().take(count) {
            if let ChildResume::Succeeded(_) = c {
                children[i] = c.clone();
                items[i] = None;
            }
        }
        let todo: Vec<usize> = (0..count).filter(|&i| items[i].is_some()).collect();
        let stopped_at = run_limited(
            todo.len(),
            usize::try_from(limits.max_concurrency).unwrap_or(usize::MAX),
            |k| {
                let index = todo[k];
                let item = items[index].take().unwrap_or(Value::Null);
                let child_resume = child_resume(resume, index);
                let running = &running;
                let links = &links;
                boxed(async move {
                    let child_history =
                        distributed.then(|| Recorder::new(clock, limit, Vec::new()));
                    let child_history = child_history.as_ref().unwrap_or(history);
                    let start_prev = if distributed { 0 } else { lock(links).current };
                    let current = running.enter(index);
                    let mut f =
                        Frame::child(parent_vars, start_prev, lang, child_history, child_resume);
                    f.current = Some(&current);
                    let out = async {
                        if !distributed {
                            self.event(
                                &mut f,
                                EventType::MapIterationStarted,
                                iteration(here.name, index),
                            )?;
                        }
                        let (start, input) = match child_resume {
                            Some(rp) => (rp.state.as_str(), rp.input.clone()),
                            None => (processor.start_at.as_str(), item),
                        };
                        let start_ms = clock.now_ms();
                        let out = self
                            .run_graph(&processor.states, start, input, &mut f, child_resume)
                            .await;
                        running.leave(index);
                        if let Some(runs) =
                            runs.filter(|_| !out.as_ref().is_err_and(Failure::is_fatal))
                        {
                            lock(runs).push(ChildRun {
                                index,
                                start_ms,
                                stop_ms: clock.now_ms(),
                                outcome: match &out {
                                    Ok(v) => Ok(v.clone()),
                                    Err(f) => Err((f.error.clone(), f.cause.clone())),
                                },
                            });
                        }
                        if !distributed && !out.as_ref().is_err_and(Failure::is_fatal) {
                            let kind = if out.is_ok() {
                                EventType::MapIterationSucceeded
                            } else {
                                EventType::MapIterationFailed
                            };
                            let id = self.event_aside(&f, kind, iteration(here.name, index))?;
                            let mut l = lock(links);
                            l.current = l.current.max(f.prev);
                            l.last_closing = l.last_closing.max(Some(id));
                        }
                        out
                    }
                    .await;
                    (index, out)
                })
            },
            |_, (index, out)| match out {
                Ok(v) => {
                    children[index] = ChildResume::Succeeded(v);
                    ControlFlow::Continue(())
                }
                Err(f) if f.is_fatal() => {
                    fatal = Some(f);
                    ControlFlow::Break(())
                }
                Err(mut f) => {
                    failed += weight(index);
                    if let Some(rp) = f.resume.take() {
                        children[index] = ChildResume::Resume(*rp);
                    }
                    first_failure.get_or_insert(f);
                    if tolerance(failed) {
                        ControlFlow::Continue(())
                    } else {
                        ControlFlow::Break(())
                    }
                }
            },
        )
        .await;
        let links = links.into_inner().unwrap_or_else(|e| e.into_inner());
        frame.prev = links.current;
        if let Some(f) = fatal {
            return Err(f);
        }
        if stopped_at.is_some() {
            if !distributed {
                for (index, state_aborted) in running.stopped() {
                    if let Some(kind) = state_aborted {
                        self.event_aside(frame, kind, EventDetails::default())?;
                    }
                    self.event_aside(
                        frame,
                        EventType::MapIterationAborted,
                        iteration(here.name, index),
                    )?;
                }
            }
            let mut failure = match first_failure {
                Some(f) if !tolerant => f,
                _ => Failure::new(Some(EXCEEDED.0.into()), Some(EXCEEDED.1.into())),
            };
            failure.resume = None;
            failure.children = Some(children);
            return Err(failure);
        }
        if let Some(id) = links.last_closing {
            frame.prev = id;
        }
        Ok(succeeded_outputs(children))
    }
}

/// Where the next event of a Map's iterations links to (see [`Run::iterate`]).
struct Links {
    /// The link of the next iteration to start.
    current: u64,
    /// The latest `MapIterationSucceeded`/`Failed` event.
    last_closing: Option<u64>,
}

/// The outputs of children that all succeeded, in order.
pub(crate) fn succeeded_outputs(children: Vec<ChildResume>) -> Vec<Value> {
    children
        .into_iter()
        .map(|c| match c {
            ChildResume::Succeeded(v) => v,
            _ => Value::Null,
        })
        .collect()
}

/// Whether `failed` of `count` iterations are within the Map's tolerance.
fn tolerates(limits: &MapLimits, failed: usize, count: usize) -> bool {
    let by_count = limits.tolerated_failure_count.map(|c| failed as u64 <= c);
    let by_pct = limits
        .tolerated_failure_percentage
        .map(|p| count > 0 && (failed as f64) * 100.0 / (count as f64) <= p);
    by_count.unwrap_or(false) || by_pct.unwrap_or(false)
}

/// The details of a `MapIteration*` event.
fn iteration(map_state: &str, index: usize) -> EventDetails {
    EventDetails {
        name: Some(map_state.to_string()),
        index: Some(index as u64),
        ..EventDetails::default()
    }
}
