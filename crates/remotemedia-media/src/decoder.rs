//! Streaming decoding of an audio file or stream into fixed-size chunks.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use remotemedia_core::{AudioData, SampleFormat};
use symphonia::core::audio::AudioBufferRef;
use symphonia::core::codecs::{self, CodecParameters, CodecType, Decoder, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader, Packet};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions, ReadBytes};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::error::MediaError;
use crate::input::{HeadError, Input, WavLayout};
use crate::mp4_edit;
use crate::pending::Pending;

/// Frames per packet read from a WAV's data chunk.
const WAV_PACKET_FRAMES: u64 = 4096;

/// The largest packet a header may announce: decoders size their buffers
/// by it before reading any audio. Real codecs stay far below (FLAC 65,535,
/// ALAC 4,096 by default).
const MAX_PACKET_FRAMES: u64 = 1 << 20;

/// Decode errors in a row after which a stream is given up as garbage.
const MAX_BAD_PACKETS_IN_A_ROW: u32 = 64;

/// What a decoder knows about the audio before the first chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaInfo {
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Channel count; channels come out in the file's order.
    pub channels: usize,
    /// The file's channel positions as a WAVE-style mask (bit 0 front left,
    /// bit 1 front right, bit 2 front centre, ...), when the format names them.
    pub channel_mask: Option<u32>,
    /// Frames the container promises (after gapless trimming), if it says.
    pub frames: Option<u64>,
    /// The codec, e.g. `mp3`, `flac`, `pcm_s16le`.
    pub codec: String,
    /// The format of the chunks: the source's own for integer PCM (WAV,
    /// FLAC, ALAC: up to 16 bits i16, more i32, full scale), f32 otherwise.
    pub sample_format: SampleFormat,
}

enum Packets {
    /// Any format symphonia demuxes.
    Demuxed { format: Box<dyn FormatReader>, track: u32 },
    /// A WAV data chunk, read here in whole blocks so a stream of unknown
    /// length (or a cut file) yields every complete frame it holds.
    Wav {
        stream: MediaSourceStream,
        block: usize,
        /// Bytes of samples left, `None` to the end of the input.
        left: Option<u64>,
        buf: Vec<u8>,
        ts: u64,
    },
}

/// Decodes audio into [`AudioData`] chunks of `chunk_frames` frames
/// (planar, the file's channels and rate, in [`MediaInfo::sample_format`]);
/// the last chunk holds the rest.
///
/// Memory stays bounded by one packet plus one chunk, whatever the file's
/// length or what its header claims. The format is found from the content
/// (never the file name). Gapless trimming is applied where the container
/// records it in a way symphonia 0.5 reads (MP3 LAME/Xing headers; FLAC,
/// Vorbis and WAV are exact by construction; MP4/M4A opened by path: the
/// audio track's edit list, see [`crate::mp4_edit`]), so the frame count is
/// that of the encoded audio. An MP4 read from a stream keeps its AAC
/// encoder's priming frames (1024 with ffmpeg's encoder) at the start.
///
/// A packet the codec cannot decode is skipped with a warning (as ffmpeg
/// does); a stream that ends early (a cut file) ends the iteration with a
/// warning after every frame it held. Both are listed in
/// [`MediaDecoder::warnings`] and logged through `tracing`. Errors name the
/// input and the packet and byte where decoding stopped; after an error
/// the iterator ends.
pub struct MediaDecoder {
    name: String,
    info: MediaInfo,
    packets: Packets,
    decoder: Box<dyn Decoder>,
    chunk_frames: usize,
    /// Decoded frames still to drop at the start (an MP4 edit list's).
    skip: u64,
    /// Frames to hand out in all, when an MP4 edit list says.
    keep: Option<u64>,
    /// Decoded frames not yet handed out.
    pending: Pending,
    packet: u64,
    frames_out: u64,
    bad_in_a_row: u32,
    ended: bool,
    warnings: Vec<String>,
    truncated: Option<String>,
    read: Arc<AtomicU64>,
}

impl MediaDecoder {
    /// Opens the file at `path`. `chunk_frames` is clamped to at least 1.
    pub fn open(path: &Path, chunk_frames: usize) -> Result<Self, MediaError> {
        let name = path.display().to_string();
        let opened = File::open(path).and_then(|file| Ok((file.try_clone()?, Input::file(file)?)));
        let (edits, input) = opened.map_err(|error| MediaError::Open {
            source_name: name.clone(),
            error,
        })?;
        Self::new(input, Some(edits), name, chunk_frames)
    }

    /// Reads from `reader` (a pipe, standard input, memory), once, start
    /// to end; `name` names it in errors (`-` for standard input). MP4/M4A
    /// files whose index sits at the end cannot be read this way (it needs
    /// seeking): give their path.
    pub fn from_reader(
        reader: Box<dyn Read + Send + Sync>,
        name: impl Into<String>,
        chunk_frames: usize,
    ) -> Result<Self, MediaError> {
        Self::new(Input::stream(reader), None, name.into(), chunk_frames)
    }

    /// `edits`: the file again, to read an MP4 edit list from (see
    /// [`mp4_edit`]); `None` for a stream.
    fn new(mut input: Input, edits: Option<File>, name: String, chunk_frames: usize) -> Result<Self, MediaError> {
        let read = input.bytes_read();
        let wav = input.read_head().map_err(|e| match e {
            HeadError::Empty => MediaError::Empty {
                source_name: name.clone(),
            },
            HeadError::Io(error) => MediaError::Io {
                source_name: name.clone(),
                error,
            },
            HeadError::BadFormat(message) => MediaError::Params {
                source_name: name.clone(),
                message,
            },
            HeadError::CutHeader(at) => MediaError::Format {
                source_name: name.clone(),
                message: format!("input ends at byte {at}, inside the WAV header"),
                bytes_read: at,
            },
        })?;
        let format_error = |e: SymError| MediaError::Format {
            source_name: name.clone(),
            message: describe(&e),
            bytes_read: read.load(Ordering::Relaxed),
        };
        let mss = MediaSourceStream::new(Box::new(input), MediaSourceStreamOptions::default());
        let options = FormatOptions {
            enable_gapless: true,
            ..FormatOptions::default()
        };
        let probed =
            guard(|| symphonia::default::get_probe().format(&Hint::new(), mss, &options, &MetadataOptions::default()))
                .map_err(format_error)?;
        let format = probed.format;
        let tracks = format.tracks().len();
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != codecs::CODEC_TYPE_NULL && t.codec_params.sample_rate.is_some())
            .ok_or(MediaError::NoAudioTrack {
                source_name: name.clone(),
                tracks,
            })?;
        let mut params = track.codec_params.clone();
        let track_id = track.id;
        let packets = match wav {
            Some(layout) => wav_packets(format, layout, &mut params, &name, &read)?,
            None => Packets::Demuxed {
                format,
                track: track_id,
            },
        };
        if let Some(n) = params.max_frames_per_packet.filter(|&n| n > MAX_PACKET_FRAMES) {
            return Err(MediaError::Params {
                source_name: name,
                message: format!(
                    "the header claims packets of {n} frames; at most {MAX_PACKET_FRAMES} are accepted (the decoder would allocate for them)"
                ),
            });
        }
        let decoder = guard(|| symphonia::default::get_codecs().make(&params, &DecoderOptions::default()))
            .map_err(format_error)?;
        if params.channels.is_none() {
            // MP4 gives AAC's channels only in the codec's own config; the
            // decoder has read it and sized its buffer by it.
            let spec = *decoder.last_decoded().spec();
            params.channels = (spec.channels.count() > 0).then_some(spec.channels);
        }
        let mut info = media_info(&params, &name)?;
        let edit = edits.and_then(|file| mp4_edit::audio_edit(&file, info.sample_rate));
        if let Some(edit) = edit {
            info.frames = info.frames.map(|f| {
                let after = f.saturating_sub(edit.skip);
                edit.keep.map_or(after, |keep| after.min(keep))
            });
        }
        Ok(Self {
            skip: edit.map_or(0, |e| e.skip),
            keep: edit.and_then(|e| e.keep),
            pending: Pending::new(info.sample_format, info.channels),
            name,
            info,
            packets,
            decoder,
            chunk_frames: chunk_frames.max(1),
            packet: 0,
            frames_out: 0,
            bad_in_a_row: 0,
            ended: false,
            warnings: Vec::new(),
            truncated: None,
            read,
        })
    }

    /// Sets the frames per chunk from the next chunk on (clamped to at
    /// least 1): a caller choosing a duration learns the rate from
    /// [`Self::info`] first.
    pub fn set_chunk_frames(&mut self, frames: usize) {
        self.chunk_frames = frames.max(1);
    }

    /// The audio's rate, channels and promised length.
    pub fn info(&self) -> &MediaInfo {
        &self.info
    }

    /// Frames handed out so far.
    pub fn frames_decoded(&self) -> u64 {
        self.frames_out
    }

    /// What went wrong without stopping the decoding (skipped packets, an
    /// early end), in order.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The warning that the stream ended before its header's frame count,
    /// once the iteration has found it (it is in [`Self::warnings`] too).
    pub fn truncated(&self) -> Option<&str> {
        self.truncated.as_deref()
    }

    fn warn(&mut self, message: String) {
        tracing::warn!("{message}");
        self.warnings.push(message);
    }

    fn pending_frames(&self) -> usize {
        self.pending.frames()
    }

    fn bytes_read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// Takes up to `frames` pending frames as one chunk.
    fn take_chunk(&mut self, frames: usize) -> Result<AudioData, MediaError> {
        let samples = self.pending.take(frames);
        self.frames_out += frames as u64;
        AudioData::new(samples, self.info.channels, self.info.sample_rate).map_err(|e| MediaError::Params {
            source_name: self.name.clone(),
            message: e.to_string(),
        })
    }

    /// Reads and decodes one packet into `pending`. Returns false at the
    /// end of the stream.
    fn decode_next(&mut self) -> Result<bool, MediaError> {
        let packet = match self.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(false),
            Err(e) => {
                return Err(MediaError::Decode {
                    source_name: self.name.clone(),
                    message: describe(&e),
                    packet: self.packet,
                    bytes_read: self.bytes_read(),
                });
            }
        };
        let number = self.packet;
        self.packet += 1;
        let decoder = &mut self.decoder;
        match guard(|| decoder.decode(&packet).map(|_| ())).map(|()| decoder.last_decoded()) {
            Ok(decoded) => {
                self.bad_in_a_row = 0;
                append(&mut self.pending, &self.info, decoded).map_err(|message| MediaError::Decode {
                    source_name: self.name.clone(),
                    message,
                    packet: number,
                    bytes_read: self.read.load(Ordering::Relaxed),
                })?;
                if self.skip > 0 {
                    let dropped = self
                        .pending
                        .frames()
                        .min(usize::try_from(self.skip).unwrap_or(usize::MAX));
                    self.pending.take(dropped);
                    self.skip -= dropped as u64;
                }
                Ok(true)
            }
            Err(SymError::DecodeError(why)) => {
                self.bad_in_a_row += 1;
                let message = format!(
                    "{}: packet {number} skipped, it does not decode ({why}; after reading {} bytes)",
                    self.name,
                    self.bytes_read()
                );
                self.warn(message);
                if self.bad_in_a_row >= MAX_BAD_PACKETS_IN_A_ROW {
                    return Err(MediaError::Decode {
                        source_name: self.name.clone(),
                        message: format!("{MAX_BAD_PACKETS_IN_A_ROW} packets in a row do not decode ({why})"),
                        packet: number,
                        bytes_read: self.bytes_read(),
                    });
                }
                Ok(true)
            }
            Err(e) => Err(MediaError::Decode {
                source_name: self.name.clone(),
                message: describe(&e),
                packet: number,
                bytes_read: self.bytes_read(),
            }),
        }
    }

    fn next_packet(&mut self) -> Result<Option<Packet>, SymError> {
        match &mut self.packets {
            Packets::Demuxed { format, track } => loop {
                match format.next_packet() {
                    Ok(p) if p.track_id() == *track => return Ok(Some(p)),
                    Ok(_) => {}
                    Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                        return Ok(None);
                    }
                    Err(SymError::ResetRequired) => return Ok(None),
                    Err(e) => return Err(e),
                }
            },
            Packets::Wav {
                stream,
                block,
                left,
                buf,
                ts,
            } => {
                let want = left.map_or(buf.len() as u64, |l| l.min(buf.len() as u64)) as usize;
                let mut got = 0;
                while got < want {
                    match ReadBytes::read_buf(stream, &mut buf[got..want]) {
                        Ok(0) => break,
                        Ok(n) => got += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                        Err(e) => return Err(SymError::IoError(e)),
                    }
                }
                if let Some(l) = left {
                    *l -= got as u64;
                }
                let whole = got - got % *block;
                if whole == 0 {
                    return Ok(None);
                }
                let frames = (whole / *block) as u64;
                let packet = Packet::new_from_slice(0, *ts, frames, &buf[..whole]);
                *ts += frames;
                Ok(Some(packet))
            }
        }
    }

    /// Adds the warning for a stream that ended before its header's count.
    fn check_length(&mut self) {
        let Some(promised) = self.info.frames else { return };
        let decoded = self.frames_out + self.pending_frames() as u64;
        if decoded < promised {
            let message = format!(
                "{}: truncated: the data ends after {decoded} of {promised} frames (after reading {} bytes); the frames before the damage were decoded",
                self.name,
                self.bytes_read(),
            );
            self.truncated = Some(message.clone());
            self.warn(message);
        }
    }
}

impl Iterator for MediaDecoder {
    type Item = Result<AudioData, MediaError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.ended && self.pending_frames() < self.chunk_frames {
            match self.decode_next() {
                Ok(true) => {}
                Ok(false) => {
                    self.ended = true;
                    self.check_length();
                }
                Err(e) => {
                    self.ended = true;
                    self.pending.clear();
                    return Some(Err(e));
                }
            }
        }
        let mut frames = self.pending_frames().min(self.chunk_frames);
        if let Some(keep) = self.keep {
            let left = keep.saturating_sub(self.frames_out);
            frames = frames.min(usize::try_from(left).unwrap_or(usize::MAX));
            if frames as u64 == left {
                self.ended = true;
            }
        }
        (frames > 0).then(|| self.take_chunk(frames))
    }
}

/// Appends decoded frames to `pending`. Fails when the stream changed
/// rate or channels.
fn append(pending: &mut Pending, info: &MediaInfo, decoded: AudioBufferRef<'_>) -> Result<(), String> {
    let spec = *decoded.spec();
    if spec.rate != info.sample_rate || spec.channels.count() != info.channels {
        return Err(format!(
            "the stream changes from {} Hz x {} channels to {} Hz x {} channels",
            info.sample_rate,
            info.channels,
            spec.rate,
            spec.channels.count()
        ));
    }
    pending.append(&decoded);
    Ok(())
}

/// Takes the WAV reader's stream, positioned at the first sample, and sets
/// the codec's packet size to ours.
fn wav_packets(
    format: Box<dyn FormatReader>,
    layout: WavLayout,
    params: &mut CodecParameters,
    name: &str,
    read: &AtomicU64,
) -> Result<Packets, MediaError> {
    let channels = params.channels.map_or(0, |c| c.count());
    let block = bytes_per_sample(params.codec, params.bits_per_coded_sample).map(|b| b * channels);
    let Some(block) = block.filter(|&b| b > 0) else {
        return Err(MediaError::Format {
            source_name: name.to_owned(),
            message: format!(
                "WAV codec {} with {channels} channel(s) is not supported",
                codec_name(params.codec)
            ),
            bytes_read: read.load(Ordering::Relaxed),
        });
    };
    let stream = format.into_inner();
    if stream.pos() != layout.data_start {
        return Err(MediaError::Format {
            source_name: name.to_owned(),
            message: format!(
                "the WAV header reads differently: samples at byte {} or {}",
                layout.data_start,
                stream.pos()
            ),
            bytes_read: read.load(Ordering::Relaxed),
        });
    }
    params.with_max_frames_per_packet(WAV_PACKET_FRAMES);
    params.n_frames = layout.data_len.map(|l| l / block as u64);
    Ok(Packets::Wav {
        stream,
        block,
        left: layout.data_len,
        buf: vec![0; block * WAV_PACKET_FRAMES as usize],
        ts: 0,
    })
}

/// Bytes per sample of the PCM codecs a WAV can hold.
fn bytes_per_sample(codec: CodecType, bits: Option<u32>) -> Option<usize> {
    use codecs::*;
    match codec {
        CODEC_TYPE_PCM_ALAW | CODEC_TYPE_PCM_MULAW | CODEC_TYPE_PCM_U8 | CODEC_TYPE_PCM_S8 => Some(1),
        CODEC_TYPE_PCM_F32LE => Some(4),
        CODEC_TYPE_PCM_F64LE => Some(8),
        CODEC_TYPE_PCM_S16LE | CODEC_TYPE_PCM_S24LE | CODEC_TYPE_PCM_S32LE => bits.map(|b| b.div_ceil(8) as usize),
        _ => None,
    }
}

fn media_info(params: &CodecParameters, name: &str) -> Result<MediaInfo, MediaError> {
    let problem = |message: String| MediaError::Params {
        source_name: name.to_owned(),
        message,
    };
    let sample_rate = params.sample_rate.unwrap_or(0);
    if sample_rate == 0 {
        return Err(problem("the header gives a sample rate of 0 Hz".into()));
    }
    let channels = params.channels.map_or(0, |c| c.count());
    if channels == 0 {
        return Err(problem("the header gives no channels".into()));
    }
    use codecs::*;
    let integer = matches!(
        params.codec,
        CODEC_TYPE_FLAC
            | CODEC_TYPE_ALAC
            | CODEC_TYPE_PCM_U8
            | CODEC_TYPE_PCM_S8
            | CODEC_TYPE_PCM_S16LE
            | CODEC_TYPE_PCM_S24LE
            | CODEC_TYPE_PCM_S32LE
    );
    let sample_format = match params.bits_per_sample {
        Some(1..=16) if integer => SampleFormat::I16,
        Some(_) if integer => SampleFormat::I32,
        _ => SampleFormat::F32,
    };
    Ok(MediaInfo {
        sample_format,
        sample_rate,
        channels,
        channel_mask: params.channels.map(|c| c.bits()),
        frames: params.n_frames,
        codec: codec_name(params.codec),
    })
}

fn codec_name(codec: CodecType) -> String {
    symphonia::default::get_codecs()
        .get_codec(codec)
        .map_or_else(|| format!("{codec}"), |d| d.short_name.to_owned())
}

/// Runs a symphonia call, turning a panic inside it (a bug it has on some
/// malformed input) into an error, so bad input never brings the caller down.
fn guard<T>(f: impl FnOnce() -> Result<T, SymError>) -> Result<T, SymError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::debug!("symphonia panicked: {what}");
        Err(SymError::DecodeError("malformed data (the decoder gave up)"))
    })
}

/// A symphonia error in words.
fn describe(e: &SymError) -> String {
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the input ends before the header does (cut or empty)".to_owned()
        }
        SymError::Unsupported(what) if what.contains("no suitable format reader") => {
            "not a supported media format (WAV, FLAC, MP3, OGG/Vorbis, M4A/AAC, ALAC, MKV/WebM audio)".to_owned()
        }
        other => other.to_string(),
    }
}
