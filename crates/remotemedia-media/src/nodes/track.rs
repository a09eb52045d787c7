//! `AudioTrackSource`: the audio of what a reader yields, as f32.

use remotemedia_audio::convert;
use remotemedia_core::{AudioData, NoParams, Node, NodeError, RuntimeData, Samples};

/// Passes audio on as f32 (`channels x frames`), the shape the older SDK's
/// `AudioTrackSource` returned: i16 and i32 are scaled to [-1, 1) (see
/// `remotemedia_audio::convert`), f32 passes as the same buffer, and audio
/// with voice-activity results loses the results. Anything that is not
/// audio is dropped, as the older node dropped what had no audio entry.
#[derive(Debug, Default)]
pub struct AudioTrackSource;

impl Node for AudioTrackSource {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let Some(audio) = input.audio() else {
            return Ok(());
        };
        let samples: Option<Vec<f32>> = match audio.samples() {
            Samples::F32(_) => None,
            Samples::I16(s) => {
                let mut dst = vec![0.0; s.len()];
                convert::i16_to_f32(s, &mut dst).map_err(|e| NodeError::fatal(e.to_string()))?;
                Some(dst)
            }
            Samples::I32(s) => {
                let mut dst = vec![0.0; s.len()];
                convert::i32_to_f32(s, &mut dst).map_err(|e| NodeError::fatal(e.to_string()))?;
                Some(dst)
            }
        };
        let audio = match samples {
            None => audio.clone(),
            Some(s) => {
                AudioData::new(s, audio.channels(), audio.sample_rate()).map_err(|e| NodeError::fatal(e.to_string()))?
            }
        };
        out.push(RuntimeData::Audio(audio));
        Ok(())
    }
}

/// `NoParams` is what [`AudioTrackSource`] takes.
pub type AudioTrackParams = NoParams;
