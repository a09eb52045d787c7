//! The speech detector's analysis front end: one feature vector per 20 ms hop.
//!
//! Input at any supported rate is first converted to 8 kHz (16 kHz by a
//! dedicated half-band filter, other rates by our own [`Resampler`](crate::resample::Resampler) at `Low`
//! quality; 8 kHz input passes through untouched), so every rate is analysed
//! identically and the transforms stay small. Each hop
//! (20 ms, 160 samples), the last 32 ms (256 samples) are windowed (Hann) and
//! transformed: 31.25 Hz bins, of which 100 Hz to 4 kHz are used (the
//! telephone band, present at every supported rate).
//!
//! A per-bin noise floor follows the smoothed power spectrum: it drops quickly
//! to dips and rises at most 4 dB/s (`analysis::FLOOR_RISE_DB_PER_S`), so steady noise and hum
//! end up in the floor and speech stands above it. The features are then
//! relative to that floor, never absolute levels (the absolute gate is
//! applied by [`super::Vad`]):
//!
//! - band SNRs in 8 bands, their mean and their spread (a broadband rise of
//!   the noise lifts every band alike, speech's formants do not);
//! - the mean band SNR over a second floor that rises fast
//!   (20 dB/s, `analysis::FAST_FLOOR_RISE_DB_PER_S`): a noise whose level steps up is inside
//!   it within a second, while speech keeps dipping between syllables;
//! - harmonicity: the normalised periodicity of the floor-relative spectrum
//!   over pitch lags 2.5-14 ms (70-400 Hz), and the pitch jump between hops;
//! - spectral flux between hops;
//! - fine-spectrum stationarity: correlation of the floor-relative spectrum
//!   (100 Hz-2.1 kHz) with the ones 60 ms and 200 ms earlier — high for held musical notes,
//!   low for speech whose harmonics glide and whose formants move;
//! - slow averages (0.3 s and 1 s) of these and the modulation depth of the
//!   band SNR, which carry the syllable rhythm;
//! - pitch constancy: the drift of the (sub-sample) pitch over 60 ms and the
//!   share of voiced hops over 0.3 s whose pitch held within 0.5 %: a
//!   played note holds its pitch exactly, a voice glides and wavers;
//! - the share of low-energy hops over the last second (speech pauses between
//!   syllables, music rarely does) and of decaying hops over 0.2 s (plucked
//!   notes decay steadily, syllables rise and fall).
//! - impulsiveness: the crest of the hop's first difference (its loudest 4 ms
//!   over its mean energy) and its 0.3 s average: clicks, typing and knocks
//!   put their energy into a few milliseconds, speech spreads it.
//!
//! The vector handed out stacks these per-hop values with the ones from
//! 100 ms and 200 ms earlier, so the classifier sees their trajectory; which
//! value sits at which index is named once, in [`layout`].
//!
//! The module is split by concept: `timing` (analysis rate and hop), `layout`
//! (the vector), `source` (conversion to the analysis rate, cutting into hops),
//! `analysis` (the per-hop spectral analysis), `averages` and `fastmath` (its
//! running means and vectorisable arithmetic).
//!
//! Speed: the per-bin loops are written over fixed-size arrays with several
//! accumulators so that they vectorise (and are compiled for AVX2 when the CPU
//! has it, with bit-identical results). The hop is 20 ms because a hop's
//! analysis is most of the cost: with 10 ms hops a 30 ms frame at 16 kHz ran
//! three of them and cost 4.0 µs, with 20 ms hops 2.1 µs, for the same
//! accuracy once retrained (`bench/vad/README.md`); the first version
//! (512-point transforms at 16 kHz, serial loops) took 18 µs. Same machine,
//! `cargo bench -p remotemedia-audio --bench vad`.
//!
//! This type is public so that the offline training script can dump features
//! (see `bench/vad/train.py`); the detector itself is [`super::Vad`].

mod analysis;
mod averages;
mod fastmath;
pub mod layout;
mod source;
mod timing;

use analysis::Analysis;
pub use layout::NUM_FEATURES;
use source::HopSource;
pub use source::converts_to_analysis_rate;
pub use timing::{ANALYSIS_RATE, HOP_LEN, HOP_MS};

/// Computes one [`NUM_FEATURES`]-long feature vector per [`HOP_MS`] hop of mono audio.
///
/// State (rate conversion, window history, noise floor, slow averages)
/// carries across calls; [`FeatureExtractor::reset`] forgets it. No
/// allocation after construction.
pub struct FeatureExtractor {
    source: HopSource,
    analysis: Box<Analysis>,
}

impl std::fmt::Debug for FeatureExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeatureExtractor")
            .field("hops", &self.analysis.hops)
            .finish_non_exhaustive()
    }
}

impl FeatureExtractor {
    /// Builds an extractor for mono input at `sample_rate` Hz (8 000 to
    /// 48 000; [`super::VadConfig::validate`] checks it).
    ///
    /// # Panics
    /// When [`converts_to_analysis_rate`] refuses `sample_rate`.
    pub fn new(sample_rate: u32) -> Self {
        Self {
            source: HopSource::new(sample_rate),
            analysis: Box::new(Analysis::new()),
        }
    }

    /// Forgets all history: the next sample is analysed as the first of a stream.
    pub fn reset(&mut self) {
        self.source.reset();
        self.analysis.reset();
    }

    /// Feeds finite mono samples of any length. For every hop completed,
    /// calls `each` with the hop's feature vector and its mean band SNR (dB
    /// above the noise floor). Hops come out a couple of milliseconds behind
    /// the input at rates other than 8 kHz (the rate converter's latency).
    pub fn push(&mut self, samples: &[f32], mut each: impl FnMut(&[f32; NUM_FEATURES], f32)) {
        let analysis = &mut self.analysis;
        self.source.push(samples, |hop| {
            let snr = analysis.push_hop(hop);
            each(&analysis.out, snr);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::layout::Feature;
    use super::timing::hops;
    use super::*;

    const HARMONICITY: usize = Feature::Harmonicity as usize;
    const MEAN_SNR: usize = Feature::MeanSnr as usize;

    #[test]
    fn every_rate_gives_one_hop_per_hop_ms() {
        for sr in [8_000u32, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000] {
            let mut fe = FeatureExtractor::new(sr);
            let mut hops = 0;
            let second = vec![0.0f32; sr as usize];
            for chunk in second.chunks(997) {
                fe.push(chunk, |_, _| hops += 1);
            }
            // The converter holds back a few milliseconds.
            let expected = 1_000 / HOP_MS;
            assert!((expected - 1..=expected).contains(&hops), "{sr}: {hops}");
        }
    }

    #[test]
    fn a_frame_of_one_hop_completes_its_own_hop_at_every_rate() {
        for sr in [
            8_000u32, 8_010, 9_600, 11_025, 16_000, 22_050, 23_456, 32_000, 44_100, 47_996, 48_000,
        ] {
            let mut fe = FeatureExtractor::new(sr);
            let frame = (sr as usize * HOP_MS).div_ceil(1_000);
            let audio = vec![0.01f32; frame * 50];
            for (i, chunk) in audio.chunks(frame).enumerate() {
                let mut hops = 0;
                fe.push(chunk, |_, _| hops += 1);
                assert_eq!(hops, 1, "{sr} Hz, frame {i}");
            }
        }
    }

    #[test]
    fn harmonic_signal_is_periodic_and_noise_is_not() {
        let sr = 16_000;
        let mut fe = FeatureExtractor::new(sr);
        let mut state = 1u32;
        let mut noise = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let hiss: Vec<f32> = (0..sr).map(|_| 0.01 * noise()).collect();
        let mut noise_harmonicity = Vec::new();
        fe.push(&hiss, |f, _| noise_harmonicity.push(f[HARMONICITY]));
        // The best of 95 lags of a random ripple: about 0.25 on average,
        // single hops up to 0.36; a voiced hop sits clearly above.
        let settled = &noise_harmonicity[hops(500)..];
        let noise_mean = settled.iter().sum::<f32>() / settled.len() as f32;
        assert!(noise_mean < 0.3, "noise harmonicity {noise_mean}");
        let voiced: Vec<f32> = (0..sr / 10)
            .map(|t| {
                let ph = 2.0 * std::f32::consts::PI * 150.0 * t as f32 / sr as f32;
                (1..8).map(|k| (ph * k as f32).sin() / k as f32).sum::<f32>() * 0.1 + 0.01 * noise()
            })
            .collect();
        let mut voiced_features = Vec::new();
        fe.push(&voiced, |f, _| voiced_features.push(*f));
        // Once the 32 ms window holds only the tone: from the second hop of the
        // tone on, which ends 39 ms into it (hops end 1 ms early at 16 kHz, see HopSource).
        // A 150 Hz period is 53.3 samples, so the peak shares two lags and
        // the single-hop value wavers (0.38-0.51); its mean is steady.
        let steady = &voiced_features[1..];
        let mean = steady.iter().map(|f| f[HARMONICITY]).sum::<f32>() / steady.len() as f32;
        assert!(mean > 0.4 && mean > noise_mean + 0.15, "harmonic harmonicity {mean}");
        assert!(
            steady.iter().all(|f| f[HARMONICITY] > 0.3),
            "a voiced hop was called unvoiced"
        );
        assert!(steady.iter().all(|f| f[MEAN_SNR] > 1.0), "harmonic SNR too low");
    }
}
