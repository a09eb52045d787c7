//! Which stages a conversion runs through.
//!
//! One polyphase stage with a sharp filter costs `taps` multiply-adds per output, and a
//! ratio such as 22.05 -> 96 kHz (320 branches) spreads its table over far more than the
//! first-level cache. Splitting the conversion moves the sharp filtering to a factor of
//! two, where a half-band filter is zero at every other tap (and one of the two branches
//! of a doubling is a plain copy), and leaves the rational part of the ratio to a stage
//! whose transition band is wide, so whose filter is short:
//!
//! - downsampling: a rational stage from the input to `out * 2^k` (from above or below
//!   it), then `k` halvings, the last one sharp;
//! - upsampling: `k` doublings, the first one sharp, then a rational stage to the output
//!   (from above or below it).
//!
//! Every stage keeps the pass band (`pass` x the lower Nyquist frequency) flat and folds
//! nothing into the band below `stop` x the lower Nyquist frequency (the guard band):
//! what a wide stage lets through lands above the guard band, where the sharp stage
//! removes it, so the chain meets the quality's figures as the single filter does. The
//! plan with the fewest estimated operations per input frame wins.
//!
//! Only `High` is split. A chain adds up the stop-band leakage of its stages: `High`'s
//! filters are designed 15 dB beyond the figures it promises, `Medium`'s are not, and
//! `Low` feeds the speech detector's front end, which is trained on its exact output.

use super::Quality;
use super::blocks::TAP_GRAIN;
use super::limits::{MAX_PHASES, MAX_TABLE_LEN};
use super::quality::FilterSpec;
use super::stage::{Stage, reduced};

/// Most factors of two a plan splits off.
const MAX_HALVINGS: u32 = 3;
/// Relative cost per tap of the rational dot-product kernels against the tiled kernels
/// while the table fits the first-level cache (they make 2.5 loads per 4 multiply-adds
/// where the tiled ones make well under one), and when it does not (each output then
/// reads its row from the second level). Fitted to the per-tap times of single stages on
/// every pair of common rates (`bench/resample/all_pairs.py`): about 1.6x and 2.2-3.5x.
const DOT_COST: f64 = 1.6;
const DOT_COST_L2: f64 = 2.8;
/// Factor by which each stage after the first must lower the estimated cost.
const STAGE_MARGIN: f64 = 1.1;
/// Table size that stays in the first-level data cache, in bytes.
const L1_BYTES: usize = 32 << 10;
/// Cost of a stage per output frame besides its taps (buffers, calls), in taps; fitted
/// with the two above.
const STAGE_COST: f64 = 32.0;

/// One stage of a plan: rates and filter.
#[derive(Clone, Copy, Debug)]
pub(super) struct StagePlan {
    pub(super) in_rate: u32,
    pub(super) out_rate: u32,
    pub(super) spec: FilterSpec,
    pub(super) taps: usize,
}

impl StagePlan {
    /// A stage from `in_rate` to `out_rate` flat to `pass_hz` and stopping from `stop_hz`.
    fn new(in_rate: u32, out_rate: u32, pass_hz: f64, stop_hz: f64, atten_db: f64) -> Self {
        let nyquist = f64::from(in_rate.min(out_rate)) / 2.0;
        let spec = FilterSpec {
            pass: pass_hz / nyquist,
            stop: stop_hz / nyquist,
            atten_db,
        };
        Self {
            in_rate,
            out_rate,
            spec,
            taps: Stage::taps_for(in_rate, out_rate, spec, TAP_GRAIN, false),
        }
    }

    /// A half-band stage (a factor of two) stopping from `stop_hz`: its pass band mirrors
    /// the stop band around the lower Nyquist frequency, so every other tap is zero.
    fn half_band(in_rate: u32, out_rate: u32, stop_hz: f64, atten_db: f64) -> Self {
        let lower = f64::from(in_rate.min(out_rate));
        Self::new(in_rate, out_rate, lower - stop_hz, stop_hz, atten_db)
    }

    /// Whether the stage's ratio and table fit the resampler's limits.
    fn supported(&self) -> bool {
        let (up, _) = reduced(self.in_rate, self.out_rate);
        up <= MAX_PHASES && self.taps.checked_mul(up as usize).is_some_and(|n| n <= MAX_TABLE_LEN)
    }

    /// Estimated cost per input frame of the whole conversion, in tiled-kernel taps.
    fn cost(&self, chain_in_rate: u32) -> f64 {
        let (up, down) = reduced(self.in_rate, self.out_rate);
        let outputs = f64::from(self.out_rate) / f64::from(chain_in_rate);
        let taps = self.taps as f64;
        let half_band = (self.spec.pass + self.spec.stop - 2.0).abs() < 1e-9;
        let per_output = match (up, down) {
            (1, 2) | (2, 1) if half_band => taps / 2.0,
            (1, _) | (_, 1) => taps,
            _ if up as usize * self.taps * 4 <= L1_BYTES => taps * DOT_COST,
            _ => taps * DOT_COST_L2,
        };
        outputs * (per_output + STAGE_COST)
    }
}

/// The stages for `in_rate -> out_rate` (different rates) at `quality`, cheapest first
/// among the candidates.
pub(super) fn plan(in_rate: u32, out_rate: u32, quality: Quality) -> Vec<StagePlan> {
    let spec = quality.spec();
    let direct = vec![StagePlan {
        in_rate,
        out_rate,
        spec,
        taps: Stage::taps_for(in_rate, out_rate, spec, quality.tap_grain(), true),
    }];
    if quality != Quality::High {
        return direct;
    }
    let nyquist = f64::from(in_rate.min(out_rate)) / 2.0;
    let (pass, guard, atten) = (spec.pass * nyquist, spec.stop * nyquist, spec.atten_db);
    let mut candidates = vec![direct];
    for k in 1..=MAX_HALVINGS {
        let mut stages = Vec::new();
        let scale = |rate: u32, by: u32| rate.saturating_mul(1 << by);
        if out_rate < in_rate {
            if scale(out_rate, k - 1) >= in_rate || scale(out_rate, k) == u32::MAX {
                break;
            }
            let mid = scale(out_rate, k);
            if mid != in_rate {
                stages.push(StagePlan::new(in_rate, mid, pass, f64::from(mid) - guard, atten));
            }
            for j in (1..=k).rev() {
                let (a, b) = (scale(out_rate, j), scale(out_rate, j - 1));
                let stop = if j == 1 { guard } else { f64::from(b) - guard };
                stages.push(StagePlan::half_band(a, b, stop, atten));
            }
        } else {
            if scale(in_rate, k - 1) >= out_rate || scale(in_rate, k) == u32::MAX {
                break;
            }
            for j in 1..=k {
                // The first doubling is the sharp one. It keeps the pass band flat and
                // stops the images of everything below it, mirrored around the input
                // Nyquist frequency: only images of the transition band (input above
                // `pass`) are partly kept, as a single filter keeps them.
                let a = scale(in_rate, j - 1);
                let stop = if j == 1 {
                    f64::from(a) - pass
                } else {
                    f64::from(a) - guard
                };
                stages.push(StagePlan::half_band(a, a * 2, stop, atten));
            }
            let mid = scale(in_rate, k);
            if mid != out_rate {
                stages.push(StagePlan::new(mid, out_rate, pass, f64::from(mid) - guard, atten));
            }
        }
        if stages.iter().all(StagePlan::supported) {
            candidates.push(stages);
        }
    }
    // Each further stage must pay for itself by a margin: what the estimate leaves out
    // (buffers between stages, the longer warm-up) grows with the stage count.
    let cost = |stages: &[StagePlan]| {
        let ops: f64 = stages.iter().map(|s| s.cost(in_rate)).sum();
        ops * STAGE_MARGIN.powi(stages.len() as i32 - 1)
    };
    candidates
        .into_iter()
        .min_by(|a, b| cost(a).total_cmp(&cost(b)))
        .unwrap_or_default()
}
