//! The media nodes inside the engine: a reader source driven by the end of
//! the stream, the track selector and the WAV writer, in manifests.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use remotemedia_core::{
    AudioData, Engine, GraphRun, Manifest, Pipeline, Registry, RuntimeData, Samples, Session, SessionConfig,
};
use serde_json::{Value, json};

fn engine() -> Engine {
    let mut r = Registry::with_builtins();
    remotemedia_audio::register(&mut r);
    remotemedia_media::register(&mut r);
    Engine::new(r)
}

fn pipeline(nodes: Value) -> Arc<Pipeline> {
    let n = nodes.as_array().unwrap().len();
    let connections: Vec<Value> = (1..n)
        .map(|i| json!({"from": nodes[i - 1]["id"], "to": nodes[i]["id"]}))
        .collect();
    engine()
        .compile(Manifest::from_value(json!({"version": "v1", "nodes": nodes, "connections": connections})).unwrap())
        .unwrap()
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A 3 s stereo FLAC of a 0.5 sine, made by ffmpeg.
fn flac(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("in.flac");
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("aevalsrc=0.5*sin(2*PI*440*t)|0.25*sin(2*PI*660*t):s=44100:d=3")
        .args(["-c:a", "flac", "-sample_fmt", "s16"])
        .arg(&path)
        .output()
        .expect("ffmpeg is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    path
}

fn audio(d: &RuntimeData) -> &AudioData {
    d.audio().expect("audio")
}

#[test]
fn reader_track_resample_writer_runs_from_a_flush_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = flac(dir.path());
    let output = dir.path().join("out.wav");
    let p = pipeline(json!([
        {"id": "read", "node_type": "MediaReaderNode", "params": {"path": input, "chunk_size": 4096}},
        {"id": "track", "node_type": "AudioTrackSource"},
        {"id": "rs", "node_type": "AudioResampleNode", "params": {"target_sample_rate": 16000}},
        {"id": "write", "node_type": "MediaWriterNode", "params": {"output_path": output}},
    ]));
    let mut run = GraphRun::new(p).unwrap();
    let mut emitted = Vec::new();
    block_on(run.flush(&mut emitted)).unwrap();
    let frames: usize = emitted.iter().map(|o| audio(&o.data).frames()).sum();
    assert_eq!(frames, 48000, "3 s at 16 kHz");
    assert!(emitted.iter().all(|o| audio(&o.data).channels() == 2));
    let reader = hound::WavReader::open(&output).unwrap();
    assert_eq!(reader.spec().sample_rate, 16000);
    assert_eq!(reader.spec().channels, 2);
    assert_eq!(reader.spec().sample_format, hound::SampleFormat::Float);
    assert_eq!(reader.duration(), 48000);
}

#[test]
fn a_session_hands_the_file_on_a_chunk_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let input = flac(dir.path());
    let p = pipeline(json!([
        {"id": "read", "node_type": "MediaReaderNode", "params": {"path": input, "chunk_size": 1000}},
    ]));
    let run = GraphRun::new(p).unwrap();
    let config = SessionConfig {
        output_capacity: 2,
        ..SessionConfig::default()
    };
    block_on(async move {
        let (tx, mut rx) = Session::spawn(run, config).split();
        drop(tx);
        let mut chunks = 0;
        let mut frames = 0;
        let mut first = None;
        while let Some(o) = rx.recv().await {
            let o = o.unwrap();
            let a = audio(&o.data);
            if first.is_none() {
                first = Some(a.clone());
            }
            chunks += 1;
            frames += a.frames();
        }
        assert_eq!(frames, 132300);
        assert_eq!(chunks, 133);
        let first = first.unwrap();
        let Samples::I16(s) = first.samples() else {
            panic!("a 16-bit FLAC reads as i16")
        };
        let peak = |c: &[i16]| c.iter().fold(0f32, |m, &x| m.max(f32::from(x).abs() / 32768.0));
        assert!((peak(&s[..1000]) - 0.5).abs() < 0.01, "left is the 0.5 sine");
        assert!((peak(&s[1000..]) - 0.25).abs() < 0.01, "right is the 0.25 sine");
    });
}

#[test]
fn a_missing_file_fails_the_run_naming_it() {
    let p = pipeline(json!([
        {"id": "read", "node_type": "MediaReaderNode", "params": {"path": "/nonexistent/x.mp3"}},
    ]));
    let mut run = GraphRun::new(p).unwrap();
    let mut emitted = Vec::new();
    let e = block_on(run.flush(&mut emitted)).unwrap_err().to_string();
    assert!(e.contains("/nonexistent/x.mp3") && e.contains("read"), "{e}");
}

#[test]
fn track_source_converts_to_f32_and_drops_what_is_not_audio() {
    let p = pipeline(json!([{"id": "t", "node_type": "AudioTrackSource"}]));
    let mut run = GraphRun::new(p).unwrap();
    let mut emitted = Vec::new();
    let pcm = AudioData::new(vec![16384i16, -32768, 0, 8192], 2, 8000).unwrap();
    block_on(async {
        run.push(RuntimeData::Audio(pcm), &mut emitted).await.unwrap();
        run.push(RuntimeData::Text("hello".into()), &mut emitted).await.unwrap();
    });
    assert_eq!(emitted.len(), 1);
    let a = audio(&emitted[0].data);
    assert_eq!((a.channels(), a.frames(), a.sample_rate()), (2, 2, 8000));
    let Samples::F32(s) = a.samples() else { panic!("f32") };
    assert_eq!(&s[..], &[0.5, -1.0, 0.0, 0.25]);
}

#[test]
fn params_are_checked() {
    let e = engine();
    for (params, field) in [
        (json!({}), "path"),
        (json!({"path": "a.wav", "chunk_size": 0}), "chunk_size"),
    ] {
        let m = json!({"version": "v1", "nodes": [{"id": "r", "node_type": "MediaReaderNode", "params": params}], "connections": []});
        let err = e.compile(Manifest::from_value(m).unwrap()).unwrap_err().to_string();
        assert!(err.contains(field), "{err}");
    }
}
