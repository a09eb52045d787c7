//! Sink outputs to the `audio_outputs` / `data_outputs` maps of a result.
//!
//! Outputs are keyed by the sink node that produced them. When one sink
//! produces several values for one input, its audio buffers are joined in
//! order (they must share rate, channels and format) and its data values
//! become a JSON array. Annotated audio (e.g. with VAD results) goes to both
//! maps (the samples, and the annotation's JSON); text becomes a JSON string
//! and bytes a JSON array of numbers.

use std::collections::{BTreeMap, HashMap};

use remotemedia_core::{RuntimeData, SinkOutput};
use serde_json::Value;

use crate::audio_codec;
use crate::proto::AudioBuffer;
use crate::wire_error::WireError;

/// The two maps of an `ExecutionResult` or `ChunkResult`.
#[derive(Debug, Default, PartialEq)]
pub struct OutputMaps {
    /// Audio by sink node id.
    pub audio: HashMap<String, AudioBuffer>,
    /// JSON text by sink node id.
    pub data: HashMap<String, String>,
    /// Audio samples (frames x channels) in `audio`.
    pub samples: u64,
}

/// Builds the maps from `outputs`, draining it.
pub fn collect(outputs: &mut Vec<SinkOutput>) -> Result<OutputMaps, WireError> {
    let mut audio: BTreeMap<String, AudioBuffer> = BTreeMap::new();
    let mut data: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for SinkOutput { node_id, data: value } in outputs.drain(..) {
        let id = node_id.to_string();
        match value {
            RuntimeData::Audio(a) => join(&mut audio, id, audio_codec::encode(&a))?,
            RuntimeData::Annotated { audio: a, annotation } => {
                data.entry(id.clone()).or_default().push(annotation.to_json());
                join(&mut audio, id, audio_codec::encode(&a))?;
            }
            RuntimeData::Json(v) => data.entry(id).or_default().push(v),
            RuntimeData::Text(t) => data.entry(id).or_default().push(Value::String(t.to_string())),
            RuntimeData::Bytes(b) => data.entry(id).or_default().push(b.iter().copied().collect()),
            RuntimeData::Opaque(_) => {
                return Err(WireError {
                    kind: crate::wire_error::WireErrorKind::NodeExecution,
                    message: format!(
                        "sink \"{id}\" produced a foreign-runtime object, which cannot be sent over the wire"
                    ),
                    node_id: Some(id),
                });
            }
        }
    }
    let samples = audio.values().map(|b| b.num_samples * u64::from(b.channels)).sum();
    let data = data
        .into_iter()
        .map(|(id, mut values)| {
            let v = if values.len() == 1 {
                values.pop().expect("one value")
            } else {
                Value::Array(values)
            };
            (id, v.to_string())
        })
        .collect();
    Ok(OutputMaps {
        audio: audio.into_iter().collect(),
        data,
        samples,
    })
}

fn join(audio: &mut BTreeMap<String, AudioBuffer>, id: String, next: AudioBuffer) -> Result<(), WireError> {
    match audio.get_mut(&id) {
        None => {
            audio.insert(id, next);
        }
        Some(prev) => {
            if (prev.sample_rate, prev.channels, prev.format) != (next.sample_rate, next.channels, next.format) {
                return Err(WireError {
                    kind: crate::wire_error::WireErrorKind::NodeExecution,
                    message: format!(
                        "sink \"{id}\" produced audio of different rates, channels or formats for one input, which one AudioBuffer cannot hold"
                    ),
                    node_id: Some(id),
                });
            }
            prev.samples.extend_from_slice(&next.samples);
            prev.num_samples += next.num_samples;
        }
    }
    Ok(())
}
