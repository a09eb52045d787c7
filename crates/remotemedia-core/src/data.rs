//! The values that flow between nodes.
//!
//! [`RuntimeData`] is what one node hands to the next. Audio is planar
//! (`channels x frames`, channel-major in one contiguous buffer) and its
//! samples live behind a reference count: handing a buffer to several
//! downstream nodes (fan-out) clones a pointer, never the samples.

use std::any::Any;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use crate::annotation::Annotation;
use crate::sample_format::SampleFormat;

/// Something that owns a run of samples and can lend them out.
///
/// `Vec<T>` is the usual owner; other owners (a numpy array held by the
/// Python bindings, a memory map) implement this trait so their memory can
/// travel through the engine without a copy.
pub trait SampleStore<T>: Send + Sync + 'static {
    /// The samples.
    fn samples(&self) -> &[T];

    /// True when the store owns its memory outright: nothing outside the
    /// engine can reach it, so the holder of the only reference may hand it
    /// out for writing (the bindings give such a buffer to numpy as a
    /// writeable array). False for memory lent from elsewhere.
    fn owned_outright(&self) -> bool {
        false
    }
}

impl<T: Send + Sync + 'static> SampleStore<T> for Vec<T> {
    fn samples(&self) -> &[T] {
        self
    }

    fn owned_outright(&self) -> bool {
        true
    }
}

/// A reference-counted, immutable run of samples.
///
/// Cloning is a pointer copy; the samples are never written through a
/// `Shared`, so every holder sees the same values.
pub struct Shared<T: 'static> {
    store: Arc<dyn SampleStore<T>>,
}

impl<T: Copy + Send + Sync + 'static> Shared<T> {
    /// Wraps a custom owner.
    pub fn from_store(store: Arc<dyn SampleStore<T>>) -> Self {
        Self { store }
    }

    /// The owner, for bindings that hand the memory on (e.g. to numpy).
    pub fn store(&self) -> &Arc<dyn SampleStore<T>> {
        &self.store
    }

    /// True when both handles point at the same memory.
    pub fn ptr_eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.as_ptr(), other.as_ptr()) && self.len() == other.len()
    }

    /// True when this is the only handle to memory its store owns outright
    /// (see [`SampleStore::owned_outright`]).
    pub fn is_exclusive(&self) -> bool {
        Arc::strong_count(&self.store) == 1 && self.store.owned_outright()
    }
}

impl<T: Copy + Send + Sync + 'static> From<Vec<T>> for Shared<T> {
    fn from(v: Vec<T>) -> Self {
        Self { store: Arc::new(v) }
    }
}

impl<T: 'static> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
        }
    }
}

impl<T: 'static> Deref for Shared<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.store.samples()
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.store.samples();
        write!(f, "Shared(len={}", s.len())?;
        if !s.is_empty() {
            write!(f, ", first={:?}", s[0])?;
        }
        write!(f, ")")
    }
}

impl<T: PartialEq + 'static> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        self.store.samples() == other.store.samples()
    }
}

/// The samples of an audio buffer, in one of the supported formats.
#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    /// 32-bit float samples.
    F32(Shared<f32>),
    /// 16-bit PCM samples.
    I16(Shared<i16>),
    /// 32-bit PCM samples.
    I32(Shared<i32>),
}

impl Samples {
    /// Number of samples over all channels.
    pub fn len(&self) -> usize {
        match self {
            Self::F32(s) => s.len(),
            Self::I16(s) => s.len(),
            Self::I32(s) => s.len(),
        }
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sample format.
    pub fn format(&self) -> SampleFormat {
        match self {
            Self::F32(_) => SampleFormat::F32,
            Self::I16(_) => SampleFormat::I16,
            Self::I32(_) => SampleFormat::I32,
        }
    }

    /// True when this is the only handle to memory owned outright (see
    /// [`Shared::is_exclusive`]).
    pub fn is_exclusive(&self) -> bool {
        match self {
            Self::F32(s) => s.is_exclusive(),
            Self::I16(s) => s.is_exclusive(),
            Self::I32(s) => s.is_exclusive(),
        }
    }

    /// True when both point at the same memory.
    pub fn ptr_eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::F32(a), Self::F32(b)) => a.ptr_eq(b),
            (Self::I16(a), Self::I16(b)) => a.ptr_eq(b),
            (Self::I32(a), Self::I32(b)) => a.ptr_eq(b),
            _ => false,
        }
    }
}

/// A planar audio buffer: `channels` runs of `frames` samples, one after the
/// other, at `sample_rate` Hz.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioData {
    samples: Samples,
    /// Kept as `u32` so that annotated audio stays within
    /// [`RuntimeData`]'s 48 bytes.
    channels: u32,
    sample_rate: u32,
}

/// Why an [`AudioData`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudioError {
    /// `channels` was zero.
    #[error("audio must have at least one channel")]
    NoChannels,
    /// `sample_rate` was zero.
    #[error("sample rate must be positive, got 0 Hz")]
    ZeroSampleRate,
    /// More channels than a `u32` counts.
    #[error("{0} channels are more than {max} supported", max = u32::MAX)]
    TooManyChannels(usize),
    /// The sample count is not a multiple of the channel count.
    #[error("{samples} samples do not split into {channels} equal channels")]
    Ragged {
        /// Total samples given.
        samples: usize,
        /// Channels asked for.
        channels: usize,
    },
}

impl AudioData {
    /// Builds a buffer from planar samples (`channels` runs of equal length).
    pub fn new(samples: impl Into<Samples>, channels: usize, sample_rate: u32) -> Result<Self, AudioError> {
        let samples = samples.into();
        if channels == 0 {
            return Err(AudioError::NoChannels);
        }
        if sample_rate == 0 {
            return Err(AudioError::ZeroSampleRate);
        }
        if samples.len() % channels != 0 {
            return Err(AudioError::Ragged {
                samples: samples.len(),
                channels,
            });
        }
        let channels = u32::try_from(channels).map_err(|_| AudioError::TooManyChannels(channels))?;
        Ok(Self {
            samples,
            channels,
            sample_rate,
        })
    }

    /// Mono f32 audio from a `Vec`.
    pub fn mono_f32(samples: Vec<f32>, sample_rate: u32) -> Result<Self, AudioError> {
        Self::new(samples, 1, sample_rate)
    }

    /// The samples.
    pub fn samples(&self) -> &Samples {
        &self.samples
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.channels as usize
    }

    /// Frames per channel.
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels()
    }

    /// Sample rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.frames() as f64 / f64::from(self.sample_rate)
    }

    /// The sample format.
    pub fn format(&self) -> SampleFormat {
        self.samples.format()
    }
}

macro_rules! samples_from {
    ($t:ty, $variant:ident) => {
        impl From<Shared<$t>> for Samples {
            fn from(s: Shared<$t>) -> Self {
                Self::$variant(s)
            }
        }
        impl From<Vec<$t>> for Samples {
            fn from(v: Vec<$t>) -> Self {
                Self::$variant(Shared::from(v))
            }
        }
    };
}
samples_from!(f32, F32);
samples_from!(i16, I16);
samples_from!(i32, I32);

/// An opaque value owned by a foreign runtime (a Python object).
pub type OpaqueValue = Arc<dyn Any + Send + Sync>;

/// A value flowing between nodes.
#[derive(Clone)]
pub enum RuntimeData {
    /// Audio samples.
    Audio(AudioData),
    /// Audio with what a node found in it (see [`crate::annotation`]).
    Annotated {
        /// The audio, unchanged.
        audio: AudioData,
        /// What was found (shared on fan-out, like the samples).
        annotation: Arc<dyn Annotation>,
    },
    /// A JSON value (numbers, lists, objects).
    Json(serde_json::Value),
    /// Text.
    Text(Arc<str>),
    /// Raw bytes.
    Bytes(Arc<[u8]>),
    /// A value only a foreign runtime understands (a Python object).
    Opaque(OpaqueValue),
}

impl RuntimeData {
    /// A short name of the variant (of annotated audio: the annotation's
    /// [`name`](Annotation::name)), for error messages and JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Audio(_) => "audio",
            Self::Annotated { annotation, .. } => annotation.name(),
            Self::Json(_) => "json",
            Self::Text(_) => "text",
            Self::Bytes(_) => "bytes",
            Self::Opaque(_) => "opaque",
        }
    }

    /// The audio carried, if any (plain or annotated).
    pub fn audio(&self) -> Option<&AudioData> {
        match self {
            Self::Audio(a) | Self::Annotated { audio: a, .. } => Some(a),
            _ => None,
        }
    }

    /// The annotation carried, if any.
    pub fn annotation(&self) -> Option<&Arc<dyn Annotation>> {
        match self {
            Self::Annotated { annotation, .. } => Some(annotation),
            _ => None,
        }
    }

    /// Replaces the audio carried, keeping any annotation.
    ///
    /// Returns `self` unchanged when it carries no audio.
    pub fn with_audio(self, audio: AudioData) -> Self {
        match self {
            Self::Audio(_) => Self::Audio(audio),
            Self::Annotated { annotation, .. } => Self::Annotated { audio, annotation },
            other => other,
        }
    }
}

impl fmt::Debug for RuntimeData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Audio(a) => f.debug_tuple("Audio").field(a).finish(),
            Self::Annotated { audio, annotation } => f
                .debug_struct("Annotated")
                .field("audio", audio)
                .field("annotation", annotation)
                .finish(),
            Self::Json(v) => f.debug_tuple("Json").field(v).finish(),
            Self::Text(t) => f.debug_tuple("Text").field(t).finish(),
            Self::Bytes(b) => write!(f, "Bytes(len={})", b.len()),
            Self::Opaque(_) => f.write_str("Opaque(..)"),
        }
    }
}

impl PartialEq for RuntimeData {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Audio(a), Self::Audio(b)) => a == b,
            (
                Self::Annotated {
                    audio: a,
                    annotation: i,
                },
                Self::Annotated {
                    audio: b,
                    annotation: j,
                },
            ) => a == b && i.same_as(&**j),
            (Self::Json(a), Self::Json(b)) => a == b,
            (Self::Text(a), Self::Text(b)) => a == b,
            (Self::Bytes(a), Self::Bytes(b)) => a == b,
            (Self::Opaque(a), Self::Opaque(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl From<AudioData> for RuntimeData {
    fn from(a: AudioData) -> Self {
        Self::Audio(a)
    }
}

impl From<serde_json::Value> for RuntimeData {
    fn from(v: serde_json::Value) -> Self {
        Self::Json(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_data_stays_small() {
        // Every hop moves a RuntimeData; keep it within a cache line.
        assert!(
            std::mem::size_of::<RuntimeData>() <= 48,
            "{}",
            std::mem::size_of::<RuntimeData>()
        );
    }

    #[test]
    fn clone_shares_samples() {
        let a = AudioData::mono_f32(vec![0.5; 960], 48_000).unwrap();
        let b = a.clone();
        assert!(a.samples().ptr_eq(b.samples()));
    }

    #[test]
    fn rejects_bad_shapes() {
        assert_eq!(
            AudioData::new(vec![0.0f32; 5], 2, 16_000),
            Err(AudioError::Ragged {
                samples: 5,
                channels: 2
            })
        );
        assert_eq!(AudioData::new(vec![0.0f32; 4], 0, 16_000), Err(AudioError::NoChannels));
        assert_eq!(AudioData::new(vec![0i16; 4], 1, 0), Err(AudioError::ZeroSampleRate));
    }

    #[test]
    fn frames_and_duration() {
        let a = AudioData::new(vec![0i16; 2 * 8000], 2, 16_000).unwrap();
        assert_eq!(a.frames(), 8000);
        assert_eq!(a.channels(), 2);
        assert!((a.duration_s() - 0.5).abs() < 1e-12);
        assert_eq!(a.format(), SampleFormat::I16);
    }
}
