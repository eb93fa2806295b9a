//! The state builders: one per state type, each turning into a one-state [`Chain`] (plus the
//! chains its Catch handlers and Choice branches bring along).

use serde_json::{Number, Value};

use super::{BuildError, Catch, Chain, IntoChain, Retry};
use crate::asl::{
    self, Catcher, ChoiceRule, Comparison, NumberOrExpr, Operand, State, StateMachine,
};

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
