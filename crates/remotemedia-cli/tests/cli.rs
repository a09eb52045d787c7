//! The `remotemedia` binary end to end, on real WAV files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_remotemedia"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("remotemedia-cli-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }
    fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
    fn write(&self, f: &str, contents: &str) -> PathBuf {
        let p = self.path(f);
        std::fs::write(&p, contents).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PASS_CHAIN: &str = r#"{"version": "v1",
  "nodes": [{"id": "a", "node_type": "PassThroughNode"}, {"id": "b", "node_type": "PassThroughNode"}],
  "connections": [{"from": "a", "to": "b"}]}"#;

fn write_wav<S: hound::Sample + Copy>(path: &Path, spec: hound::WavSpec, samples: &[S]) {
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

fn spec(channels: u16, bits: u16, float: bool) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate: 16_000,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    }
}

fn read_all<S: hound::Sample>(path: &Path) -> (hound::WavSpec, Vec<S>) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    (spec, r.samples::<S>().map(Result::unwrap).collect())
}

/// A ramp that exercises the whole range of `bits`, interleaved over
/// `channels`, long enough to span several chunks (and a partial last one).
fn ramp(bits: u32, n: usize) -> Vec<i32> {
    let max = (1i64 << (bits - 1)) - 1;
    (0..n)
        .map(|i| ((i as i64 * 7919) % (2 * max + 1) - max) as i32)
        .collect()
}

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
fn prints_json_lines_naming_the_node() {
    let d = Dir::new("jsonl");
    let m = d.write("m.json", PASS_CHAIN);
    let input = d.path("in.wav");
    write_wav(&input, spec(1, 16, false), &vec![0i16; 16_000]);
    let o = run(&[
        "run",
        m.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--chunk-ms",
        "250",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let lines: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    for l in &lines {
        assert_eq!(l["node"], "b");
        assert_eq!(l["kind"], "audio");
        assert_eq!(l["audio"]["frames"], 4000);
        assert_eq!(l["audio"]["format"], "i16");
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
fn validate_reports_problems_and_exit_codes() {
    let d = Dir::new("validate");
    let good = d.write("good.json", PASS_CHAIN);
    let o = run(&["validate", good.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(text(&o.stdout).contains("valid (2 nodes, 1 connections; order: a -> b)"));
    let yaml = d.write(
        "good.yaml",
        "version: v1\nnodes:\n  - {id: x, node_type: AddNode, params: {addend: 1}}\n",
    );
    assert!(run(&["validate", yaml.to_str().unwrap()]).status.success());

    let cyclic = d.write(
        "cycle.json",
        r#"{"version": "v1", "nodes": [{"id": "a", "node_type": "PassThroughNode"}, {"id": "b", "node_type": "PassThroughNode"}],
            "connections": [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}]}"#,
    );
    let o = run(&["validate", cyclic.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("cycle: a -> b -> a"), "{}", text(&o.stderr));

    let bad = d.write(
        "bad.json",
        r#"{"version": "v1", "nodes": [{"id": "m", "node_type": "MultiplyNode", "params": {"factor": "x"}}]}"#,
    );
    let o = run(&["validate", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("nodes[0].params.factor: invalid type"),
        "{}",
        text(&o.stderr)
    );

    let o = run(&["validate", d.path("missing.json").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("cannot read manifest"));
}

#[test]
fn nodes_and_schema_describe_the_registry() {
    let o = run(&["nodes"]);
    assert!(o.status.success());
    let out = text(&o.stdout);
    assert!(out.contains("MultiplyNode"));
    assert!(out.contains("factor: number = 2.0"), "{out}");
    let o = run(&["nodes", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(list.as_array().unwrap().iter().any(|t| t["name"] == "AddNode"));
    let o = run(&["schema"]);
    let schema: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(schema["properties"]["version"]["const"], "v1");
}

#[test]
fn unknown_output_node_is_refused() {
    let d = Dir::new("outnode");
    let m = d.write("m.json", PASS_CHAIN);
    let input = d.path("in.wav");
    write_wav(&input, spec(1, 16, false), &[0i16; 100]);
    let o = run(&[
        "run",
        m.to_str().unwrap(),
        "-i",
        input.to_str().unwrap(),
        "--output-node",
        "a",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("--output-node \"a\" is not a sink; sinks: b"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn writes_metrics_and_trace() {
    let d = Dir::new("metrics");
    let m = d.write("m.json", PASS_CHAIN);
    let input = d.path("in.wav");
    write_wav(&input, spec(1, 16, false), &vec![0i16; 16_000]);
    let (metrics, trace) = (d.path("m.out.json"), d.path("t.json"));
    let o = run(&[
        "run",
        m.to_str().unwrap(),
        "-i",
        input.to_str().unwrap(),
        "--metrics",
        metrics.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&metrics).unwrap()).unwrap();
    assert_eq!(v["pipeline"]["inputs"], 50);
    assert_eq!(v["pipeline"]["memory_tracking"], true);
    assert_eq!(v["nodes"][0]["id"], "a");
    assert_eq!(v["nodes"][1]["calls"], 51);
    let t: serde_json::Value = serde_json::from_slice(&std::fs::read(&trace).unwrap()).unwrap();
    let calls = t["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X")
        .count();
    assert_eq!(calls, 102);
}

#[test]
fn a_small_load_test_loses_nothing() {
    let o = run(&["loadtest", "--streams", "16", "--seconds", "1", "--clocks", "4"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let last = text(&o.stdout).lines().last().unwrap().to_owned();
    let v: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(v["streams"], 16);
    assert_eq!(v["chunks_in"], 16 * 50);
    assert_eq!(v["chunks_out"], v["chunks_in"]);
    assert_eq!(v["dropped"], 0);
    assert_eq!(v["errors"], 0);
    for key in ["p50_ms", "p99_ms", "max_ms", "behind", "peak_rss_mb", "seconds"] {
        assert!(!v[key].is_null(), "{key} missing from {last}");
    }
}

#[test]
fn an_inline_load_test_loses_nothing() {
    let o = run(&[
        "loadtest",
        "--streams",
        "12",
        "--seconds",
        "0.5",
        "--clocks",
        "3",
        "--inline",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&o.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(v["chunks_in"], 12 * 25);
    assert_eq!(v["chunks_out"], v["chunks_in"]);
    assert_eq!((v["dropped"].as_u64(), v["errors"].as_u64()), (Some(0), Some(0)));
}

#[test]
fn load_test_arguments_are_checked() {
    let o = run(&["loadtest", "--streams", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["loadtest", "--seconds=0", "--streams", "1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("--seconds must be in (0, 86400]"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn repeated_load_rounds_leak_nothing() {
    let o = run(&["loadtest", "--streams", "8", "--seconds", "0.4", "--rounds", "6"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&o.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(v["dropped"], 0);
    assert_eq!(v["chunks_in"], 8 * 6 * 20);
    let live: Vec<i64> = v["live_heap_bytes_after_round"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    assert_eq!(live.len(), 6);
    // After warm-up, every round leaves the heap where the second left it
    // (within 64 KiB of allocator and runtime noise).
    for (round, bytes) in live.iter().enumerate().skip(2) {
        assert!(
            (bytes - live[1]).abs() < 64 * 1024,
            "round {round}: {bytes} live bytes vs {} after round 1",
            live[1]
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
fn a_node_failure_exits_1_naming_the_node() {
    let d = Dir::new("nodefail");
    let m = d.write(
        "m.json",
        r#"{"version": "v1", "nodes": [{"id": "gain", "node_type": "MultiplyNode"}]}"#,
    );
    let input = d.path("in.wav");
    write_wav(&input, spec(1, 16, false), &[0i16; 320]);
    let o = run(&["run", m.to_str().unwrap(), "-i", input.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr)
            .contains("node \"gain\" failed (fatal, 1 attempt): MultiplyNode expects f32 audio, got i16 audio"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn vad_lines_carry_every_decision_and_nothing_empty() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let wav = examples.join("speech_48k.wav");
    let o = run(&[
        "run",
        examples.join("speech_prep.json").to_str().unwrap(),
        "--input",
        wav.to_str().unwrap(),
        "--chunk-ms",
        "10",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let lines: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let decided: usize = lines
        .iter()
        .map(|l| l["frame_decisions"].as_array().unwrap().len())
        .sum();
    let segments: usize = lines.iter().map(|l| l["segments"].as_array().unwrap().len()).sum();
    for l in &lines {
        assert_eq!(l["kind"], "vad");
        assert!(
            !l["frame_decisions"].as_array().unwrap().is_empty() || !l["segments"].as_array().unwrap().is_empty(),
            "a line with nothing in it: {l}"
        );
    }
    // Every whole 30 ms frame of the resampled 16 kHz audio is decided once.
    let frames = hound::WavReader::open(&wav).unwrap().duration();
    let whole_frames = (u64::from(frames) * 16_000).div_ceil(48_000) as usize / 480;
    assert_eq!(decided, whole_frames);
    assert!(segments > 0, "the example speech has segments");
}

#[test]
fn a_closed_stdout_stops_the_lines_but_not_the_run() {
    use std::io::BufRead;
    let d = Dir::new("epipe");
    let m = d.write(
        "m.json",
        r#"{"version": "v1", "nodes": [
            {"id": "to_file", "node_type": "PassThroughNode"},
            {"id": "to_stdout", "node_type": "PassThroughNode"}]}"#,
    );
    let input = d.path("in.wav");
    let samples: Vec<i16> = (0..16_000 * 20).map(|i| (i % 100) as i16).collect();
    write_wav(&input, spec(1, 16, false), &samples);
    let out = d.path("out.wav");
    // One line per 1 ms chunk: some 20 000 lines, far more than a pipe holds.
    let mut child = bin()
        .args(["run", m.to_str().unwrap(), "-i", input.to_str().unwrap()])
        .args([
            "-o",
            out.to_str().unwrap(),
            "--output-node",
            "to_file",
            "--chunk-ms",
            "1",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("to_stdout"), "{first}");
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(read_all::<i16>(&out).1, samples);
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn json_file(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Waits for a child at most `limit`; kills it and fails the test past that.
fn wait_at_most(child: &mut std::process::Child, limit: std::time::Duration) -> std::process::ExitStatus {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the process was still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_vad_alone_on_integer_speech_passes_it_through_and_writes_metrics() {
    let d = Dir::new("vadi16");
    let m = d.write(
        "m.json",
        r#"{"version": "v1", "nodes": [{"id": "vad", "node_type": "VADNode"}]}"#,
    );
    let wav = examples().join("speech_48k.wav");
    let (out, metrics) = (d.path("out.wav"), d.path("m.out.json"));
    let o = run(&[
        "run",
        m.to_str().unwrap(),
        "-i",
        wav.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--metrics",
        metrics.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(read_all::<i16>(&out), read_all::<i16>(&wav));
    assert_eq!(json_file(&metrics)["nodes"][0]["status"], "ok");
}

#[test]
fn a_failed_run_still_writes_its_metrics_trace_and_audio() {
    let d = Dir::new("failfiles");
    // The gain refuses i16 audio; the pass-through sink before it writes.
    let m = d.write(
        "m.json",
        r#"{"version": "v1", "nodes": [
            {"id": "pass", "node_type": "PassThroughNode"},
            {"id": "gain", "node_type": "MultiplyNode"}]}"#,
    );
    let input = d.path("in.wav");
    write_wav(&input, spec(1, 16, false), &vec![7i16; 3200]);
    let (out, metrics, trace) = (d.path("out.wav"), d.path("m.out.json"), d.path("t.json"));
    let o = run(&[
        "run",
        m.to_str().unwrap(),
        "-i",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--output-node",
        "pass",
        "--metrics",
        metrics.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("node \"gain\" failed"), "{}", text(&o.stderr));
    let v = json_file(&metrics);
    assert_eq!(v["nodes"][1]["status"], "failed");
    assert_eq!(v["nodes"][1]["errors"], 1);
    let t = json_file(&trace);
    assert!(
        t["traceEvents"].as_array().unwrap().iter().any(|e| e["cat"] == "error"),
        "{t}"
    );
    // The audio that passed before the failure is a valid WAV file.
    let (s, samples) = read_all::<i16>(&out);
    assert_eq!(s.channels, 1);
    assert!(samples.iter().all(|&x| x == 7));
}

#[test]
fn a_trace_without_metrics_has_every_call() {
    let d = Dir::new("traceonly");
    let m = d.write("m.json", PASS_CHAIN);
    let input = d.path("in.wav");
    write_wav(&input, spec(1, 16, false), &vec![0i16; 16_000]);
    let trace = d.path("t.json");
    let o = run(&[
        "run",
        m.to_str().unwrap(),
        "-i",
        input.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let t = json_file(&trace);
    let calls: Vec<&serde_json::Value> = t["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X")
        .collect();
    assert_eq!(calls.len(), 102, "50 chunks and a flush through two nodes");
    assert!(calls.iter().all(|c| c["dur"].as_f64().unwrap() >= 0.0));
}

#[test]
fn a_run_never_writes_over_its_own_files() {
    let d = Dir::new("samefile");
    let m = d.write("m.json", PASS_CHAIN);
    let input = d.path("in.wav");
    let samples: Vec<i16> = (0..3200).map(|i| i as i16).collect();
    write_wav(&input, spec(1, 16, false), &samples);
    let original = std::fs::read(&input).unwrap();
    let link = d.path("link.wav");
    std::os::unix::fs::symlink(&input, &link).unwrap();
    let hard = d.path("hard.wav");
    std::fs::hard_link(&input, &hard).unwrap();
    let dotted = d.0.join(".").join("in.wav");
    let roundabout = d.0.join("sub").join("..").join("in.wav");
    std::fs::create_dir_all(d.path("sub")).unwrap();
    let dangling = d.path("dangling.json");
    std::os::unix::fs::symlink(d.path("metrics-target.json"), &dangling).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["-o".into(), s(&input)], "--output"),
        (vec!["-o".into(), s(&link)], "--output"),
        (vec!["-o".into(), s(&hard)], "--output"),
        (vec!["-o".into(), s(&dotted)], "--output"),
        (vec!["-o".into(), s(&roundabout)], "--output"),
        (vec!["--metrics".into(), s(&input)], "--metrics"),
        (vec!["--trace".into(), s(&link)], "--trace"),
        (vec!["--trace".into(), s(&m)], "--trace"),
        (
            vec![
                "-o".into(),
                s(&d.path("o.wav")),
                "--metrics".into(),
                s(&d.path("o.wav")),
            ],
            "--metrics",
        ),
        (
            vec![
                "--metrics".into(),
                s(&d.path("x.json")),
                "--trace".into(),
                s(&d.path("sub/../x.json")),
            ],
            "--trace",
        ),
        (
            vec![
                "--metrics".into(),
                s(&dangling),
                "--trace".into(),
                s(&d.path("metrics-target.json")),
            ],
            "--trace",
        ),
    ];
    for (extra, culprit) in cases {
        let mut args = vec!["run".to_owned(), s(&m), "-i".into(), s(&input)];
        args.extend(extra.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{extra:?}: {err}");
        assert!(
            err.contains(culprit) && err.contains("is the same file as"),
            "{extra:?}: {err}"
        );
        assert_eq!(std::fs::read(&input).unwrap(), original, "{extra:?} touched the input");
        assert_eq!(
            std::fs::read(&m).unwrap(),
            PASS_CHAIN.as_bytes(),
            "{extra:?} touched the manifest"
        );
        for made in ["o.wav", "x.json", "metrics-target.json"] {
            assert!(!d.path(made).exists(), "{extra:?} created {made}");
        }
    }
    // Distinct files are fine.
    let o = run(&[
        "run",
        &s(&m),
        "-i",
        &s(&link),
        "-o",
        &s(&d.path("o.wav")),
        "--metrics",
        &s(&d.path("x.json")),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(read_all::<i16>(&d.path("o.wav")).1, samples);
}

/// A long input through a slow node, stopped by a signal once the output
/// has begun: the WAV header matches its data (the first frames of the
/// input), and the metrics and trace are complete JSON.
fn interrupted_run(signal: &str, code: i32) {
    let d = Dir::new(&format!("signal{code}"));
    let m = d.write(
        "m.json",
        r#"{"version": "v1", "nodes": [
            {"id": "slow", "node_type": "FaultInjectionNode", "params": {"sleep_ms": 5}}]}"#,
    );
    let input = d.path("in.wav");
    // 60 s at 16 kHz in 20 ms chunks: 3000 calls of 5 ms, some 15 s.
    let samples: Vec<i16> = (0..16_000 * 60).map(|i| (i % 1000) as i16).collect();
    write_wav(&input, spec(1, 16, false), &samples);
    let (out, metrics, trace) = (d.path("out.wav"), d.path("m.out.json"), d.path("t.json"));
    let mut child = bin()
        .args(["run", m.to_str().unwrap(), "-i", input.to_str().unwrap()])
        .args(["-o", out.to_str().unwrap(), "--metrics", metrics.to_str().unwrap()])
        .args(["--trace", trace.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until audio has reached the file (past its 44-byte header).
    let started = std::time::Instant::now();
    while std::fs::metadata(&out).map_or(0, |m| m.len()) < 64_000 {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before the signal");
        assert!(started.elapsed().as_secs() < 30, "no output after 30 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = wait_at_most(&mut child, std::time::Duration::from_secs(10));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(code), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    let (_, written) = read_all::<i16>(&out);
    assert!(
        written.len() >= 32_000 && written.len() < samples.len(),
        "{} samples",
        written.len()
    );
    assert_eq!(written[..], samples[..written.len()]);
    let v = json_file(&metrics);
    let inputs = v["pipeline"]["inputs"].as_u64().unwrap();
    assert!(inputs < 3000, "{inputs} inputs");
    assert_eq!(written.len() as u64, inputs * 320, "every chunk read was written");
    let t = json_file(&trace);
    let calls = t["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X")
        .count();
    assert_eq!(calls as u64, inputs, "every call, and no flush: a signal cancels");
}

/// The end of the input drains: a pipe closed at once after a whole file
/// still has every chunk go through a slow node, then the flush, before the
/// process exits (the node's calls are the side effect, seen in the trace).
#[test]
fn a_closed_stdin_drains_every_chunk_before_the_exit() {
    let d = Dir::new("stdindrain");
    let m = d.write(
        "m.json",
        r#"{"version": "v1", "nodes": [
            {"id": "slow", "node_type": "FaultInjectionNode", "params": {"sleep_ms": 3}}]}"#,
    );
    let input = d.path("in.wav");
    // 2 s at 16 kHz: 100 chunks of 20 ms, more than the session's queue holds.
    let samples: Vec<i16> = (0..32_000).map(|i| (i % 1000) as i16).collect();
    write_wav(&input, spec(1, 16, false), &samples);
    let (out, trace) = (d.path("out.wav"), d.path("t.json"));
    let mut child = bin()
        .args(["run", m.to_str().unwrap(), "-i", "-"])
        .args(["-o", out.to_str().unwrap(), "--trace", trace.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&std::fs::read(&input).unwrap()).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (_, written) = read_all::<i16>(&out);
    assert_eq!(written, samples);
    let calls = json_file(&trace)["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X")
        .count();
    assert_eq!(calls, 101, "100 chunks and the flush");
}

#[test]
fn sigint_finalizes_the_wav_metrics_and_trace_and_exits_130() {
    interrupted_run("-INT", 130);
}

#[test]
fn sigterm_finalizes_the_wav_metrics_and_trace_and_exits_143() {
    interrupted_run("-TERM", 143);
}

#[test]
fn a_timed_out_call_does_not_hold_the_exit() {
    let d = Dir::new("timeoutexit");
    for on_failure in ["fail", "skip"] {
        let m = d.write(
            "m.json",
            &format!(
                r#"{{"version": "v1", "nodes": [{{"id": "stuck", "node_type": "FaultInjectionNode",
                    "params": {{"sleep_ms": 30000}}, "timeout_ms": 10, "on_failure": "{on_failure}",
                    "retry": {{"max_retries": 0}}}}]}}"#
            ),
        );
        let input = d.path("in.wav");
        write_wav(&input, spec(1, 16, false), &[0i16; 320]);
        let mut child = bin()
            .args(["run", m.to_str().unwrap(), "-i", input.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // 10 s against a 30 s sleep: the process must not wait for it.
        let status = wait_at_most(&mut child, std::time::Duration::from_secs(10));
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        let want = if on_failure == "fail" { 1 } else { 0 };
        assert_eq!(status.code(), Some(want), "{on_failure}: {err}");
        if on_failure == "fail" {
            assert!(err.contains("timed out after 10 ms"), "{err}");
        }
    }
}

#[test]
fn a_caught_node_panic_prints_no_panic_output() {
    let d = Dir::new("quietpanic");
    let m = d.write(
        "m.json",
        r#"{"version": "v1", "nodes": [{"id": "p", "node_type": "FaultInjectionNode",
            "params": {"panic_times": 2}, "on_failure": "skip", "retry": {"max_retries": 0}}]}"#,
    );
    let input = d.path("in.wav");
    write_wav(&input, spec(1, 16, false), &[0i16; 3200]);
    let o = bin()
        .args(["run", m.to_str().unwrap(), "-i", input.to_str().unwrap()])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stderr), "", "a caught panic printed");
    // With on_failure fail, the panic is the run's error, said once.
    let m = d.write(
        "m.json",
        r#"{"version": "v1", "nodes": [{"id": "p", "node_type": "FaultInjectionNode",
            "params": {"panic_times": 1}}]}"#,
    );
    let o = bin()
        .args(["run", m.to_str().unwrap(), "-i", input.to_str().unwrap()])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert_eq!(
        err.trim_end(),
        "error: node \"p\" failed (fatal, 1 attempt): node panicked: injected panic on call 1"
    );
}

/// Writes a WAV header and `frames` frames of zeros by hand, for shapes
/// hound's writer gets wrong.
fn write_wide_wav(path: &Path, channels: u16, bits: u16, frames: u32) {
    let block = u32::from(channels) * u32::from(bits / 8);
    let data = block * frames;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&16_000u32.to_le_bytes());
    b.extend_from_slice(&(16_000 * block).to_le_bytes());
    b.extend_from_slice(&u16::try_from(block).unwrap().to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    b.resize(b.len() + data as usize, 0);
    std::fs::write(path, b).unwrap();
}

#[test]
fn inputs_wider_than_the_decoder_maps_are_refused_before_running() {
    // The decoder (symphonia) maps at most 26 channels; wider WAV inputs are
    // refused from the header, naming the count, and nothing is written.
    // (WavSink's own refusal of shapes a WAV header cannot describe is
    // tested in tests/wav.rs.)
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
fn a_second_sigint_stops_at_once_with_a_valid_wav() {
    let d = Dir::new("twosignals");
    // Two sources: "pass" writes the file, "slow" takes 1 s a chunk, so
    // after the first signal the 16 chunks already queued would take 16 s.
    let m = d.write(
        "m.json",
        r#"{"version": "v1", "nodes": [
            {"id": "pass", "node_type": "PassThroughNode"},
            {"id": "slow", "node_type": "FaultInjectionNode", "params": {"sleep_ms": 1000}}]}"#,
    );
    let input = d.path("in.wav");
    let samples: Vec<i16> = (0..16_000 * 60).map(|i| (i % 1000) as i16).collect();
    write_wav(&input, spec(1, 16, false), &samples);
    let (out, metrics) = (d.path("out.wav"), d.path("m.out.json"));
    let mut child = bin()
        .args(["run", m.to_str().unwrap(), "-i", input.to_str().unwrap()])
        .args([
            "-o",
            out.to_str().unwrap(),
            "--output-node",
            "pass",
            "--chunk-ms",
            "200",
        ])
        .args(["--metrics", metrics.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while std::fs::metadata(&out).map_or(0, |m| m.len()) <= 44 {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before the signal");
        assert!(started.elapsed().as_secs() < 30, "no output after 30 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for _ in 0..2 {
        let kill = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let status = wait_at_most(&mut child, std::time::Duration::from_secs(10));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted again: metrics and trace not written"),
        "{err}"
    );
    let (_, written) = read_all::<i16>(&out);
    assert!(!written.is_empty());
    assert_eq!(written[..], samples[..written.len()]);
    assert!(!metrics.exists());
}

#[test]
fn a_trace_or_metrics_that_cannot_be_written_fails_the_run_but_not_the_audio() {
    let d = Dir::new("badtrace");
    let m = d.write("m.json", PASS_CHAIN);
    let input = d.path("in.wav");
    let samples: Vec<i16> = (0..16_000).map(|i| i as i16).collect();
    write_wav(&input, spec(1, 16, false), &samples);
    let out = d.path("out.wav");
    // A full disk for the trace; a directory for the metrics.
    for extra in [["--trace", "/dev/full"], ["--metrics", d.0.to_str().unwrap()]] {
        let o = run(&[
            "run",
            m.to_str().unwrap(),
            "-i",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            extra[0],
            extra[1],
        ]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{extra:?}: {err}");
        assert!(err.contains(extra[1]), "{extra:?}: {err}");
        assert_eq!(read_all::<i16>(&out).1, samples, "{extra:?}");
        std::fs::remove_file(&out).unwrap();
    }
}

#[test]
fn file_names_are_printed_escaped() {
    let d = Dir::new("evilname");
    let good = d.write("ok\u{1b}[31m\nforged.json", PASS_CHAIN);
    let o = run(&["validate", good.to_str().unwrap()]);
    assert!(o.status.success());
    let out = text(&o.stdout);
    assert!(!out.contains('\u{1b}') && out.lines().count() == 1, "{out:?}");
    let bad = d.write("bad\u{1b}[31m\nforged.json", "{}");
    let o = run(&["validate", bad.to_str().unwrap()]);
    let err = text(&o.stderr);
    assert!(
        !err.contains('\u{1b}') && !err.lines().any(|l| l.starts_with("forged")),
        "{err:?}"
    );
    // A missing input named with escapes, in `run`.
    let o = run(&["run", good.to_str().unwrap(), "-i", "/nonexistent/\u{1b}]0;x\u{7}.wav"]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
}

/// Runs ffmpeg with `args`; panics with its message when it fails.
fn ffmpeg(args: &[&str]) {
    let o = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg is installed (scripts/test.sh installs it)");
    assert!(o.status.success(), "{}", text(&o.stderr));
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
