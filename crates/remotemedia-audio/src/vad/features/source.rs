//! The way in: input at any supported rate converted to the analysis rate and cut into hops.

use super::super::halfband::{self, HalfBand};
use super::timing::{ANALYSIS_RATE, HOP_LEN};
use crate::resample::{Quality, Resampler};

/// Input samples converted per resampler call (bounds the conversion buffer).
const CONVERT_CHUNK: usize = 2_048;

/// Whether input at `sample_rate` Hz can be converted to [`ANALYSIS_RATE`]:
/// true for every common rate, false for rates whose ratio to it reduces to
/// too many resampler phases (8001 Hz, or any rate sharing no factor above 3
/// with 8000).
pub fn converts_to_analysis_rate(sample_rate: u32) -> bool {
    sample_rate == ANALYSIS_RATE
        || sample_rate == 2 * ANALYSIS_RATE
        || Resampler::new(sample_rate, ANALYSIS_RATE, 1, Quality::Low).is_ok()
}

/// Converts the input to [`ANALYSIS_RATE`] and cuts it into hops.
///
/// The converter holds its newest outputs back for a little while (at most
/// `lead` analysis samples). So that a hop ending on a frame boundary is
/// complete when that frame is, every hop ends `lead` samples early: the
/// first hop starts with `lead` samples of silence. Without this, a 20 ms
/// frame at 16 or 48 kHz was scored by the hop that ended at its start.
pub(super) struct HopSource {
    converter: Converter,
    converted: Vec<f32>,
    hop: [f32; HOP_LEN],
    filled: usize,
    lead: usize,
}

/// How the input reaches [`ANALYSIS_RATE`].
enum Converter {
    /// The input is at the analysis rate.
    Direct,
    /// 16 kHz input: a cheap dedicated 2:1 decimator.
    HalfBand(HalfBand),
    /// Any other rate: the general resampler.
    Resampler(Resampler),
}

impl HopSource {
    pub(super) fn new(sample_rate: u32) -> Self {
        let (converter, converted_len) = match sample_rate {
            ANALYSIS_RATE => (Converter::Direct, 0),
            r if r == 2 * ANALYSIS_RATE => (Converter::HalfBand(HalfBand::new(CONVERT_CHUNK)), CONVERT_CHUNK / 2 + 1),
            r => {
                let resampler = Resampler::new(r, ANALYSIS_RATE, 1, Quality::Low)
                    .unwrap_or_else(|e| panic!("FeatureExtractor::new({r}): {e}"));
                let len = resampler.output_frames_max(CONVERT_CHUNK);
                (Converter::Resampler(resampler), len)
            }
        };
        let lead = match &converter {
            Converter::Direct => 0,
            Converter::HalfBand(_) => halfband::DELAY,
            Converter::Resampler(r) => r.output_delay(),
        };
        assert!(
            lead < HOP_LEN,
            "a converter delay of {lead} samples is longer than a hop"
        );
        Self {
            converter,
            converted: vec![0.0; converted_len],
            hop: [0.0; HOP_LEN],
            filled: lead,
            lead,
        }
    }

    pub(super) fn reset(&mut self) {
        match &mut self.converter {
            Converter::Direct => {}
            Converter::HalfBand(h) => h.reset(),
            Converter::Resampler(r) => r.reset(),
        }
        self.hop[..self.lead].fill(0.0);
        self.filled = self.lead;
    }

    /// Feeds input samples; calls `each` with every hop completed.
    pub(super) fn push(&mut self, samples: &[f32], mut each: impl FnMut(&[f32; HOP_LEN])) {
        for chunk in samples.chunks(CONVERT_CHUNK) {
            let converted = match &mut self.converter {
                Converter::Direct => chunk,
                Converter::HalfBand(h) => {
                    let n = h.process(chunk, &mut self.converted);
                    &self.converted[..n]
                }
                Converter::Resampler(r) => {
                    // The output buffer is sized for CONVERT_CHUNK input frames, so this cannot fail.
                    let n = r
                        .process_into(&[chunk], &mut [&mut self.converted[..]])
                        .expect("conversion buffer sized by output_frames_max");
                    &self.converted[..n]
                }
            };
            Self::cut(&mut self.hop, &mut self.filled, converted, &mut each);
        }
    }

    fn cut(hop: &mut [f32; HOP_LEN], filled: &mut usize, mut samples: &[f32], each: &mut impl FnMut(&[f32; HOP_LEN])) {
        while !samples.is_empty() {
            let take = (HOP_LEN - *filled).min(samples.len());
            hop[*filled..*filled + take].copy_from_slice(&samples[..take]);
            *filled += take;
            samples = &samples[take..];
            if *filled == HOP_LEN {
                *filled = 0;
                each(hop);
            }
        }
    }
}
