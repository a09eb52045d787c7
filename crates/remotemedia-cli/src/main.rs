//! `remotemedia`: run, validate and inspect RemoteMedia pipelines.

use std::process::ExitCode;

use remotemedia_core::metrics::alloc::TrackingAllocator;

/// Counts heap bytes so node metrics can report peak memory.
#[global_allocator]
static ALLOCATOR: TrackingAllocator = TrackingAllocator;

fn main() -> ExitCode {
    ExitCode::from(remotemedia_cli::main(std::env::args_os()))
}
