//! Errors of the resampler.

use super::limits::MAX_PHASES;

/// Errors of the resampler. Construction errors (`ZeroRate`, `UnsupportedRatio`,
/// `ZeroChannels`, `UnknownQuality`) mean bad parameters; the others mean a call was given
/// buffers of the wrong shape. None leaves the resampler in an inconsistent state: a call
/// that fails has consumed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResampleError {
    /// A sample rate of zero was given.
    #[error("sample rates must be positive, got {in_rate} Hz -> {out_rate} Hz")]
    ZeroRate {
        /// Input sample rate in Hz.
        in_rate: u32,
        /// Output sample rate in Hz.
        out_rate: u32,
    },
    /// The rate ratio does not reduce to a small enough fraction (more than [`MAX_PHASES`]
    /// polyphase branches or a table larger than [`MAX_TABLE_LEN`](super::MAX_TABLE_LEN)).
    #[error(
        "unsupported rate ratio {in_rate} Hz -> {out_rate} Hz: it reduces to {out_factor}/{in_factor}, \
         more than {MAX_PHASES} phases or too large a filter table"
    )]
    UnsupportedRatio {
        /// Input sample rate in Hz.
        in_rate: u32,
        /// Output sample rate in Hz.
        out_rate: u32,
        /// Reduced output factor (number of polyphase branches).
        out_factor: u32,
        /// Reduced input factor (input frames advanced per `out_factor` output frames).
        in_factor: u32,
    },
    /// Zero channels were requested or given.
    #[error("channel count must be at least 1")]
    ZeroChannels,
    /// A quality name other than `low`, `medium` or `high`.
    #[error("unknown resampling quality {0:?}: expected one of \"low\", \"medium\", \"high\"")]
    UnknownQuality(String),
    /// The number of input or output channel slices differs from the resampler's channels.
    #[error("expected {expected} {side} channel slices, got {got}")]
    ChannelMismatch {
        /// `"input"` or `"output"`.
        side: &'static str,
        /// Channels the resampler was built for.
        expected: usize,
        /// Slices given.
        got: usize,
    },
    /// Planar input channels have different lengths.
    #[error("input channel {channel} has {got} frames, channel 0 has {expected}")]
    UnequalLengths {
        /// Index of the first channel whose length differs.
        channel: usize,
        /// Length of channel 0.
        expected: usize,
        /// Length of the offending channel.
        got: usize,
    },
    /// An output channel slice is shorter than the frames this call produces.
    #[error("output channel {channel} holds {got} frames, this call produces {needed}")]
    OutputTooSmall {
        /// Index of the first channel that is too short.
        channel: usize,
        /// Frames the call writes.
        needed: usize,
        /// Length of the offending slice.
        got: usize,
    },
}
