//! A node's retry policy, from its [`RetryConfig`]: which failures are
//! retried, and after which delays.
//!
//! Transient errors are retried, fatal ones never (see
//! [`crate::ErrorClass`]). The delays are exponential: `initial_delay_ms`,
//! then multiplied by `multiplier` each time, capped at `max_delay_ms`,
//! `max_retries` of them. No jitter, so the schedule is exact and testable.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};

use crate::error::NodeError;
use crate::manifest::RetryConfig;

/// How a node's failed attempts are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    config: RetryConfig,
}

/// The retries left to one execution: ask [`Self::next_delay`] after each
/// failed attempt.
#[derive(Debug)]
pub struct Retries {
    delays: ExponentialBackoff,
    attempts: u32,
}

impl RetryPolicy {
    /// The policy `config` describes.
    pub fn new(config: RetryConfig) -> Self {
        Self { config }
    }

    /// Whether an execution may need its input again after the first
    /// attempt consumed it.
    pub fn may_retry(&self) -> bool {
        self.config.max_retries > 0
    }

    /// The retries of one execution whose first attempt is under way.
    pub fn start(&self) -> Retries {
        let c = &self.config;
        Retries {
            delays: ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(c.initial_delay_ms))
                .with_max_delay(Duration::from_millis(c.max_delay_ms))
                .with_factor(c.multiplier as f32)
                .with_max_times(c.max_retries as usize)
                .build(),
            attempts: 1,
        }
    }
}

impl Retries {
    /// After a failed attempt: the delay before the next one, or `None`
    /// when `error` is not retried (fatal, or no retry left). Delays are
    /// rounded to whole milliseconds, the unit of the manifest (backon
    /// computes them in `f32`, which would turn 200 ms into 200.000003 ms).
    pub fn next_delay(&mut self, error: &NodeError) -> Option<Duration> {
        if !error.is_transient() {
            return None;
        }
        let delay = self.delays.next()?;
        self.attempts += 1;
        Some(Duration::from_millis((delay.as_secs_f64() * 1000.0).round() as u64))
    }

    /// Attempts made so far, the first included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(config: RetryConfig) -> Vec<u64> {
        let mut retries = RetryPolicy::new(config).start();
        let busy = NodeError::transient("busy");
        std::iter::from_fn(|| retries.next_delay(&busy))
            .map(|d| d.as_millis() as u64)
            .collect()
    }

    #[test]
    fn default_schedule() {
        assert_eq!(ms(RetryConfig::default()), [100, 200, 400]);
    }

    #[test]
    fn capped_and_counted() {
        let c = RetryConfig {
            max_retries: 5,
            initial_delay_ms: 10,
            multiplier: 3.0,
            max_delay_ms: 100,
        };
        assert_eq!(ms(c), [10, 30, 90, 100, 100]);
        let none = RetryConfig {
            max_retries: 0,
            ..RetryConfig::default()
        };
        assert!(ms(none).is_empty());
    }

    #[test]
    fn fatal_errors_are_not_retried_and_attempts_are_counted() {
        let mut retries = RetryPolicy::new(RetryConfig::default()).start();
        assert_eq!(retries.next_delay(&NodeError::fatal("bad input")), None);
        assert_eq!(retries.attempts(), 1);
        retries.next_delay(&NodeError::transient("busy"));
        assert_eq!(retries.attempts(), 2);
    }
}
