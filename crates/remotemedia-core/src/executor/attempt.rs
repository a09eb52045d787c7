//! One attempt at a node call, and what it costs: inline on the run's
//! thread, or on a detached thread under a timeout (see [`super::detached`]);
//! a panic is caught and becomes a fatal error; time, memory, errors and the
//! trace event are recorded.

use std::time::{Duration, Instant};

use crate::data::RuntimeData;
use crate::error::NodeError;
use crate::metrics::alloc;
use crate::metrics::{NodeMetrics, Trace, TraceEvent};
use crate::node::Node;

/// What the run records besides outputs.
pub(crate) struct Recorder<'a> {
    pub(crate) metrics: bool,
    pub(crate) trace: Option<&'a mut Trace>,
    pub(crate) started: Instant,
    pub(crate) live_at_start: u64,
    pub(crate) peak_growth: &'a mut u64,
}

impl Recorder<'_> {
    /// Whether calls are timed: for the metrics, or for the trace's
    /// timeline (which needs the times even without the metrics).
    fn measures(&self) -> bool {
        self.metrics || self.trace.is_some()
    }
}

/// The call to make.
pub(super) enum Call {
    Process(RuntimeData),
    Flush,
    Release,
}

/// How an attempt went. `panicked`: the node panicked (the error carries
/// the message); its stream state can no longer be trusted, so it must be
/// reset (the contract of [`Node::reset`] is to restore a fresh state).
pub(super) struct Outcome {
    pub(super) result: Result<(), NodeError>,
    pub(super) panicked: bool,
}

/// Calls `node` (node `index` of the run) on this thread.
pub(super) fn inline(
    node: &mut dyn Node,
    call: Call,
    out: &mut Vec<RuntimeData>,
    metrics: &mut NodeMetrics,
    index: usize,
    rec: &mut Recorder<'_>,
) -> Outcome {
    if rec.measures() {
        let live_before = alloc::live_bytes();
        let start = Instant::now();
        let (outcome, peak) = alloc::measure(|| guarded(node, call, out));
        record(metrics, index, rec, start, live_before, peak, outcome.result.is_err());
        outcome
    } else {
        let outcome = guarded(node, call, out);
        if outcome.result.is_err() {
            metrics.errors += 1;
        }
        outcome
    }
}

/// Calls `node` on a detached thread and waits at most `limit`. The node
/// comes back with the outcome (reset if it panicked), unless the call was
/// still running at `limit`: then it is abandoned with its instance, and
/// nothing ever waits for it (not the run, not the runtime's shutdown, not
/// the process's exit).
pub(super) async fn detached(
    mut node: Box<dyn Node>,
    call: Call,
    out: &mut Vec<RuntimeData>,
    metrics: &mut NodeMetrics,
    (index, id): (usize, &str),
    rec: &mut Recorder<'_>,
    limit: Duration,
) -> (Option<Box<dyn Node>>, Outcome) {
    let live_before = alloc::live_bytes();
    let start = Instant::now();
    let task = super::detached::spawn(move || {
        let mut local = Vec::new();
        let (outcome, peak) = alloc::measure(|| guarded(node.as_mut(), call, &mut local));
        if outcome.panicked {
            node.reset();
        }
        (node, outcome, local, peak)
    });
    let (node, outcome, peak) = match tokio::time::timeout(limit, task).await {
        Err(_) => {
            tracing::warn!(
                node = id,
                timeout_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
                "call timed out; abandoned"
            );
            let message = format!("timed out after {} ms", limit.as_millis());
            (None, failed(NodeError::transient(message)), 0)
        }
        Ok(Err(_)) => (
            None,
            failed(NodeError::fatal("the node's call thread could not start or died")),
            0,
        ),
        Ok(Ok((node, outcome, local, peak))) => {
            out.extend(local);
            (Some(node), outcome, peak)
        }
    };
    if rec.measures() {
        record(metrics, index, rec, start, live_before, peak, outcome.result.is_err());
    } else if outcome.result.is_err() {
        metrics.errors += 1;
    }
    (node, outcome)
}

fn failed(error: NodeError) -> Outcome {
    Outcome {
        result: Err(error),
        panicked: false,
    }
}

/// Records one call's time, memory, error and trace event.
fn record(
    metrics: &mut NodeMetrics,
    index: usize,
    rec: &mut Recorder<'_>,
    start: Instant,
    live_before: u64,
    peak: u64,
    failed: bool,
) {
    let elapsed = start.elapsed().as_nanos() as u64;
    metrics.record_call(elapsed, peak);
    if failed {
        metrics.errors += 1;
    }
    let growth = (live_before + peak).saturating_sub(rec.live_at_start);
    *rec.peak_growth = (*rec.peak_growth).max(growth);
    if let Some(trace) = rec.trace.as_deref_mut() {
        trace.push(TraceEvent {
            node: index,
            start_ns: start.duration_since(rec.started).as_nanos() as u64,
            duration_ns: elapsed,
            failed,
        });
    }
}

/// Calls the node, turning a panic into a fatal error carrying its message.
fn guarded(node: &mut dyn Node, call: Call, out: &mut Vec<RuntimeData>) -> Outcome {
    let outcome = crate::panic::catching(|| match call {
        Call::Process(input) => node.process(input, out),
        Call::Flush => node.flush(out),
        Call::Release => node.release(out),
    });
    match outcome {
        Ok(result) => Outcome {
            result,
            panicked: false,
        },
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".to_owned());
            Outcome {
                result: Err(NodeError::fatal(format!("node panicked: {message}"))),
                panicked: true,
            }
        }
    }
}
