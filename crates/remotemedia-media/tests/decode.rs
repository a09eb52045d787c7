//! Decoding real files made by ffmpeg and sox: sample counts against
//! ffmpeg's own decode, channel layouts, chunking, pipes, bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use remotemedia_core::{AudioData, Samples};
use remotemedia_media::{MediaDecoder, MediaError};

/// Runs a generator; panics with its output when it fails.
fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .expect("ffmpeg and sox are installed (scripts/test.sh installs them)");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ffmpeg() -> Command {
    let mut c = Command::new("ffmpeg");
    c.args(["-hide_banner", "-loglevel", "error", "-y"]);
    c
}

/// Writes `seconds` of a two-tone stereo signal at `rate` with `codec_args`.
fn make(dir: &Path, name: &str, rate: u32, channels: u32, seconds: f64, codec_args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let graph = format!("aevalsrc=0.5*sin(2*PI*440*t):s={rate}:d={seconds}");
    let mut c = ffmpeg();
    c.args(["-f", "lavfi", "-i", &graph, "-ac", &channels.to_string()]);
    c.args(codec_args).arg(&path);
    run(&mut c);
    path
}

/// Frames ffmpeg decodes from `path` (its f32 output, counted).
fn ffmpeg_frames(path: &Path, channels: usize) -> u64 {
    let out = ffmpeg()
        .arg("-i")
        .arg(path)
        .args(["-f", "f32le", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success());
    (out.stdout.len() / 4 / channels) as u64
}

/// Frames of the 440 Hz test tone `make` encodes, before any encoding.
fn source_frames(rate: u32, seconds: f64) -> u64 {
    let graph = format!("aevalsrc=0.5*sin(2*PI*440*t):s={rate}:d={seconds}");
    let out = ffmpeg()
        .args(["-f", "lavfi", "-i", &graph, "-f", "f32le", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success());
    (out.stdout.len() / 4) as u64
}

/// ffmpeg's decoding of `path` as mono f32 samples.
fn ffmpeg_samples(path: &Path) -> Vec<f32> {
    let out = ffmpeg()
        .arg("-i")
        .arg(path)
        .args(["-ac", "1", "-f", "f32le", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success());
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn decode_all(mut d: MediaDecoder) -> (Vec<AudioData>, MediaDecoder) {
    let mut chunks = Vec::new();
    for c in d.by_ref() {
        chunks.push(c.expect("decodes"));
    }
    (chunks, d)
}

fn total_frames(chunks: &[AudioData]) -> u64 {
    chunks.iter().map(|c| c.frames() as u64).sum()
}

/// The samples as f32 at full scale (i16 / 2^15, i32 / 2^31).
fn f32s(a: &AudioData) -> Vec<f32> {
    match a.samples() {
        Samples::F32(s) => s.to_vec(),
        Samples::I16(s) => s.iter().map(|&x| f32::from(x) / 32768.0).collect(),
        Samples::I32(s) => s.iter().map(|&x| x as f32 / 2_147_483_648.0).collect(),
    }
}

#[test]
fn every_format_decodes_to_ffmpegs_frame_count() {
    let dir = tempfile::tempdir().unwrap();
    use remotemedia_core::SampleFormat::{F32, I16, I32};
    let cases: &[(&str, u32, u32, remotemedia_core::SampleFormat, &[&str])] = &[
        ("s16.wav", 44100, 2, I16, &["-c:a", "pcm_s16le"]),
        ("s24.wav", 48000, 2, I32, &["-c:a", "pcm_s24le"]),
        ("s32.wav", 16000, 1, I32, &["-c:a", "pcm_s32le"]),
        ("u8.wav", 8000, 1, I16, &["-c:a", "pcm_u8"]),
        ("f32.wav", 48000, 2, F32, &["-c:a", "pcm_f32le"]),
        ("f64.wav", 22050, 1, F32, &["-c:a", "pcm_f64le"]),
        ("mulaw.wav", 8000, 1, F32, &["-c:a", "pcm_mulaw"]),
        ("alaw.wav", 8000, 1, F32, &["-c:a", "pcm_alaw"]),
        ("ext6.wav", 48000, 6, I16, &["-c:a", "pcm_s16le"]),
        ("a.flac", 44100, 2, I16, &["-c:a", "flac", "-sample_fmt", "s16"]),
        ("a24.flac", 48000, 1, I32, &["-c:a", "flac", "-sample_fmt", "s32"]),
        ("a.mp3", 44100, 2, F32, &["-c:a", "libmp3lame", "-b:a", "128k"]),
        ("a.ogg", 44100, 2, F32, &["-c:a", "libvorbis"]),
        ("a.m4a", 44100, 2, F32, &["-c:a", "aac", "-b:a", "128k"]),
    ];
    for &(name, rate, channels, format, args) in cases {
        let path = make(dir.path(), name, rate, channels, 1.3, args);
        let d = MediaDecoder::open(&path, 1000).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(d.info().sample_rate, rate, "{name}");
        assert_eq!(d.info().channels, channels as usize, "{name}");
        assert_eq!(d.info().sample_format, format, "{name}");
        let (chunks, d) = decode_all(d);
        let mut want = ffmpeg_frames(&path, channels as usize);
        if name.ends_with(".m4a") {
            // ffmpeg drops the AAC priming but keeps the end padding of the
            // last packet; the edit list gives the source's exact length.
            let exact = source_frames(rate, 1.3);
            assert!(
                (exact..exact + 1024).contains(&want),
                "{name}: ffmpeg {want} vs source {exact}"
            );
            want = exact;
        }
        assert_eq!(total_frames(&chunks), want, "{name}: frames vs ffmpeg");
        assert!(d.warnings().is_empty(), "{name}: {:?}", d.warnings());
        for c in &chunks[..chunks.len() - 1] {
            assert_eq!(c.frames(), 1000, "{name}: every chunk but the last is full");
        }
        assert!(chunks.iter().all(|c| c.format() == format), "{name}");
        let peak = chunks.iter().flat_map(f32s).fold(0f32, |m, x| m.max(x.abs()));
        assert!(
            (0.33..0.6).contains(&peak),
            "{name}: a 0.5 sine (0.35 after ffmpeg up-mixes it) decodes at its level, peak {peak}"
        );
    }
}

#[test]
fn wav_samples_match_ffmpeg_exactly_per_channel() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.wav");
    // Left 440 Hz, right 1000 Hz: a swapped or interleaved channel shows.
    run(ffmpeg()
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:r=16000:d=0.5",
            "-f",
            "lavfi",
            "-i",
            "sine=f=1000:r=16000:d=0.5",
            "-filter_complex",
            "[0][1]amerge=inputs=2",
            "-c:a",
            "pcm_f32le",
        ])
        .arg(&path));
    let raw = ffmpeg()
        .arg("-i")
        .arg(&path)
        .args(["-f", "f32le", "-"])
        .output()
        .unwrap()
        .stdout;
    let interleaved: Vec<f32> = raw
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let (chunks, d) = decode_all(MediaDecoder::open(&path, 777).unwrap());
    assert_eq!(d.info().channel_mask, Some(0b11));
    let mut got = Vec::new();
    for c in &chunks {
        let s = f32s(c);
        assert_eq!(c.format(), remotemedia_core::SampleFormat::F32);
        let n = c.frames();
        for f in 0..n {
            got.push(s[f]);
            got.push(s[n + f]);
        }
    }
    assert_eq!(got, interleaved);
}

#[test]
fn a_wav_from_a_pipe_of_unknown_length_decodes_whole() {
    // ffmpeg writes 0xFFFFFFFF as the lengths, sox 0x7FFFF000.
    let mut ff = ffmpeg()
        .args(["-f", "lavfi", "-i", "sine=r=16000:d=2", "-f", "wav", "-"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let d = MediaDecoder::from_reader(Box::new(ff.stdout.take().unwrap()), "-", 4096).unwrap();
    assert_eq!(d.info().frames, None);
    let (chunks, d) = decode_all(d);
    assert_eq!(total_frames(&chunks), 32000);
    assert!(d.warnings().is_empty(), "{:?}", d.warnings());
    assert!(ff.wait().unwrap().success());

    let mut sox = Command::new("sox")
        .args([
            "-n", "-r", "8000", "-c", "2", "-b", "16", "-t", "wav", "-", "synth", "1.5", "sine", "300",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sox is installed");
    let (chunks, d) = decode_all(MediaDecoder::from_reader(Box::new(sox.stdout.take().unwrap()), "-", 1000).unwrap());
    assert_eq!(total_frames(&chunks), 12000);
    assert_eq!(chunks[0].channels(), 2);
    assert!(d.warnings().is_empty(), "{:?}", d.warnings());
    assert!(sox.wait().unwrap().success());
}

#[test]
fn mp3_and_flac_from_a_pipe_decode() {
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in [
        ("p.mp3", &["-c:a", "libmp3lame"][..]),
        ("p.flac", &["-c:a", "flac"][..]),
    ] {
        let path = make(dir.path(), name, 44100, 2, 1.0, args);
        let want = ffmpeg_frames(&path, 2);
        let file = std::fs::File::open(&path).unwrap();
        let (chunks, _) = decode_all(MediaDecoder::from_reader(Box::new(file), "-", 4096).unwrap());
        assert_eq!(total_frames(&chunks), want, "{name}");
    }
}

#[test]
fn format_comes_from_the_content_not_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = make(dir.path(), "really.mp3", 44100, 1, 1.0, &["-c:a", "libmp3lame"]);
    let lying = dir.path().join("lying.wav");
    std::fs::copy(&path, &lying).unwrap();
    let d = MediaDecoder::open(&lying, 4096).unwrap();
    assert_eq!(d.info().codec, "mp3");
    let (chunks, _) = decode_all(d);
    assert_eq!(total_frames(&chunks), ffmpeg_frames(&path, 1));
}

fn open_err(path: &Path) -> String {
    match MediaDecoder::open(path, 1024) {
        Ok(d) => {
            let (chunks, d) = decode_all(d);
            panic!(
                "{} opened: {} frames, warnings {:?}",
                path.display(),
                total_frames(&chunks),
                d.warnings()
            )
        }
        Err(e) => e.to_string(),
    }
}

#[test]
fn empty_garbage_and_video_only_inputs_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let e = open_err(&empty);
    assert!(e.contains("empty.wav") && e.contains("empty input"), "{e}");

    let text = dir.path().join("notes.mp3");
    std::fs::write(&text, "this is not audio at all, just some text\n".repeat(50)).unwrap();
    let e = open_err(&text);
    assert!(
        e.contains("notes.mp3") && e.contains("not a supported media format"),
        "{e}"
    );

    let video = dir.path().join("video.mp4");
    run(ffmpeg()
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x64:rate=5:d=1",
            "-c:v",
            "mpeg4",
            "-an",
        ])
        .arg(&video));
    let e = open_err(&video);
    assert!(e.contains("video.mp4"), "{e}");
    assert!(e.contains("no audio track") || e.contains("unsupported"), "{e}");

    let missing = dir.path().join("missing.flac");
    let e = open_err(&missing);
    assert!(e.contains("missing.flac"), "{e}");
}

/// A 44-byte PCM WAV header with the given fields.
fn wav_header(channels: u16, rate: u32, bits: u16, data_len: u32) -> Vec<u8> {
    let block = channels.wrapping_mul(bits / 8);
    let mut h = Vec::new();
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(36 + data_len).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&(rate.wrapping_mul(u32::from(block))).to_le_bytes());
    h.extend_from_slice(&block.to_le_bytes());
    h.extend_from_slice(&bits.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    h
}

#[test]
fn lying_headers_fail_clearly_without_allocating_what_they_claim() {
    let dir = tempfile::tempdir().unwrap();
    let many = dir.path().join("many.wav");
    let mut bytes = wav_header(65535, 44100, 16, 4_000_000_000);
    bytes.extend_from_slice(&[0; 1024]);
    std::fs::write(&many, &bytes).unwrap();
    let e = open_err(&many);
    assert!(e.contains("many.wav") && e.contains("65535 channels"), "{e}");

    let zero = dir.path().join("zero.wav");
    let mut bytes = wav_header(1, 0, 16, 1024);
    bytes.extend_from_slice(&[0; 1024]);
    std::fs::write(&zero, &bytes).unwrap();
    let e = open_err(&zero);
    assert!(e.contains("zero.wav") && e.contains("0 Hz"), "{e}");
}

#[test]
fn a_pipe_that_closes_inside_the_header_is_an_error_naming_the_byte() {
    let header = wav_header(2, 16000, 16, 1000);
    for cut in [4, 20, 40] {
        let reader = std::io::Cursor::new(header[..cut].to_vec());
        let e = MediaDecoder::from_reader(Box::new(reader), "-", 256)
            .err()
            .map(|e| e.to_string());
        let e = e.unwrap_or_else(|| panic!("a header cut at {cut} opened"));
        assert!(e.starts_with("-: "), "{e}");
        assert!(e.contains(&cut.to_string()), "{cut}: {e}");
    }
}

#[test]
fn truncated_files_yield_everything_before_the_damage_and_warn() {
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in [
        ("cut.flac", &["-c:a", "flac"][..]),
        ("cut.wav", &["-c:a", "pcm_s16le"][..]),
        ("cut.mp3", &["-c:a", "libmp3lame"][..]),
    ] {
        let path = make(dir.path(), name, 44100, 2, 4.0, args);
        let whole = ffmpeg_frames(&path, 2);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let d = MediaDecoder::open(&path, 4096).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (chunks, d) = decode_all(d);
        let got = total_frames(&chunks);
        let ffmpeg_got = ffmpeg_frames(&path, 2);
        assert!(got > whole / 3 && got < whole, "{name}: {got} of {whole}");
        // What ffmpeg salvages from the same cut file, within one packet.
        assert!(
            got.abs_diff(ffmpeg_got) <= 4608,
            "{name}: {got} vs ffmpeg's {ffmpeg_got}"
        );
        let w = d.warnings().join("\n");
        assert!(w.contains(name) && w.contains("truncated"), "{name}: warnings {w:?}");
    }
}

#[test]
fn an_ogg_with_a_broken_page_decodes_around_it_or_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let path = make(dir.path(), "broken.ogg", 44100, 2, 4.0, &["-c:a", "libvorbis"]);
    let whole = ffmpeg_frames(&path, 2);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 2000] {
        *b = 0x5A;
    }
    std::fs::write(&path, &bytes).unwrap();
    match MediaDecoder::open(&path, 4096) {
        Err(e) => panic!("the header is intact, it opens: {e}"),
        Ok(mut d) => {
            let mut frames = 0u64;
            let mut error = None;
            for c in d.by_ref() {
                match c {
                    Ok(c) => frames += c.frames() as u64,
                    Err(e) => error = Some(e),
                }
            }
            match error {
                Some(e @ MediaError::Decode { .. }) => {
                    let e = e.to_string();
                    assert!(e.contains("broken.ogg") && e.contains("packet"), "{e}");
                }
                Some(other) => panic!("{other}"),
                None => {
                    assert!(frames > whole / 3, "{frames} of {whole}");
                    assert!(
                        frames < whole,
                        "the damaged stretch is not invented: {frames} of {whole}"
                    );
                }
            }
        }
    }
}

#[test]
fn m4a_edit_list_drops_the_priming_and_keeps_the_source_length() {
    let dir = tempfile::tempdir().unwrap();
    for (rate, seconds) in [(48000, 0.731), (22050, 2.0004), (16000, 0.5), (44100, 3.0)] {
        let name = format!("t{rate}.m4a");
        let path = make(dir.path(), &name, rate, 1, seconds, &["-c:a", "aac", "-b:a", "96k"]);
        let (chunks, d) = decode_all(MediaDecoder::open(&path, 4096).unwrap());
        assert!(d.warnings().is_empty(), "{name}: {:?}", d.warnings());
        let ours: Vec<f32> = chunks.iter().flat_map(f32s).collect();
        assert_eq!(
            ours.len() as u64,
            source_frames(rate, seconds),
            "{name}: the source's length"
        );
        assert_eq!(d.info().frames, Some(ours.len() as u64), "{name}: the promised length");
        // Aligned with ffmpeg's decoding (which drops the priming too): a
        // tone 1024 frames off would differ by up to its full amplitude.
        let theirs = ffmpeg_samples(&path);
        let worst = ours[1000..ours.len() - 2000]
            .iter()
            .zip(&theirs[1000..])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 0.02, "{name}: differs from ffmpeg by {worst}");
    }
}
