//! Instruction counts (callgrind, through gungraun) of the DSP kernels on small inputs: the
//! figures `scripts/check_instructions.py` compares with `bench/instructions/baseline.json`.
//! Counts are deterministic, so unlike the criterion benches they can gate CI on a shared
//! machine. Every setup warms its kernel (CPU feature detection, filter table, VAD state)
//! so that only the steady-state call is counted, and every benchmark hands its state back
//! so that freeing it is not counted either.
//!
//! `cargo bench -p remotemedia-audio --bench instructions` (needs valgrind and a
//! `gungraun-runner` of the same version as the `gungraun` dev-dependency).
// gungraun's macros generate public modules, constants and functions without docs.
#![allow(missing_docs)]

use std::hint::black_box;

use gungraun::{library_benchmark, library_benchmark_group, main};
use remotemedia_audio::convert;
use remotemedia_audio::resample::{Quality, Resampler};
use remotemedia_audio::vad::{Vad, VadConfig, VadMode, VadOutput};

/// Samples per conversion call: 4096 (16 KiB of `f32`, in L1/L2 like a real chunk).
const CONVERT_LEN: usize = 4096;

/// A deterministic voiced-like signal: two harmonics of 140 Hz plus a little noise.
fn signal(len: usize, rate: u32) -> Vec<f32> {
    let mut state = 7u32;
    (0..len)
        .map(|i| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let ph = 2.0 * std::f32::consts::PI * 140.0 * i as f32 / rate as f32;
            0.05 * (ph.sin() + 0.5 * (2.0 * ph).sin()) + 0.01 * noise
        })
        .collect()
}

/// A resampler that has already processed one 20 ms chunk, its next 20 ms input chunk and
/// an output buffer.
struct ResampleState {
    resampler: Resampler,
    input: Vec<f32>,
    output: Vec<f32>,
}

fn resample_setup(in_rate: u32, out_rate: u32) -> ResampleState {
    let chunk = in_rate as usize / 50;
    let mut resampler = Resampler::new(in_rate, out_rate, 1, Quality::High).expect("supported pair");
    let audio = signal(2 * chunk, in_rate);
    let mut output = vec![0.0; resampler.output_frames_max(chunk)];
    resampler
        .process_into(&[&audio[..chunk]], &mut [&mut output])
        .expect("valid buffers");
    ResampleState {
        resampler,
        input: audio[chunk..].to_vec(),
        output,
    }
}

// One 20 ms mono chunk through a warmed `high`-quality resampler.
#[library_benchmark]
#[bench::down_48k_to_16k(setup = resample_setup, args = (48_000, 16_000))]
#[bench::up_44k1_to_48k(setup = resample_setup, args = (44_100, 48_000))]
fn resample_20ms_chunk(mut s: ResampleState) -> ResampleState {
    let n = s
        .resampler
        .process_into(&[black_box(&s.input)], &mut [&mut s.output])
        .expect("valid buffers");
    black_box(n);
    s
}

fn i16_setup() -> (Vec<i16>, Vec<f32>) {
    let src: Vec<i16> = (0..CONVERT_LEN).map(|i| ((i * 7_919) % 65_536) as i16).collect();
    let mut dst = vec![0.0; CONVERT_LEN];
    convert::i16_to_f32(&src, &mut dst).expect("same length");
    (src, dst)
}

fn f32_setup() -> (Vec<f32>, Vec<i16>) {
    let src: Vec<f32> = (0..CONVERT_LEN)
        .map(|i| ((i % 2_001) as f32 - 1_000.0) / 1_000.0)
        .collect();
    let mut dst = vec![0; CONVERT_LEN];
    convert::f32_to_i16(&src, &mut dst).expect("same length");
    (src, dst)
}

// `i16 -> f32` on 4096 samples.
#[library_benchmark]
#[bench::samples_4096(setup = i16_setup)]
fn convert_i16_to_f32((src, mut dst): (Vec<i16>, Vec<f32>)) -> (Vec<i16>, Vec<f32>) {
    convert::i16_to_f32(black_box(&src), &mut dst).expect("same length");
    (src, dst)
}

// `f32 -> i16` (round, saturate) on 4096 samples.
#[library_benchmark]
#[bench::samples_4096(setup = f32_setup)]
fn convert_f32_to_i16((src, mut dst): (Vec<f32>, Vec<i16>)) -> (Vec<f32>, Vec<i16>) {
    convert::f32_to_i16(black_box(&src), &mut dst).expect("same length");
    (src, dst)
}

/// A speech-mode VAD that has seen one second of the signal, and its next 30 ms frame.
struct VadState {
    vad: Vad,
    out: VadOutput,
    frame: Vec<f32>,
}

fn vad_setup() -> VadState {
    const RATE: u32 = 16_000;
    let audio = signal(RATE as usize + 480, RATE);
    let mut vad = Vad::new(VadConfig::for_mode(RATE, VadMode::Speech)).expect("valid config");
    let mut out = VadOutput::new();
    vad.process(&audio[..RATE as usize], &mut out);
    out.clear();
    out.frames.reserve(8);
    VadState {
        vad,
        out,
        frame: audio[RATE as usize..].to_vec(),
    }
}

// One 30 ms frame at 16 kHz through the speech-mode VAD.
#[library_benchmark]
#[bench::speech_30ms_16k(setup = vad_setup)]
fn vad_frame(mut s: VadState) -> VadState {
    s.vad.process(black_box(&s.frame), &mut s.out);
    s
}

library_benchmark_group!(
    name = kernels;
    benchmarks = resample_20ms_chunk, convert_i16_to_f32, convert_f32_to_i16, vad_frame
);

main!(library_benchmark_groups = kernels);
