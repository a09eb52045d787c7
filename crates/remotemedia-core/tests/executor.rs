//! The executor end to end: batch runs, streaming sessions, fan-out and
//! fan-in, flush, backpressure and concurrent sessions on one engine.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use remotemedia_core::params::NoParams;
use remotemedia_core::{
    AudioData, Engine, EngineError, GraphRun, Manifest, Node, NodeError, NodeType, Overrides, Pipeline, Registry,
    RunContext, RunError, RunOptions, Runtime, RuntimeData, Samples, SessionConfig, SinkOutput,
};
use serde_json::{Value, json};

/// Emits the running sum of the numbers it has seen, but only every second
/// input; `flush` emits the sum if an input is still unanswered. A stand-in
/// for a stateful node such as a resampler.
#[derive(Default)]
struct PairSum {
    sum: f64,
    held: bool,
}

impl Node for PairSum {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let RuntimeData::Json(v) = input else {
            return Err(NodeError::fatal("PairSum takes numbers"));
        };
        self.sum += v
            .as_f64()
            .ok_or_else(|| NodeError::fatal(format!("not a number: {v}")))?;
        if self.held {
            out.push(RuntimeData::Json(json!(self.sum)));
        }
        self.held = !self.held;
        Ok(())
    }

    fn flush(&mut self, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        if std::mem::take(&mut self.held) {
            out.push(RuntimeData::Json(json!(self.sum)));
        }
        Ok(())
    }

    fn reset(&mut self) {
        *self = Self::default();
    }
}

fn engine() -> Engine {
    let mut registry = Registry::with_builtins();
    registry.register(
        NodeType::new::<NoParams>("PairSum", "running sum, every second input")
            .native(|_: NoParams| Ok(Box::new(PairSum::default()))),
    );
    Engine::new(registry)
}

fn compile(engine: &Engine, v: Value) -> Arc<Pipeline> {
    engine.compile(Manifest::from_value(v).unwrap()).unwrap()
}

fn numbers(outputs: &[SinkOutput]) -> Vec<(String, Value)> {
    outputs
        .iter()
        .map(|o| match &o.data {
            RuntimeData::Json(v) => (o.node_id.to_string(), v.clone()),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

fn jsons(values: &[f64]) -> Vec<RuntimeData> {
    values.iter().map(|v| RuntimeData::Json(json!(v))).collect()
}

#[tokio::test]
async fn batch_runs_a_chain() {
    let e = engine();
    let p = compile(
        &e,
        json!({"version": "v1",
        "nodes": [{"id": "mul", "node_type": "MultiplyNode", "params": {"factor": 2}},
                  {"id": "add", "node_type": "AddNode", "params": {"addend": 10}}],
        "connections": [{"from": "mul", "to": "add"}]}),
    );
    let out = e
        .run_batch(&p, [RuntimeData::Json(json!([1, 2, 3])), RuntimeData::Json(json!(5))])
        .await
        .unwrap();
    assert_eq!(
        numbers(&out),
        [("add".into(), json!([12, 14, 16])), ("add".into(), json!(20))]
    );
}

#[tokio::test]
async fn fan_out_and_fan_in() {
    let e = engine();
    // src -> double -> join, src -> triple -> join; and src -> tap (a second sink).
    let p = compile(
        &e,
        json!({"version": "v1",
        "nodes": [{"id": "src", "node_type": "PassThroughNode"},
                  {"id": "double", "node_type": "MultiplyNode", "params": {"factor": 2}},
                  {"id": "triple", "node_type": "MultiplyNode", "params": {"factor": 3}},
                  {"id": "join", "node_type": "AddNode", "params": {"addend": 0}},
                  {"id": "tap", "node_type": "PassThroughNode"}],
        "connections": [{"from": "src", "to": "double"}, {"from": "src", "to": "triple"},
                        {"from": "double", "to": "join"}, {"from": "triple", "to": "join"},
                        {"from": "src", "to": "tap"}]}),
    );
    let out = e.run_batch(&p, jsons(&[1.0, 10.0])).await.unwrap();
    assert_eq!(
        numbers(&out),
        [
            ("join".into(), json!(2.0)),
            ("join".into(), json!(3.0)),
            ("tap".into(), json!(1.0)),
            ("join".into(), json!(20.0)),
            ("join".into(), json!(30.0)),
            ("tap".into(), json!(10.0)),
        ]
    );
}

#[tokio::test]
async fn fan_out_shares_sample_buffers() {
    let e = engine();
    let p = compile(
        &e,
        json!({"version": "v1",
        "nodes": [{"id": "src", "node_type": "PassThroughNode"},
                  {"id": "a", "node_type": "PassThroughNode"},
                  {"id": "b", "node_type": "PassThroughNode"}],
        "connections": [{"from": "src", "to": "a"}, {"from": "src", "to": "b"}]}),
    );
    let audio = AudioData::mono_f32(vec![0.25; 960], 48_000).unwrap();
    let out = e.run_batch(&p, [RuntimeData::Audio(audio.clone())]).await.unwrap();
    assert_eq!(out.len(), 2);
    for o in &out {
        let got = o.data.audio().unwrap();
        assert!(
            got.samples().ptr_eq(audio.samples()),
            "{} copied the samples",
            o.node_id
        );
        assert!(matches!(got.samples(), Samples::F32(_)));
    }
}

#[tokio::test]
async fn flush_releases_held_state_through_downstream_nodes() {
    let e = engine();
    let p = compile(
        &e,
        json!({"version": "v1",
        "nodes": [{"id": "sum", "node_type": "PairSum"}, {"id": "add", "node_type": "AddNode", "params": {"addend": 100}}],
        "connections": [{"from": "sum", "to": "add"}]}),
    );
    let out = e.run_batch(&p, jsons(&[1.0, 2.0, 3.0])).await.unwrap();
    assert_eq!(
        numbers(&out),
        [("add".into(), json!(103.0)), ("add".into(), json!(106.0))]
    );
}

#[tokio::test]
async fn streaming_equals_batch() {
    let e = engine();
    let p = compile(
        &e,
        json!({"version": "v1",
        "nodes": [{"id": "sum", "node_type": "PairSum"}, {"id": "x", "node_type": "MultiplyNode"},
                  {"id": "tap", "node_type": "PassThroughNode"}],
        "connections": [{"from": "sum", "to": "x"}, {"from": "sum", "to": "tap"}]}),
    );
    let inputs: Vec<f64> = (0..101).map(f64::from).collect();
    let batch = e.run_batch(&p, jsons(&inputs)).await.unwrap();

    let session = e.open_session(&p, SessionConfig::default()).unwrap();
    let (tx, mut rx) = session.split();
    let producer = tokio::spawn(async move {
        for v in jsons(&inputs) {
            tx.send(v).await.unwrap();
        }
    });
    let mut streamed = Vec::new();
    while let Some(o) = rx.recv().await {
        streamed.push(o.unwrap());
    }
    producer.await.unwrap();
    assert_eq!(streamed, batch);
    assert_eq!(streamed.len(), 102);
}

#[tokio::test]
async fn a_slow_consumer_stalls_the_producer() {
    let e = engine();
    let p = compile(
        &e,
        json!({"version": "v1", "nodes": [{"id": "n", "node_type": "PassThroughNode"}]}),
    );
    let config = SessionConfig {
        input_capacity: 4,
        output_capacity: 8,
        ..SessionConfig::default()
    };
    let session = e.open_session(&p, config).unwrap();
    let (tx, mut rx) = session.split();
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    let producer = tokio::spawn(async move {
        for i in 0..1000 {
            tx.send(RuntimeData::Json(json!(i))).await.unwrap();
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    // Nobody reads: the producer must stop after filling both queues (plus
    // the one input the session holds while waiting to deliver).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stalled_at = sent.load(std::sync::atomic::Ordering::SeqCst);
    assert!(stalled_at <= 4 + 8 + 2, "producer ran ahead: {stalled_at} sent");
    assert!(stalled_at >= 8, "producer barely started: {stalled_at} sent");
    // Reading resumes the flow, in order and without loss.
    for i in 0..1000 {
        let o = rx.recv().await.unwrap().unwrap();
        assert_eq!(o.data, RuntimeData::Json(json!(i)));
    }
    producer.await.unwrap();
    assert!(rx.recv().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sessions_on_one_engine() {
    let e = engine();
    let p = compile(
        &e,
        json!({"version": "v1",
        "nodes": [{"id": "sum", "node_type": "PairSum"}, {"id": "x", "node_type": "MultiplyNode", "params": {"factor": 3}}],
        "connections": [{"from": "sum", "to": "x"}]}),
    );
    let mut handles = Vec::new();
    for s in 0..64u32 {
        let session = e.open_session(&p, SessionConfig::default()).unwrap();
        handles.push(tokio::spawn(async move {
            let (tx, mut rx) = session.split();
            let producer = tokio::spawn(async move {
                for i in 0..50 {
                    tx.send(RuntimeData::Json(json!(s * 1000 + i))).await.unwrap();
                }
            });
            let mut got = Vec::new();
            while let Some(o) = rx.recv().await {
                got.push(o.unwrap().data);
            }
            producer.await.unwrap();
            (s, got)
        }));
    }
    for h in handles {
        let (s, got) = h.await.unwrap();
        let inputs: Vec<f64> = (0..50).map(|i| f64::from(s * 1000 + i)).collect();
        let want = e.run_batch(&p, jsons(&inputs)).await.unwrap();
        let want: Vec<RuntimeData> = want.into_iter().map(|o| o.data).collect();
        assert_eq!(got, want, "session {s}");
    }
}

#[tokio::test]
async fn the_engine_and_pipeline_are_reusable() {
    let e = engine();
    let p = compile(
        &e,
        json!({"version": "v1", "nodes": [{"id": "sum", "node_type": "PairSum"}]}),
    );
    for _ in 0..3 {
        let out = e.run_batch(&p, jsons(&[1.0, 2.0])).await.unwrap();
        assert_eq!(numbers(&out), [("sum".into(), json!(3.0))], "state leaked between runs");
    }
}

#[tokio::test]
async fn node_errors_name_the_node() {
    let e = engine();
    let p = compile(
        &e,
        json!({"version": "v1",
        "nodes": [{"id": "first", "node_type": "PassThroughNode"}, {"id": "adder", "node_type": "AddNode"}],
        "connections": [{"from": "first", "to": "adder"}]}),
    );
    let err = e.run_batch(&p, [RuntimeData::Text("hello".into())]).await.unwrap_err();
    let RunError::Engine(err) = err else { panic!("{err:?}") };
    assert_eq!(err.node_id(), Some("adder"));
    assert_eq!(
        err.to_string(),
        "node \"adder\" failed (fatal, 1 attempt): AddNode expects numbers, got text"
    );
}

#[tokio::test]
async fn a_session_reports_the_error_and_ends() {
    let e = engine();
    let p = compile(
        &e,
        json!({"version": "v1", "nodes": [{"id": "adder", "node_type": "AddNode"}]}),
    );
    let mut session = e.open_session(&p, SessionConfig::default()).unwrap();
    session.send(RuntimeData::Json(json!(1))).await.unwrap();
    session.send(RuntimeData::Bytes(Arc::from(&b"x"[..]))).await.unwrap();
    assert_eq!(session.recv().await.unwrap().unwrap().data, RuntimeData::Json(json!(1)));
    let err = session.recv().await.unwrap().unwrap_err();
    assert_eq!(err.node_id(), Some("adder"));
    assert!(session.recv().await.is_none());
    assert_eq!(
        session.send(RuntimeData::Json(json!(2))).await,
        Err(EngineError::SessionClosed)
    );
}

#[tokio::test]
async fn inputs_can_target_one_source() {
    let e = engine();
    let p = compile(
        &e,
        json!({"version": "v1",
        "nodes": [{"id": "a", "node_type": "MultiplyNode", "params": {"factor": 2}},
                  {"id": "b", "node_type": "MultiplyNode", "params": {"factor": 5}},
                  {"id": "sink", "node_type": "PassThroughNode"}],
        "connections": [{"from": "a", "to": "sink"}, {"from": "b", "to": "sink"}]}),
    );
    let mut run = remotemedia_core::GraphRun::new(Arc::clone(&p)).unwrap();
    let mut out = Vec::new();
    run.push_to("b", RuntimeData::Json(json!(1)), &mut out).await.unwrap();
    run.push(RuntimeData::Json(json!(1)), &mut out).await.unwrap();
    assert_eq!(
        numbers(&out),
        [
            ("sink".into(), json!(5)),
            ("sink".into(), json!(2)),
            ("sink".into(), json!(5))
        ]
    );
    let err = run
        .push_to("sink", RuntimeData::Json(json!(1)), &mut out)
        .await
        .unwrap_err();
    assert_eq!(err, EngineError::NotASource("sink".into()));
}

/// Counts live instances, to check that a cancelled session frees its nodes.
struct Tracked(Arc<std::sync::atomic::AtomicIsize>);

impl Node for Tracked {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        out.push(input);
        Ok(())
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_session_frees_its_nodes() {
    let live = Arc::new(std::sync::atomic::AtomicIsize::new(0));
    let counter = Arc::clone(&live);
    let mut registry = Registry::with_builtins();
    registry.register(
        NodeType::new::<NoParams>("Tracked", "counts instances").native(move |_: NoParams| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(Box::new(Tracked(Arc::clone(&counter))))
        }),
    );
    let e = Engine::new(registry);
    let p = compile(
        &e,
        json!({"version": "v1", "nodes": [{"id": "t", "node_type": "Tracked"}]}),
    );
    let mut sessions = Vec::new();
    for _ in 0..10 {
        let mut s = e.open_session(&p, SessionConfig::default()).unwrap();
        s.send(RuntimeData::Json(json!(1))).await.unwrap();
        assert!(s.recv().await.unwrap().is_ok());
        sessions.push(s);
    }
    assert_eq!(live.load(std::sync::atomic::Ordering::SeqCst), 10);
    // Dropping a session mid-stream (no close, no flush) ends its task and
    // drops its nodes.
    sessions.truncate(3);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while live.load(std::sync::atomic::Ordering::SeqCst) != 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "nodes of dropped sessions are still alive"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_session_does_not_disturb_the_others() {
    let e = engine();
    let p = compile(
        &e,
        json!({"version": "v1", "nodes": [{"id": "add", "node_type": "AddNode", "params": {"addend": 1}}]}),
    );
    let mut handles = Vec::new();
    for s in 0..8 {
        let session = e.open_session(&p, SessionConfig::default()).unwrap();
        handles.push(tokio::spawn(async move {
            let (tx, mut rx) = session.split();
            let producer = tokio::spawn(async move {
                for i in 0..100 {
                    let input = if s == 3 && i == 50 {
                        RuntimeData::Text("poison".into())
                    } else {
                        RuntimeData::Json(json!(i))
                    };
                    if tx.send(input).await.is_err() {
                        break;
                    }
                }
            });
            let mut ok = 0;
            let mut failed = None;
            while let Some(o) = rx.recv().await {
                match o {
                    Ok(_) => ok += 1,
                    Err(e) => failed = Some(e),
                }
            }
            producer.await.unwrap();
            (s, ok, failed)
        }));
    }
    for h in handles {
        let (s, ok, failed) = h.await.unwrap();
        if s == 3 {
            assert_eq!(ok, 50);
            assert_eq!(failed.unwrap().node_id(), Some("add"));
        } else {
            assert_eq!((ok, failed), (100, None), "session {s}");
        }
    }
}

#[tokio::test]
async fn a_live_source_can_drop_the_oldest_chunks_instead_of_waiting() {
    let e = engine();
    let p = compile(
        &e,
        json!({"version": "v1", "nodes": [{"id": "n", "node_type": "PassThroughNode"}]}),
    );
    let config = SessionConfig {
        input_capacity: 4,
        output_capacity: 2,
        ..SessionConfig::default()
    };
    let session = e.open_session(&p, config).unwrap();
    let (tx, mut rx) = session.split();
    // Nobody reads for a while: the session fills its output queue and
    // stalls, then the input queue fills, then old chunks make room.
    for i in 0..100 {
        tx.send_or_drop_oldest(RuntimeData::Json(json!(i))).unwrap();
        tokio::task::yield_now().await;
    }
    let dropped = tx.dropped();
    assert!(dropped >= 90, "only {dropped} dropped");
    drop(tx);
    let mut got = Vec::new();
    while let Some(o) = rx.recv().await {
        let RuntimeData::Json(v) = o.unwrap().data else {
            panic!()
        };
        got.push(v.as_i64().unwrap());
    }
    assert_eq!(got.len() as u64 + dropped, 100, "every chunk is delivered or counted");
    assert!(got.windows(2).all(|w| w[0] < w[1]), "order kept: {got:?}");
    assert_eq!(*got.last().unwrap(), 99, "the newest chunks survive");
    assert_eq!(rx.metrics().unwrap().pipeline.dropped_inputs, dropped);
}

#[tokio::test]
async fn sessions_can_be_polled_without_waiting() {
    use remotemedia_core::{TryRecv, TrySendError};
    let e = engine();
    let p = compile(
        &e,
        json!({"version": "v1", "nodes": [{"id": "n", "node_type": "PassThroughNode"}]}),
    );
    let config = SessionConfig {
        input_capacity: 2,
        output_capacity: 1,
        ..SessionConfig::default()
    };
    let (tx, mut rx) = e.open_session(&p, config).unwrap().split();
    assert!(matches!(rx.try_recv(), TryRecv::Empty));
    let mut sent = 0;
    let mut handed_back = None;
    for i in 0..10 {
        match tx.try_send(RuntimeData::Json(json!(i))) {
            Ok(()) => sent += 1,
            Err(TrySendError::Full(chunk)) => {
                handed_back = Some(chunk);
                break;
            }
            Err(TrySendError::Closed(_)) => panic!("session closed"),
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(
        handed_back,
        Some(RuntimeData::Json(json!(sent))),
        "the refused chunk comes back"
    );
    drop(tx);
    let mut got = 0;
    loop {
        match rx.try_recv() {
            TryRecv::Ready(o) => {
                assert_eq!(o.unwrap().data, RuntimeData::Json(json!(got)));
                got += 1;
            }
            TryRecv::Empty => tokio::task::yield_now().await,
            TryRecv::Ended => break,
        }
    }
    assert_eq!(got, sent);
}

/// Counts its wake-ups.
struct CountingWaker(AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_polled_receiver_is_woken_by_each_output_and_the_end() {
    use std::task::{Context, Poll, Waker};
    let e = engine();
    let p = compile(
        &e,
        json!({"version": "v1", "nodes": [{"id": "n", "node_type": "PassThroughNode"}]}),
    );
    let (tx, mut rx) = e.open_session(&p, SessionConfig::default()).unwrap().split();
    let wakes = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&wakes));
    let mut cx = Context::from_waker(&waker);
    assert!(rx.poll_recv(&mut cx).is_pending());
    tx.send(RuntimeData::Json(json!(7))).await.unwrap();
    // Poll only after a wake-up: the waker registered by `Pending` must fire.
    while wakes.0.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    match rx.poll_recv(&mut cx) {
        Poll::Ready(Some(Ok(o))) => assert_eq!(o.data, RuntimeData::Json(json!(7))),
        other => panic!("expected the output, got {other:?}"),
    }
    assert!(rx.poll_recv(&mut cx).is_pending());
    let before = wakes.0.load(Ordering::SeqCst);
    drop(tx);
    while wakes.0.load(Ordering::SeqCst) == before {
        tokio::task::yield_now().await;
    }
    assert!(matches!(rx.poll_recv(&mut cx), Poll::Ready(None)));
}

/// Emits the `String` its run lent it (`"none"` without one). The first
/// instance ever built stalls its first call, to be cut off by a timeout.
struct Lent {
    tag: String,
    stall: bool,
}

impl Node for Lent {
    fn process(&mut self, _input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        if std::mem::take(&mut self.stall) {
            std::thread::sleep(Duration::from_millis(300));
        }
        out.push(RuntimeData::Json(json!(self.tag)));
        Ok(())
    }
}

#[tokio::test]
async fn each_run_lends_its_own_context_to_its_override_factories() {
    let built = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&built);
    let overrides = Overrides::new().node("lent", Runtime::Native, move |context| {
        Ok(Box::new(Lent {
            tag: context.get::<String>().map_or_else(|| "none".into(), |t| (*t).clone()),
            stall: counter.fetch_add(1, Ordering::Relaxed) == 0,
        }))
    });
    let manifest = Manifest::from_value(
        json!({"version": "v1", "nodes": [{"id": "lent", "node_type": "Lent", "timeout_ms": 100,
               "retry": {"max_retries": 1, "initial_delay_ms": 1}}]}),
    )
    .unwrap();
    let p = Engine::default().compile_with(manifest, &overrides).unwrap();
    let lend = |tag: &str| {
        GraphRun::with_context(
            Arc::clone(&p),
            RunOptions::default(),
            RunContext::new(Arc::new(tag.to_owned())),
        )
        .unwrap()
    };
    let (mut a, mut b, mut plain) = (lend("a"), lend("b"), GraphRun::new(Arc::clone(&p)).unwrap());
    let mut out = Vec::new();
    // Run `a`'s first instance is cut off at its timeout; the instance
    // rebuilt for the retry gets `a`'s context too.
    a.push(RuntimeData::Json(json!(0)), &mut out).await.unwrap();
    b.push(RuntimeData::Json(json!(0)), &mut out).await.unwrap();
    plain.push(RuntimeData::Json(json!(0)), &mut out).await.unwrap();
    a.push(RuntimeData::Json(json!(0)), &mut out).await.unwrap();
    let tags: Vec<Value> = numbers(&out).into_iter().map(|(_, v)| v).collect();
    assert_eq!(tags, [json!("a"), json!("b"), json!("none"), json!("a")]);
    assert_eq!(a.metrics().nodes[0].retries, 1);
    assert_eq!(built.load(Ordering::Relaxed), 4);
    assert_eq!(
        (
            a.metrics().nodes[0].node_type.as_str(),
            a.metrics().nodes[0].runtime.as_str()
        ),
        ("Lent", "rust")
    );
}
