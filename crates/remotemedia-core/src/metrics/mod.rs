//! What a run measures about itself: per-node calls, errors, retries,
//! status, time (µs) and peak memory; per-pipeline wall time and peak
//! memory. Exported as JSON ([`PipelineMetrics`] serializes to it).
//!
//! # JSON shape
//!
//! ```json
//! {
//!   "pipeline": {"name": "speech-prep", "wall_time_us": 1234.5, "peak_memory_bytes": 65536,
//!                "inputs": 50, "dropped_inputs": 0, "discarded_outputs": 0, "memory_tracking": true},
//!   "nodes": [
//!     {"id": "resample", "node_type": "AudioResampleNode", "runtime": "rust", "status": "ok",
//!      "calls": 51, "errors": 0, "retries": 0, "skipped": 0,
//!      "time_us": {"total": 310.2, "min": 4.1, "max": 20.3, "mean": 6.08, "p50": 5.9, "p99": 19.0},
//!      "peak_memory_bytes": 3840}
//!   ]
//! }
//! ```
//!
//! - `calls`: executions of the node (every attempt, and `flush`);
//!   `errors`: failed attempts; `retries`: attempts that were retries;
//!   `skipped`: inputs not processed because the node had failed and its
//!   `on_failure` policy is `skip` or `passthrough`.
//! - `status`: `ok`; `failed` when its circuit breaker is open or its
//!   failure ended the run; `skipped` when inputs were skipped (or passed
//!   through) under its `on_failure` policy.
//! - `time_us`: per call, microseconds (fractional: nanosecond clock);
//!   quantiles come from a log-linear histogram (within 6.25 %).
//! - `peak_memory_bytes` of a node: the most heap its calls held at once
//!   beyond what was live when the call began, measured at the allocator
//!   (see [`alloc`]); of the pipeline: the most the process's live heap grew
//!   above its level at the start of the run, sampled at every node call
//!   (process-wide: other sessions running at the same time count too).
//! - `dropped_inputs`: chunks a live source dropped because the session's
//!   input queue was full (drop-oldest sends); 0 for batch runs.
//! - `discarded_outputs`: outputs a session produced that nobody received
//!   (`Session::finish` drained them); 0 for batch runs.
//! - `memory_tracking`: false when the binary runs without the tracking
//!   allocator; memory figures are then 0.

pub mod alloc;
mod histogram;
pub mod prometheus;
mod trace;

pub use histogram::Histogram;
pub use trace::{Trace, TraceEvent};

use serde::Serialize;

/// How a node fared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeStatus {
    /// Every input was processed.
    #[default]
    Ok,
    /// The node's breaker is open, or its failure ended the run.
    Failed,
    /// Some inputs were skipped or passed through by its `on_failure` policy.
    Skipped,
}

/// Per-node counters, updated on every call.
#[derive(Debug, Clone, Default)]
pub struct NodeMetrics {
    /// Executions (attempts and flushes).
    pub calls: u64,
    /// Failed attempts.
    pub errors: u64,
    /// Failed attempts whose error was transient (the rest were fatal).
    pub transient_errors: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// Inputs skipped or passed through under the `on_failure` policy.
    pub skipped: u64,
    /// Current status.
    pub status: NodeStatus,
    total_ns: u64,
    min_ns: u64,
    max_ns: u64,
    histogram: Histogram,
    /// Peak heap bytes of one call.
    pub peak_memory_bytes: u64,
}

impl NodeMetrics {
    /// Records one call's duration and peak memory.
    #[inline]
    pub fn record_call(&mut self, elapsed_ns: u64, peak_bytes: u64) {
        if self.calls == 0 || elapsed_ns < self.min_ns {
            self.min_ns = elapsed_ns;
        }
        self.calls += 1;
        self.total_ns += elapsed_ns;
        self.max_ns = self.max_ns.max(elapsed_ns);
        self.histogram.record(elapsed_ns);
        self.peak_memory_bytes = self.peak_memory_bytes.max(peak_bytes);
    }

    /// Adds another run's counters of the same node (the status is the
    /// worse of the two).
    pub fn merge(&mut self, other: &NodeMetrics) {
        if other.calls > 0 && (self.calls == 0 || other.min_ns < self.min_ns) {
            self.min_ns = other.min_ns;
        }
        self.calls += other.calls;
        self.errors += other.errors;
        self.transient_errors += other.transient_errors;
        self.retries += other.retries;
        self.skipped += other.skipped;
        if other.status != NodeStatus::Ok && self.status != NodeStatus::Failed {
            self.status = other.status;
        }
        self.total_ns += other.total_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
        self.histogram.merge(&other.histogram);
        self.peak_memory_bytes = self.peak_memory_bytes.max(other.peak_memory_bytes);
    }

    /// Total call time, in nanoseconds.
    pub fn total_ns(&self) -> u64 {
        self.total_ns
    }

    /// The call-time histogram (nanoseconds).
    pub fn histogram(&self) -> &Histogram {
        &self.histogram
    }

    /// Time figures in microseconds.
    pub fn time_us(&self) -> TimeStats {
        let us = |ns: u64| ns as f64 / 1000.0;
        TimeStats {
            total: us(self.total_ns),
            min: us(self.min_ns),
            max: us(self.max_ns),
            mean: if self.calls == 0 {
                0.0
            } else {
                us(self.total_ns) / self.calls as f64
            },
            p50: us(self.histogram.quantile(0.5).clamp(self.min_ns, self.max_ns)),
            p99: us(self.histogram.quantile(0.99).clamp(self.min_ns, self.max_ns)),
        }
    }
}

/// Call durations of one node, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct TimeStats {
    /// Sum of all calls.
    pub total: f64,
    /// Shortest call.
    pub min: f64,
    /// Longest call.
    pub max: f64,
    /// Mean call.
    pub mean: f64,
    /// Median call.
    pub p50: f64,
    /// 99th percentile call.
    pub p99: f64,
}

/// One node's entry in the metrics JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeReport {
    /// Node id.
    pub id: String,
    /// Node type as written in the manifest.
    pub node_type: String,
    /// `rust` or `python`.
    pub runtime: String,
    /// How it fared.
    pub status: NodeStatus,
    /// Executions (attempts and flushes).
    pub calls: u64,
    /// Failed attempts.
    pub errors: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// Inputs skipped or passed through after failures.
    pub skipped: u64,
    /// Call durations, µs.
    pub time_us: TimeStats,
    /// Peak heap bytes held by one call.
    pub peak_memory_bytes: u64,
}

/// The pipeline's entry in the metrics JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineReport {
    /// `metadata.name` of the manifest.
    pub name: Option<String>,
    /// Wall time from the first input to the end of the flush (or now), µs.
    pub wall_time_us: f64,
    /// Peak growth of the process's live heap during the run, bytes.
    pub peak_memory_bytes: u64,
    /// Inputs pushed.
    pub inputs: u64,
    /// Chunks a live source dropped from a full session queue
    /// (`SessionSender::send_or_drop_oldest`); never processed.
    pub dropped_inputs: u64,
    /// Outputs a session produced that nobody received: dropped by
    /// `Session::finish` (or `SessionReceiver::drain`).
    pub discarded_outputs: u64,
    /// Whether memory was measured (the tracking allocator is installed).
    pub memory_tracking: bool,
}

/// The metrics of one run, as exported to JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineMetrics {
    /// Pipeline-wide figures.
    pub pipeline: PipelineReport,
    /// Per-node figures, in manifest order.
    pub nodes: Vec<NodeReport>,
}

impl PipelineMetrics {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("metrics serialize")
    }
}
