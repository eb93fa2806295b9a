//! The states without work or children: Pass, Choice, Wait, Succeed and Fail, in both query
//! languages (JSONPath: InputPath → Parameters/Result → ResultPath → OutputPath; JSONata:
//! Output), with `Assign` evaluated against the variables as they were on entry.

use serde_json::{Map, Value};

use super::failure::Failure;
use super::run::{next_of, ContextExtra, Frame, Here, Run, Step};
use crate::asl::{ChoiceState, FailState, PassState, QueryLanguage, SucceedState, WaitState};
use crate::eval::{
    apply_output_path, apply_result_path, choice::evaluate_rule, evaluate_assign, evaluate_payload,
    fail_fields, input_path_ref, output_path_owned, wait_target, EvalError, Timestamp,
};

/// Variables a state assigns.
pub(crate) type Assigned = Option<Map<String, Value>>;

type Shaped = Result<(Value, Assigned), EvalError>;

impl Run<'_> {
    pub(crate) async fn pass(
        &self,
        here: &Here<'_>,
        s: &PassState,
        input: &Value,
        frame: &mut Frame<'_>,
    ) -> Result<Step, Failure> {
        let ctx = self.context(here, ContextExtra::default());
        let shaped: Shaped = (|| {
            let scope = self.scope(input, &ctx, frame);
            match here.lang {
                QueryLanguage::JsonPath => {
                    let effective = input_path_ref(&s.input_path, &scope)?;
                    let in_scope = scope.with_input(&effective);
                    let result = match (&s.result, &s.parameters) {
                        (Some(r), _) => {
                            self.inspect(here, "result", || r.clone());
                            r.clone()
                        }
                        (None, p) => {
                            self.inspect(here, "afterInputPath", || effective.as_ref().clone());
                            let out = match p {
                                Some(p) => evaluate_payload(here.lang, "Parameters", p, &in_scope)?,
                                None => effective.as_ref().clone(),
                            };
                            self.inspect(here, "afterParameters", || out.clone());
                            out
                        }
                    };
                    self.inspect(here, "afterResultSelector", || result.clone());
                    let assigned = assign(here.lang, &s.assign, &in_scope.with_result(&result))?;
                    let after = apply_result_path(&s.result_path, input, result)?;
                    self.inspect(here, "afterResultPath", || after.clone());
                    Ok((output_path_owned(&s.output_path, after, &scope)?, assigned))
                }
                QueryLanguage::Jsonata => {
                    let assigned = assign(here.lang, &s.assign, &scope)?;
                    Ok((jsonata_output(&s.output, &scope, input)?, assigned))
                }
            }
        })();
        self.conclude(here, frame, shaped, next_of(here.state))
    }

    pub(crate) async fn choice(
        &self,
        here: &Here<'_>,
        s: &ChoiceState,
        input: &Value,
        frame: &mut Frame<'_>,
    ) -> Result<Step, Failure> {
        let ctx = self.context(here, ContextExtra::default());
        let decided: Result<Option<(String, Value, Assigned)>, EvalError> = (|| {
            let scope = self.scope(input, &ctx, frame);
            let effective = self.effective_input(here, &s.input_path, &scope)?;
            let in_scope = scope.with_input(&effective);
            let mut chosen = None;
            for rule in &s.choices {
                if evaluate_rule(&rule.condition, &in_scope)? {
                    chosen = Some((rule.next.as_deref(), &rule.assign, &rule.output));
                    break;
                }
            }
            let (next, assign_field, output_field) = match chosen {
                Some(c) => c,
                None => match &s.default {
                    Some(d) => (Some(d.as_str()), &s.assign, &s.output),
                    None => return Ok(None),
                },
            };
            let assigned = assign(here.lang, assign_field, &in_scope)?;
            let output = match here.lang {
                QueryLanguage::JsonPath => {
                    output_path_owned(&s.output_path, effective.into_owned(), &scope)?
                }
                QueryLanguage::Jsonata => jsonata_output(output_field, &scope, input)?,
            };
            Ok(Some((
                next.unwrap_or_default().to_string(),
                output,
                assigned,
            )))
        })();
        match decided {
            Ok(Some((next, output, assigned))) => {
                self.exit(here, frame, output, assigned, Some(&next))
            }
            Ok(None) => Err(Failure::new(
                Some("States.NoChoiceMatched".into()),
                Some(
                    EvalError::runtime("No Choice rule matched and the state has no Default.")
                        .cause_in_state(here.name, here.entered_id),
                ),
            )),
            Err(e) => Err(self.eval_failure(e, here, frame)),
        }
    }

    pub(crate) async fn wait(
        &self,
        here: &Here<'_>,
        s: &WaitState,
        input: &Value,
        frame: &mut Frame<'_>,
    ) -> Result<Step, Failure> {
        let ctx = self.context(here, ContextExtra::default());
        let now = Timestamp::from_unix_millis(self.engine.clock.now_ms());
        let planned: Result<(Timestamp, Value, Assigned), EvalError> = (|| {
            let scope = self.scope(input, &ctx, frame);
            match here.lang {
                QueryLanguage::JsonPath => {
                    let effective = self.effective_input(here, &s.input_path, &scope)?;
                    let in_scope = scope.with_input(&effective);
                    let target = wait_target(s, here.lang, &in_scope)?.deadline(now)?;
                    let assigned = assign(here.lang, &s.assign, &in_scope)?;
                    let output = output_path_owned(&s.output_path, effective.into_owned(), &scope)?;
                    Ok((target, output, assigned))
                }
                QueryLanguage::Jsonata => {
                    let target = wait_target(s, here.lang, &scope)?.deadline(now)?;
                    let assigned = assign(here.lang, &s.assign, &scope)?;
                    Ok((target, jsonata_output(&s.output, &scope, input)?, assigned))
                }
            }
        })();
        let (target, output, assigned) = match planned {
            Ok(p) => p,
            Err(e) => return Err(self.eval_failure(e, here, frame)),
        };
        let until = target.unix_millis();
        if until > self.engine.clock.now_ms() {
            self.wait_until(until).await?;
        }
        self.exit(here, frame, output, assigned, next_of(here.state))
    }

    pub(crate) async fn succeed(
        &self,
        here: &Here<'_>,
        s: &SucceedState,
        input: &Value,
        frame: &mut Frame<'_>,
    ) -> Result<Step, Failure> {
        let ctx = self.context(here, ContextExtra::default());
        let shaped: Result<Value, EvalError> = (|| {
            let scope = self.scope(input, &ctx, frame);
            match here.lang {
                QueryLanguage::JsonPath => {
                    let effective = self.effective_input(here, &s.input_path, &scope)?;
                    apply_output_path(&s.output_path, &effective, &scope)
                }
                QueryLanguage::Jsonata => jsonata_output(&s.output, &scope, input),
            }
        })();
        let shaped = shaped.map(|output| (output, None));
        self.conclude(here, frame, shaped, None)
    }

    pub(crate) async fn fail(
        &self,
        here: &Here<'_>,
        s: &FailState,
        input: &Value,
        frame: &mut Frame<'_>,
    ) -> Result<Step, Failure> {
        let ctx = self.context(here, ContextExtra::default());
        if here.lang == QueryLanguage::JsonPath {
            self.inspect(here, "afterInputPath", || input.clone());
        }
        let fields = {
            let scope = self.scope(input, &ctx, frame);
            fail_fields(s, here.lang, &scope)
        };
        match fields {
            Ok(f) => Err(Failure::new(f.error, f.cause)),
            Err(e) => Err(self.eval_failure(e, here, frame)),
        }
    }
}

/// `Assign`, when the state has one.
pub(crate) fn assign(
    lang: QueryLanguage,
    field: &Option<Value>,
    scope: &crate::eval::Scope<'_>,
) -> Result<Assigned, EvalError> {
    field
        .as_ref()
        .map(|a| evaluate_assign(lang, a, scope))
        .transpose()
}

/// A JSONata `Output`, or `default` when the state has none.
pub(crate) fn jsonata_output(
    field: &Option<Value>,
    scope: &crate::eval::Scope<'_>,
    default: &Value,
) -> Result<Value, EvalError> {
    match field {
        Some(o) => evaluate_payload(QueryLanguage::Jsonata, "Output", o, scope),
        None => Ok(default.clone()),
    }
}
