//! `remotemedia serve` as a process: logs its bound address, accepts
//! connections, refuses a bad `--pipelines` directory, and drains on SIGTERM.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Command, Stdio};

#[cfg(unix)]
#[test]
fn serves_on_an_ephemeral_port_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_remotemedia"))
        .args(["serve", "--bind", "127.0.0.1:0", "--auth-token", "t"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut addr = None;
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        if let Some(a) = line.trim().strip_prefix("listening on ") {
            addr = Some(a.to_owned());
            break;
        }
        line.clear();
    }
    let addr = addr.expect("a 'listening on' line");
    TcpStream::connect(&addr).expect("accepts connections");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "exit after SIGTERM; stderr:\n{rest}");
    assert!(rest.contains("draining") && rest.contains("stopped"), "{rest}");
}

#[test]
fn a_missing_pipelines_directory_is_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_remotemedia"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--pipelines",
            "/nonexistent/pipelines",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/pipelines"), "{err}");
}

/// `GET path` over HTTP/1.0; the whole response.
fn get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// The value of one series in a Prometheus text.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// `serve --metrics-bind`: a real scrape over HTTP while a client (a local
/// session whose `RemotePipelineNode` holds a stream to the server) has a
/// stream open, and again once it has closed.
#[cfg(unix)]
#[test]
fn serve_exposes_the_metrics_of_open_streams() {
    use remotemedia_core::{AudioData, Engine, Manifest, Registry, RuntimeData, SessionConfig};
    use serde_json::json;

    let mut child = Command::new(env!("CARGO_BIN_EXE_remotemedia"))
        .args(["serve", "--bind", "127.0.0.1:0", "--metrics-bind", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let (mut grpc, mut metrics) = (None, None);
    let mut line = String::new();
    while grpc.is_none() && stderr.read_line(&mut line).unwrap() > 0 {
        let l = line.trim();
        if let Some(url) = l.strip_prefix("metrics: http://") {
            metrics = Some(url.trim_end_matches("/metrics").to_owned());
        }
        if let Some(a) = l.strip_prefix("listening on ") {
            grpc = Some(a.to_owned());
        }
        line.clear();
    }
    let (grpc, metrics) = (
        grpc.expect("a 'listening on' line"),
        metrics.expect("a 'metrics:' line"),
    );

    let mut registry = Registry::with_builtins();
    remotemedia_remote::register(&mut registry);
    let engine = Engine::new(registry);
    let pipeline = engine
        .compile(
            Manifest::from_value(json!({"version": "v1", "nodes": [{
                "id": "remote", "node_type": "RemotePipelineNode", "params": {
                    "endpoints": [grpc],
                    "manifest": {"version": "v1", "metadata": {"name": "served"},
                                 "nodes": [{"id": "pass", "node_type": "PassThroughNode"}]}}}]}))
            .unwrap(),
        )
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let chunk = RuntimeData::Audio(AudioData::mono_f32(vec![0.25; 320], 16_000).unwrap());
    let mut session = rt.block_on(async {
        let mut session = engine.open_session(&pipeline, SessionConfig::default()).unwrap();
        for _ in 0..3 {
            session.send(chunk.clone()).await.unwrap();
            session.recv().await.unwrap().unwrap();
        }
        session
    });

    // The stream is open and idle between chunks: it answers the scrape.
    let text = get(&metrics, "/metrics");
    assert!(
        text.starts_with("HTTP/1.0 200") || text.starts_with("HTTP/1.1 200"),
        "{text}"
    );
    assert!(text.contains("application/openmetrics-text"), "{text}");
    let node = |name: &str| format!("{name}{{pipeline=\"served\",node=\"pass\"}}");
    assert_eq!(value(&text, "remotemedia_sessions_open"), Some(1.0), "{text}");
    assert_eq!(value(&text, "remotemedia_chunks_in_total"), Some(3.0), "{text}");
    assert_eq!(value(&text, "remotemedia_chunks_out_total"), Some(3.0), "{text}");
    assert_eq!(value(&text, "remotemedia_chunks_dropped_total"), Some(0.0), "{text}");
    assert_eq!(value(&text, &node("remotemedia_node_calls_total")), Some(3.0), "{text}");
    assert_eq!(
        value(&text, &node("remotemedia_node_call_duration_seconds_count")),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "remotemedia_node_errors_total{pipeline=\"served\",node=\"pass\",class=\"transient\"}"
        ),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        value(&text, &node("remotemedia_node_breaker_state")),
        Some(0.0),
        "{text}"
    );

    // Closed: the stream leaves the open count, its counters stay (with the
    // flush's call). The server ends the stream after the client's close,
    // so wait for it (bounded).
    rt.block_on(session.finish()).unwrap();
    let mut text = String::new();
    for _ in 0..100 {
        text = get(&metrics, "/metrics");
        if value(&text, "remotemedia_sessions_open") == Some(0.0) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(value(&text, "remotemedia_sessions_open"), Some(0.0), "{text}");
    assert_eq!(value(&text, "remotemedia_chunks_in_total"), Some(3.0), "{text}");
    assert_eq!(value(&text, &node("remotemedia_node_calls_total")), Some(4.0), "{text}");
    assert_eq!(value(&text, &node("remotemedia_node_breaker_state")), None, "{text}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
}
