//! The `remotemedia` command, run from Python: the same implementation as
//! the Rust binary (`remotemedia_cli::main`), behind the console script and
//! `python -m remotemedia`.

use pyo3::prelude::*;

/// Runs the `remotemedia` command with `args` (without the program name) and
/// returns its exit status. The GIL is released while it runs; it writes to
/// the process's stdout and stderr directly.
#[pyfunction]
pub fn cli_main(py: Python<'_>, args: Vec<String>) -> i32 {
    let argv: Vec<String> = std::iter::once("remotemedia".to_owned()).chain(args).collect();
    i32::from(py.detach(|| remotemedia_cli::main(argv)))
}
