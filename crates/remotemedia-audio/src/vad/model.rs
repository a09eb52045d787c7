//! The speech detector's classifier: a tiny MLP over the hop features.
//!
//! `features -> standardise -> dense(HIDDEN, ReLU) -> dense(1) -> logistic`.
//! The weights are trained offline (`bench/vad/train.py`) and shipped in
//! [`super::weights`]; nothing is loaded at run time.

use super::features::NUM_FEATURES;
use super::weights::{B1, B2, FEATURE_MEAN, FEATURE_SCALE, W1, W2};

/// Speech probability (0..1) of one hop's feature vector.
pub(crate) fn speech_probability(features: &[f32; NUM_FEATURES]) -> f32 {
    let mut x = [0.0f32; NUM_FEATURES];
    for (((xi, &f), &m), &s) in x
        .iter_mut()
        .zip(features.iter())
        .zip(FEATURE_MEAN.iter())
        .zip(FEATURE_SCALE.iter())
    {
        *xi = (f - m) * s;
    }
    // Input-major accumulation: the inner loop runs over independent hidden
    // units, so it vectorises (a per-unit dot product would be a serial sum).
    let mut hidden = B1;
    for (row, &xi) in W1.iter().zip(x.iter()) {
        for (h, &w) in hidden.iter_mut().zip(row.iter()) {
            *h += w * xi;
        }
    }
    let logit = hidden
        .iter()
        .zip(W2.iter())
        .fold(B2, |acc, (&h, &w)| acc + w * h.max(0.0));
    1.0 / (1.0 + (-logit).exp())
}
