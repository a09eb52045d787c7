//! Library side of the `remotemedia` command: the WAV reader and writer,
//! and the check that a run's files are distinct, exposed so that the fuzz
//! targets (and tests) can drive them directly.

pub mod files;
pub mod wav;
