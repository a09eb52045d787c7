//! Integration tests of the public resampler API: lengths, streaming equality, edge cases,
//! errors and filter quality.

use proptest::prelude::*;
use remotemedia_audio::resample::{Quality, ResampleError, Resampler, resample};

const RATES: [u32; 9] = [8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 96_000];
const QUALITIES: [Quality; 3] = [Quality::Low, Quality::Medium, Quality::High];

fn expected_len(frames: usize, in_rate: u32, out_rate: u32) -> usize {
    let (n, i, o) = (frames as u128, u128::from(in_rate), u128::from(out_rate));
    ((2 * n * o + i) / (2 * i)) as usize
}

fn tone(freq: f64, rate: u32, frames: usize, amp: f64) -> Vec<f32> {
    (0..frames)
        .map(|i| (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin()) as f32)
        .collect()
}

/// Deterministic pseudo-random test signal in [-0.5, 0.5).
fn noise(frames: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..frames)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect()
}

/// Streams `input` (planar) through a fresh resampler in chunks of the given sizes
/// (cycled), then flushes.
fn stream(input: &[Vec<f32>], in_rate: u32, out_rate: u32, quality: Quality, chunks: &[usize]) -> Vec<Vec<f32>> {
    let channels = input.len();
    let mut rs = Resampler::new(in_rate, out_rate, channels, quality).unwrap();
    let frames = input[0].len();
    let mut out = vec![Vec::new(); channels];
    let max_chunk = chunks.iter().copied().max().unwrap_or(1);
    let mut buf = vec![vec![0.0f32; rs.output_frames_max(max_chunk)]; channels];
    let mut pos = 0;
    for &size in chunks.iter().cycle() {
        if pos >= frames {
            break;
        }
        let end = (pos + size).min(frames);
        let pieces: Vec<&[f32]> = input.iter().map(|c| &c[pos..end]).collect();
        let mut views: Vec<&mut [f32]> = buf.iter_mut().map(|b| b.as_mut_slice()).collect();
        let n = rs.process_into(&pieces, &mut views).unwrap();
        assert!(n <= rs.output_frames_max(end - pos));
        for (o, b) in out.iter_mut().zip(&buf) {
            o.extend_from_slice(&b[..n]);
        }
        pos = end;
    }
    let mut views: Vec<&mut [f32]> = buf.iter_mut().map(|b| b.as_mut_slice()).collect();
    let n = rs.flush_into(&mut views).unwrap();
    assert!(n <= rs.output_delay() + 1);
    for (o, b) in out.iter_mut().zip(&buf) {
        o.extend_from_slice(&b[..n]);
    }
    out
}

fn oneshot(input: &[Vec<f32>], in_rate: u32, out_rate: u32, quality: Quality) -> Vec<Vec<f32>> {
    let refs: Vec<&[f32]> = input.iter().map(Vec::as_slice).collect();
    resample(&refs, in_rate, out_rate, quality).unwrap()
}

/// Least-squares fit of `a sin + b cos + c` at `freq`; returns the amplitude and the
/// residual power.
fn fit_sine(y: &[f32], freq: f64, rate: u32) -> (f64, f64) {
    let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
    let mut m = [[0.0f64; 3]; 3];
    let mut v = [0.0f64; 3];
    let basis = |i: usize| [(w * i as f64).sin(), (w * i as f64).cos(), 1.0];
    for (i, &s) in y.iter().enumerate() {
        let b = basis(i);
        for r in 0..3 {
            v[r] += b[r] * f64::from(s);
            for c in 0..3 {
                m[r][c] += b[r] * b[c];
            }
        }
    }
    let coef = solve3(m, v);
    let resid: f64 = y
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let b = basis(i);
            let e = f64::from(s) - (coef[0] * b[0] + coef[1] * b[1] + coef[2] * b[2]);
            e * e
        })
        .sum::<f64>()
        / y.len() as f64;
    (coef[0].hypot(coef[1]), resid)
}

fn solve3(mut m: [[f64; 3]; 3], mut v: [f64; 3]) -> [f64; 3] {
    for k in 0..3 {
        let p = (k..3).max_by(|&a, &b| m[a][k].abs().total_cmp(&m[b][k].abs())).unwrap();
        m.swap(k, p);
        v.swap(k, p);
        for r in k + 1..3 {
            let f = m[r][k] / m[k][k];
            let pivot = m[k];
            for (dst, src) in m[r].iter_mut().zip(pivot).skip(k) {
                *dst -= f * src;
            }
            v[r] -= f * v[k];
        }
    }
    let mut x = [0.0; 3];
    for k in (0..3).rev() {
        x[k] = (v[k] - (k + 1..3).map(|c| m[k][c] * x[c]).sum::<f64>()) / m[k][k];
    }
    x
}

fn mid(y: &[f32]) -> &[f32] {
    let t = y.len() / 10;
    &y[t..y.len() - t]
}

fn power_db(y: &[f32]) -> f64 {
    let p = y.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / y.len() as f64;
    10.0 * p.max(1e-30).log10()
}

#[test]
fn lengths_are_rounded_ratio_for_all_common_pairs() {
    for &fi in &RATES {
        for &fo in &RATES {
            for q in QUALITIES {
                for frames in [0, 1, 2, 3, 7, 100, 1001] {
                    let x = vec![noise(frames, 1)];
                    let y = oneshot(&x, fi, fo, q);
                    assert_eq!(y[0].len(), expected_len(frames, fi, fo), "{fi}->{fo} {q} n={frames}");
                }
            }
        }
    }
}

#[test]
fn one_third_for_48k_to_16k() {
    let y = oneshot(&[noise(48_000, 3)], 48_000, 16_000, Quality::High);
    assert_eq!(y[0].len(), 16_000);
}

#[test]
fn streaming_equals_oneshot_for_all_common_pairs() {
    for &fi in &RATES {
        for &fo in &RATES {
            let x = vec![noise(2_000, u64::from(fi ^ fo))];
            let whole = oneshot(&x, fi, fo, Quality::Low);
            assert_eq!(stream(&x, fi, fo, Quality::Low, &[97]), whole, "{fi}->{fo}");
        }
    }
}

#[test]
fn streaming_equals_oneshot_at_many_chunk_sizes() {
    let pairs = [
        (48_000, 16_000),
        (16_000, 48_000),
        (44_100, 48_000),
        (48_000, 44_100),
        (8_000, 11_025),
    ];
    for (fi, fo) in pairs {
        for q in QUALITIES {
            let x = vec![noise(3_000, 7)];
            let whole = oneshot(&x, fi, fo, q);
            for chunks in [
                &[1usize][..],
                &[2],
                &[3],
                &[5],
                &[7],
                &[13],
                &[64],
                &[160],
                &[479],
                &[960],
                &[1021],
                &[3_000],
                &[1, 999, 0, 2, 31],
            ] {
                assert_eq!(stream(&x, fi, fo, q, chunks), whole, "{fi}->{fo} {q} chunks {chunks:?}");
            }
        }
    }
}

#[test]
fn flush_resets_for_a_new_stream() {
    let x = vec![noise(1_500, 11)];
    let whole = oneshot(&x, 48_000, 16_000, Quality::High);
    let mut rs = Resampler::new(48_000, 16_000, 1, Quality::High).unwrap();
    for _ in 0..2 {
        let mut out = vec![0.0f32; rs.output_frames_max(1_500)];
        let n = rs.process_into(&[&x[0]], &mut [&mut out]).unwrap();
        let m = rs.flush_into(&mut [&mut out[n..]]).unwrap();
        assert_eq!(&out[..n + m], &whole[0][..]);
    }
}

#[test]
fn reset_discards_history() {
    let x = noise(1_000, 5);
    let mut rs = Resampler::new(44_100, 16_000, 1, Quality::Medium).unwrap();
    let mut out = vec![0.0f32; rs.output_frames_max(1_000)];
    rs.process_into(&[&noise(777, 9)], &mut [&mut out]).unwrap();
    rs.reset();
    let n = rs.process_into(&[&x], &mut [&mut out]).unwrap();
    let m = rs.flush_into(&mut [&mut out[n..]]).unwrap();
    assert_eq!(&out[..n + m], &oneshot(&[x], 44_100, 16_000, Quality::Medium)[0][..]);
}

#[test]
fn same_rate_is_an_exact_copy_with_no_delay() {
    let x = vec![noise(1_234, 2), noise(1_234, 3)];
    assert_eq!(oneshot(&x, 16_000, 16_000, Quality::High), x);
    let rs = Resampler::new(44_100, 44_100, 2, Quality::Low).unwrap();
    assert_eq!(rs.output_delay(), 0);
    assert_eq!(stream(&x, 44_100, 44_100, Quality::Low, &[1, 50]), x);
}

#[test]
fn empty_and_single_frame_inputs() {
    assert_eq!(
        oneshot(&[vec![]], 48_000, 16_000, Quality::High),
        vec![Vec::<f32>::new()]
    );
    assert_eq!(oneshot(&[vec![0.5]], 48_000, 16_000, Quality::High)[0].len(), 0);
    let up = oneshot(&[vec![0.5]], 16_000, 48_000, Quality::High);
    assert_eq!(up[0].len(), 3);
    assert!(up[0].iter().all(|v| v.is_finite()));
    let mut rs = Resampler::new(48_000, 16_000, 1, Quality::High).unwrap();
    let mut out = vec![0.0f32; rs.output_frames_max(0)];
    assert_eq!(rs.process_into(&[&[]], &mut [&mut out]).unwrap(), 0);
    assert_eq!(rs.flush_into(&mut [&mut out]).unwrap(), 0);
}

#[test]
fn multichannel_channels_are_independent() {
    let x = vec![noise(2_000, 1), tone(1_000.0, 44_100, 2_000, 0.5), vec![0.0; 2_000]];
    let joint = oneshot(&x, 44_100, 22_050, Quality::High);
    for (c, ch) in x.iter().enumerate() {
        assert_eq!(
            joint[c],
            oneshot(std::slice::from_ref(ch), 44_100, 22_050, Quality::High)[0]
        );
    }
    assert!(joint[2].iter().all(|&v| v == 0.0));
    assert_eq!(stream(&x, 44_100, 22_050, Quality::High, &[333]), joint);
}

#[test]
fn nan_and_inf_give_defined_output_without_panic() {
    let mut x = noise(3_000, 4);
    x[1_000] = f32::NAN;
    x[2_000] = f32::INFINITY;
    let y = oneshot(std::slice::from_ref(&x), 48_000, 16_000, Quality::High);
    assert_eq!(y[0].len(), 1_000);
    // Only outputs whose window covers a non-finite input are affected.
    assert!(y[0][..200].iter().all(|v| v.is_finite()));
    assert!(y[0][420..580].iter().all(|v| v.is_finite()));
    assert!(y[0][333].is_nan());
    // A reset stream is clean again.
    let mut rs = Resampler::new(48_000, 16_000, 1, Quality::High).unwrap();
    let mut out = vec![0.0f32; rs.output_frames_max(3_000)];
    rs.process_into(&[&x], &mut [&mut out]).unwrap();
    rs.reset();
    let clean = noise(600, 8);
    let n = rs.process_into(&[&clean], &mut [&mut out]).unwrap();
    let m = rs.flush_into(&mut [&mut out[n..]]).unwrap();
    assert!(out[..n + m].iter().all(|v| v.is_finite()));
}

#[test]
fn extreme_values_stay_bounded() {
    let x: Vec<f32> = (0..2_000).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
    let y = oneshot(&[x], 48_000, 16_000, Quality::High);
    // Nyquist-rate input lies in the stop band: the output is essentially silent.
    assert!(mid(&y[0]).iter().all(|v| v.abs() < 1e-5));
    let big = vec![f32::MAX / 4.0; 500];
    let y = oneshot(&[big], 16_000, 48_000, Quality::Low);
    assert_eq!(y[0].len(), 1_500);
}

#[test]
fn dc_passes_with_unit_gain() {
    for (fi, fo) in [(48_000, 16_000), (16_000, 48_000), (44_100, 48_000), (11_025, 96_000)] {
        let y = oneshot(&[vec![0.25; 4_000]], fi, fo, Quality::High);
        for v in mid(&y[0]) {
            assert!((v - 0.25).abs() < 1e-6, "{fi}->{fo}: {v}");
        }
    }
}

#[test]
fn construction_errors() {
    assert_eq!(
        Resampler::new(0, 16_000, 1, Quality::High).unwrap_err(),
        ResampleError::ZeroRate {
            in_rate: 0,
            out_rate: 16_000
        }
    );
    assert!(matches!(
        Resampler::new(48_000, 0, 1, Quality::High),
        Err(ResampleError::ZeroRate { .. })
    ));
    assert_eq!(
        Resampler::new(48_000, 16_000, 0, Quality::High).unwrap_err(),
        ResampleError::ZeroChannels
    );
    assert!(matches!(
        Resampler::new(44_100, 44_101, 1, Quality::High),
        Err(ResampleError::UnsupportedRatio {
            out_factor: 44_101,
            in_factor: 44_100,
            ..
        })
    ));
    assert_eq!(
        resample(&[], 48_000, 16_000, Quality::High).unwrap_err(),
        ResampleError::ZeroChannels
    );
    assert!(Resampler::new(1, 3, 1, Quality::Low).is_ok());
}

#[test]
fn call_errors_consume_nothing() {
    let x = noise(960, 6);
    let mut rs = Resampler::new(48_000, 16_000, 2, Quality::High).unwrap();
    let mut a = vec![0.0f32; rs.output_frames_max(960)];
    let mut b = vec![0.0f32; rs.output_frames_max(960)];
    assert!(matches!(
        rs.process_into(&[&x], &mut [&mut a, &mut b]),
        Err(ResampleError::ChannelMismatch {
            side: "input",
            expected: 2,
            got: 1
        })
    ));
    assert!(matches!(
        rs.process_into(&[&x, &x], &mut [&mut a]),
        Err(ResampleError::ChannelMismatch { side: "output", .. })
    ));
    assert!(matches!(
        rs.process_into(&[&x, &x[..900]], &mut [&mut a, &mut b]),
        Err(ResampleError::UnequalLengths {
            channel: 1,
            expected: 960,
            got: 900
        })
    ));
    let mut small = [0.0f32; 10];
    assert!(matches!(
        rs.process_into(&[&x, &x], &mut [&mut a, &mut small]),
        Err(ResampleError::OutputTooSmall {
            channel: 1,
            got: 10,
            ..
        })
    ));
    let n = rs.process_into(&[&x, &x], &mut [&mut a, &mut b]).unwrap();
    let m = rs.flush_into(&mut [&mut a[n..], &mut b[n..]]).unwrap();
    assert_eq!(&a[..n + m], &oneshot(&[x], 48_000, 16_000, Quality::High)[0][..]);
}

#[test]
fn quality_parses_and_rejects_unknown_names() {
    assert_eq!("low".parse::<Quality>().unwrap(), Quality::Low);
    assert_eq!("Medium".parse::<Quality>().unwrap(), Quality::Medium);
    assert_eq!("high".parse::<Quality>().unwrap(), Quality::High);
    let err = "best".parse::<Quality>().unwrap_err();
    assert_eq!(err, ResampleError::UnknownQuality("best".into()));
    assert!(err.to_string().contains("\"low\", \"medium\", \"high\""));
    assert_eq!(Quality::default(), Quality::High);
    assert_eq!(Quality::Medium.to_string(), "medium");
}

#[test]
fn output_delay_is_the_held_back_count() {
    let rs = Resampler::new(48_000, 16_000, 1, Quality::High).unwrap();
    let mut rs2 = rs.clone();
    let frames = 4_800;
    let mut out = vec![0.0f32; rs2.output_frames_max(frames)];
    let n = rs2.process_into(&[&noise(frames, 1)], &mut [&mut out]).unwrap();
    let held = expected_len(frames, 48_000, 16_000) - n;
    assert!(
        held <= rs.output_delay() && held + 1 >= rs.output_delay(),
        "held {held}"
    );
}

// ---- quality: figures that can fail for real ----

#[test]
fn high_passband_tones_within_0_1_db_and_delay_compensated() {
    for f in [1_000.0, 6_000.0, 7_400.0] {
        let x = tone(f, 48_000, 48_000, 0.5);
        let y = oneshot(&[x], 48_000, 16_000, Quality::High);
        let (amp, resid) = fit_sine(mid(&y[0]), f, 16_000);
        let gain_db = 20.0 * (amp / 0.5).log10();
        assert!(gain_db.abs() <= 0.1, "{f} Hz: {gain_db} dB");
        let sinad = 10.0 * (amp * amp / 2.0 / resid).log10();
        assert!(sinad >= 120.0, "{f} Hz: SINAD {sinad} dB");
        // Delay compensation: the output matches the ideal sine sampled at 16 kHz.
        let ideal = tone(f, 16_000, 16_000, 0.5);
        let err: Vec<f32> = mid(&y[0]).iter().zip(mid(&ideal)).map(|(a, b)| a - b).collect();
        let snr = power_db(mid(&ideal)) - power_db(&err);
        assert!(snr >= 120.0 || f > 7_000.0, "{f} Hz: SNR vs ideal {snr} dB");
    }
}

#[test]
fn high_stopband_tones_rejected_by_130_db() {
    for f in [8_507.0, 9_007.0, 12_007.0, 20_007.0, 23_507.0] {
        let x = tone(f, 48_000, 48_000, 0.5);
        let y = oneshot(std::slice::from_ref(&x), 48_000, 16_000, Quality::High);
        let rejection = power_db(mid(&y[0])) - power_db(&x);
        assert!(rejection <= -130.0, "{f} Hz: {rejection} dB");
    }
}

#[test]
fn high_upsampling_rejects_images() {
    // 16 -> 48 kHz: a 7 kHz tone must not image at 9 kHz (or 23 / 25 kHz).
    let x = tone(7_000.0, 16_000, 16_000, 0.5);
    let y = oneshot(&[x], 16_000, 48_000, Quality::High);
    let (amp, _) = fit_sine(mid(&y[0]), 7_000.0, 48_000);
    assert!((20.0 * (amp / 0.5).log10()).abs() < 0.1);
    for image in [9_000.0, 23_000.0] {
        let (a, _) = fit_sine(mid(&y[0]), image, 48_000);
        assert!(20.0 * (a / 0.5).log10() < -130.0, "image at {image} Hz");
    }
}

#[test]
fn high_rational_ratios_pass_and_reject() {
    // 44.1 <-> 48 kHz go through the general polyphase path (160 branches).
    for (fi, fo, pass_hz, stop_hz) in [(44_100, 48_000, 1_000.0, 0.0), (48_000, 44_100, 19_000.0, 23_507.0)] {
        let y = oneshot(&[tone(pass_hz, fi, fi as usize, 0.5)], fi, fo, Quality::High);
        let (amp, resid) = fit_sine(mid(&y[0]), pass_hz, fo);
        assert!((20.0 * (amp / 0.5).log10()).abs() <= 0.1, "{fi}->{fo}");
        let sinad = 10.0 * (amp * amp / 2.0 / resid).log10();
        assert!(sinad >= 120.0, "{fi}->{fo} SINAD {sinad} dB");
        if stop_hz > 0.0 {
            let x = tone(stop_hz, fi, fi as usize, 0.5);
            let y = oneshot(std::slice::from_ref(&x), fi, fo, Quality::High);
            let rejection = power_db(mid(&y[0])) - power_db(&x);
            assert!(rejection <= -130.0, "{fi}->{fo} {stop_hz} Hz: {rejection} dB");
        }
    }
}

#[test]
fn high_meets_the_bar_on_every_common_pair() {
    // Whatever stages a pair runs through: flat within 0.1 dB and SINAD >= 120 dB up to
    // 0.9x the lower Nyquist frequency, and tones from 1.0625x the output Nyquist
    // frequency up rejected by 130 dB.
    for &fi in &RATES {
        for &fo in &RATES {
            if fi == fo {
                continue;
            }
            let nyquist = f64::from(fi.min(fo)) / 2.0;
            let frames = fi as usize / 4;
            for frac in [0.05, 0.45, 0.9] {
                let f = frac * nyquist + 1.7;
                let y = oneshot(&[tone(f, fi, frames, 0.5)], fi, fo, Quality::High);
                let (amp, resid) = fit_sine(mid(&y[0]), f, fo);
                let gain = 20.0 * (amp / 0.5).log10();
                let sinad = 10.0 * (amp * amp / 2.0 / resid).log10();
                assert!(gain.abs() <= 0.1, "{fi}->{fo} at {f} Hz: gain {gain} dB");
                assert!(sinad >= 120.0, "{fi}->{fo} at {f} Hz: SINAD {sinad} dB");
            }
            if fo < fi {
                let (lo, hi) = (1.0625 * f64::from(fo) / 2.0, 0.98 * f64::from(fi) / 2.0);
                for f in [lo + 3.1, 0.5 * (lo + hi), hi] {
                    let x = tone(f, fi, frames, 0.5);
                    let y = oneshot(std::slice::from_ref(&x), fi, fo, Quality::High);
                    let rejection = power_db(mid(&y[0])) - power_db(&x);
                    assert!(rejection <= -130.0, "{fi}->{fo} at {f} Hz: {rejection} dB");
                }
            }
        }
    }
}

#[test]
fn lower_qualities_meet_their_stated_figures() {
    // Documented: Low flat within 0.1 dB to 6.5 kHz, alias <= -74 dB; Medium to 7.4 kHz,
    // alias <= -117 dB (48 -> 16 kHz, stop-band tones from 8.5 kHz up).
    for (q, pass_hz, reject_db) in [(Quality::Low, 6_400.0, -72.0), (Quality::Medium, 7_400.0, -115.0)] {
        let y = oneshot(&[tone(pass_hz, 48_000, 48_000, 0.5)], 48_000, 16_000, q);
        let (amp, _) = fit_sine(mid(&y[0]), pass_hz, 16_000);
        assert!((20.0 * (amp / 0.5).log10()).abs() <= 0.1, "{q}");
        for f in [8_507.0, 9_007.0, 12_007.0, 16_007.0, 20_007.0, 23_507.0] {
            let x = tone(f, 48_000, 48_000, 0.5);
            let y = oneshot(std::slice::from_ref(&x), 48_000, 16_000, q);
            let rejection = power_db(mid(&y[0])) - power_db(&x);
            assert!(rejection <= reject_db, "{q} {f} Hz: {rejection} dB");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn prop_streaming_equals_oneshot(
        fi in prop::sample::select(RATES.to_vec()),
        fo in prop::sample::select(RATES.to_vec()),
        q in prop::sample::select(QUALITIES.to_vec()),
        channels in 1usize..3,
        frames in 0usize..1_500,
        chunks in prop::collection::vec(0usize..700, 1..6),
        seed in any::<u64>(),
    ) {
        let x: Vec<Vec<f32>> = (0..channels).map(|c| noise(frames, seed + c as u64)).collect();
        let whole = oneshot(&x, fi, fo, q);
        prop_assert_eq!(whole[0].len(), expected_len(frames, fi, fo));
        let chunks: Vec<usize> = chunks.into_iter().map(|c| c.max(1)).collect();
        prop_assert_eq!(stream(&x, fi, fo, q, &chunks), whole);
    }
}
