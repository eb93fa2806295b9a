//! `Retry` and `Catch`, shared by Task, Parallel and Map: which retrier handles a failure and
//! how long to back off (IntervalSeconds × BackoffRate^n, capped by MaxDelaySeconds, with FULL
//! jitter drawn from the injected randomness), and how a catcher turns the error output into the
//! state's output.

use serde_json::Value;

use super::failure::Failure;
use super::history::{EventDetails, EventType};
use super::integration::Resource;
use super::record::ResumePoint;
use super::run::{ContextExtra, Frame, Here, Run, Step};
use super::states::{assign, jsonata_output};
use crate::asl::{
    Catcher, ItemProcessor, JitterStrategy, MapState, ParallelState, QueryLanguage, Retrier,
    TaskState,
};
use crate::eval::{apply_result_path, EvalError, Random};

/// The retry bookkeeping of one state entry.
pub(crate) struct Retries<'s> {
    retriers: &'s [Retrier],
    attempts: Vec<u32>,
    /// Retries so far, all retriers together (`$$.State.RetryCount`).
    pub total: u32,
}

impl<'s> Retries<'s> {
    pub(crate) fn new(retriers: &'s [Retrier]) -> Retries<'s> {
        Retries {
            retriers,
            attempts: vec![0; retriers.len()],
            total: 0,
        }
    }

    /// Retries counted as already made by every retrier (TestState's `retrierRetryCount`).
    pub(crate) fn already(mut self, count: u32) -> Retries<'s> {
        self.attempts.fill(count);
        self
    }

    /// The decision after `failure`: which retrier matched (the first whose `ErrorEquals`
    /// matches decides; when its attempts are used up, no later retrier is tried) and how long
    /// to wait, or `None` as the wait when that retrier is spent.
    pub(crate) fn decide(
        &mut self,
        failure: &Failure,
        random: &dyn Random,
    ) -> Option<(usize, Option<i64>)> {
        let i = self
            .retriers
            .iter()
            .position(|r| failure.matches(&r.error_equals))?;
        let r = &self.retriers[i];
        let n = self.attempts[i];
        if u64::from(n) >= r.max_attempts.unwrap_or(3) {
            return Some((i, None));
        }
        self.attempts[i] += 1;
        self.total += 1;
        Some((i, Some(backoff_ms(r, n, random))))
    }
}

/// The wait before retry number `n + 1` of retrier `r`.
pub(crate) fn backoff_ms(r: &Retrier, n: u32, random: &dyn Random) -> i64 {
    let interval = r.interval_seconds.unwrap_or(1) as f64;
    let rate = r
        .backoff_rate
        .as_ref()
        .and_then(|b| b.as_f64())
        .unwrap_or(2.0);
    let mut seconds = interval * rate.powi(i32::try_from(n).unwrap_or(i32::MAX));
    if let Some(max) = r.max_delay_seconds {
        seconds = seconds.min(max as f64);
    }
    if r.jitter_strategy == Some(JitterStrategy::Full) {
        seconds *= random.next_f64();
    }
    let ms = (seconds * 1000.0).round();
    if ms.is_finite() && ms < i64::MAX as f64 {
        ms.max(0.0) as i64
    } else {
        i64::MAX
    }
}

/// The error handling of one state entry: its retriers (with their counts), catchers, and the
/// event it writes when it gives up because of its children (`MapStateFailed`,
/// `ParallelStateFailed`).
pub(crate) struct Handlers<'s> {
    pub retries: Retries<'s>,
    pub catchers: &'s [Catcher],
    pub failed_event: Option<EventType>,
}

/// The work of a state with Retry and Catch, run once per attempt.
pub(crate) enum Work<'a> {
    /// A Task and its parsed resource.
    Task(&'a TaskState, Resource),
    /// A Map and its processor.
    Map(&'a MapState, &'a ItemProcessor),
    /// A Parallel state.
    Parallel(&'a ParallelState),
}

/// What to do after a failed attempt of a state with Retry and Catch.
pub(crate) enum Then {
    /// Run the state's work again (the backoff has been waited).
    Retry,
    /// Stop with this result (caught: the catcher's step; not caught: the failure).
    Done(Result<Step, Failure>),
}

impl Run<'_> {
    /// Runs the work of `here` until it succeeds, or a failure is neither retried nor caught (a
    /// caught failure ends with the catcher's step). `resume` (a redrive) applies to the first
    /// attempt.
    pub(crate) async fn with_recovery(
        &self,
        here: &Here<'_>,
        work: Work<'_>,
        input: &Value,
        frame: &mut Frame<'_>,
        resume: Option<&ResumePoint>,
    ) -> Result<Step, Failure> {
        let mut handlers = match &work {
            Work::Task(s, _) => self.handlers(here, &s.retry, &s.catch, None),
            Work::Map(s, _) => {
                self.handlers(here, &s.retry, &s.catch, Some(EventType::MapStateFailed))
            }
            Work::Parallel(s) => self.handlers(
                here,
                &s.retry,
                &s.catch,
                Some(EventType::ParallelStateFailed),
            ),
        };
        let mut children = resume.and_then(|r| r.children.as_deref());
        loop {
            let retries = handlers.retries.total;
            let outcome = match &work {
                Work::Task(s, r) => self.task_attempt(here, s, r, input, frame, retries).await,
                Work::Map(s, p) => {
                    let resume = children.take();
                    self.map_attempt(here, s, p, input, frame, retries, resume)
                        .await
                }
                Work::Parallel(s) => {
                    let resume = children.take();
                    self.parallel_attempt(here, s, input, frame, retries, resume)
                        .await
                }
            };
            let failure = match outcome {
                Ok(step) => return Ok(step),
                Err(f) => f,
            };
            let then = self
                .after_failure(here, &mut handlers, failure, input, frame)
                .await;
            if let Then::Done(result) = then {
                return result;
            }
        }
    }

    /// After an attempt of `here` failed: back off and retry, or catch, or fail.
    pub(crate) async fn after_failure(
        &self,
        here: &Here<'_>,
        handlers: &mut Handlers<'_>,
        mut failure: Failure,
        input: &Value,
        frame: &mut Frame<'_>,
    ) -> Then {
        if failure.is_fatal() {
            return Then::Done(Err(failure));
        }
        let decision = handlers.retries.decide(&failure, self.engine.random);
        if let Some(test) = self.tested(here) {
            if let Some((index, wait)) = decision {
                let mut details = serde_json::json!({ "retryIndex": index });
                if let Some(ms) = wait {
                    details["retryBackoffIntervalSeconds"] = serde_json::json!(ms / 1000);
                    failure.retriable = true;
                }
                test.inspect("errorDetails", || details);
                if failure.retriable {
                    return Then::Done(Err(failure));
                }
            }
        } else if let Some((_, Some(wait))) = decision {
            let until = self.engine.clock.now_ms().saturating_add(wait);
            return match self.wait_until(until).await {
                Ok(()) => Then::Retry,
                Err(f) => Then::Done(Err(f)),
            };
        }
        if let Some(kind) = handlers.failed_event.filter(|_| failure.children.is_some()) {
            if let Err(f) = self.event(frame, kind, EventDetails::default()) {
                return Then::Done(Err(f));
            }
        }
        let retries = handlers.retries.total;
        Then::Done(self.catch(here, handlers.catchers, retries, failure, input, frame))
    }

    /// Hands an unretried failure to the first matching catcher, or passes it on.
    pub(crate) fn catch(
        &self,
        here: &Here<'_>,
        catchers: &[Catcher],
        retry_count: u32,
        failure: Failure,
        input: &Value,
        frame: &mut Frame<'_>,
    ) -> Result<Step, Failure> {
        if failure.is_fatal() {
            return Err(failure);
        }
        let Some((index, c)) = catchers
            .iter()
            .enumerate()
            .find(|(_, c)| failure.matches(&c.error_equals))
        else {
            return Err(failure);
        };
        if let Some(test) = self.tested(here) {
            test.inspect(
                "errorDetails",
                || serde_json::json!({ "catchIndex": index }),
            );
            test.caught(&failure);
        }
        let error_output = failure.error_output();
        let extra = ContextExtra::retries(retry_count);
        let ctx = self.context(here, extra);
        let shaped: Result<_, EvalError> = (|| {
            let scope = self
                .scope(input, &ctx, frame)
                .with_error_output(&error_output);
            let assigned = assign(here.lang, &c.assign, &scope)?;
            let output = match here.lang {
                QueryLanguage::JsonPath => {
                    apply_result_path(&c.result_path, input, error_output.clone())?
                }
                QueryLanguage::Jsonata => jsonata_output(&c.output, &scope, &error_output)?,
            };
            Ok((output, assigned))
        })();
        match shaped {
            Ok((output, assigned)) => self.exit(here, frame, output, assigned, Some(&c.next)),
            Err(e) => Err(self.eval_failure(e, here, frame)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::SeededRandom;

    fn retrier(json: &str) -> Retrier {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn defaults_are_one_second_doubling_three_times() {
        let r = retrier(r#"{"ErrorEquals":["States.ALL"]}"#);
        let rnd = SeededRandom::new(1);
        let waits: Vec<i64> = (0..3).map(|n| backoff_ms(&r, n, &rnd)).collect();
        assert_eq!(waits, [1000, 2000, 4000]);
        let mut retries = Retries::new(std::slice::from_ref(&r));
        let f = Failure::new(Some("X".into()), None);
        assert_eq!(
            (0..4).map(|_| retries.decide(&f, &rnd)).collect::<Vec<_>>(),
            [
                Some((0, Some(1000))),
                Some((0, Some(2000))),
                Some((0, Some(4000))),
                Some((0, None))
            ]
        );
        assert_eq!(retries.total, 3);
    }

    #[test]
    fn max_delay_caps_and_full_jitter_stays_below() {
        let r = retrier(
            r#"{"ErrorEquals":["X"],"IntervalSeconds":10,"BackoffRate":3,"MaxDelaySeconds":25,"JitterStrategy":"FULL"}"#,
        );
        let rnd = SeededRandom::new(9);
        for n in 0..5 {
            let w = backoff_ms(&r, n, &rnd);
            assert!((0..=25_000).contains(&w), "{w}");
        }
    }

    #[test]
    fn the_first_matching_retrier_decides_even_when_spent() {
        let a = retrier(r#"{"ErrorEquals":["X"],"MaxAttempts":0}"#);
        let b = retrier(r#"{"ErrorEquals":["States.ALL"]}"#);
        let list = [a, b];
        let mut retries = Retries::new(&list);
        let f = Failure::new(Some("X".into()), None);
        assert_eq!(retries.decide(&f, &SeededRandom::new(0)), Some((0, None)));
    }
}
