//! `FaultInjectionNode`: a pass-through that misbehaves on purpose, to
//! rehearse failures (retries, timeouts, the circuit breaker, memory
//! metrics) before production meets them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::data::RuntimeData;
use crate::error::{ErrorClass, NodeError};
use crate::node::Node;
use crate::params::{NodeParams, ParamError};

/// Params of [`FaultInjectionNode`]. Every fault is off by default: the node
/// then passes its input through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FaultParams {
    /// Fail the first `fail_times` calls (0: never; with `fail_always`,
    /// ignored).
    pub fail_times: u32,
    /// Fail every call.
    pub fail_always: bool,
    /// The class of the injected error (default transient).
    pub error_class: ErrorClass,
    /// Panic instead of returning an error, for the first `panic_times`
    /// calls.
    pub panic_times: u32,
    /// Block the calling thread this long on every call, in ms.
    pub sleep_ms: u64,
    /// Allocate (and touch) this many bytes during every call, then free
    /// them before returning.
    pub allocate_bytes: u64,
}

impl Default for FaultParams {
    fn default() -> Self {
        Self {
            fail_times: 0,
            fail_always: false,
            error_class: ErrorClass::Transient,
            panic_times: 0,
            sleep_ms: 0,
            allocate_bytes: 0,
        }
    }
}

impl NodeParams for FaultParams {
    fn validate(&self) -> Result<(), ParamError> {
        if self.allocate_bytes > 1 << 34 {
            return Err(ParamError::new("allocate_bytes", "must be at most 16 GiB"));
        }
        if self.sleep_ms > 3_600_000 {
            return Err(ParamError::new("sleep_ms", "must be at most one hour"));
        }
        Ok(())
    }
}

/// A pass-through that fails, panics, sleeps or allocates as its params say.
///
/// The number of calls made is kept across [`Node::reset`] (a retry resets
/// the node, and must see the next call, not the first one again).
#[derive(Debug, Clone)]
pub struct FaultInjectionNode {
    params: FaultParams,
    calls: u32,
}

impl FaultInjectionNode {
    /// A node with these faults.
    pub fn new(params: FaultParams) -> Self {
        Self { params, calls: 0 }
    }
}

impl Node for FaultInjectionNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.calls = self.calls.saturating_add(1);
        let p = &self.params;
        if p.sleep_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(p.sleep_ms));
        }
        if p.allocate_bytes > 0 {
            let block = vec![1u8; p.allocate_bytes as usize];
            std::hint::black_box(&block);
        }
        if self.calls <= p.panic_times {
            panic!("injected panic on call {}", self.calls);
        }
        if p.fail_always || self.calls <= p.fail_times {
            let message = format!("injected {:?} failure on call {}", p.error_class, self.calls).to_lowercase();
            return Err(match p.error_class {
                ErrorClass::Transient => NodeError::transient(message),
                ErrorClass::Fatal => NodeError::fatal(message),
            });
        }
        out.push(input);
        Ok(())
    }
}
