//! Surviving failing nodes, as types built from a node's manifest entry:
//! a [`RetryPolicy`] (exponential backoff for transient errors), a
//! [`Breaker`] (a closed / open / half-open state machine, shared by every run of a
//! pipeline) and the [`Policy`] that holds them with the node's timeout and
//! `on_failure` fallback. The executor composes them around each call.
//!
//! A node error is either transient (retried, counted by the breaker) or
//! fatal (returned at once); see [`crate::ErrorClass`].

mod breaker;
mod circuit;
mod policy;
mod retry;

pub use breaker::{Breaker, BreakerState};
pub use policy::Policy;
pub use retry::{Retries, RetryPolicy};
