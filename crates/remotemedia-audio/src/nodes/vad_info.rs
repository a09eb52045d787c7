//! What `VADNode` finds: the annotation it puts on the audio it passes on.

use std::sync::Arc;

use remotemedia_core::Annotation;
use remotemedia_core::annotation::AnnotationKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One stretch of speech found by a voice activity detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeechSegment {
    /// Start, in seconds from the start of the stream (or clip).
    pub start: f64,
    /// End, in seconds from the start of the stream (or clip).
    pub end: f64,
    /// Mean energy of the segment in dBFS.
    pub energy_db: f32,
}

/// What a voice activity detector found in one buffer: the annotation
/// `"vad"`. Its JSON form is the object of these fields (all required when
/// read back, see [`VAD_KIND`]).
///
/// The results of consecutive pieces of one clip join by adding up: speech
/// anywhere, the frame counts summed, the segments and decisions one after
/// the other.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VadInfo {
    /// True when any frame of this buffer is speech.
    pub is_speech: bool,
    /// Frames of this buffer judged speech.
    pub speech_frames: usize,
    /// Frames of this buffer judged.
    pub total_frames: usize,
    /// Segments completed while processing this buffer.
    pub segments: Vec<SpeechSegment>,
    /// The decision for every frame judged, in order.
    pub frame_decisions: Vec<bool>,
}

impl Annotation for VadInfo {
    fn name(&self) -> &'static str {
        "vad"
    }

    fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("VAD results serialize")
    }

    fn join(&self, next: &dyn Annotation) -> Option<Arc<dyn Annotation>> {
        let next = next.downcast_ref::<Self>()?;
        let mut joined = self.clone();
        joined.is_speech |= next.is_speech;
        joined.speech_frames += next.speech_frames;
        joined.total_frames += next.total_frames;
        joined.segments.extend_from_slice(&next.segments);
        joined.frame_decisions.extend_from_slice(&next.frame_decisions);
        Some(Arc::new(joined))
    }

    /// No frame decided and no segment completed.
    fn is_empty(&self) -> bool {
        self.frame_decisions.is_empty() && self.segments.is_empty()
    }
}

/// VAD results as a kind of annotation that can be read back from JSON
/// (registered by [`crate::register`]): an object with every field of
/// [`VadInfo`] (other keys are ignored).
pub const VAD_KIND: AnnotationKind = AnnotationKind {
    name: "vad",
    from_json: |value| {
        let info: VadInfo = serde_json::from_value(value.clone()).ok()?;
        Some(Arc::new(info))
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn joins_by_adding_up_and_reads_back_its_json() {
        let a = VadInfo {
            is_speech: false,
            speech_frames: 0,
            total_frames: 1,
            segments: vec![],
            frame_decisions: vec![false],
        };
        let b = VadInfo {
            is_speech: true,
            speech_frames: 1,
            total_frames: 1,
            segments: vec![SpeechSegment {
                start: 0.0,
                end: 0.03,
                energy_db: -20.0,
            }],
            frame_decisions: vec![true],
        };
        let joined = a.join(&b).unwrap();
        let info = joined.downcast_ref::<VadInfo>().unwrap();
        assert!(info.is_speech);
        assert_eq!((info.speech_frames, info.total_frames), (1, 2));
        assert_eq!(info.frame_decisions, [false, true]);
        assert_eq!(info.segments, b.segments);
        let back = (VAD_KIND.from_json)(&joined.to_json()).unwrap();
        assert_eq!(back.downcast_ref::<VadInfo>(), Some(info));
        assert!((VAD_KIND.from_json)(&json!({"is_speech": true})).is_none());
        assert!(!joined.is_empty() && VadInfo::default().is_empty());
    }
}
