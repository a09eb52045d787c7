//! The layout of a feature vector, named once: which value sits at which index.
//!
//! A vector is [`CONTEXT_MS`]`.len()` blocks of [`BASE_FEATURES`] per-hop values: the
//! values of the newest hop, then those of the hop 100 ms earlier, then 200 ms earlier.
//! Within a block, value [`Feature`] `f` is at index `f as usize`. The classifier's
//! weights (`weights.rs`) and the training script (`bench/vad/train.py`) follow this
//! layout; it is written to `bench/vad/feature_layout.json` by the `feature_layout` test
//! of this crate, which fails while the checked-in file differs.

use super::timing::{HOP_MS, hops};

/// One value computed per hop. Ratios of levels are in dB / 10, shares and correlations in
/// 0..1; "over N s" means a running mean with that time constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Feature {
    /// SNR of band 0 (100-250 Hz) over the noise floor, clamped to 0..50 dB.
    BandSnr0,
    /// SNR of band 1 (250-400 Hz).
    BandSnr1,
    /// SNR of band 2 (400-600 Hz).
    BandSnr2,
    /// SNR of band 3 (600-900 Hz).
    BandSnr3,
    /// SNR of band 4 (900-1300 Hz).
    BandSnr4,
    /// SNR of band 5 (1300-1900 Hz).
    BandSnr5,
    /// SNR of band 6 (1900-2800 Hz).
    BandSnr6,
    /// SNR of band 7 (2800-4000 Hz).
    BandSnr7,
    /// Mean of the band SNRs.
    MeanSnr,
    /// Normalised periodicity of the floor-relative spectrum over pitch lags of 70-400 Hz.
    Harmonicity,
    /// Pitch change from the previous hop in octaves (at most 1; 1 when either is unvoiced).
    PitchJump,
    /// Mean absolute change of the band SNRs from the previous hop.
    Flux,
    /// Correlation of the fine floor-relative spectrum with the one 60 ms earlier.
    Stationarity,
    /// [`Feature::Harmonicity`] over 0.3 s.
    HarmonicityAvg,
    /// [`Feature::PitchJump`] over 0.3 s.
    PitchJumpAvg,
    /// [`Feature::Flux`] over 0.3 s.
    FluxAvg,
    /// [`Feature::Stationarity`] over 0.3 s.
    StationarityAvg,
    /// Modulation depth: standard deviation of [`Feature::MeanSnr`] over 0.3 s.
    SnrModulation,
    /// Tilt: mean SNR of bands 6-7 minus that of bands 0-3.
    Tilt,
    /// Share of voiced hops over 1 s.
    VoicedShare,
    /// [`Feature::Stationarity`] over 1 s.
    StationarityLong,
    /// Correlation of the fine floor-relative spectrum with the one 200 ms earlier.
    Stationarity200ms,
    /// [`Feature::Stationarity200ms`] over 0.3 s.
    Stationarity200msAvg,
    /// Share of hops over 1 s whose mean SNR is 5 dB below its 1 s average.
    LowEnergyShare,
    /// Standard deviation of [`Feature::MeanSnr`] over 1 s.
    SnrModulationLong,
    /// Share of hops over 0.2 s whose mean SNR fell faster than 20 dB/s.
    DecayingShare,
    /// Drift of the sub-sample pitch over 60 ms, as a fraction of its cap (0.2 octave).
    PitchDrift,
    /// Share of voiced hops over 0.3 s whose pitch held within 0.5 %.
    PitchHeldShare,
    /// Mean band SNR over the fast-rising second noise floor.
    FastFloorSnr,
    /// Standard deviation of the band SNRs around their mean.
    BandSnrSpread,
    /// Crest of the hop's sharpened signal (first difference): its loudest 4 ms over its
    /// mean, in dB / 10 (0 to 0.7). High for clicks and knocks, low for speech and steady noise.
    Crest,
    /// [`Feature::Crest`] over 0.3 s.
    CrestAvg,
}

impl Feature {
    /// Every per-hop value, in index order.
    pub const ALL: [Feature; BASE_FEATURES] = {
        use Feature::*;
        [
            BandSnr0,
            BandSnr1,
            BandSnr2,
            BandSnr3,
            BandSnr4,
            BandSnr5,
            BandSnr6,
            BandSnr7,
            MeanSnr,
            Harmonicity,
            PitchJump,
            Flux,
            Stationarity,
            HarmonicityAvg,
            PitchJumpAvg,
            FluxAvg,
            StationarityAvg,
            SnrModulation,
            Tilt,
            VoicedShare,
            StationarityLong,
            Stationarity200ms,
            Stationarity200msAvg,
            LowEnergyShare,
            SnrModulationLong,
            DecayingShare,
            PitchDrift,
            PitchHeldShare,
            FastFloorSnr,
            BandSnrSpread,
            Crest,
            CrestAvg,
        ]
    };

    /// The snake_case name used in `bench/vad/feature_layout.json` (`band_snr_0`, `mean_snr`).
    pub fn name(self) -> String {
        let mut out = String::new();
        for (i, c) in format!("{self:?}").chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            if c.is_ascii_digit() && !out.ends_with(|p: char| p.is_ascii_digit() || p == '_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }
}

/// Values computed per hop.
pub const BASE_FEATURES: usize = Feature::CrestAvg as usize + 1;
/// How long before the newest hop each block of the vector was computed, in ms.
pub const CONTEXT_MS: [usize; 3] = [0, 100, 200];
/// How many hops back each block comes from.
pub(crate) const CONTEXT_HOPS: [usize; CONTEXT_MS.len()] =
    [hops(CONTEXT_MS[0]), hops(CONTEXT_MS[1]), hops(CONTEXT_MS[2])];
/// Past per-hop vectors kept for stacking.
pub(crate) const CONTEXT_LEN: usize = CONTEXT_HOPS[CONTEXT_HOPS.len() - 1] + 1;
/// Number of values in one feature vector.
pub const NUM_FEATURES: usize = BASE_FEATURES * CONTEXT_MS.len();
// Each block's lag is a whole number of hops.
const _: () = assert!(CONTEXT_MS[1].is_multiple_of(HOP_MS) && CONTEXT_MS[2].is_multiple_of(HOP_MS));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_is_listed_once_in_index_order() {
        for (i, f) in Feature::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i, "{f:?}");
        }
    }

    #[test]
    fn names_are_snake_case() {
        assert_eq!(Feature::BandSnr0.name(), "band_snr_0");
        assert_eq!(Feature::Stationarity200msAvg.name(), "stationarity_200ms_avg");
        assert_eq!(Feature::BandSnrSpread.name(), "band_snr_spread");
        assert_eq!(Feature::CrestAvg.name(), "crest_avg");
    }
}
