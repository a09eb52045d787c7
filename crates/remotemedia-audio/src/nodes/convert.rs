//! `FormatConverterNode`.

use remotemedia_core::{AudioData, Node, NodeError, NodeParams, RuntimeData, SampleFormat, Samples};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::convert;

/// Params of [`FormatConverterNode`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FormatConverterParams {
    /// Sample format of the output: f32, i16 or i32.
    pub target_format: SampleFormat,
}

impl Default for FormatConverterParams {
    fn default() -> Self {
        Self {
            target_format: SampleFormat::F32,
        }
    }
}

impl NodeParams for FormatConverterParams {}

/// Converts audio samples to one format; the shape is kept.
///
/// i16 -> f32 divides by 32768, i32 -> f32 by 2^31; f32 -> i16 scales by
/// 32768, rounds to nearest and saturates (1.0 becomes 32767, NaN 0); see
/// [`crate::convert`] for every pair. Audio already in the target format is
/// passed on as the same buffer.
pub struct FormatConverterNode {
    target: SampleFormat,
}

impl FormatConverterNode {
    /// A node with these params.
    pub fn new(params: FormatConverterParams) -> Self {
        Self {
            target: params.target_format,
        }
    }
}

impl Node for FormatConverterNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let Some(audio) = input.audio() else {
            return Err(NodeError::invalid_input("FormatConverterNode", "audio", input.kind()));
        };
        if audio.format() == self.target {
            out.push(input);
            return Ok(());
        }
        let converted = convert_samples(audio.samples(), self.target)?;
        let audio = AudioData::new(converted, audio.channels(), audio.sample_rate())
            .map_err(|e| NodeError::fatal(e.to_string()))?;
        out.push(input.with_audio(audio));
        Ok(())
    }
}

fn convert_samples(samples: &Samples, target: SampleFormat) -> Result<Samples, NodeError> {
    /// Converts into a fresh vector without zeroing it first: the kernel's writes are the
    /// only pass over the new memory.
    fn run<S, T>(src: &[S], f: convert::UninitConverter<S, T>) -> Result<Vec<T>, NodeError> {
        let mut dst = Vec::with_capacity(src.len());
        f(src, &mut dst.spare_capacity_mut()[..src.len()]).map_err(|e| NodeError::fatal(e.to_string()))?;
        // SAFETY: `f` succeeded, so it initialised the first `src.len()` elements.
        unsafe { dst.set_len(src.len()) };
        Ok(dst)
    }
    Ok(match (samples, target) {
        (Samples::I16(s), SampleFormat::F32) => run(s, convert::i16_to_f32_uninit)?.into(),
        (Samples::I32(s), SampleFormat::F32) => run(s, convert::i32_to_f32_uninit)?.into(),
        (Samples::F32(s), SampleFormat::I16) => run(s, convert::f32_to_i16_uninit)?.into(),
        (Samples::I32(s), SampleFormat::I16) => run(s, convert::i32_to_i16_uninit)?.into(),
        (Samples::F32(s), SampleFormat::I32) => run(s, convert::f32_to_i32_uninit)?.into(),
        (Samples::I16(s), SampleFormat::I32) => run(s, convert::i16_to_i32_uninit)?.into(),
        (same, _) => same.clone(),
    })
}
