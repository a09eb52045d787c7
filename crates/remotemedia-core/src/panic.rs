//! Panics inside node calls: caught by the engine and reported as the
//! node's error, so they need not print the default panic output.
//!
//! The engine catches every panic of a node call and turns it into a fatal
//! [`crate::NodeError`] carrying the panic message. Rust's default panic
//! hook still prints the message (and, with `RUST_BACKTRACE`, a backtrace)
//! on stderr before the engine catches it. [`install_quiet_hook`] replaces
//! the hook by one that stays silent for panics the engine is about to
//! catch and hands every other panic (a real crash) to the previous hook.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

thread_local! {
    /// True while this thread runs a node call whose panics are caught.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, catching a panic; the quiet hook knows it is caught.
pub(crate) fn catching<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let outer = CATCHING.with(|c| c.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(outer));
    result
}

/// Installs (once per process) a panic hook that prints nothing for panics
/// inside node calls, which the engine catches and reports as errors, and
/// defers to the hook installed before it for every other panic.
pub fn install_quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CATCHING.with(Cell::get) {
                previous(info);
            }
        }));
    });
}
