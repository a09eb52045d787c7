//! Helpers shared by the adapters: f32 views of any audio, and planar
//! buffers split into channel slices.

use remotemedia_core::{AudioData, NodeError, Samples};

use crate::convert;

/// The samples of `audio` as f32: borrowed when they already are, else
/// converted into `scratch` (reused across calls).
pub(crate) fn as_f32<'a>(audio: &'a AudioData, scratch: &'a mut Vec<f32>) -> Result<&'a [f32], NodeError> {
    let result = match audio.samples() {
        Samples::F32(s) => return Ok(s),
        Samples::I16(s) => {
            scratch.resize(s.len(), 0.0);
            convert::i16_to_f32(s, scratch)
        }
        Samples::I32(s) => {
            scratch.resize(s.len(), 0.0);
            convert::i32_to_f32(s, scratch)
        }
    };
    result.map_err(|e| NodeError::fatal(e.to_string()))?;
    Ok(scratch)
}

/// The `channels` slices of a planar buffer of `frames` frames per channel.
pub(crate) fn channels(samples: &[f32], channels: usize, frames: usize) -> Vec<&[f32]> {
    if frames == 0 {
        return vec![&[][..]; channels];
    }
    samples.chunks_exact(frames).collect()
}

/// Keeps the first `written` frames of every channel of a planar buffer
/// allocated with `capacity` frames per channel, closing the gaps.
pub(crate) fn compact(buffer: &mut Vec<f32>, channels: usize, capacity: usize, written: usize) {
    if written < capacity {
        for c in 1..channels {
            buffer.copy_within(c * capacity..c * capacity + written, c * written);
        }
    }
    buffer.truncate(channels * written);
}
