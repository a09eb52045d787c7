//! Criterion benches of the format converters on 1 M samples, beside a copy of the same
//! bytes (the floor).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use remotemedia_audio::convert;

const N: usize = 1 << 20;

fn bench_convert(c: &mut Criterion) {
    let pcm16: Vec<i16> = (0..N).map(|i| ((i * 7_919) % 65_536) as i16).collect();
    let pcm32: Vec<i32> = pcm16.iter().map(|&x| i32::from(x) << 16).collect();
    let float: Vec<f32> = (0..N).map(|i| ((i % 2_001) as f32 - 1_000.0) / 1_000.0).collect();
    let mut f_out = vec![0.0f32; N];
    let mut i16_out = vec![0i16; N];
    let mut i32_out = vec![0i32; N];
    let mut group = c.benchmark_group("convert_1m_samples");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("memcpy_f32", |b| b.iter(|| f_out.copy_from_slice(black_box(&float))));
    group.bench_function("memcpy_i16", |b| b.iter(|| i16_out.copy_from_slice(black_box(&pcm16))));
    group.bench_function("i16_to_f32", |b| {
        b.iter(|| convert::i16_to_f32(black_box(&pcm16), &mut f_out).unwrap())
    });
    group.bench_function("f32_to_i16", |b| {
        b.iter(|| convert::f32_to_i16(black_box(&float), &mut i16_out).unwrap())
    });
    group.bench_function("i32_to_f32", |b| {
        b.iter(|| convert::i32_to_f32(black_box(&pcm32), &mut f_out).unwrap())
    });
    group.bench_function("f32_to_i32", |b| {
        b.iter(|| convert::f32_to_i32(black_box(&float), &mut i32_out).unwrap())
    });
    group.bench_function("i16_to_i32", |b| {
        b.iter(|| convert::i16_to_i32(black_box(&pcm16), &mut i32_out).unwrap())
    });
    group.bench_function("i32_to_i16", |b| {
        b.iter(|| convert::i32_to_i16(black_box(&pcm32), &mut i16_out).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20);
    targets = bench_convert
}
criterion_main!(benches);
