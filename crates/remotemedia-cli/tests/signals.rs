//! The `remotemedia` binary end to end, ending a run: SIGINT and SIGTERM finalize the
//! outputs, a second SIGINT stops at once, a timed-out call does not hold the exit, and the
//! end of the input drains every chunk.

mod common;

use std::process::{Command, Stdio};

use common::*;

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
