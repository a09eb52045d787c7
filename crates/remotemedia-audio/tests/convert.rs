//! Integration tests of the sample-format converters: exact values, extremes, round trips,
//! errors and zero-copy byte views.

use proptest::prelude::*;
use remotemedia_audio::convert::{self, ConvertError};
use remotemedia_core::{SampleFormat, UnknownSampleFormat};

/// Reference float -> integer conversion: scale, round half to even, saturate, NaN -> 0.
fn reference_int(x: f64, scale: f64, min: f64, max: f64) -> i64 {
    if x.is_nan() {
        return 0;
    }
    (x * scale).clamp(min, max).round_ties_even() as i64
}

fn ref_f32_to_i16(x: f32) -> i16 {
    reference_int(f64::from(x), 32_768.0, -32_768.0, 32_767.0) as i16
}

fn ref_f32_to_i32(x: f32) -> i32 {
    reference_int(f64::from(x), 2_147_483_648.0, -2_147_483_648.0, 2_147_483_647.0) as i32
}

#[test]
fn i16_to_f32_is_exact_division() {
    let src = [i16::MIN, -16_384, -1, 0, 1, 16_384, i16::MAX];
    let mut dst = [0.0f32; 7];
    convert::i16_to_f32(&src, &mut dst).unwrap();
    assert_eq!(
        dst,
        [
            -1.0,
            -0.5,
            -1.0 / 32_768.0,
            0.0,
            1.0 / 32_768.0,
            0.5,
            32_767.0 / 32_768.0
        ]
    );
}

#[test]
fn every_i16_round_trips_through_f32_and_i32() {
    let all: Vec<i16> = (i16::MIN..=i16::MAX).collect();
    let mut f = vec![0.0f32; all.len()];
    let mut back = vec![0i16; all.len()];
    convert::i16_to_f32(&all, &mut f).unwrap();
    convert::f32_to_i16(&f, &mut back).unwrap();
    assert_eq!(back, all);
    let mut wide = vec![0i32; all.len()];
    convert::i16_to_i32(&all, &mut wide).unwrap();
    convert::i32_to_i16(&wide, &mut back).unwrap();
    assert_eq!(back, all);
    assert_eq!(wide[0], i32::MIN);
    let mut f64s = vec![0.0f64; all.len()];
    convert::f32_to_f64(&f, &mut f64s).unwrap();
    convert::f64_to_i16(&f64s, &mut back).unwrap();
    assert_eq!(back, all);
}

#[test]
fn f32_to_i16_extremes_saturate_and_nan_is_zero() {
    let src = [
        1.0,
        -1.0,
        2.0,
        -2.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
        -0.0,
        0.5 / 32_768.0,
        1.5 / 32_768.0,
        -2.5 / 32_768.0,
        32_766.5 / 32_768.0,
        f32::MAX,
        f32::MIN_POSITIVE,
    ];
    let mut dst = [0i16; 15];
    convert::f32_to_i16(&src, &mut dst).unwrap();
    assert_eq!(
        dst,
        [
            32_767, -32_768, 32_767, -32_768, 32_767, -32_768, 0, 0, 0, 0, 2, -2, 32_766, 32_767, 0
        ]
    );
    // The same values at every position of three 16-sample SIMD steps.
    let long: Vec<f32> = src.iter().cycle().take(48).copied().collect();
    let mut out = vec![0i16; long.len()];
    convert::f32_to_i16(&long, &mut out).unwrap();
    let expected: Vec<i16> = dst.iter().cycle().take(48).copied().collect();
    assert_eq!(out, expected);
}

#[test]
fn f32_to_i32_extremes_saturate_and_nan_is_zero() {
    let src = [1.0, -1.0, 0.5, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 1e-9, 2.0];
    let mut dst = [0i32; 8];
    convert::f32_to_i32(&src, &mut dst).unwrap();
    assert_eq!(dst, [i32::MAX, i32::MIN, 1 << 30, i32::MAX, i32::MIN, 0, 2, i32::MAX]);
    let mut f64dst = [0i32; 3];
    convert::f64_to_i32(&[1.0, -1.0, f64::NAN], &mut f64dst).unwrap();
    assert_eq!(f64dst, [i32::MAX, i32::MIN, 0]);
}

#[test]
fn i32_to_f32_scales_by_2_pow_31() {
    let mut dst = [0.0f32; 4];
    convert::i32_to_f32(&[i32::MIN, 1 << 30, 0, i32::MAX], &mut dst).unwrap();
    assert_eq!(dst, [-1.0, 0.5, 0.0, 1.0]);
}

#[test]
fn i32_to_i16_rounds_and_saturates() {
    let mut dst = [0i16; 6];
    convert::i32_to_i16(&[i32::MAX, i32::MIN, 0x7FFF, 0x8000, -0x8000, -0x8001], &mut dst).unwrap();
    assert_eq!(dst, [i16::MAX, i16::MIN, 0, 1, 0, -1]);
}

#[test]
fn f64_and_u8_inputs() {
    let mut f = [0.0f32; 3];
    convert::f64_to_f32(&[0.25, f64::MAX, f64::NAN], &mut f).unwrap();
    assert_eq!(f[0], 0.25);
    assert_eq!(f[1], f32::INFINITY);
    assert!(f[2].is_nan());
    convert::u8_to_f32(&[0, 128, 255], &mut f).unwrap();
    assert_eq!(f, [-1.0, 0.0, 127.0 / 128.0]);
    let mut s = [0i16; 3];
    convert::u8_to_i16(&[0, 128, 255], &mut s).unwrap();
    assert_eq!(s, [i16::MIN, 0, 127 << 8]);
    let mut w = [0i32; 3];
    convert::u8_to_i32(&[0, 128, 255], &mut w).unwrap();
    assert_eq!(w, [i32::MIN, 0, 127 << 24]);
    let mut s2 = [0i16; 2];
    convert::f64_to_i16(&[0.5, -3.0], &mut s2).unwrap();
    assert_eq!(s2, [16_384, i16::MIN]);
}

#[test]
fn empty_slices_are_fine_and_length_mismatch_is_an_error() {
    convert::i16_to_f32(&[], &mut []).unwrap();
    convert::f32_to_i16(&[], &mut []).unwrap();
    let err = convert::i16_to_f32(&[1, 2, 3], &mut [0.0; 2]).unwrap_err();
    assert_eq!(err, ConvertError::LengthMismatch { src: 3, dst: 2 });
    assert!(convert::f32_to_i32(&[0.0], &mut []).is_err());
    assert!(convert::i32_to_i16(&[], &mut [0]).is_err());
}

#[test]
fn byte_views_are_zero_copy_and_checked() {
    let samples: Vec<i16> = vec![1, -2, 300, i16::MIN];
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    // A Vec<u32> backing store gives 4-byte alignment for the byte view.
    let mut store = vec![0u32; 4];
    let raw: &mut [u8] = bytemuck_bytes(&mut store);
    raw[..8].copy_from_slice(&bytes);
    let view = convert::bytes_as_i16(&raw[..8]).unwrap();
    assert_eq!(view, &samples[..]);
    assert_eq!(view.as_ptr() as usize, raw.as_ptr() as usize);
    assert_eq!(
        convert::bytes_as_i16(&raw[..7]).unwrap_err(),
        ConvertError::PartialSample { len: 7, sample_size: 2 }
    );
    assert!(matches!(
        convert::bytes_as_i16(&raw[1..9]),
        Err(ConvertError::Misaligned { align: 2, .. })
    ));
    assert!(matches!(
        convert::bytes_as_f32(&raw[2..10]),
        Err(ConvertError::Misaligned { align: 4, .. })
    ));
    assert!(matches!(
        convert::bytes_as_i32(&raw[..6]),
        Err(ConvertError::PartialSample { .. })
    ));
    assert_eq!(convert::bytes_as_f32(&[]).unwrap(), &[] as &[f32]);
    let floats = [0.5f32, -0.25];
    let fb: Vec<u8> = floats.iter().flat_map(|s| s.to_le_bytes()).collect();
    raw[..8].copy_from_slice(&fb);
    assert_eq!(convert::bytes_as_f32(&raw[..8]).unwrap(), &floats);
}

#[test]
fn f64_byte_view() {
    let mut store = vec![0u32; 4];
    let raw = bytemuck_bytes(&mut store);
    let offset = raw.as_ptr().align_offset(8);
    raw[offset..offset + 8].copy_from_slice(&(-0.125f64).to_le_bytes());
    assert_eq!(convert::bytes_as_f64(&raw[offset..offset + 8]).unwrap(), &[-0.125]);
    assert!(matches!(
        convert::bytes_as_f64(&raw[offset + 4..offset + 12]),
        Err(ConvertError::Misaligned { align: 8, .. })
    ));
}

fn bytemuck_bytes(words: &mut [u32]) -> &mut [u8] {
    let len = words.len() * 4;
    // SAFETY: u32 has no padding and any byte pattern is a valid u8; the length covers
    // exactly the words' bytes and the borrow is tied to `words`.
    unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), len) }
}

#[test]
fn le_bytes_decode_any_alignment() {
    let samples: Vec<i16> = (0..37).map(|i| (i * 1_000 - 18_000) as i16).collect();
    let mut bytes = vec![0u8];
    bytes.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
    let mut expected = vec![0.0f32; 37];
    convert::i16_to_f32(&samples, &mut expected).unwrap();
    for offset in [0, 1] {
        let mut copy = vec![0u8; offset];
        copy.extend_from_slice(&bytes[1..]);
        let mut dst = vec![0.0f32; 37];
        let n = convert::le_bytes_to_f32(&copy[offset..], SampleFormat::I16, &mut dst).unwrap();
        assert_eq!(n, 37);
        assert_eq!(dst, expected);
    }
    let words: Vec<i32> = vec![i32::MIN, 0, 1 << 30];
    let wb: Vec<u8> = std::iter::once(0u8)
        .chain(words.iter().flat_map(|s| s.to_le_bytes()))
        .collect();
    let mut dst = vec![0.0f32; 3];
    convert::le_bytes_to_f32(&wb[1..], SampleFormat::I32, &mut dst).unwrap();
    assert_eq!(dst, [-1.0, 0.0, 0.5]);
    let fb: Vec<u8> = std::iter::once(0u8)
        .chain([0.75f32, -1.0].iter().flat_map(|s| s.to_le_bytes()))
        .collect();
    let mut dst = vec![0.0f32; 2];
    convert::le_bytes_to_f32(&fb[1..], SampleFormat::F32, &mut dst).unwrap();
    assert_eq!(dst, [0.75, -1.0]);
    assert!(matches!(
        convert::le_bytes_to_f32(&fb[1..8], SampleFormat::F32, &mut dst),
        Err(ConvertError::PartialSample { .. })
    ));
    assert!(matches!(
        convert::le_bytes_to_f32(&fb[1..], SampleFormat::F32, &mut [0.0; 3]),
        Err(ConvertError::LengthMismatch { .. })
    ));
}

#[test]
fn sample_format_names() {
    assert_eq!("f32".parse::<SampleFormat>().unwrap(), SampleFormat::F32);
    assert_eq!("I16".parse::<SampleFormat>().unwrap(), SampleFormat::I16);
    assert_eq!("i32".parse::<SampleFormat>().unwrap(), SampleFormat::I32);
    let err = "s16le".parse::<SampleFormat>().unwrap_err();
    assert_eq!(err, UnknownSampleFormat("s16le".into()));
    let msg = err.to_string();
    assert!(msg.contains("\"f32\", \"i16\", \"i32\""), "{msg}");
    assert_eq!(SampleFormat::I16.bytes_per_sample(), 2);
    assert_eq!(SampleFormat::F32.to_string(), "f32");
}

#[test]
fn every_length_matches_the_scalar_reference() {
    // Lengths around the SIMD widths exercise the vector body and the scalar tail.
    for len in 0..70 {
        let src: Vec<f32> = (0..len).map(|i| (i as f32 - 35.0) / 33.0).collect();
        let mut d16 = vec![0i16; len];
        let mut d32 = vec![0i32; len];
        convert::f32_to_i16(&src, &mut d16).unwrap();
        convert::f32_to_i32(&src, &mut d32).unwrap();
        assert_eq!(d16, src.iter().map(|&x| ref_f32_to_i16(x)).collect::<Vec<_>>());
        assert_eq!(d32, src.iter().map(|&x| ref_f32_to_i32(x)).collect::<Vec<_>>());
    }
}

fn any_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        -1.5f32..1.5f32,
        any::<f32>(),
        Just(f32::NAN),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        (-32_768i32..=32_767).prop_map(|i| (i as f32 + 0.5) / 32_768.0),
    ]
}

proptest! {
    #[test]
    fn prop_f32_to_int_matches_reference(src in prop::collection::vec(any_f32(), 0..300)) {
        let mut d16 = vec![0i16; src.len()];
        let mut d32 = vec![0i32; src.len()];
        convert::f32_to_i16(&src, &mut d16).unwrap();
        convert::f32_to_i32(&src, &mut d32).unwrap();
        for ((&x, &a), &b) in src.iter().zip(&d16).zip(&d32) {
            prop_assert_eq!(a, ref_f32_to_i16(x), "x = {}", x);
            prop_assert_eq!(b, ref_f32_to_i32(x), "x = {}", x);
        }
    }

    #[test]
    fn prop_i32_round_trip_through_f32_is_within_half_ulp(src in prop::collection::vec(any::<i32>(), 0..300)) {
        let mut f = vec![0.0f32; src.len()];
        let mut back = vec![0i32; src.len()];
        convert::i32_to_f32(&src, &mut f).unwrap();
        convert::f32_to_i32(&f, &mut back).unwrap();
        for ((&x, &y), &v) in src.iter().zip(&back).zip(&f) {
            prop_assert_eq!(v, (f64::from(x) / 2_147_483_648.0) as f32);
            // 24-bit mantissa: the error is at most half a step of 2^8 near full scale.
            prop_assert!((i64::from(x) - i64::from(y)).abs() <= 128, "{} -> {}", x, y);
        }
    }

    #[test]
    fn prop_i32_to_i16_is_rounded_shift(src in prop::collection::vec(any::<i32>(), 0..300)) {
        let mut d = vec![0i16; src.len()];
        convert::i32_to_i16(&src, &mut d).unwrap();
        for (&x, &y) in src.iter().zip(&d) {
            let r = ((i64::from(x) + 0x8000) >> 16).clamp(-32_768, 32_767);
            prop_assert_eq!(i64::from(y), r);
        }
    }
}

#[test]
fn uninit_converters_fill_spare_capacity_like_the_slice_converters() {
    let pcm: Vec<i16> = (0..1_001).map(|i| (i * 65) as i16).collect();
    let mut expected = vec![0.0f32; pcm.len()];
    convert::i16_to_f32(&pcm, &mut expected).unwrap();
    let mut fresh: Vec<f32> = Vec::with_capacity(pcm.len());
    let written = convert::i16_to_f32_uninit(&pcm, &mut fresh.spare_capacity_mut()[..pcm.len()]).unwrap();
    assert_eq!(written, &expected[..]);

    let floats: Vec<f32> = (0..1_001).map(|i| (i as f32 - 500.0) / 400.0).collect();
    let mut expected = vec![0i16; floats.len()];
    convert::f32_to_i16(&floats, &mut expected).unwrap();
    let mut fresh: Vec<i16> = Vec::with_capacity(floats.len());
    let written = convert::f32_to_i16_uninit(&floats, &mut fresh.spare_capacity_mut()[..floats.len()]).unwrap();
    assert_eq!(written, &expected[..]);

    let mut short: Vec<f32> = Vec::with_capacity(10);
    assert_eq!(
        convert::i16_to_f32_uninit(&pcm, &mut short.spare_capacity_mut()[..10]),
        Err(ConvertError::LengthMismatch { src: 1_001, dst: 10 })
    );
}
