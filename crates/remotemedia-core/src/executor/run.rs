//! One instance of a pipeline's nodes, and the walk that drives inputs
//! through them.

use std::sync::Arc;

use crate::data::RuntimeData;
use crate::error::{EngineError, ManifestError};
use crate::node::Node;
use crate::pipeline::Pipeline;

/// An output of a sink node.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkOutput {
    /// Id of the sink node that produced it.
    pub node_id: Arc<str>,
    /// The value.
    pub data: RuntimeData,
}

/// The nodes of one run of a pipeline, with their stream state.
///
/// Inputs pushed in flow through the graph in topological order; sink
/// outputs are appended to the caller's buffer. [`GraphRun::flush`] ends the
/// stream, [`GraphRun::reset`] starts a new one.
pub struct GraphRun {
    pipeline: Arc<Pipeline>,
    nodes: Vec<Box<dyn Node>>,
    /// Inputs waiting for each node (index = node index).
    pending: Vec<Vec<RuntimeData>>,
    /// Reused buffer holding the inputs a node is working through.
    work: Vec<RuntimeData>,
    /// Reused buffer receiving one call's outputs.
    outputs: Vec<RuntimeData>,
    sources: Vec<usize>,
}

impl GraphRun {
    /// Instantiates every node of `pipeline`.
    pub fn new(pipeline: Arc<Pipeline>) -> Result<Self, ManifestError> {
        let n = pipeline.graph().len();
        let nodes = (0..n).map(|i| pipeline.build_node(i)).collect::<Result<_, _>>()?;
        let sources = pipeline.graph().sources().collect();
        Ok(Self {
            pipeline,
            nodes,
            pending: (0..n).map(|_| Vec::new()).collect(),
            work: Vec::new(),
            outputs: Vec::new(),
            sources,
        })
    }

    /// The pipeline being run.
    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    /// Pushes one input into every source node and walks the graph,
    /// appending sink outputs to `emit`.
    pub async fn push(&mut self, input: RuntimeData, emit: &mut Vec<SinkOutput>) -> Result<(), EngineError> {
        let (last, rest) = self.sources.split_last().expect("a pipeline has a source");
        for &s in rest {
            self.pending[s].push(input.clone());
        }
        self.pending[*last].push(input);
        self.walk(emit, false).await
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
        self.walk(emit, false).await
    }

    /// Ends the stream: flushes every node in topological order, so what an
    /// upstream node releases still flows through the nodes below it.
    pub async fn flush(&mut self, emit: &mut Vec<SinkOutput>) -> Result<(), EngineError> {
        self.walk(emit, true).await
    }

    /// Forgets all stream state: pending inputs and every node's state.
    pub fn reset(&mut self) {
        for p in &mut self.pending {
            p.clear();
        }
        for n in &mut self.nodes {
            n.reset();
        }
    }

    async fn walk(&mut self, emit: &mut Vec<SinkOutput>, flush: bool) -> Result<(), EngineError> {
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
        let graph = pipeline.graph();
        for &i in graph.order() {
            if !self.pending[i].is_empty() {
                std::mem::swap(&mut self.pending[i], &mut self.work);
                let mut inputs = std::mem::take(&mut self.work);
                for input in inputs.drain(..) {
                    let result = self.nodes[i].process(input, &mut self.outputs);
                    self.settle(i, result, emit)?;
                }
                self.work = inputs;
            }
            if flush {
                let result = self.nodes[i].flush(&mut self.outputs);
                self.settle(i, result, emit)?;
            }
        }
        Ok(())
    }

    /// Routes the outputs of one call of node `i`, or turns its error into
    /// an engine error.
    fn settle(
        &mut self,
        i: usize,
        result: Result<(), crate::error::NodeError>,
        emit: &mut Vec<SinkOutput>,
    ) -> Result<(), EngineError> {
        if let Err(error) = result {
            self.outputs.clear();
            return Err(EngineError::Node {
                node_id: self.pipeline.resolved(i).id.to_string(),
                error,
                attempts: 1,
            });
        }
        let successors = self.pipeline.graph().successors(i);
        match successors.split_last() {
            None => {
                let id = &self.pipeline.resolved(i).id;
                emit.extend(self.outputs.drain(..).map(|data| SinkOutput {
                    node_id: Arc::clone(id),
                    data,
                }));
            }
            Some((&last, rest)) => {
                for data in self.outputs.drain(..) {
                    for &s in rest {
                        self.pending[s].push(data.clone());
                    }
                    self.pending[last].push(data);
                }
            }
        }
        Ok(())
    }
}
