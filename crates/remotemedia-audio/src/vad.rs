//! Voice activity detection: a streaming kernel that finds speech segments.
//!
//! Two detectors, chosen by [`VadMode`]:
//!
//! - [`VadMode::Speech`] (default): the robust speech detector. The input is
//!   converted to 8 kHz, and every 20 ms the last 32 ms are analysed (FFT,
//!   per-bin adaptive noise floor and a fast-rising second one, band SNRs
//!   and their spread, harmonicity, pitch continuity
//!   and constancy, spectral flux, fine-spectrum stationarity, syllable-rate
//!   modulation; see [`features`]); a tiny MLP over the last 200 ms of these,
//!   blended with a small recurrent network (a GRU) that carries state over
//!   the whole stream, both trained offline on generated data (weights
//!   compiled in, nothing loaded at run time), gives a speech probability per
//!   hop. A frame's probability is the mean over the hops completed
//!   during it; frames quieter than [`VadConfig::threshold_db`] are never
//!   speech. Steady noise, hum and tonal music are rejected (no false segment
//!   in music alone on our test set, see `bench/vad/README.md`).
//! - [`VadMode::Energy`]: the older API's plain detector. A frame is active
//!   when its RMS is above the threshold. It cannot tell speech from noise: any
//!   loud enough sound, amplitude-modulated noise included, is "speech".
//!
//! Activity is then smoothed the same way in both modes (minimum speech and
//! silence durations, hangover) into segments. In speech mode the edges are
//! then fitted to the signal, because the classifier's context makes it a
//! little late both ways: a segment's end is pulled back (by up to 150 ms)
//! over trailing frames less than 4 dB above the noise floor, and its start
//! is moved back (by up to 60 ms) over the frames just before it that stand
//! at least 4.5 dB above the floor, or further to the first of the shorter runs
//! of activity just before it (less than the minimum silence apart). Within a
//! segment, a run of activity after a gap keeps the segment going only once
//! it lasts 60 ms; shorter ones (a key click, a drum hit in a pause) count as
//! silence, and are not taken in by a segment start either.
//! Every per-frame decision that
//! is emitted is final and agrees with the segments, so decisions come out a
//! few frames late (at most [`Vad::decision_delay_frames`]).
//!
//! Input is mono `f32`; use [`mix_planar_to_mono`] or
//! [`mix_interleaved_to_mono`] first for multichannel audio (channels are
//! averaged). Non-finite samples (NaN, ±inf) are treated as 0.0. Frames are
//! `round(sample_rate × frame_duration_ms / 1000)` samples; times are exact
//! sample positions divided by the sample rate.
//!
//! ```
//! use remotemedia_audio::vad::{Vad, VadConfig, VadOutput};
//!
//! let mut vad = Vad::new(VadConfig::new(16_000)).unwrap();
//! let mut out = VadOutput::new();
//! for chunk in vec![0.0f32; 16_000].chunks(1_000) {
//!     vad.process(chunk, &mut out);
//! }
//! vad.flush(&mut out);
//! assert!(out.segments.is_empty());
//! assert_eq!(out.frames.len(), 33);
//! ```

mod activation;
mod dense;
pub mod features;
mod fft;
mod halfband;
mod model;
mod output;
mod recurrent;
mod recurrent_weights;
mod segmenter;
mod weights;

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use features::FeatureExtractor;
use model::SpeechModel;
pub use output::{Segment, VadFrame, VadOutput, VadSummary};
use segmenter::{EdgeFit, PendingFrame, Segmenter};

use crate::simd::Avx2;

/// Default frame duration in milliseconds.
pub const DEFAULT_FRAME_DURATION_MS: u32 = 30;
/// Default absolute gate of the speech detector (dBFS RMS per frame): lets speech at -40 dBFS through.
pub const DEFAULT_SPEECH_THRESHOLD_DB: f32 = -60.0;
/// Default threshold of the energy detector: 0.02 linear RMS (about -34 dBFS), as in the older API.
pub const DEFAULT_ENERGY_THRESHOLD: f32 = 0.02;
/// Default speech probability above which a frame is active (speech mode).
pub const DEFAULT_SPEECH_PROBABILITY: f32 = 0.5;
/// Default speech padding after the last active frame, in milliseconds (the
/// classifier's context already keeps it on a little after speech ends).
pub const DEFAULT_HANGOVER_MS: u32 = 0;
/// Default shortest run of active frames that starts a segment, in milliseconds.
pub const DEFAULT_MIN_SPEECH_MS: u32 = 180;
/// Default shortest pause that ends a segment, in milliseconds.
pub const DEFAULT_MIN_SILENCE_MS: u32 = 120;
/// Longest accepted hangover / minimum speech / minimum silence duration, in milliseconds.
pub const MAX_DURATION_MS: u32 = 10_000;
/// Speech mode: longest tail of active frames that a segment end may be pulled back by.
const TRIM_MS: u32 = 150;
/// Speech mode: trailing active frames whose mean band SNR (dB) is below this are cut off a segment.
const TRIM_SNR_DB: f32 = 4.0;
/// Speech mode: longest run of inactive frames a segment start may be moved back over.
const LEAD_MS: u32 = 60;
/// Speech mode: inactive frames just before a segment whose mean band SNR (dB) reaches this join it.
const LEAD_SNR_DB: f32 = 4.5;
/// Speech mode: after a gap inside a segment, a run of activity must last this long to keep the
/// segment going (shorter runs in a pause are taken for clicks or hits, not speech).
const REJOIN_MS: u32 = 60;
/// Supported sample rates, in Hz (inclusive).
pub const SAMPLE_RATE_RANGE: std::ops::RangeInclusive<u32> = 8_000..=48_000;

/// Errors from building a [`Vad`] or from the mixing helpers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VadError {
    /// The sample rate is outside 8 000..=48 000 Hz.
    #[error("unsupported sample rate {0} Hz (supported: 8000 to 48000 Hz)")]
    UnsupportedSampleRate(u32),
    /// Speech mode: the rate is in range but cannot be converted to the 8 kHz
    /// analysis rate (its ratio to 8000 reduces to too many resampler phases,
    /// as for 8001 Hz). Every common rate converts.
    #[error(
        "sample rate {0} Hz cannot be converted to the speech detector's 8 kHz analysis rate \
         (its ratio to 8000 Hz needs too many resampler phases); use a common rate such as \
         8000, 11025, 16000, 22050, 24000, 32000, 44100 or 48000 Hz, or mode \"energy\""
    )]
    UnsupportedRateRatio(u32),
    /// The frame duration is not 10, 20 or 30 ms.
    #[error("unsupported frame duration {0} ms (supported: 10, 20, 30)")]
    UnsupportedFrameDuration(u32),
    /// `threshold_db` is NaN or infinite.
    #[error("threshold_db must be finite, got {0}")]
    InvalidThreshold(f32),
    /// A linear energy threshold is not a finite number above 0.
    #[error("energy_threshold must be a finite RMS above 0, got {0}")]
    InvalidEnergyThreshold(f32),
    /// `speech_probability` is not strictly between 0 and 1.
    #[error("speech_probability must be in (0, 1), got {0}")]
    InvalidSpeechProbability(f32),
    /// A duration parameter exceeds [`MAX_DURATION_MS`].
    #[error("{name} = {value_ms} ms is above the maximum of {MAX_DURATION_MS} ms")]
    DurationTooLong {
        /// The parameter's name.
        name: &'static str,
        /// The rejected value in milliseconds.
        value_ms: u32,
    },
    /// The mode string is neither "speech" nor "energy".
    #[error("unknown VAD mode {0:?} (expected \"speech\" or \"energy\")")]
    UnknownMode(String),
    /// Channel buffers given to a mixing helper do not have the expected lengths.
    #[error("channel layout mismatch: {0}")]
    ChannelMismatch(String),
}

impl VadError {
    /// The setting the error is about, spelt as in [`VadConfig`] and the node's params
    /// (`"sample_rate"`, `"frame_duration_ms"`, ...); `None` for a channel layout given to
    /// a mixing helper.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::UnsupportedSampleRate(_) | Self::UnsupportedRateRatio(_) => Some("sample_rate"),
            Self::UnsupportedFrameDuration(_) => Some("frame_duration_ms"),
            Self::InvalidThreshold(_) => Some("threshold_db"),
            Self::InvalidEnergyThreshold(_) => Some("energy_threshold"),
            Self::InvalidSpeechProbability(_) => Some("speech_probability"),
            Self::DurationTooLong { name, .. } => Some(name),
            Self::UnknownMode(_) => Some("mode"),
            Self::ChannelMismatch(_) => None,
        }
    }
}

/// Which detector decides whether a frame is active (`"speech"` or `"energy"` in manifests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VadMode {
    /// Robust speech detector (spectral features + trained classifier + absolute gate).
    #[default]
    Speech,
    /// Plain RMS-above-threshold detector of the older API; calls any loud sound speech.
    Energy,
}

impl FromStr for VadMode {
    type Err = VadError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "speech" => Ok(Self::Speech),
            "energy" => Ok(Self::Energy),
            other => Err(VadError::UnknownMode(other.to_owned())),
        }
    }
}

impl fmt::Display for VadMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Speech => "speech",
            Self::Energy => "energy",
        })
    }
}

/// Converts a linear RMS threshold (e.g. the older API's `energy_threshold=0.02`) to dBFS.
pub fn energy_threshold_to_db(rms: f32) -> Result<f32, VadError> {
    if rms.is_finite() && rms > 0.0 {
        Ok(20.0 * rms.log10())
    } else {
        Err(VadError::InvalidEnergyThreshold(rms))
    }
}

/// Detector settings. Build with [`VadConfig::new`] (speech) or [`VadConfig::energy`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// Input sample rate in Hz (8 000 to 48 000; in speech mode also one our
    /// resampler converts to 8 kHz, which every common rate is, but not e.g.
    /// 8001: see [`VadError::UnsupportedRateRatio`]).
    pub sample_rate: u32,
    /// Frame duration in milliseconds: 10, 20 or 30 (default 30).
    pub frame_duration_ms: u32,
    /// Which detector runs (default [`VadMode::Speech`]).
    pub mode: VadMode,
    /// Frame RMS threshold in dBFS: in speech mode an absolute gate (quieter
    /// frames are never speech; default -60), in energy mode the activity
    /// threshold (default -33.98, i.e. 0.02 linear).
    pub threshold_db: f32,
    /// Speech mode: probability (0..1) at or above which a frame is active (default 0.5).
    pub speech_probability: f32,
    /// Speech kept after the last active frame, in ms (rounded up to frames; default 0).
    pub hangover_ms: u32,
    /// Shortest run of active frames that starts a segment, in ms (rounded up;
    /// default 180, energy 0). In speech mode the segment then also takes in
    /// the shorter runs just before it that are separated by less than
    /// `min_silence_ms`, so a short first syllable is not lost.
    pub min_speech_ms: u32,
    /// Shortest inactive stretch that ends a segment, in ms (rounded up; default 120, energy 0).
    pub min_silence_ms: u32,
}

impl VadConfig {
    /// Speech-mode defaults at `sample_rate` Hz.
    pub fn new(sample_rate: u32) -> Self {
        Self {
            sample_rate,
            frame_duration_ms: DEFAULT_FRAME_DURATION_MS,
            mode: VadMode::Speech,
            threshold_db: DEFAULT_SPEECH_THRESHOLD_DB,
            speech_probability: DEFAULT_SPEECH_PROBABILITY,
            hangover_ms: DEFAULT_HANGOVER_MS,
            min_speech_ms: DEFAULT_MIN_SPEECH_MS,
            min_silence_ms: DEFAULT_MIN_SILENCE_MS,
        }
    }

    /// Energy-mode defaults at `sample_rate` Hz: threshold 0.02 RMS, no
    /// smoothing (every run of active frames is a segment), as in the older API.
    pub fn energy(sample_rate: u32) -> Self {
        Self {
            mode: VadMode::Energy,
            threshold_db: 20.0 * DEFAULT_ENERGY_THRESHOLD.log10(),
            hangover_ms: 0,
            min_speech_ms: 0,
            min_silence_ms: 0,
            ..Self::new(sample_rate)
        }
    }

    /// Defaults for `mode` at `sample_rate` Hz ([`VadConfig::new`] or [`VadConfig::energy`]).
    pub fn for_mode(sample_rate: u32, mode: VadMode) -> Self {
        match mode {
            VadMode::Speech => Self::new(sample_rate),
            VadMode::Energy => Self::energy(sample_rate),
        }
    }

    /// Sets `threshold_db` from a linear RMS threshold.
    pub fn with_energy_threshold(mut self, rms: f32) -> Result<Self, VadError> {
        self.threshold_db = energy_threshold_to_db(rms)?;
        Ok(self)
    }

    /// Checks every field; [`Vad::new`] calls this.
    pub fn validate(&self) -> Result<(), VadError> {
        if !SAMPLE_RATE_RANGE.contains(&self.sample_rate) {
            return Err(VadError::UnsupportedSampleRate(self.sample_rate));
        }
        if self.mode == VadMode::Speech && !features::converts_to_analysis_rate(self.sample_rate) {
            return Err(VadError::UnsupportedRateRatio(self.sample_rate));
        }
        if ![10, 20, 30].contains(&self.frame_duration_ms) {
            return Err(VadError::UnsupportedFrameDuration(self.frame_duration_ms));
        }
        if !self.threshold_db.is_finite() {
            return Err(VadError::InvalidThreshold(self.threshold_db));
        }
        if !(self.speech_probability > 0.0 && self.speech_probability < 1.0) {
            return Err(VadError::InvalidSpeechProbability(self.speech_probability));
        }
        for (name, value_ms) in [
            ("hangover_ms", self.hangover_ms),
            ("min_speech_ms", self.min_speech_ms),
            ("min_silence_ms", self.min_silence_ms),
        ] {
            if value_ms > MAX_DURATION_MS {
                return Err(VadError::DurationTooLong { name, value_ms });
            }
        }
        Ok(())
    }

    /// Samples per frame: `round(sample_rate × frame_duration_ms / 1000)`.
    pub fn frame_len(&self) -> usize {
        ((u64::from(self.sample_rate) * u64::from(self.frame_duration_ms) + 500) / 1000) as usize
    }

    /// How segment edges are fitted to the SNR: speech mode only.
    fn edge_fit(&self) -> EdgeFit {
        match self.mode {
            VadMode::Speech => EdgeFit {
                lead_frames: self.frames_for(LEAD_MS),
                lead_snr_db: LEAD_SNR_DB,
                trim_frames: self.frames_for(TRIM_MS),
                trim_snr_db: TRIM_SNR_DB,
                merge_runs: true,
                rejoin_frames: self.frames_for(REJOIN_MS),
            },
            VadMode::Energy => EdgeFit::NONE,
        }
    }

    /// A duration in ms as a whole number of frames (rounded up).
    fn frames_for(&self, ms: u32) -> u64 {
        u64::from(ms).div_ceil(u64::from(self.frame_duration_ms))
    }
}

/// The streaming voice activity detector. See the [module docs](self).
#[derive(Debug)]
pub struct Vad {
    config: VadConfig,
    frame_len: usize,
    frame_buf: Vec<f32>,
    filled: usize,
    frame_index: u64,
    features: Option<Box<FeatureExtractor>>,
    /// Speech mode: probability and SNR of the last analysed hop, for a frame
    /// that completes no hop (10 ms frames complete one every other frame;
    /// the rate converter's latency shifts hops across frame boundaries).
    last_hop: (f32, f32),
    /// Speech mode: the classifier's per-stream state.
    model: SpeechModel,
    /// Present when the CPU supports AVX2 (the classifier then runs 8 lanes wide).
    cpu: Option<Avx2>,
    segmenter: Segmenter,
}

impl Vad {
    /// Builds a detector, validating `config`.
    pub fn new(config: VadConfig) -> Result<Self, VadError> {
        config.validate()?;
        let frame_len = config.frame_len();
        let features = match config.mode {
            VadMode::Speech => Some(Box::new(FeatureExtractor::new(config.sample_rate))),
            VadMode::Energy => None,
        };
        let edges = config.edge_fit();
        let segmenter = Segmenter::new(
            frame_len,
            config.sample_rate,
            config.frames_for(config.min_speech_ms),
            config.frames_for(config.min_silence_ms),
            config.frames_for(config.hangover_ms),
            edges,
        );
        Ok(Self {
            config,
            frame_len,
            frame_buf: vec![0.0; frame_len],
            filled: 0,
            frame_index: 0,
            features,
            last_hop: (0.0, 0.0),
            model: SpeechModel::default(),
            cpu: Avx2::detect(),
            segmenter,
        })
    }

    /// The validated configuration.
    pub fn config(&self) -> &VadConfig {
        &self.config
    }

    /// Samples per frame.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Most frames a decision can wait for after its frame is complete. Speech
    /// frames are decided when their segment is confirmed (the minimum speech
    /// duration after its first active run) or, at its end, after the minimum
    /// silence plus the trimmed tail (150 ms); a non-speech frame outside a
    /// segment waits up to the minimum silence plus twice the minimum speech
    /// in speech mode (a segment confirmed later may still take it in), and
    /// not at all in energy mode.
    pub fn decision_delay_frames(&self) -> u64 {
        self.segmenter.max_delay_frames()
    }

    /// Whether speech is currently confirmed (a segment is open).
    pub fn in_speech(&self) -> bool {
        self.segmenter.in_segment()
    }

    /// Whole frames consumed since the stream started.
    pub fn total_frames(&self) -> u64 {
        self.frame_index
    }

    /// Frames decided as speech so far (decisions already emitted).
    pub fn speech_frames(&self) -> u64 {
        self.segmenter.counts().1
    }

    /// Feeds mono samples of any length. Appends the frames decided and the
    /// segments completed to `out`. Samples not filling a frame are kept for
    /// the next call; non-finite samples count as 0.0.
    pub fn process(&mut self, mono: &[f32], out: &mut VadOutput) {
        let mut rest = mono;
        while !rest.is_empty() {
            let take = (self.frame_len - self.filled).min(rest.len());
            let dst = &mut self.frame_buf[self.filled..self.filled + take];
            copy_finite(&rest[..take], dst, self.cpu);
            self.filled += take;
            rest = &rest[take..];
            if self.filled == self.frame_len {
                self.filled = 0;
                self.decide_frame(out);
            }
        }
    }

    /// Ends the stream: closes an open segment at the end of the last whole
    /// frame, emits every pending decision and resets the detector (the next
    /// call starts a new stream at time 0). A trailing partial frame (fewer
    /// than [`Vad::frame_len`] samples) is dropped: not analysed, not counted.
    pub fn flush(&mut self, out: &mut VadOutput) {
        self.segmenter
            .flush(self.frame_index, &mut out.frames, &mut out.segments);
        self.reset();
    }

    /// Starts a new stream: forgets buffered samples, pending decisions,
    /// noise floor and history; times restart at 0.
    pub fn reset(&mut self) {
        self.filled = 0;
        self.frame_index = 0;
        self.segmenter.reset();
        if let Some(fe) = self.features.as_mut() {
            fe.reset();
        }
        self.model.reset();
        self.last_hop = (0.0, 0.0);
    }

    fn decide_frame(&mut self, out: &mut VadOutput) {
        let frame = &self.frame_buf[..];
        let mean_square = sum_of_squares(frame, self.cpu) / frame.len() as f64;
        let level_db = 10.0 * (mean_square + 1e-20).log10();
        let above = level_db > f64::from(self.config.threshold_db);
        let (active, probability, snr_db) = match self.features.as_mut() {
            None => (above, if above { 1.0 } else { 0.0 }, f32::INFINITY),
            Some(fe) => {
                let (mut sum, mut hops, mut snr) = (0.0, 0u32, f32::MIN);
                let (cpu, model) = (self.cpu, &mut self.model);
                fe.push(frame, |features, hop_snr| {
                    sum += model.probability(features, cpu);
                    hops += 1;
                    snr = snr.max(hop_snr);
                });
                if hops > 0 {
                    self.last_hop = (sum / hops as f32, snr);
                }
                let (p, snr) = self.last_hop;
                let p = if above { p } else { 0.0 };
                (p >= self.config.speech_probability, p, snr)
            }
        };
        let pending = PendingFrame {
            index: self.frame_index,
            active,
            probability,
            mean_square,
            snr_db,
        };
        self.frame_index += 1;
        self.segmenter.push(pending, &mut out.frames, &mut out.segments);
    }
}

/// Copies `src` into `dst` (same length), non-finite samples as 0.0.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
fn copy_finite(src: &[f32], dst: &mut [f32], cpu: Option<Avx2>) {
    match cpu {
        #[cfg(target_arch = "x86_64")]
        Some(cpu) => copy_finite_avx2(cpu, src, dst),
        _ => copy_finite_portable(src, dst),
    }
}

#[inline(always)]
fn copy_finite_portable(src: &[f32], dst: &mut [f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = if s.is_finite() { s } else { 0.0 };
    }
}

/// [`copy_finite_portable`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
fn copy_finite_avx2(_cpu: Avx2, src: &[f32], dst: &mut [f32]) {
    #[target_feature(enable = "avx2")]
    fn body(src: &[f32], dst: &mut [f32]) {
        copy_finite_portable(src, dst);
    }
    // SAFETY: the token proves the CPU supports AVX2.
    unsafe { body(src, dst) }
}

/// Sum of squares in `f64`. With AVX2 (four `f64` lanes per register instead
/// of two) an energy-mode frame costs 16 % less (177 against 210 ns per 30 ms
/// at 16 kHz, criterion, same run); both builds add in the same order, so the
/// sums are identical.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
fn sum_of_squares(xs: &[f32], cpu: Option<Avx2>) -> f64 {
    match cpu {
        #[cfg(target_arch = "x86_64")]
        Some(cpu) => sum_of_squares_avx2(cpu, xs),
        _ => sum_of_squares_portable(xs),
    }
}

/// [`sum_of_squares_portable`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
fn sum_of_squares_avx2(_cpu: Avx2, xs: &[f32]) -> f64 {
    #[target_feature(enable = "avx2")]
    fn body(xs: &[f32]) -> f64 {
        sum_of_squares_portable(xs)
    }
    // SAFETY: the token proves the CPU supports AVX2.
    unsafe { body(xs) }
}

/// Sum of squares in `f64`, over four independent lanes (a single running sum
/// is a serial chain of adds and cost more than the rest of an energy-mode frame).
#[inline(always)]
fn sum_of_squares_portable(xs: &[f32]) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = xs.chunks_exact(4);
    let tail: f64 = chunks.remainder().iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += f64::from(x) * f64::from(x);
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// Runs a fresh detector over a whole clip and summarises it.
pub fn detect(mono: &[f32], config: VadConfig) -> Result<VadSummary, VadError> {
    let mut vad = Vad::new(config)?;
    let mut out = VadOutput::new();
    vad.process(mono, &mut out);
    let total_frames = vad.total_frames();
    vad.flush(&mut out);
    let speech_frames = out.frames.iter().filter(|f| f.is_speech).count() as u64;
    Ok(VadSummary {
        is_speech: !out.segments.is_empty(),
        speech_frames,
        total_frames,
        segments: out.segments,
        frames: out.frames,
    })
}

/// Averages planar channels (`channels[c][i]`) into `out` (same length as
/// each channel). Non-finite samples count as 0.0.
pub fn mix_planar_to_mono(channels: &[&[f32]], out: &mut [f32]) -> Result<(), VadError> {
    if channels.is_empty() {
        return Err(VadError::ChannelMismatch("no channels".into()));
    }
    if let Some(c) = channels.iter().position(|c| c.len() != out.len()) {
        return Err(VadError::ChannelMismatch(format!(
            "channel {c} has {} samples, output has {}",
            channels[c].len(),
            out.len()
        )));
    }
    let scale = 1.0 / channels.len() as f32;
    out.fill(0.0);
    for ch in channels {
        for (o, &s) in out.iter_mut().zip(ch.iter()) {
            if s.is_finite() {
                *o += s;
            }
        }
    }
    for o in out.iter_mut() {
        *o *= scale;
    }
    Ok(())
}

/// Averages interleaved frames of `channels` samples into `out`
/// (`out.len() × channels == interleaved.len()`). Non-finite samples count as 0.0.
pub fn mix_interleaved_to_mono(interleaved: &[f32], channels: usize, out: &mut [f32]) -> Result<(), VadError> {
    if channels == 0 || interleaved.len() != out.len() * channels {
        return Err(VadError::ChannelMismatch(format!(
            "{} interleaved samples for {channels} channels and {} output samples",
            interleaved.len(),
            out.len()
        )));
    }
    let scale = 1.0 / channels as f32;
    for (o, frame) in out.iter_mut().zip(interleaved.chunks_exact(channels)) {
        *o = frame.iter().filter(|s| s.is_finite()).sum::<f32>() * scale;
    }
    Ok(())
}
