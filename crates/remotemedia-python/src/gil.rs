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

/// Keeps a CPython thread state on an engine thread for as long as the
/// thread lives.
///
/// Taking the GIL on a thread CPython does not know (a tokio worker, the
/// thread of a timed call) creates a thread state and destroys it again on release:
/// about 5 µs per Python node call. Called before a Python node's first call
/// on a thread, this creates the state once (taking and releasing the GIL);
/// later calls only take the GIL. The state is released when the thread
/// exits (tokio ends idle blocking threads), unless the interpreter is gone.
pub fn keep_thread_state() {
    KEPT.with(|kept| {
        if kept.get().is_some() {
            return;
        }
        // SAFETY: the GIL is not held here (the caller is about to take it);
        // `PyGILState_Ensure` takes it and, on a thread without a state,
        // creates one; `PyEval_SaveThread` releases the GIL and keeps the
        // state, which stays this thread's until `Kept::drop`.
        unsafe {
            if !pyo3::ffi::PyGILState_GetThisThreadState().is_null() {
                kept.set(Some(Kept::Python));
                return;
            }
            let gstate = pyo3::ffi::PyGILState_Ensure();
            let tstate = pyo3::ffi::PyEval_SaveThread();
            kept.set(Some(Kept::Engine(gstate, tstate)));
        }
    });
}

thread_local! {
    static KEPT: KeptCell = const { KeptCell(std::cell::Cell::new(None)) };
}

/// How this thread's CPython state came to be.
#[derive(Clone, Copy)]
enum Kept {
    /// CPython made it (a Python thread): nothing to release.
    Python,
    /// [`keep_thread_state`] made it.
    Engine(pyo3::ffi::PyGILState_STATE, *mut pyo3::ffi::PyThreadState),
}

struct KeptCell(std::cell::Cell<Option<Kept>>);

impl KeptCell {
    fn get(&self) -> Option<Kept> {
        self.0.get()
    }

    fn set(&self, kept: Option<Kept>) {
        self.0.set(kept);
    }
}

impl Drop for KeptCell {
    fn drop(&mut self) {
        if let Some(Kept::Engine(gstate, tstate)) = self.0.get() {
            // SAFETY: the state was made on this thread by
            // `keep_thread_state` and the GIL is not held at thread exit;
            // restoring it and releasing the GIL state destroys it.
            unsafe {
                if pyo3::ffi::Py_IsInitialized() != 0 {
                    pyo3::ffi::PyEval_RestoreThread(tstate);
                    pyo3::ffi::PyGILState_Release(gstate);
                }
            }
        }
    }
}
