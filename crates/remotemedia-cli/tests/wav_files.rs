//! The `remotemedia` binary end to end, WAV and compressed files in and out: formats, bad
//! and odd headers, standard input.

mod common;

use std::process::{Command, Stdio};

use common::*;

#[test]
fn passes_every_wav_format_through_unchanged() {
    let d = Dir::new("formats");
    let m = d.write("m.json", PASS_CHAIN);
    let n = 2 * 16_000 / 10 * 3 + 2 * 17; // stereo, 0.3 s plus a partial chunk
    for channels in [1u16, 2] {
        for bits in [16u16, 24, 32] {
            let input = d.path("in.wav");
            let samples = ramp(u32::from(bits), n);
            if bits == 16 {
                let s: Vec<i16> = samples.iter().map(|&x| x as i16).collect();
                write_wav(&input, spec(channels, 16, false), &s);
            } else {
                write_wav(&input, spec(channels, bits, false), &samples);
            }
            let out = d.path("out.wav");
            let o = run(&[
                "run",
                m.to_str().unwrap(),
                "--input",
                input.to_str().unwrap(),
                "--output",
                out.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{bits}-bit x{channels}: {}", text(&o.stderr));
            let (got_spec, got) = read_all::<i32>(&out);
            assert_eq!(got_spec.channels, channels);
            assert_eq!(got_spec.sample_rate, 16_000);
            // 24-bit audio travels as i32 (scaled by 256) and is written as 32-bit.
            let want: Vec<i32> = if bits == 24 {
                samples.iter().map(|x| x << 8).collect()
            } else {
                samples.clone()
            };
            assert_eq!(got, want, "{bits}-bit x{channels}");
        }
        let input = d.path("in8.wav");
        let s8: Vec<i8> = (0..n).map(|i| (i % 256) as u8 as i8).collect();
        write_wav(&input, spec(channels, 8, false), &s8);
        let out = d.path("out8.wav");
        let o = run(&[
            "run",
            m.to_str().unwrap(),
            "-i",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let (got_spec, got) = read_all::<i16>(&out);
        assert_eq!(got_spec.bits_per_sample, 16);
        assert_eq!(got, s8.iter().map(|&x| i16::from(x) << 8).collect::<Vec<_>>());

        let input = d.path("inf.wav");
        let f: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.01).sin()).collect();
        write_wav(&input, spec(channels, 32, true), &f);
        let out = d.path("outf.wav");
        let o = run(&[
            "run",
            m.to_str().unwrap(),
            "-i",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--chunk-ms",
            "7",
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert_eq!(read_all::<f32>(&out).1, f);
    }
}

#[test]
fn refuses_bad_wav_files_clearly() {
    let d = Dir::new("badwav");
    let m = d.write("m.json", PASS_CHAIN);
    let good = d.path("good.wav");
    write_wav(&good, spec(1, 16, false), &vec![1i16; 8000]);
    let bytes = std::fs::read(&good).unwrap();
    let truncated = d.path("truncated.wav");
    std::fs::write(&truncated, &bytes[..5000]).unwrap();
    let not_wav = d.write("not.wav", "this is not audio");
    let cases = [
        (d.path("missing.wav"), "cannot open"),
        (truncated, "truncated: the data ends after 2478 of 8000 frames"),
        (not_wav, "not a supported media format"),
    ];
    for (path, expect) in cases {
        let o = run(&["run", m.to_str().unwrap(), "--input", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{}", path.display());
        assert!(
            text(&o.stderr).contains(expect),
            "{}: {}",
            path.display(),
            text(&o.stderr)
        );
    }
}

#[test]
fn a_header_promising_huge_data_does_not_allocate_for_it() {
    // 8-bit, 65535 channels, 65537 Hz, a data chunk claiming 86 MB, and 8
    // bytes of data: found while fuzzing, it made `run` allocate 172 MB
    // before reporting the truncation. The decoder refuses the channel
    // count from the header, before reading any data.
    let d = Dir::new("hugeheader");
    let m = d.write("m.json", PASS_CHAIN);
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36u32 + 86_000_000).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&65_535u16.to_le_bytes());
    wav.extend_from_slice(&65_537u32.to_le_bytes());
    wav.extend_from_slice(&(65_537u32 * 65_535).to_le_bytes());
    wav.extend_from_slice(&65_535u16.to_le_bytes());
    wav.extend_from_slice(&8u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(65_535u32 * 1312).to_le_bytes());
    wav.extend_from_slice(&[128u8; 8]);
    let input = d.path("huge.wav");
    std::fs::write(&input, wav).unwrap();
    let o = run(&["run", m.to_str().unwrap(), "--input", input.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("huge.wav: unusable audio parameters: the WAV format chunk at byte 20 gives 65535 channels; 1 to 26 are supported"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn an_empty_wav_runs_and_says_no_audio_was_written() {
    let d = Dir::new("emptywav");
    let m = d.write("m.json", PASS_CHAIN);
    let input = d.path("empty.wav");
    write_wav::<i16>(&input, spec(2, 16, false), &[]);
    let out = d.path("out.wav");
    let o = run(&[
        "run",
        m.to_str().unwrap(),
        "-i",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("no sink produced audio"),
        "{}",
        text(&o.stderr)
    );
    assert!(!out.exists());
}

#[test]
fn inputs_wider_than_the_decoder_maps_are_refused_before_running() {
    // The decoder (symphonia) maps at most 26 channels; wider WAV inputs are
    // refused from the header, naming the count, and nothing is written.
    // (WavSink's own refusal of shapes a WAV header cannot describe is
    // tested in crates/remotemedia-media/tests/wav_sink.rs.)
    let d = Dir::new("widewav");
    let m = d.write("m.json", PASS_CHAIN);
    for (channels, bits) in [(40_000u16, 8u16), (20_000, 24), (27, 16)] {
        let input = d.path("in.wav");
        write_wide_wav(&input, channels, bits, 2);
        let out = d.path("out.wav");
        let o = run(&[
            "run",
            m.to_str().unwrap(),
            "-i",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{channels} x {bits}: {err}");
        assert!(
            err.contains(&format!("gives {channels} channels; 1 to 26 are supported")),
            "{err}"
        );
        assert!(!out.exists(), "{channels} x {bits}: a file was written");
    }
    let input = d.path("in.wav");
    write_wide_wav(&input, 26, 8, 2);
    let out = d.path("out.wav");
    let o = run(&[
        "run",
        m.to_str().unwrap(),
        "-i",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (s, samples) = read_all::<i16>(&out);
    assert_eq!((s.channels, samples.len()), (26, 2 * 26));
}

#[test]
fn an_output_too_long_for_wav_is_refused_before_writing() {
    let d = Dir::new("toolong");
    let m = d.write("m.json", PASS_CHAIN);
    // A sparse 8-bit mono file of 3 GB (no disk space used): read as 16-bit
    // audio, its output would need 6 GB, past WAV's 4 GiB.
    let input = d.path("in.wav");
    let frames: u32 = 3_000_000_000;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + frames).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&48_000u32.to_le_bytes());
    b.extend_from_slice(&48_000u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&8u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&frames.to_le_bytes());
    std::fs::write(&input, &b).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&input).unwrap();
    f.set_len(44 + u64::from(frames)).unwrap();
    drop(f);
    let (out, metrics) = (d.path("out.wav"), d.path("m.out.json"));
    let o = run(&[
        "run",
        m.to_str().unwrap(),
        "-i",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--metrics",
        metrics.to_str().unwrap(),
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the output would be 3000000000 frames, 6000000000 bytes") && err.contains("4 GiB"),
        "{err}"
    );
    assert!(!out.exists());
    assert!(json_file(&metrics)["pipeline"]["inputs"].as_u64().unwrap() < 100);
}

#[test]
fn compressed_inputs_run_whatever_their_name() {
    let d = Dir::new("mp3in");
    let m = d.write("m.json", PASS_CHAIN);
    for (name, codec) in [
        ("in.mp3", "libmp3lame"),
        ("in.flac", "flac"),
        ("in.ogg", "libvorbis"),
        ("mp3.wav", "libmp3lame"),
    ] {
        let input = d.path(name);
        let format = if name == "mp3.wav" { "mp3" } else { &name[3..] };
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:r=44100:d=2",
            "-c:a",
            codec,
            "-f",
            format,
            input.to_str().unwrap(),
        ]);
        let reference = Command::new("ffmpeg")
            .args(["-v", "error", "-i", input.to_str().unwrap(), "-f", "f32le", "-"])
            .output()
            .unwrap()
            .stdout;
        let out = d.path("out.wav");
        let o = run(&[
            "run",
            m.to_str().unwrap(),
            "-i",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{name}: {}", text(&o.stderr));
        let r = hound::WavReader::open(&out).unwrap();
        let (s, samples) = (r.spec(), r.len() as usize);
        assert_eq!(s.sample_rate, 44100, "{name}");
        assert_eq!(
            samples,
            reference.len() / 4,
            "{name}: as many samples as ffmpeg decodes"
        );
    }
}

#[test]
fn standard_input_takes_a_wav_of_unknown_length_from_a_pipe() {
    let d = Dir::new("stdin");
    let m = d.write("m.json", PASS_CHAIN);
    let out = d.path("out.wav");
    let mut sox = Command::new("sox")
        .args([
            "-n", "-r", "16000", "-c", "1", "-b", "16", "-t", "wav", "-", "synth", "3", "sine", "300",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sox is installed (scripts/test.sh installs it)");
    let o = bin()
        .args([
            "run",
            m.to_str().unwrap(),
            "--input",
            "-",
            "--output",
            out.to_str().unwrap(),
        ])
        .stdin(sox.stdout.take().unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(sox.wait().unwrap().success());
    let (s, samples) = read_all::<i16>(&out);
    assert_eq!((s.channels, s.sample_rate, samples.len()), (1, 16000, 48000));

    // A pipe that closes inside the header.
    let mut child = bin()
        .args(["run", m.to_str().unwrap(), "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00")
            .unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("-: input ends at byte 22, inside the WAV header"),
        "{}",
        text(&o.stderr)
    );
}
