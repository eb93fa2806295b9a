//! The steps every state with a result shares: the effective input (InputPath), the result
//! shaped into the state's output (ResultSelector → ResultPath → OutputPath, or JSONata
//! Output) with its Assign, and the exit (or the failure) that follows.

use std::borrow::Cow;

use serde_json::Value;

use super::failure::Failure;
use super::run::{Frame, Here, Run, Step};
use super::states::{assign, jsonata_output, Assigned};
use crate::asl::{MapState, NullablePath, ParallelState, QueryLanguage, TaskState};
use crate::eval::{
    apply_result_path, evaluate_payload, input_path_ref, output_path_owned, EvalError, Scope,
};

/// The fields that shape a result into a state's output.
#[derive(Clone, Copy)]
pub(crate) struct ResultFields<'a> {
    pub result_selector: &'a Option<Value>,
    pub result_path: &'a NullablePath,
    pub output_path: &'a NullablePath,
    pub output: &'a Option<Value>,
    pub assign: &'a Option<Value>,
}

macro_rules! result_fields_of {
    ($($t:ty),*) => {$(
        impl<'a> From<&'a $t> for ResultFields<'a> {
            fn from(s: &'a $t) -> ResultFields<'a> {
                ResultFields {
                    result_selector: &s.result_selector,
                    result_path: &s.result_path,
                    output_path: &s.output_path,
                    output: &s.output,
                    assign: &s.assign,
                }
            }
        }
    )*};
}

result_fields_of!(TaskState, MapState, ParallelState);

impl Run<'_> {
    /// ResultSelector → ResultPath → OutputPath (JSONPath) or Output (JSONata) of a state with
    /// a result (Map, Parallel), and its Assign.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn shape_result(
        &self,
        here: &Here<'_>,
        fields: ResultFields<'_>,
        input: &Value,
        effective: &Value,
        result: &Value,
        ctx: &Value,
        frame: &Frame<'_>,
    ) -> Result<(Value, Assigned), EvalError> {
        let scope = self.scope(input, ctx, frame);
        match here.lang {
            QueryLanguage::JsonPath => {
                let selected = match fields.result_selector {
                    Some(rs) => evaluate_payload(
                        QueryLanguage::JsonPath,
                        "ResultSelector",
                        rs,
                        &scope.with_input(result),
                    )?,
                    None => result.clone(),
                };
                self.inspect(here, "afterResultSelector", || selected.clone());
                let assigned = assign(
                    here.lang,
                    fields.assign,
                    &scope.with_input(effective).with_result(&selected),
                )?;
                let after = apply_result_path(fields.result_path, input, selected)?;
                self.inspect(here, "afterResultPath", || after.clone());
                Ok((
                    output_path_owned(fields.output_path, after, &scope)?,
                    assigned,
                ))
            }
            QueryLanguage::Jsonata => {
                let scope = scope.with_result(result);
                let assigned = assign(here.lang, fields.assign, &scope)?;
                Ok((jsonata_output(fields.output, &scope, result)?, assigned))
            }
        }
    }

    /// The state's effective input: InputPath applied (JSONPath), the input itself (JSONata).
    pub(crate) fn effective_input<'s>(
        &self,
        here: &Here<'_>,
        input_path: &NullablePath,
        scope: &Scope<'s>,
    ) -> Result<Cow<'s, Value>, EvalError> {
        match here.lang {
            QueryLanguage::JsonPath => {
                let e = input_path_ref(input_path, scope)?;
                self.inspect(here, "afterInputPath", || e.as_ref().clone());
                Ok(e)
            }
            QueryLanguage::Jsonata => Ok(Cow::Borrowed(scope.input)),
        }
    }

    /// Exits with the shaped output and assignments, or fails with the evaluation error.
    pub(crate) fn conclude(
        &self,
        here: &Here<'_>,
        frame: &mut Frame<'_>,
        shaped: Result<(Value, Assigned), EvalError>,
        next: Option<&str>,
    ) -> Result<Step, Failure> {
        match shaped {
            Ok((output, assigned)) => self.exit(here, frame, output, assigned, next),
            Err(e) => Err(self.eval_failure(e, here, frame)),
        }
    }
}
