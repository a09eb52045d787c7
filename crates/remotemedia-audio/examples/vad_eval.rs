//! Evaluation helper for `bench/vad/report.py` and `bench/vad/train.py`.
//!
//! ```text
//! vad_eval decide [--frame-ms N] [--mode speech|energy] [--min-speech-ms N]
//!                 [--min-silence-ms N] [--hangover-ms N] [--probability P] WAV...
//!                                                              # JSON line per file
//! vad_eval earshot WAV...                                      # same, earshot 1.2 (16 kHz only)
//! vad_eval features OUT_DIR WAV...                             # OUT_DIR/<i>.f32 per file; prints hop_ms
//! ```
//!
//! `decide` and `earshot` print one JSON object per file with the frame length
//! in seconds, the decisions as a string of 0/1 and the segments in seconds.

use std::fs;
use std::path::Path;

use remotemedia_audio::vad::features::{FeatureExtractor, HOP_MS, NUM_FEATURES};
use remotemedia_audio::vad::{VadConfig, VadMode, detect, mix_interleaved_to_mono};

type AnyError = Box<dyn std::error::Error>;

/// Reads a WAV file as mono f32 (channels averaged).
fn read_wav(path: &str) -> Result<(Vec<f32>, u32), AnyError> {
    let mut reader = hound::WavReader::open(path)?;
    let spec = reader.spec();
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()?
        }
    };
    let channels = usize::from(spec.channels);
    let mut mono = vec![0.0; samples.len() / channels];
    mix_interleaved_to_mono(&samples[..mono.len() * channels], channels, &mut mono)?;
    Ok((mono, spec.sample_rate))
}

fn print_json(path: &str, frame_s: f64, decisions: &[bool], segments: &[(f64, f64)]) {
    let bits: String = decisions.iter().map(|&d| if d { '1' } else { '0' }).collect();
    let segs: Vec<String> = segments.iter().map(|(s, e)| format!("[{s:.5},{e:.5}]")).collect();
    println!(
        "{{\"wav\":\"{path}\",\"frame_s\":{frame_s},\"decisions\":\"{bits}\",\"segments\":[{}]}}",
        segs.join(",")
    );
}

fn decide(args: &[String]) -> Result<(), AnyError> {
    let mut mode = VadMode::Speech;
    let mut options: Vec<(&str, &str)> = Vec::new();
    let mut i = 0;
    while i + 1 < args.len() && args[i].starts_with("--") {
        match args[i].as_str() {
            "--mode" => mode = args[i + 1].parse()?,
            other => options.push((other, &args[i + 1])),
        }
        i += 2;
    }
    for path in &args[i..] {
        let (mono, sr) = read_wav(path)?;
        let mut config = VadConfig::for_mode(sr, mode);
        for &(name, value) in &options {
            match name {
                "--frame-ms" => config.frame_duration_ms = value.parse()?,
                "--min-speech-ms" => config.min_speech_ms = value.parse()?,
                "--min-silence-ms" => config.min_silence_ms = value.parse()?,
                "--hangover-ms" => config.hangover_ms = value.parse()?,
                "--probability" => config.speech_probability = value.parse()?,
                other => return Err(format!("unknown option {other}").into()),
            }
        }
        let summary = detect(&mono, config)?;
        let decisions: Vec<bool> = summary.frames.iter().map(|f| f.is_speech).collect();
        let segments: Vec<(f64, f64)> = summary.segments.iter().map(|s| (s.start_s, s.end_s)).collect();
        let frame_s = config.frame_len() as f64 / f64::from(sr);
        print_json(path, frame_s, &decisions, &segments);
    }
    Ok(())
}

fn earshot(args: &[String]) -> Result<(), AnyError> {
    for path in args {
        let (mono, sr) = read_wav(path)?;
        if sr != 16_000 {
            return Err(format!("{path}: earshot needs 16 kHz, got {sr}").into());
        }
        let mut detector = earshot::Detector::default();
        let decisions: Vec<bool> = mono
            .chunks_exact(256)
            .map(|frame| {
                let clipped: Vec<f32> = frame.iter().map(|x| x.clamp(-1.0, 1.0)).collect();
                detector.predict_f32(&clipped) >= 0.5
            })
            .collect();
        print_json(path, 256.0 / 16_000.0, &decisions, &[]);
    }
    Ok(())
}

fn features(args: &[String]) -> Result<(), AnyError> {
    let out_dir = Path::new(&args[0]);
    fs::create_dir_all(out_dir)?;
    for (n, path) in args[1..].iter().enumerate() {
        let (mono, sr) = read_wav(path)?;
        let mut fe = FeatureExtractor::new(sr);
        let hops = mono.len() / (sr as usize * HOP_MS / 1000);
        let mut bytes = Vec::with_capacity(hops * NUM_FEATURES * 4);
        fe.push(&mono, |feats, _| {
            for v in feats {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        });
        fs::write(out_dir.join(format!("{n}.f32")), bytes)?;
    }
    // The training script reads the hop and the vector length from here (one vector per hop).
    println!("hop_ms {HOP_MS} num_features {NUM_FEATURES}");
    Ok(())
}

fn main() -> Result<(), AnyError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        return Err("usage: vad_eval decide|earshot|features ...".into());
    };
    match cmd.as_str() {
        "decide" => decide(rest),
        "earshot" => earshot(rest),
        "features" => features(rest),
        other => Err(format!("unknown command {other}").into()),
    }
}
