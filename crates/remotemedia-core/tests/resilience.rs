//! Retries, timeouts, the circuit breaker, panics and metrics, on the real
//! executor. Timing tests run on tokio's paused clock, so they are exact
//! and instant.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use remotemedia_core::metrics::alloc::TrackingAllocator;
use remotemedia_core::params::NoParams;
use remotemedia_core::{
    Engine, EngineError, ErrorClass, GraphRun, Manifest, Node, NodeError, NodeType, Pipeline, Registry, RunError,
    RunOptions, RuntimeData, SessionConfig,
};
use serde_json::{Value, json};
use tokio::time::Instant;

#[global_allocator]
static ALLOC: TrackingAllocator = TrackingAllocator;

/// A node that fails according to a script and logs when it was called.
struct Scripted {
    log: Arc<Mutex<Vec<Instant>>>,
    script: Arc<dyn Fn(u32) -> Result<(), NodeError> + Send + Sync>,
    calls: Arc<AtomicU32>,
}

impl Node for Scripted {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.log.lock().unwrap().push(Instant::now());
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        (self.script)(n)?;
        out.push(input);
        Ok(())
    }
}

struct Harness {
    engine: Engine,
    log: Arc<Mutex<Vec<Instant>>>,
    calls: Arc<AtomicU32>,
}

/// An engine with a `Scripted` node type whose call `n` (from 1) fails as
/// `script(n)` says.
fn harness(script: impl Fn(u32) -> Result<(), NodeError> + Send + Sync + 'static) -> Harness {
    let log = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(AtomicU32::new(0));
    let script: Arc<dyn Fn(u32) -> Result<(), NodeError> + Send + Sync> = Arc::new(script);
    let (l, c) = (Arc::clone(&log), Arc::clone(&calls));
    let mut registry = Registry::with_builtins();
    registry.register(
        NodeType::new::<NoParams>("Scripted", "test node").native(move |_: NoParams| {
            Ok(Box::new(Scripted {
                log: Arc::clone(&l),
                script: Arc::clone(&script),
                calls: Arc::clone(&c),
            }))
        }),
    );
    Harness {
        engine: Engine::new(registry),
        log,
        calls,
    }
}

impl Harness {
    fn compile(&self, node: Value) -> Arc<Pipeline> {
        let mut node = node;
        node["id"] = json!("flaky");
        node["node_type"] = json!("Scripted");
        self.engine
            .compile(Manifest::from_value(json!({"version": "v1", "nodes": [node]})).unwrap())
            .unwrap()
    }

    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }

    fn gaps_ms(&self) -> Vec<u128> {
        let log = self.log.lock().unwrap();
        log.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect()
    }
}

fn numbers(n: usize) -> Vec<RuntimeData> {
    (0..n).map(|i| RuntimeData::Json(json!(i))).collect()
}

fn node_error(e: RunError) -> EngineError {
    match e {
        RunError::Engine(e) => e,
        other => panic!("expected an engine error, got {other}"),
    }
}

#[tokio::test(start_paused = true)]
async fn transient_errors_are_retried_at_100_200_400_ms() {
    let h = harness(|_| Err(NodeError::transient("service unavailable")));
    let p = h.compile(json!({}));
    let err = node_error(h.engine.run_batch(&p, numbers(1)).await.unwrap_err());
    assert_eq!(h.gaps_ms(), [100, 200, 400]);
    let EngineError::Node { error, attempts, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(*attempts, 4);
    assert_eq!(error.class(), ErrorClass::Transient);
    assert_eq!(
        err.to_string(),
        "node \"flaky\" failed (transient, 4 attempts): service unavailable"
    );
}

#[tokio::test(start_paused = true)]
async fn a_retry_that_succeeds_is_invisible_downstream() {
    let h = harness(|n| {
        if n <= 2 {
            Err(NodeError::transient("busy"))
        } else {
            Ok(())
        }
    });
    let p = h.compile(json!({"retry": {"max_retries": 5, "initial_delay_ms": 10, "multiplier": 3.0}}));
    let mut run = GraphRun::new(Arc::clone(&p)).unwrap();
    let mut out = Vec::new();
    run.push(RuntimeData::Json(json!(7)), &mut out).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].data, RuntimeData::Json(json!(7)));
    assert_eq!(h.gaps_ms(), [10, 30]);
    let m = &run.metrics().nodes[0];
    assert_eq!((m.calls, m.errors, m.retries), (3, 2, 2));
}

#[tokio::test(start_paused = true)]
async fn fatal_errors_are_not_retried() {
    let h = harness(|_| Err(NodeError::fatal("bad input")));
    let p = h.compile(json!({}));
    let err = node_error(h.engine.run_batch(&p, numbers(1)).await.unwrap_err());
    assert_eq!(h.calls(), 1);
    assert!(matches!(err, EngineError::Node { attempts: 1, .. }), "{err}");
}

/// A node's own error type, naming the call that failed.
#[derive(Debug)]
struct CallFailed(u32);

impl std::fmt::Display for CallFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "call {} failed", self.0)
    }
}

impl std::error::Error for CallFailed {}

#[tokio::test(start_paused = true)]
async fn the_source_of_the_last_attempt_travels_with_the_error() {
    let h = harness(|n| Err(NodeError::transient("busy").with_source(CallFailed(n))));
    let p = h.compile(json!({"retry": {"max_retries": 2, "initial_delay_ms": 1, "multiplier": 1.0}}));
    let err = node_error(h.engine.run_batch(&p, numbers(1)).await.unwrap_err());
    let EngineError::Node { error, attempts, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(*attempts, 3);
    let source = std::error::Error::source(error).and_then(|s| s.downcast_ref::<CallFailed>());
    assert_eq!(source.map(|s| s.0), Some(3));
    assert_eq!(error, &error.clone());
    assert_ne!(error, &NodeError::transient("busy"));
    assert_ne!(error, &NodeError::transient("busy").with_source(CallFailed(3)));
}

#[tokio::test(start_paused = true)]
async fn breaker_opens_after_five_failures_under_fail() {
    let h = harness(|_| Err(NodeError::transient("down")));
    let p = h.compile(json!({"retry": {"max_retries": 0}}));
    for _ in 0..5 {
        let err = node_error(h.engine.run_batch(&p, numbers(1)).await.unwrap_err());
        assert!(matches!(err, EngineError::Node { .. }), "{err}");
    }
    assert_eq!(h.calls(), 5);
    assert!(p.breaker_open(0));
    for _ in 0..3 {
        let err = node_error(h.engine.run_batch(&p, numbers(1)).await.unwrap_err());
        assert_eq!(
            err,
            EngineError::CircuitOpen {
                node_id: "flaky".into()
            }
        );
    }
    assert_eq!(h.calls(), 5, "an open breaker must not call the node");
}

#[tokio::test(start_paused = true)]
async fn breaker_under_skip_drops_inputs_and_stops_calling() {
    let h = harness(|_| Err(NodeError::transient("down")));
    let p = h.compile(json!({"retry": {"max_retries": 0}, "on_failure": "skip"}));
    let mut run = GraphRun::new(Arc::clone(&p)).unwrap();
    let mut out = Vec::new();
    for input in numbers(8) {
        run.push(input, &mut out).await.unwrap();
    }
    run.flush(&mut out).await.unwrap();
    assert!(out.is_empty());
    assert_eq!(h.calls(), 5);
    let m = &run.metrics().nodes[0];
    assert_eq!(serde_json::to_value(m.status).unwrap(), json!("failed"));
    assert_eq!((m.calls, m.errors, m.skipped), (5, 5, 8));
}

#[tokio::test(start_paused = true)]
async fn breaker_under_passthrough_hands_inputs_on() {
    let h = harness(|_| Err(NodeError::transient("down")));
    let p = h.compile(json!({"retry": {"max_retries": 0}, "on_failure": "passthrough"}));
    let out = h.engine.run_batch(&p, numbers(8)).await.unwrap();
    let values: Vec<RuntimeData> = out.into_iter().map(|o| o.data).collect();
    assert_eq!(values, numbers(8));
    assert_eq!(h.calls(), 5);
}

#[tokio::test(start_paused = true)]
async fn breaker_closes_after_the_cooldown() {
    let h = harness(|n| {
        if n <= 5 {
            Err(NodeError::transient("down"))
        } else {
            Ok(())
        }
    });
    let p = h.compile(json!({"retry": {"max_retries": 0}, "on_failure": "skip",
                             "circuit_breaker": {"failure_threshold": 5, "cooldown_ms": 1000}}));
    let mut run = GraphRun::new(Arc::clone(&p)).unwrap();
    let mut out = Vec::new();
    for input in numbers(7) {
        run.push(input, &mut out).await.unwrap();
    }
    assert_eq!((h.calls(), out.len()), (5, 0));
    tokio::time::advance(Duration::from_millis(999)).await;
    run.push(RuntimeData::Json(json!("early")), &mut out).await.unwrap();
    assert_eq!(h.calls(), 5, "still cooling down");
    tokio::time::advance(Duration::from_millis(1)).await;
    run.push(RuntimeData::Json(json!("trial")), &mut out).await.unwrap();
    assert_eq!(h.calls(), 6);
    assert!(!p.breaker_open(0));
    run.push(RuntimeData::Json(json!("after")), &mut out).await.unwrap();
    let values: Vec<RuntimeData> = out.into_iter().map(|o| o.data).collect();
    assert_eq!(
        values,
        [RuntimeData::Json(json!("trial")), RuntimeData::Json(json!("after"))]
    );
}

#[tokio::test(start_paused = true)]
async fn a_success_resets_the_failure_count() {
    // Fails 4 times, succeeds, fails 4 times: never 5 in a row.
    let h = harness(|n| {
        if n == 5 {
            Ok(())
        } else {
            Err(NodeError::transient("flaky"))
        }
    });
    let p = h.compile(json!({"retry": {"max_retries": 0}, "on_failure": "skip"}));
    let out = h.engine.run_batch(&p, numbers(9)).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(h.calls(), 9);
    assert!(!p.breaker_open(0));
}

fn fault_pipeline(engine: &Engine, fault: Value, extra: Value) -> Arc<Pipeline> {
    let mut node = json!({"id": "fault", "node_type": "FaultInjectionNode", "params": fault});
    node.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    engine
        .compile(
            Manifest::from_value(json!({"version": "v1", "metadata": {"name": "faults"}, "nodes": [node]})).unwrap(),
        )
        .unwrap()
}

#[tokio::test]
async fn a_timeout_cuts_a_slow_call_off() {
    let engine = Engine::default();
    let p = fault_pipeline(
        &engine,
        json!({"sleep_ms": 300}),
        json!({"timeout_ms": 20, "retry": {"max_retries": 0}}),
    );
    let started = std::time::Instant::now();
    let err = node_error(engine.run_batch(&p, numbers(1)).await.unwrap_err());
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "waited for the slow call: {:?}",
        started.elapsed()
    );
    let EngineError::Node { error, .. } = &err else {
        panic!("{err}")
    };
    assert!(error.is_transient());
    assert_eq!(error.message(), "timed out after 20 ms");
}

#[tokio::test]
async fn a_call_within_its_timeout_succeeds() {
    let engine = Engine::default();
    let p = fault_pipeline(&engine, json!({"sleep_ms": 1}), json!({"timeout_ms": 5000}));
    let out = engine.run_batch(&p, numbers(3)).await.unwrap();
    assert_eq!(out.len(), 3);
}

#[tokio::test]
async fn a_panicking_node_fails_alone_and_the_engine_lives_on() {
    let engine = Engine::default();
    let p = fault_pipeline(&engine, json!({"panic_times": 1}), json!({}));
    let err = node_error(engine.run_batch(&p, numbers(2)).await.unwrap_err());
    let EngineError::Node { error, attempts, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!((error.class(), *attempts), (ErrorClass::Fatal, 1));
    assert_eq!(error.message(), "node panicked: injected panic on call 1");
    // The same engine and pipeline keep working; a session whose node panics
    // once under `skip` is rebuilt and goes on.
    let p = fault_pipeline(&engine, json!({"panic_times": 1}), json!({"on_failure": "skip"}));
    let mut session = engine.open_session(&p, SessionConfig::default()).unwrap();
    for input in numbers(3) {
        session.send(input).await.unwrap();
    }
    session.close();
    let mut got = Vec::new();
    while let Some(o) = session.recv().await {
        got.push(o.unwrap().data);
    }
    assert_eq!(got, numbers(3)[1..]);
    let other = fault_pipeline(&engine, json!({}), json!({}));
    assert_eq!(engine.run_batch(&other, numbers(2)).await.unwrap().len(), 2);
}

#[tokio::test]
async fn peak_memory_of_an_allocating_node_is_measured() {
    let engine = Engine::default();
    let ten_mb = 10 * 1024 * 1024;
    let m = Manifest::from_value(json!({"version": "v1", "nodes": [
        {"id": "hog", "node_type": "FaultInjectionNode", "params": {"allocate_bytes": ten_mb}},
        {"id": "lean", "node_type": "PassThroughNode"}],
        "connections": [{"from": "hog", "to": "lean"}]}))
    .unwrap();
    let p = engine.compile(m).unwrap();
    let mut run = GraphRun::new(p).unwrap();
    let mut out = Vec::new();
    for input in numbers(3) {
        run.push(input, &mut out).await.unwrap();
    }
    let metrics = run.metrics();
    assert!(metrics.pipeline.memory_tracking);
    let hog = metrics.nodes[0].peak_memory_bytes as f64;
    assert!((hog - ten_mb as f64).abs() / (ten_mb as f64) < 0.10, "hog peak {hog}");
    assert!(
        metrics.nodes[1].peak_memory_bytes < 64 * 1024,
        "lean peak {}",
        metrics.nodes[1].peak_memory_bytes
    );
    assert!(metrics.pipeline.peak_memory_bytes >= ten_mb);
}

#[tokio::test]
async fn metrics_json_has_the_documented_shape() {
    let engine = Engine::default();
    let p = fault_pipeline(&engine, json!({}), json!({}));
    let mut run = GraphRun::with_options(
        p,
        RunOptions {
            metrics: true,
            trace: true,
        },
    )
    .unwrap();
    let mut out = Vec::new();
    for input in numbers(4) {
        run.push(input, &mut out).await.unwrap();
    }
    run.flush(&mut out).await.unwrap();
    let v: Value = serde_json::from_str(&run.metrics().to_json()).unwrap();
    let pipeline = v["pipeline"].as_object().unwrap();
    let mut keys: Vec<&str> = pipeline.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "discarded_outputs",
            "dropped_inputs",
            "inputs",
            "memory_tracking",
            "name",
            "peak_memory_bytes",
            "wall_time_us"
        ]
    );
    assert_eq!(v["pipeline"]["name"], "faults");
    assert_eq!(v["pipeline"]["inputs"], 4);
    let node = &v["nodes"][0];
    let mut keys: Vec<&str> = node.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "calls",
            "errors",
            "id",
            "node_type",
            "peak_memory_bytes",
            "retries",
            "runtime",
            "skipped",
            "status",
            "time_us"
        ]
    );
    assert_eq!(node["calls"], 5, "4 inputs and a flush");
    assert_eq!(node["status"], "ok");
    assert_eq!(node["runtime"], "rust");
    let t = &node["time_us"];
    for k in ["total", "min", "max", "mean", "p50", "p99"] {
        assert!(t[k].as_f64().unwrap() >= 0.0, "{k}");
    }
    assert!(t["min"].as_f64() <= t["p50"].as_f64() && t["p50"].as_f64() <= t["max"].as_f64());
    let trace: Value = serde_json::from_str(&run.trace_json()).unwrap();
    let calls: Vec<&Value> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X")
        .collect();
    assert_eq!(calls.len(), 5);
    assert_eq!(calls[0]["name"], "fault");
}

#[tokio::test]
async fn session_metrics_are_available_after_close() {
    let engine = Engine::default();
    let p = fault_pipeline(&engine, json!({}), json!({}));
    let mut session = engine.open_session(&p, SessionConfig::default()).unwrap();
    session.send(RuntimeData::Json(json!(1))).await.unwrap();
    session.close();
    while session.recv().await.is_some() {}
    let m = session.metrics().expect("metrics after the end");
    assert_eq!(m.nodes[0].calls, 2);
}

/// Calls abandoned at their timeout hold neither the run nor the runtime:
/// 520 calls that each sleep 30 s (more than tokio's blocking pool of 512
/// threads would run at once) are all cut off at 2 ms, and dropping the
/// runtime afterwards does not wait for them. The bound (15 s) is half the
/// sleep, so it is not a timing that can flake: before, the run waited a
/// full 30 s for a pool thread and the runtime's drop another 30 s.
#[test]
fn abandoned_calls_hold_neither_the_run_nor_the_runtime() {
    let engine = Engine::default();
    let p = fault_pipeline(
        &engine,
        json!({"sleep_ms": 30_000}),
        json!({"timeout_ms": 2, "retry": {"max_retries": 0}, "on_failure": "skip",
               "circuit_breaker": {"failure_threshold": 1_000_000}}),
    );
    let started = std::time::Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = runtime.block_on(engine.run_batch(&p, numbers(520))).unwrap();
    assert!(out.is_empty());
    drop(runtime);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "520 abandoned calls took {:?}",
        started.elapsed()
    );
}

/// A writer whose bytes the test can read back.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_streamed_trace_is_written_as_calls_happen_with_or_without_metrics() {
    let engine = Engine::default();
    for metrics in [false, true] {
        let p = fault_pipeline(
            &engine,
            json!({"fail_times": 1}),
            json!({"on_failure": "skip", "retry": {"max_retries": 0}}),
        );
        let sink = Shared::default();
        let mut run = GraphRun::with_options(p, RunOptions { metrics, trace: false }).unwrap();
        run.trace_to(Box::new(sink.clone())).unwrap();
        let mut out = Vec::new();
        let mut written = Vec::new();
        for input in numbers(5) {
            run.push(input, &mut out).await.unwrap();
            written.push(sink.0.lock().unwrap().len());
        }
        run.flush(&mut out).await.unwrap();
        run.finish_trace().unwrap();
        // Every call reached the writer as it happened (a buffer's worth
        // may wait), not at the end.
        assert!(written.windows(2).all(|w| w[0] <= w[1]), "{written:?}");
        let doc: Value = serde_json::from_slice(&sink.0.lock().unwrap()).unwrap();
        let events = doc["traceEvents"].as_array().unwrap();
        let calls: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
        assert_eq!(calls.len(), 6, "metrics {metrics}: 5 calls and the flush: {doc}");
        assert_eq!(calls[0]["cat"], "error");
        assert!(calls[1..].iter().all(|c| c["cat"] == "node" && c["name"] == "fault"));
        assert_eq!(events[0]["args"]["name"], "fault");
        assert!(!run.keeps_trace());
    }
}

#[tokio::test]
async fn a_trace_writer_that_fails_is_reported_at_the_end() {
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let engine = Engine::default();
    let p = fault_pipeline(&engine, json!({}), json!({}));
    let mut run = GraphRun::with_options(
        p,
        RunOptions {
            metrics: false,
            trace: false,
        },
    )
    .unwrap();
    // The head fits the buffer; the error comes when it is flushed.
    run.trace_to(Box::new(Full)).unwrap();
    let mut out = Vec::new();
    for input in numbers(3) {
        run.push(input, &mut out).await.unwrap();
    }
    assert_eq!(out.len(), 3, "a failing trace does not stop the run");
    let err = run.finish_trace().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::StorageFull);
}
