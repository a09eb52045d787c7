//! Engine node adapters for the audio kernels.
//!
//! Adapters own the stream state (a kernel instance, built for the rate and
//! channel count of the audio that arrives) and the buffers a kernel writes
//! into; the kernels do the arithmetic. Audio may arrive in any sample
//! format; the resampler and the detector work in f32.

mod convert;
mod planar;
mod rechunk;
mod resample;
mod transform;
mod vad;
mod vad_info;

pub use convert::{FormatConverterNode, FormatConverterParams};
pub use rechunk::{AudioBufferNode, AudioBufferParams};
pub use resample::{ResampleNode, ResampleParams};
pub use transform::{AudioResamplerParams, AudioTransformNode, AudioTransformParams};
pub use vad::{VadNode, VadParams};
pub use vad_info::{SpeechSegment, VAD_KIND, VadInfo};

use remotemedia_core::{NodeType, Registry};

/// Registers the native audio nodes (`AudioResampleNode`, `VADNode`,
/// `FormatConverterNode`, and the older SDK's `AudioTransform`,
/// `AudioResampler` and `AudioBuffer`) in `registry`.
pub fn register(registry: &mut Registry) {
    remotemedia_core::annotation::register_kind(VAD_KIND);
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
    registry.register(
        NodeType::new::<AudioTransformParams>(
            "AudioTransform",
            "Resamples to output_sample_rate and mixes to output_channels (down-mix by averaging, up-mix by copying); output is f32.",
        )
        .native(|p: AudioTransformParams| Ok(Box::new(AudioTransformNode::new(p)))),
    );
    registry.register(
        NodeType::new::<AudioResamplerParams>(
            "AudioResampler",
            "AudioResampleNode with the older SDK's default target_sample_rate of 44100 Hz.",
        )
        .native(|p: AudioResamplerParams| Ok(Box::new(ResampleNode::new(p.into())))),
    );
    registry.register(
        NodeType::new::<AudioBufferParams>(
            "AudioBuffer",
            "Re-chunks audio into blocks of exactly buffer_size_samples frames; the remainder at the end; a change of format, channels or rate hands on what is held first.",
        )
        .native(|p: AudioBufferParams| Ok(Box::new(AudioBufferNode::new(p)))),
    );
}
