//! `run --remote` and `loadtest --remote` against real `remotemedia serve`
//! processes on ephemeral loopback ports, including a server killed in the
//! middle of a load test.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_remotemedia"))
}

/// A `remotemedia serve` process; killed (SIGKILL) when dropped.
struct ServeProcess {
    child: Child,
    addr: String,
    /// Drains the rest of stderr so the server never blocks on a full pipe.
    _log: JoinHandle<()>,
}

impl ServeProcess {
    fn start() -> Self {
        Self::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> Self {
        let mut child = bin()
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let addr = loop {
            line.clear();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "serve exited before listening"
            );
            if let Some(a) = line.trim().strip_prefix("listening on ") {
                break a.to_owned();
            }
        };
        let log = std::thread::spawn(move || {
            let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        });
        Self { child, addr, _log: log }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn last_json(out: &Output) -> serde_json::Value {
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .last()
        .unwrap_or_else(|| panic!("no output; stderr:\n{}", text(&out.stderr)));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("remotemedia-remote-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn run_remote_streams_a_file_through_a_server() {
    let server = ServeProcess::start();
    let dir = TempDir::new("run");
    let input = dir.0.join("in.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&input, spec).unwrap();
    for i in 0..48_000 {
        w.write_sample((8_000.0 * (i as f32 * 0.05).sin()) as i16).unwrap();
    }
    w.finalize().unwrap();
    let manifest = dir.0.join("m.json");
    std::fs::write(
        &manifest,
        r#"{"version": "v1", "nodes": [
            {"id": "resample", "node_type": "AudioResampleNode", "params": {"target_sample_rate": 16000}},
            {"id": "gain", "node_type": "MultiplyNode", "params": {"factor": 0.5}}],
            "connections": [{"from": "resample", "to": "gain"}]}"#,
    )
    .unwrap();
    let output = dir.0.join("out.wav");
    let out = bin()
        .args(["run", manifest.to_str().unwrap(), "-i", input.to_str().unwrap()])
        .args(["-o", output.to_str().unwrap(), "--remote", &server.addr])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr:\n{}", text(&out.stderr));
    let reader = hound::WavReader::open(&output).unwrap();
    assert_eq!(reader.spec().sample_rate, 16_000);
    assert_eq!(reader.duration(), 16_000, "one second at 16 kHz, every chunk back");
}

#[test]
fn run_remote_names_what_was_wrong() {
    let dir = TempDir::new("bad");
    let manifest = dir.0.join("m.json");
    std::fs::write(
        &manifest,
        r#"{"version": "v1", "nodes": [{"id": "x", "node_type": "NoSuchNode"}]}"#,
    )
    .unwrap();
    let input = dir.0.join("in.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&input, spec).unwrap();
    for _ in 0..1600 {
        w.write_sample(0i16).unwrap();
    }
    w.finalize().unwrap();
    let run = |remote: &str| {
        bin()
            .args(["run", manifest.to_str().unwrap(), "-i", input.to_str().unwrap()])
            .args(["--remote", remote])
            .output()
            .unwrap()
    };
    let out = run("localhost");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("\"localhost\" is not host:port"),
        "{}",
        text(&out.stderr)
    );

    let server = ServeProcess::start();
    let out = run(&server.addr);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains(&server.addr) && err.contains("NoSuchNode"), "{err}");

    let out = bin().args(["loadtest", "--auth-token", "t"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "--auth-token needs --remote");
}

#[test]
fn a_server_killed_during_a_load_test_loses_no_chunk() {
    let mut a = ServeProcess::start();
    let b = ServeProcess::start();
    let remote = format!("{},{}", a.addr, b.addr);
    let load = bin()
        .args(["loadtest", "--streams", "6", "--seconds", "4", "--remote", &remote])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Round robin put half the streams on each server; kill one mid-run.
    std::thread::sleep(Duration::from_millis(1_500));
    a.kill();
    let out = load.wait_with_output().unwrap();
    assert!(out.status.success(), "stderr:\n{}", text(&out.stderr));
    let summary = last_json(&out);
    assert_eq!(summary["chunks_in"], 6 * 200, "{summary}");
    assert_eq!(summary["lost"], 0, "{summary}");
    assert_eq!(summary["errors"], 0, "{summary}");
    assert!(summary["failovers"].as_u64().unwrap() >= 1, "{summary}");
    drop(b);
}

#[test]
fn an_unreachable_server_loses_every_chunk_and_says_why() {
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let out = bin()
        .args(["loadtest", "--streams", "2", "--seconds", "1", "--remote", &dead])
        .output()
        .unwrap();
    let summary = last_json(&out);
    assert_eq!(summary["lost"], 100, "{summary}");
    assert_eq!(summary["errors"], 2, "{summary}");
    let err = text(&out.stderr);
    assert!(err.contains(&dead) && err.contains("cannot connect"), "{err}");
}

#[test]
fn loadtest_remote_sends_the_token() {
    let server = ServeProcess::start_with(&["--auth-token", "s3cret"]);
    let load = |token: &str| {
        bin()
            .args(["loadtest", "--streams", "2", "--seconds", "1", "--remote", &server.addr])
            .args(["--auth-token", token])
            .output()
            .unwrap()
    };
    let ok = last_json(&load("s3cret"));
    assert_eq!((ok["lost"].as_u64(), ok["errors"].as_u64()), (Some(0), Some(0)), "{ok}");
    let refused = load("wrong");
    let summary = last_json(&refused);
    assert_eq!(summary["lost"], 100, "{summary}");
    assert_eq!(summary["failovers"], 0, "a refusal is fatal: {summary}");
    assert!(
        text(&refused.stderr).contains("Unauthenticated"),
        "{}",
        text(&refused.stderr)
    );
}
