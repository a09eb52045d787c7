//! Stopping Python code the engine no longer waits for.
//!
//! When the engine gives up on a Python node's call (its `timeout_ms` has
//! passed, or the run was cancelled), the Python code must stop too: an
//! abandoned busy loop would otherwise keep running, slowing the rest of the
//! program and holding its thread, and a thread still in Python when the
//! interpreter shuts down aborts the process.
//!
//! Every Python node call is registered here while it runs ([`begin`]). A
//! call is *interrupted* by calling its adapter's `interrupt(thread)`
//! (`remotemedia/core/adapter.py`), under the GIL: an async node's coroutine
//! is cancelled (and its event loop replaced if it does not respond); a sync
//! node gets `remotemedia.exceptions.Interrupted` raised in its thread
//! (CPython's asynchronous exception, [`raise_in_thread`]), at its next
//! bytecode: a busy loop stops at once, a blocking C call (`time.sleep`) when
//! it returns.
//!
//! Calls are interrupted by a watchdog thread when their deadline passes, by
//! [`cancel_run`] for every call of one run, and by [`shut_down`] for all of
//! them when the interpreter exits. A call that ends while it is being
//! interrupted clears the pending exception of its thread ([`Call::end`]),
//! so it never surfaces in unrelated code.
//!
//! Lock order: the registry's mutex is never held while waiting for the GIL.

use std::collections::HashMap;
// pyo3 declares the thread id of `PyThreadState_SetAsyncExc` as a `long`;
// CPython takes the `unsigned long` that `threading.get_ident()` returns,
// so the bits are passed through unchanged.
use std::os::raw::{c_long, c_ulong};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use crate::run_state::RunState;

/// Why a call was interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Its deadline (the node's `timeout_ms`) passed.
    Deadline,
    /// Its run or session was cancelled.
    Cancelled,
    /// The interpreter is exiting.
    Exit,
}

/// One Python node call in progress.
struct InFlight {
    thread: c_ulong,
    adapter: Py<PyAny>,
    run: Arc<RunState>,
    deadline: Option<Instant>,
    interrupted: Option<Reason>,
}

#[derive(Default)]
struct Registry {
    calls: HashMap<u64, InFlight>,
    watchdog_started: bool,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);
static WAKE_WATCHDOG: Condvar = Condvar::new();
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);
static INTERRUPTED: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// True once the interpreter has begun to exit: Python nodes are no longer
/// called.
pub fn shutting_down() -> bool {
    SHUTTING_DOWN.load(Ordering::Acquire)
}

/// A registered call; [`Call::end`] it on the calling thread, under the GIL,
/// when the Python code returns.
#[must_use]
pub struct Call {
    id: u64,
}

/// Registers a call of `adapter` on this thread for `run`, to be interrupted
/// after `timeout` (if any). The GIL is held (`_py`), so the registration and
/// the thread's identity are consistent with the watchdog's view.
pub fn begin(_py: Python<'_>, adapter: &Py<PyAny>, run: &Arc<RunState>, timeout: Option<Duration>) -> Call {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    // SAFETY: the GIL is held; returns the calling thread's identifier.
    let thread = unsafe { pyo3::ffi::PyThread_get_thread_ident() };
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut registry = registry();
    registry.calls.insert(
        id,
        InFlight {
            thread,
            adapter: adapter.clone_ref(_py),
            run: Arc::clone(run),
            deadline,
            interrupted: None,
        },
    );
    if deadline.is_some() {
        if !registry.watchdog_started {
            registry.watchdog_started = true;
            std::thread::Builder::new()
                .name("remotemedia-watchdog".into())
                .spawn(watchdog)
                .expect("cannot start the watchdog thread");
        }
        WAKE_WATCHDOG.notify_one();
    }
    Call { id }
}

impl Call {
    /// Unregisters the call; if it was interrupted, clears the exception that
    /// may still be pending on this thread and says why it was interrupted.
    pub fn end(self, _py: Python<'_>) -> Option<Reason> {
        let call = registry().calls.remove(&self.id)?;
        let reason = call.interrupted?;
        // SAFETY: the GIL is held; a NULL exception clears the thread's
        // pending asynchronous exception.
        unsafe { pyo3::ffi::PyThreadState_SetAsyncExc(call.thread as c_long, std::ptr::null_mut()) };
        Some(reason)
    }
}

/// Marks every call matching `select` interrupted for `reason` and asks its
/// adapter to stop it.
fn interrupt_where(py: Python<'_>, reason: Reason, select: impl Fn(&InFlight) -> bool) {
    let targets: Vec<(c_ulong, Py<PyAny>)> = {
        let mut registry = registry();
        registry
            .calls
            .values_mut()
            .filter(|c| c.interrupted.is_none() && select(c))
            .map(|c| {
                c.interrupted = Some(reason);
                (c.thread, c.adapter.clone_ref(py))
            })
            .collect()
    };
    for (thread, adapter) in targets {
        if let Err(e) = adapter.bind(py).call_method1("interrupt", (thread,)) {
            e.write_unraisable(py, Some(adapter.bind(py)));
        }
    }
}

/// Cancels `run`: its Python nodes are not called again, and those running
/// now are interrupted.
pub fn cancel_run(py: Python<'_>, run: &Arc<RunState>) {
    run.cancel();
    interrupt_where(py, Reason::Cancelled, |c| Arc::ptr_eq(&c.run, run));
}

/// Raises `remotemedia.exceptions.Interrupted` in the Python thread `thread`
/// at its next bytecode (nothing happens if it runs no Python code again).
pub fn raise_in_thread(py: Python<'_>, thread: c_ulong) -> PyResult<()> {
    let interrupted = INTERRUPTED.import(py, "remotemedia.exceptions", "Interrupted")?;
    // SAFETY: the GIL is held; the exception type is a live object (the call
    // takes a new reference to it).
    unsafe { pyo3::ffi::PyThreadState_SetAsyncExc(thread as c_long, interrupted.as_ptr()) };
    Ok(())
}

/// At interpreter exit: no Python node is called any more, every call in
/// progress is interrupted, and this waits up to `grace` for them to leave
/// Python (the GIL released meanwhile).
pub fn shut_down(py: Python<'_>, grace: Duration) {
    SHUTTING_DOWN.store(true, Ordering::Release);
    interrupt_where(py, Reason::Exit, |_| true);
    let until = Instant::now() + grace;
    py.detach(|| {
        while !registry().calls.is_empty() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
    });
}

/// In a child process after `fork`: the calls in progress and the watchdog
/// belong to the parent's threads; the child starts with none (their
/// references are released here, under the GIL: `_py`).
pub fn after_fork_in_child(_py: Python<'_>) {
    let calls = {
        let mut registry = registry();
        registry.watchdog_started = false;
        std::mem::take(&mut registry.calls)
    };
    drop(calls);
}

/// Interrupts calls whose deadline has passed, sleeping until the next one.
fn watchdog() {
    loop {
        let registry = registry();
        let now = Instant::now();
        let next = registry
            .calls
            .values()
            .filter(|c| c.interrupted.is_none())
            .filter_map(|c| c.deadline)
            .min();
        match next {
            _ if shutting_down() => return,
            Some(deadline) if deadline <= now => {
                drop(registry);
                crate::gil::keep_thread_state();
                Python::attach(|py| {
                    interrupt_where(py, Reason::Deadline, |c| {
                        c.deadline.is_some_and(|d| d <= Instant::now())
                    });
                });
            }
            Some(deadline) => {
                let _unused = WAKE_WATCHDOG.wait_timeout(registry, deadline - now);
            }
            None => {
                let _unused = WAKE_WATCHDOG.wait(registry);
            }
        }
    }
}
