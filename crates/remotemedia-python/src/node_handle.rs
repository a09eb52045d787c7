//! One node from the registry, called directly from Python.
//!
//! `NativeNode(node_type, params, stream=False, label=None)` builds the
//! native implementation of `node_type` from its params (a dict, converted
//! once). Each `process(data)` is then a plain function call: no manifest, no
//! JSON, no task hand-off, and the GIL is kept for small inputs (see
//! [`crate::gil`]).
//!
//! - Clip mode (`stream=False`, what older scripts expect): every call is one
//!   whole clip: fresh state, process, flush, outputs joined into one value.
//! - Stream mode (`stream=True`): consecutive calls are one stream; `flush()`
//!   ends it and `reset()` starts a new one.

use std::sync::Mutex;

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use remotemedia_core::join::join_pieces;
use remotemedia_core::{Node, RuntimeData, RuntimeHint};
use serde_json::Value;

use crate::audio::Locking;
use crate::audio::sample_count;
use crate::convert::{DataIn, audio_from_tuple, data_from_py_locking, data_to_py, json_from_py};
use crate::errors::{Error, params_error};
use crate::gil::{RELEASE_GIL_MIN_SAMPLES, maybe_detach};
use crate::{lock, registry};

/// A native node instance with its reusable output buffer.
struct State {
    node: Box<dyn Node>,
    out: Vec<RuntimeData>,
    one_dimensional: bool,
}

/// A native node called directly from Python.
#[pyclass(frozen, module = "remotemedia._native")]
pub struct NativeNode {
    state: Mutex<State>,
    label: String,
    stream: bool,
    audio_only: bool,
}

#[pymethods]
impl NativeNode {
    /// Builds the native `node_type` from `params`; `audio_only` makes any
    /// input that is not a `(samples, sample_rate)` tuple a `TypeError`.
    #[new]
    #[pyo3(signature = (node_type, params = None, stream = false, label = None, audio_only = false))]
    fn new(
        node_type: &str,
        params: Option<&Bound<'_, PyDict>>,
        stream: bool,
        label: Option<String>,
        audio_only: bool,
    ) -> PyResult<Self> {
        let registered = registry::base()
            .get(node_type)
            .ok_or_else(|| PyValueError::new_err(format!("node_type: unknown node type \"{node_type}\"")))?;
        let (_, implementation) = registered
            .resolve(RuntimeHint::Rust)
            .map_err(|m| PyRuntimeError::new_err(m.to_string()))?;
        let params = match params {
            Some(p) => json_from_py(p.as_any(), 0)?.ok_or_else(|| {
                PyTypeError::new_err("params: values must be JSON-like (numbers, strings, lists, dicts)")
            })?,
            None => Value::Object(serde_json::Map::new()),
        };
        let node = implementation
            .build(&params)
            .map_err(|p| params_error(&registered.name, &p))?;
        Ok(Self {
            state: Mutex::new(State {
                node,
                out: Vec::new(),
                one_dimensional: false,
            }),
            label: label.unwrap_or_else(|| registered.name.clone()),
            stream,
            audio_only,
        })
    }

    /// Processes one input: a whole clip (clip mode) or the next chunk
    /// (stream mode). Returns one value, `None` when the node produced
    /// nothing, or a list when it produced several values that do not join.
    fn process<'py>(&self, py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        lock::release_pending(py);
        // The array's lock is taken only if the GIL is released during the
        // call or the node keeps the samples (see `audio::Pending`).
        let mut input = if self.audio_only {
            audio_input(data)?
        } else {
            data_from_py_locking(data, Locking::Deferred)?
        };
        let samples = input.data.audio().map_or(0, sample_count);
        let pending = input.pending.take();
        if samples >= RELEASE_GIL_MIN_SAMPLES
            && let Some(pending) = pending.as_ref()
        {
            pending.lock_now(py)?;
        }
        let clip = !self.stream;
        let mut guard = self
            .state
            .lock()
            .map_err(|_| PyRuntimeError::new_err("node poisoned"))?;
        let state = &mut *guard;
        state.one_dimensional = input.one_dimensional;
        let result = maybe_detach(py, samples, || {
            if clip {
                state.node.reset();
            }
            let mut r = state.node.process(input.data, &mut state.out);
            if clip && r.is_ok() {
                r = state.node.flush(&mut state.out);
            }
            r
        });
        let same_as = input.array.as_ref().map(|a| a.bind(py));
        let out = self.finish(py, state, result, same_as);
        if let Some(pending) = pending {
            pending.lock_if_retained(py)?;
        }
        out
    }

    /// Ends the stream: returns what the node still held (joined), or `None`.
    fn flush<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut guard = self
            .state
            .lock()
            .map_err(|_| PyRuntimeError::new_err("node poisoned"))?;
        let state = &mut *guard;
        let result = py.detach(|| {
            let r = state.node.flush(&mut state.out);
            state.node.reset();
            r
        });
        self.finish(py, state, result, None)
    }

    /// Forgets all stream state.
    fn reset(&self) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).node.reset();
    }

    /// True in stream mode.
    #[getter]
    fn stream(&self) -> bool {
        self.stream
    }
}

impl NativeNode {
    fn finish<'py>(
        &self,
        py: Python<'py>,
        state: &mut State,
        result: Result<(), remotemedia_core::NodeError>,
        same_as: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Err(error) = result {
            state.out.clear();
            return Err(Error::Node {
                node_id: self.label.clone(),
                error,
            }
            .into_py(py));
        }
        let one_dimensional = state.one_dimensional;
        if state.out.len() == 1 {
            let only = state.out.pop().expect("one output");
            return data_to_py(py, &only, one_dimensional, same_as);
        }
        let outputs = join_pieces(state.out.drain(..).collect());
        match outputs.as_slice() {
            [] => Ok(py.None().into_bound(py)),
            [one] => data_to_py(py, one, one_dimensional, same_as),
            many => {
                let list = PyList::empty(py);
                for o in many {
                    list.append(data_to_py(py, o, one_dimensional, same_as)?)?;
                }
                Ok(list.into_any())
            }
        }
    }
}

/// An audio node's input: `(samples, sample_rate)` or `(samples,
/// sample_rate, info)`, where `samples` may also be anything numpy can turn
/// into an array.
fn audio_input(data: &Bound<'_, PyAny>) -> PyResult<DataIn> {
    match data.cast::<PyTuple>() {
        Ok(t) if t.len() == 2 || t.len() == 3 => audio_from_tuple(t, Locking::Deferred),
        _ => Err(PyTypeError::new_err(format!(
            "data: expected a (samples, sample_rate) tuple, got {}",
            data.get_type().name()?
        ))),
    }
}
