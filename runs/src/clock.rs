//! The engine's clocks on the real time, with tokio's timers: [`SystemClock`], and
//! [`FastWaits`], which skips the waits a definition asks for (Wait states, Retry backoff) by
//! moving its time forward, so a definition with long waits can be tried locally.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use statemachine::engine::Clock;

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }

    fn sleep_until(&self, deadline_ms: i64) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let wait = u64::try_from(deadline_ms.saturating_sub(self.now_ms())).unwrap_or(0);
        Box::pin(tokio::time::sleep(Duration::from_millis(wait)))
    }
}

/// The system clock, except that Wait states and Retry backoffs end at once, the clock jumping
/// to their end (timeouts and heartbeats still take real time).
#[derive(Debug, Default)]
pub struct FastWaits {
    skipped_ms: AtomicI64,
}

impl FastWaits {
    /// A clock that has skipped nothing yet.
    pub fn new() -> FastWaits {
        FastWaits::default()
    }
}

impl Clock for FastWaits {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() + self.skipped_ms.load(Ordering::Acquire)
    }

    fn sleep_until(&self, deadline_ms: i64) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let wait = u64::try_from(deadline_ms.saturating_sub(self.now_ms())).unwrap_or(0);
        Box::pin(tokio::time::sleep(Duration::from_millis(wait)))
    }

    fn wait_until(&self, deadline_ms: i64) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let ahead = deadline_ms.saturating_sub(self.now_ms());
        if ahead > 0 {
            self.skipped_ms.fetch_add(ahead, Ordering::AcqRel);
        }
        Box::pin(std::future::ready(()))
    }
}

/// A clock that starts at a given time and runs `speed` times faster than real time: a
/// scheduler can be tried on a day's ticks in seconds (`feedpipe schedule --clock-from T
/// --clock-speed N`).
#[derive(Debug)]
pub struct ScaledClock {
    from_ms: i64,
    speed: f64,
    started: std::time::Instant,
}

impl ScaledClock {
    /// A clock reading `from_ms` now, `speed` times faster than real time (at least 1).
    pub fn new(from_ms: i64, speed: f64) -> ScaledClock {
        ScaledClock {
            from_ms,
            speed: if speed.is_finite() {
                speed.max(1.0)
            } else {
                1.0
            },
            started: std::time::Instant::now(),
        }
    }
}

impl Clock for ScaledClock {
    fn now_ms(&self) -> i64 {
        self.from_ms + (self.started.elapsed().as_secs_f64() * 1000.0 * self.speed) as i64
    }

    fn sleep_until(&self, deadline_ms: i64) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let virtual_ms = deadline_ms.saturating_sub(self.now_ms()).max(0) as f64;
        // One millisecond more, so that the clock reads at least the deadline on waking.
        let real =
            Duration::from_secs_f64(virtual_ms / self.speed / 1000.0) + Duration::from_millis(1);
        Box::pin(tokio::time::sleep(real))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fast_waits_skip_waits_but_not_sleeps() {
        let clock = FastWaits::new();
        let t0 = clock.now_ms();
        clock.wait_until(t0 + 3_600_000).await;
        assert!(clock.now_ms() >= t0 + 3_600_000);
        let t1 = clock.now_ms();
        let real = std::time::Instant::now();
        clock.sleep_until(t1 + 30).await;
        assert!(real.elapsed() >= Duration::from_millis(25));
    }
}
