//! Resamples a raw little-endian `f32` mono file, for `bench/resample/quality.py --cmd`.
//!
//! Usage: `resample_file IN_RATE OUT_RATE QUALITY IN.f32 OUT.f32 [CHUNK_FRAMES]`
//!
//! With `CHUNK_FRAMES` the file is streamed through a [`Resampler`] in chunks of that size
//! (then flushed); without it the whole clip goes through [`resample`] in one call.

use std::error::Error;
use std::process::ExitCode;

use remotemedia_audio::resample::{Quality, Resampler, resample};

fn run(args: &[String]) -> Result<(), Box<dyn Error>> {
    let [in_rate, out_rate, quality, inp, out, rest @ ..] = args else {
        return Err("usage: resample_file IN_RATE OUT_RATE QUALITY IN.f32 OUT.f32 [CHUNK_FRAMES]".into());
    };
    let (in_rate, out_rate): (u32, u32) = (in_rate.parse()?, out_rate.parse()?);
    let quality: Quality = quality.parse()?;
    let bytes = std::fs::read(inp)?;
    let input: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let output = match rest.first() {
        None => resample(&[&input], in_rate, out_rate, quality)?.remove(0),
        Some(chunk) => {
            let chunk: usize = chunk.parse()?;
            let mut rs = Resampler::new(in_rate, out_rate, 1, quality)?;
            let mut buf = vec![0.0f32; rs.output_frames_max(chunk.max(1))];
            let mut output = Vec::new();
            for piece in input.chunks(chunk.max(1)) {
                let n = rs.process_into(&[piece], &mut [&mut buf])?;
                output.extend_from_slice(&buf[..n]);
            }
            let n = rs.flush_into(&mut [&mut buf])?;
            output.extend_from_slice(&buf[..n]);
            output
        }
    };
    let bytes: Vec<u8> = output.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(out, bytes)?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("resample_file: {e}");
            ExitCode::FAILURE
        }
    }
}
