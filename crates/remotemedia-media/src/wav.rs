//! WAV output of planar [`AudioData`] chunks (input is decoded by
//! [`crate::MediaDecoder`], which keeps integer WAVs' integer format: 8- and
//! 16-bit as i16, 24- and 32-bit as i32, full scale).
//!
//! i16 audio is written as 16-bit PCM, i32 as 32-bit PCM and f32 as 32-bit
//! float.
//!
//! A WAV file counts its sizes in 32 bits, so it holds at most 4 GiB of
//! samples, and its frame size (channels × bytes per sample, "block align")
//! and byte rate must fit 16 and 32 bits. [`WavSink`] refuses a shape WAV
//! cannot describe before it creates the file; told how long the stream
//! will be ([`WavSink::check_fits`]), it refuses one too long before writing;
//! and whatever it was told, it stops with [`WavError::TooLong`] at the last
//! whole frame that fits, leaving a valid file of the audio up to there (RF64, the 64-bit variant, is not written:
//! hound, our WAV library, has no writer for it and few readers take it).

use std::fs::File;
use std::path::{Path, PathBuf};

use remotemedia_core::{AudioData, SampleFormat, Samples};

/// Why a WAV file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// The audio does not fit in a WAV file: the file holds the whole
    /// frames that fit and its header is correct, the rest is not written.
    #[error(
        "{path}: the output reached the WAV format's size limit ({limit} bytes of samples, 4 GiB) after {frames} \
         frames; the rest of the audio was not written (split the input, or output fewer channels, a lower rate or \
         16-bit samples)"
    )]
    TooLong {
        /// The file.
        path: PathBuf,
        /// Frames written.
        frames: u64,
        /// The data size limit, bytes.
        limit: u64,
    },
    /// The audio announced will not fit in a WAV file; nothing was written.
    #[error(
        "{path}: the output would be {frames} frames, {bytes} bytes of samples, more than the WAV format holds \
         ({limit} bytes, 4 GiB); refusing before writing (split the input, or output fewer channels, a lower rate \
         or 16-bit samples)"
    )]
    WouldNotFit {
        /// The file.
        path: PathBuf,
        /// Frames announced.
        frames: u64,
        /// Bytes they take.
        bytes: u64,
        /// The data size limit, bytes.
        limit: u64,
    },
    /// Audio cannot be written in this shape.
    #[error("{path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The shape of the audio in a WAV file.
/// Most bytes of samples a WAV file can hold: its RIFF size field (32
/// bits) counts them plus the 60 bytes of the largest header hound writes
/// after that field.
pub const WAV_DATA_LIMIT: u64 = u32::MAX as u64 - 60;

/// Writes planar audio chunks to a WAV file; the first chunk fixes the shape.
pub struct WavSink {
    path: PathBuf,
    writer: Option<(hound::WavWriter<std::io::BufWriter<File>>, AudioShape)>,
    /// Most bytes of samples to write.
    limit: u64,
    /// Bytes of samples written.
    written: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AudioShape {
    channels: usize,
    sample_rate: u32,
    format: SampleFormat,
}

impl WavSink {
    /// A sink that will create `path` when the first chunk arrives.
    pub fn new(path: &Path) -> Self {
        Self::with_data_limit(path, WAV_DATA_LIMIT)
    }

    /// A sink that writes at most `limit` bytes of samples (at most
    /// [`WAV_DATA_LIMIT`]), stopping like it does at the format's limit;
    /// for tests of that limit that do not write 4 GiB.
    pub fn with_data_limit(path: &Path, limit: u64) -> Self {
        Self {
            path: path.to_owned(),
            writer: None,
            limit: limit.min(WAV_DATA_LIMIT),
            written: 0,
        }
    }

    /// Refuses, before anything is written, a stream of `frames` frames
    /// shaped like `audio` that the file could not hold (or a shape WAV
    /// cannot describe).
    pub fn check_fits(&self, audio: &AudioData, frames: u64) -> Result<(), WavError> {
        let spec = wav_spec(AudioShape {
            channels: audio.channels(),
            sample_rate: audio.sample_rate(),
            format: audio.format(),
        })
        .map_err(|m| self.write_error(m))?;
        let bytes = frames.saturating_mul(u64::from(spec.channels) * u64::from(spec.bits_per_sample / 8));
        if bytes > self.limit {
            return Err(WavError::WouldNotFit {
                path: self.path.clone(),
                frames,
                bytes,
                limit: self.limit,
            });
        }
        Ok(())
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        match &self.writer {
            Some((w, _)) => u64::from(w.duration()),
            None => 0,
        }
    }

    /// Appends a chunk.
    pub fn write(&mut self, audio: &AudioData) -> Result<(), WavError> {
        let shape = AudioShape {
            channels: audio.channels(),
            sample_rate: audio.sample_rate(),
            format: audio.format(),
        };
        if self.writer.is_none() {
            let spec = wav_spec(shape).map_err(|m| self.write_error(m))?;
            let writer = hound::WavWriter::create(&self.path, spec).map_err(|e| self.write_error(e))?;
            self.writer = Some((writer, shape));
        }
        let path = self.path.clone();
        let (writer, fixed) = self.writer.as_mut().expect("created above");
        if *fixed != shape {
            return Err(WavError::Write {
                path,
                message: format!("audio changed shape mid-stream: {fixed:?} then {shape:?}"),
            });
        }
        let frames = audio.frames();
        let spec = writer.spec();
        let frame_bytes = u64::from(spec.channels) * u64::from(spec.bits_per_sample / 8);
        let room = (self.limit - self.written) / frame_bytes;
        let fit = (frames as u64).min(room) as usize;
        let result = match audio.samples() {
            Samples::F32(s) => write_interleaved(writer, s, shape.channels, frames, fit),
            Samples::I16(s) => write_interleaved(writer, s, shape.channels, frames, fit),
            Samples::I32(s) => write_interleaved(writer, s, shape.channels, frames, fit),
        };
        result.map_err(|e| WavError::Write {
            path: path.clone(),
            message: e.to_string(),
        })?;
        self.written += fit as u64 * frame_bytes;
        if fit < frames {
            return Err(WavError::TooLong {
                path,
                frames: u64::from(writer.duration()),
                limit: self.limit,
            });
        }
        Ok(())
    }

    /// Finishes the file (writes the final header). Returns false when no
    /// audio was ever written.
    pub fn finish(self) -> Result<bool, WavError> {
        match self.writer {
            None => Ok(false),
            Some((w, _)) => w.finalize().map(|()| true).map_err(|e| WavError::Write {
                path: self.path,
                message: e.to_string(),
            }),
        }
    }

    fn write_error(&self, e: impl ToString) -> WavError {
        WavError::Write {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }
}

/// The WAV header for audio of this shape, or why WAV cannot describe it.
fn wav_spec(shape: AudioShape) -> Result<hound::WavSpec, String> {
    let (bits, sample_format) = match shape.format {
        SampleFormat::I16 => (16u16, hound::SampleFormat::Int),
        SampleFormat::I32 => (32, hound::SampleFormat::Int),
        SampleFormat::F32 => (32, hound::SampleFormat::Float),
    };
    let bytes = usize::from(bits / 8);
    let max_channels = usize::from(u16::MAX) / bytes;
    if shape.channels == 0 || shape.channels > max_channels {
        return Err(format!(
            "cannot write {} channels of {bits}-bit audio: a WAV frame holds 1 to {max_channels} channels at {bits} \
             bits (its size in bytes must fit 16 bits)",
            shape.channels
        ));
    }
    let byte_rate = u64::from(shape.sample_rate) * (shape.channels * bytes) as u64;
    if shape.sample_rate == 0 || byte_rate > u64::from(u32::MAX) {
        return Err(format!(
            "cannot write {} channels of {bits}-bit audio at {} Hz: a WAV file's byte rate ({byte_rate} bytes/s) \
             must be positive and fit 32 bits",
            shape.channels, shape.sample_rate
        ));
    }
    Ok(hound::WavSpec {
        channels: shape.channels as u16,
        sample_rate: shape.sample_rate,
        bits_per_sample: bits,
        sample_format,
    })
}

/// Writes the first `fit` of `frames` planar frames, interleaved.
fn write_interleaved<T: hound::Sample + Copy, W: std::io::Write + std::io::Seek>(
    writer: &mut hound::WavWriter<W>,
    planar: &[T],
    channels: usize,
    frames: usize,
    fit: usize,
) -> Result<(), hound::Error> {
    for f in 0..fit {
        for c in 0..channels {
            writer.write_sample(planar[c * frames + f])?;
        }
    }
    Ok(())
}
