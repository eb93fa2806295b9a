//! The two concurrency shapes the engine needs, written for determinism: [`race`] (a task
//! against its timeout) and [`run_limited`] (Map iterations and Parallel branches, at most
//! `limit` at once, always polled in index order so that, with the same clock and integrations,
//! histories come out the same every time).

use std::collections::BTreeMap;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use super::clock::{lock, BoxFuture};

/// Which side of a [`race`] finished first.
pub(crate) enum Either<A, B> {
    /// The first future.
    Left(A),
    /// The second future.
    Right(B),
}

/// Polls `a` then `b` until one is ready; the other is dropped.
pub(crate) async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(x));
        }
        if let Poll::Ready(x) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(x));
        }
        Poll::Pending
    })
    .await
}

/// Runs `make(0..count)` with at most `limit` (0 = no limit) in flight, starting them in index
/// order and handing each output to `done(index, output)`. Stops early (dropping the children
/// still running) when `done` breaks. Returns the index of the child whose output broke, if any.
pub(crate) async fn run_limited<'a, T: 'a>(
    count: usize,
    limit: usize,
    mut make: impl FnMut(usize) -> BoxFuture<'a, T>,
    mut done: impl FnMut(usize, T) -> ControlFlow<()>,
) -> Option<usize> {
    let limit = if limit == 0 { usize::MAX } else { limit };
    let parent: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
    let mut next = 0;
    let mut running: BTreeMap<usize, (BoxFuture<'a, T>, Arc<ChildWake>)> = BTreeMap::new();
    std::future::poll_fn(move |cx| {
        *lock(&parent) = Some(cx.waker().clone());
        loop {
            let mut progressed = false;
            // Start children in index order and poll each at once: one that finishes without
            // waiting never occupies a slot (so 10,000 quick iterations do not all sit in
            // memory at the same time).
            while running.len() < limit && next < count {
                let index = next;
                next += 1;
                progressed = true;
                let wake = Arc::new(ChildWake {
                    woken: AtomicBool::new(false),
                    parent: parent.clone(),
                });
                let mut fut = make(index);
                let waker = Waker::from(wake.clone());
                let mut child_cx = Context::from_waker(&waker);
                match fut.as_mut().poll(&mut child_cx) {
                    Poll::Ready(out) => {
                        if done(index, out).is_break() {
                            running.clear();
                            return Poll::Ready(Some(index));
                        }
                    }
                    Poll::Pending => {
                        running.insert(index, (fut, wake));
                    }
                }
            }
            let ready: Vec<usize> = running
                .iter()
                .filter(|(_, (_, w))| w.woken.swap(false, Ordering::AcqRel))
                .map(|(&i, _)| i)
                .collect();
            for i in ready {
                let Some((fut, wake)) = running.get_mut(&i) else {
                    continue;
                };
                let waker = Waker::from(wake.clone());
                let mut child_cx = Context::from_waker(&waker);
                if let Poll::Ready(out) = fut.as_mut().poll(&mut child_cx) {
                    running.remove(&i);
                    progressed = true;
                    if done(i, out).is_break() {
                        running.clear();
                        return Poll::Ready(Some(i));
                    }
                }
            }
            if running.is_empty() && next >= count {
                return Poll::Ready(None);
            }
            if !progressed {
                return Poll::Pending;
            }
        }
    })
    .await
}

struct ChildWake {
    woken: AtomicBool,
    parent: Arc<Mutex<Option<Waker>>>,
}

impl Wake for ChildWake {
    fn wake(self: Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        if let Some(w) = lock(&self.parent).as_ref() {
            w.wake_by_ref();
        }
    }
}

/// Boxes a future for [`run_limited`].
pub(crate) fn boxed<'a, T>(f: impl Future<Output = T> + Send + 'a) -> BoxFuture<'a, T> {
    Box::pin(f) as Pin<Box<dyn Future<Output = T> + Send + 'a>>
}
