//! Surviving failing nodes: retry with exponential backoff for transient
//! errors, and a circuit breaker for nodes that keep failing.
//!
//! The policy is small on purpose: a node error is either transient (retried,
//! counted by the breaker) or fatal (returned at once); see
//! [`crate::ErrorClass`].

mod breaker;
mod retry;

pub use breaker::{Breaker, BreakerState};
pub use retry::retry_delays;
