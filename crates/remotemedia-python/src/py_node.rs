//! Python nodes inside the engine.
//!
//! A [`PyNode`] calls a Python adapter object (built by the SDK around the
//! user's very node instance) through CPython: `process(data) -> list`,
//! `flush() -> list`, `reset()`. It takes the GIL for each call only.
//!
//! A Python exception becomes a [`NodeError`]: transient for `TimeoutError`,
//! `ConnectionError` and `remotemedia.RetryableError`, fatal for anything
//! else. The exception itself is kept in an [`ErrorCell`] so the bindings can
//! attach it as the cause of the `NodeError` raised in Python.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::exceptions::{PyConnectionError, PyTimeoutError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyType};
use remotemedia_core::{Node, NodeError, RuntimeData};

use crate::convert::{data_from_py, data_to_py};

static RETRYABLE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Where a Python node leaves the last exception it raised.
#[derive(Debug, Default)]
pub struct ErrorCell(Mutex<Option<PyErr>>);

/// A shared [`ErrorCell`].
pub type ErrorSlot = Arc<ErrorCell>;

impl ErrorCell {
    fn set(&self, err: PyErr) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(err);
    }

    /// Takes the exception left, if any.
    pub fn take(&self) -> Option<PyErr> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// A node implemented by a Python object.
pub struct PyNode {
    adapter: Py<PyAny>,
    slot: ErrorSlot,
    one_dimensional: Arc<AtomicBool>,
}

impl PyNode {
    /// A node calling `adapter`; exceptions are left in `slot`; mono audio is
    /// handed over 1-D while `one_dimensional` is set.
    pub fn new(adapter: Py<PyAny>, slot: ErrorSlot, one_dimensional: Arc<AtomicBool>) -> Self {
        Self {
            adapter,
            slot,
            one_dimensional,
        }
    }

    fn call(&self, method: &str, input: Option<RuntimeData>, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        Python::attach(|py| {
            let result = (|| {
                let adapter = self.adapter.bind(py);
                let outputs = match &input {
                    Some(data) => {
                        let arg = data_to_py(py, data, self.one_dimensional.load(Ordering::Relaxed), None)?;
                        adapter.call_method1(method, (arg,))?
                    }
                    None => adapter.call_method0(method)?,
                };
                for item in outputs.cast::<PyList>()?.iter() {
                    out.push(data_from_py(&item)?.data);
                }
                Ok::<_, PyErr>(())
            })();
            result.map_err(|e| self.node_error(py, e))
        })
    }

    fn node_error(&self, py: Python<'_>, err: PyErr) -> NodeError {
        let transient = err.is_instance_of::<PyTimeoutError>(py)
            || err.is_instance_of::<PyConnectionError>(py)
            || RETRYABLE_ERROR
                .import(py, "remotemedia.exceptions", "RetryableError")
                .is_ok_and(|t| err.is_instance(py, t));
        let message = match err.get_type(py).name() {
            Ok(name) => format!("{name}: {}", err.value(py)),
            Err(_) => err.to_string(),
        };
        self.slot.set(err);
        if transient {
            NodeError::transient(message)
        } else {
            NodeError::fatal(message)
        }
    }
}

impl Node for PyNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.call("process", Some(input), out)
    }

    fn flush(&mut self, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.call("flush", None, out)
    }

    fn reset(&mut self) {
        Python::attach(|py| {
            if let Err(e) = self.adapter.bind(py).call_method0("reset") {
                e.write_unraisable(py, Some(self.adapter.bind(py)));
            }
        });
    }
}
