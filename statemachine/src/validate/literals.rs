//! Static checks of literal values that would otherwise fail only when the execution reaches
//! the state: a Wait's `Seconds` (an integer from 0 to 99,999,999) and `Timestamp` (an
//! ISO-8601 extended offset date-time), a Task's `TimeoutSeconds` and `HeartbeatSeconds`
//! (positive integers up to 99,999,999, the heartbeat below the timeout), a Map's
//! `MaxConcurrency` and `ToleratedFailureCount` (non-negative integers) and
//! `ToleratedFailurePercentage` (0 to 100), a retrier's `IntervalSeconds`, `MaxAttempts` and
//! `MaxDelaySeconds`, and the machine's `TimeoutSeconds`. JSONata expressions (`{% ... %}`)
//! are left to run time; a string that is not one, where a number belongs, is an error too.
//! The ranges are those the Amazon States Language documentation gives.

use std::ops::RangeInclusive;

use serde_json::Number;

use super::Validator;
use crate::asl::{MapState, NumberOrExpr, QueryLanguage, Retrier, TaskState, WaitState};
use crate::eval::jsonata;
use crate::eval::Timestamp;

/// The largest `Seconds`, `TimeoutSeconds`, `HeartbeatSeconds` and `IntervalSeconds`.
pub(super) const MAX_SECONDS: u64 = 99_999_999;
/// `MaxDelaySeconds` must be below this.
const MAX_DELAY_LIMIT: u64 = 31_622_401;

/// What a numeric field holds, as far as it is known before the run.
enum Literal {
    /// A JSON number.
    Number(Number),
    /// A JSONata expression: known only at run time.
    Expr,
    /// A string that is no expression.
    Text(String),
}

fn literal(v: &NumberOrExpr) -> Literal {
    match v {
        NumberOrExpr::Number(n) => Literal::Number(n.clone()),
        NumberOrExpr::Expr(e) if jsonata::expression(e.trim()).is_some() => Literal::Expr,
        NumberOrExpr::Expr(e) => Literal::Text(e.clone()),
    }
}

impl Validator {
    /// `field` of `name`, when it is a literal, must be an integer in `range`: its value.
    fn literal_integer(
        &mut self,
        name: &str,
        field: &str,
        value: Option<&NumberOrExpr>,
        range: RangeInclusive<u64>,
    ) -> Option<u64> {
        let want = || {
            format!(
                "must be an integer from {} to {} (or a JSONata expression {{% ... %}})",
                range.start(),
                range.end()
            )
        };
        match literal(value?) {
            Literal::Expr => None,
            Literal::Number(n) => match n.as_u64().filter(|v| range.contains(v)) {
                Some(v) => Some(v),
                None => {
                    self.error(name, Some(field), format!("{n} {}", want()));
                    None
                }
            },
            Literal::Text(t) => {
                self.error(name, Some(field), format!("{t:?} {}", want()));
                None
            }
        }
    }

    /// A literal `u64` field (typed so by the parser) in `range`.
    fn integer_in(
        &mut self,
        name: &str,
        field: &str,
        value: Option<u64>,
        range: RangeInclusive<u64>,
    ) {
        if let Some(v) = value.filter(|v| !range.contains(v)) {
            self.error(
                name,
                Some(field),
                format!(
                    "{v} must be an integer from {} to {}",
                    range.start(),
                    range.end()
                ),
            );
        }
    }

    pub(super) fn wait_literals(&mut self, name: &str, w: &WaitState, lang: QueryLanguage) {
        self.literal_integer(name, "Seconds", w.seconds.as_ref(), 0..=MAX_SECONDS);
        let Some(t) = &w.timestamp else {
            return;
        };
        if lang == QueryLanguage::Jsonata && jsonata::expression(t.trim()).is_some() {
            return;
        }
        if Timestamp::parse(t).is_none() {
            self.error(
                name,
                Some("Timestamp"),
                format!(
                    "{t:?} is not an ISO-8601 extended offset date-time such as \
                     2026-11-23T06:00:00Z (uppercase T and Z, or an offset like +01:00)"
                ),
            );
        }
    }

    pub(super) fn task_literals(&mut self, name: &str, t: &TaskState) {
        let timeout = self.literal_integer(
            name,
            "TimeoutSeconds",
            t.timeout_seconds.as_ref(),
            1..=MAX_SECONDS,
        );
        let heartbeat = self.literal_integer(
            name,
            "HeartbeatSeconds",
            t.heartbeat_seconds.as_ref(),
            1..=MAX_SECONDS,
        );
        if let (Some(h), Some(to)) = (heartbeat, timeout) {
            if h >= to {
                self.error(
                    name,
                    Some("HeartbeatSeconds"),
                    format!("{h} must be less than TimeoutSeconds ({to})"),
                );
            }
        }
    }

    pub(super) fn map_literals(&mut self, name: &str, m: &MapState) {
        self.literal_integer(
            name,
            "MaxConcurrency",
            m.max_concurrency.as_ref(),
            0..=u64::from(u32::MAX),
        );
        self.literal_integer(
            name,
            "ToleratedFailureCount",
            m.tolerated_failure_count.as_ref(),
            0..=u64::from(u32::MAX),
        );
        match m.tolerated_failure_percentage.as_ref().map(literal) {
            Some(Literal::Number(n)) if n.as_f64().is_some_and(|p| (0.0..=100.0).contains(&p)) => {}
            Some(Literal::Number(n)) => self.error(
                name,
                Some("ToleratedFailurePercentage"),
                format!("{n} must be a number from 0 to 100"),
            ),
            Some(Literal::Text(t)) => self.error(
                name,
                Some("ToleratedFailurePercentage"),
                format!(
                    "{t:?} must be a number from 0 to 100 (or a JSONata expression {{% ... %}})"
                ),
            ),
            Some(Literal::Expr) | None => {}
        }
    }

    pub(super) fn retrier_literals(&mut self, name: &str, i: usize, r: &Retrier) {
        let field = |f: &str| format!("Retry[{i}].{f}");
        self.integer_in(
            name,
            &field("IntervalSeconds"),
            r.interval_seconds,
            1..=MAX_SECONDS,
        );
        self.integer_in(name, &field("MaxAttempts"), r.max_attempts, 0..=MAX_SECONDS);
        self.integer_in(
            name,
            &field("MaxDelaySeconds"),
            r.max_delay_seconds,
            1..=MAX_DELAY_LIMIT - 1,
        );
    }

    /// The machine's own `TimeoutSeconds` (a positive integer).
    pub(super) fn machine_timeout(&mut self, timeout: Option<u64>) {
        if timeout == Some(0) {
            self.push(
                super::Severity::Error,
                None,
                Some("TimeoutSeconds"),
                "0 must be a positive integer of seconds".into(),
            );
        }
    }
}
