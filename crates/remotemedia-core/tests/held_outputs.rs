//! A node that makes many outputs from one input hands them out a batch
//! per call (`Node::holds_output` / `Node::release`): batch runs get them
//! all, in order; a session takes one batch at a time, so a receiver that
//! does not read holds the node back instead of letting its outputs pile up.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use remotemedia_core::params::NoParams;
use remotemedia_core::{
    Engine, GraphRun, Manifest, Node, NodeError, NodeType, Registry, RuntimeData, SessionConfig, SinkOutput,
};
use serde_json::json;

/// Outputs per input.
const FAN: usize = 100;
/// Outputs per call.
const BATCH: usize = 4;

/// Turns input `n` into `n*1000 .. n*1000 + FAN`, `BATCH` per call;
/// counts how many it has handed out.
struct Burst {
    left: std::ops::Range<u64>,
    released: Arc<AtomicUsize>,
}

impl Burst {
    fn emit(&mut self, out: &mut Vec<RuntimeData>) {
        for v in self.left.by_ref().take(BATCH) {
            out.push(RuntimeData::Json(json!(v)));
            self.released.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Node for Burst {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        assert!(self.left.is_empty(), "an input arrived while outputs were held back");
        let RuntimeData::Json(n) = input else {
            return Err(NodeError::fatal("expected a number"));
        };
        let start = n.as_u64().unwrap_or(0) * 1000;
        self.left = start..start + FAN as u64;
        self.emit(out);
        Ok(())
    }

    fn may_hold_output(&self) -> bool {
        true
    }

    fn holds_output(&self) -> bool {
        !self.left.is_empty()
    }

    fn release(&mut self, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.emit(out);
        Ok(())
    }
}

fn engine(released: &Arc<AtomicUsize>) -> Engine {
    let mut registry = Registry::with_builtins();
    let released = Arc::clone(released);
    registry.register(
        NodeType::new::<NoParams>("Burst", "test node").native(move |_: NoParams| {
            Ok(Box::new(Burst {
                left: 0..0,
                released: Arc::clone(&released),
            }))
        }),
    );
    Engine::new(registry)
}

/// `Burst` twice in a chain (the second bursts every output of the first)
/// or once, then a pass-through.
fn manifest(bursts: usize) -> Manifest {
    let mut nodes: Vec<_> = (0..bursts)
        .map(|i| json!({"id": format!("b{i}"), "node_type": "Burst"}))
        .collect();
    nodes.push(json!({"id": "out", "node_type": "PassThroughNode"}));
    let connections: Vec<_> = (1..nodes.len())
        .map(|i| json!({"from": nodes[i - 1]["id"], "to": nodes[i]["id"]}))
        .collect();
    Manifest::from_json(&json!({"version": "v1", "nodes": nodes, "connections": connections}).to_string()).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn numbers(outputs: &[SinkOutput]) -> Vec<u64> {
    outputs
        .iter()
        .map(|o| match &o.data {
            RuntimeData::Json(v) => v.as_u64().unwrap(),
            _ => panic!("not a number"),
        })
        .collect()
}

#[test]
fn a_batch_run_gets_every_held_output_in_order() {
    let released = Arc::new(AtomicUsize::new(0));
    let engine = engine(&released);
    let pipeline = engine.compile(manifest(1)).unwrap();
    let outputs = runtime().block_on(async {
        let mut run = GraphRun::new(pipeline).unwrap();
        let mut out = Vec::new();
        run.push(RuntimeData::Json(json!(1)), &mut out).await.unwrap();
        run.push(RuntimeData::Json(json!(2)), &mut out).await.unwrap();
        run.flush(&mut out).await.unwrap();
        out
    });
    let want: Vec<u64> = (1000..1000 + FAN as u64).chain(2000..2000 + FAN as u64).collect();
    assert_eq!(numbers(&outputs), want);
}

#[test]
fn bursts_of_bursts_reach_the_end_in_order_and_no_node_gets_an_input_while_holding() {
    let released = Arc::new(AtomicUsize::new(0));
    let engine = engine(&released);
    let pipeline = engine.compile(manifest(2)).unwrap();
    let outputs = runtime().block_on(async {
        let mut run = GraphRun::new(pipeline).unwrap();
        let mut out = Vec::new();
        run.push(RuntimeData::Json(json!(0)), &mut out).await.unwrap();
        run.flush(&mut out).await.unwrap();
        out
    });
    // Input 0 becomes 0..100; each of those, v, becomes v*1000 .. +100.
    let want: Vec<u64> = (0..FAN as u64).flat_map(|v| v * 1000..v * 1000 + FAN as u64).collect();
    assert_eq!(numbers(&outputs), want);
}

#[test]
fn a_session_whose_receiver_does_not_read_holds_the_node_back() {
    let released = Arc::new(AtomicUsize::new(0));
    let engine = engine(&released);
    let pipeline = engine.compile(manifest(1)).unwrap();
    let capacity = 8;
    runtime().block_on(async {
        let config = SessionConfig {
            input_capacity: 1,
            output_capacity: capacity,
            ..SessionConfig::default()
        };
        let mut session = engine.open_session(&pipeline, config).unwrap();
        session.send(RuntimeData::Json(json!(1))).await.unwrap();
        // Give an engine that did not wait for room every chance to run
        // ahead: without the bound all FAN outputs would be out by now.
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(4)).await;
        }
        let ahead = released.load(Ordering::SeqCst);
        assert!(
            ahead <= capacity + 2 * BATCH,
            "{ahead} outputs released with nobody reading (queue {capacity}, batch {BATCH})"
        );
        let mut got = Vec::new();
        while got.len() < FAN {
            let o = session.recv().await.expect("an output").unwrap();
            got.push(o);
        }
        assert_eq!(numbers(&got), (1000..1000 + FAN as u64).collect::<Vec<_>>());
        session.finish().await.unwrap();
    });
}
