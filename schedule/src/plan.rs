//! The scheduler loop's decision for one schedule: which single tick to start now, and when
//! to wake up for the next ([`Plan`] describes the loop).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::{Kind, Schedule};

/// What a scheduler loop should do now for one schedule: the result of [`Schedule::plan`].
///
/// The loop keeps, per schedule, `since`: the last tick it started (after a restart, the
/// latest tick among the schedule's executions, [`crate::tick_of_execution_name`]), or, for a
/// schedule that has never started one, the moment the scheduler took the schedule on. Ticks
/// at or before `since` are settled. At each wake-up it calls [`Schedule::plan`]; if a tick
/// is due it starts it as [`crate::execution_name`] and moves `since` to that tick, then
/// sleeps until `next`.
///
/// Missed ticks follow EventBridge Scheduler's flexible time window: a late tick is started
/// late rather than dropped, but only the latest one. After downtime spanning several ticks
/// one execution starts, for the latest tick, once; the older ones are skipped (each would
/// only redo the same work on the same feed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The tick to start now, if one is due: the latest tick in `(since, now]`.
    pub due: Option<DateTime<Utc>>,
    /// The first tick after both `now` and `since`: when to wake up next. `None` when the
    /// schedule never fires again.
    pub next: Option<DateTime<Utc>>,
}

impl Schedule {
    /// The scheduler loop's decision at `now`, evaluated in `tz`. `since` is the last tick
    /// already started or, if none ever was, when the scheduler took the schedule on (so a
    /// new schedule does not fire for the past, as in EventBridge).
    ///
    /// At most one tick is due: the latest tick after `since` that is not after `now`; older
    /// missed ticks are dropped. `next` is after `since` too, so a clock that went backwards
    /// never repeats a tick.
    pub fn plan(&self, tz: Tz, since: DateTime<Utc>, now: DateTime<Utc>) -> Plan {
        Plan {
            due: self.latest_in(since, now, tz),
            next: self.next_after(since.max(now), tz),
        }
    }

    /// The latest fire time in `(floor, at]`, if any.
    fn latest_in(&self, floor: DateTime<Utc>, at: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        if floor >= at {
            return None;
        }
        let found = match &self.kind {
            Kind::Rate(rate) => rate.last_at_or_before(at),
            Kind::At(one) => one.instant(tz).filter(|t| *t <= at),
            Kind::Cron(_) => self.latest_cron_in(floor, at, tz),
        };
        found.filter(|t| *t > floor)
    }

    /// [`Self::latest_in`] for cron: look back over a doubling window until it holds a fire
    /// time, then walk forward through that window. Cheap even after a long downtime, since
    /// the window is at most twice the distance back to the latest fire time.
    fn latest_cron_in(
        &self,
        floor: DateTime<Utc>,
        at: DateTime<Utc>,
        tz: Tz,
    ) -> Option<DateTime<Utc>> {
        let mut width = Duration::minutes(1);
        loop {
            let start = at.checked_sub_signed(width).map_or(floor, |s| s.max(floor));
            match self.next_after(start, tz) {
                Some(first) if first <= at => {
                    let mut latest = first;
                    while let Some(t) = self.next_after(latest, tz).filter(|t| *t <= at) {
                        latest = t;
                    }
                    return Some(latest);
                }
                _ if start == floor => return None,
                _ => width = width.checked_mul(2).unwrap_or(Duration::MAX),
            }
        }
    }
}
