//! Executor overhead: 20 ms chunks of 48 kHz audio through chains of 1, 5
//! and 10 pass-through nodes. The cost of one hop is the slope between chain
//! lengths: (t(10) - t(1)) / 9 per chunk.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use remotemedia_core::metrics::NodeMetrics;
use remotemedia_core::{AudioData, Engine, GraphRun, Manifest, RunOptions, RuntimeData};
use serde_json::json;

const CHUNKS: usize = 1000;

fn chain(n: usize) -> Manifest {
    let nodes: Vec<_> = (0..n)
        .map(|i| json!({"id": format!("n{i}"), "node_type": "PassThroughNode"}))
        .collect();
    let connections: Vec<_> = (1..n)
        .map(|i| json!({"from": format!("n{}", i - 1), "to": format!("n{i}")}))
        .collect();
    Manifest::from_value(json!({"version": "v1", "nodes": nodes, "connections": connections})).unwrap()
}

/// Chains of 1, 5 and 10 nodes, with metrics off (the bare hop) and on
/// (the hop plus recording one call's time and memory).
fn bench_chain(c: &mut Criterion) {
    let engine = Engine::default();
    let chunk = RuntimeData::Audio(AudioData::mono_f32(vec![0.1; 960], 48_000).unwrap());
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    for (label, metrics) in [("passthrough_chain", false), ("passthrough_chain_metrics", true)] {
        let mut group = c.benchmark_group(format!("executor/{label}"));
        group.throughput(Throughput::Elements(CHUNKS as u64));
        let options = RunOptions { metrics, trace: false };
        for n in [1usize, 5, 10] {
            let pipeline = engine.compile(chain(n)).unwrap();
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter_custom(|iters| {
                    let mut run = GraphRun::with_options(Arc::clone(&pipeline), options).unwrap();
                    let mut out = Vec::with_capacity(CHUNKS);
                    rt.block_on(async {
                        let start = Instant::now();
                        for _ in 0..iters {
                            for _ in 0..CHUNKS {
                                run.push(chunk.clone(), &mut out).await.unwrap();
                            }
                            out.clear();
                        }
                        start.elapsed()
                    })
                });
            });
        }
        group.finish();
    }
}

/// Recording one call in a node's metrics (counters and histogram).
fn bench_record(c: &mut Criterion) {
    let mut m = NodeMetrics::default();
    let mut t = 1_000u64;
    c.bench_function("metrics/record_call", |b| {
        b.iter(|| {
            t = t.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) >> 44;
            m.record_call(std::hint::black_box(t), 0);
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench_chain, bench_record
}
criterion_main!(benches);
