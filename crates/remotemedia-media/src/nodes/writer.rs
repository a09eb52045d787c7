//! `MediaWriterNode`: writes the audio it receives to a WAV file.

use remotemedia_core::{Node, NodeError, NodeParams, ParamError, RuntimeData};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::wav::WavSink;

/// Params of [`MediaWriterNode`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MediaWriterParams {
    /// The WAV file to write (created or replaced at the first audio).
    pub output_path: String,
}

impl NodeParams for MediaWriterParams {
    fn validate(&self) -> Result<(), ParamError> {
        if self.output_path.is_empty() {
            return Err(ParamError::new("output_path", "give the WAV file to write"));
        }
        Ok(())
    }
}

/// Writes every audio input (also the audio of voice-activity results) to
/// `output_path` as WAV in the samples' own format (f32 float, i16 or i32
/// PCM) and passes every input on unchanged. The first audio fixes the
/// file's format, channels and rate; audio of another shape later fails.
/// The header is completed at the end of the stream (flush); a reset ends
/// the file too, and the next audio starts it again from empty. Shapes and
/// lengths a WAV cannot hold fail as in `remotemedia run` (see
/// [`crate::wav`]).
pub struct MediaWriterNode {
    params: MediaWriterParams,
    writer: Option<WavSink>,
}

impl MediaWriterNode {
    /// A node with these params.
    pub fn new(params: MediaWriterParams) -> Self {
        Self { params, writer: None }
    }

    fn finish(&mut self) -> Result<(), NodeError> {
        match self.writer.take() {
            Some(w) => w
                .finish()
                .map(|_| ())
                .map_err(|e| NodeError::fatal(e.to_string()).with_source(e)),
            None => Ok(()),
        }
    }
}

impl Node for MediaWriterNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        if let Some(audio) = input.audio() {
            let writer = self
                .writer
                .get_or_insert_with(|| WavSink::new(self.params.output_path.as_ref()));
            writer
                .write(audio)
                .map_err(|e| NodeError::fatal(e.to_string()).with_source(e))?;
        }
        out.push(input);
        Ok(())
    }

    fn flush(&mut self, _out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.finish()
    }

    fn reset(&mut self) {
        if let Err(e) = self.finish() {
            tracing::warn!("MediaWriterNode: {e}");
        }
    }
}
