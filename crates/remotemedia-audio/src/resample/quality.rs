//! Quality levels of the resampler and the filter specification each one asks for.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ResampleError;
use super::blocks::{TAP_BLOCK, TAP_GRAIN};

/// Resampling quality: the anti-alias filter's pass band, transition width and stop-band
/// attenuation. Longer filters cost proportionally more CPU.
///
/// Figures measured for 48 kHz -> 16 kHz by `bash bench/resample/quality.sh` (worst alias
/// over 8.5-23.5 kHz, SNR against the ideal output on 0-6 kHz noise, the -0.1 dB and -3 dB
/// points; the output delay is 0.000 samples for all three):
///
/// | quality | taps (48->16) | worst alias | broadband SNR | -0.1 dB | -3 dB |
/// |---|---|---|---|---|---|
/// | `Low` | 96 | -74.7 dB | 81.0 dB | 6.51 kHz | 7.14 kHz |
/// | `Medium` | 288 | -117.9 dB | 127.7 dB | 7.46 kHz | 7.75 kHz |
/// | `High` | 32 (48->32) + 320 half-band (32->16) | -137.7 dB | 142.3 dB | 7.73 kHz | 7.93 kHz |
///
/// For reference, soxr HQ measures -138.0 dB / 135.0 dB, flat to 7.45 kHz, with the same script.
///
/// In manifests (the resampling nodes' `quality` param) the names are `"low"`, `"medium"`
/// and `"high"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    /// Pass band to 0.78 x Nyquist, stop band from 1.0625 x Nyquist at 70 dB: cheap, for
    /// previews and speech-only analysis.
    Low,
    /// Pass band to 0.9 x Nyquist, stop band from 1.0625 x Nyquist at 115 dB.
    Medium,
    /// Pass band to 0.91 x Nyquist, stop band from 1.0625 x Nyquist at 145 dB per stage
    /// (designed; the rounded-up filter lengths give more), split into stages where that is
    /// cheaper: at least as clean as soxr HQ (alias <= -130 dB, flat within 0.1 dB to
    /// 0.9 x the lower Nyquist frequency, SNR >= 120 dB) on every pair of common rates.
    #[default]
    High,
}

impl Quality {
    /// The canonical lowercase name: `"low"`, `"medium"` or `"high"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Low => "low",
            Quality::Medium => "medium",
            Quality::High => "high",
        }
    }

    /// Taps per branch come in multiples of this: half blocks for `High`, whose stages
    /// are often short; whole blocks of 16 keep `Low` and `Medium` as they were measured
    /// (and `Low` as the speech detector's front end was trained on it).
    pub(super) fn tap_grain(self) -> usize {
        match self {
            Quality::Low | Quality::Medium => TAP_BLOCK,
            Quality::High => TAP_GRAIN,
        }
    }

    /// Filter specification: (pass-band edge, stop-band edge, stop-band attenuation in dB),
    /// edges as fractions of the lower Nyquist frequency.
    pub(super) fn spec(self) -> FilterSpec {
        match self {
            Quality::Low => FilterSpec {
                pass: 0.78,
                stop: 1.0625,
                atten_db: 70.0,
            },
            Quality::Medium => FilterSpec {
                pass: 0.90,
                stop: 1.0625,
                atten_db: 115.0,
            },
            Quality::High => FilterSpec {
                pass: 0.91,
                stop: 1.0625,
                atten_db: 145.0,
            },
        }
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Quality {
    type Err = ResampleError;

    /// Parses `"low"`, `"medium"` or `"high"` (ASCII case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Quality::Low),
            "medium" => Ok(Quality::Medium),
            "high" => Ok(Quality::High),
            _ => Err(ResampleError::UnknownQuality(s.to_owned())),
        }
    }
}

#[derive(Debug, Clone, Copy)]
/// An anti-alias filter specification: band edges as fractions of the lower Nyquist
/// frequency, stop-band attenuation in dB.
pub(super) struct FilterSpec {
    pub(super) pass: f64,
    pub(super) stop: f64,
    pub(super) atten_db: f64,
}
