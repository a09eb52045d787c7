//! What belongs to one batch run or one session, lent to its Python nodes.
//!
//! Every run and every session has its own [`RunState`], handed to its Python
//! nodes through the engine's [`remotemedia_core::RunContext`] (see [`crate::pipeline`]); callers
//! sharing one compiled pipeline never see each other's.

use std::sync::atomic::{AtomicBool, Ordering};

/// The shape mono audio is handed over in, and whether the run was
/// cancelled.
#[derive(Debug, Default)]
pub struct RunState {
    one_dimensional: AtomicBool,
    cancelled: AtomicBool,
}

impl RunState {
    /// True when mono audio is handed to Python (to the caller and to Python
    /// nodes) 1-D: its caller gave mono audio as a 1-D array. Else it is 2-D
    /// `(1, frames)`. A batch run sets it before each of its items (which
    /// run one after the other); a session, once, from its first audio chunk
    /// (see [`crate::session`]).
    pub fn one_dimensional(&self) -> bool {
        // Relaxed is enough: the value is written before the input it
        // describes is handed to the engine, which orders the two.
        self.one_dimensional.load(Ordering::Relaxed)
    }

    /// Sets the shape for the inputs handed to the engine from now on.
    pub fn set_one_dimensional(&self, one_dimensional: bool) {
        self.one_dimensional.store(one_dimensional, Ordering::Relaxed);
    }

    /// Marks the run cancelled: its Python nodes are not called again (see
    /// [`crate::interrupt`]).
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
    }

    /// True once [`RunState::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }
}
