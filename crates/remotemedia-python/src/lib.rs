#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod audio;
pub mod cli;
pub mod clip;
pub mod convert;
pub mod document;
pub mod errors;
pub mod gil;
pub mod logging;
pub mod merge;
pub mod node_handle;
pub mod pipeline;
pub mod py_node;
pub mod registry;
pub mod runtime;
pub mod session;

use pyo3::exceptions::PyValueError;
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

/// Sets the engine runtime's worker count, before its first use.
#[pyfunction]
fn set_worker_threads(n: usize) -> PyResult<()> {
    runtime::set_worker_threads(n).map_err(PyValueError::new_err)
}

/// The engine runtime's worker count (the one it will have, before its first use).
#[pyfunction]
fn worker_threads() -> usize {
    runtime::worker_threads()
}

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    runtime::configure_from_env().map_err(PyValueError::new_err)?;
    logging::install();
    m.add("__version__", VERSION)?;
    m.add_function(wrap_pyfunction!(set_worker_threads, m)?)?;
    m.add_function(wrap_pyfunction!(worker_threads, m)?)?;
    m.add_function(wrap_pyfunction!(node_types, m)?)?;
    m.add_function(wrap_pyfunction!(has_native, m)?)?;
    m.add_function(wrap_pyfunction!(document::parse_manifest_text, m)?)?;
    m.add_function(wrap_pyfunction!(cli::cli_main, m)?)?;
    m.add_class::<NativePipeline>()?;
    m.add_class::<NativeSession>()?;
    m.add_class::<NativeNode>()?;
    m.add_class::<audio::SampleOwner>()?;
    Ok(())
}
