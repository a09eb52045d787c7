#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod audio;
pub mod clip;
pub mod convert;
pub mod errors;
pub mod gil;
pub mod merge;
pub mod node_handle;
pub mod pipeline;
pub mod py_node;
pub mod registry;
pub mod runtime;
pub mod sample_format;
pub mod session;

use pyo3::prelude::*;
use remotemedia_core::metrics::alloc::TrackingAllocator;

pub use node_handle::NativeNode;
pub use pipeline::NativePipeline;
pub use session::NativeSession;

/// Counts the heap held by native node calls, for the engine's per-node
/// peak-memory metrics (Rust allocations only; CPython's own are not seen).
#[global_allocator]
static ALLOCATOR: TrackingAllocator = TrackingAllocator;

/// The version of the extension (the workspace version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Names (and aliases) of every node type the native registry knows, sorted.
#[pyfunction]
fn node_types() -> Vec<String> {
    registry::base().names().map(str::to_owned).collect()
}

/// True when `node_type` (a name or alias) has a native implementation.
#[pyfunction]
fn has_native(node_type: &str) -> bool {
    registry::has_native(node_type)
}

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", VERSION)?;
    m.add_function(wrap_pyfunction!(node_types, m)?)?;
    m.add_function(wrap_pyfunction!(has_native, m)?)?;
    m.add_function(wrap_pyfunction!(sample_format::convert_samples, m)?)?;
    m.add_class::<NativePipeline>()?;
    m.add_class::<NativeSession>()?;
    m.add_class::<NativeNode>()?;
    m.add_class::<audio::SampleOwner>()?;
    Ok(())
}
