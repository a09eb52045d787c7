//! Executor hop cost: pushes 20 ms chunks through pass-through chains of 1
//! and 10 nodes and prints ns per hop. Deterministic under
//! `valgrind --tool=callgrind` (instruction counts) for comparisons on a
//! noisy machine.

use std::sync::Arc;
use std::time::Instant;

use remotemedia_core::{AudioData, Engine, GraphRun, Manifest, RunOptions, RuntimeData};
use serde_json::json;

fn chain(n: usize) -> Manifest {
    let nodes: Vec<_> = (0..n)
        .map(|i| json!({"id": format!("n{i}"), "node_type": "PassThroughNode"}))
        .collect();
    let connections: Vec<_> = (1..n)
        .map(|i| json!({"from": format!("n{}", i - 1), "to": format!("n{i}")}))
        .collect();
    Manifest::from_value(json!({"version": "v1", "nodes": nodes, "connections": connections})).unwrap()
}

fn main() {
    let chunks: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let metrics = std::env::args().any(|a| a == "--metrics");
    let engine = Engine::default();
    let chunk = RuntimeData::Audio(AudioData::mono_f32(vec![0.1; 960], 48_000).unwrap());
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let mut per_chunk = Vec::new();
    for n in [1usize, 10] {
        let pipeline = engine.compile(chain(n)).unwrap();
        let mut run = GraphRun::with_options(Arc::clone(&pipeline), RunOptions { metrics, trace: false }).unwrap();
        let mut out = Vec::with_capacity(1024);
        let ns = rt.block_on(async {
            let start = Instant::now();
            for i in 0..chunks {
                run.push(chunk.clone(), &mut out).await.unwrap();
                if i % 1024 == 1023 {
                    out.clear();
                }
            }
            start.elapsed().as_nanos() as f64 / chunks as f64
        });
        per_chunk.push(ns);
        println!("chain of {n:2}: {ns:7.1} ns per chunk");
    }
    println!(
        "per hop: {:.1} ns (metrics {})",
        (per_chunk[1] - per_chunk[0]) / 9.0,
        if metrics { "on" } else { "off" }
    );
}
