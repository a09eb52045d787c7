//! `RemoteClient` and `RemoteStream`: the native side of
//! `remotemedia.remote.Client`, over [`remotemedia_remote::Client`].
//!
//! Every call releases the GIL while it waits on the network. Audio goes in
//! as `(samples, sample_rate)` (numpy, any supported dtype and layout) and
//! comes back as `(array[channels, frames], sample_rate)`; data as Python
//! values of JSON. A failed call raises
//! `remotemedia.exceptions.RemoteExecutionError` with `error_class`
//! (`"transient"` or `"fatal"`), `node_id` (the remote node at fault, if
//! named), `endpoint` and `code` (the gRPC status name, or `None`).

use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple, PyType};
use remotemedia_core::{Manifest, RuntimeData};
use remotemedia_remote::client::{ClientError, Inputs, Outputs, StreamReceiver, StreamSender};
use remotemedia_remote::{Client, ClientOptions};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::audio::{Locking, audio_from_py, audio_to_py};
use crate::convert::{data_from_py, json_to_py};
use crate::errors::Error;
use crate::runtime;

static REMOTE_EXECUTION_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A connection to one `remotemedia serve` server.
#[pyclass(module = "remotemedia._native", frozen)]
pub struct RemoteClient {
    client: Client,
}

#[pymethods]
impl RemoteClient {
    /// Connects to `endpoint` (`host:port`); `timeout_s` bounds connecting,
    /// each `execute`, and each wait for a stream message.
    #[new]
    #[pyo3(signature = (endpoint, auth_token=None, timeout_s=30.0))]
    fn new(py: Python<'_>, endpoint: String, auth_token: Option<String>, timeout_s: f64) -> PyResult<Self> {
        if !(timeout_s.is_finite() && timeout_s > 0.0 && timeout_s <= 86_400.0) {
            return Err(PyValueError::new_err(format!(
                "timeout: expected seconds in (0, 86400], got {timeout_s}"
            )));
        }
        let options = ClientOptions {
            auth_token,
            timeout: Duration::from_secs_f64(timeout_s),
        };
        let client = py
            .detach(|| runtime::block_on(Client::connect(&endpoint, options)))
            .map_err(|e| remote_error(py, &e))?;
        Ok(Self { client })
    }

    /// The server's `host:port`.
    #[getter]
    fn endpoint(&self) -> &str {
        self.client.endpoint()
    }

    /// Runs the manifest (JSON text) on the server over `inputs` (a dict:
    /// node id -> `(samples, sample_rate)` or a JSON-able value) and returns
    /// `{"audio": {sink: (array, rate)}, "data": {sink: value}}`.
    fn execute<'py>(
        &self,
        py: Python<'py>,
        manifest_json: &str,
        inputs: &Bound<'py, PyDict>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let manifest = parse_manifest(py, manifest_json)?;
        let mut wire = Inputs::default();
        for (key, value) in inputs.iter() {
            let node_id: String = key
                .extract()
                .map_err(|_| PyTypeError::new_err("inputs: keys must be node ids (str)"))?;
            match data_from_py(&value)?.data {
                RuntimeData::Audio(a) | RuntimeData::Annotated { audio: a, .. } => {
                    wire.audio.insert(node_id, a);
                }
                RuntimeData::Json(v) => {
                    wire.data.insert(node_id, v);
                }
                RuntimeData::Text(t) => {
                    wire.data.insert(node_id, Value::String(t.to_string()));
                }
                other => {
                    return Err(PyTypeError::new_err(format!(
                        "inputs[{node_id:?}]: expected (samples, sample_rate) or a JSON value \
                         (None, bool, int, float, str, list, dict), got {}",
                        other.kind()
                    )));
                }
            }
        }
        let client = &self.client;
        let outputs = py
            .detach(|| runtime::block_on(client.execute(&manifest, &wire)))
            .map_err(|e| remote_error(py, &e))?;
        outputs_to_py(py, &outputs)
    }

    /// Opens a live stream of the manifest (JSON text) and waits for the
    /// server's `ready`.
    fn open_stream(&self, py: Python<'_>, manifest_json: &str) -> PyResult<RemoteStream> {
        let manifest = parse_manifest(py, manifest_json)?;
        let client = &self.client;
        let (sender, receiver) = py
            .detach(|| runtime::block_on(client.open_stream(&manifest)))
            .map_err(|e| remote_error(py, &e))?;
        Ok(RemoteStream {
            session_id: sender.session_id().to_owned(),
            sender: Mutex::new(sender),
            receiver: Mutex::new(receiver),
        })
    }
}

/// One live stream. `send` and `recv` may be called from different threads
/// at once (one sender, one reader).
#[pyclass(module = "remotemedia._native", frozen)]
pub struct RemoteStream {
    session_id: String,
    sender: Mutex<StreamSender>,
    receiver: Mutex<StreamReceiver>,
}

#[pymethods]
impl RemoteStream {
    /// The server's id of this session.
    #[getter]
    fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Sends one chunk `(samples, sample_rate)` into the pipeline's source;
    /// returns its sequence number. Blocks while the server is behind.
    fn send(&self, py: Python<'_>, samples: &Bound<'_, PyAny>, sample_rate: &Bound<'_, PyAny>) -> PyResult<u64> {
        // Borrowed numpy memory, locked while lent (see `crate::lock`); it is
        // dropped below with the GIL held, which releases the lock at once.
        let audio = audio_from_py(samples, sample_rate, Locking::Now)?.audio;
        py.detach(|| runtime::block_on(async { self.sender.lock().await.send("", &audio).await }))
            .map_err(|e| remote_error(py, &e))
    }

    /// Asks the server to flush and close the stream; `recv` then returns
    /// the remaining results and `None`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| runtime::block_on(async { self.sender.lock().await.close().await }))
            .map_err(|e| remote_error(py, &e))
    }

    /// The next chunk's result, `{"sequence": n, "audio": {...}, "data":
    /// {...}}`, or `None` once the server closed the stream.
    fn recv<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let next = py
            .detach(|| runtime::block_on(async { self.receiver.lock().await.next().await }))
            .map_err(|e| remote_error(py, &e))?;
        next.map(|chunk| {
            let d = outputs_to_py(py, &chunk.outputs)?;
            d.set_item("sequence", chunk.sequence)?;
            Ok(d)
        })
        .transpose()
    }
}

fn parse_manifest(py: Python<'_>, text: &str) -> PyResult<Manifest> {
    Manifest::from_json(text).map_err(|e| Error::Manifest(e).into_py(py))
}

fn outputs_to_py<'py>(py: Python<'py>, outputs: &Outputs) -> PyResult<Bound<'py, PyDict>> {
    let audio = PyDict::new(py);
    for (sink, a) in &outputs.audio {
        let array = audio_to_py(py, a, false, None, false)?;
        audio.set_item(
            sink,
            PyTuple::new(py, [array, a.sample_rate().into_pyobject(py)?.into_any()])?,
        )?;
    }
    let data = PyDict::new(py);
    for (sink, v) in &outputs.data {
        data.set_item(sink, json_to_py(py, v)?)?;
    }
    let d = PyDict::new(py);
    d.set_item("audio", audio)?;
    d.set_item("data", data)?;
    Ok(d)
}

/// `remotemedia.exceptions.RemoteExecutionError` for `e`.
fn remote_error(py: Python<'_>, e: &ClientError) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = REMOTE_EXECUTION_ERROR.import(py, "remotemedia.exceptions", "RemoteExecutionError")?;
        let kw = PyDict::new(py);
        kw.set_item("node_id", e.node_id.as_deref())?;
        kw.set_item("error_class", if e.is_transient() { "transient" } else { "fatal" })?;
        let value = class.call((e.to_string(),), Some(&kw))?;
        value.setattr("endpoint", PyString::new(py, &e.endpoint))?;
        value.setattr("code", e.code.map(|c| format!("{c:?}")))?;
        Ok(PyErr::from_value(value))
    };
    build().unwrap_or_else(|err| err)
}
