//! The `remotemedia` command as a library. Its entry point, [`main`], is
//! shared by the binary and the Python extension (`remotemedia._native.cli_main`,
//! behind the `remotemedia` command a pip install provides), so there is one
//! command-line implementation. The check that a run's files are distinct is
//! exposed so that tests can drive it directly (media input and WAV output
//! live in `remotemedia_media`); so are the pieces of `remotemedia batch` the
//! Python package runs too (the input listing, one file's processing, the
//! index), so that both write the same files.

// `run` names this crate by its public path (`remotemedia_cli::files`).
extern crate self as remotemedia_cli;

mod batch;
mod cli;
mod describe;
pub mod files;
pub mod index;
pub mod inputs;
mod loadtest;
mod logging;
mod metrics_server;
pub mod process_file;
mod progress;
mod remote_pipeline;
mod run;
mod serve;

pub use cli::{main, registry};
