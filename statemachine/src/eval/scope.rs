//! What an evaluation can see: the state's input (`$`, `$states.input`), the context object
//! (`$$`, `$states.context`), the workflow variables (`$name`), the task result and error output
//! where the field allows them, and the injected source of randomness.

use std::collections::HashMap;
use std::hash::BuildHasher;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::random::Random;

/// Workflow variables set by `Assign`, looked up by name (without the `$`).
///
/// Implemented for the usual maps; [`Layered`] stacks an inner scope (a Map iteration or a
/// Parallel branch) on the variables of the scope around it.
pub trait Variables {
    /// The value bound to `name`, if any.
    fn get_var(&self, name: &str) -> Option<&Value>;
}

impl Variables for Map<String, Value> {
    fn get_var(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

impl<S: BuildHasher> Variables for HashMap<String, Value, S> {
    fn get_var(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

impl<S: BuildHasher> Variables for IndexMap<String, Value, S> {
    fn get_var(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// No variables at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoVariables;

impl Variables for NoVariables {
    fn get_var(&self, _name: &str) -> Option<&Value> {
        None
    }
}

/// Variables of an inner scope over those of the scope around it: a name bound in `inner` hides
/// the same name in `outer`.
#[derive(Clone, Copy)]
pub struct Layered<'a> {
    /// The scope's own variables.
    pub inner: &'a dyn Variables,
    /// The variables of the enclosing scope.
    pub outer: &'a dyn Variables,
}

impl Variables for Layered<'_> {
    fn get_var(&self, name: &str) -> Option<&Value> {
        self.inner
            .get_var(name)
            .or_else(|| self.outer.get_var(name))
    }
}

/// Everything an evaluation reads. Cheap to copy; every field is a borrow.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    /// `$` in JSONPath (the effective input of the field being evaluated), `$states.input` in
    /// JSONata (the state's raw input).
    pub input: &'a Value,
    /// The context object: `$$` in JSONPath, `$states.context` in JSONata.
    pub context: &'a Value,
    /// Workflow variables, `$name`.
    pub variables: &'a dyn Variables,
    /// The task / state result where the field may read it: `$states.result` in JSONata; in
    /// JSONPath `Assign`, the value `$` refers to.
    pub result: Option<&'a Value>,
    /// The error output in a `Catch` (`$states.errorOutput`; `$` of a JSONPath catcher's
    /// `Assign`).
    pub error_output: Option<&'a Value>,
    /// Randomness for `States.UUID`, `States.MathRandom`, `$uuid()`, `$random()`.
    pub random: &'a dyn Random,
}

impl<'a> Scope<'a> {
    /// A scope with input, context, variables and randomness, and no result or error output.
    pub fn new(
        input: &'a Value,
        context: &'a Value,
        variables: &'a dyn Variables,
        random: &'a dyn Random,
    ) -> Scope<'a> {
        Scope {
            input,
            context,
            variables,
            result: None,
            error_output: None,
            random,
        }
    }

    /// The same scope with another `$` / `$states.input`.
    pub fn with_input(self, input: &'a Value) -> Scope<'a> {
        Scope { input, ..self }
    }

    /// The same scope with a result (`$states.result`).
    pub fn with_result(self, result: &'a Value) -> Scope<'a> {
        Scope {
            result: Some(result),
            ..self
        }
    }

    /// The same scope with an error output (`$states.errorOutput`).
    pub fn with_error_output(self, error_output: &'a Value) -> Scope<'a> {
        Scope {
            error_output: Some(error_output),
            ..self
        }
    }

    /// The variable `name`, if bound.
    pub fn var(&self, name: &str) -> Option<&'a Value> {
        self.variables.get_var(name)
    }
}
