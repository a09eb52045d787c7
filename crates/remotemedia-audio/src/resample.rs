//! Sample-rate conversion kernels.
//!
//! [`Resampler`] converts planar `f32` audio between any two integer sample rates whose
//! ratio reduces to at most [`MAX_PHASES`] polyphase branches (all pairs of 8, 11.025, 16,
//! 22.05, 24, 32, 44.1, 48 and 96 kHz qualify). It is a polyphase FIR with a Kaiser-windowed
//! sinc prototype, evaluated directly at every output instant, so:
//!
//! - the output is **delay-compensated**: output frame `n` is centred on input time
//!   `n * in_rate / out_rate`, as if the filter had no latency;
//! - a stream of `N` input frames yields exactly `round(N * out_rate / in_rate)` output frames
//!   (ties round up) once [`Resampler::flush_into`] has been called;
//! - feeding the input in chunks of **any** size gives the same samples, bit for bit, as one
//!   call on the whole buffer: every output frame is computed by the same code from the same
//!   input window, whatever the chunking.
//!
//! Signal before the first frame and after the last one is taken as silence.
//!
//! # Why an own kernel instead of rubato
//!
//! A direct polyphase FIR gives exact streaming equality for any chunk size, no output shift
//! and no allocation or FFT-size constraint per call; rubato's sinc resamplers shift the
//! output by one input sample, and its `Fft` resampler needs FFT-friendly chunk sizes and a
//! non-default configuration to be both fast and clean at 3:1 (see `BENCHMARKS.md`).
//! It is also faster: in three runs of `bench/resample/compare.py` (2-core Xeon, AVX2/FMA,
//! shared with two other builds, so absolute times are inflated), one second of
//! 48 kHz -> 16 kHz mono at [`Quality::High`] took 0.18-0.24 ms, 0.54-0.88x the time of
//! rubato 5.1's `Fft` (chunk 960, one sub-chunk) in the same binary and 0.58-0.94x that of
//! python-soxr HQ in the same runs; streamed in 20 ms chunks it took 4.1-5.8 us per chunk,
//! 0.39-0.58x of `soxr.ResampleStream` HQ (which includes the Python call).
//!
//! Kernels are chosen at run time. On CPUs with AVX2 and FMA, integer decimation
//! (48 -> 16, 96 -> 48 kHz, ...) and integer interpolation (16 -> 48, 8 -> 16 kHz, ...) use a
//! tiled kernel (`tile_avx2`) that computes 40 outputs per pass and reuses every loaded
//! input vector for four coefficients; other ratios (44.1 <-> 48 kHz, ...) use a
//! four-outputs-per-pass dot product (`dot4_avx2`). Without AVX2/FMA a portable version of
//! the dot product (auto-vectorised for the build target) serves every ratio.
//!
//! # Filter figures
//!
//! Band edges are fractions of the lower of the two Nyquist frequencies
//! (`min(in_rate, out_rate) / 2`). Figures measured with `resample_quality.py` at
//! 48 kHz -> 16 kHz (see [`Quality`]).
//!
//! The stop band starts slightly above the lower Nyquist frequency (at 1.0625x, for every
//! quality), as soxr allows with `stopband_begin > 1`: input between 8.0 and 8.5 kHz (for a
//! 16 kHz output) is only partly attenuated and folds into 7.5-8.0 kHz, above the pass band.
//! This makes the `High` filter 1.6x shorter than one that stops at exactly 8 kHz; everything
//! from 8.5 kHz up gets the full stop-band attenuation.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

/// Largest number of polyphase branches (the reduced output-rate factor) a [`Resampler`]
/// accepts. 44.1 kHz <-> 48 kHz needs 160, 11.025 kHz -> 96 kHz needs 1280.
pub const MAX_PHASES: u32 = 2048;

/// Largest coefficient table (branches x taps) a [`Resampler`] builds, in `f32` values
/// (16 MiB). Ratios that would need more are rejected with
/// [`ResampleError::UnsupportedRatio`].
pub const MAX_TABLE_LEN: usize = 4 << 20;

/// Resampling quality: the anti-alias filter's pass band, transition width and stop-band
/// attenuation. Longer filters cost proportionally more CPU.
///
/// Figures measured with `resample_quality.py` for 48 kHz -> 16 kHz (`bench/resample/quality.sh`;
/// worst alias over 8.5-23.5 kHz, SNR against the ideal output on 0-6 kHz noise, the -0.1 dB
/// and -3 dB points; the output delay is 0.000 samples for all three):
///
/// | quality | taps (48->16) | worst alias | broadband SNR | -0.1 dB | -3 dB |
/// |---|---|---|---|---|---|
/// | `Low` | 96 | -74.7 dB | 81.0 dB | 6.51 kHz | 7.14 kHz |
/// | `Medium` | 288 | -117.9 dB | 127.5 dB | 7.46 kHz | 7.75 kHz |
/// | `High` | 384 | -142.5 dB | 142.6 dB | 7.55 kHz | 7.81 kHz |
///
/// For reference, soxr HQ measures about -138 dB / 135 dB, flat to 7.45 kHz, with the same tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Quality {
    /// Pass band to 0.78 x Nyquist, stop band from 1.0625 x Nyquist at 70 dB: cheap, for
    /// previews and speech-only analysis.
    Low,
    /// Pass band to 0.9 x Nyquist, stop band from 1.0625 x Nyquist at 115 dB.
    Medium,
    /// Pass band to 0.9 x Nyquist, stop band from 1.0625 x Nyquist at 140 dB (designed; the
    /// rounded-up filter length gives more): at least as clean as soxr HQ (alias <= -130 dB,
    /// flat within 0.1 dB to 7.4 kHz at 16 kHz out, SNR >= 120 dB).
    #[default]
    High,
}

impl Quality {
    /// The canonical lowercase name: `"low"`, `"medium"` or `"high"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Low => "low",
            Quality::Medium => "medium",
            Quality::High => "high",
        }
    }

    /// Filter specification: (pass-band edge, stop-band edge, stop-band attenuation in dB),
    /// edges as fractions of the lower Nyquist frequency.
    fn spec(self) -> FilterSpec {
        match self {
            Quality::Low => FilterSpec {
                pass: 0.78,
                stop: 1.0625,
                atten_db: 70.0,
            },
            Quality::Medium => FilterSpec {
                pass: 0.90,
                stop: 1.0625,
                atten_db: 115.0,
            },
            Quality::High => FilterSpec {
                pass: 0.91,
                stop: 1.0625,
                atten_db: 145.0,
            },
        }
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Quality {
    type Err = ResampleError;

    /// Parses `"low"`, `"medium"` or `"high"` (ASCII case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Quality::Low),
            "medium" => Ok(Quality::Medium),
            "high" => Ok(Quality::High),
            _ => Err(ResampleError::UnknownQuality(s.to_owned())),
        }
    }
}

/// Errors of the resampler. Construction errors (`ZeroRate`, `UnsupportedRatio`,
/// `ZeroChannels`, `UnknownQuality`) mean bad parameters; the others mean a call was given
/// buffers of the wrong shape. None leaves the resampler in an inconsistent state: a call
/// that fails has consumed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResampleError {
    /// A sample rate of zero was given.
    #[error("sample rates must be positive, got {in_rate} Hz -> {out_rate} Hz")]
    ZeroRate {
        /// Input sample rate in Hz.
        in_rate: u32,
        /// Output sample rate in Hz.
        out_rate: u32,
    },
    /// The rate ratio does not reduce to a small enough fraction (more than [`MAX_PHASES`]
    /// polyphase branches or a table larger than [`MAX_TABLE_LEN`]).
    #[error(
        "unsupported rate ratio {in_rate} Hz -> {out_rate} Hz: it reduces to {out_factor}/{in_factor}, \
         more than {MAX_PHASES} phases or too large a filter table"
    )]
    UnsupportedRatio {
        /// Input sample rate in Hz.
        in_rate: u32,
        /// Output sample rate in Hz.
        out_rate: u32,
        /// Reduced output factor (number of polyphase branches).
        out_factor: u32,
        /// Reduced input factor (input frames advanced per `out_factor` output frames).
        in_factor: u32,
    },
    /// Zero channels were requested or given.
    #[error("channel count must be at least 1")]
    ZeroChannels,
    /// A quality name other than `low`, `medium` or `high`.
    #[error("unknown resampling quality {0:?}: expected one of \"low\", \"medium\", \"high\"")]
    UnknownQuality(String),
    /// The number of input or output channel slices differs from the resampler's channels.
    #[error("expected {expected} {side} channel slices, got {got}")]
    ChannelMismatch {
        /// `"input"` or `"output"`.
        side: &'static str,
        /// Channels the resampler was built for.
        expected: usize,
        /// Slices given.
        got: usize,
    },
    /// Planar input channels have different lengths.
    #[error("input channel {channel} has {got} frames, channel 0 has {expected}")]
    UnequalLengths {
        /// Index of the first channel whose length differs.
        channel: usize,
        /// Length of channel 0.
        expected: usize,
        /// Length of the offending channel.
        got: usize,
    },
    /// An output channel slice is shorter than the frames this call produces.
    #[error("output channel {channel} holds {got} frames, this call produces {needed}")]
    OutputTooSmall {
        /// Index of the first channel that is too short.
        channel: usize,
        /// Frames the call writes.
        needed: usize,
        /// Length of the offending slice.
        got: usize,
    },
}

#[derive(Debug, Clone, Copy)]
struct FilterSpec {
    pass: f64,
    stop: f64,
    atten_db: f64,
}

/// Taps are computed in groups of this many lanes (two 8-wide vectors).
const TAP_BLOCK: usize = 16;

/// A streaming, delay-compensated polyphase resampler for planar `f32` audio.
///
/// ```
/// use remotemedia_audio::resample::{Quality, Resampler};
///
/// let mut rs = Resampler::new(48_000, 16_000, 1, Quality::High)?;
/// let input = vec![0.25_f32; 960]; // one 20 ms chunk
/// let mut out = vec![0.0_f32; rs.output_frames_max(input.len())];
/// let mut written = rs.process_into(&[&input], &mut [&mut out])?;
/// written += rs.flush_into(&mut [&mut out[written..]])?;
/// assert_eq!(written, 320);
/// # Ok::<(), remotemedia_audio::resample::ResampleError>(())
/// ```
///
/// Cloning is cheap and shares the filter table (which can reach a few hundred KiB for
/// ratios such as 44.1 <-> 48 kHz): build one resampler per configuration and clone it for
/// every stream. A clone starts with the original's stream state; call
/// [`reset`](Self::reset) to start a new stream.
#[derive(Clone)]
pub struct Resampler {
    in_rate: u32,
    out_rate: u32,
    channels: usize,
    quality: Quality,
    /// Reduced output factor: number of polyphase branches.
    up: u64,
    /// Reduced input factor.
    down: u64,
    /// Taps per branch (multiple of [`TAP_BLOCK`]); 0 for a same-rate copy.
    taps: usize,
    /// `up` branches of `taps` coefficients, shared by clones.
    table: Arc<Table>,
    /// Per channel, the last `taps` input frames before `consumed` (zeros before the start).
    history: Vec<f32>,
    /// `2 * taps` frames: history followed by the head of the current input (or silence).
    scratch: Vec<f32>,
    /// Deinterleaved input (or zero-padded input block) for the tiled kernels (empty when it is not used).
    deint: Vec<f32>,
    /// Input frames consumed since the start of the stream.
    consumed: u64,
    /// Index of the next output frame to produce.
    produced: u64,
    kernel: Kernel,
}

impl fmt::Debug for Resampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resampler")
            .field("in_rate", &self.in_rate)
            .field("out_rate", &self.out_rate)
            .field("channels", &self.channels)
            .field("quality", &self.quality)
            .field("taps", &self.taps)
            .field("phases", &self.up)
            .field("consumed", &self.consumed)
            .field("produced", &self.produced)
            .finish()
    }
}

impl Resampler {
    /// Builds a resampler from `in_rate` Hz to `out_rate` Hz for `channels` planar channels.
    ///
    /// The filter table is designed once per `(ratio, quality)` and shared through a small
    /// process-wide cache (the last 16 configurations), so building a resampler per stream
    /// or per clip is cheap after the first; the other allocations are `channels x taps`
    /// frames of history and fixed scratch buffers. Equal rates give a plain copy with no
    /// latency.
    ///
    /// # Errors
    /// [`ResampleError::ZeroRate`], [`ResampleError::ZeroChannels`], or
    /// [`ResampleError::UnsupportedRatio`] when the reduced ratio needs more than
    /// [`MAX_PHASES`] branches or a table above [`MAX_TABLE_LEN`] coefficients.
    pub fn new(in_rate: u32, out_rate: u32, channels: usize, quality: Quality) -> Result<Self, ResampleError> {
        if in_rate == 0 || out_rate == 0 {
            return Err(ResampleError::ZeroRate { in_rate, out_rate });
        }
        if channels == 0 {
            return Err(ResampleError::ZeroChannels);
        }
        let g = gcd(in_rate, out_rate);
        let (up, down) = (out_rate / g, in_rate / g);
        let unsupported = ResampleError::UnsupportedRatio {
            in_rate,
            out_rate,
            out_factor: up,
            in_factor: down,
        };
        if up > MAX_PHASES {
            return Err(unsupported);
        }
        let taps = if up == down {
            0
        } else {
            taps_for(quality.spec(), in_rate, out_rate, up, down)
        };
        if taps.checked_mul(up as usize).is_none_or(|n| n > MAX_TABLE_LEN) {
            return Err(unsupported);
        }
        let table = shared_table(quality, in_rate, out_rate, up, down, taps);
        let kernel = Kernel::detect();
        let shape = Shape::new(u64::from(up), u64::from(down), taps, kernel);
        Ok(Self {
            in_rate,
            out_rate,
            channels,
            quality,
            up: u64::from(up),
            down: u64::from(down),
            taps,
            table,
            history: vec![0.0; channels * taps],
            scratch: vec![0.0; 2 * taps],
            deint: vec![0.0; if shape.tiled { shape.deint_len() } else { 0 }],
            consumed: 0,
            produced: 0,
            kernel,
        })
    }

    /// Input sample rate in Hz.
    pub fn in_rate(&self) -> u32 {
        self.in_rate
    }

    /// Output sample rate in Hz.
    pub fn out_rate(&self) -> u32 {
        self.out_rate
    }

    /// Number of planar channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The quality the filter was designed for.
    pub fn quality(&self) -> Quality {
        self.quality
    }

    /// Filter taps per output frame (per polyphase branch); 0 for equal rates.
    pub fn taps(&self) -> usize {
        self.taps
    }

    /// Latency of the stream in output frames: at most this many output frames are held
    /// back after any call to [`process_into`](Self::process_into) (they come out with later
    /// input or with [`flush_into`](Self::flush_into)). 0 for equal rates.
    pub fn output_delay(&self) -> usize {
        if self.taps == 0 {
            return 0;
        }
        // Held back = round(C*up/down) - ceil((C - taps/2)*up/down) <= taps/2*up/down + 1/2.
        let half = self.taps as u64 / 2;
        ((2 * half * self.up + self.down) / (2 * self.down)) as usize
    }

    /// Upper bound on the frames one [`process_into`](Self::process_into) call with
    /// `input_frames` frames per channel writes; also enough for
    /// [`flush_into`](Self::flush_into). Size output buffers with it.
    pub fn output_frames_max(&self, input_frames: usize) -> usize {
        if self.taps == 0 {
            return input_frames;
        }
        let n = input_frames as u64;
        (n * self.up).div_ceil(self.down) as usize + self.output_delay() + 2
    }

    /// Clears the stream: history becomes silence and frame counters restart at zero.
    /// Allocates nothing.
    pub fn reset(&mut self) {
        self.history.fill(0.0);
        self.consumed = 0;
        self.produced = 0;
    }

    /// Resamples one chunk of planar input (`input[c]` is channel `c`, all the same length)
    /// into `output` (one slice per channel, each at least as long as the frames produced:
    /// [`output_frames_max`](Self::output_frames_max) is always enough). Returns the frames
    /// written per channel, which may be fewer than the chunk's share while the filter
    /// fills up; the rest arrives with later chunks or [`flush_into`](Self::flush_into).
    ///
    /// Any chunking of a stream, including empty and one-frame chunks, gives exactly the
    /// samples of one call on the whole stream. No allocation.
    ///
    /// # Errors
    /// [`ResampleError::ChannelMismatch`], [`ResampleError::UnequalLengths`] or
    /// [`ResampleError::OutputTooSmall`]; nothing is consumed then.
    pub fn process_into(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> Result<usize, ResampleError> {
        let frames = self.check_input(input)?;
        self.check_channels("output", output.len())?;
        if self.taps == 0 {
            check_output(output, frames)?;
            for (out, inp) in output.iter_mut().zip(input) {
                out[..frames].copy_from_slice(inp);
            }
            self.consumed += frames as u64;
            self.produced += frames as u64;
            return Ok(frames);
        }
        let end_consumed = self.consumed + frames as u64;
        let ready = self.ready_outputs(end_consumed);
        let count = (ready - self.produced) as usize;
        check_output(output, count)?;
        // Outputs whose window starts before the new input read from `scratch`
        // (history + input head); the others read the input slice directly.
        let split = self
            .first_output_reading_from(self.consumed)
            .clamp(self.produced, ready);
        let head_len = frames.min(self.taps);
        let (shape, kernel) = (self.shape(), self.kernel);
        let scratch_start = self.consumed as i64 - self.taps as i64;
        let table = &*self.table;
        for c in 0..self.channels {
            let inp = input[c];
            let out = &mut output[c][..count];
            let hist = &mut self.history[c * self.taps..(c + 1) * self.taps];
            let (head_out, body_out) = out.split_at_mut((split - self.produced) as usize);
            self.scratch[..self.taps].copy_from_slice(hist);
            self.scratch[self.taps..self.taps + head_len].copy_from_slice(&inp[..head_len]);
            self.scratch[self.taps + head_len..].fill(0.0);
            shape.run(
                kernel,
                table,
                &self.scratch,
                scratch_start,
                self.produced,
                head_out,
                &mut self.deint,
            );
            shape.run(
                kernel,
                table,
                inp,
                self.consumed as i64,
                split,
                body_out,
                &mut self.deint,
            );
            if frames >= self.taps {
                hist.copy_from_slice(&inp[frames - self.taps..]);
            } else {
                hist.copy_from_slice(&self.scratch[frames..frames + self.taps]);
            }
        }
        self.consumed = end_consumed;
        self.produced = ready;
        Ok(count)
    }

    /// Ends the stream: writes the held-back tail (input after the end taken as silence) so
    /// that the stream's total output is exactly `round(total_in * out_rate / in_rate)` frames,
    /// then [`reset`](Self::reset)s for a new stream. Returns the frames written per channel
    /// (at most [`output_delay`](Self::output_delay) + 1). No allocation.
    ///
    /// # Errors
    /// [`ResampleError::ChannelMismatch`] or [`ResampleError::OutputTooSmall`]; the stream is
    /// left untouched then.
    pub fn flush_into(&mut self, output: &mut [&mut [f32]]) -> Result<usize, ResampleError> {
        self.check_channels("output", output.len())?;
        if self.taps == 0 {
            self.reset();
            return Ok(0);
        }
        let total = self.total_outputs(self.consumed);
        let count = (total - self.produced) as usize;
        check_output(output, count)?;
        let scratch_start = self.consumed as i64 - self.taps as i64;
        let (shape, kernel, table) = (self.shape(), self.kernel, &*self.table);
        for (c, out) in output.iter_mut().enumerate() {
            self.scratch[..self.taps].copy_from_slice(&self.history[c * self.taps..(c + 1) * self.taps]);
            self.scratch[self.taps..].fill(0.0);
            shape.run(
                kernel,
                table,
                &self.scratch,
                scratch_start,
                self.produced,
                &mut out[..count],
                &mut self.deint,
            );
        }
        self.reset();
        Ok(count)
    }

    fn shape(&self) -> Shape {
        Shape::new(self.up, self.down, self.taps, self.kernel)
    }

    fn check_channels(&self, side: &'static str, got: usize) -> Result<(), ResampleError> {
        if got == self.channels {
            Ok(())
        } else {
            Err(ResampleError::ChannelMismatch {
                side,
                expected: self.channels,
                got,
            })
        }
    }

    fn check_input(&self, input: &[&[f32]]) -> Result<usize, ResampleError> {
        self.check_channels("input", input.len())?;
        let frames = input[0].len();
        if let Some((channel, ch)) = input.iter().enumerate().find(|(_, c)| c.len() != frames) {
            return Err(ResampleError::UnequalLengths {
                channel,
                expected: frames,
                got: ch.len(),
            });
        }
        Ok(frames)
    }

    /// `round(consumed * up / down)`, ties up: the stream's total output length.
    fn total_outputs(&self, consumed: u64) -> u64 {
        ((2 * u128::from(consumed) * u128::from(self.up) + u128::from(self.down)) / (2 * u128::from(self.down))) as u64
    }

    /// Number of outputs computable from `consumed` input frames (their whole window is
    /// known), capped by the stream's total so far.
    fn ready_outputs(&self, consumed: u64) -> u64 {
        let half = self.taps as u64 / 2;
        let complete = if consumed > half {
            (u128::from(consumed - half) * u128::from(self.up)).div_ceil(u128::from(self.down)) as u64
        } else {
            0
        };
        complete.min(self.total_outputs(consumed))
    }

    /// First output index whose window starts at or after input frame `pos`.
    fn first_output_reading_from(&self, pos: u64) -> u64 {
        let half = self.taps as u64 / 2;
        // window start = floor(n*down/up) - (half - 1) >= pos
        (u128::from(pos + half - 1) * u128::from(self.up)).div_ceil(u128::from(self.down)) as u64
    }
}

/// The geometry of the polyphase filter, separated from the buffers so it can be borrowed
/// alongside them.
#[derive(Clone, Copy)]
struct Shape {
    up: u64,
    down: u64,
    taps: usize,
    /// Integer decimation or interpolation (`up == 1` or `down == 1`) on AVX2/FMA: use the
    /// tiled kernel.
    tiled: bool,
}

/// Outputs per tile of the tiled kernels (five 8-lane vectors).
const TILE: usize = 40;
/// Outputs per input block of the tiled kernels.
const TILED_BLOCK: usize = 24 * TILE;
/// Taps per branch phase of the tiled kernels come in multiples of this (8 lanes x 4
/// coefficients held in registers).
const TILE_TAPS: usize = 32;

impl Shape {
    fn new(up: u64, down: u64, taps: usize, kernel: Kernel) -> Self {
        Self {
            up,
            down,
            taps,
            tiled: (up == 1 || down == 1) && taps > 0 && kernel.has_tiled(),
        }
    }

    /// Length of the deinterleave buffer of the tiled kernels.
    fn deint_len(self) -> usize {
        let m = self.down as usize;
        if self.up == 1 {
            m * (TILED_BLOCK + self.taps / m)
        } else {
            TILED_BLOCK + self.taps
        }
    }

    /// Integer interpolation by `up` with the tiled kernel: outputs of one branch at
    /// consecutive input positions have windows one frame apart, so each branch is a plain
    /// FIR over a zero-padded copy of the input block, computed [`TILE`] outputs at a time.
    fn run_tiled_up(self, coefs: &[f32], src: &[f32], src_start: i64, first: u64, out: &mut [f32], deint: &mut [f32]) {
        let up = self.up;
        let taps = self.taps;
        let lead = taps as i64 / 2 - 1;
        let end = first + out.len() as u64;
        let last_base = (end - 1) / up;
        let mut k0 = first / up;
        while k0 <= last_base {
            let kb = (TILED_BLOCK as u64).min(last_base - k0 + 1) as usize;
            let s0 = (k0 as i64 - lead - src_start) as usize;
            let span = kb.next_multiple_of(TILE) + taps;
            deinterleave::<1>(src, s0, span, span, deint);
            for (p, coef) in coefs.chunks_exact(taps).enumerate() {
                for j0 in (0..kb).step_by(TILE) {
                    let y = tile(coef, 1, &deint[..span], span, j0);
                    for (j, v) in y.iter().enumerate().take(kb - j0) {
                        let n = (k0 + (j0 + j) as u64) * up + p as u64;
                        if (first..end).contains(&n) {
                            out[(n - first) as usize] = *v;
                        }
                    }
                }
            }
            k0 += kb as u64;
        }
    }

    /// Integer decimation by `m = down` with the tiled kernel: each block of outputs has
    /// its input windows deinterleaved into `m` phase streams, so that eight consecutive
    /// outputs read eight consecutive values of a stream and one loaded vector serves four
    /// coefficients. Every output lane accumulates its taps in the same fixed order whatever
    /// the block or tile it falls in, so results do not depend on chunking.
    fn run_tiled(self, poly: &[f32], src: &[f32], src_start: i64, first: u64, out: &mut [f32], deint: &mut [f32]) {
        let m = self.down as usize;
        let a_len = self.taps / m;
        let stride = TILED_BLOCK + a_len;
        let lead = self.taps as i64 / 2 - 1;
        for (b, block) in out.chunks_mut(TILED_BLOCK).enumerate() {
            let n0 = first + (b * TILED_BLOCK) as u64;
            let s0 = (n0 as i64 * m as i64 - lead - src_start) as usize;
            let span = block.len().next_multiple_of(TILE) + a_len;
            match m {
                2 => deinterleave::<2>(src, s0, span, stride, deint),
                3 => deinterleave::<3>(src, s0, span, stride, deint),
                4 => deinterleave::<4>(src, s0, span, stride, deint),
                _ => deinterleave_any(src, s0, m, span, stride, deint),
            }
            for (t, tile_out) in block.chunks_mut(TILE).enumerate() {
                let y = tile(poly, m, deint, stride, t * TILE);
                tile_out.copy_from_slice(&y[..tile_out.len()]);
            }
        }
    }

    /// Computes outputs `first .. first + out.len()` into `out`, reading windows from `src`,
    /// whose element 0 is input frame `src_start` of the stream. Outputs sharing a branch
    /// (indices `up` apart, windows `down` apart) are computed four at a time.
    #[allow(clippy::too_many_arguments)]
    fn run(
        self,
        kernel: Kernel,
        table: &Table,
        src: &[f32],
        src_start: i64,
        first: u64,
        out: &mut [f32],
        deint: &mut [f32],
    ) {
        let count = out.len();
        if count == 0 {
            return;
        }
        if self.tiled {
            return if self.up == 1 {
                self.run_tiled(table.poly(), src, src_start, first, out, deint)
            } else {
                self.run_tiled_up(table.coefficients(), src, src_start, first, out, deint)
            };
        }
        let table = table.coefficients();
        let up = self.up as usize;
        let down = self.down as usize;
        let pos = u128::from(first) * u128::from(self.down);
        let mut base = (pos / u128::from(self.up)) as i64;
        let mut phase = (pos % u128::from(self.up)) as usize;
        let (step_base, step_phase) = ((down / up) as i64, down % up);
        let lead = self.taps as i64 / 2 - 1;
        for r in 0..up.min(count) {
            let coef = &table[phase * self.taps..(phase + 1) * self.taps];
            let mut off = (base - lead - src_start) as usize;
            let mut j = r;
            while j < count {
                let lanes = (count - j).div_ceil(up).min(4);
                let mut offs = [off; 4];
                for (l, o) in offs.iter_mut().enumerate().take(lanes) {
                    *o = off + l * down;
                }
                let y = kernel.dot4(coef, src, offs);
                for (l, v) in y.iter().enumerate().take(lanes) {
                    out[j + l * up] = *v;
                }
                j += 4 * up;
                off += 4 * down;
            }
            phase += step_phase;
            base += step_base;
            if phase >= up {
                phase -= up;
                base += 1;
            }
        }
    }
}

/// Splits `src[start..]` into `M` phase streams, `deint[p * stride + k] = src[start + M * k + p]`
/// for `k < span`, with silence past the end of `src`.
fn deinterleave<const M: usize>(src: &[f32], start: usize, span: usize, stride: usize, deint: &mut [f32]) {
    let rest = src.get(start..).unwrap_or(&[]);
    let whole = (rest.len() / M).min(span);
    let (streams, _) = deint.split_at_mut(M * stride);
    let mut rows: [&mut [f32]; M] = [(); M].map(|_| &mut [][..]);
    for (row, chunk) in rows.iter_mut().zip(streams.chunks_exact_mut(stride)) {
        *row = &mut chunk[..span];
    }
    for (k, frame) in rest.chunks_exact(M).take(whole).enumerate() {
        for (row, &x) in rows.iter_mut().zip(frame) {
            row[k] = x;
        }
    }
    for (p, row) in rows.iter_mut().enumerate() {
        for (k, v) in row.iter_mut().enumerate().skip(whole) {
            *v = rest.get(M * k + p).copied().unwrap_or(0.0);
        }
    }
}

/// [`deinterleave`] for a run-time number of phases.
fn deinterleave_any(src: &[f32], start: usize, m: usize, span: usize, stride: usize, deint: &mut [f32]) {
    let rest = src.get(start..).unwrap_or(&[]);
    for p in 0..m {
        for (k, v) in deint[p * stride..p * stride + span].iter_mut().enumerate() {
            *v = rest.get(m * k + p).copied().unwrap_or(0.0);
        }
    }
}

/// The run-time selected dot-product kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    /// Portable Rust, auto-vectorised for the build target.
    Portable,
    /// AVX2 + FMA, chosen when the CPU has both.
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
}

impl Kernel {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return Kernel::Avx2Fma;
        }
        Kernel::Portable
    }

    /// Whether the tiled integer decimator is available.
    fn has_tiled(self) -> bool {
        match self {
            Kernel::Portable => false,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma => true,
        }
    }

    /// Four dot products of `coef` with `src[offs[i]..offs[i] + coef.len()]`.
    ///
    /// Panics if a window runs past `src` or `coef.len()` is not a multiple of
    /// [`TAP_BLOCK`] (internal invariants, never user input).
    #[inline]
    fn dot4(self, coef: &[f32], src: &[f32], offs: [usize; 4]) -> [f32; 4] {
        let k = coef.len();
        assert!(k.is_multiple_of(TAP_BLOCK) && offs.iter().all(|&o| o + k <= src.len()));
        match self {
            Kernel::Portable => dot4_portable(coef, src, offs),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Avx2Fma` is only chosen after detecting AVX2 and FMA on this CPU, and
            // the windows were bounds-checked above.
            Kernel::Avx2Fma => unsafe { dot4_avx2(coef, src, offs) },
        }
    }
}

fn dot4_portable(coef: &[f32], src: &[f32], offs: [usize; 4]) -> [f32; 4] {
    let k = coef.len();
    let mut acc = [[0.0f32; TAP_BLOCK]; 4];
    for (a, &o) in acc.iter_mut().zip(&offs) {
        let x = &src[o..o + k];
        for (cb, xb) in coef.chunks_exact(TAP_BLOCK).zip(x.chunks_exact(TAP_BLOCK)) {
            for l in 0..TAP_BLOCK {
                a[l] += cb[l] * xb[l];
            }
        }
    }
    acc.map(|a| {
        let mut v = [0.0f32; 8];
        for l in 0..8 {
            v[l] = a[l] + a[l + 8];
        }
        let s4 = [v[0] + v[4], v[1] + v[5], v[2] + v[6], v[3] + v[7]];
        (s4[0] + s4[2]) + (s4[1] + s4[3])
    })
}

/// AVX2/FMA version of [`dot4_portable`]: two 8-lane accumulators per output, eight
/// independent FMA chains, one coefficient load shared by four windows. It is bound by
/// loads (ten per sixteen taps of four outputs, half of the input loads split across cache
/// lines): on 48 -> 16 kHz `High` it measured 0.29 ms per second of audio with 352 taps,
/// where the tiled decimator ([`tile_avx2`]) measured 0.21 ms with 384 taps in consecutive
/// runs of `compare.py`, 1.5x faster per tap.
///
/// # Safety
/// The CPU must support AVX2 and FMA, `coef.len()` must be a multiple of 16 and every
/// window `src[o..o + coef.len()]` must be in bounds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot4_avx2(coef: &[f32], src: &[f32], offs: [usize; 4]) -> [f32; 4] {
    use std::arch::x86_64::*;
    let k = coef.len();
    let c = coef.as_ptr();
    // SAFETY: the caller guarantees `o + k <= src.len()` for every offset.
    let p = offs.map(|o| unsafe { src.as_ptr().add(o) });
    let mut lo = [_mm256_setzero_ps(); 4];
    let mut hi = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i < k {
        // SAFETY: `i + 16 <= k`, so both 8-lane loads stay inside `coef` and inside each
        // window.
        unsafe {
            let c0 = _mm256_loadu_ps(c.add(i));
            let c1 = _mm256_loadu_ps(c.add(i + 8));
            for w in 0..4 {
                lo[w] = _mm256_fmadd_ps(c0, _mm256_loadu_ps(p[w].add(i)), lo[w]);
                hi[w] = _mm256_fmadd_ps(c1, _mm256_loadu_ps(p[w].add(i + 8)), hi[w]);
            }
        }
        i += TAP_BLOCK;
    }
    let mut out = [0.0f32; 4];
    for w in 0..4 {
        let v = _mm256_add_ps(lo[w], hi[w]);
        let s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        let s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
        out[w] = _mm_cvtss_f32(s1);
    }
    out
}

/// One tile of [`TILE`] outputs of the tiled kernels: output `j0 + j` is
/// `sum over p, a of poly[p * a_len + a] * deint[p * stride + j0 + j + a]`.
///
/// Panics if the reads would leave `poly` or `deint` (internal invariants).
#[cfg(target_arch = "x86_64")]
fn tile(poly: &[f32], m: usize, deint: &[f32], stride: usize, j0: usize) -> [f32; TILE] {
    let a_len = poly.len() / m;
    assert!(
        a_len.is_multiple_of(TILE_TAPS)
            && poly.len() == m * a_len
            && deint.len() >= (m - 1) * stride + j0 + a_len + TILE
    );
    // SAFETY: only reached when `Kernel::Avx2Fma` was detected (`Shape::tiled`), and the
    // bounds were checked above.
    unsafe { tile_avx2(poly, a_len, m, deint, stride, j0) }
}

#[cfg(not(target_arch = "x86_64"))]
fn tile(_: &[f32], _: usize, _: &[f32], _: usize, _: usize) -> [f32; TILE] {
    unreachable!("the tiled kernels are only selected on x86-64 with AVX2 and FMA")
}

/// AVX2/FMA kernel of [`tile`]. Ten accumulators (five output vectors, taps split
/// even/odd) hide the FMA latency; four broadcast coefficients reuse each loaded input
/// vector, so the loop is bound by FMA throughput rather than loads.
///
/// # Safety
/// AVX2 and FMA must be available, `a_len` a multiple of 32, `poly` at least `m * a_len`
/// long and `deint` at least `(m - 1) * stride + j0 + a_len + TILE` long.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_avx2(poly: &[f32], a_len: usize, m: usize, deint: &[f32], stride: usize, j0: usize) -> [f32; TILE] {
    use std::arch::x86_64::*;
    const V: usize = TILE / 8;
    let mut total = [_mm256_setzero_ps(); V];
    for p in 0..m {
        // SAFETY: offsets stay within the lengths the caller guarantees: coefficient reads
        // end at `p * a_len + a_len`, input reads at `p * stride + j0 + a_len + 39`.
        unsafe {
            let cp = poly.as_ptr().add(p * a_len);
            let dp = deint.as_ptr().add(p * stride + j0);
            let mut blk = 0;
            while blk < a_len {
                // Short partial sums per block of 32 taps keep the rounding error of long
                // filters at the level of a pairwise sum.
                let mut even = [_mm256_setzero_ps(); V];
                let mut odd = [_mm256_setzero_ps(); V];
                for u in 0..8 {
                    let a = blk + u;
                    let c = [
                        _mm256_broadcast_ss(&*cp.add(a)),
                        _mm256_broadcast_ss(&*cp.add(a + 8)),
                        _mm256_broadcast_ss(&*cp.add(a + 16)),
                        _mm256_broadcast_ss(&*cp.add(a + 24)),
                    ];
                    for w in 0..V + 3 {
                        let x = _mm256_loadu_ps(dp.add(a + 8 * w));
                        for (t, ct) in c.iter().enumerate() {
                            if w >= t && w - t < V {
                                let v = w - t;
                                if t % 2 == 0 {
                                    even[v] = _mm256_fmadd_ps(*ct, x, even[v]);
                                } else {
                                    odd[v] = _mm256_fmadd_ps(*ct, x, odd[v]);
                                }
                            }
                        }
                    }
                }
                for v in 0..V {
                    total[v] = _mm256_add_ps(total[v], _mm256_add_ps(even[v], odd[v]));
                }
                blk += TILE_TAPS;
            }
        }
    }
    let mut out = [0.0f32; TILE];
    for (v, t) in total.iter().enumerate() {
        // SAFETY: `out` has room for `V` vectors of 8 lanes.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(8 * v), *t) };
    }
    out
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Cutoff frequency, as a fraction of the input rate, and the Kaiser parameters.
fn cutoff(spec: FilterSpec, in_rate: u32, out_rate: u32) -> (f64, f64) {
    let nyquist = f64::from(in_rate.min(out_rate)) / 2.0;
    let centre = 0.5 * (spec.pass + spec.stop) * nyquist / f64::from(in_rate);
    let width = (spec.stop - spec.pass) * nyquist / f64::from(in_rate);
    (centre, width)
}

/// Taps per branch (in input frames) for a Kaiser window meeting `spec`, rounded up to a
/// multiple of [`TAP_BLOCK`] and long enough for the flush tail to fit in one window.
fn taps_for(spec: FilterSpec, in_rate: u32, out_rate: u32, up: u32, down: u32) -> usize {
    let (_, width) = cutoff(spec, in_rate, out_rate);
    let n = (spec.atten_db - 7.95) / (2.285 * 2.0 * std::f64::consts::PI * width) + 1.0;
    // The flush tail and the history must fit in one window: half a window spans more
    // than 1.5 output periods.
    let min_len = 4 * down.div_ceil(up) as usize + TAP_BLOCK;
    let taps = (n.ceil() as usize).max(min_len).next_multiple_of(TAP_BLOCK);
    if up == 1 {
        // The tiled decimator wants whole blocks of taps per input phase.
        taps.next_multiple_of(TILE_TAPS * down as usize)
    } else if down == 1 {
        taps.next_multiple_of(TILE_TAPS)
    } else {
        taps
    }
}

/// Kaiser's `beta` for a stop-band attenuation in dB.
pub(crate) fn kaiser_beta(atten_db: f64) -> f64 {
    if atten_db > 50.0 {
        0.1102 * (atten_db - 8.7)
    } else if atten_db >= 21.0 {
        0.5842 * (atten_db - 21.0).powf(0.4) + 0.07886 * (atten_db - 21.0)
    } else {
        0.0
    }
}

/// Number of designed tables kept for reuse by later [`Resampler::new`] calls.
const TABLE_CACHE_LEN: usize = 16;

/// Returns the table for `(up, down, quality)`, designing it only if none of the last
/// [`TABLE_CACHE_LEN`] configurations matches. The cache makes creating a resampler per
/// stream or per clip cost an `Arc` clone after the first, and lets concurrent streams share
/// one table. The filter depends on the rates only through their ratio.
fn shared_table(quality: Quality, in_rate: u32, out_rate: u32, up: u32, down: u32, taps: usize) -> Arc<Table> {
    type Cache = Vec<((u32, u32, Quality), Arc<Table>)>;
    static CACHE: Mutex<Cache> = Mutex::new(Vec::new());
    let key = (up, down, quality);
    let lookup = |cache: &Cache| cache.iter().find(|(k, _)| *k == key).map(|(_, t)| Arc::clone(t));
    if let Some(table) = lookup(&CACHE.lock().unwrap_or_else(PoisonError::into_inner)) {
        return table;
    }
    let table = Arc::new(Table::design(
        quality.spec(),
        in_rate,
        out_rate,
        up as usize,
        down as usize,
        taps,
    ));
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(existing) = lookup(&cache) {
        return existing;
    }
    if cache.len() == TABLE_CACHE_LEN {
        cache.remove(0);
    }
    cache.push((key, Arc::clone(&table)));
    table
}

/// The polyphase coefficient table, starting on a cache-line boundary so that the kernel's
/// 8-lane coefficient loads never straddle two lines.
struct Table {
    data: Vec<f32>,
    start: usize,
    len: usize,
    /// For integer decimation by `m` (one branch): the taps regrouped by input phase,
    /// `poly[p * taps / m + a] = branch[m * a + p]`. Empty otherwise.
    poly: Vec<f32>,
}

impl Table {
    /// Floats per 64-byte cache line.
    const LINE: usize = 16;

    fn coefficients(&self) -> &[f32] {
        &self.data[self.start..self.start + self.len]
    }

    fn poly(&self) -> &[f32] {
        &self.poly
    }

    /// Builds the `up x taps` table (empty for `taps == 0`). Branch `p` holds the taps for
    /// outputs whose position `n*down/up` has fractional part `p/up`; tap `i` weighs input
    /// frame `floor(n*down/up) - (taps/2 - 1) + i`, i.e. the kernel at distance
    /// `p/up + taps/2 - 1 - i` input frames. Each branch is normalised to unit DC gain.
    fn design(spec: FilterSpec, in_rate: u32, out_rate: u32, up: usize, down: usize, taps: usize) -> Self {
        let len = up * taps;
        let mut data = vec![0.0f32; len + Self::LINE];
        let misalign = data.as_ptr() as usize % 64 / std::mem::size_of::<f32>();
        let start = (Self::LINE - misalign) % Self::LINE;
        let mut poly = Vec::new();
        if taps > 0 {
            let table = &mut data[start..start + len];
            fill_table(spec, in_rate, out_rate, taps, table);
            if up == 1 && taps.is_multiple_of(TILE_TAPS * down) {
                let a_len = taps / down;
                poly = (0..taps).map(|k| table[down * (k % a_len) + k / a_len]).collect();
            }
        }
        Self { data, start, len, poly }
    }
}

fn fill_table(spec: FilterSpec, in_rate: u32, out_rate: u32, taps: usize, table: &mut [f32]) {
    let (fc, _) = cutoff(spec, in_rate, out_rate);
    let window = KaiserWindow::new(kaiser_beta(spec.atten_db));
    let half = (taps / 2) as f64;
    let up = table.len() / taps;
    let step = std::f64::consts::PI * 2.0 * fc;
    let (step_sin, step_cos) = step.sin_cos();
    let mut branch = vec![0.0f64; taps];
    for (p, row) in table.chunks_exact_mut(taps).enumerate() {
        let t0 = p as f64 / up as f64 + half - 1.0;
        // sin(pi * 2fc * t) along the branch by rotation: t falls by 1 per tap.
        let (mut sin, mut cos) = (step * t0).sin_cos();
        for (i, h) in branch.iter_mut().enumerate() {
            let t = t0 - i as f64;
            let r = t / half;
            let angle = step * t;
            let sinc = if angle == 0.0 { 1.0 } else { sin / angle };
            *h = if r.abs() >= 1.0 {
                0.0
            } else {
                2.0 * fc * sinc * window.at(r)
            };
            (sin, cos) = (sin * step_cos - cos * step_sin, cos * step_cos + sin * step_sin);
        }
        let dc: f64 = branch.iter().sum();
        for (c, h) in row.iter_mut().zip(&branch) {
            *c = (h / dc) as f32;
        }
    }
}

/// The Kaiser window `I0(beta * sqrt(1 - r^2)) / I0(beta)`, evaluated as a polynomial in
/// `1 - r^2` (the Bessel series) by Horner's rule: no square root, no division, and
/// independent evaluations overlap in the pipeline.
pub(crate) struct KaiserWindow {
    /// `(beta^2 / 4)^k / (k!)^2 / I0(beta)`, highest power first.
    coefficients: Vec<f64>,
}

impl KaiserWindow {
    /// The window for shape parameter `beta`.
    pub(crate) fn new(beta: f64) -> Self {
        let q = beta * beta / 4.0;
        let mut terms = vec![1.0f64];
        let mut k = 1.0f64;
        while terms.last().is_some_and(|&t| t > 1e-18) || terms.len() < 4 {
            let last = terms[terms.len() - 1];
            terms.push(last * q / (k * k));
            k += 1.0;
        }
        let i0_beta: f64 = terms.iter().rev().sum();
        let coefficients = terms.iter().rev().map(|t| t / i0_beta).collect();
        Self { coefficients }
    }

    /// The window at `r` in `[-1, 1]` (0 is the centre).
    pub(crate) fn at(&self, r: f64) -> f64 {
        let u = 1.0 - r * r;
        self.coefficients.iter().fold(0.0, |acc, &c| acc * u + c)
    }
}

fn check_output(output: &[&mut [f32]], needed: usize) -> Result<(), ResampleError> {
    match output.iter().enumerate().find(|(_, o)| o.len() < needed) {
        Some((channel, o)) => Err(ResampleError::OutputTooSmall {
            channel,
            needed,
            got: o.len(),
        }),
        None => Ok(()),
    }
}

/// Resamples a whole planar clip (`input[c]` is channel `c`) in one call: the output has
/// exactly `round(frames * out_rate / in_rate)` frames per channel, delay-compensated, and
/// equals what a streaming [`Resampler`] produces for the same clip.
///
/// # Errors
/// As [`Resampler::new`] (`ZeroChannels` for an empty `input`), and
/// [`ResampleError::UnequalLengths`] when channels differ in length.
pub fn resample(
    input: &[&[f32]],
    in_rate: u32,
    out_rate: u32,
    quality: Quality,
) -> Result<Vec<Vec<f32>>, ResampleError> {
    let mut rs = Resampler::new(in_rate, out_rate, input.len(), quality)?;
    let frames = rs.check_input(input)?;
    let total = rs.total_outputs(frames as u64) as usize;
    let mut out = vec![vec![0.0f32; total]; input.len()];
    let mut views: Vec<&mut [f32]> = out.iter_mut().map(Vec::as_mut_slice).collect();
    let n = rs.process_into(input, &mut views)?;
    let mut tails: Vec<&mut [f32]> = views.into_iter().map(|v| &mut v[n..]).collect();
    let m = rs.flush_into(&mut tails)?;
    debug_assert_eq!(n + m, total);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcd_reduces() {
        assert_eq!(gcd(48_000, 16_000), 16_000);
        assert_eq!(gcd(44_100, 48_000), 300);
    }

    #[test]
    fn kaiser_window_matches_bessel_reference() {
        // I0(10) = 2815.716628466254, I0(8) = 427.5641157218047.
        let w = KaiserWindow::new(10.0);
        assert!((w.at(0.0) - 1.0).abs() < 1e-15);
        assert!((w.at(1.0) - 1.0 / 2_815.716_628_466_254).abs() < 1e-15);
        assert!((w.at(0.6) - 427.564_115_721_804_7 / 2_815.716_628_466_254).abs() < 1e-14);
    }

    #[test]
    fn branches_have_unit_dc_gain() {
        let rs = Resampler::new(44_100, 48_000, 1, Quality::Medium).unwrap();
        for row in rs.table.coefficients().chunks_exact(rs.taps) {
            let s: f64 = row.iter().map(|&c| f64::from(c)).sum();
            assert!((s - 1.0).abs() < 1e-5, "dc {s}");
        }
    }

    #[test]
    fn portable_and_simd_kernels_agree() {
        let coef: Vec<f32> = (0..64).map(|i| ((i * 7) % 13) as f32 / 13.0 - 0.5).collect();
        let src: Vec<f32> = (0..200).map(|i| ((i * 11) % 17) as f32 / 17.0 - 0.5).collect();
        let offs = [0, 3, 50, 136];
        let a = dot4_portable(&coef, &src, offs);
        let b = Kernel::detect().dot4(&coef, &src, offs);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5);
        }
    }

    /// The portable kernel (CPUs without AVX2/FMA) streams bit-exactly too and agrees with
    /// the run-time selected one.
    #[test]
    fn portable_kernel_streams_exactly() {
        for (fi, fo) in [(48_000, 16_000), (44_100, 48_000)] {
            let x: Vec<f32> = (0..3_000).map(|i| ((i * 37 % 101) as f32 - 50.0) / 100.0).collect();
            let reference = resample(&[&x], fi, fo, Quality::High).unwrap().remove(0);
            let mut rs = Resampler::new(fi, fo, 1, Quality::High).unwrap();
            rs.kernel = Kernel::Portable;
            let mut whole = vec![0.0f32; rs.output_frames_max(x.len())];
            let n = rs.process_into(&[&x], &mut [&mut whole]).unwrap();
            let m = rs.flush_into(&mut [&mut whole[n..]]).unwrap();
            whole.truncate(n + m);
            let mut streamed = Vec::new();
            let mut buf = vec![0.0f32; rs.output_frames_max(7)];
            for piece in x.chunks(7) {
                let k = rs.process_into(&[piece], &mut [&mut buf]).unwrap();
                streamed.extend_from_slice(&buf[..k]);
            }
            let k = rs.flush_into(&mut [&mut buf]).unwrap();
            streamed.extend_from_slice(&buf[..k]);
            assert_eq!(streamed, whole);
            assert_eq!(whole.len(), reference.len());
            for (a, b) in whole.iter().zip(&reference) {
                assert!((a - b).abs() < 1e-6, "{fi}->{fo}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn output_delay_bounds_held_back_frames() {
        for (fi, fo) in [(48_000, 16_000), (16_000, 48_000), (44_100, 48_000)] {
            let rs = Resampler::new(fi, fo, 1, Quality::High).unwrap();
            for c in (0..5000u64).step_by(7) {
                let held = rs.total_outputs(c) - rs.ready_outputs(c);
                assert!(held as usize <= rs.output_delay(), "{fi}->{fo} at {c}");
            }
        }
    }
}
