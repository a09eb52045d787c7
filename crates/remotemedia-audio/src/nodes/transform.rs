//! The older SDK's resampling nodes: `AudioTransform` (rate and channel
//! count) and `AudioResampler` (rate only, 44.1 kHz by default).

use remotemedia_core::{AudioData, Node, NodeError, NodeParams, ParamError, RuntimeData};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::planar;
use super::resample::{ResampleNode, ResampleParams};
use crate::resample::Quality;

/// Params of [`AudioTransformNode`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AudioTransformParams {
    /// Output sample rate in Hz.
    pub output_sample_rate: u32,
    /// Output channel count.
    pub output_channels: u32,
    /// Filter quality of the resampler: low, medium or high.
    pub quality: Quality,
}

impl Default for AudioTransformParams {
    fn default() -> Self {
        Self {
            output_sample_rate: 44_100,
            output_channels: 2,
            quality: Quality::High,
        }
    }
}

/// Most output channels.
const MAX_CHANNELS: u32 = 64;

impl NodeParams for AudioTransformParams {
    fn validate(&self) -> Result<(), ParamError> {
        if !(1..=MAX_CHANNELS).contains(&self.output_channels) {
            return Err(ParamError::new(
                "output_channels",
                format!("must be 1 to {MAX_CHANNELS}, got {}", self.output_channels),
            ));
        }
        self.resample_params()
            .validate()
            .map_err(|e| ParamError::new("output_sample_rate", e.message))
    }
}

impl AudioTransformParams {
    fn resample_params(&self) -> ResampleParams {
        ResampleParams {
            target_sample_rate: self.output_sample_rate,
            quality: self.quality,
        }
    }
}

/// Resamples to `output_sample_rate` and mixes to `output_channels`: output
/// channel `j` of fewer channels is the mean of the input channels `i` with
/// `i % output_channels == j` (mono is the mean of all); of more channels it
/// is a copy of input channel `j % input_channels`. The mix is done before
/// resampling when it reduces the channels, after it otherwise, so the
/// resampler filters as few channels as possible. Output is f32, one stream
/// (see `AudioResampleNode`).
pub struct AudioTransformNode {
    channels: usize,
    resampler: ResampleNode,
    scratch: Vec<f32>,
    resampled: Vec<RuntimeData>,
}

impl AudioTransformNode {
    /// A node with these params.
    pub fn new(params: AudioTransformParams) -> Self {
        Self {
            channels: params.output_channels as usize,
            resampler: ResampleNode::new(params.resample_params()),
            scratch: Vec::new(),
            resampled: Vec::new(),
        }
    }

    /// `audio` with `self.channels` channels (f32).
    fn mix(&mut self, audio: &AudioData) -> Result<AudioData, NodeError> {
        let (from, frames) = (audio.channels(), audio.frames());
        let samples = planar::as_f32(audio, &mut self.scratch)?;
        let inputs = planar::channels(samples, from, frames);
        let to = self.channels;
        let mut mixed = vec![0.0f32; to * frames];
        for (j, out) in mixed.chunks_exact_mut(frames.max(1)).enumerate().take(to) {
            if to >= from {
                out.copy_from_slice(inputs[j % from]);
                continue;
            }
            let sources: Vec<&[f32]> = inputs.iter().copied().skip(j).step_by(to).collect();
            let scale = 1.0 / sources.len() as f32;
            for source in &sources {
                for (o, s) in out.iter_mut().zip(source.iter()) {
                    *o += s * scale;
                }
            }
        }
        AudioData::new(mixed, to, audio.sample_rate()).map_err(|e| NodeError::fatal(format!("AudioTransform: {e}")))
    }

    /// Mixes the resampler's outputs that are not yet at the channel count.
    fn finish(&mut self, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        for data in std::mem::take(&mut self.resampled) {
            match data.audio() {
                Some(audio) if audio.channels() != self.channels => {
                    let mixed = self.mix(audio)?;
                    out.push(data.with_audio(mixed));
                }
                _ => out.push(data),
            }
        }
        Ok(())
    }
}

impl Node for AudioTransformNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let Some(audio) = input.audio() else {
            return Err(NodeError::invalid_input("AudioTransform", "audio", input.kind()));
        };
        let input = if audio.channels() > self.channels {
            let mixed = self.mix(audio)?;
            input.with_audio(mixed)
        } else {
            input
        };
        self.resampler.process(input, &mut self.resampled)?;
        self.finish(out)
    }

    fn flush(&mut self, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.resampler.flush(&mut self.resampled)?;
        self.finish(out)
    }

    fn reset(&mut self) {
        self.resampler.reset();
        self.resampled.clear();
    }
}

/// Params of `AudioResampler`: `AudioResampleNode` with the older SDK's
/// default rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AudioResamplerParams {
    /// Output sample rate in Hz.
    pub target_sample_rate: u32,
    /// Filter quality: low, medium or high.
    pub quality: Quality,
}

impl Default for AudioResamplerParams {
    fn default() -> Self {
        Self {
            target_sample_rate: 44_100,
            quality: Quality::High,
        }
    }
}

impl From<AudioResamplerParams> for ResampleParams {
    fn from(p: AudioResamplerParams) -> Self {
        Self {
            target_sample_rate: p.target_sample_rate,
            quality: p.quality,
        }
    }
}

impl NodeParams for AudioResamplerParams {
    fn validate(&self) -> Result<(), ParamError> {
        ResampleParams::from(self.clone()).validate()
    }
}
