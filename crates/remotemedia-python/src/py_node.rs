//! Python nodes inside the engine.
//!
//! A [`PyNode`] calls a Python adapter object (built by the SDK around the
//! user's very node instance) through CPython: `process(data) -> list`,
//! `flush() -> list`, `reset()`. It takes the GIL for each call only.
//! Audio reaches the node as a read-only numpy view of the engine's buffer;
//! arrays it returns are borrowed by the engine, not copied.
//!
//! **Threads.** Inside a session the call runs on a tokio worker thread. It
//! is wrapped in [`tokio::task::block_in_place`], which first hands that
//! worker's other tasks (other sessions, native-only ones included) to
//! another thread: a Python node that sleeps, waits for its coroutine or
//! waits for the GIL does not stall them. That hand-off costs about 10 µs,
//! more than a trivial node's call, so a node whose last [`QUICK_STREAK`]
//! calls each took less than [`QUICK_CALL`] is called in place; its first
//! slow call sends it back to the hand-off. The worst a node can do to other
//! sessions is thus one slow call after a streak of quick ones. An `async def` node's coroutine runs
//! on the SDK's engine event loop thread (`remotemedia/core/adapter.py`); the
//! call waits for it with the GIL released.
//!
//! A Python exception becomes a [`NodeError`]: transient for `TimeoutError`,
//! `ConnectionError` and `remotemedia.RetryableError`, fatal for anything
//! else. The exception itself, its type name and formatted traceback travel
//! with that error as its source (a [`Raised`]), so the bindings attach to the
//! `NodeError` raised in Python the very exception of that failure, whatever
//! other sessions of the pipeline do meanwhile.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyConnectionError, PyTimeoutError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyString, PyType};
use remotemedia_core::{Node, NodeError, RuntimeData};

use crate::convert::{data_from_py, data_to_node};
use crate::interrupt;
use crate::run_state::RunState;

static RETRYABLE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static FORMAT_EXCEPTION: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// An exception a Python node raised, as the caller will see it: the source
/// of the [`NodeError`] that reports it.
#[derive(Debug)]
pub struct Raised {
    /// The exception object.
    pub error: PyErr,
    /// The qualified name of its type (`"ValueError"`, `"Outer.MyError"`).
    pub type_name: String,
    /// The formatted traceback, as `traceback.format_exception` writes it.
    pub traceback: String,
}

impl fmt::Display for Raised {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Python exception {}", self.type_name)
    }
}

impl std::error::Error for Raised {}

/// Runs `f`, which may block (Python code, the GIL), without stalling the
/// tokio worker it is called on: on a multi-thread runtime the worker's
/// queued tasks move to another thread first. Off the runtime (or on the
/// thread of a timed call, or in a `block_on` caller) `f` just runs.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// A call shorter than this counts as quick (tokio's rule of thumb for
/// "blocking" is 10-100 µs between awaits; a worker also serves timers).
pub const QUICK_CALL: Duration = Duration::from_micros(200);

/// Quick calls in a row after which a node is called in place.
pub const QUICK_STREAK: u32 = 16;

/// A node implemented by a Python object.
pub struct PyNode {
    adapter: Py<PyAny>,
    run: Arc<RunState>,
    /// How long a call may run before it is interrupted (the adapter's
    /// `timeout`, the node's `timeout_ms`).
    timeout: Option<Duration>,
    /// Consecutive quick calls (see [`QUICK_CALL`]).
    quick_calls: u32,
    /// Whether the adapter hands out a call's outputs in batches (a
    /// streaming node's: it has `release()` and says `holding`).
    batches: bool,
    /// Whether its last call held outputs back ([`Node::holds_output`]).
    holding: bool,
}

impl PyNode {
    /// A node calling what `adapter.for_run(clips)` returns for the run (or
    /// session) `run` (`clips`: a batch run, where every input is a whole
    /// clip): mono audio goes in that run's shape, and a call is interrupted
    /// when the run is cancelled or the adapter's `timeout` (seconds, or
    /// `None`) has passed.
    pub fn new(py: Python<'_>, adapter: Py<PyAny>, run: Arc<RunState>, clips: bool) -> PyResult<Self> {
        // A streaming node gets a stream of its own per run and session.
        let adapter = adapter
            .bind(py)
            .call_method1(intern!(py, "for_run"), (clips,))?
            .unbind();
        let timeout: Option<f64> = adapter.bind(py).getattr(intern!(py, "timeout"))?.extract()?;
        let batches = adapter.bind(py).hasattr(intern!(py, "release"))?;
        let timeout = timeout
            .map(Duration::try_from_secs_f64)
            .transpose()
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("timeout: {e}")))?;
        Ok(Self {
            adapter,
            run,
            timeout,
            quick_calls: 0,
            batches,
            holding: false,
        })
    }

    fn call(&mut self, method: &str, input: Option<RuntimeData>, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.holding = false;
        if self.run.is_cancelled() {
            return Err(NodeError::fatal("the run was cancelled"));
        }
        if interrupt::shutting_down() {
            return Err(NodeError::fatal("the Python interpreter is exiting"));
        }
        let start = Instant::now();
        crate::gil::keep_thread_state();
        let result = if self.quick_calls >= QUICK_STREAK {
            Python::attach(|py| self.call_attached(py, method, input, out))
        } else {
            blocking(|| Python::attach(|py| self.call_attached(py, method, input, out)))
        };
        self.quick_calls = if start.elapsed() < QUICK_CALL {
            self.quick_calls.saturating_add(1)
        } else {
            0
        };
        self.holding = matches!(result, Ok(true));
        result.map(drop)
    }

    /// One call; returns whether the adapter now holds outputs back.
    fn call_attached(
        &self,
        py: Python<'_>,
        method: &str,
        input: Option<RuntimeData>,
        out: &mut Vec<RuntimeData>,
    ) -> Result<bool, NodeError> {
        let adapter = self.adapter.bind(py);
        let arg = match &input {
            Some(data) => Some(data_to_node(py, data, self.run.one_dimensional()).map_err(|e| node_error(py, e))?),
            None => None,
        };
        let call = interrupt::begin(py, &self.adapter, &self.run, self.timeout);
        let outputs = match arg {
            Some(arg) => adapter.call_method1(method, (arg,)),
            None => adapter.call_method0(method),
        };
        if let Some(reason) = call.end(py)
            && outputs.is_err()
        {
            return Err(self.interrupted(reason));
        }
        let outputs = outputs.map_err(|e| node_error(py, e))?;
        let taken = (|| {
            for item in outputs.cast::<PyList>()?.iter() {
                out.push(data_from_py(&item)?.data);
            }
            if self.batches {
                return adapter.getattr(intern!(py, "holding"))?.is_truthy();
            }
            Ok::<_, PyErr>(false)
        })();
        taken.map_err(|e| node_error(py, e))
    }

    /// The error of a call the engine interrupted (its Python exception is
    /// only the means of stopping it).
    fn interrupted(&self, reason: interrupt::Reason) -> NodeError {
        match reason {
            interrupt::Reason::Deadline => NodeError::transient(format!(
                "timed out after {} ms",
                self.timeout.unwrap_or_default().as_millis()
            )),
            interrupt::Reason::Cancelled => NodeError::fatal("the run was cancelled"),
            interrupt::Reason::Exit => NodeError::fatal("the Python interpreter is exiting"),
        }
    }
}

/// The [`NodeError`] reporting `err`, which it carries as its source.
fn node_error(py: Python<'_>, err: PyErr) -> NodeError {
    let transient = err.is_instance_of::<PyTimeoutError>(py)
        || err.is_instance_of::<PyConnectionError>(py)
        || RETRYABLE_ERROR
            .import(py, "remotemedia.exceptions", "RetryableError")
            .is_ok_and(|t| err.is_instance(py, t));
    let type_name = err
        .get_type(py)
        .qualname()
        .map_or_else(|_| "Exception".to_owned(), |n| n.to_string());
    let message = format!("{type_name}: {}", err.value(py));
    let traceback = format_traceback(py, &err).unwrap_or_else(|_| format!("{message}\n"));
    let error = if transient {
        NodeError::transient(message)
    } else {
        NodeError::fatal(message)
    };
    error.with_source(Raised {
        error: err,
        type_name,
        traceback,
    })
}

impl Node for PyNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.call("process", Some(input), out)
    }

    fn flush(&mut self, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.call("flush", None, out)
    }

    fn may_hold_output(&self) -> bool {
        self.batches
    }

    fn holds_output(&self) -> bool {
        self.holding
    }

    fn release(&mut self, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.call("release", None, out)
    }

    fn reset(&mut self) {
        self.holding = false;
        blocking(|| {
            Python::attach(|py| {
                if let Err(e) = self.adapter.bind(py).call_method0("reset") {
                    e.write_unraisable(py, Some(self.adapter.bind(py)));
                }
            });
        });
    }
}

/// The traceback of `err` as Python prints it.
fn format_traceback(py: Python<'_>, err: &PyErr) -> PyResult<String> {
    let lines = FORMAT_EXCEPTION.import(py, "traceback", "format_exception")?.call1((
        err.get_type(py),
        err.value(py),
        err.traceback(py),
    ))?;
    PyString::new(py, "").call_method1("join", (lines,))?.extract()
}
