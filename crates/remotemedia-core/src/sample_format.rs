//! The PCM sample formats an audio buffer can hold, and their names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A PCM sample format of an audio buffer. Its names (`"f32"`, `"i16"`, `"i32"`) are the ones
/// manifests, the CLI and the Python API use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SampleFormat {
    /// 32-bit IEEE float, full scale is `[-1.0, 1.0]`.
    F32,
    /// 16-bit signed integer, full scale is `[-32768, 32767]`.
    I16,
    /// 32-bit signed integer, full scale is `[-2^31, 2^31 - 1]`.
    I32,
}

impl SampleFormat {
    /// Every format, in the order of their names in error messages.
    pub const ALL: [SampleFormat; 3] = [SampleFormat::F32, SampleFormat::I16, SampleFormat::I32];

    /// The lowercase name: `"f32"`, `"i16"` or `"i32"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::I16 => "i16",
            Self::I32 => "i32",
        }
    }

    /// Size of one sample in bytes.
    pub fn bytes_per_sample(self) -> usize {
        match self {
            Self::I16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }
}

impl fmt::Display for SampleFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a sample format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sample format {0:?}: expected one of \"f32\", \"i16\", \"i32\"")]
pub struct UnknownSampleFormat(pub String);

impl FromStr for SampleFormat {
    type Err = UnknownSampleFormat;

    /// Parses `"f32"`, `"i16"` or `"i32"` (ASCII case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SampleFormat::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownSampleFormat(s.to_owned()))
    }
}
