//! Files processed from Python exactly as `remotemedia batch` processes
//! them: the same listing of inputs, and the same per-file code
//! ([`remotemedia_cli::process_file`]), so `remotemedia.ray` writes the
//! same bytes as the command. Calling into that code rather than
//! reimplementing it in Python is what makes the outputs byte-identical:
//! one decoder, one chunking, one WAV writer.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use remotemedia_cli::inputs::{Input, list_inputs};
use remotemedia_cli::process_file::{DEFAULT_CHUNK_MS, FileOptions, process_file};
use remotemedia_core::{Manifest, ManifestError, Pipeline};

use crate::errors::Error;
use crate::{registry, runtime};

/// A manifest compiled once, for processing files one at a time like
/// `remotemedia batch` does (`BatchPipeline(manifest_json, chunk_ms=1000,
/// output_node=None)`). Every file runs on a fresh instance of its nodes;
/// the compiled pipeline (and so the nodes' circuit breakers) is shared by
/// the files, as it is by a batch's workers.
#[pyclass(frozen, module = "remotemedia._native")]
pub struct BatchPipeline {
    pipeline: Arc<Pipeline>,
    options: FileOptions,
}

#[pymethods]
impl BatchPipeline {
    #[new]
    #[pyo3(signature = (manifest, chunk_ms = DEFAULT_CHUNK_MS, output_node = None))]
    fn new(py: Python<'_>, manifest: &str, chunk_ms: u32, output_node: Option<String>) -> PyResult<Self> {
        if !(1..=60_000).contains(&chunk_ms) {
            return Err(PyValueError::new_err(format!(
                "chunk_ms must be 1 to 60000 (milliseconds), got {chunk_ms}"
            )));
        }
        let refused = |e: ManifestError| Error::from(e).into_py(py);
        let manifest = Manifest::from_json(manifest).map_err(refused)?;
        let pipeline = registry::engine().compile(manifest).map_err(refused)?;
        if let Some(id) = &output_node {
            let g = pipeline.graph();
            if !g.sinks().any(|i| g.id(i) == id) {
                return Err(PyValueError::new_err(format!("output_node {id:?} is not a sink")));
            }
        }
        Ok(Self {
            pipeline,
            options: FileOptions { chunk_ms, output_node },
        })
    }

    /// Processes the file at `path`, writing its audio under `output_dir`
    /// at `relative` (with the extension .wav), and returns its index row
    /// as JSON text. A file that fails is not an exception: its row says
    /// `"status": "failed"` and why. The GIL is released meanwhile.
    fn process_file(&self, py: Python<'_>, path: PathBuf, relative: PathBuf, output_dir: PathBuf) -> PyResult<String> {
        if relative.is_absolute() || relative.components().any(|c| c == std::path::Component::ParentDir) {
            return Err(PyValueError::new_err(format!(
                "relative must stay inside the output folder, got {}",
                relative.display()
            )));
        }
        let input = Input { path, relative };
        let stop = AtomicBool::new(false);
        let record =
            py.detach(|| runtime::block_on(process_file(&self.pipeline, &input, &output_dir, &self.options, &stop)));
        let record = record.ok_or_else(|| PyRuntimeError::new_err("the file's processing was stopped"))?;
        Ok(serde_json::to_string(&record).expect("a record serializes"))
    }
}

/// The inputs `spec` names (a directory, a glob pattern, a file or
/// `@list.txt`), as `remotemedia batch --input` lists them: a list of
/// `(path, relative)` pairs, `relative` being where its outputs go under the
/// output folder. `exclude` (the output folder) is not walked into. Raises
/// ValueError with the command's message when the listing is refused.
#[pyfunction]
#[pyo3(signature = (spec, exclude = None))]
pub fn list_batch_inputs(spec: &str, exclude: Option<PathBuf>) -> PyResult<Vec<(String, String)>> {
    let inputs = list_inputs(spec, exclude.as_deref().map(Path::new)).map_err(PyValueError::new_err)?;
    Ok(inputs
        .into_iter()
        .map(|i| (i.path.display().to_string(), i.relative.display().to_string()))
        .collect())
}
