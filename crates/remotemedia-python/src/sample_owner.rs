//! The Python object that keeps an engine buffer alive under the numpy arrays viewing it.

use pyo3::prelude::*;
use remotemedia_core::Samples;

/// Owns an engine buffer on behalf of the numpy arrays that view it.
#[pyclass(frozen, module = "remotemedia._native")]
pub struct SampleOwner {
    samples: Samples,
}

impl SampleOwner {
    /// An owner of `samples`.
    pub(crate) fn new(samples: Samples) -> Self {
        Self { samples }
    }
}

#[pymethods]
impl SampleOwner {
    /// Number of samples held (all channels).
    fn __len__(&self) -> usize {
        self.samples.len()
    }

    /// The sample format: `"f32"`, `"i16"` or `"i32"`.
    #[getter]
    fn format(&self) -> &'static str {
        self.samples.format().name()
    }
}
