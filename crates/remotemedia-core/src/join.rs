//! Joining the pieces one whole clip produced into one value.
//!
//! A node called on a whole clip may emit several pieces (a resampler emits
//! its tail on flush; a VAD emits per call and on flush). A run in
//! [`crate::RunMode::Clips`] hands on one value per clip, so consecutive
//! audio pieces of one layout are concatenated along time and their VAD
//! results added up. Extra info a foreign runtime attached
//! (`VadInfo::extras`) stays on the joined result: it is the first piece's
//! that has any (the pieces of one clip through one annotating node
//! normally share it).

use std::sync::Arc;

use crate::data::{AudioData, RuntimeData, Samples, Shared, VadInfo};

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
    let mut info: Option<VadInfo> = None;
    for o in pieces.drain(..) {
        if let RuntimeData::Vad { info: i, .. } = o {
            let acc = info.get_or_insert_with(VadInfo::default);
            acc.is_speech |= i.is_speech;
            acc.speech_frames += i.speech_frames;
            acc.total_frames += i.total_frames;
            acc.segments.extend(i.segments.iter().cloned());
            acc.frame_decisions.extend_from_slice(&i.frame_decisions);
            if acc.extras.is_none() {
                acc.extras.clone_from(&i.extras);
            }
        }
    }
    vec![match info {
        Some(info) => RuntimeData::Vad {
            audio,
            info: Arc::new(info),
        },
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
    use super::*;
    use crate::data::{OpaqueValue, SpeechSegment};

    #[test]
    fn joins_planar_audio_and_adds_vad_results() {
        let a = AudioData::new(vec![1.0f32, 2.0, 10.0, 20.0], 2, 8000).unwrap();
        let b = AudioData::new(vec![3.0f32, 30.0], 2, 8000).unwrap();
        let info = |speech: bool| {
            Arc::new(VadInfo {
                is_speech: speech,
                speech_frames: usize::from(speech),
                total_frames: 1,
                segments: if speech {
                    vec![SpeechSegment {
                        start: 0.0,
                        end: 0.03,
                        energy_db: -20.0,
                    }]
                } else {
                    vec![]
                },
                frame_decisions: vec![speech],
                extras: None,
            })
        };
        let merged = join_pieces(vec![
            RuntimeData::Vad {
                audio: a,
                info: info(false),
            },
            RuntimeData::Vad {
                audio: b,
                info: info(true),
            },
        ]);
        let [RuntimeData::Vad { audio, info }] = merged.as_slice() else {
            panic!("{merged:?}")
        };
        assert_eq!(audio.frames(), 3);
        assert_eq!(
            audio.samples(),
            &Samples::from(vec![1.0f32, 2.0, 3.0, 10.0, 20.0, 30.0])
        );
        assert!(info.is_speech);
        assert_eq!((info.speech_frames, info.total_frames), (1, 2));
        assert_eq!(info.frame_decisions, vec![false, true]);
    }

    #[test]
    fn keeps_the_extra_info_of_the_first_piece_that_has_it() {
        let extras: OpaqueValue = Arc::new("extra keys");
        let vad = |frames: usize, extras: Option<OpaqueValue>| RuntimeData::Vad {
            audio: AudioData::new(vec![0.0f32; frames], 1, 8000).unwrap(),
            info: Arc::new(VadInfo {
                extras,
                ..VadInfo::default()
            }),
        };
        let tail = RuntimeData::Audio(AudioData::new(vec![0.0f32; 2], 1, 8000).unwrap());
        let merged = join_pieces(vec![vad(3, None), vad(4, Some(Arc::clone(&extras))), tail]);
        let [RuntimeData::Vad { audio, info }] = merged.as_slice() else {
            panic!("{merged:?}")
        };
        assert_eq!(audio.frames(), 9);
        assert!(Arc::ptr_eq(info.extras.as_ref().unwrap(), &extras));
    }

    #[test]
    fn leaves_non_audio_alone() {
        let outs = vec![RuntimeData::Json(1.into()), RuntimeData::Json(2.into())];
        assert_eq!(join_pieces(outs.clone()), outs);
    }
}
