//! `remotemedia`: run, validate and inspect RemoteMedia pipelines.

use std::process::ExitCode;

use remotemedia_core::metrics::alloc::TrackingAllocator;

/// Counts heap bytes so node metrics can report peak memory.
#[global_allocator]
static ALLOCATOR: TrackingAllocator = TrackingAllocator;

fn main() -> ExitCode {
    // A panic inside a node call is caught and reported as that node's
    // error; only panics outside them (real crashes) print.
    remotemedia_core::panic::install_quiet_hook();
    ExitCode::from(remotemedia_cli::main(std::env::args_os()))
}
