//! `RemotePipelineNode` in a local pipeline: results from a real server,
//! fatal errors, and failover when its server dies mid-stream.

mod support;

use remotemedia_core::{AudioData, Engine, GraphRun, Manifest, Registry, RuntimeData, Samples};
use remotemedia_remote::ServerConfig;
use serde_json::json;
use support::IsolatedServer;

fn engine() -> Engine {
    let mut registry = Registry::with_builtins();
    remotemedia_audio::register(&mut registry);
    remotemedia_remote::register(&mut registry);
    Engine::new(registry)
}

fn remote_manifest(endpoints: &[String], extra: serde_json::Value) -> Manifest {
    let mut params =
        json!({"endpoints": endpoints, "node_type": "MultiplyNode", "params": {"factor": 2}, "timeout_ms": 5000});
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    Manifest::from_value(json!({
        "version": "v1",
        "nodes": [{"id": "remote", "node_type": "RemotePipelineNode", "params": params,
                   "retry": {"max_retries": 3, "initial_delay_ms": 10, "multiplier": 1.0, "max_delay_ms": 10}}]
    }))
    .unwrap()
}

fn chunk(seq: usize) -> Vec<f32> {
    (0..160).map(|i| (seq * 160 + i) as f32 * 1e-5).collect()
}

fn samples(d: &RuntimeData) -> Vec<f32> {
    match d.audio().map(AudioData::samples) {
        Some(Samples::F32(s)) => s.to_vec(),
        other => panic!("expected f32 audio, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_chunk_arrives_when_the_server_in_use_dies() {
    let mut a = IsolatedServer::start(ServerConfig::default());
    let b = IsolatedServer::start(ServerConfig::default());
    let endpoints = vec![a.addr.to_string(), b.addr.to_string()];
    let engine = engine();
    let pipeline = engine.compile(remote_manifest(&endpoints, json!({}))).unwrap();
    let mut run = GraphRun::new(pipeline).unwrap();
    let mut outputs = Vec::new();
    for seq in 0..60 {
        if seq == 20 {
            // The registry is fresh, so the first session took the first
            // endpoint in turn: a.
            a.kill();
        }
        let audio = AudioData::mono_f32(chunk(seq), 16_000).unwrap();
        run.push(RuntimeData::Audio(audio), &mut outputs).await.unwrap();
        assert_eq!(outputs.len(), seq + 1, "chunk {seq} produced no output");
    }
    run.flush(&mut outputs).await.unwrap();
    assert_eq!(outputs.len(), 60);
    for (seq, o) in outputs.iter().enumerate() {
        let want: Vec<f32> = chunk(seq).iter().map(|x| x * 2.0).collect();
        assert_eq!(samples(&o.data), want, "chunk {seq}");
    }
    let retries = run.metrics().nodes[0].retries;
    assert!(retries >= 1, "the kill should have cost a retry (retries: {retries})");
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_fatal_and_name_the_server() {
    let server = IsolatedServer::start(ServerConfig {
        auth_tokens: vec!["t".into()],
        ..ServerConfig::default()
    });
    let endpoints = vec![server.addr.to_string()];
    let engine = engine();
    for (extra, expected) in [
        (json!({"auth_token": "wrong"}), "Unauthenticated"),
        (json!({"auth_token": "t", "params": {"factor": "x"}}), "InvalidArgument"),
    ] {
        let pipeline = engine.compile(remote_manifest(&endpoints, extra)).unwrap();
        let mut run = GraphRun::new(pipeline).unwrap();
        let audio = AudioData::mono_f32(chunk(0), 16_000).unwrap();
        let e = run.push(RuntimeData::Audio(audio), &mut Vec::new()).await.unwrap_err();
        let text = e.to_string();
        assert!(text.contains("fatal, 1 attempt"), "{text}");
        assert!(text.contains(expected) && text.contains(&endpoints[0]), "{text}");
    }
    let pipeline = engine
        .compile(remote_manifest(&endpoints, json!({"auth_token": "t"})))
        .unwrap();
    let out = engine
        .run_batch(
            &pipeline,
            [RuntimeData::Audio(AudioData::mono_f32(vec![0.25], 16_000).unwrap())],
        )
        .await
        .unwrap();
    assert_eq!(samples(&out[0].data), vec![0.5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_endpoint_is_transient_and_opens_the_breaker() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut manifest = remote_manifest(&[dead.to_string()], json!({"timeout_ms": 2000}));
    manifest.nodes[0].retry = Some(serde_json::from_value(json!({"max_retries": 0})).unwrap());
    manifest.nodes[0].circuit_breaker =
        Some(serde_json::from_value(json!({"failure_threshold": 2, "cooldown_ms": 60000})).unwrap());
    let engine = engine();
    let mut run = GraphRun::new(engine.compile(manifest).unwrap()).unwrap();
    let mut errors = Vec::new();
    for seq in 0..3 {
        let audio = AudioData::mono_f32(chunk(seq), 16_000).unwrap();
        errors.push(
            run.push(RuntimeData::Audio(audio), &mut Vec::new())
                .await
                .unwrap_err()
                .to_string(),
        );
    }
    for e in &errors[..2] {
        assert!(e.contains("transient") && e.contains(&dead.to_string()), "{e}");
    }
    assert!(errors[2].contains("circuit breaker is open"), "{}", errors[2]);
}
