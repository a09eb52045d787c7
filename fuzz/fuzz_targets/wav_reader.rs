//! Arbitrary bytes as a WAV file, read to the end the way `remotemedia run`
//! reads its input (probe the header, then chunks of 20 ms), and again in
//! chunks of 3 frames.

#![no_main]

use std::io::Cursor;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use remotemedia_cli::wav::{WavChunks, WavError, WavInfo};
use remotemedia_core::Samples;

fn path() -> &'static Path {
    Path::new("fuzz.wav")
}

/// Reads every chunk, checking each against the header; stops at the end
/// or at the first error.
fn read_all(data: &[u8], chunk_frames: usize, info: WavInfo) {
    let mut chunks = WavChunks::from_reader(Cursor::new(data), path(), chunk_frames).expect("opened before");
    assert_eq!(chunks.info(), info, "header read differently");
    let mut total = 0u64;
    let mut short_chunk = false;
    loop {
        match chunks.next_chunk() {
            Ok(Some(audio)) => {
                assert!(!short_chunk, "a chunk after a short chunk");
                assert_eq!(audio.channels(), info.channels);
                assert_eq!(audio.sample_rate(), info.sample_rate);
                let frames = audio.frames();
                assert!(
                    frames > 0 && frames <= chunk_frames,
                    "{frames} frames in a chunk of {chunk_frames}"
                );
                short_chunk = frames < chunk_frames;
                total += frames as u64;
                assert!(total <= info.frames, "read {total} of {} frames", info.frames);
                match (audio.samples(), info.float, info.bits) {
                    (Samples::F32(_), true, 32) => {}
                    (Samples::I16(s), false, 8) => assert!(s.iter().all(|x| x & 0xff == 0), "8-bit not scaled"),
                    (Samples::I16(_), false, 16) | (Samples::I32(_), false, 32) => {}
                    (Samples::I32(s), false, 24) => assert!(s.iter().all(|x| x & 0xff == 0), "24-bit not scaled"),
                    (s, float, bits) => panic!("{} audio from a {bits}-bit (float: {float}) file", s.format()),
                }
            }
            Ok(None) => {
                assert_eq!(total, info.frames, "ended early");
                assert!(matches!(chunks.next_chunk(), Ok(None)), "data after the end");
                return;
            }
            Err(e) => {
                assert!(!e.to_string().is_empty(), "empty error: {e:?}");
                if let WavError::Truncated { frames, expected, .. } = e {
                    assert_eq!(expected, info.frames);
                    assert!(
                        frames >= total && frames < expected,
                        "truncated at {frames} of {expected}"
                    );
                }
                return;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let info = match WavChunks::from_reader(Cursor::new(data), path(), 1) {
        Ok(probe) => probe.info(),
        Err(e) => {
            assert!(!e.to_string().is_empty(), "empty error: {e:?}");
            return;
        }
    };
    assert!(info.channels > 0 && info.sample_rate > 0, "accepted {info:?}");
    // `remotemedia run` with its default --chunk-ms of 20.
    let cli_chunk = (u64::from(info.sample_rate) * 20).div_ceil(1000) as usize;
    read_all(data, cli_chunk, info);
    read_all(data, 3, info);
});
