//! Running means of the per-hop values (one-pole low-passes), for the slow features.

use super::timing::HOP_RATE;

/// One-pole smoothing coefficient per hop for a time constant in seconds.
pub(super) fn ema_coeff(tau_s: f32) -> f32 {
    1.0 - (-1.0 / (HOP_RATE * tau_s)).exp()
}

/// A running mean (one-pole low-pass) of a feature.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ema {
    coeff: f32,
    pub(super) value: f32,
}

impl Ema {
    fn new(tau_s: f32) -> Self {
        Self {
            coeff: ema_coeff(tau_s),
            value: 0.0,
        }
    }

    #[inline(always)]
    pub(super) fn update(&mut self, x: f32) -> f32 {
        self.value += self.coeff * (x - self.value);
        self.value
    }
}

/// Slow averages kept across hops.
#[derive(Debug, Clone, Copy)]
pub(super) struct Averages {
    pub(super) harmonicity: Ema,
    pub(super) pitch_jump: Ema,
    pub(super) flux: Ema,
    pub(super) stationarity: Ema,
    pub(super) snr_mean: Ema,
    pub(super) snr_square: Ema,
    pub(super) voiced_long: Ema,
    pub(super) stationarity_long: Ema,
    pub(super) stationarity_200ms: Ema,
    pub(super) snr_mean_long: Ema,
    pub(super) snr_square_long: Ema,
    pub(super) low_energy: Ema,
    pub(super) decaying: Ema,
    pub(super) pitch_held: Ema,
    pub(super) crest: Ema,
}

impl Averages {
    pub(super) fn new() -> Self {
        Self {
            harmonicity: Ema::new(0.3),
            pitch_jump: Ema::new(0.3),
            flux: Ema::new(0.3),
            stationarity: Ema::new(0.3),
            snr_mean: Ema::new(0.3),
            snr_square: Ema::new(0.3),
            voiced_long: Ema::new(1.0),
            stationarity_long: Ema::new(1.0),
            stationarity_200ms: Ema::new(0.3),
            snr_mean_long: Ema::new(1.0),
            snr_square_long: Ema::new(1.0),
            low_energy: Ema::new(1.0),
            decaying: Ema::new(0.2),
            pitch_held: Ema::new(0.3),
            crest: Ema::new(0.3),
        }
    }
}
