//! Sample-rate conversion kernels.
//!
//! [`Resampler`] converts planar `f32` audio between any two integer sample rates whose
//! ratio reduces to at most [`MAX_PHASES`] polyphase branches (all pairs of 8, 11.025, 16,
//! 22.05, 24, 32, 44.1, 48 and 96 kHz qualify). It runs one or more polyphase FIR stages
//! with Kaiser-windowed sinc prototypes, each evaluated directly at every output instant,
//! so:
//!
//! - the output is **delay-compensated**: output frame `n` is centred on input time
//!   `n * in_rate / out_rate`, as if the filters had no latency;
//! - a stream of `N` input frames yields exactly `round(N * out_rate / in_rate)` output frames
//!   (ties round up) once [`Resampler::flush_into`] has been called;
//! - feeding the input in chunks of **any** size gives the same samples, bit for bit, as one
//!   call on the whole buffer: every stage computes every output by the same code from the
//!   same input window, whatever the chunking.
//!
//! Signal before the first frame and after the last one is taken as silence.
//!
//! # Stages
//!
//! `plan` splits a conversion where that costs fewer operations: the sharp filtering moves
//! to a factor of two, where a half-band filter is zero at every other tap, and the
//! rational rest of the ratio goes to a stage with a wide transition band, so a short
//! filter and a small table (22.05 -> 96 kHz: a 2x doubling, then 44.1 -> 96 kHz with 24
//! taps instead of 128 taps over 320 branches). Each stage stops whatever would fold into
//! the band the quality protects, so the chain meets the same figures as one filter.
//! Only `High` is split; `Low` and `Medium` run one stage.
//!
//! # Why an own kernel instead of rubato
//!
//! A direct polyphase FIR gives exact streaming equality for any chunk size, no output shift
//! and no allocation or FFT-size constraint per call; rubato's sinc resamplers shift the
//! output by one input sample, and its `Fft` resampler needs FFT-friendly chunk sizes and a
//! non-default configuration (chunk 960, one sub-chunk) to be both fast and clean at 3:1.
//! Speed against rubato's `Fft` and python-soxr, measured in the same runs, is in the
//! README's Performance section (`bench/resample/compare.py` and `all_pairs.py` reproduce
//! it).
//!
//! Kernels are chosen at run time. On CPUs with AVX2 and FMA, integer decimation
//! (48 -> 16, 96 -> 48 kHz, ...) and integer interpolation (16 -> 48, 8 -> 16 kHz, ...) use a
//! tiled kernel (`x86::tile`) that computes 40 outputs per pass, reuses every loaded input
//! vector for four coefficients and skips the zero taps of half-band filters; other ratios
//! use dot products four outputs at a time (`x86::branch` within a branch, `x86::rows_run`
//! across consecutive outputs). Without AVX2/FMA portable versions of the dot products
//! (auto-vectorised for the build target) serve every ratio. The AVX2 kernels take a
//! `simd::Avx2Fma` token, which only CPU feature detection can produce.
//!
//! The module is split by concept: `quality`, `error` and `limits` (the public parameters,
//! errors and limits), `blocks` (how the kernels group taps and outputs), `plan` (which
//! stages a conversion runs through), `stage` (one stage's stream state), `design` (filter
//! length and Kaiser-windowed sinc table), `table` (the shared table cache and the nonzero
//! spans of each branch), `shape` (which outputs read which input windows), `kernel`
//! (portable dot products and run-time selection) and `x86` (the AVX2/FMA kernels).
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
mod plan;
mod quality;
mod shape;
mod stage;
mod table;
mod walk;
#[cfg(target_arch = "x86_64")]
mod x86;

use std::fmt;
use std::sync::{Mutex, PoisonError};

pub(crate) use design::{KaiserWindow, kaiser_beta};
pub use error::ResampleError;
pub use limits::{MAX_PHASES, MAX_TABLE_LEN};
pub use quality::Quality;

use plan::plan;
use stage::{Stage, reduced};

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
    /// The filter stages, input side first; empty for a same-rate copy.
    stages: Vec<Stage>,
    /// Between stage `i` and `i + 1`: `channels` runs of `link_len[i]` frames.
    links: Vec<Vec<f32>>,
    link_len: Vec<usize>,
    /// Input frames consumed since the start of the stream.
    consumed: u64,
    /// Output frames written since the start of the stream.
    produced: u64,
    /// Most output frames held back after any call.
    delay: usize,
    /// A chain starts as if this many frames of silence (a whole number of output
    /// periods) came before the stream, so that its first stages also compute the
    /// ringing of their filters before the first frame, as one filter would see it.
    preroll: u64,
    /// Output frames of the last stage that fall in the pre-roll (`preroll * out / in`),
    /// never computed.
    lead: u64,
}

impl fmt::Debug for Resampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resampler")
            .field("in_rate", &self.in_rate)
            .field("out_rate", &self.out_rate)
            .field("channels", &self.channels)
            .field("quality", &self.quality)
            .field("stages", &self.stages())
            .field("consumed", &self.consumed)
            .field("produced", &self.produced)
            .finish()
    }
}

/// Most input frames a multi-stage [`Resampler`] pushes through its stages at once (the
/// links between stages are sized for it, so calls of any length allocate nothing).
const PIECE: usize = 4096;

impl Resampler {
    /// Builds a resampler from `in_rate` Hz to `out_rate` Hz for `channels` planar channels.
    ///
    /// The conversion runs through one or more filter stages (see [`stages`](Self::stages)),
    /// chosen for the ratio and quality. Filter tables are designed once per configuration
    /// and shared through a small process-wide cache, so building a resampler per stream
    /// or per clip is cheap after the first; the other allocations are per-channel history
    /// and fixed scratch buffers. Equal rates give a plain copy with no latency.
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
        let (up, down) = reduced(in_rate, out_rate);
        let taps = if up == down {
            0
        } else {
            Stage::taps_for(in_rate, out_rate, quality.spec(), quality.tap_grain(), true)
        };
        if up > MAX_PHASES || taps.checked_mul(up as usize).is_none_or(|n| n > MAX_TABLE_LEN) {
            return Err(ResampleError::UnsupportedRatio {
                in_rate,
                out_rate,
                out_factor: up,
                in_factor: down,
            });
        }
        let stages: Vec<Stage> = if up == down {
            Vec::new()
        } else {
            plan(in_rate, out_rate, quality)
                .iter()
                .map(|s| Stage::new(s.in_rate, s.out_rate, channels, s.spec, s.taps))
                .collect()
        };
        let mut link_len = Vec::new();
        let mut frames = PIECE;
        for stage in stages.iter().take(stages.len().saturating_sub(1)) {
            frames = stage.output_frames_max(frames);
            link_len.push(frames);
        }
        // The pre-roll covers every stage's window, in input frames.
        let preroll = if stages.len() > 1 {
            let reach: u64 = stages
                .iter()
                .map(|s| s.taps() as u64 * u64::from(in_rate.div_ceil(s.rates().0)))
                .sum();
            reach.next_multiple_of(u64::from(down))
        } else {
            0
        };
        let mut rs = Self {
            in_rate,
            out_rate,
            channels,
            quality,
            links: link_len.iter().map(|&n| vec![0.0; channels * n]).collect(),
            link_len,
            stages,
            consumed: 0,
            produced: 0,
            delay: 0,
            preroll,
            lead: preroll / u64::from(down) * u64::from(up),
        };
        rs.reset();
        rs.delay = rs.held_back_max();
        Ok(rs)
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

    /// The filter stages the conversion runs through, input side first: each stage's input
    /// rate, output rate and taps per output frame. Empty for equal rates.
    pub fn stages(&self) -> Vec<(u32, u32, usize)> {
        self.stages
            .iter()
            .map(|s| {
                let (a, b) = s.rates();
                (a, b, s.taps())
            })
            .collect()
    }

    /// Latency of the stream in output frames: at most this many output frames are held
    /// back after any call to [`process_into`](Self::process_into) (they come out with later
    /// input or with [`flush_into`](Self::flush_into)). 0 for equal rates.
    pub fn output_delay(&self) -> usize {
        self.delay
    }

    /// Upper bound on the frames one [`process_into`](Self::process_into) call with
    /// `input_frames` frames per channel writes; also enough for
    /// [`flush_into`](Self::flush_into). Size output buffers with it.
    pub fn output_frames_max(&self, input_frames: usize) -> usize {
        if self.stages.is_empty() {
            return input_frames;
        }
        let (up, down) = reduced(self.in_rate, self.out_rate);
        (input_frames as u64 * u64::from(up)).div_ceil(u64::from(down)) as usize + self.delay + 2
    }

    /// Clears the stream: history becomes silence and frame counters restart at zero.
    /// Allocates nothing.
    pub fn reset(&mut self) {
        self.consumed = 0;
        self.produced = 0;
        // The pre-roll is silence: every output whose window lies in it is zero, so the
        // stages only count it (their histories hold zeros after a reset).
        let mut frames = self.preroll;
        for stage in &mut self.stages {
            stage.reset();
            frames = stage.skip_silence(frames);
        }
        if let Some(last) = self.stages.last_mut() {
            last.skip_to(self.lead);
        }
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
        if self.stages.is_empty() {
            check_output(output, frames)?;
            for (out, inp) in output.iter_mut().zip(input) {
                out[..frames].copy_from_slice(inp);
            }
            self.consumed += frames as u64;
            self.produced += frames as u64;
            return Ok(frames);
        }
        let count = (self.ready_outputs(self.consumed + frames as u64) - self.produced) as usize;
        check_output(output, count)?;
        if self.stages.len() == 1 {
            self.consumed += frames as u64;
            let total = self.total_outputs(self.consumed);
            let stage = &mut self.stages[0];
            let step = stage.step(frames, total);
            for (c, (inp, out)) in input.iter().zip(output.iter_mut()).enumerate() {
                stage.run_channel(c, step, inp, out);
            }
            stage.commit(step);
        } else {
            let mut written = 0;
            for start in (0..frames).step_by(PIECE) {
                let len = PIECE.min(frames - start);
                self.consumed += len as u64;
                let total = self.lead + self.total_outputs(self.consumed);
                written += self.run_chain(Some((input, start)), len, output, written, total);
            }
            debug_assert_eq!(written, count);
        }
        self.produced += count as u64;
        Ok(count)
    }

    /// Pushes `len` frames through every stage: `input[c][start..start + len]`, or silence
    /// for `None`. The last stage writes the outputs that became ready, up to its output
    /// `total`, into `output[c][offset..]`. Returns their number per channel.
    fn run_chain(
        &mut self,
        input: Option<(&[&[f32]], usize)>,
        len: usize,
        output: &mut [&mut [f32]],
        offset: usize,
        total: u64,
    ) -> usize {
        static SILENCE: [f32; PIECE] = [0.0; PIECE];
        let stage = &mut self.stages[0];
        let step = stage.step(len, stage.total_outputs(stage.consumed() + len as u64));
        let n = self.link_len[0];
        for c in 0..self.channels {
            let src = match input {
                Some((input, start)) => &input[c][start..start + len],
                None => &SILENCE[..len],
            };
            stage.run_channel(c, step, src, &mut self.links[0][c * n..(c + 1) * n]);
        }
        let frames = step.count(stage.produced());
        stage.commit(step);
        self.run_from(1, frames, output, offset, total)
    }

    /// Runs stages `first..` on the `frames` frames waiting in the link before stage
    /// `first`; the last stage writes up to its output `total` into `output[c][offset..]`.
    /// Returns its frames.
    fn run_from(
        &mut self,
        first: usize,
        mut frames: usize,
        output: &mut [&mut [f32]],
        offset: usize,
        total: u64,
    ) -> usize {
        let last = self.stages.len() - 1;
        for i in first..=last {
            let stage = &mut self.stages[i];
            let cap = if i == last {
                total
            } else {
                stage.total_outputs(stage.consumed() + frames as u64)
            };
            let step = stage.step(frames, cap);
            let (before, after) = self.links.split_at_mut(i);
            let n_in = self.link_len[i - 1];
            for (c, out) in output.iter_mut().enumerate() {
                let src = &before[i - 1][c * n_in..c * n_in + frames];
                let dst: &mut [f32] = if i == last {
                    &mut out[offset..]
                } else {
                    let n = self.link_len[i];
                    &mut after[0][c * n..(c + 1) * n]
                };
                stage.run_channel(c, step, src, dst);
            }
            frames = step.count(stage.produced());
            stage.commit(step);
        }
        frames
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
        if self.stages.is_empty() {
            self.reset();
            return Ok(0);
        }
        let total = self.total_outputs(self.consumed);
        let count = (total - self.produced) as usize;
        check_output(output, count)?;
        if let [stage] = self.stages.as_mut_slice() {
            for (c, out) in output.iter_mut().enumerate() {
                stage.flush_channel(c, out, total);
            }
        } else {
            // Silence after the end completes the held-back outputs: the stages see what
            // one filter would, ringing included.
            let mut written = 0;
            while written < count {
                written += self.run_chain(None, self.preroll as usize, output, written, self.lead + total);
            }
        }
        self.reset();
        Ok(count)
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

    /// `round(consumed * out_rate / in_rate)`, ties up: the stream's total output length.
    fn total_outputs(&self, consumed: u64) -> u64 {
        let (up, down) = reduced(self.in_rate, self.out_rate);
        ((2 * u128::from(consumed) * u128::from(up) + u128::from(down)) / (2 * u128::from(down))) as u64
    }

    /// Outputs written once `consumed` input frames went in: every stage passes all its
    /// ready outputs on, and the last one stops at the stream's total.
    fn ready_outputs(&self, consumed: u64) -> u64 {
        let last = self.stages.len() - 1;
        let mut frames = self.preroll + consumed;
        for (i, stage) in self.stages.iter().enumerate() {
            let cap = if i == last {
                self.lead + self.total_outputs(consumed)
            } else {
                stage.total_outputs(frames)
            };
            frames = stage.ready_outputs(frames, cap);
        }
        frames.saturating_sub(self.lead)
    }

    /// The most output frames held back after any input length: one stage's own bound, or
    /// for a chain the largest shortfall over enough input lengths for its pattern to
    /// repeat (remembered per configuration).
    fn held_back_max(&self) -> usize {
        match self.stages.as_slice() {
            [] => 0,
            [stage] => stage.delay() as usize,
            stages => {
                type Cache = Vec<((u32, u32, Quality), usize)>;
                static CACHE: Mutex<Cache> = Mutex::new(Vec::new());
                let key = (self.in_rate, self.out_rate, self.quality);
                let cached = |cache: &Cache| cache.iter().find(|(k, _)| *k == key).map(|(_, d)| *d);
                if let Some(d) = cached(&CACHE.lock().unwrap_or_else(PoisonError::into_inner)) {
                    return d;
                }
                let (_, down) = reduced(self.in_rate, self.out_rate);
                let scale = 1u64 << stages.len();
                let taps: u64 = stages.iter().map(|s| s.taps() as u64).sum();
                let span = (4 * u64::from(down) + 4 * taps) * scale;
                let delay = (0..span)
                    .map(|n| self.total_outputs(n) - self.ready_outputs(n))
                    .max()
                    .unwrap_or(0) as usize;
                let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
                if cache.len() == 32 {
                    cache.remove(0);
                }
                cache.push((key, delay));
                delay
            }
        }
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
        for (fi, fo) in [(44_100, 48_000), (48_000, 16_000), (22_050, 96_000)] {
            let rs = Resampler::new(fi, fo, 1, Quality::Medium).unwrap();
            for stage in &rs.stages {
                for row in stage.table().coefficients().chunks_exact(stage.taps()) {
                    let s: f64 = row.iter().map(|&c| f64::from(c)).sum();
                    assert!((s - 1.0).abs() < 1e-5, "{fi}->{fo}: dc {s}");
                }
            }
        }
    }

    #[test]
    fn portable_kernel_streams_exactly() {
        for (fi, fo) in [(48_000, 16_000), (44_100, 48_000), (22_050, 96_000), (96_000, 44_100)] {
            let x: Vec<f32> = (0..3_000).map(|i| ((i * 37 % 101) as f32 - 50.0) / 100.0).collect();
            let reference = resample(&[&x], fi, fo, Quality::High).unwrap().remove(0);
            let mut rs = Resampler::new(fi, fo, 1, Quality::High).unwrap();
            rs.stages.iter_mut().for_each(Stage::force_portable);
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
        for (fi, fo) in [(48_000, 16_000), (16_000, 48_000), (44_100, 48_000), (96_000, 22_050)] {
            let rs = Resampler::new(fi, fo, 1, Quality::High).unwrap();
            for c in (0..50_000u64).step_by(7) {
                let held = rs.total_outputs(c) - rs.ready_outputs(c);
                assert!(held as usize <= rs.output_delay(), "{fi}->{fo} at {c}");
            }
        }
    }
}
