//! VAD kernel tests through the public API: configuration, edge cases, streaming
//! bookkeeping and accuracy on synthetic signals.

use std::f32::consts::PI;

use proptest::prelude::*;
use remotemedia_audio::vad::{
    Segment, Vad, VadConfig, VadError, VadMode, VadOutput, detect, energy_threshold_to_db, mix_interleaved_to_mono,
    mix_planar_to_mono,
};

const RATES: [u32; 7] = [8_000, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000];

/// Deterministic uniform noise in [-0.5, 0.5).
struct Lcg(u32);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (self.0 >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    }
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

fn scale_to_dbfs(x: &mut [f32], dbfs: f32) {
    let g = 10f32.powf(dbfs / 20.0) / rms(x).max(1e-12);
    x.iter_mut().for_each(|v| *v *= g);
}

/// Pink noise (Paul Kellet's filter over white noise), unit RMS.
fn pink(n: usize, seed: u32) -> Vec<f32> {
    let mut rng = Lcg(seed);
    let mut b = [0.0f32; 3];
    let mut out: Vec<f32> = (0..n)
        .map(|_| {
            let w = rng.next();
            b[0] = 0.99765 * b[0] + w * 0.099_046;
            b[1] = 0.96300 * b[1] + w * 0.296_516_4;
            b[2] = 0.57000 * b[2] + w * 1.052_691_3;
            b[0] + b[1] + b[2] + w * 0.1848
        })
        .collect();
    scale_to_dbfs(&mut out, 0.0);
    out
}

/// Voiced-speech-like signal: gliding pitch, three moving formants, syllables
/// at ~4 Hz grouped in 1.2 s phrases with pauses. Returns the signal and the
/// phrase intervals in seconds. Unit RMS over the phrases.
fn voiced(sr: u32, seconds: f32, seed: u32) -> (Vec<f32>, Vec<(f32, f32)>) {
    let n = (seconds * sr as f32) as usize;
    let mut rng = Lcg(seed);
    let mut out = vec![0.0f32; n];
    let mut phrases = Vec::new();
    let mut t0 = 1.0f32;
    while t0 + 1.2 < seconds - 0.5 {
        phrases.push((t0, t0 + 1.2));
        t0 += 1.2 + 0.8 + 0.4 * (rng.next() + 0.5);
    }
    let mut phase = 0.0f32;
    for (i, o) in out.iter_mut().enumerate() {
        let t = i as f32 / sr as f32;
        let Some(&(a, _)) = phrases.iter().find(|(a, b)| t >= *a && t < *b) else {
            continue;
        };
        let u = t - a;
        let f0 = 140.0 + 30.0 * (2.0 * PI * 0.7 * u).sin() - 20.0 * u;
        phase += 2.0 * PI * f0 / sr as f32;
        let syl = (PI * u / 0.25).sin().abs().powf(0.6);
        let f1 = 500.0 + 250.0 * (2.0 * PI * 3.0 * u).sin();
        let f2 = 1500.0 + 500.0 * (2.0 * PI * 2.1 * u).cos();
        let mut s = 0.0;
        let mut k = 1.0f32;
        while k * f0 < 3800.0_f32.min(sr as f32 / 2.0 - 100.0) {
            let f = k * f0;
            let res = |fc: f32, bw: f32| 1.0 / (1.0 + ((f - fc) / bw).powi(2));
            let amp = res(f1, 120.0) + 0.6 * res(f2, 180.0) + 0.3 * res(2600.0, 250.0) + 0.05;
            s += amp * (phase * k).sin();
            k += 1.0;
        }
        *o = s * syl;
    }
    let speech: Vec<f32> = phrases
        .iter()
        .flat_map(|&(a, b)| out[(a * sr as f32) as usize..(b * sr as f32) as usize].to_vec())
        .collect();
    let g = 1.0 / rms(&speech);
    out.iter_mut().for_each(|v| *v *= g);
    (out, phrases)
}

/// Mains hum: 50 Hz with harmonics, unit RMS.
fn hum(sr: u32, n: usize) -> Vec<f32> {
    let mut out: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f32 / sr as f32;
            (1..10)
                .map(|k| {
                    let a = if k % 2 == 1 { 1.0 } else { 0.4 } / k as f32;
                    a * (2.0 * PI * 50.0 * k as f32 * t).sin()
                })
                .sum()
        })
        .collect();
    scale_to_dbfs(&mut out, 0.0);
    out
}

/// Chords of harmonic notes changing every 0.6 s, plus plucked decaying notes; unit RMS.
fn chords(sr: u32, n: usize) -> Vec<f32> {
    let progression = [[220.0, 261.6, 329.6], [174.6, 220.0, 261.6], [196.0, 246.9, 293.7]];
    let melody = [440.0, 392.0, 523.3, 493.9, 349.2, 329.6];
    let mut out: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f32 / sr as f32;
            let chord = progression[(t / 0.6) as usize % 3];
            let tc = t % 0.6;
            let mut s = 0.0;
            for f in chord {
                for k in 1..6 {
                    s += 0.5 / k as f32 * (2.0 * PI * f * k as f32 * t).sin() * (-tc).exp();
                }
            }
            let tn = t % 0.3;
            let f = melody[(t / 0.3) as usize % melody.len()];
            for k in 1..8 {
                let decay = (-tn * (4.0 + 2.0 * k as f32)).exp();
                s += decay / k as f32 * (2.0 * PI * f * k as f32 * t).sin();
            }
            s
        })
        .collect();
    scale_to_dbfs(&mut out, 0.0);
    out
}

fn add_scaled(a: &[f32], b: &[f32], gb: f32) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| x + gb * y).collect()
}

/// Share of the phrase time covered by segments, and of the non-phrase time covered.
fn coverage(segments: &[Segment], phrases: &[(f32, f32)], seconds: f32) -> (f64, f64) {
    let step = 0.005;
    let (mut hit, mut pos, mut fa, mut neg) = (0, 0, 0, 0);
    let mut t = 0.0f64;
    while t < f64::from(seconds) {
        let in_ref = phrases.iter().any(|&(a, b)| t >= f64::from(a) && t < f64::from(b));
        let in_hyp = segments.iter().any(|s| t >= s.start_s && t < s.end_s);
        if in_ref {
            pos += 1;
            hit += usize::from(in_hyp);
        } else {
            neg += 1;
            fa += usize::from(in_hyp);
        }
        t += step;
    }
    (hit as f64 / pos.max(1) as f64, fa as f64 / neg.max(1) as f64)
}

#[test]
fn config_validation_rejects_bad_values() {
    let ok = VadConfig::new(16_000);
    assert_eq!(ok.validate(), Ok(()));
    for sr in [0, 7_999, 48_001, 96_000] {
        let c = VadConfig::new(sr);
        assert_eq!(Vad::new(c).err(), Some(VadError::UnsupportedSampleRate(sr)));
    }
    // In range, but no resampler converts them to 8 kHz: refused in speech
    // mode (with a clear error, never a panic), fine in energy mode.
    for sr in [8_001, 9_973, 47_999] {
        assert_eq!(
            Vad::new(VadConfig::new(sr)).err(),
            Some(VadError::UnsupportedRateRatio(sr))
        );
        assert!(Vad::new(VadConfig::energy(sr)).is_ok());
    }
    for ms in [0, 5, 15, 25, 40] {
        let c = VadConfig {
            frame_duration_ms: ms,
            ..ok
        };
        assert_eq!(c.validate(), Err(VadError::UnsupportedFrameDuration(ms)));
    }
    for th in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let c = VadConfig { threshold_db: th, ..ok };
        assert!(matches!(c.validate(), Err(VadError::InvalidThreshold(_))));
    }
    for p in [0.0, 1.0, -0.1, f32::NAN] {
        let c = VadConfig {
            speech_probability: p,
            ..ok
        };
        assert!(matches!(c.validate(), Err(VadError::InvalidSpeechProbability(_))));
    }
    let c = VadConfig {
        min_silence_ms: 10_001,
        ..ok
    };
    assert_eq!(
        c.validate(),
        Err(VadError::DurationTooLong {
            name: "min_silence_ms",
            value_ms: 10_001
        })
    );
    for bad in [0.0, -0.5, f32::NAN, f32::INFINITY] {
        assert!(matches!(
            ok.with_energy_threshold(bad),
            Err(VadError::InvalidEnergyThreshold(_))
        ));
    }
}

#[test]
fn defaults_and_mode_strings() {
    let c = VadConfig::new(16_000);
    assert_eq!(c.mode, VadMode::Speech);
    assert_eq!(c.frame_duration_ms, 30);
    assert!(c.threshold_db < -40.0, "default gate must let -40 dBFS speech in");
    assert_eq!(c.frame_len(), 480);
    assert_eq!(VadConfig::new(44_100).frame_len(), 1_323);
    assert_eq!(
        VadConfig {
            frame_duration_ms: 10,
            ..VadConfig::new(11_025)
        }
        .frame_len(),
        110
    );
    let e = VadConfig::energy(16_000);
    assert_eq!(e.mode, VadMode::Energy);
    assert!((e.threshold_db - energy_threshold_to_db(0.02).unwrap()).abs() < 1e-4);
    assert!((e.threshold_db + 33.98).abs() < 0.01);
    assert_eq!("speech".parse::<VadMode>(), Ok(VadMode::Speech));
    assert_eq!("energy".parse::<VadMode>(), Ok(VadMode::Energy));
    assert_eq!(VadMode::Energy.to_string(), "energy");
    assert!(matches!("Speech".parse::<VadMode>(), Err(VadError::UnknownMode(_))));
    assert_eq!(VadConfig::for_mode(8_000, VadMode::Energy), VadConfig::energy(8_000));
}

#[test]
fn empty_and_short_inputs() {
    for mode in [VadMode::Speech, VadMode::Energy] {
        let cfg = VadConfig::for_mode(16_000, mode);
        let s = detect(&[], cfg).unwrap();
        assert_eq!((s.total_frames, s.speech_frames), (0, 0));
        assert!(!s.is_speech && s.segments.is_empty() && s.frames.is_empty());
        let s = detect(&[0.9; 479], cfg).unwrap();
        assert_eq!(s.total_frames, 0);
        assert!(s.frames.is_empty());
        let s = detect(&[0.9; 481], cfg).unwrap();
        assert_eq!(s.total_frames, 1);
        assert_eq!(s.frames.len(), 1);
    }
}

#[test]
fn silence_at_every_rate_and_frame_size() {
    for sr in RATES {
        for ms in [10, 20, 30] {
            for mode in [VadMode::Speech, VadMode::Energy] {
                let cfg = VadConfig {
                    frame_duration_ms: ms,
                    ..VadConfig::for_mode(sr, mode)
                };
                let n = sr as usize + 7;
                let s = detect(&vec![0.0; n], cfg).unwrap();
                assert_eq!(s.total_frames, (n / cfg.frame_len()) as u64, "{sr} {ms}");
                assert_eq!(s.frames.len() as u64, s.total_frames);
                assert!(!s.is_speech, "{sr} {ms} {mode}");
                for (i, f) in s.frames.iter().enumerate() {
                    assert_eq!(f.index, i as u64);
                    assert!(f.energy_db < -150.0);
                }
            }
        }
    }
}

#[test]
fn voiced_signal_found_at_every_rate_and_frame_size() {
    for sr in RATES {
        let (mut x, phrases) = voiced(sr, 6.0, 3);
        let noise = pink(x.len(), 9);
        x = add_scaled(&x, &noise, 10f32.powf(-20.0 / 20.0));
        scale_to_dbfs(&mut x, -20.0);
        for ms in [10, 20, 30] {
            let cfg = VadConfig {
                frame_duration_ms: ms,
                ..VadConfig::new(sr)
            };
            let s = detect(&x, cfg).unwrap();
            let (recall, fa) = coverage(&s.segments, &phrases, 6.0);
            assert!(recall > 0.85, "{sr} Hz {ms} ms: recall {recall}");
            assert!(fa < 0.15, "{sr} Hz {ms} ms: false alarm {fa}");
        }
    }
}

#[test]
fn voiced_signal_found_in_pink_noise_at_5_db() {
    let sr = 16_000;
    let (x, phrases) = voiced(sr, 12.0, 5);
    let noise = pink(x.len(), 77);
    let mut mix = add_scaled(&x, &noise, 10f32.powf(-5.0 / 20.0));
    scale_to_dbfs(&mut mix, -20.0);
    let s = detect(&mix, VadConfig::new(sr)).unwrap();
    let (recall, fa) = coverage(&s.segments, &phrases, 12.0);
    assert!(recall > 0.8, "recall {recall}");
    assert!(fa < 0.15, "false alarm {fa}");
    for seg in &s.segments {
        assert!(seg.end_s > seg.start_s);
    }
}

#[test]
fn quiet_speech_passes_default_gate_but_not_minus_30() {
    let sr = 16_000;
    let (mut x, phrases) = voiced(sr, 6.0, 11);
    scale_to_dbfs(&mut x, -40.0 - 10.0 * (6.0f32 / (phrases.len() as f32 * 1.2)).log10());
    let s = detect(&x, VadConfig::new(sr)).unwrap();
    let (recall, _) = coverage(&s.segments, &phrases, 6.0);
    assert!(recall > 0.85, "recall {recall}");
    let gated = VadConfig {
        threshold_db: -30.0,
        ..VadConfig::new(sr)
    };
    assert!(!detect(&x, gated).unwrap().is_speech);
}

#[test]
fn steady_noises_hum_and_music_are_not_speech() {
    let sr = 16_000;
    let n = sr as usize * 8;
    let mut white: Vec<f32> = {
        let mut rng = Lcg(5);
        (0..n).map(|_| rng.next()).collect()
    };
    scale_to_dbfs(&mut white, -25.0);
    let mut brown = pink(n, 3);
    let mut acc = 0.0f32;
    for v in brown.iter_mut() {
        acc = 0.995 * acc + *v;
        *v = acc;
    }
    scale_to_dbfs(&mut brown, -30.0);
    let cases: [(&str, Vec<f32>); 5] = [
        ("white", white),
        ("pink", pink(n, 21).iter().map(|v| v * 0.05).collect()),
        ("brown", brown),
        ("hum", hum(sr, n).iter().map(|v| v * 0.1).collect()),
        ("music", chords(sr, n).iter().map(|v| v * 0.1).collect()),
    ];
    for (name, x) in cases {
        let s = detect(&x, VadConfig::new(sr)).unwrap();
        let speech_s: f64 = s.segments.iter().map(|g| g.end_s - g.start_s).sum();
        // Steady sounds: nothing. Music: at most one short false segment in 8 s
        // (its chord changes can look like an onset until the floor adapts; the
        // bench report measures the residual rate). The untrained-for chord
        // signal here called 1.8 s speech before music was in the training mix.
        let budget = if name == "music" { 0.5 } else { 0.1 };
        assert!(speech_s < budget, "{name}: {speech_s} s of speech in {:?}", s.segments);
    }
}

#[test]
fn full_scale_noise_dc_and_clipping_are_handled() {
    let sr = 16_000;
    let n = sr as usize * 3;
    let mut rng = Lcg(1);
    let full: Vec<f32> = (0..n).map(|_| 2.0 * rng.next()).collect();
    let s = detect(&full, VadConfig::new(sr)).unwrap();
    assert!(!s.is_speech, "full-scale noise: {:?}", s.segments);
    let e = detect(&full, VadConfig::energy(sr)).unwrap();
    assert_eq!(e.speech_frames, e.total_frames);
    assert_eq!(e.segments.len(), 1);
    let dc = vec![0.5f32; n];
    assert!(!detect(&dc, VadConfig::new(sr)).unwrap().is_speech);
    let (x, _) = voiced(sr, 4.0, 2);
    let clipped: Vec<f32> = x.iter().map(|v| (v * 20.0).clamp(-1.0, 1.0)).collect();
    let over: Vec<f32> = x.iter().map(|v| v * 100.0).collect();
    for y in [clipped, over] {
        let s = detect(&y, VadConfig::new(sr)).unwrap();
        assert_eq!(s.total_frames, (y.len() / 480) as u64);
        assert!(s.frames.iter().all(|f| f.probability.is_finite()));
    }
}

#[test]
fn non_finite_samples_count_as_zero() {
    let sr = 16_000;
    let (x, _) = voiced(sr, 4.0, 8);
    let mut dirty = x.clone();
    let mut clean = x;
    for i in (0..dirty.len()).step_by(97) {
        dirty[i] = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY][i % 3];
        clean[i] = 0.0;
    }
    for mode in [VadMode::Speech, VadMode::Energy] {
        let cfg = VadConfig::for_mode(sr, mode);
        let a = detect(&dirty, cfg).unwrap();
        let b = detect(&clean, cfg).unwrap();
        assert_eq!(a, b);
        assert!(a.frames.iter().all(|f| f.energy_db.is_finite()));
    }
    let all_nan = vec![f32::NAN; 4_800];
    let s = detect(&all_nan, VadConfig::new(sr)).unwrap();
    assert!(!s.is_speech);
    assert_eq!(s.total_frames, 10);
}

#[test]
fn energy_mode_is_plain_rms_threshold() {
    let sr = 16_000;
    let mut x = vec![0.0f32; 480 * 10];
    for v in &mut x[480 * 3..480 * 5] {
        *v = 0.05;
    }
    for v in &mut x[480 * 7..480 * 8] {
        *v = 0.01;
    }
    let s = detect(&x, VadConfig::energy(sr)).unwrap();
    let bits: Vec<bool> = s.frames.iter().map(|f| f.is_speech).collect();
    let mut expect = vec![false; 10];
    expect[3] = true;
    expect[4] = true;
    assert_eq!(bits, expect);
    assert_eq!(s.speech_frames, 2);
    assert_eq!(s.segments.len(), 1);
    let seg = s.segments[0];
    assert!((seg.start_s - 0.09).abs() < 1e-9 && (seg.end_s - 0.15).abs() < 1e-9);
    assert!((seg.energy_db - 20.0 * 0.05f32.log10()).abs() < 0.01);
    let lower = VadConfig::energy(sr).with_energy_threshold(0.005).unwrap();
    assert_eq!(detect(&x, lower).unwrap().speech_frames, 3);
}

#[test]
fn smoothing_rules_for_min_durations_and_hangover() {
    let sr = 16_000;
    let frame = |on: &[usize], total: usize| {
        let mut x = vec![0.0f32; 480 * total];
        for &i in on {
            x[480 * i..480 * (i + 1)].fill(0.1);
        }
        x
    };
    let cfg = VadConfig {
        min_speech_ms: 60,
        min_silence_ms: 90,
        hangover_ms: 30,
        ..VadConfig::energy(sr)
    };
    // A one-frame blip is dropped; a 2-frame gap is bridged; a 3-frame gap
    // (= min_silence) ends the segment; the hangover adds one frame.
    let x = frame(&[1, 5, 6, 7, 10, 11, 15, 16], 20);
    let s = detect(&x, cfg).unwrap();
    assert_eq!(s.segments.len(), 2, "{:?}", s.segments);
    assert!((s.segments[0].start_s - 5.0 * 0.03).abs() < 1e-9);
    assert!((s.segments[0].end_s - 13.0 * 0.03).abs() < 1e-9);
    assert!((s.segments[1].start_s - 15.0 * 0.03).abs() < 1e-9);
    assert!((s.segments[1].end_s - 18.0 * 0.03).abs() < 1e-9);
    let bits: Vec<usize> = s
        .frames
        .iter()
        .filter(|f| f.is_speech)
        .map(|f| f.index as usize)
        .collect();
    assert_eq!(bits, [5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 17]);
    assert_eq!(s.speech_frames, 11);
    // A speech run at the end is closed by flush, hangover cut at the end.
    let s = detect(&frame(&[17, 18, 19], 20), cfg).unwrap();
    assert_eq!(s.segments.len(), 1);
    assert!((s.segments[0].end_s - 0.6).abs() < 1e-9);
}

#[test]
fn reset_and_flush_start_a_new_stream() {
    let sr = 16_000;
    let (x, _) = voiced(sr, 5.0, 4);
    let mut vad = Vad::new(VadConfig::new(sr)).unwrap();
    let mut first = VadOutput::new();
    vad.process(&x, &mut first);
    vad.flush(&mut first);
    assert!(!first.segments.is_empty());
    let mut second = VadOutput::new();
    vad.process(&x, &mut second);
    vad.flush(&mut second);
    assert_eq!(first, second);
    let mut third = VadOutput::new();
    vad.process(&x[..20_000], &mut third);
    vad.reset();
    third.clear();
    vad.process(&x, &mut third);
    vad.flush(&mut third);
    assert_eq!(first, third);
    assert_eq!(vad.total_frames(), 0);
}

#[test]
fn streaming_reports_pending_decisions_with_bounded_delay() {
    let sr = 16_000;
    let (x, _) = voiced(sr, 5.0, 4);
    let mut vad = Vad::new(VadConfig::new(sr)).unwrap();
    let mut out = VadOutput::new();
    for chunk in x.chunks(480) {
        vad.process(chunk, &mut out);
        let decided = out.frames.len() as u64;
        assert!(vad.total_frames() - decided <= vad.decision_delay_frames() + 1);
        assert_eq!(
            vad.speech_frames(),
            out.frames.iter().filter(|f| f.is_speech).count() as u64
        );
    }
}

#[test]
fn mixing_helpers_average_channels() {
    let l = [1.0f32, 0.0, f32::NAN, 0.5];
    let r = [0.0f32, 1.0, 1.0, 0.5];
    let mut out = [9.0f32; 4];
    mix_planar_to_mono(&[&l, &r], &mut out).unwrap();
    assert_eq!(out, [0.5, 0.5, 0.5, 0.5]);
    let inter = [1.0f32, 0.0, 0.0, 1.0, f32::INFINITY, 1.0, 0.5, 0.5];
    mix_interleaved_to_mono(&inter, 2, &mut out).unwrap();
    assert_eq!(out, [0.5, 0.5, 0.5, 0.5]);
    let mut short = [0.0f32; 3];
    assert!(matches!(
        mix_planar_to_mono(&[&l, &r], &mut short),
        Err(VadError::ChannelMismatch(_))
    ));
    assert!(mix_planar_to_mono(&[], &mut out).is_err());
    assert!(mix_interleaved_to_mono(&inter, 0, &mut out).is_err());
    assert!(mix_interleaved_to_mono(&inter, 3, &mut out).is_err());
}

/// A 6 s test signal with speech-like phrases in light pink noise (computed once).
fn stream_signal() -> &'static [f32] {
    static SIGNAL: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    SIGNAL.get_or_init(|| {
        let (x, _) = voiced(16_000, 6.0, 12);
        let mut y = add_scaled(&x, &pink(x.len(), 4), 0.05);
        scale_to_dbfs(&mut y, -25.0);
        y
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn chunked_stream_matches_whole_buffer(
        sizes in proptest::collection::vec(1usize..2_000, 1..40),
        ms in prop_oneof![Just(10u32), Just(20), Just(30)],
        energy in any::<bool>(),
    ) {
        let x = stream_signal();
        let mode = if energy { VadMode::Energy } else { VadMode::Speech };
        let cfg = VadConfig { frame_duration_ms: ms, threshold_db: -45.0, ..VadConfig::for_mode(16_000, mode) };
        let whole = detect(x, cfg).unwrap();
        prop_assert!(whole.is_speech);
        let mut vad = Vad::new(cfg).unwrap();
        let mut out = VadOutput::new();
        let mut pos = 0;
        let mut k = 0;
        while pos < x.len() {
            let n = sizes[k % sizes.len()].min(x.len() - pos);
            vad.process(&x[pos..pos + n], &mut out);
            pos += n;
            k += 1;
        }
        vad.flush(&mut out);
        prop_assert_eq!(&out.segments, &whole.segments);
        prop_assert_eq!(&out.frames, &whole.frames);
    }
}
