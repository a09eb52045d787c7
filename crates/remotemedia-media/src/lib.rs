//! Media input and output for RemoteMedia: streaming decoding of audio
//! files and streams with symphonia (pure Rust), WAV writing with hound,
//! and the engine nodes built on them.
//!
//! Formats read (found from the content, never the file name): WAV (PCM
//! 8/16/24/32-bit, float 32/64, WAVE_FORMAT_EXTENSIBLE, µ-law, A-law), FLAC,
//! MP3, OGG/Vorbis, M4A/MP4 with AAC or ALAC, MKV/WebM audio tracks.

mod decoder;
mod error;
mod input;
mod mp4_edit;
pub mod nodes;
mod pending;
pub mod wav;

pub use decoder::{MediaDecoder, MediaInfo};
pub use error::MediaError;
pub use nodes::register;
