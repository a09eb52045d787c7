//! The `remotemedia` binary end to end: `validate`, `nodes`, `schema`, and what `run`
//! prints (JSON lines, errors, exit codes).

mod common;

use std::path::Path;

use common::*;

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
