//! The servers a [`crate::remote_node::RemotePipelineNode`] may use: new
//! connections go round robin over the healthy ones; one that failed
//! transiently sits out a cooldown.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long an endpoint that failed is passed over.
pub const COOLDOWN: Duration = Duration::from_secs(5);

/// Transient failures that benched an endpoint, in this process.
static FAILOVERS: AtomicU64 = AtomicU64::new(0);

/// How many times, in this process, a stream failed transiently and so
/// moves on: its next attempt opens a new stream on the next healthy
/// endpoint (what `loadtest --remote` reports as `failovers`).
pub fn failovers() -> u64 {
    FAILOVERS.load(Ordering::Relaxed)
}

/// Endpoints (`host:port`) shared by every node instance naming the same
/// list.
#[derive(Debug)]
pub struct EndpointPool {
    endpoints: Vec<String>,
    next: AtomicUsize,
    down_until: Mutex<Vec<Option<Instant>>>,
}

impl EndpointPool {
    /// A pool over `endpoints` (at least one).
    pub fn new(endpoints: Vec<String>) -> Self {
        assert!(!endpoints.is_empty(), "an endpoint pool needs an endpoint");
        let n = endpoints.len();
        Self {
            endpoints,
            next: AtomicUsize::new(0),
            down_until: Mutex::new(vec![None; n]),
        }
    }

    /// The next healthy endpoint in turn (index and address); when all are
    /// cooling down, the one that comes back first.
    pub fn pick(&self) -> (usize, &str) {
        let n = self.endpoints.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let down = self
            .down_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let i = (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| down[i].is_none_or(|t| t <= now))
            .unwrap_or_else(|| (0..n).min_by_key(|&i| down[i]).expect("a pool is not empty"));
        (i, &self.endpoints[i])
    }

    /// The address of endpoint `i`.
    pub fn address(&self, i: usize) -> &str {
        &self.endpoints[i]
    }

    /// Passes over endpoint `i` for [`COOLDOWN`] (counted in
    /// [`failovers`]).
    pub fn mark_down(&self, i: usize) {
        FAILOVERS.fetch_add(1, Ordering::Relaxed);
        let mut down = self
            .down_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        down[i] = Some(Instant::now() + COOLDOWN);
    }

    /// Endpoint `i` answered: it is healthy.
    pub fn mark_up(&self, i: usize) {
        let mut down = self
            .down_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        down[i] = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_skips_endpoints_that_are_down() {
        let pool = EndpointPool::new(vec!["a:1".into(), "b:2".into(), "c:3".into()]);
        let picks: Vec<_> = (0..3).map(|_| pool.pick().0).collect();
        assert_eq!(picks, [0, 1, 2]);
        pool.mark_down(1);
        let picks: Vec<_> = (0..4).map(|_| pool.pick().0).collect();
        assert_eq!(picks, [0, 2, 2, 0]);
        pool.mark_down(0);
        pool.mark_down(2);
        assert_eq!(pool.pick().0, 1, "all down: the one back first");
    }
}
