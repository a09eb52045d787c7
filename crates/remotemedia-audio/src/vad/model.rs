//! The speech detector's classifier: a tiny MLP over the hop features, blended
//! with a small recurrent branch ([`super::recurrent`]).
//!
//! MLP: `features -> standardise -> dense(HIDDEN, ReLU) -> dense(1) -> logistic`.
//! The hop's speech probability is `(1 - w)·p_mlp + w·p_recurrent` with the
//! blend weight `w` ([`super::recurrent_weights::BLEND`]) chosen on the
//! development splits. The MLP sees 200 ms of feature trajectory and nothing
//! older; the recurrent branch carries state over the stream (what came before
//! a machine's hum or an office murmur), and the blend lets either outvote the
//! other only when it is confident. Both sets of weights are trained offline
//! (`bench/vad/train.py`, `bench/vad/train_recurrent.py`) and shipped as
//! constants; nothing is loaded at run time.

use super::dense::pre_activations;
use super::features::NUM_FEATURES;
use super::recurrent::RecurrentBranch;
use super::recurrent_weights::BLEND;
use super::weights::{B1, B2, FEATURE_MEAN, FEATURE_SCALE, W1, W2};
use crate::simd::Avx2;

/// Per-stream classifier state: the recurrent branch's memory.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpeechModel {
    recurrent: RecurrentBranch,
}

impl SpeechModel {
    /// Speech probability (0..1) of the stream's next hop; with an [`Avx2`]
    /// token the dense layers run 8 lanes wide (same result).
    pub fn probability(&mut self, features: &[f32; NUM_FEATURES], cpu: Option<Avx2>) -> f32 {
        let mlp = mlp_probability(features, cpu);
        let recurrent = self.recurrent.step(features, cpu);
        (1.0 - BLEND) * mlp + BLEND * recurrent
    }

    /// Forgets the stream (the next hop starts from the initial state).
    pub fn reset(&mut self) {
        self.recurrent = RecurrentBranch::default();
    }
}

/// The MLP's speech probability of one hop's feature vector.
fn mlp_probability(features: &[f32; NUM_FEATURES], cpu: Option<Avx2>) -> f32 {
    let x = standardise(features, &FEATURE_MEAN, &FEATURE_SCALE);
    let hidden = pre_activations(&W1, &B1, &x, cpu);
    let logit = hidden
        .iter()
        .zip(W2.iter())
        .fold(B2, |acc, (&h, &w)| acc + w * h.max(0.0));
    logistic(logit)
}

/// Removes a training mean and scales each feature.
pub(super) fn standardise(
    features: &[f32; NUM_FEATURES],
    mean: &[f32; NUM_FEATURES],
    scale: &[f32; NUM_FEATURES],
) -> [f32; NUM_FEATURES] {
    let mut x = [0.0f32; NUM_FEATURES];
    for (((xi, &f), &m), &s) in x.iter_mut().zip(features).zip(mean).zip(scale) {
        *xi = (f - m) * s;
    }
    x
}

/// `1 / (1 + e^-x)`, within about 1e-5 relative (see [`exp`]).
pub(super) fn logistic(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh(x) = 2·logistic(2x) - 1`.
pub(super) fn tanh(x: f32) -> f32 {
    2.0 * logistic(2.0 * x) - 1.0
}

/// `e^x` for the classifiers' gates, branch-free: `2^t` with `t = x·log2(e)`
/// split into the nearest integer (the exponent bits) and a remainder in
/// [-0.5, 0.5] whose power is a degree-6 Taylor polynomial (truncation error
/// under 2e-7; rounding `x·log2(e)` in `f32` adds up to about 1e-5 relative
/// near the clamp). `x` is clamped to ±80, so the result is always a finite
/// normal number. With the library `expf` and `tanhf` instead (48 calls per
/// hop in the recurrent branch) a speech frame took 4,600 more instructions
/// (+14 %, callgrind).
fn exp(x: f32) -> f32 {
    let t = x.clamp(-80.0, 80.0) * std::f32::consts::LOG2_E;
    // Round to nearest without a library call: truncation rounds negative values up.
    let shifted = t + 0.5;
    let truncated = shifted as i32;
    let whole = truncated - i32::from(shifted < truncated as f32);
    let y = (t - whole as f32) * std::f32::consts::LN_2;
    let frac = 1.0 + y * (1.0 + y * 0.5 * (1.0 + y / 3.0 * (1.0 + y * 0.25 * (1.0 + y * 0.2 * (1.0 + y / 6.0)))));
    f32::from_bits(((whole + 127) as u32) << 23) * frac
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features() -> [f32; NUM_FEATURES] {
        std::array::from_fn(|i| ((i * 37 % 11) as f32 - 5.0) * 0.3)
    }

    #[test]
    fn avx2_and_portable_agree_bit_for_bit() {
        let (mut portable, mut wide) = (SpeechModel::default(), SpeechModel::default());
        for _ in 0..5 {
            let p = portable.probability(&features(), None);
            assert!(p > 0.0 && p < 1.0);
            if let Some(cpu) = Avx2::detect() {
                assert_eq!(p.to_bits(), wide.probability(&features(), Some(cpu)).to_bits());
            }
        }
    }

    #[test]
    fn exp_and_tanh_follow_the_library() {
        for i in -2000..=2000 {
            let x = i as f32 * 0.01;
            let rel = (exp(x) - x.exp()).abs() / x.exp();
            assert!(rel < 1e-5, "exp({x}): {} vs {}", exp(x), x.exp());
            assert!((tanh(x) - x.tanh()).abs() < 3e-6, "tanh({x})");
        }
        assert!(exp(-1e9) > 0.0 && exp(1e9).is_finite());
        assert!(logistic(-1e9) >= 0.0 && logistic(1e9) <= 1.0);
    }

    #[test]
    fn reset_forgets_the_stream() {
        let mut model = SpeechModel::default();
        let first = model.probability(&features(), None);
        let second = model.probability(&features(), None);
        assert_ne!(
            first.to_bits(),
            second.to_bits(),
            "the recurrent state carries over between hops"
        );
        model.reset();
        assert_eq!(first.to_bits(), model.probability(&features(), None).to_bits());
    }
}
