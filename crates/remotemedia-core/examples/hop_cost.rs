//! Executor hop cost: pushes 20 ms chunks through pass-through chains of 1
//! and 10 nodes and prints ns per hop, beside the peer of the README's
//! Performance table: a hop between tokio tasks over a bounded mpsc channel, measured in the
//! same run. Deterministic under `valgrind --tool=callgrind` (instruction
//! counts) for comparisons on a noisy machine.
//!
//! `cargo run --release -p remotemedia-core --example hop_cost [CHUNKS] [--metrics]`

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
    let ours = (per_chunk[1] - per_chunk[0]) / 9.0;
    let peer = rt.block_on(mpsc_hop_ns(chunk, chunks));
    println!("per hop: {ours:.1} ns (metrics {})", if metrics { "on" } else { "off" });
    println!(
        "tokio bounded mpsc hop between tasks (same run): {peer:.1} ns; ratio {:.2}",
        ours / peer
    );
}

/// ns per hop of a chunk through a chain of 10 tasks linked by bounded
/// channels (capacity 16), on the same current-thread runtime.
async fn mpsc_hop_ns(chunk: RuntimeData, chunks: usize) -> f64 {
    const HOPS: usize = 10;
    let (first_tx, mut rx) = tokio::sync::mpsc::channel::<RuntimeData>(16);
    for _ in 0..HOPS {
        let (tx, next_rx) = tokio::sync::mpsc::channel(16);
        let mut upstream = std::mem::replace(&mut rx, next_rx);
        tokio::spawn(async move {
            while let Some(x) = upstream.recv().await {
                if tx.send(x).await.is_err() {
                    break;
                }
            }
        });
    }
    let start = Instant::now();
    let producer = tokio::spawn(async move {
        for _ in 0..chunks {
            first_tx.send(chunk.clone()).await.unwrap();
        }
    });
    for _ in 0..chunks {
        rx.recv().await.unwrap();
    }
    producer.await.unwrap();
    start.elapsed().as_nanos() as f64 / (chunks * HOPS) as f64
}
