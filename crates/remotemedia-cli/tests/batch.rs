//! `remotemedia batch` end to end on real audio files (WAV written here or
//! spoken by espeak-ng, FLAC and MP3 made by ffmpeg), through the speech-prep
//! pipeline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_remotemedia"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn speech_prep() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/speech_prep.json")
        .display()
        .to_string()
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("remotemedia-batch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }
    fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
    fn s(&self, f: &str) -> String {
        self.path(f).display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `seconds` of 48 kHz mono 16-bit audio: quiet noise with bursts of a
/// loud tone, varying with `seed` (for tests where what the audio holds does
/// not matter; a tone is not speech).
fn write_tone_bursts_wav(path: &Path, seconds: f64, seed: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let rate = 48_000u32;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let mut state = 0x9E37_79B9u32 ^ seed.wrapping_mul(2_654_435_761);
    let n = (seconds * f64::from(rate)) as usize;
    for i in 0..n {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (f64::from(state) / f64::from(u32::MAX) - 0.5) * 200.0;
        let t = i as f64 / f64::from(rate);
        let burst = ((t + f64::from(seed) * 0.1) % 1.5) < 0.7;
        let tone = if burst {
            8000.0 * (2.0 * std::f64::consts::PI * (180.0 + f64::from(seed % 7) * 20.0) * t).sin()
        } else {
            0.0
        };
        w.write_sample((noise + tone) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// `words` spoken by espeak-ng, padded with silence or cut to `seconds`, as
/// 48 kHz mono 16-bit WAV.
fn write_spoken_wav(path: &Path, words: &str, seconds: f64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let said = path.with_extension("espeak.wav");
    let o = Command::new("espeak-ng")
        .arg("-w")
        .arg(&said)
        .arg(words)
        .output()
        .expect("espeak-ng is installed (scripts/test.sh installs it)");
    assert!(o.status.success(), "espeak-ng: {}", text(&o.stderr));
    let (said_s, path_s, seconds_s) = (
        said.display().to_string(),
        path.display().to_string(),
        seconds.to_string(),
    );
    ffmpeg(&[
        "-i",
        &said_s,
        "-af",
        "apad",
        "-t",
        &seconds_s,
        "-ar",
        "48000",
        "-ac",
        "1",
        "-c:a",
        "pcm_s16le",
        &path_s,
    ]);
    std::fs::remove_file(&said).unwrap();
}

/// Runs ffmpeg with `args`; panics with its message when it fails.
fn ffmpeg(args: &[&str]) {
    let o = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg is installed (scripts/test.sh installs it)");
    assert!(o.status.success(), "ffmpeg {args:?}: {}", text(&o.stderr));
}

fn rows(index: &Path) -> BTreeMap<String, Value> {
    std::fs::read_to_string(index)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["relative"].as_str().unwrap().to_owned(), v)
        })
        .collect()
}

fn summary(o: &Output) -> Value {
    let out = text(&o.stdout);
    serde_json::from_str(out.lines().last().expect("a summary line")).expect("the summary is JSON")
}

fn batch(args: &[&str]) -> Output {
    let mut all = vec!["batch"];
    all.extend_from_slice(args);
    run(&all)
}

/// Every file under `dir` (relative path -> bytes), for comparing trees.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walk(dir)
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().display().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn mixed_corpus_good_corrupt_and_empty_files() {
    let d = Dir::new("mixed");
    write_spoken_wav(
        &d.path("in/a/one.wav"),
        "Please put the kettle on before the guests arrive.",
        4.0,
    );
    write_spoken_wav(&d.path("src.wav"), "The train leaves at seven o'clock.", 3.0);
    std::fs::create_dir_all(d.path("in/b")).unwrap();
    ffmpeg(&["-i", &d.s("src.wav"), &d.s("in/b/two.flac")]);
    ffmpeg(&["-i", &d.s("src.wav"), "-b:a", "128k", &d.s("in/b/three.mp3")]);
    std::fs::write(d.path("in/empty.wav"), b"").unwrap();
    std::fs::write(
        d.path("in/corrupt.flac"),
        b"fLaC but nothing a decoder could use, not at all",
    )
    .unwrap();
    std::fs::write(d.path("in/notes.txt"), b"not audio: not an input").unwrap();

    let o = batch(&[&speech_prep(), "-i", &d.s("in"), "-o", &d.s("out"), "--jobs", "2"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "failed files make the exit status 1: {}",
        text(&o.stderr)
    );
    let s = summary(&o);
    assert_eq!(
        (s["files"].as_u64(), s["ok"].as_u64(), s["failed"].as_u64()),
        (Some(5), Some(3), Some(2))
    );
    let stderr = text(&o.stderr);
    assert!(stderr.contains("empty.wav: empty input"), "{stderr}");
    assert!(stderr.contains("corrupt.flac"), "{stderr}");

    let rows = rows(&d.path("out/index.jsonl"));
    assert_eq!(rows.len(), 5, "{rows:?}");
    for ok in ["a/one.wav", "b/two.flac", "b/three.mp3"] {
        let row = &rows[ok];
        assert_eq!(row["status"], "ok", "{row}");
        let out = row["outputs"][0]["path"].as_str().unwrap();
        assert_eq!(Path::new(out), Path::new(ok).with_extension("wav"));
        let written = d.path("out").join(out);
        assert_eq!(
            std::fs::metadata(&written).unwrap().len(),
            row["outputs"][0]["bytes"].as_u64().unwrap()
        );
        let r = hound::WavReader::open(&written).unwrap();
        assert_eq!((r.spec().sample_rate, r.spec().bits_per_sample), (16_000, 16));
        assert!(
            !row["segments"].as_array().unwrap().is_empty(),
            "speech found in {ok}: {row}"
        );
        assert!(row["duration_s"].as_f64().unwrap() > 2.9, "{row}");
    }
    for bad in ["empty.wav", "corrupt.flac"] {
        assert_eq!(rows[bad]["status"], "failed");
        assert!(!rows[bad]["error"].as_str().unwrap().is_empty());
        assert!(!d.path("out").join(bad).with_extension("wav").exists());
    }
    // No temporary file is left behind.
    assert!(
        walk(&d.path("out"))
            .iter()
            .all(|p| !p.to_string_lossy().ends_with(".part"))
    );

    // The audio is what `run` writes for the same file, byte for byte
    // (`run` decodes 20 ms chunks, `batch` 1 s: the same results).
    let single = d.path("single.wav");
    let o = run(&[
        "run",
        &speech_prep(),
        "-i",
        &d.s("in/b/three.mp3"),
        "-o",
        single.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(&single).unwrap(),
        std::fs::read(d.path("out/b/three.wav")).unwrap()
    );
}

#[test]
fn jobs_do_not_change_the_outputs_and_resume_skips_complete_files() {
    let d = Dir::new("jobs");
    for i in 0..5 {
        write_tone_bursts_wav(&d.path(&format!("in/f{i}.wav")), 1.5, i);
    }
    let o1 = batch(&[&speech_prep(), "-i", &d.s("in"), "-o", &d.s("j1"), "-j", "1"]);
    let o2 = batch(&[&speech_prep(), "-i", &d.s("in"), "-o", &d.s("j2"), "-j", "2"]);
    assert!(
        o1.status.success() && o2.status.success(),
        "{}{}",
        text(&o1.stderr),
        text(&o2.stderr)
    );
    assert_eq!(summary(&o2)["jobs"], 2);
    let (t1, t2) = (tree(&d.path("j1")), tree(&d.path("j2")));
    let audio = |t: &BTreeMap<String, Vec<u8>>| t.iter().filter(|(k, _)| k.ends_with(".wav")).count();
    assert_eq!(audio(&t1), 5);
    for (k, v) in &t1 {
        if k.ends_with(".wav") {
            assert_eq!(Some(v), t2.get(k), "{k}");
        }
    }

    // The same output folder again: refused without --resume, nothing touched.
    let again = batch(&[&speech_prep(), "-i", &d.s("in"), "-o", &d.s("j1")]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("--resume"), "{}", text(&again.stderr));
    assert_eq!(tree(&d.path("j1")), t1);

    // One output lost, one cut short: --resume redoes those two only.
    std::fs::remove_file(d.path("j1/f1.wav")).unwrap();
    let cut = std::fs::read(d.path("j1/f3.wav")).unwrap();
    std::fs::write(d.path("j1/f3.wav"), &cut[..cut.len() / 2]).unwrap();
    let resumed = batch(&[&speech_prep(), "-i", &d.s("in"), "-o", &d.s("j1"), "--resume"]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    let s = summary(&resumed);
    assert_eq!((s["skipped"].as_u64(), s["ok"].as_u64()), (Some(3), Some(2)), "{s}");
    let after = tree(&d.path("j1"));
    for (k, v) in &t1 {
        if k.ends_with(".wav") {
            assert_eq!(Some(v), after.get(k), "{k}");
        }
    }
    assert_eq!(rows(&d.path("j1/index.jsonl")).len(), 5);
}

#[test]
fn ctrl_c_stops_cleanly_and_resume_finishes_with_identical_results() {
    let d = Dir::new("sigint");
    for i in 0..12 {
        write_tone_bursts_wav(&d.path(&format!("in/f{i:02}.wav")), 8.0, i);
    }
    let reference = batch(&[&speech_prep(), "-i", &d.s("in"), "-o", &d.s("ref")]);
    assert!(reference.status.success(), "{}", text(&reference.stderr));

    let child = bin()
        .args(["batch", &speech_prep(), "-i", &d.s("in"), "-o", &d.s("out"), "-j", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the first file is in the index.
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(d.path("out/index.jsonl")).map_or(true, |t| t.is_empty()) {
        assert!(Instant::now() < deadline, "no file finished");
        std::thread::sleep(Duration::from_millis(5));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", text(&o.stderr));
    let s = summary(&o);
    assert_eq!(s["interrupted"], true);
    let done = s["ok"].as_u64().unwrap();
    assert!((1..12).contains(&done), "{s}");
    assert!(text(&o.stderr).contains("--resume"), "{}", text(&o.stderr));
    // Every file present is whole and in the index; nothing half-written.
    let files = tree(&d.path("out"));
    assert_eq!(files.len() as u64, done + 1, "{:?}", files.keys());
    let reference_files = tree(&d.path("ref"));
    for (k, v) in files.iter().filter(|(k, _)| k.ends_with(".wav")) {
        assert_eq!(Some(v), reference_files.get(k), "{k}");
    }

    let resumed = batch(&[&speech_prep(), "-i", &d.s("in"), "-o", &d.s("out"), "--resume"]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert_eq!(summary(&resumed)["skipped"].as_u64(), Some(done));
    let after = tree(&d.path("out"));
    for (k, v) in reference_files.iter().filter(|(k, _)| k.ends_with(".wav")) {
        assert_eq!(Some(v), after.get(k), "{k}");
    }
    let strip = |mut r: BTreeMap<String, Value>| {
        for v in r.values_mut() {
            v.as_object_mut().unwrap().remove("elapsed_s");
            v.as_object_mut().unwrap().remove("input");
        }
        r
    };
    assert_eq!(
        strip(rows(&d.path("out/index.jsonl"))),
        strip(rows(&d.path("ref/index.jsonl")))
    );
}

#[test]
fn a_node_failure_is_recorded_and_on_failure_is_honoured() {
    let d = Dir::new("nodefail");
    let sox = |rate: &str, name: &str| {
        let o = Command::new("sox")
            .args(["-n", "-r", rate, "-c", "1", &d.s(name), "synth", "1", "sine", "440"])
            .output()
            .expect("sox is installed (scripts/test.sh installs it)");
        assert!(o.status.success(), "{}", text(&o.stderr));
    };
    std::fs::create_dir_all(d.path("in")).unwrap();
    sox("16000", "in/a16.wav");
    sox("48000", "in/b48.wav");
    let vad = |extra: &str| {
        format!(
            r#"{{"version": "v1", "nodes": [{{"id": "vad", "node_type": "VADNode",
            "params": {{"sample_rate": 16000}}{extra}}}], "connections": []}}"#
        )
    };
    std::fs::write(d.path("fail.json"), vad("")).unwrap();
    let o = batch(&[&d.s("fail.json"), "-i", &d.s("in"), "-o", &d.s("o1"), "-j", "1"]);
    assert_eq!(o.status.code(), Some(1));
    let r = rows(&d.path("o1/index.jsonl"));
    assert_eq!(r["a16.wav"]["status"], "ok");
    assert_eq!(r["b48.wav"]["status"], "failed");
    let error = r["b48.wav"]["error"].as_str().unwrap();
    assert!(error.contains("\"vad\"") && error.contains("48000 Hz"), "{error}");

    let pass = r#", "on_failure": "passthrough", "circuit_breaker": {"failure_threshold": 1, "cooldown_ms": 60000}"#;
    std::fs::write(d.path("pass.json"), vad(pass)).unwrap();
    let o = batch(&[&d.s("pass.json"), "-i", &d.s("in"), "-o", &d.s("o2"), "-j", "1"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let r = rows(&d.path("o2/index.jsonl"));
    assert_eq!(r["b48.wav"]["status"], "ok", "passed through: {}", r["b48.wav"]);
    let out = hound::WavReader::open(d.path("o2/b48.wav")).unwrap();
    assert_eq!(out.spec().sample_rate, 48_000);
}

#[test]
fn same_names_in_different_folders_are_kept_apart_and_clashes_refused() {
    let d = Dir::new("names");
    write_tone_bursts_wav(&d.path("in/a/x.wav"), 1.0, 1);
    write_tone_bursts_wav(&d.path("in/b/x.wav"), 1.0, 2);
    let o = batch(&[&speech_prep(), "-i", &d.s("in/*/x.wav"), "-o", &d.s("out")]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_ne!(
        std::fs::read(d.path("out/a/x.wav")).unwrap(),
        std::fs::read(d.path("out/b/x.wav")).unwrap()
    );

    // x.wav and x.flac in one folder would both write x.wav.
    ffmpeg(&["-i", &d.s("in/a/x.wav"), &d.s("in/a/x.flac")]);
    let o = batch(&[&speech_prep(), "-i", &d.s("in"), "-o", &d.s("clash")]);
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o.stderr);
    assert!(e.contains("would both write") && e.contains("x.flac"), "{e}");
    assert!(!d.path("clash").exists(), "refused before anything was made");

    // A list naming one file twice.
    let list = d.path("list.txt");
    std::fs::write(&list, "in/a/x.wav\n# a comment\n\nin/b/x.wav\nin/./a/x.wav\n").unwrap();
    let o = batch(&[
        &speech_prep(),
        "-i",
        &format!("@{}", list.display()),
        "-o",
        &d.s("listed"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("listed twice"), "{}", text(&o.stderr));
    std::fs::write(&list, "in/a/x.wav\nin/b/x.wav\n").unwrap();
    let o = batch(&[
        &speech_prep(),
        "-i",
        &format!("@{}", list.display()),
        "-o",
        &d.s("listed"),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(d.path("listed/b/x.wav")).unwrap(),
        std::fs::read(d.path("out/b/x.wav")).unwrap()
    );
}

#[test]
fn bad_inputs_and_outputs_are_refused_with_a_clear_message() {
    let d = Dir::new("refused");
    std::fs::create_dir_all(d.path("empty")).unwrap();
    std::fs::write(d.path("empty/readme.txt"), "no audio here").unwrap();
    let o = batch(&[&speech_prep(), "-i", &d.s("empty"), "-o", &d.s("out")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("no input files"), "{}", text(&o.stderr));

    let o = batch(&[&speech_prep(), "-i", &d.s("missing"), "-o", &d.s("out")]);
    assert!(
        text(&o.stderr).contains("no such file or directory"),
        "{}",
        text(&o.stderr)
    );
    let o = batch(&[&speech_prep(), "-i", &d.s("nothing/*.wav"), "-o", &d.s("out")]);
    assert!(text(&o.stderr).contains("no input files"), "{}", text(&o.stderr));

    // An output folder that cannot be made (a file is in the way; tests may
    // run as root, who may write anywhere).
    write_tone_bursts_wav(&d.path("in/x.wav"), 0.5, 1);
    std::fs::write(d.path("file"), "a file").unwrap();
    let o = batch(&[&speech_prep(), "-i", &d.s("in"), "-o", &d.s("file/out")]);
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o.stderr);
    assert!(e.contains("--output") && e.contains("cannot create it"), "{e}");

    // A symbolic link loop in the input tree.
    std::os::unix::fs::symlink(d.path("in"), d.path("in/loop")).unwrap();
    let o = batch(&[&speech_prep(), "-i", &d.s("in"), "-o", &d.s("out")]);
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o.stderr);
    assert!(e.contains("symbolic link loop") && e.contains("loop"), "{e}");
    assert!(!d.path("out").exists());

    // An existing output file is not overwritten without --resume.
    std::fs::remove_file(d.path("in/loop")).unwrap();
    std::fs::create_dir_all(d.path("out")).unwrap();
    std::fs::write(d.path("out/x.wav"), "precious").unwrap();
    let o = batch(&[&speech_prep(), "-i", &d.s("in"), "-o", &d.s("out")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("refusing to overwrite"), "{}", text(&o.stderr));
    assert_eq!(std::fs::read(d.path("out/x.wav")).unwrap(), b"precious");
}

#[test]
fn an_output_folder_inside_the_inputs_is_not_read_as_input() {
    let d = Dir::new("inside");
    for tree in ["walked", "globbed"] {
        write_tone_bursts_wav(&d.path(&format!("{tree}/a/x.wav")), 1.0, 1);
        write_tone_bursts_wav(&d.path(&format!("{tree}/y.wav")), 1.0, 2);
    }
    for (input, output) in [
        (d.s("walked"), d.s("walked/out")),
        (d.s("globbed/**/*.wav"), d.s("globbed/out")),
    ] {
        let o = batch(&[&speech_prep(), "-i", &input, "-o", &output]);
        assert!(o.status.success(), "{input}: {}", text(&o.stderr));
        assert_eq!(summary(&o)["files"], 2, "{input}");
        let again = batch(&[&speech_prep(), "-i", &input, "-o", &output, "--resume"]);
        let s = summary(&again);
        assert_eq!(
            (s["files"].as_u64(), s["skipped"].as_u64()),
            (Some(2), Some(2)),
            "{input}: {s}"
        );
    }
}
