//! `AudioResampleNode` (alias `ResampleNode`).

use remotemedia_core::{AudioData, Node, NodeError, NodeParams, ParamError, RuntimeData};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::planar;
use crate::resample::{Quality, Resampler};

/// Params of [`ResampleNode`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ResampleParams {
    /// Output sample rate in Hz.
    pub target_sample_rate: u32,
    /// Filter quality: low, medium or high.
    pub quality: Quality,
}

impl Default for ResampleParams {
    fn default() -> Self {
        Self {
            target_sample_rate: 16_000,
            quality: Quality::High,
        }
    }
}

impl NodeParams for ResampleParams {
    fn validate(&self) -> Result<(), ParamError> {
        if !(1_000..=384_000).contains(&self.target_sample_rate) {
            return Err(ParamError::new(
                "target_sample_rate",
                format!("must be between 1000 and 384000 Hz, got {}", self.target_sample_rate),
            ));
        }
        Ok(())
    }
}

/// Resamples audio to a fixed rate, as one continuous stream.
///
/// Output is f32 (integer input is converted first). Audio already at the
/// target rate is passed through untouched (same buffer, same format). The
/// stream is delay-compensated: the concatenated output of every call and
/// the final flush is time-aligned with the input and exactly
/// `round(frames * target / rate)` frames long. If the input's rate or
/// channel count changes mid-stream, the old stream is flushed and a new one
/// starts.
pub struct ResampleNode {
    params: ResampleParams,
    stream: Option<Resampler>,
    scratch: Vec<f32>,
}

impl ResampleNode {
    /// A node with these params (the kernel is built when audio arrives).
    pub fn new(params: ResampleParams) -> Self {
        Self {
            params,
            stream: None,
            scratch: Vec::new(),
        }
    }

    fn finish_stream(&mut self, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let Some(r) = self.stream.as_mut() else {
            return Ok(());
        };
        let channels = r.channels();
        let capacity = r.output_delay() + 1;
        let out_rate = r.out_rate();
        let mut buffer = vec![0.0f32; channels * capacity];
        let written = {
            let mut slices: Vec<&mut [f32]> = buffer.chunks_exact_mut(capacity).collect();
            r.flush_into(&mut slices).map_err(|e| NodeError::fatal(e.to_string()))?
        };
        if written > 0 {
            planar::compact(&mut buffer, channels, capacity, written);
            let audio = AudioData::new(buffer, channels, out_rate).map_err(|e| NodeError::fatal(e.to_string()))?;
            out.push(RuntimeData::Audio(audio));
        }
        Ok(())
    }
}

impl Node for ResampleNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let Some(audio) = input.audio() else {
            return Err(NodeError::invalid_input("AudioResampleNode", "audio", input.kind()));
        };
        let target = self.params.target_sample_rate;
        if audio.sample_rate() == target && self.stream.is_none() {
            out.push(input);
            return Ok(());
        }
        let (rate, channels) = (audio.sample_rate(), audio.channels());
        if self
            .stream
            .as_ref()
            .is_some_and(|r| r.in_rate() != rate || r.channels() != channels)
        {
            self.finish_stream(out)?;
            self.stream = None;
            if rate == target {
                out.push(input);
                return Ok(());
            }
        }
        if self.stream.is_none() {
            let r = Resampler::new(rate, target, channels, self.params.quality)
                .map_err(|e| NodeError::fatal(format!("AudioResampleNode: {e}")))?;
            self.stream = Some(r);
        }
        let r = self.stream.as_mut().expect("built above");
        let frames = audio.frames();
        let samples = planar::as_f32(audio, &mut self.scratch)?;
        let capacity = r.output_frames_max(frames);
        let mut buffer = vec![0.0f32; channels * capacity];
        let written = {
            let inputs = planar::channels(samples, channels, frames);
            let mut outputs: Vec<&mut [f32]> = if capacity == 0 {
                (0..channels).map(|_| &mut [][..]).collect()
            } else {
                buffer.chunks_exact_mut(capacity).collect()
            };
            r.process_into(&inputs, &mut outputs)
                .map_err(|e| NodeError::fatal(format!("AudioResampleNode: {e}")))?
        };
        planar::compact(&mut buffer, channels, capacity, written);
        let resampled = AudioData::new(buffer, channels, target).map_err(|e| NodeError::fatal(e.to_string()))?;
        out.push(input.with_audio(resampled));
        Ok(())
    }

    fn flush(&mut self, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.finish_stream(out)
    }

    fn reset(&mut self) {
        // Keeps the kernel (and its filter table) for the next stream.
        if let Some(r) = &mut self.stream {
            r.reset();
        }
    }
}
