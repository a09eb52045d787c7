//! Engine node adapters for the audio kernels.
//!
//! Adapters own the stream state (a kernel instance, built for the rate and
//! channel count of the audio that arrives) and the buffers a kernel writes
//! into; the kernels do the arithmetic. Audio may arrive in any sample
//! format; the resampler and the detector work in f32.

mod convert;
mod planar;
mod resample;
mod vad;

pub use convert::{FormatConverterNode, FormatConverterParams};
pub use resample::{ResampleNode, ResampleParams, ResampleQuality};
pub use vad::{VadNode, VadNodeMode, VadParams};

use remotemedia_core::{NodeType, Registry};

/// Registers the native audio nodes (`AudioResampleNode`, `VADNode`,
/// `FormatConverterNode`) in `registry`.
pub fn register(registry: &mut Registry) {
    registry.register(
        NodeType::new::<ResampleParams>(
            "AudioResampleNode",
            "Converts audio to target_sample_rate (polyphase FIR, delay-compensated, exact length); output is f32.",
        )
        .alias("ResampleNode")
        .native(|p: ResampleParams| Ok(Box::new(ResampleNode::new(p)))),
    );
    registry.register(
        NodeType::new::<VadParams>(
            "VADNode",
            "Finds speech: passes the audio on with per-frame decisions and speech segments (seconds).",
        )
        .alias("VadNode")
        .native(|p: VadParams| VadNode::new(p).map(|n| Box::new(n) as _)),
    );
    registry.register(
        NodeType::new::<FormatConverterParams>(
            "FormatConverterNode",
            "Converts samples to target_format (f32, i16, i32); same format in and out passes the buffer through.",
        )
        .native(|p: FormatConverterParams| Ok(Box::new(FormatConverterNode::new(p)))),
    );
}
