//! Static validation of a definition: what Step Functions would refuse at CreateStateMachine
//! (errors) and what is legal but likely a mistake (warnings). Every diagnostic names the state
//! and, where it applies, the field.
//!
//! Checked: `StartAt`/`Next`/`Default`/Catch targets exist in their scope; every state is
//! reachable; every scope can end; Next/End set exactly once; state names unique across the whole
//! machine; `States.ALL` alone and last; reference paths well formed; `.$` fields hold a path or
//! an intrinsic; fields of the other query language; Choice rules shaped right; Choice without
//! `Default` (warning); task results that flow unselected into the state (payload-limit warning);
//! a Map's `ItemBatcher` (DISTRIBUTED mode only, limits well formed: [`map_fields`]); literal
//! values that would fail only at run time, such as a Wait's `Timestamp` that does not parse or
//! `Seconds` out of range (`validate/literals.rs`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use indexmap::IndexMap;
use serde_json::Value;

mod literals;
mod map_fields;

use crate::asl::{
    Catcher, ChoiceRule, Condition, NullablePath, Operand, QueryLanguage, Retrier, State,
    StateMachine, Transition,
};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Legal, but probably not what was meant.
    Warning,
    /// Step Functions would reject the definition.
    Error,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The state it is about (`None` for the machine itself).
    pub state: Option<String>,
    /// The field, e.g. `Retry[0].ErrorEquals` (`None` for the state as a whole).
    pub field: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{kind}: ")?;
        match (&self.state, &self.field) {
            (Some(s), Some(field)) => write!(f, "state {s:?}, {field}: ")?,
            (Some(s), None) => write!(f, "state {s:?}: ")?,
            (None, Some(field)) => write!(f, "{field}: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

/// Validates a whole definition. Errors come first, then warnings, each in definition order.
pub fn validate(machine: &StateMachine) -> Vec<Diagnostic> {
    let mut v = Validator {
        out: Vec::new(),
        seen: HashMap::new(),
    };
    let lang = machine.query_language.unwrap_or(QueryLanguage::JsonPath);
    v.machine_timeout(machine.timeout_seconds);
    v.scope(&machine.start_at, &machine.states, lang, "machine");
    v.out.sort_by_key(|d| std::cmp::Reverse(d.severity));
    v.out
}

/// Only the errors of [`validate`].
pub fn errors(machine: &StateMachine) -> Vec<Diagnostic> {
    validate(machine)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

struct Validator {
    out: Vec<Diagnostic>,
    /// State name → where it was first defined (for uniqueness across scopes).
    seen: HashMap<String, String>,
}

impl Validator {
    fn push(
        &mut self,
        severity: Severity,
        state: Option<&str>,
        field: Option<&str>,
        message: String,
    ) {
        self.out.push(Diagnostic {
            severity,
            state: state.map(str::to_string),
            field: field.map(str::to_string),
            message,
        });
    }

    fn error(&mut self, state: &str, field: Option<&str>, message: String) {
        self.push(Severity::Error, Some(state), field, message);
    }

    fn warn(&mut self, state: &str, field: Option<&str>, message: String) {
        self.push(Severity::Warning, Some(state), field, message);
    }

    fn scope(
        &mut self,
        start_at: &str,
        states: &IndexMap<String, State>,
        lang: QueryLanguage,
        scope: &str,
    ) {
        if states.is_empty() {
            self.push(
                Severity::Error,
                None,
                Some("States"),
                format!("{scope} has no states"),
            );
            return;
        }
        if !states.contains_key(start_at) {
            self.push(
                Severity::Error,
                None,
                Some("StartAt"),
                format!("{scope}: StartAt {start_at:?} is not one of its states"),
            );
        }
        for (name, state) in states {
            if let Some(first) = self.seen.insert(name.clone(), scope.to_string()) {
                self.error(
                    name,
                    None,
                    format!("state name already used in {first}: names must be unique in the whole machine"),
                );
            }
            if name.is_empty() || name.chars().count() > 80 {
                self.error(name, None, "state names must be 1 to 80 characters".into());
            }
            let lang = state.query_language().unwrap_or(lang);
            self.state(name, state, states, lang);
        }
        self.reachability(start_at, states, scope);
    }

    fn reachability(&mut self, start_at: &str, states: &IndexMap<String, State>, scope: &str) {
        let mut reached: HashSet<&str> = HashSet::new();
        let mut queue: VecDeque<&str> = VecDeque::from([start_at]);
        let mut can_end = false;
        while let Some(name) = queue.pop_front() {
            let Some(state) = states.get(name) else {
                continue;
            };
            if !reached.insert(name) {
                continue;
            }
            if matches!(state, State::Succeed(_) | State::Fail(_))
                || state.transition() == Transition::End
            {
                can_end = true;
            }
            queue.extend(state.successors());
        }
        if !states.contains_key(start_at) {
            return;
        }
        for name in states.keys() {
            if !reached.contains(name.as_str()) {
                self.error(
                    name,
                    None,
                    format!("not reachable from {scope}'s StartAt {start_at:?}"),
                );
            }
        }
        if !can_end {
            self.push(
                Severity::Error,
                None,
                Some("States"),
                format!("{scope} never ends: no reachable Succeed, Fail or End: true state"),
            );
        }
    }

    fn target(&mut self, state: &str, field: &str, target: &str, states: &IndexMap<String, State>) {
        if !states.contains_key(target) {
            self.error(
                state,
                Some(field),
                format!("{target:?} is not a state of this scope"),
            );
        }
    }

    fn state(
        &mut self,
        name: &str,
        state: &State,
        states: &IndexMap<String, State>,
        lang: QueryLanguage,
    ) {
        match state.transition() {
            Transition::Next(n) => self.target(name, "Next", n, states),
            Transition::Invalid => {
                self.error(name, None, "set exactly one of Next and End: true".into())
            }
            Transition::End | Transition::None => {}
        }
        let (retry, catch) = state.error_handling();
        self.retriers(name, retry);
        self.catchers(name, catch, states, lang);
        self.language_fields(name, state, lang);
        match state {
            State::Task(t) => {
                self.task_literals(name, t);
                self.paths(
                    name,
                    lang,
                    &[("InputPath", &t.input_path), ("OutputPath", &t.output_path)],
                );
                self.result_path(name, lang, &t.result_path);
                self.template(name, "Parameters", t.parameters.as_ref());
                self.template(name, "ResultSelector", t.result_selector.as_ref());
                if let Some(c) = &t.credentials {
                    let role = c.get("RoleArn").or_else(|| c.get("RoleArn.$"));
                    if !c.is_object() || role.is_none() {
                        self.error(
                            name,
                            Some("Credentials"),
                            "needs RoleArn (or RoleArn.$)".into(),
                        );
                    }
                }
                if t.timeout_seconds.is_some() && t.timeout_seconds_path.is_some() {
                    self.error(
                        name,
                        None,
                        "set TimeoutSeconds or TimeoutSecondsPath, not both".into(),
                    );
                }
                if t.heartbeat_seconds.is_some() && t.heartbeat_seconds_path.is_some() {
                    self.error(
                        name,
                        None,
                        "set HeartbeatSeconds or HeartbeatSecondsPath, not both".into(),
                    );
                }
                let unselected = t.result_selector.is_none() && t.result_path != Some(None);
                let big_result = [
                    ":::batch:",
                    ":::lambda:",
                    ":::states:startExecution",
                    ":::aws-sdk:",
                ]
                .iter()
                .any(|r| t.resource.contains(r));
                if lang == QueryLanguage::JsonPath && unselected && big_result {
                    self.warn(
                        name,
                        Some("ResultSelector"),
                        format!(
                            "the whole result of {} enters the state; states are capped at 256 KiB: \
                             pick the fields you need with ResultSelector, or set ResultPath: null",
                            t.resource
                        ),
                    );
                }
            }
            State::Pass(p) => {
                self.paths(
                    name,
                    lang,
                    &[("InputPath", &p.input_path), ("OutputPath", &p.output_path)],
                );
                self.result_path(name, lang, &p.result_path);
                self.template(name, "Parameters", p.parameters.as_ref());
            }
            State::Choice(c) => {
                self.paths(
                    name,
                    lang,
                    &[("InputPath", &c.input_path), ("OutputPath", &c.output_path)],
                );
                if c.choices.is_empty() {
                    self.error(name, Some("Choices"), "needs at least one rule".into());
                }
                for (i, rule) in c.choices.iter().enumerate() {
                    let field = format!("Choices[{i}]");
                    match &rule.next {
                        Some(n) => self.target(name, &format!("{field}.Next"), n, states),
                        None => {
                            self.error(name, Some(&field), "a top-level rule needs Next".into())
                        }
                    }
                    self.condition(name, &field, &rule.condition, lang);
                }
                match &c.default {
                    Some(d) => self.target(name, "Default", d, states),
                    None => self.warn(
                        name,
                        Some("Default"),
                        "no Default: when no rule matches, the execution fails with States.NoChoiceMatched".into(),
                    ),
                }
            }
            State::Wait(w) => {
                self.wait_literals(name, w, lang);
                self.paths(
                    name,
                    lang,
                    &[("InputPath", &w.input_path), ("OutputPath", &w.output_path)],
                );
                let set = [
                    w.seconds.is_some(),
                    w.seconds_path.is_some(),
                    w.timestamp.is_some(),
                    w.timestamp_path.is_some(),
                ];
                if set.iter().filter(|b| **b).count() != 1 {
                    self.error(
                        name,
                        None,
                        "set exactly one of Seconds, SecondsPath, Timestamp, TimestampPath".into(),
                    );
                }
                for (field, p) in [
                    ("SecondsPath", &w.seconds_path),
                    ("TimestampPath", &w.timestamp_path),
                ] {
                    if let Some(p) = p {
                        self.reference_path(name, field, p);
                    }
                }
            }
            State::Succeed(s) => {
                self.paths(
                    name,
                    lang,
                    &[("InputPath", &s.input_path), ("OutputPath", &s.output_path)],
                );
            }
            State::Fail(f) => {
                if f.error.is_some() && f.error_path.is_some() {
                    self.error(name, None, "set Error or ErrorPath, not both".into());
                }
                if f.cause.is_some() && f.cause_path.is_some() {
                    self.error(name, None, "set Cause or CausePath, not both".into());
                }
            }
            State::Parallel(p) => {
                self.paths(
                    name,
                    lang,
                    &[("InputPath", &p.input_path), ("OutputPath", &p.output_path)],
                );
                self.result_path(name, lang, &p.result_path);
                self.template(name, "Parameters", p.parameters.as_ref());
                self.template(name, "ResultSelector", p.result_selector.as_ref());
                if p.branches.is_empty() {
                    self.error(name, Some("Branches"), "needs at least one branch".into());
                }
                for (i, b) in p.branches.iter().enumerate() {
                    let blang = b.query_language.unwrap_or(lang);
                    self.scope(
                        &b.start_at,
                        &b.states,
                        blang,
                        &format!("{name}.Branches[{i}]"),
                    );
                }
            }
            State::Map(m) => {
                self.map_literals(name, m);
                self.paths(
                    name,
                    lang,
                    &[("InputPath", &m.input_path), ("OutputPath", &m.output_path)],
                );
                self.result_path(name, lang, &m.result_path);
                self.template(name, "ItemSelector", m.item_selector.as_ref());
                self.template(name, "Parameters", m.parameters.as_ref());
                self.template(name, "ResultSelector", m.result_selector.as_ref());
                if let Some(p) = &m.items_path {
                    self.reference_path(name, "ItemsPath", p);
                }
                match (&m.item_processor, &m.iterator) {
                    (Some(_), Some(_)) => {
                        self.error(name, None, "set ItemProcessor or Iterator, not both".into())
                    }
                    (None, None) => self.error(
                        name,
                        Some("ItemProcessor"),
                        "a Map state needs an ItemProcessor".into(),
                    ),
                    _ => {}
                }
                if m.item_selector.is_some() && m.parameters.is_some() {
                    self.error(
                        name,
                        None,
                        "set ItemSelector or Parameters, not both".into(),
                    );
                }
                self.item_batcher(name, m, lang);
                if let Some(label) = &m.label {
                    if let Err(m) = check_label(label) {
                        self.error(name, Some("Label"), m);
                    }
                }
                if let Some(p) = m.processor() {
                    let plang = p.query_language.unwrap_or(lang);
                    self.scope(
                        &p.start_at,
                        &p.states,
                        plang,
                        &format!("{name}.ItemProcessor"),
                    );
                }
            }
        }
    }

    fn retriers(&mut self, name: &str, retry: &[Retrier]) {
        for (i, r) in retry.iter().enumerate() {
            let field = format!("Retry[{i}].ErrorEquals");
            self.error_equals(name, &field, &r.error_equals, i + 1 == retry.len());
            if r.backoff_rate
                .as_ref()
                .and_then(|n| n.as_f64())
                .is_some_and(|b| b < 1.0)
            {
                self.error(
                    name,
                    Some(&format!("Retry[{i}].BackoffRate")),
                    "must be at least 1.0".into(),
                );
            }
            self.retrier_literals(name, i, r);
        }
    }

    fn catchers(
        &mut self,
        name: &str,
        catch: &[Catcher],
        states: &IndexMap<String, State>,
        lang: QueryLanguage,
    ) {
        for (i, c) in catch.iter().enumerate() {
            self.error_equals(
                name,
                &format!("Catch[{i}].ErrorEquals"),
                &c.error_equals,
                i + 1 == catch.len(),
            );
            self.target(name, &format!("Catch[{i}].Next"), &c.next, states);
            if let Some(Some(p)) = &c.result_path {
                if lang == QueryLanguage::JsonPath {
                    self.reference_path(name, &format!("Catch[{i}].ResultPath"), p);
                }
            }
        }
    }

    fn error_equals(&mut self, name: &str, field: &str, errors: &[String], last: bool) {
        if errors.is_empty() {
            self.error(name, Some(field), "needs at least one error name".into());
        }
        if errors.iter().any(|e| e == "States.ALL") {
            if errors.len() > 1 {
                self.error(
                    name,
                    Some(field),
                    "States.ALL must be the only error name in its list".into(),
                );
            }
            if !last {
                self.error(
                    name,
                    Some(field),
                    "the entry with States.ALL must be the last one".into(),
                );
            }
        }
    }

    fn language_fields(&mut self, name: &str, state: &State, lang: QueryLanguage) {
        let v = serde_json::to_value(state).unwrap_or(Value::Null);
        let (wrong, other): (&[&str], &str) = match lang {
            QueryLanguage::JsonPath => (&["Arguments", "Output", "Items"], "JSONata"),
            QueryLanguage::Jsonata => (
                &[
                    "InputPath",
                    "OutputPath",
                    "ResultPath",
                    "Parameters",
                    "ResultSelector",
                    "ItemsPath",
                    "SecondsPath",
                    "TimestampPath",
                    "ErrorPath",
                    "CausePath",
                ],
                "JSONPath",
            ),
        };
        for field in wrong {
            if v.get(field).is_some() {
                self.error(
                    name,
                    Some(field),
                    format!("{field} is a {other} field; this state uses the other query language"),
                );
            }
        }
    }

    fn paths(&mut self, name: &str, lang: QueryLanguage, fields: &[(&str, &NullablePath)]) {
        if lang != QueryLanguage::JsonPath {
            return;
        }
        for (field, p) in fields {
            if let Some(Some(p)) = p {
                self.json_path(name, field, p);
            }
        }
    }

    fn result_path(&mut self, name: &str, lang: QueryLanguage, p: &NullablePath) {
        if lang == QueryLanguage::JsonPath {
            if let Some(Some(p)) = p {
                self.reference_path(name, "ResultPath", p);
            }
        }
    }

    /// A path that may use any JSONPath (filters, wildcards) but must start at `$`.
    fn json_path(&mut self, name: &str, field: &str, path: &str) {
        // `$`, `$.x`, `$[0]`, `$$.Execution...` and `$variable...` all start with `$`.
        if !path.starts_with('$') {
            self.error(
                name,
                Some(field),
                format!("{path:?} is not a JSONPath: it must start with $"),
            );
        }
    }

    /// A reference path: `$`, `$.a.b`, `$['a']`, `$.a[0]` — no filters, wildcards or slices.
    fn reference_path(&mut self, name: &str, field: &str, path: &str) {
        self.json_path(name, field, path);
        if path.contains('*')
            || path.contains("..")
            || path.contains("?(")
            || path.contains(':') && path.contains('[')
        {
            self.error(
                name,
                Some(field),
                format!("{path:?} must be a reference path (one node: no wildcards, filters, slices or ..)"),
            );
        }
    }

    /// `.$` keys of a payload template must hold a path or an intrinsic function.
    fn template(&mut self, name: &str, field: &str, template: Option<&Value>) {
        fn walk(v: &Value, at: &str, bad: &mut Vec<(String, String)>) {
            match v {
                Value::Object(map) => {
                    for (k, val) in map {
                        let here = format!("{at}.{k}");
                        if k.ends_with(".$") {
                            match val {
                                Value::String(s) if s.starts_with('$') || s.starts_with("States.") => {}
                                other => bad.push((here, format!("holds {other}; a .$ field needs a path ($...) or an intrinsic function (States....)"))),
                            }
                        } else {
                            walk(val, &here, bad);
                        }
                    }
                }
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        walk(item, &format!("{at}[{i}]"), bad);
                    }
                }
                _ => {}
            }
        }
        let Some(t) = template else { return };
        let mut bad = Vec::new();
        walk(t, field, &mut bad);
        for (at, message) in bad {
            self.error(name, Some(&at), message);
        }
    }

    fn condition(&mut self, name: &str, field: &str, cond: &Condition, lang: QueryLanguage) {
        let nested = |v: &mut Self, i: Option<usize>, key: &str, rule: &ChoiceRule| {
            let f = match i {
                Some(i) => format!("{field}.{key}[{i}]"),
                None => format!("{field}.{key}"),
            };
            if rule.next.is_some() {
                v.error(name, Some(&f), "a nested rule must not have Next".into());
            }
            v.condition(name, &f, &rule.condition, lang);
        };
        match cond {
            Condition::And(rules) | Condition::Or(rules) => {
                let key = if matches!(cond, Condition::And(_)) {
                    "And"
                } else {
                    "Or"
                };
                if rules.is_empty() {
                    self.error(name, Some(field), format!("{key} needs at least one rule"));
                }
                for (i, r) in rules.iter().enumerate() {
                    nested(self, Some(i), key, r);
                }
            }
            Condition::Not(rule) => nested(self, None, "Not", rule),
            Condition::Compare {
                variable,
                op,
                operand,
            } => {
                if lang == QueryLanguage::Jsonata {
                    self.error(
                        name,
                        Some(field),
                        "JSONata rules use Condition, not Variable".into(),
                    );
                    return;
                }
                self.json_path(name, &format!("{field}.Variable"), variable);
                match operand {
                    Operand::Path(p) => {
                        self.json_path(name, &format!("{field}.{}Path", op.name()), p)
                    }
                    Operand::Value(v) => {
                        let ok = match op.name() {
                            n if n.starts_with("Is") || n == "BooleanEquals" => v.is_boolean(),
                            n if n.starts_with("Numeric") => v.is_number(),
                            _ => v.is_string(),
                        };
                        if !ok {
                            self.error(
                                name,
                                Some(&format!("{field}.{}", op.name())),
                                format!("{v} is the wrong type for {}", op.name()),
                            );
                        } else if op.name().starts_with("Timestamp")
                            && v.as_str()
                                .is_some_and(|t| crate::eval::Timestamp::parse(t).is_none())
                        {
                            self.warn(
                                name,
                                Some(&format!("{field}.{}", op.name())),
                                format!(
                                    "{v} is not an ISO-8601 extended offset date-time such as \
                                     2026-11-23T06:00:00Z: this rule never matches"
                                ),
                            );
                        }
                    }
                }
            }
            Condition::Jsonata(_) => {
                if lang == QueryLanguage::JsonPath {
                    self.error(
                        name,
                        Some(field),
                        "Condition is a JSONata field; this state uses JSONPath".into(),
                    );
                }
            }
        }
    }
}

/// A Map run label: at most 40 characters, none of whitespace, brackets, wildcards, the
/// special characters `"#%\\^|~`$&,;:/` or control characters.
fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("a Map label cannot be empty".into());
    }
    if label.chars().count() > 40 {
        return Err(format!("{label:?} is longer than 40 characters"));
    }
    let bad =
        |c: char| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c);
    match label.chars().find(|c| bad(*c)) {
        Some(c) => Err(format!(
            "{label:?} contains the character {c:?}, which a Map label cannot hold"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
