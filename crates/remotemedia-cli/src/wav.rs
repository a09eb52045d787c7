//! WAV files in and out, as planar [`AudioData`] chunks.
//!
//! Integer WAVs keep their integer format through the pipeline: 8- and 16-bit
//! files become i16 audio (8-bit scaled up by 256), 24- and 32-bit files
//! become i32 audio (24-bit scaled up by 256). 32-bit float files become f32
//! audio. On output, i16 audio is written as 16-bit PCM, i32 as 32-bit PCM
//! and f32 as 32-bit float.
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
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use remotemedia_core::{AudioData, SampleFormat, Samples};

/// Why a WAV file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// The file does not exist or cannot be opened.
    #[error("{path}: cannot open: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not a WAV file hound can read.
    #[error("{path}: not a readable WAV file: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The data chunk ends before the header says it does.
    #[error("{path}: truncated: the data ends after {frames} of {expected} frames")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Frames read.
        frames: u64,
        /// Frames the header announced.
        expected: u64,
    },
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavInfo {
    /// Channels.
    pub channels: usize,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Frames announced by the header.
    pub frames: u64,
    /// Bits per sample.
    pub bits: u16,
    /// True for IEEE float samples.
    pub float: bool,
}

/// Reads a WAV file in chunks of planar audio.
pub struct WavChunks<R: Read = BufReader<File>> {
    path: PathBuf,
    reader: hound::WavReader<R>,
    info: WavInfo,
    chunk_frames: usize,
    frames_read: u64,
}

impl WavChunks {
    /// Opens `path`, to be read `chunk_frames` frames at a time.
    pub fn open(path: &Path, chunk_frames: usize) -> Result<Self, WavError> {
        let file = File::open(path).map_err(|source| WavError::Open {
            path: path.to_owned(),
            source,
        })?;
        Self::from_reader(BufReader::new(file), path, chunk_frames)
    }
}

impl<R: Read> WavChunks<R> {
    /// Reads WAV data from `reader`, `chunk_frames` frames at a time; `path`
    /// only names the source in errors.
    pub fn from_reader(reader: R, path: &Path, chunk_frames: usize) -> Result<Self, WavError> {
        let reader = hound::WavReader::new(reader).map_err(|e| format_error(path, e))?;
        let spec = reader.spec();
        let info = WavInfo {
            channels: usize::from(spec.channels),
            sample_rate: spec.sample_rate,
            frames: u64::from(reader.duration()),
            bits: spec.bits_per_sample,
            float: spec.sample_format == hound::SampleFormat::Float,
        };
        let supported = matches!((info.float, info.bits), (true, 32) | (false, 8 | 16 | 24 | 32));
        if !supported || info.channels == 0 || info.sample_rate == 0 {
            return Err(WavError::Format {
                path: path.to_owned(),
                message: format!(
                    "unsupported: {} channels, {} Hz, {}-bit {}",
                    info.channels,
                    info.sample_rate,
                    info.bits,
                    if info.float { "float" } else { "int" }
                ),
            });
        }
        Ok(Self {
            path: path.to_owned(),
            reader,
            info,
            chunk_frames: chunk_frames.max(1),
            frames_read: 0,
        })
    }

    /// The file's shape.
    pub fn info(&self) -> WavInfo {
        self.info
    }

    /// The next chunk, `None` at the end of the data.
    pub fn next_chunk(&mut self) -> Result<Option<AudioData>, WavError> {
        let left = self.info.frames - self.frames_read;
        let frames = (self.chunk_frames as u64).min(left) as usize;
        if frames == 0 {
            return Ok(None);
        }
        let samples: Samples = match (self.info.float, self.info.bits) {
            (true, _) => self.read_planar::<f32, f32>(frames, |s| s)?.into(),
            (false, 8) => self.read_planar::<i8, i16>(frames, |s| i16::from(s) << 8)?.into(),
            (false, 16) => self.read_planar::<i16, i16>(frames, |s| s)?.into(),
            (false, 24) => self.read_planar::<i32, i32>(frames, |s| s << 8)?.into(),
            (false, _) => self.read_planar::<i32, i32>(frames, |s| s)?.into(),
        };
        self.frames_read += frames as u64;
        let audio = AudioData::new(samples, self.info.channels, self.info.sample_rate).expect("shape checked at open");
        Ok(Some(audio))
    }

    /// Reads `frames` frames and returns them planar. The interleaved
    /// samples are collected as they arrive, so a header that promises far
    /// more data than the file holds cannot make us allocate for it.
    fn read_planar<S: hound::Sample, T: Copy + Default>(
        &mut self,
        frames: usize,
        convert: impl Fn(S) -> T,
    ) -> Result<Vec<T>, WavError> {
        let channels = self.info.channels;
        let mut interleaved = Vec::new();
        let mut samples = self.reader.samples::<S>();
        while interleaved.len() < frames * channels {
            match samples.next() {
                Some(Ok(s)) => interleaved.push(convert(s)),
                Some(Err(e)) if is_short_read(&e) => return Err(self.truncated(interleaved.len() / channels)),
                None => return Err(self.truncated(interleaved.len() / channels)),
                Some(Err(e)) => return Err(format_error(&self.path, e)),
            }
        }
        let mut planar = vec![T::default(); frames * channels];
        for (i, s) in interleaved.into_iter().enumerate() {
            planar[(i % channels) * frames + i / channels] = s;
        }
        Ok(planar)
    }

    fn truncated(&self, frames_in_chunk: usize) -> WavError {
        WavError::Truncated {
            path: self.path.clone(),
            frames: self.frames_read + frames_in_chunk as u64,
            expected: self.info.frames,
        }
    }
}

/// True when hound stopped because the data ran out. hound reports a short
/// read as an I/O error, either end-of-file or one carrying this fixed
/// message.
fn is_short_read(e: &hound::Error) -> bool {
    match e {
        hound::Error::IoError(io) => {
            io.kind() == std::io::ErrorKind::UnexpectedEof || io.to_string().contains("enough bytes")
        }
        _ => false,
    }
}

fn format_error(path: &Path, e: hound::Error) -> WavError {
    WavError::Format {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

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
