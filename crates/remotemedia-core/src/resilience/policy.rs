//! A node's resilience settings resolved from its [`NodeSpec`]: the retry
//! policy, the call timeout, the circuit breaker and the `on_failure`
//! fallback. The executor ([`crate::executor`]'s node slot) composes them
//! around each call: breaker, then the call under its timeout, then
//! retries, then the breaker again and the fallback.

use std::sync::Arc;
use std::time::Duration;

use super::{Breaker, RetryPolicy};
use crate::data::RuntimeData;
use crate::manifest::{NodeSpec, OnFailure};

/// The resilience settings of one node of a compiled pipeline.
#[derive(Debug)]
pub struct Policy {
    /// How failed attempts are retried.
    pub retry: RetryPolicy,
    /// Longest one call may take; `None` waits as long as it takes.
    pub timeout: Option<Duration>,
    /// What downstream gets when the node fails or its breaker is open.
    pub on_failure: OnFailure,
    /// The node's breaker, shared by every run of the pipeline.
    pub breaker: Arc<Breaker>,
}

impl Policy {
    /// The settings `spec` asks for (defaults where it is silent).
    pub fn from_spec(spec: &NodeSpec) -> Self {
        Self {
            retry: RetryPolicy::new(spec.retry.clone().unwrap_or_default()),
            timeout: spec.timeout_ms.map(Duration::from_millis),
            on_failure: spec.on_failure.unwrap_or_default(),
            breaker: Arc::new(Breaker::new(
                &spec.id,
                &spec.circuit_breaker.clone().unwrap_or_default(),
            )),
        }
    }

    /// A copy of the input, kept when a retry or `passthrough` may need it
    /// after the node has consumed the original (for audio, a pointer copy).
    pub fn keep(&self, input: &RuntimeData) -> Option<RuntimeData> {
        (self.retry.may_retry() || self.on_failure == OnFailure::Passthrough).then(|| input.clone())
    }
}
