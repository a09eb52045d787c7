//! Helpers shared by the `remotemedia` binary's end-to-end tests (each test file uses some).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_remotemedia"))
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A scratch directory, removed when dropped.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("remotemedia-cli-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }
    pub fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
    pub fn write(&self, f: &str, contents: &str) -> PathBuf {
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

pub const PASS_CHAIN: &str = r#"{"version": "v1",
  "nodes": [{"id": "a", "node_type": "PassThroughNode"}, {"id": "b", "node_type": "PassThroughNode"}],
  "connections": [{"from": "a", "to": "b"}]}"#;

pub fn write_wav<S: hound::Sample + Copy>(path: &Path, spec: hound::WavSpec, samples: &[S]) {
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

pub fn spec(channels: u16, bits: u16, float: bool) -> hound::WavSpec {
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

pub fn read_all<S: hound::Sample>(path: &Path) -> (hound::WavSpec, Vec<S>) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    (spec, r.samples::<S>().map(Result::unwrap).collect())
}

/// A ramp that exercises the whole range of `bits`, interleaved over
/// `channels`, long enough to span several chunks (and a partial last one).
pub fn ramp(bits: u32, n: usize) -> Vec<i32> {
    let max = (1i64 << (bits - 1)) - 1;
    (0..n)
        .map(|i| ((i as i64 * 7919) % (2 * max + 1) - max) as i32)
        .collect()
}

pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

pub fn json_file(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Waits for a child at most `limit`; kills it and fails the test past that.
pub fn wait_at_most(child: &mut std::process::Child, limit: std::time::Duration) -> std::process::ExitStatus {
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

/// Writes a WAV header and `frames` frames of zeros by hand, for shapes
/// hound's writer gets wrong.
pub fn write_wide_wav(path: &Path, channels: u16, bits: u16, frames: u32) {
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

/// Runs ffmpeg with `args`; panics with its message when it fails.
pub fn ffmpeg(args: &[&str]) {
    let o = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg is installed (scripts/test.sh installs it)");
    assert!(o.status.success(), "{}", text(&o.stderr));
}
