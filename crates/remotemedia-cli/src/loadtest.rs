//! `remotemedia loadtest`: many live streams on one engine, in real time.
//!
//! S streaming sessions are opened on one engine. Each is fed 20 ms chunks
//! of 48 kHz audio at real-time pace and runs resample (to 16 kHz) -> VAD ->
//! a sink (or the pipeline of `--manifest`). Streams are paced by a few
//! clock tasks rather than a timer each: timer wake-ups, not hops, dominate
//! the cost of many small streams, so every clock task serves a group of
//! sessions, and the groups' phases are spread evenly over the chunk period
//! so that the streams don't all tick at once.
//!
//! Latency of a chunk is measured from the moment it was due (its place on
//! the real-time schedule, not when it was actually sent, so a late clock
//! counts against us) to the moment its output reaches the sink's reader.
//! Chunk k of a session is matched with the session's k-th output, which
//! holds for pipelines that emit one output per input chunk (the default
//! one does; the flush tail is counted but not timed).
//!
//! With `--remote` the pipeline runs on servers, each stream behind one
//! `RemotePipelineNode` (see [`crate::remote_pipeline`]): the figures are
//! then the round trips through the servers, as a client sees them.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use remotemedia_core::metrics::{Histogram, alloc};
use remotemedia_core::{AudioData, Engine, GraphRun, Manifest, Pipeline, RunOptions, RuntimeData, SessionConfig};
use serde_json::json;
use tokio::time::{Instant, MissedTickBehavior};

use crate::remote_pipeline::{self, RemoteArgs};

/// The default pipeline: resample to 16 kHz, detect speech, a sink.
const DEFAULT_MANIFEST: &str = r#"{
  "version": "v1",
  "metadata": {"name": "loadtest"},
  "nodes": [
    {"id": "resample", "node_type": "AudioResampleNode", "params": {"target_sample_rate": 16000}},
    {"id": "vad", "node_type": "VADNode"},
    {"id": "sink", "node_type": "PassThroughNode"}
  ],
  "connections": [{"from": "resample", "to": "vad"}, {"from": "vad", "to": "sink"}]
}"#;

const SOURCE_RATE: u32 = 48_000;

/// Arguments of `remotemedia loadtest`.
#[derive(Debug, Args)]
pub struct LoadtestArgs {
    /// Concurrent streams.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    streams: u32,
    /// How long each stream runs, in seconds of audio (= wall time).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Pipeline to run (default: resample to 16 kHz -> VAD -> sink).
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Chunk length in milliseconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    chunk_ms: u32,
    /// Clock tasks pacing the streams (default: one per 20 streams, at most 50).
    #[arg(long)]
    clocks: Option<u32>,
    /// Worker threads of the runtime (default: the number of cores; with
    /// --remote, four per core: each chunk in flight to a server holds one).
    #[arg(long)]
    threads: Option<usize>,
    /// Run each stream's nodes inside its clock task (a `GraphRun` per
    /// stream, no session task, no queues) instead of a streaming session
    /// per stream: the hop-in-one-task model, for the most streams per core.
    #[arg(long)]
    inline: bool,
    /// Soak: repeat the whole load this many times in one process (every
    /// round opens and closes all its sessions) and report the heap still
    /// live after each round, to show that nothing leaks.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    rounds: u32,
    /// Serve the live metrics of the sessions in the Prometheus text format
    /// on `http://ADDR/metrics` while the load runs (port 0: any free port;
    /// the address is printed on stderr).
    #[arg(long, value_name = "ADDR")]
    metrics_bind: Option<String>,
    /// With --remote, the summary adds `failovers` (streams moved to another
    /// server after a transient failure) and `lost` (input chunks whose
    /// output never came back).
    #[command(flatten)]
    remote: RemoteArgs,
}

/// What one stream's reader saw.
struct StreamResult {
    chunks_out: u64,
    latency_ns: Histogram,
    max_ns: u64,
    finished_late_ms: f64,
    error: Option<String>,
}

impl StreamResult {
    fn new() -> Self {
        Self {
            chunks_out: 0,
            latency_ns: Histogram::default(),
            max_ns: 0,
            finished_late_ms: 0.0,
            error: None,
        }
    }
}

/// Runs the command.
pub fn loadtest(engine: &Engine, args: LoadtestArgs) -> ExitCode {
    match execute(engine, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn execute(engine: &Engine, args: &LoadtestArgs) -> Result<(), String> {
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 86_400.0) {
        return Err(format!("--seconds must be in (0, 86400], got {}", args.seconds));
    }
    let manifest = match &args.manifest {
        Some(path) => Manifest::from_path(path),
        None => Manifest::from_json(DEFAULT_MANIFEST),
    }
    .map_err(|e| e.to_string())?;
    let manifest = match &args.remote.remote {
        Some(list) => {
            let servers = remote_pipeline::endpoints(list)?.len() as u32;
            remote_pipeline::wrap(&manifest, &args.remote, 2 * servers + 1)?
        }
        None => manifest,
    };
    let failovers_before = remotemedia_remote::endpoint_pool::failovers();
    let pipeline = engine.compile(manifest).map_err(|e| e.to_string())?;
    let _metrics = match &args.metrics_bind {
        Some(_) if args.inline => {
            return Err("--metrics-bind serves the metrics of sessions; --inline runs none".into());
        }
        Some(addr) => {
            let server = crate::metrics_server::MetricsServer::start(addr)?;
            eprintln!("metrics: http://{}/metrics", server.addr());
            Some(server)
        }
        None => None,
    };
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    // A RemotePipelineNode call blocks its worker for the round trip, so
    // remote streams want more workers than cores: on 2 cores, 50 remote
    // streams gave p99 176 ms with 2 workers and 14 ms with 8.
    let default_threads = if args.remote.remote.is_some() { 4 * cores } else { cores };
    let threads = args.threads.unwrap_or(default_threads).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let period = Duration::from_millis(u64::from(args.chunk_ms));
    let chunks = (args.seconds * 1000.0 / f64::from(args.chunk_ms)).round().max(1.0) as u64;
    let clocks = args
        .clocks
        .unwrap_or_else(|| args.streams.div_ceil(20).min(50))
        .clamp(1, args.streams);
    let source = source_chunks(args.chunk_ms);
    let mut totals = Totals::default();
    let cpu_before = cpu_seconds();
    let wall = std::time::Instant::now();
    for _ in 0..args.rounds {
        let driver = if args.inline {
            Driver::Inline
        } else {
            // Node figures are recorded only when someone can scrape them.
            Driver::Sessions {
                metrics: args.metrics_bind.is_some(),
            }
        };
        let round = runtime.block_on(drive(
            driver,
            engine,
            &pipeline,
            args.streams,
            clocks,
            chunks,
            period,
            Arc::clone(&source),
        ))?;
        totals.add(&round, chunks, f64::from(args.chunk_ms));
        drop(round);
        totals.live_after_round.push(alloc::live_bytes());
    }
    let wall_s = wall.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu_before).map(|(after, before)| after - before);
    let failovers = remotemedia_remote::endpoint_pool::failovers() - failovers_before;
    report(args, &totals, wall_s, cpu, threads, clocks, failovers)
}

/// What all rounds saw, summed as each round ends (so a soak's own
/// bookkeeping does not grow with the rounds).
#[derive(Default)]
struct Totals {
    chunks_in: u64,
    chunks_out: u64,
    latency_ns: Histogram,
    max_ns: u64,
    behind: u64,
    errors: u64,
    first_error: Option<String>,
    live_after_round: Vec<u64>,
}

impl Totals {
    fn add(&mut self, results: &[StreamResult], chunks: u64, chunk_ms: f64) {
        // A stream is behind when its last output came more than 5 periods
        // after the last chunk was due: it built a backlog it never cleared.
        let behind_limit_ms = 5.0 * chunk_ms;
        for r in results {
            self.chunks_in += chunks;
            self.chunks_out += r.chunks_out;
            self.latency_ns.merge(&r.latency_ns);
            self.max_ns = self.max_ns.max(r.max_ns);
            if r.finished_late_ms > behind_limit_ms || r.chunks_out < chunks {
                self.behind += 1;
            }
            if let Some(e) = &r.error {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| e.clone());
            }
        }
    }
}

/// One second of a deterministic test signal (a tone sweep over noise), cut
/// into chunks that are handed out round-robin, so the source allocates
/// nothing while the test runs.
fn source_chunks(chunk_ms: u32) -> Arc<[RuntimeData]> {
    let frames = (SOURCE_RATE * chunk_ms / 1000) as usize;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let count = (1000 / chunk_ms).max(1) as usize;
    (0..count)
        .map(|c| {
            let samples: Vec<f32> = (0..frames)
                .map(|i| {
                    let t = (c * frames + i) as f32 / SOURCE_RATE as f32;
                    0.2 * (2.0 * std::f32::consts::PI * (150.0 + 400.0 * t) * t).sin() + 0.01 * noise()
                })
                .collect();
            RuntimeData::Audio(AudioData::mono_f32(samples, SOURCE_RATE).expect("valid shape"))
        })
        .collect()
}

/// How streams are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Driver {
    /// A streaming session (own task, bounded queues) per stream, recording
    /// node metrics or not.
    Sessions {
        /// Record per-node call metrics (for `--metrics-bind`).
        metrics: bool,
    },
    /// The stream's nodes run inside its clock task.
    Inline,
}

#[allow(clippy::too_many_arguments)]
async fn drive(
    driver: Driver,
    engine: &Engine,
    pipeline: &Arc<Pipeline>,
    streams: u32,
    clocks: u32,
    chunks: u64,
    period: Duration,
    source: Arc<[RuntimeData]>,
) -> Result<Vec<StreamResult>, String> {
    let config = SessionConfig {
        input_capacity: 8,
        output_capacity: 8,
        run: RunOptions {
            metrics: driver == Driver::Sessions { metrics: true },
            trace: false,
        },
    };
    if driver == Driver::Inline {
        return drive_inline(pipeline, streams, clocks, chunks, period, source).await;
    }
    let start = Instant::now() + Duration::from_millis(100);
    let mut groups: Vec<Vec<remotemedia_core::SessionSender>> = (0..clocks).map(|_| Vec::new()).collect();
    let mut readers = Vec::with_capacity(streams as usize);
    for s in 0..streams {
        let group = s % clocks;
        let phase = period * group / clocks;
        let session = engine.open_session(pipeline, config).map_err(|e| e.to_string())?;
        let (tx, rx) = session.split();
        groups[group as usize].push(tx);
        readers.push(tokio::spawn(read_stream(rx, start + phase, period, chunks)));
    }
    let mut clocks_done = Vec::new();
    for (g, senders) in groups.into_iter().enumerate() {
        let phase = period * g as u32 / clocks;
        let source = Arc::clone(&source);
        clocks_done.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(start + phase, period);
            tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
            for k in 0..chunks {
                tick.tick().await;
                let chunk = &source[k as usize % source.len()];
                for tx in &senders {
                    // A full queue makes this clock wait: the stream is
                    // behind, and every chunk it delays shows as latency.
                    if tx.send(chunk.clone()).await.is_err() {
                        return;
                    }
                }
            }
        }));
    }
    for c in clocks_done {
        c.await.map_err(|e| format!("clock task failed: {e}"))?;
    }
    let mut results = Vec::with_capacity(readers.len());
    for r in readers {
        results.push(r.await.map_err(|e| format!("reader task failed: {e}"))?);
    }
    Ok(results)
}

/// Every clock task owns the runs of its streams and pushes each due chunk
/// through them itself; a chunk's latency ends when its run returns.
async fn drive_inline(
    pipeline: &Arc<Pipeline>,
    streams: u32,
    clocks: u32,
    chunks: u64,
    period: Duration,
    source: Arc<[RuntimeData]>,
) -> Result<Vec<StreamResult>, String> {
    let options = RunOptions {
        metrics: false,
        trace: false,
    };
    let start = Instant::now() + Duration::from_millis(100);
    let mut tasks = Vec::new();
    for g in 0..clocks {
        let runs = (0..streams)
            .filter(|s| s % clocks == g)
            .map(|_| GraphRun::with_options(Arc::clone(pipeline), options).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let phase = period * g / clocks;
        let source = Arc::clone(&source);
        tasks.push(tokio::spawn(clock_inline(runs, start + phase, period, chunks, source)));
    }
    let mut results = Vec::with_capacity(streams as usize);
    for t in tasks {
        results.extend(t.await.map_err(|e| format!("clock task failed: {e}"))?);
    }
    Ok(results)
}

async fn clock_inline(
    mut runs: Vec<GraphRun>,
    first_due: Instant,
    period: Duration,
    chunks: u64,
    source: Arc<[RuntimeData]>,
) -> Vec<StreamResult> {
    let mut results: Vec<StreamResult> = runs.iter().map(|_| StreamResult::new()).collect();
    let mut out = Vec::new();
    let mut tick = tokio::time::interval_at(first_due, period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    for k in 0..chunks {
        tick.tick().await;
        let due = first_due + period * k as u32;
        let chunk = &source[k as usize % source.len()];
        for (run, result) in runs.iter_mut().zip(&mut results) {
            if let Err(e) = run.push(chunk.clone(), &mut out).await {
                result.error.get_or_insert_with(|| e.to_string());
            }
            let latency = Instant::now().saturating_duration_since(due).as_nanos() as u64;
            result.chunks_out += out.len().min(1) as u64;
            result.latency_ns.record(latency);
            result.max_ns = result.max_ns.max(latency);
            out.clear();
        }
    }
    let last_due = first_due + period * (chunks - 1) as u32;
    for (run, result) in runs.iter_mut().zip(&mut results) {
        if let Err(e) = run.flush(&mut out).await {
            result.error.get_or_insert_with(|| e.to_string());
        }
        out.clear();
        result.finished_late_ms = Instant::now().saturating_duration_since(last_due).as_secs_f64() * 1000.0;
    }
    results
}

async fn read_stream(
    mut rx: remotemedia_core::SessionReceiver,
    first_due: Instant,
    period: Duration,
    chunks: u64,
) -> StreamResult {
    let mut result = StreamResult::new();
    let mut timed = 0u64;
    while let Some(output) = rx.recv().await {
        let now = Instant::now();
        if let Err(e) = output {
            result.error = Some(e.to_string());
            continue;
        }
        if timed < chunks {
            let due = first_due + period * timed as u32;
            let latency = now.saturating_duration_since(due).as_nanos() as u64;
            result.latency_ns.record(latency);
            result.max_ns = result.max_ns.max(latency);
            timed += 1;
            result.chunks_out += 1;
        }
        if timed == chunks {
            let last_due = first_due + period * (chunks - 1) as u32;
            result.finished_late_ms = now.saturating_duration_since(last_due).as_secs_f64() * 1000.0;
            // Outputs past the last chunk are the flush tail: not timed.
            timed += 1;
        }
    }
    result
}

fn report(
    args: &LoadtestArgs,
    t: &Totals,
    wall_s: f64,
    cpu_s: Option<f64>,
    threads: usize,
    clocks: u32,
    failovers: u64,
) -> Result<(), String> {
    let ms = |ns: u64| (ns as f64 / 1e6 * 1000.0).round() / 1000.0;
    let mut summary = json!({
        "streams": args.streams,
        "rounds": args.rounds,
        "seconds": args.seconds,
        "chunk_ms": args.chunk_ms,
        "chunks_in": t.chunks_in,
        "chunks_out": t.chunks_out,
        "dropped": t.chunks_in - t.chunks_out,
        "errors": t.errors,
        "p50_ms": ms(t.latency_ns.quantile(0.5).min(t.max_ns)),
        "p99_ms": ms(t.latency_ns.quantile(0.99).min(t.max_ns)),
        "max_ms": ms(t.max_ns),
        "behind": t.behind,
        "cpu_percent": cpu_s.map(|c| (c / wall_s * 1000.0).round() / 10.0),
        "peak_rss_mb": peak_rss_mb(),
        "threads": threads,
        "clocks": clocks,
        "wall_s": (wall_s * 1000.0).round() / 1000.0,
        "live_heap_bytes_after_round": t.live_after_round,
    });
    if args.remote.remote.is_some() {
        summary["failovers"] = failovers.into();
        summary["lost"] = (t.chunks_in - t.chunks_out).into();
    }
    if let Some(first) = &t.first_error {
        eprintln!("{} streams failed; first error: {first}", t.errors);
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{summary}").map_err(|e| e.to_string())
}

/// CPU time (user + system) of this process in seconds, from /proc (Linux).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Linux reports these in clock ticks of USER_HZ, 100 per second on
    // every mainstream architecture.
    Some((utime + stime) / 100.0)
}

/// Peak resident set size in MiB, from /proc (Linux).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}
