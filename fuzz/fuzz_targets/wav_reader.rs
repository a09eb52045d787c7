//! Arbitrary bytes as a media stream (seeded with WAV files), read to the end
//! by `MediaDecoder` the way `remotemedia run --input -` reads standard input
//! (20 ms chunks), and again in chunks of 3 frames.

#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use remotemedia_media::{MediaDecoder, MediaInfo};

/// Reads every chunk, checking each against the header; stops at the end
/// or at the first error.
fn read_all(data: &[u8], chunk_frames: usize, info: &MediaInfo) {
    let mut decoder = MediaDecoder::from_reader(Box::new(Cursor::new(data.to_vec())), "-", chunk_frames)
        .expect("opened before");
    assert_eq!(decoder.info(), info, "header read differently");
    let pcm = info.codec.starts_with("pcm");
    let mut total = 0u64;
    let mut short_chunk = false;
    while let Some(chunk) = decoder.next() {
        match chunk {
            Ok(audio) => {
                assert!(!short_chunk, "a chunk after a short chunk");
                assert_eq!(audio.channels(), info.channels);
                assert_eq!(audio.sample_rate(), info.sample_rate);
                assert_eq!(audio.format(), info.sample_format);
                let frames = audio.frames();
                assert!(
                    frames > 0 && frames <= chunk_frames,
                    "{frames} frames in a chunk of {chunk_frames}"
                );
                short_chunk = frames < chunk_frames;
                total += frames as u64;
                if let (true, Some(n)) = (pcm, info.frames) {
                    assert!(total <= n, "read {total} of {n} frames");
                }
            }
            Err(e) => {
                assert!(e.to_string().starts_with("-: "), "error not naming the input: {e}");
                assert!(decoder.next().is_none(), "chunks after an error");
                return;
            }
        }
    }
    if let (true, Some(n), None) = (pcm, info.frames, decoder.truncated()) {
        assert_eq!(total, n, "ended early without a truncation warning");
    }
    assert_eq!(decoder.frames_decoded(), total);
}

fuzz_target!(|data: &[u8]| {
    let info = match MediaDecoder::from_reader(Box::new(Cursor::new(data.to_vec())), "-", 1) {
        Ok(probe) => probe.info().clone(),
        Err(e) => {
            assert!(e.to_string().starts_with("-: "), "error not naming the input: {e}");
            return;
        }
    };
    assert!(info.channels > 0 && info.sample_rate > 0, "accepted {info:?}");
    // `remotemedia run` with its default --chunk-ms of 20.
    let cli_chunk = (u64::from(info.sample_rate) * 20).div_ceil(1000) as usize;
    read_all(data, cli_chunk, &info);
    read_all(data, 3, &info);
});
