//! Caller-provided node instances (`Engine::compile_with`) and the clip run
//! mode, on the real engine: one compiled pipeline serves batch runs and
//! sessions, with one circuit breaker per node.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use remotemedia_core::{
    AudioData, Engine, EngineError, GraphRun, Manifest, Node, NodeError, Overrides, RunContext, RunMode, RunOptions,
    Runtime, RuntimeData, Samples, SessionConfig, SinkOutput,
};
use serde_json::{Value, json};

fn manifest(v: Value) -> Manifest {
    Manifest::from_value(v).unwrap()
}

/// Multiplies numbers by its factor.
struct Times(f64);

impl Node for Times {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let RuntimeData::Json(v) = input else {
            return Err(NodeError::fatal("Times takes numbers"));
        };
        let x = v
            .as_f64()
            .ok_or_else(|| NodeError::fatal(format!("not a number: {v}")))?;
        out.push(RuntimeData::Json(json!(x * self.0)));
        Ok(())
    }
}

fn numbers(outputs: &[SinkOutput]) -> Vec<f64> {
    outputs
        .iter()
        .map(|o| match &o.data {
            RuntimeData::Json(v) => v.as_f64().unwrap(),
            other => panic!("not a number: {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn a_closure_built_node_replaces_a_manifest_node_and_keeps_its_type_in_the_metrics() {
    let m = manifest(json!({"version": "v1", "nodes": [
        {"id": "double", "node_type": "MultiplyNode", "params": {"factor": 2}},
        {"id": "plus", "node_type": "AddNode", "params": {"addend": 1}}
    ], "connections": [{"from": "double", "to": "plus"}]}));
    let built = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&built);
    let overrides = Overrides::new().node("double", Runtime::Python, move |_| {
        count.fetch_add(1, Ordering::Relaxed);
        Ok(Box::new(Times(3.0)))
    });
    let engine = Engine::default();
    let p = engine.compile_with(m.clone(), &overrides).unwrap();
    assert_eq!((p.runtime(0), p.runtime(1)), (Runtime::Python, Runtime::Native));
    assert_eq!(p.spec(0).node_type, "MultiplyNode", "the manifest is not rewritten");
    let mut run = GraphRun::new(Arc::clone(&p)).unwrap();
    let mut out = Vec::new();
    for x in [1.0, 2.0] {
        run.push(RuntimeData::Json(json!(x)), &mut out).await.unwrap();
    }
    run.flush(&mut out).await.unwrap();
    assert_eq!(numbers(&out), [4.0, 7.0], "3x + 1, not the manifest's 2x + 1");
    let metrics = run.metrics();
    let types: Vec<(&str, &str, &str, u64)> = metrics
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), n.node_type.as_str(), n.runtime.as_str(), n.calls))
        .collect();
    assert_eq!(
        types,
        [("double", "MultiplyNode", "python", 3), ("plus", "AddNode", "rust", 3)],
        "two inputs and the flush"
    );
    assert_eq!(built.load(Ordering::Relaxed), 1, "one instance per run");
    let plain = engine.compile(m).unwrap();
    let out = engine.run_batch(&plain, [RuntimeData::Json(json!(1.0))]).await.unwrap();
    assert_eq!(numbers(&out), [3.0], "the registry's own node elsewhere");
}

#[test]
fn overrides_skip_the_registry_checks_of_their_node_only() {
    let engine = Engine::default();
    let overrides = || Overrides::new().node("mine", Runtime::Native, |_| Ok(Box::new(Times(1.0))));
    let unregistered = json!({"version": "v1", "nodes": [
        {"id": "mine", "node_type": "MyOwnNode", "params": {"anything": [1, 2]}}]});
    engine
        .compile_with(manifest(unregistered.clone()), &overrides())
        .unwrap();
    let err = engine.compile(manifest(unregistered)).unwrap_err().to_string();
    assert!(err.contains("unknown node type") && err.contains("MyOwnNode"), "{err}");
    let other_bad = json!({"version": "v1", "nodes": [
        {"id": "mine", "node_type": "MyOwnNode"},
        {"id": "theirs", "node_type": "MultiplyNode", "params": {"factor": "two"}}
    ], "connections": [{"from": "mine", "to": "theirs"}]});
    let err = engine
        .compile_with(manifest(other_bad), &overrides())
        .unwrap_err()
        .to_string();
    assert!(err.contains("nodes[1].params.factor"), "{err}");
    let stray = Overrides::new().node("ghost", Runtime::Native, |_| Ok(Box::new(Times(1.0))));
    let err = engine
        .compile_with(
            manifest(json!({"version": "v1", "nodes": [{"id": "a", "node_type": "PassThroughNode"}]})),
            &stray,
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"ghost\"") && err.contains("does not have"), "{err}");
}

#[tokio::test]
async fn a_factory_error_names_the_node() {
    let m = manifest(json!({"version": "v1", "nodes": [{"id": "mine", "node_type": "MyOwnNode"}]}));
    let overrides = Overrides::new().node("mine", Runtime::Native, |_| Err("no model file at /nowhere".into()));
    let p = Engine::default().compile_with(m, &overrides).unwrap();
    let err = GraphRun::new(p).err().unwrap().to_string();
    assert!(
        err.contains("nodes[0]") && err.contains("mine") && err.contains("/nowhere"),
        "{err}"
    );
}

/// Fails every call (fatally), counting the calls.
struct Broken(Arc<AtomicUsize>);

impl Node for Broken {
    fn process(&mut self, _input: RuntimeData, _out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Err(NodeError::fatal("the device is gone"))
    }
}

#[tokio::test]
async fn a_failure_in_a_clip_run_opens_the_breaker_a_session_then_sees() {
    let m = manifest(json!({"version": "v1", "nodes": [
        {"id": "dev", "node_type": "Device", "circuit_breaker": {"failure_threshold": 1, "cooldown_ms": 600000}}]}));
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let overrides = Overrides::new().node("dev", Runtime::Native, move |_| {
        Ok(Box::new(Broken(Arc::clone(&counter))))
    });
    let engine = Engine::default();
    let p = engine.compile_with(m, &overrides).unwrap();
    let clips = RunContext::default().in_mode(RunMode::Clips);
    let mut batch = GraphRun::with_context(Arc::clone(&p), RunOptions::default(), clips).unwrap();
    let err = batch
        .push(RuntimeData::Json(json!(1)), &mut Vec::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("the device is gone"), "{err}");
    assert!(p.breaker_open(0));
    assert_eq!(calls.load(Ordering::Relaxed), 1);
    let mut session = engine.open_session(&p, SessionConfig::default()).unwrap();
    session.send(RuntimeData::Json(json!(2))).await.unwrap();
    let seen = session.recv().await.unwrap().unwrap_err();
    assert!(
        matches!(&seen, EngineError::CircuitOpen { node_id } if node_id == "dev"),
        "{seen:?}"
    );
    assert_eq!(calls.load(Ordering::Relaxed), 1, "the session never called the node");
}

/// Emits its input audio split in two on `process` and a tail on `flush`,
/// numbering the calls since its last reset (a stand-in for a resampler).
#[derive(Default)]
struct Splitter {
    calls: usize,
}

impl Node for Splitter {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let audio = input.audio().ok_or_else(|| NodeError::fatal("audio only"))?;
        let Samples::F32(s) = audio.samples() else {
            return Err(NodeError::fatal("f32 only"));
        };
        self.calls += 1;
        let half = s.len() / 2;
        for part in [&s[..half], &s[half..]] {
            out.push(RuntimeData::Audio(AudioData::mono_f32(part.to_vec(), 8000).unwrap()));
        }
        Ok(())
    }

    fn flush(&mut self, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        out.push(RuntimeData::Audio(
            AudioData::mono_f32(vec![self.calls as f32], 8000).unwrap(),
        ));
        Ok(())
    }

    fn reset(&mut self) {
        self.calls = 0;
    }
}

/// Counts its calls since it was built (it is never reset in a clip run),
/// emitting the count.
#[derive(Default)]
struct Calls(usize);

impl Node for Calls {
    fn process(&mut self, _input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.0 += 1;
        out.push(RuntimeData::Json(json!(self.0)));
        Ok(())
    }
}

#[tokio::test]
async fn clip_mode_runs_each_native_node_once_per_clip_and_joins_its_pieces() {
    let m = manifest(json!({"version": "v1", "nodes": [
        {"id": "split", "node_type": "Splitter"},
        {"id": "count", "node_type": "Counter"}
    ], "connections": [{"from": "split", "to": "count"}]}));
    let overrides = Overrides::new()
        .node("split", Runtime::Native, |_| Ok(Box::<Splitter>::default()))
        .node("count", Runtime::Python, |_| Ok(Box::<Calls>::default()));
    let engine = Engine::default();
    let p = engine.compile_with(m, &overrides).unwrap();
    let clip = |n: usize| RuntimeData::Audio(AudioData::mono_f32((0..n).map(|i| i as f32).collect(), 8000).unwrap());
    let clips = RunContext::default().in_mode(RunMode::Clips);
    let mut run = GraphRun::with_context(Arc::clone(&p), RunOptions::default(), clips).unwrap();
    let mut counts = Vec::new();
    for n in [4, 6] {
        let mut out = Vec::new();
        run.push(clip(n), &mut out).await.unwrap();
        run.flush(&mut out).await.unwrap();
        run.reset();
        counts.push(numbers(&out));
    }
    // One joined value per clip reaches the non-native node, which is
    // called once per clip (and keeps its state: it is not a clip node).
    assert_eq!(counts, [vec![1.0], vec![2.0]]);
    let mut stream = GraphRun::new(Arc::clone(&p)).unwrap();
    let mut out = Vec::new();
    stream.push(clip(4), &mut out).await.unwrap();
    stream.flush(&mut out).await.unwrap();
    assert_eq!(numbers(&out), [1.0, 2.0, 3.0], "streamed: every piece travels on");
}

#[tokio::test]
async fn clip_mode_joins_the_pieces_of_a_sink_into_one_audio_value() {
    let m = manifest(json!({"version": "v1", "nodes": [{"id": "split", "node_type": "Splitter"}]}));
    let overrides = Overrides::new().node("split", Runtime::Native, |_| Ok(Box::<Splitter>::default()));
    let p = Engine::default().compile_with(m, &overrides).unwrap();
    let clips = RunContext::default().in_mode(RunMode::Clips);
    let mut run = GraphRun::with_context(p, RunOptions::default(), clips).unwrap();
    let mut out = Vec::new();
    let input = AudioData::mono_f32(vec![0.5, 0.25, -0.5], 8000).unwrap();
    run.push(RuntimeData::Audio(input), &mut out).await.unwrap();
    let [SinkOutput { data, .. }] = out.as_slice() else {
        panic!("{out:?}")
    };
    let audio = data.audio().unwrap();
    // The two halves and the flushed tail (one call since the reset).
    assert_eq!(audio.samples(), &Samples::from(vec![0.5f32, 0.25, -0.5, 1.0]));
}
