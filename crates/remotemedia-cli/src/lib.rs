//! The `remotemedia` command as a library. Its entry point, [`main`], is
//! shared by the binary and the Python extension (`remotemedia._native.cli_main`,
//! behind the `remotemedia` command a pip install provides), so there is one
//! command-line implementation. The WAV reader and writer, and the check
//! that a run's files are distinct, are exposed so that the fuzz targets (and
//! tests) can drive them directly.

// `run` names this crate by its public path (`remotemedia_cli::wav`).
extern crate self as remotemedia_cli;

mod cli;
mod describe;
pub mod files;
mod loadtest;
mod logging;
mod metrics_server;
mod run;
mod serve;
pub mod wav;

pub use cli::main;
