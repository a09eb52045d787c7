//! Turns raw per-frame activity into final frame decisions and segments.
//!
//! A run of active frames becomes speech once it lasts `min_speech_frames`
//! (the segment then starts at the run's first frame); a segment ends once
//! `close_after` frames in a row are inactive, and its end is the last
//! active frame plus `hangover_frames`. After a gap, a run of activity keeps
//! an open segment going only once it lasts `rejoin_frames` (shorter runs
//! count as inactive; one still going when the segment closes stays pending
//! and may start the next segment). Both edges are first fitted to the
//! signal's SNR ([`EdgeFit`]): the classifier looks at the last few hundred
//! milliseconds, so it is a little late both ways, the instantaneous SNR is
//! not. A confirmed segment's start is moved back over up to `lead_frames`
//! inactive frames just before it whose SNR is at least `lead_snr_db` (speech
//! rising out of the noise before the classifier is sure), and up to
//! `trim_frames` trailing active frames whose SNR is below `trim_snr_db` are
//! cut off its end. (Moving the end on over frames above the floor, the
//! mirror image of the lead-in, was tried and dropped: the smoothed SNR
//! stays high for a few hops after speech stops, so ends came out late in
//! quiet conditions and no better in noise.) Frames whose
//! fate is still open wait in a queue of fixed capacity, so every emitted
//! decision is final and agrees with the segments.

use std::collections::VecDeque;

use super::output::{Segment, VadFrame};

/// How segment edges are fitted to the per-frame SNR (see the module docs).
/// Durations are in frames; [`EdgeFit::NONE`] leaves the edges alone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct EdgeFit {
    pub lead_frames: u64,
    pub lead_snr_db: f32,
    pub trim_frames: u64,
    pub trim_snr_db: f32,
    /// Whether a confirmed segment also takes in the shorter runs of activity
    /// just before it, separated by gaps shorter than the minimum silence.
    pub merge_runs: bool,
    /// Active frames in a row that an open segment needs after a gap to go
    /// on: shorter runs in a pause count as inactive (a click or a drum hit
    /// does not hold a segment open across the pause). 1 takes every frame.
    pub rejoin_frames: u64,
}

impl EdgeFit {
    /// Edges exactly where the activity puts them.
    pub const NONE: Self = Self {
        lead_frames: 0,
        lead_snr_db: f32::INFINITY,
        trim_frames: 0,
        trim_snr_db: f32::NEG_INFINITY,
        merge_runs: false,
        rejoin_frames: 1,
    };
}

/// A frame waiting for its final decision.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingFrame {
    pub index: u64,
    pub active: bool,
    pub probability: f32,
    pub mean_square: f64,
    pub snr_db: f32,
}

/// Segment bookkeeping state (see the module docs).
#[derive(Debug)]
pub(crate) struct Segmenter {
    frame_len: u64,
    sample_rate: f64,
    min_speech_frames: u64,
    hangover_frames: u64,
    close_after: u64,
    edges: EdgeFit,
    /// Inactive frames kept pending outside a segment (for the lead-in and
    /// for merging earlier runs).
    hold_frames: u64,
    pending: VecDeque<PendingFrame>,
    in_segment: bool,
    run_len: u64,
    /// Inside a segment: active frames in a row since the last inactive one.
    rejoin_len: u64,
    seg_start: u64,
    last_active: u64,
    seg_energy: f64,
    seg_frames: u64,
    speech_frames: u64,
    decided_frames: u64,
}

impl Segmenter {
    /// Builds a segmenter; durations are in frames.
    pub fn new(
        frame_len: usize,
        sample_rate: u32,
        min_speech_frames: u64,
        min_silence_frames: u64,
        hangover_frames: u64,
        edges: EdgeFit,
    ) -> Self {
        let close_after = min_silence_frames.max(hangover_frames).max(1);
        let edges = EdgeFit {
            rejoin_frames: edges.rejoin_frames.clamp(1, min_speech_frames.max(1)),
            ..edges
        };
        let hold_frames = if edges.merge_runs {
            edges.lead_frames.max(close_after + min_speech_frames)
        } else {
            edges.lead_frames
        };
        let capacity = ((min_speech_frames + hold_frames).max(close_after + edges.trim_frames) + 2) as usize;
        Self {
            frame_len: frame_len as u64,
            sample_rate: f64::from(sample_rate),
            min_speech_frames: min_speech_frames.max(1),
            hangover_frames,
            close_after,
            edges,
            hold_frames,
            pending: VecDeque::with_capacity(capacity),
            in_segment: false,
            run_len: 0,
            rejoin_len: 0,
            seg_start: 0,
            last_active: 0,
            seg_energy: 0.0,
            seg_frames: 0,
            speech_frames: 0,
            decided_frames: 0,
        }
    }

    /// Most frames a decision waits after its frame: held before a run plus
    /// the run to confirm, or the silence that closes a segment plus the
    /// trimmed tail.
    pub fn max_delay_frames(&self) -> u64 {
        (self.hold_frames + self.min_speech_frames).max(self.close_after + self.edges.trim_frames)
    }

    /// Forgets the stream.
    pub fn reset(&mut self) {
        self.pending.clear();
        self.in_segment = false;
        self.run_len = 0;
        self.rejoin_len = 0;
        self.seg_energy = 0.0;
        self.seg_frames = 0;
        self.speech_frames = 0;
        self.decided_frames = 0;
    }

    /// Whether a segment is open (speech confirmed and not yet ended).
    pub fn in_segment(&self) -> bool {
        self.in_segment
    }

    /// Frames whose decision has been emitted, and how many of them were speech.
    pub fn counts(&self) -> (u64, u64) {
        (self.decided_frames, self.speech_frames)
    }

    /// Start time in seconds of frame `index`.
    fn time_of(&self, index: u64) -> f64 {
        (index * self.frame_len) as f64 / self.sample_rate
    }

    /// Feeds the next frame's raw activity.
    pub fn push(&mut self, frame: PendingFrame, frames: &mut Vec<VadFrame>, segments: &mut Vec<Segment>) {
        self.pending.push_back(frame);
        if self.in_segment {
            self.rejoin_len = if frame.active { self.rejoin_len + 1 } else { 0 };
            let goes_on = frame.index == self.last_active + 1 || self.rejoin_len >= self.edges.rejoin_frames;
            if frame.active && goes_on {
                self.last_active = frame.index;
                let keep_from = frame.index.saturating_sub(self.edges.trim_frames);
                self.emit_while(|f| f.index <= keep_from, true, frames);
            } else if frame.index - self.last_active >= self.close_after {
                let end = self.trimmed_last_active() + 1 + self.hangover_frames;
                // A run still too short to rejoin stays pending (what of it the
                // hangover did not take): it may start the next segment.
                self.close(end, frame.index + 1 - self.rejoin_len, frames, segments);
                self.run_len = self.pending.len() as u64;
            }
        } else if frame.active {
            self.run_len += 1;
            if self.run_len >= self.min_speech_frames {
                self.in_segment = true;
                let run_start = frame.index + 1 - self.run_len;
                self.seg_start = self.lead_in(self.merged_start(run_start));
                self.last_active = frame.index;
                self.seg_energy = 0.0;
                self.seg_frames = 0;
                let start = self.seg_start;
                self.emit_while(|f| f.index < start, false, frames);
                self.emit_all(true, frames);
            }
        } else {
            self.run_len = 0;
            // Keep the frames a segment confirmed later may still take in.
            let hold = self.hold_frames;
            self.emit_while(|f| f.index + hold <= frame.index, false, frames);
        }
    }

    /// With `merge_runs`, the first frame of the earliest pending run of
    /// activity chained to `run_start` by gaps shorter than the minimum
    /// silence (what would have been one segment had that run lasted). Runs
    /// shorter than `rejoin_frames` are not taken in and count as gap.
    fn merged_start(&self, run_start: u64) -> u64 {
        let Some(front) = self.pending.front() else {
            return run_start;
        };
        if !self.edges.merge_runs {
            return run_start;
        }
        let mut start = run_start;
        let mut gap = 0;
        let mut run = 0;
        let mut i = run_start;
        while i > front.index && gap < self.close_after {
            i -= 1;
            if self.pending[(i - front.index) as usize].active {
                run += 1;
                continue;
            }
            if run >= self.edges.rejoin_frames {
                start = i + 1;
                gap = 0;
            } else {
                gap += run;
            }
            run = 0;
            gap += 1;
        }
        if run >= self.edges.rejoin_frames && gap < self.close_after {
            start = i;
        }
        start
    }

    /// The start of a segment whose first active frame is `run_start`, moved
    /// back over the pending inactive frames just before it whose SNR is at
    /// least `lead_snr_db` (at most `lead_frames` of them).
    fn lead_in(&self, run_start: u64) -> u64 {
        let Some(front) = self.pending.front() else {
            return run_start;
        };
        let mut start = run_start;
        while start > front.index
            && run_start - start < self.edges.lead_frames
            && self.pending[(start - 1 - front.index) as usize].snr_db >= self.edges.lead_snr_db
        {
            start -= 1;
        }
        start
    }

    /// Ends the stream at `total_frames`: an open segment is closed there (with
    /// its hangover cut at the end), an unconfirmed run is dropped.
    pub fn flush(&mut self, total_frames: u64, frames: &mut Vec<VadFrame>, segments: &mut Vec<Segment>) {
        if self.in_segment {
            let end = (self.trimmed_last_active() + 1 + self.hangover_frames).min(total_frames);
            self.close(end, u64::MAX, frames, segments);
        }
        self.run_len = 0;
        self.emit_all(false, frames);
    }

    /// The last active frame after cutting trailing low-SNR frames (only
    /// frames still pending, never before the segment start).
    fn trimmed_last_active(&self) -> u64 {
        let Some(front) = self.pending.front() else {
            return self.last_active;
        };
        let first = front.index.max(self.seg_start + 1);
        let mut last = self.last_active;
        while last >= first && last > 0 {
            let f = &self.pending[(last - front.index) as usize];
            if f.snr_db >= self.edges.trim_snr_db {
                break;
            }
            last -= 1;
        }
        last
    }

    /// Closes the open segment at frame `end` (exclusive); the frames after it
    /// are decided non-speech up to `keep_from`, the rest stay pending.
    fn close(&mut self, end: u64, keep_from: u64, frames: &mut Vec<VadFrame>, segments: &mut Vec<Segment>) {
        self.emit_while(|f| f.index < end, true, frames);
        self.emit_while(|f| f.index < keep_from, false, frames);
        let energy = self.seg_energy / self.seg_frames.max(1) as f64;
        segments.push(Segment {
            start_s: self.time_of(self.seg_start),
            end_s: self.time_of(end),
            energy_db: (10.0 * (energy + 1e-20).log10()) as f32,
        });
        self.in_segment = false;
        self.run_len = 0;
        self.rejoin_len = 0;
    }

    fn emit_all(&mut self, speech: bool, frames: &mut Vec<VadFrame>) {
        self.emit_while(|_| true, speech, frames);
    }

    fn emit_while(&mut self, cond: impl Fn(&PendingFrame) -> bool, speech: bool, frames: &mut Vec<VadFrame>) {
        while let Some(f) = self.pending.front().copied() {
            if !cond(&f) {
                break;
            }
            self.pending.pop_front();
            if speech {
                self.seg_energy += f.mean_square;
                self.seg_frames += 1;
                self.speech_frames += 1;
            }
            self.decided_frames += 1;
            frames.push(VadFrame {
                index: f.index,
                start_s: self.time_of(f.index),
                is_speech: speech,
                probability: f.probability,
                energy_db: (10.0 * (f.mean_square + 1e-20).log10()) as f32,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Segments (start, end frame) and per-frame decisions for a pattern of activity ('#' active).
    fn run(pattern: &str, rejoin_frames: u64) -> (Vec<(u64, u64)>, String) {
        run_with_hangover(pattern, rejoin_frames, 0)
    }

    fn run_with_hangover(pattern: &str, rejoin_frames: u64, hangover: u64) -> (Vec<(u64, u64)>, String) {
        let edges = EdgeFit {
            rejoin_frames,
            ..EdgeFit::NONE
        };
        // 100 frames per second, so a frame's start time in ms / 10 is its index.
        let mut seg = Segmenter::new(160, 16_000, 3, 4, hangover, edges);
        let (mut frames, mut segments) = (Vec::new(), Vec::new());
        for (i, c) in pattern.chars().enumerate() {
            let frame = PendingFrame {
                index: i as u64,
                active: c == '#',
                probability: 0.0,
                mean_square: 1e-4,
                snr_db: 0.0,
            };
            seg.push(frame, &mut frames, &mut segments);
        }
        seg.flush(pattern.len() as u64, &mut frames, &mut segments);
        assert_eq!(frames.len(), pattern.len());
        assert!(frames.iter().enumerate().all(|(i, f)| f.index == i as u64));
        let decided = frames.iter().map(|f| if f.is_speech { '#' } else { '.' }).collect();
        let spans = segments
            .iter()
            .map(|s| ((s.start_s * 100.0).round() as u64, (s.end_s * 100.0).round() as u64))
            .collect();
        (spans, decided)
    }

    #[test]
    fn a_lone_frame_in_a_pause_does_not_hold_the_segment_open() {
        let pattern = "######..#......";
        assert_eq!(run(pattern, 1), (vec![(0, 9)], "#########......".into()));
        assert_eq!(run(pattern, 2), (vec![(0, 6)], "######.........".into()));
    }

    #[test]
    fn a_long_enough_run_rejoins_and_a_short_one_may_start_the_next_segment() {
        assert_eq!(run("######..##.....", 2), (vec![(0, 10)], "##########.....".into()));
        // The run at 9 is too short to rejoin when the silence ends the segment,
        // but it is kept and becomes the next segment once it lasts the minimum speech.
        let (spans, decided) = run("######...###....", 2);
        assert_eq!(spans, vec![(0, 6), (9, 12)]);
        assert_eq!(decided, "######...###....");
        assert_eq!(run("######...###....", 1), (vec![(0, 12)], "############....".into()));
        // A hangover that covers the start of the run takes it into the segment; what is
        // left of the run is too short for a segment of its own, and none overlaps.
        assert_eq!(
            run_with_hangover("######...###....", 2, 4),
            (vec![(0, 10)], "##########......".into())
        );
    }

    #[test]
    fn decisions_wait_at_most_the_delay_bound_and_agree_with_the_segments() {
        // Without a hangover, and with one longer than the minimum silence.
        for hangover in [0, 7] {
            bounded_and_consistent(hangover);
        }
    }

    fn bounded_and_consistent(hangover: u64) {
        let mut state = 7u32;
        let edges = EdgeFit {
            lead_frames: 2,
            lead_snr_db: 3.0,
            trim_frames: 5,
            trim_snr_db: 5.0,
            merge_runs: true,
            rejoin_frames: 2,
        };
        let mut seg = Segmenter::new(480, 16_000, 6, 5, hangover, edges);
        let (mut frames, mut segments) = (Vec::new(), Vec::new());
        let total = 20_000u64;
        for index in 0..total {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            // Bursts of activity of every length, with isolated frames in the pauses.
            let active = (index / 9 % 3 == 0) ^ (state >> 28 == 0);
            let frame = PendingFrame {
                index,
                active,
                probability: 0.5,
                mean_square: 1e-4,
                snr_db: (state >> 24 & 15) as f32,
            };
            seg.push(frame, &mut frames, &mut segments);
            assert!(
                index + 1 - frames.len() as u64 <= seg.max_delay_frames() + 1,
                "hangover {hangover}, frame {index}"
            );
        }
        seg.flush(total, &mut frames, &mut segments);
        assert_eq!(frames.len() as u64, total);
        assert!(
            segments.windows(2).all(|w| w[0].end_s <= w[1].start_s),
            "hangover {hangover}"
        );
        let mut from_segments = vec![false; total as usize];
        for s in &segments {
            let (a, b) = ((s.start_s / 0.03).round() as usize, (s.end_s / 0.03).round() as usize);
            from_segments[a..b].fill(true);
        }
        for (i, f) in frames.iter().enumerate() {
            assert_eq!(f.index, i as u64);
            assert_eq!(f.is_speech, from_segments[i], "hangover {hangover}, frame {i}");
        }
    }
}
