//! The recurrent branch of the speech classifier: a GRU over the hop features.
//!
//! `features -> standardise -> dense(DENSE, ReLU) -> GRU(STATE) -> logistic`
//! over the dense layer and the new state. The GRU follows the usual gate
//! equations (PyTorch's, in which it is trained by `bench/vad/train_recurrent.py`):
//!
//! ```text
//! r = σ(W_ir·d + b_ir + W_hr·h + b_hr)
//! z = σ(W_iz·d + b_iz + W_hz·h + b_hz)
//! n = tanh(W_in·d + b_in + r ⊙ (W_hn·h + b_hn))
//! h' = (1 - z) ⊙ n + z ⊙ h
//! ```
//!
//! The state starts at zero for each stream, as in training (whole clips from
//! their first hop). One step per 20 ms hop, so the result does not depend on
//! how the caller chunks the audio.

use super::activation::{logistic, tanh};
use super::dense::{pre_activations, standardise};
use super::features::NUM_FEATURES;
use super::recurrent_weights::{
    DENSE, DENSE_B, DENSE_W, FEATURE_MEAN, FEATURE_SCALE, GATES_HIDDEN_B, GATES_HIDDEN_W, GATES_INPUT_B, GATES_INPUT_W,
    OUT_B, OUT_W, STATE,
};
use crate::simd::Avx2;

/// The GRU's state between hops.
#[derive(Debug, Clone)]
pub(crate) struct RecurrentBranch {
    state: [f32; STATE],
}

impl Default for RecurrentBranch {
    fn default() -> Self {
        Self { state: [0.0; STATE] }
    }
}

impl RecurrentBranch {
    /// Advances the state by one hop and returns the branch's speech probability.
    pub fn step(&mut self, features: &[f32; NUM_FEATURES], cpu: Option<Avx2>) -> f32 {
        let x = standardise(features, &FEATURE_MEAN, &FEATURE_SCALE);
        let d = pre_activations(&DENSE_W, &DENSE_B, &x, cpu).map(|v| v.max(0.0));
        // Gate rows: [r; z; n], STATE each.
        let gi = pre_activations(&GATES_INPUT_W, &GATES_INPUT_B, &d, cpu);
        let gh = pre_activations(&GATES_HIDDEN_W, &GATES_HIDDEN_B, &self.state, cpu);
        for k in 0..STATE {
            let r = logistic(gi[k] + gh[k]);
            let z = logistic(gi[STATE + k] + gh[STATE + k]);
            let n = tanh(gi[2 * STATE + k] + r * gh[2 * STATE + k]);
            self.state[k] = (1.0 - z) * n + z * self.state[k];
        }
        let (dense_w, state_w) = OUT_W.split_at(DENSE);
        let logit = d.iter().zip(dense_w).fold(OUT_B, |acc, (&v, &w)| acc + w * v);
        let logit = self.state.iter().zip(state_w).fold(logit, |acc, (&v, &w)| acc + w * v);
        logistic(logit)
    }
}
