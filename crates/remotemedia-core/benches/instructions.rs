//! Instruction counts (callgrind, through gungraun) of the executor hop: the figures
//! `scripts/check_instructions.py` compares with `bench/instructions/baseline.json`.
//! Sixteen 20 ms chunks of 48 kHz audio are pushed through chains of 1 and 10 pass-through
//! nodes on a current-thread runtime; a hop costs `(count(10) - count(1)) / (9 * 16)`.
//! The setup compiles the chain and pushes a first chunk (so buffers are grown), and the
//! benchmark hands its state back so that tearing it down is not counted.
//!
//! `cargo bench -p remotemedia-core --bench instructions` (needs valgrind and a
//! `gungraun-runner` of the same version as the `gungraun` dev-dependency).
// gungraun's macros generate public modules, constants and functions without docs.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use gungraun::{library_benchmark, library_benchmark_group, main};
use remotemedia_core::{AudioData, Engine, GraphRun, Manifest, RunOptions, RuntimeData, SinkOutput};
use serde_json::json;

/// Chunks pushed per benchmark run.
const CHUNKS: usize = 16;

struct HopState {
    rt: tokio::runtime::Runtime,
    run: GraphRun,
    chunk: RuntimeData,
    out: Vec<SinkOutput>,
}

fn chain_setup(n: usize) -> HopState {
    let nodes: Vec<_> = (0..n)
        .map(|i| json!({"id": format!("n{i}"), "node_type": "PassThroughNode"}))
        .collect();
    let connections: Vec<_> = (1..n)
        .map(|i| json!({"from": format!("n{}", i - 1), "to": format!("n{i}")}))
        .collect();
    let manifest = Manifest::from_value(json!({"version": "v1", "nodes": nodes, "connections": connections}))
        .expect("valid chain");
    let pipeline = Engine::default().compile(manifest).expect("compiles");
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let options = RunOptions {
        metrics: false,
        trace: false,
    };
    let mut run = GraphRun::with_options(Arc::clone(&pipeline), options).expect("run");
    let chunk = RuntimeData::Audio(AudioData::mono_f32(vec![0.1; 960], 48_000).expect("valid audio"));
    let mut out = Vec::with_capacity(2 * CHUNKS);
    rt.block_on(run.push(chunk.clone(), &mut out)).expect("push");
    out.clear();
    HopState { rt, run, chunk, out }
}

// Sixteen 20 ms chunks through a chain of pass-through nodes.
#[library_benchmark]
#[bench::chain_1(setup = chain_setup, args = (1,))]
#[bench::chain_10(setup = chain_setup, args = (10,))]
fn executor_push_16_chunks(mut s: HopState) -> HopState {
    s.rt.block_on(async {
        for _ in 0..CHUNKS {
            s.run.push(s.chunk.clone(), &mut s.out).await.expect("push");
        }
    });
    black_box(s.out.len());
    s
}

library_benchmark_group!(
    name = executor;
    benchmarks = executor_push_16_chunks
);

main!(library_benchmark_groups = executor);
