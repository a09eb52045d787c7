//! The server against a tonic client over loopback: results, the error
//! mapping, auth, limits, the session cap, vanishing and stalled clients,
//! restricted pipelines and the drain.

mod support;

use std::time::Duration;

use remotemedia_remote::proto::execute_response::Outcome;
use remotemedia_remote::proto::stream_control::Command;
use remotemedia_remote::proto::stream_response::Response as Out;
use remotemedia_remote::proto::{AudioFormat, ErrorType, ExecuteRequest, ResourceLimits, VersionRequest};
use remotemedia_remote::{Limits, ServerConfig};
use support::{Stream, TestServer, chunk, control, f32_buffer, init, manifest};
use tonic::Code;

fn ramp(n: usize) -> Vec<f32> {
    (0..n).map(|i| (i as f32 / n as f32) - 0.5).collect()
}

#[tokio::test]
async fn a_stream_answers_every_chunk_then_closes() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut client = server.streaming().await;
    let mut s = Stream::open(&mut client, None, 4).await.unwrap();
    s.send(init(manifest("MultiplyNode", r#"{"factor": 2}"#))).await;
    assert!(matches!(s.next().await.unwrap(), Some(Out::Ready(r)) if !r.session_id.is_empty()));
    let input = ramp(960);
    for seq in 0..10 {
        s.send(chunk(f32_buffer(&input, 48_000), seq)).await;
        match s.next().await.unwrap() {
            Some(Out::Result(r)) => {
                assert_eq!(r.sequence, seq);
                let b = &r.audio_outputs["n"];
                assert_eq!(
                    (b.num_samples, b.sample_rate, b.format),
                    (960, 48_000, AudioFormat::F32 as i32)
                );
                let got: Vec<f32> = b
                    .samples
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect();
                let want: Vec<f32> = input.iter().map(|x| x * 2.0).collect();
                assert_eq!(got, want);
            }
            other => panic!("expected a result for chunk {seq}, got {other:?}"),
        }
    }
    s.send(control(Command::Close)).await;
    assert!(matches!(s.next().await.unwrap(), Some(Out::Metrics(m)) if m.chunks_processed == 10));
    assert!(matches!(s.next().await.unwrap(), Some(Out::Closed(c)) if c.reason == "closed by client"));
    assert!(s.next().await.unwrap().is_none());
}

#[tokio::test]
async fn resample_and_vad_over_the_wire() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut client = server.streaming().await;
    let mut s = Stream::open(&mut client, None, 4).await.unwrap();
    let mut m = manifest("AudioResampleNode", r#"{"target_sample_rate": 16000}"#);
    let mut vad = m.nodes[0].clone();
    vad.id = "vad".into();
    vad.node_type = "VADNode".into();
    vad.params = "{}".into();
    m.nodes.push(vad);
    m.connections.push(remotemedia_remote::proto::Connection {
        from: "n".into(),
        to: "vad".into(),
    });
    s.send(init(m)).await;
    assert!(matches!(s.next().await.unwrap(), Some(Out::Ready(_))));
    let tone: Vec<f32> = (0..960).map(|i| (i as f32 * 0.1).sin() * 0.3).collect();
    let mut frames = 0;
    for seq in 0..50 {
        s.send(chunk(f32_buffer(&tone, 48_000), seq)).await;
        let Some(Out::Result(r)) = s.next().await.unwrap() else {
            panic!("no result for {seq}")
        };
        assert_eq!(r.sequence, seq);
        if let Some(b) = r.audio_outputs.get("vad") {
            assert_eq!(b.sample_rate, 16_000);
            frames += b.num_samples;
            let info: serde_json::Value = serde_json::from_str(&r.data_outputs["vad"]).unwrap();
            assert!(info["total_frames"].is_u64(), "{info}");
        }
    }
    s.send(control(Command::Close)).await;
    while let Some(m) = s.next().await.unwrap() {
        if let Out::Result(r) = m {
            frames += r.audio_outputs.get("vad").map_or(0, |b| b.num_samples);
        }
    }
    // One second at 48 kHz resampled to 16 kHz, exact length after the flush.
    assert_eq!(frames, 16_000);
}

async fn first_error(s: &mut Stream) -> (ErrorType, String, Code) {
    let e = loop {
        match s.next().await {
            Ok(Some(Out::Ready(_))) => {}
            Ok(Some(Out::Error(e))) => break e,
            other => panic!("expected an error message, got {other:?}"),
        }
    };
    let status = s.next().await.expect_err("the call ends with a status");
    (ErrorType::try_from(e.error_type).unwrap(), e.message, status.code())
}

#[tokio::test]
async fn malformed_streams_get_named_errors_and_the_server_serves_on() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut client = server.streaming().await;
    let good = f32_buffer(&ramp(160), 16_000);
    let cases: Vec<(&str, Vec<_>, ErrorType, &str, Code)> = vec![
        (
            "chunk before init",
            vec![chunk(good.clone(), 0)],
            ErrorType::Validation,
            "must be init",
            Code::InvalidArgument,
        ),
        (
            "second init",
            vec![init(manifest("PassThrough", "{}")), init(manifest("PassThrough", "{}"))],
            ErrorType::Validation,
            "second init",
            Code::InvalidArgument,
        ),
        (
            "byte length",
            vec![init(manifest("PassThrough", "{}")), {
                let mut b = good.clone();
                b.samples.pop();
                chunk(b, 1)
            }],
            ErrorType::Validation,
            "639 bytes of samples",
            Code::InvalidArgument,
        ),
        (
            "rate 0",
            vec![init(manifest("PassThrough", "{}")), {
                let mut b = good.clone();
                b.sample_rate = 0;
                chunk(b, 2)
            }],
            ErrorType::Validation,
            "sample_rate is 0",
            Code::InvalidArgument,
        ),
        (
            "unknown format",
            vec![init(manifest("PassThrough", "{}")), {
                let mut b = good.clone();
                b.format = 7;
                chunk(b, 3)
            }],
            ErrorType::Validation,
            "unknown audio format 7",
            Code::InvalidArgument,
        ),
        (
            "over the limit",
            vec![init(manifest("PassThrough", "{}")), {
                let mut b = good.clone();
                b.num_samples = u64::MAX / 2;
                chunk(b, 4)
            }],
            ErrorType::ResourceLimit,
            "exceeds the limit",
            Code::ResourceExhausted,
        ),
        (
            "unknown node type",
            vec![init(manifest("NoSuchNode", "{}"))],
            ErrorType::Validation,
            "unknown node type",
            Code::InvalidArgument,
        ),
        (
            "params not JSON",
            vec![init(manifest("MultiplyNode", "{factor"))],
            ErrorType::Validation,
            "nodes[0].params",
            Code::InvalidArgument,
        ),
    ];
    for (name, requests, error_type, text, code) in cases {
        let mut s = Stream::open(&mut client, None, 4).await.unwrap();
        for r in requests {
            s.send(r).await;
        }
        let (t, message, c) = first_error(&mut s).await;
        assert_eq!((t, c), (error_type, code), "{name}: {message}");
        assert!(message.contains(text), "{name}: {message:?} does not say {text:?}");
    }
    // And it still serves.
    let mut s = Stream::open(&mut client, None, 4).await.unwrap();
    s.send(init(manifest("PassThrough", "{}"))).await;
    assert!(matches!(s.next().await.unwrap(), Some(Out::Ready(_))));
}

#[tokio::test]
async fn tokens_are_required_when_configured() {
    let server = TestServer::start(ServerConfig {
        auth_tokens: vec!["s3cret".into(), "other".into()],
        ..ServerConfig::default()
    })
    .await;
    let mut client = server.streaming().await;
    for token in [None, Some("wrong"), Some("s3cre")] {
        let e = Stream::open(&mut client, token, 1).await.err().expect("refused");
        assert_eq!(e.code(), Code::Unauthenticated, "{token:?}: {e}");
    }
    let mut s = Stream::open(&mut client, Some("other"), 1).await.unwrap();
    s.send(init(manifest("PassThrough", "{}"))).await;
    assert!(matches!(s.next().await.unwrap(), Some(Out::Ready(_))));
    let e = server
        .execution()
        .await
        .get_version(VersionRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn unary_runs_older_nodes_and_maps_errors() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut client = server.execution().await;
    let version = client
        .get_version(VersionRequest::default())
        .await
        .unwrap()
        .into_inner();
    let info = version.version_info.unwrap();
    assert_eq!(info.protocol_version, "v1");
    for t in ["CalculatorNode", "Echo", "PassThrough", "VADNode"] {
        assert!(info.supported_node_types.iter().any(|n| n == t), "{t} missing");
    }
    let request = |params: &str, input: &str| ExecuteRequest {
        manifest: Some(manifest("CalculatorNode", params)),
        audio_inputs: Default::default(),
        data_inputs: [("n".to_owned(), input.to_owned())].into(),
        resource_limits: None,
        client_version: "test".into(),
    };
    let r = client
        .execute_pipeline(request(r#"{"operation": "multiply", "value": 4}"#, "2.5"))
        .await
        .unwrap()
        .into_inner();
    match r.outcome {
        Some(Outcome::Result(res)) => assert_eq!(res.data_outputs["n"], "10"),
        other => panic!("{other:?}"),
    }
    let r = client
        .execute_pipeline(request(r#"{"operation": "divide", "operand": 0}"#, "1"))
        .await
        .unwrap()
        .into_inner();
    match r.outcome {
        Some(Outcome::Error(e)) => {
            assert_eq!(e.error_type, ErrorType::NodeExecution as i32);
            assert_eq!(e.failing_node_id, "n");
            assert!(e.message.contains("by zero"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
    let mut over = request("{}", "1");
    over.manifest = Some(manifest("PassThrough", "{}"));
    over.data_inputs.clear();
    over.audio_inputs.insert("n".into(), f32_buffer(&ramp(1000), 16_000));
    over.resource_limits = Some(ResourceLimits {
        max_audio_samples: 999,
        ..Default::default()
    });
    let e = client.execute_pipeline(over).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted);
    assert!(e.message().contains("limit of 999 samples"), "{}", e.message());
}

/// Opens streams until one is admitted, for up to 10 s (a freed session is
/// released when the server notices the old stream has gone).
async fn admitted(server: &TestServer) -> Stream {
    let mut client = server.streaming().await;
    for _ in 0..200 {
        match Stream::open(&mut client, None, 4).await {
            Ok(s) => return s,
            Err(e) => assert_eq!(e.code(), Code::ResourceExhausted, "{e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the session was never freed");
}

#[tokio::test]
async fn the_session_cap_refuses_and_a_vanished_client_frees_its_session() {
    let server = TestServer::start(ServerConfig {
        max_sessions: 1,
        ..ServerConfig::default()
    })
    .await;
    let mut client = server.streaming().await;
    let mut first = Stream::open(&mut client, None, 4).await.unwrap();
    first.send(init(manifest("PassThrough", "{}"))).await;
    assert!(matches!(first.next().await.unwrap(), Some(Out::Ready(_))));
    let e = Stream::open(&mut client, None, 4).await.err().expect("over the cap");
    assert_eq!(e.code(), Code::ResourceExhausted);
    assert!(e.message().contains("at most 1 concurrent streams"), "{}", e.message());
    // The first client vanishes mid-stream: its connection goes away.
    first.send(chunk(f32_buffer(&ramp(160), 16_000), 0)).await;
    drop(first);
    drop(client);
    let mut s = admitted(&server).await;
    s.send(init(manifest("PassThrough", "{}"))).await;
    assert!(matches!(s.next().await.unwrap(), Some(Out::Ready(_))));
}

#[tokio::test]
async fn a_client_that_stops_reading_is_held_back_and_loses_nothing() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut client = server.streaming().await;
    let mut s = Stream::open(&mut client, None, 1).await.unwrap();
    s.send(init(manifest("PassThrough", "{}"))).await;
    assert!(matches!(s.next().await.unwrap(), Some(Out::Ready(_))));
    // 100 ms chunks at 48 kHz: 19.2 kB each, 2,000 of them would be 38 MB.
    const CHUNKS: u64 = 2_000;
    let samples = ramp(4_800);
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let tx = s.tx.clone();
    let counter = std::sync::Arc::clone(&sent);
    let producer = tokio::spawn(async move {
        for seq in 0..CHUNKS {
            if tx.send(chunk(f32_buffer(&samples, 48_000), seq)).await.is_err() {
                return;
            }
            counter.store(seq + 1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    // Wait until the producer stops making progress: the server stopped
    // reading, so HTTP/2 flow control stopped the client.
    let mut last = u64::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = sent.load(std::sync::atomic::Ordering::Relaxed);
        if now == last {
            break;
        }
        last = now;
    }
    assert!(
        last < CHUNKS,
        "all {CHUNKS} chunks went in although nobody read a result"
    );
    // Reading again lets everything through, in order, nothing lost.
    for seq in 0..CHUNKS {
        match s.next().await.unwrap() {
            Some(Out::Result(r)) => assert_eq!(r.sequence, seq),
            other => panic!("chunk {seq}: {other:?}"),
        }
    }
    producer.await.unwrap();
    s.send(control(Command::Close)).await;
    let mut tail = Vec::new();
    while let Some(m) = s.next().await.unwrap() {
        tail.push(m);
    }
    assert!(
        matches!(tail.last(), Some(Out::Closed(c)) if c.reason == "closed by client"),
        "{tail:?}"
    );
}

#[tokio::test]
async fn a_restricted_server_runs_only_its_pipelines() {
    let dir = std::env::temp_dir().join(format!("remotemedia-pipelines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("double.json"),
        r#"{"version": "v1", "metadata": {"name": "double"},
            "nodes": [{"id": "n", "node_type": "MultiplyNode", "params": {"factor": 2}}]}"#,
    )
    .unwrap();
    let server = TestServer::start(ServerConfig {
        pipelines: Some(dir.clone()),
        ..ServerConfig::default()
    })
    .await;
    let mut client = server.streaming().await;
    let mut by_name = manifest("x", "{}");
    by_name.nodes.clear();
    by_name.metadata.as_mut().unwrap().name = "double".into();
    let mut s = Stream::open(&mut client, None, 4).await.unwrap();
    s.send(init(by_name)).await;
    assert!(matches!(s.next().await.unwrap(), Some(Out::Ready(_))));
    s.send(chunk(f32_buffer(&[0.25], 16_000), 0)).await;
    let Some(Out::Result(r)) = s.next().await.unwrap() else {
        panic!()
    };
    assert_eq!(r.audio_outputs["n"].samples, 0.5f32.to_le_bytes());
    let mut verbatim = manifest("MultiplyNode", r#"{"factor": 2}"#);
    verbatim.metadata.as_mut().unwrap().name = "double".into();
    let mut s = Stream::open(&mut client, None, 4).await.unwrap();
    s.send(init(verbatim)).await;
    assert!(matches!(s.next().await.unwrap(), Some(Out::Ready(_))));
    for m in [
        manifest("MultiplyNode", r#"{"factor": 3}"#),
        manifest("FaultInjectionNode", "{}"),
    ] {
        let mut m = m;
        m.metadata.as_mut().unwrap().name = "double".into();
        let mut s = Stream::open(&mut client, None, 4).await.unwrap();
        s.send(init(m)).await;
        let (_, message, code) = first_error(&mut s).await;
        assert_eq!(code, Code::PermissionDenied, "{message}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn shutdown_drains_then_closes_open_streams_with_a_reason() {
    let mut server = TestServer::start(ServerConfig {
        drain_timeout: Duration::from_millis(300),
        limits: Limits::default(),
        ..ServerConfig::default()
    })
    .await;
    let mut client = server.streaming().await;
    let mut s = Stream::open(&mut client, None, 4).await.unwrap();
    s.send(init(manifest("PassThrough", "{}"))).await;
    assert!(matches!(s.next().await.unwrap(), Some(Out::Ready(_))));
    server.shutdown();
    // The open stream still works during the drain...
    s.send(chunk(f32_buffer(&[0.1], 16_000), 0)).await;
    assert!(matches!(s.next().await.unwrap(), Some(Out::Result(r)) if r.sequence == 0));
    // ...then is closed with the reason.
    assert!(
        matches!(s.next().await.unwrap(), Some(Out::Closed(c)) if c.reason.contains("shutting down")),
        "expected closed"
    );
    tokio::time::timeout(Duration::from_secs(30), &mut server.task)
        .await
        .expect("the server stops after the drain")
        .unwrap();
}
