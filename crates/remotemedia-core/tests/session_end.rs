//! How a session ends: closing drains every accepted chunk through the
//! graph; dropping cancels and really stops the work. The proof is a sink
//! with a side effect (a shared log), not the outputs.

use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use remotemedia_core::params::NoParams;
use remotemedia_core::{Engine, Manifest, Node, NodeError, NodeType, Pipeline, Registry, RuntimeData, SessionConfig};
use serde_json::{Value, json};

type Log = Arc<Mutex<Vec<Value>>>;

/// Appends every input (and `"flush"`) to the log; emits its input when
/// `emit` is set.
struct Record {
    log: Log,
    emit: bool,
}

impl Node for Record {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        if let RuntimeData::Json(v) = &input {
            self.log.lock().unwrap().push(v.clone());
        }
        if self.emit {
            out.push(input);
        }
        Ok(())
    }

    fn flush(&mut self, _out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.log.lock().unwrap().push(json!("flush"));
        Ok(())
    }
}

/// Blocks each call until the test hands it a permit; says when a call
/// has begun and when the instance is dropped (its run has ended).
struct Gate {
    permits: Arc<Mutex<std_mpsc::Receiver<()>>>,
    entered: std_mpsc::Sender<()>,
    dropped: std_mpsc::Sender<()>,
}

impl Node for Gate {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let _ = self.entered.send(());
        self.permits
            .lock()
            .unwrap()
            .recv()
            .map_err(|_| NodeError::fatal("no more permits"))?;
        out.push(input);
        Ok(())
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        let _ = self.dropped.send(());
    }
}

/// The test's side of a [`Gate`].
struct GateControl {
    permits: std_mpsc::Sender<()>,
    entered: std_mpsc::Receiver<()>,
    dropped: std_mpsc::Receiver<()>,
}

/// An engine with `Record` (emitting), `Sink` (recording, emitting nothing)
/// and `Gate` node types.
fn engine(log: &Log) -> (Engine, GateControl) {
    let mut registry = Registry::with_builtins();
    for (name, emit) in [("Record", true), ("Sink", false)] {
        let log = Arc::clone(log);
        registry.register(NodeType::new::<NoParams>(name, "test node").native(move |_: NoParams| {
            Ok(Box::new(Record {
                log: Arc::clone(&log),
                emit,
            }))
        }));
    }
    let (permit_tx, permit_rx) = std_mpsc::channel();
    let (entered_tx, entered_rx) = std_mpsc::channel();
    let (dropped_tx, dropped_rx) = std_mpsc::channel();
    let permits = Arc::new(Mutex::new(permit_rx));
    registry.register(
        NodeType::new::<NoParams>("Gate", "test node").native(move |_: NoParams| {
            Ok(Box::new(Gate {
                permits: Arc::clone(&permits),
                entered: entered_tx.clone(),
                dropped: dropped_tx.clone(),
            }))
        }),
    );
    let control = GateControl {
        permits: permit_tx,
        entered: entered_rx,
        dropped: dropped_rx,
    };
    (Engine::new(registry), control)
}

fn chain(engine: &Engine, types: &[&str]) -> Arc<Pipeline> {
    let nodes: Vec<Value> = types
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"id": format!("n{i}"), "node_type": t}))
        .collect();
    let connections: Vec<Value> = (1..types.len())
        .map(|i| json!({"from": format!("n{}", i - 1), "to": format!("n{i}")}))
        .collect();
    engine
        .compile(Manifest::from_value(json!({"version": "v1", "nodes": nodes, "connections": connections})).unwrap())
        .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// How long the test waits for an event that must come (a bound against
/// a hang, not a timing under test).
const BOUND: Duration = Duration::from_secs(20);

#[test]
fn finish_drains_every_accepted_chunk_and_counts_the_unread_outputs() {
    let log = Log::default();
    let (engine, _gate) = engine(&log);
    let pipeline = chain(&engine, &["Record"]);
    let rt = runtime();
    let metrics = rt.block_on(async {
        let mut session = engine.open_session(&pipeline, SessionConfig::default()).unwrap();
        for i in 0..20 {
            session.send(RuntimeData::Json(json!(i))).await.unwrap();
        }
        session.finish().await.unwrap();
        // Everything went through before finish returned.
        let mut expected: Vec<Value> = (0..20).map(|i| json!(i)).collect();
        expected.push(json!("flush"));
        assert_eq!(*log.lock().unwrap(), expected);
        session.metrics().expect("metrics after finish")
    });
    assert_eq!(metrics.pipeline.inputs, 20);
    assert_eq!(metrics.pipeline.discarded_outputs, 20);
    assert_eq!(metrics.nodes[0].calls, 21, "20 chunks and the flush");
}

#[test]
fn finish_counts_only_the_outputs_nobody_received_and_returns_the_error() {
    let log = Log::default();
    let (engine, _gate) = engine(&log);
    let pipeline = engine
        .compile(
            Manifest::from_value(json!({"version": "v1", "nodes": [
                {"id": "rec", "node_type": "Record"},
                {"id": "fail", "node_type": "FaultInjectionNode", "params": {"fail_always": true, "error_class": "fatal"}}],
                "connections": [{"from": "rec", "to": "fail"}]}))
            .unwrap(),
        )
        .unwrap();
    let rt = runtime();
    rt.block_on(async {
        let mut session = engine.open_session(&pipeline, SessionConfig::default()).unwrap();
        session.send(RuntimeData::Json(json!(1))).await.unwrap();
        let err = session.finish().await.unwrap_err();
        assert!(err.to_string().contains("\"fail\""), "{err}");
        assert_eq!(session.metrics().unwrap().pipeline.discarded_outputs, 0);
    });
}

#[test]
fn dropping_a_session_cancels_it_and_stops_calling_nodes() {
    let log = Log::default();
    let (engine, gate) = engine(&log);
    let pipeline = chain(&engine, &["Gate", "Sink"]);
    let rt = runtime();
    let session = rt.block_on(async {
        let session = engine.open_session(&pipeline, SessionConfig::default()).unwrap();
        for i in 0..5 {
            session.send(RuntimeData::Json(json!(i))).await.unwrap();
        }
        session
    });
    // The session is inside the gate's call for chunk 0; chunks 1-4 wait.
    gate.entered.recv_timeout(BOUND).expect("the gate is called");
    drop(session);
    // Enough permits for every chunk, were the session to go on.
    for _ in 0..10 {
        gate.permits.send(()).unwrap();
    }
    // The session's task ends and frees its nodes.
    gate.dropped.recv_timeout(BOUND).expect("the nodes are dropped");
    // Chunk 0 finished its walk (a hop is a plain call); nothing else was
    // called: no waiting chunk, no flush.
    assert_eq!(*log.lock().unwrap(), [json!(0)]);
    assert!(gate.entered.try_recv().is_err(), "the gate was called again");
    drop(rt);
    assert_eq!(*log.lock().unwrap(), [json!(0)]);
}

#[test]
fn a_cancelled_receiver_still_ends_with_the_metrics_up_to_the_cancellation() {
    let log = Log::default();
    let (engine, gate) = engine(&log);
    let pipeline = chain(&engine, &["Gate", "Record"]);
    let rt = runtime();
    let (sender, mut receiver) = rt.block_on(async {
        let (sender, receiver) = engine
            .open_session(&pipeline, SessionConfig::default())
            .unwrap()
            .split();
        for i in 0..5 {
            sender.send(RuntimeData::Json(json!(i))).await.unwrap();
        }
        (sender, receiver)
    });
    gate.entered.recv_timeout(BOUND).expect("the gate is called");
    receiver.cancel();
    for _ in 0..10 {
        gate.permits.send(()).unwrap();
    }
    let outputs = rt.block_on(async {
        let mut outputs = Vec::new();
        while let Some(o) = receiver.recv().await {
            outputs.push(o.unwrap().data);
        }
        outputs
    });
    assert_eq!(outputs, [RuntimeData::Json(json!(0))]);
    let m = receiver.metrics().expect("metrics after a cancellation");
    assert_eq!((m.nodes[0].calls, m.nodes[1].calls), (1, 1));
    assert!(rt.block_on(sender.send(RuntimeData::Json(json!(9)))).is_err());
}
