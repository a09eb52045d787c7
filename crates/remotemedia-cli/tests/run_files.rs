//! The `remotemedia` binary end to end: the files a run writes besides its audio (metrics
//! and trace), and never over its own inputs.

mod common;

use std::path::Path;

use common::*;

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
