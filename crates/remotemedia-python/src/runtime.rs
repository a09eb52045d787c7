//! The one tokio runtime behind every Python call.
//!
//! Built on first use and never dropped. Engine runs are driven with
//! [`block_on`] from the calling Python thread, with the GIL released, so a
//! run costs no thread hand-off; the runtime provides the timers and the
//! worker threads the engine needs (retry back-off, sessions).
//!
//! Threads do not survive `fork`: a child process that inherited a runtime
//! would wait forever for its workers. The SDK calls [`after_fork_in_child`]
//! (through `os.register_at_fork`), and the child builds a runtime of its own
//! on first use; the parent's is leaked there, never dropped (dropping it
//! would wait for threads that do not exist).

use std::future::Future;
use std::sync::Mutex;

use tokio::runtime::{Builder, Runtime};

static RUNTIME: Mutex<Option<&'static Runtime>> = Mutex::new(None);

/// The global runtime (two worker threads: the machine has few cores, and
/// the heavy work runs on the calling thread anyway).
pub fn get() -> &'static Runtime {
    let mut current = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    current.get_or_insert_with(|| {
        Box::leak(Box::new(
            Builder::new_multi_thread()
                .worker_threads(2)
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
    *RUNTIME.lock().unwrap_or_else(|p| p.into_inner()) = None;
}
