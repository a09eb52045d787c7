//! Why media could not be read or written.

/// A media error. Every variant names the input (`source`: a path, or `-`
/// for standard input) and, where decoding got that far, where it went
/// wrong: the packet number (counted from 0) and the bytes read so far.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The file could not be opened.
    #[error("{source_name}: cannot open: {error}")]
    Open {
        /// The input.
        source_name: String,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// The input could not be read.
    #[error("{source_name}: {error}")]
    Io {
        /// The input.
        source_name: String,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// The input holds no bytes.
    #[error("{source_name}: empty input (0 bytes), not a media file")]
    Empty {
        /// The input.
        source_name: String,
    },
    /// The content is not a format we can read, or its header is damaged.
    #[error("{source_name}: {message} (after reading {bytes_read} bytes)")]
    Format {
        /// The input.
        source_name: String,
        /// What was wrong.
        message: String,
        /// Bytes of the input read when it went wrong.
        bytes_read: u64,
    },
    /// The file holds no audio track.
    #[error("{source_name}: no audio track ({tracks} track(s), none of them audio)")]
    NoAudioTrack {
        /// The input.
        source_name: String,
        /// Tracks found.
        tracks: usize,
    },
    /// The audio's parameters cannot be represented (0 Hz, no channels).
    #[error("{source_name}: unusable audio parameters: {message}")]
    Params {
        /// The input.
        source_name: String,
        /// What was wrong.
        message: String,
    },
    /// Decoding failed in the middle of the stream (not a plain truncation).
    #[error("{source_name}: {message} at packet {packet} (after reading {bytes_read} bytes)")]
    Decode {
        /// The input.
        source_name: String,
        /// What was wrong.
        message: String,
        /// Number of the packet (from 0) that failed.
        packet: u64,
        /// Bytes of the input read when it went wrong.
        bytes_read: u64,
    },
}
