//! Engine nodes for media: a file reader (source), a track selector and a
//! WAV writer.

mod reader;
mod track;
mod writer;

pub use reader::{MediaReaderNode, MediaReaderParams};
pub use track::{AudioTrackParams, AudioTrackSource};
pub use writer::{MediaWriterNode, MediaWriterParams};

use remotemedia_core::{NodeType, Registry};

/// Registers `MediaReaderNode`, `AudioTrackSource` and `MediaWriterNode` in
/// `registry`.
pub fn register(registry: &mut Registry) {
    registry.register(
        NodeType::new::<MediaReaderParams>(
            "MediaReaderNode",
            "Source: decodes the audio file at path (WAV, FLAC, MP3, OGG/Vorbis, M4A/AAC) into chunks of chunk_size frames at the end of the input.",
        )
        .native(|p: MediaReaderParams| Ok(Box::new(MediaReaderNode::new(p)))),
    );
    registry.register(
        NodeType::new::<AudioTrackParams>(
            "AudioTrackSource",
            "Passes audio on as f32 (channels x frames); drops anything that is not audio.",
        )
        .native(|_: AudioTrackParams| Ok(Box::new(AudioTrackSource))),
    );
    registry.register(
        NodeType::new::<MediaWriterParams>(
            "MediaWriterNode",
            "Writes the audio it receives to output_path as WAV (f32, i16 or i32 as received) and passes it on.",
        )
        .native(|p: MediaWriterParams| Ok(Box::new(MediaWriterNode::new(p)))),
    );
}
