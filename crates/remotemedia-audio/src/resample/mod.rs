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
//! non-default configuration (chunk 960, one sub-chunk) to be both fast and clean at 3:1.
//! Speed against rubato's `Fft` and python-soxr, measured in the same runs, is in the
//! README's Performance section (`bench/resample/compare.py` reproduces it).
//!
//! Kernels are chosen at run time. On CPUs with AVX2 and FMA, integer decimation
//! (48 -> 16, 96 -> 48 kHz, ...) and integer interpolation (16 -> 48, 8 -> 16 kHz, ...) use a
//! tiled kernel (`x86::tile`) that computes 40 outputs per pass and reuses every loaded
//! input vector for four coefficients; other ratios (44.1 <-> 48 kHz, ...) use a
//! four-outputs-per-pass dot product (`x86::dot4`). Without AVX2/FMA a portable version of
//! the dot product (auto-vectorised for the build target) serves every ratio. The AVX2
//! kernels take a `simd::Avx2Fma` token, which only CPU feature detection can produce.
//!
//! The module is split by concept: `quality`, `error` and `limits` (the public parameters,
//! errors and limits), `blocks` (how the kernels group taps and outputs), `design` (filter
//! length and Kaiser-windowed sinc table), `table` (the shared table cache), `shape` (which
//! outputs read which input windows), `kernel` (portable dot product and run-time
//! selection) and `x86` (the AVX2/FMA kernels).
//!
//! # Filter figures
//!
//! Band edges are fractions of the lower of the two Nyquist frequencies
//! (`min(in_rate, out_rate) / 2`). Figures measured at 48 kHz -> 16 kHz by
//! `bash bench/resample/quality.sh` (see [`Quality`]).
//!
//! The stop band starts slightly above the lower Nyquist frequency (at 1.0625x, for every
//! quality), as soxr allows with `stopband_begin > 1`: input between 8.0 and 8.5 kHz (for a
//! 16 kHz output) is only partly attenuated and folds into 7.5-8.0 kHz, above the pass band.
//! This makes the `High` filter 1.6x shorter than one that stops at exactly 8 kHz; everything
//! from 8.5 kHz up gets the full stop-band attenuation.

mod blocks;
mod design;
mod error;
mod kernel;
mod limits;
mod quality;
mod shape;
mod table;
#[cfg(target_arch = "x86_64")]
mod x86;

use std::fmt;
use std::sync::Arc;

pub(crate) use design::{KaiserWindow, kaiser_beta};
pub use error::ResampleError;
pub use limits::{MAX_PHASES, MAX_TABLE_LEN};
pub use quality::Quality;

use design::{gcd, taps_for};
use kernel::Kernel;
use shape::Shape;
use table::{Table, shared_table};

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
    /// Taps per branch (multiple of [`blocks::TAP_BLOCK`]); 0 for a same-rate copy.
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
            deint: vec![0.0; if shape.tiled.is_some() { shape.deint_len() } else { 0 }],
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
    fn branches_have_unit_dc_gain() {
        let rs = Resampler::new(44_100, 48_000, 1, Quality::Medium).unwrap();
        for row in rs.table.coefficients().chunks_exact(rs.taps) {
            let s: f64 = row.iter().map(|&c| f64::from(c)).sum();
            assert!((s - 1.0).abs() < 1e-5, "dc {s}");
        }
    }

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
