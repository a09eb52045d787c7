//! A timeline of node calls in the Chrome trace-event format, which
//! Perfetto (ui.perfetto.dev) and chrome://tracing open.
//!
//! A trace either keeps its events in memory (for
//! [`crate::GraphRun::trace_json`]) or streams each one to a writer as it
//! happens ([`Trace::streaming`]), so a trace of an hours-long run costs a
//! buffer's worth of memory, not one entry per call.

use std::io::Write;

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
#[derive(Default)]
pub struct Trace {
    sink: Sink,
}

#[derive(Default)]
enum Sink {
    #[default]
    Memory,
    Kept(Vec<TraceEvent>),
    Stream {
        out: std::io::BufWriter<Box<dyn Write + Send>>,
        node_ids: Vec<String>,
        /// Whether an entry was written (the next needs a comma).
        any: bool,
        /// The first write error; nothing is written after it.
        error: Option<std::io::Error>,
    },
}

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.sink {
            Sink::Memory => f.write_str("Trace(empty)"),
            Sink::Kept(e) => write!(f, "Trace({} events)", e.len()),
            Sink::Stream { .. } => f.write_str("Trace(streaming)"),
        }
    }
}

impl Trace {
    /// A trace that writes its JSON to `out` as events happen: the document
    /// head and one lane per node (named after `node_ids`) now, each event
    /// when pushed, the closing brackets at [`Self::finish`]. Fails if the
    /// head cannot be written.
    pub fn streaming(out: Box<dyn Write + Send>, node_ids: &[&str]) -> std::io::Result<Self> {
        let mut out = std::io::BufWriter::new(out);
        out.write_all(br#"{"displayTimeUnit":"ms","traceEvents":["#)?;
        for (i, id) in node_ids.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            let lane = json!({"name": "thread_name", "ph": "M", "pid": 1, "tid": i, "args": {"name": id}});
            write!(out, "\n{lane}")?;
        }
        Ok(Self {
            sink: Sink::Stream {
                out,
                node_ids: node_ids.iter().map(|s| (*s).to_owned()).collect(),
                any: !node_ids.is_empty(),
                error: None,
            },
        })
    }

    /// Records an event: kept, or written at once when streaming (after a
    /// write error, dropped; [`Self::finish`] reports the error).
    pub fn push(&mut self, event: TraceEvent) {
        match &mut self.sink {
            Sink::Memory => self.sink = Sink::Kept(vec![event]),
            Sink::Kept(events) => events.push(event),
            Sink::Stream {
                out,
                node_ids,
                any,
                error,
            } => {
                if error.is_none() {
                    let name = node_ids.get(event.node).map_or("?", String::as_str);
                    let separator = if *any { "," } else { "" };
                    *any = true;
                    if let Err(e) = write!(out, "{separator}\n{}", event_json(&event, name)) {
                        *error = Some(e);
                    }
                }
            }
        }
    }

    /// The events kept in memory, in call order (none when streaming).
    pub fn events(&self) -> &[TraceEvent] {
        match &self.sink {
            Sink::Kept(events) => events,
            _ => &[],
        }
    }

    /// Ends a streamed trace: writes the closing brackets and flushes.
    /// Returns the first write error of the whole trace, if any. Does
    /// nothing for a trace kept in memory or already finished.
    pub fn finish(&mut self) -> std::io::Result<()> {
        match std::mem::take(&mut self.sink) {
            Sink::Stream { mut out, error, .. } => {
                if let Some(e) = error {
                    return Err(e);
                }
                out.write_all(b"\n]}\n")?;
                out.flush()
            }
            kept => {
                self.sink = kept;
                Ok(())
            }
        }
    }

    /// The trace-event JSON of the events kept in memory: one thread per
    /// node so each node gets its own lane, named after it.
    pub fn to_chrome_json(&self, node_ids: &[&str]) -> String {
        let names = node_ids
            .iter()
            .enumerate()
            .map(|(i, id)| json!({"name": "thread_name", "ph": "M", "pid": 1, "tid": i, "args": {"name": id}}));
        let calls = self
            .events()
            .iter()
            .map(|e| event_json(e, node_ids.get(e.node).copied().unwrap_or("?")));
        json!({"traceEvents": names.chain(calls).collect::<Vec<_>>(), "displayTimeUnit": "ms"}).to_string()
    }
}

fn event_json(e: &TraceEvent, name: &str) -> serde_json::Value {
    json!({
        "name": name,
        "cat": if e.failed { "error" } else { "node" },
        "ph": "X",
        "pid": 1,
        "tid": e.node,
        "ts": e.start_ns as f64 / 1000.0,
        "dur": e.duration_ns as f64 / 1000.0,
    })
}
