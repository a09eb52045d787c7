//! Decodes a file (or `-` for standard input) to the end, as f32 (integer
//! PCM chunks are converted, as the benchmark's peers output f32), and
//! prints its frame count, rate and channels: the decoding benchmark's
//! subject.
//!
//! Usage: `decode_file PATH [CHUNK_FRAMES]`

use std::process::ExitCode;

use remotemedia_audio::convert;
use remotemedia_core::Samples;
use remotemedia_media::MediaDecoder;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: decode_file PATH|- [CHUNK_FRAMES]");
        return ExitCode::from(2);
    };
    let chunk = args.get(1).and_then(|c| c.parse().ok()).unwrap_or(4096);
    let opened = if path == "-" {
        MediaDecoder::from_reader(Box::new(std::io::stdin()), "-", chunk)
    } else {
        MediaDecoder::open(path.as_ref(), chunk)
    };
    let mut decoder = match opened {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut frames = 0u64;
    let mut f32s = Vec::new();
    for chunk in decoder.by_ref() {
        match chunk {
            Ok(c) => {
                f32s.resize(c.samples().len(), 0.0);
                let converted = match c.samples() {
                    Samples::F32(_) => Ok(()),
                    Samples::I16(s) => convert::i16_to_f32(s, &mut f32s),
                    Samples::I32(s) => convert::i32_to_f32(s, &mut f32s),
                };
                if let Err(e) = converted {
                    eprintln!("{e}");
                    return ExitCode::FAILURE;
                }
                frames += c.frames() as u64;
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    for w in decoder.warnings() {
        eprintln!("warning: {w}");
    }
    let info = decoder.info();
    println!("{frames} {} {}", info.sample_rate, info.channels);
    ExitCode::SUCCESS
}
