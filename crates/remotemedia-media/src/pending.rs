//! Decoded frames waiting to be handed out, per channel, in the output's
//! sample format.

use remotemedia_core::{SampleFormat, Samples};
use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};
use symphonia::core::conv::FromSample;
use symphonia::core::sample::{Sample, i24, u24};

/// One run per channel of samples of type `T`, plus the buffer a decoded
/// packet of another type is converted through.
pub(crate) struct Runs<T: Sample> {
    channels: Vec<Vec<T>>,
    scratch: Option<AudioBuffer<T>>,
}

impl<T> Runs<T>
where
    T: Sample
        + FromSample<u8>
        + FromSample<u16>
        + FromSample<u24>
        + FromSample<u32>
        + FromSample<i8>
        + FromSample<i16>
        + FromSample<i24>
        + FromSample<i32>
        + FromSample<f32>
        + FromSample<f64>,
{
    fn new(channels: usize) -> Self {
        Self {
            channels: vec![Vec::new(); channels],
            scratch: None,
        }
    }

    fn append(&mut self, decoded: &AudioBufferRef<'_>) {
        let spec = *decoded.spec();
        let frames = decoded.frames();
        let capacity = decoded.capacity();
        let scratch = match &mut self.scratch {
            Some(s) if s.capacity() >= capacity && *s.spec() == spec => s,
            slot => slot.insert(AudioBuffer::new(capacity as u64, spec)),
        };
        decoded.convert(scratch);
        for (c, dst) in self.channels.iter_mut().enumerate() {
            dst.extend_from_slice(&scratch.chan(c)[..frames]);
        }
    }

    fn take(&mut self, frames: usize) -> Vec<T> {
        let mut out = Vec::with_capacity(frames * self.channels.len());
        for ch in &mut self.channels {
            out.extend_from_slice(&ch[..frames]);
            ch.drain(..frames);
        }
        out
    }
}

/// Pending frames in f32, i16 or i32. symphonia's conversions are full
/// scale: 8-bit PCM becomes i16 shifted left by 8, 24-bit becomes i32
/// shifted left by 8, integers become f32 divided by 2^(bits-1).
pub(crate) enum Pending {
    F32(Runs<f32>),
    I16(Runs<i16>),
    I32(Runs<i32>),
}

impl Pending {
    pub fn new(format: SampleFormat, channels: usize) -> Self {
        match format {
            SampleFormat::F32 => Self::F32(Runs::new(channels)),
            SampleFormat::I16 => Self::I16(Runs::new(channels)),
            SampleFormat::I32 => Self::I32(Runs::new(channels)),
        }
    }

    pub fn frames(&self) -> usize {
        match self {
            Self::F32(r) => r.channels[0].len(),
            Self::I16(r) => r.channels[0].len(),
            Self::I32(r) => r.channels[0].len(),
        }
    }

    pub fn append(&mut self, decoded: &AudioBufferRef<'_>) {
        match self {
            Self::F32(r) => r.append(decoded),
            Self::I16(r) => r.append(decoded),
            Self::I32(r) => r.append(decoded),
        }
    }

    /// The first `frames` frames, planar.
    pub fn take(&mut self, frames: usize) -> Samples {
        match self {
            Self::F32(r) => r.take(frames).into(),
            Self::I16(r) => r.take(frames).into(),
            Self::I32(r) => r.take(frames).into(),
        }
    }

    pub fn clear(&mut self) {
        let frames = self.frames();
        self.take(frames);
    }
}
