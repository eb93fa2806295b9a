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
use serde_json::{Number, Value};

use crate::asl::{
    self, Catcher, ChoiceRule, Comparison, JitterStrategy, NumberOrExpr, Operand, Retrier, State,
    StateMachine,
};
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
        mut self,
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

macro_rules! common_builder_methods {
    ($ty:ident, $variant:ident) => {
        impl $ty {
            fn state_mut(&mut self) -> &mut asl::$variant {
                &mut self.state
            }

            /// Free text.
            pub fn comment(mut self, text: &str) -> Self {
                self.state_mut().comment = Some(text.to_string());
                self
            }
        }
    };
}

macro_rules! io_methods {
    ($ty:ident) => {
        impl $ty {
            /// `InputPath`.
            pub fn input_path(mut self, path: &str) -> Self {
                self.state.input_path = Some(Some(path.to_string()));
                self
            }

            /// `OutputPath`.
            pub fn output_path(mut self, path: &str) -> Self {
                self.state.output_path = Some(Some(path.to_string()));
                self
            }
        }
    };
}

macro_rules! result_methods {
    ($ty:ident) => {
        impl $ty {
            /// `ResultPath`.
            pub fn result_path(mut self, path: &str) -> Self {
                self.state.result_path = Some(Some(path.to_string()));
                self
            }

            /// `ResultPath: null`: keep the input, drop the result.
            pub fn discard_result(mut self) -> Self {
                self.state.result_path = Some(None);
                self
            }

            /// `Parameters` (a payload template; `.$` keys take paths).
            pub fn parameters(mut self, template: Value) -> Self {
                self.state.parameters = Some(template);
                self
            }
        }
    };
}

macro_rules! error_handling_methods {
    ($ty:ident) => {
        impl $ty {
            /// `ResultSelector`.
            pub fn result_selector(mut self, template: Value) -> Self {
                self.state.result_selector = Some(template);
                self
            }

            /// Adds a `Retry` entry.
            pub fn retry(mut self, retry: Retry) -> Self {
                self.state.retry.get_or_insert_with(Vec::new).push(retry.0);
                self
            }

            /// Adds a `Catch` entry going to `handler`'s first state; the handler's states join
            /// the machine.
            pub fn catch(mut self, catch: Catch, handler: impl IntoChain) -> Self {
                let handler = handler.into_chain();
                self.state.catch.get_or_insert_with(Vec::new).push(Catcher {
                    error_equals: catch.error_equals,
                    next: handler.start.clone(),
                    result_path: catch.result_path,
                    output: None,
                    assign: None,
                    comment: None,
                });
                self.extra.push(handler);
                self
            }
        }
    };
}

/// A Task state.
#[derive(Debug, Clone)]
pub struct Task {
    name: String,
    state: asl::TaskState,
    extra: Vec<Chain>,
}

impl Task {
    /// A task named `name` calling `resource`.
    pub fn new(name: &str, resource: &str) -> Task {
        Task {
            name: name.to_string(),
            state: asl::TaskState {
                comment: None,
                query_language: None,
                resource: resource.to_string(),
                input_path: None,
                parameters: None,
                arguments: None,
                credentials: None,
                result_selector: None,
                result_path: None,
                output_path: None,
                output: None,
                assign: None,
                retry: None,
                catch: None,
                timeout_seconds: None,
                timeout_seconds_path: None,
                heartbeat_seconds: None,
                heartbeat_seconds_path: None,
                next: None,
                end: None,
            },
            extra: Vec::new(),
        }
    }

    /// `TimeoutSeconds`.
    pub fn timeout(mut self, seconds: u64) -> Task {
        self.state.timeout_seconds = Some(NumberOrExpr::Number(seconds.into()));
        self
    }

    /// `HeartbeatSeconds`.
    pub fn heartbeat(mut self, seconds: u64) -> Task {
        self.state.heartbeat_seconds = Some(NumberOrExpr::Number(seconds.into()));
        self
    }
}

common_builder_methods!(Task, TaskState);
io_methods!(Task);
result_methods!(Task);
error_handling_methods!(Task);

impl IntoChain for Task {
    fn into_chain(self) -> Chain {
        Chain::single(
            self.name,
            State::Task(Box::new(self.state)),
            true,
            self.extra,
        )
    }
}

/// A Pass state.
#[derive(Debug, Clone)]
pub struct Pass {
    name: String,
    state: asl::PassState,
}

impl Pass {
    /// A pass state named `name`.
    pub fn new(name: &str) -> Pass {
        Pass {
            name: name.to_string(),
            state: asl::PassState {
                comment: None,
                query_language: None,
                input_path: None,
                parameters: None,
                result: None,
                result_path: None,
                output_path: None,
                output: None,
                assign: None,
                next: None,
                end: None,
            },
        }
    }

    /// A fixed `Result`.
    pub fn result(mut self, value: Value) -> Pass {
        self.state.result = Some(value);
        self
    }
}

common_builder_methods!(Pass, PassState);
io_methods!(Pass);
result_methods!(Pass);

impl IntoChain for Pass {
    fn into_chain(self) -> Chain {
        Chain::single(
            self.name,
            State::Pass(Box::new(self.state)),
            true,
            Vec::new(),
        )
    }
}

/// A Wait state.
#[derive(Debug, Clone)]
pub struct Wait {
    name: String,
    state: asl::WaitState,
}

impl Wait {
    fn new(name: &str) -> Wait {
        Wait {
            name: name.to_string(),
            state: asl::WaitState {
                comment: None,
                query_language: None,
                input_path: None,
                output_path: None,
                seconds: None,
                seconds_path: None,
                timestamp: None,
                timestamp_path: None,
                output: None,
                assign: None,
                next: None,
                end: None,
            },
        }
    }

    /// Waits a fixed number of seconds.
    pub fn seconds(name: &str, seconds: u64) -> Wait {
        let mut w = Wait::new(name);
        w.state.seconds = Some(NumberOrExpr::Number(seconds.into()));
        w
    }

    /// Waits the number of seconds found at `path`.
    pub fn seconds_path(name: &str, path: &str) -> Wait {
        let mut w = Wait::new(name);
        w.state.seconds_path = Some(path.to_string());
        w
    }

    /// Waits until the timestamp found at `path`.
    pub fn timestamp_path(name: &str, path: &str) -> Wait {
        let mut w = Wait::new(name);
        w.state.timestamp_path = Some(path.to_string());
        w
    }
}

common_builder_methods!(Wait, WaitState);
io_methods!(Wait);

impl IntoChain for Wait {
    fn into_chain(self) -> Chain {
        Chain::single(
            self.name,
            State::Wait(Box::new(self.state)),
            true,
            Vec::new(),
        )
    }
}

/// A Succeed state.
#[derive(Debug, Clone)]
pub struct Succeed {
    name: String,
    state: asl::SucceedState,
}

impl Succeed {
    /// A succeed state named `name`.
    pub fn new(name: &str) -> Succeed {
        Succeed {
            name: name.to_string(),
            state: asl::SucceedState {
                comment: None,
                query_language: None,
                input_path: None,
                output_path: None,
                output: None,
            },
        }
    }
}

common_builder_methods!(Succeed, SucceedState);
io_methods!(Succeed);

impl IntoChain for Succeed {
    fn into_chain(self) -> Chain {
        Chain::single(
            self.name,
            State::Succeed(Box::new(self.state)),
            false,
            Vec::new(),
        )
    }
}

/// A Fail state.
#[derive(Debug, Clone)]
pub struct Fail {
    name: String,
    state: asl::FailState,
}

impl Fail {
    /// A fail state named `name`.
    pub fn new(name: &str) -> Fail {
        Fail {
            name: name.to_string(),
            state: asl::FailState {
                comment: None,
                query_language: None,
                error: None,
                error_path: None,
                cause: None,
                cause_path: None,
            },
        }
    }

    /// A fixed error name.
    pub fn error(mut self, error: &str) -> Fail {
        self.state.error = Some(error.to_string());
        self
    }

    /// The error name from a path or intrinsic.
    pub fn error_path(mut self, path: &str) -> Fail {
        self.state.error_path = Some(path.to_string());
        self
    }

    /// A fixed cause.
    pub fn cause(mut self, cause: &str) -> Fail {
        self.state.cause = Some(cause.to_string());
        self
    }

    /// The cause from a path or intrinsic.
    pub fn cause_path(mut self, path: &str) -> Fail {
        self.state.cause_path = Some(path.to_string());
        self
    }
}

common_builder_methods!(Fail, FailState);

impl IntoChain for Fail {
    fn into_chain(self) -> Chain {
        Chain::single(
            self.name,
            State::Fail(Box::new(self.state)),
            false,
            Vec::new(),
        )
    }
}

/// A Choice rule's test: `Condition::boolean_equals("$.x", true)`, `.and(...)`, `.not()`.
#[derive(Debug, Clone)]
pub struct Condition(asl::Condition);

impl Condition {
    fn compare(variable: &str, op: Comparison, operand: Operand) -> Condition {
        Condition(asl::Condition::Compare {
            variable: variable.to_string(),
            op,
            operand,
        })
    }

    /// Any comparison against a literal.
    pub fn value(variable: &str, op: Comparison, value: impl Into<Value>) -> Condition {
        Condition::compare(variable, op, Operand::Value(value.into()))
    }

    /// Any comparison against another path (`…Path` operators).
    pub fn path(variable: &str, op: Comparison, other: &str) -> Condition {
        Condition::compare(variable, op, Operand::Path(other.to_string()))
    }

    /// `BooleanEquals`.
    pub fn boolean_equals(variable: &str, value: bool) -> Condition {
        Condition::value(variable, Comparison::BooleanEquals, value)
    }

    /// `StringEquals`.
    pub fn string_equals(variable: &str, value: &str) -> Condition {
        Condition::value(variable, Comparison::StringEquals, value)
    }

    /// `NumericGreaterThan`.
    pub fn number_greater_than(variable: &str, value: impl Into<Number>) -> Condition {
        Condition::value(
            variable,
            Comparison::NumericGreaterThan,
            Value::Number(value.into()),
        )
    }

    /// `IsPresent: true`.
    pub fn is_present(variable: &str) -> Condition {
        Condition::value(variable, Comparison::IsPresent, true)
    }

    fn rule(self) -> ChoiceRule {
        ChoiceRule {
            condition: self.0,
            next: None,
            comment: None,
            assign: None,
            output: None,
        }
    }

    /// Both must hold.
    pub fn and(self, other: Condition) -> Condition {
        Condition(asl::Condition::And(vec![self.rule(), other.rule()]))
    }

    /// Either must hold.
    pub fn or(self, other: Condition) -> Condition {
        Condition(asl::Condition::Or(vec![self.rule(), other.rule()]))
    }
}

impl std::ops::Not for Condition {
    type Output = Condition;

    /// Must not hold: `!Condition::is_present("$.x")`.
    fn not(self) -> Condition {
        Condition(asl::Condition::Not(Box::new(self.rule())))
    }
}

/// A Choice state: `Choice::new("Updated?").when(cond, chain).otherwise(chain)`.
///
/// Its open ends, as a chain, are the open ends of its branches, so `Chain::next` after a Choice
/// continues every branch that did not end.
#[derive(Debug, Clone)]
pub struct Choice {
    name: String,
    state: asl::ChoiceState,
    branches: Vec<Chain>,
}

impl Choice {
    /// A choice state named `name`.
    pub fn new(name: &str) -> Choice {
        Choice {
            name: name.to_string(),
            state: asl::ChoiceState {
                comment: None,
                query_language: None,
                input_path: None,
                output_path: None,
                choices: Vec::new(),
                default: None,
                output: None,
                assign: None,
            },
            branches: Vec::new(),
        }
    }

    /// Goes to `then` when `condition` holds (rules are tried in order).
    pub fn when(mut self, condition: Condition, then: impl IntoChain) -> Choice {
        let then = then.into_chain();
        let mut rule = condition.rule();
        rule.next = Some(then.start.clone());
        self.state.choices.push(rule);
        self.branches.push(then);
        self
    }

    /// Goes to `then` when no rule holds.
    pub fn otherwise(mut self, then: impl IntoChain) -> Choice {
        let then = then.into_chain();
        self.state.default = Some(then.start.clone());
        self.branches.push(then);
        self
    }
}

common_builder_methods!(Choice, ChoiceState);

impl IntoChain for Choice {
    fn into_chain(self) -> Chain {
        let ends = self.branches.iter().flat_map(|b| b.ends.clone()).collect();
        let mut chain = Chain::single(
            self.name,
            State::Choice(Box::new(self.state)),
            false,
            self.branches,
        );
        chain.ends = ends;
        chain
    }
}

/// A Parallel state: `Parallel::new("Both").branch(chain_a).branch(chain_b)`.
#[derive(Debug, Clone)]
pub struct Parallel {
    name: String,
    state: asl::ParallelState,
    extra: Vec<Chain>,
    errors: Vec<BuildError>,
}

impl Parallel {
    /// A parallel state named `name` with no branches yet.
    pub fn new(name: &str) -> Parallel {
        Parallel {
            name: name.to_string(),
            state: asl::ParallelState {
                comment: None,
                query_language: None,
                branches: Vec::new(),
                input_path: None,
                parameters: None,
                arguments: None,
                result_selector: None,
                result_path: None,
                output_path: None,
                output: None,
                assign: None,
                retry: None,
                catch: None,
                next: None,
                end: None,
            },
            extra: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Adds a branch; its open ends become `End: true`.
    pub fn branch(mut self, body: impl IntoChain) -> Parallel {
        match body.into_chain().close() {
            Ok((start_at, states)) => self.state.branches.push(StateMachine {
                comment: None,
                query_language: None,
                start_at,
                version: None,
                timeout_seconds: None,
                states,
            }),
            Err(e) => self.errors.push(e),
        }
        self
    }
}

common_builder_methods!(Parallel, ParallelState);
io_methods!(Parallel);
result_methods!(Parallel);
error_handling_methods!(Parallel);

impl IntoChain for Parallel {
    fn into_chain(self) -> Chain {
        let mut chain = Chain::single(
            self.name,
            State::Parallel(Box::new(self.state)),
            true,
            self.extra,
        );
        chain.errors.extend(self.errors);
        chain
    }
}

/// An inline Map state: `Map::new("Each", "$.items", chain).max_concurrency(10)`.
#[derive(Debug, Clone)]
pub struct Map {
    name: String,
    state: asl::MapState,
    extra: Vec<Chain>,
    errors: Vec<BuildError>,
}

impl Map {
    /// A Map named `name` running `processor` for each item of the array at `items_path`.
    pub fn new(name: &str, items_path: &str, processor: impl IntoChain) -> Map {
        let mut errors = Vec::new();
        let item_processor = match processor.into_chain().close() {
            Ok((start_at, states)) => Some(asl::ItemProcessor {
                comment: None,
                query_language: None,
                processor_config: None,
                start_at,
                states,
            }),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        Map {
            name: name.to_string(),
            state: asl::MapState {
                comment: None,
                query_language: None,
                item_processor,
                iterator: None,
                input_path: None,
                items_path: Some(items_path.to_string()),
                items: None,
                item_selector: None,
                parameters: None,
                item_reader: None,
                item_batcher: None,
                result_writer: None,
                max_concurrency: None,
                max_concurrency_path: None,
                tolerated_failure_count: None,
                tolerated_failure_count_path: None,
                tolerated_failure_percentage: None,
                tolerated_failure_percentage_path: None,
                label: None,
                result_selector: None,
                result_path: None,
                output_path: None,
                output: None,
                assign: None,
                retry: None,
                catch: None,
                next: None,
                end: None,
            },
            extra: Vec::new(),
            errors,
        }
    }

    /// Items processed at once (0 = no limit).
    pub fn max_concurrency(mut self, n: u64) -> Map {
        self.state.max_concurrency = Some(NumberOrExpr::Number(n.into()));
        self
    }

    /// `ItemSelector`: the template each item's input is built from.
    pub fn item_selector(mut self, template: Value) -> Map {
        self.state.item_selector = Some(template);
        self
    }
}

common_builder_methods!(Map, MapState);
io_methods!(Map);
error_handling_methods!(Map);

impl Map {
    /// `ResultPath`.
    pub fn result_path(mut self, path: &str) -> Map {
        self.state.result_path = Some(Some(path.to_string()));
        self
    }
}

impl IntoChain for Map {
    fn into_chain(self) -> Chain {
        let mut chain = Chain::single(
            self.name,
            State::Map(Box::new(self.state)),
            true,
            self.extra,
        );
        chain.errors.extend(self.errors);
        chain
    }
}

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
