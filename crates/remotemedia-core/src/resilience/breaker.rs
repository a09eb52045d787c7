//! A per-node circuit breaker, shared by every run of a pipeline.
//!
//! Closed: calls go through; each failed execution (after its retries)
//! counts, a success resets the count. After `failure_threshold` consecutive
//! failures the breaker opens: the node is not called, and its `on_failure`
//! policy decides what downstream gets. Once `cooldown_ms` has passed, one
//! trial call is let through (half-open): success closes the breaker, failure
//! opens it for another cool-down.
//!
//! The breaker lives in the compiled pipeline, not in a run, so a remote
//! service that keeps failing is shielded across every session using it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::manifest::BreakerConfig;

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused until the cool-down ends.
    Open,
    /// The cool-down ended: one trial call may go (or is going) through.
    HalfOpen,
}

impl BreakerState {
    /// 0 closed, 1 open, 2 half-open (the value of the Prometheus gauge).
    pub fn code(self) -> u8 {
        match self {
            Self::Closed => 0,
            Self::Open => 1,
            Self::HalfOpen => 2,
        }
    }
}

/// A circuit breaker (see the module docs).
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    /// Consecutive failures; read without the lock on the hot path.
    failures: AtomicU32,
    state: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    since: Option<Instant>,
    trial_in_flight: bool,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: &BreakerConfig) -> Self {
        Self {
            threshold: config.failure_threshold.max(1),
            cooldown: Duration::from_millis(config.cooldown_ms),
            failures: AtomicU32::new(0),
            state: Mutex::new(Open::default()),
        }
    }

    /// Whether a call may go through now. While open, returns true once per
    /// cool-down (the trial call).
    pub fn permit(&self) -> bool {
        if self.failures.load(Ordering::Acquire) < self.threshold {
            return true;
        }
        let mut open = self.lock();
        match open.since {
            Some(since) if !open.trial_in_flight && since.elapsed() >= self.cooldown => {
                open.trial_in_flight = true;
                true
            }
            Some(_) => false,
            None => true,
        }
    }

    /// Records a successful execution: closes the breaker. Returns true when
    /// this closed a breaker that was open.
    pub fn record_success(&self) -> bool {
        if self.failures.load(Ordering::Acquire) == 0 {
            return false;
        }
        let mut open = self.lock();
        let was_open = self.failures.load(Ordering::Acquire) >= self.threshold;
        self.failures.store(0, Ordering::Release);
        *open = Open::default();
        was_open
    }

    /// Records a failed execution; opens the breaker at the threshold (or
    /// re-opens it after a failed trial). Returns true when this failure
    /// opened (or re-opened) it.
    pub fn record_failure(&self) -> bool {
        let mut open = self.lock();
        let failures = self.failures.load(Ordering::Acquire).saturating_add(1);
        self.failures.store(failures, Ordering::Release);
        if failures >= self.threshold {
            open.since = Some(Instant::now());
            open.trial_in_flight = false;
            return true;
        }
        false
    }

    /// Where the breaker stands now.
    pub fn state(&self) -> BreakerState {
        if !self.is_open() {
            return BreakerState::Closed;
        }
        let open = self.lock();
        match open.since {
            Some(since) if open.trial_in_flight || since.elapsed() >= self.cooldown => BreakerState::HalfOpen,
            Some(_) => BreakerState::Open,
            None => BreakerState::Closed,
        }
    }

    /// True while the breaker is open (including during a trial call).
    pub fn is_open(&self) -> bool {
        self.failures.load(Ordering::Acquire) >= self.threshold
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        // The state is a plain value that every writer leaves consistent, so
        // a panic elsewhere while holding the lock cannot corrupt it.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(&BreakerConfig {
            failure_threshold: 3,
            cooldown_ms: 1000,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_threshold_and_half_opens_after_cooldown() {
        let b = breaker();
        for _ in 0..2 {
            b.record_failure();
            assert!(b.permit());
        }
        b.record_failure();
        assert!(b.is_open());
        assert!(!b.permit());
        tokio::time::advance(Duration::from_millis(999)).await;
        assert!(!b.permit());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(b.permit(), "one trial after the cool-down");
        assert!(!b.permit(), "only one trial at a time");
        b.record_failure();
        assert!(!b.permit(), "a failed trial re-opens for a full cool-down");
        tokio::time::advance(Duration::from_millis(1000)).await;
        assert!(b.permit());
        b.record_success();
        assert!(!b.is_open());
        assert!(b.permit() && b.permit());
    }

    #[test]
    fn success_resets_the_count() {
        let b = breaker();
        b.record_failure();
        b.record_failure();
        b.record_success();
        b.record_failure();
        b.record_failure();
        assert!(!b.is_open());
    }
}
