//! Manifest text read by the engine's strict reader, so that the SDK and the
//! CLI read JSON and YAML manifests the same way (see
//! [`remotemedia_core::document`]).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use remotemedia_core::document;

use crate::errors::Error;

/// Parses manifest text (`format` is `"json"` or `"yaml"`) and returns the
/// document as JSON text; refusals raise `PipelineError` with `.problems`.
/// The GIL is released while parsing.
#[pyfunction]
pub fn parse_manifest_text(py: Python<'_>, text: &str, format: &str) -> PyResult<String> {
    let parse = match format {
        "json" => document::parse_json,
        "yaml" => document::parse_yaml,
        other => {
            return Err(PyValueError::new_err(format!(
                "format: expected \"json\" or \"yaml\", got {other:?}"
            )));
        }
    };
    py.detach(|| parse(text))
        .map(|value| value.to_string())
        .map_err(|e| Error::Manifest(e).into_py(py))
}
