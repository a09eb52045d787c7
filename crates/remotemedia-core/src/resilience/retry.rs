//! Retry delays from a node's [`RetryConfig`].

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use crate::manifest::RetryConfig;

/// The delays before each retry: `initial_delay_ms`, then multiplied by
/// `multiplier` each time, capped at `max_delay_ms`, `max_retries` of them.
/// No jitter, so the schedule is exact and testable. Delays are rounded to
/// whole milliseconds, the unit of the manifest (backon computes them in
/// `f32`, which would otherwise turn 200 ms into 200.000003 ms).
pub fn retry_delays(config: &RetryConfig) -> impl Iterator<Item = Duration> + use<> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(config.initial_delay_ms))
        .with_max_delay(Duration::from_millis(config.max_delay_ms))
        .with_factor(config.multiplier as f32)
        .with_max_times(config.max_retries as usize)
        .build()
        .map(|d| Duration::from_millis((d.as_secs_f64() * 1000.0).round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(config: RetryConfig) -> Vec<u64> {
        retry_delays(&config).map(|d| d.as_millis() as u64).collect()
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
}
