//! Times the resampler and format-converter kernels and prints one JSON object, for
//! `bench/resample/compare.py` (which times soxr and numpy in the same run).
//!
//! Usage: `resample_bench [REPEATS]` (default 30). Every figure is the median over the
//! repeats, in microseconds; `*_min_us` fields hold the fastest repeat.

use std::hint::black_box;
use std::time::Instant;

use audioadapter_buffers::direct::SequentialSliceOfVecs;
use remotemedia_audio::convert;
use remotemedia_audio::resample::{Quality, Resampler, resample};
use rubato::{Fft, FixedSync, Resampler as _, WindowFunction};

/// Rate pairs timed besides 48 kHz -> 16 kHz (`compare.py` times soxr HQ on the same).
const PAIRS: [(u32, u32); 6] = [
    (44_100, 48_000),
    (48_000, 44_100),
    (16_000, 48_000),
    (8_000, 16_000),
    (96_000, 16_000),
    (44_100, 16_000),
];

/// Median and minimum of `repeats` timings of `f`, in microseconds.
fn time_us(repeats: usize, mut f: impl FnMut()) -> (f64, f64) {
    f();
    let mut t: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    t.sort_by(f64::total_cmp);
    (t[t.len() / 2], t[0])
}

fn signal(n: usize, rate: f64) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = i as f64 / rate;
            (0.3 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                + 0.2 * (2.0 * std::f64::consts::PI * 3_000.0 * t).sin()) as f32
        })
        .collect()
}

fn main() {
    let repeats: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let mut fields: Vec<(String, f64)> = Vec::new();
    let input = signal(48_000, 48_000.0);
    for q in [Quality::Low, Quality::Medium, Quality::High] {
        let (med, min) = time_us(repeats, || {
            black_box(resample(&[black_box(&input)], 48_000, 16_000, q).unwrap());
        });
        fields.push((format!("resample_oneshot_{q}_us"), med));
        fields.push((format!("resample_oneshot_{q}_min_us"), min));

        let mut rs = Resampler::new(48_000, 16_000, 1, q).unwrap();
        let mut out = vec![0.0f32; rs.output_frames_max(input.len())];
        let (med, min) = time_us(repeats, || {
            rs.reset();
            let n = rs.process_into(&[&input], &mut [&mut out]).unwrap();
            black_box(rs.flush_into(&mut [&mut out[n..]]).unwrap());
        });
        fields.push((format!("resample_process_{q}_us"), med));
        fields.push((format!("resample_process_{q}_min_us"), min));

        let chunk = 960;
        let mut buf = vec![0.0f32; rs.output_frames_max(chunk)];
        let (med, min) = time_us(repeats, || {
            rs.reset();
            for piece in input.chunks(chunk) {
                black_box(rs.process_into(&[piece], &mut [&mut buf]).unwrap());
            }
        });
        let chunks = (input.len() / chunk) as f64;
        fields.push((format!("resample_chunk20ms_{q}_us"), med / chunks));
        fields.push((format!("resample_chunk20ms_{q}_min_us"), min / chunks));
        let taps: usize = rs.stages().iter().map(|&(_, _, taps)| taps).sum();
        fields.push((format!("resample_taps_{q}"), taps as f64));
    }

    // Other common pairs at `High`, one second of input, one call.
    for (fi, fo) in PAIRS {
        let x = signal(fi as usize, f64::from(fi));
        let (med, min) = time_us(repeats, || {
            black_box(resample(&[black_box(&x)], fi, fo, Quality::High).unwrap());
        });
        fields.push((format!("pair_{fi}_{fo}_high_us"), med));
        fields.push((format!("pair_{fi}_{fo}_high_min_us"), min));
    }

    // rubato 5.1 `Fft` in its fast and clean configuration for 3:1 (chunk 960, one sub-chunk), the whole
    // second through `process_all_into_buffer`, i.e. fifty 20 ms chunks.
    let mut fft = Fft::<f32>::new_custom(
        48_000,
        16_000,
        960,
        1,
        1,
        WindowFunction::BlackmanHarris2,
        FixedSync::Input,
    )
    .unwrap();
    let data_in = vec![input.clone()];
    let out_len = fft.process_all_needed_output_len(input.len());
    let mut data_out = vec![vec![0.0f32; out_len]];
    let (med, min) = time_us(repeats, || {
        fft.reset();
        let buf_in = SequentialSliceOfVecs::new(&data_in, 1, input.len()).unwrap();
        let mut buf_out = SequentialSliceOfVecs::new_mut(&mut data_out, 1, out_len).unwrap();
        black_box(
            fft.process_all_into_buffer(&buf_in, &mut buf_out, input.len(), None)
                .unwrap(),
        );
    });
    fields.push(("rubato_fft960_oneshot_us".into(), med));
    fields.push(("rubato_fft960_oneshot_min_us".into(), min));

    let n = 1 << 20;
    let pcm16: Vec<i16> = (0..n).map(|i| ((i * 7919) % 65_536) as i16).collect();
    let pcm32: Vec<i32> = pcm16.iter().map(|&x| i32::from(x) << 16).collect();
    let float: Vec<f32> = (0..n).map(|i| ((i % 2001) as f32 - 1000.0) / 1000.0).collect();
    let mut f_out = vec![0.0f32; n];
    let mut i16_out = vec![0i16; n];
    let mut i32_out = vec![0i32; n];
    let r = repeats.max(50);
    let mut add = |name: &str, (med, min): (f64, f64)| {
        fields.push((format!("{name}_us"), med));
        fields.push((format!("{name}_min_us"), min));
    };
    add("copy_f32_1m", time_us(r, || f_out.copy_from_slice(black_box(&float))));
    add("copy_i16_1m", time_us(r, || i16_out.copy_from_slice(black_box(&pcm16))));
    add(
        "i16_to_f32_1m",
        time_us(r, || convert::i16_to_f32(black_box(&pcm16), &mut f_out).unwrap()),
    );
    add(
        "f32_to_i16_1m",
        time_us(r, || convert::f32_to_i16(black_box(&float), &mut i16_out).unwrap()),
    );
    add(
        "i32_to_f32_1m",
        time_us(r, || convert::i32_to_f32(black_box(&pcm32), &mut f_out).unwrap()),
    );
    add(
        "f32_to_i32_1m",
        time_us(r, || convert::f32_to_i32(black_box(&float), &mut i32_out).unwrap()),
    );
    add(
        "i16_to_i32_1m",
        time_us(r, || convert::i16_to_i32(black_box(&pcm16), &mut i32_out).unwrap()),
    );
    add(
        "i32_to_i16_1m",
        time_us(r, || convert::i32_to_i16(black_box(&pcm32), &mut i16_out).unwrap()),
    );
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("  \"{k}\": {v:.3}")).collect();
    println!("{{\n{}\n}}", body.join(",\n"));
}
