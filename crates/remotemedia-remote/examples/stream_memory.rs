//! Server heap per open stream: opens N resample+VAD streams on a loopback
//! server (one chunk each, all left open), reports the live-heap growth per
//! stream, closes them all and reports what is left over the baseline.
//!
//! `nice -n 10 cargo run --release -p remotemedia-remote --example stream_memory [streams]`

use remotemedia_core::metrics::alloc::{TrackingAllocator, live_bytes};
use remotemedia_core::{Engine, Manifest, Registry};
use remotemedia_remote::proto::stream_control::Command;
use remotemedia_remote::proto::stream_request::Request as In;
use remotemedia_remote::proto::stream_response::Response as Out;
use remotemedia_remote::proto::streaming_pipeline_service_client::StreamingPipelineServiceClient;
use remotemedia_remote::proto::{AudioBuffer, AudioChunk, AudioFormat, StreamControl, StreamInit, StreamRequest};
use remotemedia_remote::{Server, ServerConfig, manifest_codec};
use serde_json::json;
use tokio_stream::wrappers::ReceiverStream;

#[global_allocator]
static ALLOCATOR: TrackingAllocator = TrackingAllocator;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(200, |a| a.parse().expect("streams: a number"));
    let mut registry = Registry::with_builtins();
    remotemedia_audio::register(&mut registry);
    let manifest = Manifest::from_value(json!({
        "version": "v1",
        "nodes": [
            {"id": "resample", "node_type": "AudioResampleNode", "params": {"target_sample_rate": 16000}},
            {"id": "vad", "node_type": "VADNode", "params": {"frame_duration_ms": 20}}
        ],
        "connections": [{"from": "resample", "to": "vad"}]
    }))
    .expect("manifest");
    let config = ServerConfig {
        max_sessions: n + 1,
        ..ServerConfig::default()
    };
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), Engine::new(registry), config)
        .await
        .expect("binds");
    let addr = server.local_addr();
    tokio::spawn(server.serve(std::future::pending()));
    let client = StreamingPipelineServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("connects");
    let chunk = AudioBuffer {
        samples: vec![0; 960 * 4],
        sample_rate: 48_000,
        channels: 1,
        format: AudioFormat::F32 as i32,
        num_samples: 960,
    };
    // One stream opened and closed first, so one-time allocations (codecs,
    // the connection, filter tables) are in the baseline.
    let mut streams = Vec::new();
    let mut baseline = 0;
    for i in 0..=n {
        let (tx, responses) = open(&client, &manifest, &chunk).await;
        if i == 0 {
            close(tx, responses).await;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            baseline = live_bytes();
        } else {
            streams.push((tx, responses));
        }
    }
    let all_open = live_bytes();
    println!(
        "{n} open streams: {:.1} KiB of server and client heap per stream (client side included: its channel and stream state)",
        (all_open as f64 - baseline as f64) / n as f64 / 1024.0
    );
    for (tx, responses) in streams {
        close(tx, responses).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let closed = live_bytes();
    println!(
        "after closing them all: {:+.1} KiB over the baseline",
        (closed as f64 - baseline as f64) / 1024.0
    );
    // As many streams again, one at a time: a per-stream leak would grow
    // the heap by n times its size; retained capacity would not.
    for _ in 0..n {
        let (tx, responses) = open(&client, &manifest, &chunk).await;
        close(tx, responses).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    println!(
        "after {n} more streams opened and closed one at a time: {:+.1} KiB over the previous line",
        (live_bytes() as f64 - closed as f64) / 1024.0
    );
}

async fn open(
    client: &StreamingPipelineServiceClient<tonic::transport::Channel>,
    manifest: &Manifest,
    chunk: &AudioBuffer,
) -> (
    tokio::sync::mpsc::Sender<StreamRequest>,
    tonic::Streaming<remotemedia_remote::proto::StreamResponse>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(StreamRequest {
        request: Some(In::Init(StreamInit {
            manifest: Some(manifest_codec::to_wire(manifest)),
            ..Default::default()
        })),
    })
    .await
    .unwrap();
    tx.send(StreamRequest {
        request: Some(In::AudioChunk(AudioChunk {
            buffer: Some(chunk.clone()),
            ..Default::default()
        })),
    })
    .await
    .unwrap();
    let mut responses = client
        .clone()
        .stream_pipeline(ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(
        responses.message().await.unwrap().unwrap().response,
        Some(Out::Ready(_))
    ));
    assert!(matches!(
        responses.message().await.unwrap().unwrap().response,
        Some(Out::Result(_))
    ));
    (tx, responses)
}

async fn close(
    tx: tokio::sync::mpsc::Sender<StreamRequest>,
    mut responses: tonic::Streaming<remotemedia_remote::proto::StreamResponse>,
) {
    tx.send(StreamRequest {
        request: Some(In::Control(StreamControl {
            command: Command::Close as i32,
        })),
    })
    .await
    .unwrap();
    // Read to the end of the call (its trailers), as a well-behaved client does.
    while responses.message().await.unwrap().is_some() {}
}
