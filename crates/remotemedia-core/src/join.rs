//! Joining the pieces one whole clip produced into one value.
//!
//! A node called on a whole clip may emit several pieces (a resampler emits
//! its tail on flush; a VAD emits per call and on flush). A run in
//! [`crate::RunMode::Clips`] hands on one value per clip, so consecutive
//! audio pieces of one layout are concatenated along time and their
//! annotations joined by their own rule ([`crate::annotation::join_all`]).

use crate::annotation::join_all;
use crate::data::{AudioData, RuntimeData, Samples, Shared};

/// Joins `pieces` into one value when they are all audio of one layout
/// (channels, rate, format); otherwise returns them unchanged.
pub fn join_pieces(mut pieces: Vec<RuntimeData>) -> Vec<RuntimeData> {
    if pieces.len() < 2 || !pieces.iter().all(|o| o.audio().is_some()) {
        return pieces;
    }
    let first = pieces[0].audio().expect("checked above").clone();
    let compatible = pieces.iter().all(|o| {
        let a = o.audio().expect("checked above");
        a.channels() == first.channels() && a.sample_rate() == first.sample_rate() && a.format() == first.format()
    });
    if !compatible {
        return pieces;
    }
    let non_empty: Vec<&AudioData> = pieces
        .iter()
        .filter_map(RuntimeData::audio)
        .filter(|a| a.frames() > 0)
        .collect();
    let audio = match non_empty.as_slice() {
        [] => first,
        [only] => (*only).clone(),
        many => concat(many),
    };
    let annotation = join_all(pieces.drain(..).filter_map(|p| match p {
        RuntimeData::Annotated { annotation, .. } => Some(annotation),
        _ => None,
    }));
    vec![match annotation {
        Some(annotation) => RuntimeData::Annotated { audio, annotation },
        None => RuntimeData::Audio(audio),
    }]
}

fn concat(parts: &[&AudioData]) -> AudioData {
    let channels = parts[0].channels();
    let rate = parts[0].sample_rate();
    let samples = match parts[0].samples() {
        Samples::F32(_) => Samples::from(join(parts, channels, |s| match s {
            Samples::F32(x) => x,
            _ => unreachable!("formats checked equal"),
        })),
        Samples::I16(_) => Samples::from(join(parts, channels, |s| match s {
            Samples::I16(x) => x,
            _ => unreachable!("formats checked equal"),
        })),
        Samples::I32(_) => Samples::from(join(parts, channels, |s| match s {
            Samples::I32(x) => x,
            _ => unreachable!("formats checked equal"),
        })),
    };
    AudioData::new(samples, channels, rate).expect("whole channels of equal length")
}

/// Planar concatenation: channel `c` of the result is channel `c` of every
/// part, one after the other.
fn join<T: Copy + 'static>(parts: &[&AudioData], channels: usize, get: impl Fn(&Samples) -> &Shared<T>) -> Vec<T> {
    let total: usize = parts.iter().map(|p| p.frames()).sum();
    let mut out = Vec::with_capacity(total * channels);
    for c in 0..channels {
        for p in parts {
            let f = p.frames();
            out.extend_from_slice(&get(p.samples())[c * f..(c + 1) * f]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::*;
    use crate::annotation::Annotation;

    /// Counts frames; joins by adding up.
    #[derive(Debug)]
    struct Frames(u64);

    impl Annotation for Frames {
        fn name(&self) -> &'static str {
            "frames"
        }
        fn to_json(&self) -> Value {
            json!({"frames": self.0})
        }
        fn join(&self, next: &dyn Annotation) -> Option<Arc<dyn Annotation>> {
            Some(Arc::new(Frames(self.0 + next.downcast_ref::<Frames>()?.0)))
        }
    }

    /// Another kind, which joins nothing.
    #[derive(Debug)]
    struct Label;

    impl Annotation for Label {
        fn name(&self) -> &'static str {
            "label"
        }
        fn to_json(&self) -> Value {
            json!({})
        }
        fn join(&self, _next: &dyn Annotation) -> Option<Arc<dyn Annotation>> {
            None
        }
    }

    /// A decoration carrying a note.
    #[derive(Debug)]
    struct Noted(Arc<dyn Annotation>, &'static str);

    impl Annotation for Noted {
        fn name(&self) -> &'static str {
            self.0.name()
        }
        fn to_json(&self) -> Value {
            let mut v = self.0.to_json();
            v["note"] = json!(self.1);
            v
        }
        fn join(&self, next: &dyn Annotation) -> Option<Arc<dyn Annotation>> {
            self.0.join(next)
        }
        fn inner(&self) -> Option<&Arc<dyn Annotation>> {
            Some(&self.0)
        }
        fn decorate(&self, inner: Arc<dyn Annotation>) -> Arc<dyn Annotation> {
            Arc::new(Noted(inner, self.1))
        }
    }

    fn annotated(samples: Vec<f32>, channels: usize, annotation: Arc<dyn Annotation>) -> RuntimeData {
        RuntimeData::Annotated {
            audio: AudioData::new(samples, channels, 8000).unwrap(),
            annotation,
        }
    }

    #[test]
    fn joins_planar_audio_and_annotations() {
        let merged = join_pieces(vec![
            annotated(vec![1.0, 2.0, 10.0, 20.0], 2, Arc::new(Frames(1))),
            annotated(vec![3.0, 30.0], 2, Arc::new(Frames(2))),
        ]);
        let [RuntimeData::Annotated { audio, annotation }] = merged.as_slice() else {
            panic!("{merged:?}")
        };
        assert_eq!(audio.frames(), 3);
        assert_eq!(
            audio.samples(),
            &Samples::from(vec![1.0f32, 2.0, 3.0, 10.0, 20.0, 30.0])
        );
        assert_eq!(annotation.downcast_ref::<Frames>().unwrap().0, 3);
        assert_eq!(merged[0].kind(), "frames");
    }

    #[test]
    fn keeps_the_decoration_of_the_first_piece_that_has_one() {
        let tail = RuntimeData::Audio(AudioData::new(vec![0.0f32; 2], 1, 8000).unwrap());
        let merged = join_pieces(vec![
            annotated(vec![0.0; 3], 1, Arc::new(Frames(3))),
            annotated(vec![0.0; 4], 1, Arc::new(Noted(Arc::new(Frames(4)), "first"))),
            annotated(vec![0.0; 1], 1, Arc::new(Noted(Arc::new(Frames(1)), "second"))),
            tail,
        ]);
        let [RuntimeData::Annotated { audio, annotation }] = merged.as_slice() else {
            panic!("{merged:?}")
        };
        assert_eq!(audio.frames(), 10);
        assert_eq!(annotation.to_json(), json!({"frames": 8, "note": "first"}));
        assert_eq!(
            annotation.downcast_ref::<Frames>().unwrap().0,
            8,
            "downcasts look inside"
        );
    }

    #[test]
    fn keeps_the_first_of_annotations_that_do_not_join() {
        let merged = join_pieces(vec![
            annotated(vec![0.0; 3], 1, Arc::new(Frames(3))),
            annotated(vec![0.0; 4], 1, Arc::new(Label)),
        ]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].annotation().unwrap().to_json(), json!({"frames": 3}));
    }

    #[test]
    fn leaves_non_audio_alone() {
        let outs = vec![RuntimeData::Json(1.into()), RuntimeData::Json(2.into())];
        assert_eq!(join_pieces(outs.clone()), outs);
    }
}
