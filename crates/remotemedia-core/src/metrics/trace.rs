//! A timeline of node calls in the Chrome trace-event format, which
//! Perfetto (ui.perfetto.dev) and chrome://tracing open.

use serde::Serialize;
use serde_json::json;

/// One node call: a complete ("X") event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceEvent {
    /// Index of the node in the manifest.
    pub node: usize,
    /// Start, ns since the run began.
    pub start_ns: u64,
    /// Duration, ns.
    pub duration_ns: u64,
    /// Whether the call failed.
    pub failed: bool,
}

/// The calls recorded by one run.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    events: Vec<TraceEvent>,
}

impl Trace {
    /// Appends an event.
    pub fn push(&mut self, event: TraceEvent) {
        self.events.push(event);
    }

    /// The events, in call order.
    pub fn events(&self) -> &[TraceEvent] {
        &self.events
    }

    /// The trace-event JSON: one thread per node so each node gets its own
    /// lane, named after it.
    pub fn to_chrome_json(&self, node_ids: &[&str]) -> String {
        #[derive(Serialize)]
        struct Doc {
            #[serde(rename = "traceEvents")]
            trace_events: Vec<serde_json::Value>,
            #[serde(rename = "displayTimeUnit")]
            display_time_unit: &'static str,
        }
        let names = node_ids
            .iter()
            .enumerate()
            .map(|(i, id)| json!({"name": "thread_name", "ph": "M", "pid": 1, "tid": i, "args": {"name": id}}));
        let calls = self.events.iter().map(|e| {
            json!({
                "name": node_ids.get(e.node).copied().unwrap_or("?"),
                "cat": if e.failed { "error" } else { "node" },
                "ph": "X",
                "pid": 1,
                "tid": e.node,
                "ts": e.start_ns as f64 / 1000.0,
                "dur": e.duration_ns as f64 / 1000.0,
            })
        });
        serde_json::to_string(&Doc {
            trace_events: names.chain(calls).collect(),
            display_time_unit: "ms",
        })
        .expect("trace serializes")
    }
}
