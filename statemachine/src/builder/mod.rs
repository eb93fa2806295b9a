//! A builder that reads like the flow it describes.
//!
//! ```
//! use serde_json::json;
//! use statemachine::builder::{Catch, Chain, Choice, Condition, Fail, Retry, Succeed, Task};
//!
//! let failed = Chain::start(Fail::new("Failed").error("Feedpipe.Failed"));
//! let work = Task::new("Work", "arn:aws:states:::lambda:invoke")
//!     .parameters(json!({"FunctionName": "f", "Payload.$": "$"}))
//!     .result_selector(json!({"done.$": "$.Payload.done"}))
//!     .result_path("$.work")
//!     .retry(Retry::on(["Lambda.TooManyRequestsException"]).interval(2).max_attempts(4))
//!     .catch(Catch::all().result_path("$.error"), &failed);
//! let machine = Chain::start(work)
//!     .next(
//!         Choice::new("Done?")
//!             .when(Condition::boolean_equals("$.work.done", true), Succeed::new("Finished"))
//!             .otherwise(Fail::new("NotDone")),
//!     )
//!     .build()
//!     .unwrap();
//! assert_eq!(machine.start_at, "Work");
//! assert_eq!(machine.states.len(), 5);
//! ```
//!
//! A [`Chain`] is a piece of a flow with one entry and the open ends that the next piece attaches
//! to; `next` wires every open end to what follows, a Choice's branches and a Catch's handler are
//! chains of their own, and [`Chain::build`] closes the remaining ends with `End: true` and runs
//! [`crate::validate`]. States reached from several places (a shared failure path) are merged by
//! name; two *different* states with one name are an error.

use indexmap::IndexMap;
use serde_json::Number;

use crate::asl::{self, JitterStrategy, Retrier, State, StateMachine};
use crate::validate::{self, Diagnostic};

/// Why a machine could not be built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BuildError {
    /// Two different states were given the same name.
    #[error("two different states are named {0:?}")]
    DuplicateName(String),
    /// A chain was continued after a state that cannot continue (Succeed, Fail).
    #[error("state {0:?} ends the flow; nothing can follow it")]
    NoContinuation(String),
    /// The result failed validation.
    #[error("the definition is invalid: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Diagnostic>),
}

/// A piece of a flow: its states, the first one, and the states whose `Next` is still open.
#[derive(Debug, Clone)]
pub struct Chain {
    start: String,
    states: IndexMap<String, State>,
    ends: Vec<String>,
    errors: Vec<BuildError>,
}

/// Anything that can start a chain: a state builder or a chain.
pub trait IntoChain {
    /// The chain.
    fn into_chain(self) -> Chain;
}

impl IntoChain for Chain {
    fn into_chain(self) -> Chain {
        self
    }
}

impl IntoChain for &Chain {
    fn into_chain(self) -> Chain {
        self.clone()
    }
}

impl Chain {
    /// A chain starting with `first`.
    pub fn start(first: impl IntoChain) -> Chain {
        first.into_chain()
    }

    fn single(name: String, state: State, open: bool, extra: Vec<Chain>) -> Chain {
        let mut chain = Chain {
            start: name.clone(),
            states: IndexMap::from([(name.clone(), state)]),
            ends: if open { vec![name] } else { Vec::new() },
            errors: Vec::new(),
        };
        for c in extra {
            chain.absorb(c);
        }
        chain
    }

    /// Merges another chain's states (not its ends) into this one.
    fn absorb(&mut self, other: Chain) {
        self.errors.extend(other.errors);
        for (name, state) in other.states {
            match self.states.get(&name) {
                Some(existing) if *existing != state => {
                    self.errors.push(BuildError::DuplicateName(name))
                }
                Some(_) => {}
                None => {
                    self.states.insert(name, state);
                }
            }
        }
    }

    /// Continues every open end with `then`.
    pub fn next(mut self, then: impl IntoChain) -> Chain {
        let then = then.into_chain();
        if self.ends.is_empty() {
            let last = self.states.keys().last().cloned().unwrap_or_default();
            self.errors.push(BuildError::NoContinuation(last));
        }
        for end in std::mem::take(&mut self.ends) {
            if let Some(state) = self.states.get_mut(&end) {
                set_next(state, &then.start);
            }
        }
        self.ends = then.ends.clone();
        self.absorb(then);
        self
    }

    /// The name of the chain's first state.
    pub fn start_name(&self) -> &str {
        &self.start
    }

    /// Closes the open ends with `End: true` and returns the start and the states in reading
    /// order: the body of a Parallel branch or a Map processor.
    fn close(mut self) -> Result<(String, IndexMap<String, State>), BuildError> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        for end in std::mem::take(&mut self.ends) {
            if let Some(state) = self.states.get_mut(&end) {
                set_end(state);
            }
        }
        let states = reading_order(&self.start, self.states);
        Ok((self.start, states))
    }

    /// Closes the open ends with `End: true`, builds the machine and validates it (warnings are
    /// allowed; errors are not).
    pub fn build(self) -> Result<StateMachine, BuildError> {
        self.build_with(None, None)
    }

    /// [`Chain::build`] with a `Comment` and an execution `TimeoutSeconds`.
    pub fn build_with(
        self,
        comment: Option<&str>,
        timeout_seconds: Option<u64>,
    ) -> Result<StateMachine, BuildError> {
        let (start_at, states) = self.close()?;
        let machine = StateMachine {
            comment: comment.map(str::to_string),
            query_language: None,
            start_at,
            version: None,
            timeout_seconds,
            states,
        };
        let errors = validate::errors(&machine);
        if errors.is_empty() {
            Ok(machine)
        } else {
            Err(BuildError::Invalid(errors))
        }
    }
}

/// Orders states as a reader follows them: the main path depth-first from `start` (Next, then
/// Choice rules in order, then Default), then the error handlers reached only through Catch.
fn reading_order(start: &str, mut states: IndexMap<String, State>) -> IndexMap<String, State> {
    let mut order: Vec<String> = Vec::new();
    let mut handlers: Vec<String> = vec![start.to_string()];
    let mut next_handler = 0;
    while next_handler < handlers.len() {
        let mut stack = vec![handlers[next_handler].clone()];
        next_handler += 1;
        while let Some(name) = stack.pop() {
            if order.contains(&name) {
                continue;
            }
            let Some(state) = states.get(&name) else {
                continue;
            };
            let catches: Vec<String> = state
                .error_handling()
                .1
                .iter()
                .map(|c| c.next.clone())
                .collect();
            let main: Vec<String> = state
                .successors()
                .into_iter()
                .map(str::to_string)
                .filter(|s| !catches.contains(s))
                .collect();
            stack.extend(main.into_iter().rev());
            handlers.extend(catches);
            order.push(name);
        }
    }
    let mut out = IndexMap::with_capacity(states.len());
    for name in order {
        if let Some(state) = states.shift_remove(&name) {
            out.insert(name, state);
        }
    }
    out.extend(states);
    out
}

fn set_next(state: &mut State, next: &str) {
    let slot = match state {
        State::Task(s) => (&mut s.next, &mut s.end),
        State::Pass(s) => (&mut s.next, &mut s.end),
        State::Wait(s) => (&mut s.next, &mut s.end),
        State::Parallel(s) => (&mut s.next, &mut s.end),
        State::Map(s) => (&mut s.next, &mut s.end),
        State::Choice(_) | State::Succeed(_) | State::Fail(_) => return,
    };
    *slot.0 = Some(next.to_string());
    *slot.1 = None;
}

fn set_end(state: &mut State) {
    let slot = match state {
        State::Task(s) => (&mut s.next, &mut s.end),
        State::Pass(s) => (&mut s.next, &mut s.end),
        State::Wait(s) => (&mut s.next, &mut s.end),
        State::Parallel(s) => (&mut s.next, &mut s.end),
        State::Map(s) => (&mut s.next, &mut s.end),
        State::Choice(_) | State::Succeed(_) | State::Fail(_) => return,
    };
    *slot.0 = None;
    *slot.1 = Some(true);
}

/// A `Retry` entry: `Retry::on(["E"]).interval(2).max_attempts(5).backoff(2.0)`.
#[derive(Debug, Clone)]
pub struct Retry(Retrier);

impl Retry {
    /// Retries the given error names.
    pub fn on<I: IntoIterator<Item = S>, S: Into<String>>(errors: I) -> Retry {
        Retry(Retrier {
            error_equals: errors.into_iter().map(Into::into).collect(),
            interval_seconds: None,
            max_attempts: None,
            backoff_rate: None,
            max_delay_seconds: None,
            jitter_strategy: None,
            comment: None,
        })
    }

    /// Seconds before the first retry.
    pub fn interval(mut self, seconds: u64) -> Retry {
        self.0.interval_seconds = Some(seconds);
        self
    }

    /// Retries before giving up.
    pub fn max_attempts(mut self, n: u64) -> Retry {
        self.0.max_attempts = Some(n);
        self
    }

    /// Interval multiplier per attempt.
    pub fn backoff(mut self, rate: f64) -> Retry {
        self.0.backoff_rate = Number::from_f64(rate);
        self
    }

    /// Upper bound of the interval.
    pub fn max_delay(mut self, seconds: u64) -> Retry {
        self.0.max_delay_seconds = Some(seconds);
        self
    }

    /// Full jitter: a random delay up to the computed interval.
    pub fn full_jitter(mut self) -> Retry {
        self.0.jitter_strategy = Some(JitterStrategy::Full);
        self
    }

    /// Free text.
    pub fn comment(mut self, text: &str) -> Retry {
        self.0.comment = Some(text.to_string());
        self
    }
}

/// A `Catch` entry without its target: `Catch::all().result_path("$.error")`.
#[derive(Debug, Clone)]
pub struct Catch {
    error_equals: Vec<String>,
    result_path: asl::NullablePath,
}

impl Catch {
    /// Catches the given error names.
    pub fn on<I: IntoIterator<Item = S>, S: Into<String>>(errors: I) -> Catch {
        Catch {
            error_equals: errors.into_iter().map(Into::into).collect(),
            result_path: None,
        }
    }

    /// Catches every error (`States.ALL`).
    pub fn all() -> Catch {
        Catch::on(["States.ALL"])
    }

    /// Where the error output goes in the state's input.
    pub fn result_path(mut self, path: &str) -> Catch {
        self.result_path = Some(Some(path.to_string()));
        self
    }
}

mod states;

pub use states::{Choice, Condition, Fail, Map, Parallel, Pass, Succeed, Task, Wait};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chains_wire_next_and_close_with_end() {
        let machine = Chain::start(Pass::new("A"))
            .next(Pass::new("B"))
            .build()
            .unwrap();
        assert_eq!(
            machine.to_value(),
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}})
        );
    }

    #[test]
    fn choice_branches_continue_together_and_shared_handlers_merge() {
        let failed = Chain::start(Pass::new("Report")).next(Fail::new("Failed"));
        let machine = Chain::start(
            Task::new("T1", "arn:aws:states:::sns:publish")
                .catch(Catch::all().result_path("$.error"), &failed),
        )
        .next(
            Choice::new("Which?")
                .when(
                    Condition::string_equals("$.k", "a").and(Condition::is_present("$.v")),
                    Pass::new("PA"),
                )
                .otherwise(Pass::new("PB")),
        )
        .next(Task::new("T2", "arn:aws:states:::sns:publish").catch(Catch::all(), &failed))
        .build()
        .unwrap();
        let v = machine.to_value();
        assert_eq!(v["States"]["PA"]["Next"], "T2");
        assert_eq!(v["States"]["PB"]["Next"], "T2");
        assert_eq!(v["States"]["T2"]["End"], true);
        assert_eq!(
            v["States"]["T1"]["Catch"][0],
            json!({"ErrorEquals": ["States.ALL"], "Next": "Report", "ResultPath": "$.error"})
        );
        assert_eq!(
            v["States"]["Which?"]["Choices"][0]["And"][1],
            json!({"Variable": "$.v", "IsPresent": true})
        );
        assert_eq!(machine.states.len(), 7);
    }

    #[test]
    fn parallel_and_map_bodies_are_closed_scopes() {
        let machine = Chain::start(
            Parallel::new("Both")
                .branch(Chain::start(Pass::new("L1")).next(Pass::new("L2")))
                .branch(Pass::new("R")),
        )
        .next(
            Map::new("Each", "$.items", Pass::new("Item"))
                .max_concurrency(2)
                .result_path("$.out"),
        )
        .build()
        .unwrap();
        let v = machine.to_value();
        assert_eq!(
            v["States"]["Both"]["Branches"][0]["States"]["L1"]["Next"],
            "L2"
        );
        assert_eq!(
            v["States"]["Both"]["Branches"][0]["States"]["L2"]["End"],
            true
        );
        assert_eq!(v["States"]["Both"]["Next"], "Each");
        assert_eq!(
            v["States"]["Each"]["ItemProcessor"]["States"]["Item"]["End"],
            true
        );
        assert_eq!(v["States"]["Each"]["MaxConcurrency"], 2);
        assert_eq!(v["States"]["Each"]["End"], true);
        let err = Chain::start(
            Parallel::new("P").branch(Chain::start(Succeed::new("S")).next(Pass::new("X"))),
        )
        .build()
        .unwrap_err();
        assert!(matches!(err, BuildError::NoContinuation(_)), "{err}");
    }

    #[test]
    fn mistakes_are_build_errors() {
        let err = Chain::start(Succeed::new("S"))
            .next(Pass::new("P"))
            .build()
            .unwrap_err();
        assert!(
            matches!(err, BuildError::NoContinuation(ref s) if s == "S"),
            "{err}"
        );
        let err = Chain::start(Pass::new("A").result(json!(1)))
            .next(Pass::new("A"))
            .build()
            .unwrap_err();
        assert!(
            matches!(err, BuildError::DuplicateName(ref s) if s == "A"),
            "{err}"
        );
        let err = Chain::start(Pass::new("A").input_path("nope"))
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("InputPath"), "{err}");
    }
}
