//! The node types the bindings can build: every node type RemoteMedia ships
//! (the CLI's registry), registered once per process.

use std::sync::OnceLock;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use remotemedia_core::{Engine, Registry, Runtime};
use serde_json::Value;

static ENGINE: OnceLock<Engine> = OnceLock::new();

/// The engine every pipeline is compiled by, over the same node types as
/// the `remotemedia` command.
pub fn engine() -> &'static Engine {
    ENGINE.get_or_init(|| Engine::new(remotemedia_cli::registry()))
}

/// The shared registry (the [`engine`]'s).
pub fn base() -> &'static Registry {
    engine().registry()
}

/// True when `node_type` resolves to a type with a native implementation.
pub fn has_native(node_type: &str) -> bool {
    base()
        .get(node_type)
        .is_some_and(|t| t.runtimes().any(|r| r == Runtime::Native))
}

/// Checks `params` (JSON text) for the native implementation of `node_type`
/// and returns them (JSON text) with every unset value filled in as the
/// native node uses it: the one definition of a built-in node's params,
/// which its Python (numpy) implementation follows too. A problem is a
/// `ValueError` naming the param.
#[pyfunction]
pub fn resolve_params(node_type: &str, params: &str) -> PyResult<String> {
    let node = base()
        .get(node_type)
        .ok_or_else(|| PyValueError::new_err(format!("unknown node type {node_type:?}")))?;
    let (_, implementation) = node
        .resolve(remotemedia_core::RuntimeHint::Rust)
        .map_err(|e| PyValueError::new_err(format!("{node_type}: {e}")))?;
    let params: Value = serde_json::from_str(params).map_err(|e| PyValueError::new_err(format!("params: {e}")))?;
    let resolved = implementation.resolve(&params).map_err(|p| {
        PyValueError::new_err(if p.path.is_empty() {
            p.message
        } else {
            format!("{}: {}", p.path, p.message)
        })
    })?;
    Ok(resolved.to_string())
}
