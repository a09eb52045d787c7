//! A node's circuit breaker, shared by every run of a compiled pipeline:
//! the [`Circuit`] state machine behind a lock, on tokio's clock, with its
//! transitions logged.
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
//! A closed breaker answers without the lock (one atomic load per call).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::circuit::{Circuit, Event, Limits, Transition};
use crate::manifest::BreakerConfig;

/// Where a breaker stands, as reported (metrics, the Prometheus gauge).
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

/// [`Breaker::phase`] values: what the hot path needs to know of the circuit.
const CLEAN: u8 = 0;
const COUNTING: u8 = 1;
const TRIPPED: u8 = 2;

/// A circuit breaker (see the module docs).
#[derive(Debug)]
pub struct Breaker {
    node: String,
    limits: Limits,
    circuit: Mutex<Circuit>,
    /// Mirrors `circuit` for lock-free reads: [`CLEAN`] (closed, no
    /// failure), [`COUNTING`] (closed, some failures) or [`TRIPPED`] (open
    /// or half-open). Written only under the lock.
    phase: AtomicU8,
}

impl Breaker {
    /// A closed breaker for node `node` (named in its log events).
    pub fn new(node: &str, config: &BreakerConfig) -> Self {
        Self {
            node: node.to_owned(),
            limits: Limits {
                threshold: config.failure_threshold.max(1),
                cooldown: Duration::from_millis(config.cooldown_ms),
            },
            circuit: Mutex::new(Circuit::CLEAN),
            phase: AtomicU8::new(CLEAN),
        }
    }

    /// Whether a call may go through now. While open, true once per
    /// cool-down (the trial call).
    #[inline]
    pub fn permit(&self) -> bool {
        self.phase.load(Ordering::Acquire) != TRIPPED || self.apply(Event::Permit)
    }

    /// Records a successful execution: closes the breaker.
    #[inline]
    pub fn record_success(&self) {
        if self.phase.load(Ordering::Acquire) != CLEAN {
            self.apply(Event::Success);
        }
    }

    /// Records a failed execution; opens the breaker at the threshold (or
    /// re-opens it after a failed trial).
    pub fn record_failure(&self) {
        self.apply(Event::Failure);
    }

    /// True while the breaker is open (including during a trial call).
    pub fn is_open(&self) -> bool {
        self.phase.load(Ordering::Acquire) == TRIPPED
    }

    /// Where the breaker stands now.
    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            Circuit::Closed { .. } => BreakerState::Closed,
            Circuit::Open { until } if Instant::now() < until => BreakerState::Open,
            Circuit::Open { .. } | Circuit::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Moves the circuit on `event`, logs the transition (outside the
    /// lock), and returns whether a call may go through.
    #[cold]
    fn apply(&self, event: Event) -> bool {
        let step = {
            let mut circuit = self.lock();
            let step = circuit.on(event, Instant::now(), self.limits);
            *circuit = step.next;
            let phase = match step.next {
                Circuit::Closed { failures: 0 } => CLEAN,
                Circuit::Closed { .. } => COUNTING,
                Circuit::Open { .. } | Circuit::HalfOpen { .. } => TRIPPED,
            };
            self.phase.store(phase, Ordering::Release);
            step
        };
        let node = self.node.as_str();
        match step.transition {
            None => {}
            Some(Transition::Opened) => tracing::error!(
                node,
                cooldown_ms = u64::try_from(self.limits.cooldown.as_millis()).unwrap_or(u64::MAX),
                "circuit breaker opened: the node is not called until its cool-down ends"
            ),
            Some(Transition::HalfOpened) => tracing::info!(node, "circuit breaker half-open: one trial call"),
            Some(Transition::Closed) => tracing::info!(node, "circuit breaker closed"),
        }
        step.permitted
    }

    fn lock(&self) -> MutexGuard<'_, Circuit> {
        // The circuit is a plain value replaced whole, so a panic elsewhere
        // while holding the lock cannot leave it half-written.
        self.circuit.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(
            "n",
            &BreakerConfig {
                failure_threshold: 3,
                cooldown_ms: 1000,
            },
        )
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
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.permit());
        tokio::time::advance(Duration::from_millis(999)).await;
        assert!(!b.permit());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(b.state(), BreakerState::HalfOpen, "due for a trial");
        assert!(b.permit(), "one trial after the cool-down");
        assert!(!b.permit(), "only one trial at a time");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        b.record_failure();
        assert!(!b.permit(), "a failed trial re-opens for a full cool-down");
        tokio::time::advance(Duration::from_millis(1000)).await;
        assert!(b.permit());
        b.record_success();
        assert!(!b.is_open());
        assert_eq!(b.state(), BreakerState::Closed);
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
