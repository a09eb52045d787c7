//! The WAV writer at the format's limits, driven directly: a 4 GiB file is
//! too slow to write in a test, so the size limit is lowered through
//! `WavSink::with_data_limit`, which runs the same code as the real limit.

use std::path::PathBuf;

use remotemedia_core::AudioData;
use remotemedia_media::wav::{WAV_DATA_LIMIT, WavError, WavSink};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("remotemedia-wav-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Stereo i16 chunks of `frames` frames; sample values count up.
fn chunk(start: usize, frames: usize) -> AudioData {
    let left: Vec<i16> = (start..start + frames).map(|i| i as i16).collect();
    let right: Vec<i16> = left.iter().map(|s| -s).collect();
    AudioData::new([left, right].concat(), 2, 16_000).unwrap()
}

#[test]
fn the_limit_leaves_room_for_the_largest_header() {
    // hound's largest header (WAVE_FORMAT_EXTENSIBLE) is 68 bytes; the RIFF
    // size field counts all of it but its first 8.
    assert!(WAV_DATA_LIMIT + 60 <= u64::from(u32::MAX));
}

#[test]
fn output_stops_at_the_last_whole_frame_that_fits_and_stays_valid() {
    let d = Dir::new("limit");
    // 1001 bytes: 250 stereo 16-bit frames (4 bytes each) and a byte over.
    for limit in [1000u64, 1001, 1003] {
        let path = d.0.join(format!("out-{limit}.wav"));
        let mut sink = WavSink::with_data_limit(&path, limit);
        sink.write(&chunk(0, 100)).unwrap();
        sink.write(&chunk(100, 100)).unwrap();
        let err = sink.write(&chunk(200, 100)).unwrap_err();
        let WavError::TooLong { frames, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(*frames, 250);
        assert!(
            err.to_string().contains("size limit") && err.to_string().contains("250 frames"),
            "{err}"
        );
        // Nothing more goes in, and the file is finished properly.
        assert!(matches!(
            sink.write(&chunk(300, 1)),
            Err(WavError::TooLong { frames: 250, .. })
        ));
        assert!(sink.finish().unwrap());
        let mut r = hound::WavReader::open(&path).unwrap();
        assert_eq!(r.duration(), 250);
        let samples: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
        let want: Vec<i16> = (0..250i16).flat_map(|i| [i, -i]).collect();
        assert_eq!(samples, want);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 44 + 1000);
    }
}

#[test]
fn a_chunk_that_fits_exactly_is_not_an_error() {
    let d = Dir::new("exact");
    let path = d.0.join("out.wav");
    let mut sink = WavSink::with_data_limit(&path, 800);
    sink.write(&chunk(0, 100)).unwrap();
    sink.write(&chunk(100, 100)).unwrap();
    // An empty chunk at the limit (a flush's) is fine too.
    sink.write(&chunk(200, 0)).unwrap();
    assert!(sink.finish().unwrap());
    assert_eq!(hound::WavReader::open(&path).unwrap().duration(), 200);
}

#[test]
fn shapes_a_wav_header_cannot_describe_are_refused_before_creating_the_file() {
    // i16 frames of 40,000 channels and i32 frames of 20,000 channels pass
    // the 16-bit block-align field; 32,767 i16 channels is the widest that fits.
    let d = Dir::new("shapes");
    for (channels, i32s, max) in [(40_000usize, false, "32767"), (20_000, true, "16383")] {
        let path = d.0.join(format!("wide-{channels}.wav"));
        let audio = if i32s {
            AudioData::new(vec![0i32; channels * 2], channels, 16_000).unwrap()
        } else {
            AudioData::new(vec![0i16; channels * 2], channels, 16_000).unwrap()
        };
        let err = WavSink::new(&path).write(&audio).unwrap_err().to_string();
        assert!(
            err.contains(&format!("cannot write {channels} channels")) && err.contains(&format!("1 to {max} channels")),
            "{err}"
        );
        assert!(!path.exists(), "{channels}: a file was created");
    }
    let path = d.0.join("widest.wav");
    let mut sink = WavSink::new(&path);
    sink.write(&AudioData::new(vec![1i16; 32_767 * 2], 32_767, 16_000).unwrap())
        .unwrap();
    assert!(sink.finish().unwrap());
    let r = hound::WavReader::open(&path).unwrap();
    assert_eq!((r.spec().channels, r.len()), (32_767, 2 * 32_767));
}
