//! The largest conversions a [`Resampler`](super::Resampler) accepts.

/// Largest number of polyphase branches (the reduced output-rate factor) a
/// [`Resampler`](super::Resampler) accepts. 44.1 kHz <-> 48 kHz needs 160, 11.025 kHz ->
/// 96 kHz needs 1280.
pub const MAX_PHASES: u32 = 2048;

/// Largest coefficient table (branches x taps) a [`Resampler`](super::Resampler) builds, in
/// `f32` values (16 MiB). Ratios that would need more are rejected with
/// [`ResampleError::UnsupportedRatio`](super::ResampleError::UnsupportedRatio).
pub const MAX_TABLE_LEN: usize = 4 << 20;
