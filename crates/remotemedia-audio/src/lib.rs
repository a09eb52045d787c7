//! Native DSP kernels for RemoteMedia.
//!
//! Kernels are synchronous, know nothing about the engine, and do not allocate
//! in their hot path: they process into caller-provided buffers, report their
//! latency and can be reset.
//!
//! [`nodes`] adapts the kernels to the engine's node contract;
//! [`register`] adds them to a registry.
#![warn(missing_docs)]

pub mod convert;
pub mod nodes;
pub mod resample;
mod simd;
pub mod vad;

pub use nodes::register;
