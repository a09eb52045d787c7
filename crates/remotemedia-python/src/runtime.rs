//! The one tokio runtime behind every Python call.
//!
//! Built on first use and never dropped. Engine runs are driven with
//! [`block_on`] from the calling Python thread, with the GIL released, so a
//! run costs no thread hand-off; the runtime provides the timers and the
//! worker threads the engine needs (retry back-off, sessions).
//!
//! Its worker count is, in order: what [`set_worker_threads`] set before the
//! first use, else the `REMOTEMEDIA_WORKER_THREADS` environment variable
//! (read when the module is imported: a bad value fails the import), else
//! the machine's available parallelism.
//!
//! Threads do not survive `fork`: a child process that inherited a runtime
//! would wait forever for its workers. The SDK calls [`after_fork_in_child`]
//! (through `os.register_at_fork`), and the child builds a runtime of its own
//! on first use (with the same worker count); the parent's is leaked there,
//! never dropped (dropping it would wait for threads that do not exist).

use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::thread::available_parallelism;

use tokio::runtime::{Builder, Runtime};

/// The environment variable that sets the worker count.
pub const WORKERS_ENV: &str = "REMOTEMEDIA_WORKER_THREADS";

/// The most workers one may ask for (far beyond any use; bounds a typo).
pub const MAX_WORKERS: usize = 1024;

/// The runtime, once built. Locked before [`WORKERS`] wherever both are.
static RUNTIME: Mutex<Option<&'static Runtime>> = Mutex::new(None);

/// The worker count chosen so far (`None`: the machine's parallelism).
static WORKERS: Mutex<Option<usize>> = Mutex::new(None);

/// The global runtime.
pub fn get() -> &'static Runtime {
    let mut current = lock(&RUNTIME);
    current.get_or_insert_with(|| {
        let workers = lock(&WORKERS).unwrap_or_else(machine_parallelism);
        Box::leak(Box::new(
            Builder::new_multi_thread()
                .worker_threads(workers)
                .thread_name("remotemedia-py")
                .enable_all()
                .build()
                .expect("cannot start the tokio runtime"),
        ))
    })
}

/// Runs `future` to completion on the calling thread, inside the global
/// runtime's context.
pub fn block_on<F: Future>(future: F) -> F::Output {
    get().block_on(future)
}

/// In a child process after `fork`: forgets the parent's runtime, whose
/// threads the child does not have.
pub fn after_fork_in_child() {
    *lock(&RUNTIME) = None;
}

/// Sets the worker count; refused once the runtime runs, or out of
/// `1..=MAX_WORKERS`.
pub fn set_worker_threads(n: usize) -> Result<(), String> {
    if !(1..=MAX_WORKERS).contains(&n) {
        return Err(format!("worker threads: expected 1 to {MAX_WORKERS}, got {n}"));
    }
    let current = lock(&RUNTIME);
    if let Some(runtime) = *current {
        return Err(format!(
            "worker threads: the runtime already runs with {} workers; set the count before the first pipeline runs",
            runtime.metrics().num_workers()
        ));
    }
    *lock(&WORKERS) = Some(n);
    Ok(())
}

/// The worker count the runtime has, or will have when first used.
pub fn worker_threads() -> usize {
    match *lock(&RUNTIME) {
        Some(runtime) => runtime.metrics().num_workers(),
        None => lock(&WORKERS).unwrap_or_else(machine_parallelism),
    }
}

/// Applies `REMOTEMEDIA_WORKER_THREADS` when it is set (and not empty).
pub fn configure_from_env() -> Result<(), String> {
    let Ok(text) = std::env::var(WORKERS_ENV) else {
        return Ok(());
    };
    if text.trim().is_empty() {
        return Ok(());
    }
    let n = text
        .trim()
        .parse()
        .map_err(|_| format!("{WORKERS_ENV}={text:?}: expected a whole number from 1 to {MAX_WORKERS}"))?;
    set_worker_threads(n).map_err(|e| format!("{WORKERS_ENV}: {e}"))
}

fn machine_parallelism() -> usize {
    available_parallelism().map_or(1, |n| n.get())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Each holds a plain value that every writer leaves consistent.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
