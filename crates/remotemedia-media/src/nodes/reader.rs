//! `MediaReaderNode`: a source node that decodes a file.

use remotemedia_core::{Node, NodeError, NodeParams, ParamError, RuntimeData};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::decoder::MediaDecoder;

/// Params of [`MediaReaderNode`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MediaReaderParams {
    /// The file to read (WAV, FLAC, MP3, OGG/Vorbis, M4A/AAC, ...; the
    /// format is found from the content).
    pub path: String,
    /// Frames per chunk; the last chunk holds the rest.
    pub chunk_size: usize,
}

impl Default for MediaReaderParams {
    fn default() -> Self {
        Self {
            path: String::new(),
            chunk_size: 4096,
        }
    }
}

impl NodeParams for MediaReaderParams {
    fn validate(&self) -> Result<(), ParamError> {
        if self.path.is_empty() {
            return Err(ParamError::new("path", "give the file to read"));
        }
        if self.chunk_size == 0 {
            return Err(ParamError::new("chunk_size", "must be at least 1 frame"));
        }
        Ok(())
    }
}

/// A source: at the end of the input stream (when the run is flushed) it
/// yields the audio of `path` in chunks of `chunk_size` frames (i16/i32 for
/// integer PCM sources, f32 otherwise: see `MediaInfo::sample_format`), one
/// chunk per engine step ([`Node::has_more`]), so a long file never sits in
/// memory whole. A pipeline made only to read a file is run by flushing it
/// with no input. Inputs it receives before that are passed on unchanged,
/// ahead of the file's audio.
///
/// The file is opened at the first flush; an unreadable or undecodable file
/// fails that call with the decoder's message (file, packet, byte).
/// Decoder warnings (skipped packets, a cut file) are logged with
/// `tracing`. After the file ends (or fails), [`Node::reset`] reads it
/// again from the start at the next flush.
pub struct MediaReaderNode {
    params: MediaReaderParams,
    state: State,
}

enum State {
    Unopened,
    Reading(Box<MediaDecoder>),
    Done,
}

impl MediaReaderNode {
    /// A node with these params.
    pub fn new(params: MediaReaderParams) -> Self {
        Self {
            params,
            state: State::Unopened,
        }
    }
}

impl Node for MediaReaderNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        out.push(input);
        Ok(())
    }

    fn flush(&mut self, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        if matches!(self.state, State::Unopened) {
            let decoder = MediaDecoder::open(self.params.path.as_ref(), self.params.chunk_size).map_err(|e| {
                self.state = State::Done;
                NodeError::fatal(e.to_string()).with_source(e)
            })?;
            self.state = State::Reading(Box::new(decoder));
        }
        let State::Reading(decoder) = &mut self.state else {
            return Ok(());
        };
        match decoder.next() {
            Some(Ok(audio)) => out.push(RuntimeData::Audio(audio)),
            Some(Err(e)) => {
                self.state = State::Done;
                return Err(NodeError::fatal(e.to_string()).with_source(e));
            }
            None => self.state = State::Done,
        }
        Ok(())
    }

    fn has_more(&self) -> bool {
        !matches!(self.state, State::Done)
    }

    fn reset(&mut self) {
        self.state = State::Unopened;
    }
}
