//! When to release the GIL.
//!
//! Releasing and re-taking the GIL costs a few hundred nanoseconds, as much
//! as the whole call on a 30 ms frame. Calls on small inputs therefore keep
//! it; calls on inputs of [`RELEASE_GIL_MIN_SAMPLES`] samples or more (about
//! 85 ms of 48 kHz audio) release it, so other Python threads run meanwhile.
//! Pipeline runs that may take long (batches, anything with a Python node
//! that might block) always release it.

use pyo3::Python;

/// Inputs at least this large (in samples) are processed without the GIL.
pub const RELEASE_GIL_MIN_SAMPLES: usize = 4096;

/// Runs `f` with the GIL released when `samples` is large enough, else with
/// the GIL held.
pub fn maybe_detach<T: Send, F: FnOnce() -> T + Send>(py: Python<'_>, samples: usize, f: F) -> T {
    if samples >= RELEASE_GIL_MIN_SAMPLES {
        py.detach(f)
    } else {
        f()
    }
}
