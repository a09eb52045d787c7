//! Criterion benches of the resampler: one second of 48 kHz -> 16 kHz mono in one call per
//! quality, and the same second streamed in 20 ms chunks.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use remotemedia_audio::resample::{Quality, Resampler};

fn signal(frames: usize) -> Vec<f32> {
    (0..frames)
        .map(|i| (0.3 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 48_000.0).sin()) as f32)
        .collect()
}

fn bench_resample(c: &mut Criterion) {
    let input = signal(48_000);
    let mut group = c.benchmark_group("resample_48k_to_16k_mono_1s");
    group.throughput(Throughput::Elements(input.len() as u64));
    for q in [Quality::Low, Quality::Medium, Quality::High] {
        let mut rs = Resampler::new(48_000, 16_000, 1, q).unwrap();
        let mut out = vec![0.0f32; rs.output_frames_max(input.len())];
        group.bench_function(format!("oneshot/{q}"), |b| {
            b.iter(|| {
                rs.reset();
                let n = rs.process_into(&[black_box(&input)], &mut [&mut out]).unwrap();
                black_box(rs.flush_into(&mut [&mut out[n..]]).unwrap())
            })
        });
        let chunk = 960;
        let mut buf = vec![0.0f32; rs.output_frames_max(chunk)];
        group.bench_function(format!("chunks_20ms/{q}"), |b| {
            b.iter(|| {
                rs.reset();
                for piece in input.chunks(chunk) {
                    black_box(rs.process_into(&[black_box(piece)], &mut [&mut buf]).unwrap());
                }
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20);
    targets = bench_resample
}
criterion_main!(benches);
