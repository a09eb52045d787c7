//! Filter design: the number of taps a specification needs, and the Kaiser-windowed sinc
//! table of polyphase branches.

use super::blocks::{TAP_BLOCK, TAP_GRAIN, TILE_TAPS};
use super::quality::FilterSpec;

pub(super) fn gcd(mut a: u32, mut b: u32) -> u32 {
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
/// multiple of `grain` ([`TAP_GRAIN`] or [`TAP_BLOCK`]; the tiled ratios round further) and
/// long enough for the stream bookkeeping (below).
pub(super) fn taps_for(
    spec: FilterSpec,
    in_rate: u32,
    out_rate: u32,
    (up, down): (u32, u32),
    grain: usize,
    flushed: bool,
) -> usize {
    debug_assert!(grain.is_multiple_of(TAP_GRAIN));
    let (_, width) = cutoff(spec, in_rate, out_rate);
    let n = (spec.atten_db - 7.95) / (2.285 * 2.0 * std::f64::consts::PI * width) + 1.0;
    // Half a window spans more than one output period, so that an output is complete no
    // sooner than the stream's length includes it. A stage that is `flushed` (the only
    // stage of a conversion) also needs its flush tail in one window: more than 1.5
    // periods and a block; the stages of a chain end on fed silence instead.
    let period = down.div_ceil(up) as usize;
    let min_len = if flushed {
        4 * period + TAP_BLOCK
    } else {
        2 * period + 4
    };
    let taps = (n.ceil() as usize).max(min_len).next_multiple_of(grain);
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

/// Fills `table` with the `table.len() / taps` branches of the Kaiser-windowed sinc,
/// normalised together to unit DC gain on average.
///
/// The branches' DC gains differ by the filter's response at the multiples of the input
/// rate (the images of DC). Scaling each branch to unit gain on its own would remove those
/// images but modulate the whole filter by the same relative amount, imaging every
/// pass-band frequency at that level, which for a short filter with a wide transition band
/// (a rational stage inside a chain) lies well above its stop band.
pub(super) fn fill_table(spec: FilterSpec, in_rate: u32, out_rate: u32, taps: usize, table: &mut [f32]) {
    let (fc, _) = cutoff(spec, in_rate, out_rate);
    let window = KaiserWindow::new(kaiser_beta(spec.atten_db));
    let half = (taps / 2) as f64;
    let up = table.len() / taps;
    let step = std::f64::consts::PI * 2.0 * fc;
    let (step_sin, step_cos) = step.sin_cos();
    let fill_branch = |p: usize, branch: &mut [f64]| {
        let t0 = p as f64 / up as f64 + half - 1.0;
        // sin(pi * 2fc * t) along the branch by rotation: t falls by 1 per tap.
        let (mut sin, mut cos) = (step * t0).sin_cos();
        for (i, h) in branch.iter_mut().enumerate() {
            let t = t0 - i as f64;
            let r = t / half;
            let angle = step * t;
            let sinc = if angle == 0.0 { 1.0 } else { sin / angle };
            // At whole multiples of pi the sinc is exactly zero; the rotation leaves a
            // residue there, which would spoil the zeros a half-band filter skips.
            let zero = {
                let cycles = 2.0 * fc * t;
                cycles != 0.0 && (cycles - cycles.round()).abs() < 1e-9
            };
            *h = if r.abs() >= 1.0 || zero {
                0.0
            } else {
                2.0 * fc * sinc * window.at(r)
            };
            (sin, cos) = (sin * step_cos - cos * step_sin, cos * step_cos + sin * step_sin);
        }
    };
    let mut branch = vec![0.0f64; taps];
    let dc = (0..up)
        .map(|p| {
            fill_branch(p, &mut branch);
            branch.iter().sum::<f64>()
        })
        .sum::<f64>()
        / up as f64;
    for (p, row) in table.chunks_exact_mut(taps).enumerate() {
        fill_branch(p, &mut branch);
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
}
