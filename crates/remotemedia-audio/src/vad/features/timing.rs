//! The analysis clock: the rate the speech detector analyses at and its hop.

/// Sample rate the analysis runs at, in Hz.
pub const ANALYSIS_RATE: u32 = 8_000;
/// Analysis hop in milliseconds.
pub const HOP_MS: usize = 20;
/// Analysis hop in samples at [`ANALYSIS_RATE`].
pub const HOP_LEN: usize = ANALYSIS_RATE as usize * HOP_MS / 1000;
/// Whole hops in `ms` milliseconds (rounded to the nearest).
pub(crate) const fn hops(ms: usize) -> usize {
    (ms + HOP_MS / 2) / HOP_MS
}
/// Hops per second.
pub(crate) const HOP_RATE: f32 = ANALYSIS_RATE as f32 / HOP_LEN as f32;
