//! What the detector hands out: per-frame decisions and speech segments.

/// A detected speech segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Start time in seconds from the start of the stream (a frame boundary).
    pub start_s: f64,
    /// End time in seconds (exclusive; a frame boundary).
    pub end_s: f64,
    /// Mean energy over the segment's frames, in dBFS (10·log10 of the mean square).
    pub energy_db: f32,
}

/// The final decision for one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadFrame {
    /// Frame number from the start of the stream.
    pub index: u64,
    /// Start time in seconds.
    pub start_s: f64,
    /// Whether the frame belongs to a speech segment.
    pub is_speech: bool,
    /// The detector's raw score before smoothing: speech probability (speech
    /// mode, 0 when gated) or 1/0 for above/below the threshold (energy mode).
    pub probability: f32,
    /// Frame energy in dBFS (10·log10 of the mean square).
    pub energy_db: f32,
}

/// Where [`Vad::process`](super::Vad::process) and [`Vad::flush`](super::Vad::flush) append their results.
///
/// Reuse one across calls (call [`VadOutput::clear`] after consuming it):
/// once its vectors have grown to the largest batch, nothing is allocated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VadOutput {
    /// Final per-frame decisions, in order.
    pub frames: Vec<VadFrame>,
    /// Segments completed during the call, in order.
    pub segments: Vec<Segment>,
}

impl VadOutput {
    /// An empty output.
    pub fn new() -> Self {
        Self::default()
    }

    /// Empties both lists, keeping their capacity.
    pub fn clear(&mut self) {
        self.frames.clear();
        self.segments.clear();
    }
}

/// Whole-clip result of [`detect`](super::detect).
#[derive(Debug, Clone, PartialEq)]
pub struct VadSummary {
    /// Whether any segment was found.
    pub is_speech: bool,
    /// Frames decided as speech.
    pub speech_frames: u64,
    /// Whole frames in the clip (a trailing partial frame is not counted).
    pub total_frames: u64,
    /// Speech segments.
    pub segments: Vec<Segment>,
    /// Per-frame decisions.
    pub frames: Vec<VadFrame>,
}
