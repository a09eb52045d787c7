//! The one tokio runtime behind every Python call.
//!
//! Built on first use and never dropped. Engine runs are driven with
//! [`block_on`] from the calling Python thread, with the GIL released, so a
//! run costs no thread hand-off; the runtime provides the timers and the
//! worker threads the engine needs (retry back-off, sessions).

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The global runtime (two worker threads: the machine has few cores, and
/// the heavy work runs on the calling thread anyway).
pub fn get() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("remotemedia-py")
            .enable_all()
            .build()
            .expect("cannot start the tokio runtime")
    })
}

/// Runs `future` to completion on the calling thread, inside the global
/// runtime's context.
pub fn block_on<F: Future>(future: F) -> F::Output {
    get().block_on(future)
}
