//! Engine errors as Python exceptions, converted in one place.
//!
//! The exception classes live in `remotemedia.exceptions` (pure Python, so
//! the SDK raises the same classes when the extension is missing):
//!
//! | Rust | Python |
//! |---|---|
//! | [`ManifestError`] (any variant) | `PipelineError` with `.problems` |
//! | [`EngineError::NotASource`] | `PipelineError` |
//! | [`EngineError::Node`], [`EngineError::CircuitOpen`] | `NodeError` with `.node_id`, `.error_class`, `.attempts` |
//! | [`EngineError::SessionClosed`] | `RemoteMediaError` |
//! | [`ParamProblem`] of a directly built node | `ValueError` naming the param |
//!
//! A Python node's own exception is attached as the `__cause__` of the
//! `NodeError` that reports it; its type name and formatted traceback are the
//! `NodeError`'s `.exception_type` and `.traceback`. The engine's error
//! carries that exception as its source ([`Raised`]), so each failure gets
//! its own, however many sessions of the pipeline fail at once.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyType};
use remotemedia_core::registry::ParamProblem;
use remotemedia_core::{EngineError, ManifestError, NodeError, RunError};

use crate::py_node::Raised;

static REMOTEMEDIA_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static PIPELINE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static NODE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

const EXCEPTIONS: &str = "remotemedia.exceptions";

/// Everything a binding call can fail with before it becomes an exception.
#[derive(Debug)]
pub enum Error {
    /// The manifest or graph was refused.
    Manifest(ManifestError),
    /// A run failed.
    Engine(EngineError),
    /// A directly called node failed.
    Node {
        /// The label of the node (its name in Python).
        node_id: String,
        /// What went wrong.
        error: NodeError,
    },
    /// A directly built node refused its params.
    Params {
        /// The node type being built.
        node_type: String,
        /// Which param, and why.
        problem: ParamProblem,
    },
    /// The run was cancelled by its caller.
    Cancelled,
}

impl From<RunError> for Error {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Manifest(m) => Self::Manifest(m),
            RunError::Engine(e) => Self::Engine(e),
        }
    }
}

impl From<ManifestError> for Error {
    fn from(e: ManifestError) -> Self {
        Self::Manifest(e)
    }
}

impl From<EngineError> for Error {
    fn from(e: EngineError) -> Self {
        Self::Engine(e)
    }
}

impl Error {
    /// The Python exception for this error.
    pub fn into_py(self, py: Python<'_>) -> PyErr {
        let built = match &self {
            Self::Manifest(e) => pipeline_error(py, &e.to_string(), &e.problems()),
            Self::Engine(e) => match e {
                EngineError::Node {
                    node_id,
                    error,
                    attempts,
                } => node_error(py, &e.to_string(), Some(node_id), &error.class().to_string(), *attempts),
                EngineError::CircuitOpen { node_id } => node_error(py, &e.to_string(), Some(node_id), "fatal", 0),
                EngineError::NotASource(_) => pipeline_error(py, &e.to_string(), &[]),
                EngineError::SessionClosed => exception(py, &REMOTEMEDIA_ERROR, "RemoteMediaError", |t| {
                    t.call1((e.to_string(),))
                }),
            },
            Self::Node { node_id, error } => node_error(
                py,
                &format!("node \"{node_id}\" failed: {error}"),
                Some(node_id),
                &error.class().to_string(),
                1,
            ),
            Self::Params { node_type, problem } => Ok(params_error(node_type, problem)),
            Self::Cancelled => exception(py, &REMOTEMEDIA_ERROR, "RemoteMediaError", |t| {
                t.call1(("the run was cancelled",))
            }),
        };
        let err = built.unwrap_or_else(|e| e);
        if let Some(raised) = self.raised() {
            let value = err.value(py);
            // Best effort: a NodeError subclass refusing attributes still
            // carries the cause.
            let _ = value.setattr("exception_type", &raised.type_name);
            let _ = value.setattr("traceback", &raised.traceback);
            err.set_cause(py, Some(raised.error.clone_ref(py)));
        }
        err
    }

    /// The exception a Python node raised, when this error reports one.
    fn raised(&self) -> Option<&Raised> {
        let Self::Engine(EngineError::Node { error, .. }) = self else {
            return None;
        };
        std::error::Error::source(error)?.downcast_ref()
    }
}

/// A `ValueError` naming the param at fault.
pub fn params_error(node_type: &str, problem: &ParamProblem) -> PyErr {
    if problem.path.is_empty() {
        PyValueError::new_err(format!("{node_type}: {}", problem.message))
    } else {
        PyValueError::new_err(format!("{}: {} ({node_type})", problem.path, problem.message))
    }
}

fn exception<'py>(
    py: Python<'py>,
    cell: &PyOnceLock<Py<PyType>>,
    name: &str,
    build: impl FnOnce(&Bound<'py, PyType>) -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<PyErr> {
    let class = cell.import(py, EXCEPTIONS, name)?;
    Ok(PyErr::from_value(build(class)?))
}

fn pipeline_error(py: Python<'_>, message: &str, problems: &[remotemedia_core::Problem]) -> PyResult<PyErr> {
    let list = PyList::empty(py);
    for p in problems {
        let d = PyDict::new(py);
        d.set_item("path", &p.path)?;
        d.set_item("node_id", p.node_id.as_deref())?;
        d.set_item("message", &p.message)?;
        list.append(d)?;
    }
    exception(py, &PIPELINE_ERROR, "PipelineError", |t| t.call1((message, list)))
}

fn node_error(py: Python<'_>, message: &str, node_id: Option<&str>, class: &str, attempts: u32) -> PyResult<PyErr> {
    exception(py, &NODE_ERROR, "NodeError", |t| {
        let kw = PyDict::new(py);
        kw.set_item("node_id", node_id)?;
        kw.set_item("error_class", class)?;
        kw.set_item("attempts", attempts)?;
        t.call((message,), Some(&kw))
    })
}
