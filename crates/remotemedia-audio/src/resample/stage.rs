//! One polyphase FIR stage: the stream state of a conversion between two rates with one
//! filter. A [`Resampler`](super::Resampler) runs one or more stages in a row.

use std::sync::Arc;

use super::design::{gcd, taps_for};
use super::kernel::Kernel;
use super::quality::FilterSpec;
use super::shape::Shape;
use super::table::{Table, shared_table};

/// A delay-compensated polyphase stage for planar `f32` audio: output frame `n` is centred
/// on input time `n * down / up`, and every output is computed from the same input window
/// whatever the chunking, so any chunking gives the same samples.
///
/// The caller checks channel counts and buffer sizes; the stage only computes.
#[derive(Clone)]
pub(super) struct Stage {
    in_rate: u32,
    out_rate: u32,
    /// Reduced output factor: number of polyphase branches.
    up: u64,
    /// Reduced input factor.
    down: u64,
    /// Taps per branch (multiple of `blocks::TAP_BLOCK`).
    taps: usize,
    /// `up` branches of `taps` coefficients, shared by clones.
    table: Arc<Table>,
    /// Per channel, the last `taps` input frames before `consumed` (zeros before the start).
    history: Vec<f32>,
    /// `2 * taps` frames: history followed by the head of the current input (or silence).
    scratch: Vec<f32>,
    /// Deinterleaved input (or zero-padded input block) for the tiled kernels (empty when
    /// it is not used).
    deint: Vec<f32>,
    /// Input frames consumed since the start of the stream.
    consumed: u64,
    /// Index of the next output frame to produce.
    produced: u64,
    kernel: Kernel,
}

impl Stage {
    /// A stage from `in_rate` to `out_rate` (different rates) meeting `spec`, whose reduced
    /// ratio has `up` branches; `taps` comes from [`Stage::taps_for`].
    pub(super) fn new(in_rate: u32, out_rate: u32, channels: usize, spec: FilterSpec, taps: usize) -> Self {
        let (up, down) = reduced(in_rate, out_rate);
        let table = shared_table(spec, in_rate, out_rate, up, down, taps);
        let kernel = Kernel::detect();
        let shape = Shape::new(u64::from(up), u64::from(down), taps, kernel);
        Self {
            in_rate,
            out_rate,
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
        }
    }

    /// Taps per branch a stage from `in_rate` to `out_rate` needs for `spec`, rounded up to a
    /// multiple of `grain`; `flushed` for a stage that ends its stream with
    /// [`flush_channel`](Self::flush_channel).
    pub(super) fn taps_for(in_rate: u32, out_rate: u32, spec: FilterSpec, grain: usize, flushed: bool) -> usize {
        taps_for(spec, in_rate, out_rate, reduced(in_rate, out_rate), grain, flushed)
    }

    pub(super) fn taps(&self) -> usize {
        self.taps
    }

    /// Input and output rates in Hz.
    pub(super) fn rates(&self) -> (u32, u32) {
        (self.in_rate, self.out_rate)
    }

    pub(super) fn produced(&self) -> u64 {
        self.produced
    }

    pub(super) fn consumed(&self) -> u64 {
        self.consumed
    }

    /// At most this many output frames are held back after any call (see
    /// [`Resampler::output_delay`](super::Resampler::output_delay)).
    pub(super) fn delay(&self) -> u64 {
        let half = self.taps as u64 / 2;
        (2 * half * self.up + self.down) / (2 * self.down)
    }

    /// Upper bound on the outputs of one call with `input_frames` frames.
    pub(super) fn output_frames_max(&self, input_frames: usize) -> usize {
        (input_frames as u64 * self.up).div_ceil(self.down) as usize + self.delay() as usize + 2
    }

    /// Clears the stream: history becomes silence and frame counters restart at zero.
    pub(super) fn reset(&mut self) {
        self.history.fill(0.0);
        self.consumed = 0;
        self.produced = 0;
    }

    /// Counts `frames` frames of silence at the start of a stream (history is silence
    /// after a reset): the outputs whose windows lie in it are zero and are skipped. Returns
    /// the outputs skipped.
    pub(super) fn skip_silence(&mut self, frames: u64) -> u64 {
        debug_assert_eq!((self.consumed, self.produced), (0, 0));
        self.produced = self.ready_outputs(frames, self.total_outputs(frames));
        self.consumed = frames;
        self.produced
    }

    /// Never computes the outputs before `first` (they fall before the stream).
    pub(super) fn skip_to(&mut self, first: u64) {
        self.produced = self.produced.max(first);
    }

    /// `round(consumed * up / down)`, ties up: the stage's own total output for a stream.
    pub(super) fn total_outputs(&self, consumed: u64) -> u64 {
        ((2 * u128::from(consumed) * u128::from(self.up) + u128::from(self.down)) / (2 * u128::from(self.down))) as u64
    }

    /// Number of outputs computable from `consumed` input frames (their whole window is
    /// known), capped by `total`.
    pub(super) fn ready_outputs(&self, consumed: u64, total: u64) -> u64 {
        let half = self.taps as u64 / 2;
        let complete = if consumed > half {
            (u128::from(consumed - half) * u128::from(self.up)).div_ceil(u128::from(self.down)) as u64
        } else {
            0
        };
        complete.min(total)
    }

    /// First output index whose window starts at or after input frame `pos`.
    fn first_output_reading_from(&self, pos: u64) -> u64 {
        let half = self.taps as u64 / 2;
        // window start = floor(n*down/up) - (half - 1) >= pos
        (u128::from(pos + half - 1) * u128::from(self.up)).div_ceil(u128::from(self.down)) as u64
    }

    /// Plans a call that consumes `frames` more input frames and writes the outputs that
    /// become ready, at most up to stream output `total`.
    pub(super) fn step(&self, frames: usize, total: u64) -> Step {
        let end_consumed = self.consumed + frames as u64;
        let ready = self.ready_outputs(end_consumed, total).max(self.produced);
        Step {
            frames,
            ready,
            split: self
                .first_output_reading_from(self.consumed)
                .clamp(self.produced, ready),
        }
    }

    /// Runs `step` on channel `c`: `input` holds its `step.frames` new frames, `output`
    /// receives the [`Step::count`] new outputs. Call it for every channel, then
    /// [`commit`](Self::commit).
    pub(super) fn run_channel(&mut self, c: usize, step: Step, input: &[f32], output: &mut [f32]) {
        let frames = step.frames;
        let out = &mut output[..(step.ready - self.produced) as usize];
        // Outputs whose window starts before the new input read from `scratch`
        // (history + input head); the others read the input slice directly.
        let head_len = frames.min(self.taps);
        let (head_out, body_out) = out.split_at_mut((step.split - self.produced) as usize);
        self.run_scratch(c, &input[..head_len], head_out);
        self.shape().run(
            self.kernel,
            &self.table,
            &input[..frames],
            self.consumed as i64,
            step.split,
            body_out,
            &mut self.deint,
        );
        let hist = &mut self.history[c * self.taps..(c + 1) * self.taps];
        if frames >= self.taps {
            hist.copy_from_slice(&input[frames - self.taps..frames]);
        } else {
            hist.copy_from_slice(&self.scratch[frames..frames + self.taps]);
        }
    }

    /// Ends the call planned by `step`, once every channel has run.
    pub(super) fn commit(&mut self, step: Step) {
        self.consumed += step.frames as u64;
        self.produced = step.ready;
    }

    /// Writes channel `c`'s outputs from the next one up to stream output `total` (input
    /// after the end taken as silence) into `output`. Call it for every channel, then
    /// [`reset`](Self::reset). Returns the frames written.
    pub(super) fn flush_channel(&mut self, c: usize, output: &mut [f32], total: u64) -> usize {
        let count = total.saturating_sub(self.produced) as usize;
        self.run_scratch(c, &[], &mut output[..count]);
        count
    }

    /// Computes `out`, the outputs from the next one on whose windows start before the
    /// new input, from channel `c`'s history followed by `head` (the new input's first
    /// frames) and silence.
    fn run_scratch(&mut self, c: usize, head: &[f32], out: &mut [f32]) {
        let taps = self.taps;
        self.scratch[..taps].copy_from_slice(&self.history[c * taps..(c + 1) * taps]);
        self.scratch[taps..taps + head.len()].copy_from_slice(head);
        self.scratch[taps + head.len()..].fill(0.0);
        self.shape().run(
            self.kernel,
            &self.table,
            &self.scratch,
            self.consumed as i64 - taps as i64,
            self.produced,
            out,
            &mut self.deint,
        );
    }

    fn shape(&self) -> Shape {
        Shape::new(self.up, self.down, self.taps, self.kernel)
    }

    #[cfg(test)]
    pub(super) fn table(&self) -> &Table {
        &self.table
    }

    #[cfg(test)]
    pub(super) fn force_portable(&mut self) {
        self.kernel = Kernel::Portable;
    }
}

/// One planned call of a [`Stage`]: how many frames it consumes and which outputs it writes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Step {
    frames: usize,
    /// Outputs ready after the call (the next call's first output).
    ready: u64,
    /// First output that reads only the new input.
    split: u64,
}

impl Step {
    /// Outputs the call writes per channel, given the stage's next output before it.
    pub(super) fn count(&self, produced: u64) -> usize {
        (self.ready - produced) as usize
    }
}

/// The reduced ratio `(up, down)` of `out_rate / in_rate`.
pub(super) fn reduced(in_rate: u32, out_rate: u32) -> (u32, u32) {
    let g = gcd(in_rate, out_rate);
    (out_rate / g, in_rate / g)
}
