//! `VADNode`.

use std::sync::Arc;

use remotemedia_core::{AudioData, Node, NodeError, NodeParams, ParamError, RuntimeData, SampleFormat, Samples};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::planar;
use super::vad_info::{SpeechSegment, VadInfo};
use crate::vad::{Vad, VadConfig, VadMode, VadOutput, energy_threshold_to_db, mix_planar_to_mono};

/// Params of [`VadNode`]. Unset values take the detector's defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct VadParams {
    /// Frame length in ms: 10, 20 or 30 (default 30).
    pub frame_duration_ms: Option<u32>,
    /// Detector: "speech" (default) or "energy". Passing energy_threshold
    /// without a mode selects "energy", as older scripts expect.
    pub mode: Option<VadMode>,
    /// Level in dBFS. Speech mode: the absolute gate, quieter frames are never
    /// speech (default -60). Energy mode: the activity threshold.
    pub threshold_db: Option<f32>,
    /// Energy mode's threshold as linear RMS (older API; 0.02 is about
    /// -34 dBFS). Ignored when threshold_db is given.
    pub energy_threshold: Option<f32>,
    /// Speech mode: probability (0..1) at or above which a frame is speech.
    pub speech_probability: Option<f32>,
    /// Speech kept after the last active frame, in ms.
    pub hangover_ms: Option<u32>,
    /// Shortest run of active frames that starts a segment, in ms.
    pub min_speech_ms: Option<u32>,
    /// Shortest pause that ends a segment, in ms.
    pub min_silence_ms: Option<u32>,
    /// The sample rate (Hz) the audio is expected at, as older scripts state
    /// it: audio at another rate is refused with an error naming both
    /// (unset: any rate from 8 to 48 kHz).
    pub sample_rate: Option<u32>,
}

impl VadParams {
    fn mode(&self) -> VadMode {
        match (self.mode, self.energy_threshold) {
            (Some(mode), _) => mode,
            (None, Some(_)) => VadMode::Energy,
            (None, None) => VadMode::Speech,
        }
    }

    /// The detector settings for audio at `sample_rate` Hz.
    fn config(&self, sample_rate: u32) -> Result<VadConfig, ParamError> {
        let mut c = VadConfig::for_mode(sample_rate, self.mode());
        if let Some(v) = self.frame_duration_ms {
            c.frame_duration_ms = v;
        }
        if let Some(rms) = self.energy_threshold {
            c.threshold_db =
                energy_threshold_to_db(rms).map_err(|e| ParamError::new("energy_threshold", e.to_string()))?;
        }
        if let Some(v) = self.threshold_db {
            c.threshold_db = v;
        }
        if let Some(v) = self.speech_probability {
            c.speech_probability = v;
        }
        if let Some(v) = self.hangover_ms {
            c.hangover_ms = v;
        }
        if let Some(v) = self.min_speech_ms {
            c.min_speech_ms = v;
        }
        if let Some(v) = self.min_silence_ms {
            c.min_silence_ms = v;
        }
        Ok(c)
    }
}

impl NodeParams for VadParams {
    fn validate(&self) -> Result<(), ParamError> {
        // Check against the stated rate, or a supported one; the rate of
        // real audio is checked when it arrives.
        if let Some(rate) = self.sample_rate
            && !(8_000..=48_000).contains(&rate)
        {
            return Err(ParamError::new(
                "sample_rate",
                format!("must be 8000 to 48000 Hz, got {rate}"),
            ));
        }
        let config = self.config(self.sample_rate.unwrap_or(16_000))?;
        config
            .validate()
            .map_err(|e| ParamError::new(e.field().unwrap_or_default(), e.to_string()))
    }

    fn resolved(self) -> Self {
        let Ok(c) = self.config(self.sample_rate.unwrap_or(16_000)) else {
            return self;
        };
        Self {
            frame_duration_ms: Some(c.frame_duration_ms),
            mode: Some(c.mode),
            threshold_db: Some(c.threshold_db),
            speech_probability: Some(c.speech_probability),
            hangover_ms: Some(c.hangover_ms),
            min_speech_ms: Some(c.min_speech_ms),
            min_silence_ms: Some(c.min_silence_ms),
            ..self
        }
    }
}

/// Detects speech in audio, one continuous stream.
///
/// Multichannel audio is mixed down to mono (the mean of the channels) and
/// integer audio converted to f32 before detection. The audio passes on
/// unchanged (the same buffer), with a [`VadInfo`]: the decisions for the
/// frames judged during this call, and the segments completed during it.
/// Times count from the start of the stream. `flush` judges the held-back
/// frames and closes an open segment; its output carries no audio (zero
/// frames, in the channels, rate and sample format of the audio passed
/// through, so a stream never changes shape at its end) and leaves the
/// detector ready for a new stream. Audio must be
/// between 8 and 48 kHz; a change of rate mid-stream flushes the old stream
/// and starts a new one.
pub struct VadNode {
    params: VadParams,
    vad: Option<Vad>,
    scratch: Vec<f32>,
    mono: Vec<f32>,
    found: VadOutput,
    /// The results handed out last. Once nobody else holds them (called
    /// directly from Python, the caller has converted and dropped them) the
    /// next call refills them in place, which saves allocating the `Arc` and
    /// the decision list on every call.
    info: Arc<VadInfo>,
    /// Shape of the last audio seen, for the zero-frame audio of `flush`.
    last: Option<(usize, u32, SampleFormat)>,
}

impl VadNode {
    /// A node with these params (the detector is built when audio arrives).
    pub fn new(params: VadParams) -> Result<Self, String> {
        params.validate().map_err(|e| e.to_string())?;
        Ok(Self {
            params,
            vad: None,
            scratch: Vec::new(),
            mono: Vec::new(),
            found: VadOutput::new(),
            info: Arc::default(),
            last: None,
        })
    }

    /// The results in `self.found` (which is then cleared), in the
    /// allocation of the last results when nobody holds those any more
    /// (else, e.g. still queued downstream in a pipeline, in a new one).
    fn info(&mut self) -> Arc<VadInfo> {
        let info = match Arc::get_mut(&mut self.info) {
            Some(info) => info,
            None => {
                self.info = Arc::default();
                Arc::get_mut(&mut self.info).expect("just made")
            }
        };
        // Every field is named, so a field added to `VadInfo` cannot keep a
        // stale value from the last results without this failing to compile.
        let VadInfo {
            is_speech,
            speech_frames,
            total_frames,
            segments,
            frame_decisions,
        } = info;
        frame_decisions.clear();
        frame_decisions.extend(self.found.frames.iter().map(|f| f.is_speech));
        *speech_frames = frame_decisions.iter().filter(|&&s| s).count();
        *is_speech = *speech_frames > 0;
        *total_frames = frame_decisions.len();
        segments.clear();
        segments.extend(self.found.segments.iter().map(|s| SpeechSegment {
            start: s.start_s,
            end: s.end_s,
            energy_db: s.energy_db,
        }));
        self.found.clear();
        Arc::clone(&self.info)
    }

    fn finish_stream(&mut self, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let (Some(vad), Some((channels, rate, format))) = (self.vad.as_mut(), self.last) else {
            return Ok(());
        };
        vad.flush(&mut self.found);
        vad.reset();
        if !self.found.frames.is_empty() || !self.found.segments.is_empty() {
            let none = match format {
                SampleFormat::F32 => Samples::from(Vec::<f32>::new()),
                SampleFormat::I16 => Samples::from(Vec::<i16>::new()),
                SampleFormat::I32 => Samples::from(Vec::<i32>::new()),
            };
            let empty = AudioData::new(none, channels, rate).map_err(|e| NodeError::fatal(e.to_string()))?;
            let info = self.info();
            out.push(RuntimeData::Annotated {
                audio: empty,
                annotation: info,
            });
        }
        Ok(())
    }
}

impl Node for VadNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        // Taken out of `input` (not cloned): it is passed on as it is.
        let audio = match input {
            RuntimeData::Audio(audio) | RuntimeData::Annotated { audio, .. } => audio,
            other => return Err(NodeError::invalid_input("VADNode", "audio", other.kind())),
        };
        let rate = audio.sample_rate();
        if let Some(expected) = self.params.sample_rate
            && expected != rate
        {
            return Err(NodeError::fatal(format!(
                "VADNode: audio at {rate} Hz, but the node was built for sample_rate={expected} Hz"
            )));
        }
        if self.vad.as_ref().is_some_and(|v| v.config().sample_rate != rate) {
            self.finish_stream(out)?;
            self.vad = None;
        }
        if self.vad.is_none() {
            let config = self
                .params
                .config(rate)
                .map_err(|e| NodeError::fatal(format!("VADNode: {e}")))?;
            self.vad = Some(Vad::new(config).map_err(|e| NodeError::fatal(format!("VADNode: {e}")))?);
        }
        self.last = Some((audio.channels(), rate, audio.format()));
        let samples = planar::as_f32(&audio, &mut self.scratch)?;
        let mono: &[f32] = if audio.channels() == 1 {
            samples
        } else {
            let frames = audio.frames();
            self.mono.resize(frames, 0.0);
            mix_planar_to_mono(&planar::channels(samples, audio.channels(), frames), &mut self.mono)
                .map_err(|e| NodeError::fatal(format!("VADNode: {e}")))?;
            &self.mono
        };
        self.vad.as_mut().expect("built above").process(mono, &mut self.found);
        let info = self.info();
        out.push(RuntimeData::Annotated {
            audio,
            annotation: info,
        });
        Ok(())
    }

    fn flush(&mut self, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.finish_stream(out)
    }

    fn reset(&mut self) {
        if let Some(v) = &mut self.vad {
            v.reset();
        }
        self.found.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn energy_node() -> VadNode {
        VadNode::new(VadParams {
            mode: Some(VadMode::Energy),
            hangover_ms: Some(0),
            ..VadParams::default()
        })
        .unwrap()
    }

    fn call(node: &mut VadNode, level: f32) -> Arc<VadInfo> {
        let mut out = Vec::new();
        let audio = AudioData::mono_f32(vec![level; 480], 16_000).unwrap();
        node.process(RuntimeData::Audio(audio), &mut out).unwrap();
        match out.pop() {
            Some(RuntimeData::Annotated { annotation, .. }) => {
                let any: Arc<dyn std::any::Any + Send + Sync> = annotation;
                any.downcast().expect("VAD results")
            }
            other => panic!("expected VAD results, got {other:?}"),
        }
    }

    #[test]
    fn results_still_held_are_never_refilled_and_released_ones_are() {
        let mut node = energy_node();
        let loud = call(&mut node, 0.5);
        let quiet = call(&mut node, 0.0);
        assert!(!Arc::ptr_eq(&loud, &quiet));
        assert_eq!((loud.is_speech, loud.speech_frames, loud.total_frames), (true, 1, 1));
        assert_eq!(loud.frame_decisions, [true]);
        assert_eq!(
            (quiet.is_speech, quiet.speech_frames, quiet.total_frames),
            (false, 0, 1)
        );
        assert_eq!(quiet.frame_decisions, [false]);

        let released = Arc::as_ptr(&quiet);
        drop(quiet);
        let next = call(&mut node, 0.5);
        assert_eq!(Arc::as_ptr(&next), released);
        assert_eq!((next.is_speech, next.frame_decisions.as_slice()), (true, &[true][..]));
        assert!(next.segments.is_empty());
    }
}
