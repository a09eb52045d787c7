//! Cost of the VAD kernel per 30 ms frame at 16 kHz, both modes.

use criterion::{Criterion, criterion_group, criterion_main};
use remotemedia_audio::vad::{Vad, VadConfig, VadMode, VadOutput};
use std::hint::black_box;

/// A deterministic voiced-like test signal (harmonics plus a little noise).
fn signal(len: usize) -> Vec<f32> {
    let mut state = 7u32;
    (0..len)
        .map(|i| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let ph = 2.0 * std::f32::consts::PI * 140.0 * i as f32 / 16_000.0;
            0.05 * (ph.sin() + 0.5 * (2.0 * ph).sin()) + 0.01 * noise
        })
        .collect()
}

fn bench_frame(c: &mut Criterion) {
    let audio = signal(16_000 * 4);
    let mut group = c.benchmark_group("vad_30ms_frame_16k");
    for mode in [VadMode::Speech, VadMode::Energy] {
        let mut vad = Vad::new(VadConfig::for_mode(16_000, mode)).expect("valid config");
        let mut out = VadOutput::new();
        out.frames.reserve(64);
        let mut pos = 0;
        group.bench_function(mode.to_string(), |b| {
            b.iter(|| {
                if pos + 480 > audio.len() {
                    pos = 0;
                }
                vad.process(black_box(&audio[pos..pos + 480]), &mut out);
                pos += 480;
                out.clear();
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_frame);
criterion_main!(benches);
