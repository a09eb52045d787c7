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

use super::activation::logistic;
use super::dense::{pre_activations, standardise};
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
