//! The Parallel state: every branch gets the same input (after InputPath and Parameters, or
//! Arguments), runs as its own scope (outer variables readable, its own assignments local), and
//! the state's result is the array of branch outputs. The first failing branch stops the others
//! and fails the state (Retry and Catch apply); a redrive reruns only the branches that did not
//! succeed.

use std::ops::ControlFlow;

use serde_json::Value;

use super::failure::Failure;
use super::history::{EventDetails, EventType};
use super::join::{boxed, run_limited};
use super::map::succeeded_outputs;
use super::record::ChildResume;
use super::run::{child_resume, next_of, ContextExtra, Frame, Here, Run, Running, Step};
use super::test_state::Mock;
use crate::asl::{ParallelState, QueryLanguage};
use crate::eval::{apply_input_path, evaluate_payload, EvalError};

impl Run<'_> {
    pub(crate) async fn parallel_attempt(
        &self,
        here: &Here<'_>,
        s: &ParallelState,
        input: &Value,
        frame: &mut Frame<'_>,
        retry_count: u32,
        resume: Option<&[ChildResume]>,
    ) -> Result<Step, Failure> {
        let ctx = self.context(here, ContextExtra::retries(retry_count));
        let prepared: Result<(Value, Value), EvalError> = (|| {
            let scope = self.scope(input, &ctx, frame);
            Ok(match here.lang {
                QueryLanguage::JsonPath => {
                    let effective = apply_input_path(&s.input_path, &scope)?;
                    let branch_input = match &s.parameters {
                        Some(p) => evaluate_payload(
                            QueryLanguage::JsonPath,
                            "Parameters",
                            p,
                            &scope.with_input(&effective),
                        )?,
                        None => effective.clone(),
                    };
                    (effective, branch_input)
                }
                QueryLanguage::Jsonata => {
                    let branch_input = match &s.arguments {
                        Some(a) => {
                            evaluate_payload(QueryLanguage::Jsonata, "Arguments", a, &scope)?
                        }
                        None => input.clone(),
                    };
                    (input.clone(), branch_input)
                }
            })
        })();
        let (effective, branch_input) = match prepared {
            Ok(p) => p,
            Err(e) => return Err(self.eval_failure(e, here, frame)),
        };
        self.event(
            frame,
            EventType::ParallelStateStarted,
            EventDetails::default(),
        )?;
        let mocked = self.tested(here).and_then(|t| t.mock()).cloned();
        let result = match mocked {
            Some(Mock::Result(v)) => v,
            Some(Mock::Error { error, cause }) => return Err(Failure::new(Some(error), cause)),
            None => {
                let results = self
                    .run_branches(here, s, branch_input, frame, resume)
                    .await?;
                Value::Array(results)
            }
        };
        self.event_aside(
            frame,
            EventType::ParallelStateSucceeded,
            EventDetails::default(),
        )?;
        let shaped = self.shape_result(here, s.into(), input, &effective, &result, &ctx, frame);
        self.conclude(here, frame, shaped, next_of(here.state))
    }

    /// Runs the branches that still need to run; their outputs in branch order.
    async fn run_branches(
        &self,
        here: &Here<'_>,
        s: &ParallelState,
        branch_input: Value,
        frame: &mut Frame<'_>,
        resume: Option<&[ChildResume]>,
    ) -> Result<Vec<Value>, Failure> {
        let branch_input = &branch_input;
        let count = s.branches.len();
        let mut children: Vec<ChildResume> = vec![ChildResume::Rerun; count];
        let mut failure: Option<Failure> = None;
        for (i, c) in resume.unwrap_or(&[]).iter().enumerate().take(count) {
            if let ChildResume::Succeeded(_) = c {
                children[i] = c.clone();
            }
        }
        let todo: Vec<usize> = (0..count)
            .filter(|&i| !matches!(children[i], ChildResume::Succeeded(_)))
            .collect();
        // Every branch follows from ParallelStateStarted; the state goes on from the latest last
        // event of a branch that ended (as AWS links them).
        let start_prev = frame.prev;
        let mut latest = start_prev;
        let history = frame.history;
        let parent_vars = &frame.vars;
        let running = Running::default();
        let running = &running;
        run_limited(
            todo.len(),
            0,
            |k| {
                let index = todo[k];
                let branch = &s.branches[index];
                let child_resume = child_resume(resume, index);
                boxed(async move {
                    let lang = branch.query_language.unwrap_or(here.lang);
                    let current = running.enter(index);
                    let mut f = Frame::child(parent_vars, start_prev, lang, history, child_resume);
                    f.current = Some(&current);
                    let (start, input) = match child_resume {
                        Some(rp) => (rp.state.as_str(), rp.input.clone()),
                        None => (branch.start_at.as_str(), branch_input.clone()),
                    };
                    let out = self
                        .run_graph(&branch.states, start, input, &mut f, child_resume)
                        .await;
                    running.leave(index);
                    (index, out, f.prev)
                })
            },
            |_, (index, out, last)| {
                latest = latest.max(last);
                match out {
                    Ok(v) => {
                        children[index] = ChildResume::Succeeded(v);
                        ControlFlow::Continue(())
                    }
                    Err(mut f) => {
                        if let Some(rp) = f.resume.take() {
                            children[index] = ChildResume::Resume(*rp);
                        }
                        failure = Some(f);
                        ControlFlow::Break(())
                    }
                }
            },
        )
        .await;
        frame.prev = latest;
        if let Some(mut f) = failure {
            if !f.is_fatal() {
                // The branches still running are stopped (as a Map's iterations are).
                for (_, state_aborted) in running.stopped() {
                    if let Some(kind) = state_aborted {
                        self.event_aside(frame, kind, EventDetails::default())?;
                    }
                }
                f.children = Some(children);
            }
            return Err(f);
        }
        Ok(succeeded_outputs(children))
    }
}
