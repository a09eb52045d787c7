//! `Client` against a real server on an ephemeral loopback port: unary runs,
//! live streams (resample + VAD), and each refusal with its class.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use remotemedia_core::{AudioData, Manifest, Samples};
use remotemedia_remote::client::{ErrorClass, Inputs};
use remotemedia_remote::{Client, ClientOptions, ServerConfig};
use serde_json::json;
use support::{IsolatedServer, TestServer};
use tonic::Code;

fn options() -> ClientOptions {
    ClientOptions {
        auth_token: None,
        timeout: Duration::from_secs(10),
    }
}

fn manifest(value: serde_json::Value) -> Manifest {
    Manifest::from_value(value).unwrap()
}

fn f32s(a: &AudioData) -> Vec<f32> {
    match a.samples() {
        Samples::F32(s) => s.to_vec(),
        other => panic!("expected f32, got {other:?}"),
    }
}

/// 20 ms of a 440 Hz tone at 48 kHz, chunk `k` of a continuous signal.
fn tone_chunk(k: usize) -> AudioData {
    let samples = (0..960)
        .map(|i| 0.3 * (2.0 * std::f32::consts::PI * 440.0 * (k * 960 + i) as f32 / 48_000.0).sin())
        .collect();
    AudioData::mono_f32(samples, 48_000).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_returns_audio_and_data_by_sink() {
    let server = TestServer::start(ServerConfig::default()).await;
    let client = Client::connect(&server.addr.to_string(), options()).await.unwrap();
    let m = manifest(json!({
        "version": "v1",
        "nodes": [
            {"id": "double", "node_type": "MultiplyNode", "params": {"factor": 2}},
            {"id": "calc", "node_type": "CalculatorNode", "params": {"operation": "add", "operand": 5}}
        ]
    }));
    let inputs = Inputs {
        audio: HashMap::from([(
            "double".to_owned(),
            AudioData::mono_f32(vec![0.1, -0.2, 0.25], 16_000).unwrap(),
        )]),
        data: HashMap::from([("calc".to_owned(), json!(37))]),
    };
    let out = client.execute(&m, &inputs).await.unwrap();
    assert_eq!(f32s(&out.audio["double"]), [0.2, -0.4, 0.5]);
    assert_eq!(out.audio["double"].sample_rate(), 16_000);
    assert_eq!(out.data["calc"], json!(42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_answers_each_chunk_in_order_then_ends() {
    let server = TestServer::start(ServerConfig::default()).await;
    let client = Client::connect(&server.addr.to_string(), options()).await.unwrap();
    let m = manifest(json!({
        "version": "v1",
        "nodes": [
            {"id": "resample", "node_type": "AudioResampleNode", "params": {"target_sample_rate": 16000}},
            {"id": "vad", "node_type": "VADNode"}
        ],
        "connections": [{"from": "resample", "to": "vad"}]
    }));
    let (mut tx, mut rx) = client.open_stream(&m).await.unwrap();
    assert!(!tx.session_id().is_empty());
    let reader = tokio::spawn(async move {
        let mut results = Vec::new();
        while let Some(r) = rx.next().await.unwrap() {
            results.push(r);
        }
        results
    });
    for k in 0..50 {
        assert_eq!(tx.send("", &tone_chunk(k)).await.unwrap(), k as u64);
    }
    tx.close().await.unwrap();
    let e = tx.send("", &tone_chunk(50)).await.unwrap_err();
    assert!(e.message.contains("already closed"), "{e}");
    let results = reader.await.unwrap();
    let sequences: Vec<u64> = results.iter().map(|r| r.sequence).collect();
    assert_eq!(&sequences[..50], (0..50).collect::<Vec<_>>().as_slice());
    let frames: usize = results
        .iter()
        .filter_map(|r| r.outputs.audio.get("vad"))
        .map(AudioData::frames)
        .sum();
    assert_eq!(frames, 50 * 320, "48 kHz -> 16 kHz: a third of the frames, all of them");
    let last = &results[49].outputs;
    assert_eq!(last.audio["vad"].sample_rate(), 16_000);
    assert!(
        last.data["vad"]["is_speech"].is_boolean() && last.data["vad"]["total_frames"].as_u64() >= Some(1),
        "VAD results with each chunk: {}",
        last.data["vad"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_fatal_and_say_what_was_wrong() {
    let server = TestServer::start(ServerConfig {
        auth_tokens: vec!["s3cret".into()],
        ..ServerConfig::default()
    })
    .await;
    let addr = server.addr.to_string();
    let one = manifest(json!({"version": "v1", "nodes": [{"id": "p", "node_type": "PassThroughNode"}]}));

    let no_token = Client::connect(&addr, options()).await.unwrap();
    let e = no_token.open_stream(&one).await.unwrap_err();
    assert_eq!(
        (e.class, e.code),
        (ErrorClass::Fatal, Some(Code::Unauthenticated)),
        "{e}"
    );
    assert!(e.to_string().starts_with(&addr), "names the server: {e}");

    let client = Client::connect(
        &addr,
        ClientOptions {
            auth_token: Some("s3cret".into()),
            ..options()
        },
    )
    .await
    .unwrap();
    let unknown = manifest(json!({"version": "v1", "nodes": [{"id": "x", "node_type": "NoSuchNode"}]}));
    let e = client.open_stream(&unknown).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Fatal);
    assert!(e.message.contains("NoSuchNode"), "{e}");
    let e = client
        .execute(
            &unknown,
            &Inputs {
                data: HashMap::from([("x".to_owned(), json!(1))]),
                ..Inputs::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("NoSuchNode") && !e.is_transient(), "{e}");

    let calc = manifest(json!({"version": "v1", "nodes": [
        {"id": "c", "node_type": "CalculatorNode", "params": {"operation": "divide", "operand": 0}}]}));
    let e = client
        .execute(
            &calc,
            &Inputs {
                data: HashMap::from([("c".to_owned(), json!(1))]),
                ..Inputs::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.node_id.as_deref(), Some("c"), "{e}");
    assert!(e.message.to_lowercase().contains("zero"), "{e}");

    for bad in ["localhost", "localhost:0", ":50051", "h:99999"] {
        let e = Client::connect(bad, options()).await.unwrap_err();
        assert_eq!(e.class, ErrorClass::Fatal, "{bad}: {e}");
        assert!(e.message.contains("host:port"), "{bad}: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_server_is_transient() {
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let e = Client::connect(&addr, options()).await.unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert!(e.message.contains("cannot connect"), "{e}");

    let mut server = IsolatedServer::start(ServerConfig::default());
    let client = Client::connect(&server.addr.to_string(), options()).await.unwrap();
    let m = manifest(json!({"version": "v1", "nodes": [{"id": "p", "node_type": "PassThroughNode"}]}));
    let (mut tx, mut rx) = client.open_stream(&m).await.unwrap();
    tx.send("", &tone_chunk(0)).await.unwrap();
    assert_eq!(rx.next().await.unwrap().unwrap().sequence, 0);
    server.kill();
    // Sending may still succeed into the local queue; the receiver reports
    // the end.
    let _ = tx.send("", &tone_chunk(1)).await;
    let e = match rx.next().await {
        Err(e) => e,
        Ok(Some(r)) => panic!("a killed server answered chunk {}", r.sequence),
        Ok(None) => panic!("a killed server cannot close the stream"),
    };
    assert!(e.is_transient(), "{e}");
}
