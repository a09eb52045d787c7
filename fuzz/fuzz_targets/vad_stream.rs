//! The VAD kernel on arbitrary settings, samples and chunkings.
//!
//! Oracle: building either fails with an error or succeeds; a stream cut
//! into arbitrary chunks gives exactly the frames and segments of the same
//! samples pushed at once; frames are numbered 0, 1, 2, ... up to the whole
//! frames of the input; segments are ordered, disjoint, inside the input and
//! made of speech frames. Never a panic, whatever the samples (NaN, inf,
//! full scale) or settings.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use remotemedia_audio::vad::{Vad, VadConfig, VadMode, VadOutput};

#[derive(Debug, Arbitrary)]
struct Input {
    /// Mapped into 7 000..=49 000 Hz, so that out-of-range rates come up too.
    rate: u32,
    frame_ms: u8,
    energy: bool,
    threshold_db: f32,
    probability: f32,
    hangover_ms: u16,
    min_speech_ms: u16,
    min_silence_ms: u16,
    /// Samples: `pattern` (as i8 / 128, times `gain`) tiled to `len`.
    len: u16,
    gain: f32,
    pattern: Vec<i8>,
    /// Positions (modulo the length) set to NaN, +inf or -inf.
    specials: Vec<(u16, u8)>,
    /// Chunk lengths, cycled.
    chunks: Vec<u16>,
}

fn samples(input: &Input) -> Vec<f32> {
    if input.pattern.is_empty() {
        return vec![0.0; usize::from(input.len)];
    }
    let mut x: Vec<f32> = (0..usize::from(input.len))
        .map(|i| f32::from(input.pattern[i % input.pattern.len()]) / 128.0 * input.gain)
        .collect();
    if !x.is_empty() {
        let n = x.len();
        for &(at, kind) in &input.specials {
            x[usize::from(at) % n] = match kind % 3 {
                0 => f32::NAN,
                1 => f32::INFINITY,
                _ => f32::NEG_INFINITY,
            };
        }
    }
    x
}

fuzz_target!(|input: Input| {
    let rate = 7_000 + input.rate % 42_001;
    let mode = if input.energy { VadMode::Energy } else { VadMode::Speech };
    let frame_ms = [10, 20, 30, 15][usize::from(input.frame_ms % 4)];
    let config = VadConfig {
        frame_duration_ms: frame_ms,
        threshold_db: input.threshold_db,
        speech_probability: input.probability,
        hangover_ms: u32::from(input.hangover_ms),
        min_speech_ms: u32::from(input.min_speech_ms),
        min_silence_ms: u32::from(input.min_silence_ms),
        ..VadConfig::for_mode(rate, mode)
    };
    let Ok(mut whole) = Vad::new(config) else {
        return;
    };
    let mut chunked = Vad::new(config).expect("the same config built once already");
    let x = samples(&input);

    let mut at_once = VadOutput::new();
    whole.process(&x, &mut at_once);
    let total = whole.total_frames();
    whole.flush(&mut at_once);

    let mut streamed = VadOutput::new();
    let sizes: Vec<usize> = input.chunks.iter().map(|&c| usize::from(c).max(1)).collect();
    let mut rest = &x[..];
    let mut i = 0;
    while !rest.is_empty() {
        let take = sizes
            .get(i % sizes.len().max(1))
            .copied()
            .unwrap_or(rest.len())
            .min(rest.len());
        chunked.process(&rest[..take], &mut streamed);
        rest = &rest[take..];
        i += 1;
    }
    chunked.flush(&mut streamed);
    assert_eq!(streamed, at_once, "chunking changed the result");

    let frame_len = config.frame_len();
    assert_eq!(total, (x.len() / frame_len) as u64);
    assert_eq!(at_once.frames.len() as u64, total);
    for (n, f) in at_once.frames.iter().enumerate() {
        assert_eq!(f.index, n as u64);
        assert!(f.probability.is_finite() && f.energy_db.is_finite(), "{f:?}");
    }
    let end_s = (total as usize * frame_len) as f64 / f64::from(rate);
    let mut last_end = 0.0;
    for s in &at_once.segments {
        assert!(
            s.start_s >= last_end && s.end_s > s.start_s && s.end_s <= end_s + 1e-9,
            "{s:?}"
        );
        assert!(s.energy_db.is_finite(), "{s:?}");
        last_end = s.end_s;
        let first = (s.start_s * f64::from(rate) / frame_len as f64).round() as usize;
        let past = (s.end_s * f64::from(rate) / frame_len as f64).round() as usize;
        assert!(at_once.frames[first..past].iter().all(|f| f.is_speech), "{s:?}");
    }
    let speech = at_once.frames.iter().filter(|f| f.is_speech).count();
    let in_segments: usize = at_once
        .segments
        .iter()
        .map(|s| ((s.end_s - s.start_s) * f64::from(rate) / frame_len as f64).round() as usize)
        .sum();
    assert_eq!(speech, in_segments, "speech frames outside segments");
});
