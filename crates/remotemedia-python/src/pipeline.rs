//! Compiled pipelines, run from Python as batches or streams.

use std::collections::HashMap;
use std::sync::Arc;

use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use remotemedia_core::join::join_pieces;
use remotemedia_core::{
    GraphRun, Manifest, Node, Overrides, Pipeline, RunContext, RunMode, RunOptions, Runtime, RuntimeData, SinkOutput,
};

use crate::convert::{DataIn, data_from_py, data_to_py, json_to_py};
use crate::errors::Error;
use crate::py_node::PyNode;
use crate::run_state::RunState;
use crate::session::NativeSession;
use crate::{interrupt, lock, registry, runtime};

/// A manifest compiled by the engine, with Python node instances bound in.
///
/// `NativePipeline(manifest_json, python_nodes)`: `python_nodes` maps node
/// ids to adapter objects (see [`crate::py_node`]); those nodes are
/// [`Overrides`] of the engine, run through CPython, and every other node
/// comes from the native registry. The manifest is compiled once: batch runs
/// run it in [`RunMode::Clips`], sessions in [`RunMode::Stream`], and both
/// share its nodes' circuit breakers. Metrics name the manifest's node
/// types, with runtime `python` for the bound nodes.
///
/// Nothing else is shared. In particular the shape mono audio is handed
/// over in and the metrics belong to each run and each session
/// ([`RunState`], lent to the Python nodes as the run's [`RunContext`];
/// `run`'s `metrics` list), so callers using one `NativePipeline` at the
/// same time never get each other's.
#[pyclass(frozen, module = "remotemedia._native")]
pub struct NativePipeline {
    pipeline: Arc<Pipeline>,
}

/// Outputs of one input item: every sink output, in the order produced.
type ItemOutputs = Vec<SinkOutput>;

#[pymethods]
impl NativePipeline {
    #[new]
    #[pyo3(signature = (manifest, python_nodes = None))]
    fn new(py: Python<'_>, manifest: &str, python_nodes: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let manifest = Manifest::from_json(manifest).map_err(|e| Error::from(e).into_py(py))?;
        let mut overrides = Overrides::new();
        if let Some(nodes) = python_nodes {
            for (id, adapter) in nodes.iter() {
                let id: String = id.extract()?;
                let adapter = adapter.unbind();
                overrides = overrides.node(&id, Runtime::Python, move |context| {
                    let run = context.get::<RunState>().unwrap_or_default();
                    let clips = context.mode() == RunMode::Clips;
                    Python::attach(|py| PyNode::new(py, adapter.clone_ref(py), run, clips))
                        .map(|node| Box::new(node) as Box<dyn Node>)
                        .map_err(|e| e.to_string())
                });
            }
        }
        let pipeline = registry::engine()
            .compile_with(manifest, &overrides)
            .map_err(|e| Error::from(e).into_py(py))?;
        Ok(Self { pipeline })
    }

    /// Runs every item of `items` as one whole clip ([`RunMode::Clips`]:
    /// native nodes fresh and flushed per item, then the graph flushed and
    /// reset) with the GIL
    /// released. Returns, per item, the list of its outputs; each sink's
    /// audio pieces are joined into one value. Mono audio of an item given
    /// 1-D reaches Python nodes and comes back 1-D, whatever the other
    /// items, and other runs at the same time, give.
    ///
    /// When `metrics` is a list, this run's metrics (the engine's metrics
    /// JSON as a dict) are appended to it once the run has started, also
    /// when a node fails; an input that cannot be converted fails before.
    ///
    /// With a `token`, `token.cancel()` (from another thread) stops the run:
    /// it returns at its next wait or node call, and its Python node calls
    /// are interrupted (see [`crate::interrupt`]).
    #[pyo3(signature = (items, metrics = None, token = None))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyList>,
        metrics: Option<&Bound<'py, PyList>>,
        token: Option<&Bound<'py, RunToken>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let inputs: Vec<DataIn> = items.iter().map(|i| data_from_py(&i)).collect::<PyResult<_>>()?;
        let copied = inputs.iter().filter(|i| i.copied).count();
        let flags: Vec<bool> = inputs.iter().map(|i| i.one_dimensional).collect();
        let arrays: Vec<Option<Py<PyAny>>> = inputs
            .iter()
            .map(|i| i.array.as_ref().map(|a| a.clone_ref(py)))
            .collect();
        let data: Vec<(RuntimeData, bool)> = inputs.into_iter().map(|i| (i.data, i.one_dimensional)).collect();
        let pipeline = Arc::clone(&self.pipeline);
        let token = token.map_or_else(RunToken::default, |t| t.get().clone());
        let (result, run_metrics) = py.detach(move || {
            runtime::block_on(async move {
                let shape = Arc::clone(&token.state);
                let context = RunContext::new(Arc::clone(&shape)).in_mode(RunMode::Clips);
                let mut run = match GraphRun::with_context(pipeline, RunOptions::default(), context) {
                    Ok(run) => run,
                    Err(e) => return (Err(Error::from(e)), None),
                };
                let mut all = Vec::with_capacity(data.len());
                let work = async {
                    for (input, one_dimensional) in data {
                        shape.set_one_dimensional(one_dimensional);
                        let mut outputs = ItemOutputs::new();
                        run.push(input, &mut outputs).await.map_err(Error::from)?;
                        run.flush(&mut outputs).await.map_err(Error::from)?;
                        run.reset();
                        all.push(outputs);
                    }
                    Ok::<(), Error>(())
                };
                let result = tokio::select! {
                    biased;
                    () = token.cancelled.notified() => Err(Error::Cancelled),
                    r = work => r,
                };
                let run_metrics = serde_json::to_value(run.metrics()).ok();
                (result.map(|()| all), run_metrics)
            })
        });
        if let (Some(list), Some(mut value)) = (metrics, run_metrics) {
            lock::record_copies(&mut value, copied);
            list.append(json_to_py(py, &value)?)?;
        }
        let all = result.map_err(|e| e.into_py(py))?;
        let out = PyList::empty(py);
        for ((outputs, one_dimensional), array) in all.into_iter().zip(flags).zip(arrays) {
            let same_as = array.as_ref().map(|a| a.bind(py));
            let item = PyList::empty(py);
            for data in merge_by_sink(outputs) {
                item.append(data_to_py(py, &data, one_dimensional, same_as)?)?;
            }
            out.append(item)?;
        }
        Ok(out)
    }

    /// A streaming session on the engine (see [`NativeSession`]): chunks
    /// form one continuous stream, processed by a task on the global
    /// runtime. At most `input_capacity` chunks wait to be processed and
    /// `output_capacity` outputs wait to be read; beyond that `send` waits.
    /// The session's first audio chunk fixes the shape of its mono audio.
    #[pyo3(signature = (input_capacity = 16, output_capacity = 64))]
    fn open_session(&self, py: Python<'_>, input_capacity: usize, output_capacity: usize) -> PyResult<NativeSession> {
        let shape = Arc::new(RunState::default());
        let context = RunContext::new(Arc::clone(&shape));
        let run = GraphRun::with_context(Arc::clone(&self.pipeline), RunOptions::default(), context)
            .map_err(|e| Error::from(e).into_py(py))?;
        NativeSession::start(run, input_capacity, output_capacity, shape)
            .map_err(|e| PyOSError::new_err(format!("cannot open the session's wake-up socket: {e}")))
    }

    /// The node ids, in manifest order.
    fn node_ids(&self) -> Vec<String> {
        self.pipeline.manifest().nodes.iter().map(|n| n.id.clone()).collect()
    }

    /// Where each node runs (`"rust"` or `"python"`), by node id.
    fn runtimes(&self) -> HashMap<String, String> {
        (0..self.pipeline.manifest().nodes.len())
            .map(|i| (self.pipeline.spec(i).id.clone(), self.pipeline.runtime(i).to_string()))
            .collect()
    }
}

/// A handle to cancel a batch run from another thread: made in Python, passed
/// to `NativePipeline.run`, cancelled with `cancel()`.
#[pyclass(frozen, module = "remotemedia._native")]
#[derive(Clone, Default)]
pub struct RunToken {
    state: Arc<RunState>,
    cancelled: Arc<tokio::sync::Notify>,
}

#[pymethods]
impl RunToken {
    #[new]
    fn py_new() -> Self {
        Self::default()
    }

    /// Stops the run this token was given to (also before it starts): its
    /// Python node calls are interrupted and it returns at its next wait.
    fn cancel(&self, py: Python<'_>) {
        interrupt::cancel_run(py, &self.state);
        self.cancelled.notify_one();
    }

    /// True once `cancel()` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.state.is_cancelled()
    }
}

/// Groups one item's outputs by sink (in order of first appearance) and
/// joins each sink's audio pieces.
fn merge_by_sink(outputs: ItemOutputs) -> Vec<RuntimeData> {
    let mut groups: Vec<(Arc<str>, Vec<RuntimeData>)> = Vec::new();
    for o in outputs {
        match groups.iter_mut().find(|(id, _)| *id == o.node_id) {
            Some((_, g)) => g.push(o.data),
            None => groups.push((o.node_id, vec![o.data])),
        }
    }
    groups.into_iter().flat_map(|(_, g)| join_pieces(g)).collect()
}
