//! Time for the engine, injected: the [`Clock`] every Wait state, retry backoff and timeout
//! waits on. (Randomness is injected too: [`crate::eval::Random`].)
//!
//! [`VirtualClock`] is the deterministic clock of tests and of the conformance suite: it comes
//! with its own single-threaded executor ([`VirtualClock::block_on`]) whose time jumps straight
//! to the earliest timer whenever nothing else can run, so a `"Seconds": 3600` Wait takes no real
//! time and the order of events never depends on the machine. Real runs implement [`Clock`] on
//! the system clock and a runtime's timers (the CLI does, with tokio).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

/// A boxed, sendable future (the shape of every async call the engine makes through a trait).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The engine's only source of time.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
    /// A future that completes once `now_ms() >= deadline_ms`.
    fn sleep_until(&self, deadline_ms: i64) -> BoxFuture<'static, ()>;
    /// The same, for the waits a definition asks for (a Wait state, a Retry's backoff), which a
    /// clock may skip by moving its time forward (feedpipe's `--fast-waits`). Timeouts and
    /// heartbeats use [`Clock::sleep_until`] and are never skipped.
    fn wait_until(&self, deadline_ms: i64) -> BoxFuture<'static, ()> {
        self.sleep_until(deadline_ms)
    }
}

/// A clock whose time only moves when [`VirtualClock::block_on`] finds every task waiting on a
/// timer; then it jumps to the earliest deadline.
#[derive(Clone, Debug)]
pub struct VirtualClock {
    timers: Arc<Mutex<Timers>>,
}

#[derive(Debug, Default)]
struct Timers {
    now: i64,
    next_id: u64,
    /// Registered sleeps by (deadline, registration id).
    waiting: BTreeMap<(i64, u64), Waker>,
}

impl VirtualClock {
    /// A clock that reads `start_ms` until something sleeps.
    pub fn new(start_ms: i64) -> VirtualClock {
        VirtualClock {
            timers: Arc::new(Mutex::new(Timers {
                now: start_ms,
                ..Timers::default()
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Timers> {
        lock(&self.timers)
    }

    /// Runs `future` to completion on the current thread, advancing virtual time whenever it is
    /// only waiting on timers. Returns `None` if it can never finish (it waits on something that
    /// is not a timer of this clock) or if finishing would move the clock past `horizon_ms`.
    pub fn block_on<F: Future>(&self, future: F, horizon_ms: Option<i64>) -> Option<F::Output> {
        let mut future = pin!(future);
        let flag = Arc::new(WakeFlag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return Some(out);
            }
            if flag.0.swap(false, Ordering::AcqRel) {
                continue;
            }
            let due = {
                let mut timers = self.lock();
                let &(deadline, _) = timers.waiting.keys().next()?;
                if horizon_ms.is_some_and(|h| deadline > h) {
                    return None;
                }
                timers.now = timers.now.max(deadline);
                let later = timers.waiting.split_off(&(deadline, u64::MAX));
                std::mem::replace(&mut timers.waiting, later)
            };
            due.into_values().for_each(Waker::wake);
            flag.0.store(false, Ordering::Release);
        }
    }
}

impl Clock for VirtualClock {
    fn now_ms(&self) -> i64 {
        self.lock().now
    }

    fn sleep_until(&self, deadline_ms: i64) -> BoxFuture<'static, ()> {
        Box::pin(Sleep {
            timers: self.timers.clone(),
            deadline: deadline_ms,
            id: None,
        })
    }
}

struct WakeFlag(AtomicBool);

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

struct Sleep {
    timers: Arc<Mutex<Timers>>,
    deadline: i64,
    id: Option<u64>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline;
        let timers = self.timers.clone();
        let mut timers = lock(&timers);
        if timers.now >= deadline {
            if let Some(id) = self.id.take() {
                timers.waiting.remove(&(deadline, id));
            }
            return Poll::Ready(());
        }
        let id = *self.id.get_or_insert_with(|| {
            timers.next_id += 1;
            timers.next_id
        });
        timers.waiting.insert((deadline, id), cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            lock(&self.timers).waiting.remove(&(self.deadline, id));
        }
    }
}

/// Locks a mutex, ignoring poisoning (no engine lock is held across a panic that matters).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeping_an_hour_takes_no_time_and_moves_the_clock() {
        let clock = VirtualClock::new(1_000);
        let c = clock.clone();
        let out = clock.block_on(
            async move {
                c.sleep_until(3_601_000).await;
                c.now_ms()
            },
            None,
        );
        assert_eq!(out, Some(3_601_000));
    }

    #[test]
    fn a_sleep_past_the_horizon_does_not_finish() {
        let clock = VirtualClock::new(0);
        let c = clock.clone();
        assert_eq!(clock.block_on(c.sleep_until(10_000), Some(5_000)), None);
    }
}
