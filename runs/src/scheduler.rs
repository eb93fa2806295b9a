//! The local EventBridge Scheduler: each feed of the configuration started on its `schedule`
//! (`rate(...)`, `cron(...)` or `at(...)`, in the feed's `schedule_timezone`, UTC by default)
//! under the execution name of its tick (`NAME-2026-12-02T06-00Z`), so that a tick never starts
//! twice. After a restart the last tick started is read back from the execution names, and only
//! the latest tick missed meanwhile is started, once (EventBridge's flexible window; see
//! [`schedule::Plan`]). A feed's runs are in this process, one after the other; feeds run side
//! by side.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use feed::config::FeedConfig;
use schedule::chrono::{DateTime, TimeZone, Utc};
use schedule::{execution_name, tick_of_execution_name, Schedule, Tz};
use statemachine::engine::Clock;

use crate::error::RunsError;
use crate::local::{Local, RunWatcher};
use crate::store::Description;

/// One planned start: the feed, the tick and the execution it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The feed.
    pub feed: String,
    /// The tick, UTC.
    pub time: DateTime<Utc>,
    /// The execution name it starts.
    pub execution: String,
}

/// A feed's schedule and time zone, or a refusal naming the feed, the expression and why.
pub fn feed_schedule(feed: &FeedConfig) -> Result<(Schedule, Tz), RunsError> {
    let schedule = Schedule::parse(&feed.schedule)
        .map_err(|e| RunsError::BadInput(format!("feed {:?}: schedule: {e}", feed.name)))?;
    let tz = match feed.schedule_timezone.as_deref() {
        Some(name) => schedule::parse_time_zone(name).map_err(|e| {
            RunsError::BadInput(format!("feed {:?}: schedule_timezone: {e}", feed.name))
        })?,
        None => Tz::UTC,
    };
    Ok((schedule, tz))
}

/// The next `count` starts after `from` (of every feed, or of `only`), in time order.
pub fn plan(
    feeds: &[FeedConfig],
    only: Option<&str>,
    from: DateTime<Utc>,
    count: usize,
) -> Result<Vec<Planned>, RunsError> {
    let mut all = Vec::new();
    for feed in feeds.iter().filter(|f| only.is_none_or(|o| f.name == o)) {
        let (schedule, tz) = feed_schedule(feed)?;
        all.extend(schedule.upcoming(from, tz).take(count).map(|time| Planned {
            feed: feed.name.clone(),
            time,
            execution: execution_name(&feed.name, time),
        }));
    }
    all.sort_by(|a, b| a.time.cmp(&b.time).then(a.feed.cmp(&b.feed)));
    all.truncate(count);
    Ok(all)
}

/// What the scheduler tells whoever watches it.
pub trait ScheduleWatcher: Send + Sync {
    /// A tick came due and its execution was started (and, here, ran to its end).
    fn started(&self, planned: &Planned, result: &Result<Description, RunsError>);
    /// A tick came due but was not started (its execution exists already, or the feed runs).
    fn skipped(&self, planned: &Planned, why: &str);
    /// When a feed's next tick is.
    fn next(&self, feed: &str, time: Option<DateTime<Utc>>);
}

/// Runs the schedules of `local`'s feeds on `clock` until `shutdown` completes (or, with
/// `stop_after`, once that many ticks were handled).
pub async fn run(
    local: &Local,
    clock: &dyn Clock,
    only: Option<&str>,
    stop_after: Option<usize>,
    watcher: &dyn ScheduleWatcher,
    run_watcher: Option<Arc<dyn RunWatcher>>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), RunsError> {
    let feeds = local.project().config.feeds.clone();
    let mut schedules = Vec::new();
    for feed in feeds.iter().filter(|f| only.is_none_or(|o| f.name == o)) {
        schedules.push((feed.name.clone(), feed_schedule(feed)?));
    }
    let handled = AtomicUsize::new(0);
    let done = tokio::sync::Notify::new();
    let loops = schedules.iter().map(|(feed, (schedule, tz))| {
        feed_loop(
            local,
            clock,
            feed,
            schedule,
            *tz,
            (&handled, stop_after, &done),
            watcher,
            run_watcher.clone(),
        )
    });
    let all = futures_util::future::join_all(loops);
    tokio::select! {
        results = all => results.into_iter().collect::<Result<Vec<()>, RunsError>>().map(|_| ()),
        () = shutdown => Ok(()),
        () = done.notified() => Ok(()),
    }
}

fn ms_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
async fn feed_loop(
    local: &Local,
    clock: &dyn Clock,
    feed: &str,
    schedule: &Schedule,
    tz: Tz,
    (handled, stop_after, done): (&AtomicUsize, Option<usize>, &tokio::sync::Notify),
    watcher: &dyn ScheduleWatcher,
    run_watcher: Option<Arc<dyn RunWatcher>>,
) -> Result<(), RunsError> {
    // The last tick started, from the execution names; else now (no firing for the past).
    let mut since = local
        .store()
        .list()?
        .iter()
        .filter(|d| d.feed.as_deref() == Some(feed))
        .filter_map(|d| tick_of_execution_name(feed, &d.name))
        .max()
        .unwrap_or_else(|| ms_to_time(clock.now_ms()));
    loop {
        let now = ms_to_time(clock.now_ms());
        let plan = schedule.plan(tz, since, now);
        if let Some(due) = plan.due {
            since = due;
            let planned = Planned {
                feed: feed.to_string(),
                time: due,
                execution: execution_name(feed, due),
            };
            if local.store().exists(&planned.execution) {
                watcher.skipped(&planned, "its execution exists already");
            } else {
                let result = local
                    .run(
                        feed,
                        Some(planned.execution.clone()),
                        false,
                        run_watcher.clone(),
                    )
                    .await;
                match &result {
                    Err(RunsError::AlreadyRunning { execution, .. }) => {
                        watcher.skipped(&planned, &format!("the feed is being run by {execution}"))
                    }
                    _ => watcher.started(&planned, &result),
                }
            }
            let n = handled.fetch_add(1, Ordering::AcqRel) + 1;
            if stop_after.is_some_and(|s| n >= s) {
                done.notify_one();
                return Ok(());
            }
            continue;
        }
        watcher.next(feed, plan.next);
        match plan.next {
            Some(t) => clock.sleep_until(t.timestamp_millis()).await,
            None => return Ok(()),
        }
    }
}
