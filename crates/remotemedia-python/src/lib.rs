#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod audio;
pub mod batch_file;
pub mod cli;
pub mod convert;
pub mod document;
pub mod errors;
pub mod gil;
pub mod interrupt;
pub mod lock;
pub mod logging;
pub mod node_handle;
pub mod pipeline;
pub mod py_node;
pub mod registry;
pub mod remote_client;
pub mod run_state;
pub mod runtime;
pub mod sample_format;
pub mod sample_owner;
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

/// Raises `remotemedia.exceptions.Interrupted` in the Python thread whose
/// `threading.get_ident()` is `thread`, at its next bytecode (used by the SDK
/// to stop a sync Python node the engine gave up on).
#[pyfunction]
fn interrupt_thread(py: Python<'_>, thread: std::os::raw::c_ulong) -> PyResult<()> {
    interrupt::raise_in_thread(py, thread)
}

/// At interpreter exit (the SDK registers it with `atexit`): Python nodes are
/// no longer called, those running are interrupted, and this waits up to
/// `grace_s` seconds for them to return.
#[pyfunction]
fn shut_down(py: Python<'_>, grace_s: f64) {
    interrupt::shut_down(py, std::time::Duration::from_secs_f64(grace_s.clamp(0.0, 60.0)));
}

/// In a child process after `fork` (the SDK registers it with
/// `os.register_at_fork`): the parent's engine threads are not there, so the
/// child starts its own on first use.
#[pyfunction]
fn after_fork_in_child(py: Python<'_>) {
    runtime::after_fork_in_child();
    interrupt::after_fork_in_child(py);
}

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // A panic caught inside a node call is reported as that node's error,
    // not also printed with a backtrace on stderr.
    remotemedia_core::panic::install_quiet_hook();
    runtime::configure_from_env().map_err(PyValueError::new_err)?;
    logging::install();
    m.add("__version__", VERSION)?;
    m.add_function(wrap_pyfunction!(set_worker_threads, m)?)?;
    m.add_function(wrap_pyfunction!(worker_threads, m)?)?;
    m.add_function(wrap_pyfunction!(node_types, m)?)?;
    m.add_function(wrap_pyfunction!(has_native, m)?)?;
    m.add_function(wrap_pyfunction!(registry::resolve_params, m)?)?;
    m.add_function(wrap_pyfunction!(document::parse_manifest_text, m)?)?;
    m.add_function(wrap_pyfunction!(cli::cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(sample_format::convert_samples, m)?)?;
    m.add_class::<NativePipeline>()?;
    m.add_class::<batch_file::BatchPipeline>()?;
    m.add_function(wrap_pyfunction!(batch_file::list_batch_inputs, m)?)?;
    m.add_class::<pipeline::RunToken>()?;
    m.add_function(wrap_pyfunction!(interrupt_thread, m)?)?;
    m.add_function(wrap_pyfunction!(shut_down, m)?)?;
    m.add_function(wrap_pyfunction!(after_fork_in_child, m)?)?;
    m.add_class::<NativeSession>()?;
    m.add_class::<NativeNode>()?;
    m.add_class::<sample_owner::SampleOwner>()?;
    m.add_class::<remote_client::RemoteClient>()?;
    m.add_class::<remote_client::RemoteStream>()?;
    Ok(())
}
