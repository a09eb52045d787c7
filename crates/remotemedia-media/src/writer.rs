//! Writing audio to a WAV file (hound).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use remotemedia_core::{AudioData, SampleFormat, Samples};

use crate::error::MediaError;

/// The format, channels and rate every chunk of one file must share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    format: SampleFormat,
    channels: usize,
    sample_rate: u32,
}

/// Writes audio chunks to one WAV file, in the samples' own format: f32 as
/// 32-bit IEEE float, i16 and i32 as 16- and 32-bit PCM.
///
/// The file is created at the first chunk, which fixes the format, channel
/// count and rate; a later chunk of another shape is an error (a WAV holds
/// one). [`WavWriter::finish`] writes the final lengths into the header;
/// dropping the writer unfinished leaves a file whose header may be stale.
pub struct WavWriter {
    path: PathBuf,
    open: Option<(hound::WavWriter<BufWriter<File>>, Shape)>,
    frames: u64,
}

impl WavWriter {
    /// A writer that will create `path` at the first chunk.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            open: None,
            frames: 0,
        }
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Appends `audio` (interleaving its channels).
    pub fn write(&mut self, audio: &AudioData) -> Result<(), MediaError> {
        let shape = Shape {
            format: audio.format(),
            channels: audio.channels(),
            sample_rate: audio.sample_rate(),
        };
        let (writer, first) = match &mut self.open {
            Some((w, s)) => (w, *s),
            slot => {
                let channels = u16::try_from(shape.channels).map_err(|_| {
                    write_error(
                        &self.path,
                        format!("{} channels do not fit a WAV header", shape.channels),
                    )
                })?;
                let (bits_per_sample, sample_format) = match shape.format {
                    SampleFormat::F32 => (32, hound::SampleFormat::Float),
                    SampleFormat::I16 => (16, hound::SampleFormat::Int),
                    SampleFormat::I32 => (32, hound::SampleFormat::Int),
                };
                let spec = hound::WavSpec {
                    channels,
                    sample_rate: shape.sample_rate,
                    bits_per_sample,
                    sample_format,
                };
                let w =
                    hound::WavWriter::create(&self.path, spec).map_err(|e| write_error(&self.path, e.to_string()))?;
                let (w, _) = slot.insert((w, shape));
                (w, shape)
            }
        };
        if first != shape {
            let message = format!(
                "the file holds {} x {} ch at {} Hz; a chunk of {} x {} ch at {} Hz cannot join it",
                first.format, first.channels, first.sample_rate, shape.format, shape.channels, shape.sample_rate
            );
            return Err(write_error(&self.path, message));
        }
        let result = match audio.samples() {
            Samples::F32(s) => interleave(writer, s, shape.channels),
            Samples::I16(s) => interleave(writer, s, shape.channels),
            Samples::I32(s) => interleave(writer, s, shape.channels),
        };
        result.map_err(|e| write_error(&self.path, e.to_string()))?;
        self.frames += audio.frames() as u64;
        Ok(())
    }

    /// Writes the header's lengths and closes the file. Returns false when
    /// no audio came (no file was created).
    pub fn finish(mut self) -> Result<bool, MediaError> {
        match self.open.take() {
            Some((w, _)) => w
                .finalize()
                .map(|()| true)
                .map_err(|e| write_error(&self.path, e.to_string())),
            None => Ok(false),
        }
    }
}

fn write_error(path: &Path, message: String) -> MediaError {
    MediaError::Write {
        path: path.display().to_string(),
        message,
    }
}

fn interleave<S: hound::Sample + Copy>(
    writer: &mut hound::WavWriter<BufWriter<File>>,
    planar: &[S],
    channels: usize,
) -> Result<(), hound::Error> {
    let frames = planar.len() / channels;
    for f in 0..frames {
        for c in 0..channels {
            writer.write_sample(planar[c * frames + f])?;
        }
    }
    Ok(())
}
