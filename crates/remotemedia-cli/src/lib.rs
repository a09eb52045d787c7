//! Library side of the `remotemedia` command: the WAV reader and writer,
//! exposed so that the fuzz targets (and tests) can drive them directly.

pub mod wav;
