//! `AudioBuffer`: re-chunks a stream of audio into blocks of a fixed size.

use remotemedia_core::{AudioData, Node, NodeError, NodeParams, ParamError, RuntimeData, SampleFormat, Samples};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Params of [`AudioBufferNode`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AudioBufferParams {
    /// Frames (samples per channel) in each block handed on.
    pub buffer_size_samples: u32,
}

impl Default for AudioBufferParams {
    fn default() -> Self {
        Self {
            buffer_size_samples: 4096,
        }
    }
}

/// Largest block: 10 minutes of 48 kHz audio.
const MAX_BLOCK: u32 = 28_800_000;

impl NodeParams for AudioBufferParams {
    fn validate(&self) -> Result<(), ParamError> {
        if !(1..=MAX_BLOCK).contains(&self.buffer_size_samples) {
            return Err(ParamError::new(
                "buffer_size_samples",
                format!("must be 1 to {MAX_BLOCK} frames, got {}", self.buffer_size_samples),
            ));
        }
        Ok(())
    }
}

/// Audio held between calls: planar, one run of samples per channel, in the
/// format it arrived in.
enum Held {
    F32(Vec<Vec<f32>>),
    I16(Vec<Vec<i16>>),
    I32(Vec<Vec<i32>>),
}

/// What the held audio is: a change of any of these ends the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    format: SampleFormat,
    channels: usize,
    sample_rate: u32,
}

/// Hands audio on in blocks of exactly `buffer_size_samples` frames, however
/// it arrives; what remains at the end of the stream (`flush`) goes out as a
/// shorter last block. A change of sample format, channel count or rate
/// first hands on what is held, as a shorter block. The samples keep their
/// format. VAD results arriving with audio are not carried over (only the
/// audio is re-chunked).
pub struct AudioBufferNode {
    size: usize,
    held: Option<(Shape, Held)>,
}

impl AudioBufferNode {
    /// A node with these params.
    pub fn new(params: AudioBufferParams) -> Self {
        Self {
            size: params.buffer_size_samples as usize,
            held: None,
        }
    }

    fn held_frames(&self) -> usize {
        match &self.held {
            None => 0,
            Some((_, Held::F32(c))) => c[0].len(),
            Some((_, Held::I16(c))) => c[0].len(),
            Some((_, Held::I32(c))) => c[0].len(),
        }
    }

    /// Hands on the first `frames` held frames as one block.
    fn emit(&mut self, frames: usize, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let Some((shape, held)) = self.held.as_mut() else {
            return Ok(());
        };
        let samples: Samples = match held {
            Held::F32(c) => take(c, frames).into(),
            Held::I16(c) => take(c, frames).into(),
            Held::I32(c) => take(c, frames).into(),
        };
        let audio = AudioData::new(samples, shape.channels, shape.sample_rate)
            .map_err(|e| NodeError::fatal(format!("AudioBuffer: {e}")))?;
        out.push(RuntimeData::Audio(audio));
        Ok(())
    }
}

/// Removes the first `frames` frames of every channel, as one planar buffer.
fn take<T: Copy>(channels: &mut [Vec<T>], frames: usize) -> Vec<T> {
    let mut block = Vec::with_capacity(frames * channels.len());
    for c in channels.iter_mut() {
        block.extend_from_slice(&c[..frames]);
        c.drain(..frames);
    }
    block
}

/// Appends planar `samples` (`channels` runs of `frames`) to `held`.
fn append<T: Copy>(held: &mut [Vec<T>], samples: &[T], frames: usize) {
    for (c, run) in held.iter_mut().zip(samples.chunks_exact(frames.max(1))) {
        c.extend_from_slice(run);
    }
}

impl Node for AudioBufferNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let audio = match input {
            RuntimeData::Audio(audio) | RuntimeData::Annotated { audio, .. } => audio,
            other => return Err(NodeError::invalid_input("AudioBuffer", "audio", other.kind())),
        };
        let shape = Shape {
            format: audio.format(),
            channels: audio.channels(),
            sample_rate: audio.sample_rate(),
        };
        if self.held.as_ref().is_some_and(|(s, _)| *s != shape) {
            self.flush(out)?;
        }
        let frames = audio.frames();
        let held = &mut self
            .held
            .get_or_insert_with(|| {
                let held = match shape.format {
                    SampleFormat::F32 => Held::F32(vec![Vec::new(); shape.channels]),
                    SampleFormat::I16 => Held::I16(vec![Vec::new(); shape.channels]),
                    SampleFormat::I32 => Held::I32(vec![Vec::new(); shape.channels]),
                };
                (shape, held)
            })
            .1;
        match (held, audio.samples()) {
            (Held::F32(c), Samples::F32(s)) => append(c, s, frames),
            (Held::I16(c), Samples::I16(s)) => append(c, s, frames),
            (Held::I32(c), Samples::I32(s)) => append(c, s, frames),
            _ => return Err(NodeError::fatal("AudioBuffer: held audio of another format")),
        }
        while self.held_frames() >= self.size {
            self.emit(self.size, out)?;
        }
        Ok(())
    }

    fn flush(&mut self, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let frames = self.held_frames();
        if frames > 0 {
            self.emit(frames, out)?;
        }
        self.held = None;
        Ok(())
    }

    fn reset(&mut self) {
        self.held = None;
    }
}
