//! One instance of a pipeline's nodes, and the walk that drives inputs
//! through them.

use std::sync::Arc;
use std::time::Instant;

use super::slot::{NodeSlot, Recorder};
use crate::data::RuntimeData;
use crate::error::{EngineError, ManifestError};
use crate::metrics::{NodeMetrics, NodeReport, PipelineMetrics, PipelineReport, Trace, alloc};
use crate::overrides::RunContext;
use crate::pipeline::Pipeline;

/// An output of a sink node.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkOutput {
    /// Id of the sink node that produced it.
    pub node_id: Arc<str>,
    /// The value.
    pub data: RuntimeData,
}

/// What a run records besides its outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Per-node time and memory (on by default; costs two clock reads per
    /// call: the README's Performance table has the measured cost).
    pub metrics: bool,
    /// A timeline of every node call (off by default). Kept in memory, so
    /// it grows with the calls, unless streamed to a writer with
    /// [`GraphRun::trace_to`].
    pub trace: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            metrics: true,
            trace: false,
        }
    }
}

/// The nodes of one run of a pipeline, with their stream state.
///
/// Inputs pushed in flow through the graph in topological order; sink
/// outputs are appended to the caller's buffer. [`GraphRun::flush`] ends the
/// stream, [`GraphRun::reset`] starts a new one.
pub struct GraphRun {
    pipeline: Arc<Pipeline>,
    slots: Vec<NodeSlot>,
    /// Inputs waiting for each node (index = node index).
    pending: Vec<Vec<RuntimeData>>,
    /// Reused buffer holding the inputs a node is working through.
    work: Vec<RuntimeData>,
    /// Reused buffer receiving one call's outputs.
    outputs: Vec<RuntimeData>,
    sources: Vec<usize>,
    /// Nodes whose end-of-stream production ([`Self::produce`]) is over.
    produced_all: Vec<bool>,
    /// The nodes that may hold outputs back ([`crate::Node::may_hold_output`]),
    /// most downstream first: [`Self::release`] looks only at these.
    holders: Vec<usize>,
    options: RunOptions,
    trace: Trace,
    /// Whether the trace goes to a writer rather than memory.
    trace_streamed: bool,
    started: Option<Instant>,
    finished: Option<Instant>,
    live_at_start: u64,
    peak_growth: u64,
    inputs: u64,
}

impl GraphRun {
    /// Instantiates every node of `pipeline`, with default options.
    pub fn new(pipeline: Arc<Pipeline>) -> Result<Self, ManifestError> {
        Self::with_options(pipeline, RunOptions::default())
    }

    /// Instantiates every node of `pipeline`.
    pub fn with_options(pipeline: Arc<Pipeline>, options: RunOptions) -> Result<Self, ManifestError> {
        Self::with_context(pipeline, options, RunContext::default())
    }

    /// Instantiates every node of `pipeline` for a run in `context`'s
    /// [`crate::RunMode`], lending `context` to the factories of its
    /// overridden nodes (also for any instance rebuilt later in this run).
    pub fn with_context(
        pipeline: Arc<Pipeline>,
        options: RunOptions,
        context: RunContext,
    ) -> Result<Self, ManifestError> {
        let n = pipeline.graph().len();
        let slots = (0..n)
            .map(|i| {
                pipeline
                    .build_node(i, &context)
                    .map(|node| NodeSlot::new(i, node, context.clone()))
            })
            .collect::<Result<Vec<NodeSlot>, _>>()?;
        let holders = pipeline
            .graph()
            .order()
            .iter()
            .rev()
            .copied()
            .filter(|&i| slots[i].may_hold())
            .collect();
        let sources = pipeline.graph().sources().collect();
        Ok(Self {
            pipeline,
            slots,
            pending: (0..n).map(|_| Vec::new()).collect(),
            work: Vec::new(),
            outputs: Vec::new(),
            sources,
            produced_all: vec![false; n],
            holders,
            options,
            trace: Trace::default(),
            trace_streamed: false,
            started: None,
            finished: None,
            live_at_start: 0,
            peak_growth: 0,
            inputs: 0,
        })
    }

    /// The pipeline being run.
    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    /// Pushes one input into every source node and walks the graph,
    /// appending sink outputs to `emit` (those of outputs held back by a
    /// node too: see [`Self::release`]).
    pub async fn push(&mut self, input: RuntimeData, emit: &mut Vec<SinkOutput>) -> Result<(), EngineError> {
        let (last, rest) = self.sources.split_last().expect("a pipeline has a source");
        for &s in rest {
            self.pending[s].push(input.clone());
        }
        self.pending[*last].push(input);
        self.walk(emit, false).await?;
        if !self.holders.is_empty() {
            while Box::pin(self.release(emit)).await? {}
        }
        Ok(())
    }

    /// Like [`Self::push`], but outputs a node holds back stay there for
    /// the caller's [`Self::release`] steps, to be taken (until it returns
    /// false) before the next input: a caller that hands outputs on between
    /// steps (a session) keeps memory bounded by one step.
    pub async fn push_step(&mut self, input: RuntimeData, emit: &mut Vec<SinkOutput>) -> Result<(), EngineError> {
        let (last, rest) = self.sources.split_last().expect("a pipeline has a source");
        for &s in rest {
            self.pending[s].push(input.clone());
        }
        self.pending[*last].push(input);
        self.walk(emit, false).await
    }

    /// One step of taking the outputs nodes hold back
    /// ([`crate::Node::holds_output`]): the most downstream such node
    /// releases one batch, which is walked through the rest of the graph.
    /// Returns false, doing nothing, when no node holds any.
    pub async fn release(&mut self, emit: &mut Vec<SinkOutput>) -> Result<bool, EngineError> {
        // Downstream first: a node is never handed an input while it holds
        // outputs of the last one.
        let Some(&i) = self.holders.iter().find(|&&i| self.slots[i].holds_output()) else {
            return Ok(false);
        };
        let pipeline = Arc::clone(&self.pipeline);
        let mut rec = Recorder {
            metrics: self.options.metrics,
            trace: self.options.trace.then_some(&mut self.trace),
            started: self.started.expect("set by the walk that made the node hold"),
            live_at_start: self.live_at_start,
            peak_growth: &mut self.peak_growth,
        };
        let mut result = self.slots[i].release(&pipeline, &mut self.outputs, &mut rec).await;
        if result.is_ok() {
            route(&pipeline, i, &mut self.outputs, &mut self.pending, emit);
            result = self.walk_inner(emit, false).await;
        }
        if result.is_err() {
            for p in &mut self.pending {
                p.clear();
            }
            self.work.clear();
        }
        result.map(|()| true)
    }

    /// Pushes one input into the source node `source_id` only.
    pub async fn push_to(
        &mut self,
        source_id: &str,
        input: RuntimeData,
        emit: &mut Vec<SinkOutput>,
    ) -> Result<(), EngineError> {
        let graph = self.pipeline.graph();
        let i = graph
            .index_of(source_id)
            .filter(|&i| graph.predecessors(i).is_empty())
            .ok_or_else(|| EngineError::NotASource(source_id.to_owned()))?;
        self.pending[i].push(input);
        self.walk(emit, false).await?;
        if !self.holders.is_empty() {
            while Box::pin(self.release(emit)).await? {}
        }
        Ok(())
    }

    /// One step of the end of the stream for nodes that release their
    /// output a call at a time ([`crate::Node::has_more`], e.g. a file
    /// reader): flushes the first such node once and walks what it released
    /// through the graph. Returns false, doing nothing, when no node has
    /// more (or a node's last call released nothing). [`Self::flush`] runs
    /// these steps itself; a caller that hands outputs on between steps
    /// (a session) keeps memory bounded by one step.
    pub async fn produce(&mut self, emit: &mut Vec<SinkOutput>) -> Result<bool, EngineError> {
        let Some(i) = (0..self.slots.len()).find(|&i| !self.produced_all[i] && self.slots[i].has_more()) else {
            return Ok(false);
        };
        if self.started.is_none() {
            self.started = Some(Instant::now());
            self.live_at_start = alloc::live_bytes();
        }
        let pipeline = Arc::clone(&self.pipeline);
        let mut rec = Recorder {
            metrics: self.options.metrics,
            trace: self.options.trace.then_some(&mut self.trace),
            started: self.started.expect("set above"),
            live_at_start: self.live_at_start,
            peak_growth: &mut self.peak_growth,
        };
        let result = self.slots[i].flush(&pipeline, &mut self.outputs, &mut rec).await;
        if let Err(e) = result {
            self.produced_all[i] = true;
            return Err(e);
        }
        if self.outputs.is_empty() {
            self.produced_all[i] = true;
        }
        route(&pipeline, i, &mut self.outputs, &mut self.pending, emit);
        let result = self.walk_inner(emit, false).await;
        if result.is_err() {
            for p in &mut self.pending {
                p.clear();
            }
            self.work.clear();
        }
        result.map(|()| true)
    }

    /// Ends the stream: runs the [`Self::produce`] steps, then flushes every
    /// node in topological order, so what an upstream node releases still
    /// flows through the nodes below it.
    pub async fn flush(&mut self, emit: &mut Vec<SinkOutput>) -> Result<(), EngineError> {
        loop {
            match self.release(emit).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    self.finished = Some(Instant::now());
                    return Err(e);
                }
            }
        }
        loop {
            match self.produce(emit).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    self.finished = Some(Instant::now());
                    return Err(e);
                }
            }
        }
        let result = self.walk(emit, true).await;
        self.finished = Some(Instant::now());
        result
    }

    /// Forgets all stream state: pending inputs and every node's state.
    /// Metrics keep accumulating.
    pub fn reset(&mut self) {
        for p in &mut self.pending {
            p.clear();
        }
        for s in &mut self.slots {
            s.reset();
        }
        self.produced_all.fill(false);
    }

    /// Each node's counters so far, in node order.
    pub(crate) fn node_metrics(&self) -> Vec<NodeMetrics> {
        self.slots.iter().map(|s| s.metrics.clone()).collect()
    }

    /// The metrics so far (see [`crate::metrics`] for the JSON shape).
    pub fn metrics(&self) -> PipelineMetrics {
        let wall = match (self.started, self.finished) {
            (Some(s), Some(f)) => f.duration_since(s),
            (Some(s), None) => s.elapsed(),
            _ => std::time::Duration::ZERO,
        };
        let nodes = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, slot)| {
                let m = &slot.metrics;
                NodeReport {
                    id: self.pipeline.node_id(i).to_owned(),
                    node_type: self.pipeline.spec(i).node_type.clone(),
                    runtime: self.pipeline.runtime(i).to_string(),
                    status: m.status,
                    calls: m.calls,
                    errors: m.errors,
                    retries: m.retries,
                    skipped: m.skipped,
                    time_us: m.time_us(),
                    peak_memory_bytes: m.peak_memory_bytes,
                }
            })
            .collect();
        PipelineMetrics {
            pipeline: PipelineReport {
                name: self.pipeline.manifest().metadata.name.clone(),
                wall_time_us: wall.as_nanos() as f64 / 1000.0,
                peak_memory_bytes: self.peak_growth,
                inputs: self.inputs,
                dropped_inputs: 0,
                discarded_outputs: 0,
                memory_tracking: alloc::is_tracking(),
            },
            nodes,
        }
    }

    /// Streams the timeline of node calls to `out` as Chrome trace-event
    /// JSON, each call written as it ends (memory stays flat however long
    /// the run); turns [`RunOptions::trace`] on. Call before the first
    /// input. [`Self::finish_trace`] writes the end of the document. Fails
    /// if the head of the document cannot be written.
    pub fn trace_to(&mut self, out: Box<dyn std::io::Write + Send>) -> std::io::Result<()> {
        let ids: Vec<&str> = (0..self.slots.len()).map(|i| self.pipeline.node_id(i)).collect();
        self.trace = Trace::streaming(out, &ids)?;
        self.trace_streamed = true;
        self.options.trace = true;
        Ok(())
    }

    /// Ends a trace streamed by [`Self::trace_to`] (closes the JSON
    /// document and flushes); returns the first write error of the trace.
    /// Nothing to do otherwise.
    pub fn finish_trace(&mut self) -> std::io::Result<()> {
        self.trace.finish()
    }

    /// Whether the trace is kept in memory for [`Self::trace_json`]
    /// ([`RunOptions::trace`] set and not streamed).
    pub fn keeps_trace(&self) -> bool {
        self.options.trace && !self.trace_streamed
    }

    /// The timeline of node calls in Chrome trace-event JSON (empty unless
    /// the trace is kept in memory, see [`Self::keeps_trace`]).
    pub fn trace_json(&self) -> String {
        let ids: Vec<&str> = (0..self.slots.len()).map(|i| self.pipeline.node_id(i)).collect();
        self.trace.to_chrome_json(&ids)
    }

    async fn walk(&mut self, emit: &mut Vec<SinkOutput>, flush: bool) -> Result<(), EngineError> {
        if self.started.is_none() {
            self.started = Some(Instant::now());
            self.live_at_start = alloc::live_bytes();
        }
        if !flush {
            self.inputs += 1;
        }
        let result = self.walk_inner(emit, flush).await;
        if result.is_err() {
            for p in &mut self.pending {
                p.clear();
            }
            self.work.clear();
        }
        result
    }

    async fn walk_inner(&mut self, emit: &mut Vec<SinkOutput>, flush: bool) -> Result<(), EngineError> {
        let pipeline = Arc::clone(&self.pipeline);
        let mut rec = Recorder {
            metrics: self.options.metrics,
            trace: self.options.trace.then_some(&mut self.trace),
            started: self.started.expect("set by walk"),
            live_at_start: self.live_at_start,
            peak_growth: &mut self.peak_growth,
        };
        for &i in pipeline.graph().order() {
            match self.pending[i].len() {
                0 => {}
                // The common case in a chain: one input, no buffer juggling.
                1 => {
                    let input = self.pending[i].pop().expect("one input");
                    let slot = &mut self.slots[i];
                    if let Err(pending) = slot.process_now(&pipeline, input, &mut self.outputs, &mut rec) {
                        slot.finish(&pipeline, pending, &mut self.outputs, &mut rec).await?;
                    }
                    route(&pipeline, i, &mut self.outputs, &mut self.pending, emit);
                }
                _ => {
                    std::mem::swap(&mut self.pending[i], &mut self.work);
                    let mut inputs = std::mem::take(&mut self.work);
                    for input in inputs.drain(..) {
                        let slot = &mut self.slots[i];
                        if let Err(pending) = slot.process_now(&pipeline, input, &mut self.outputs, &mut rec) {
                            slot.finish(&pipeline, pending, &mut self.outputs, &mut rec).await?;
                        }
                        route(&pipeline, i, &mut self.outputs, &mut self.pending, emit);
                        // Several inputs in one walk: what the node holds
                        // back goes on before its next input.
                        if slot.holds_output() {
                            // Boxed: the rare path keeps the walk's future small.
                            Box::pin(drain(
                                slot,
                                &pipeline,
                                i,
                                &mut self.outputs,
                                &mut self.pending,
                                emit,
                                &mut rec,
                            ))
                            .await?;
                        }
                    }
                    self.work = inputs;
                }
            }
            if flush {
                if self.slots[i].holds_output() {
                    // What the node holds back goes on before its flush.
                    let slot = &mut self.slots[i];
                    Box::pin(drain(
                        slot,
                        &pipeline,
                        i,
                        &mut self.outputs,
                        &mut self.pending,
                        emit,
                        &mut rec,
                    ))
                    .await?;
                }
                self.slots[i].flush(&pipeline, &mut self.outputs, &mut rec).await?;
                route(&pipeline, i, &mut self.outputs, &mut self.pending, emit);
            }
        }
        Ok(())
    }
}

/// Takes every batch node `i` holds back ([`crate::Node::holds_output`])
/// and hands it on, for when its outputs cannot wait for release steps.
async fn drain(
    slot: &mut NodeSlot,
    pipeline: &Pipeline,
    i: usize,
    outputs: &mut Vec<RuntimeData>,
    pending: &mut [Vec<RuntimeData>],
    emit: &mut Vec<SinkOutput>,
    rec: &mut Recorder<'_>,
) -> Result<(), EngineError> {
    while slot.holds_output() {
        slot.release(pipeline, outputs, rec).await?;
        route(pipeline, i, outputs, pending, emit);
    }
    Ok(())
}

/// Hands the outputs of node `i` to its successors (the last one takes
/// them, the others get clones, which share sample buffers), or to `emit`
/// when `i` is a sink.
fn route(
    pipeline: &Pipeline,
    i: usize,
    outputs: &mut Vec<RuntimeData>,
    pending: &mut [Vec<RuntimeData>],
    emit: &mut Vec<SinkOutput>,
) {
    match pipeline.graph().successors(i).split_last() {
        None => {
            let id = pipeline.shared_id(i);
            emit.extend(outputs.drain(..).map(|data| SinkOutput {
                node_id: Arc::clone(id),
                data,
            }));
        }
        Some((&last, rest)) => {
            for data in outputs.drain(..) {
                for &s in rest {
                    pending[s].push(data.clone());
                }
                pending[last].push(data);
            }
        }
    }
}
