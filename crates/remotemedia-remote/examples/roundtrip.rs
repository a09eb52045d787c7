//! Round trip of one 20 ms chunk (48 kHz mono) through resample to 16 kHz +
//! VAD: in process (a `GraphRun` push) and through `remotemedia serve` over
//! loopback (a tonic bidirectional stream, one chunk in flight), p50/p99,
//! beside a PassThrough pipeline on the same server (the transport's floor:
//! HTTP/2, protobuf, our audio codec);
//! with a second argument, also through the StreamPipeline server at that
//! `host:port` (bench/remote/run.sh passes its Python grpcio peer).
//!
//! `nice -n 10 cargo run --release -p remotemedia-remote --example roundtrip [chunks [host:port]]`

use std::time::{Duration, Instant};

use remotemedia_core::{AudioData, Engine, GraphRun, Manifest, Registry, RuntimeData};
use remotemedia_remote::proto::stream_request::Request as In;
use remotemedia_remote::proto::stream_response::Response as Out;
use remotemedia_remote::proto::streaming_pipeline_service_client::StreamingPipelineServiceClient;
use remotemedia_remote::proto::{AudioBuffer, AudioChunk, AudioFormat, StreamInit, StreamRequest};
use remotemedia_remote::{Server, ServerConfig, manifest_codec};
use serde_json::json;
use tokio_stream::wrappers::ReceiverStream;

const RATE: u32 = 48_000;
const FRAMES: usize = 960;

fn manifest() -> Manifest {
    Manifest::from_value(json!({
        "version": "v1",
        "nodes": [
            {"id": "resample", "node_type": "AudioResampleNode", "params": {"target_sample_rate": 16000}},
            {"id": "vad", "node_type": "VADNode", "params": {"frame_duration_ms": 20}}
        ],
        "connections": [{"from": "resample", "to": "vad"}]
    }))
    .expect("manifest")
}

fn engine() -> Engine {
    let mut registry = Registry::with_builtins();
    remotemedia_audio::register(&mut registry);
    Engine::new(registry)
}

/// Speech-like test signal: a 200 Hz tone with a 3 Hz envelope.
fn chunk(i: usize) -> Vec<f32> {
    (0..FRAMES)
        .map(|k| {
            let t = (i * FRAMES + k) as f32 / RATE as f32;
            0.3 * (std::f32::consts::TAU * 200.0 * t).sin() * (std::f32::consts::TAU * 3.0 * t).sin().abs()
        })
        .collect()
}

fn report(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let q = |p: f64| times[((times.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e6;
    println!(
        "{name:<28} p50 {:>9.1} us   p99 {:>9.1} us   (n={})",
        q(0.5),
        q(0.99),
        times.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(3_000, |a| a.parse().expect("chunks: a number"));
    let engine = engine();
    let inputs: Vec<Vec<f32>> = (0..n).map(chunk).collect();

    let pipeline = engine.compile(manifest()).expect("compiles");
    let mut run = GraphRun::new(pipeline).expect("run");
    let mut out = Vec::new();
    let mut local = Vec::with_capacity(n);
    for c in &inputs {
        let audio = AudioData::mono_f32(c.clone(), RATE).expect("audio");
        let t = Instant::now();
        run.push(RuntimeData::Audio(audio), &mut out).await.expect("push");
        local.push(t.elapsed());
        out.clear();
    }
    report("in process (GraphRun push)", local);

    let server = Server::bind("127.0.0.1:0".parse().unwrap(), engine.clone(), ServerConfig::default())
        .await
        .expect("binds");
    let addr = server.local_addr();
    tokio::spawn(server.serve(std::future::pending()));
    let addr = addr.to_string();
    let floor = Manifest::from_value(json!({"version": "v1", "nodes": [{"id": "n", "node_type": "PassThrough"}]}))
        .expect("manifest");
    report(
        "loopback PassThrough (floor)",
        stream_round_trips(&addr, &floor, &inputs).await,
    );
    report(
        "loopback resample+VAD",
        stream_round_trips(&addr, &manifest(), &inputs).await,
    );
    if let Some(peer) = std::env::args().nth(2) {
        report(
            "Python grpcio peer",
            stream_round_trips(&peer, &manifest(), &inputs).await,
        );
    }
}

/// Round trip of each chunk through a StreamPipeline of `manifest` at
/// `addr`, one chunk in flight.
async fn stream_round_trips(addr: &str, manifest: &Manifest, inputs: &[Vec<f32>]) -> Vec<Duration> {
    let mut client = StreamingPipelineServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("connects");
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(StreamRequest {
        request: Some(In::Init(StreamInit {
            manifest: Some(manifest_codec::to_wire(manifest)),
            ..Default::default()
        })),
    })
    .await
    .unwrap();
    let mut responses = client
        .stream_pipeline(ReceiverStream::new(rx))
        .await
        .expect("stream")
        .into_inner();
    assert!(matches!(
        responses.message().await.unwrap().unwrap().response,
        Some(Out::Ready(_))
    ));
    let mut remote = Vec::with_capacity(inputs.len());
    for (seq, c) in inputs.iter().enumerate() {
        let buffer = AudioBuffer {
            samples: c.iter().flat_map(|s| s.to_le_bytes()).collect(),
            sample_rate: RATE,
            channels: 1,
            format: AudioFormat::F32 as i32,
            num_samples: FRAMES as u64,
        };
        let t = Instant::now();
        tx.send(StreamRequest {
            request: Some(In::AudioChunk(AudioChunk {
                node_id: String::new(),
                buffer: Some(buffer),
                sequence: seq as u64,
                timestamp_ms: seq as u64 * 20,
            })),
        })
        .await
        .unwrap();
        match responses.message().await.unwrap().unwrap().response {
            Some(Out::Result(r)) => assert_eq!(r.sequence, seq as u64),
            other => panic!("{other:?}"),
        }
        remote.push(t.elapsed());
    }
    remote
}
